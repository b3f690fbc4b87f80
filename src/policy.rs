//! Signals → [`Decision`]: the one place where the action is chosen.

use std::fmt;

use crate::config::{Mode, Thresholds};
use crate::hash;
use crate::request::InspectionNote;

/// What the filter does with a request, in order of severity.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Action {
    /// Nothing suspicious.
    Allow,
    /// Suspicious: pass with annotations, count, report.
    Annotate,
    /// Reject with 403 problem+json (in enforce mode).
    Deny,
}

impl Action {
    /// Lower-case name for headers, metrics and events.
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Allow => "allow",
            Action::Annotate => "annotate",
            Action::Deny => "deny",
        }
    }

    /// All actions, for metric registration.
    pub const ALL: [Action; 3] = [Action::Allow, Action::Annotate, Action::Deny];
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
    /// Why, in order of weight: model class and probability with location, then notes.
    pub reasons: Vec<String>,
}

impl Decision {
    /// The request must be stopped now (enforce mode and a blocking action).
    pub fn blocks(&self) -> bool {
        self.mode == Mode::Enforce && self.action >= Action::Deny
    }
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
        reasons,
    }
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
}
