//! Security events for the SIEM: one model ([`SecurityEvent`]), built from the engine's
//! decision after the privacy transforms ([`privacy`]), and two encoders of it: OCSF 1.8.0
//! ([`ocsf`]) and Elastic ECS 9.x ([`ecs`]). [`sink`] frames encoded events for a sink
//! (NDJSON, Splunk HEC, Elasticsearch `_bulk`) and reads its replies; [`outbox`] is the bounded
//! batching / retry state machine of one sink, with time injected.
//!
//! Nothing here imports proxy-wasm: the glue in `filter/` collects the facts, calls
//! [`SecurityEvent::build`] and hands the encoded records to its VM's outboxes.

pub mod ecs;
pub mod lease;
pub mod ocsf;
pub mod outbox;
pub mod privacy;
pub mod sink;

use crate::config::{ClientIpMode, Mode, PrivacyConfig, Schema};
use crate::dlp::Kind;
use crate::policy::{Action, ConsensusDiscount, Decision, ProbeFinding, RULE_CLASSES};

/// Product version written in events (`metadata.product.version`, `observer.version`).
pub const PRODUCT_VERSION: &str = env!("CARGO_PKG_VERSION");

/// What response inspection found and did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResponseFindings {
    /// Matches per kind.
    pub counts: Vec<(Kind, u32)>,
    /// `annotate`, `mask` or `block`: the action applied (`annotate` in monitor mode).
    pub applied: &'static str,
    /// Why the body was not inspected (too large, compressed), if it was not.
    pub skipped: Option<String>,
}

impl ResponseFindings {
    /// Matches of every kind.
    pub fn total(&self) -> u32 {
        self.counts.iter().map(|(_, n)| *n).sum()
    }
}

/// The facts of one request the filter saw, as the glue collected them (raw: the privacy
/// transforms are applied by [`SecurityEvent::build`]).
#[derive(Debug, Clone, Default)]
pub struct RequestRecord<'a> {
    /// Wall-clock time of the request, ms since the epoch.
    pub time_ms: u64,
    /// `x-request-id`, if any.
    pub request_id: &'a str,
    /// Incident id of the local reply, if the filter answered.
    pub incident_id: Option<&'a str>,
    /// HTTP method.
    pub method: &'a str,
    /// Path as received (may carry a query after `?`).
    pub path: &'a str,
    /// Route template (`/api/users/{id}`), when behaviour computed one.
    pub route: Option<&'a str>,
    /// `:authority` / `host`.
    pub host: Option<&'a str>,
    /// `user-agent`.
    pub user_agent: Option<&'a str>,
    /// Request body read (at most `max_body_bytes`).
    pub body: &'a [u8],
    /// Client address as identified.
    pub client_ip: Option<&'a str>,
    /// Principal fingerprint (behaviour's identity of the credential), if any.
    pub principal_fp: Option<u64>,
    /// Status sent to the client (the upstream's or the filter's).
    pub status: Option<u16>,
}

/// One security event, ready to encode: every field already privacy-transformed.
#[derive(Debug, Clone, PartialEq)]
pub struct SecurityEvent {
    /// Event time, ms since the epoch.
    pub time_ms: u64,
    /// The action decided.
    pub action: Action,
    /// The action was applied (enforce mode and a stopping action, or a response masked /
    /// blocked).
    pub enforced: bool,
    /// Mode of the route.
    pub mode: Mode,
    /// Risk in `[0, 1]`.
    pub risk: f32,
    /// Model class (`benign` when the model found nothing).
    pub class: String,
    /// Where the riskiest value was (`query:id`).
    pub location: Option<String>,
    /// Reasons, redacted.
    pub reasons: Vec<String>,
    /// Behaviour signals (`bola`, `auth_failures`, …).
    pub signals: Vec<String>,
    /// `x-request-id` (redacted).
    pub request_id: Option<String>,
    /// Incident id of the 403/401/429 body.
    pub incident_id: Option<String>,
    /// HTTP method.
    pub method: String,
    /// Path, redacted, without the query.
    pub path: String,
    /// Query string, redacted (sensitive parameters' values removed).
    pub query: Option<String>,
    /// Route template.
    pub route: Option<String>,
    /// Host.
    pub host: Option<String>,
    /// User agent, redacted.
    pub user_agent: Option<String>,
    /// Status sent to the client.
    pub status: Option<u16>,
    /// Client address after the `client_ip` transform (full or truncated).
    pub client_ip: Option<String>,
    /// Client address as a keyed hash (`client_ip: hash`).
    pub client_hash: Option<String>,
    /// Principal as a keyed hash.
    pub principal_hash: Option<String>,
    /// Redacted, bounded excerpt of the request body.
    pub excerpt: Option<String>,
    /// Response inspection.
    pub response: Option<ResponseFindings>,
    /// The model's risk was discounted for value consensus (location redacted).
    pub consensus: Option<ConsensusDiscount>,
    /// The path asked for a restricted resource (the rule is ours, never request text).
    pub probe: Option<ProbeFinding>,
}

