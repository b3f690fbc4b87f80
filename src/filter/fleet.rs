//! Fleet glue: the CrowdSec bouncer and watcher and the RFC 7009 client, run from the root
//! context's tick; the per-request check every worker makes at the request headers.
//!
//! Every VM ticks. The VM holding the poll lease (shared data, CAS) polls the decision stream
//! and writes it into the decision tables; every VM refreshes its copy of the range list on its
//! tick and sends the alerts and revocations its own HTTP contexts queued. Nothing here delays
//! a request: an HTTP context does one shared-data get and queues; the tick does the I/O.

use std::cell::RefCell;
use std::collections::hash_map::RandomState;
use std::collections::HashMap;
use std::hash::{BuildHasher, Hasher};
use std::net::IpAddr;
use std::rc::Rc;

use super::abi::{self, Level, MetricKind};
use super::callout;
use super::store::HostStore;
use crate::engine::{Engine, RevocationRequest, RoutePolicy};
use crate::fleet::decisions::{DecisionTables, RangeSet};
use crate::fleet::lapi::{self, AlertItem, Claim, Poller, Watcher, WatcherCall};
use crate::fleet::revocation::{Outcome, Pending, RetryQueue};
use crate::fleet::stream::{self, Remedy};
use crate::fleet::{self as fleet_core};
use crate::policy::Decision;
use crate::request::RequestView;

/// Tick period: a decision applies within `poll_s` plus this, an alert or revocation is sent
/// within this.
const TICK_MS: u32 = 200;
/// Revocations waiting per VM; more are dropped and counted.
const MAX_PENDING_REVOCATIONS: usize = 64;
const USER_AGENT: &str = concat!("apiward/", env!("CARGO_PKG_VERSION"));

fn define(kind: MetricKind, name: &str) -> Option<u32> {
    abi::define_metric(kind, name).ok()
}

fn bump(id: Option<u32>, n: usize) {
    if let (Some(id), Ok(n)) = (id, i64::try_from(n)) {
        if n > 0 {
            let _ = abi::increment_metric(id, n);
        }
    }
}

/// Metrics of the fleet clients.
struct FleetMetrics {
    polls: Option<u32>,
    poll_failures: Option<u32>,
    decisions_applied: Option<u32>,
    decisions_skipped: Option<u32>,
    ranges_over_cap: Option<u32>,
    evicted_active: Option<u32>,
    enforced_ban: Option<u32>,
    enforced_captcha: Option<u32>,
    lookup_errors: Option<u32>,
    alerts_sent: Option<u32>,
    alerts_dropped: Option<u32>,
    logins_failed: Option<u32>,
    revocations_sent: Option<u32>,
    revocations_retried: Option<u32>,
    revocations_failed: Option<u32>,
}

impl FleetMetrics {
    fn define() -> FleetMetrics {
        let c = |name: &str| define(MetricKind::Counter, name);
        FleetMetrics {
            polls: c("apiward_crowdsec_polls_total"),
            poll_failures: c("apiward_crowdsec_poll_failures_total"),
            decisions_applied: c("apiward_crowdsec_decisions_applied_total"),
            decisions_skipped: c("apiward_crowdsec_decisions_skipped_total"),
            ranges_over_cap: c("apiward_crowdsec_ranges_over_cap_total"),
            evicted_active: c("apiward_crowdsec_decisions_evicted_total"),
            enforced_ban: c("apiward_crowdsec_matches_total.remedy.ban"),
            enforced_captcha: c("apiward_crowdsec_matches_total.remedy.captcha"),
            lookup_errors: c("apiward_crowdsec_lookup_errors_total"),
            alerts_sent: c("apiward_crowdsec_alerts_sent_total"),
            alerts_dropped: c("apiward_crowdsec_alerts_dropped_total"),
            logins_failed: c("apiward_crowdsec_login_failures_total"),
            revocations_sent: c("apiward_rfc7009_revocations_total.result.revoked"),
            revocations_retried: c("apiward_rfc7009_revocations_total.result.retried"),
            revocations_failed: c("apiward_rfc7009_revocations_total.result.failed"),
        }
    }
}

/// What an outstanding call was for.
enum Call {
    Poll,
    Login,
    Push,
    Revoke(Pending<RevocationRequest>),
}

/// Per-VM fleet state, shared by the root context and the HTTP contexts of the VM.
pub struct Fleet {
    engine: Rc<Engine>,
    tables: Option<DecisionTables>,
    ranges: RefCell<RangeSet>,
    poller: RefCell<Poller>,
    watcher: Option<RefCell<Watcher>>,
    revocations: RefCell<RetryQueue<RevocationRequest>>,
    calls: RefCell<HashMap<u32, Call>>,
    /// Random id of this VM for the poll lease.
    me: u64,
    metrics: FleetMetrics,
}

