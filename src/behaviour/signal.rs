//! Signals: what was measured, against which baseline and limit, and how far over it.

use std::fmt;

use crate::state::{Ewma, WindowCounter};

/// What a signal is about. The names are stable: metrics and events use them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum SignalKind {
    /// Requests of a client address against its own baseline (or the floor).
    Rate,
    /// Requests of a principal against its own baseline (or the floor).
    PrincipalRate,
    /// Requests on a route template against its baseline (not attributable: annotate only).
    RouteRate,
    /// 401/403 answers to a client address (credential stuffing).
    AuthFailures,
    /// 401/403 answers to a principal.
    PrincipalAuthFailures,
    /// 404 answers to a client address (scanning, forced browsing).
    NotFound,
    /// Distinct object ids per principal per route template (broken object-level authorization).
    Bola,
    /// Parameter names or value types never seen on the route after warm-up.
    NovelParameter,
    /// A response much larger than the route's usual ones (data exposure).
    ResponseSize,
    /// The client or principal is blocked.
    Blocked,
    /// The token is revoked.
    Revoked,
}

impl SignalKind {
    /// Every kind, for metric registration.
    pub const ALL: [SignalKind; 11] = [
        SignalKind::Rate,
        SignalKind::PrincipalRate,
        SignalKind::RouteRate,
        SignalKind::AuthFailures,
        SignalKind::PrincipalAuthFailures,
        SignalKind::NotFound,
        SignalKind::Bola,
        SignalKind::NovelParameter,
        SignalKind::ResponseSize,
        SignalKind::Blocked,
        SignalKind::Revoked,
    ];

    /// Stable lower-case name for metrics, headers and events.
    pub fn as_str(self) -> &'static str {
        match self {
            SignalKind::Rate => "rate",
            SignalKind::PrincipalRate => "principal_rate",
            SignalKind::RouteRate => "route_rate",
            SignalKind::AuthFailures => "auth_failures",
            SignalKind::PrincipalAuthFailures => "principal_auth_failures",
            SignalKind::NotFound => "not_found",
            SignalKind::Bola => "bola",
            SignalKind::NovelParameter => "novel_parameter",
            SignalKind::ResponseSize => "response_size",
            SignalKind::Blocked => "blocked",
            SignalKind::Revoked => "revoked",
        }
    }

    /// The family of evidence: two signals of one family (client and principal rate) are one
    /// piece of evidence when signals must agree.
    pub fn family(self) -> &'static str {
        match self {
            SignalKind::Rate | SignalKind::PrincipalRate => "rate",
            SignalKind::AuthFailures | SignalKind::PrincipalAuthFailures => "auth_failures",
            other => other.as_str(),
        }
    }

    /// Whether the signal is about this client or principal (a route-wide spike is not).
    pub fn attributable(self) -> bool {
        !matches!(self, SignalKind::RouteRate | SignalKind::ResponseSize)
    }

    /// Whether the signal far over its limit blocks on its own.
    pub fn blockable(self) -> bool {
        matches!(
            self,
            SignalKind::AuthFailures
                | SignalKind::PrincipalAuthFailures
                | SignalKind::NotFound
                | SignalKind::Bola
        )
    }

    /// Whether the evidence is about the principal (a block may then revoke its token).
    pub fn principal_scoped(self) -> bool {
        matches!(
            self,
            SignalKind::PrincipalRate | SignalKind::PrincipalAuthFailures | SignalKind::Bola
        )
    }

    /// Code stored in a block entry.
    pub fn code(self) -> u8 {
        SignalKind::ALL
            .iter()
            .position(|k| *k == self)
            .map_or(0, |i| i as u8 + 1)
    }

    /// The kind of a code stored in a block entry.
    pub fn from_code(code: u8) -> Option<SignalKind> {
        SignalKind::ALL
            .get(usize::from(code).checked_sub(1)?)
            .copied()
    }
}

impl fmt::Display for SignalKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why a block was imposed; stored as a code in the block entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BlockCause {
    /// One signal far over its limit.
    Signal(SignalKind),
    /// The n-th model deny from the client.
    ModelDenies,
    /// Two strong signals of different families.
    Agreement,
    /// A strong signal from a client or principal blocked before.
    RepeatOffender,
}

impl BlockCause {
    /// Code stored in a block entry.
    pub fn code(self) -> u8 {
        match self {
            BlockCause::Signal(k) => k.code(),
            BlockCause::ModelDenies => 100,
            BlockCause::Agreement => 101,
            BlockCause::RepeatOffender => 102,
        }
    }

    /// The cause of a stored code.
    pub fn from_code(code: u8) -> Option<BlockCause> {
        match code {
            100 => Some(BlockCause::ModelDenies),
            101 => Some(BlockCause::Agreement),
            102 => Some(BlockCause::RepeatOffender),
            c => SignalKind::from_code(c).map(BlockCause::Signal),
        }
    }

