//! Privacy transforms applied to every field before it becomes part of an event: client
//! addresses (full, truncated to /24 or /48, keyed hash, omitted), principals (keyed hash),
//! sensitive parameters (by name), and personal data and secrets in free text
//! ([`crate::dlp::redact`]). The key of the keyed hashes never appears in an event.

use std::net::IpAddr;

use sha2::{Digest, Sha256};

use crate::config::{ClientIpMode, PrincipalMode, PrivacyConfig};
use crate::dlp::{self, KindSet};
use crate::hash::to_hex;

/// What replaces the value of a sensitive field.
pub const REDACTED: &str = "[REDACTED]";

/// HMAC-SHA-256 (RFC 2104) of `message` under `key`.
pub fn hmac_sha256(key: &[u8], message: &[u8]) -> [u8; 32] {
    const BLOCK: usize = 64;
    let mut k = [0u8; BLOCK];
    if key.len() > BLOCK {
        k[..32].copy_from_slice(&Sha256::digest(key));
    } else {
        k[..key.len()].copy_from_slice(key);
    }
    let mut inner = Sha256::new();
    inner.update(k.map(|b| b ^ 0x36));
    inner.update(message);
    let inner = inner.finalize();
    let mut outer = Sha256::new();
    outer.update(k.map(|b| b ^ 0x5c));
    outer.update(inner);
    outer.finalize().into()
}

/// A keyed pseudonym: the first 128 bits of the HMAC, hex.
fn pseudonym(key: &[u8], domain: &str, value: &[u8]) -> String {
    let mut msg = Vec::with_capacity(domain.len() + 1 + value.len());
    msg.extend_from_slice(domain.as_bytes());
    msg.push(0);
    msg.extend_from_slice(value);
    to_hex(&hmac_sha256(key, &msg)[..16])
}

/// `(address, hash)` of a client address under the configured mode.
pub fn client_ip(ip: &str, p: &PrivacyConfig) -> (Option<String>, Option<String>) {
    let parsed: Option<IpAddr> = ip.trim().parse().ok();
    match p.client_ip {
        ClientIpMode::Omit => (None, None),
        ClientIpMode::Hash => {
            let canonical = parsed.map_or_else(|| ip.trim().to_string(), |a| a.to_string());
            (
                None,
                Some(pseudonym(&p.hash_key, "ip", canonical.as_bytes())),
            )
        }
        // Anything that is not an address (a broken X-Forwarded-For) is not written at all.
        ClientIpMode::Full => (parsed.map(|a| a.to_string()), None),
        ClientIpMode::Truncate => (parsed.map(|a| truncate(a).to_string()), None),
    }
}

/// `text` with every occurrence of the client address `ip` (as received, and in canonical form)
/// replaced by `with`: behaviour reasons name the client (`rate: … from client 203.0.113.9`), so
/// under `truncate`, `hash` or `omit` they must not carry the address either. An occurrence
/// must stand alone (not inside a longer address or number).
pub fn replace_address(text: &str, ip: &str, with: &str) -> String {
    let ip = ip.trim();
    let mut forms = vec![ip.to_string()];
    if let Ok(a) = ip.parse::<IpAddr>() {
        forms.push(a.to_string());
    }
    let part = |c: char| c.is_ascii_hexdigit() || c == '.' || c == ':';
    let mut out = text.to_string();
    for form in forms.iter().filter(|f| !f.is_empty()) {
        let mut result = String::with_capacity(out.len());
        let mut rest = out.as_str();
        while let Some(i) = rest.find(form.as_str()) {
            let before = rest[..i].chars().next_back();
            let after = rest[i + form.len()..].chars().next();
            let alone = !before.is_some_and(part) && !after.is_some_and(part);
            result.push_str(&rest[..i]);
            result.push_str(if alone { with } else { form });
            rest = &rest[i + form.len()..];
        }
        result.push_str(rest);
        out = result;
    }
    out
}

/// IPv4 to its /24, IPv6 to its /48 (an IPv4-mapped IPv6 address as IPv4).
pub fn truncate(addr: IpAddr) -> IpAddr {
    match addr {
        IpAddr::V4(v4) => {
            let [a, b, c, _] = v4.octets();
            IpAddr::from([a, b, c, 0])
        }
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => truncate(IpAddr::V4(v4)),
            None => {
                let s = v6.segments();
                IpAddr::from([s[0], s[1], s[2], 0, 0, 0, 0, 0])
            }
        },
    }
}

