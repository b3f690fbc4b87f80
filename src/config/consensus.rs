//! The `consensus` section: a suspicious value that many distinct clients send on a route is
//! discounted, within bounds (see [`crate::consensus`] for what it does and why it is safe).

use serde::Deserialize;

use super::behaviour::{int_in, num_in};
use super::ConfigError;
use crate::state::table::{MAX_BUCKETS, MAX_ENTRIES_PER_BUCKET};
use crate::state::TableConfig;

const MS_PER_S: u64 = 1000;

/// Classes that are never discounted, whatever the configuration says: their payloads are
/// replayed verbatim by mass-exploitation campaigns from many networks (Log4Shell lookups,
/// template probes, `../` walks), which is exactly what consensus would otherwise learn.
pub const ALWAYS_EXEMPT: [&str; 3] = ["jndi", "ssti", "path_traversal"];

/// The exempt classes we ship: [`ALWAYS_EXEMPT`] plus deserialization gadgets and XXE
/// documents (fixed blobs replayed unchanged against every vulnerable host, with code execution
/// or file disclosure behind them, and almost no benign look-alikes in API traffic).
pub const DEFAULT_EXEMPT: [&str; 5] = ["jndi", "ssti", "path_traversal", "deserialization", "xxe"];

/// Largest `min_clients`: the 256-bit client sketch counts accurately to about 200.
pub const MAX_MIN_CLIENTS: u32 = 200;
/// Largest `max_discount`.
pub const MAX_DISCOUNT: f64 = 0.5;

/// Value consensus, validated.
///
/// Memory: the table holds at most `table.buckets × (5 + table.entries_per_bucket × 112)`
/// bytes of shared data (0.88 MiB with the defaults), whatever the traffic.
#[derive(Debug, Clone, PartialEq)]
pub struct ConsensusConfig {
    /// Consensus is learned and applied (only where behaviour is on).
    pub enabled: bool,
    /// Distinct clients (networks, and principals where requests carry one) a value needs.
    pub min_clients: u32,
    /// Time from a value's first sighting before it may be discounted (ms); new clients are
    /// credited at most `ceil(min_clients / 4)` per quarter of it.
    pub min_age_ms: u64,
    /// A value not seen for this long starts over (ms).
    pub window_ms: u64,
    /// Largest risk reduction (at the route's deny threshold; less above it).
    pub max_discount: f32,
    /// Size of the shared-data table (`max_retries` comes from `behaviour.tables.max_retries`).
    pub table: TableConfig,
    /// Model classes never discounted (always including [`ALWAYS_EXEMPT`]).
    pub exempt_classes: Vec<String>,
}

impl Default for ConsensusConfig {
    fn default() -> Self {
        ConsensusConfig {
            enabled: true,
            min_clients: 20,
            min_age_ms: 3600 * MS_PER_S,
            window_ms: 7 * 86_400 * MS_PER_S,
            max_discount: 0.25,
            table: TableConfig {
                buckets: 1024,
                entries_per_bucket: 8,
                max_retries: 4,
            },
            exempt_classes: DEFAULT_EXEMPT.iter().map(|c| c.to_string()).collect(),
        }
    }
}

/// `consensus` as written: every field optional.
#[derive(Deserialize, Default)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub(super) struct RawConsensus {
    /// Learn and apply value consensus (default true; needs `behaviour.enabled`).
    pub(super) enabled: Option<bool>,
    /// Distinct client networks a value needs (2–200, default 20).
    min_clients: Option<u32>,
    /// Seconds from a value's first sighting before it may be discounted (1–2592000, default
    /// 3600); clients are credited at most min_clients/4 per quarter of it.
    min_age_s: Option<u64>,
    /// Seconds without a sighting after which a value starts over (60–7776000, at least
    /// min_age_s, default 604800).
    window_s: Option<u64>,
    /// Largest risk reduction (0.01–0.5, default 0.25).
    max_discount: Option<f64>,
    /// Shared-data table size (default 1024 buckets × 8 entries).
    table: Option<RawConsensusTable>,
    /// Model classes never discounted; must include jndi, ssti and path_traversal.
    exempt_classes: Option<Vec<String>>,
}

