//! Normalisation before features: undo the encodings attackers stack to slip past filters, and
//! split structured bodies into (location, value) pairs ([`json`] for JSON bodies).

use std::borrow::Cow;

pub mod ebcdic;
pub mod graphql;
pub mod json;
pub mod xml;

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

/// A value after normalisation, borrowing the value when there was nothing to decode.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decoded<'a> {
    /// The decoded text.
    pub text: Cow<'a, str>,
    /// Decoding passes that changed something (0 = the value was plain).
    pub passes: u8,
    /// A NUL byte appeared after decoding.
    pub had_nul: bool,
}

/// Decodes percent-encoding (`%41`, `%u0041`), HTML entities, `\uXXXX`/`\xHH` escapes and
/// full-width ASCII, repeatedly until nothing changes or [`MAX_DECODE_PASSES`] is reached.
pub fn normalize(raw: &str) -> Normalized {
    let d = decoded(raw);
    Normalized {
        text: d.text.into_owned(),
        passes: d.passes,
        had_nul: d.had_nul,
    }
}

/// [`normalize`] without a copy of a value that has nothing to decode.
pub fn decoded(raw: &str) -> Decoded<'_> {
    let mut text = fold_fullwidth_cow(raw);
    let mut passes = 0;
    while passes < MAX_DECODE_PASSES {
        // A pass changes only text that holds `%`, `&` or `\`: each decoder acts on its own
        // trigger alone, and one makes another's trigger only from its own.
        if !text.bytes().any(|b| matches!(b, b'%' | b'&' | b'\\')) {
            break;
        }
        let next = decode_escapes(&decode_html_entities(&percent_decoded(&text, false)));
        if next == *text {
            break;
        }
        // Full-width forms that decoding produced (`%uff0e`, `%EF%BC%8E`) fold like sent ones.
        text = Cow::Owned(match fold_fullwidth_cow(&next) {
            Cow::Borrowed(_) => next,
            Cow::Owned(folded) => folded,
        });
        passes += 1;
    }
    let had_nul = text.contains('\0');
    Decoded {
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
    percent_decoded(input, plus_as_space).into_owned()
}

/// [`percent_decode`], borrowing `input` when there is nothing to decode.
pub fn percent_decoded(input: &str, plus_as_space: bool) -> Cow<'_, str> {
    let bytes = input.as_bytes();
    if !(bytes.contains(&b'%') || plus_as_space && bytes.contains(&b'+')) {
        return Cow::Borrowed(input);
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
    fold_overlong(&mut out);
    Cow::Owned(String::from_utf8_lossy(&out).into_owned())
}

/// Folds overlong UTF-8 forms of ASCII characters (`C0 AE` and `E0 80 AE` for `.`, `C0 AF`
/// for `/`) into the character, in place. No valid UTF-8 is touched: these sequences are
/// invalid, but lenient decoders (old IIS, Tomcat, Java's modified UTF-8) read them as the
/// character, so `%c0%ae%c0%ae%c0%af` is `../` to them; replacing them would hide it.
fn fold_overlong(bytes: &mut Vec<u8>) {
    let lead = |b: u8| matches!(b, 0xC0 | 0xC1 | 0xE0);
    if !bytes.iter().copied().any(lead) {
        return;
    }
    let cont = |b: Option<&u8>| b.copied().filter(|b| b & 0xC0 == 0x80);
    let mut read = 0;
    let mut write = 0;
    while read < bytes.len() {
        let b = bytes[read];
        let folded = match b {
            0xC0 | 0xC1 => cont(bytes.get(read + 1)).map(|c1| (((b & 0x1F) << 6) | (c1 & 0x3F), 2)),
            // Three bytes for a code point under 0x80: E0 80 xx.
            0xE0 => match (bytes.get(read + 1), cont(bytes.get(read + 2))) {
                (Some(0x80), Some(c2)) => Some((c2 & 0x3F, 3)),
                _ => None,
            },
            _ => None,
        };
        let (out, used) = folded.unwrap_or((b, 1));
        bytes[write] = out;
        write += 1;
        read += used;
    }
    bytes.truncate(write);
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

/// [`fold_fullwidth`], borrowing `input` when it has no form to fold.
fn fold_fullwidth_cow(input: &str) -> Cow<'_, str> {
    if input.is_ascii() || !input.chars().any(|c| ascii_lookalike(c).is_some()) {
        return Cow::Borrowed(input);
    }
    Cow::Owned(fold_fullwidth(input))
}

/// Maps the forms of ASCII characters that servers turn back into them to those characters:
/// full-width ASCII (U+FF01..U+FF5E) and the ideographic space, the small form variants
/// (U+FE50..U+FE6B: `﹤`, `﹨`, `﹒`; Unicode NFKC folds them, as frameworks that normalise
/// input do), and the slash, backslash and dot look-alikes that Windows "best-fit" conversion
/// turns into ASCII when a server hands wide text to an ANSI API (`..∕..∕` is `../../` to IIS).
pub fn fold_fullwidth(input: &str) -> String {
    if input.is_ascii() {
        return input.to_string();
    }
    input
        .chars()
        .map(|c| ascii_lookalike(c).unwrap_or(c))
        .collect()
}

