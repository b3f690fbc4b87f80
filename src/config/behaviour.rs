//! The `behaviour`, `ladder` and `allowlist` sections: raw serde structs (unknown fields
//! rejected, every field optional) and their validated forms with the defaults we ship.

use serde::Deserialize;
use sha2::{Digest, Sha256};

use super::ConfigError;
use crate::behaviour::Cidr;
use crate::state::table::{MAX_BUCKETS, MAX_ENTRIES_PER_BUCKET, MAX_RETRIES};
use crate::state::TableConfig;

const MS_PER_S: u64 = 1000;
/// Longest block or revocation: 30 days.
pub const MAX_TTL_S: u64 = 30 * 24 * 3600;

// ------------------------------------------------------------------------------------------
// Validated configuration
// ------------------------------------------------------------------------------------------

/// How long the filter only learns before learned baselines may raise signals.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Warmup {
    /// A route is learning until this long after its first request (ms).
    pub ms: u64,
    /// …and until it has seen this many requests.
    pub requests: u32,
    /// Finished windows before a client's, principal's or route's own baseline is trusted.
    pub windows: u32,
}

/// A rate signal: limit = max(`min_requests`, learned mean + `z` × std dev) per window.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RateThreshold {
    /// The signal is computed at all.
    pub enabled: bool,
    /// Standard deviations above the learned mean where the limit lies.
    pub z: f64,
    /// Floor of the limit, requests per window (also the limit of a client with no baseline).
    pub min_requests: u32,
    /// The signal is strong (throttle) from `strong_factor` × limit.
    pub strong_factor: f64,
}

/// A burst of answers (401/403 or 404) per client per window, against a fixed limit.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BurstThreshold {
    /// The signal is computed at all.
    pub enabled: bool,
    /// Answers per window from which the signal fires (weak: annotate).
    pub limit: u32,
    /// The signal is strong from `strong_factor` × limit.
    pub strong_factor: f64,
}

/// BOLA: distinct object ids per principal per route template per window.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BolaThreshold {
    /// The signal is computed at all.
    pub enabled: bool,
    /// Standard deviations above the learned norm where the limit lies.
    pub z: f64,
    /// Floor of the limit, distinct ids per window.
    pub min_distinct: u32,
    /// The signal is strong (deny) from `strong_factor` × limit.
    pub strong_factor: f64,
}

/// Unusual structure: parameter names and value types never seen on a route after warm-up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StructureThreshold {
    /// The signal is computed at all.
    pub enabled: bool,
    /// A new parameter is learned after this many requests carried it (continuous learning).
    pub promote_after: u8,
}

/// Response size per route, on a log scale.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SizeThreshold {
    /// The signal is computed at all.
    pub enabled: bool,
    /// Standard deviations (of ln size) above the learned mean.
    pub z: f64,
    /// Responses smaller than this are never anomalous.
    pub min_bytes: u64,
}

/// Model denies from one client that turn a deny into a block.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ModelDenies {
    /// The n-th model deny within the window blocks.
    pub limit: u32,
    /// Window in which model denies are counted (ms).
    pub window_ms: u64,
}

/// Thresholds per signal.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SignalThresholds {
    /// Request rate per client and per principal against its own baseline.
    pub rate: RateThreshold,
    /// Request rate of a route template against its baseline (weak only: not attributable).
    pub route_rate: RateThreshold,
    /// 401/403 answers per client and per principal (credential stuffing).
    pub auth_failures: BurstThreshold,
    /// 404 answers per client (scanning, forced browsing).
    pub not_found: BurstThreshold,
    /// Distinct object ids per principal per route template.
    pub bola: BolaThreshold,
    /// Parameters never seen on the route.
    pub structure: StructureThreshold,
    /// Response size anomaly per route.
    pub response_size: SizeThreshold,
    /// Repeated model denies.
    pub model_denies: ModelDenies,
}