#[derive(Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
struct RawConsensusTable {
    buckets: Option<u32>,
    entries: Option<usize>,
}

impl RawConsensus {
    /// Validates the section; `max_retries` is `behaviour.tables.max_retries`.
    pub(super) fn validate(
        self,
        field: &str,
        max_retries: u32,
    ) -> Result<ConsensusConfig, ConfigError> {
        let mut c = ConsensusConfig::default();
        c.table.max_retries = max_retries;
        if let Some(e) = self.enabled {
            c.enabled = e;
        }
        if let Some(n) = self.min_clients {
            c.min_clients = int_in(n, 2, MAX_MIN_CLIENTS, &format!("{field}.min_clients"))?;
        }
        if let Some(s) = self.min_age_s {
            c.min_age_ms = int_in(s, 1, 30 * 86_400, &format!("{field}.min_age_s"))? * MS_PER_S;
        }
        if let Some(s) = self.window_s {
            c.window_ms = int_in(s, 60, 90 * 86_400, &format!("{field}.window_s"))? * MS_PER_S;
        }
        if c.window_ms < c.min_age_ms {
            return Err(ConfigError::new(
                format!("{field}.window_s"),
                format!(
                    "must not be below min_age_s ({}), got {}",
                    c.min_age_ms / MS_PER_S,
                    c.window_ms / MS_PER_S
                ),
            ));
        }
        if let Some(d) = self.max_discount {
            c.max_discount =
                num_in(d, 0.01, MAX_DISCOUNT, &format!("{field}.max_discount"))? as f32;
        }
        if let Some(t) = self.table {
            if let Some(n) = t.buckets {
                c.table.buckets = int_in(n, 1, MAX_BUCKETS, &format!("{field}.table.buckets"))?;
            }
            if let Some(n) = t.entries {
                c.table.entries_per_bucket = int_in(
                    n,
                    1,
                    MAX_ENTRIES_PER_BUCKET,
                    &format!("{field}.table.entries"),
                )?;
            }
        }
        if let Some(classes) = self.exempt_classes {
            let f = format!("{field}.exempt_classes");
            let mut out: Vec<String> = Vec::with_capacity(classes.len());
            for (i, class) in classes.into_iter().enumerate() {
                let ok = !class.is_empty()
                    && class.len() <= 32
                    && class.bytes().all(|b| b.is_ascii_lowercase() || b == b'_');
                if !ok || class == "benign" {
                    return Err(ConfigError::new(
                        format!("{f}[{i}]"),
                        format!("must be the name of an attack class, got {class:?}"),
                    ));
                }
                if out.contains(&class) {
                    return Err(ConfigError::new(
                        format!("{f}[{i}]"),
                        format!("{class:?} is listed twice"),
                    ));
                }
                out.push(class);
            }
            let missing: Vec<&str> = ALWAYS_EXEMPT
                .iter()
                .copied()
                .filter(|c| !out.iter().any(|o| o == c))
                .collect();
            if !missing.is_empty() {
                return Err(ConfigError::new(
                    f,
                    format!(
                        "must include jndi, ssti and path_traversal (never discounted: their \
                         payloads are replayed verbatim by mass-exploitation campaigns); missing {}",
                        missing.join(", ")
                    ),
                ));
            }
            c.exempt_classes = out;
        }
        Ok(c)
    }
}

#[cfg(test)]
mod tests {
    use crate::config::Config;

    fn err(json: &str) -> String {
        Config::from_json(json.as_bytes())
            .expect_err("config should be rejected")
            .to_string()
    }

