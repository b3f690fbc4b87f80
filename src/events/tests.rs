use super::*;
use crate::config::{ClientIpMode, PrincipalMode, Thresholds};
use crate::dlp::Kind;
use crate::policy::{decide, ModelVerdict};

fn privacy() -> PrivacyConfig {
    PrivacyConfig {
        client_ip: ClientIpMode::Truncate,
        principal: PrincipalMode::Hash,
        hash_key: b"events-test-key-0123456789".to_vec(),
        excerpt_bytes: 256,
    }
}

/// The decision in enforce mode at annotate 0.5 / deny 0.9 for the model's verdict `v`.
fn enforce(v: &ModelVerdict) -> Decision {
    decide(
        v,
        &[],
        Thresholds {
            annotate: 0.5,
            deny: 0.9,
        },
        Mode::Enforce,
    )
}

fn sqli_deny() -> Decision {
    let v = ModelVerdict {
        class: "sqli".into(),
        probability: 0.97,
        risk: 0.98,
        location: Some("query:id".into()),
    };
    enforce(&v)
}

fn record<'a>(path: &'a str, body: &'a [u8]) -> RequestRecord<'a> {
    RequestRecord {
        time_ms: 1_764_921_600_123,
        request_id: "req-1",
        incident_id: Some("0123456789abcdef"),
        method: "POST",
        path,
        route: Some("/api/users/{id}"),
        host: Some("api.example"),
        user_agent: Some("curl/8 bob@example.com"),
        body,
        client_ip: Some("203.0.113.9"),
        principal_fp: Some(42),
        status: Some(403),
    }
}

#[test]
fn a_denied_request_becomes_an_alert_with_both_ocsf_classes() {
    let body = br#"{"password":"hunter2","card":"4111111111111111"}"#;
    let e = SecurityEvent::build(
        &sqli_deny(),
        &record("/api/users/1?id=1%27+or+1=1--&token=abc", body),
        None,
        &privacy(),
    );
    assert!(e.is_alert() && e.is_notable());
    assert_eq!(e.client_ip.as_deref(), Some("203.0.113.0"));
    assert_eq!(e.principal_hash.as_ref().map(String::len), Some(32));
    assert_eq!(
        e.query.as_deref(),
        Some("id=1%27+or+1=1--&token=[REDACTED]")
    );
    assert_eq!(e.user_agent.as_deref(), Some("curl/8 [REDACTED:email]"));
    let excerpt = e.excerpt.clone().unwrap();
    assert!(!excerpt.contains("hunter2") && !excerpt.contains("4111111111111111"));

    let records = e.encode(Schema::Ocsf);
    assert_eq!(records.len(), 2);
    let a = &records[0];
    assert_eq!(
        (a["class_uid"].as_u64(), a["activity_id"].as_u64()),
        (Some(4002), Some(6))
    );
    assert_eq!(a["type_uid"], 400206);
    assert_eq!(
        (a["action_id"].as_u64(), a["disposition_id"].as_u64()),
        (Some(2), Some(2))
    );
    assert_eq!(a["firewall_rule"]["name"], "sqli");
    assert_eq!(a["firewall_rule"]["match_location"], "query:id");
    assert_eq!(a["metadata"]["version"], "1.8.0");
    assert_eq!(a["is_alert"], true);
    let f = &records[1];
    assert_eq!(
        (f["class_uid"].as_u64(), f["type_uid"].as_u64()),
        (Some(2004), Some(200401))
    );
    assert_eq!(f["finding_info"]["uid"], "0123456789abcdef");
    assert_eq!(f["evidences"][0]["url"]["path"], "/api/users/1");
    assert_eq!(f["evidences"][0]["src_endpoint"]["ip"], "203.0.113.0");

    let ecs = &e.encode(Schema::Ecs)[0];
    assert_eq!(ecs["event"]["kind"], "alert");
    assert_eq!(ecs["event"]["type"][0], "denied");
    assert_eq!(ecs["@timestamp"], "2025-12-05T08:00:00.123Z");
    assert_eq!(ecs["source"]["ip"], "203.0.113.0");
    assert_eq!(ecs["rule"]["name"], "sqli");
    let text = serde_json::to_string(&records).unwrap() + &ecs.to_string();
    assert!(
        !text.contains("events-test-key"),
        "the hash key never leaves"
    );
}

