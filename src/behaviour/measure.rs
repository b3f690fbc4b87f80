//! Limits from baselines and floors, and the signals measured against them.

use super::signal::{drain_ms, num, per_window, window_text, Baseline, Signal, SignalKind};
use super::{ActorRecord, Behaviour, RequestFacts, RouteRecord};
use crate::state::{Ewma, PrincipalRouteRecord};

/// Response-size samples before the size baseline is trusted.
pub(super) const MIN_SIZE_SAMPLES: u32 = 30;
/// Smallest standard deviation of ln(response size): ±28% is never an anomaly.
pub(super) const SIZE_STD_FLOOR: f64 = 0.25;
/// Smallest standard deviation of a count per window.
const COUNT_STD_FLOOR: f64 = 1.0;

impl Behaviour {
    /// Rate limit of a client or principal: the floor, or its own baseline's upper bound.
    pub(super) fn rate_limit(&self, baseline: &Ewma) -> (f64, Option<Baseline>) {
        let r = &self.config.signals.rate;
        let floor = f64::from(r.min_requests);
        match Baseline::of(baseline, self.config.warmup.windows, COUNT_STD_FLOOR) {
            Some(b) => (floor.max(b.upper(r.z)), Some(b)),
            None => (floor, None),
        }
    }

    pub(super) fn route_rate_limit(&self, baseline: &Ewma) -> (f64, Option<Baseline>) {
        let r = &self.config.signals.route_rate;
        let floor = f64::from(r.min_requests);
        match Baseline::of(baseline, self.config.warmup.windows, COUNT_STD_FLOOR) {
            Some(b) => (floor.max(b.upper(r.z)), Some(b)),
            None => (floor, None),
        }
    }

    /// BOLA limit: the principal's own norm, else the route's, else the floor.
    pub(super) fn bola_limit(
        &self,
        own: &Ewma,
        route: Option<&Ewma>,
    ) -> (f64, Option<Baseline>, &'static str) {
        let b = &self.config.signals.bola;
        let n = self.config.warmup.windows;
        let floor = f64::from(b.min_distinct);
        if let Some(base) = Baseline::of(own, n, COUNT_STD_FLOOR) {
            return (floor.max(base.upper(b.z)), Some(base), "norm");
        }
        if let Some(base) = route.and_then(|r| Baseline::of(r, n, COUNT_STD_FLOOR)) {
            return (floor.max(base.upper(b.z)), Some(base), "route norm");
        }
        (floor, None, "no norm yet")
    }

    /// How near a client's or principal's measures are to their limits (largest value/limit):
    /// rate, 401/403 and 404 bursts, model denies.
    pub(super) fn actor_heat(&self, rec: &ActorRecord, now_ms: u64) -> f64 {
        let (sig, w) = (&self.config.signals, self.config.window_ms);
        let mut heat = ratio(
            rec.model_denies.rate(now_ms, sig.model_denies.window_ms),
            f64::from(sig.model_denies.limit),
        );
        if sig.rate.enabled {
            let (limit, _) = self.rate_limit(&rec.rate_baseline);
            heat = heat.max(ratio(rec.requests.rate(now_ms, w), limit));
        }
        for (counter, cfg) in [
            (&rec.auth_failures, sig.auth_failures),
            (&rec.not_found, sig.not_found),
        ] {
            if cfg.enabled {
                heat = heat.max(ratio(counter.rate(now_ms, w), f64::from(cfg.limit)));
            }
        }
        heat
    }

    /// How near a principal's distinct ids on a route are to the BOLA limit.
    pub(super) fn bola_heat(&self, rec: &PrincipalRouteRecord, route: Option<&RouteRecord>) -> f64 {
        let (limit, _, _) = self.bola_limit(&rec.baseline, route.map(|r| &r.distinct_norm));
        ratio(rec.objects.estimate(), limit)
    }

    /// How near a route's rate is to its limit.
    pub(super) fn route_heat(&self, rec: &RouteRecord, now_ms: u64) -> f64 {
        if !self.config.signals.route_rate.enabled {
            return 0.0;
        }
        let (limit, _) = self.route_rate_limit(&rec.rate_baseline);
        ratio(rec.requests.rate(now_ms, self.config.window_ms), limit)
    }

    pub(super) fn route_warm(&self, rec: &RouteRecord, now_ms: u64) -> bool {
        let w = &self.config.warmup;
        rec.first_seen_ms != 0
            && rec.seen >= w.requests
            && now_ms.saturating_sub(rec.first_seen_ms) >= w.ms
    }

