//! JSON bodies without a document tree.
//!
//! [`Document::parse`] walks the body once and records a flat list of tokens (kind and byte
//! range into the body, 16 bytes each in Wasm), accepting exactly what `serde_json` accepts: the
//! same grammar, the same nesting limit, the same string escapes (paired surrogates only, no
//! raw control characters) and the same number range. Nothing is copied or decoded while
//! scanning. [`Document::leaves`] then gives every leaf and unusual key with its JSONPath, in the
//! order the inspection has always used (object keys in byte order, as `serde_json`'s map kept
//! them, so the value cap, the leaf limit and ties pick the same values); a string is unescaped
//! only when it contains `\`, a number is rewritten only when its text is not already the form
//! `serde_json` prints.
//!
//! One difference from a `serde_json::Value`: a key sent twice in one object keeps both values
//! (the map kept the last one). Parsers disagree on which one wins, so both are inspected.

use std::borrow::Cow;
use std::fmt::Write as _;

/// Containers nested deeper than this are refused, as `serde_json` refuses them (its recursion
/// limit of 128 lets 127 levels through).
pub const MAX_NESTING: usize = 127;

/// Below this depth values are flattened; a value at this depth is taken whole, as compact JSON.
pub const MAX_FLATTEN_DEPTH: usize = 64;

/// Longest operator object (`{"$ne": null}`) kept as one value.
pub const OPERATOR_OBJECT_CHARS: usize = 1024;

/// What a token is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// `{...}`.
    Object,
    /// `[...]`.
    Array,
    /// A string literal.
    String,
    /// A number literal.
    Number,
    /// `true`.
    True,
    /// `false`.
    False,
    /// `null`.
    Null,
}

#[derive(Debug, Clone, Copy)]
struct Token {
    kind: Kind,
    /// A string with `\` escapes; a number whose text is not the form `serde_json` prints.
    flag: bool,
    /// A string: its first byte after the quote; anything else: its first byte.
    start: u32,
    /// A string: its closing quote; anything else: one past its last byte.
    end: u32,
    /// The first token after this one's subtree.
    next: u32,
}

/// The body is not a JSON document as `serde_json` reads one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Malformed;

/// A scanned JSON document: the body text and its tokens.
#[derive(Debug)]
pub struct Document<'a> {
    text: &'a str,
    tokens: Vec<Token>,
}

fn skip_ws(b: &[u8], mut i: usize) -> usize {
    while matches!(b.get(i), Some(b' ' | b'\n' | b'\t' | b'\r')) {
        i += 1;
    }
    i
}

fn hex4(b: &[u8], at: usize) -> Option<u32> {
    let digits = b.get(at..at.checked_add(4)?)?;
    digits.iter().try_fold(0u32, |acc, &d| {
        let v = char::from(d).to_digit(16)?;
        Some(acc * 16 + v)
    })
}

/// The end of the escape at `b[j]` (a `\`) and the character it stands for, as `serde_json`
/// reads escapes: the eight short forms and `\uXXXX`, a surrogate only as a lead/trail pair.
fn escape(b: &[u8], j: usize) -> Option<(usize, char)> {
    let c = match *b.get(j + 1)? {
        b'"' => '"',
        b'\\' => '\\',
        b'/' => '/',
        b'b' => '\u{8}',
        b'f' => '\u{c}',
        b'n' => '\n',
        b'r' => '\r',
        b't' => '\t',
        b'u' => {
            let n = hex4(b, j + 2)?;
            return match n {
                0xDC00..=0xDFFF => None,
                0xD800..=0xDBFF => {
                    if b.get(j + 6) != Some(&b'\\') || b.get(j + 7) != Some(&b'u') {
                        return None;
                    }
                    let n2 = hex4(b, j + 8)?;
                    if !(0xDC00..=0xDFFF).contains(&n2) {
                        return None;
                    }
                    let c = char::from_u32(0x10000 + ((n - 0xD800) << 10) + (n2 - 0xDC00))?;
                    Some((j + 12, c))
                }
                _ => Some((j + 6, char::from_u32(n)?)),
            };
        }
        _ => return None,
    };
    Some((j + 2, c))
}

