//! One HTTP stream: collect the request, hand it to the engine once, apply the decision.

use std::rc::Rc;

use proxy_wasm::traits::{Context, HttpContext};
use proxy_wasm::types::Action as HostAction;

use super::abi::{self, Buffer, Level, Map};
use super::metrics::Metrics;
use crate::config::FailureMode;
use crate::engine::{Engine, RoutePolicy};
use crate::policy::{self, Decision};
use crate::request::{self, RequestView};

/// Longest reasons header we send upstream.
const MAX_REASONS_HEADER: usize = 512;

pub struct ApiwardHttp {
    engine: Rc<Engine>,
    metrics: Rc<Metrics>,
    view: Option<RequestView>,
    policy: Option<RoutePolicy>,
    request_id: String,
    decided: bool,
}

enum Failure {
    Host(&'static str, abi::HostStatus),
    Model(String),
}

impl ApiwardHttp {
    pub fn new(engine: Rc<Engine>, metrics: Rc<Metrics>) -> ApiwardHttp {
        ApiwardHttp {
            engine,
            metrics,
            view: None,
            policy: None,
            request_id: String::new(),
            decided: false,
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
        let identity = &self.engine.config().identity;
        view.client = request::identify(
            &view,
            source.as_deref(),
            identity.trusted_xff_hops,
            &identity.principal_headers,
        );
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

    /// Runs the engine once and applies the outcome.
    fn decide(&mut self) -> HostAction {
        self.decided = true;
        let (Some(view), Some(policy)) = (self.view.as_ref(), self.policy.as_ref()) else {
            return HostAction::Continue;
        };
        let started = abi::now_ns().unwrap_or(0);
        let evaluation = self.engine.evaluate(view, policy);
        let micros = abi::now_ns().unwrap_or(started).saturating_sub(started) / 1000;
        match evaluation {
            Ok(ev) => {
                let decision = ev.decision;
                self.metrics
                    .decision(decision.action, &decision.class, decision.blocks(), micros);
                if decision.blocks() {
                    self.deny(403)
                } else {
                    self.annotate(&decision, micros);
                    HostAction::Continue
                }
            }
            Err(e) => self.fail(Failure::Model(e.to_string())),
        }
    }

    fn annotate(&self, decision: &Decision, micros: u64) {
        let prefix = &self.engine.config().annotation_prefix;
        let reasons = policy::header_safe(&decision.reasons.join("; "), MAX_REASONS_HEADER);
        let headers = [
            ("score", format!("{:.3}", decision.risk)),
            ("class", decision.class.clone()),
            ("action", decision.action.as_str().to_string()),
            ("mode", decision.mode.as_str().to_string()),
            ("reasons", reasons),
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

    fn deny(&self, status: u16) -> HostAction {
        let now = abi::now_ns().unwrap_or(0);
        let incident = policy::incident_id(&self.request_id, now);
        let body = policy::problem_json(status, &incident);
        let incident_header = format!("{}incident", self.engine.config().annotation_prefix);
        let headers: [(&str, &[u8]); 3] = [
            ("content-type", b"application/problem+json"),
            ("cache-control", b"no-store"),
            (&incident_header, incident.as_bytes()),
        ];
        match abi::send_response(u32::from(status), &headers, body.as_bytes()) {
            Ok(()) => HostAction::Pause,
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
            Failure::Model(e) => e,
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
                self.deny(503)
            }
        }
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
}
