//! Behavioural analytics in shared data: per-client, per-principal and per-route baselines
//! learned online, the signals they raise, and the writes that enforce a decision on every
//! worker (blocks, revocations).
//!
//! **What is learned.** Per client address and per principal: requests per window (EWMA mean
//! and variance), 401/403 and 404 answers, model denies. Per method + route template: requests
//! per window, the norm of distinct object ids one principal touches per window, response sizes
//! (log scale) and the parameter shapes (name + value type) the route takes. Per principal ×
//! route template: a 256-bit distinct-count sketch of the object ids of the current window and
//! that principal's own norm.
//!
//! **Warm-up.** A route learns without raising learned signals (rate, route rate, BOLA, novel
//! parameters, response size) until `warmup.seconds` have passed since its first request *and*
//! it has seen `warmup.requests` requests. A client's, principal's or route's own baseline is
//! used once it has `warmup.windows` finished windows; before that a client is held to the
//! floor (`min_requests`, `min_distinct`), and a principal's BOLA norm is the route's norm.
//! Counted bursts (401/403, 404) have fixed limits and are never suppressed.
//!
//! **Continuous adaptation.** Baselines keep learning after warm-up with the configured
//! `learning_rate`; a finished window is fed clipped at the limit in force, so an attack raises
//! the baseline by at most one limit's worth per window instead of teaching it the attack. Idle
//! windows are not fed: a baseline is the rate while active. A parameter shape unseen after
//! warm-up is a signal until `promote_after` requests carried it; then it is learned.
//!
//! **BOLA on the request, not the response.** Object ids are counted when the request arrives,
//! whatever the answer: the request that crosses the limit can still be stopped before the
//! object leaves, it costs one CAS on the request path and none on the response path, and ids
//! probed with a 403 or 404 answer are enumeration too.
//!
//! **Failures.** Every store error is returned (in `errors`), never panicked on; the other
//! tables are still used, so a contended route bucket does not switch off the block list. The
//! caller applies `failure_mode` and counts a metric.

pub mod allowlist;
mod counting;
pub mod facts;
mod measure;
pub mod principal;
pub mod records;
pub mod route;
pub mod signal;

pub use allowlist::Cidr;
pub use facts::{Client, ParamShape, RequestFacts, ValueType};
pub use principal::{Principal, PrincipalKind};
pub use records::{ActorRecord, ParamSet, RouteRecord};
pub use route::RouteTemplate;
pub use signal::{Baseline, BlockCause, History, Severity, Signal, SignalKind};

use crate::config::{Allowlist, BehaviourConfig, ConfigError, IdentityConfig};
use crate::policy::{Action, BlockOrder, Decision};
use crate::request::RequestView;
use crate::state::{
    BlockUntil, PrincipalRouteRecord, SharedStore, StateError, Table, TableConfig, WorkerStore,
};

/// Names of the shared-data tables, for metrics (state errors per table).
pub const TABLE_NAMES: [&str; 6] = [
    "clients",
    "principals",
    "principal-routes",
    "routes",
    "blocks",
    "revoked",
];

/// Where a request stands before anything is counted: exempt, blocked or revoked.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Standing {
    /// Why the request is exempt from behavioural steps, if it is.
    pub allowlisted: Option<String>,
    /// The client or principal is blocked.
    pub blocked: Option<Signal>,
    /// The token is revoked.
    pub revoked: Option<Signal>,
    /// Blocks imposed on this client or principal before (expired ones included).
    pub earlier_blocks: u8,
    /// Store errors met.
    pub errors: Vec<StateError>,
}

/// The behaviour signals of a request.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RequestSignals {
    /// Why the request is exempt from behavioural steps, if it is (then nothing was counted).
    pub allowlisted: Option<String>,
    /// Signals raised, including `blocked`/`revoked`.
    pub signals: Vec<Signal>,
    /// What this client and principal did before.
    pub history: History,
    /// The route is still warming up (learned signals suppressed).
    pub learning: bool,
    /// Store errors met; the signals of the failed tables are missing.
    pub errors: Vec<StateError>,
}

/// The behaviour signals of a response (for metrics and events; they weigh on later requests).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ResponseSignals {
    /// Signals raised.
    pub signals: Vec<Signal>,
    /// Store errors met.
    pub errors: Vec<StateError>,
}