/// The contents of a JSON string literal (between the quotes) unescaped, or `None` where
/// `serde_json` would refuse it (a bad escape, a lone surrogate, a raw control character, a
/// trailing `\`).
pub fn unescape(contents: &str) -> Option<String> {
    let b = contents.as_bytes();
    let mut out = String::with_capacity(b.len());
    let mut run = 0;
    let mut i = 0;
    while let Some(&c) = b.get(i) {
        match c {
            b'\\' => {
                out.push_str(contents.get(run..i)?);
                let (next, ch) = escape(b, i)?;
                out.push(ch);
                i = next;
                run = next;
            }
            0..=0x1f => return None,
            _ => i += 1,
        }
    }
    out.push_str(contents.get(run..)?);
    Some(out)
}

/// Appends `s` as a JSON string literal the way `serde_json` writes one: `"` and `\` escaped,
/// control characters as `\b \t \n \f \r` or `\u00xx`, everything else as is.
pub fn write_string(out: &mut String, s: &str) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    out.push('"');
    let mut run = 0;
    for (i, b) in s.bytes().enumerate() {
        let short = match b {
            b'"' => '"',
            b'\\' => '\\',
            0x08 => 'b',
            0x09 => 't',
            0x0a => 'n',
            0x0c => 'f',
            0x0d => 'r',
            0..=0x1f => 'u',
            _ => continue,
        };
        out.push_str(s.get(run..i).unwrap_or(""));
        out.push('\\');
        out.push(short);
        if short == 'u' {
            out.push_str("00");
            out.push(char::from(HEX[usize::from(b >> 4)]));
            out.push(char::from(HEX[usize::from(b & 0xf)]));
        }
        run = i + 1;
    }
    out.push_str(s.get(run..).unwrap_or(""));
    out.push('"');
}

/// `a` and `b` in byte order (`Ord` for slices, without a `memcmp` call for keys that differ
/// early, as object keys do).
fn compare(a: &[u8], b: &[u8]) -> std::cmp::Ordering {
    for (x, y) in a.iter().zip(b) {
        if x != y {
            return x.cmp(y);
        }
    }
    a.len().cmp(&b.len())
}

/// An operator key (`$ne`, `$where`): its object is also taken whole.
fn is_operator(key: &str) -> bool {
    key.as_bytes().first() == Some(&b'$')
}

