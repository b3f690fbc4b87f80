//! Route templates: `/api/users/123/orders/9f86d081884c7d65` → `/api/users/{id}/orders/{id}`, so
//! that baselines are learned per endpoint rather than per object, and the templated-out ids
//! identify the object a request touches (BOLA).

use crate::decode;
use crate::state::fingerprint;

/// Placeholder of an identifier segment.
pub const ID: &str = "{id}";
/// Placeholder of the segments beyond [`MAX_SEGMENTS`].
pub const REST: &str = "{rest}";
/// Segments kept in a template; deeper paths end in `/{rest}`.
pub const MAX_SEGMENTS: usize = 16;
/// Longest template, in bytes.
pub const MAX_TEMPLATE_BYTES: usize = 256;
/// A segment longer than this is data, whatever its characters.
pub const MAX_NAME_SEGMENT: usize = 64;

/// The endpoint a request addresses, with its object ids templated out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RouteTemplate {
    /// The template, e.g. `/api/users/{id}`.
    pub template: String,
    /// Fingerprint of the templated-out segments (the object touched), if any.
    pub object: Option<u64>,
}

impl RouteTemplate {
    /// Templates a raw (percent-encoded) path without its query. Dot segments are resolved
    /// and empty segments dropped, so `/a//b/./c/../d` and `/a/b/d` are one route.
    pub fn from_path(raw_path: &str) -> RouteTemplate {
        let mut kept: Vec<String> = Vec::new();
        let mut ids: Vec<String> = Vec::new();
        let mut rest = false;
        let raw_path = raw_path.split(['?', '#']).next().unwrap_or("");
        for raw in raw_path.split('/') {
            let seg = decode::percent_decode(raw, false);
            match seg.as_str() {
                "" | "." => continue,
                ".." => {
                    if kept.pop().as_deref() == Some(ID) {
                        ids.pop();
                    }
                    continue;
                }
                _ => {}
            }
            if kept.len() == MAX_SEGMENTS {
                rest = true;
                continue;
            }
            if is_identifier(&seg) {
                kept.push(ID.to_string());
                ids.push(seg);
            } else {
                kept.push(sanitize(&seg));
            }
        }
        let mut template = String::with_capacity(64);
        for seg in &kept {
            template.push('/');
            template.push_str(seg);
        }
        if rest {
            template.push('/');
            template.push_str(REST);
        }
        if template.is_empty() {
            template.push('/');
        }
        template.truncate(decode::floor_char_boundary(&template, MAX_TEMPLATE_BYTES));
        let object = (!ids.is_empty()).then(|| fingerprint(ids.join("\u{1f}").as_bytes()));
        RouteTemplate { template, object }
    }

    /// The fingerprint of this route for `method` (baselines are per method and template).
    pub fn fingerprint(&self, method: &str) -> u64 {
        let mut key = Vec::with_capacity(self.template.len() + method.len() + 7);
        key.extend_from_slice(b"route:");
        key.extend_from_slice(method.as_bytes());
        key.push(b' ');
        key.extend_from_slice(self.template.as_bytes());
        fingerprint(&key)
    }
}

/// Keeps a name segment printable and unambiguous: control characters, braces and `/` (from a
/// decoded `%2F`) become `_`.
fn sanitize(seg: &str) -> String {
    seg.chars()
        .map(|c| {
            if c.is_control() || matches!(c, '{' | '}' | '/' | '\\') {
                '_'
            } else {
                c
            }
        })
        .collect()
}

