//! Model verdict + behaviour signals + history → [`Decision`]: the one place where the action
//! is chosen.
//!
//! The rules ([`decide_with`]):
//! - An allowlisted client, principal or path gets the model-only decision: behaviour never
//!   challenges, throttles, blocks or revokes it.
//! - A blocked client or principal, or a revoked token, is denied (reason `blocked:`/`revoked:`).
//! - A weak signal (over its limit) only annotates, alone or with other weak signals.
//! - A strong signal (over `strong_factor` × its limit) takes its own step: rate → throttle
//!   (`Retry-After` = time until the window drains under the limit); auth failures →
//!   challenge when the request has a principal or step-up (`acr_values`) is configured, else
//!   throttle; 404 burst and BOLA → deny. The model's deny threshold is a strong signal (deny).
//! - A block needs: a blockable signal (auth failures, 404 burst, BOLA) `block.excess` times
//!   over its limit; or the `model_denies.limit`-th model deny from the client in its window;
//!   or two strong attributable signals of different families agreeing; or a strong signal
//!   from a client or principal blocked before (the TTL doubles with each earlier block).
//! - A block whose evidence is about the principal (BOLA, principal rate or auth failures)
//!   revokes the token when `revoke` is enabled.
//! - A disabled step degrades: revoke → block → deny, challenge → throttle → annotate.
//! - Monitor mode computes the same decision and enforces nothing (`enforced == false`).
//!
//! A request for a restricted resource, or one that uploads a file the server would run
//! ([`crate::probes`]), is decided beside all this by [`with_probe`]: its action (deny, or
//! annotate) is taken when nothing else asks for more, with class [`PROBE_CLASS`] or
//! [`UPLOAD_CLASS`].

use std::fmt;

use crate::behaviour::{BlockCause, History, Severity, Signal, SignalKind};
use crate::config::{BlockScope, Ladder, Mode, Thresholds};
use crate::hash;
use crate::request::InspectionNote;

/// What the filter does with a request, in order of severity.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Action {
    /// Nothing suspicious.
    Allow,
    /// Suspicious: pass with annotations, count, report.
    Annotate,
    /// 401 with `WWW-Authenticate: Bearer error="insufficient_user_authentication"` (RFC 9470).
    Challenge,
    /// 429 with `Retry-After`.
    Throttle,
    /// Reject with 403 problem+json (in enforce mode).
    Deny,
    /// 403, and the client and/or principal is blocked on every worker for a TTL.
    Block,
    /// 403, block, and the token goes into the revocation table (optionally RFC 7009).
    Revoke,
}

impl Action {
    /// Lower-case name for headers, metrics and events.
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Allow => "allow",
            Action::Annotate => "annotate",
            Action::Challenge => "challenge",
            Action::Throttle => "throttle",
            Action::Deny => "deny",
            Action::Block => "block",
            Action::Revoke => "revoke",
        }
    }

    /// All actions, for metric registration.
    pub const ALL: [Action; 7] = [
        Action::Allow,
        Action::Annotate,
        Action::Challenge,
        Action::Throttle,
        Action::Deny,
        Action::Block,
        Action::Revoke,
    ];

    /// Whether the action stops the request with a local reply (when enforced).
    pub fn stops(self) -> bool {
        self >= Action::Challenge
    }
}

/// A block to impose (written by [`crate::behaviour::Behaviour::apply`] when enforced).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BlockOrder {
    /// Who is blocked.
    pub scope: BlockScope,
    /// TTL of this block (seconds), already doubled for earlier blocks.
    pub ttl_s: u64,
    /// TTL of a first block (seconds); the writer doubles it per level it finds stored.
    pub base_ttl_s: u64,
    /// Longest block (seconds).
    pub max_ttl_s: u64,
    /// Why.
    pub cause: BlockCause,
}

/// A token revocation to record (and optionally send to the authorization server).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RevokeOrder {
    /// How long the token stays denied (seconds).
    pub ttl_s: u64,
}

/// What the model said about the most suspicious value of a request.
#[derive(Debug, Clone, PartialEq)]
pub struct ModelVerdict {
    /// Most likely attack class of the riskiest value, or `benign`.
    pub class: String,
    /// Probability of that class.
    pub probability: f32,
    /// 1 − P(benign) of the riskiest value.
    pub risk: f32,
    /// Location key of the riskiest value (`query:id`), if any value was scored.
    pub location: Option<String>,
}

impl ModelVerdict {
    /// The verdict for a request with nothing to score.
    pub fn nothing_scored() -> ModelVerdict {
        ModelVerdict {
            class: "benign".into(),
            probability: 1.0,
            risk: 0.0,
            location: None,
        }
    }
}

