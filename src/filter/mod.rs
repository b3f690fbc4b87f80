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
use self::store::HostStore;
use crate::config::Config;
use crate::engine::{Engine, EngineError};
use crate::features;
use crate::state::{WorkerStats, WorkerStore};

/// This VM's view of the behaviour tables (counted locally, merged on the tick).
pub(crate) type VmStore = WorkerStore<HostStore>;

/// Period of the tick when nothing else asks for one: host-call counters are published.
const METRICS_TICK_MS: u64 = 1000;

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
    /// Per-worker behaviour state, merged into shared data on every tick.
    store: Option<Rc<VmStore>>,
    /// Host calls and worker-state events already added to the metrics.
    published_calls: [[u64; 9]; 2],
    published_worker: WorkerStats,
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
                // Counts of a previous configuration are merged before its store goes.
                if let Some(old) = self.store.take() {
                    old.sync(now_ms());
                }
                self.store = engine
                    .behaviour()
                    .map(|b| Rc::new(b.worker_store(HostStore)));
                // One tick serves all: the shortest period asked for.
                let periods = [
                    engine.config().events.as_ref().map(|e| e.flush_interval_ms),
                    self.fleet.as_ref().map(|f| u64::from(f.tick_ms())),
                    self.store
                        .as_ref()
                        .map(|s| s.config().sync_ms)
                        .filter(|&ms| ms > 0),
                    Some(METRICS_TICK_MS),
                ];
                let period = periods
                    .into_iter()
                    .flatten()
                    .min()
                    .unwrap_or(METRICS_TICK_MS);
                let _ = abi::set_tick_period(u32::try_from(period).unwrap_or(1000));
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
                self.store.clone(),
            ))),
            // Unreachable in Envoy (a failed on_configure rejects the filter), and the SDK panics
            // on None: pass through instead.
            _ => Some(Box::new(Passthrough)),
        }
    }

    fn on_tick(&mut self) {
        abi::in_tick(true);
        if let Some(store) = &self.store {
            let report = store.sync(now_ms());
            if let Some((key, e)) = report.failed.first() {
                abi::log(
                    Level::Debug,
                    &format!(
                        "apiward: {} merges failed ({key}: {e}); retried on the next tick",
                        report.failed.len()
                    ),
                );
            }
        }
        if let Some(events) = &self.events {
            if let Ok(mut p) = events.try_borrow_mut() {
                p.flush(now_ms());
            }
        }
        if let Some(f) = &self.fleet {
            f.on_tick();
        }
        if let Some(m) = &self.metrics {
            if let Some(store) = &self.store {
                let now = store.stats();
                m.worker_state(&self.published_worker, &now);
                self.published_worker = now;
            }
            // The increments below are counted too; they appear in the next tick's figures.
            let calls = abi::host_calls();
            m.host_calls(&self.published_calls, &calls);
            self.published_calls = calls;
        }
        abi::in_tick(false);
    }

    fn get_type(&self) -> Option<ContextType> {
        Some(ContextType::HttpContext)
    }
}