#[test]
fn a_probe_deny_is_a_rule_finding_of_reconnaissance() {
    let d = crate::policy::with_probe(
        enforce(&ModelVerdict::nothing_scored()),
        crate::policy::ProbeFinding {
            class: crate::policy::PROBE_CLASS,
            category: "metadata",
            rule: ".git".into(),
            location: "path".into(),
            action: Action::Deny,
        },
    );
    let mut r = record("/.git/config", b"");
    r.method = "GET";
    let e = SecurityEvent::build(&d, &r, None, &privacy());
    assert!(e.is_alert());
    assert_eq!(
        (e.rule_type(), e.rule_name().as_str()),
        ("probe", "restricted_file")
    );
    let records = e.encode(Schema::Ocsf);
    let a = &records[0];
    assert_eq!(a["firewall_rule"]["type"], "probe");
    assert_eq!(a["firewall_rule"]["uid"], "apiward.probe.restricted_file");
    assert_eq!(a["firewall_rule"]["match_location"], "path");
    assert_eq!(
        a["firewall_rule"]["condition"],
        "probe:restricted_file metadata:.git at path"
    );
    assert_eq!(
        a["unmapped"]["apiward"]["probe"],
        serde_json::json!({"category": "metadata", "rule": ".git", "location": "path", "action": "deny"})
    );
    assert_eq!(
        (a["disposition_id"].as_u64(), a["risk_score"].as_u64()),
        (Some(2), Some(100))
    );
    let analytic = &records[1]["finding_info"]["analytic"];
    assert_eq!(
        (&analytic["type_id"], &analytic["type"], &analytic["uid"]),
        (
            &serde_json::json!(1),
            &serde_json::json!("Rule"),
            &serde_json::json!("apiward.probe.metadata:.git")
        )
    );
    let doc = &e.encode(Schema::Ecs)[0];
    assert_eq!(doc["rule"]["category"], "probe");
    assert_eq!(
        doc["threat"]["technique"]["subtechnique"]["id"][0],
        "T1595.003"
    );
    assert_eq!(doc["threat"]["tactic"]["id"][0], "TA0043");
    assert_eq!(doc["labels"]["apiward_probe"], "metadata:.git");
    assert_eq!(doc["url"]["path"], "/.git/config");
}

#[test]
fn a_monitor_mode_detection_is_allowed_and_detected() {
    let mut d = sqli_deny();
    d.mode = Mode::Monitor;
    d.enforced = false;
    let mut r = record("/x", b"");
    r.incident_id = None;
    r.status = Some(200);
    let e = SecurityEvent::build(&d, &r, None, &privacy());
    let a = &e.encode(Schema::Ocsf)[0];
    assert_eq!(
        (a["action_id"].as_u64(), a["disposition_id"].as_u64()),
        (Some(1), Some(15))
    );
    let f = &e.encode(Schema::Ocsf)[1];
    assert_eq!(f["finding_info"]["uid"], "req-1");
}

#[test]
fn a_plain_allow_is_not_notable_and_a_masked_response_is_an_alert() {
    let v = ModelVerdict::nothing_scored();
    let d = enforce(&v);
    let mut r = record("/a", b"");
    r.incident_id = None;
    r.status = Some(200);
    let e = SecurityEvent::build(&d, &r, None, &privacy());
    assert!(!e.is_notable());
    assert_eq!(e.encode(Schema::Ocsf).len(), 1);
    let findings = ResponseFindings {
        counts: vec![(Kind::Card, 50)],
        applied: "mask",
        skipped: None,
    };
    let e = SecurityEvent::build(&d, &r, Some(findings), &privacy());
    assert!(e.is_alert());
    let a = &e.encode(Schema::Ocsf)[0];
    assert_eq!(
        (a["action_id"].as_u64(), a["disposition"].as_str()),
        (Some(99), Some("Masked"))
    );
    assert_eq!(a["firewall_rule"]["name"], "data_exposure");
    assert_eq!(
        a["unmapped"]["apiward"]["response_inspection"]["counts"]["card"],
        50
    );
    // The rule says what the response exposed, not the request's (empty) model verdict.
    assert_eq!(
        a["firewall_rule"]["condition"],
        "response exposes card=50 (mask)"
    );
    assert_eq!(
        a["message"],
        "apiward allow POST /a: response exposes 50 card"
    );
    let doc = &e.encode(Schema::Ecs)[0];
    assert_eq!(
        doc["rule"]["description"],
        "response exposes card=50 (mask)"
    );
    let skipped = ResponseFindings {
        counts: vec![],
        applied: "annotate",
        skipped: Some("content-encoding gzip not inspected".into()),
    };
    let e = SecurityEvent::build(&d, &r, Some(skipped), &privacy());
    assert_eq!(
        e.condition().as_deref(),
        Some("response not inspected: content-encoding gzip not inspected")
    );
}

#[test]
fn http_methods_map_to_ocsf_activities() {
    let ids: Vec<u8> = [
        "CONNECT", "DELETE", "GET", "HEAD", "OPTIONS", "POST", "PUT", "TRACE", "PATCH", "PROPFIND",
    ]
    .iter()
    .map(|m| ocsf::activity_id(m))
    .collect();
    assert_eq!(ids, [1, 2, 3, 4, 5, 6, 7, 8, 9, 99]);
}

#[test]
fn timestamps_are_rfc_3339() {
    assert_eq!(ecs::rfc3339(0), "1970-01-01T00:00:00.000Z");
    assert_eq!(ecs::rfc3339(951_782_400_000), "2000-02-29T00:00:00.000Z");
    assert_eq!(ecs::rfc3339(1_709_164_800_999), "2024-02-29T00:00:00.999Z");
}