/// Behavioural analytics over a [`SharedStore`]: built once from configuration, used for every
/// request with the time passed in.
#[derive(Debug, Clone)]
pub struct Behaviour {
    config: BehaviourConfig,
    allowlist: Allowlist,
    clients: Table<ActorRecord>,
    principals: Table<ActorRecord>,
    principal_routes: Table<PrincipalRouteRecord>,
    routes: Table<RouteRecord>,
    blocks: Table<BlockUntil>,
    revoked: Table<BlockUntil>,
}

fn table<R: crate::state::Record>(
    name: &str,
    field: &str,
    config: TableConfig,
) -> Result<Table<R>, ConfigError> {
    Table::new(name, config)
        .map_err(|e| ConfigError::new(format!("behaviour.tables.{field}"), e.to_string()))
}

impl Behaviour {
    /// Builds the tables; a table size the state layer refuses names its field.
    pub fn new(config: &BehaviourConfig, allowlist: &Allowlist) -> Result<Behaviour, ConfigError> {
        let t = &config.tables;
        Ok(Behaviour {
            config: config.clone(),
            allowlist: allowlist.clone(),
            clients: table("clients", "clients", t.clients)?,
            principals: table("principals", "principals", t.principals)?,
            principal_routes: table("principal-routes", "principal_routes", t.principal_routes)?,
            routes: table("routes", "routes", t.routes)?,
            blocks: table("blocks", "blocks", t.blocks)?,
            revoked: table("revoked", "revoked", t.revoked)?,
        })
    }

    /// A per-worker store over `inner` for these tables: the counting tables (clients,
    /// principals, principal-routes, routes) are counted in the VM and merged on
    /// [`WorkerStore::sync`]; blocks and revocations are written through at once and cached
    /// per epoch. See [`crate::state::worker`].
    pub fn worker_store<S: SharedStore>(&self, inner: S) -> WorkerStore<S> {
        let deferred = vec![
            (self.clients.key_prefix().to_owned(), self.clients.merger()),
            (
                self.principals.key_prefix().to_owned(),
                self.principals.merger(),
            ),
            (
                self.principal_routes.key_prefix().to_owned(),
                self.principal_routes.merger(),
            ),
            (self.routes.key_prefix().to_owned(), self.routes.merger()),
        ];
        let immediate = vec![
            self.blocks.key_prefix().to_owned(),
            self.revoked.key_prefix().to_owned(),
        ];
        WorkerStore::new(inner, self.config.worker_state, deferred, immediate)
    }

    /// The configuration.
    pub fn config(&self) -> &BehaviourConfig {
        &self.config
    }

    /// The facts of a request, with the principal's digest when principals are allowlisted.
    pub fn facts(&self, view: &RequestView, identity: &IdentityConfig) -> RequestFacts {
        RequestFacts::from_view(view, identity, self.allowlist.has_principals())
    }

    fn exemption(&self, facts: &RequestFacts) -> Option<String> {
        self.allowlist.exempts(
            facts.client.as_ref().and_then(|c| c.addr),
            facts.principal.as_ref().and_then(|p| p.digest.as_ref()),
            &facts.path,
        )
    }

    /// Allowlist, block list and revocation list, read only (three gets at most): what the
    /// glue may check as soon as the request headers are in.
    pub fn standing<S: SharedStore + ?Sized>(
        &self,
        store: &S,
        facts: &RequestFacts,
        now_ms: u64,
    ) -> Standing {
        let mut st = Standing {
            allowlisted: self.exemption(facts),
            ..Standing::default()
        };
        if st.allowlisted.is_some() {
            return st;
        }
        let who = [
            facts
                .client
                .as_ref()
                .map(|c| (c.fp, format!("client {}", c.ip))),
            facts
                .principal
                .as_ref()
                .map(|p| (p.fp, format!("principal {}", p.display))),
        ];
        for (fp, name) in who.into_iter().flatten() {
            match self.blocks.read(store, fp) {
                Ok(Some(b)) => {
                    st.earlier_blocks = st.earlier_blocks.max(b.level);
                    if b.is_active(now_ms) && st.blocked.is_none() {
                        let cause =
                            BlockCause::from_code(b.reason).map_or("unknown", |c| c.as_str());
                        st.blocked = Some(Signal::fact(
                            SignalKind::Blocked,
                            format!(
                                "blocked: {name} for {}s more ({cause}, block {})",
                                b.remaining_ms(now_ms).div_ceil(1000),
                                b.level
                            ),
                        ));
                    }
                }
                Ok(None) => {}
                Err(e) => st.errors.push(e),
            }
        }
        if let Some(p) = &facts.principal {
            match self.revoked.read(store, p.token_fp) {
                Ok(Some(r)) if r.is_active(now_ms) => {
                    st.revoked = Some(Signal::fact(
                        SignalKind::Revoked,
                        format!(
                            "revoked: token of {} for {}s more",
                            p.display,
                            r.remaining_ms(now_ms).div_ceil(1000)
                        ),
                    ));
                }
                Ok(_) => {}
                Err(e) => st.errors.push(e),
            }
        }
        st
    }

