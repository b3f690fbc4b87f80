//! Normalisation before features: undo the encodings attackers stack to slip past filters, and
//! flatten structured bodies into (location, value) pairs.

use serde_json::Value;

/// How many decoding passes are tried at most; three covers double and triple encoding.
pub const MAX_DECODE_PASSES: u8 = 3;

/// A value after normalisation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Normalized {
    /// The decoded text.
    pub text: String,
    /// Decoding passes that changed something (0 = the value was plain).
    pub passes: u8,
    /// A NUL byte appeared after decoding.
    pub had_nul: bool,
}

/// Decodes percent-encoding (`%41`, `%u0041`), HTML entities, `\uXXXX`/`\xHH` escapes and
/// full-width ASCII, repeatedly until nothing changes or [`MAX_DECODE_PASSES`] is reached.
pub fn normalize(raw: &str) -> Normalized {
    let mut text = fold_fullwidth(raw);
    let mut passes = 0;
    while passes < MAX_DECODE_PASSES {
        let next = decode_escapes(&decode_html_entities(&percent_decode(&text, false)));
        if next == text {
            break;
        }
        text = next;
        passes += 1;
    }
    let had_nul = text.contains('\0');
    Normalized {
        text,
        passes,
        had_nul,
    }
}

fn hex_val(b: u8) -> Option<u32> {
    match b {
        b'0'..=b'9' => Some(u32::from(b - b'0')),
        b'a'..=b'f' => Some(u32::from(b - b'a' + 10)),
        b'A'..=b'F' => Some(u32::from(b - b'A' + 10)),
        _ => None,
    }
}

fn hex_at(bytes: &[u8], start: usize, len: usize) -> Option<u32> {
    let digits = bytes.get(start..start + len)?;
    digits
        .iter()
        .try_fold(0u32, |acc, &b| Some(acc * 16 + hex_val(b)?))
}