/// The principal's keyed pseudonym, unless principals are omitted.
pub fn principal(fp: u64, p: &PrivacyConfig) -> Option<String> {
    match p.principal {
        PrincipalMode::Omit => None,
        PrincipalMode::Hash => Some(pseudonym(&p.hash_key, "principal", &fp.to_le_bytes())),
    }
}

/// `s` cut to at most `max` bytes at a character boundary.
pub fn clip(s: &str, max: usize) -> String {
    if s.len() <= max {
        return s.to_string();
    }
    let mut end = max;
    while end > 0 && !s.is_char_boundary(end) {
        end -= 1;
    }
    s[..end].to_string()
}

/// Free text with personal data and secrets redacted, then bounded.
pub fn redact_text(s: &str, max: usize) -> String {
    clip(&dlp::redact(s, KindSet::ALL), max)
}

fn percent_decode(s: &str) -> String {
    let hex = |c: u8| (c as char).to_digit(16).and_then(|d| u8::try_from(d).ok());
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        if c == b'%' && i + 2 < b.len() {
            if let (Some(h), Some(l)) = (hex(b[i + 1]), hex(b[i + 2])) {
                out.push(h * 16 + l);
                i += 3;
                continue;
            }
        }
        out.push(if c == b'+' { b' ' } else { c });
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// A path with each segment checked for personal data and secrets (percent-decoded for the
/// check, so `%40` cannot hide an email).
pub fn redact_path(path: &str, max: usize) -> String {
    let out: Vec<String> = path
        .split('/')
        .map(|seg| {
            let decoded = percent_decode(seg);
            if dlp::scan(&decoded, KindSet::ALL).is_empty() {
                seg.to_string()
            } else {
                dlp::redact(&decoded, KindSet::ALL)
            }
        })
        .collect();
    clip(&out.join("/"), max)
}

/// A query string with the values of sensitive parameters replaced by `[REDACTED]` and
/// personal data and secrets redacted in the others (checked percent-decoded).
pub fn redact_query(query: &str, max: usize) -> String {
    let out: Vec<String> = query
        .split('&')
        .map(|pair| {
            let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
            let decoded_name = percent_decode(name);
            if dlp::is_sensitive_name(&decoded_name) {
                return format!("{name}={REDACTED}");
            }
            let decoded = percent_decode(value);
            let name_out = if dlp::scan(&decoded_name, KindSet::ALL).is_empty() {
                name.to_string()
            } else {
                dlp::redact(&decoded_name, KindSet::ALL)
            };
            if dlp::scan(&decoded, KindSet::ALL).is_empty() {
                if pair.contains('=') {
                    format!("{name_out}={value}")
                } else {
                    name_out
                }
            } else {
                format!("{name_out}={}", dlp::redact(&decoded, KindSet::ALL))
            }
        })
        .collect();
    clip(&out.join("&"), max)
}

/// Marks the early stop of [`JsonExcerpt`] (not a syntax error).
const EXCERPT_FULL: &str = "apiward: excerpt full";

/// Streams a JSON document into a compact redacted copy (sensitive keys' values replaced,
/// every string, keys included, redacted), in document order, and stops with
/// [`EXCERPT_FULL`] once the copy is longer than `max`: an excerpt keeps only its first `max`
/// bytes, so the rest of a large body is neither parsed into memory, scanned nor written.
struct JsonExcerpt<'a> {
    out: &'a mut String,
    max: usize,
}

impl JsonExcerpt<'_> {
    fn string(&mut self, s: &str) {
        let value = if dlp::scan(s, KindSet::ALL).is_empty() {
            serde_json::Value::String(s.to_string())
        } else {
            serde_json::Value::String(dlp::redact(s, KindSet::ALL))
        };
        self.out.push_str(&value.to_string());
    }

    fn check<E: serde::de::Error>(&self) -> Result<(), E> {
        if self.out.len() > self.max {
            Err(E::custom(EXCERPT_FULL))
        } else {
            Ok(())
        }
    }
}

