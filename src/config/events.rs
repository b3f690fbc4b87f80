//! `events` (security events to the SIEM) and the per-route `dlp` (response inspection)
//! configuration: raw serde structs, then validation naming the field.

use serde::Deserialize;

use super::ConfigError;
use crate::dlp::{Kind, KindSet};

/// Largest number of sinks.
pub const MAX_SINKS: usize = 4;
/// Largest buffer per sink (process-wide, all worker VMs together), in bytes.
pub const MAX_BUFFER_BYTES: usize = 16 * 1024 * 1024;
/// Largest response body inspected.
pub const MAX_DLP_BYTES: usize = 1024 * 1024;

/// How a sink wants its batches.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum SinkType {
    /// One JSON event per line (`application/x-ndjson`), POSTed to any HTTP endpoint.
    Ndjson,
    /// Splunk HTTP Event Collector: event objects concatenated, `Authorization: Splunk <token>`.
    SplunkHec,
    /// Elasticsearch / OpenSearch `_bulk`: a `create` action line before each event.
    ElasticBulk,
}

impl SinkType {
    /// The name used in configuration and metrics.
    pub fn as_str(self) -> &'static str {
        match self {
            SinkType::Ndjson => "ndjson",
            SinkType::SplunkHec => "splunk_hec",
            SinkType::ElasticBulk => "elastic_bulk",
        }
    }
}

/// The event schema a sink receives.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "lowercase")]
pub enum Schema {
    /// OCSF 1.8.0: HTTP Activity (4002) with the `security_control` profile, and Detection
    /// Finding (2004) for alerts.
    Ocsf,
    /// Elastic Common Schema 9.x.
    Ecs,
}

/// One destination of events.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SinkConfig {
    /// Name in metrics (`apiward_events_emitted_total{sink="…"}`).
    pub name: String,
    /// Wire format.
    pub kind: SinkType,
    /// Envoy cluster the batches are sent to.
    pub cluster: String,
    /// Request path (`/services/collector/event`, `/_bulk`, …).
    pub path: String,
    /// `:authority` of the requests (default: the cluster name).
    pub authority: String,
    /// Event schema.
    pub schema: Schema,
    /// Splunk HEC token, or the value of `Authorization` for the other sinks (`Bearer …`,
    /// `ApiKey …`, `Basic …`).
    pub token: Option<String>,
    /// Elasticsearch index or data stream.
    pub index: Option<String>,
    /// Timeout of one batch request.
    pub timeout_ms: u64,
}

/// Limits of one batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BatchLimits {
    /// Events in one request.
    pub max_events: usize,
    /// Bytes in one request.
    pub max_bytes: usize,
    /// A batch is sent when its oldest event is this old, even if not full.
    pub max_age_ms: u64,
}

/// Bound of the buffer of each sink, process-wide: the events waiting and the batches in
/// flight of every worker VM together (each VM holds a lease on part of it:
/// [`crate::events::lease`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BufferLimits {
    /// Events held.
    pub max_events: usize,
    /// Bytes held.
    pub max_bytes: usize,
    /// A VM's lease on part of the buffer lapses this long after its last renewal (a VM renews
    /// at every flush tick; a VM that died gives its part back this way).
    pub lease_ttl_ms: u64,
}

/// Retries of a batch the sink failed (5xx, 429, timeout, connection failure).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Attempts per batch, the first included; then the batch is counted failed.
    pub max_attempts: u32,
    /// Wait before the first retry; doubled for each further one.
    pub backoff_ms: u64,
    /// Longest wait.
    pub max_backoff_ms: u64,
}

/// How client addresses appear in events.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "lowercase")]
pub enum ClientIpMode {
    /// As seen.
    Full,
    /// IPv4 to its /24, IPv6 to its /48.
    Truncate,
    /// A keyed hash (HMAC-SHA-256 with `hash_key`).
    Hash,
    /// Not at all.
    Omit,
}

impl ClientIpMode {
    /// The name used in configuration.
    pub fn as_str(self) -> &'static str {
        match self {
            ClientIpMode::Full => "full",
            ClientIpMode::Truncate => "truncate",
            ClientIpMode::Hash => "hash",
            ClientIpMode::Omit => "omit",
        }
    }
}

/// How principals appear in events.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "lowercase")]
pub enum PrincipalMode {
    /// A keyed hash (HMAC-SHA-256 with `hash_key`).
    Hash,
    /// Not at all.
    Omit,
}

