//! Behaviour scenarios through the engine, with a stub model, `MemStore` and a fake clock.

use std::cell::Cell;
use std::rc::Rc;
use std::sync::Arc;

use super::*;
use crate::config::{BlockScope, Config, Thresholds};
use crate::engine::{Assessment, Engine};
use crate::features::SparseRow;
use crate::model::{ModelError, Scorer};
use crate::policy::{Action, BlockOrder};
use crate::state::{MemStore, SharedStore, StoreError};

/// A model whose risk the test sets.
struct StubModel {
    classes: Vec<String>,
    risk: Rc<Cell<f32>>,
}

impl Scorer for StubModel {
    fn classes(&self) -> &[String] {
        &self.classes
    }
    fn score(&self, rows: &[SparseRow]) -> Result<Vec<f32>, ModelError> {
        let r = self.risk.get();
        Ok(rows.iter().flat_map(|_| [1.0 - r, r]).collect())
    }
}

struct World {
    engine: Engine,
    risk: Rc<Cell<f32>>,
    store: Arc<MemStore>,
}

/// 2023-11-14T22:13:20Z, on a minute boundary.
const T0: u64 = 1_700_000_000_000 - 1_700_000_000_000 % 60_000;

/// Test configuration: enforce mode and no warm-up unless the test says otherwise.
fn config_json(behaviour: &str, rest: &str) -> String {
    let mode = if rest.contains(r#""mode""#) {
        ""
    } else {
        r#","mode":"enforce""#
    };
    let warmup = if behaviour.contains(r#""warmup""#) {
        ""
    } else {
        r#","warmup":{"seconds":0,"requests":0,"windows":2}"#
    };
    let behaviour = format!("{warmup}{behaviour}");
    // The stub model answers the risk a test sets for whatever it is given: let every value
    // reach it, every time.
    format!(
        r#"{{"skip_inert_values":false,"score_cache_entries":0,"behaviour":{{{}}}{mode}{rest}}}"#,
        behaviour.trim_start_matches(',')
    )
}

fn world(extra_behaviour: &str, rest: &str) -> World {
    world_on(Arc::new(MemStore::new()), extra_behaviour, rest)
}

fn world_on(store: Arc<MemStore>, extra_behaviour: &str, rest: &str) -> World {
    let json = config_json(extra_behaviour, rest);
    let config = Config::from_json(json.as_bytes()).unwrap_or_else(|e| panic!("{json}: {e}"));
    let risk = Rc::new(Cell::new(0.01));
    let model = StubModel {
        classes: vec!["benign".into(), "sqli".into()],
        risk: risk.clone(),
    };
    let thresholds = Thresholds {
        annotate: 0.5,
        deny: 0.9,
    };
    let engine = Engine::with_scorer(config, Box::new(model), thresholds, "stub".into()).unwrap();
    World {
        engine,
        risk,
        store,
    }
}

fn view(method: &str, uri: &str, ip: &str, token: Option<&str>) -> RequestView {
    let mut v = RequestView::new(method, uri.as_bytes());
    v.client.ip = Some(ip.to_string());
    if let Some(t) = token {
        v.headers
            .push(("authorization".into(), format!("Bearer {t}").into_bytes()));
    }
    v
}

impl World {
    fn send(&self, v: &RequestView, now: u64) -> Assessment {
        let facts = self.engine.request_facts(v);
        let policy = self.engine.route(&v.path);
        self.engine
            .assess(v, &facts, &policy, &*self.store, now)
            .unwrap()
    }

    fn get(&self, uri: &str, ip: &str, token: Option<&str>, now: u64) -> Assessment {
        self.send(&view("GET", uri, ip, token), now)
    }

    /// A request that went upstream and came back with `status`.
    fn exchange(
        &self,
        uri: &str,
        ip: &str,
        token: Option<&str>,
        status: u16,
        now: u64,
    ) -> Assessment {
        let v = view("GET", uri, ip, token);
        let a = self.send(&v, now);
        if !a.decision.enforced {
            let facts = self.engine.request_facts(&v);
            self.engine
                .observe_response(&facts, status, Some(100), &*self.store, now);
        }
        a
    }
}

fn has(d: &crate::policy::Decision, kind: SignalKind) -> bool {
    d.signals.iter().any(|s| s.kind == kind)
}