/// A risk reduction granted because many distinct clients send the same value on the route
/// ([`crate::consensus`]).
#[derive(Debug, Clone, PartialEq)]
pub struct ConsensusDiscount {
    /// Distinct clients credited (networks, and principals where requests carry one).
    pub clients: u32,
    /// Time since the value was first seen (ms).
    pub age_ms: u64,
    /// Where the value sits (`header:user-agent`).
    pub location: String,
    /// Risk before the discount.
    pub from: f32,
    /// Risk after it.
    pub to: f32,
}

impl ConsensusDiscount {
    /// `consensus: 37 clients since 3h12m on header:user-agent, risk 0.930 -> 0.662`.
    pub fn reason(&self) -> String {
        format!(
            "consensus: {} clients since {} on {}, risk {:.3} -> {:.3}",
            self.clients,
            short_duration(self.age_ms),
            self.location,
            self.from,
            self.to
        )
    }
}

/// `45s`, `12m`, `3h12m`, `2d5h`.
pub fn short_duration(ms: u64) -> String {
    let s = ms / 1000;
    match s {
        0..=59 => format!("{s}s"),
        60..=3599 => format!("{}m", s / 60),
        3600..=86_399 if s % 3600 / 60 == 0 => format!("{}h", s / 3600),
        3600..=86_399 => format!("{}h{}m", s / 3600, s % 3600 / 60),
        _ if s % 86_400 / 3600 == 0 => format!("{}d", s / 86_400),
        _ => format!("{}d{}h", s / 86_400, s % 86_400 / 3600),
    }
}

/// The class of a request for a restricted resource ([`crate::probes`]).
pub const PROBE_CLASS: &str = "restricted_file";

/// The class of a request that uploads a file the server would run or that reconfigures it
/// ([`crate::probes::Probes::check_upload`]).
pub const UPLOAD_CLASS: &str = "unrestricted_upload";

/// The class of a value that breaks its line into a mail header or a mail protocol command
/// ([`crate::probes::Probes::check_mail`]): the model's CRLF-injection class, found by a rule.
pub const MAIL_CLASS: &str = "crlf";

/// The class of a value that calls a high-risk PHP function, reads a superglobal or sets a PHP
/// directive ([`crate::probes::Probes::check_php`]): the model's class of code and command
/// injection (its training labels PHP code injection so), found by a rule.
pub const PHP_CLASS: &str = "cmdi";

/// The classes only a rule of [`crate::probes`] gives ([`MAIL_CLASS`] and [`PHP_CLASS`] are
/// also model classes).
pub const RULE_CLASSES: [&str; 2] = [PROBE_CLASS, UPLOAD_CLASS];

/// A request for a restricted resource: which rule its path matched and what the configuration
/// asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProbeFinding {
    /// [`PROBE_CLASS`] for a path, [`UPLOAD_CLASS`] for an uploaded file's name,
    /// [`MAIL_CLASS`] for a value that breaks its line into mail, [`PHP_CLASS`] for PHP named in
    /// a value.
    pub class: &'static str,
    /// Kind of resource: `metadata`, `secret`, `backup`, `dump`, `custom`, `upload`, `mail`
    /// or `php` ([`crate::probes::Category`]).
    pub category: &'static str,
    /// The rule (`.git`, `.bak`, `cvs/entries`, `.php`); `probes.allow` takes an upload rule
    /// as `upload:.php`.
    pub rule: String,
    /// Where it matched: `path`, `multipart:file#filename`, `header:x-file-name`.
    pub location: String,
    /// `Deny` or `Annotate` (`probes.action`).
    pub action: Action,
}

impl ProbeFinding {
    /// `probe:restricted_file metadata:.git at path`,
    /// `probe:unrestricted_upload upload:.php at multipart:file#filename`.
    pub fn reason(&self) -> String {
        format!(
            "probe:{} {}:{} at {}",
            self.class, self.category, self.rule, self.location
        )
    }
}

/// The outcome for one request.
#[derive(Debug, Clone, PartialEq)]
pub struct Decision {
    /// What the policy decided.
    pub action: Action,
    /// Mode the decision was made in; in monitor mode nothing is enforced.
    pub mode: Mode,
    /// Risk in `[0, 1]`.
    pub risk: f32,
    /// Attack class (or `benign`).
    pub class: String,
    /// Where the model found the riskiest value (`query:id`), when it is not benign.
    pub location: Option<String>,
    /// Why, in order of weight: model class and probability with location, then notes.
    pub reasons: Vec<String>,
    /// The action is applied: enforce mode and an action that stops the request.
    pub enforced: bool,
    /// Behaviour signals considered (empty when behaviour is off or the client allowlisted).
    pub signals: Vec<Signal>,
    /// Throttle: seconds for `Retry-After`.
    pub retry_after_s: Option<u32>,
    /// Challenge: the `WWW-Authenticate` value.
    pub www_authenticate: Option<String>,
    /// Block/revoke: the block to impose.
    pub block: Option<BlockOrder>,
    /// Revoke: the revocation to record.
    pub revoke: Option<RevokeOrder>,
    /// The model's risk was discounted for value consensus.
    pub consensus: Option<ConsensusDiscount>,
    /// The path asks for a restricted resource.
    pub probe: Option<ProbeFinding>,
}