/// Sizes of the shared-data tables.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tables {
    /// Per client address.
    pub clients: TableConfig,
    /// Per principal.
    pub principals: TableConfig,
    /// Per principal × route template (BOLA).
    pub principal_routes: TableConfig,
    /// Per method + route template.
    pub routes: TableConfig,
    /// Block list (clients and principals).
    pub blocks: TableConfig,
    /// Revoked token hashes.
    pub revoked: TableConfig,
}

/// Behavioural analytics, learned online in shared data.
///
/// Memory (shared data values, keys and host overhead aside) is bounded by
/// [`BehaviourConfig::memory_bound`] whatever the traffic. With the defaults:
///
/// | table | buckets × entries | entry bytes | bound |
/// |---|---|---|---|
/// | clients | 4096 × 8 | 100 | 3,297,280 |
/// | principals | 2048 × 8 | 100 | 1,648,640 |
/// | principal-routes | 4096 × 8 | 76 | 2,510,848 |
/// | routes | 256 × 8 | 200 | 410,880 |
/// | blocks | 1024 × 8 | 26 | 218,112 |
/// | revoked | 1024 × 8 | 26 | 218,112 |
/// | total | | | 8,303,872 (7.9 MiB) |
#[derive(Debug, Clone, PartialEq)]
pub struct BehaviourConfig {
    /// Behaviour is learned and used at all.
    pub enabled: bool,
    /// Counting window of rates, bursts and BOLA (ms).
    pub window_ms: u64,
    /// EWMA smoothing factor after the first 1/rate samples (continuous adaptation).
    pub learning_rate: f64,
    /// Learning period.
    pub warmup: Warmup,
    /// Thresholds per signal.
    pub signals: SignalThresholds,
    /// Table sizes.
    pub tables: Tables,
    /// Per-worker counting, merged into the shared tables on a tick.
    pub worker_state: crate::state::WorkerConfig,
}

impl BehaviourConfig {
    /// Upper bound of the shared-data bytes all tables may hold.
    pub fn memory_bound(&self) -> usize {
        use crate::behaviour::{ActorRecord, RouteRecord};
        use crate::state::{BlockUntil, PrincipalRouteRecord, Record};
        let t = &self.tables;
        table_bound(t.clients, ActorRecord::SIZE)
            + table_bound(t.principals, ActorRecord::SIZE)
            + table_bound(t.principal_routes, PrincipalRouteRecord::SIZE)
            + table_bound(t.routes, RouteRecord::SIZE)
            + table_bound(t.blocks, BlockUntil::SIZE)
            + table_bound(t.revoked, BlockUntil::SIZE)
    }
}

fn table_bound(t: TableConfig, record_size: usize) -> usize {
    use crate::state::table::{ENTRY_OVERHEAD, HEADER_SIZE};
    t.buckets as usize * (HEADER_SIZE + t.entries_per_bucket * (ENTRY_OVERHEAD + record_size))
}

impl Default for BehaviourConfig {
    fn default() -> Self {
        let table = |buckets| TableConfig {
            buckets,
            entries_per_bucket: 8,
            max_retries: 4,
        };
        BehaviourConfig {
            enabled: true,
            window_ms: 60 * MS_PER_S,
            learning_rate: 0.05,
            warmup: Warmup {
                ms: 600 * MS_PER_S,
                requests: 200,
                windows: 3,
            },
            signals: SignalThresholds {
                rate: RateThreshold {
                    enabled: true,
                    z: 4.0,
                    min_requests: 120,
                    strong_factor: 2.0,
                },
                route_rate: RateThreshold {
                    enabled: true,
                    z: 6.0,
                    min_requests: 600,
                    strong_factor: 1.0,
                },
                auth_failures: BurstThreshold {
                    enabled: true,
                    limit: 10,
                    strong_factor: 2.0,
                },
                not_found: BurstThreshold {
                    enabled: true,
                    limit: 30,
                    strong_factor: 2.0,
                },
                bola: BolaThreshold {
                    enabled: true,
                    z: 4.0,
                    min_distinct: 50,
                    strong_factor: 2.0,
                },
                structure: StructureThreshold {
                    enabled: true,
                    promote_after: 20,
                },
                response_size: SizeThreshold {
                    enabled: true,
                    z: 6.0,
                    min_bytes: 64 * 1024,
                },
                model_denies: ModelDenies {
                    limit: 3,
                    window_ms: 600 * MS_PER_S,
                },
            },
            tables: Tables {
                clients: table(4096),
                principals: table(2048),
                principal_routes: table(4096),
                routes: table(256),
                blocks: table(1024),
                revoked: table(1024),
            },
            worker_state: crate::state::WorkerConfig::default(),
        }
    }
}

