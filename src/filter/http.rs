//! One HTTP stream: identify the client, screen it against the block and revocation lists as
//! soon as the headers are in, hand the request to the engine once, apply the decision, and feed
//! the upstream's answer back to behaviour.

use std::rc::Rc;

use proxy_wasm::traits::{Context, HttpContext};
use proxy_wasm::types::Action as HostAction;

use super::abi::{self, Buffer, Level, Map};
use super::fleet::Fleet;
use super::metrics::Metrics;
use super::store::HostStore;
use crate::behaviour::{RequestFacts, Standing};
use crate::config::FailureMode;
use crate::engine::{Engine, RoutePolicy};
use crate::policy::{self, Decision};
use crate::request::{self, RequestView};
use crate::state::StateError;

/// Longest reasons header we send upstream.
const MAX_REASONS_HEADER: usize = 512;

pub struct ApiwardHttp {
    engine: Rc<Engine>,
    metrics: Rc<Metrics>,
    /// CrowdSec decisions and outgoing alerts/revocations, when configured.
    fleet: Option<Rc<Fleet>>,
    view: Option<RequestView>,
    policy: Option<RoutePolicy>,
    /// What behaviour knows about the request, kept for the response.
    facts: Option<RequestFacts>,
    /// Blocked, revoked or allowlisted, as read at the headers: the assessment reuses it.
    standing: Option<Standing>,
    request_id: String,
    decided: bool,
    /// The filter answered the request itself: its reply is not the upstream's.
    replied_locally: bool,
}

enum Failure {
    Host(&'static str, abi::HostStatus),
    Model(String),
    State(String),
}

/// Wall-clock milliseconds, the time behaviour windows and blocks run on.
fn now_ms() -> Result<u64, Failure> {
    abi::now_ns()
        .map(|ns| ns / 1_000_000)
        .map_err(|s| Failure::Host("reading the clock", s))
}

fn describe(errors: &[StateError]) -> String {
    errors
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("; ")
}

impl ApiwardHttp {
    pub fn new(engine: Rc<Engine>, metrics: Rc<Metrics>, fleet: Option<Rc<Fleet>>) -> ApiwardHttp {
        ApiwardHttp {
            engine,
            metrics,
            fleet,
            view: None,
            policy: None,
            facts: None,
            standing: None,
            request_id: String::new(),
            decided: false,
            replied_locally: false,
        }
    }

    fn read_request(&mut self) -> Result<(), Failure> {
        let pairs = abi::header_pairs(Map::RequestHeaders)
            .map_err(|s| Failure::Host("reading request headers", s))?;
        let mut method = String::new();
        let mut path: Vec<u8> = Vec::new();
        let mut headers = Vec::with_capacity(pairs.len());
        for (name, value) in pairs {
            match name.as_str() {
                ":method" => method = String::from_utf8_lossy(&value).into_owned(),
                ":path" => path = value,
                n if n.starts_with(':') => {}
                _ => headers.push((name.to_ascii_lowercase(), value)),
            }
        }
        let mut view = RequestView::new(&method, &path);
        view.headers = headers;
        self.request_id = view
            .header("x-request-id")
            .map(|v| policy::header_safe(&String::from_utf8_lossy(v), 64))
            .unwrap_or_default();
        let source = abi::property(&["source", "address"])
            .ok()
            .flatten()
            .map(|b| String::from_utf8_lossy(&b).into_owned());
        // The principal comes from the configured sources, in the behaviour facts.
        let hops = self.engine.config().identity.trusted_xff_hops;
        view.client = request::identify(&view, source.as_deref(), hops, &[]);
        self.policy = Some(self.engine.route(&view.path));
        self.view = Some(view);
        Ok(())
    }

    /// Reads up to `max_body_bytes` of the buffered body into the view.
    fn read_body(&mut self, body_size: usize, more_follows: bool) -> Result<(), Failure> {
        let max = self.engine.config().max_body_bytes;
        let take = body_size.min(max);
        let bytes = if take == 0 {
            Vec::new()
        } else {
            abi::buffer(Buffer::RequestBody, 0, take)
                .map_err(|s| Failure::Host("reading the request body", s))?
                .unwrap_or_default()
        };
        if let Some(view) = self.view.as_mut() {
            view.body_truncated = body_size > max || (more_follows && body_size >= max);
            if view.body_truncated {
                self.metrics.truncated();
            }
            view.body = bytes;
        }
        Ok(())
    }

    /// Counts state errors; under `failure_mode: closed` they refuse the request.
    fn state_errors(&self, errors: &[StateError]) -> Result<(), Failure> {
        if errors.is_empty() {
            return Ok(());
        }
        self.metrics.state_errors(errors);
        match self.engine.config().failure_mode {
            FailureMode::Closed => Err(Failure::State(describe(errors))),
            FailureMode::Open => {
                abi::log(
                    Level::Warn,
                    &format!(
                        "apiward: {}; failure_mode=open, decided without those tables",
                        describe(errors)
                    ),
                );
                Ok(())
            }
        }
    }