impl Decision {
    /// The request must be stopped now (enforce mode and an action with a local reply); the
    /// reply is [`Decision::local_reply`].
    pub fn blocks(&self) -> bool {
        self.enforced
    }

    /// The local reply to send when the decision is enforced: 401 + `WWW-Authenticate`
    /// (challenge), 429 + `Retry-After` (throttle), 403 (deny, block, revoke); all with an RFC
    /// 9457 problem document and `cache-control: no-store`. `None` when the request passes.
    pub fn local_reply(&self, incident: &str) -> Option<LocalReply> {
        if !self.enforced {
            return None;
        }
        let mut headers = vec![
            ("content-type", "application/problem+json".to_string()),
            ("cache-control", "no-store".to_string()),
        ];
        let status = match self.action {
            Action::Challenge => {
                if let Some(v) = &self.www_authenticate {
                    headers.push(("www-authenticate", v.clone()));
                }
                401
            }
            Action::Throttle => {
                headers.push(("retry-after", self.retry_after_s.unwrap_or(1).to_string()));
                429
            }
            _ => 403,
        };
        Some(LocalReply {
            status,
            headers,
            body: problem_json(status, incident),
        })
    }
}

/// A reply the filter sends instead of forwarding the request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LocalReply {
    /// HTTP status.
    pub status: u16,
    /// Headers (lower-case names); the glue adds its incident header.
    pub headers: Vec<(&'static str, String)>,
    /// RFC 9457 problem document.
    pub body: String,
}

/// Chooses the action for a request from the model verdict, inspection notes and thresholds.
pub fn decide(
    verdict: &ModelVerdict,
    notes: &[InspectionNote],
    thresholds: Thresholds,
    mode: Mode,
) -> Decision {
    let action = if verdict.risk >= thresholds.deny {
        Action::Deny
    } else if verdict.risk >= thresholds.annotate {
        Action::Annotate
    } else {
        Action::Allow
    };
    let mut reasons = Vec::new();
    if let Some(location) = &verdict.location {
        if action > Action::Allow {
            reasons.push(format!(
                "model:{} p={:.3} at {}",
                verdict.class, verdict.probability, location
            ));
        } else {
            reasons.push(format!("model:benign risk={:.3}", verdict.risk));
        }
    } else {
        reasons.push("nothing to score".to_string());
    }
    reasons.extend(notes.iter().map(ToString::to_string));
    Decision {
        action,
        mode,
        risk: verdict.risk,
        class: if action > Action::Allow {
            verdict.class.clone()
        } else {
            "benign".to_string()
        },
        location: if action > Action::Allow {
            verdict.location.clone()
        } else {
            None
        },
        reasons,
        enforced: mode == Mode::Enforce && action.stops(),
        signals: Vec::new(),
        retry_after_s: None,
        www_authenticate: None,
        block: None,
        revoke: None,
        consensus: None,
        probe: None,
    }
}

/// What the decision weighs besides the model: behaviour signals, history and the route's
/// ladder.
#[derive(Debug, Clone, Copy)]
pub struct Evidence<'a> {
    /// Signals of this request.
    pub signals: &'a [Signal],
    /// What this client and principal did before.
    pub history: History,
    /// Why the request is exempt from behavioural steps, if it is.
    pub allowlisted: Option<&'a str>,
    /// The request has a principal.
    pub has_principal: bool,
    /// The route's ladder.
    pub ladder: &'a Ladder,
}

/// The step a signal asks for on its own.
fn own_step(s: &Signal, ev: &Evidence<'_>) -> Action {
    if s.severity == Severity::Weak {
        return Action::Annotate;
    }
    match s.kind {
        SignalKind::Rate | SignalKind::PrincipalRate => Action::Throttle,
        SignalKind::AuthFailures | SignalKind::PrincipalAuthFailures => {
            if ev.has_principal || ev.ladder.challenge.acr_values.is_some() {
                Action::Challenge
            } else {
                Action::Throttle
            }
        }
        SignalKind::NotFound | SignalKind::Bola | SignalKind::Blocked | SignalKind::Revoked => {
            Action::Deny
        }
        _ => Action::Annotate,
    }
}