    /// Stable lower-case name.
    pub fn as_str(self) -> &'static str {
        match self {
            BlockCause::Signal(k) => k.as_str(),
            BlockCause::ModelDenies => "model_denies",
            BlockCause::Agreement => "agreement",
            BlockCause::RepeatOffender => "repeat_offender",
        }
    }
}

/// How far over its limit a signal is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Severity {
    /// Over the limit: annotate.
    Weak,
    /// Over `strong_factor` × limit: the signal's own step (throttle, challenge, deny).
    Strong,
}

impl Severity {
    /// Lower-case name.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Weak => "weak",
            Severity::Strong => "strong",
        }
    }
}

/// A learned baseline at the time of the measurement.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Baseline {
    /// Mean.
    pub mean: f64,
    /// Standard deviation (floored as used).
    pub std_dev: f64,
    /// Samples behind it.
    pub samples: u32,
}

impl Baseline {
    /// The baseline of `e` if it has at least `min_samples` samples, with `std_dev` floored at
    /// `floor` (and 5% of the mean) so a perfectly steady history does not make every small
    /// change a huge deviation.
    pub fn of(e: &Ewma, min_samples: u32, floor: f64) -> Option<Baseline> {
        (e.n >= min_samples.max(1)).then(|| Baseline {
            mean: e.mean,
            std_dev: e.std_dev().max(floor).max(Ewma::MIN_STD_REL * e.mean.abs()),
            samples: e.n,
        })
    }

    /// Standard deviations of `x` above the mean.
    pub fn z(&self, x: f64) -> f64 {
        (x - self.mean) / self.std_dev
    }

    /// `mean + z × std_dev`.
    pub fn upper(&self, z: f64) -> f64 {
        self.mean + z * self.std_dev
    }
}

/// A behaviour signal of one request.
#[derive(Debug, Clone, PartialEq)]
pub struct Signal {
    /// What it is about.
    pub kind: SignalKind,
    /// Weak or strong.
    pub severity: Severity,
    /// The measured value (requests, answers or distinct ids per window, bytes, parameters).
    pub value: f64,
    /// The limit it exceeded.
    pub limit: f64,
    /// `value / limit`.
    pub excess: f64,
    /// The learned baseline, when one was used.
    pub baseline: Option<Baseline>,
    /// For counted signals: seconds until the window drains back under the limit.
    pub retry_after_s: Option<u32>,
    /// Human-readable: what was exceeded and by how much.
    pub reason: String,
}

impl Signal {
    /// A signal if `value` reaches `limit`: strong from `strong_factor` × limit.
    pub fn over(
        kind: SignalKind,
        value: f64,
        limit: f64,
        strong_factor: f64,
        baseline: Option<Baseline>,
        reason: impl FnOnce() -> String,
    ) -> Option<Signal> {
        if !(value.is_finite() && limit > 0.0 && value >= limit) {
            return None;
        }
        let severity = if value >= limit * strong_factor.max(1.0) && strong_factor > 1.0 {
            Severity::Strong
        } else {
            Severity::Weak
        };
        Some(Signal {
            kind,
            severity,
            value,
            limit,
            excess: value / limit,
            baseline,
            retry_after_s: None,
            reason: reason(),
        })
    }

    /// A signal that is a fact rather than a measurement (blocked, revoked).
    pub fn fact(kind: SignalKind, reason: String) -> Signal {
        Signal {
            kind,
            severity: Severity::Strong,
            value: 1.0,
            limit: 1.0,
            excess: 1.0,
            baseline: None,
            retry_after_s: None,
            reason,
        }
    }

    /// Risk in `[0, 1]` this signal stands for: `excess / (1 + excess)`, 1 for facts.
    pub fn risk(&self) -> f32 {
        match self.kind {
            SignalKind::Blocked | SignalKind::Revoked => 1.0,
            _ => (self.excess / (1.0 + self.excess)).clamp(0.0, 1.0) as f32,
        }
    }
}

/// What this client and principal did before: the history the decision weighs.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct History {
    /// Model denies of this client (or principal) in the model-deny window, before this request.
    pub model_denies: u32,
    /// The model deny that blocks (`behaviour.signals.model_denies.limit`); 0 = never.
    pub model_denies_limit: u32,
    /// Blocks imposed on this client or principal before (expired ones included).
    pub earlier_blocks: u8,
}

/// `/min`, `/h` or `/<n>s` for a window of `window_ms`.
pub fn per_window(window_ms: u64) -> String {
    match window_ms {
        60_000 => "/min".to_string(),
        3_600_000 => "/h".to_string(),
        ms if ms.is_multiple_of(1000) => format!("/{}s", ms / 1000),
        ms => format!("/{ms}ms"),
    }
}