/// Which identities a block applies to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "lowercase")]
pub enum BlockScope {
    /// The client address.
    Client,
    /// The principal (falls back to the client when the request has none).
    Principal,
    /// Both (whichever the request has).
    Both,
}

impl BlockScope {
    /// The lower-case name used in configuration and reasons.
    pub fn as_str(self) -> &'static str {
        match self {
            BlockScope::Client => "client",
            BlockScope::Principal => "principal",
            BlockScope::Both => "both",
        }
    }
}

/// Challenge step: 401 with `WWW-Authenticate: Bearer error="insufficient_user_authentication"`
/// (RFC 9470).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChallengeStep {
    /// The step is used; otherwise it degrades to throttle.
    pub enabled: bool,
    /// `realm` parameter, if any.
    pub realm: Option<String>,
    /// `acr_values` parameter (space-separated ACRs); setting it means step-up is configured.
    pub acr_values: Option<String>,
    /// `max_age` parameter (seconds), if any.
    pub max_age_s: Option<u64>,
}

/// Throttle step: 429 with `Retry-After`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ThrottleStep {
    /// The step is used; otherwise it degrades to annotate.
    pub enabled: bool,
    /// Largest `Retry-After` sent (seconds).
    pub retry_after_max_s: u32,
}

/// Block step: the client and/or principal is denied on every worker for a TTL.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BlockStep {
    /// The step is used; otherwise it degrades to deny.
    pub enabled: bool,
    /// TTL of a first block (seconds); doubled for each earlier block, up to `max_ttl_s`.
    pub ttl_s: u64,
    /// Longest block (seconds).
    pub max_ttl_s: u64,
    /// Who is blocked.
    pub scope: BlockScope,
    /// A blockable signal this many times over its limit blocks on its own ("far over").
    pub excess: f64,
}

/// Revoke step: the token's hash goes into the revocation table; optionally an RFC 7009 call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RevokeStep {
    /// The step is used; otherwise it degrades to block.
    pub enabled: bool,
    /// How long a revoked token stays denied (seconds).
    pub ttl_s: u64,
    /// Envoy cluster of the authorization server's revocation endpoint; none = local only.
    pub cluster: Option<String>,
    /// Path of the revocation endpoint.
    pub path: String,
    /// `:authority` of the revocation request (default: the cluster name).
    pub authority: Option<String>,
    /// `Authorization` header value for client authentication at the endpoint, if any.
    pub client_authorization: Option<String>,
    /// Timeout of the revocation call (ms).
    pub timeout_ms: u64,
}

/// The response ladder of a route: each step enabled or not, with its parameters.
#[derive(Debug, Clone, PartialEq)]
pub struct Ladder {
    /// Challenge (401, RFC 9470).
    pub challenge: ChallengeStep,
    /// Throttle (429, Retry-After).
    pub throttle: ThrottleStep,
    /// Block for a TTL across workers.
    pub block: BlockStep,
    /// Revoke the token.
    pub revoke: RevokeStep,
}

impl Default for Ladder {
    fn default() -> Self {
        Ladder {
            challenge: ChallengeStep {
                enabled: true,
                realm: None,
                acr_values: None,
                max_age_s: None,
            },
            throttle: ThrottleStep {
                enabled: true,
                retry_after_max_s: 60,
            },
            block: BlockStep {
                enabled: true,
                ttl_s: 600,
                max_ttl_s: 86_400,
                scope: BlockScope::Both,
                excess: 4.0,
            },
            revoke: RevokeStep {
                enabled: false,
                ttl_s: 86_400,
                cluster: None,
                path: "/oauth2/revoke".to_string(),
                authority: None,
                client_authorization: None,
                timeout_ms: 2000,
            },
        }
    }
}

