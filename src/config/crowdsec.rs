//! The `crowdsec` block: a CrowdSec Local API shared by a fleet of proxies. As a **bouncer** the
//! filter pulls the LAPI's decision stream into a bounded shared-data table that every worker
//! enforces; as a **watcher** it pushes an alert with a decision whenever it blocks a client or
//! revokes a token in enforce mode.

use serde::Deserialize;

use super::ConfigError;
use crate::state::TableConfig;

/// Largest `max_ranges` (a range list is one shared-data value of 34 bytes per range).
pub const MAX_RANGES_LIMIT: usize = 4096;
/// Largest `watcher.max_pending_alerts`.
pub const MAX_PENDING_ALERTS_LIMIT: usize = 1024;

/// A CrowdSec Local API, as bouncer and/or watcher.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CrowdsecConfig {
    /// Envoy cluster of the LAPI.
    pub cluster: String,
    /// `:authority` of the requests (default: the cluster name).
    pub authority: String,
    /// Bouncer API key (`X-Api-Key`); none = no decisions pulled (watcher only).
    pub api_key: Option<String>,
    /// Seconds between two polls of the decision stream (one VM of the proxy polls).
    pub poll_ms: u64,
    /// Timeout of each LAPI request.
    pub timeout_ms: u64,
    /// Table of `Ip` decisions (`buckets` × `entries`).
    pub decisions: TableConfig,
    /// Largest number of `Range` decisions kept; more are counted and not applied.
    pub max_ranges: usize,
    /// A LAPI failure is logged at most once per this period (it is always counted).
    pub failure_log_ms: u64,
    /// Watcher credentials; none = no alerts pushed.
    pub watcher: Option<WatcherConfig>,
}

/// Watcher (machine) credentials and its alert queue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WatcherConfig {
    /// Machine id registered with `cscli machines add`.
    pub machine_id: String,
    /// Its password.
    pub password: String,
    /// Alerts waiting per VM (LAPI slow or down); more are dropped and counted.
    pub max_pending_alerts: usize,
}

#[derive(Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub(super) struct RawCrowdsec {
    cluster: String,
    authority: Option<String>,
    api_key: Option<String>,
    poll_s: Option<u64>,
    timeout_ms: Option<u64>,
    decisions: Option<RawDecisionTable>,
    max_ranges: Option<usize>,
    failure_log_s: Option<u64>,
    watcher: Option<RawWatcher>,
}

#[derive(Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
struct RawDecisionTable {
    buckets: Option<u32>,
    entries: Option<usize>,
}

#[derive(Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
struct RawWatcher {
    machine_id: String,
    password: String,
    max_pending_alerts: Option<usize>,
}

fn int_in<T>(value: T, lo: T, hi: T, field: &str) -> Result<T, ConfigError>
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

/// A value sent in a header or a JSON string: 1 to 256 visible ASCII characters.
fn credential(value: String, field: &str) -> Result<String, ConfigError> {
    if value.is_empty() || value.len() > 256 || !value.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(ConfigError::new(
            field,
            "must be 1 to 256 visible ASCII characters",
        ));
    }
    Ok(value)
}

fn cluster_name(c: String, field: &str) -> Result<String, ConfigError> {
    let ok =
        !c.is_empty() && c.len() <= 128 && c.bytes().all(|b| b.is_ascii_graphic() && b != b'/');
    if !ok {
        return Err(ConfigError::new(
            field,
            format!("must be an Envoy cluster name, got {c:?}"),
        ));
    }
    Ok(c)
}

impl RawCrowdsec {
    pub(super) fn validate(self, field: &str) -> Result<CrowdsecConfig, ConfigError> {
        let cluster = cluster_name(self.cluster, &format!("{field}.cluster"))?;
        let authority = match self.authority {
            Some(a) => credential(a, &format!("{field}.authority"))?,
            None => cluster.clone(),
        };
        let api_key = self
            .api_key
            .map(|k| credential(k, &format!("{field}.api_key")))
            .transpose()?;
        let poll_s = int_in(
            self.poll_s.unwrap_or(10),
            1,
            3600,
            &format!("{field}.poll_s"),
        )?;
        let timeout_ms = int_in(
            self.timeout_ms.unwrap_or(2000),
            1,
            60_000,
            &format!("{field}.timeout_ms"),
        )?;
        let mut decisions = TableConfig {
            buckets: 4096,
            entries_per_bucket: 8,
            max_retries: 4,
        };
        if let Some(t) = self.decisions {
            if let Some(b) = t.buckets {
                decisions.buckets = int_in(b, 1, 1 << 20, &format!("{field}.decisions.buckets"))?;
            }
            if let Some(e) = t.entries {
                decisions.entries_per_bucket =
                    int_in(e, 1, 64, &format!("{field}.decisions.entries"))?;
            }
        }
        let max_ranges = int_in(
            self.max_ranges.unwrap_or(256),
            0,
            MAX_RANGES_LIMIT,
            &format!("{field}.max_ranges"),
        )?;
        let failure_log_s = int_in(
            self.failure_log_s.unwrap_or(60),
            1,
            86_400,
            &format!("{field}.failure_log_s"),
        )?;
        let watcher = match self.watcher {
            Some(w) => {
                let f = format!("{field}.watcher");
                Some(WatcherConfig {
                    machine_id: credential(w.machine_id, &format!("{f}.machine_id"))?,
                    password: credential(w.password, &format!("{f}.password"))?,
                    max_pending_alerts: int_in(
                        w.max_pending_alerts.unwrap_or(64),
                        1,
                        MAX_PENDING_ALERTS_LIMIT,
                        &format!("{f}.max_pending_alerts"),
                    )?,
                })
            }
            None => None,
        };
        if api_key.is_none() && watcher.is_none() {
            return Err(ConfigError::new(
                field,
                "give api_key (bouncer), watcher, or both",
            ));
        }
        Ok(CrowdsecConfig {
            cluster,
            authority,
            api_key,
            poll_ms: poll_s * 1000,
            timeout_ms,
            decisions,
            max_ranges,
            failure_log_ms: failure_log_s * 1000,
            watcher,
        })
    }
}

