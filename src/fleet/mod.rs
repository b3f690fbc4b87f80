//! Beyond one proxy: decisions shared by a fleet through the CrowdSec Local API, and token
//! revocation told to the authorization server (RFC 7009). Pure parts only; the filter's
//! `crowdsec` glue sends and receives.
//!
//! - [`stream`]: the LAPI decision stream codec.
//! - [`decisions`]: the bounded shared-data tables the stream is written into and every worker
//!   reads at the request headers.
//! - [`lapi`]: the poll lease (one VM polls), poll failures, the watcher's login and alerts.
//! - [`revocation`]: RFC 7009 answers and bounded retries.

pub mod decisions;
pub mod lapi;
pub mod revocation;
pub mod stream;

use crate::config::Thresholds;
use crate::config::{Ladder, Mode};
use crate::policy::{self, Action, Decision, ModelVerdict};

pub use stream::Remedy;

/// The decision for a request whose client has a fleet decision: `ban` → deny (403), `captcha`
/// → the ladder's challenge (401, or what a disabled challenge degrades to). Enforced in
/// enforce mode only, like every other decision.
pub fn remedy_decision(
    remedy: Remedy,
    reason: String,
    ladder: &Ladder,
    thresholds: Thresholds,
    mode: Mode,
) -> Decision {
    let mut d = policy::decide(&ModelVerdict::nothing_scored(), &[], thresholds, mode);
    d.reasons = vec![
        reason,
        "model not run: stopped by a fleet decision".to_string(),
    ];
    d.class = format!("crowdsec_{}", remedy.as_str());
    d.risk = 1.0;
    d.action = match remedy {
        Remedy::Ban => Action::Deny,
        Remedy::Captcha if ladder.challenge.enabled => {
            d.www_authenticate = Some(policy::www_authenticate(ladder));
            Action::Challenge
        }
        Remedy::Captcha if ladder.throttle.enabled => {
            d.retry_after_s = Some(ladder.throttle.retry_after_max_s);
            Action::Throttle
        }
        Remedy::Captcha => Action::Annotate,
    };
    d.enforced = mode == Mode::Enforce && d.action.stops();
    d
}

/// The alert an enforced decision calls for: a block that covers the client, or a revocation,
/// with the client's address known. `(signal, duration_s, action)`.
pub fn alert_reason(d: &Decision) -> Option<(String, u64, &'static str)> {
    if !d.enforced {
        return None;
    }
    let block = d.block?;
    let covers_client = block.scope != crate::config::BlockScope::Principal;
    if !covers_client && d.revoke.is_none() {
        return None;
    }
    let action = if d.revoke.is_some() {
        "revoke"
    } else {
        "block"
    };
    Some((block.cause.as_str().to_string(), block.ttl_s, action))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;

    fn thresholds() -> Thresholds {
        Thresholds {
            annotate: 0.5,
            deny: 0.9,
        }
    }

    #[test]
    fn ban_denies_and_captcha_challenges_in_enforce_mode_only() {
        let ladder = Ladder::default();
        let d = remedy_decision(
            Remedy::Ban,
            "crowdsec: ban".into(),
            &ladder,
            thresholds(),
            Mode::Enforce,
        );
        assert_eq!((d.action, d.enforced), (Action::Deny, true));
        assert_eq!(d.local_reply("x").unwrap().status, 403);
        let d = remedy_decision(
            Remedy::Captcha,
            "c".into(),
            &ladder,
            thresholds(),
            Mode::Enforce,
        );
        let reply = d.local_reply("x").unwrap();
        assert_eq!(reply.status, 401);
        assert!(reply.headers.iter().any(
            |(k, v)| *k == "www-authenticate" && v.contains("insufficient_user_authentication")
        ));
        let d = remedy_decision(
            Remedy::Ban,
            "b".into(),
            &ladder,
            thresholds(),
            Mode::Monitor,
        );
        assert!(!d.enforced && d.local_reply("x").is_none());
    }

    #[test]
    fn captcha_follows_the_ladder_when_challenge_is_disabled() {
        let cfg = Config::from_json(br#"{"ladder":{"challenge":{"enabled":false}}}"#).unwrap();
        let d = remedy_decision(
            Remedy::Captcha,
            "c".into(),
            &cfg.ladder,
            thresholds(),
            Mode::Enforce,
        );
        assert_eq!(d.action, Action::Throttle);
        assert_eq!(d.local_reply("x").unwrap().status, 429);
        let cfg = Config::from_json(
            br#"{"ladder":{"challenge":{"enabled":false},"throttle":{"enabled":false}}}"#,
        )
        .unwrap();
        let d = remedy_decision(
            Remedy::Captcha,
            "c".into(),
            &cfg.ladder,
            thresholds(),
            Mode::Enforce,
        );
        assert_eq!((d.action, d.enforced), (Action::Annotate, false));
    }
}
