//! The scanner against `serde_json` (the parser the inspection used before it): same documents
//! accepted, same leaves, same lenient strings, on fixed cases and on random and mutated JSON.

use super::*;
use serde_json::Value;

/// The leaves as the inspection produced them from a `serde_json::Value` (the code this scanner
/// replaced), kept as the reference.
mod oracle {
    use serde_json::Value;

    pub fn flatten_json(value: &Value, max_leaves: usize) -> Vec<(String, String)> {
        let mut out = Vec::new();
        flatten_into(value, "$".to_string(), 0, max_leaves, &mut out);
        out
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
        if depth >= 64 {
            out.push((path, value.to_string()));
            return;
        }
        match value {
            Value::Object(map) => {
                if map.keys().any(|k| k.starts_with('$')) {
                    let mut text = value.to_string();
                    text.truncate(crate::decode::floor_char_boundary(&text, 1024));
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
}

fn leaves(text: &str, max: usize) -> Option<Vec<(String, String)>> {
    let doc = Document::parse(text).ok()?;
    let mut out = Vec::new();
    doc.leaves(max, usize::MAX, |p, v| {
        out.push((p.to_string(), v.into_owned()))
    });
    Some(out)
}

fn lenient(text: &str, max: usize) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let n = strings_lenient(text, max, |k, v| out.push((k.to_string(), v.into_owned())));
    assert_eq!(n, out.len());
    out
}

/// Same acceptance as serde_json and, for a document without a repeated key, the same leaves.
fn check(text: &str, max: usize) {
    let reference = serde_json::from_str::<Value>(text);
    let doc = Document::parse(text);
    assert_eq!(
        doc.is_ok(),
        reference.is_ok(),
        "accepts {text:?}: serde_json says {reference:?}"
    );
    if let (Ok(doc), Ok(value)) = (doc, reference) {
        if !doc.has_repeated_key() {
            assert_eq!(
                leaves(text, max),
                Some(oracle::flatten_json(&value, max)),
                "{text:?}"
            );
            assert_eq!(doc.to_compact(), value.to_string(), "{text:?}");
        }
    }
    assert_eq!(
        lenient(text, max),
        oracle::json_strings_lenient(text, max),
        "lenient {text:?}"
    );
}

impl Document<'_> {
    fn has_repeated_key(&self) -> bool {
        (0..self.tokens.len()).any(|t| {
            self.token(t).map(|x| x.kind) == Some(Kind::Object) && {
                let mut keys: Vec<String> = self
                    .children(t)
                    .map(|k| self.key_text(k).into_owned())
                    .collect();
                let n = keys.len();
                keys.sort();
                keys.dedup();
                keys.len() != n
            }
        })
    }
}

#[test]
fn fixed_documents_match_serde_json() {
    for text in [
        r#"{"user":{"name":"x","tags":["a",{"k":1}]},"pw":{"$ne":null},"weird key":"v","ok":true}"#,
        r#"  {"b":1,"a":[1,2,{"d":"x","c":"y"}],"":"empty key","$where":"1==1"}  "#,
        r#""just a string""#,
        "42",
        "-0",
        "-0.0",
        "1.0e5",
        "1E+2",
        "0.1e-400",
        "1e400",
        "-1e400",
        "18446744073709551615",
        "18446744073709551616",
        "-9223372036854775808",
        "-9223372036854775809",
        "123456789012345678901234567890",
        &format!("1{}", "0".repeat(400)),
        "2130706433.0",
        "[01]",
        "[1.]",
        "[.5]",
        "[1e]",
        "[-]",
        "[+1]",
        "[1,]",
        "{\"a\":1,}",
        "{,}",
        "[true,false,null]",
        "[tru]",
        "nul",
        "[] x",
        "",
        "   ",
        "{\"a\" 1}",
        "{1:2}",
        r#"{"a":"tab	inside"}"#,
        r#"["\u00e9\ud83d\ude00\/\b\f\n\r\t\"\\"]"#,
        r#"["\ud83d"]"#,
        r#"["\ude00"]"#,
        r#"["\ud83d\u0041"]"#,
        r#"["\ud83dx"]"#,
        r#"["\u12"]"#,
        r#"["\x41"]"#,
        r#"["\u0000 nul"]"#,
        r#"{"\u0024ne":"x","k\"ey":"v","\u0000":"c"}"#,
        "\u{feff}{}",
        "{\"a\":\"\u{fffd}\"}",
        "[\"caf\u{e9}\", \"\u{4fdd}\u{6301}\"]",
        "{\"a\":{\"$gt\":\"\",\"$lt\":[1,{\"z\":null,\"y\":2.50}]}}",
    ] {
        check(text, 4096);
    }
}

#[test]
fn nesting_is_limited_as_serde_json_limits_it() {
    for depth in [1, 63, 64, 65, 100, 126, 127, 128, 129, 300] {
        let arrays = format!("{}\"x\"{}", "[".repeat(depth), "]".repeat(depth));
        check(&arrays, 4096);
        let objects = format!("{}1{}", "{\"k\":".repeat(depth), "}".repeat(depth));
        check(&objects, 4096);
    }
    assert!(Document::parse(&format!("{}{}", "[".repeat(127), "]".repeat(127))).is_ok());
    assert_eq!(
        Document::parse(&format!("{}{}", "[".repeat(128), "]".repeat(128))).err(),
        Some(Malformed)
    );
    // A value 64 levels deep is taken whole.
    let deep = format!(
        "{}{{\"b\":\"x\",\"a\":1}}{}",
        "[".repeat(64),
        "]".repeat(64)
    );
    let got = leaves(&deep, 10).unwrap_or_default();
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].1, r#"{"a":1,"b":"x"}"#);
}

#[test]
fn leaves_are_bounded_like_before() {
    check(&format!("[{}]", vec!["1"; 1000].join(",")), 10);
    let keys: Vec<String> = (0..50).map(|i| format!("\"k {i}\":{i}")).collect();
    check(&format!("{{{}}}", keys.join(",")), 7);
    check(&format!("[{{{}}}]", keys.join(",")), 0);
}

#[test]
fn escapes_are_decoded_only_where_present() {
    let doc = Document::parse(r#"{"plain":"a b","esc":"a\nb\u00e9\ud83d\ude00"}"#).unwrap();
    let mut got = Vec::new();
    doc.leaves(16, usize::MAX, |p, v| {
        got.push((p.to_string(), matches!(v, Cow::Borrowed(_)), v.into_owned()))
    });
    assert_eq!(
        got,
        vec![
            ("$.esc".into(), false, "a\nb\u{e9}\u{1F600}".into()),
            ("$.plain".into(), true, "a b".into()),
        ]
    );
}

#[test]
fn numbers_print_as_serde_json_prints_them() {
    let doc = Document::parse("[3, -7, 19.99, -0, 1E2, 18446744073709551616, 0.1e-400]").unwrap();
    let mut got = Vec::new();
    doc.leaves(16, usize::MAX, |_, v| got.push(v.into_owned()));
    assert_eq!(
        got,
        [
            "3",
            "-7",
            "19.99",
            "-0.0",
            "100.0",
            "1.8446744073709552e+19",
            "0.0"
        ]
    );
    assert_eq!(Document::parse("[1e400]").err(), Some(Malformed));
    assert_eq!(Document::parse("[-1e309]").err(), Some(Malformed));
}

#[test]
fn a_repeated_key_keeps_every_value() {
    let doc = Document::parse(r#"{"q":"' or 1=1 --","b":1,"q":"safe"}"#).unwrap();
    let mut got = Vec::new();
    doc.leaves(16, usize::MAX, |p, v| got.push(format!("{p}={v}")));
    assert_eq!(got, ["$.b=1", "$.q=' or 1=1 --", "$.q=safe"]);
    let doc = Document::parse(r#"{"$ne":1,"$ne":2}"#).unwrap();
    let mut got = Vec::new();
    doc.leaves(16, usize::MAX, |p, v| got.push(format!("{p}={v}")));
    assert_eq!(
        got,
        [r#"$={"$ne":1,"$ne":2}"#, r#"$["$ne"]=1"#, r#"$["$ne"]=2"#]
    );
}

#[test]
fn empty_and_unusual_keys_are_named_by_their_json_text() {
    let doc = Document::parse(r#"{"":"e","a b":"s","x\"y":"q"}"#).unwrap();
    let mut got = Vec::new();
    doc.leaves(16, usize::MAX, |p, v| got.push(format!("{p}={v}")));
    assert_eq!(
        got,
        [
            r#"$[""]#key="#,
            r#"$[""]=e"#,
            r#"$["a b"]#key=a b"#,
            r#"$["a b"]=s"#,
            r#"$["x\"y"]#key=x"y"#,
            r#"$["x\"y"]=q"#,
        ]
    );
}

#[test]
fn operator_objects_and_deep_values_are_cut() {
    let long = "x".repeat(3000);
    let text = format!(r#"{{"a":{{"$regex":"{long}","$options":"i"}}}}"#);
    check(&text, 4096);
    let got = leaves(&text, 16).unwrap_or_default();
    assert!(
        got[0].1.len() <= OPERATOR_OBJECT_CHARS,
        "{}",
        got[0].1.len()
    );
    let deep = format!(
        "{}[\"{long}\",\"{long}\"]{}",
        "[".repeat(64),
        "]".repeat(64)
    );
    let doc = Document::parse(&deep).unwrap();
    let mut got = Vec::new();
    doc.leaves(16, 1000, |_, v| got.push(v.into_owned()));
    assert!(got[0].len() > 1000 && got[0].starts_with("[\"xxx"));
}

#[test]
fn truncated_and_malformed_bodies_are_refused_and_read_leniently() {
    let full = r#"{"order": {"note": "<script>alert(1)</script>", "pad": "lorem \u00e9 ipsum", "n": [1, 2.5, "x\"y"]}}"#;
    for cut in 0..full.len() {
        let Some(part) = full.get(..cut) else {
            continue;
        };
        check(part, 4096);
        check(part, 2);
        assert!(Document::parse(part).is_err());
    }
    check(full, 4096);
    for text in [
        "\"\\",
        "\"abc\\",
        "\"a\nb\"",
        "{\"k\": \"v\", \"w\"",
        "{\"k\" : \"\\ud83d\" , \"u\":\"\\u00zz\"}",
        "{\"a\":\"\\x41\"}",
        "not json at all",
    ] {
        check(text, 4096);
    }
}

#[test]
fn strings_are_written_as_serde_json_writes_them() {
    for s in [
        "",
        "plain",
        "q\"b\\s/",
        "\u{0}\u{1}\u{8}\t\n\u{b}\u{c}\r\u{1f}\u{7f}",
        "caf\u{e9} \u{1F600}",
    ] {
        let mut out = String::new();
        write_string(&mut out, s);
        assert_eq!(out, serde_json::to_string(s).unwrap_or_default());
    }
}

/// xorshift64*: deterministic random numbers without a dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }

    fn pick<'s>(&mut self, items: &[&'s str]) -> &'s str {
        items[self.below(items.len())]
    }
}

const WS: &[&str] = &["", "", "", " ", "\n", "\t", "\r\n  "];

fn random_text(rng: &mut Rng) -> String {
    const PIECES: &[&str] = &[
        "a",
        "Z",
        "0",
        " ",
        "'",
        "$",
        "_",
        "-",
        ".",
        "<",
        ">",
        "/",
        "\\",
        "\"",
        "\n",
        "\t",
        "\u{0}",
        "\u{1f}",
        "\u{7f}",
        "\u{e9}",
        "\u{4fdd}",
        "\u{1F600}",
        "\u{fffd}",
        "or",
        "select",
        "&#60;",
        "%27",
    ];
    let n = rng.below(8);
    (0..n).map(|_| rng.pick(PIECES)).collect()
}

/// `s` as a JSON literal, with escapes chosen at random where JSON allows a choice.
fn encode(rng: &mut Rng, s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' if rng.below(2) == 0 => out.push_str("\\n"),
            '\t' if rng.below(2) == 0 => out.push_str("\\t"),
            '/' if rng.below(2) == 0 => out.push_str("\\/"),
            c if (c as u32) < 0x20 || rng.below(6) == 0 => {
                let mut units = [0u16; 2];
                for u in c.encode_utf16(&mut units) {
                    if rng.below(2) == 0 {
                        out.push_str(&format!("\\u{u:04x}"));
                    } else {
                        out.push_str(&format!("\\u{u:04X}"));
                    }
                }
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

fn random_number(rng: &mut Rng) -> String {
    const FORMS: &[&str] = &[
        "0",
        "-0",
        "7",
        "-42",
        "19.99",
        "-0.5",
        "1e3",
        "2E-2",
        "6.02e+23",
        "18446744073709551615",
        "18446744073709551616",
        "-9223372036854775808",
        "-9223372036854775809",
        "99999999999999999999999",
        "1e308",
        "1.7976931348623157e308",
        "1e-320",
        "123456789.123456789e-3",
        "2130706433.0",
    ];
    if rng.below(3) == 0 {
        return (rng.next() >> rng.below(64)).to_string();
    }
    rng.pick(FORMS).to_string()
}

fn random_value(rng: &mut Rng, depth: usize, out: &mut String) {
    out.push_str(rng.pick(WS));
    let container = depth < 6 && rng.below(3) == 0;
    match if container {
        rng.below(2)
    } else {
        2 + rng.below(4)
    } {
        0 => {
            out.push('{');
            let n = rng.below(6);
            let mut keys: Vec<String> = Vec::new();
            for i in 0..n {
                let key = match rng.below(5) {
                    0 => format!("${}", random_text(rng)),
                    1 => rng
                        .pick(&["id", "name", "b", "a", "Z", "_x", "a-b"])
                        .to_string(),
                    _ => random_text(rng),
                };
                if keys.contains(&key) {
                    continue;
                }
                if i > 0 && !keys.is_empty() {
                    out.push(',');
                }
                out.push_str(rng.pick(WS));
                out.push_str(&encode(rng, &key));
                out.push_str(rng.pick(WS));
                out.push(':');
                random_value(rng, depth + 1, out);
                keys.push(key);
            }
            out.push_str(rng.pick(WS));
            out.push('}');
        }
        1 => {
            out.push('[');
            for i in 0..rng.below(6) {
                if i > 0 {
                    out.push(',');
                }
                random_value(rng, depth + 1, out);
            }
            out.push_str(rng.pick(WS));
            out.push(']');
        }
        2 | 3 => {
            let s = random_text(rng);
            out.push_str(&encode(rng, &s));
        }
        4 => out.push_str(&random_number(rng)),
        _ => out.push_str(rng.pick(&["true", "false", "null"])),
    }
    out.push_str(rng.pick(WS));
}

fn mutate(rng: &mut Rng, text: &str) -> String {
    let mut chars: Vec<char> = text.chars().collect();
    for _ in 0..=rng.below(3) {
        let at = rng.below(chars.len() + 1);
        let c = rng
            .pick(&[
                "\"", "\\", ",", ":", "{", "}", "[", "]", "u", "0", "e", "-", " ", "\u{1}", "d8",
            ])
            .chars()
            .next()
            .unwrap_or(' ');
        match rng.below(3) {
            0 if at < chars.len() => {
                chars.remove(at);
            }
            1 if at < chars.len() => chars[at] = c,
            _ => chars.insert(at, c),
        }
    }
    chars.into_iter().collect()
}

#[test]
fn random_documents_match_serde_json() {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    for round in 0..4000 {
        let mut text = String::new();
        random_value(&mut rng, 0, &mut text);
        let max = if round % 5 == 0 { rng.below(12) } else { 4096 };
        check(&text, max);
        assert!(Document::parse(&text).is_ok(), "{text:?}");
        let cut: String = text.chars().take(rng.below(text.chars().count())).collect();
        check(&cut, max);
        check(&mutate(&mut rng, &text), max);
    }
}

#[test]
fn random_string_literals_unescape_as_serde_json_does() {
    let mut rng = Rng(7);
    const PIECES: &[&str] = &[
        "a", "\\", "\"", "u", "d83d", "D83D", "de00", "00e9", "0", "x", "/", "n", "\u{1}",
        "\u{e9}", "\\u", "\\ud83d", "\\ude00", "{",
    ];
    for _ in 0..20000 {
        let contents: String = (0..rng.below(10)).map(|_| rng.pick(PIECES)).collect();
        if !contents.contains('"') {
            let reference = serde_json::from_str::<String>(&format!("\"{contents}\"")).ok();
            assert_eq!(unescape(&contents), reference, "{contents:?}");
        }
        check(&format!("[\"{contents}\"]"), 16);
    }
}