/// The ASCII character `c` stands for, when it is one of the forms [`fold_fullwidth`] folds.
fn ascii_lookalike(c: char) -> Option<char> {
    let ascii = match c as u32 {
        0xFF01..=0xFF5E => c as u32 - 0xFF01 + 0x21,
        0x3000 => 0x20,
        // Small form variants with an ASCII compatibility mapping (U+FE53 and U+FE67 are
        // unassigned).
        0xFE50 => 0x2C,
        0xFE52 => 0x2E,
        0xFE54 => 0x3B,
        0xFE55 => 0x3A,
        0xFE56 => 0x3F,
        0xFE57 => 0x21,
        0xFE59 => 0x28,
        0xFE5A => 0x29,
        0xFE5B => 0x7B,
        0xFE5C => 0x7D,
        0xFE5F => 0x23,
        0xFE60 => 0x26,
        0xFE61 => 0x2A,
        0xFE62 => 0x2B,
        0xFE63 => 0x2D,
        0xFE64 => 0x3C,
        0xFE65 => 0x3E,
        0xFE66 => 0x3D,
        0xFE68 => 0x5C,
        0xFE69 => 0x24,
        0xFE6A => 0x25,
        0xFE6B => 0x40,
        // Best-fit look-alikes of `/`, `\` and `.`.
        0x2044 | 0x2215 | 0x29F8 => 0x2F,
        0x2216 | 0x29F9 => 0x5C,
        0x2024 => 0x2E,
        _ => return None,
    };
    char::from_u32(ascii)
}

/// Splits `a=1&b=2` (query string or form body) into decoded pairs; `+` is a space.
pub fn parse_urlencoded(input: &str) -> Vec<(String, String)> {
    urlencoded_pairs(input)
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

/// [`parse_urlencoded`] as an iterator that decodes (and copies) only names and values that
/// contain `%` or `+`.
pub fn urlencoded_pairs(input: &str) -> impl Iterator<Item = (Cow<'_, str>, Cow<'_, str>)> {
    input
        .split('&')
        .filter(|part| !part.is_empty())
        .map(|part| {
            let (k, v) = part.split_once('=').unwrap_or((part, ""));
            (percent_decoded(k, true), percent_decoded(v, true))
        })
}

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

#[cfg(test)]
mod tests {
    fn json_strings_lenient(text: &str, max: usize) -> Vec<(String, String)> {
        let mut out = Vec::new();
        json::strings_lenient(text, max, |k, v| out.push((k.to_string(), v.into_owned())));
        out
    }

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
    fn full_width_forms_that_decoding_produces_are_folded() {
        assert_eq!(decoded("%uff0e%uff0e%2F%uff0e%uff0e/etc").text, "../../etc");
        assert_eq!(decoded("%25uff0e%25uff0e%252F").text, "../");
        assert_eq!(decoded("%EF%BC%9Cscript%EF%BC%9E").text, "<script>");
        assert_eq!(decoded("%E3%80%80").text, " ");
    }

    #[test]
    fn overlong_utf8_forms_of_ascii_are_folded() {
        assert_eq!(
            decoded("%c0%ae%c0%ae%c0%afetc%c0%afpasswd").text,
            "../etc/passwd"
        );
        assert_eq!(decoded("%e0%80%ae%e0%80%ae/x").text, "../x");
        assert_eq!(decoded("%c0%bcscript%c0%be").text, "<script>");
        assert_eq!(decoded("%c1%9c").text, "\\");
        // Valid UTF-8 is untouched; a lone or cut lead byte stays replaced.
        assert_eq!(decoded("caf%c3%a9 %e0%a4%85").text, "café अ");
        assert_eq!(decoded("a%c0").text, "a\u{FFFD}");
        assert_eq!(decoded("%c0%41").text, "\u{FFFD}A");
        assert_eq!(decoded("%e0%80").text, "\u{FFFD}\u{FFFD}");
    }

    #[test]
    fn double_url_encoding_is_undone() {
        let n = normalize("%2527%2520OR%25201%253D1");
        assert_eq!(n.text, "' OR 1=1");
        assert_eq!(n.passes, 2);
    }

    /// `normalize` as it was before it borrowed plain values, kept as the reference.
    fn normalize_reference(raw: &str) -> Normalized {
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

    #[test]
    fn borrowing_decoder_equals_the_reference() {
        const PIECES: &[&str] = &[
            "a", "%", "25", "2", "7", "&", "amp;", "#", "x", "3c", "\\", "u", "00", "\u{ff05}",
            "\u{ff06}", "\u{ff3c}", "\u{3000}", "\u{ff1c}", "\u{e9}", ";", "lt", "0", "%u", "\0",
            "+", " ",
        ];
        let mut state = 0x2545_f491_4f6c_dd1du64;
        for _ in 0..50_000 {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            let n = (state % 10) as usize;
            let raw: String = (0..n)
                .map(|k| PIECES[((state >> (6 * k)) % PIECES.len() as u64) as usize])
                .collect();
            let d = decoded(&raw);
            assert_eq!(
                matches!(d.text, Cow::Borrowed(_)),
                d.passes == 0 && d.text == raw,
                "{raw:?}"
            );
            assert_eq!(normalize(&raw), normalize_reference(&raw), "{raw:?}");
        }
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
    fn small_forms_and_best_fit_lookalikes_are_folded() {
        // sent as such, and produced by %u decoding
        assert_eq!(
            normalize("..\u{2215}..\u{2215}etc/passwd").text,
            "../../etc/passwd"
        );
        assert_eq!(normalize("..%u2215..%u2216win.ini").text, "../..\\win.ini");
        assert_eq!(
            normalize("\u{FE64}svg onload=alert(1)\u{FE65}").text,
            "<svg onload=alert(1)>"
        );
        assert_eq!(normalize("\u{2024}\u{2024}\u{2044}x").text, "../x");
        assert_eq!(normalize("%EF%B9%A8%EF%B9%92").text, "\\.");
        // other text is left alone, and borrowed
        let d = decoded("½ cup, 3\u{00D7}4, caf\u{00E9} \u{2014} \u{201C}ok\u{201D}");
        assert!(matches!(d.text, Cow::Borrowed(_)));
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
}