/// A key written as a path segment without brackets: `$.user.name`.
fn is_plain_key(k: &str) -> bool {
    !k.is_empty()
        && k.len() <= 64
        && k.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

impl<'a> Document<'a> {
    /// Scans `text` as one JSON document (surrounding whitespace allowed).
    pub fn parse(text: &'a str) -> Result<Document<'a>, Malformed> {
        let b = text.as_bytes();
        if u32::try_from(b.len()).is_err() {
            return Err(Malformed);
        }
        let mut doc = Document {
            text,
            tokens: Vec::with_capacity(b.len() / 8 + 1),
        };
        // Open containers, innermost last.
        let mut open: Vec<usize> = Vec::new();
        let mut i = skip_ws(b, 0);
        'value: loop {
            let c = *b.get(i).ok_or(Malformed)?;
            match c {
                b'{' | b'[' => {
                    if open.len() >= MAX_NESTING {
                        return Err(Malformed);
                    }
                    let kind = if c == b'{' { Kind::Object } else { Kind::Array };
                    open.push(doc.tokens.len());
                    doc.push(kind, false, i, 0);
                    i = skip_ws(b, i + 1);
                    let close = if c == b'{' { b'}' } else { b']' };
                    if b.get(i) != Some(&close) {
                        if kind == Kind::Object {
                            i = doc.key(i)?;
                        }
                        continue 'value;
                    }
                    // An empty container: closed just below.
                }
                b'"' => i = doc.string(i)?,
                b'-' | b'0'..=b'9' => i = doc.number(i)?,
                b't' => i = doc.literal(i, "true", Kind::True)?,
                b'f' => i = doc.literal(i, "false", Kind::False)?,
                b'n' => i = doc.literal(i, "null", Kind::Null)?,
                _ => return Err(Malformed),
            }
            // After a value: close containers until a comma starts the next value.
            loop {
                i = skip_ws(b, i);
                let Some(&top) = open.last() else {
                    return if i == b.len() {
                        Ok(doc)
                    } else {
                        Err(Malformed)
                    };
                };
                let object = doc.tokens.get(top).map(|t| t.kind) == Some(Kind::Object);
                match b.get(i) {
                    Some(b',') => {
                        i = skip_ws(b, i + 1);
                        if object {
                            i = doc.key(i)?;
                        }
                        continue 'value;
                    }
                    Some(b'}') if object => {}
                    Some(b']') if !object => {}
                    _ => return Err(Malformed),
                }
                let next = doc.tokens.len() as u32;
                if let Some(t) = doc.tokens.get_mut(top) {
                    t.end = (i + 1) as u32;
                    t.next = next;
                }
                open.pop();
                i += 1;
            }
        }
    }

    fn push(&mut self, kind: Kind, flag: bool, start: usize, end: usize) {
        let next = self.tokens.len() as u32 + 1;
        self.tokens.push(Token {
            kind,
            flag,
            start: start as u32,
            end: end as u32,
            next,
        });
    }

    /// A key at `i`, its colon and the whitespace after: where its value starts.
    fn key(&mut self, i: usize) -> Result<usize, Malformed> {
        let b = self.text.as_bytes();
        if b.get(i) != Some(&b'"') {
            return Err(Malformed);
        }
        let i = skip_ws(b, self.string(i)?);
        if b.get(i) != Some(&b':') {
            return Err(Malformed);
        }
        Ok(skip_ws(b, i + 1))
    }

    /// A string literal whose opening quote is at `i`; returns the position after its closing
    /// quote.
    fn string(&mut self, i: usize) -> Result<usize, Malformed> {
        let b = self.text.as_bytes();
        let start = i + 1;
        let mut j = start;
        let mut escaped = false;
        loop {
            match *b.get(j).ok_or(Malformed)? {
                b'"' => break,
                b'\\' => {
                    escaped = true;
                    j = escape(b, j).ok_or(Malformed)?.0;
                }
                0..=0x1f => return Err(Malformed),
                _ => j += 1,
            }
        }
        self.push(Kind::String, escaped, start, j);
        Ok(j + 1)
    }

    /// A number at `i`; returns the position after it.
    fn number(&mut self, i: usize) -> Result<usize, Malformed> {
        let b = self.text.as_bytes();
        let digits = |mut j: usize| {
            while matches!(b.get(j), Some(b'0'..=b'9')) {
                j += 1;
            }
            j
        };
        let negative = b.get(i) == Some(&b'-');
        let int_start = i + usize::from(negative);
        let mut j = match b.get(int_start) {
            Some(b'0') => int_start + 1,
            Some(b'1'..=b'9') => digits(int_start + 1),
            _ => return Err(Malformed),
        };
        let int_digits = j - int_start;
        let mut integer = true;
        if b.get(j) == Some(&b'.') {
            integer = false;
            let end = digits(j + 1);
            if end == j + 1 {
                return Err(Malformed);
            }
            j = end;
        }
        if matches!(b.get(j), Some(b'e' | b'E')) {
            integer = false;
            j += 1;
            if matches!(b.get(j), Some(b'+' | b'-')) {
                j += 1;
            }
            let end = digits(j);
            if end == j {
                return Err(Malformed);
            }
            j = end;
        }
        // serde_json keeps an integer that fits an u64 (or, negative, an i64) and prints it as
        // sent; `-0`, anything longer and any fraction or exponent become an f64, which it
        // prints its own way and refuses when out of range.
        let as_sent = integer
            && if negative {
                int_digits <= 18 && b.get(int_start) != Some(&b'0')
            } else {
                int_digits <= 19
            };
        if !as_sent {
            let literal = self.text.get(i..j).ok_or(Malformed)?;
            serde_json::from_str::<serde_json::Number>(literal).map_err(|_| Malformed)?;
        }
        self.push(Kind::Number, !as_sent, i, j);
        Ok(j)
    }

    fn literal(&mut self, i: usize, word: &str, kind: Kind) -> Result<usize, Malformed> {
        let end = i + word.len();
        if self.text.as_bytes().get(i..end) != Some(word.as_bytes()) {
            return Err(Malformed);
        }
        self.push(kind, false, i, end);
        Ok(end)
    }

    /// Number of tokens (values and keys).
    pub fn len(&self) -> usize {
        self.tokens.len()
    }

    /// No token (never true for a parsed document).
    pub fn is_empty(&self) -> bool {
        self.tokens.is_empty()
    }

    fn token(&self, t: usize) -> Option<Token> {
        self.tokens.get(t).copied()
    }

    fn raw(&self, tok: Token) -> &'a str {
        self.text
            .get(tok.start as usize..tok.end as usize)
            .unwrap_or("")
    }

    /// The text of a string token, unescaped only when it has escapes.
    fn string_text(&self, tok: Token) -> Cow<'a, str> {
        let raw = self.raw(tok);
        if tok.flag {
            Cow::Owned(unescape(raw).unwrap_or_else(|| raw.to_string()))
        } else {
            Cow::Borrowed(raw)
        }
    }

    /// A number as `serde_json` prints it: as sent unless it became an f64.
    fn number_text(&self, tok: Token) -> Cow<'a, str> {
        let raw = self.raw(tok);
        if !tok.flag {
            return Cow::Borrowed(raw);
        }
        match serde_json::from_str::<serde_json::Number>(raw) {
            Ok(n) => Cow::Owned(n.to_string()),
            Err(_) => Cow::Borrowed(raw),
        }
    }

    fn key_text(&self, t: usize) -> Cow<'a, str> {
        self.token(t)
            .map(|tok| self.string_text(tok))
            .unwrap_or(Cow::Borrowed(""))
    }

    /// The children of container `t` in document order: for an object, the key of each member
    /// (its value is the next token).
    fn children(&self, t: usize) -> impl Iterator<Item = usize> + '_ {
        let (end, object) = match self.token(t) {
            Some(tok) if matches!(tok.kind, Kind::Object | Kind::Array) => {
                (tok.next as usize, tok.kind == Kind::Object)
            }
            _ => (t, false),
        };
        let mut c = t + 1;
        std::iter::from_fn(move || {
            if c >= end {
                return None;
            }
            let here = c;
            let value = here + usize::from(object);
            let next = self.token(value).map_or(end, |v| v.next as usize);
            c = next.max(here + 1);
            Some(here)
        })
    }

    /// The raw bytes of key `t` when it has no escapes (they are then its text).
    fn plain_key(&self, t: usize) -> Option<&'a [u8]> {
        let tok = self.token(t)?;
        (!tok.flag).then(|| self.raw(tok).as_bytes())
    }

    /// Key `t` is an operator (`$ne`).
    fn is_operator_key(&self, t: usize) -> bool {
        match self.plain_key(t) {
            Some(key) => key.first() == Some(&b'$'),
            None => is_operator(&self.key_text(t)),
        }
    }

    /// Appends the member keys of object `t` to `scratch`, ordered by key bytes (the order of
    /// `serde_json`'s map); a key sent twice keeps both, in the order sent.
    fn sorted_members(&self, t: usize, scratch: &mut Vec<usize>) {
        let base = scratch.len();
        let mut escaped = false;
        let mut sorted = true;
        let mut prev: &[u8] = &[];
        for k in self.children(t) {
            match self.plain_key(k) {
                Some(key) => {
                    sorted &= compare(prev, key).is_le();
                    prev = key;
                }
                None => escaped = true,
            }
            scratch.push(k);
        }
        let Some(members) = scratch.get_mut(base..) else {
            return;
        };
        if escaped {
            members.sort_by(|&a, &b| self.key_text(a).cmp(&self.key_text(b)));
        } else if !sorted {
            members.sort_by(|&a, &b| {
                compare(
                    self.plain_key(a).unwrap_or_default(),
                    self.plain_key(b).unwrap_or_default(),
                )
            });
        }
    }

    /// Appends value `t` as compact JSON (keys in byte order) to `out`, stopping once `out` is
    /// longer than `limit` bytes.
    fn write_compact(&self, t: usize, out: &mut String, limit: usize, scratch: &mut Vec<usize>) {
        let Some(tok) = self.token(t) else {
            return;
        };
        if out.len() > limit {
            return;
        }
        match tok.kind {
            Kind::Object => {
                out.push('{');
                let base = scratch.len();
                self.sorted_members(t, scratch);
                for m in base..scratch.len() {
                    let Some(&k) = scratch.get(m) else { break };
                    if m > base {
                        out.push(',');
                    }
                    write_string(out, &self.key_text(k));
                    out.push(':');
                    self.write_compact(k + 1, out, limit, scratch);
                    if out.len() > limit {
                        break;
                    }
                }
                scratch.truncate(base);
                out.push('}');
            }
            Kind::Array => {
                out.push('[');
                for (n, c) in self.children(t).enumerate() {
                    if n > 0 {
                        out.push(',');
                    }
                    self.write_compact(c, out, limit, scratch);
                    if out.len() > limit {
                        break;
                    }
                }
                out.push(']');
            }
            Kind::String => write_string(out, &self.string_text(tok)),
            Kind::Number => out.push_str(&self.number_text(tok)),
            Kind::True => out.push_str("true"),
            Kind::False => out.push_str("false"),
            Kind::Null => out.push_str("null"),
        }
    }

    /// The document as compact JSON, keys in byte order (what `serde_json` prints for it when
    /// no key repeats).
    pub fn to_compact(&self) -> String {
        let mut out = String::new();
        self.write_compact(0, &mut out, usize::MAX, &mut Vec::new());
        out
    }

    /// Calls `sink(path, value)` for each inspected leaf, at most `max_leaves` times from the
    /// flattening itself (unusual keys can add a few more, as they always have):
    ///
    /// - a string (unescaped) or a number (as `serde_json` prints it) under its JSONPath
    ///   (`$.user.tags[1]`, `$["weird key"]`); `true`, `false` and `null` are skipped;
    /// - an object with an operator key (`{"$ne": null}`, NoSQL injection) whole, as compact
    ///   JSON of at most [`OPERATOR_OBJECT_CHARS`] bytes, under its own path, before its members;
    /// - any other unusual key under `path[<key>]#key`;
    /// - a value [`MAX_FLATTEN_DEPTH`] deep whole, as compact JSON (cut after `max_value_bytes`).
    pub fn leaves<F>(&self, max_leaves: usize, max_value_bytes: usize, sink: F)
    where
        F: FnMut(&str, Cow<'a, str>),
    {
        let mut walk = Walk {
            doc: self,
            max_leaves,
            max_value_bytes,
            emitted: 0,
            path: String::from("$"),
            scratch: Vec::new(),
            sink,
        };
        if !self.tokens.is_empty() {
            walk.value(0, 0);
        }
    }
}