/// Percent-decodes `%HH` and IIS-style `%uHHHH`; with `plus_as_space`, `+` becomes a space
/// (query strings and form bodies). Invalid UTF-8 after decoding is replaced, never fatal.
pub fn percent_decode(input: &str, plus_as_space: bool) -> String {
    let bytes = input.as_bytes();
    if !(bytes.contains(&b'%') || plus_as_space && bytes.contains(&b'+')) {
        return input.to_string();
    }
    let mut out: Vec<u8> = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        if b == b'%' {
            if let Some(v) = hex_at(bytes, i + 1, 2) {
                out.push(v as u8);
                i += 3;
                continue;
            }
            if matches!(bytes.get(i + 1), Some(b'u' | b'U')) {
                if let Some(c) = hex_at(bytes, i + 2, 4).and_then(char::from_u32) {
                    let mut buf = [0u8; 4];
                    out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
                    i += 6;
                    continue;
                }
            }
        } else if b == b'+' && plus_as_space {
            out.push(b' ');
            i += 1;
            continue;
        }
        out.push(b);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Decodes numeric (`&#60;`, `&#x3c;`, with or without `;`) and the common named HTML entities.
pub fn decode_html_entities(input: &str) -> String {
    if !input.contains('&') {
        return input.to_string();
    }
    const NAMED: &[(&str, char)] = &[
        ("lt", '<'),
        ("gt", '>'),
        ("amp", '&'),
        ("quot", '"'),
        ("apos", '\''),
        ("sol", '/'),
        ("bsol", '\\'),
        ("lpar", '('),
        ("rpar", ')'),
        ("colon", ':'),
        ("semi", ';'),
        ("equals", '='),
        ("grave", '`'),
        ("newline", '\n'),
        ("tab", '\t'),
        ("nbsp", ' '),
        ("num", '#'),
        ("dollar", '$'),
        ("percnt", '%'),
        ("lbrace", '{'),
        ("rbrace", '}'),
    ];
    let mut out = String::with_capacity(input.len());
    let mut rest = input;
    while let Some(pos) = rest.find('&') {
        out.push_str(&rest[..pos]);
        let tail = &rest[pos + 1..];
        let mut consumed = None;
        if let Some(num) = tail.strip_prefix('#') {
            let (radix, digits) = match num.strip_prefix(['x', 'X']) {
                Some(hex) => (16, hex),
                None => (10, num),
            };
            let len = digits
                .bytes()
                .take(8)
                .take_while(|b| {
                    if radix == 16 {
                        b.is_ascii_hexdigit()
                    } else {
                        b.is_ascii_digit()
                    }
                })
                .count();
            if len > 0 {
                if let Some(c) = u32::from_str_radix(&digits[..len], radix)
                    .ok()
                    .and_then(char::from_u32)
                {
                    let prefix = 1 + (num.len() - digits.len()) + len;
                    let semi = usize::from(tail[prefix..].starts_with(';'));
                    out.push(c);
                    consumed = Some(prefix + semi);
                }
            }
        } else {
            for (name, c) in NAMED {
                if tail.len() > name.len()
                    && tail.is_char_boundary(name.len())
                    && tail[..name.len()].eq_ignore_ascii_case(name)
                    && tail[name.len()..].starts_with(';')
                {
                    out.push(*c);
                    consumed = Some(name.len() + 1);
                    break;
                }
            }
        }
        match consumed {
            Some(n) => rest = &tail[n..],
            None => {
                out.push('&');
                rest = tail;
            }
        }
    }
    out.push_str(rest);
    out
}

/// Decodes JavaScript/JSON-style `\uXXXX`, `\u{X..}` and `\xHH` escapes.
pub fn decode_escapes(input: &str) -> String {
    if !input.contains('\\') {
        return input.to_string();
    }
    let bytes = input.as_bytes();
    let mut out = String::with_capacity(input.len());
    let mut i = 0;
    let mut last = 0;
    while i < bytes.len() {
        if bytes[i] == b'\\' {
            let decoded = match bytes.get(i + 1) {
                Some(b'u') if bytes.get(i + 2) == Some(&b'{') => {
                    let end = bytes[i + 3..]
                        .iter()
                        .take(7)
                        .position(|&b| b == b'}')
                        .map(|p| i + 3 + p);
                    end.and_then(|e| {
                        let v = hex_at(bytes, i + 3, e - (i + 3))?;
                        Some((char::from_u32(v)?, e + 1))
                    })
                }
                Some(b'u') => hex_at(bytes, i + 2, 4)
                    .and_then(char::from_u32)
                    .map(|c| (c, i + 6)),
                Some(b'x') => hex_at(bytes, i + 2, 2)
                    .and_then(char::from_u32)
                    .map(|c| (c, i + 4)),
                _ => None,
            };
            if let Some((c, next)) = decoded {
                out.push_str(&input[last..i]);
                out.push(c);
                i = next;
                last = next;
                continue;
            }
        }
        i += 1;
    }
    out.push_str(&input[last..]);
    out
}

/// Maps full-width ASCII forms (U+FF01..U+FF5E) to ASCII, a classic filter bypass.
pub fn fold_fullwidth(input: &str) -> String {
    if input.is_ascii() {
        return input.to_string();
    }
    input
        .chars()
        .map(|c| match c as u32 {
            0xFF01..=0xFF5E => char::from_u32(c as u32 - 0xFF01 + 0x21).unwrap_or(c),
            0x3000 => ' ',
            _ => c,
        })
        .collect()
}

/// String values of a JSON text that may be cut off or broken, with the nearest key before each
/// (`""` when none): a tolerant scan for string literals, up to `max` values. A literal followed
/// by `:` is a key; an unterminated last literal is taken as far as it goes.
pub fn json_strings_lenient(text: &str, max: usize) -> Vec<(String, String)> {
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    let mut key = String::new();
    let mut i = 0;
    while i < bytes.len() && out.len() < max {
        if bytes[i] != b'"' {
            i += 1;
            continue;
        }
        let start = i;
        i += 1;
        while i < bytes.len() && bytes[i] != b'"' {
            i += if bytes[i] == b'\\' { 2 } else { 1 };
        }
        let end = i.min(bytes.len());
        i = end + 1;
        let literal = &text[start..end];
        let value = serde_json::from_str::<String>(&format!("{literal}\""))
            .unwrap_or_else(|_| literal[1..].to_string());
        let next = bytes[i.min(bytes.len())..]
            .iter()
            .find(|b| !b.is_ascii_whitespace());
        if next == Some(&b':') {
            key = value;
        } else {
            out.push((std::mem::take(&mut key), value));
        }
    }
    out
}

/// Splits `a=1&b=2` (query string or form body) into decoded pairs; `+` is a space.
pub fn parse_urlencoded(input: &str) -> Vec<(String, String)> {
    input
        .split('&')
        .filter(|part| !part.is_empty())
        .map(|part| {
            let (k, v) = part.split_once('=').unwrap_or((part, ""));
            (percent_decode(k, true), percent_decode(v, true))
        })
        .collect()
}

/// Flattens a JSON document to (JSONPath, scalar as text) leaves, depth-first, object keys in
/// sorted order. Two kinds of extra entries carry what lives in keys: an object with an operator key
/// (`{"$ne": null}`, NoSQL injection) is emitted whole, as compact JSON, under its own path; any
/// other unusual key is emitted under `path[<key>]#key`.
pub fn flatten_json(value: &Value, max_leaves: usize) -> Vec<(String, String)> {
    let mut out = Vec::new();
    flatten_into(value, "$".to_string(), 0, max_leaves, &mut out);
    out
}

const MAX_JSON_DEPTH: usize = 64;

/// Longest operator object kept as one value.
const OPERATOR_OBJECT_CHARS: usize = 1024;

/// The largest char boundary of `s` at or below `max`.
pub fn floor_char_boundary(s: &str, max: usize) -> usize {
    if max >= s.len() {
        return s.len();
    }
    let mut cut = max;
    while !s.is_char_boundary(cut) {
        cut -= 1;
    }
    cut
}

fn flatten_into(
    value: &Value,
    path: String,
    depth: usize,
    max_leaves: usize,
    out: &mut Vec<(String, String)>,
) {
    if out.len() >= max_leaves {
        return;
    }
    if depth >= MAX_JSON_DEPTH {
        out.push((path, value.to_string()));
        return;
    }
    match value {
        Value::Object(map) => {
            if map.keys().any(|k| k.starts_with('$')) {
                let mut text = value.to_string();
                text.truncate(floor_char_boundary(&text, OPERATOR_OBJECT_CHARS));
                out.push((path.clone(), text));
            }
            for (k, v) in map {
                let child = if is_plain_key(k) {
                    format!("{path}.{k}")
                } else {
                    format!("{path}[{}]", serde_json::Value::from(k.as_str()))
                };
                if !k.starts_with('$') && !is_plain_key(k) {
                    out.push((format!("{child}#key"), k.clone()));
                }
                flatten_into(v, child, depth + 1, max_leaves, out);
            }
        }
        Value::Array(items) => {
            for (i, v) in items.iter().enumerate() {
                flatten_into(v, format!("{path}[{i}]"), depth + 1, max_leaves, out);
            }
        }
        Value::String(s) => out.push((path, s.clone())),
        Value::Number(n) => out.push((path, n.to_string())),
        Value::Bool(_) | Value::Null => {}
    }
}

fn is_plain_key(k: &str) -> bool {
    !k.is_empty()
        && k.len() <= 64
        && k.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

#[cfg(test)]
mod tests {
    #[test]
    fn lenient_json_scan_takes_string_values_of_a_cut_body() {
        let got = json_strings_lenient(
            r#"{"a": {"b": "x\"y", "n": 3, "c": ["p", "q"]}, "d": "unterminated \u00e9"#,
            16,
        );
        let want: Vec<(String, String)> = [
            ("b", "x\"y"),
            ("c", "p"),
            ("", "q"),
            ("d", "unterminated \u{e9}"),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        assert_eq!(got, want);
        assert_eq!(
            json_strings_lenient("\"\\", 4),
            vec![(String::new(), "\\".to_string())]
        );
        assert_eq!(json_strings_lenient(r#""k": "v", "w""#, 1).len(), 1);
    }

    use super::*;

    #[test]
    fn double_url_encoding_is_undone() {
        let n = normalize("%2527%2520OR%25201%253D1");
        assert_eq!(n.text, "' OR 1=1");
        assert_eq!(n.passes, 2);
    }

    #[test]
    fn plain_values_take_no_pass() {
        let n = normalize("hello world");
        assert_eq!(n.text, "hello world");
        assert_eq!(n.passes, 0);
    }

    #[test]
    fn html_entities_numeric_and_named_are_decoded() {
        assert_eq!(decode_html_entities("&lt;script&gt;"), "<script>");
        assert_eq!(decode_html_entities("&#60;&#x3C;&#X3c"), "<<<");
        assert_eq!(
            decode_html_entities("fish &amp; chips & co"),
            "fish & chips & co"
        );
        assert_eq!(decode_html_entities("&#99999999999;"), "&#99999999999;");
        assert_eq!(decode_html_entities("&"), "&");
    }

    #[test]
    fn unicode_and_hex_escapes_are_decoded() {
        assert_eq!(decode_escapes(r"\u003cimg\x20src\u{3e}"), "<img src>");
        assert_eq!(decode_escapes(r"C:\users\x"), r"C:\users\x");
        assert_eq!(decode_escapes(r"\u12"), r"\u12");
    }

    #[test]
    fn iis_percent_u_and_fullwidth_are_decoded() {
        assert_eq!(normalize("%u003cscript%u003e").text, "<script>");
        assert_eq!(normalize("\u{FF1C}script\u{FF1E}").text, "<script>");
    }

    #[test]
    fn plus_is_a_space_only_in_urlencoded_data() {
        assert_eq!(percent_decode("a+b", false), "a+b");
        assert_eq!(
            parse_urlencoded("q=a+b%26c&empty=&flag"),
            vec![
                ("q".into(), "a b&c".into()),
                ("empty".into(), "".into()),
                ("flag".into(), "".into())
            ]
        );
    }

    #[test]
    fn invalid_percent_sequences_and_utf8_do_not_fail() {
        assert_eq!(percent_decode("%zz%4", false), "%zz%4");
        assert_eq!(percent_decode("%ff%fe", false), "\u{FFFD}\u{FFFD}");
        let n = normalize("a%00b");
        assert!(n.had_nul);
    }

    #[test]
    fn json_is_flattened_with_paths_and_operator_keys() {
        let v: Value = serde_json::from_str(
            r#"{"user":{"name":"x","tags":["a",{"k":1}]},"pw":{"$ne":null},"weird key":"v","ok":true}"#,
        )
        .unwrap();
        let leaves = flatten_json(&v, 100);
        assert!(leaves.contains(&("$.user.name".into(), "x".into())));
        assert!(leaves.contains(&("$.user.tags[1].k".into(), "1".into())));
        assert!(leaves.contains(&("$.pw".into(), r#"{"$ne":null}"#.into())));
        assert!(!leaves.iter().any(|(p, _)| p.contains("$ne")));
        assert!(leaves.contains(&("$[\"weird key\"]".into(), "v".into())));
        assert!(!leaves.iter().any(|(p, _)| p == "$.ok"));
    }

    #[test]
    fn json_flattening_is_bounded_in_leaves_and_depth() {
        let v: Value = serde_json::from_str(&format!("[{}]", vec!["1"; 1000].join(","))).unwrap();
        assert_eq!(flatten_json(&v, 10).len(), 10);
        let deep = format!("{}1{}", "[".repeat(100), "]".repeat(100));
        let v: Value = serde_json::from_str(&deep).unwrap();
        assert_eq!(flatten_json(&v, 10).len(), 1);
    }
}
