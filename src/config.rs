//! Plugin configuration: raw serde structs (unknown fields rejected), then validation into
//! [`Config`]. Every error names the field it is about, so the operator knows what to change.

use std::fmt;

use base64::Engine as _;
use serde::Deserialize;

use crate::model::ModelMetadata;

mod behaviour;
mod consensus;
mod crowdsec;
mod events;
mod probes;

pub use behaviour::{
    Allowlist, BehaviourConfig, BlockScope, BlockStep, BolaThreshold, BurstThreshold,
    ChallengeStep, Ladder, ModelDenies, RateThreshold, RevokeStep, SignalThresholds, SizeThreshold,
    StructureThreshold, Tables, ThrottleStep, Warmup, MAX_TTL_S,
};
pub use consensus::{ConsensusConfig, ALWAYS_EXEMPT, DEFAULT_EXEMPT};
pub use crowdsec::{CrowdsecConfig, WatcherConfig};
pub use events::{
    BatchLimits, BufferLimits, ClientIpMode, DlpAction, DlpConfig, EventsConfig, PrincipalMode,
    PrivacyConfig, RetryPolicy, Schema, SinkConfig, SinkType,
};
pub use probes::{ProbeAction, ProbesConfig};

/// Largest body Envoy buffers for a filter by default (connection buffer limit ~1 MiB).
pub const MAX_BODY_BYTES_LIMIT: usize = 1024 * 1024;

/// Which annotation headers go upstream with a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "lowercase")]
pub enum Annotations {
    /// score, class, action, mode, reasons, signals, request-id, latency-us.
    #[default]
    Full,
    /// action, score, request-id: three header writes instead of eight.
    Minimal,
}

/// What the filter does with its decisions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    /// Score, annotate, count; never block (shadow mode).
    Monitor,
    /// Apply the decided action.
    Enforce,
}

impl Mode {
    /// The lower-case name used in headers and events.
    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Monitor => "monitor",
            Mode::Enforce => "enforce",
        }
    }
}

/// What happens to a request when the filter itself fails (model error, host error).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "lowercase")]
pub enum FailureMode {
    /// Let the request through, annotated `action: error`.
    Open,
    /// Answer 503.
    Closed,
}

impl FailureMode {
    /// The lower-case name used in configuration and logs.
    pub fn as_str(self) -> &'static str {
        match self {
            FailureMode::Open => "open",
            FailureMode::Closed => "closed",
        }
    }
}

/// Score thresholds; `None` means "take the model's calibrated default".
#[derive(Debug, Clone, Copy, Default, PartialEq, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct ThresholdOverrides {
    /// Attack probability from which a request is annotated as suspicious.
    pub annotate: Option<f32>,
    /// Attack probability from which a request is denied.
    pub deny: Option<f32>,
}

/// Resolved thresholds, `annotate <= deny`, both in `[0, 1]`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Thresholds {
    /// Attack probability from which a request is annotated as suspicious.
    pub annotate: f32,
    /// Attack probability from which a request is denied.
    pub deny: f32,
}

impl Thresholds {
    /// Applies `overrides` on top of `self` and checks the result; `field` prefixes errors.
    pub fn with_overrides(
        self,
        overrides: &ThresholdOverrides,
        field: &str,
    ) -> Result<Thresholds, ConfigError> {
        let merged = Thresholds {
            annotate: overrides.annotate.unwrap_or(self.annotate),
            deny: overrides.deny.unwrap_or(self.deny),
        };
        for (name, value) in [("annotate", merged.annotate), ("deny", merged.deny)] {
            if !(0.0..=1.0).contains(&value) {
                return Err(ConfigError::new(
                    format!("{field}.{name}"),
                    format!("must be between 0 and 1, got {value}"),
                ));
            }
        }
        if merged.annotate > merged.deny {
            return Err(ConfigError::new(
                field.to_string(),
                format!(
                    "annotate ({}) must not be above deny ({})",
                    merged.annotate, merged.deny
                ),
            ));
        }
        Ok(merged)
    }
}

/// Where a principal is read from; sources are tried in order and the first present wins.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PrincipalSource {
    /// The value of a header, hashed (API keys; a `Bearer ` prefix is stripped first).
    Header {
        /// Header name, lower-case.
        name: String,
    },
    /// The token of a `Bearer` credential, hashed.
    Bearer {
        /// Header name, lower-case (`authorization`).
        header: String,
    },
    /// A claim of the JWT in a `Bearer` credential, read **without verification**: use it only
    /// when a filter in front of apiward (Envoy `jwt_authn`) verifies tokens, or anyone can
    /// claim any subject.
    JwtClaim {
        /// Header name, lower-case (`authorization`).
        header: String,
        /// Claim name (`sub`).
        claim: String,
    },
}

/// Largest number of principal sources.
pub const MAX_PRINCIPAL_SOURCES: usize = 8;

/// Where the client and the principal come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdentityConfig {
    /// Number of trusted proxies in front of Envoy that append to X-Forwarded-For.
    pub trusted_xff_hops: usize,
    /// Headers that carry a credential (first present wins), lower-case: the headers the
    /// principal sources read, for [`crate::request::identify`].
    pub principal_headers: Vec<String>,
    /// Principal sources in order.
    pub principal_sources: Vec<PrincipalSource>,
}

/// Where the model comes from.
#[derive(Debug, Clone)]
pub enum ModelSource {
    /// The model compiled into the module.
    Embedded,
    /// A model given in the configuration.
    Inline {
        /// ONNX bytes.
        onnx: Vec<u8>,
        /// Its metadata (classes, thresholds, schema).
        metadata: Box<ModelMetadata>,
    },
}

/// A per-route override, matched by longest path prefix.
#[derive(Debug, Clone, PartialEq)]
pub struct RouteOverride {
    /// Path prefix, starting with `/`.
    pub prefix: String,
    /// Mode for this route, if different.
    pub mode: Option<Mode>,
    /// Threshold overrides for this route.
    pub thresholds: ThresholdOverrides,
    /// Do not inspect this route at all.
    pub skip: bool,
    /// The response ladder of this route (the global ladder with this route's overrides).
    pub ladder: Option<Ladder>,
    /// Response inspection (excessive data exposure) on this route.
    pub dlp: Option<DlpConfig>,
    /// Restricted-resource probes on this route, if different from `probes.enabled` (off for
    /// routes that serve files by name).
    pub probes: Option<bool>,
}

