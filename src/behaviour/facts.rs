//! What the behaviour layer needs to know about a request: who (client, principal), where
//! (route template, object) and in which shape (parameter names and value types).

use std::net::IpAddr;

use serde_json::Value;

use super::allowlist::parse_ip;
use super::principal::{self, Principal};
use super::route::{is_identifier, RouteTemplate};
use crate::config::IdentityConfig;
use crate::decode;
use crate::request::RequestView;
use crate::state::fingerprint;

/// Parameter shapes taken from one request; the rest are ignored (bounded work and state).
pub const MAX_PARAMS: usize = 32;
/// JSON bodies larger than this are not read for their shape (the model still scores them).
pub const MAX_SHAPE_BODY_BYTES: usize = 16 * 1024;
/// Nesting read in JSON bodies.
const MAX_SHAPE_DEPTH: usize = 4;

/// The client address of a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Client {
    /// The address as resolved (`identify`).
    pub ip: String,
    /// Parsed, for allowlist ranges.
    pub addr: Option<IpAddr>,
    /// Fingerprint (`ip:<address>`).
    pub fp: u64,
}

impl Client {
    /// The client for an address string.
    pub fn new(ip: &str) -> Client {
        let addr = parse_ip(ip);
        // The canonical form, so `::1` and `0:0::1` are one client.
        let canonical = addr.map_or_else(|| ip.trim().to_string(), |a| a.to_string());
        Client {
            fp: fingerprint(format!("ip:{canonical}").as_bytes()),
            ip: canonical,
            addr,
        }
    }
}

/// The type of a parameter value, as learned per route.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ValueType {
    /// Empty string.
    Empty,
    /// Integer or decimal number.
    Number,
    /// `true` / `false`.
    Bool,
    /// A UUID.
    Uuid,
    /// Any other string.
    Text,
    /// JSON null.
    Null,
    /// JSON object (its members are shapes of their own).
    Object,
    /// JSON array.
    Array,
}

impl ValueType {
    /// Lower-case name used in reasons.
    pub fn as_str(self) -> &'static str {
        match self {
            ValueType::Empty => "empty",
            ValueType::Number => "number",
            ValueType::Bool => "bool",
            ValueType::Uuid => "uuid",
            ValueType::Text => "string",
            ValueType::Null => "null",
            ValueType::Object => "object",
            ValueType::Array => "array",
        }
    }

    /// The type of a text value (query, form, JSON string).
    pub fn of_text(v: &str) -> ValueType {
        let t = v.trim();
        if t.is_empty() {
            ValueType::Empty
        } else if t == "true" || t == "false" {
            ValueType::Bool
        } else if is_number(t) {
            ValueType::Number
        } else if t.len() == 36 && is_identifier(t) && t.matches('-').count() == 4 {
            ValueType::Uuid
        } else {
            ValueType::Text
        }
    }
}

fn is_number(t: &str) -> bool {
    let digits = t.strip_prefix('-').unwrap_or(t);
    !digits.is_empty()
        && digits.len() <= 32
        && digits.bytes().all(|b| b.is_ascii_digit() || b == b'.')
        && digits.bytes().filter(|&b| b == b'.').count() <= 1
        && digits.bytes().any(|b| b.is_ascii_digit())
}

/// One parameter's name and value type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParamShape {
    /// Fingerprint of location, name and type.
    pub fp: u64,
    /// `query:debug (bool)`, for reasons.
    pub label: String,
}

impl ParamShape {
    fn new(location: &str, name: &str, ty: ValueType) -> ParamShape {
        let name = normalize_name(name);
        let label = format!("{location}:{name} ({})", ty.as_str());
        ParamShape {
            fp: fingerprint(format!("param:{label}").as_bytes()),
            label,
        }
    }
}