    /// Headers phase: a blocked client or principal, or a revoked token, is answered now,
    /// before its body is buffered. `Ok(None)`: go on.
    fn screen(&mut self) -> Result<Option<HostAction>, Failure> {
        let (Some(view), Some(policy)) = (self.view.as_ref(), self.policy.as_ref()) else {
            return Ok(None);
        };
        if self.engine.behaviour().is_none() {
            return Ok(None);
        }
        let now = now_ms()?;
        let facts = self.engine.request_facts(view);
        let screening = self.engine.screen(&facts, policy, &HostStore, now);
        self.facts = Some(facts);
        self.standing = screening.standing;
        self.state_errors(&screening.errors)?;
        match screening.decision {
            Some(d) if d.enforced => {
                self.decided = true;
                self.metrics.signals(d.signals.iter().map(|s| s.kind));
                self.metrics.decision(d.action, &d.class, true, 0);
                Ok(Some(self.reply(&d)))
            }
            // Monitor mode: the assessment meets the same standing and annotates it.
            _ => Ok(None),
        }
    }

    /// A CrowdSec decision on the client, enforced now (ban: 403, captcha: the challenge).
    fn fleet_screen(&mut self) -> Option<HostAction> {
        let (fleet, view, policy) = (
            self.fleet.as_ref()?,
            self.view.as_ref()?,
            self.policy.as_ref()?,
        );
        let d = fleet.check(view, policy)?;
        if !d.enforced {
            return None;
        }
        self.decided = true;
        self.metrics.decision(d.action, &d.class, true, 0);
        Some(self.reply(&d))
    }

    /// Runs the engine once and applies the outcome.
    fn decide(&mut self) -> HostAction {
        self.decided = true;
        let (Some(view), Some(policy)) = (self.view.as_ref(), self.policy.as_ref()) else {
            return HostAction::Continue;
        };
        let started = abi::now_ns().unwrap_or(0);
        let outcome = match self.facts.as_ref() {
            Some(facts) => match now_ms() {
                Ok(now) => match self.standing.take() {
                    Some(st) => self
                        .engine
                        .assess_screened(view, facts, policy, st, &HostStore, now),
                    None => self.engine.assess(view, facts, policy, &HostStore, now),
                }
                .map(|a| (a.decision, a.errors))
                .map_err(|e| Failure::Model(e.to_string())),
                Err(f) => Err(f),
            },
            None => self
                .engine
                .evaluate(view, policy)
                .map(|ev| (ev.decision, Vec::new()))
                .map_err(|e| Failure::Model(e.to_string())),
        };
        let micros = abi::now_ns().unwrap_or(started).saturating_sub(started) / 1000;
        let (decision, errors) = match outcome {
            Ok(o) => o,
            Err(f) => return self.fail(f),
        };
        self.metrics
            .signals(decision.signals.iter().map(|s| s.kind));
        self.metrics
            .decision(decision.action, &decision.class, decision.blocks(), micros);
        self.metrics.enforcement(&decision);
        if let (Some(fleet), Some(view), Some(policy)) = (&self.fleet, &self.view, &self.policy) {
            fleet.after_decision(&decision, view, policy);
        }
        if let Err(f) = self.state_errors(&errors) {
            return self.fail(f);
        }
        if decision.blocks() {
            self.reply(&decision)
        } else {
            self.annotate(&decision, micros);
            HostAction::Continue
        }
    }

    fn annotate(&self, decision: &Decision, micros: u64) {
        let prefix = &self.engine.config().annotation_prefix;
        let reasons = policy::header_safe(&decision.reasons.join("; "), MAX_REASONS_HEADER);
        let mut signals: Vec<&str> = decision.signals.iter().map(|s| s.kind.as_str()).collect();
        signals.dedup();
        let headers = [
            ("score", format!("{:.3}", decision.risk)),
            ("class", decision.class.clone()),
            ("action", decision.action.as_str().to_string()),
            ("mode", decision.mode.as_str().to_string()),
            ("reasons", reasons),
            ("signals", signals.join(",")),
            ("request-id", self.request_id.clone()),
            ("latency-us", micros.to_string()),
        ];
        for (name, value) in headers {
            if let Err(s) = abi::set_header(Map::RequestHeaders, &format!("{prefix}{name}"), &value)
            {
                // Headers may already be on their way upstream; the decision still counts.
                abi::log(
                    Level::Debug,
                    &format!("apiward: could not set {prefix}{name} (status {})", s.0),
                );
            }
        }
    }

    /// Sends the local reply of an enforced decision (401, 429 or 403).
    fn reply(&mut self, decision: &Decision) -> HostAction {
        let now = abi::now_ns().unwrap_or(0);
        let incident = policy::incident_id(&self.request_id, now);
        match decision.local_reply(&incident) {
            Some(r) => {
                let headers: Vec<(&str, &[u8])> =
                    r.headers.iter().map(|(k, v)| (*k, v.as_bytes())).collect();
                self.send(r.status, headers, &r.body, &incident)
            }
            None => HostAction::Continue,
        }
    }