/// Clients, principals and paths exempt from behavioural steps (the model still scores them).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Allowlist {
    /// Client address ranges.
    pub cidrs: Vec<Cidr>,
    /// SHA-256 of allowlisted credentials (API key, bearer token or JWT claim value).
    pub principals: Vec<[u8; 32]>,
    /// Path prefixes.
    pub paths: Vec<String>,
}

// ------------------------------------------------------------------------------------------
// Raw configuration
// ------------------------------------------------------------------------------------------

#[derive(Deserialize, Default)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub(super) struct RawBehaviour {
    enabled: Option<bool>,
    window_s: Option<u64>,
    learning_rate: Option<f64>,
    warmup: Option<RawWarmup>,
    signals: Option<RawSignals>,
    tables: Option<RawTables>,
    worker_state: Option<RawWorkerState>,
}

/// `behaviour.worker_state`: how often a worker VM merges its counts into the shared tables,
/// and how many table buckets it keeps in its own memory.
#[derive(Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
struct RawWorkerState {
    /// Merge period in ms (10–10,000); 0 = no per-worker state (every count written through
    /// to shared data at once, as before).
    sync_ms: Option<u64>,
    /// Buckets kept per worker VM (16–65,536).
    max_keys: Option<usize>,
    /// Share of a limit (0.05–1.0) from which a client, principal, route or BOLA bucket is
    /// read and written through on every worker, so that limits are crossed on exact counts.
    hot_fraction: Option<f64>,
    /// Hot buckets listed at once (0–256; 0 = none: counts lag up to one sync everywhere).
    hot_keys: Option<usize>,
}

#[derive(Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
struct RawWarmup {
    seconds: Option<u64>,
    requests: Option<u32>,
    windows: Option<u32>,
}

#[derive(Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
struct RawSignals {
    rate: Option<RawRate>,
    route_rate: Option<RawRouteRate>,
    auth_failures: Option<RawBurst>,
    not_found: Option<RawBurst>,
    bola: Option<RawBola>,
    structure: Option<RawStructure>,
    response_size: Option<RawSize>,
    model_denies: Option<RawModelDenies>,
}

#[derive(Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
struct RawRate {
    enabled: Option<bool>,
    z: Option<f64>,
    min_requests: Option<u32>,
    strong_factor: Option<f64>,
}

#[derive(Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
struct RawRouteRate {
    enabled: Option<bool>,
    z: Option<f64>,
    min_requests: Option<u32>,
}

#[derive(Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
struct RawBurst {
    enabled: Option<bool>,
    limit: Option<u32>,
    strong_factor: Option<f64>,
}

#[derive(Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
struct RawBola {
    enabled: Option<bool>,
    z: Option<f64>,
    min_distinct: Option<u32>,
    strong_factor: Option<f64>,
}

#[derive(Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
struct RawStructure {
    enabled: Option<bool>,
    promote_after: Option<u32>,
}

#[derive(Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
struct RawSize {
    enabled: Option<bool>,
    z: Option<f64>,
    min_bytes: Option<u64>,
}

#[derive(Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
struct RawModelDenies {
    limit: Option<u32>,
    window_s: Option<u64>,
}

#[derive(Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
struct RawTables {
    clients: Option<RawTable>,
    principals: Option<RawTable>,
    principal_routes: Option<RawTable>,
    routes: Option<RawTable>,
    blocks: Option<RawTable>,
    revoked: Option<RawTable>,
    max_retries: Option<u32>,
}

#[derive(Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
struct RawTable {
    buckets: Option<u32>,
    entries: Option<usize>,
}

/// A ladder as written: every field optional, merged over the global ladder (or the defaults).
#[derive(Deserialize, Default)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub(super) struct RawLadder {
    challenge: Option<RawChallenge>,
    throttle: Option<RawThrottle>,
    block: Option<RawBlock>,
    revoke: Option<RawRevoke>,
}

#[derive(Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
struct RawChallenge {
    enabled: Option<bool>,
    realm: Option<String>,
    acr_values: Option<String>,
    max_age_s: Option<u64>,
}

