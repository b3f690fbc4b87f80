//! OCSF 1.8.0 encoding: HTTP Activity (class 4002) with the `security_control` profile for
//! every event, and a Detection Finding (class 2004) for alerts.
//!
//! The mapping is in the README (Security events). `type_uid` = class_uid × 100 + activity_id.

use serde_json::{json, Map, Value};

use super::{SecurityEvent, PRODUCT_VERSION};
use crate::config::Mode;
use crate::policy::Action;

/// The OCSF schema version written in `metadata.version`.
pub const OCSF_VERSION: &str = "1.8.0";

/// HTTP Activity `activity_id` of a method (OCSF 1.8.0: 1 Connect … 9 Patch, 99 Other).
pub fn activity_id(method: &str) -> u8 {
    match method {
        "CONNECT" => 1,
        "DELETE" => 2,
        "GET" => 3,
        "HEAD" => 4,
        "OPTIONS" => 5,
        "POST" => 6,
        "PUT" => 7,
        "TRACE" => 8,
        "PATCH" => 9,
        _ => 99,
    }
}

fn activity_name(id: u8) -> &'static str {
    match id {
        1 => "Connect",
        2 => "Delete",
        3 => "Get",
        4 => "Head",
        5 => "Options",
        6 => "Post",
        7 => "Put",
        8 => "Trace",
        9 => "Patch",
        _ => "Other",
    }
}

fn severity_name(id: u8) -> &'static str {
    match id {
        1 => "Informational",
        2 => "Low",
        3 => "Medium",
        4 => "High",
        _ => "Critical",
    }
}

/// `(action_id, action, disposition_id, disposition)` of the `security_control` profile.
///
/// OCSF 1.8.0 has action ids 1 Allowed and 2 Denied only; a masked response is 99 Other
/// ("Modified"). A decision that was not enforced (monitor mode) is Allowed / Detected.
pub fn disposition(e: &SecurityEvent) -> (u8, &'static str, u8, &'static str) {
    if let Some(r) = &e.response {
        if r.total() > 0 {
            return match r.applied {
                "block" => (2, "Denied", 2, "Blocked"),
                "mask" => (99, "Modified", 99, "Masked"),
                _ => (1, "Allowed", 15, "Detected"),
            };
        }
    }
    if !e.enforced || e.mode == Mode::Monitor {
        return match e.action {
            Action::Allow => (1, "Allowed", 1, "Allowed"),
            _ => (1, "Allowed", 15, "Detected"),
        };
    }
    match e.action {
        Action::Allow => (1, "Allowed", 1, "Allowed"),
        Action::Annotate => (1, "Allowed", 15, "Detected"),
        Action::Challenge => (2, "Denied", 23, "Challenge"),
        Action::Throttle => (2, "Denied", 25, "Rejected"),
        Action::Deny | Action::Block => (2, "Denied", 2, "Blocked"),
        Action::Revoke => (2, "Denied", 24, "Access Revoked"),
    }
}

/// Risk level of a 0–100 score (OCSF: 0 Info, 1 Low, 2 Medium, 3 High, 4 Critical).
fn risk_level(score: u8) -> (u8, &'static str) {
    match score {
        0..=19 => (0, "Info"),
        20..=39 => (1, "Low"),
        40..=69 => (2, "Medium"),
        70..=89 => (3, "High"),
        _ => (4, "Critical"),
    }
}

/// The risk as an integer 0–100.
pub fn risk_score(e: &SecurityEvent) -> u8 {
    let r = (e.risk.clamp(0.0, 1.0) * 100.0).round();
    // The model's risk says nothing about behaviour findings: they count by severity.
    let by_severity = match e.severity() {
        5 => 90,
        4 => 70,
        3 => 50,
        2 => 30,
        _ => 0,
    };
    (r as u8).max(by_severity)
}

fn metadata(e: &SecurityEvent, uid_suffix: &str) -> Value {
    let mut m = json!({
        "version": OCSF_VERSION,
        "product": {"name": "apiward", "vendor_name": "apiward", "version": PRODUCT_VERSION},
        "profiles": ["security_control"],
        "log_name": "apiward",
    });
    if let Some(id) = e.incident_id.as_deref().or(e.request_id.as_deref()) {
        m["uid"] = Value::String(format!("{id}{uid_suffix}"));
    }
    m
}