#[cfg(test)]
mod tests {
    use crate::config::Config;

    #[test]
    fn full_crowdsec_block_is_accepted_with_defaults_filled_in() {
        let cfg = Config::from_json(
            br#"{"crowdsec":{"cluster":"crowdsec","api_key":"k3y","poll_s":2,
                 "decisions":{"buckets":128,"entries":4},"max_ranges":16,
                 "watcher":{"machine_id":"edge-1","password":"pw"}}}"#,
        )
        .unwrap();
        let c = cfg.crowdsec.unwrap();
        assert_eq!(c.authority, "crowdsec");
        assert_eq!(c.poll_ms, 2000);
        assert_eq!(c.timeout_ms, 2000);
        assert_eq!(c.failure_log_ms, 60_000);
        assert_eq!(
            (c.decisions.buckets, c.decisions.entries_per_bucket),
            (128, 4)
        );
        assert_eq!(c.max_ranges, 16);
        let w = c.watcher.unwrap();
        assert_eq!(
            (w.machine_id.as_str(), w.max_pending_alerts),
            ("edge-1", 64)
        );
        assert!(Config::from_json(b"{}").unwrap().crowdsec.is_none());
    }

    #[test]
    fn invalid_crowdsec_config_names_the_field() {
        let cases: &[(&str, &str)] = &[
            (r#"{"crowdsec":{}}"#, "crowdsec.cluster: missing field `cluster` at line 1 column 14"),
            (r#"{"crowdsec":{"cluster":"cs"}}"#, "crowdsec: give api_key (bouncer), watcher, or both"),
            (r#"{"crowdsec":{"cluster":"a/b","api_key":"k"}}"#, "crowdsec.cluster: must be an Envoy cluster name, got \"a/b\""),
            (r#"{"crowdsec":{"cluster":"cs","api_key":""}}"#, "crowdsec.api_key: must be 1 to 256 visible ASCII characters"),
            (r#"{"crowdsec":{"cluster":"cs","api_key":"a b"}}"#, "crowdsec.api_key: must be 1 to 256 visible ASCII characters"),
            (r#"{"crowdsec":{"cluster":"cs","api_key":"k","poll_s":0}}"#, "crowdsec.poll_s: must be between 1 and 3600, got 0"),
            (r#"{"crowdsec":{"cluster":"cs","api_key":"k","timeout_ms":60001}}"#, "crowdsec.timeout_ms: must be between 1 and 60000, got 60001"),
            (r#"{"crowdsec":{"cluster":"cs","api_key":"k","decisions":{"buckets":0}}}"#, "crowdsec.decisions.buckets: must be between 1 and 1048576, got 0"),
            (r#"{"crowdsec":{"cluster":"cs","api_key":"k","decisions":{"entries":65}}}"#, "crowdsec.decisions.entries: must be between 1 and 64, got 65"),
            (r#"{"crowdsec":{"cluster":"cs","api_key":"k","max_ranges":5000}}"#, "crowdsec.max_ranges: must be between 0 and 4096, got 5000"),
            (r#"{"crowdsec":{"cluster":"cs","api_key":"k","failure_log_s":0}}"#, "crowdsec.failure_log_s: must be between 1 and 86400, got 0"),
            (r#"{"crowdsec":{"cluster":"cs","watcher":{"machine_id":"m"}}}"#, "crowdsec.watcher.password: missing field `password` at line 1 column 56"),
            (r#"{"crowdsec":{"cluster":"cs","watcher":{"machine_id":"","password":"p"}}}"#, "crowdsec.watcher.machine_id: must be 1 to 256 visible ASCII characters"),
            (r#"{"crowdsec":{"cluster":"cs","watcher":{"machine_id":"m","password":"p","max_pending_alerts":0}}}"#, "crowdsec.watcher.max_pending_alerts: must be between 1 and 1024, got 0"),
            (r#"{"crowdsec":{"cluster":"cs","api_key":"k","lapi_url":"http://x"}}"#, "crowdsec.lapi_url: unknown field `lapi_url`, expected one of `cluster`, `authority`, `api_key`, `poll_s`, `timeout_ms`, `decisions`, `max_ranges`, `failure_log_s`, `watcher` at line 1 column 52"),
        ];
        crate::config::assert_errors(cases);
    }
}
