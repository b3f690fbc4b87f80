//! Sensitive data in text: personal data (emails, card numbers, IBANs, US SSNs, phone numbers)
//! and secrets (JWTs, AWS / GitHub / Slack / Stripe keys, generic high-entropy tokens).
//!
//! One detector set serves two uses: [`redact`] for what leaves the proxy in security events
//! (every match replaced by `[REDACTED:<kind>]`), and [`mask`] for response inspection
//! (excessive data exposure), which replaces the letters and digits of a match with `*` and so
//! keeps the length of the body, its JSON structure and its `content-length`. Matches never
//! contain `"` or `\`, so masking cannot break a JSON string.
//!
//! The scanners are hand-written over bytes (no regex engine in the module): every pattern is
//! ASCII, so match boundaries are always UTF-8 boundaries.

use std::fmt;

/// What a match is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Kind {
    /// An email address.
    Email,
    /// A payment card number (13 to 19 digits, Luhn-valid).
    Card,
    /// An IBAN (ISO 13616, mod-97 valid).
    Iban,
    /// A US social security number (`ddd-dd-dddd`, valid area/group/serial).
    Ssn,
    /// A phone number (E.164 `+…` or North American `(ddd) ddd-dddd`).
    Phone,
    /// A JSON Web Token.
    Jwt,
    /// An AWS access key id.
    AwsKey,
    /// A GitHub token.
    GithubToken,
    /// A Slack token.
    SlackToken,
    /// A Stripe key.
    StripeKey,
    /// A long random-looking token (high Shannon entropy, letters and digits).
    Secret,
}

impl Kind {
    /// Every kind, in reporting order.
    pub const ALL: [Kind; 11] = [
        Kind::Email,
        Kind::Card,
        Kind::Iban,
        Kind::Ssn,
        Kind::Phone,
        Kind::Jwt,
        Kind::AwsKey,
        Kind::GithubToken,
        Kind::SlackToken,
        Kind::StripeKey,
        Kind::Secret,
    ];