fn url(e: &SecurityEvent) -> Value {
    let mut u = Map::new();
    u.insert("path".into(), Value::String(e.path.clone()));
    if let Some(q) = &e.query {
        u.insert("query_string".into(), Value::String(q.clone()));
    }
    if let Some(h) = &e.host {
        u.insert("hostname".into(), Value::String(h.clone()));
    }
    Value::Object(u)
}

fn http_request(e: &SecurityEvent) -> Value {
    let mut r = json!({"http_method": e.method, "url": url(e)});
    if let Some(ua) = &e.user_agent {
        r["user_agent"] = Value::String(ua.clone());
    }
    if let Some(id) = &e.request_id {
        r["uid"] = Value::String(id.clone());
    }
    r
}

/// `src_endpoint`: the address (full or truncated) or its keyed hash as `uid`, and the
/// principal's keyed hash as `owner.uid`. `None` when nothing may be said about the client.
fn src_endpoint(e: &SecurityEvent) -> Option<Value> {
    let mut s = Map::new();
    if let Some(ip) = &e.client_ip {
        s.insert("ip".into(), Value::String(ip.clone()));
    }
    if let Some(h) = &e.client_hash {
        s.insert("uid".into(), Value::String(h.clone()));
    }
    if let Some(p) = &e.principal_hash {
        s.insert(
            "owner".into(),
            json!({"uid": p, "type_id": 99, "type": "Principal"}),
        );
        if s.get("ip").is_none() && s.get("uid").is_none() {
            // at_least_one of ip/uid/name/…: the principal names the endpoint.
            s.insert("name".into(), Value::String(format!("principal:{p}")));
        }
    }
    (!s.is_empty()).then_some(Value::Object(s))
}

fn firewall_rule(e: &SecurityEvent) -> Value {
    let mut r = json!({
        "name": e.rule_name(),
        "type": e.rule_type(),
        "uid": format!("apiward.{}.{}", e.rule_type(), e.rule_name()),
    });
    if let Some(loc) = &e.location {
        r["match_location"] = Value::String(loc.clone());
    }
    if let Some(c) = e.condition() {
        r["condition"] = Value::String(c);
    }
    r
}

/// What OCSF has no field for, under `unmapped.apiward`.
fn unmapped(e: &SecurityEvent) -> Value {
    let mut a = json!({
        "action": e.action.as_str(),
        "mode": e.mode.as_str(),
        "enforced": e.enforced,
        "class": e.class,
        "risk": (f64::from(e.risk) * 1000.0).round() / 1000.0,
        "reasons": e.reasons,
        "signals": e.signals,
    });
    if let Some(r) = &e.route {
        a["route"] = Value::String(r.clone());
    }
    if let Some(x) = &e.excerpt {
        a["request_excerpt"] = Value::String(x.clone());
    }
    if let Some(p) = &e.probe {
        a["probe"] = json!({
            "category": p.category,
            "rule": p.rule,
            "location": p.location,
            "action": p.action.as_str(),
        });
    }
    if let Some(c) = &e.consensus {
        a["consensus"] = json!({
            "clients": c.clients,
            "age_s": c.age_ms / 1000,
            "location": c.location,
            "risk_before": (f64::from(c.from) * 1000.0).round() / 1000.0,
            "risk_after": (f64::from(c.to) * 1000.0).round() / 1000.0,
        });
    }
    if let Some(r) = &e.response {
        let counts: Map<String, Value> = r
            .counts
            .iter()
            .map(|(k, n)| (k.as_str().to_string(), json!(n)))
            .collect();
        a["response_inspection"] = json!({"action": r.applied, "counts": counts});
        if let Some(s) = &r.skipped {
            a["response_inspection"]["skipped"] = Value::String(s.clone());
        }
    }
    json!({ "apiward": a })
}