impl<'de> serde::de::DeserializeSeed<'de> for JsonExcerpt<'_> {
    type Value = ();

    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> serde::de::Visitor<'de> for JsonExcerpt<'_> {
    type Value = ();

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("JSON")
    }

    fn visit_bool<E: serde::de::Error>(self, v: bool) -> Result<(), E> {
        self.out.push_str(if v { "true" } else { "false" });
        self.check()
    }

    fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<(), E> {
        self.out.push_str(&v.to_string());
        self.check()
    }

    fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<(), E> {
        self.out.push_str(&v.to_string());
        self.check()
    }

    fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<(), E> {
        self.out.push_str(&serde_json::Value::from(v).to_string());
        self.check()
    }

    fn visit_str<E: serde::de::Error>(mut self, v: &str) -> Result<(), E> {
        self.string(v);
        self.check()
    }

    fn visit_unit<E: serde::de::Error>(self) -> Result<(), E> {
        self.out.push_str("null");
        self.check()
    }

    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let max = self.max;
        self.out.push('[');
        let mut first = true;
        loop {
            let mark = self.out.len();
            if !first {
                self.out.push(',');
            }
            let seed = JsonExcerpt {
                out: &mut *self.out,
                max,
            };
            if seq.next_element_seed(seed)?.is_none() {
                self.out.truncate(mark);
                break;
            }
            first = false;
        }
        self.out.push(']');
        self.check()
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(mut self, mut map: A) -> Result<(), A::Error> {
        let max = self.max;
        self.out.push('{');
        let mut first = true;
        while let Some(key) = map.next_key::<std::borrow::Cow<'de, str>>()? {
            if !first {
                self.out.push(',');
            }
            first = false;
            self.string(&key);
            self.out.push(':');
            if dlp::is_sensitive_name(&key) {
                map.next_value::<serde::de::IgnoredAny>()?;
                self.out
                    .push_str(&serde_json::Value::String(REDACTED.to_string()).to_string());
            } else {
                map.next_value_seed(JsonExcerpt {
                    out: &mut *self.out,
                    max,
                })?;
            }
            self.check()?;
        }
        self.out.push('}');
        self.check()
    }
}

/// The redacted JSON excerpt of `body`, or `None` if `body` is not JSON (as far as read).
fn json_excerpt(body: &[u8], max: usize) -> Option<String> {
    use serde::de::DeserializeSeed;
    let mut out = String::new();
    let mut de = serde_json::Deserializer::from_slice(body);
    let seed = JsonExcerpt { out: &mut out, max };
    match seed.deserialize(&mut de) {
        Ok(()) => de.end().ok().map(|()| out),
        Err(e) if e.to_string().starts_with(EXCERPT_FULL) => Some(out),
        Err(_) => None,
    }
}

/// A redacted excerpt of a request body, at most `max` bytes: JSON with sensitive fields and
/// personal data removed, a form as a query, anything else as redacted text. Redaction happens
/// before the cut, so a secret is never cut in half and half sent; JSON is streamed and
/// redacted value by value only as far as the excerpt reaches (a 10 KB body costs about what
/// its first `max` bytes do), in document order.
pub fn excerpt(body: &[u8], max: usize) -> Option<String> {
    if max == 0 || body.is_empty() {
        return None;
    }
    let text = match json_excerpt(body, max) {
        Some(json) => json,
        None => {
            let s = String::from_utf8_lossy(body);
            let looks_form = !s.contains(char::is_whitespace) && s.contains('=');
            if looks_form {
                redact_query(&s, usize::MAX)
            } else {
                dlp::redact(&s, KindSet::ALL)
            }
        }
    };
    Some(clip(&text, max))
}