    /// Counts the request everywhere it counts and returns its signals: standing (allowlist,
    /// block, revocation), client and principal rate against their baselines, 401/403 and 404
    /// bursts so far, BOLA for (principal, route), the route's rate and parameter novelty.
    pub fn on_request<S: SharedStore + ?Sized>(
        &self,
        store: &S,
        facts: &RequestFacts,
        now_ms: u64,
    ) -> RequestSignals {
        self.on_request_from(self.standing(store, facts, now_ms), store, facts, now_ms)
    }

    /// [`Behaviour::on_request`] from a standing already read for this request (at its
    /// headers, by [`Behaviour::standing`]): three reads of shared data fewer.
    pub fn on_request_from<S: SharedStore + ?Sized>(
        &self,
        st: Standing,
        store: &S,
        facts: &RequestFacts,
        now_ms: u64,
    ) -> RequestSignals {
        let sig = &self.config.signals;
        let mut out = RequestSignals {
            allowlisted: st.allowlisted,
            history: History {
                model_denies: 0,
                model_denies_limit: sig.model_denies.limit,
                earlier_blocks: st.earlier_blocks,
            },
            errors: st.errors,
            ..RequestSignals::default()
        };
        if out.allowlisted.is_some() {
            return out;
        }
        if st.blocked.is_some() || st.revoked.is_some() {
            out.signals.extend(st.blocked);
            out.signals.extend(st.revoked);
            return out;
        }

        // The route first: whether it is warm decides whether the other baselines learn
        // freely (warm-up) or clipped at their limits (afterwards).
        let route = self.count_route(store, facts, now_ms, &mut out.errors);
        let warm = route.as_ref().is_some_and(|r| r.warm);
        out.learning = !warm;
        let objects = match (
            sig.bola.enabled,
            facts.principal_route_fp(),
            facts.route.object,
        ) {
            (true, Some(fp), Some(object)) => {
                let norm = route.as_ref().map(|r| r.record.distinct_norm);
                self.count_object(store, fp, object, norm, warm, now_ms, &mut out.errors)
            }
            _ => None,
        };
        if let Some((_, Some(finished))) = objects {
            self.feed_norm(store, facts.route_fp, finished, now_ms, &mut out.errors);
        }
        let client = facts.client.as_ref().and_then(|c| {
            self.count_request(&self.clients, store, c.fp, warm, now_ms, &mut out.errors)
        });
        let principal = facts.principal.as_ref().and_then(|p| {
            self.count_request(&self.principals, store, p.fp, warm, now_ms, &mut out.errors)
        });
        let denies = |a: &ActorRecord| a.model_denies.rate(now_ms, sig.model_denies.window_ms);
        out.history.model_denies = client
            .iter()
            .chain(principal.iter())
            .map(denies)
            .fold(0.0f64, f64::max)
            .round() as u32;

        if let Some(hot) = store.hot_fraction() {
            // Near a limit: from now on every worker counts this bucket through shared data.
            if let (Some(c), Some(rec)) = (&facts.client, &client) {
                if self.actor_heat(rec, now_ms) >= hot {
                    self.clients.mark_hot(store, c.fp);
                }
            }
            if let (Some(p), Some(rec)) = (&facts.principal, &principal) {
                if self.actor_heat(rec, now_ms) >= hot {
                    self.principals.mark_hot(store, p.fp);
                }
            }
            if let (Some((rec, _)), Some(fp)) = (&objects, facts.principal_route_fp()) {
                if self.bola_heat(rec, route.as_ref().map(|r| &r.record)) >= hot {
                    self.principal_routes.mark_hot(store, fp);
                }
            }
            if route
                .as_ref()
                .is_some_and(|r| warm && self.route_heat(&r.record, now_ms) >= hot)
            {
                self.routes.mark_hot(store, facts.route_fp);
            }
        }

        let route_name = format!("{} {}", facts.method, facts.route.template);

        if warm && sig.rate.enabled {
            if let (Some(c), Some(rec)) = (&facts.client, &client) {
                out.signals.extend(self.rate_signal(
                    SignalKind::Rate,
                    &format!("client {}", c.ip),
                    rec,
                    now_ms,
                ));
            }
            if let (Some(p), Some(rec)) = (&facts.principal, &principal) {
                out.signals.extend(self.rate_signal(
                    SignalKind::PrincipalRate,
                    &p.display,
                    rec,
                    now_ms,
                ));
            }
        }
        if warm && sig.route_rate.enabled {
            if let Some(r) = &route {
                out.signals
                    .extend(self.route_rate_signal(&route_name, &r.record, now_ms));
            }
        }
        if warm {
            if let (Some((rec, _)), Some(r), Some(p)) = (&objects, &route, &facts.principal) {
                out.signals
                    .extend(self.bola_signal(facts, &p.display, rec, &r.record));
            }
        }
        if let Some(r) = route.as_ref().filter(|r| warm && !r.novel.is_empty()) {
            let labels: Vec<&str> = r
                .novel
                .iter()
                .filter_map(|&i| facts.params.get(i))
                .map(|p| p.label.as_str())
                .collect();
            let shown = labels
                .iter()
                .take(3)
                .copied()
                .collect::<Vec<_>>()
                .join(", ");
            let more = labels.len().saturating_sub(3);
            let more = if more > 0 {
                format!(" and {more} more")
            } else {
                String::new()
            };
            out.signals.extend(Signal::over(
                SignalKind::NovelParameter,
                labels.len() as f64,
                1.0,
                1.0,
                None,
                || format!("novel_parameter: {shown}{more} never seen on {route_name}"),
            ));
        }
        let bursts = [
            (
                SignalKind::AuthFailures,
                &client,
                facts.client.as_ref().map(|c| format!("client {}", c.ip)),
            ),
            (
                SignalKind::PrincipalAuthFailures,
                &principal,
                facts.principal.as_ref().map(|p| p.display.clone()),
            ),
            (
                SignalKind::NotFound,
                &client,
                facts.client.as_ref().map(|c| format!("client {}", c.ip)),
            ),
        ];
        for (kind, rec, who) in bursts {
            if let (Some(rec), Some(who)) = (rec, who) {
                out.signals
                    .extend(self.burst_signal(kind, &who, rec, now_ms));
            }
        }
        out
    }