fn common(e: &SecurityEvent, class_uid: u32, category_uid: u8, activity: u8) -> Map<String, Value> {
    let severity = e.severity();
    let (action_id, action, disposition_id, disposition) = disposition(e);
    let score = risk_score(e);
    let (level_id, level) = risk_level(score);
    let mut m = Map::new();
    m.insert("class_uid".into(), json!(class_uid));
    m.insert("category_uid".into(), json!(category_uid));
    m.insert("activity_id".into(), json!(activity));
    m.insert(
        "type_uid".into(),
        json!(u64::from(class_uid) * 100 + u64::from(activity)),
    );
    m.insert("time".into(), json!(e.time_ms));
    m.insert("severity_id".into(), json!(severity));
    m.insert("severity".into(), json!(severity_name(severity)));
    m.insert("action_id".into(), json!(action_id));
    m.insert("action".into(), json!(action));
    m.insert("disposition_id".into(), json!(disposition_id));
    m.insert("disposition".into(), json!(disposition));
    m.insert("is_alert".into(), json!(e.is_alert()));
    m.insert("risk_score".into(), json!(score));
    m.insert("risk_level_id".into(), json!(level_id));
    m.insert("risk_level".into(), json!(level));
    m.insert("firewall_rule".into(), firewall_rule(e));
    m.insert("message".into(), json!(e.message()));
    m.insert("unmapped".into(), unmapped(e));
    m
}

/// HTTP Activity (4002) of the event.
pub fn http_activity(e: &SecurityEvent) -> Value {
    let activity = activity_id(&e.method);
    let mut m = common(e, 4002, 4, activity);
    m.insert("class_name".into(), json!("HTTP Activity"));
    m.insert("category_name".into(), json!("Network Activity"));
    m.insert("activity_name".into(), json!(activity_name(activity)));
    m.insert(
        "type_name".into(),
        json!(format!("HTTP Activity: {}", activity_name(activity))),
    );
    m.insert("metadata".into(), metadata(e, ""));
    m.insert("http_request".into(), http_request(e));
    if let Some(code) = e.status {
        m.insert("http_response".into(), json!({"code": code}));
        m.insert("status_code".into(), json!(code.to_string()));
    }
    if let Some(src) = src_endpoint(e) {
        m.insert("src_endpoint".into(), src);
    }
    Value::Object(m)
}

/// `finding_info.analytic`: the model is Learning (ML/DL), a restricted-resource probe a Rule,
/// behaviour and response inspection Behavioral.
fn analytic(e: &SecurityEvent) -> Value {
    let (type_id, kind) = match e.rule_type() {
        "model" => (4, "Learning (ML/DL)"),
        "probe" => (1, "Rule"),
        _ => (2, "Behavioral"),
    };
    let mut a = json!({"name": e.rule_name(), "type_id": type_id, "type": kind});
    if let Some(p) = &e.probe {
        a["uid"] = Value::String(format!("apiward.probe.{}:{}", p.category, p.rule));
    }
    a
}

/// Detection Finding (2004, activity 1 Create) of an alert: `finding_info.uid` is the incident
/// id of the reply (or the request id, or a time-based id when the request was not answered by
/// the filter), `evidences[0]` carries the request, the client and the URL.
pub fn detection_finding(e: &SecurityEvent) -> Value {
    let mut m = common(e, 2004, 2, 1);
    m.insert("class_name".into(), json!("Detection Finding"));
    m.insert("category_name".into(), json!("Findings"));
    m.insert("activity_name".into(), json!("Create"));
    m.insert("type_name".into(), json!("Detection Finding: Create"));
    m.insert("metadata".into(), metadata(e, ":finding"));
    m.insert("status_id".into(), json!(1));
    m.insert("status".into(), json!("New"));
    let uid = e
        .incident_id
        .clone()
        .or_else(|| e.request_id.clone())
        .unwrap_or_else(|| format!("apiward-{}", e.time_ms));
    let title = format!(
        "{} {} ({})",
        e.rule_type(),
        e.rule_name(),
        e.action.as_str()
    );
    m.insert(
        "finding_info".into(),
        json!({
            "uid": uid,
            "title": title,
            "desc": e.message(),
            "types": [e.rule_type(), e.rule_name()],
            "created_time": e.time_ms,
            "analytic": analytic(e),
        }),
    );
    let mut evidence = json!({"http_request": http_request(e), "url": url(e)});
    if let Some(src) = src_endpoint(e) {
        evidence["src_endpoint"] = src;
    }
    if let Some(code) = e.status {
        evidence["http_response"] = json!({"code": code});
    }
    m.insert("evidences".into(), json!([evidence]));
    Value::Object(m)
}