/// The step actually taken when `wanted` is disabled on the ladder.
fn admitted(wanted: Action, ladder: &Ladder) -> Action {
    let mut a = wanted;
    if a == Action::Revoke && !ladder.revoke.enabled {
        a = Action::Block;
    }
    if a == Action::Block && !ladder.block.enabled {
        a = Action::Deny;
    }
    if a == Action::Challenge && !ladder.challenge.enabled {
        a = Action::Throttle;
    }
    if a == Action::Throttle && !ladder.throttle.enabled {
        a = Action::Annotate;
    }
    a
}

/// Why the evidence calls for a block, if it does.
fn block_cause(
    ev: &Evidence<'_>,
    model_deny: bool,
    block_excess: f64,
) -> Option<(BlockCause, String)> {
    let strong: Vec<&Signal> = ev
        .signals
        .iter()
        .filter(|s| s.severity == Severity::Strong && s.kind.attributable())
        .collect();
    if let Some(s) = strong
        .iter()
        .filter(|s| s.kind.blockable() && s.excess >= block_excess)
        .max_by(|a, b| a.excess.total_cmp(&b.excess))
    {
        return Some((
            BlockCause::Signal(s.kind),
            format!(
                "{} {:.1}x over its limit (blocks at {:.1}x)",
                s.kind, s.excess, block_excess
            ),
        ));
    }
    let h = ev.history;
    if model_deny && h.model_denies_limit > 0 && h.model_denies + 1 >= h.model_denies_limit {
        return Some((
            BlockCause::ModelDenies,
            format!(
                "model deny {} of {} from this client",
                h.model_denies + 1,
                h.model_denies_limit
            ),
        ));
    }
    let mut families: Vec<&str> = strong.iter().map(|s| s.kind.family()).collect();
    if model_deny {
        families.push("model");
    }
    families.sort_unstable();
    families.dedup();
    if families.len() >= 2 {
        return Some((
            BlockCause::Agreement,
            format!("{} agree", families.join(" and ")),
        ));
    }
    if h.earlier_blocks > 0 && (model_deny || !strong.is_empty()) {
        return Some((
            BlockCause::RepeatOffender,
            format!(
                "strong signal from a client blocked {} time(s) before",
                h.earlier_blocks
            ),
        ));
    }
    None
}

/// `WWW-Authenticate` of a challenge (RFC 6750 + RFC 9470).
pub fn www_authenticate(ladder: &Ladder) -> String {
    let c = &ladder.challenge;
    let mut v = String::from("Bearer ");
    if let Some(realm) = &c.realm {
        v.push_str(&format!("realm=\"{realm}\", "));
    }
    v.push_str(
        "error=\"insufficient_user_authentication\", \
         error_description=\"A different authentication level is required\"",
    );
    if let Some(acr) = &c.acr_values {
        v.push_str(&format!(", acr_values=\"{acr}\""));
    }
    if let Some(age) = c.max_age_s {
        v.push_str(&format!(", max_age={age}"));
    }
    v
}

