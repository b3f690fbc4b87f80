//! The floor of `make bench`: what any proxy-wasm HTTP filter costs in this Envoy.
//!
//! Per request it does what the cheapest useful filter does: one host call to read the request
//! headers and one counter increment, then lets the request through. `make bench` runs it beside
//! apiward so that apiward's cost can be read against the cost of being a Wasm filter at all.

use proxy_wasm::traits::{Context, HttpContext, RootContext};
use proxy_wasm::types::{Action, ContextType, LogLevel, MetricType};

proxy_wasm::main! {{
    proxy_wasm::set_log_level(LogLevel::Warn);
    proxy_wasm::set_root_context(|_| -> Box<dyn RootContext> { Box::new(NullRoot { counter: None }) });
}}

struct NullRoot {
    counter: Option<u32>,
}

impl Context for NullRoot {}

impl RootContext for NullRoot {
    fn on_vm_start(&mut self, _: usize) -> bool {
        self.counter =
            proxy_wasm::hostcalls::define_metric(MetricType::Counter, "null_filter_requests").ok();
        true
    }

    fn create_http_context(&self, _: u32) -> Option<Box<dyn HttpContext>> {
        Some(Box::new(NullHttp {
            counter: self.counter,
        }))
    }

    fn get_type(&self) -> Option<ContextType> {
        Some(ContextType::HttpContext)
    }
}

struct NullHttp {
    counter: Option<u32>,
}

impl Context for NullHttp {}

impl HttpContext for NullHttp {
    fn on_http_request_headers(&mut self, _: usize, _: bool) -> Action {
        // The headers are read the way a filter that inspects them would read them.
        let seen = self.get_http_request_headers_bytes().len();
        if let Some(id) = self.counter {
            let _ = proxy_wasm::hostcalls::increment_metric(id, i64::from(seen > 0));
        }
        Action::Continue
    }
}