/// Validated configuration.
#[derive(Debug, Clone)]
pub struct Config {
    /// Default mode.
    pub mode: Mode,
    /// Behaviour when the filter fails.
    pub failure_mode: FailureMode,
    /// Request body bytes inspected; the rest is passed on unscored (and said so).
    pub max_body_bytes: usize,
    /// Global threshold overrides (resolved against the model's defaults at load).
    pub thresholds: ThresholdOverrides,
    /// Prefix of the headers added upstream, e.g. `x-apiward-`.
    pub annotation_prefix: String,
    /// Which annotation headers are added.
    pub annotations: Annotations,
    /// Client and principal identity.
    pub identity: IdentityConfig,
    /// Request headers whose values are scored, lower-case.
    pub inspect_headers: Vec<String>,
    /// Score every other request header too, except [`Config::skip_headers`].
    pub inspect_other_headers: bool,
    /// Headers never scored as other headers (lower-case; `prefix*` matches a prefix):
    /// credentials, transport and tracing. The principal headers are added at load.
    pub skip_headers: Vec<String>,
    /// Upper bound of separately scored values per request; the rest are scored together.
    pub max_inspected_values: usize,
    /// Values that cannot carry an injection are not scored ([`crate::features::is_inert`]).
    pub skip_inert_values: bool,
    /// Values whose model output is remembered per VM ([`crate::scorecache`]); 0: none.
    pub score_cache_entries: usize,
    /// Model source.
    pub model: ModelSource,
    /// Route overrides, longest prefix first.
    pub routes: Vec<RouteOverride>,
    /// Behavioural analytics.
    pub behaviour: BehaviourConfig,
    /// The global response ladder.
    pub ladder: Ladder,
    /// Exemptions from behavioural steps.
    pub allowlist: Allowlist,
    /// Value consensus: discounts for suspicious values many distinct clients send.
    pub consensus: ConsensusConfig,
    /// Security events to the SIEM; `None`: no events.
    pub events: Option<EventsConfig>,
    /// Fleet-wide decisions through a CrowdSec Local API, if configured.
    pub crowdsec: Option<CrowdsecConfig>,
    /// Requests for restricted resources (`/.git/config`), decided from the path.
    pub probes: ProbesConfig,
}

/// Upper bound of `score_cache_entries` (about 4 MiB per VM with 13 classes).
pub const MAX_SCORE_CACHE_ENTRIES: usize = 65_536;

/// The headers scored by default: those attackers control and upstreams often log or parse.
pub const DEFAULT_INSPECT_HEADERS: &[&str] = &[
    "user-agent",
    "referer",
    "x-forwarded-for",
    "x-forwarded-host",
    "x-real-ip",
    "cookie",
    "origin",
    "accept-language",
    "x-api-version",
];

/// Headers that [`Config::inspect_other_headers`] leaves out by default: credentials (their
/// values are secrets and opaque), transport and hop-by-hop headers, and the tracing and proxy
/// headers that Envoy and tracers write.
pub const DEFAULT_SKIP_HEADERS: &[&str] = &[
    "authorization",
    "proxy-authorization",
    "x-api-key",
    "x-amz-security-token",
    "x-amz-content-sha256",
    "x-amz-date",
    "host",
    "content-length",
    "transfer-encoding",
    "connection",
    "keep-alive",
    "te",
    "upgrade",
    "accept-encoding",
    "x-request-id",
    "x-forwarded-proto",
    "x-forwarded-client-cert",
    "traceparent",
    "tracestate",
    "b3",
    "x-b3-*",
    "x-ot-span-context",
    "x-cloud-trace-context",
    "x-amzn-trace-id",
    "x-datadog-*",
    "x-envoy-*",
];

impl Config {
    /// The skip list when every other header is scored, `None` when only the named ones are.
    pub fn other_headers(&self) -> Option<&[String]> {
        self.inspect_other_headers
            .then_some(self.skip_headers.as_slice())
    }
}

impl Default for Config {
    fn default() -> Self {
        Config {
            mode: Mode::Monitor,
            failure_mode: FailureMode::Open,
            max_body_bytes: 64 * 1024,
            thresholds: ThresholdOverrides::default(),
            annotation_prefix: "x-apiward-".to_string(),
            annotations: Annotations::Full,
            identity: IdentityConfig {
                trusted_xff_hops: 0,
                principal_headers: vec!["authorization".to_string(), "x-api-key".to_string()],
                principal_sources: vec![
                    PrincipalSource::Header {
                        name: "authorization".to_string(),
                    },
                    PrincipalSource::Header {
                        name: "x-api-key".to_string(),
                    },
                ],
            },
            inspect_headers: DEFAULT_INSPECT_HEADERS
                .iter()
                .map(|h| h.to_string())
                .collect(),
            inspect_other_headers: true,
            skip_headers: DEFAULT_SKIP_HEADERS.iter().map(|h| h.to_string()).collect(),
            max_inspected_values: 32,
            skip_inert_values: true,
            score_cache_entries: 4096,
            model: ModelSource::Embedded,
            routes: Vec::new(),
            behaviour: BehaviourConfig::default(),
            ladder: Ladder::default(),
            allowlist: Allowlist::default(),
            consensus: ConsensusConfig::default(),
            events: None,
            crowdsec: None,
            probes: ProbesConfig::default(),
        }
    }
}

/// A configuration error: which field, and what is wrong with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    /// Dotted path of the field, e.g. `routes[0].prefix`; `.` for the document itself.
    pub field: String,
    /// What is wrong and what is expected.
    pub message: String,
}

impl ConfigError {
    /// Builds an error about `field`.
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        ConfigError {
            field: field.into(),
            message: message.into(),
        }
    }
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.field, self.message)
    }
}

impl std::error::Error for ConfigError {}