    pub(super) fn rate_signal(
        &self,
        kind: SignalKind,
        who: &str,
        rec: &ActorRecord,
        now_ms: u64,
    ) -> Option<Signal> {
        let (w, r) = (self.config.window_ms, &self.config.signals.rate);
        let (limit, base) = self.rate_limit(&rec.rate_baseline);
        let value = rec.requests.rate(now_ms, w);
        let mut s = Signal::over(kind, value, limit, r.strong_factor, base, || {
            let per = per_window(w);
            match base {
                Some(b) => format!(
                    "{kind}: {}{per} from {who} vs baseline {}+-{} (z={:.0}, limit {})",
                    num(value),
                    num(b.mean),
                    num(b.std_dev),
                    b.z(value),
                    num(limit)
                ),
                None => format!(
                    "{kind}: {}{per} from {who}, no baseline yet (limit {})",
                    num(value),
                    num(limit)
                ),
            }
        })?;
        s.retry_after_s = Some(seconds(drain_ms(&rec.requests, now_ms, w, limit)));
        Some(s)
    }

    pub(super) fn route_rate_signal(
        &self,
        route: &str,
        rec: &RouteRecord,
        now_ms: u64,
    ) -> Option<Signal> {
        let w = self.config.window_ms;
        let (limit, base) = self.route_rate_limit(&rec.rate_baseline);
        let value = rec.requests.rate(now_ms, w);
        Signal::over(SignalKind::RouteRate, value, limit, 1.0, base, || {
            let per = per_window(w);
            match base {
                Some(b) => format!(
                    "route_rate: {}{per} on {route} vs baseline {}+-{} (z={:.0}, limit {})",
                    num(value),
                    num(b.mean),
                    num(b.std_dev),
                    b.z(value),
                    num(limit)
                ),
                None => format!(
                    "route_rate: {}{per} on {route} (limit {})",
                    num(value),
                    num(limit)
                ),
            }
        })
    }

    pub(super) fn bola_signal(
        &self,
        facts: &RequestFacts,
        who: &str,
        rec: &PrincipalRouteRecord,
        route: &RouteRecord,
    ) -> Option<Signal> {
        let b = &self.config.signals.bola;
        let (limit, base, source) = self.bola_limit(&rec.baseline, Some(&route.distinct_norm));
        let value = rec.objects.estimate();
        let window = window_text(self.config.window_ms);
        let template = &facts.route.template;
        Signal::over(
            SignalKind::Bola,
            value,
            limit,
            b.strong_factor,
            base,
            || {
                let norm = match base {
                    Some(n) => format!("{source} {}", num(n.mean)),
                    None => source.to_string(),
                };
                format!(
                "bola: {value:.0} distinct ids on {template} in {window} by {who} ({norm}, limit {})",
                num(limit)
            )
            },
        )
    }

    pub(super) fn burst_signal(
        &self,
        kind: SignalKind,
        who: &str,
        rec: &ActorRecord,
        now_ms: u64,
    ) -> Option<Signal> {
        let sig = &self.config.signals;
        let (counter, cfg, what) = match kind {
            SignalKind::NotFound => (&rec.not_found, sig.not_found, "404"),
            _ => (&rec.auth_failures, sig.auth_failures, "401/403"),
        };
        if !cfg.enabled {
            return None;
        }
        let w = self.config.window_ms;
        let limit = f64::from(cfg.limit);
        let value = counter.rate(now_ms, w);
        let mut s = Signal::over(kind, value, limit, cfg.strong_factor, None, || {
            format!(
                "{kind}: {} {what} answers to {who} in {} (limit {})",
                num(value),
                window_text(w),
                cfg.limit
            )
        })?;
        s.retry_after_s = Some(seconds(drain_ms(counter, now_ms, w, limit)));
        Some(s)
    }
}

pub(super) fn seconds(ms: u64) -> u32 {
    u32::try_from(ms.div_ceil(1000)).unwrap_or(u32::MAX)
}

/// `5.2 MB`, `4.1 KB`, `312 B`.
pub(super) fn size(bytes: f64) -> String {
    if bytes >= 1e6 {
        format!("{:.1} MB", bytes / 1e6)
    } else if bytes >= 1e3 {
        format!("{:.1} KB", bytes / 1e3)
    } else {
        format!("{:.0} B", bytes.max(0.0))
    }
}

/// value / limit, 0 when either is unusable.
fn ratio(value: f64, limit: f64) -> f64 {
    if value.is_finite() && limit > 0.0 {
        value / limit
    } else {
        0.0
    }
}