/// Whether a (decoded) path segment or parameter key is an identifier rather than a name:
/// numeric, a UUID, hex of 8 or more characters with a digit, a long opaque token (16 or more
/// base64url characters mixing letters and digits), or anything longer than
/// [`MAX_NAME_SEGMENT`].
pub fn is_identifier(seg: &str) -> bool {
    let b = seg.as_bytes();
    if b.is_empty() {
        return false;
    }
    if b.len() > MAX_NAME_SEGMENT || b.iter().all(u8::is_ascii_digit) || is_uuid(b) {
        return true;
    }
    let has_digit = b.iter().any(u8::is_ascii_digit);
    if b.len() >= 8 && has_digit && b.iter().all(u8::is_ascii_hexdigit) {
        return true;
    }
    let base64url = b
        .iter()
        .all(|&c| c.is_ascii_alphanumeric() || c == b'-' || c == b'_');
    b.len() >= 16 && base64url && has_digit && b.iter().any(u8::is_ascii_alphabetic)
}

fn is_uuid(b: &[u8]) -> bool {
    b.len() == 36
        && b.iter().enumerate().all(|(i, c)| match i {
            8 | 13 | 18 | 23 => *c == b'-',
            _ => c.is_ascii_hexdigit(),
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(path: &str) -> String {
        RouteTemplate::from_path(path).template
    }

    #[test]
    fn numeric_uuid_hex_and_opaque_segments_become_ids() {
        assert_eq!(
            t("/api/users/123/orders/9f86d081884c7d65"),
            "/api/users/{id}/orders/{id}"
        );
        assert_eq!(
            t("/v1/items/3f2504e0-4f89-11d3-9a0c-0305e82c3301"),
            "/v1/items/{id}"
        );
        assert_eq!(
            t("/files/dGhpc19pc19hX3Rva2VuXzEyMw"),
            "/files/{id}",
            "base64url token"
        );
        assert_eq!(t("/customers/cus_9s6XKzkNRiz8i3"), "/customers/{id}");
        assert_eq!(t("/v2/users/me"), "/v2/users/me");
        assert_eq!(t("/api/deadbeef"), "/api/deadbeef", "hex without a digit");
        assert_eq!(t("/api/status-page-overview"), "/api/status-page-overview");
        assert_eq!(t(&format!("/blob/{}", "x".repeat(80))), "/blob/{id}");
    }

    #[test]
    fn the_object_is_the_templated_out_ids() {
        let a = RouteTemplate::from_path("/api/users/1");
        let b = RouteTemplate::from_path("/api/users/2");
        assert_eq!(a.template, b.template);
        assert_ne!(a.object, b.object);
        assert_eq!(a.object, RouteTemplate::from_path("/api//users/1/").object);
        assert_eq!(RouteTemplate::from_path("/api/users").object, None);
        assert_ne!(
            RouteTemplate::from_path("/a/1/b/23").object,
            RouteTemplate::from_path("/a/12/b/3").object
        );
        assert_ne!(a.fingerprint("GET"), a.fingerprint("DELETE"));
    }

    #[test]
    fn percent_encoding_and_dot_segments_are_resolved_safely() {
        assert_eq!(t("/api/%75sers/%31%32"), "/api/users/{id}");
        assert_eq!(t("/api/users/../admin/./x"), "/api/admin/x");
        assert_eq!(t("/../../etc/passwd"), "/etc/passwd");
        assert_eq!(t("/a/b%2Fc"), "/a/b_c");
        assert_eq!(t("/a/%7Bid%7D"), "/a/_id_");
        assert_eq!(t("/a/%ff%fe"), "/a/\u{fffd}\u{fffd}");
        assert_eq!(t(""), "/");
        assert_eq!(t("/"), "/");
        assert_eq!(t("/x?y=1"), "/x");
    }

    #[test]
    fn templates_are_bounded() {
        let deep = "/a".repeat(100);
        assert_eq!(t(&deep), format!("{}/{{rest}}", "/a".repeat(16)));
        let wide = format!(
            "/{}",
            ["abcdefghijklmnopqrstuvwxyzabcdefghij"; 20].join("/")
        );
        let tpl = t(&wide);
        assert!(tpl.len() <= MAX_TEMPLATE_BYTES, "{}", tpl.len());
        let multibyte = format!("/{}", "é".repeat(30)).repeat(10);
        assert!(t(&multibyte).len() <= MAX_TEMPLATE_BYTES);
    }
}