#[derive(Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
struct RawConfig {
    mode: Option<Mode>,
    failure_mode: Option<FailureMode>,
    max_body_bytes: Option<usize>,
    thresholds: Option<ThresholdOverrides>,
    annotation_prefix: Option<String>,
    annotations: Option<Annotations>,
    client_identity: Option<RawIdentity>,
    inspect_headers: Option<Vec<String>>,
    inspect_other_headers: Option<bool>,
    skip_headers: Option<Vec<String>>,
    max_inspected_values: Option<usize>,
    skip_inert_values: Option<bool>,
    score_cache_entries: Option<usize>,
    model: Option<RawModel>,
    routes: Option<Vec<RawRoute>>,
    behaviour: Option<behaviour::RawBehaviour>,
    ladder: Option<behaviour::RawLadder>,
    allowlist: Option<behaviour::RawAllowlist>,
    consensus: Option<consensus::RawConsensus>,
    events: Option<events::RawEvents>,
    crowdsec: Option<crowdsec::RawCrowdsec>,
    probes: Option<probes::RawProbes>,
}

#[derive(Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
struct RawIdentity {
    trusted_xff_hops: Option<usize>,
    principal_headers: Option<Vec<String>>,
    principal_sources: Option<Vec<RawPrincipalSource>>,
}

#[derive(Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
struct RawPrincipalSource {
    header: Option<String>,
    bearer: Option<bool>,
    jwt_claim: Option<String>,
}

impl RawPrincipalSource {
    fn validate(self, field: &str) -> Result<PrincipalSource, ConfigError> {
        let header = |default: &str| match &self.header {
            Some(h) => header_name(h, &format!("{field}.header")),
            None => Ok(default.to_string()),
        };
        match (self.bearer, &self.jwt_claim) {
            (Some(_), Some(_)) => Err(ConfigError::new(
                field,
                "give either bearer or jwt_claim, not both",
            )),
            (Some(false), None) => Err(ConfigError::new(
                format!("{field}.bearer"),
                "must be true (remove the source to stop using it)",
            )),
            (Some(true), None) => Ok(PrincipalSource::Bearer {
                header: header("authorization")?,
            }),
            (None, Some(claim)) => {
                let ok = !claim.is_empty()
                    && claim.len() <= 64
                    && claim.bytes().all(|b| b.is_ascii_graphic());
                if !ok {
                    return Err(ConfigError::new(
                        format!("{field}.jwt_claim"),
                        format!(
                            "must be a claim name of 1 to 64 visible characters, got {claim:?}"
                        ),
                    ));
                }
                Ok(PrincipalSource::JwtClaim {
                    header: header("authorization")?,
                    claim: claim.clone(),
                })
            }
            (None, None) => match &self.header {
                Some(_) => Ok(PrincipalSource::Header { name: header("")? }),
                None => Err(ConfigError::new(
                    field,
                    "give one of header, bearer or jwt_claim",
                )),
            },
        }
    }
}

#[derive(Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(tag = "source", rename_all = "lowercase", deny_unknown_fields)]
enum RawModel {
    Embedded,
    Inline {
        onnx_base64: String,
        metadata: Box<ModelMetadata>,
    },
}

#[derive(Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
struct RawRoute {
    prefix: String,
    mode: Option<Mode>,
    thresholds: Option<ThresholdOverrides>,
    #[serde(default)]
    skip: bool,
    ladder: Option<behaviour::RawLadder>,
    dlp: Option<events::RawDlp>,
    /// Restricted-resource probes on this route (default: `probes.enabled`); false for routes
    /// that serve files by name.
    probes: Option<bool>,
}

impl Config {
    /// Parses and validates the plugin configuration. Empty input means all defaults.
    pub fn from_json(bytes: &[u8]) -> Result<Config, ConfigError> {
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Ok(Config::default());
        }
        if bytes.iter().find(|b| !b.is_ascii_whitespace()) != Some(&b'{') {
            return Err(ConfigError::new(
                ".",
                "the configuration must be a JSON object",
            ));
        }
        let mut de = serde_json::Deserializer::from_slice(bytes);
        let raw: RawConfig = serde_path_to_error::deserialize(&mut de).map_err(|e| {
            let path = e.path().to_string();
            let inner = e.into_inner();
            // serde_json appends " at line L column C"; keep it, it helps with long configs.
            let message = inner.to_string();
            let mut field = if path.is_empty() || path == "?" {
                ".".to_string()
            } else {
                path
            };
            // serde reports a missing field on its parent object; name the field itself.
            if let Some(name) = message
                .strip_prefix("missing field `")
                .and_then(|rest| rest.split('`').next())
            {
                field = if field == "." {
                    name.to_string()
                } else {
                    format!("{field}.{name}")
                };
            }
            ConfigError::new(field, message)
        })?;
        de.end()
            .map_err(|e| ConfigError::new(".", format!("trailing data after the object: {e}")))?;
        Config::try_from(raw)
    }

    /// The override whose prefix is the longest match for `path`.
    pub fn route_for(&self, path: &str) -> Option<&RouteOverride> {
        self.routes.iter().find(|r| path.starts_with(&r.prefix))
    }
}

/// The JSON schema (draft 2020-12) of the plugin configuration, generated from the raw structs
/// that [`Config::from_json`] parses, so it cannot drift from the parser. It checks shape (field
/// names, types, enums); ranges and cross-field rules are checked by the validation at load.
#[cfg(feature = "schema")]
pub fn json_schema() -> serde_json::Value {
    let mut schema = schemars::schema_for!(RawConfig).to_value();
    if let Some(obj) = schema.as_object_mut() {
        obj.insert(
            "title".into(),
            serde_json::Value::String("apiward plugin configuration".into()),
        );
        obj.insert(
            "description".into(),
            serde_json::Value::String(
                "Generated from the Rust types that parse the configuration (`apiward config-schema`). \
                 Ranges and cross-field rules are checked when the filter loads the configuration."
                    .into(),
            ),
        );
    }
    schema
}

fn header_name(value: &str, field: &str) -> Result<String, ConfigError> {
    let name = value.trim().to_ascii_lowercase();
    let valid = !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b));
    if valid {
        Ok(name)
    } else {
        Err(ConfigError::new(
            field,
            format!("{value:?} is not a valid HTTP header name"),
        ))
    }
}

impl TryFrom<RawConfig> for Config {
    type Error = ConfigError;