/// Chooses the action from the model verdict, inspection notes, behaviour signals, history and
/// the route's ladder (see the module documentation for the rules). With no signals, no
/// history and no allowlist match this is exactly [`decide`].
pub fn decide_with(
    verdict: &ModelVerdict,
    notes: &[InspectionNote],
    thresholds: Thresholds,
    mode: Mode,
    ev: &Evidence<'_>,
) -> Decision {
    let mut d = decide(verdict, notes, thresholds, mode);
    if let Some(why) = ev.allowlisted {
        d.reasons.push(format!("allowlisted: {why}"));
        return d;
    }
    d.signals = ev.signals.to_vec();
    let model_action = d.action;
    let model_deny = model_action == Action::Deny;

    if let Some(fact) = ev
        .signals
        .iter()
        .find(|s| matches!(s.kind, SignalKind::Blocked | SignalKind::Revoked))
    {
        d.action = Action::Deny;
        d.risk = 1.0;
        if model_action == Action::Allow {
            d.class = fact.kind.as_str().to_string();
        }
        d.reasons.insert(0, fact.reason.clone());
        d.enforced = mode == Mode::Enforce;
        return d;
    }

    // Signals by weight: the step they ask for, then severity, then excess.
    let mut ranked: Vec<(Action, &Signal)> =
        ev.signals.iter().map(|s| (own_step(s, ev), s)).collect();
    ranked.sort_by(|a, b| {
        b.0.cmp(&a.0)
            .then(b.1.severity.cmp(&a.1.severity))
            .then(b.1.excess.total_cmp(&a.1.excess))
    });
    let behaviour_step = ranked.first().map_or(Action::Allow, |r| r.0);
    let mut wanted = model_action.max(behaviour_step);
    let mut escalation = None;
    let mut cause = None;
    if let Some((c, why)) = block_cause(ev, model_deny, ev.ladder.block.excess) {
        wanted = Action::Block;
        let principal_evidence = match c {
            BlockCause::Signal(kind) => kind.principal_scoped(),
            BlockCause::Agreement => ev
                .signals
                .iter()
                .any(|s| s.severity == Severity::Strong && s.kind.principal_scoped()),
            _ => false,
        };
        if principal_evidence && ev.has_principal {
            wanted = Action::Revoke;
        }
        cause = Some(c);
        escalation = Some(why);
    }
    let action = admitted(wanted, ev.ladder);
    d.action = action;
    d.enforced = mode == Mode::Enforce && action.stops();

    let max_signal_risk = ev.signals.iter().map(Signal::risk).fold(0.0f32, f32::max);
    if behaviour_step > Action::Allow {
        d.risk = d.risk.max(max_signal_risk);
    }
    let behaviour_leads = behaviour_step > model_action
        || (model_action == Action::Allow && behaviour_step > Action::Allow);
    if behaviour_leads && cause != Some(BlockCause::ModelDenies) {
        if let Some((_, lead)) = ranked.first() {
            d.class = lead.kind.as_str().to_string();
        }
    }

    let signal_reasons: Vec<String> = ranked.iter().map(|(_, s)| s.reason.clone()).collect();
    let model_reason = d.reasons.first().cloned();
    let rest: Vec<String> = d.reasons.iter().skip(1).cloned().collect();
    let mut reasons = Vec::with_capacity(signal_reasons.len() + d.reasons.len() + 1);
    if behaviour_leads {
        reasons.extend(signal_reasons);
        reasons.extend(model_reason);
    } else {
        reasons.extend(model_reason);
        reasons.extend(signal_reasons);
    }
    reasons.extend(rest);

    let ladder = ev.ladder;
    match action {
        Action::Throttle => {
            let drain = ev
                .signals
                .iter()
                .filter(|s| own_step(s, ev) >= Action::Challenge)
                .filter_map(|s| s.retry_after_s)
                .max()
                .unwrap_or(ladder.throttle.retry_after_max_s);
            d.retry_after_s = Some(drain.clamp(1, ladder.throttle.retry_after_max_s));
        }
        Action::Challenge => d.www_authenticate = Some(www_authenticate(ladder)),
        Action::Block | Action::Revoke => {
            let b = &ladder.block;
            let doubling = 1u64 << ev.history.earlier_blocks.min(20);
            let order = BlockOrder {
                scope: b.scope,
                ttl_s: b.ttl_s.saturating_mul(doubling).min(b.max_ttl_s),
                base_ttl_s: b.ttl_s,
                max_ttl_s: b.max_ttl_s,
                cause: cause.unwrap_or(BlockCause::Agreement),
            };
            let who = match (b.scope, ev.has_principal) {
                (BlockScope::Both, true) => "client+principal",
                (BlockScope::Principal, true) => "principal",
                _ => "client",
            };
            let what = if action == Action::Revoke {
                d.revoke = Some(RevokeOrder {
                    ttl_s: ladder.revoke.ttl_s,
                });
                "revoke token and block"
            } else {
                "block"
            };
            reasons.insert(
                0,
                format!(
                    "escalation: {what} {who} for {}s: {}",
                    order.ttl_s,
                    escalation.as_deref().unwrap_or("")
                ),
            );
            d.block = Some(order);
        }
        _ => {
            if let Some(why) = escalation {
                // The block step is disabled: say what would have blocked.
                reasons.insert(
                    0,
                    format!("escalation: block disabled on this route: {why}"),
                );
            }
        }
    }
    d.reasons = reasons;
    d
}

/// Adds a restricted-resource finding to a decision. When nothing else asks for more than the
/// probe's action (a model deny, a 404 burst, a throttle all ask for less or as much as a deny),
/// the probe leads: its action, class and location, risk 1 (the rule is certain;
/// the action is the operator's choice), its reason first. A step above it (block, revoke), and
/// the deny of a blocked client or revoked token, keep the lead and get the probe's reason after
/// their own. Monitor mode enforces nothing.
pub fn with_probe(mut d: Decision, probe: ProbeFinding) -> Decision {
    let standing = d
        .signals
        .iter()
        .any(|s| matches!(s.kind, SignalKind::Blocked | SignalKind::Revoked));
    if probe.action > d.action || (probe.action == d.action && !standing) {
        d.action = probe.action;
        d.class = probe.class.to_string();
        d.location = Some(probe.location.clone());
        d.risk = 1.0;
        // What a lesser step would have answered with (429, 401) is not this answer.
        d.retry_after_s = None;
        d.www_authenticate = None;
        d.reasons.insert(0, probe.reason());
    } else {
        d.reasons.insert(1.min(d.reasons.len()), probe.reason());
    }
    d.enforced = d.mode == Mode::Enforce && d.action.stops();
    d.probe = Some(probe);
    d
}

