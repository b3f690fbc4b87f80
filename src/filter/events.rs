//! Security events out of the proxy: HTTP contexts hand finished events to their VM's
//! [`EventPipeline`] (shared through `Rc<RefCell<…>>`), and the root context flushes it on
//! every tick with `dispatch_http_call` (a call made from an HTTP context whose stream ended
//! with a local reply never gets its callback, so events leave from the root context).
//!
//! Each worker VM has its own pipeline and flushes its own buffers, within its lease on each
//! sink's process-wide buffer (`crate::events::lease`, in shared data): the memory bound is
//! `buffer.max_bytes` × sinks for the whole proxy, and a request never waits for a sink.
//! Shared data is touched on the request path only when an event does not fit the VM's lease.

use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};
use std::time::Duration;

use super::abi::{self, Buffer, Level, Map, MetricKind};
use super::store::HostStore;
use crate::config::EventsConfig;
use crate::config::SinkConfig;
use crate::events::lease::{BufferLease, LeasedOutbox};
use crate::events::outbox::{Outbox, OutboxStats, Outcome};
use crate::events::sink::{self, Reply};
use crate::events::SecurityEvent;

/// Longest sink reply body read (Elasticsearch per-item errors).
const MAX_REPLY_BYTES: usize = 1024 * 1024;

struct SinkMetrics {
    emitted: Option<u32>,
    dropped: Option<u32>,
    retried: Option<u32>,
    failed: Option<u32>,
    latency_ms: Option<u32>,
}

fn define(kind: MetricKind, name: &str) -> Option<u32> {
    abi::define_metric(kind, name).ok()
}

fn add(id: Option<u32>, delta: u64) {
    if let (Some(id), Ok(d)) = (id, i64::try_from(delta)) {
        if d > 0 {
            let _ = abi::increment_metric(id, d);
        }
    }
}

struct SinkState {
    config: SinkConfig,
    buffer: LeasedOutbox,
    store_errors: u64,
    metrics: SinkMetrics,
    reported: OutboxStats,
    token: Option<u32>,
    sent_ms: u64,
}

impl SinkState {
    /// Turns the outbox counters' increase into metric increments.
    fn report(&mut self) {
        let now = self.buffer.outbox.stats();
        let was = self.reported;
        add(self.metrics.emitted, now.emitted - was.emitted);
        add(self.metrics.dropped, now.dropped - was.dropped);
        add(self.metrics.retried, now.retried - was.retried);
        add(self.metrics.failed, now.failed - was.failed);
        self.reported = now;
    }
}

impl SinkState {
    /// Dispatches the batch that is due, if any (one in flight at a time).
    fn send_due(&mut self, now_ms: u64) {
        let Some(batch) = self.buffer.outbox.poll(now_ms) else {
            return;
        };
        let headers = sink::headers(&self.config, batch.body.len());
        let pairs: Vec<(&str, &str)> = headers
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        match proxy_wasm::hostcalls::dispatch_http_call(
            &self.config.cluster,
            pairs,
            Some(&batch.body),
            Vec::new(),
            Duration::from_millis(self.config.timeout_ms),
        ) {
            Ok(token) => {
                self.token = Some(token);
                self.sent_ms = now_ms;
            }
            Err(status) => {
                abi::log(
                    Level::Warn,
                    &format!(
                        "apiward: events: cannot send to cluster {:?} ({status:?}); batch of {} retried",
                        self.config.cluster, batch.events
                    ),
                );
                self.buffer.outbox.complete(Outcome::Retry, now_ms);
            }
        }
    }
}

/// The events of one VM, waiting for the next tick.
pub struct EventPipeline {
    config: EventsConfig,
    sinks: Vec<SinkState>,
}

impl EventPipeline {
    /// A pipeline for `config`, with its metrics defined and its tick started.
    pub fn new(config: &EventsConfig) -> EventPipeline {
        // Random id of this VM for its buffer leases.
        let mut h = RandomState::new().build_hasher();
        h.write_u64(abi::now_ns().unwrap_or(0));
        let me = h.finish();
        let sinks = config
            .sinks
            .iter()
            .map(|s| {
                let m = |what: &str| format!("apiward_events_{what}.sink.{}", s.name);
                SinkState {
                    config: s.clone(),
                    buffer: LeasedOutbox::new(
                        Outbox::new(config.batch, config.buffer, config.retry),
                        BufferLease::new(
                            &s.name,
                            me,
                            config.buffer.into(),
                            config.buffer.lease_ttl_ms,
                        ),
                    ),
                    store_errors: 0,
                    metrics: SinkMetrics {
                        emitted: define(MetricKind::Counter, &m("emitted_total")),
                        dropped: define(MetricKind::Counter, &m("dropped_total")),
                        retried: define(MetricKind::Counter, &m("retried_total")),
                        failed: define(MetricKind::Counter, &m("failed_total")),
                        latency_ms: define(MetricKind::Histogram, &m("batch_latency_ms")),
                    },
                    reported: OutboxStats::default(),
                    token: None,
                    sent_ms: 0,
                }
            })
            .collect();
        let period = u32::try_from(config.flush_interval_ms).unwrap_or(200);
        if let Err(s) = abi::set_tick_period(period) {
            abi::log(
                Level::Warn,
                &format!(
                    "apiward: events: no flush timer (host status {}); events stay buffered",
                    s.0
                ),
            );
        }
        EventPipeline {
            config: config.clone(),
            sinks,
        }
    }

