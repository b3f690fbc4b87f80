//! Counting a request or an answer in the tables: one CAS per table, baselines fed when a
//! window ends.

use super::measure::{size, MIN_SIZE_SAMPLES, SIZE_STD_FLOOR};
use super::signal::{Baseline, Signal, SignalKind};
use super::{ActorRecord, Behaviour, RequestFacts, ResponseSignals, RouteRecord};
use crate::state::{
    Ewma, PrincipalRouteRecord, SharedStore, StateError, Table, UpdateInfo, WindowCounter,
};

/// A route's state after this request was counted.
#[derive(Debug, Clone)]
pub(super) struct RouteView {
    pub(super) record: RouteRecord,
    pub(super) warm: bool,
    pub(super) novel: Vec<usize>,
}

impl Behaviour {
    /// Counts a request of a client or principal, feeding the baseline when a window ends
    /// (clipped at the limit once the route is warm).
    pub(super) fn count_request<S: SharedStore + ?Sized>(
        &self,
        table: &Table<ActorRecord>,
        store: &S,
        fp: u64,
        warm: bool,
        now_ms: u64,
        errors: &mut Vec<StateError>,
    ) -> Option<ActorRecord> {
        let (w, alpha) = (self.config.window_ms, self.config.learning_rate);
        let result = table.update(store, fp, now_ms, |rec, _| {
            let clip = if warm {
                self.rate_limit(&rec.rate_baseline).0
            } else {
                f64::INFINITY
            };
            feed_window(
                &mut rec.requests,
                &mut rec.rate_baseline,
                now_ms,
                w,
                clip,
                alpha,
            );
            *rec
        });
        keep(result, errors)
    }