struct Walk<'d, 'a, F> {
    doc: &'d Document<'a>,
    max_leaves: usize,
    max_value_bytes: usize,
    emitted: usize,
    path: String,
    scratch: Vec<usize>,
    sink: F,
}

impl<'a, F: FnMut(&str, Cow<'a, str>)> Walk<'_, 'a, F> {
    fn emit(&mut self, value: Cow<'a, str>) {
        self.emitted += 1;
        (self.sink)(&self.path, value);
    }

    /// Emits `value` under `path#key`: the key itself, or for a plain key the path that ends
    /// in it (`constructor.prototype`, without the `$.`).
    fn emit_key(&mut self, value: Cow<'a, str>) {
        let child = self.path.len();
        self.path.push_str("#key");
        self.emit(value);
        self.path.truncate(child);
    }

    fn compact(&mut self, t: usize, limit: usize) -> String {
        let mut out = String::new();
        self.doc
            .write_compact(t, &mut out, limit, &mut self.scratch);
        out
    }

    fn value(&mut self, t: usize, depth: usize) {
        let doc = self.doc;
        let Some(tok) = doc.token(t) else {
            return;
        };
        if self.emitted >= self.max_leaves {
            return;
        }
        if depth >= MAX_FLATTEN_DEPTH {
            let text = self.compact(t, self.max_value_bytes);
            self.emit(Cow::Owned(text));
            return;
        }
        match tok.kind {
            Kind::Object => {
                let base = self.scratch.len();
                doc.sorted_members(t, &mut self.scratch);
                let end = self.scratch.len();
                let operator = self
                    .scratch
                    .get(base..end)
                    .is_some_and(|m| m.iter().any(|&k| doc.is_operator_key(k)));
                if operator {
                    let mut text = self.compact(t, OPERATOR_OBJECT_CHARS);
                    text.truncate(super::floor_char_boundary(&text, OPERATOR_OBJECT_CHARS));
                    self.emit(Cow::Owned(text));
                }
                for m in base..end {
                    let Some(&k) = self.scratch.get(m) else { break };
                    let key = doc.key_text(k);
                    let parent = self.path.len();
                    let plain = is_plain_key(&key);
                    if plain {
                        self.path.push('.');
                        self.path.push_str(&key);
                    } else {
                        self.path.push('[');
                        write_string(&mut self.path, &key);
                        self.path.push(']');
                    }
                    if !plain && !is_operator(&key) {
                        self.emit_key(key);
                    } else if plain
                        && (!crate::features::name_is_inert(&key)
                            || (key.eq_ignore_ascii_case("prototype")
                                && self.path.get(..parent).is_some_and(|p| {
                                    p.to_ascii_lowercase().ends_with(".constructor")
                                })))
                    {
                        // A plain key with a needle (`java.lang.Runtime` cannot be plain, but
                        // `xmldecoder` is) or a prototype step: the key path itself is scored.
                        let text = self.path.strip_prefix("$.").unwrap_or(&self.path);
                        self.emit_key(Cow::Owned(text.to_string()));
                    }
                    self.value(k + 1, depth + 1);
                    self.path.truncate(parent);
                }
                self.scratch.truncate(base);
            }
            Kind::Array => {
                for (i, c) in doc.children(t).enumerate() {
                    let parent = self.path.len();
                    let _ = write!(self.path, "[{i}]");
                    self.value(c, depth + 1);
                    self.path.truncate(parent);
                }
            }
            Kind::String => self.emit(doc.string_text(tok)),
            Kind::Number => self.emit(doc.number_text(tok)),
            Kind::True | Kind::False | Kind::Null => {}
        }
    }
}

