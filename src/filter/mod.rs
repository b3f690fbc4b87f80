//! proxy-wasm glue: the root context (configuration, model, metrics) and HTTP contexts.
//! Nothing here decides anything; it moves bytes between the host and [`crate::engine`].

mod abi;
mod callout;
mod fleet;
mod http;
mod metrics;
mod store;

use std::rc::Rc;

use proxy_wasm::traits::{Context, HttpContext, RootContext};
use proxy_wasm::types::{ContextType, LogLevel};

use self::abi::{Buffer, Level};
use self::fleet::Fleet;
use self::http::ApiwardHttp;
use self::metrics::Metrics;
use crate::config::Config;
use crate::engine::{Engine, EngineError};
use crate::features;

proxy_wasm::main! {{
    proxy_wasm::set_log_level(LogLevel::Info);
    proxy_wasm::set_root_context(|_| -> Box<dyn RootContext> { Box::new(ApiwardRoot::default()) });
}}

/// An HTTP context that does nothing.
struct Passthrough;

impl Context for Passthrough {}
impl HttpContext for Passthrough {}

/// Per-VM state shared by the HTTP contexts.
#[derive(Default)]
struct ApiwardRoot {
    engine: Option<Rc<Engine>>,
    metrics: Option<Rc<Metrics>>,
    /// CrowdSec bouncer/watcher and RFC 7009 client, when configured (src/filter/fleet.rs).
    fleet: Option<Rc<Fleet>>,
}

impl Context for ApiwardRoot {
    fn on_http_call_response(
        &mut self,
        token_id: u32,
        _num_headers: usize,
        body_size: usize,
        _num_trailers: usize,
    ) {
        // Dispatch by token: a token the fleet does not own belongs to another root-context
        // client.
        if let Some(f) = &self.fleet {
            let _ = f.on_http_call_response(token_id, body_size);
        }
    }
}

impl RootContext for ApiwardRoot {
    fn on_configure(&mut self, _plugin_configuration_size: usize) -> bool {
        let bytes = match abi::buffer(Buffer::PluginConfiguration, 0, usize::MAX) {
            Ok(b) => b.unwrap_or_default(),
            Err(s) => {
                abi::log(
                    Level::Error,
                    &format!(
                        "apiward: cannot read the plugin configuration (host status {})",
                        s.0
                    ),
                );
                return false;
            }
        };
        let engine = Config::from_json(&bytes)
            .map_err(EngineError::Config)
            .and_then(Engine::new);
        match engine {
            Ok(engine) => {
                let c = engine.config();
                abi::log(
                    Level::Info,
                    &format!(
                        "apiward {} ready: mode={} failure_mode={} max_body_bytes={} routes={} feature_schema=v{} model_sha256={}",
                        env!("CARGO_PKG_VERSION"),
                        c.mode.as_str(),
                        c.failure_mode.as_str(),
                        c.max_body_bytes,
                        c.routes.len(),
                        features::SCHEMA_VERSION,
                        engine.model_sha256()
                    ),
                );
                let engine = Rc::new(engine);
                self.fleet = Fleet::new(engine.clone()).map(Rc::new);
                if let Some(f) = &self.fleet {
                    f.start();
                }
                self.engine = Some(engine);
                if self.metrics.is_none() {
                    self.metrics = Some(Rc::new(Metrics::define()));
                }
                true
            }
            Err(EngineError::Config(e)) => {
                abi::log(
                    Level::Error,
                    &format!("apiward: invalid configuration: {e}"),
                );
                false
            }
            Err(e) => {
                abi::log(Level::Error, &format!("apiward: cannot start: {e}"));
                false
            }
        }
    }

    fn create_http_context(&self, _context_id: u32) -> Option<Box<dyn HttpContext>> {
        match (&self.engine, &self.metrics) {
            (Some(engine), Some(metrics)) => Some(Box::new(ApiwardHttp::new(
                engine.clone(),
                metrics.clone(),
                self.fleet.clone(),
            ))),
            // Unreachable in Envoy (a failed on_configure rejects the filter), and the SDK panics
            // on None: pass through instead.
            _ => Some(Box::new(Passthrough)),
        }
    }

    fn on_tick(&mut self) {
        if let Some(f) = &self.fleet {
            f.on_tick();
        }
    }

    fn get_type(&self) -> Option<ContextType> {
        Some(ContextType::HttpContext)
    }
}