    /// Adds an object id to (principal, route)'s sketch; returns the record and, when a window
    /// just finished, its distinct count (clipped at the limit once the route is warm) for the
    /// route's norm.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn count_object<S: SharedStore + ?Sized>(
        &self,
        store: &S,
        fp: u64,
        object: u64,
        route_norm: Option<Ewma>,
        warm: bool,
        now_ms: u64,
        errors: &mut Vec<StateError>,
    ) -> Option<(PrincipalRouteRecord, Option<f64>)> {
        let (w, alpha) = (self.config.window_ms, self.config.learning_rate);
        let result = self.principal_routes.update(store, fp, now_ms, |rec, _| {
            let clip = if warm {
                self.bola_limit(&rec.baseline, route_norm.as_ref()).0
            } else {
                f64::INFINITY
            };
            let finished = rec.roll_window(now_ms, w).map(|f| f.min(clip));
            if let Some(f) = finished {
                rec.baseline.update(f, alpha);
            }
            rec.objects.insert(object);
            (*rec, finished)
        });
        keep(result, errors)
    }

    /// Feeds a finished (principal, route) window to the route's norm: once per principal and
    /// route per window, so this second write of the route is rare.
    pub(super) fn feed_norm<S: SharedStore + ?Sized>(
        &self,
        store: &S,
        route_fp: u64,
        distinct: f64,
        now_ms: u64,
        errors: &mut Vec<StateError>,
    ) {
        let alpha = self.config.learning_rate;
        let result = self.routes.update(store, route_fp, now_ms, |rec, _| {
            let sample = if self.route_warm(rec, now_ms) {
                distinct.min(self.bola_limit(&rec.distinct_norm, None).0)
            } else {
                distinct
            };
            rec.distinct_norm.update(sample, alpha);
        });
        keep(result, errors);
    }

    /// Counts a request on its route: warm-up, rate, parameter shapes.
    pub(super) fn count_route<S: SharedStore + ?Sized>(
        &self,
        store: &S,
        facts: &RequestFacts,
        now_ms: u64,
        errors: &mut Vec<StateError>,
    ) -> Option<RouteView> {
        let cfg = &self.config;
        let (w, alpha) = (cfg.window_ms, cfg.learning_rate);
        let structure = cfg.signals.structure;
        let result = self.routes.update(store, facts.route_fp, now_ms, |rec, _| {
            if rec.first_seen_ms == 0 {
                rec.first_seen_ms = now_ms.max(1);
            }
            let warm = self.route_warm(rec, now_ms);
            rec.seen = rec.seen.saturating_add(1);
            let clip = if warm {
                self.route_rate_limit(&rec.rate_baseline).0
            } else {
                f64::INFINITY
            };
            feed_window(
                &mut rec.requests,
                &mut rec.rate_baseline,
                now_ms,
                w,
                clip,
                alpha,
            );
            let mut novel = Vec::new();
            if structure.enabled {
                for (i, p) in facts.params.iter().enumerate() {
                    if rec.params.contains(p.fp) {
                        continue;
                    }
                    if !warm || rec.sighting(p.fp) >= structure.promote_after {
                        rec.params.insert(p.fp);
                    }
                    if warm {
                        novel.push(i);
                    }
                }
            }
            RouteView {
                record: *rec,
                warm,
                novel,
            }
        });
        match result {
            Ok((view, _)) => Some(view),
            Err(e) => {
                errors.push(e);
                // Without the write, still tell warm from learning so signals do not vanish
                // under contention.
                match self.routes.read(store, facts.route_fp) {
                    Ok(Some(record)) => Some(RouteView {
                        warm: self.route_warm(&record, now_ms),
                        record,
                        novel: Vec::new(),
                    }),
                    Ok(None) => None,
                    Err(e) => {
                        errors.push(e);
                        None
                    }
                }
            }
        }
    }

    pub(super) fn count_answer<S: SharedStore + ?Sized>(
        &self,
        store: &S,
        facts: &RequestFacts,
        kind: SignalKind,
        now_ms: u64,
        out: &mut ResponseSignals,
    ) {
        let w = self.config.window_ms;
        let not_found = kind == SignalKind::NotFound;
        let mut targets = Vec::with_capacity(2);
        if let Some(c) = &facts.client {
            targets.push((&self.clients, c.fp, kind, format!("client {}", c.ip)));
        }
        if let (Some(p), false) = (&facts.principal, not_found) {
            targets.push((
                &self.principals,
                p.fp,
                SignalKind::PrincipalAuthFailures,
                p.display.clone(),
            ));
        }
        for (table, fp, kind, who) in targets {
            let result = table.update(store, fp, now_ms, |rec, _| {
                if not_found {
                    rec.not_found.add(now_ms, w, 1);
                } else {
                    rec.auth_failures.add(now_ms, w, 1);
                }
                *rec
            });
            if let Some(rec) = keep(result, &mut out.errors) {
                if store
                    .hot_fraction()
                    .is_some_and(|hot| self.actor_heat(&rec, now_ms) >= hot)
                {
                    table.mark_hot(store, fp);
                }
                out.signals
                    .extend(self.burst_signal(kind, &who, &rec, now_ms));
            }
        }
    }

    pub(super) fn count_size<S: SharedStore + ?Sized>(
        &self,
        store: &S,
        facts: &RequestFacts,
        bytes: u64,
        now_ms: u64,
        errors: &mut Vec<StateError>,
    ) -> Option<Signal> {
        let cfg = self.config.signals.response_size;
        let alpha = self.config.learning_rate;
        let x = (bytes as f64).ln_1p();
        let result = self.routes.update(store, facts.route_fp, now_ms, |rec, _| {
            if rec.first_seen_ms == 0 {
                rec.first_seen_ms = now_ms.max(1);
            }
            let base = Baseline::of(&rec.response_size, MIN_SIZE_SAMPLES, SIZE_STD_FLOOR)
                .filter(|_| self.route_warm(rec, now_ms));
            let sample = base.map_or(x, |b| x.min(b.upper(cfg.z)));
            rec.response_size.update(sample, alpha);
            base
        });
        let base = keep(result, errors)??;
        if bytes < cfg.min_bytes {
            return None;
        }
        let limit = base.upper(cfg.z).exp_m1();
        let route = format!("{} {}", facts.method, facts.route.template);
        Signal::over(
            SignalKind::ResponseSize,
            bytes as f64,
            limit,
            1.0,
            Some(base),
            || {
                format!(
                    "response_size: {} on {route} vs typical {} (z={:.1}, limit {})",
                    size(bytes as f64),
                    size(base.mean.exp_m1()),
                    base.z(x),
                    size(limit)
                )
            },
        )
    }
}

/// Counts a request in `counter`; when that starts a new window, feeds the finished window's
/// count (clipped at `limit`) to `baseline`.
fn feed_window(
    counter: &mut WindowCounter,
    baseline: &mut Ewma,
    now_ms: u64,
    window_ms: u64,
    limit: f64,
    alpha: f64,
) {
    let before = *counter;
    counter.add(now_ms, window_ms, 1);
    if before.start_ms != 0 && counter.start_ms != before.start_ms && before.current > 0 {
        baseline.update(f64::from(before.current).min(limit), alpha);
    }
}

pub(super) fn keep<T>(
    result: Result<(T, UpdateInfo), StateError>,
    errors: &mut Vec<StateError>,
) -> Option<T> {
    match result {
        Ok((v, _)) => Some(v),
        Err(e) => {
            errors.push(e);
            None
        }
    }
}