/// String literals of a JSON text that may be cut off or broken, with the nearest key before
/// each (`""` when none): `sink(key, value)` for up to `max` values; returns how many. A literal
/// followed by `:` is a key; an unterminated last literal is taken as far as it goes; a literal
/// whose escapes do not decode is taken as written.
pub fn strings_lenient<'t, F>(text: &'t str, max: usize, mut sink: F) -> usize
where
    F: FnMut(&str, Cow<'t, str>),
{
    let bytes = text.as_bytes();
    let mut key: Cow<'t, str> = Cow::Borrowed("");
    let mut found = 0;
    let mut i = 0;
    while found < max {
        let Some(start) = bytes
            .get(i..)
            .and_then(|rest| rest.iter().position(|&b| b == b'"'))
            .map(|p| i + p)
        else {
            break;
        };
        i = start + 1;
        while let Some(&b) = bytes.get(i) {
            if b == b'"' {
                break;
            }
            i += if b == b'\\' { 2 } else { 1 };
        }
        let end = i.min(bytes.len());
        i = end + 1;
        // `end` is a closing quote or the end of the text: a char boundary.
        let contents = text.get(start + 1..end).unwrap_or("");
        let plain = !contents.bytes().any(|b| b == b'\\' || b < 0x20);
        let value = if plain {
            Cow::Borrowed(contents)
        } else {
            unescape(contents).map_or(Cow::Borrowed(contents), Cow::Owned)
        };
        let next = bytes
            .get(i..)
            .and_then(|rest| rest.iter().find(|b| !b.is_ascii_whitespace()));
        if next == Some(&b':') {
            key = value;
        } else {
            sink(&key, value);
            key = Cow::Borrowed("");
            found += 1;
        }
    }
    found
}

#[cfg(test)]
mod tests;
