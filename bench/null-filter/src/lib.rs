//! The floor of `make bench`: what any proxy-wasm HTTP filter costs in this Envoy.
//!
//! Per request it does what the cheapest useful filter does: one host call to read the request
//! headers and one counter increment, then lets the request through. With the plugin
//! configuration `body`, it also holds the request until its body is buffered and reads it, as
//! any filter that inspects bodies must. `make bench` runs it beside apiward so that apiward's
//! cost can be read against the cost of being a Wasm filter at all.

use proxy_wasm::traits::{Context, HttpContext, RootContext};
use proxy_wasm::types::{Action, ContextType, LogLevel, MetricType};

proxy_wasm::main! {{
    proxy_wasm::set_log_level(LogLevel::Warn);
    proxy_wasm::set_root_context(|_| -> Box<dyn RootContext> {
        Box::new(NullRoot { counter: None, body: false })
    });
}}

struct NullRoot {
    counter: Option<u32>,
    /// Wait for the body and read it.
    body: bool,
}

impl Context for NullRoot {}

impl RootContext for NullRoot {
    fn on_vm_start(&mut self, _: usize) -> bool {
        self.counter =
            proxy_wasm::hostcalls::define_metric(MetricType::Counter, "null_filter_requests").ok();
        true
    }

    fn on_configure(&mut self, _: usize) -> bool {
        self.body = self
            .get_plugin_configuration()
            .is_some_and(|c| c.windows(4).any(|w| w == b"body"));
        true
    }

    fn create_http_context(&self, _: u32) -> Option<Box<dyn HttpContext>> {
        Some(Box::new(NullHttp {
            counter: self.counter,
            body: self.body,
        }))
    }

    fn get_type(&self) -> Option<ContextType> {
        Some(ContextType::HttpContext)
    }
}

struct NullHttp {
    counter: Option<u32>,
    body: bool,
}

impl Context for NullHttp {}

impl HttpContext for NullHttp {
    fn on_http_request_headers(&mut self, _: usize, end_of_stream: bool) -> Action {
        // The headers are read the way a filter that inspects them would read them.
        let seen = self.get_http_request_headers_bytes().len();
        if let Some(id) = self.counter {
            let _ = proxy_wasm::hostcalls::increment_metric(id, i64::from(seen > 0));
        }
        if self.body && !end_of_stream {
            return Action::Pause;
        }
        Action::Continue
    }

    fn on_http_request_body(&mut self, body_size: usize, end_of_stream: bool) -> Action {
        if !self.body {
            return Action::Continue;
        }
        if !end_of_stream {
            return Action::Pause;
        }
        let _ = self.get_http_request_body(0, body_size);
        Action::Continue
    }
}