#[derive(Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
struct RawThrottle {
    enabled: Option<bool>,
    retry_after_max_s: Option<u32>,
}

#[derive(Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
struct RawBlock {
    enabled: Option<bool>,
    ttl_s: Option<u64>,
    max_ttl_s: Option<u64>,
    scope: Option<BlockScope>,
    excess: Option<f64>,
}

#[derive(Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
struct RawRevoke {
    enabled: Option<bool>,
    ttl_s: Option<u64>,
    cluster: Option<String>,
    path: Option<String>,
    authority: Option<String>,
    client_authorization: Option<String>,
    timeout_ms: Option<u64>,
}

#[derive(Deserialize, Default)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub(super) struct RawAllowlist {
    cidrs: Option<Vec<String>>,
    principals: Option<Vec<String>>,
    paths: Option<Vec<String>>,
}

// ------------------------------------------------------------------------------------------
// Validation
// ------------------------------------------------------------------------------------------

pub(super) fn int_in<T>(value: T, lo: T, hi: T, field: &str) -> Result<T, ConfigError>
where
    T: PartialOrd + Copy + std::fmt::Display,
{
    if value < lo || value > hi {
        return Err(ConfigError::new(
            field,
            format!("must be between {lo} and {hi}, got {value}"),
        ));
    }
    Ok(value)
}

pub(super) fn num_in(value: f64, lo: f64, hi: f64, field: &str) -> Result<f64, ConfigError> {
    if !value.is_finite() || value < lo || value > hi {
        return Err(ConfigError::new(
            field,
            format!("must be between {lo} and {hi}, got {value}"),
        ));
    }
    Ok(value)
}

fn set<T>(target: &mut T, value: Option<T>) {
    if let Some(v) = value {
        *target = v;
    }
}

impl RawBehaviour {
    pub(super) fn validate(self, field: &str) -> Result<BehaviourConfig, ConfigError> {
        let mut b = BehaviourConfig::default();
        set(&mut b.enabled, self.enabled);
        if let Some(w) = self.window_s {
            b.window_ms = int_in(w, 1, 3600, &format!("{field}.window_s"))? * MS_PER_S;
        }
        if let Some(r) = self.learning_rate {
            b.learning_rate = num_in(r, 0.001, 1.0, &format!("{field}.learning_rate"))?;
        }
        if let Some(w) = self.warmup {
            let f = format!("{field}.warmup");
            if let Some(s) = w.seconds {
                b.warmup.ms = int_in(s, 0, 7 * 86_400, &format!("{f}.seconds"))? * MS_PER_S;
            }
            if let Some(n) = w.requests {
                b.warmup.requests = int_in(n, 0, 10_000_000, &format!("{f}.requests"))?;
            }
            if let Some(n) = w.windows {
                b.warmup.windows = int_in(n, 1, 1000, &format!("{f}.windows"))?;
            }
        }
        if let Some(s) = self.signals {
            s.apply(&mut b.signals, &format!("{field}.signals"))?;
        }
        if let Some(t) = self.tables {
            t.apply(&mut b.tables, &format!("{field}.tables"))?;
        }
        if let Some(w) = self.worker_state {
            let f = format!("{field}.worker_state");
            if let Some(ms) = w.sync_ms {
                if ms != 0 && !(10..=10_000).contains(&ms) {
                    return Err(ConfigError::new(
                        format!("{f}.sync_ms"),
                        format!(
                            "must be 0 (no per-worker state) or between 10 and 10000, got {ms}"
                        ),
                    ));
                }
                b.worker_state.sync_ms = ms;
            }
            if let Some(n) = w.max_keys {
                b.worker_state.max_keys = int_in(n, 16, 65_536, &format!("{f}.max_keys"))?;
            }
            if let Some(x) = w.hot_fraction {
                b.worker_state.hot_fraction = num_in(x, 0.05, 1.0, &format!("{f}.hot_fraction"))?;
            }
            if let Some(n) = w.hot_keys {
                b.worker_state.hot_keys = int_in(n, 0, 256, &format!("{f}.hot_keys"))?;
            }
        }
        Ok(b)
    }
}