fn now_ms() -> u64 {
    abi::now_ns().map(|ns| ns / 1_000_000).unwrap_or(0)
}

impl Fleet {
    /// The fleet clients the configuration asks for: `None` without a `crowdsec` block and
    /// without an RFC 7009 cluster on any ladder.
    pub fn new(engine: Rc<Engine>) -> Option<Fleet> {
        let cfg = engine.config();
        let revokes = cfg.ladder.revoke.cluster.is_some()
            || cfg.routes.iter().any(|r| {
                r.ladder
                    .as_ref()
                    .is_some_and(|l| l.revoke.cluster.is_some())
            });
        let cs = cfg.crowdsec.as_ref();
        if cs.is_none() && !revokes {
            return None;
        }
        let tables = cs.filter(|c| c.api_key.is_some()).and_then(|c| {
            DecisionTables::new(c.decisions, c.max_ranges)
                .map_err(|e| {
                    abi::log(Level::Error, &format!("apiward: crowdsec.decisions: {e}"));
                })
                .ok()
        });
        let poller = cs
            .map(|c| Poller::new(c.poll_ms, c.timeout_ms, c.failure_log_ms))
            .unwrap_or_else(|| Poller::new(10_000, 2_000, 60_000));
        let watcher = cs.and_then(|c| c.watcher.as_ref()).map(|w| {
            RefCell::new(Watcher::new(
                &w.machine_id,
                &w.password,
                w.max_pending_alerts,
            ))
        });
        let mut h = RandomState::new().build_hasher();
        h.write_u64(now_ms());
        Some(Fleet {
            tables,
            ranges: RefCell::new(RangeSet::default()),
            poller: RefCell::new(poller),
            watcher,
            revocations: RefCell::new(RetryQueue::new(MAX_PENDING_REVOCATIONS)),
            calls: RefCell::new(HashMap::new()),
            me: h.finish(),
            metrics: FleetMetrics::define(),
            engine,
        })
    }

    /// How often this VM should tick.
    pub fn tick_ms(&self) -> u32 {
        TICK_MS
    }

    /// Starts the tick; a refusal is logged (the fleet clients then stay idle).
    pub fn start(&self) {
        if let Err(s) = callout::set_tick_period(self.tick_ms()) {
            abi::log(
                Level::Error,
                &format!("apiward: cannot start the tick (status {}): CrowdSec and RFC 7009 calls are off", s.0),
            );
        }
    }

    /// Headers phase: the fleet decision for the client, if any (one shared-data get; ranges
    /// from this VM's copy). A lookup failure is counted and the request goes on: a CrowdSec
    /// problem never becomes an API outage.
    pub fn check(&self, view: &RequestView, policy: &RoutePolicy) -> Option<Decision> {
        let tables = self.tables.as_ref()?;
        let addr: IpAddr = view.client.ip.as_deref()?.parse().ok()?;
        let cfg = self.engine.config();
        if cfg.allowlist.cidrs.iter().any(|c| c.contains(addr)) {
            return None;
        }
        let now = now_ms();
        let from_ip = match tables.ip_remedy(&HostStore, addr, now) {
            Ok(r) => r,
            Err(e) => {
                bump(self.metrics.lookup_errors, 1);
                abi::log(Level::Debug, &format!("apiward: crowdsec lookup: {e}"));
                None
            }
        };
        let remedy = from_ip.max(self.ranges.borrow().lookup(addr, now))?;
        bump(
            match remedy {
                Remedy::Ban => self.metrics.enforced_ban,
                Remedy::Captcha => self.metrics.enforced_captcha,
            },
            1,
        );
        Some(fleet_core::remedy_decision(
            remedy,
            format!("crowdsec: {} for client {addr}", remedy.as_str()),
            self.engine.ladder(policy),
            policy.thresholds,
            policy.mode,
        ))
    }

    /// After a decision: an enforced block or revocation is queued as an alert to the LAPI,
    /// and a revocation with a cluster as an RFC 7009 request; the tick sends them.
    pub fn after_decision(&self, decision: &Decision, view: &RequestView, policy: &RoutePolicy) {
        if !decision.enforced {
            return;
        }
        let now = now_ms();
        if decision.revoke.is_some() {
            if let Some(req) = self.engine.revocation_request(view, policy) {
                if !self.revocations.borrow_mut().push(req, now) {
                    bump(self.metrics.revocations_failed, 1);
                }
            }
        }
        let (Some(w), Some((signal, duration_s, action)), Some(ip)) = (
            self.watcher.as_ref(),
            fleet_core::alert_reason(decision),
            view.client.ip.as_ref(),
        ) else {
            return;
        };
        let queued = w.borrow_mut().enqueue(AlertItem {
            ip: ip.clone(),
            signal,
            duration_s,
            at_ms: now,
            action: action.to_string(),
            attempts: 0,
        });
        if !queued {
            bump(self.metrics.alerts_dropped, 1);
        }
    }

