//! The model's output for values seen recently.
//!
//! Clients send the same values again and again: their user agent, enum fields, language
//! headers, the same search words. A value's scores depend only on its bytes and what the
//! feature extractor reads of its location ([`crate::features::location_inputs`]: the location
//! group, a header's by its name, and whether it is a return target), and the model scores
//! each row on its own, so a value seen before there is not featurised or run through the
//! model again. (Keyed by the location kind alone, the cache once answered `url=http://[::1]/`
//! with the score the same URL had had as `cancel_url=`, a return target.) Decisions are the
//! same with or without the cache; scores are equal up to float rounding (a value scored in
//! another batch: at most 3e-7 apart on the test split).
//!
//! Bounded by configuration (`score_cache_entries`): a direct-mapped table of that many slots, a
//! new value overwriting whatever shared its slot. Keys are SipHash with a key drawn at random
//! when the VM starts, so nobody can craft a payload that collides with a cached benign value.

use std::collections::hash_map::RandomState;
use std::hash::BuildHasher;

use crate::request::InspectedValue;

/// Probabilities of recently scored values, `classes` per value.
pub struct ScoreCache {
    /// Slot keys; 0 is an empty slot.
    keys: Vec<u64>,
    /// `classes` probabilities per slot.
    probs: Vec<f32>,
    classes: usize,
    hasher: RandomState,
}

impl ScoreCache {
    /// A cache of `entries` values (0: no cache) of `classes` probabilities each.
    pub fn new(entries: usize, classes: usize) -> ScoreCache {
        ScoreCache {
            keys: vec![0; entries],
            probs: vec![0.0; entries * classes],
            classes,
            hasher: RandomState::new(),
        }
    }

    /// The key of `value`: what the features read of its location, and its bytes (never 0).
    pub fn key(&self, value: &InspectedValue) -> u64 {
        let (group, return_target) = crate::features::location_inputs(&value.location);
        self.hasher
            .hash_one((group as u8, return_target, value.raw.as_bytes()))
            .max(1)
    }

    fn slot(&self, key: u64) -> Option<usize> {
        let n = self.keys.len() as u64;
        (n > 0).then(|| (key % n) as usize)
    }

    /// Copies the cached probabilities of `key` into `out`; false when they are not cached.
    pub fn get(&self, key: u64, out: &mut [f32]) -> bool {
        let Some(s) = self.slot(key) else {
            return false;
        };
        if self.keys[s] != key || out.len() != self.classes {
            return false;
        }
        out.copy_from_slice(&self.probs[s * self.classes..(s + 1) * self.classes]);
        true
    }

    /// Remembers `probs` for `key`.
    pub fn put(&mut self, key: u64, probs: &[f32]) {
        let Some(s) = self.slot(key) else {
            return;
        };
        if probs.len() != self.classes {
            return;
        }
        self.keys[s] = key;
        self.probs[s * self.classes..(s + 1) * self.classes].copy_from_slice(probs);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::request::LocationKind;

    fn value(kind: LocationKind, raw: &str) -> InspectedValue {
        InspectedValue::new(kind, "n", raw)
    }

    #[test]
    fn a_value_is_found_by_what_features_read_and_evicted_by_its_slot() {
        let mut cache = ScoreCache::new(8, 2);
        let ua = value(LocationKind::Header, "curl/8.5.0");
        let key = cache.key(&ua);
        let mut out = [0.0; 2];
        assert!(!cache.get(key, &mut out));
        cache.put(key, &[0.9, 0.1]);
        assert!(cache.get(key, &mut out));
        assert_eq!(out, [0.9, 0.1]);
        // The same bytes elsewhere are another value: features read the location group.
        assert_ne!(cache.key(&value(LocationKind::Query, "curl/8.5.0")), key);
        // A value of another name at the same kind is the same value.
        let mut renamed = ua.clone();
        renamed.location.name = "other".into();
        assert_eq!(cache.key(&renamed), key);
        // ... unless the features read the name: a header's group, a return target.
        renamed.location.name = "user-agent".into();
        assert_ne!(cache.key(&renamed), key);
        let at = |kind, name: &str| InspectedValue::new(kind, name, "http://[::1]/");
        assert_ne!(
            cache.key(&at(LocationKind::Query, "url")),
            cache.key(&at(LocationKind::Query, "cancel_url"))
        );
        // Document leaves share their features, and so their entries.
        assert_eq!(
            cache.key(&at(LocationKind::Json, "$.u")),
            cache.key(&at(LocationKind::Xml, "/a/u"))
        );
        // Whatever lands in its slot replaces it.
        let other = (1..).map(|i| i * 8 + key % 8).find(|&k| k != key).unwrap();
        cache.put(other, &[0.5, 0.5]);
        assert!(!cache.get(key, &mut out));
    }

    #[test]
    fn a_cache_of_no_entries_remembers_nothing() {
        let mut cache = ScoreCache::new(0, 2);
        let key = cache.key(&value(LocationKind::Json, "x"));
        cache.put(key, &[1.0, 0.0]);
        assert!(!cache.get(key, &mut [0.0; 2]));
    }
}