/// Upper bound of the distinct-id sketch's useful range (it saturates at ~1,420).
const MAX_DISTINCT_LIMIT: f64 = 1200.0;

impl RawSignals {
    fn apply(self, s: &mut SignalThresholds, field: &str) -> Result<(), ConfigError> {
        if let Some(r) = self.rate {
            let f = format!("{field}.rate");
            set(&mut s.rate.enabled, r.enabled);
            if let Some(z) = r.z {
                s.rate.z = num_in(z, 0.0, 1000.0, &format!("{f}.z"))?;
            }
            if let Some(n) = r.min_requests {
                s.rate.min_requests = int_in(n, 1, 10_000_000, &format!("{f}.min_requests"))?;
            }
            if let Some(k) = r.strong_factor {
                s.rate.strong_factor = num_in(k, 1.0, 100.0, &format!("{f}.strong_factor"))?;
            }
        }
        if let Some(r) = self.route_rate {
            let f = format!("{field}.route_rate");
            set(&mut s.route_rate.enabled, r.enabled);
            if let Some(z) = r.z {
                s.route_rate.z = num_in(z, 0.0, 1000.0, &format!("{f}.z"))?;
            }
            if let Some(n) = r.min_requests {
                s.route_rate.min_requests =
                    int_in(n, 1, 100_000_000, &format!("{f}.min_requests"))?;
            }
        }
        if let Some(r) = self.auth_failures {
            r.apply(&mut s.auth_failures, &format!("{field}.auth_failures"))?;
        }
        if let Some(r) = self.not_found {
            r.apply(&mut s.not_found, &format!("{field}.not_found"))?;
        }
        if let Some(r) = self.bola {
            let f = format!("{field}.bola");
            set(&mut s.bola.enabled, r.enabled);
            if let Some(z) = r.z {
                s.bola.z = num_in(z, 0.0, 1000.0, &format!("{f}.z"))?;
            }
            if let Some(n) = r.min_distinct {
                s.bola.min_distinct = int_in(n, 1, 500, &format!("{f}.min_distinct"))?;
            }
            if let Some(k) = r.strong_factor {
                s.bola.strong_factor = num_in(k, 1.0, 100.0, &format!("{f}.strong_factor"))?;
            }
            let strong = f64::from(s.bola.min_distinct) * s.bola.strong_factor;
            if strong > MAX_DISTINCT_LIMIT {
                return Err(ConfigError::new(
                    f,
                    format!(
                        "min_distinct × strong_factor must be at most {MAX_DISTINCT_LIMIT} (the \
                         distinct-id sketch saturates at about 1400), got {strong}"
                    ),
                ));
            }
        }
        if let Some(r) = self.structure {
            let f = format!("{field}.structure");
            set(&mut s.structure.enabled, r.enabled);
            if let Some(n) = r.promote_after {
                // 1…255 fits the u8 counters of the route record.
                s.structure.promote_after = int_in(n, 1, 255, &format!("{f}.promote_after"))? as u8;
            }
        }
        if let Some(r) = self.response_size {
            let f = format!("{field}.response_size");
            set(&mut s.response_size.enabled, r.enabled);
            if let Some(z) = r.z {
                s.response_size.z = num_in(z, 0.0, 1000.0, &format!("{f}.z"))?;
            }
            set(&mut s.response_size.min_bytes, r.min_bytes);
        }
        if let Some(r) = self.model_denies {
            let f = format!("{field}.model_denies");
            if let Some(n) = r.limit {
                s.model_denies.limit = int_in(n, 1, 1000, &format!("{f}.limit"))?;
            }
            if let Some(w) = r.window_s {
                s.model_denies.window_ms =
                    int_in(w, 1, 86_400, &format!("{f}.window_s"))? * MS_PER_S;
            }
        }
        Ok(())
    }
}

impl RawBurst {
    fn apply(self, b: &mut BurstThreshold, field: &str) -> Result<(), ConfigError> {
        set(&mut b.enabled, self.enabled);
        if let Some(n) = self.limit {
            b.limit = int_in(n, 1, 1_000_000, &format!("{field}.limit"))?;
        }
        if let Some(k) = self.strong_factor {
            b.strong_factor = num_in(k, 1.0, 100.0, &format!("{field}.strong_factor"))?;
        }
        Ok(())
    }
}