    /// Root context tick: refresh the range copy, poll if this VM holds the lease, send queued
    /// alerts and revocations.
    pub fn on_tick(&self) {
        let now = now_ms();
        if let Some(tables) = &self.tables {
            if let Ok(set) = tables.ranges(&HostStore) {
                *self.ranges.borrow_mut() = set;
            }
            self.maybe_poll(now);
        }
        self.send_watcher(now);
        self.send_revocations(now);
    }

    fn maybe_poll(&self, now: u64) {
        let Some(cs) = self.engine.config().crowdsec.as_ref() else {
            return;
        };
        let Some(key) = cs.api_key.as_deref() else {
            return;
        };
        let mut poller = self.poller.borrow_mut();
        if !poller.due(now) {
            return;
        }
        let startup = match lapi::claim_lease(&HostStore, self.me, now, poller.hold_ms()) {
            Ok(Claim::Poll { startup }) => startup,
            Ok(Claim::Held) => {
                poller.held_elsewhere(now);
                return;
            }
            Err(e) => {
                poller.held_elsewhere(now);
                abi::log(Level::Warn, &format!("apiward: crowdsec poll lease: {e}"));
                return;
            }
        };
        let path = format!("/v1/decisions/stream?startup={startup}");
        let headers = [
            (":method", "GET"),
            (":path", path.as_str()),
            (":authority", cs.authority.as_str()),
            ("x-api-key", key),
            ("user-agent", USER_AGENT),
        ];
        poller.sent(now);
        bump(self.metrics.polls, 1);
        match callout::dispatch(&cs.cluster, &headers, None, cs.timeout_ms) {
            Ok(token) => {
                self.calls.borrow_mut().insert(token, Call::Poll);
            }
            Err(e) => {
                bump(self.metrics.poll_failures, 1);
                if let Some(line) = poller.failed(now, &e) {
                    abi::log(Level::Warn, &format!("apiward: {line}"));
                }
            }
        }
    }

    fn send_watcher(&self, now: u64) {
        let (Some(w), Some(cs)) = (&self.watcher, self.engine.config().crowdsec.as_ref()) else {
            return;
        };
        let call = w.borrow_mut().next_call(now, env!("CARGO_PKG_VERSION"));
        let (path, body, kind, bearer) = match call {
            None => return,
            Some(WatcherCall::Login(body)) => ("/v1/watchers/login", body, Call::Login, None),
            Some(WatcherCall::Push { token, body, .. }) => (
                "/v1/alerts",
                body,
                Call::Push,
                Some(format!("Bearer {token}")),
            ),
        };
        let mut headers = vec![
            (":method", "POST"),
            (":path", path),
            (":authority", cs.authority.as_str()),
            ("content-type", "application/json"),
            // The LAPI refuses a watcher login without a `name/version` user agent.
            ("user-agent", USER_AGENT),
        ];
        if let Some(b) = bearer.as_deref() {
            headers.push(("authorization", b));
        }
        match callout::dispatch(&cs.cluster, &headers, Some(body.as_bytes()), cs.timeout_ms) {
            Ok(token) => {
                self.calls.borrow_mut().insert(token, kind);
            }
            Err(e) => {
                abi::log(Level::Warn, &format!("apiward: crowdsec watcher: {e}"));
                let mut w = w.borrow_mut();
                match kind {
                    Call::Login => {
                        let _ = w.login_answered(None, b"", now);
                    }
                    _ => {
                        let out = w.push_answered(None, now);
                        bump(self.metrics.alerts_dropped, out.dropped);
                    }
                }
            }
        }
    }

    fn send_revocations(&self, now: u64) {
        let due = self.revocations.borrow_mut().take_due(now);
        for p in due {
            let r = &p.request;
            let headers: Vec<(&str, &str)> = r
                .headers
                .iter()
                .map(|(k, v)| (k.as_str(), v.as_str()))
                .collect();
            match callout::dispatch(&r.cluster, &headers, Some(r.body.as_bytes()), r.timeout_ms) {
                Ok(token) => {
                    self.calls.borrow_mut().insert(token, Call::Revoke(p));
                }
                Err(e) => {
                    abi::log(Level::Warn, &format!("apiward: RFC 7009 revocation: {e}"));
                    self.revoke_answered(p, None, None, now);
                }
            }
        }
    }