/// Makes `text` safe as a header value: visible ASCII and spaces only, at most `max` bytes.
pub fn header_safe(text: &str, max: usize) -> String {
    text.chars()
        .map(|c| {
            if c == ' ' || c.is_ascii_graphic() {
                c
            } else {
                '?'
            }
        })
        .take(max)
        .collect()
}

/// A short opaque incident id for a denied request, derived from the request id and time.
pub fn incident_id(request_id: &str, now_ns: u64) -> String {
    const INCIDENT_SEED: u64 = 0x696e_6369_6465_6e74;
    let h = hash::hash64(INCIDENT_SEED ^ now_ns, request_id.as_bytes());
    format!("{h:016x}")
}

/// RFC 9457 problem document for a denied request: no scores, classes or rules.
pub fn problem_json(status: u16, incident: &str) -> String {
    let (title, detail) = match status {
        401 => (
            "Authentication required",
            "Stronger authentication is required for this request. Quote the incident id if you believe this is a mistake.",
        ),
        429 => (
            "Too many requests",
            "Too many requests from this client. Retry after the time given in Retry-After.",
        ),
        403 => (
            "Request denied",
            "The request was rejected by the API security policy. Quote the incident id if you believe this is a mistake.",
        ),
        _ => (
            "Service unavailable",
            "The request could not be checked by the API security policy. Try again later.",
        ),
    };
    serde_json::json!({
        "type": "about:blank",
        "title": title,
        "status": status,
        "detail": detail,
        "incident_id": incident,
    })
    .to_string()
}