/// What leaves the proxy about people.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PrivacyConfig {
    /// Client addresses.
    pub client_ip: ClientIpMode,
    /// Principals.
    pub principal: PrincipalMode,
    /// Key of the keyed hashes; never written to an event.
    pub hash_key: Vec<u8>,
    /// Bytes of the (redacted) request body excerpt; 0: none.
    pub excerpt_bytes: usize,
}

/// Validated `events`.
#[derive(Debug, Clone, PartialEq)]
pub struct EventsConfig {
    /// Destinations.
    pub sinks: Vec<SinkConfig>,
    /// Share of plain allows that become events, in `[0, 1]`.
    pub sample_allow: f64,
    /// Batch limits.
    pub batch: BatchLimits,
    /// Buffer bound per sink, across worker VMs.
    pub buffer: BufferLimits,
    /// Retries.
    pub retry: RetryPolicy,
    /// Period of the flush timer: the longest an alert waits before it is sent.
    pub flush_interval_ms: u64,
    /// Privacy.
    pub privacy: PrivacyConfig,
}

/// What response inspection does when it finds sensitive data.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "lowercase")]
pub enum DlpAction {
    /// Event + `x-apiward-dlp` response header; the body is untouched.
    Annotate,
    /// Letters and digits of every match replaced by `*` (same length), in enforce mode.
    Mask,
    /// 502 problem document instead of the body, in enforce mode.
    Block,
}

impl DlpAction {
    /// The name used in configuration, headers and events.
    pub fn as_str(self) -> &'static str {
        match self {
            DlpAction::Annotate => "annotate",
            DlpAction::Mask => "mask",
            DlpAction::Block => "block",
        }
    }
}

/// Validated per-route `dlp`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DlpConfig {
    /// What to do.
    pub action: DlpAction,
    /// Matches (all kinds together) from which the action is taken.
    pub threshold: u32,
    /// Largest body inspected; a longer one passes uninspected (said so in the event).
    pub max_bytes: usize,
    /// Kinds looked for.
    pub kinds: KindSet,
}

#[derive(Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub(super) struct RawEvents {
    sinks: Vec<RawSink>,
    sample_allow: Option<f64>,
    batch: Option<RawBatch>,
    buffer: Option<RawBuffer>,
    retry: Option<RawRetry>,
    flush_interval_ms: Option<u64>,
    privacy: Option<RawPrivacy>,
}

#[derive(Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
struct RawSink {
    #[serde(rename = "type")]
    kind: SinkType,
    name: Option<String>,
    cluster: String,
    path: Option<String>,
    authority: Option<String>,
    schema: Option<Schema>,
    token: Option<String>,
    index: Option<String>,
    timeout_ms: Option<u64>,
}

#[derive(Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
struct RawBatch {
    max_events: Option<usize>,
    max_bytes: Option<usize>,
    max_age_ms: Option<u64>,
}

#[derive(Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
struct RawBuffer {
    max_events: Option<usize>,
    max_bytes: Option<usize>,
    lease_ttl_ms: Option<u64>,
}

#[derive(Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
struct RawRetry {
    max_attempts: Option<u32>,
    backoff_ms: Option<u64>,
    max_backoff_ms: Option<u64>,
}

#[derive(Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
struct RawPrivacy {
    client_ip: Option<ClientIpMode>,
    principal: Option<PrincipalMode>,
    hash_key: Option<String>,
    excerpt_bytes: Option<usize>,
}

#[derive(Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub(super) struct RawDlp {
    action: DlpAction,
    threshold: Option<u32>,
    max_bytes: Option<usize>,
    kinds: Option<Vec<String>>,
}

fn in_range<T: PartialOrd + std::fmt::Display + Copy>(
    value: Option<T>,
    default: T,
    lo: T,
    hi: T,
    field: &str,
) -> Result<T, ConfigError> {
    match value {
        None => Ok(default),
        Some(v) if v >= lo && v <= hi => Ok(v),
        Some(v) => Err(ConfigError::new(
            field,
            format!("must be between {lo} and {hi}, got {v}"),
        )),
    }
}

fn visible(value: &str, max: usize) -> bool {
    !value.is_empty() && value.len() <= max && value.bytes().all(|b| b.is_ascii_graphic())
}