impl RawTables {
    fn apply(self, t: &mut Tables, field: &str) -> Result<(), ConfigError> {
        if let Some(r) = self.max_retries {
            let r = int_in(r, 0, MAX_RETRIES, &format!("{field}.max_retries"))?;
            for table in [
                &mut t.clients,
                &mut t.principals,
                &mut t.principal_routes,
                &mut t.routes,
                &mut t.blocks,
                &mut t.revoked,
            ] {
                table.max_retries = r;
            }
        }
        let tables = [
            (self.clients, &mut t.clients, "clients"),
            (self.principals, &mut t.principals, "principals"),
            (
                self.principal_routes,
                &mut t.principal_routes,
                "principal_routes",
            ),
            (self.routes, &mut t.routes, "routes"),
            (self.blocks, &mut t.blocks, "blocks"),
            (self.revoked, &mut t.revoked, "revoked"),
        ];
        for (raw, table, name) in tables {
            let Some(raw) = raw else { continue };
            if let Some(n) = raw.buckets {
                table.buckets = int_in(n, 1, MAX_BUCKETS, &format!("{field}.{name}.buckets"))?;
            }
            if let Some(n) = raw.entries {
                table.entries_per_bucket = int_in(
                    n,
                    1,
                    MAX_ENTRIES_PER_BUCKET,
                    &format!("{field}.{name}.entries"),
                )?;
            }
        }
        Ok(())
    }
}

/// A quoted-string parameter of `WWW-Authenticate` (RFC 9110): no quotes, backslashes or
/// control characters, so it can be written between quotes as is.
fn auth_param(value: String, field: &str) -> Result<String, ConfigError> {
    let ok = !value.is_empty()
        && value.len() <= 256
        && value
            .bytes()
            .all(|b| (b == b' ' || b.is_ascii_graphic()) && b != b'"' && b != b'\\');
    if ok {
        Ok(value)
    } else {
        Err(ConfigError::new(
            field,
            format!(
                "must be 1 to 256 printable ASCII characters without '\"' or '\\', got {value:?}"
            ),
        ))
    }
}

fn header_value(value: String, field: &str) -> Result<String, ConfigError> {
    if value.is_empty() || !value.bytes().all(|b| b == b' ' || b.is_ascii_graphic()) {
        return Err(ConfigError::new(
            field,
            "must be a non-empty header value of printable ASCII characters",
        ));
    }
    Ok(value)
}

