//! proxy-wasm glue: the root context (configuration, model, metrics) and HTTP contexts.
//! Nothing here decides anything; it moves bytes between the host and [`crate::engine`].

mod abi;
mod callout;
mod events;
mod fleet;
mod http;
mod metrics;
mod store;

use std::cell::RefCell;
use std::rc::Rc;

use proxy_wasm::traits::{Context, HttpContext, RootContext};
use proxy_wasm::types::{ContextType, LogLevel};

use self::abi::{Buffer, Level};
use self::events::EventPipeline;
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
    /// Security events of this VM, flushed on every tick.
    events: Option<Rc<RefCell<EventPipeline>>>,
    /// CrowdSec bouncer/watcher and RFC 7009 client, when configured (src/filter/fleet.rs).
    fleet: Option<Rc<Fleet>>,
}

/// Wall-clock milliseconds (0 if the host cannot tell).
fn now_ms() -> u64 {
    abi::now_ns().map(|ns| ns / 1_000_000).unwrap_or(0)
}

impl Context for ApiwardRoot {
    fn on_done(&mut self) -> bool {
        // The plugin is going away (configuration replaced, proxy draining): give the buffer
        // leases back now rather than when they lapse.
        if let Some(events) = &self.events {
            if let Ok(mut p) = events.try_borrow_mut() {
                p.release(now_ms());
            }
        }
        true
    }

    fn on_http_call_response(
        &mut self,
        token_id: u32,
        _num_headers: usize,
        body_size: usize,
        _num_trailers: usize,
    ) {
        // Dispatch by token: the fleet's calls first, then the event sinks'.
        if let Some(f) = &self.fleet {
            if f.on_http_call_response(token_id, body_size) {
                return;
            }
        }
        if let Some(events) = &self.events {
            if let Ok(mut p) = events.try_borrow_mut() {
                p.on_reply(token_id, body_size, now_ms());
            }
        }
    }
}

impl RootContext for ApiwardRoot {
    fn on_configure(&mut self, _plugin_configuration_size: usize) -> bool {
        let started = abi::now_ns().ok();
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
            .and_then(|c| Engine::new_timed(c, &|| abi::now_ns().ok()));
        match engine {
            Ok((engine, model_ns)) => {
                let c = engine.config();
                let ms = |ns: Option<u64>| ns.map_or(-1.0, |ns| ns as f64 / 1e6);
                let configure_ns = started
                    .zip(abi::now_ns().ok())
                    .map(|(a, b)| b.saturating_sub(a));
                abi::log(
                    Level::Info,
                    &format!(
                        "apiward {} ready: mode={} failure_mode={} max_body_bytes={} routes={} feature_schema=v{} model_sha256={} configure_ms={:.1} model_load_ms={:.1}",
                        env!("CARGO_PKG_VERSION"),
                        c.mode.as_str(),
                        c.failure_mode.as_str(),
                        c.max_body_bytes,
                        c.routes.len(),
                        features::SCHEMA_VERSION,
                        engine.model_sha256(),
                        ms(configure_ns),
                        ms(model_ns)
                    ),
                );
                let engine = Rc::new(engine);
                if let Some(old) = self.events.take() {
                    if let Ok(mut p) = old.try_borrow_mut() {
                        p.release(now_ms());
                    }
                }
                self.events = engine
                    .config()
                    .events
                    .as_ref()
                    .map(|e| Rc::new(RefCell::new(EventPipeline::new(e))));
                self.fleet = Fleet::new(engine.clone()).map(Rc::new);
                if let Some(f) = &self.fleet {
                    f.start();
                }
                // One tick serves both: the shorter of the two periods.
                let period = match (&self.events, &self.fleet, engine.config().events.as_ref()) {
                    (Some(_), Some(f), Some(e)) => Some(
                        f.tick_ms()
                            .min(u32::try_from(e.flush_interval_ms).unwrap_or(200)),
                    ),
                    (None, None, _) => Some(0),
                    _ => None,
                };
                if let Some(p) = period {
                    let _ = abi::set_tick_period(p);
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
                self.events.clone(),
                self.fleet.clone(),
            ))),
            // Unreachable in Envoy (a failed on_configure rejects the filter), and the SDK panics
            // on None: pass through instead.
            _ => Some(Box::new(Passthrough)),
        }
    }

    fn on_tick(&mut self) {
        if let Some(events) = &self.events {
            if let Ok(mut p) = events.try_borrow_mut() {
                p.flush(now_ms());
            }
        }
        if let Some(f) = &self.fleet {
            f.on_tick();
        }
    }

    fn get_type(&self) -> Option<ContextType> {
        Some(ContextType::HttpContext)
    }
}