    fn revoke_answered(
        &self,
        p: Pending<RevocationRequest>,
        status: Option<u16>,
        retry_after_s: Option<u64>,
        now: u64,
    ) {
        let cluster = p.request.cluster.clone();
        let attempts = p.attempts;
        match self
            .revocations
            .borrow_mut()
            .answered(p, status, retry_after_s, now)
        {
            Outcome::Done => bump(self.metrics.revocations_sent, 1),
            Outcome::WillRetry => bump(self.metrics.revocations_retried, 1),
            outcome => {
                bump(self.metrics.revocations_failed, 1);
                let why = match status {
                    Some(s) => format!("HTTP {s}"),
                    None => "no answer".to_string(),
                };
                let what = if outcome == Outcome::Refused {
                    "refused"
                } else {
                    "given up"
                };
                abi::log(
                    Level::Warn,
                    &format!(
                        "apiward: RFC 7009 revocation at cluster {cluster} {what} after {attempts} attempt(s) ({why}); the token stays denied by this proxy"
                    ),
                );
            }
        }
    }

    /// An answer to one of our calls; `false` if the token is not ours.
    pub fn on_http_call_response(&self, token: u32, body_size: usize) -> bool {
        let Some(call) = self.calls.borrow_mut().remove(&token) else {
            return false;
        };
        let now = now_ms();
        let (status, headers) = callout::response_headers();
        match call {
            Call::Poll => self.poll_answered(status, body_size, now),
            Call::Login => {
                if let Some(w) = &self.watcher {
                    let body = callout::response_body(body_size);
                    if let Err(line) = w.borrow_mut().login_answered(status, &body, now) {
                        bump(self.metrics.logins_failed, 1);
                        abi::log(Level::Warn, &format!("apiward: {line}"));
                    }
                }
            }
            Call::Push => {
                if let Some(w) = &self.watcher {
                    let out = w.borrow_mut().push_answered(status, now);
                    bump(self.metrics.alerts_sent, out.sent);
                    bump(self.metrics.alerts_dropped, out.dropped);
                    if status.is_none_or(|s| !(200..300).contains(&s)) {
                        abi::log(
                            Level::Info,
                            &format!("apiward: crowdsec alert push answered {status:?}; retried"),
                        );
                    }
                }
            }
            Call::Revoke(p) => {
                let retry_after =
                    callout::header(&headers, "retry-after").and_then(|v| v.trim().parse().ok());
                self.revoke_answered(p, status, retry_after, now);
            }
        }
        true
    }

    fn poll_answered(&self, status: Option<u16>, body_size: usize, now: u64) {
        let failure = match status {
            Some(200) => {
                let body = callout::response_body(body_size);
                match (stream::parse_stream(&body), &self.tables) {
                    (Ok(batch), Some(tables)) => {
                        let report = tables.apply(&HostStore, &batch, now);
                        bump(self.metrics.decisions_applied, report.applied);
                        bump(self.metrics.decisions_skipped, batch.skipped);
                        bump(self.metrics.ranges_over_cap, report.ranges_over_cap);
                        bump(self.metrics.evicted_active, report.evicted_active);
                        if let Some(e) = report.errors.first() {
                            abi::log(
                                Level::Warn,
                                &format!(
                                    "apiward: crowdsec: {} decision write(s) failed ({e})",
                                    report.errors.len()
                                ),
                            );
                        }
                        if !batch.new.is_empty() || !batch.deleted.is_empty() {
                            abi::log(
                                Level::Info,
                                &format!(
                                    "apiward: crowdsec: {} new, {} deleted decision(s) applied",
                                    batch.new.len(),
                                    batch.deleted.len()
                                ),
                            );
                        }
                        if let Ok(set) = tables.ranges(&HostStore) {
                            *self.ranges.borrow_mut() = set;
                        }
                        if let Err(e) = lapi::mark_synced(&HostStore, self.me) {
                            abi::log(Level::Warn, &format!("apiward: crowdsec lease: {e}"));
                        }
                        None
                    }
                    (Err(e), _) => Some(e.to_string()),
                    (Ok(_), None) => None,
                }
            }
            Some(403) => Some("HTTP 403: check crowdsec.api_key (cscli bouncers add)".to_string()),
            Some(s) => Some(format!("HTTP {s}")),
            None => Some("no answer (LAPI down or timeout)".to_string()),
        };
        let mut poller = self.poller.borrow_mut();
        match failure {
            None => {
                if let Some(line) = poller.succeeded(now) {
                    abi::log(Level::Info, &format!("apiward: {line}"));
                }
            }
            Some(why) => {
                bump(self.metrics.poll_failures, 1);
                if let Some(line) = poller.failed(now, &why) {
                    abi::log(Level::Warn, &format!("apiward: {line}"));
                }
            }
        }
    }
}