impl RawSink {
    fn validate(self, field: &str) -> Result<SinkConfig, ConfigError> {
        let cluster_ok = visible(&self.cluster, 128);
        if !cluster_ok {
            return Err(ConfigError::new(
                format!("{field}.cluster"),
                format!(
                    "must be an Envoy cluster name of 1 to 128 visible characters, got {:?}",
                    self.cluster
                ),
            ));
        }
        let default_path = match self.kind {
            SinkType::Ndjson => "/",
            SinkType::SplunkHec => "/services/collector/event",
            SinkType::ElasticBulk => "/_bulk",
        };
        let path = self.path.unwrap_or_else(|| default_path.to_string());
        if !path.starts_with('/') || !visible(&path, 1024) {
            return Err(ConfigError::new(
                format!("{field}.path"),
                format!("must start with '/' and hold only visible characters, got {path:?}"),
            ));
        }
        let authority = self.authority.unwrap_or_else(|| self.cluster.clone());
        if !visible(&authority, 256) {
            return Err(ConfigError::new(
                format!("{field}.authority"),
                format!("must be 1 to 256 visible characters, got {authority:?}"),
            ));
        }
        if let Some(t) = &self.token {
            let ok = !t.is_empty()
                && t.len() <= 4096
                && t.bytes().all(|b| b == b' ' || b.is_ascii_graphic());
            if !ok {
                return Err(ConfigError::new(
                    format!("{field}.token"),
                    "must be 1 to 4096 visible characters",
                ));
            }
        }
        if self.kind == SinkType::SplunkHec && self.token.is_none() {
            return Err(ConfigError::new(
                format!("{field}.token"),
                "is required for a splunk_hec sink (the HEC token)",
            ));
        }
        if let Some(i) = &self.index {
            let ok = visible(i, 255)
                && !i.starts_with(['_', '-', '+'])
                && i.bytes()
                    .all(|b| !b"\\/*?\"<>|,#:".contains(&b) && !b.is_ascii_uppercase());
            if !ok {
                return Err(ConfigError::new(
                    format!("{field}.index"),
                    format!("{i:?} is not a valid index name (lower case, no \\ / * ? \" < > | , # :, not starting with _ - +)"),
                ));
            }
        }
        if self.index.is_some() && self.kind != SinkType::ElasticBulk {
            return Err(ConfigError::new(
                format!("{field}.index"),
                "only an elastic_bulk sink has an index (Splunk's index is chosen by its token)",
            ));
        }
        if self.kind == SinkType::ElasticBulk && self.index.is_none() && path == "/_bulk" {
            return Err(ConfigError::new(
                format!("{field}.index"),
                "is required for an elastic_bulk sink unless its path names the index (/<index>/_bulk)",
            ));
        }
        let name = self.name.unwrap_or_else(|| self.kind.as_str().to_string());
        let name_ok = !name.is_empty()
            && name.len() <= 32
            && name
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
        if !name_ok {
            return Err(ConfigError::new(
                format!("{field}.name"),
                format!("must be 1 to 32 of a-z, 0-9, _ (it becomes a metric label), got {name:?}"),
            ));
        }
        Ok(SinkConfig {
            name,
            kind: self.kind,
            cluster: self.cluster,
            path,
            authority,
            schema: self.schema.unwrap_or(Schema::Ocsf),
            token: self.token,
            index: self.index,
            timeout_ms: in_range(
                self.timeout_ms,
                2000,
                10,
                60_000,
                &format!("{field}.timeout_ms"),
            )?,
        })
    }
}