    /// A bare problem document with `status` (503 when failing closed).
    fn refuse(&mut self, status: u16) -> HostAction {
        let now = abi::now_ns().unwrap_or(0);
        let incident = policy::incident_id(&self.request_id, now);
        let body = policy::problem_json(status, &incident);
        let headers: Vec<(&str, &[u8])> = vec![
            ("content-type", b"application/problem+json"),
            ("cache-control", b"no-store"),
        ];
        self.send(status, headers, &body, &incident)
    }

    fn send(
        &mut self,
        status: u16,
        headers: Vec<(&str, &[u8])>,
        body: &str,
        incident: &str,
    ) -> HostAction {
        let incident_header = format!("{}incident", self.engine.config().annotation_prefix);
        let mut all = headers;
        all.push((incident_header.as_str(), incident.as_bytes()));
        match abi::send_response(u32::from(status), &all, body.as_bytes()) {
            Ok(()) => {
                self.replied_locally = true;
                HostAction::Pause
            }
            Err(s) => {
                abi::log(
                    Level::Warn,
                    &format!(
                        "apiward: local reply failed (status {}); passing the request",
                        s.0
                    ),
                );
                HostAction::Continue
            }
        }
    }

    /// Applies the configured failure mode.
    fn fail(&mut self, failure: Failure) -> HostAction {
        self.decided = true;
        self.metrics.error();
        let what = match failure {
            Failure::Host(what, s) => format!("host error {} while {what}", s.0),
            Failure::Model(e) | Failure::State(e) => e,
        };
        match self.engine.config().failure_mode {
            FailureMode::Open => {
                abi::log(
                    Level::Warn,
                    &format!("apiward: {what}; failure_mode=open, request passed"),
                );
                let prefix = &self.engine.config().annotation_prefix;
                let _ = abi::set_header(Map::RequestHeaders, &format!("{prefix}action"), "error");
                HostAction::Continue
            }
            FailureMode::Closed => {
                abi::log(
                    Level::Warn,
                    &format!("apiward: {what}; failure_mode=closed, request refused"),
                );
                self.refuse(503)
            }
        }
    }

    /// Feeds the upstream's status and body size to behaviour.
    fn observe_response(&self) {
        let Some(facts) = self.facts.as_ref() else {
            return;
        };
        let Ok(pairs) = abi::header_pairs(Map::ResponseHeaders) else {
            return;
        };
        let field = |name: &str| {
            pairs
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(name))
                .and_then(|(_, v)| std::str::from_utf8(v).ok())
                .and_then(|v| v.trim().parse::<u64>().ok())
        };
        let Some(status) = field(":status").and_then(|s| u16::try_from(s).ok()) else {
            return;
        };
        let Ok(now) = now_ms() else {
            return;
        };
        let seen =
            self.engine
                .observe_response(facts, status, field("content-length"), &HostStore, now);
        self.metrics.signals(seen.signals.iter().map(|s| s.kind));
        // The answer is on its way: failure_mode cannot apply, the errors are counted.
        self.metrics.state_errors(&seen.errors);
    }
}

impl Context for ApiwardHttp {}

impl HttpContext for ApiwardHttp {
    fn on_http_request_headers(&mut self, _num_headers: usize, end_of_stream: bool) -> HostAction {
        self.metrics.request();
        if let Err(f) = self.read_request() {
            return self.fail(f);
        }
        if self.policy.map(|p| p.skip).unwrap_or(false) {
            self.decided = true;
            self.metrics.skipped();
            return HostAction::Continue;
        }
        if let Some(action) = self.fleet_screen() {
            return action;
        }
        match self.screen() {
            Ok(Some(action)) => return action,
            Ok(None) => {}
            Err(f) => return self.fail(f),
        }
        if end_of_stream || self.engine.config().max_body_bytes == 0 {
            return self.decide();
        }
        // Hold the headers until the body (or its first max_body_bytes) is here.
        HostAction::Pause
    }

    fn on_http_request_body(&mut self, body_size: usize, end_of_stream: bool) -> HostAction {
        if self.decided {
            return HostAction::Continue;
        }
        if !end_of_stream && body_size < self.engine.config().max_body_bytes {
            return HostAction::Pause;
        }
        if let Err(f) = self.read_body(body_size, !end_of_stream) {
            return self.fail(f);
        }
        self.decide()
    }

    fn on_http_request_trailers(&mut self, _num_trailers: usize) -> HostAction {
        // HTTP/2 with trailers never sets end_of_stream on the body: decide here.
        if self.decided {
            return HostAction::Continue;
        }
        let max = self.engine.config().max_body_bytes;
        match abi::buffer(Buffer::RequestBody, 0, max) {
            Ok(Some(bytes)) => {
                let len = bytes.len();
                if let Some(view) = self.view.as_mut() {
                    view.body = bytes;
                    view.body_truncated = len >= max;
                }
            }
            Ok(None) => {}
            Err(s) => return self.fail(Failure::Host("reading the request body at trailers", s)),
        }
        self.decide()
    }

    fn on_http_response_headers(
        &mut self,
        _num_headers: usize,
        _end_of_stream: bool,
    ) -> HostAction {
        if !self.replied_locally {
            self.observe_response();
        }
        HostAction::Continue
    }
}