/// Longest reason kept in an event.
const MAX_REASON: usize = 512;
/// Longest path, query or user agent kept.
const MAX_FIELD: usize = 1024;

impl SecurityEvent {
    /// The event of a request: `decision` as the engine made it, `record` as the glue saw it,
    /// `response` as response inspection found it; `privacy` applied to every field.
    pub fn build(
        decision: &Decision,
        record: &RequestRecord<'_>,
        response: Option<ResponseFindings>,
        privacy: &PrivacyConfig,
    ) -> SecurityEvent {
        let (path, query) = match record.path.split_once('?') {
            Some((p, q)) => (p, Some(q)),
            None => (record.path, None),
        };
        let mut response_enforced = false;
        if let Some(r) = &response {
            response_enforced = r.applied != "annotate" && r.total() > 0;
        }
        let principal_hash = record
            .principal_fp
            .and_then(|fp| privacy::principal(fp, privacy));
        let (client_ip, client_hash) = match record.client_ip {
            Some(ip) => privacy::client_ip(ip, privacy),
            None => (None, None),
        };
        // What stands for the client's address in free text (reasons name the client).
        let stand_in = match privacy.client_ip {
            ClientIpMode::Full => None,
            ClientIpMode::Truncate => Some(
                client_ip
                    .clone()
                    .unwrap_or_else(|| "[REDACTED:ip]".to_string()),
            ),
            ClientIpMode::Hash => client_hash.as_ref().map(|h| format!("ip:{h}")),
            ClientIpMode::Omit => Some("[REDACTED:ip]".to_string()),
        };
        let unaddressed = |text: &str| match (record.client_ip, &stand_in) {
            (Some(ip), Some(with)) => privacy::replace_address(text, ip, with),
            _ => text.to_string(),
        };
        SecurityEvent {
            time_ms: record.time_ms,
            action: decision.action,
            enforced: decision.enforced || response_enforced,
            mode: decision.mode,
            risk: decision.risk,
            class: decision.class.clone(),
            location: decision.location.as_deref().map(privacy::redact_location),
            reasons: decision
                .reasons
                .iter()
                .map(|r| privacy::redact_text(&unaddressed(r), MAX_REASON))
                .collect(),
            signals: {
                let mut s: Vec<String> = decision
                    .signals
                    .iter()
                    .map(|s| s.kind.as_str().to_string())
                    .collect();
                s.dedup();
                s
            },
            request_id: (!record.request_id.is_empty())
                .then(|| privacy::redact_text(record.request_id, 64)),
            incident_id: record.incident_id.map(str::to_string),
            method: privacy::clip(&record.method.to_ascii_uppercase(), 16),
            path: privacy::redact_path(path, MAX_FIELD),
            query: query
                .filter(|q| !q.is_empty())
                .map(|q| privacy::redact_query(q, MAX_FIELD)),
            route: record.route.map(|r| privacy::redact_path(r, MAX_FIELD)),
            host: record.host.map(|h| privacy::redact_text(h, 255)),
            user_agent: record
                .user_agent
                .map(|u| privacy::redact_text(u, MAX_FIELD)),
            status: record.status,
            client_ip,
            client_hash,
            principal_hash,
            excerpt: privacy::excerpt(record.body, privacy.excerpt_bytes),
            response,
            consensus: decision.consensus.as_ref().map(|c| ConsensusDiscount {
                location: privacy::redact_location(&c.location),
                ..c.clone()
            }),
            probe: decision.probe.clone(),
        }
    }