/// A location key (`query:password`, `header:user-agent`) is a parameter name: names that
/// themselves carry personal data are redacted.
pub fn redact_location(location: &str) -> String {
    redact_text(location, 256)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg(mode: ClientIpMode) -> PrivacyConfig {
        PrivacyConfig {
            client_ip: mode,
            principal: PrincipalMode::Hash,
            hash_key: b"0123456789abcdef-secret-key".to_vec(),
            excerpt_bytes: 256,
        }
    }

    #[test]
    fn hmac_matches_rfc_4231_test_case_2() {
        let mac = hmac_sha256(b"Jefe", b"what do ya want for nothing?");
        assert_eq!(
            to_hex(&mac),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }

    #[test]
    fn client_addresses_follow_the_mode() {
        let ip = "203.0.113.77";
        assert_eq!(
            client_ip(ip, &cfg(ClientIpMode::Full)).0.as_deref(),
            Some(ip)
        );
        assert_eq!(
            client_ip(ip, &cfg(ClientIpMode::Truncate)).0.as_deref(),
            Some("203.0.113.0")
        );
        assert_eq!(
            client_ip("2001:db8:abcd:12::1", &cfg(ClientIpMode::Truncate))
                .0
                .as_deref(),
            Some("2001:db8:abcd::")
        );
        let (addr, hash) = client_ip(ip, &cfg(ClientIpMode::Hash));
        assert_eq!(addr, None);
        let hash = hash.unwrap();
        assert_eq!(hash.len(), 32);
        // Same input, same pseudonym; another key, another one.
        assert_eq!(client_ip(ip, &cfg(ClientIpMode::Hash)).1.unwrap(), hash);
        let mut other = cfg(ClientIpMode::Hash);
        other.hash_key = b"another-key-of-16-bytes".to_vec();
        assert_ne!(client_ip(ip, &other).1.unwrap(), hash);
        assert_eq!(client_ip(ip, &cfg(ClientIpMode::Omit)), (None, None));
        assert_eq!(
            client_ip("not an ip", &cfg(ClientIpMode::Full)),
            (None, None)
        );
    }

    #[test]
    fn sensitive_query_parameters_and_personal_data_are_redacted() {
        assert_eq!(
            redact_query(
                "q=shoes&password=hunter2&api_key=abc&to=bob%40example.com",
                1024
            ),
            "q=shoes&password=[REDACTED]&api_key=[REDACTED]&to=[REDACTED:email]"
        );
        assert_eq!(
            redact_path("/users/bob%40example.com/cards/4111111111111111", 1024),
            "/users/[REDACTED:email]/cards/[REDACTED:card]"
        );
    }

    #[test]
    fn json_excerpts_lose_sensitive_fields_before_they_are_cut() {
        let body = br#"{"user":"bob","password":"hunter2","card":"4111 1111 1111 1111","nested":{"client_secret":"s3cr3t"}}"#;
        let e = excerpt(body, 4096).unwrap();
        assert_eq!(
            e,
            r#"{"user":"bob","password":"[REDACTED]","card":"[REDACTED:card]","nested":{"client_secret":"[REDACTED]"}}"#
        );
        assert!(excerpt(body, 10).unwrap().len() <= 10);
        // Keys are personal data too; the excerpt of a large body is its redacted prefix.
        let e = excerpt(br#"{"alice@example.org":{"nr":"123-45-6789"}}"#, 4096).unwrap();
        assert_eq!(e, r#"{"[REDACTED:email]":{"nr":"[REDACTED:ssn]"}}"#);
        let items: Vec<String> = (0..400)
            .map(|i| {
                format!(r#"{{"id":{i},"note":"mail u{i}@example.org","tags":[true,null,1.5]}}"#)
            })
            .collect();
        let big = format!(r#"{{"items":[{}],"token":"t"}}"#, items.join(","));
        let whole = json_excerpt(big.as_bytes(), usize::MAX).unwrap();
        for max in [1, 37, 256, 4096] {
            assert_eq!(excerpt(big.as_bytes(), max).unwrap(), clip(&whole, max));
        }
        // Compact, like serde_json writes it; not JSON (or JSON with trailing bytes) is text.
        assert_eq!(
            json_excerpt(br#" { "a" : [ 1 , -2 , 2.5e3 , "x" , [ ] , { } ] } "#, 4096).as_deref(),
            Some(r#"{"a":[1,-2,2500.0,"x",[],{}]}"#)
        );
        assert_eq!(json_excerpt(br#"{"a":1} trailing"#, 4096), None);
        assert_eq!(json_excerpt(br#"{"a":"#, 4096), None);
        let deep = "[".repeat(10_000);
        assert_eq!(
            json_excerpt(deep.as_bytes(), 4096),
            None,
            "recursion limit, no panic"
        );
        assert_eq!(excerpt(body, 0), None);
        assert_eq!(
            excerpt(b"user=bob&pass=hunter2", 100).unwrap(),
            "user=bob&pass=[REDACTED]"
        );
    }
}
