//! One HTTP stream: identify the client, screen it against the block and revocation lists as
//! soon as the headers are in, hand the request to the engine once, apply the decision, and feed
//! the upstream's answer back to behaviour.

use std::cell::RefCell;
use std::rc::Rc;

use proxy_wasm::traits::{Context, HttpContext};
use proxy_wasm::types::Action as HostAction;

use super::abi::{self, Buffer, Level, Map};
use super::events::EventPipeline;
use super::fleet::Fleet;
use super::metrics::Metrics;
use super::VmStore;
use crate::behaviour::{RequestFacts, Standing};
use crate::config::{Annotations, DlpAction, DlpConfig, FailureMode, Mode};
use crate::dlp;
use crate::engine::{Engine, RoutePolicy};
use crate::events::{RequestRecord, ResponseFindings, SecurityEvent};
use crate::hash;
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
    /// This VM's behaviour tables (present when behaviour is on).
    store: Option<Rc<VmStore>>,
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
    /// This VM's security events, when configured.
    events: Option<Rc<RefCell<EventPipeline>>>,
    /// The decision, kept for the event.
    decision: Option<Decision>,
    /// Incident id of the local reply.
    incident: Option<String>,
    /// Status sent to the client.
    status: Option<u16>,
    /// `:authority`.
    authority: Option<String>,
    /// Response inspection of this stream is waiting for the body.
    inspecting: Option<DlpConfig>,
    /// What response inspection found.
    findings: Option<ResponseFindings>,
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
    pub fn new(
        engine: Rc<Engine>,
        metrics: Rc<Metrics>,
        events: Option<Rc<RefCell<EventPipeline>>>,
        fleet: Option<Rc<Fleet>>,
        store: Option<Rc<VmStore>>,
    ) -> ApiwardHttp {
        ApiwardHttp {
            store,
            events,
            decision: None,
            incident: None,
            status: None,
            authority: None,
            inspecting: None,
            findings: None,
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
                ":authority" => {
                    self.authority = Some(String::from_utf8_lossy(&value).into_owned());
                }
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
        let Some(store) = self.store.as_deref() else {
            return Ok(None);
        };
        let now = now_ms()?;
        // One read of the block-list epoch; the rest of the request counts in the VM.
        store.begin_request(now);
        let facts = self.engine.request_facts(view);
        let screening = self.engine.screen(&facts, policy, store, now);
        self.facts = Some(facts);
        self.standing = screening.standing;
        self.state_errors(&screening.errors)?;
        match screening.decision {
            Some(d) if d.enforced => {
                self.decided = true;
                self.metrics.signals(d.signals.iter().map(|s| s.kind));
                self.metrics.decision(d.action, &d.class, true, 0);
                let action = self.reply(&d);
                self.decision = Some(d);
                Ok(Some(action))
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

    /// The path asks for a restricted resource and the route denies it: decided at the headers,
    /// without waiting for a body the decision does not read.
    fn probe_stops(&self) -> bool {
        match (self.view.as_ref(), self.policy.as_ref()) {
            (Some(view), Some(policy)) => self.engine.probe_stops(view, policy),
            _ => false,
        }
    }

    /// Runs the engine once and applies the outcome.
    fn decide(&mut self) -> HostAction {
        self.decided = true;
        let (Some(view), Some(policy)) = (self.view.as_ref(), self.policy.as_ref()) else {
            return HostAction::Continue;
        };
        // One clock read serves the behaviour windows and the decision-time histogram.
        let started = abi::now_ns();
        let outcome = match (self.facts.as_ref(), self.store.as_deref()) {
            (Some(facts), Some(store)) => match started
                .map(|ns| ns / 1_000_000)
                .map_err(|s| Failure::Host("reading the clock", s))
            {
                Ok(now) => match self.standing.take() {
                    Some(st) => self
                        .engine
                        .assess_screened(view, facts, policy, st, store, now),
                    None => self.engine.assess(view, facts, policy, store, now),
                }
                .map(|a| {
                    if let Some(o) = &a.consensus {
                        self.metrics.consensus(o);
                    }
                    // A consensus table failure only withholds a discount: counted, never refused.
                    self.metrics.state_errors(&a.soft_errors);
                    (a.decision, a.errors)
                })
                .map_err(|e| Failure::Model(e.to_string())),
                Err(f) => Err(f),
            },
            _ => self
                .engine
                .evaluate(view, policy)
                .map(|ev| (ev.decision, Vec::new()))
                .map_err(|e| Failure::Model(e.to_string())),
        };
        let started = started.unwrap_or(0);
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
        if let Some(p) = &decision.probe {
            self.metrics.probe(p.category);
        }
        if let (Some(fleet), Some(view), Some(policy)) = (&self.fleet, &self.view, &self.policy) {
            fleet.after_decision(&decision, view, policy);
        }
        if let Err(f) = self.state_errors(&errors) {
            return self.fail(f);
        }
        let action = if decision.blocks() {
            self.reply(&decision)
        } else {
            self.annotate(&decision, micros);
            HostAction::Continue
        };
        if self.events.is_some() {
            self.decision = Some(decision);
        }
        action
    }

    fn annotate(&self, decision: &Decision, micros: u64) {
        let prefix = &self.engine.config().annotation_prefix;
        let mut headers = vec![
            ("action", decision.action.as_str().to_string()),
            ("score", format!("{:.3}", decision.risk)),
            ("request-id", self.request_id.clone()),
        ];
        if self.engine.config().annotations == Annotations::Full {
            let mut signals: Vec<&str> = decision.signals.iter().map(|s| s.kind.as_str()).collect();
            signals.dedup();
            headers.extend([
                ("class", decision.class.clone()),
                ("mode", decision.mode.as_str().to_string()),
                (
                    "reasons",
                    policy::header_safe(&decision.reasons.join("; "), MAX_REASONS_HEADER),
                ),
                ("signals", signals.join(",")),
                ("latency-us", micros.to_string()),
            ]);
        }
        // The prefix belongs to the filter: any other header under it came from the client
        // (a forged `x-apiward-class` with `annotations: minimal`) and is removed.
        if let Some(view) = self.view.as_ref() {
            for (name, _) in &view.headers {
                let ours = name
                    .strip_prefix(prefix.as_str())
                    .map(|n| headers.iter().any(|(h, _)| *h == n));
                if ours == Some(false) {
                    let _ = abi::remove_header(Map::RequestHeaders, name);
                }
            }
        }
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
                self.status = Some(status);
                self.incident = Some(incident.to_string());
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
    fn observe_response(&self, pairs: &[(String, Vec<u8>)]) {
        let (Some(facts), Some(store)) = (self.facts.as_ref(), self.store.as_deref()) else {
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
        let seen = self
            .engine
            .observe_response(facts, status, field("content-length"), store, now);
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
        if end_of_stream || self.engine.config().max_body_bytes == 0 || self.probe_stops() {
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

    fn on_http_response_headers(&mut self, _num_headers: usize, end_of_stream: bool) -> HostAction {
        if self.replied_locally {
            return HostAction::Continue;
        }
        let dlp = self.policy.and_then(|p| p.dlp);
        if self.facts.is_none() && self.events.is_none() && dlp.is_none() {
            return HostAction::Continue;
        }
        // One read of the response headers serves behaviour, events and response inspection.
        let Ok(pairs) = abi::header_pairs(Map::ResponseHeaders) else {
            return HostAction::Continue;
        };
        self.observe_response(&pairs);
        let field = |name: &str| {
            pairs
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(name))
                .map(|(_, v)| String::from_utf8_lossy(v).trim().to_ascii_lowercase())
        };
        self.status = field(":status").and_then(|s| s.parse().ok());
        let Some(dlp) = dlp else {
            return HostAction::Continue;
        };
        if end_of_stream {
            return HostAction::Continue;
        }
        let inspectable = field("content-type").is_some_and(|t| {
            t.starts_with("application/json")
                || t.contains("+json")
                || t.starts_with("text/")
                || t.starts_with("application/x-ndjson")
                || t.starts_with("application/xml")
        });
        if !inspectable {
            return HostAction::Continue;
        }
        // Compressed bodies are not decompressed in the VM (no bounded inflater here): they
        // pass untouched and the skip is reported. Put apiward after a decompressor, or ask
        // upstreams for identity encoding on inspected routes.
        if let Some(enc) = field("content-encoding").filter(|e| e != "identity") {
            self.skip_response(format!("content-encoding {enc} not inspected"));
            return HostAction::Continue;
        }
        let length = field("content-length").and_then(|l| l.parse::<usize>().ok());
        if length.is_some_and(|l| l > dlp.max_bytes) {
            self.skip_response(format!("body larger than max_bytes ({})", dlp.max_bytes));
            return HostAction::Continue;
        }
        self.inspecting = Some(dlp);
        // Hold the headers: masking or blocking may change them.
        HostAction::Pause
    }

    fn on_http_response_body(&mut self, body_size: usize, end_of_stream: bool) -> HostAction {
        let Some(dlp) = self.inspecting else {
            return HostAction::Continue;
        };
        if body_size > dlp.max_bytes {
            self.inspecting = None;
            self.skip_response(format!("body larger than max_bytes ({})", dlp.max_bytes));
            return HostAction::Continue;
        }
        if !end_of_stream {
            return HostAction::Pause;
        }
        self.inspecting = None;
        let body = match abi::buffer(Buffer::ResponseBody, 0, body_size) {
            Ok(b) => b.unwrap_or_default(),
            Err(_) => return HostAction::Continue,
        };
        self.inspect_response(dlp, &body, body_size);
        HostAction::Continue
    }

    fn on_log(&mut self) {
        self.publish_event();
    }
}

impl ApiwardHttp {
    fn skip_response(&mut self, why: String) {
        self.metrics.dlp("skipped");
        self.findings = Some(ResponseFindings {
            counts: Vec::new(),
            applied: "annotate",
            skipped: Some(why),
        });
    }

    /// Scans a buffered response body and applies the route's action.
    fn inspect_response(&mut self, dlp: DlpConfig, body: &[u8], body_size: usize) {
        let (masked, matches) = dlp::mask(body, dlp.kinds);
        let counts = dlp::counts(&matches);
        let total: u32 = counts.iter().map(|(_, n)| *n).sum();
        let enforce = self.policy.map(|p| p.mode) == Some(Mode::Enforce);
        let prefix = self.engine.config().annotation_prefix.clone();
        if total < dlp.threshold {
            self.metrics.dlp("clean");
            if total > 0 {
                self.findings = Some(ResponseFindings {
                    counts,
                    applied: "annotate",
                    skipped: None,
                });
            }
            return;
        }
        let summary: Vec<String> = counts
            .iter()
            .map(|(k, n)| format!("{}={n}", k.as_str()))
            .collect();
        let _ = abi::set_header(
            Map::ResponseHeaders,
            &format!("{prefix}dlp"),
            &summary.join(","),
        );
        let applied = match (dlp.action, enforce) {
            (DlpAction::Mask, true) => {
                match abi::set_buffer(Buffer::ResponseBody, 0, body_size, &masked) {
                    Ok(()) => {
                        let _ = abi::set_header(
                            Map::ResponseHeaders,
                            "content-length",
                            &masked.len().to_string(),
                        );
                        "mask"
                    }
                    Err(_) => "annotate",
                }
            }
            (DlpAction::Block, true) => {
                let now = abi::now_ns().unwrap_or(0);
                let incident = policy::incident_id(&self.request_id, now);
                let problem = policy::problem_json(502, &incident);
                let ok =
                    abi::set_buffer(Buffer::ResponseBody, 0, body_size, problem.as_bytes()).is_ok();
                if ok {
                    let _ = abi::set_header(Map::ResponseHeaders, ":status", "502");
                    let _ = abi::set_header(
                        Map::ResponseHeaders,
                        "content-type",
                        "application/problem+json",
                    );
                    let _ = abi::set_header(
                        Map::ResponseHeaders,
                        "content-length",
                        &problem.len().to_string(),
                    );
                    let _ = abi::set_header(Map::ResponseHeaders, "cache-control", "no-store");
                    let _ = abi::set_header(
                        Map::ResponseHeaders,
                        &format!("{prefix}incident"),
                        &incident,
                    );
                    let _ = abi::remove_header(Map::ResponseHeaders, "etag");
                    self.status = Some(502);
                    self.incident = Some(incident);
                    "block"
                } else {
                    "annotate"
                }
            }
            _ => "annotate",
        };
        self.metrics.dlp(match applied {
            "mask" => "masked",
            "block" => "blocked",
            _ => "annotated",
        });
        self.findings = Some(ResponseFindings {
            counts,
            applied,
            skipped: None,
        });
    }

    /// Hands the stream's event to the VM's pipeline, if the request was notable (or sampled).
    fn publish_event(&mut self) {
        let Some(events) = self.events.as_ref() else {
            return;
        };
        let Some(decision) = self.decision.as_ref() else {
            return;
        };
        let Ok(mut pipeline) = events.try_borrow_mut() else {
            return;
        };
        let findings_hit = self
            .findings
            .as_ref()
            .is_some_and(|f| f.total() > 0 || f.skipped.is_some());
        let cheap_notable = decision.action > crate::policy::Action::Allow
            || !decision.signals.is_empty()
            || decision.consensus.is_some()
            || findings_hit;
        let now = abi::now_ns().unwrap_or(0);
        let rate = pipeline.config().sample_allow;
        let sampled = !cheap_notable && rate > 0.0 && {
            let h = hash::hash64(now, self.request_id.as_bytes());
            (h as f64 / u64::MAX as f64) < rate
        };
        if !cheap_notable && !sampled {
            return;
        }
        let Some(view) = self.view.as_ref() else {
            return;
        };
        let full_path = if view.query.is_empty() {
            view.path.clone()
        } else {
            format!("{}?{}", view.path, view.query)
        };
        let user_agent = view
            .header("user-agent")
            .map(|v| String::from_utf8_lossy(v).into_owned());
        let record = RequestRecord {
            time_ms: now / 1_000_000,
            request_id: &self.request_id,
            incident_id: self.incident.as_deref(),
            method: &view.method,
            path: &full_path,
            route: self.facts.as_ref().map(|f| f.route.template.as_str()),
            host: self.authority.as_deref(),
            user_agent: user_agent.as_deref(),
            body: &view.body,
            client_ip: view.client.ip.as_deref(),
            principal_fp: self
                .facts
                .as_ref()
                .and_then(|f| f.principal.as_ref())
                .map(|p| p.fp),
            status: self.status,
        };
        let privacy = &pipeline.config().privacy;
        let event = SecurityEvent::build(decision, &record, self.findings.clone(), privacy);
        if event.is_notable() || sampled || findings_hit {
            pipeline.publish(&event, now / 1_000_000);
        }
    }
}
