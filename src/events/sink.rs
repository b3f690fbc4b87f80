//! Sink wire formats: how an encoded event becomes a record in a batch, the request headers of
//! a batch, and what the sink's reply means.
//!
//! - `ndjson`: one JSON document per line, `content-type: application/x-ndjson`, trailing
//!   newline; `authorization: <token>` when a token is set.
//! - `splunk_hec`: `{"time": <s>, "host": …, "source": "apiward", "sourcetype": …, "event": …}`
//!   objects concatenated with no separator, `authorization: Splunk <token>`.
//! - `elastic_bulk`: `{"create":{"_index":…}}` then the document, each on its own line, final
//!   newline, `content-type: application/x-ndjson`; a 200 can still carry per-item errors.

use serde_json::{json, Value};

use crate::config::{Schema, SinkConfig, SinkType};

/// The record of one encoded event (with its trailing separator) for `sink`.
pub fn record(sink: &SinkConfig, event: &Value, time_ms: u64) -> Vec<u8> {
    let mut out = Vec::new();
    match sink.kind {
        SinkType::Ndjson => {
            out.extend_from_slice(event.to_string().as_bytes());
            out.push(b'\n');
        }
        SinkType::SplunkHec => {
            let sourcetype = match sink.schema {
                Schema::Ocsf => "ocsf:apiward",
                Schema::Ecs => "ecs:apiward",
            };
            let wrapped = json!({
                "time": time_ms as f64 / 1000.0,
                "source": "apiward",
                "sourcetype": sourcetype,
                "event": event,
            });
            out.extend_from_slice(wrapped.to_string().as_bytes());
        }
        SinkType::ElasticBulk => {
            let action = match &sink.index {
                Some(i) => json!({"create": {"_index": i}}),
                None => json!({"create": {}}),
            };
            out.extend_from_slice(action.to_string().as_bytes());
            out.push(b'\n');
            out.extend_from_slice(event.to_string().as_bytes());
            out.push(b'\n');
        }
    }
    out
}

/// Headers of a batch request (pseudo-headers first).
pub fn headers(sink: &SinkConfig, body_len: usize) -> Vec<(String, String)> {
    let content_type = match sink.kind {
        SinkType::SplunkHec => "application/json",
        SinkType::Ndjson | SinkType::ElasticBulk => "application/x-ndjson",
    };
    let mut h = vec![
        (":method".to_string(), "POST".to_string()),
        (":path".to_string(), sink.path.clone()),
        (":authority".to_string(), sink.authority.clone()),
        ("content-type".to_string(), content_type.to_string()),
        ("content-length".to_string(), body_len.to_string()),
        (
            "user-agent".to_string(),
            format!("apiward/{}", super::PRODUCT_VERSION),
        ),
    ];
    if let Some(t) = &sink.token {
        let value = match sink.kind {
            SinkType::SplunkHec => format!("Splunk {t}"),
            _ => t.clone(),
        };
        h.push(("authorization".to_string(), value));
    }
    h
}

/// What a sink's reply to a batch means.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reply {
    /// Every event was accepted.
    Delivered,
    /// Accepted, but `failed` events of the batch were refused one by one (Elasticsearch
    /// per-item errors); they are not retried (a refused document stays refused).
    Partial {
        /// Events refused.
        failed: u32,
    },
    /// Try the whole batch again later (5xx, 429, timeout, no connection).
    Retry,
    /// The sink refused the batch (4xx): retrying cannot help.
    Rejected,
}

/// Reads a sink's reply: `status` is `None` when there was no HTTP answer (timeout, reset).
pub fn reply(sink: &SinkConfig, status: Option<u16>, body: &[u8]) -> Reply {
    let Some(status) = status else {
        return Reply::Retry;
    };
    match status {
        200..=299 => {
            if sink.kind == SinkType::ElasticBulk {
                bulk_failures(body).map_or(Reply::Delivered, |failed| {
                    if failed == 0 {
                        Reply::Delivered
                    } else {
                        Reply::Partial { failed }
                    }
                })
            } else {
                Reply::Delivered
            }
        }
        408 | 429 | 500..=599 => Reply::Retry,
        _ => Reply::Rejected,
    }
}

/// Items with an error in an Elasticsearch `_bulk` reply (`None` if it is not one).
pub fn bulk_failures(body: &[u8]) -> Option<u32> {
    let v: Value = serde_json::from_slice(body).ok()?;
    if v.get("errors") == Some(&Value::Bool(false)) {
        return Some(0);
    }
    let items = v.get("items")?.as_array()?;
    let failed = items
        .iter()
        .filter(|item| {
            item.as_object()
                .and_then(|o| o.values().next())
                .is_some_and(|r| {
                    r.get("error").is_some()
                        || r.get("status")
                            .and_then(Value::as_u64)
                            .is_some_and(|s| s >= 300)
                })
        })
        .count();
    Some(u32::try_from(failed).unwrap_or(u32::MAX))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sink(kind: SinkType) -> SinkConfig {
        SinkConfig {
            name: "s".into(),
            kind,
            cluster: "siem".into(),
            path: "/p".into(),
            authority: "siem".into(),
            schema: Schema::Ecs,
            token: Some("T0K".into()),
            index: Some("logs-apiward-default".into()),
            timeout_ms: 1000,
        }
    }

    #[test]
    fn records_follow_each_wire_format() {
        let ev = json!({"a": 1});
        assert_eq!(record(&sink(SinkType::Ndjson), &ev, 0), b"{\"a\":1}\n");
        assert_eq!(
            String::from_utf8(record(&sink(SinkType::SplunkHec), &ev, 1500)).unwrap(),
            r#"{"event":{"a":1},"source":"apiward","sourcetype":"ecs:apiward","time":1.5}"#
        );
        assert_eq!(
            String::from_utf8(record(&sink(SinkType::ElasticBulk), &ev, 0)).unwrap(),
            "{\"create\":{\"_index\":\"logs-apiward-default\"}}\n{\"a\":1}\n"
        );
        let h = headers(&sink(SinkType::SplunkHec), 10);
        assert!(h.contains(&("authorization".into(), "Splunk T0K".into())));
    }

    #[test]
    fn replies_are_read_per_sink() {
        let bulk = sink(SinkType::ElasticBulk);
        assert_eq!(
            reply(&bulk, Some(200), br#"{"errors":false,"items":[]}"#),
            Reply::Delivered
        );
        let partial = br#"{"errors":true,"items":[{"create":{"status":201}},{"create":{"status":400,"error":{"type":"mapper_parsing_exception"}}}]}"#;
        assert_eq!(
            reply(&bulk, Some(200), partial),
            Reply::Partial { failed: 1 }
        );
        assert_eq!(reply(&bulk, Some(503), b""), Reply::Retry);
        assert_eq!(reply(&bulk, Some(429), b""), Reply::Retry);
        assert_eq!(reply(&bulk, None, b""), Reply::Retry);
        assert_eq!(reply(&bulk, Some(401), b""), Reply::Rejected);
        assert_eq!(
            reply(&sink(SinkType::Ndjson), Some(204), b""),
            Reply::Delivered
        );
    }
}
