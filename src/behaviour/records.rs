//! The behaviour layer's own table records (the block list, revocations and BOLA use the
//! records of [`crate::state`]).

use crate::hash::fmix64;
use crate::state::merge::{add_delta, add_delta_u8, Merge};
use crate::state::{Ewma, FieldReader, FieldWriter, Record, WindowCounter};

/// Per client address or per principal: request, 401/403, 404 and model-deny windows and a
/// baseline of requests per window. 84 bytes.
///
/// [`crate::state::ClientRecord`] keeps the block inside the client entry; blocks live in their
/// own small table here, so that a flood of new addresses churning the client table cannot
/// push a block out, and so that model denies (history) have a window of their own.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct ActorRecord {
    /// Requests.
    pub requests: WindowCounter,
    /// Baseline of requests per finished window.
    pub rate_baseline: Ewma,
    /// 401/403 answers.
    pub auth_failures: WindowCounter,
    /// 404 answers.
    pub not_found: WindowCounter,
    /// Model denies (history: the n-th one blocks).
    pub model_denies: WindowCounter,
}

impl Record for ActorRecord {
    const TAG: u8 = 0x10;
    const SIZE: usize = 4 * WindowCounter::SIZE + Ewma::SIZE;

    fn encode(&self, out: &mut [u8]) {
        FieldWriter::new(out)
            .record(&self.requests)
            .record(&self.rate_baseline)
            .record(&self.auth_failures)
            .record(&self.not_found)
            .record(&self.model_denies);
    }

    fn decode(b: &[u8]) -> Self {
        let mut r = FieldReader::new(b);
        ActorRecord {
            requests: r.record(),
            rate_baseline: r.record(),
            auth_failures: r.record(),
            not_found: r.record(),
            model_denies: r.record(),
        }
    }
}

impl Merge for ActorRecord {
    fn merge(base: &Self, mine: &Self, theirs: &Self) -> Self {
        if mine == base {
            return *theirs;
        }
        ActorRecord {
            requests: WindowCounter::merge(&base.requests, &mine.requests, &theirs.requests),
            rate_baseline: Ewma::merge(
                &base.rate_baseline,
                &mine.rate_baseline,
                &theirs.rate_baseline,
            ),
            auth_failures: WindowCounter::merge(
                &base.auth_failures,
                &mine.auth_failures,
                &theirs.auth_failures,
            ),
            not_found: WindowCounter::merge(&base.not_found, &mine.not_found, &theirs.not_found),
            model_denies: WindowCounter::merge(
                &base.model_denies,
                &mine.model_denies,
                &theirs.model_denies,
            ),
        }
    }
}

/// A Bloom filter of parameter shapes (name + value type) seen on a route: 512 bits, two
/// probes. 64 bytes; a few per cent false positives at ~100 shapes, which only hides novelty.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ParamSet {
    /// The bitmap.
    pub bits: [u8; 64],
}

impl Default for ParamSet {
    fn default() -> Self {
        ParamSet { bits: [0; 64] }
    }
}

impl ParamSet {
    fn probes(shape: u64) -> [usize; 2] {
        let h = fmix64(shape);
        [(h & 511) as usize, ((h >> 9) & 511) as usize]
    }

    /// Whether the shape was (probably) inserted.
    pub fn contains(&self, shape: u64) -> bool {
        Self::probes(shape).iter().all(|&bit| {
            self.bits
                .get(bit / 8)
                .is_some_and(|b| b & (1 << (bit % 8)) != 0)
        })
    }

    /// Inserts a shape.
    pub fn insert(&mut self, shape: u64) {
        for bit in Self::probes(shape) {
            if let Some(b) = self.bits.get_mut(bit / 8) {
                *b |= 1 << (bit % 8);
            }
        }
    }
}

/// Per method + route template: warm-up progress, request baseline, the norm of distinct
/// objects per principal per window, the response size baseline and the parameter shapes
/// learned. 184 bytes.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct RouteRecord {
    /// First request seen (ms since the epoch).
    pub first_seen_ms: u64,
    /// Requests seen (saturating), for the warm-up.
    pub seen: u32,
    /// Requests.
    pub requests: WindowCounter,
    /// Baseline of requests per finished window.
    pub rate_baseline: Ewma,
    /// Norm of distinct object ids per principal per finished window.
    pub distinct_norm: Ewma,
    /// Baseline of ln(1 + response bytes) of 2xx answers.
    pub response_size: Ewma,
    /// Parameter shapes learned.
    pub params: ParamSet,
    /// Sightings of unlearned shapes after warm-up (count-min style, 32 saturating cells); a
    /// shape is learned once its cell reaches `promote_after`.
    pub pending: [u8; 32],
}

impl RouteRecord {
    /// Counts a sighting of an unlearned shape; returns the count so far.
    pub fn sighting(&mut self, shape: u64) -> u8 {
        let cell = ((fmix64(shape) >> 18) & 31) as usize;
        match self.pending.get_mut(cell) {
            Some(c) => {
                *c = c.saturating_add(1);
                *c
            }
            None => 0,
        }
    }
}