impl RawLadder {
    /// Merges `self` over `base` and validates the result.
    pub(super) fn merge(self, base: &Ladder, field: &str) -> Result<Ladder, ConfigError> {
        let mut l = base.clone();
        if let Some(c) = self.challenge {
            let f = format!("{field}.challenge");
            set(&mut l.challenge.enabled, c.enabled);
            if let Some(r) = c.realm {
                l.challenge.realm = Some(auth_param(r, &format!("{f}.realm"))?);
            }
            if let Some(a) = c.acr_values {
                l.challenge.acr_values = Some(auth_param(a, &format!("{f}.acr_values"))?);
            }
            if let Some(m) = c.max_age_s {
                l.challenge.max_age_s = Some(int_in(m, 0, MAX_TTL_S, &format!("{f}.max_age_s"))?);
            }
        }
        if let Some(t) = self.throttle {
            let f = format!("{field}.throttle");
            set(&mut l.throttle.enabled, t.enabled);
            if let Some(s) = t.retry_after_max_s {
                l.throttle.retry_after_max_s =
                    int_in(s, 1, 86_400, &format!("{f}.retry_after_max_s"))?;
            }
        }
        if let Some(b) = self.block {
            let f = format!("{field}.block");
            set(&mut l.block.enabled, b.enabled);
            set(&mut l.block.scope, b.scope);
            if let Some(s) = b.max_ttl_s {
                l.block.max_ttl_s = int_in(s, 1, MAX_TTL_S, &format!("{f}.max_ttl_s"))?;
            }
            if let Some(s) = b.ttl_s {
                l.block.ttl_s = int_in(s, 1, MAX_TTL_S, &format!("{f}.ttl_s"))?;
            }
            if let Some(x) = b.excess {
                l.block.excess = num_in(x, 1.0, 1000.0, &format!("{f}.excess"))?;
            }
            if l.block.ttl_s > l.block.max_ttl_s {
                return Err(ConfigError::new(
                    format!("{f}.ttl_s"),
                    format!(
                        "must not be above max_ttl_s ({}), got {}",
                        l.block.max_ttl_s, l.block.ttl_s
                    ),
                ));
            }
        }
        if let Some(r) = self.revoke {
            let f = format!("{field}.revoke");
            set(&mut l.revoke.enabled, r.enabled);
            if let Some(s) = r.ttl_s {
                l.revoke.ttl_s = int_in(s, 1, MAX_TTL_S, &format!("{f}.ttl_s"))?;
            }
            if let Some(c) = r.cluster {
                let ok = !c.is_empty()
                    && c.len() <= 128
                    && c.bytes().all(|b| b.is_ascii_graphic() && b != b'/');
                if !ok {
                    return Err(ConfigError::new(
                        format!("{f}.cluster"),
                        format!("must be an Envoy cluster name, got {c:?}"),
                    ));
                }
                l.revoke.cluster = Some(c);
            }
            if let Some(p) = r.path {
                if !p.starts_with('/') || !p.bytes().all(|b| b.is_ascii_graphic()) {
                    return Err(ConfigError::new(
                        format!("{f}.path"),
                        format!("must start with '/' and have no spaces, got {p:?}"),
                    ));
                }
                l.revoke.path = p;
            }
            if let Some(a) = r.authority {
                l.revoke.authority = Some(header_value(a, &format!("{f}.authority"))?);
            }
            if let Some(a) = r.client_authorization {
                l.revoke.client_authorization =
                    Some(header_value(a, &format!("{f}.client_authorization"))?);
            }
            if let Some(t) = r.timeout_ms {
                l.revoke.timeout_ms = int_in(t, 1, 60_000, &format!("{f}.timeout_ms"))?;
            }
        }
        Ok(l)
    }
}

impl RawAllowlist {
    pub(super) fn validate(self, field: &str) -> Result<Allowlist, ConfigError> {
        let mut a = Allowlist::default();
        for (i, c) in self.cidrs.unwrap_or_default().iter().enumerate() {
            let cidr =
                Cidr::parse(c).map_err(|m| ConfigError::new(format!("{field}.cidrs[{i}]"), m))?;
            a.cidrs.push(cidr);
        }
        for (i, p) in self.principals.unwrap_or_default().iter().enumerate() {
            let f = format!("{field}.principals[{i}]");
            let digest = match p.strip_prefix("sha256:") {
                Some(hex) => parse_sha256(hex).ok_or_else(|| {
                    ConfigError::new(&f, "sha256: must be followed by 64 hex digits")
                })?,
                None if p.is_empty() => {
                    return Err(ConfigError::new(f, "must not be empty"));
                }
                None => Sha256::digest(p.as_bytes()).into(),
            };
            a.principals.push(digest);
        }
        for (i, p) in self.paths.unwrap_or_default().into_iter().enumerate() {
            if !p.starts_with('/') {
                return Err(ConfigError::new(
                    format!("{field}.paths[{i}]"),
                    format!("must start with '/', got {p:?}"),
                ));
            }
            a.paths.push(p);
        }
        Ok(a)
    }
}

fn parse_sha256(hex: &str) -> Option<[u8; 32]> {
    let bytes = hex.as_bytes();
    if bytes.len() != 64 {
        return None;
    }
    let mut out = [0u8; 32];
    for (o, pair) in out.iter_mut().zip(bytes.chunks_exact(2)) {
        let s = std::str::from_utf8(pair).ok()?;
        *o = u8::from_str_radix(s, 16).ok()?;
    }
    Some(out)
}