impl RawEvents {
    pub(super) fn validate(self, field: &str) -> Result<EventsConfig, ConfigError> {
        if self.sinks.is_empty() || self.sinks.len() > MAX_SINKS {
            return Err(ConfigError::new(
                format!("{field}.sinks"),
                format!("give 1 to {MAX_SINKS} sinks, got {}", self.sinks.len()),
            ));
        }
        let mut sinks: Vec<SinkConfig> = Vec::new();
        for (i, s) in self.sinks.into_iter().enumerate() {
            let f = format!("{field}.sinks[{i}]");
            let s = s.validate(&f)?;
            if sinks.iter().any(|o| o.name == s.name) {
                return Err(ConfigError::new(
                    format!("{f}.name"),
                    format!(
                        "{:?} is used by another sink: give each sink its own name",
                        s.name
                    ),
                ));
            }
            sinks.push(s);
        }
        let sample_allow = match self.sample_allow {
            None => 0.0,
            Some(r) if (0.0..=1.0).contains(&r) => r,
            Some(r) => {
                return Err(ConfigError::new(
                    format!("{field}.sample_allow"),
                    format!("must be between 0 and 1, got {r}"),
                ))
            }
        };
        let b = self.batch.unwrap_or(RawBatch {
            max_events: None,
            max_bytes: None,
            max_age_ms: None,
        });
        let batch = BatchLimits {
            max_events: in_range(
                b.max_events,
                100,
                1,
                10_000,
                &format!("{field}.batch.max_events"),
            )?,
            max_bytes: in_range(
                b.max_bytes,
                256 * 1024,
                1024,
                8 * 1024 * 1024,
                &format!("{field}.batch.max_bytes"),
            )?,
            max_age_ms: in_range(
                b.max_age_ms,
                1000,
                10,
                60_000,
                &format!("{field}.batch.max_age_ms"),
            )?,
        };
        let flush_interval_ms = in_range(
            self.flush_interval_ms,
            200,
            10,
            1000,
            &format!("{field}.flush_interval_ms"),
        )?;
        let u = self.buffer.unwrap_or(RawBuffer {
            max_events: None,
            max_bytes: None,
            lease_ttl_ms: None,
        });
        let buffer = BufferLimits {
            max_events: in_range(
                u.max_events,
                2000,
                1,
                100_000,
                &format!("{field}.buffer.max_events"),
            )?,
            max_bytes: in_range(
                u.max_bytes,
                2 * 1024 * 1024,
                1024,
                MAX_BUFFER_BYTES,
                &format!("{field}.buffer.max_bytes"),
            )?,
            lease_ttl_ms: in_range(
                u.lease_ttl_ms,
                10_000,
                1000,
                600_000,
                &format!("{field}.buffer.lease_ttl_ms"),
            )?,
        };
        if buffer.lease_ttl_ms < 5 * flush_interval_ms {
            return Err(ConfigError::new(
                format!("{field}.buffer.lease_ttl_ms"),
                format!(
                    "must be at least 5 x flush_interval_ms ({} ms): a live worker renews its lease at every flush tick",
                    5 * flush_interval_ms
                ),
            ));
        }
        let r = self.retry.unwrap_or(RawRetry {
            max_attempts: None,
            backoff_ms: None,
            max_backoff_ms: None,
        });
        let retry = RetryPolicy {
            max_attempts: in_range(
                r.max_attempts,
                3,
                1,
                10,
                &format!("{field}.retry.max_attempts"),
            )?,
            backoff_ms: in_range(
                r.backoff_ms,
                250,
                10,
                60_000,
                &format!("{field}.retry.backoff_ms"),
            )?,
            max_backoff_ms: in_range(
                r.max_backoff_ms,
                10_000,
                10,
                600_000,
                &format!("{field}.retry.max_backoff_ms"),
            )?,
        };
        if retry.max_backoff_ms < retry.backoff_ms {
            return Err(ConfigError::new(
                format!("{field}.retry.max_backoff_ms"),
                format!("must not be below backoff_ms ({})", retry.backoff_ms),
            ));
        }
        let p = self.privacy.unwrap_or(RawPrivacy {
            client_ip: None,
            principal: None,
            hash_key: None,
            excerpt_bytes: None,
        });
        let client_ip = p.client_ip.unwrap_or(ClientIpMode::Truncate);
        let principal = p.principal.unwrap_or(PrincipalMode::Hash);
        let hash_key = match p.hash_key {
            Some(k) if k.len() >= 16 && k.len() <= 256 => k.into_bytes(),
            Some(k) => {
                return Err(ConfigError::new(
                    format!("{field}.privacy.hash_key"),
                    format!("must be 16 to 256 bytes, got {}", k.len()),
                ))
            }
            None => Vec::new(),
        };
        let needs_key = client_ip == ClientIpMode::Hash || principal == PrincipalMode::Hash;
        if needs_key && hash_key.is_empty() {
            return Err(ConfigError::new(
                format!("{field}.privacy.hash_key"),
                "is required when client_ip or principal is \"hash\" (principal defaults to \"hash\"; set it to \"omit\" to go without a key)",
            ));
        }
        let excerpt_bytes = in_range(
            p.excerpt_bytes,
            256,
            0,
            4096,
            &format!("{field}.privacy.excerpt_bytes"),
        )?;
        Ok(EventsConfig {
            sinks,
            sample_allow,
            batch,
            buffer,
            retry,
            flush_interval_ms,
            privacy: PrivacyConfig {
                client_ip,
                principal,
                hash_key,
                excerpt_bytes,
            },
        })
    }
}