#[test]
fn one_client_bursting_is_throttled_with_retry_after_while_others_are_not() {
    let w = world(r#","signals":{"rate":{"min_requests":20}}"#, "");
    let mut burst = Vec::new();
    for i in 0..60u64 {
        let now = T0 + i * 100;
        burst.push(w.get("/api/items", "203.0.113.9", None, now).decision);
        if i % 12 == 0 {
            let other = w.get("/api/items", "198.51.100.4", None, now).decision;
            assert_eq!(other.action, Action::Allow, "{other}");
        }
    }
    assert!(burst[..19].iter().all(|d| d.action == Action::Allow));
    assert_eq!(burst[25].action, Action::Annotate, "{}", burst[25]);
    assert!(!burst[25].enforced);
    let d = &burst[45];
    assert_eq!(d.action, Action::Throttle, "{d}");
    assert_eq!(d.class, "rate");
    assert!(
        d.reasons[0]
            .starts_with("rate: 46/min from client 203.0.113.9, no baseline yet (limit 20)"),
        "{d}"
    );
    let reply = d.local_reply("inc").unwrap();
    assert_eq!(reply.status, 429);
    let retry: u32 = reply
        .headers
        .iter()
        .find(|(n, _)| *n == "retry-after")
        .map(|(_, v)| v.parse().unwrap())
        .unwrap();
    assert!((1..=60).contains(&retry), "{retry}");
    assert!(burst[40..].iter().all(|d| d.action == Action::Throttle));
}

#[test]
fn throttle_retry_after_is_the_time_until_the_window_drains() {
    let w = world(
        r#","signals":{"rate":{"min_requests":10}}"#,
        r#","ladder":{"throttle":{"retry_after_max_s":600}}"#,
    );
    let mut last = None;
    for i in 0..25u64 {
        last = Some(w.get("/a", "192.0.2.1", None, T0 + 30_000 + i).decision);
    }
    let d = last.unwrap();
    assert_eq!(d.action, Action::Throttle);
    // 25 requests in the current window at 30 s: under 10 at 2×60 − 30 − 60×10/25 ≈ 66 s.
    assert_eq!(d.retry_after_s, Some(66), "{d}");
}

#[test]
fn a_client_with_a_learned_baseline_is_measured_against_it() {
    let w = world(
        r#","warmup":{"seconds":240,"requests":0,"windows":2},"signals":{"rate":{"min_requests":5,"z":4}}"#,
        "",
    );
    // Five quiet minutes of 30 requests each teach the baseline (four of them warming up).
    for minute in 0..5u64 {
        for i in 0..30u64 {
            let d = w
                .get("/a", "192.0.2.1", None, T0 + minute * 60_000 + i * 2000)
                .decision;
            assert!(!d.enforced, "minute {minute}: {d}");
        }
    }
    let mut d = None;
    for i in 0..80u64 {
        d = Some(
            w.get("/a", "192.0.2.1", None, T0 + 5 * 60_000 + i * 100)
                .decision,
        );
    }
    let d = d.unwrap();
    assert_eq!(d.action, Action::Throttle, "{d}");
    assert!(d.reasons[0].contains("vs baseline 30+-"), "{d}");
}

/// Five ordinary users reading three of their objects per window for three windows teach the
/// route's norm of distinct ids per principal.
fn teach_norm(w: &World) {
    for window in 0..3u64 {
        for user in 0..5u64 {
            for obj in 0..3u64 {
                let now = T0 + window * 60_000 + user * 1000 + obj * 100;
                let id = 1000 + user * 10 + obj;
                let ip = format!("198.51.100.{user}");
                let a = w.get(
                    &format!("/api/users/{id}"),
                    &ip,
                    Some(&format!("user-{user}")),
                    now,
                );
                assert_eq!(a.decision.action, Action::Allow, "{}", a.decision);
            }
        }
    }
}

#[test]
fn token_walking_200_user_ids_is_blocked_after_norm_is_exceeded() {
    let w = world(r#","signals":{"bola":{"min_distinct":20}}"#, "");
    teach_norm(&w);
    let start = T0 + 3 * 60_000 + 10_000;
    let mut decisions = Vec::new();
    for id in 1..=200u64 {
        let a = w.get(
            &format!("/api/users/{id}"),
            "203.0.113.50",
            Some("attacker"),
            start + id * 50,
        );
        decisions.push(a.decision);
    }
    let first = |a: Action| decisions.iter().position(|d| d.action == a);
    assert!(decisions[..18].iter().all(|d| d.action == Action::Allow));
    let annotate = first(Action::Annotate).unwrap();
    let deny = first(Action::Deny).unwrap();
    let block = first(Action::Block).unwrap();
    assert!(annotate < deny && deny < block, "{annotate} {deny} {block}");
    assert!((60..110).contains(&block), "blocked at id {}", block + 1);
    let b = &decisions[block];
    assert!(b.enforced);
    assert!(
        b.reasons[0].starts_with("escalation: block client+principal for 600s: bola "),
        "{b}"
    );
    assert!(
        b.reasons[1].starts_with("bola: ")
            && b.reasons[1].contains(" distinct ids on /api/users/{id} in 60s by tok:")
            && b.reasons[1].contains("(route norm 3, limit 20)"),
        "{b}"
    );
    assert_eq!(b.class, "bola");
    assert_eq!(b.block.map(|o| o.scope), Some(BlockScope::Both));
    // Every later request of that token, and from that address, is denied as blocked.
    let after = &decisions[block + 1];
    assert_eq!(after.action, Action::Deny);
    assert!(
        after.reasons[0].starts_with("blocked: client 203.0.113.50 for 600s more (bola, block 1)"),
        "{after}"
    );
    let other_token = w.get(
        "/api/users/1",
        "203.0.113.50",
        Some("second"),
        start + 20_000,
    );
    assert!(other_token.decision.reasons[0].starts_with("blocked: client"));
    // An ordinary user is unaffected.
    let user = w.get(
        "/api/users/1011",
        "198.51.100.1",
        Some("user-1"),
        start + 20_000,
    );
    assert_eq!(user.decision.action, Action::Allow, "{}", user.decision);
}

#[test]
fn repeated_401s_challenge_then_block() {
    let w = world(r#","signals":{"auth_failures":{"limit":5}}"#, "");
    let mut actions = Vec::new();
    let mut challenge = None;
    for i in 0..40u64 {
        let a = w.exchange("/api/me", "203.0.113.7", Some("stolen"), 401, T0 + i * 200);
        if a.decision.action == Action::Challenge && challenge.is_none() {
            challenge = Some(a.decision.clone());
        }
        actions.push(a.decision.action);
    }
    let pos = |a: Action| actions.iter().position(|x| *x == a).unwrap();
    assert_eq!(&actions[..5], &[Action::Allow; 5]);
    assert_eq!(actions[5], Action::Annotate);
    let (c, b) = (pos(Action::Challenge), pos(Action::Block));
    assert_eq!(c, 10, "{actions:?}");
    assert_eq!(b, 20, "{actions:?}");
    assert!(actions[b + 1..].iter().all(|a| *a == Action::Deny));
    let challenge = challenge.unwrap();
    let reply = challenge.local_reply("i").unwrap();
    assert_eq!(reply.status, 401);
    let www = &reply
        .headers
        .iter()
        .find(|(n, _)| *n == "www-authenticate")
        .unwrap()
        .1;
    assert_eq!(
        www,
        "Bearer error=\"insufficient_user_authentication\", error_description=\"A different authentication level is required\""
    );
    assert!(
        challenge.reasons[0].starts_with(
            "auth_failures: 10 401/403 answers to client 203.0.113.7 in 60s (limit 5)"
        ),
        "{challenge}"
    );
}

#[test]
fn auth_failures_without_principal_throttle_instead_of_challenging() {
    let w = world(r#","signals":{"auth_failures":{"limit":5}}"#, "");
    let mut last = None;
    for i in 0..12u64 {
        last = Some(
            w.exchange("/login", "203.0.113.7", None, 401, T0 + i * 200)
                .decision,
        );
    }
    let d = last.unwrap();
    assert_eq!(d.action, Action::Throttle, "{d}");
    assert!(d.retry_after_s.is_some());
    // With step-up configured the same client is challenged, with the ACR asked for.
    let w = world(
        r#","signals":{"auth_failures":{"limit":5}}"#,
        r#","ladder":{"challenge":{"realm":"api","acr_values":"urn:mfa","max_age_s":300}}"#,
    );
    let mut last = None;
    for i in 0..12u64 {
        last = Some(
            w.exchange("/login", "203.0.113.7", None, 401, T0 + i * 200)
                .decision,
        );
    }
    let d = last.unwrap();
    assert_eq!(d.action, Action::Challenge, "{d}");
    assert_eq!(
        d.www_authenticate.as_deref(),
        Some("Bearer realm=\"api\", error=\"insufficient_user_authentication\", error_description=\"A different authentication level is required\", acr_values=\"urn:mfa\", max_age=300")
    );
}

#[test]
fn block_expires_after_ttl_and_a_second_block_lasts_twice_as_long() {
    let w = world("", "");
    let b = w.engine.behaviour().unwrap();
    let facts = w
        .engine
        .request_facts(&view("GET", "/x", "203.0.113.1", None));
    let fp = facts.client.as_ref().unwrap().fp;
    let order = BlockOrder {
        scope: BlockScope::Client,
        ttl_s: 60,
        base_ttl_s: 60,
        max_ttl_s: 100,
        cause: BlockCause::Signal(SignalKind::NotFound),
    };
    let entry = b.block(&*w.store, fp, &order, T0).unwrap();
    assert_eq!((entry.until_ms, entry.level), (T0 + 60_000, 1));
    let d = w.get("/x", "203.0.113.1", None, T0 + 59_000).decision;
    assert_eq!(d.action, Action::Deny);
    assert_eq!(
        d.reasons[0],
        "blocked: client 203.0.113.1 for 1s more (not_found, block 1)"
    );
    assert_eq!(d.local_reply("i").unwrap().status, 403);
    let d = w.get("/x", "203.0.113.1", None, T0 + 60_000).decision;
    assert_eq!(d.action, Action::Allow, "{d}");
    // Second offence: 120 s capped at max_ttl_s = 100.
    let entry = b.block(&*w.store, fp, &order, T0 + 100_000).unwrap();
    assert_eq!((entry.until_ms, entry.level), (T0 + 200_000, 2));
    assert_eq!(
        w.get("/x", "203.0.113.1", None, T0 + 199_999)
            .decision
            .action,
        Action::Deny
    );
    assert_eq!(
        w.get("/x", "203.0.113.1", None, T0 + 200_000)
            .decision
            .action,
        Action::Allow
    );
}

#[test]
fn revoked_token_is_denied_on_every_worker() {
    let store = Arc::new(MemStore::new());
    let revoke = r#","ladder":{"revoke":{"enabled":true,"cluster":"idp","path":"/revoke","client_authorization":"Basic Y2xpZW50OnNlY3JldA=="}}"#;
    let worker1 = world_on(
        store.clone(),
        r#","signals":{"bola":{"min_distinct":20}}"#,
        revoke,
    );
    let worker2 = world_on(
        store.clone(),
        r#","signals":{"bola":{"min_distinct":20}}"#,
        revoke,
    );
    teach_norm(&worker1);
    let start = T0 + 4 * 60_000;
    let mut revoked = None;
    for id in 1..=150u64 {
        let w = if id % 2 == 0 { &worker1 } else { &worker2 };
        let v = view(
            "GET",
            &format!("/api/users/{id}"),
            "203.0.113.60",
            Some("leaked"),
        );
        let a = w.send(&v, start + id * 50);
        if a.decision.action == Action::Revoke {
            let policy = w.engine.route(&v.path);
            let call = w.engine.revocation_request(&v, &policy).unwrap();
            assert_eq!(call.cluster, "idp");
            assert_eq!(call.body, "token=leaked&token_type_hint=access_token");
            assert!(call.headers.contains(&(":path".into(), "/revoke".into())));
            assert!(call
                .headers
                .contains(&("authorization".into(), "Basic Y2xpZW50OnNlY3JldA==".into())));
            revoked = Some(a.decision);
            break;
        }
    }
    let d = revoked.expect("the walk is revoked");
    assert!(
        d.reasons[0].starts_with("escalation: revoke token and block client+principal"),
        "{d}"
    );
    assert_eq!(d.revoke.map(|r| r.ttl_s), Some(86_400));
    // From another address, after the block expired, on the other worker: still revoked.
    let later = start + 3_600_000;
    for w in [&worker1, &worker2] {
        let d = w
            .get("/api/orders", "192.0.2.200", Some("leaked"), later)
            .decision;
        assert_eq!(d.action, Action::Deny);
        assert!(d.reasons[0].starts_with("revoked: token of tok:"), "{d}");
        assert!(d.enforced);
    }
    let fine = worker2
        .get("/api/orders", "192.0.2.200", Some("fresh"), later)
        .decision;
    assert_eq!(fine.action, Action::Allow, "{fine}");
}

#[test]
fn allowlisted_client_is_never_blocked() {
    let w = world(
        r#","signals":{"rate":{"min_requests":5},"auth_failures":{"limit":2},"not_found":{"limit":2}}"#,
        r#","allowlist":{"cidrs":["10.0.0.0/8"],"paths":["/healthz"]}"#,
    );
    // An existing block on the address does not apply either.
    let facts = w.engine.request_facts(&view("GET", "/x", "10.1.2.3", None));
    let order = BlockOrder {
        scope: BlockScope::Client,
        ttl_s: 600,
        base_ttl_s: 600,
        max_ttl_s: 600,
        cause: BlockCause::Agreement,
    };
    w.engine
        .behaviour()
        .unwrap()
        .block(&*w.store, facts.client.unwrap().fp, &order, T0)
        .unwrap();
    for i in 0..200u64 {
        let status = if i % 2 == 0 { 401 } else { 404 };
        let a = w.exchange(
            &format!("/api/users/{i}"),
            "10.1.2.3",
            Some("scanner"),
            status,
            T0 + i * 10,
        );
        assert_eq!(a.decision.action, Action::Allow, "{}", a.decision);
        assert!(a.decision.signals.is_empty());
        assert_eq!(
            a.decision.reasons.last().unwrap(),
            "allowlisted: client in 10.0.0.0/8"
        );
    }
    // The model still denies an injection from an allowlisted client: that is not a block.
    w.risk.set(0.99);
    let d = w.get("/api/x", "10.1.2.3", None, T0 + 5000).decision;
    assert_eq!(d.action, Action::Deny);
    let d = w.get("/healthz", "203.0.113.1", None, T0 + 5000).decision;
    assert!(d
        .reasons
        .contains(&"allowlisted: path /healthz".to_string()));
}

#[test]
fn single_weak_signal_only_annotates() {
    let w = world(r#","signals":{"not_found":{"limit":5}}"#, "");
    let mut last = None;
    for i in 0..7u64 {
        last = Some(
            w.exchange(
                &format!("/admin{i}.php"),
                "203.0.113.8",
                None,
                404,
                T0 + i * 100,
            )
            .decision,
        );
    }
    let d = last.unwrap();
    assert_eq!(d.action, Action::Annotate, "{d}");
    assert!(!d.enforced && d.local_reply("i").is_none());
    assert_eq!(d.class, "not_found");
    assert_eq!(
        d.reasons[0],
        "not_found: 6 404 answers to client 203.0.113.8 in 60s (limit 5)"
    );
    assert!(d.risk >= 0.5);
}

#[test]
fn two_weak_signals_still_only_annotate_but_two_strong_ones_block() {
    let w = world(
        r#","signals":{"not_found":{"limit":5},"rate":{"min_requests":8}}"#,
        "",
    );
    let mut d = None;
    for i in 0..9u64 {
        d = Some(
            w.exchange("/nope", "203.0.113.8", None, 404, T0 + i * 100)
                .decision,
        );
    }
    let d = d.unwrap();
    assert!(
        has(&d, SignalKind::NotFound) && has(&d, SignalKind::Rate),
        "{d}"
    );
    assert_eq!(d.action, Action::Annotate, "{d}");
    let mut actions = Vec::new();
    let mut d = None;
    for i in 9..30u64 {
        let next = w
            .exchange("/nope", "203.0.113.8", None, 404, T0 + i * 100)
            .decision;
        actions.push(next.action);
        if next.action == Action::Block {
            d = Some(next);
            break;
        }
    }
    // 404s strong first (deny), then the rate strong too: two families agree.
    assert!(actions.contains(&Action::Deny), "{actions:?}");
    let d = d.unwrap();
    assert!(d.reasons[0].contains("not_found and rate agree"), "{d}");
}

#[test]
fn repeated_model_denies_from_one_client_block_it() {
    let w = world("", "");
    w.risk.set(0.97);
    let d1 = w.get("/api/search?q=x", "203.0.113.9", None, T0).decision;
    let d2 = w
        .get("/api/search?q=y", "203.0.113.9", None, T0 + 1000)
        .decision;
    let d3 = w
        .get("/api/search?q=z", "203.0.113.9", None, T0 + 2000)
        .decision;
    assert_eq!((d1.action, d2.action), (Action::Deny, Action::Deny));
    assert_eq!(d3.action, Action::Block, "{d3}");
    assert_eq!(d3.class, "sqli");
    assert!(
        d3.reasons[0].ends_with("model deny 3 of 3 from this client"),
        "{d3}"
    );
    w.risk.set(0.01);
    let d = w.get("/api/search?q=ok", "203.0.113.9", None, T0 + 3000);
    assert!(!d.model_scored, "a blocked request costs no inference");
    assert!(d
        .decision
        .reasons
        .contains(&"model not run: stopped by behaviour".to_string()));
}

#[test]
fn monitor_mode_reports_but_does_not_enforce() {
    let w = world(
        r#","signals":{"rate":{"min_requests":10},"bola":{"min_distinct":20}}"#,
        r#","mode":"monitor""#,
    );
    teach_norm(&w);
    let start = T0 + 3 * 60_000 + 10_000;
    let mut seen = Vec::new();
    for id in 1..=150u64 {
        let a = w.get(
            &format!("/api/users/{id}"),
            "203.0.113.50",
            Some("attacker"),
            start + id * 50,
        );
        assert!(!a.decision.enforced && a.decision.local_reply("i").is_none());
        assert!(a.model_scored);
        assert!(
            !a.decision.reasons[0].starts_with("blocked:"),
            "nothing was written: {}",
            a.decision
        );
        seen.push(a.decision.action);
    }
    assert!(seen.contains(&Action::Throttle));
    assert!(seen.contains(&Action::Block));
    assert_eq!(*seen.last().unwrap(), Action::Block);
    assert!(
        w.store.keys().iter().all(|k| !k.contains(":blocks:")),
        "{:?}",
        w.store.keys()
    );
}

#[test]
fn per_route_ladder_overrides_the_global_one() {
    let w = world(
        r#","signals":{"rate":{"min_requests":5}}"#,
        r#","routes":[{"prefix":"/public","ladder":{"throttle":{"enabled":false}}}]"#,
    );
    let mut last = (None, None);
    for i in 0..12u64 {
        last = (
            Some(w.get("/public/feed", "192.0.2.1", None, T0 + i).decision),
            Some(w.get("/api/feed", "192.0.2.2", None, T0 + i).decision),
        );
    }
    assert_eq!(
        last.0.unwrap().action,
        Action::Annotate,
        "throttle disabled on /public"
    );
    assert_eq!(last.1.unwrap().action, Action::Throttle);
}

#[test]
fn warm_up_suppresses_signals() {
    let w = world(
        r#","warmup":{"seconds":600,"requests":50,"windows":2},"signals":{"rate":{"min_requests":10}}"#,
        "",
    );
    for i in 0..40u64 {
        let a = w.get("/api/items?page=1", "192.0.2.1", None, T0 + i * 100);
        assert!(a.learning);
        assert!(a.decision.signals.is_empty(), "{}", a.decision);
        assert_eq!(a.decision.action, Action::Allow);
    }
    // Still learning after 600 s if the route has not seen 50 requests.
    let a = w.get("/api/items?page=2", "192.0.2.1", None, T0 + 601_000);
    assert!(a.learning);
    for i in 0..20u64 {
        w.get("/api/items?page=3", "192.0.2.2", None, T0 + 602_000 + i);
    }
    let mut d = None;
    for i in 0..25u64 {
        let a = w.get(
            "/api/items?page=4",
            "192.0.2.1",
            None,
            T0 + 603_000 + i * 10,
        );
        assert!(!a.learning);
        d = Some(a.decision);
    }
    assert_eq!(d.unwrap().action, Action::Throttle);
    // Burst signals never wait for warm-up.
    let w = world(
        r#","warmup":{"seconds":600,"requests":50},"signals":{"not_found":{"limit":3}}"#,
        "",
    );
    let mut d = None;
    for i in 0..5u64 {
        d = Some(w.exchange("/x", "192.0.2.1", None, 404, T0 + i).decision);
    }
    assert!(has(&d.unwrap(), SignalKind::NotFound));
}

#[test]
fn unseen_parameter_after_warm_up_is_a_signal() {
    let w = world(
        r#","warmup":{"seconds":0,"requests":20},"signals":{"structure":{"promote_after":3}}"#,
        "",
    );
    for i in 0..20u64 {
        let a = w.get(
            &format!("/api/items?page={i}&sort=name"),
            "192.0.2.1",
            None,
            T0 + i,
        );
        assert!(a.decision.signals.is_empty(), "{}", a.decision);
    }
    let d = w
        .get("/api/items?page=1&debug=true", "192.0.2.1", None, T0 + 100)
        .decision;
    assert_eq!(d.action, Action::Annotate, "{d}");
    assert_eq!(d.class, "novel_parameter");
    assert_eq!(
        d.reasons[0],
        "novel_parameter: query:debug (bool) never seen on GET /api/items"
    );
    let d = w
        .get("/api/items?page=abc", "192.0.2.1", None, T0 + 101)
        .decision;
    assert_eq!(
        d.reasons[0],
        "novel_parameter: query:page (string) never seen on GET /api/items"
    );
    let d = w
        .get("/api/items?page=2&sort=price", "192.0.2.1", None, T0 + 102)
        .decision;
    assert!(d.signals.is_empty(), "same shapes, other values: {d}");
    // Seen by enough requests, a new parameter is learned (continuous learning).
    w.get("/api/items?debug=true", "192.0.2.1", None, T0 + 103);
    w.get("/api/items?debug=true", "192.0.2.1", None, T0 + 104);
    let d = w
        .get("/api/items?debug=false", "192.0.2.1", None, T0 + 105)
        .decision;
    assert!(d.signals.is_empty(), "{d}");
    // Another route has its own structure.
    let d = w
        .get("/api/users?debug=true", "192.0.2.1", None, T0 + 106)
        .decision;
    assert!(d.signals.is_empty(), "learning: {d}");
}

#[test]
fn response_size_anomaly_is_reported_per_route() {
    let w = world(r#","signals":{"response_size":{"min_bytes":10000}}"#, "");
    let b = w.engine.behaviour().unwrap();
    let v = view("GET", "/api/users/7", "192.0.2.1", None);
    let facts = w.engine.request_facts(&v);
    w.send(&v, T0);
    for i in 0..40u64 {
        let s = b.on_response(&*w.store, &facts, 200, Some(4000 + i * 10), T0 + i);
        assert!(s.signals.is_empty() && s.errors.is_empty());
    }
    let s = b.on_response(&*w.store, &facts, 200, Some(5_200_000), T0 + 100);
    assert_eq!(s.signals.len(), 1);
    let r = &s.signals[0].reason;
    assert!(
        r.starts_with("response_size: 5.2 MB on GET /api/users/{id} vs typical 4.2 KB (z="),
        "{r}"
    );
    // The outlier barely moved the baseline: the next normal answer is normal.
    let s = b.on_response(&*w.store, &facts, 200, Some(4100), T0 + 101);
    assert!(s.signals.is_empty());
    // Not for errors, and not below min_bytes.
    assert!(b
        .on_response(&*w.store, &facts, 500, Some(9_000_000), T0 + 102)
        .signals
        .is_empty());
}

/// A store whose every call fails.
struct BrokenStore;

impl SharedStore for BrokenStore {
    fn get(&self, _key: &str) -> Result<Option<(Vec<u8>, u32)>, StoreError> {
        Err(StoreError::Host { status: 2 })
    }
    fn set(&self, _key: &str, _value: &[u8], _cas: u32) -> Result<(), StoreError> {
        Err(StoreError::Host { status: 2 })
    }
}

#[test]
fn store_contention_is_reported_not_panicked() {
    let w = world(r#","tables":{"max_retries":2}"#, "");
    w.get("/api/users/1", "192.0.2.1", Some("t"), T0);
    w.store.fail_next_sets(1000);
    let a = w.get("/api/users/2", "192.0.2.1", Some("t"), T0 + 1);
    assert_eq!(a.decision.action, Action::Allow);
    assert!(!a.errors.is_empty());
    assert!(
        a.errors
            .iter()
            .all(|e| matches!(e, StateError::Contention { attempts: 3, .. })),
        "{:?}",
        a.errors
    );
    let tables: Vec<String> = a.errors.iter().map(|e| e.to_string()).collect();
    assert!(
        tables
            .iter()
            .any(|t| t.starts_with("state table clients: bucket ")),
        "{tables:?}"
    );
    w.store.fail_next_sets(0);

    let broken = BrokenStore;
    let v = view("GET", "/api/users/2", "192.0.2.1", Some("t"));
    let facts = w.engine.request_facts(&v);
    let policy = w.engine.route(&v.path);
    let a = w.engine.assess(&v, &facts, &policy, &broken, T0).unwrap();
    assert_eq!(a.decision.action, Action::Allow);
    assert!(a
        .errors
        .iter()
        .all(|e| matches!(e, StateError::Store { .. })));
    assert!(a.errors.len() >= 5, "{:?}", a.errors);
    let s = w.engine.screen(&facts, &policy, &broken, T0);
    assert!(s.decision.is_none() && s.errors.len() == 3);
    let r = w.engine.observe_response(&facts, 401, None, &broken, T0);
    assert_eq!(r.errors.len(), 2);
}

#[test]
fn screening_at_headers_denies_blocked_clients_before_the_body() {
    let w = world("", "");
    let v = view("POST", "/api/orders", "203.0.113.1", Some("t"));
    let facts = w.engine.request_facts(&v);
    let policy = w.engine.route(&v.path);
    assert!(w
        .engine
        .screen(&facts, &policy, &*w.store, T0)
        .decision
        .is_none());
    let order = BlockOrder {
        scope: BlockScope::Principal,
        ttl_s: 60,
        base_ttl_s: 60,
        max_ttl_s: 60,
        cause: BlockCause::Signal(SignalKind::Bola),
    };
    let b = w.engine.behaviour().unwrap();
    for fp in block_targets(BlockScope::Principal, &facts) {
        b.block(&*w.store, fp, &order, T0).unwrap();
    }
    let s = w.engine.screen(&facts, &policy, &*w.store, T0 + 1);
    let d = s.decision.unwrap();
    assert!(d.enforced);
    assert!(d.reasons[0].starts_with("blocked: principal tok:"), "{d}");
    assert_eq!(d.reasons[1], "model not run: stopped by behaviour");
}

#[test]
fn counters_are_exact_across_workers_under_concurrent_load() {
    let config = Config::from_json(
        br#"{"behaviour":{"tables":{"max_retries":16},"signals":{"auth_failures":{"limit":1}}}}"#,
    )
    .unwrap();
    let store = Arc::new(MemStore::new());
    let mut view = RequestView::new("GET", b"/api/login");
    view.client.ip = Some("192.0.2.77".into());
    let workers: Vec<_> = (0..4)
        .map(|_| {
            let store = store.clone();
            let behaviour = Behaviour::new(&config.behaviour, &config.allowlist).unwrap();
            let facts = behaviour.facts(&view, &config.identity);
            std::thread::spawn(move || {
                let mut errors = 0;
                for i in 0..250u64 {
                    errors += behaviour
                        .on_response(&*store, &facts, 401, None, T0 + i)
                        .errors
                        .len();
                }
                errors
            })
        })
        .collect();
    let errors: usize = workers.into_iter().map(|h| h.join().unwrap()).sum();
    assert_eq!(errors, 0);
    let behaviour = Behaviour::new(&config.behaviour, &config.allowlist).unwrap();
    let facts = behaviour.facts(&view, &config.identity);
    let s = behaviour.on_response(&*store, &facts, 401, None, T0 + 300);
    assert_eq!(s.signals[0].value, 1001.0, "{:?}", s.signals[0]);
}

#[test]
fn per_worker_counts_are_exact_in_shared_data_after_the_merge() {
    // As above, each of 4 workers counting in its own memory and merging every 25 answers (its
    // tick): no count is lost, and the merged total is what every worker reads next.
    // No hot marks here (limit 1 would make the bucket hot at once): the deferred path.
    let config = Config::from_json(
        br#"{"behaviour":{"signals":{"auth_failures":{"limit":1}},"worker_state":{"hot_keys":0}}}"#,
    )
    .unwrap();
    let store = Arc::new(MemStore::new());
    let mut view = RequestView::new("GET", b"/api/login");
    view.client.ip = Some("192.0.2.78".into());
    // Envoy cannot create a key atomically: two workers creating the same bucket in the same
    // instant can lose one tick of one of them (once per bucket per proxy lifetime, see
    // WorkerStore::created_as). The bucket exists here, as it does after a client's first tick.
    {
        let behaviour = Behaviour::new(&config.behaviour, &config.allowlist).unwrap();
        let facts = behaviour.facts(&view, &config.identity);
        assert!(behaviour
            .on_response(&*store, &facts, 401, None, T0)
            .errors
            .is_empty());
    }
    let workers: Vec<_> = (0..4)
        .map(|_| {
            let store = store.clone();
            let (config, view) = (config.clone(), view.clone());
            std::thread::spawn(move || {
                let behaviour = Behaviour::new(&config.behaviour, &config.allowlist).unwrap();
                let local = behaviour.worker_store(store);
                let facts = behaviour.facts(&view, &config.identity);
                let mut failed = 0;
                for i in 0..250u64 {
                    local.begin_request(T0 + i);
                    failed += behaviour
                        .on_response(&local, &facts, 401, None, T0 + i)
                        .errors
                        .len();
                    if i % 25 == 24 {
                        failed += local.sync(T0 + i).failed.len();
                    }
                }
                let stats = local.stats();
                (
                    failed,
                    stats.host_gets + stats.host_sets,
                    stats.merge_conflicts,
                )
            })
        })
        .collect();
    let results: Vec<(usize, u64, u64)> = workers.into_iter().map(|h| h.join().unwrap()).collect();
    assert!(results.iter().all(|r| r.0 == 0), "{results:?}");
    // 250 answers each: one epoch read per request and a merge (read + write) per tick, and a
    // read + write more for each merge that met another worker's write.
    assert!(
        results.iter().all(|r| r.1 <= 250 + 2 * 10 + 5 + 2 * r.2),
        "{results:?}"
    );
    let behaviour = Behaviour::new(&config.behaviour, &config.allowlist).unwrap();
    let facts = behaviour.facts(&view, &config.identity);
    let s = behaviour.on_response(&*store, &facts, 401, None, T0 + 300);
    assert_eq!(s.signals[0].value, 1002.0, "{:?}", s.signals[0]);
}

#[test]
fn with_per_worker_state_a_token_walk_is_still_blocked_and_the_block_holds_on_every_worker() {
    let w = world(r#","signals":{"bola":{"min_distinct":20}}"#, "");
    teach_norm(&w);
    let behaviour = w.engine.behaviour().unwrap();
    let workers = [
        behaviour.worker_store(w.store.clone()),
        behaviour.worker_store(w.store.clone()),
    ];
    let start = T0 + 3 * 60_000 + 10_000;
    let mut block = None;
    for id in 1..=200u64 {
        let now = start + id * 50;
        // Requests alternate between the workers; each merges every 100 ms.
        let local = &workers[(id % 2) as usize];
        local.begin_request(now);
        let v = view(
            "GET",
            &format!("/api/users/{id}"),
            "203.0.113.51",
            Some("walker"),
        );
        let facts = w.engine.request_facts(&v);
        let policy = w.engine.route(&v.path);
        let a = w.engine.assess(&v, &facts, &policy, local, now).unwrap();
        assert!(a.errors.is_empty(), "{:?}", a.errors);
        if id % 2 == 0 {
            workers.iter().for_each(|s| {
                s.sync(now);
            });
        }
        if a.decision.action == Action::Block {
            block = Some(id);
            break;
        }
    }
    let block = block.expect("the walk was blocked");
    // Without per-worker state it is blocked between ids 61 and 110; merging every 100 ms
    // lags by at most one tick's worth of ids.
    assert!((60..115).contains(&block), "blocked at id {block}");
    for (i, local) in workers.iter().enumerate() {
        let now = start + 201 * 50 + i as u64;
        local.begin_request(now);
        let v = view("GET", "/api/users/1", "203.0.113.51", Some("walker"));
        let facts = w.engine.request_facts(&v);
        let policy = w.engine.route(&v.path);
        let a = w.engine.assess(&v, &facts, &policy, local, now).unwrap();
        assert_eq!(
            a.decision.action,
            Action::Deny,
            "worker {i}: {}",
            a.decision
        );
        assert!(a.decision.reasons[0].starts_with("blocked: client 203.0.113.51"));
    }
}

/// Id of the first request of a token walk that is not allowed, with requests alternating
/// over `stores` and no merge at all (`sync` never called).
fn first_stop_of_a_walk<S: SharedStore>(w: &World, stores: &[S], begin: impl Fn(&S, u64)) -> u64 {
    let start = T0 + 3 * 60_000 + 10_000;
    for id in 1..=200u64 {
        let now = start + id * 50;
        let local = &stores[(id % stores.len() as u64) as usize];
        begin(local, now);
        let v = view(
            "GET",
            &format!("/api/users/{id}"),
            "203.0.113.52",
            Some("walker"),
        );
        let facts = w.engine.request_facts(&v);
        let policy = w.engine.route(&v.path);
        let a = w.engine.assess(&v, &facts, &policy, local, now).unwrap();
        assert!(a.errors.is_empty(), "{:?}", a.errors);
        if a.decision.action != Action::Allow {
            eprintln!("stop {id}: {}", a.decision);
            return id;
        }
    }
    panic!("the walk was never stopped");
}

#[test]
fn near_a_limit_buckets_go_through_so_two_workers_stop_a_walk_where_one_store_does() {
    let exact = {
        let w = world(r#","signals":{"bola":{"min_distinct":20}}"#, "");
        teach_norm(&w);
        first_stop_of_a_walk(&w, std::slice::from_ref(&w.store), |_, _| {})
    };
    let w = world(r#","signals":{"bola":{"min_distinct":20}}"#, "");
    teach_norm(&w);
    let behaviour = w.engine.behaviour().unwrap();
    let workers = [
        behaviour.worker_store(w.store.clone()),
        behaviour.worker_store(w.store.clone()),
    ];
    let stop = first_stop_of_a_walk(&w, &workers, |s, now| s.begin_request(now));
    assert_eq!(stop, exact, "never merged, yet stopped at the same id");
    assert!(workers.iter().all(|s| s.stats().hot_through > 0));
    // Without hot marks each worker sees only its own half until a merge.
    let w = world(
        r#","signals":{"bola":{"min_distinct":20}},"worker_state":{"hot_keys":0}"#,
        "",
    );
    teach_norm(&w);
    let behaviour = w.engine.behaviour().unwrap();
    let workers = [
        behaviour.worker_store(w.store.clone()),
        behaviour.worker_store(w.store.clone()),
    ];
    let lagging = first_stop_of_a_walk(&w, &workers, |s, now| s.begin_request(now));
    assert!(lagging > exact, "{lagging} vs {exact}");
}

#[test]
fn memory_stays_within_the_bound_whatever_the_traffic() {
    let w = world(
        r#","tables":{"clients":{"buckets":16,"entries":4},"principals":{"buckets":16,"entries":4},"principal_routes":{"buckets":16,"entries":4},"routes":{"buckets":8,"entries":4},"blocks":{"buckets":4,"entries":4},"revoked":{"buckets":4,"entries":4}}"#,
        "",
    );
    let bound = w.engine.config().behaviour.memory_bound();
    for i in 0..3000u64 {
        let uri = format!("/r{}/items/{i}?p{}=1", i % 50, i % 7);
        w.exchange(
            &uri,
            &format!("10.{}.{}.{}", i % 200, i % 13, i % 251),
            Some(&format!("tok{i}")),
            404,
            T0 + i * 10,
        );
    }
    assert!(
        w.store.max_value_bytes() <= bound,
        "{} > {bound}",
        w.store.max_value_bytes()
    );
    assert!(w.store.key_count() <= 16 * 3 + 8 + 4 + 4);
}

#[test]
fn default_memory_bound_is_as_documented() {
    assert_eq!(Config::default().behaviour.memory_bound(), 8_303_872);
}

#[test]
fn the_standing_read_at_the_headers_decides_as_a_fresh_read_would() {
    // Two identical worlds: one assesses as the CLI does (standing read in `assess`), the other
    // as the filter does (`screen` at the headers, then `assess_screened` with its standing).
    let (fresh, screened) = (world("", ""), world("", ""));
    let mut decisions = Vec::new();
    for (i, risk) in [0.01, 0.97, 0.97, 0.97, 0.01, 0.01].into_iter().enumerate() {
        let now = T0 + i as u64 * 1000;
        let v = view("GET", "/api/search?q=x", "203.0.113.9", Some("tok-1"));
        fresh.risk.set(risk);
        screened.risk.set(risk);
        let a = fresh.send(&v, now).decision;
        let facts = screened.engine.request_facts(&v);
        let policy = screened.engine.route(&v.path);
        let sc = screened
            .engine
            .screen(&facts, &policy, &*screened.store, now);
        let b = match sc.decision {
            Some(d) if d.enforced => d,
            _ => {
                let standing = sc.standing.expect("behaviour is on: a standing");
                screened
                    .engine
                    .assess_screened(&v, &facts, &policy, standing, &*screened.store, now)
                    .unwrap()
                    .decision
            }
        };
        assert_eq!((a.action, &a.class), (b.action, &b.class), "request {i}");
        assert_eq!(a.reasons, b.reasons, "request {i}");
        decisions.push(b.action);
    }
    // A parameter never seen (warm-up is off here) annotates the first request; the third
    // model deny blocks; the block answers the requests after it (403) at their headers.
    assert_eq!(
        decisions,
        [
            Action::Annotate,
            Action::Deny,
            Action::Deny,
            Action::Block,
            Action::Deny,
            Action::Deny
        ]
    );
}