    /// An alert: a deny, block or revoke (enforced or not), a behavioural finding (BOLA,
    /// credential stuffing, scanning), or a response that exposed data over its threshold.
    /// Alerts get a Detection Finding in OCSF and are sent at the next flush tick.
    pub fn is_alert(&self) -> bool {
        self.action >= Action::Deny
            || self.signals.iter().any(|s| {
                matches!(
                    s.as_str(),
                    "bola"
                        | "auth_failures"
                        | "principal_auth_failures"
                        | "not_found"
                        | "blocked"
                        | "revoked"
                )
            })
            || self.response.as_ref().is_some_and(|r| r.total() > 0)
    }

    /// The event is worth a record without sampling: anything but a plain allow, and an allow
    /// that value consensus discounted (the audit trail of every discount: those values were
    /// annotated or denied before they earned it).
    pub fn is_notable(&self) -> bool {
        self.action > Action::Allow || self.is_alert() || self.consensus.is_some()
    }

    /// Severity on the OCSF scale (1 informational … 5 critical).
    pub fn severity(&self) -> u8 {
        match self.action {
            Action::Allow => {
                if self.response.as_ref().is_some_and(|r| r.total() > 0) {
                    3
                } else {
                    1
                }
            }
            Action::Annotate => 2,
            Action::Challenge | Action::Throttle => 3,
            Action::Deny => 4,
            Action::Block | Action::Revoke => 5,
        }
    }

    /// What the event is named after: the behaviour signal that drove it, else the model class,
    /// else `data_exposure` for a response finding.
    pub fn rule_name(&self) -> String {
        if self.class != "benign" {
            return self.class.clone();
        }
        if let Some(s) = self.signals.first() {
            return s.clone();
        }
        if self.response.as_ref().is_some_and(|r| r.total() > 0) {
            return "data_exposure".to_string();
        }
        "benign".to_string()
    }

    /// `model`, `probe`, `behaviour` or `dlp`: the engine part behind
    /// [`SecurityEvent::rule_name`].
    pub fn rule_type(&self) -> &'static str {
        // A request denied for an earlier block or revocation carries that as its class.
        if matches!(self.class.as_str(), "blocked" | "revoked") {
            "behaviour"
        } else if RULE_CLASSES.contains(&self.class.as_str())
            || self.probe.as_ref().is_some_and(|p| p.class == self.class)
        {
            "probe"
        } else if self.class != "benign" {
            "model"
        } else if !self.signals.is_empty() {
            "behaviour"
        } else if self.response.is_some() {
            "dlp"
        } else {
            "model"
        }
    }

    /// One line of explanation.
    pub fn message(&self) -> String {
        let mut m = format!(
            "apiward {} {} {}",
            self.action.as_str(),
            self.method,
            self.path
        );
        if let Some(r) = &self.response {
            let kinds: Vec<String> = r
                .counts
                .iter()
                .map(|(k, n)| format!("{n} {}", k.as_str()))
                .collect();
            if !kinds.is_empty() {
                m.push_str(&format!(": response exposes {}", kinds.join(", ")));
            }
        }
        if self.rule_type() == "dlp" {
            // The request's own reason (the model found nothing) says nothing about the response.
            if let Some(why) = self.response.as_ref().and_then(|r| r.skipped.as_ref()) {
                m.push_str(": response not inspected: ");
                m.push_str(why);
            }
        } else if let Some(first) = self.reasons.first() {
            m.push_str(": ");
            m.push_str(first);
        }
        m
    }

    /// What matched, for the rule's condition / description: the response finding for a DLP
    /// event, else the first reason.
    pub fn condition(&self) -> Option<String> {
        if self.rule_type() == "dlp" {
            if let Some(r) = &self.response {
                if let Some(why) = &r.skipped {
                    return Some(format!("response not inspected: {why}"));
                }
                let kinds: Vec<String> = r
                    .counts
                    .iter()
                    .map(|(k, n)| format!("{}={n}", k.as_str()))
                    .collect();
                return Some(format!(
                    "response exposes {} ({})",
                    kinds.join(","),
                    r.applied
                ));
            }
        }
        self.reasons.first().cloned()
    }

    /// The encoded records of this event in `schema` (OCSF: the HTTP Activity, then a Detection
    /// Finding for an alert; ECS: one document).
    pub fn encode(&self, schema: Schema) -> Vec<serde_json::Value> {
        match schema {
            Schema::Ocsf => {
                let mut v = vec![ocsf::http_activity(self)];
                if self.is_alert() {
                    v.push(ocsf::detection_finding(self));
                }
                v
            }
            Schema::Ecs => vec![ecs::document(self)],
        }
    }
}

#[cfg(test)]
mod tests;