impl RawDlp {
    pub(super) fn validate(self, field: &str) -> Result<DlpConfig, ConfigError> {
        let kinds = match self.kinds {
            None => KindSet::without_generic_secrets(),
            Some(names) => {
                if names.is_empty() {
                    return Err(ConfigError::new(
                        format!("{field}.kinds"),
                        "give at least one kind (or leave kinds out for all but secret)",
                    ));
                }
                let mut kinds = Vec::new();
                for (i, n) in names.iter().enumerate() {
                    match Kind::from_name(n) {
                        Some(k) => kinds.push(k),
                        None => {
                            let known: Vec<&str> = Kind::ALL.iter().map(|k| k.as_str()).collect();
                            return Err(ConfigError::new(
                                format!("{field}.kinds[{i}]"),
                                format!("unknown kind {n:?}; known: {}", known.join(", ")),
                            ));
                        }
                    }
                }
                KindSet::of(&kinds)
            }
        };
        Ok(DlpConfig {
            action: self.action,
            threshold: in_range(
                self.threshold,
                1,
                1,
                1_000_000,
                &format!("{field}.threshold"),
            )?,
            max_bytes: in_range(
                self.max_bytes,
                256 * 1024,
                1,
                MAX_DLP_BYTES,
                &format!("{field}.max_bytes"),
            )?,
            kinds,
        })
    }
}

#[cfg(test)]
mod tests {
    use crate::config::{ClientIpMode, Config, DlpAction, Schema, SinkType};

    const SINK: &str = r#"{"type":"ndjson","cluster":"siem"}"#;