    /// Feeds a response: 401/403 and 404 bursts per client (and principal), and the route's
    /// response size for 2xx answers with a known size. Call it for upstream answers only, not
    /// for the filter's own local replies.
    pub fn on_response<S: SharedStore + ?Sized>(
        &self,
        store: &S,
        facts: &RequestFacts,
        status: u16,
        body_bytes: Option<u64>,
        now_ms: u64,
    ) -> ResponseSignals {
        let mut out = ResponseSignals::default();
        if self.exemption(facts).is_some() {
            return out;
        }
        let sig = &self.config.signals;
        match status {
            401 | 403 if sig.auth_failures.enabled => {
                self.count_answer(store, facts, SignalKind::AuthFailures, now_ms, &mut out);
            }
            404 if sig.not_found.enabled => {
                self.count_answer(store, facts, SignalKind::NotFound, now_ms, &mut out);
            }
            200..=299 if sig.response_size.enabled => {
                if let Some(bytes) = body_bytes {
                    out.signals.extend(self.count_size(
                        store,
                        facts,
                        bytes,
                        now_ms,
                        &mut out.errors,
                    ));
                }
            }
            _ => {}
        }
        out
    }

    /// Counts a model deny for the client and the principal (history: the n-th one blocks).
    pub fn record_model_deny<S: SharedStore + ?Sized>(
        &self,
        store: &S,
        facts: &RequestFacts,
        now_ms: u64,
    ) -> Vec<StateError> {
        let window = self.config.signals.model_denies.window_ms;
        let mut errors = Vec::new();
        for (table, fp) in self.actors(facts) {
            match table.update(store, fp, now_ms, |rec, _| {
                rec.model_denies.add(now_ms, window, 1);
                *rec
            }) {
                Ok((rec, _)) => {
                    if store
                        .hot_fraction()
                        .is_some_and(|hot| self.actor_heat(&rec, now_ms) >= hot)
                    {
                        table.mark_hot(store, fp);
                    }
                }
                Err(e) => errors.push(e),
            }
        }
        errors
    }

