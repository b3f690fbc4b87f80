//! Elastic Common Schema (9.x) encoding: one document per event, nested objects (as Elastic
//! Agent and Beats write them). Fields ECS has no place for go under `labels` (keyword values).

use serde_json::{json, Map, Value};

use super::{ocsf, SecurityEvent, PRODUCT_VERSION};
use crate::policy::{Action, UPLOAD_CLASS};

/// The ECS version written in `ecs.version`.
pub const ECS_VERSION: &str = "9.2.0";

/// RFC 3339 UTC time with milliseconds of `ms` since the epoch.
pub fn rfc3339(ms: u64) -> String {
    let secs = ms / 1000;
    let millis = ms % 1000;
    let days = i64::try_from(secs / 86_400).unwrap_or(0);
    let rem = secs % 86_400;
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = if m <= 2 { y + 1 } else { y };
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{millis:03}Z",
        rem / 3600,
        (rem % 3600) / 60,
        rem % 60
    )
}

/// `event.type` values (ECS allows for category `web`: access, error, info; for
/// `intrusion_detection`: allowed, denied, info, start, end).
fn event_types(e: &SecurityEvent) -> Vec<&'static str> {
    let (action_id, ..) = ocsf::disposition(e);
    let mut t = vec![if action_id == 2 { "denied" } else { "allowed" }];
    if e.action > Action::Allow || e.response.as_ref().is_some_and(|r| r.total() > 0) {
        t.push("info");
    }
    t
}

/// The ECS document of the event.
pub fn document(e: &SecurityEvent) -> Value {
    let alert = e.is_alert();
    let (_, _, _, disposition) = ocsf::disposition(e);
    let outcome = match e.status {
        Some(s) if s < 400 => "success",
        Some(_) => "failure",
        None => "unknown",
    };
    let mut event = json!({
        "kind": if alert { "alert" } else { "event" },
        "category": ["web", "intrusion_detection"],
        "type": event_types(e),
        "action": e.action.as_str(),
        "outcome": outcome,
        "module": "apiward",
        "dataset": "apiward.security",
        "severity": e.severity(),
        "risk_score": f64::from(ocsf::risk_score(e)),
        "reason": e.message(),
        "created": rfc3339(e.time_ms),
    });
    if let Some(id) = e.incident_id.as_deref().or(e.request_id.as_deref()) {
        event["id"] = Value::String(id.to_string());
    }
    let mut url = json!({"path": e.path});
    if let Some(q) = &e.query {
        url["query"] = Value::String(q.clone());
    }
    if let Some(h) = &e.host {
        url["domain"] = Value::String(h.clone());
    }
    let mut http = json!({"request": {"method": e.method}, "version": "1.1"});
    if let Some(id) = &e.request_id {
        http["request"]["id"] = Value::String(id.clone());
    }
    if let Some(code) = e.status {
        http["response"] = json!({"status_code": code});
    }
    let mut doc = Map::new();
    doc.insert("@timestamp".into(), json!(rfc3339(e.time_ms)));
    doc.insert("ecs".into(), json!({"version": ECS_VERSION}));
    doc.insert("message".into(), json!(e.message()));
    doc.insert("event".into(), event);
    doc.insert("http".into(), http);
    doc.insert("url".into(), url);
    doc.insert(
        "observer".into(),
        json!({"vendor": "apiward", "product": "apiward", "type": "waf", "version": PRODUCT_VERSION}),
    );
    doc.insert(
        "rule".into(),
        json!({
            "name": e.rule_name(),
            "category": e.rule_type(),
            "id": format!("apiward.{}.{}", e.rule_type(), e.rule_name()),
            "ruleset": "apiward",
            "description": e.condition().unwrap_or_default(),
        }),
    );
    let mut source = Map::new();
    if let Some(ip) = &e.client_ip {
        source.insert("ip".into(), json!(ip));
    }
    if let Some(h) = &e.client_hash {
        source.insert("address".into(), json!(h));
    }
    if !source.is_empty() {
        doc.insert("source".into(), Value::Object(source));
    }
    if let Some(p) = &e.principal_hash {
        doc.insert("user".into(), json!({"hash": p}));
    }
    if let Some(ua) = &e.user_agent {
        doc.insert("user_agent".into(), json!({"original": ua}));
    }
    // (technique, sub-technique, tactic) of MITRE ATT&CK, as `[id, name]`.
    let threat = if e.class == UPLOAD_CLASS {
        // A file the server would run, uploaded where it may be served: a web shell.
        Some((
            ["T1505", "Server Software Component"],
            Some(["T1505.003", "Web Shell"]),
            ["TA0003", "Persistence"],
        ))
    } else if e.rule_type() == "probe" {
        // Asking for files an API never serves, from a list: scanning for exposed files.
        Some((
            ["T1595", "Active Scanning"],
            Some(["T1595.003", "Wordlist Scanning"]),
            ["TA0043", "Reconnaissance"],
        ))
    } else if e.action >= Action::Annotate && e.class != "benign" {
        Some((
            ["T1190", "Exploit Public-Facing Application"],
            None,
            ["TA0001", "Initial Access"],
        ))
    } else {
        None
    };
    if let Some(([tid, tname], sub, [aid, aname])) = threat {
        let mut technique = json!({"id": [tid], "name": [tname]});
        if let Some([sid, sname]) = sub {
            technique["subtechnique"] = json!({"id": [sid], "name": [sname]});
        }
        doc.insert(
            "threat".into(),
            json!({
                "framework": "MITRE ATT&CK",
                "technique": technique,
                "tactic": {"id": [aid], "name": [aname]},
                "indicator": {"description": e.class},
            }),
        );
    }
    let mut labels = Map::new();
    labels.insert("apiward_mode".into(), json!(e.mode.as_str()));
    labels.insert("apiward_enforced".into(), json!(e.enforced.to_string()));
    labels.insert("apiward_class".into(), json!(e.class));
    labels.insert("apiward_disposition".into(), json!(disposition));
    labels.insert(
        "apiward_risk".into(),
        json!(format!("{:.3}", e.risk.clamp(0.0, 1.0))),
    );
    if let Some(l) = &e.location {
        labels.insert("apiward_location".into(), json!(l));
    }
    if !e.signals.is_empty() {
        labels.insert("apiward_signals".into(), json!(e.signals.join(",")));
    }
    if let Some(r) = &e.route {
        labels.insert("apiward_route".into(), json!(r));
    }
    if let Some(x) = &e.excerpt {
        labels.insert("apiward_request_excerpt".into(), json!(x));
    }
    if let Some(p) = &e.probe {
        labels.insert(
            "apiward_probe".into(),
            json!(format!("{}:{}", p.category, p.rule)),
        );
    }
    if let Some(c) = &e.consensus {
        labels.insert(
            "apiward_consensus".into(),
            json!(format!(
                "{} clients over {}s, risk {:.3} -> {:.3}",
                c.clients,
                c.age_ms / 1000,
                c.from,
                c.to
            )),
        );
    }
    if let Some(r) = &e.response {
        labels.insert("apiward_response_action".into(), json!(r.applied));
        let counts: Vec<String> = r
            .counts
            .iter()
            .map(|(k, n)| format!("{}={n}", k.as_str()))
            .collect();
        labels.insert("apiward_response_findings".into(), json!(counts.join(",")));
        if let Some(s) = &r.skipped {
            labels.insert("apiward_response_skipped".into(), json!(s));
        }
    }
    doc.insert("labels".into(), Value::Object(labels));
    Value::Object(doc)
}