    fn events(body: &str) -> String {
        format!(r#"{{"events":{body}}}"#)
    }

    #[test]
    fn a_minimal_events_section_gets_private_defaults() {
        let cfg = Config::from_json(
            events(&format!(
                r#"{{"sinks":[{SINK}],"privacy":{{"principal":"omit"}}}}"#
            ))
            .as_bytes(),
        )
        .unwrap();
        let e = cfg.events.unwrap();
        assert_eq!(e.sinks[0].kind, SinkType::Ndjson);
        assert_eq!(e.sinks[0].schema, Schema::Ocsf);
        assert_eq!(
            (e.sinks[0].path.as_str(), e.sinks[0].authority.as_str()),
            ("/", "siem")
        );
        assert_eq!(e.privacy.client_ip, ClientIpMode::Truncate);
        assert_eq!(e.sample_allow, 0.0);
        assert_eq!((e.batch.max_events, e.flush_interval_ms), (100, 200));
        let cfg = Config::from_json(
            br#"{"routes":[{"prefix":"/r/","dlp":{"action":"mask","kinds":["card","email"]}}]}"#,
        )
        .unwrap();
        let d = cfg.routes[0].dlp.unwrap();
        assert_eq!((d.action, d.threshold), (DlpAction::Mask, 1));
    }

    #[test]
    fn every_invalid_value_is_refused_naming_its_field() {
        let key = r#""privacy":{"hash_key":"0123456789abcdef"}"#;
        let cases: &[(String, &str)] = &[
            (events(r#"{"sinks":[]}"#), "events.sinks"),
            (
                events(r#"{"sinks":[{"type":"kafka","cluster":"c"}]}"#),
                "events.sinks[0].type",
            ),
            (
                events(r#"{"sinks":[{"type":"ndjson"}]}"#),
                "events.sinks[0].cluster",
            ),
            (
                events(r#"{"sinks":[{"type":"ndjson","cluster":""}]}"#),
                "events.sinks[0].cluster",
            ),
            (
                events(r#"{"sinks":[{"type":"ndjson","cluster":"c","path":"x"}]}"#),
                "events.sinks[0].path",
            ),
            (
                events(r#"{"sinks":[{"type":"ndjson","cluster":"c","schema":"cef"}]}"#),
                "events.sinks[0].schema",
            ),
            (
                events(r#"{"sinks":[{"type":"splunk_hec","cluster":"c"}]}"#),
                "events.sinks[0].token",
            ),
            (
                events(r#"{"sinks":[{"type":"elastic_bulk","cluster":"c"}]}"#),
                "events.sinks[0].index",
            ),
            (
                events(r#"{"sinks":[{"type":"elastic_bulk","cluster":"c","index":"Logs"}]}"#),
                "events.sinks[0].index",
            ),
            (
                events(r#"{"sinks":[{"type":"ndjson","cluster":"c","index":"logs"}]}"#),
                "events.sinks[0].index",
            ),
            (
                events(r#"{"sinks":[{"type":"ndjson","cluster":"c","name":"Bad-Name"}]}"#),
                "events.sinks[0].name",
            ),
            (
                events(r#"{"sinks":[{"type":"ndjson","cluster":"c","timeout_ms":0}]}"#),
                "events.sinks[0].timeout_ms",
            ),
            (
                events(r#"{"sinks":[{"type":"ndjson","cluster":"c","colour":1}]}"#),
                "events.sinks[0].colour",
            ),
            (
                events(&format!(r#"{{"sinks":[{SINK},{SINK}],{key}}}"#)),
                "events.sinks[1].name",
            ),
            (
                events(&format!(r#"{{"sinks":[{SINK}],"sample_allow":1.5,{key}}}"#)),
                "events.sample_allow",
            ),
            (
                events(&format!(
                    r#"{{"sinks":[{SINK}],"batch":{{"max_events":0}},{key}}}"#
                )),
                "events.batch.max_events",
            ),
            (
                events(&format!(
                    r#"{{"sinks":[{SINK}],"buffer":{{"max_bytes":1}},{key}}}"#
                )),
                "events.buffer.max_bytes",
            ),
            (
                events(&format!(
                    r#"{{"sinks":[{SINK}],"buffer":{{"max_events":100001}},{key}}}"#
                )),
                "events.buffer.max_events",
            ),
            (
                events(&format!(
                    r#"{{"sinks":[{SINK}],"buffer":{{"lease_ttl_ms":999}},{key}}}"#
                )),
                "events.buffer.lease_ttl_ms",
            ),
            (
                events(&format!(
                    r#"{{"sinks":[{SINK}],"flush_interval_ms":1000,"buffer":{{"lease_ttl_ms":4000}},{key}}}"#
                )),
                "events.buffer.lease_ttl_ms",
            ),
            (
                events(&format!(
                    r#"{{"sinks":[{SINK}],"retry":{{"max_attempts":0}},{key}}}"#
                )),
                "events.retry.max_attempts",
            ),
            (
                events(&format!(
                    r#"{{"sinks":[{SINK}],"retry":{{"backoff_ms":500,"max_backoff_ms":100}},{key}}}"#
                )),
                "events.retry.max_backoff_ms",
            ),
            (
                events(&format!(
                    r#"{{"sinks":[{SINK}],"flush_interval_ms":5000,{key}}}"#
                )),
                "events.flush_interval_ms",
            ),
            (
                events(&format!(r#"{{"sinks":[{SINK}]}}"#)),
                "events.privacy.hash_key",
            ),
            (
                events(&format!(
                    r#"{{"sinks":[{SINK}],"privacy":{{"hash_key":"short"}}}}"#
                )),
                "events.privacy.hash_key",
            ),
            (
                events(&format!(
                    r#"{{"sinks":[{SINK}],"privacy":{{"client_ip":"mask","principal":"omit"}}}}"#
                )),
                "events.privacy.client_ip",
            ),
            (
                events(&format!(
                    r#"{{"sinks":[{SINK}],"privacy":{{"principal":"omit","excerpt_bytes":5000}}}}"#
                )),
                "events.privacy.excerpt_bytes",
            ),
            (
                r#"{"routes":[{"prefix":"/r/","dlp":{"action":"redact"}}]}"#.to_string(),
                "routes[0].dlp.action",
            ),
            (
                r#"{"routes":[{"prefix":"/r/","dlp":{}}]}"#.to_string(),
                "routes[0].dlp.action",
            ),
            (
                r#"{"routes":[{"prefix":"/r/","dlp":{"action":"mask","kinds":["card","dna"]}}]}"#
                    .to_string(),
                "routes[0].dlp.kinds[1]",
            ),
            (
                r#"{"routes":[{"prefix":"/r/","dlp":{"action":"mask","kinds":[]}}]}"#.to_string(),
                "routes[0].dlp.kinds",
            ),
            (
                r#"{"routes":[{"prefix":"/r/","dlp":{"action":"block","threshold":0}}]}"#
                    .to_string(),
                "routes[0].dlp.threshold",
            ),
            (
                r#"{"routes":[{"prefix":"/r/","dlp":{"action":"block","max_bytes":2000000}}]}"#
                    .to_string(),
                "routes[0].dlp.max_bytes",
            ),
        ];
        for (json, field) in cases {
            let e = Config::from_json(json.as_bytes()).expect_err(json);
            assert_eq!(&e.field, field, "{json}: {e}");
        }
    }
}