    /// The events configuration.
    pub fn config(&self) -> &EventsConfig {
        &self.config
    }

    /// Encodes `event` for every sink and queues it; full buffers drop and count.
    pub fn publish(&mut self, event: &SecurityEvent, now_ms: u64) {
        let urgent = event.is_alert();
        let mut encoded: Vec<(crate::config::Schema, Vec<serde_json::Value>)> = Vec::new();
        for s in &mut self.sinks {
            let schema = s.config.schema;
            if !encoded.iter().any(|(k, _)| *k == schema) {
                encoded.push((schema, event.encode(schema)));
            }
            if let Some((_, docs)) = encoded.iter().find(|(k, _)| *k == schema) {
                for doc in docs {
                    let record = sink::record(&s.config, doc, event.time_ms);
                    s.buffer.push(&HostStore, record, urgent, now_ms);
                }
            }
            s.report();
        }
    }

    /// Renews the buffer leases and sends what is due (called on every tick).
    pub fn flush(&mut self, now_ms: u64) {
        for s in &mut self.sinks {
            // The host's timeout answers first; this only guards against a lost callback.
            s.buffer.outbox.expire(now_ms, s.config.timeout_ms + 1000);
            if s.token.is_some() && !s.buffer.outbox.in_flight() {
                s.token = None;
            }
            s.send_due(now_ms);
            s.buffer.tick(&HostStore, now_ms);
            let errors = s.buffer.lease.stats().store_errors;
            if errors > s.store_errors {
                if s.store_errors == 0 {
                    abi::log(
                        Level::Warn,
                        &format!(
                            "apiward: events: shared data refused the buffer lease of sink {} (events that do not fit are dropped and counted)",
                            s.config.name
                        ),
                    );
                }
                s.store_errors = errors;
            }
            s.report();
        }
    }

    /// Gives every buffer lease back (the root context is going away).
    pub fn release(&mut self, now_ms: u64) {
        for s in &mut self.sinks {
            s.buffer.lease.release(&HostStore, now_ms);
        }
    }

    /// The reply to the call `token` arrived (or timed out: no `:status`).
    pub fn on_reply(&mut self, token: u32, body_size: usize, now_ms: u64) {
        let Some(s) = self.sinks.iter_mut().find(|s| s.token == Some(token)) else {
            return;
        };
        s.token = None;
        let status = abi::header_pairs(Map::HttpCallResponseHeaders)
            .ok()
            .and_then(|pairs| {
                pairs
                    .into_iter()
                    .find(|(k, _)| k == ":status")
                    .and_then(|(_, v)| std::str::from_utf8(&v).ok()?.parse::<u16>().ok())
            });
        let body = if body_size > 0 && s.config.kind == crate::config::SinkType::ElasticBulk {
            abi::buffer(
                Buffer::HttpCallResponseBody,
                0,
                body_size.min(MAX_REPLY_BYTES),
            )
            .ok()
            .flatten()
            .unwrap_or_default()
        } else {
            Vec::new()
        };
        let outcome = match sink::reply(&s.config, status, &body) {
            Reply::Delivered => Outcome::Delivered { failed: 0 },
            Reply::Partial { failed } => Outcome::Delivered { failed },
            Reply::Retry => Outcome::Retry,
            Reply::Rejected => {
                abi::log(
                    Level::Warn,
                    &format!(
                        "apiward: events: sink {} refused a batch with status {}",
                        s.config.name,
                        status.unwrap_or(0)
                    ),
                );
                Outcome::Rejected
            }
        };
        if let Some(id) = s.metrics.latency_ms {
            let _ = abi::record_metric(id, now_ms.saturating_sub(s.sent_ms));
        }
        s.buffer.outbox.complete(outcome, now_ms);
        // A full queue need not wait for the next tick (a retry waits for its backoff).
        if matches!(outcome, Outcome::Delivered { .. } | Outcome::Rejected) {
            s.send_due(now_ms);
        }
        s.report();
    }
}