/// Parameter names as templates: array indexes (`a[0]`) become `a[]`, and keys that are ids
/// (maps keyed by id) become `{id}`, so that data does not look like new structure.
fn normalize_name(name: &str) -> String {
    let mut out = String::with_capacity(name.len().min(64));
    let mut chars = name.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '[' {
            let mut inner = String::new();
            for d in chars.by_ref() {
                if d == ']' {
                    break;
                }
                inner.push(d);
            }
            out.push('[');
            if !inner.bytes().all(|b| b.is_ascii_digit()) {
                out.push_str(if is_identifier(&inner) {
                    "{id}"
                } else {
                    &inner
                });
            }
            out.push(']');
        } else {
            out.push(c);
        }
    }
    let out = if is_identifier(&out) {
        "{id}".to_string()
    } else {
        out
    };
    let cut = decode::floor_char_boundary(&out, 64);
    out[..cut].to_string()
}

/// Everything the behaviour layer uses about a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestFacts {
    /// HTTP method.
    pub method: String,
    /// The client address, if known.
    pub client: Option<Client>,
    /// The principal, if a configured source is present.
    pub principal: Option<Principal>,
    /// Route template and object.
    pub route: RouteTemplate,
    /// Fingerprint of method + template.
    pub route_fp: u64,
    /// The normalised path (allowlist prefixes).
    pub path: String,
    /// Parameter shapes of query, form and JSON body (at most [`MAX_PARAMS`]).
    pub params: Vec<ParamShape>,
}

impl RequestFacts {
    /// The facts of `view`: the client from `view.client.ip`, the principal from the
    /// configured sources (with its SHA-256 when `digest_principal`, for the allowlist).
    pub fn from_view(
        view: &RequestView,
        identity: &IdentityConfig,
        digest_principal: bool,
    ) -> RequestFacts {
        let route = RouteTemplate::from_path(&view.path);
        RequestFacts {
            method: view.method.clone(),
            client: view.client.ip.as_deref().map(Client::new),
            principal: principal::resolve(view, &identity.principal_sources, digest_principal),
            route_fp: route.fingerprint(&view.method),
            route,
            path: decode::normalize(&view.path).text,
            params: param_shapes(view),
        }
    }

    /// The fingerprint of (principal, route) for BOLA, if the request has a principal.
    pub fn principal_route_fp(&self) -> Option<u64> {
        let p = self.principal.as_ref()?;
        let mut key = [0u8; 16];
        key[..8].copy_from_slice(&p.fp.to_le_bytes());
        key[8..].copy_from_slice(&self.route_fp.to_le_bytes());
        Some(fingerprint(&key))
    }
}

/// Shapes of the query parameters and of the form or JSON body.
pub fn param_shapes(view: &RequestView) -> Vec<ParamShape> {
    let mut out: Vec<ParamShape> = Vec::new();
    let mut push = |s: ParamShape| {
        if out.len() < MAX_PARAMS && !out.iter().any(|o| o.fp == s.fp) {
            out.push(s);
        }
    };
    for (k, v) in decode::parse_urlencoded(&view.query) {
        push(ParamShape::new("query", &k, ValueType::of_text(&v)));
    }
    if view.body.is_empty() || view.body.len() > MAX_SHAPE_BODY_BYTES {
        return out;
    }
    let ctype = view.content_type();
    if ctype == "application/x-www-form-urlencoded" {
        for (k, v) in decode::parse_urlencoded(&String::from_utf8_lossy(&view.body)) {
            push(ParamShape::new("form", &k, ValueType::of_text(&v)));
        }
    } else if ctype.contains("json") {
        if let Ok(doc) = serde_json::from_slice::<Value>(&view.body) {
            json_shapes(&doc, "$", 0, &mut push);
        }
    }
    out
}