    /// Blocks `fp` (a client's or principal's fingerprint) on every worker: for the order's TTL
    /// doubled for each block the entry had before, at most its `max_ttl_s`. Never shortens an
    /// active block. Returns the entry as written.
    pub fn block<S: SharedStore + ?Sized>(
        &self,
        store: &S,
        fp: u64,
        order: &BlockOrder,
        now_ms: u64,
    ) -> Result<BlockUntil, StateError> {
        self.blocks
            .update(store, fp, now_ms, |rec, _| {
                let level = rec.level;
                let ttl_s = order
                    .base_ttl_s
                    .saturating_mul(1u64 << level.min(20))
                    .min(order.max_ttl_s);
                let until = now_ms.saturating_add(ttl_s.saturating_mul(1000));
                rec.impose(now_ms, until, order.cause.code(), level.saturating_add(1));
                *rec
            })
            .map(|(b, _)| b)
    }

    /// Records the token with fingerprint `token_fp` as revoked for `ttl_s` on every worker.
    pub fn revoke<S: SharedStore + ?Sized>(
        &self,
        store: &S,
        token_fp: u64,
        ttl_s: u64,
        now_ms: u64,
    ) -> Result<(), StateError> {
        let until = now_ms.saturating_add(ttl_s.saturating_mul(1000));
        self.revoked
            .update(store, token_fp, now_ms, |rec, _| {
                rec.impose(now_ms, until, SignalKind::Revoked.code(), 1);
            })
            .map(|_| ())
    }

    /// Writes what an enforced decision orders: blocks for its scope, the revocation, and a
    /// 401/403 count for a challenge (a client that keeps failing after being challenged
    /// escalates to a block). Nothing for a decision that is not enforced (monitor mode).
    pub fn apply<S: SharedStore + ?Sized>(
        &self,
        store: &S,
        facts: &RequestFacts,
        decision: &Decision,
        now_ms: u64,
    ) -> Vec<StateError> {
        let mut errors = Vec::new();
        if !decision.enforced {
            return errors;
        }
        if let Some(order) = &decision.block {
            for fp in block_targets(order.scope, facts) {
                if let Err(e) = self.block(store, fp, order, now_ms) {
                    errors.push(e);
                }
            }
        }
        if let (Some(r), Some(p)) = (&decision.revoke, &facts.principal) {
            if let Err(e) = self.revoke(store, p.token_fp, r.ttl_s, now_ms) {
                errors.push(e);
            }
        }
        if decision.action == Action::Challenge {
            let w = self.config.window_ms;
            for (table, fp) in self.actors(facts) {
                if let Err(e) = table.update(store, fp, now_ms, |rec, _| {
                    rec.auth_failures.add(now_ms, w, 1);
                }) {
                    errors.push(e);
                }
            }
        }
        errors
    }

    // --------------------------------------------------------------------------------------

    fn actors(&self, facts: &RequestFacts) -> Vec<(&Table<ActorRecord>, u64)> {
        let mut v = Vec::with_capacity(2);
        if let Some(c) = &facts.client {
            v.push((&self.clients, c.fp));
        }
        if let Some(p) = &facts.principal {
            v.push((&self.principals, p.fp));
        }
        v
    }
}

/// Who a block order applies to, among the identities the request has.
pub fn block_targets(scope: crate::config::BlockScope, facts: &RequestFacts) -> Vec<u64> {
    use crate::config::BlockScope;
    let client = facts.client.as_ref().map(|c| c.fp);
    let principal = facts.principal.as_ref().map(|p| p.fp);
    let targets = match scope {
        BlockScope::Client => vec![client.or(principal)],
        BlockScope::Principal => vec![principal.or(client)],
        BlockScope::Both => vec![client, principal],
    };
    targets.into_iter().flatten().collect()
}

#[cfg(test)]
mod tests;