/// `60s`, `10min`: a window for reasons.
pub fn window_text(window_ms: u64) -> String {
    let s = window_ms / 1000;
    if s > 60 && s.is_multiple_of(60) {
        format!("{}min", s / 60)
    } else {
        format!("{s}s")
    }
}

/// Compact number for reasons: `412`, `3.1`, `0.25`.
pub fn num(x: f64) -> String {
    if !x.is_finite() {
        return "?".to_string();
    }
    if (x - x.round()).abs() < 0.05 || x.abs() >= 100.0 {
        format!("{:.0}", x)
    } else {
        format!("{:.1}", x)
    }
}

/// Milliseconds until the sliding count of `counter` (with no new events) drops under
/// `limit`; 0 if it is already under.
pub fn drain_ms(counter: &WindowCounter, now_ms: u64, window_ms: u64, limit: f64) -> u64 {
    let w = window_ms.max(1);
    if counter.rate(now_ms, w) < limit {
        return 0;
    }
    // Roll the counter to now by counting nothing.
    let mut c = *counter;
    c.add(now_ms, w, 0);
    let (wf, cur, prev) = (w as f64, f64::from(c.current), f64::from(c.previous));
    let elapsed = now_ms.saturating_sub(c.start_ms).min(w) as f64;
    let t = if cur < limit {
        // Still in this sub-window: the previous one's weight falls linearly to zero.
        if prev <= 0.0 {
            0.0
        } else {
            wf * (1.0 - (limit - cur) / prev) - elapsed
        }
    } else {
        // The next sub-window starts with this one as "previous", then that falls too.
        2.0 * wf - elapsed - wf * limit / cur
    };
    (t.max(0.0).ceil() as u64).saturating_add(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_codes_are_stable() {
        let names: Vec<&str> = SignalKind::ALL.iter().map(|k| k.as_str()).collect();
        assert_eq!(
            names,
            [
                "rate",
                "principal_rate",
                "route_rate",
                "auth_failures",
                "principal_auth_failures",
                "not_found",
                "bola",
                "novel_parameter",
                "response_size",
                "blocked",
                "revoked"
            ]
        );
        for k in SignalKind::ALL {
            assert_eq!(SignalKind::from_code(k.code()), Some(k));
        }
        assert_eq!(SignalKind::from_code(0), None);
        assert_eq!(SignalKind::from_code(200), None);
    }

    #[test]
    fn severity_follows_the_strong_factor() {
        let s = |v| Signal::over(SignalKind::NotFound, v, 10.0, 2.0, None, String::new);
        assert_eq!(s(9.0), None);
        assert_eq!(s(10.0).unwrap().severity, Severity::Weak);
        assert_eq!(s(20.0).unwrap().severity, Severity::Strong);
        assert_eq!(s(25.0).unwrap().excess, 2.5);
        assert_eq!(s(f64::NAN), None);
        let weak_only = Signal::over(SignalKind::RouteRate, 1e9, 1.0, 1.0, None, String::new);
        assert_eq!(weak_only.unwrap().severity, Severity::Weak);
    }

    #[test]
    fn drain_time_is_when_the_sliding_count_falls_under_the_limit() {
        let w = 60_000;
        let mut c = WindowCounter::default();
        // 100 events at the start of a window, measured 10 s later; limit 50.
        c.add(600_000, w, 100);
        let now = 610_000;
        let t = drain_ms(&c, now, w, 50.0);
        // rolls at 660 s (prev = 100), then 100 × (1 − e/60) < 50 at e > 30 s: 80 s from now.
        assert!((80_000..=80_002).contains(&t), "{t}");
        assert!(c.rate(now + t, w) < 50.0);
        assert!(c.rate(now + t - 2000, w) >= 50.0);
        assert_eq!(drain_ms(&c, now, w, 101.0), 0);
        // Previous window heavy, current light.
        let mut c = WindowCounter::default();
        c.add(0, w, 90);
        c.add(60_000, w, 10);
        let t = drain_ms(&c, 60_000, w, 40.0);
        assert!(c.rate(60_000 + t, w) < 40.0 && c.rate(60_000 + t - 2000, w) >= 40.0);
    }

    #[test]
    fn reasons_use_compact_numbers_and_windows() {
        assert_eq!(num(412.0), "412");
        assert_eq!(num(3.12), "3.1");
        assert_eq!(num(1234.56), "1235");
        assert_eq!(per_window(60_000), "/min");
        assert_eq!(per_window(10_000), "/10s");
        assert_eq!(window_text(60_000), "60s");
        assert_eq!(window_text(600_000), "10min");
    }
}