impl fmt::Display for Decision {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} {} risk={:.3} ({})",
            self.action.as_str(),
            self.class,
            self.risk,
            self.reasons.join("; ")
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const T: Thresholds = Thresholds {
        annotate: 0.5,
        deny: 0.9,
    };

    fn verdict(risk: f32) -> ModelVerdict {
        ModelVerdict {
            class: "sqli".into(),
            probability: risk,
            risk,
            location: Some("query:id".into()),
        }
    }

    #[test]
    fn risk_above_deny_threshold_denies_and_blocks_only_in_enforce_mode() {
        let d = decide(&verdict(0.95), &[], T, Mode::Enforce);
        assert_eq!(d.action, Action::Deny);
        assert!(d.blocks());
        assert_eq!(d.reasons[0], "model:sqli p=0.950 at query:id");
        let d = decide(&verdict(0.95), &[], T, Mode::Monitor);
        assert_eq!(d.action, Action::Deny);
        assert!(!d.blocks());
    }

    #[test]
    fn middle_risk_annotates_and_low_risk_allows_as_benign() {
        assert_eq!(
            decide(&verdict(0.6), &[], T, Mode::Enforce).action,
            Action::Annotate
        );
        let d = decide(&verdict(0.1), &[], T, Mode::Enforce);
        assert_eq!((d.action, d.class.as_str()), (Action::Allow, "benign"));
        assert!(!d.blocks());
    }

    #[test]
    fn notes_become_reasons() {
        let d = decide(
            &ModelVerdict::nothing_scored(),
            &[InspectionNote::BodyTruncated(10)],
            T,
            Mode::Monitor,
        );
        assert_eq!(
            d.reasons,
            vec!["nothing to score", "body truncated: first 10 bytes scored"]
        );
    }

    #[test]
    fn header_values_are_sanitised() {
        assert_eq!(
            header_safe("a\r\nSet-Cookie: x\u{e9}", 100),
            "a??Set-Cookie: x?"
        );
        assert_eq!(header_safe("abcdef", 3), "abc");
    }

    #[test]
    fn problem_document_has_no_internals() {
        let body = problem_json(403, "00ff");
        let v: serde_json::Value = serde_json::from_str(&body).unwrap();
        assert_eq!(v["status"], 403);
        assert_eq!(v["incident_id"], "00ff");
        assert!(!body.contains("sqli") && !body.contains("score"));
        assert_ne!(incident_id("r1", 1), incident_id("r1", 2));
    }

    fn signal(kind: SignalKind, value: f64, limit: f64) -> Signal {
        Signal::over(kind, value, limit, 2.0, None, || format!("{kind}: {value}")).unwrap()
    }

    fn evidence<'a>(signals: &'a [Signal], ladder: &'a Ladder) -> Evidence<'a> {
        Evidence {
            signals,
            history: History {
                model_denies: 0,
                model_denies_limit: 3,
                earlier_blocks: 0,
            },
            allowlisted: None,
            has_principal: true,
            ladder,
        }
    }

    #[test]
    fn without_behaviour_evidence_the_decision_is_the_model_only_one() {
        let ladder = Ladder::default();
        for risk in [0.0, 0.1, 0.6, 0.95] {
            for mode in [Mode::Monitor, Mode::Enforce] {
                let notes = [InspectionNote::MalformedJson];
                assert_eq!(
                    decide_with(&verdict(risk), &notes, T, mode, &evidence(&[], &ladder)),
                    decide(&verdict(risk), &notes, T, mode)
                );
            }
        }
    }

    #[test]
    fn each_strong_signal_takes_its_own_step() {
        let ladder = Ladder::default();
        let step = |kind, has_principal| {
            let s = [signal(kind, 25.0, 10.0)];
            let ev = Evidence {
                has_principal,
                ..evidence(&s, &ladder)
            };
            decide_with(&verdict(0.0), &[], T, Mode::Enforce, &ev).action
        };
        assert_eq!(step(SignalKind::Rate, true), Action::Throttle);
        assert_eq!(step(SignalKind::AuthFailures, true), Action::Challenge);
        assert_eq!(step(SignalKind::AuthFailures, false), Action::Throttle);
        assert_eq!(step(SignalKind::NotFound, false), Action::Deny);
        assert_eq!(step(SignalKind::Bola, true), Action::Deny);
        assert_eq!(step(SignalKind::RouteRate, true), Action::Annotate);
    }

    #[test]
    fn disabled_steps_degrade_down_the_ladder() {
        let mut ladder = Ladder::default();
        ladder.challenge.enabled = false;
        let s = [signal(SignalKind::AuthFailures, 25.0, 10.0)];
        let d = decide_with(&verdict(0.0), &[], T, Mode::Enforce, &evidence(&s, &ladder));
        assert_eq!(
            (d.action, d.retry_after_s.is_some()),
            (Action::Throttle, true)
        );
        ladder.throttle.enabled = false;
        let d = decide_with(&verdict(0.0), &[], T, Mode::Enforce, &evidence(&s, &ladder));
        assert_eq!((d.action, d.enforced), (Action::Annotate, false));

        let far = [signal(SignalKind::Bola, 50.0, 10.0)];
        let mut ladder = Ladder::default();
        ladder.revoke.enabled = true;
        let d = decide_with(
            &verdict(0.0),
            &[],
            T,
            Mode::Enforce,
            &evidence(&far, &ladder),
        );
        assert_eq!(d.action, Action::Revoke);
        assert_eq!(d.revoke, Some(RevokeOrder { ttl_s: 86_400 }));
        ladder.revoke.enabled = false;
        let d = decide_with(
            &verdict(0.0),
            &[],
            T,
            Mode::Enforce,
            &evidence(&far, &ladder),
        );
        assert_eq!((d.action, d.revoke), (Action::Block, None));
        ladder.block.enabled = false;
        let d = decide_with(
            &verdict(0.0),
            &[],
            T,
            Mode::Enforce,
            &evidence(&far, &ladder),
        );
        assert_eq!((d.action, d.block), (Action::Deny, None));
        assert_eq!(
            d.reasons[0],
            "escalation: block disabled on this route: bola 5.0x over its limit (blocks at 4.0x)"
        );
    }

    #[test]
    fn a_model_deny_with_another_strong_signal_blocks_and_repeat_offenders_get_longer_blocks() {
        let ladder = Ladder::default();
        let s = [signal(SignalKind::Rate, 25.0, 10.0)];
        let d = decide_with(
            &verdict(0.95),
            &[],
            T,
            Mode::Enforce,
            &evidence(&s, &ladder),
        );
        assert_eq!(d.action, Action::Block);
        assert_eq!(
            d.reasons[0],
            "escalation: block client+principal for 600s: model and rate agree"
        );
        assert_eq!(d.class, "sqli");
        let mut ev = evidence(&s, &ladder);
        ev.history.earlier_blocks = 2;
        let d = decide_with(&verdict(0.0), &[], T, Mode::Enforce, &ev);
        assert_eq!(d.action, Action::Block);
        assert_eq!(d.block.map(|b| b.ttl_s), Some(2400));
        assert!(
            d.reasons[0].ends_with("strong signal from a client blocked 2 time(s) before"),
            "{d}"
        );
        // A weak signal from a repeat offender only annotates.
        let weak = [signal(SignalKind::Rate, 12.0, 10.0)];
        let mut ev = evidence(&weak, &ladder);
        ev.history.earlier_blocks = 2;
        assert_eq!(
            decide_with(&verdict(0.0), &[], T, Mode::Enforce, &ev).action,
            Action::Annotate
        );
    }

    fn probe(action: Action) -> ProbeFinding {
        ProbeFinding {
            class: PROBE_CLASS,
            category: "metadata",
            rule: ".git".into(),
            location: "path".into(),
            action,
        }
    }

    #[test]
    fn a_probe_leads_unless_something_asks_for_more() {
        let reason = "probe:restricted_file metadata:.git at path";
        // Over an allow, and over a model deny (a tie): the probe's class, location and reason.
        for model_risk in [0.1, 0.95] {
            let d = with_probe(
                decide(&verdict(model_risk), &[], T, Mode::Enforce),
                probe(Action::Deny),
            );
            assert_eq!((d.action, d.class.as_str()), (Action::Deny, PROBE_CLASS));
            assert_eq!(
                (d.location.as_deref(), d.risk, d.enforced),
                (Some("path"), 1.0, true)
            );
            assert_eq!(d.reasons[0], reason);
            assert!(d.reasons[1].starts_with("model:"), "{d}");
            assert_eq!(d.probe, Some(probe(Action::Deny)));
            assert_eq!(d.local_reply("i").unwrap().status, 403);
        }
        // Monitor mode: the same decision, nothing enforced.
        let d = with_probe(
            decide(&verdict(0.1), &[], T, Mode::Monitor),
            probe(Action::Deny),
        );
        assert_eq!((d.action, d.enforced), (Action::Deny, false));
        // annotate: a model deny keeps the lead and the probe's reason comes second.
        let d = with_probe(
            decide(&verdict(0.95), &[], T, Mode::Enforce),
            probe(Action::Annotate),
        );
        assert_eq!(
            (d.action, d.class.as_str(), d.enforced),
            (Action::Deny, "sqli", true)
        );
        assert_eq!(d.reasons[1], reason);
        let d = with_probe(
            decide(&verdict(0.1), &[], T, Mode::Enforce),
            probe(Action::Annotate),
        );
        assert_eq!(
            (d.action, d.class.as_str(), d.enforced),
            (Action::Annotate, PROBE_CLASS, false)
        );
    }

    #[test]
    fn a_probe_deny_replaces_a_throttle_but_not_a_block_or_a_standing_deny() {
        let ladder = Ladder::default();
        let rate = [signal(SignalKind::Rate, 25.0, 10.0)];
        let throttle = decide_with(
            &verdict(0.0),
            &[],
            T,
            Mode::Enforce,
            &evidence(&rate, &ladder),
        );
        assert_eq!(throttle.action, Action::Throttle);
        let d = with_probe(throttle, probe(Action::Deny));
        assert_eq!((d.action, d.retry_after_s), (Action::Deny, None));
        assert_eq!(d.local_reply("i").unwrap().status, 403);
        assert!(d.reasons[1].starts_with("rate:"), "{d}");

        let block = decide_with(
            &verdict(0.95),
            &[],
            T,
            Mode::Enforce,
            &evidence(&rate, &ladder),
        );
        assert_eq!(block.action, Action::Block);
        let d = with_probe(block.clone(), probe(Action::Deny));
        assert_eq!(
            (d.action, &d.class, d.block),
            (Action::Block, &block.class, block.block)
        );
        assert_eq!(d.reasons[1], "probe:restricted_file metadata:.git at path");

        let blocked = [Signal {
            kind: SignalKind::Blocked,
            ..signal(SignalKind::Rate, 25.0, 10.0)
        }];
        let standing = decide_with(
            &verdict(0.0),
            &[],
            T,
            Mode::Enforce,
            &evidence(&blocked, &ladder),
        );
        let d = with_probe(standing, probe(Action::Deny));
        assert_eq!((d.action, d.class.as_str()), (Action::Deny, "blocked"));
        assert!(d.probe.is_some());
    }

    #[test]
    fn replies_match_the_action() {
        let ladder = Ladder::default();
        let s = [signal(SignalKind::Rate, 25.0, 10.0)];
        let mut d = decide_with(&verdict(0.0), &[], T, Mode::Enforce, &evidence(&s, &ladder));
        let r = d.local_reply("x").unwrap();
        assert_eq!(r.status, 429);
        assert!(r.headers.contains(&("retry-after", "60".to_string())));
        assert!(r.body.contains("Too many requests"));
        d.mode = Mode::Monitor;
        d.enforced = false;
        assert_eq!(d.local_reply("x"), None);
        let names: Vec<&str> = Action::ALL.iter().map(|a| a.as_str()).collect();
        assert_eq!(
            names,
            [
                "allow",
                "annotate",
                "challenge",
                "throttle",
                "deny",
                "block",
                "revoke"
            ]
        );
    }
}
