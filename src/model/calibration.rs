//! From a value's class probabilities to its risk, as the location it came from warrants.
//!
//! Two things depend on where a value sits in the request:
//! - **What an attack class means there.** SSRF is about URLs the server will fetch (webhook
//!   targets, import URLs, image fetchers). A `Referer` or `Origin` says where the client came
//!   from, and an OAuth `redirect_uri` or a `returnTo` cookie where the client will be sent back
//!   to: an intranet or loopback host there is every internal web app and every front end in
//!   development (RFC 8252 prescribes loopback redirects for native apps). For those locations the
//!   SSRF probability does not count as risk. Every other class still does.
//! - **How much a score means there.** Benign traffic scores differently by location: real SDK
//!   user agents carry `(+https://...; go1.22)`, cookies carry base64 and JSON. The training
//!   pipeline calibrates deny and annotate thresholds per [`LocationGroup`] on real benign traffic
//!   and writes them into the model's metadata; a value's risk is mapped piecewise-linearly so
//!   that its group's calibrated thresholds land on the model's global ones. Configured
//!   thresholds (global or per route) then apply to the calibrated risk, one scale for all.
//!
//! `models/train/train.py` implements the same two rules (`location_group`, `ssrf_exempt`) and
//! `tests/onnx_parity.rs`-style checks in the pipeline hold them equal (`apiward eval` parity).

use std::collections::BTreeMap;

use serde::Deserialize;

pub use crate::request::{ssrf_exempt, LocationGroup};

/// Deny and annotate thresholds calibrated for one location group, as written in metadata.
#[derive(Debug, Clone, Copy, PartialEq, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct GroupThresholds {
    /// Raw risk from which a value of this group is as suspicious as `annotate` globally.
    pub annotate: f32,
    /// Raw risk from which a value of this group is as suspicious as `deny` globally.
    pub deny: f32,
}

/// Per-group maps from raw risk to calibrated risk.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Calibration {
    /// (annotate, deny) of the model's global thresholds.
    global: (f32, f32),
    groups: [Option<GroupThresholds>; LocationGroup::ALL.len()],
}

impl Calibration {
    /// Checks `raw` (metadata `location_thresholds`) and builds the maps. `global` is the
    /// model's own (annotate, deny).
    pub fn new(
        global: (f32, f32),
        raw: &BTreeMap<String, GroupThresholds>,
    ) -> Result<Calibration, String> {
        let mut groups = [None; LocationGroup::ALL.len()];
        for (name, t) in raw {
            let g = LocationGroup::from_name(name).ok_or_else(|| {
                format!(
                    "location_thresholds: unknown location group {name:?}; known: {}",
                    LocationGroup::ALL.map(|g| g.as_str()).join(", ")
                )
            })?;
            if !(t.annotate > 0.0 && t.annotate <= t.deny && t.deny < 1.0) {
                return Err(format!(
                    "location_thresholds.{name}: must satisfy 0 < annotate <= deny < 1, got {} and {}",
                    t.annotate, t.deny
                ));
            }
            groups[g as usize] = Some(*t);
        }
        Ok(Calibration { global, groups })
    }

    /// Calibrated risk of a raw risk at a location of `group`: the piecewise-linear map through
    /// (0, 0), (group annotate, global annotate), (group deny, global deny), (1, 1). Groups
    /// without thresholds keep the raw risk.
    pub fn calibrate(&self, group: LocationGroup, raw: f32) -> f32 {
        let Some(t) = self.groups[group as usize] else {
            return raw;
        };
        let (ga, gd) = self.global;
        let points = [(0.0, 0.0), (t.annotate, ga), (t.deny, gd), (1.0, 1.0)];
        let raw = raw.clamp(0.0, 1.0);
        for w in points.windows(2) {
            let ((x0, y0), (x1, y1)) = (w[0], w[1]);
            if raw <= x1 {
                if x1 <= x0 {
                    return y1;
                }
                return y0 + (raw - x0) * (y1 - y0) / (x1 - x0);
            }
        }
        1.0
    }
}

/// Risk of one value: 1 − P(benign), less P(ssrf) where SSRF does not apply; and the most likely
/// attack class that counts there (its index and probability).
pub fn value_risk(
    row: &[f32],
    benign: Option<usize>,
    ssrf: Option<usize>,
    exempt_ssrf: bool,
) -> (f32, usize, f32) {
    let p_benign = benign.map(|b| row[b]).unwrap_or(0.0);
    let mut risk = 1.0 - p_benign;
    let skip_ssrf = exempt_ssrf && ssrf.is_some();
    if skip_ssrf {
        risk -= ssrf.map(|s| row[s]).unwrap_or(0.0);
    }
    let (class, probability) = row
        .iter()
        .enumerate()
        .filter(|(i, _)| Some(*i) != benign && !(skip_ssrf && Some(*i) == ssrf))
        .fold(
            (0usize, f32::MIN),
            |acc, (i, &p)| if p > acc.1 { (i, p) } else { acc },
        );
    (risk.clamp(0.0, 1.0), class, probability)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exempt_value_drops_ssrf_from_risk_and_class() {
        // classes: benign, ssrf, sqli
        let row = [0.05, 0.9, 0.05];
        let (risk, class, p) = value_risk(&row, Some(0), Some(1), false);
        assert!((risk - 0.95).abs() < 1e-6);
        assert_eq!((class, p), (1, 0.9));
        let (risk, class, p) = value_risk(&row, Some(0), Some(1), true);
        assert!((risk - 0.05).abs() < 1e-6);
        assert_eq!((class, p), (2, 0.05));
    }

    #[test]
    fn calibration_maps_group_thresholds_onto_global_ones_monotonically() {
        let mut raw = BTreeMap::new();
        raw.insert(
            "header:user-agent".to_string(),
            GroupThresholds {
                annotate: 0.8,
                deny: 0.95,
            },
        );
        let c = Calibration::new((0.3, 0.6), &raw).expect("valid");
        let ua = LocationGroup::UserAgent;
        assert!((c.calibrate(ua, 0.8) - 0.3).abs() < 1e-6);
        assert!((c.calibrate(ua, 0.95) - 0.6).abs() < 1e-6);
        assert!(c.calibrate(ua, 0.72) < 0.3);
        assert!((c.calibrate(ua, 1.0) - 1.0).abs() < 1e-6);
        let mut last = -1.0;
        for i in 0..=1000 {
            let y = c.calibrate(ua, i as f32 / 1000.0);
            assert!(y >= last, "not monotone at {i}");
            last = y;
        }
        // A group without thresholds keeps the raw risk.
        assert_eq!(c.calibrate(LocationGroup::Query, 0.72), 0.72);
    }

    #[test]
    fn invalid_group_thresholds_are_refused_naming_them() {
        let mut raw = BTreeMap::new();
        raw.insert(
            "header:ua".to_string(),
            GroupThresholds {
                annotate: 0.5,
                deny: 0.6,
            },
        );
        let e = Calibration::new((0.3, 0.6), &raw).unwrap_err();
        assert!(e.contains("header:ua"), "{e}");
        let mut raw = BTreeMap::new();
        raw.insert(
            "query".to_string(),
            GroupThresholds {
                annotate: 0.7,
                deny: 0.6,
            },
        );
        let e = Calibration::new((0.3, 0.6), &raw).unwrap_err();
        assert!(e.contains("location_thresholds.query"), "{e}");
    }
}