    #[test]
    fn consensus_is_on_by_default_with_the_documented_bounds() {
        let c = Config::from_json(b"{}").unwrap().consensus;
        assert!(c.enabled);
        assert_eq!((c.min_clients, c.min_age_ms), (20, 3_600_000));
        assert_eq!((c.window_ms, c.max_discount), (604_800_000, 0.25));
        assert_eq!((c.table.buckets, c.table.entries_per_bucket), (1024, 8));
        assert_eq!(
            c.exempt_classes,
            ["jndi", "ssti", "path_traversal", "deserialization", "xxe"]
        );
    }

    #[test]
    fn full_consensus_section_is_accepted() {
        let c = Config::from_json(
            br#"{"behaviour":{"tables":{"max_retries":7}},
                "consensus":{"enabled":true,"min_clients":5,"min_age_s":2,"window_s":60,
                "max_discount":0.4,"table":{"buckets":16,"entries":4},
                "exempt_classes":["jndi","ssti","path_traversal","cmdi"]}}"#,
        )
        .unwrap()
        .consensus;
        assert_eq!(
            (c.min_clients, c.min_age_ms, c.window_ms),
            (5, 2000, 60_000)
        );
        assert!((c.max_discount - 0.4).abs() < 1e-6);
        assert_eq!(
            (
                c.table.buckets,
                c.table.entries_per_bucket,
                c.table.max_retries
            ),
            (16, 4, 7)
        );
        assert_eq!(c.exempt_classes, ["jndi", "ssti", "path_traversal", "cmdi"]);
        let off = Config::from_json(br#"{"behaviour":{"enabled":false}}"#).unwrap();
        assert!(!off.consensus.enabled, "no behaviour, no consensus");
    }

    #[test]
    fn invalid_consensus_config_names_the_field() {
        let cases = [
            (r#"{"consensus":{"min_clients":1}}"#, "consensus.min_clients: must be between 2 and 200, got 1"),
            (r#"{"consensus":{"min_clients":500}}"#, "consensus.min_clients: must be between 2 and 200, got 500"),
            (r#"{"consensus":{"min_age_s":0}}"#, "consensus.min_age_s: must be between 1 and 2592000, got 0"),
            (r#"{"consensus":{"window_s":10}}"#, "consensus.window_s: must be between 60 and 7776000, got 10"),
            (r#"{"consensus":{"min_age_s":7200,"window_s":3600}}"#, "consensus.window_s: must not be below min_age_s (7200), got 3600"),
            (r#"{"consensus":{"max_discount":0.9}}"#, "consensus.max_discount: must be between 0.01 and 0.5, got 0.9"),
            (r#"{"consensus":{"max_discount":0}}"#, "consensus.max_discount: must be between 0.01 and 0.5, got 0"),
            (r#"{"consensus":{"table":{"buckets":0}}}"#, "consensus.table.buckets: must be between 1 and 1048576, got 0"),
            (r#"{"consensus":{"table":{"entries":65}}}"#, "consensus.table.entries: must be between 1 and 64, got 65"),
            (r#"{"consensus":{"exempt_classes":["jndi","ssti"]}}"#, "consensus.exempt_classes: must include jndi, ssti and path_traversal (never discounted: their payloads are replayed verbatim by mass-exploitation campaigns); missing path_traversal"),
            (r#"{"consensus":{"exempt_classes":["jndi","ssti","path_traversal","benign"]}}"#, "consensus.exempt_classes[3]: must be the name of an attack class, got \"benign\""),
            (r#"{"consensus":{"exempt_classes":["jndi","jndi","ssti","path_traversal"]}}"#, "consensus.exempt_classes[1]: \"jndi\" is listed twice"),
            (r#"{"behaviour":{"enabled":false},"consensus":{"enabled":true}}"#, "consensus.enabled: needs behaviour.enabled (consensus never discounts a request that behaviour has not cleared)"),
        ];
        for (json, message) in cases {
            assert_eq!(err(json), message, "{json}");
        }
        let unknown = err(r#"{"consensus":{"min_client":5}}"#);
        assert!(
            unknown.starts_with("consensus.min_client: unknown field `min_client`"),
            "{unknown}"
        );
    }
}