/// With `APIWARD_EVENT_SAMPLES=<file>`, writes one event of each kind and encoding (the e2e
/// suite validates the same encoders on events that crossed a real Envoy).
#[test]
fn samples_of_each_kind_and_encoding() {
    let Ok(path) = std::env::var("APIWARD_EVENT_SAMPLES") else {
        return;
    };
    let mut out = Vec::new();
    let body = br#"{"password":"hunter2","card":"4111111111111111"}"#;
    let deny = SecurityEvent::build(
        &sqli_deny(),
        &record("/api/users/1?id=1", body),
        None,
        &privacy(),
    );
    let mut monitor = sqli_deny();
    monitor.mode = Mode::Monitor;
    monitor.enforced = false;
    monitor.action = Action::Annotate;
    let annotate =
        SecurityEvent::build(&monitor, &record("/api/search?q=x", b""), None, &privacy());
    let allow = enforce(&ModelVerdict::nothing_scored());
    let masked = SecurityEvent::build(
        &allow,
        &record("/api/reports/payments", b""),
        Some(ResponseFindings {
            counts: vec![(Kind::Card, 50)],
            applied: "mask",
            skipped: None,
        }),
        &privacy(),
    );
    for e in [deny, annotate, masked] {
        for schema in [Schema::Ocsf, Schema::Ecs] {
            out.extend(e.encode(schema));
        }
    }
    std::fs::write(path, serde_json::to_string_pretty(&out).unwrap()).unwrap();
}

#[test]
fn reasons_never_carry_the_client_address_unless_it_is_shown_in_full() {
    let mut d = sqli_deny();
    d.reasons = vec![
        "rate: 46/min from client 203.0.113.9, no baseline yet (limit 20)".into(),
        "not this one: 203.0.113.91 or 1203.0.113.9".into(),
    ];
    let r = record("/api/users/1", b"");
    let mut p = privacy();
    let e = SecurityEvent::build(&d, &r, None, &p);
    assert_eq!(
        e.reasons[0],
        "rate: 46/min from client 203.0.113.0, no baseline yet (limit 20)"
    );
    assert_eq!(e.reasons[1], "not this one: 203.0.113.91 or 1203.0.113.9");
    p.client_ip = ClientIpMode::Hash;
    let e = SecurityEvent::build(&d, &r, None, &p);
    let hash = e.client_hash.clone().unwrap();
    assert_eq!(
        e.reasons[0],
        format!("rate: 46/min from client ip:{hash}, no baseline yet (limit 20)")
    );
    p.client_ip = ClientIpMode::Omit;
    let e = SecurityEvent::build(&d, &r, None, &p);
    assert!(e.reasons[0].contains("client [REDACTED:ip],"));
    for schema in [Schema::Ocsf, Schema::Ecs] {
        for doc in e.encode(schema) {
            assert!(!doc.to_string().contains("203.0.113.9,"), "{doc}");
        }
    }
    p.client_ip = ClientIpMode::Full;
    let e = SecurityEvent::build(&d, &r, None, &p);
    assert!(e.reasons[0].contains("client 203.0.113.9,"));
    let v6 = RequestRecord {
        client_ip: Some("2001:db8:85a3::8a2e:370:7334"),
        ..record("/", b"")
    };
    d.reasons = vec!["bola: 60 ids by client 2001:db8:85a3::8a2e:370:7334".into()];
    p.client_ip = ClientIpMode::Truncate;
    let e = SecurityEvent::build(&d, &v6, None, &p);
    assert_eq!(e.reasons[0], "bola: 60 ids by client 2001:db8:85a3::");
}

#[test]
fn a_discounted_allow_is_notable_and_carries_the_consensus_in_both_schemas() {
    let v = ModelVerdict {
        class: "xss".into(),
        probability: 0.9,
        risk: 0.2,
        location: Some("header:user-agent".into()),
    };
    let t = Thresholds {
        annotate: 0.41,
        deny: 0.9155,
    };
    let mut d = decide(&v, &[], t, Mode::Enforce);
    assert_eq!(d.action, Action::Allow);
    let plain = SecurityEvent::build(&d, &record("/api/users/2", b""), None, &privacy());
    assert!(!plain.is_notable() && plain.consensus.is_none());
    d.consensus = Some(crate::policy::ConsensusDiscount {
        clients: 37,
        age_ms: 11_520_000,
        location: "header:user-agent".into(),
        from: 0.93,
        to: 0.2,
    });
    let e = SecurityEvent::build(&d, &record("/api/users/2", b""), None, &privacy());
    assert!(e.is_notable() && !e.is_alert());
    let ocsf = &e.encode(Schema::Ocsf)[0];
    let c = &ocsf["unmapped"]["apiward"]["consensus"];
    assert_eq!(c["clients"], 37);
    assert_eq!(c["age_s"], 11_520);
    assert_eq!(c["location"], "header:user-agent");
    assert_eq!(
        (c["risk_before"].as_f64(), c["risk_after"].as_f64()),
        (Some(0.93), Some(0.2))
    );
    let ecs = &e.encode(Schema::Ecs)[0];
    assert_eq!(
        ecs["labels"]["apiward_consensus"],
        "37 clients over 11520s, risk 0.930 -> 0.200"
    );
}