    fn try_from(raw: RawConfig) -> Result<Config, ConfigError> {
        let mut cfg = Config::default();
        if let Some(mode) = raw.mode {
            cfg.mode = mode;
        }
        if let Some(fm) = raw.failure_mode {
            cfg.failure_mode = fm;
        }
        if let Some(n) = raw.max_body_bytes {
            if n > MAX_BODY_BYTES_LIMIT {
                return Err(ConfigError::new(
                    "max_body_bytes",
                    format!("must be at most {MAX_BODY_BYTES_LIMIT} (Envoy's default buffer limit), got {n}"),
                ));
            }
            cfg.max_body_bytes = n;
        }
        if let Some(t) = raw.thresholds {
            // Range checks now; the annotate <= deny check needs the model's defaults (at load).
            Thresholds {
                annotate: 0.0,
                deny: 1.0,
            }
            .with_overrides(&t, "thresholds")?;
            cfg.thresholds = t;
        }
        if let Some(prefix) = raw.annotation_prefix {
            let name = header_name(&prefix, "annotation_prefix")?;
            if name.starts_with(':') {
                return Err(ConfigError::new(
                    "annotation_prefix",
                    "must not be a pseudo-header",
                ));
            }
            cfg.annotation_prefix = name;
        }
        if let Some(a) = raw.annotations {
            cfg.annotations = a;
        }
        if let Some(id) = raw.client_identity {
            if let Some(hops) = id.trusted_xff_hops {
                if hops > 16 {
                    return Err(ConfigError::new(
                        "client_identity.trusted_xff_hops",
                        format!("must be at most 16, got {hops}"),
                    ));
                }
                cfg.identity.trusted_xff_hops = hops;
            }
            if id.principal_headers.is_some() && id.principal_sources.is_some() {
                return Err(ConfigError::new(
                    "client_identity",
                    "give principal_sources or principal_headers, not both",
                ));
            }
            if let Some(headers) = id.principal_headers {
                cfg.identity.principal_headers = headers
                    .iter()
                    .enumerate()
                    .map(|(i, h)| {
                        header_name(h, &format!("client_identity.principal_headers[{i}]"))
                    })
                    .collect::<Result<_, _>>()?;
                cfg.identity.principal_sources = cfg
                    .identity
                    .principal_headers
                    .iter()
                    .map(|name| PrincipalSource::Header { name: name.clone() })
                    .collect();
            }
            if let Some(sources) = id.principal_sources {
                if sources.len() > MAX_PRINCIPAL_SOURCES {
                    return Err(ConfigError::new(
                        "client_identity.principal_sources",
                        format!(
                            "at most {MAX_PRINCIPAL_SOURCES} sources, got {}",
                            sources.len()
                        ),
                    ));
                }
                cfg.identity.principal_sources = sources
                    .into_iter()
                    .enumerate()
                    .map(|(i, s)| s.validate(&format!("client_identity.principal_sources[{i}]")))
                    .collect::<Result<_, _>>()?;
                let mut headers: Vec<String> = Vec::new();
                for s in &cfg.identity.principal_sources {
                    let h = match s {
                        PrincipalSource::Header { name } => name,
                        PrincipalSource::Bearer { header }
                        | PrincipalSource::JwtClaim { header, .. } => header,
                    };
                    if !headers.contains(h) {
                        headers.push(h.clone());
                    }
                }
                cfg.identity.principal_headers = headers;
            }
        }
        if let Some(headers) = raw.inspect_headers {
            cfg.inspect_headers = headers
                .iter()
                .enumerate()
                .map(|(i, h)| header_name(h, &format!("inspect_headers[{i}]")))
                .collect::<Result<_, _>>()?;
        }
        if let Some(others) = raw.inspect_other_headers {
            cfg.inspect_other_headers = others;
        }
        if let Some(headers) = raw.skip_headers {
            cfg.skip_headers = headers
                .iter()
                .enumerate()
                .map(|(i, h)| {
                    let field = format!("skip_headers[{i}]");
                    match h.trim().strip_suffix('*') {
                        Some(prefix) => Ok(format!("{}*", header_name(prefix, &field)?)),
                        None => header_name(h, &field),
                    }
                })
                .collect::<Result<_, _>>()?;
        }
        for h in &cfg.identity.principal_headers {
            if !cfg.skip_headers.contains(h) {
                cfg.skip_headers.push(h.clone());
            }
        }
        if let Some(n) = raw.max_inspected_values {
            if !(1..=256).contains(&n) {
                return Err(ConfigError::new(
                    "max_inspected_values",
                    format!("must be between 1 and 256, got {n}"),
                ));
            }
            cfg.max_inspected_values = n;
        }
        if let Some(skip) = raw.skip_inert_values {
            cfg.skip_inert_values = skip;
        }
        if let Some(n) = raw.score_cache_entries {
            if n > MAX_SCORE_CACHE_ENTRIES {
                return Err(ConfigError::new(
                    "score_cache_entries",
                    format!("must be between 0 and {MAX_SCORE_CACHE_ENTRIES}, got {n}"),
                ));
            }
            cfg.score_cache_entries = n;
        }
        if let Some(model) = raw.model {
            cfg.model = match model {
                RawModel::Embedded => ModelSource::Embedded,
                RawModel::Inline {
                    onnx_base64,
                    metadata,
                } => {
                    let onnx = base64::engine::general_purpose::STANDARD
                        .decode(onnx_base64.trim())
                        .map_err(|e| {
                            ConfigError::new("model.onnx_base64", format!("not valid base64: {e}"))
                        })?;
                    ModelSource::Inline { onnx, metadata }
                }
            };
        }
        if let Some(b) = raw.behaviour {
            cfg.behaviour = b.validate("behaviour")?;
        }
        if let Some(l) = raw.ladder {
            cfg.ladder = l.merge(&Ladder::default(), "ladder")?;
        }
        if let Some(a) = raw.allowlist {
            cfg.allowlist = a.validate("allowlist")?;
        }
        let consensus = raw.consensus.unwrap_or_default();
        if consensus.enabled == Some(true) && !cfg.behaviour.enabled {
            return Err(ConfigError::new(
                "consensus.enabled",
                "needs behaviour.enabled (consensus never discounts a request that behaviour has \
                 not cleared)",
            ));
        }
        cfg.consensus =
            consensus.validate("consensus", cfg.behaviour.tables.clients.max_retries)?;
        // Without behaviour nothing says whether a request is otherwise under suspicion.
        cfg.consensus.enabled &= cfg.behaviour.enabled;
        if let Some(e) = raw.events {
            cfg.events = Some(e.validate("events")?);
        }
        if let Some(c) = raw.crowdsec {
            cfg.crowdsec = Some(c.validate("crowdsec")?);
        }
        if let Some(p) = raw.probes {
            cfg.probes = p.validate("probes")?;
        }
        if let Some(routes) = raw.routes {
            for (i, r) in routes.into_iter().enumerate() {
                let field = format!("routes[{i}]");
                if !r.prefix.starts_with('/') {
                    return Err(ConfigError::new(
                        format!("{field}.prefix"),
                        format!("must start with '/', got {:?}", r.prefix),
                    ));
                }
                if cfg
                    .routes
                    .iter()
                    .any(|o: &RouteOverride| o.prefix == r.prefix)
                {
                    return Err(ConfigError::new(
                        format!("{field}.prefix"),
                        format!("{:?} is given twice", r.prefix),
                    ));
                }
                let thresholds = r.thresholds.unwrap_or_default();
                Thresholds {
                    annotate: 0.0,
                    deny: 1.0,
                }
                .with_overrides(&thresholds, &format!("{field}.thresholds"))?;
                let ladder = match r.ladder {
                    Some(l) => Some(l.merge(&cfg.ladder, &format!("{field}.ladder"))?),
                    None => None,
                };
                let dlp = match r.dlp {
                    Some(d) => Some(d.validate(&format!("{field}.dlp"))?),
                    None => None,
                };
                cfg.routes.push(RouteOverride {
                    prefix: r.prefix,
                    mode: r.mode,
                    thresholds,
                    skip: r.skip,
                    ladder,
                    dlp,
                    probes: r.probes,
                });
            }
            // Longest prefix first, so the first match is the most specific.
            cfg.routes
                .sort_by_key(|r| std::cmp::Reverse(r.prefix.len()));
        }
        Ok(cfg)
    }
}