    /// Lower-case name for events, metrics and configuration.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Email => "email",
            Kind::Card => "card",
            Kind::Iban => "iban",
            Kind::Ssn => "ssn",
            Kind::Phone => "phone",
            Kind::Jwt => "jwt",
            Kind::AwsKey => "aws_key",
            Kind::GithubToken => "github_token",
            Kind::SlackToken => "slack_token",
            Kind::StripeKey => "stripe_key",
            Kind::Secret => "secret",
        }
    }

    /// The kind named `name`.
    pub fn from_name(name: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|k| k.as_str() == name)
    }

    /// Personal data (as opposed to a credential).
    pub fn is_personal(self) -> bool {
        matches!(
            self,
            Kind::Email | Kind::Card | Kind::Iban | Kind::Ssn | Kind::Phone
        )
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One match: `text[start..end]` is of `kind`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Match {
    /// What it is.
    pub kind: Kind,
    /// Byte offset of the first byte.
    pub start: usize,
    /// Byte offset after the last byte.
    pub end: usize,
}

/// Which kinds a scan looks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KindSet(u16);

impl KindSet {
    /// Every kind.
    pub const ALL: KindSet = KindSet((1 << Kind::ALL.len()) - 1);

    /// Every kind but [`Kind::Secret`]: the set for response bodies, where ids and hashes are
    /// legitimate high-entropy data.
    pub fn without_generic_secrets() -> KindSet {
        KindSet(KindSet::ALL.0 & !Self::bit(Kind::Secret))
    }

    /// The set of `kinds`.
    pub fn of(kinds: &[Kind]) -> KindSet {
        KindSet(kinds.iter().fold(0, |acc, k| acc | Self::bit(*k)))
    }

    fn bit(kind: Kind) -> u16 {
        let i = Kind::ALL.iter().position(|k| *k == kind).unwrap_or(0);
        1 << i
    }

    /// Whether `kind` is in the set.
    pub fn contains(self, kind: Kind) -> bool {
        self.0 & Self::bit(kind) != 0
    }
}

fn is_word(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

/// `text[i]` exists and is not a letter, digit or `_` (or `i` is out of range).
fn boundary_at(text: &[u8], i: Option<usize>) -> bool {
    match i {
        None => true,
        Some(i) => text.get(i).is_none_or(|b| !is_word(*b)),
    }
}

fn before(i: usize) -> Option<usize> {
    i.checked_sub(1)
}

/// Luhn checksum of a digit string.
pub fn luhn_valid(digits: &[u8]) -> bool {
    let mut sum = 0u32;
    for (i, d) in digits.iter().rev().enumerate() {
        let mut v = u32::from(d - b'0');
        if i % 2 == 1 {
            v *= 2;
            if v > 9 {
                v -= 9;
            }
        }
        sum += v;
    }
    sum.is_multiple_of(10)
}

fn iban_valid(compact: &[u8]) -> bool {
    if compact.len() < 15 || compact.len() > 34 {
        return false;
    }
    let (head, tail) = compact.split_at(4);
    let mut rem: u32 = 0;
    for &c in tail.iter().chain(head) {
        let v = match c {
            b'0'..=b'9' => u32::from(c - b'0'),
            b'A'..=b'Z' => u32::from(c - b'A') + 10,
            _ => return false,
        };
        rem = if v >= 10 {
            (rem * 100 + v) % 97
        } else {
            (rem * 10 + v) % 97
        };
    }
    rem == 1
}

fn shannon_bits(bytes: &[u8]) -> f64 {
    let mut counts = [0u32; 256];
    for &b in bytes {
        counts[usize::from(b)] += 1;
    }
    let n = bytes.len() as f64;
    counts
        .iter()
        .filter(|&&c| c > 0)
        .map(|&c| {
            let p = f64::from(c) / n;
            -p * p.log2()
        })
        .sum()
}

fn scan_emails(text: &[u8], out: &mut Vec<Match>) {
    let local = |b: u8| b.is_ascii_alphanumeric() || b"._%+-".contains(&b);
    let domain = |b: u8| b.is_ascii_alphanumeric() || b".-".contains(&b);
    for (at, _) in text.iter().enumerate().filter(|(_, b)| **b == b'@') {
        let mut s = at;
        while s > 0 && local(text[s - 1]) {
            s -= 1;
        }
        let mut e = at + 1;
        while e < text.len() && domain(text[e]) {
            e += 1;
        }
        // No trailing dot ("mail me at a@b.com.").
        while e > at + 1 && text[e - 1] == b'.' {
            e -= 1;
        }
        let dom = &text[at + 1..e];
        let tld_ok = dom
            .rsplit(|b| *b == b'.')
            .next()
            .is_some_and(|t| t.len() >= 2 && t.iter().all(u8::is_ascii_alphabetic));
        if s < at && dom.contains(&b'.') && tld_ok {
            out.push(Match {
                kind: Kind::Email,
                start: s,
                end: e,
            });
        }
    }
}

/// Digit runs with single spaces or dashes between groups: cards, SSNs, phones.
fn scan_digit_groups(text: &[u8], kinds: KindSet, out: &mut Vec<Match>) {
    let mut i = 0;
    while i < text.len() {
        if !text[i].is_ascii_digit() || !boundary_at(text, before(i)) {
            i += 1;
            continue;
        }
        // Extend over digits and single separators followed by a digit.
        let start = i;
        let mut digits: Vec<u8> = Vec::new();
        let mut seps: Vec<u8> = Vec::new();
        let mut groups: Vec<usize> = vec![0];
        let mut e = i;
        while e < text.len() {
            let b = text[e];
            if b.is_ascii_digit() {
                digits.push(b);
                if let Some(g) = groups.last_mut() {
                    *g += 1;
                }
                e += 1;
            } else if (b == b' ' || b == b'-')
                && text.get(e + 1).is_some_and(u8::is_ascii_digit)
                && digits.len() < 19
            {
                seps.push(b);
                groups.push(0);
                e += 1;
            } else {
                break;
            }
        }
        if !boundary_at(text, Some(e)) {
            i = e.max(i + 1);
            continue;
        }
        let n = digits.len();
        let sep_ok = seps.windows(2).all(|w| w[0] == w[1]);
        let kind = if kinds.contains(Kind::Ssn)
            && groups == [3, 2, 4]
            && seps.iter().all(|s| *s == b'-')
            && ssn_valid(&digits)
        {
            Some(Kind::Ssn)
        } else if kinds.contains(Kind::Card)
            && (13..=19).contains(&n)
            && sep_ok
            && luhn_valid(&digits)
        {
            Some(Kind::Card)
        } else if kinds.contains(Kind::Phone)
            && groups == [3, 3, 4]
            && sep_ok
            && !seps.is_empty()
            && text
                .get(start.wrapping_sub(1))
                .is_none_or(|b| *b != b'+' && *b != b'.')
        {
            Some(Kind::Phone)
        } else {
            None
        };
        if let Some(kind) = kind {
            out.push(Match {
                kind,
                start,
                end: e,
            });
        }
        i = e.max(i + 1);
    }
}

fn ssn_valid(d: &[u8]) -> bool {
    let area = &d[0..3];
    area != b"000" && area != b"666" && area[0] != b'9' && &d[3..5] != b"00" && &d[5..9] != b"0000"
}

/// `+` E.164 numbers and `(ddd) ddd-dddd`.
fn scan_phones(text: &[u8], out: &mut Vec<Match>) {
    for i in 0..text.len() {
        let b = text[i];
        if b == b'+' && text.get(i + 1).is_some_and(u8::is_ascii_digit) {
            if i > 0 && is_word(text[i - 1]) {
                continue;
            }
            let mut e = i + 1;
            let mut digits = 0;
            while e < text.len() {
                let c = text[e];
                if c.is_ascii_digit() {
                    digits += 1;
                } else if !(b" -()".contains(&c)
                    && text
                        .get(e + 1)
                        .is_some_and(|n| n.is_ascii_digit() || *n == b'('))
                {
                    break;
                }
                e += 1;
            }
            if (8..=15).contains(&digits) && boundary_at(text, Some(e)) {
                out.push(Match {
                    kind: Kind::Phone,
                    start: i,
                    end: e,
                });
            }
        } else if b == b'(' {
            let t = &text[i..];
            let ok = t.len() >= 14
                && t[1..4].iter().all(u8::is_ascii_digit)
                && t[4] == b')'
                && t[5] == b' '
                && t[6..9].iter().all(u8::is_ascii_digit)
                && (t[9] == b'-' || t[9] == b' ' || t[9] == b'.')
                && t[10..14].iter().all(u8::is_ascii_digit)
                && boundary_at(text, Some(i + 14));
            if ok {
                out.push(Match {
                    kind: Kind::Phone,
                    start: i,
                    end: i + 14,
                });
            }
        }
    }
}

/// Tokens of `[A-Za-z0-9_+/.-]`, the shapes keys and JWTs take.
fn scan_tokens(text: &[u8], kinds: KindSet, out: &mut Vec<Match>) {
    let tok = |b: u8| b.is_ascii_alphanumeric() || b"_+/-.".contains(&b);
    let mut i = 0;
    while i < text.len() {
        if !tok(text[i]) {
            i += 1;
            continue;
        }
        let start = i;
        let mut e = i;
        while e < text.len() && tok(text[e]) {
            e += 1;
        }
        // Trailing sentence punctuation is not part of a token.
        let mut end = e;
        while end > start && text[end - 1] == b'.' {
            end -= 1;
        }
        if let Some(m) = classify_token(&text[start..end], kinds) {
            out.push(Match {
                kind: m.0,
                start: start + m.1,
                end: start + m.2,
            });
        } else if kinds.contains(Kind::Iban) {
            iban_in(text, start, end, out);
        }
        i = e;
    }
}

fn all(bytes: &[u8], f: impl Fn(u8) -> bool) -> bool {
    bytes.iter().all(|b| f(*b))
}

fn upper_alnum(b: u8) -> bool {
    b.is_ascii_uppercase() || b.is_ascii_digit()
}

/// The kind of a whole token and the sub-range that matches.
fn classify_token(t: &[u8], kinds: KindSet) -> Option<(Kind, usize, usize)> {
    let b64url = |b: u8| b.is_ascii_alphanumeric() || b == b'-' || b == b'_';
    if kinds.contains(Kind::Jwt) && t.starts_with(b"eyJ") {
        let parts: Vec<&[u8]> = t.split(|b| *b == b'.').collect();
        if parts.len() == 3
            && parts[1].starts_with(b"eyJ")
            && parts[..2].iter().all(|p| p.len() >= 8 && all(p, b64url))
            && all(parts[2], b64url)
        {
            return Some((Kind::Jwt, 0, t.len()));
        }
    }
    if kinds.contains(Kind::AwsKey) && t.len() == 20 {
        let prefix_ok = [b"AKIA", b"ASIA", b"ABIA", b"ACCA"]
            .iter()
            .any(|p| t.starts_with(*p));
        if prefix_ok && all(&t[4..], upper_alnum) {
            return Some((Kind::AwsKey, 0, 20));
        }
    }
    if kinds.contains(Kind::GithubToken) {
        let alnum = |b: u8| b.is_ascii_alphanumeric();
        for p in [b"ghp_", b"gho_", b"ghu_", b"ghs_", b"ghr_"] {
            if t.len() >= 40 && t.starts_with(p) && all(&t[4..40], alnum) {
                return Some((Kind::GithubToken, 0, 40));
            }
        }
        if t.starts_with(b"github_pat_")
            && t.len() >= 11 + 40
            && all(&t[11..], |b| b.is_ascii_alphanumeric() || b == b'_')
        {
            return Some((Kind::GithubToken, 0, t.len()));
        }
    }
    if kinds.contains(Kind::SlackToken)
        && t.len() >= 15
        && t.starts_with(b"xox")
        && b"baprs".contains(&t[3])
        && t[4] == b'-'
        && all(&t[5..], |b| b.is_ascii_alphanumeric() || b == b'-')
    {
        return Some((Kind::SlackToken, 0, t.len()));
    }
    if kinds.contains(Kind::StripeKey) {
        for p in [
            &b"sk_live_"[..],
            b"sk_test_",
            b"rk_live_",
            b"rk_test_",
            b"pk_live_",
            b"pk_test_",
            b"whsec_",
        ] {
            if t.starts_with(p)
                && t.len() >= p.len() + 10
                && all(&t[p.len()..], |b| b.is_ascii_alphanumeric())
            {
                return Some((Kind::StripeKey, 0, t.len()));
            }
        }
    }
    if kinds.contains(Kind::Secret) && generic_secret(t) {
        return Some((Kind::Secret, 0, t.len()));
    }
    None
}

/// At least 24 characters with letters and digits, of high entropy (≥ 4 bits a character):
/// API keys and passwords, not words, UUID-like hex or numbers.
fn generic_secret(t: &[u8]) -> bool {
    if t.len() < 24 || t.len() > 512 {
        return false;
    }
    let letters = t.iter().filter(|b| b.is_ascii_alphabetic()).count();
    let digits = t.iter().filter(|b| b.is_ascii_digit()).count();
    let upper = t.iter().filter(|b| b.is_ascii_uppercase()).count();
    let lower = t.iter().filter(|b| b.is_ascii_lowercase()).count();
    // A path or a dotted name (`a.b.c`, `/x/y`) is not a key.
    let punct = t.iter().filter(|b| b"/.-".contains(b)).count();
    letters >= 4
        && digits >= 2
        && upper >= 1
        && lower >= 1
        && punct * 8 <= t.len()
        && shannon_bits(t) >= 4.0
}

/// IBANs inside a token (compact) or spread over groups of four separated by single spaces.
fn iban_in(text: &[u8], start: usize, end: usize, out: &mut Vec<Match>) {
    let t = &text[start..end];
    let looks = |t: &[u8]| {
        t.len() >= 4
            && t[0].is_ascii_uppercase()
            && t[1].is_ascii_uppercase()
            && t[2].is_ascii_digit()
            && t[3].is_ascii_digit()
    };
    if !looks(t) || !boundary_at(text, before(start)) {
        return;
    }
    if all(t, upper_alnum) && iban_valid(t) {
        out.push(Match {
            kind: Kind::Iban,
            start,
            end,
        });
        return;
    }
    // Grouped: "DE89 3704 0044 0532 0130 00" (groups of four, the last one shorter).
    if t.len() != 4 {
        return;
    }
    let mut compact = t.to_vec();
    let mut e = end;
    while text.get(e) == Some(&b' ') && compact.len() < 34 {
        let g = text[e + 1..]
            .iter()
            .take(5)
            .take_while(|b| upper_alnum(**b))
            .count();
        if g == 0 || g > 4 {
            break;
        }
        compact.extend_from_slice(&text[e + 1..e + 1 + g]);
        e += 1 + g;
        if g < 4 {
            break;
        }
    }
    if boundary_at(text, Some(e)) && iban_valid(&compact) {
        out.push(Match {
            kind: Kind::Iban,
            start,
            end: e,
        });
    }
}

/// Every match of `kinds` in `text`, in order, without overlaps (the earlier, then the longer,
/// match wins).
pub fn scan(text: &str, kinds: KindSet) -> Vec<Match> {
    let bytes = text.as_bytes();
    let mut found = Vec::new();
    if kinds.contains(Kind::Email) {
        scan_emails(bytes, &mut found);
    }
    scan_digit_groups(bytes, kinds, &mut found);
    if kinds.contains(Kind::Phone) {
        scan_phones(bytes, &mut found);
    }
    scan_tokens(bytes, kinds, &mut found);
    found.sort_by_key(|m| (m.start, std::cmp::Reverse(m.end)));
    let mut out: Vec<Match> = Vec::with_capacity(found.len());
    for m in found {
        match out.last() {
            Some(last) if m.start < last.end => {}
            _ => out.push(m),
        }
    }
    out
}

/// `text` with every match replaced by `[REDACTED:<kind>]`.
pub fn redact(text: &str, kinds: KindSet) -> String {
    let matches = scan(text, kinds);
    if matches.is_empty() {
        return text.to_string();
    }
    let mut out = String::with_capacity(text.len());
    let mut at = 0;
    for m in matches {
        out.push_str(&text[at..m.start]);
        out.push_str("[REDACTED:");
        out.push_str(m.kind.as_str());
        out.push(']');
        at = m.end;
    }
    out.push_str(&text[at..]);
    out
}

/// Counts per kind, in [`Kind::ALL`] order, of the kinds found at least once.
pub fn counts(matches: &[Match]) -> Vec<(Kind, u32)> {
    Kind::ALL
        .into_iter()
        .filter_map(|k| {
            let n = matches.iter().filter(|m| m.kind == k).count();
            (n > 0).then(|| (k, u32::try_from(n).unwrap_or(u32::MAX)))
        })
        .collect()
}

/// `body` with the letters and digits of every match replaced by `*` (card numbers keep their
/// last four digits), byte length unchanged. Returns the masked body and the matches.
pub fn mask(body: &[u8], kinds: KindSet) -> (Vec<u8>, Vec<Match>) {
    let text = String::from_utf8_lossy(body);
    // Lossy decoding changes byte offsets when the body is not UTF-8: scan only valid UTF-8.
    if text.len() != body.len() {
        return (body.to_vec(), Vec::new());
    }
    let matches = scan(&text, kinds);
    let mut out = body.to_vec();
    for m in &matches {
        let keep_from = if m.kind == Kind::Card {
            // The last four digits stay, as on a receipt.
            let mut seen = 0;
            let mut at = m.end;
            while at > m.start && seen < 4 {
                at -= 1;
                if out[at].is_ascii_digit() {
                    seen += 1;
                }
            }
            at
        } else {
            m.end
        };
        for b in &mut out[m.start..keep_from] {
            if b.is_ascii_alphanumeric() {
                *b = b'*';
            }
        }
    }
    (out, matches)
}

/// Names of fields whose values never leave the proxy (compared lower-case, ignoring `-`/`_`).
const SENSITIVE_NAMES: &[&str] = &[
    "password",
    "passwd",
    "pwd",
    "pass",
    "secret",
    "token",
    "apikey",
    "key",
    "authorization",
    "auth",
    "cookie",
    "session",
    "sessionid",
    "credential",
    "credentials",
    "privatekey",
    "clientsecret",
    "accesstoken",
    "refreshtoken",
    "idtoken",
    "otp",
    "pin",
    "cvv",
    "cvc",
    "ssn",
    "signature",
];

/// Whether a field named `name` holds a credential or a secret by its name alone
/// (`password`, `api_key`, `X-Auth-Token`, `client_secret`, …).
pub fn is_sensitive_name(name: &str) -> bool {
    let n: String = name
        .chars()
        .filter(|c| *c != '-' && *c != '_')
        .flat_map(char::to_lowercase)
        .collect();
    SENSITIVE_NAMES.iter().any(|s| {
        n == *s
            || (s.len() >= 5 && n.contains(s))
            || n.ends_with("password")
            || n.ends_with("token")
            || n.ends_with("secret")
            || n.ends_with("key")
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(text: &str) -> Vec<(Kind, &str)> {
        scan(text, KindSet::ALL)
            .into_iter()
            .map(|m| (m.kind, &text[m.start..m.end]))
            .collect()
    }

    #[test]
    fn each_kind_is_found_in_context() {
        let cases: &[(&str, Kind, &str)] = &[
            ("mail alice.o'x+tag@example.co.uk now", Kind::Email, "x+tag@example.co.uk"),
            ("pay 4111 1111 1111 1111.", Kind::Card, "4111 1111 1111 1111"),
            ("card=5500-0000-0000-0004&x", Kind::Card, "5500-0000-0000-0004"),
            ("iban DE89370400440532013000 ok", Kind::Iban, "DE89370400440532013000"),
            ("iban GB82 WEST 1234 5698 7654 32", Kind::Iban, "GB82 WEST 1234 5698 7654 32"),
            ("ssn 123-45-6789", Kind::Ssn, "123-45-6789"),
            ("call +44 20 7946 0958 today", Kind::Phone, "+44 20 7946 0958"),
            ("call (415) 555-2671", Kind::Phone, "(415) 555-2671"),
            ("call 415-555-2671", Kind::Phone, "415-555-2671"),
            (
                "t eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U x",
                Kind::Jwt,
                "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U",
            ),
            ("k=AKIAIOSFODNN7EXAMPLE;", Kind::AwsKey, "AKIAIOSFODNN7EXAMPLE"),
            (
                "ghp_aBcDeFgHiJkLmNoPqRsTuVwXyZ0123456789",
                Kind::GithubToken,
                "ghp_aBcDeFgHiJkLmNoPqRsTuVwXyZ0123456789",
            ),
            ("xoxb-123456789012-abcdefABCDEF", Kind::SlackToken, "xoxb-123456789012-abcdefABCDEF"),
            ("sk_live_4eC39HqLyjWDarjtT1zdp7dc", Kind::StripeKey, "sk_live_4eC39HqLyjWDarjtT1zdp7dc"),
            ("x x9Qm2LpR7vT4kZ8wN3bY6cH1dF5gJ0sA y", Kind::Secret, "x9Qm2LpR7vT4kZ8wN3bY6cH1dF5gJ0sA"),
        ];
        for (text, kind, want) in cases {
            let got = kinds(text);
            assert_eq!(got, vec![(*kind, *want)], "{text}");
        }
    }

    #[test]
    fn look_alikes_are_not_matched() {
        for text in [
            "order 4111111111111112",      // Luhn fails
            "id 1234567890123",            // Luhn fails
            "ssn 000-12-3456 666-12-3456", // invalid areas
            "DE89370400440532013001",      // mod-97 fails
            "uuid 123e4567-e89b-12d3-a456-426614174000",
            "sha 2c26b46b68ffc68ff99b453c1d30413413422d706483bfa0f98a5e886266e7ae",
            "path /api/v1/users/12345/orders/67890",
            "version 1.2.3-beta.4 at 10:30",
            "user@localhost",
            "time 2026-12-05",
        ] {
            assert_eq!(kinds(text), vec![], "{text}");
        }
    }

    #[test]
    fn redaction_replaces_every_match_and_nothing_else() {
        let text = r#"{"email":"bob@example.com","card":"4111111111111111","note":"hi"}"#;
        assert_eq!(
            redact(text, KindSet::ALL),
            r#"{"email":"[REDACTED:email]","card":"[REDACTED:card]","note":"hi"}"#
        );
    }

    #[test]
    fn masking_keeps_length_and_json_and_the_last_four_card_digits() {
        let body = br#"{"cards":["4111 1111 1111 1111","5500000000000004"],"mail":"a.b@example.org","id":42}"#;
        let (masked, found) = mask(body, KindSet::without_generic_secrets());
        assert_eq!(masked.len(), body.len());
        assert_eq!(
            String::from_utf8(masked.clone()).unwrap(),
            r#"{"cards":["**** **** **** 1111","************0004"],"mail":"*.*@*******.***","id":42}"#
        );
        assert!(serde_json::from_slice::<serde_json::Value>(&masked).is_ok());
        assert_eq!(counts(&found), vec![(Kind::Email, 1), (Kind::Card, 2)]);
    }

    #[test]
    fn sensitive_names_are_recognised() {
        for n in [
            "password",
            "Password",
            "new_password",
            "api_key",
            "X-Api-Key",
            "client_secret",
            "access_token",
            "Authorization",
            "cookie",
            "session_id",
            "cvv",
        ] {
            assert!(is_sensitive_name(n), "{n}");
        }
        for n in ["name", "email", "id", "q", "page", "user"] {
            assert!(!is_sensitive_name(n), "{n}");
        }
    }
}