impl Merge for RouteRecord {
    fn merge(base: &Self, mine: &Self, theirs: &Self) -> Self {
        if mine == base {
            return *theirs;
        }
        let first_seen_ms = match (mine.first_seen_ms, theirs.first_seen_ms) {
            (0, t) => t,
            (m, 0) => m,
            (m, t) => m.min(t),
        };
        let mut params = theirs.params;
        for (o, m) in params.bits.iter_mut().zip(mine.params.bits.iter()) {
            *o |= m;
        }
        let mut pending = theirs.pending;
        for ((o, m), b) in pending
            .iter_mut()
            .zip(mine.pending.iter())
            .zip(base.pending.iter())
        {
            *o = add_delta_u8(*b, *m, *o);
        }
        RouteRecord {
            first_seen_ms,
            seen: add_delta(base.seen, mine.seen, theirs.seen),
            requests: WindowCounter::merge(&base.requests, &mine.requests, &theirs.requests),
            rate_baseline: Ewma::merge(
                &base.rate_baseline,
                &mine.rate_baseline,
                &theirs.rate_baseline,
            ),
            distinct_norm: Ewma::merge(
                &base.distinct_norm,
                &mine.distinct_norm,
                &theirs.distinct_norm,
            ),
            response_size: Ewma::merge(
                &base.response_size,
                &mine.response_size,
                &theirs.response_size,
            ),
            params,
            pending,
        }
    }
}

impl Record for RouteRecord {
    const TAG: u8 = 0x11;
    const SIZE: usize = 8 + 4 + WindowCounter::SIZE + 3 * Ewma::SIZE + 64 + 32;

    fn encode(&self, out: &mut [u8]) {
        FieldWriter::new(out)
            .u64(self.first_seen_ms)
            .u32(self.seen)
            .record(&self.requests)
            .record(&self.rate_baseline)
            .record(&self.distinct_norm)
            .record(&self.response_size)
            .bytes(&self.params.bits)
            .bytes(&self.pending);
    }

    fn decode(b: &[u8]) -> Self {
        let mut r = FieldReader::new(b);
        RouteRecord {
            first_seen_ms: r.u64(),
            seen: r.u32(),
            requests: r.record(),
            rate_baseline: r.record(),
            distinct_norm: r.record(),
            response_size: r.record(),
            params: ParamSet { bits: r.array() },
            pending: r.array(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn record_sizes_are_pinned_and_records_roundtrip() {
        assert_eq!(ActorRecord::SIZE, 84);
        assert_eq!(RouteRecord::SIZE, 184);
        let mut a = ActorRecord::default();
        a.requests.add(60_000, 60_000, 3);
        a.rate_baseline.update(5.0, 0.1);
        a.model_denies.add(1, 600_000, 1);
        let mut buf = vec![0u8; ActorRecord::SIZE];
        a.encode(&mut buf);
        assert_eq!(ActorRecord::decode(&buf), a);

        let mut r = RouteRecord {
            first_seen_ms: 7,
            seen: 9,
            ..RouteRecord::default()
        };
        r.params.insert(42);
        r.sighting(43);
        r.response_size.update(8.0, 0.1);
        let mut buf = vec![0u8; RouteRecord::SIZE];
        r.encode(&mut buf);
        assert_eq!(RouteRecord::decode(&buf), r);
        assert_eq!(RouteRecord::decode(&[1, 2]), RouteRecord::default());
    }

    #[test]
    fn route_records_merge_counts_and_learned_shapes_of_two_workers() {
        let w = 60_000;
        let mut base = RouteRecord {
            first_seen_ms: 500,
            seen: 10,
            ..RouteRecord::default()
        };
        base.requests.add(w, w, 10);
        let (mut a, mut b) = (base, base);
        a.seen += 3;
        a.requests.add(w + 1, w, 3);
        a.params.insert(1);
        a.sighting(7);
        b.seen += 4;
        b.requests.add(w + 2, w, 4);
        b.params.insert(2);
        b.sighting(7);
        let shared = RouteRecord::merge(&base, &b, &base);
        let m = RouteRecord::merge(&base, &a, &shared);
        assert_eq!(m.seen, 17);
        assert_eq!(m.requests.current, 17);
        assert!(m.params.contains(1) && m.params.contains(2));
        let mut seven = m;
        assert_eq!(seven.sighting(7), 3, "two sightings merged, plus this one");
        assert_eq!(m.first_seen_ms, 500);

        let mut actor = ActorRecord::default();
        actor.not_found.add(w, w, 2);
        let mut mine = actor;
        mine.not_found.add(w + 1, w, 5);
        let mut theirs = actor;
        theirs.auth_failures.add(w + 1, w, 1);
        let m = ActorRecord::merge(&actor, &mine, &theirs);
        assert_eq!((m.not_found.current, m.auth_failures.current), (7, 1));
    }

    #[test]
    fn param_set_remembers_what_it_saw() {
        let mut s = ParamSet::default();
        let shapes: Vec<u64> = (0..50).map(|i| crate::state::fingerprint(&[i])).collect();
        shapes.iter().for_each(|&h| s.insert(h));
        assert!(shapes.iter().all(|&h| s.contains(h)));
        let unseen = (100..300u16)
            .filter(|i| s.contains(crate::state::fingerprint(&i.to_le_bytes())))
            .count();
        assert!(unseen < 40, "false positives {unseen}/200");
    }
}