/// Test helper: each `(json, error)` pair must be refused with exactly that message; one
/// failure lists every configuration whose answer differs (an accepted one reads `accepted`).
#[cfg(test)]
pub(crate) fn assert_errors(cases: &[(&str, &str)]) {
    let wrong: Vec<String> = cases
        .iter()
        .filter_map(|(json, want)| {
            let got = Config::from_json(json.as_bytes())
                .map(|_| "accepted".to_string())
                .unwrap_or_else(|e| e.to_string());
            (got != *want).then(|| format!("{json}\n  got:  {got}\n  want: {want}"))
        })
        .collect();
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(json: &str) -> ConfigError {
        Config::from_json(json.as_bytes()).expect_err("config should be rejected")
    }

    #[test]
    fn empty_configuration_gives_monitor_mode_defaults() {
        let cfg = Config::from_json(b"").unwrap();
        assert_eq!(cfg.mode, Mode::Monitor);
        assert_eq!(cfg.failure_mode, FailureMode::Open);
        assert_eq!(cfg.max_body_bytes, 65536);
        assert_eq!(cfg.annotation_prefix, "x-apiward-");
        let cfg = Config::from_json(b"{}").unwrap();
        assert!(cfg.routes.is_empty());
    }

    #[test]
    fn full_configuration_is_accepted() {
        let cfg = Config::from_json(
            br#"{"mode":"enforce","failure_mode":"closed","max_body_bytes":1024,
                "thresholds":{"annotate":0.4,"deny":0.8},"annotation_prefix":"X-Sec-",
                "client_identity":{"trusted_xff_hops":1,"principal_headers":["X-Api-Key"]},
                "inspect_headers":["user-agent"],"max_inspected_values":8,
                "model":{"source":"embedded"},
                "routes":[{"prefix":"/health","skip":true},{"prefix":"/health/deep","mode":"monitor"}]}"#,
        )
        .unwrap();
        assert_eq!(cfg.mode, Mode::Enforce);
        assert_eq!(cfg.failure_mode, FailureMode::Closed);
        assert_eq!(cfg.annotation_prefix, "x-sec-");
        assert_eq!(cfg.identity.principal_headers, vec!["x-api-key"]);
        assert_eq!(
            cfg.route_for("/health/deep/x").unwrap().mode,
            Some(Mode::Monitor)
        );
        assert!(cfg.route_for("/healthz").unwrap().skip);
        assert!(cfg.route_for("/api").is_none());
    }

    #[test]
    fn unknown_mode_names_the_field_and_the_choices() {
        let e = err(r#"{"mode":"block"}"#);
        assert_eq!(e.field, "mode");
        assert!(e.message.contains("monitor"), "{e}");
    }

    #[test]
    fn other_headers_skip_credentials_and_take_prefixes() {
        let cfg = Config::default();
        assert!(cfg.inspect_other_headers);
        let skip = cfg.other_headers().unwrap();
        assert!(skip.iter().any(|h| h == "authorization"));
        let cfg = Config::from_json(
            br#"{"skip_headers":["X-Trace-*","x-sig"],
                "client_identity":{"principal_headers":["x-user-token"]}}"#,
        )
        .unwrap();
        assert_eq!(cfg.skip_headers, vec!["x-trace-*", "x-sig", "x-user-token"]);
        let cfg = Config::from_json(br#"{"inspect_other_headers":false}"#).unwrap();
        assert!(cfg.other_headers().is_none());
        assert_eq!(
            err(r#"{"skip_headers":["ok","bad header*"]}"#).field,
            "skip_headers[1]"
        );
    }

    #[test]
    fn unknown_field_is_rejected() {
        let e = err(r#"{"mdoe":"enforce"}"#);
        assert_eq!(e.field, "mdoe");
        assert!(e.message.contains("unknown field `mdoe`"), "{e}");
        let e = err(r#"{"thresholds":{"block":0.3}}"#);
        assert_eq!(e.field, "thresholds.block");
        assert!(e.message.contains("unknown field `block`"), "{e}");
    }

    #[test]
    fn threshold_out_of_range_names_the_nested_field() {
        assert_eq!(
            err(r#"{"thresholds":{"deny":1.5}}"#).field,
            "thresholds.deny"
        );
        let e = err(r#"{"routes":[{"prefix":"/a","thresholds":{"annotate":-1}}]}"#);
        assert_eq!(e.field, "routes[0].thresholds.annotate");
    }

    #[test]
    fn annotate_above_deny_is_rejected() {
        let e = err(r#"{"thresholds":{"annotate":0.9,"deny":0.5}}"#);
        assert_eq!(e.field, "thresholds");
    }

    #[test]
    fn wrong_types_and_bounds_name_the_field() {
        assert_eq!(err(r#"{"max_body_bytes":"big"}"#).field, "max_body_bytes");
        assert_eq!(err(r#"{"max_body_bytes":4194304}"#).field, "max_body_bytes");
        assert_eq!(
            err(r#"{"score_cache_entries":1000000}"#).field,
            "score_cache_entries"
        );
        assert_eq!(
            err(r#"{"skip_inert_values":"yes"}"#).field,
            "skip_inert_values"
        );
        assert_eq!(
            err(r#"{"routes":[{"prefix":"api"}]}"#).field,
            "routes[0].prefix"
        );
        assert_eq!(
            err(r#"{"routes":[{"skip":true}]}"#).field,
            "routes[0].prefix"
        );
        assert_eq!(
            err(r#"{"inspect_headers":["bad header"]}"#).field,
            "inspect_headers[0]"
        );
        assert_eq!(
            err(r#"{"client_identity":{"trusted_xff_hops":99}}"#).field,
            "client_identity.trusted_xff_hops"
        );
        assert_eq!(
            err(r#"{"max_inspected_values":0}"#).field,
            "max_inspected_values"
        );
    }

    #[test]
    fn model_source_is_validated() {
        let e = err(r#"{"model":{"source":"s3"}}"#);
        assert_eq!(e.field, "model.source");
        let e = err(
            r#"{"model":{"source":"inline","onnx_base64":"!!","metadata":{"schema_version":1,"feature_dim":3,"classes":["benign"],"thresholds":{"annotate":0.5,"deny":0.9}}}}"#,
        );
        assert_eq!(e.field, "model.onnx_base64");
    }

    #[test]
    fn malformed_json_is_rejected_not_panicking() {
        assert_eq!(err("{").field, ".");
        assert_eq!(err("[1,2]").field, ".");
        assert_eq!(err(r#"{"mode":"enforce"} x"#).field, ".");
        assert!(Config::from_json(&[0xff, 0xfe]).is_err());
    }

    #[test]
    fn bare_configuration_enables_behaviour_with_shipped_defaults() {
        let cfg = Config::from_json(b"{}").unwrap();
        let b = &cfg.behaviour;
        assert!(b.enabled);
        assert_eq!(b.window_ms, 60_000);
        assert_eq!(
            (b.warmup.ms, b.warmup.requests, b.warmup.windows),
            (600_000, 200, 3)
        );
        assert_eq!(b.signals.rate.min_requests, 120);
        assert_eq!(b.signals.auth_failures.limit, 10);
        assert_eq!(b.signals.bola.min_distinct, 50);
        assert_eq!(b.tables.clients.buckets, 4096);
        assert!(cfg.ladder.challenge.enabled && cfg.ladder.throttle.enabled);
        assert!(cfg.ladder.block.enabled && !cfg.ladder.revoke.enabled);
        assert_eq!(cfg.ladder.block.scope, BlockScope::Both);
        assert_eq!(cfg.allowlist, Allowlist::default());
        assert_eq!(
            cfg.identity.principal_sources,
            vec![
                PrincipalSource::Header {
                    name: "authorization".into()
                },
                PrincipalSource::Header {
                    name: "x-api-key".into()
                }
            ]
        );
    }

    #[test]
    fn full_behaviour_configuration_is_accepted() {
        let cfg = Config::from_json(
            br#"{"behaviour":{"enabled":true,"window_s":30,"learning_rate":0.1,
                  "warmup":{"seconds":60,"requests":10,"windows":2},
                  "signals":{"rate":{"enabled":true,"z":3,"min_requests":50,"strong_factor":3},
                             "route_rate":{"z":8,"min_requests":1000},
                             "auth_failures":{"limit":5,"strong_factor":2},
                             "not_found":{"enabled":false},
                             "bola":{"z":5,"min_distinct":30,"strong_factor":2},
                             "structure":{"promote_after":50},
                             "response_size":{"z":5,"min_bytes":1000},
                             "model_denies":{"limit":2,"window_s":300}},
                  "tables":{"clients":{"buckets":128,"entries":4},"revoked":{"buckets":8},"max_retries":8}},
                "ladder":{"challenge":{"realm":"api","acr_values":"urn:example:mfa"},
                          "throttle":{"retry_after_max_s":120},
                          "block":{"ttl_s":300,"max_ttl_s":3600,"scope":"principal","excess":3},
                          "revoke":{"enabled":true,"cluster":"idp","path":"/oauth2/revoke","timeout_ms":500}},
                "allowlist":{"cidrs":["10.0.0.0/8","2001:db8::/32","192.0.2.1"],
                             "principals":["svc-batch","sha256:2c26b46b68ffc68ff99b453c1d30413413422d706483bfa0f98a5e886266e7ae"],
                             "paths":["/healthz"]},
                "client_identity":{"principal_sources":[{"jwt_claim":"sub"},{"bearer":true},{"header":"X-Api-Key"}]},
                "routes":[{"prefix":"/admin","ladder":{"block":{"ttl_s":3600},"revoke":{"enabled":false}}}]}"#,
        )
        .unwrap();
        let b = &cfg.behaviour;
        assert_eq!(b.window_ms, 30_000);
        assert!(!b.signals.not_found.enabled);
        assert_eq!(b.signals.structure.promote_after, 50);
        assert_eq!(b.signals.model_denies.window_ms, 300_000);
        assert_eq!(b.tables.clients.entries_per_bucket, 4);
        assert_eq!(b.tables.revoked.buckets, 8);
        assert_eq!(b.tables.routes.max_retries, 8);
        assert_eq!(cfg.ladder.block.scope, BlockScope::Principal);
        assert_eq!(cfg.ladder.revoke.cluster.as_deref(), Some("idp"));
        assert_eq!(cfg.allowlist.cidrs.len(), 3);
        assert_eq!(cfg.allowlist.principals[1], cfg.allowlist.principals[1]);
        assert_eq!(
            cfg.identity.principal_headers,
            vec!["authorization".to_string(), "x-api-key".to_string()]
        );
        let admin = cfg.route_for("/admin/x").unwrap().ladder.as_ref().unwrap();
        // The route's ladder is the global one with the route's overrides.
        assert_eq!(admin.block.ttl_s, 3600);
        assert_eq!(admin.block.max_ttl_s, 3600);
        assert_eq!(admin.block.scope, BlockScope::Principal);
        assert!(!admin.revoke.enabled);
        assert_eq!(
            admin.challenge.acr_values.as_deref(),
            Some("urn:example:mfa")
        );
        // "foo" hashed at load equals its sha256 given explicitly.
        let foo = Config::from_json(br#"{"allowlist":{"principals":["foo"]}}"#).unwrap();
        assert_eq!(foo.allowlist.principals[0], cfg.allowlist.principals[1]);
    }

    #[test]
    fn probes_default_to_deny_everywhere_and_routes_can_turn_them_off() {
        let cfg = Config::from_json(b"{}").unwrap();
        assert_eq!(cfg.probes, ProbesConfig::default());
        assert!(cfg.probes.enabled);
        assert_eq!(cfg.probes.action, ProbeAction::Deny);
        let cfg = Config::from_json(
            br#"{"probes":{"enabled":true,"action":"annotate",
                  "extra_files":["Docker-Compose.yml","deploy/","conf/app.yml"],
                  "extra_extensions":[".LOG"],"allow":[".PEM","id_rsa.pub"]},
                "routes":[{"prefix":"/files/","probes":false},{"prefix":"/api/"}]}"#,
        )
        .unwrap();
        assert_eq!(cfg.probes.action, ProbeAction::Annotate);
        assert_eq!(
            cfg.probes.extra_files,
            vec!["docker-compose.yml", "deploy", "conf/app.yml"]
        );
        assert_eq!(cfg.probes.extra_extensions, vec![".log"]);
        assert_eq!(cfg.probes.allow, vec![".pem", "id_rsa.pub"]);
        assert_eq!(cfg.route_for("/files/a.bak").unwrap().probes, Some(false));
        assert_eq!(cfg.route_for("/api/x").unwrap().probes, None);
    }

    #[test]
    fn invalid_probes_config_names_the_field() {
        let cases: &[(&str, &str)] = &[
            (r#"{"probes":{"action":"block"}}"#, "probes.action: unknown variant `block`, expected `deny` or `annotate` at line 1 column 27"),
            (r#"{"probes":{"enabled":"yes"}}"#, "probes.enabled: invalid type: string \"yes\", expected a boolean at line 1 column 26"),
            (r#"{"probes":{"extensions":[".log"]}}"#, "probes.extensions: unknown field `extensions`, expected one of `enabled`, `action`, `extra_files`, `extra_extensions`, `allow`, `uploads`, `extra_upload_extensions`, `mail`, `php` at line 1 column 23"),
            (r#"{"probes":{"extra_extensions":[".log",".ini","log"]}}"#, "probes.extra_extensions[2]: must be one file extension with its dot, 1 to 16 letters, digits or _-~+ (\".log\"), got \"log\""),
            (r#"{"probes":{"extra_extensions":[".tar.gz"]}}"#, "probes.extra_extensions[0]: must be one file extension with its dot, 1 to 16 letters, digits or _-~+ (\".log\"), got \".tar.gz\""),
            (r#"{"probes":{"extra_files":["/docker-compose.yml"]}}"#, "probes.extra_files[0]: names match at any depth: give it without a leading '/', got \"/docker-compose.yml\""),
            (r#"{"probes":{"extra_files":["ok","conf/*.yml"]}}"#, "probes.extra_files[1]: each segment must be 1 to 64 visible characters without \\ * ? ; # % &, got \"conf/*.yml\""),
            (r#"{"probes":{"extra_files":["a//b"]}}"#, "probes.extra_files[0]: each segment must be 1 to 64 visible characters without \\ * ? ; # % &, got \"a//b\""),
            (r#"{"probes":{"extra_files":["a/b/c/d/e"]}}"#, "probes.extra_files[0]: at most 4 segments, got \"a/b/c/d/e\""),
            (r#"{"probes":{"extra_files":["secrets."]}}"#, "probes.extra_files[0]: a segment never ends in '.' or ':' once a server has resolved it, got \"secrets.\""),
            (r#"{"probes":{"extra_files":[".well-known"]}}"#, "probes.extra_files[0]: .well-known (RFC 8615) is never a probe, got \".well-known\""),
            (r#"{"probes":{"extra_files":[""]}}"#, "probes.extra_files[0]: must be a file or directory name, got \"\""),
            (r#"{"probes":{"allow":[".bak",".pemm"]}}"#, "probes.allow[1]: \".pemm\" is not a built-in rule (the README lists them, e.g. \".pem\", \".sql\", \"id_rsa.pub\", \"upload:.phar\", \"mail:cc\", \"php:function\"); to let a file-serving route through, set routes[].probes to false"),
            (r#"{"probes":{"allow":["mail:bcc","mail:smtp","mail:telnet"]}}"#, "probes.allow[2]: \"mail:telnet\" is not a built-in rule (the README lists them, e.g. \".pem\", \".sql\", \"id_rsa.pub\", \"upload:.phar\", \"mail:cc\", \"php:function\"); to let a file-serving route through, set routes[].probes to false"),
            (r#"{"probes":{"mail":"yes"}}"#, "probes.mail: invalid type: string \"yes\", expected a boolean at line 1 column 23"),
            (r#"{"probes":{"php":1}}"#, "probes.php: invalid type: integer `1`, expected a boolean at line 1 column 18"),
            (r#"{"probes":{"allow":["php:function","php:eval"]}}"#, "probes.allow[1]: \"php:eval\" is not a built-in rule (the README lists them, e.g. \".pem\", \".sql\", \"id_rsa.pub\", \"upload:.phar\", \"mail:cc\", \"php:function\"); to let a file-serving route through, set routes[].probes to false"),
            (r#"{"routes":[{"prefix":"/files/","probes":"no"}]}"#, "routes[0].probes: invalid type: string \"no\", expected a boolean at line 1 column 44"),
        ];
        assert_errors(cases);
    }

    #[test]
    fn invalid_behaviour_config_names_the_field() {
        let cases: &[(&str, &str)] = &[
            (r#"{"behaviour":{"window_s":0}}"#, "behaviour.window_s: must be between 1 and 3600, got 0"),
            (r#"{"behaviour":{"learning_rate":1.5}}"#, "behaviour.learning_rate: must be between 0.001 and 1, got 1.5"),
            (r#"{"behaviour":{"warmup":{"windows":0}}}"#, "behaviour.warmup.windows: must be between 1 and 1000, got 0"),
            (r#"{"behaviour":{"signals":{"rate":{"strong_factor":0.5}}}}"#, "behaviour.signals.rate.strong_factor: must be between 1 and 100, got 0.5"),
            (r#"{"behaviour":{"signals":{"auth_failures":{"limit":0}}}}"#, "behaviour.signals.auth_failures.limit: must be between 1 and 1000000, got 0"),
            (r#"{"behaviour":{"signals":{"bola":{"min_distinct":400,"strong_factor":4}}}}"#, "behaviour.signals.bola: min_distinct × strong_factor must be at most 1200 (the distinct-id sketch saturates at about 1400), got 1600"),
            (r#"{"behaviour":{"signals":{"structure":{"promote_after":300}}}}"#, "behaviour.signals.structure.promote_after: must be between 1 and 255, got 300"),
            (r#"{"behaviour":{"signals":{"model_denies":{"limit":0}}}}"#, "behaviour.signals.model_denies.limit: must be between 1 and 1000, got 0"),
            (r#"{"behaviour":{"tables":{"clients":{"buckets":0}}}}"#, "behaviour.tables.clients.buckets: must be between 1 and 1048576, got 0"),
            (r#"{"behaviour":{"tables":{"routes":{"entries":65}}}}"#, "behaviour.tables.routes.entries: must be between 1 and 64, got 65"),
            (r#"{"behaviour":{"tables":{"max_retries":17}}}"#, "behaviour.tables.max_retries: must be between 0 and 16, got 17"),
            (r#"{"behaviour":{"worker_state":{"sync_ms":5}}}"#, "behaviour.worker_state.sync_ms: must be 0 (no per-worker state) or between 10 and 10000, got 5"),
            (r#"{"behaviour":{"worker_state":{"max_keys":8}}}"#, "behaviour.worker_state.max_keys: must be between 16 and 65536, got 8"),
            (r#"{"behaviour":{"worker_state":{"hot_fraction":0}}}"#, "behaviour.worker_state.hot_fraction: must be between 0.05 and 1, got 0"),
            (r#"{"behaviour":{"worker_state":{"hot_keys":300}}}"#, "behaviour.worker_state.hot_keys: must be between 0 and 256, got 300"),
            (r#"{"ladder":{"throttle":{"retry_after_max_s":0}}}"#, "ladder.throttle.retry_after_max_s: must be between 1 and 86400, got 0"),
            (r#"{"ladder":{"block":{"ttl_s":90000}}}"#, "ladder.block.ttl_s: must not be above max_ttl_s (86400), got 90000"),
            (r#"{"ladder":{"block":{"scope":"everyone"}}}"#, "ladder.block.scope: unknown variant `everyone`, expected one of `client`, `principal`, `both` at line 1 column 38"),
            (r#"{"annotations":"none"}"#, "annotations: unknown variant `none`, expected `full` or `minimal` at line 1 column 21"),
            (r#"{"ladder":{"block":{"excess":0.5}}}"#, "ladder.block.excess: must be between 1 and 1000, got 0.5"),
            (r#"{"ladder":{"challenge":{"acr_values":"a\"b"}}}"#, "ladder.challenge.acr_values: must be 1 to 256 printable ASCII characters without '\"' or '\\', got \"a\\\"b\""),
            (r#"{"ladder":{"revoke":{"cluster":""}}}"#, "ladder.revoke.cluster: must be an Envoy cluster name, got \"\""),
            (r#"{"ladder":{"revoke":{"path":"revoke"}}}"#, "ladder.revoke.path: must start with '/' and have no spaces, got \"revoke\""),
            (r#"{"ladder":{"revoke":{"timeout_ms":0}}}"#, "ladder.revoke.timeout_ms: must be between 1 and 60000, got 0"),
            (r#"{"routes":[{"prefix":"/a","ladder":{"block":{"ttl_s":0}}}]}"#, "routes[0].ladder.block.ttl_s: must be between 1 and 2592000, got 0"),
            (r#"{"allowlist":{"cidrs":["10.0.0.0/8","10.1.0.0/8"]}}"#, "allowlist.cidrs[1]: \"10.1.0.0/8\" has host bits set; the network is 10.0.0.0/8"),
            (r#"{"allowlist":{"cidrs":["fe80::/200"]}}"#, "allowlist.cidrs[0]: prefix length of \"fe80::/200\" must be 0 to 128"),
            (r#"{"allowlist":{"principals":["sha256:abc"]}}"#, "allowlist.principals[0]: sha256: must be followed by 64 hex digits"),
            (r#"{"allowlist":{"paths":["healthz"]}}"#, "allowlist.paths[0]: must start with '/', got \"healthz\""),
            (r#"{"allowlist":{"hosts":[]}}"#, "allowlist.hosts: unknown field `hosts`, expected one of `cidrs`, `principals`, `paths` at line 1 column 21"),
            (r#"{"behaviour":{"signals":{"bola":{"limit":3}}}}"#, "behaviour.signals.bola.limit: unknown field `limit`, expected one of `enabled`, `z`, `min_distinct`, `strong_factor` at line 1 column 40"),
            (r#"{"client_identity":{"principal_sources":[{}]}}"#, "client_identity.principal_sources[0]: give one of header, bearer or jwt_claim"),
            (r#"{"client_identity":{"principal_sources":[{"bearer":false}]}}"#, "client_identity.principal_sources[0].bearer: must be true (remove the source to stop using it)"),
            (r#"{"client_identity":{"principal_sources":[{"bearer":true,"jwt_claim":"sub"}]}}"#, "client_identity.principal_sources[0]: give either bearer or jwt_claim, not both"),
            (r#"{"client_identity":{"principal_sources":[{"jwt_claim":""}]}}"#, "client_identity.principal_sources[0].jwt_claim: must be a claim name of 1 to 64 visible characters, got \"\""),
            (r#"{"client_identity":{"principal_sources":[{"header":"x api"}]}}"#, "client_identity.principal_sources[0].header: \"x api\" is not a valid HTTP header name"),
            (r#"{"client_identity":{"principal_headers":["a"],"principal_sources":[{"bearer":true}]}}"#, "client_identity: give principal_sources or principal_headers, not both"),
        ];
        assert_errors(cases);
    }
}
