//! Values that cannot carry an injection, proven without the model.
//!
//! A short value made of letters, digits, spaces and a few separators, with no `..`, no `//`
//! and none of the keyword needles (SQL, HTML, shell, traversal, template, ... families), breaks
//! out of no context the classes cover: every payload shape in them needs a quote, a bracket, an
//! operator, a slash pair, a control character, an encoding or a keyword. The filter skips the
//! model for such values (`skip_inert_values`, on by default). Running `apiward eval` with the
//! option off and on shows that no attack request changes verdict (README, model card).

use super::keywords;
use crate::request::{InspectedValue, LocationKind};

/// Longest value that can be inert, in bytes (a path: twice that).
pub const MAX_INERT_BYTES: usize = 64;

/// Words that make a plain value a SQL expression in a numeric context (`1 or 1`, `2 div 0`).
const SQL_WORDS: &[&str] = &[
    "or", "and", "xor", "not", "like", "rlike", "regexp", "div", "between", "sounds", "is", "null",
];

/// True when `value` can be left unscored: see the module documentation.
pub fn is_inert(value: &InspectedValue) -> bool {
    let raw = value.raw.as_bytes();
    let path = value.location.kind == LocationKind::Path;
    let max = if path {
        2 * MAX_INERT_BYTES
    } else {
        MAX_INERT_BYTES
    };
    if raw.len() > max {
        return false;
    }
    let plain = |b: u8| {
        b.is_ascii_alphanumeric()
            || matches!(b, b' ' | b'-' | b'_' | b'.' | b',' | b':' | b'@' | b'+')
            || (path && b == b'/')
    };
    if !raw.iter().copied().all(plain) {
        return false;
    }
    // `..` climbs, `//` starts an authority, `:/` is a URL (`http:/host` is `http://host` to
    // WHATWG parsers).
    if raw
        .windows(2)
        .any(|w| w == b".." || w == b"//" || w == b":/")
    {
        return false;
    }
    // Every byte is plain ASCII by now: lower-case it on the stack (this runs for every value).
    let mut buf = [0u8; 2 * MAX_INERT_BYTES];
    let lower = &mut buf[..raw.len()];
    lower.copy_from_slice(raw);
    lower.make_ascii_lowercase();
    let Ok(lower) = std::str::from_utf8(lower) else {
        return false;
    };
    if lower
        .split(|c: char| !c.is_ascii_alphanumeric())
        .any(|word| SQL_WORDS.contains(&word))
    {
        return false;
    }
    keywords::family_hits(lower).iter().all(|&n| n == 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn value(kind: LocationKind, raw: &str) -> InspectedValue {
        InspectedValue::new(kind, "v", raw)
    }

    #[test]
    fn ordinary_api_values_are_inert() {
        for raw in [
            "2024-05-14T09:21:37Z",
            "alan.torvalds@example.com",
            "Cast iron pan, sand",
            "31 Station Road",
            "PO-2024-367459",
            "142.6",
            "blue garden hose",
            "en-GB,en",
            "",
        ] {
            assert!(is_inert(&value(LocationKind::Json, raw)), "{raw:?}");
        }
        assert!(is_inert(&value(
            LocationKind::Path,
            "/api/v1/customers/48213/orders"
        )));
    }

    #[test]
    fn anything_that_can_break_out_is_scored() {
        for raw in [
            "1 or 1",
            "1 OR 1",
            "1 and 0",
            "2 div 0",
            "1 union all select 1,2",
            "x' or '1'='1",
            "1;id",
            "a|b",
            "$(id)",
            "${jndi:ldap:x}",
            "{{7*7}}",
            "<b>",
            "javascript:alert(1)",
            "http://127.0.0.1/",
            "..",
            "....",
            "a%0d%0ab",
            "line\nbreak",
            "tab\there",
            "{\"$gt\":\"\"}",
            "admin)(|(a=*",
            "caf\u{e9}",
            "sleep 10",
            "cat notes.txt",
            "x=1",
            &"a".repeat(MAX_INERT_BYTES + 1),
        ] {
            assert!(!is_inert(&value(LocationKind::Query, raw)), "{raw:?}");
        }
        for path in [
            "/api/../etc/passwd",
            "/fetch//10.0.0.1",
            "/a%2e%2e/b",
            "/proxy/http:/x",
            "/files/etc/passwd",
        ] {
            assert!(!is_inert(&value(LocationKind::Path, path)), "{path:?}");
        }
        // A slash is only plain in the path.
        assert!(!is_inert(&value(LocationKind::Query, "a/b")));
    }
}