fn json_shapes(v: &Value, path: &str, depth: usize, push: &mut impl FnMut(ParamShape)) {
    let ty = match v {
        Value::Null => ValueType::Null,
        Value::Bool(_) => ValueType::Bool,
        Value::Number(_) => ValueType::Number,
        Value::String(s) => ValueType::of_text(s),
        Value::Array(_) => ValueType::Array,
        Value::Object(_) => ValueType::Object,
    };
    if path != "$" {
        push(ParamShape::new("json", path, ty));
    }
    if depth >= MAX_SHAPE_DEPTH {
        return;
    }
    match v {
        Value::Object(map) => {
            for (k, child) in map.iter().take(MAX_PARAMS) {
                let key = if is_identifier(k) { "{id}" } else { k.as_str() };
                json_shapes(child, &format!("{path}.{key}"), depth + 1, push);
            }
        }
        // One element stands for all: arrays are lists of one shape.
        Value::Array(items) => {
            if let Some(first) = items.first() {
                json_shapes(first, &format!("{path}[]"), depth + 1, push);
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels(view: &RequestView) -> Vec<String> {
        param_shapes(view).into_iter().map(|p| p.label).collect()
    }

    #[test]
    fn query_form_and_json_shapes_carry_name_and_type() {
        let v = RequestView::new(
            "GET",
            b"/s?q=shoes&page=2&debug=true&id=3f2504e0-4f89-11d3-9a0c-0305e82c3301&x=",
        );
        assert_eq!(
            labels(&v),
            [
                "query:q (string)",
                "query:page (number)",
                "query:debug (bool)",
                "query:id (uuid)",
                "query:x (empty)"
            ]
        );
        let mut v = RequestView::new("POST", b"/o");
        v.headers
            .push(("content-type".into(), b"application/json".to_vec()));
        v.body = br#"{"items":[{"sku":"a","qty":2},{"sku":"b"}],"user":{"id":7},"note":null,"42":{"x":1}}"#.to_vec();
        assert_eq!(
            labels(&v),
            // serde_json orders object members by key.
            [
                "json:$.{id} (object)",
                "json:$.{id}.x (number)",
                "json:$.items (array)",
                "json:$.items[] (object)",
                "json:$.items[].qty (number)",
                "json:$.items[].sku (string)",
                "json:$.note (null)",
                "json:$.user (object)",
                "json:$.user.id (number)",
            ]
        );
        let mut v = RequestView::new("POST", b"/f?a[0]=1&a[1]=2");
        v.headers.push((
            "content-type".into(),
            b"application/x-www-form-urlencoded".to_vec(),
        ));
        v.body = b"user=bob&age=4.5".to_vec();
        assert_eq!(
            labels(&v),
            [
                "query:a[] (number)",
                "form:user (string)",
                "form:age (number)"
            ]
        );
    }

    #[test]
    fn shapes_are_bounded_and_garbage_is_harmless() {
        let q: Vec<String> = (0..100).map(|i| format!("p{i}=1")).collect();
        let v = RequestView::new("GET", format!("/x?{}", q.join("&")).as_bytes());
        assert_eq!(param_shapes(&v).len(), MAX_PARAMS);
        let mut v = RequestView::new("POST", b"/x");
        v.headers
            .push(("content-type".into(), b"application/json".to_vec()));
        v.body = b"{\"a\": [[[[[[[[1]]]]]]]], \"b\": \xff}".to_vec();
        assert!(param_shapes(&v).is_empty());
        v.body = format!("{{\"{}\":1}}", "k".repeat(500)).into_bytes();
        let shapes = param_shapes(&v);
        assert_eq!(shapes[0].label, "json:$.{id} (number)");
    }

    #[test]
    fn facts_resolve_client_principal_route_and_object() {
        let mut v = RequestView::new("get", b"/api/users/42?fields=name");
        v.client.ip = Some("2001:db8:0::1".into());
        v.headers
            .push(("authorization".into(), b"Bearer t0k3n".to_vec()));
        let f = RequestFacts::from_view(&v, &crate::config::Config::default().identity, false);
        let c = f.client.as_ref().unwrap();
        assert_eq!(c.ip, "2001:db8::1");
        assert_eq!(c.fp, Client::new("2001:db8::1").fp);
        assert_eq!(f.route.template, "/api/users/{id}");
        assert!(f.route.object.is_some());
        assert_eq!(f.method, "GET");
        assert!(f.principal.is_some() && f.principal_route_fp().is_some());
        assert_eq!(f.params.len(), 1);
    }
}
