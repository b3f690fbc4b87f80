//! Plugin configuration: raw serde structs (unknown fields rejected), then validation into
//! [`Config`]. Every error names the field it is about, so the operator knows what to change.

use std::fmt;

use base64::Engine as _;
use serde::Deserialize;

use crate::model::ModelMetadata;

/// Largest body Envoy buffers for a filter by default (connection buffer limit ~1 MiB).
pub const MAX_BODY_BYTES_LIMIT: usize = 1024 * 1024;

/// What the filter does with its decisions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
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

/// Where the client and the principal come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdentityConfig {
    /// Number of trusted proxies in front of Envoy that append to X-Forwarded-For.
    pub trusted_xff_hops: usize,
    /// Headers that carry a credential (first present wins), lower-case.
    pub principal_headers: Vec<String>,
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
    /// Client and principal identity.
    pub identity: IdentityConfig,
    /// Request headers whose values are scored, lower-case.
    pub inspect_headers: Vec<String>,
    /// Upper bound of separately scored values per request; the rest are scored together.
    pub max_inspected_values: usize,
    /// Model source.
    pub model: ModelSource,
    /// Route overrides, longest prefix first.
    pub routes: Vec<RouteOverride>,
}

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

impl Default for Config {
    fn default() -> Self {
        Config {
            mode: Mode::Monitor,
            failure_mode: FailureMode::Open,
            max_body_bytes: 64 * 1024,
            thresholds: ThresholdOverrides::default(),
            annotation_prefix: "x-apiward-".to_string(),
            identity: IdentityConfig {
                trusted_xff_hops: 0,
                principal_headers: vec!["authorization".to_string(), "x-api-key".to_string()],
            },
            inspect_headers: DEFAULT_INSPECT_HEADERS
                .iter()
                .map(|h| h.to_string())
                .collect(),
            max_inspected_values: 32,
            model: ModelSource::Embedded,
            routes: Vec::new(),
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
#[serde(deny_unknown_fields)]
struct RawConfig {
    mode: Option<Mode>,
    failure_mode: Option<FailureMode>,
    max_body_bytes: Option<usize>,
    thresholds: Option<ThresholdOverrides>,
    annotation_prefix: Option<String>,
    client_identity: Option<RawIdentity>,
    inspect_headers: Option<Vec<String>>,
    max_inspected_values: Option<usize>,
    model: Option<RawModel>,
    routes: Option<Vec<RawRoute>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawIdentity {
    trusted_xff_hops: Option<usize>,
    principal_headers: Option<Vec<String>>,
}

#[derive(Deserialize)]
#[serde(tag = "source", rename_all = "lowercase", deny_unknown_fields)]
enum RawModel {
    Embedded,
    Inline {
        onnx_base64: String,
        metadata: Box<ModelMetadata>,
    },
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRoute {
    prefix: String,
    mode: Option<Mode>,
    thresholds: Option<ThresholdOverrides>,
    #[serde(default)]
    skip: bool,
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
            if let Some(headers) = id.principal_headers {
                cfg.identity.principal_headers = headers
                    .iter()
                    .enumerate()
                    .map(|(i, h)| {
                        header_name(h, &format!("client_identity.principal_headers[{i}]"))
                    })
                    .collect::<Result<_, _>>()?;
            }
        }
        if let Some(headers) = raw.inspect_headers {
            cfg.inspect_headers = headers
                .iter()
                .enumerate()
                .map(|(i, h)| header_name(h, &format!("inspect_headers[{i}]")))
                .collect::<Result<_, _>>()?;
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
                cfg.routes.push(RouteOverride {
                    prefix: r.prefix,
                    mode: r.mode,
                    thresholds,
                    skip: r.skip,
                });
            }
            // Longest prefix first, so the first match is the most specific.
            cfg.routes
                .sort_by_key(|r| std::cmp::Reverse(r.prefix.len()));
        }
        Ok(cfg)
    }
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
}
