//! The one feature extractor: a scored value becomes a fixed-length `f32` vector.
//!
//! The training pipeline calls this same code through `apiward featurize`, so training and
//! serving cannot drift. Any change to what a feature means must bump [`SCHEMA_VERSION`]; a model
//! trained on another schema is refused at load.

mod header_grammar;
mod host;
mod inert;
mod keywords;
mod magic;
mod shape;

pub use header_grammar::header_is_inert;
pub use inert::{
    hides_code, is_identifier_name, is_inert, is_left_out, is_prototype_path, name_is_inert,
    MAX_INERT_BYTES, MAX_INERT_NAME_BYTES,
};
pub use shape::SHAPE_BUCKETS;

use crate::decode;
use crate::hash::{hash64, hash64_parts};
use crate::request::{ssrf_exempt, InspectedValue, Location, LocationGroup, LocationKind};

/// Version of the feature schema; models record the version they were trained on.
pub const SCHEMA_VERSION: u32 = 9;

/// Buckets of the hashed n-gram block.
pub const NGRAM_BUCKETS: usize = 4096;

/// Classes the detector knows, in label-index order (`apiward featurize` writes these indices).
pub const CLASSES: [&str; 14] = [
    "benign",
    "sqli",
    "nosqli",
    "xss",
    "cmdi",
    "path_traversal",
    "ssrf",
    "xxe",
    "ssti",
    "jndi",
    "crlf",
    "deserialization",
    "ldap",
    "open_redirect",
];

/// Characters counted individually (after decoding).
const COUNTED_CHARS: &[(char, &str)] = &[
    ('\'', "squote"),
    ('"', "dquote"),
    ('<', "lt"),
    ('>', "gt"),
    ('(', "lparen"),
    (')', "rparen"),
    (';', "semicolon"),
    ('|', "pipe"),
    ('&', "amp"),
    ('$', "dollar"),
    ('`', "backtick"),
    ('{', "lbrace"),
    ('}', "rbrace"),
    ('[', "lbracket"),
    (']', "rbracket"),
    ('\\', "backslash"),
    ('/', "slash"),
    ('=', "equals"),
    ('#', "hash"),
    ('*', "star"),
    (',', "comma"),
    (':', "colon"),
    ('!', "bang"),
    ('+', "plus"),
    ('%', "percent"),
    ('@', "at"),
    ('~', "tilde"),
    ('\n', "newline"),
    ('\r', "cr"),
];

const GENERAL_STATS: &[&str] = &[
    "len_log",
    "entropy",
    "frac_alpha",
    "frac_digit",
    "frac_space",
    "frac_punct",
    "frac_upper",
    "frac_nonascii",
    "decode_passes",
    "had_nul",
    "max_punct_run",
    "event_handler",
    "internal_host",
    "serialized_object",
    "b64_code_keywords",
];

const SEED_CHAR3: u64 = 1;
const SEED_TOKEN: u64 = 2;
const SEED_BIGRAM: u64 = 3;

// Bucket indices are kept as u16 while counting.
const _: () = assert!(NGRAM_BUCKETS <= 1 << 16);
const _: () = assert!(shape::SHAPE_BUCKETS <= 1 << 16);
const SHAPE_OFFSET: usize = NGRAM_BUCKETS;
const STATS_OFFSET: usize = SHAPE_OFFSET + shape::SHAPE_BUCKETS;
const CHARS_OFFSET: usize = STATS_OFFSET + GENERAL_STATS.len();
const KEYWORDS_OFFSET: usize = CHARS_OFFSET + COUNTED_CHARS.len();
const LOCATION_OFFSET: usize = KEYWORDS_OFFSET + keywords::FAMILIES.len();

/// Set when the value sits where the client is sent back to (`redirect_uri`, `returnTo`, ...).
const RETURN_TARGET_OFFSET: usize = LOCATION_OFFSET + LocationGroup::ALL.len();

/// Length of a feature vector.
pub const FEATURE_DIM: usize = RETURN_TARGET_OFFSET + 1;

/// Index of a class name in [`CLASSES`].
pub fn class_index(name: &str) -> Option<usize> {
    CLASSES.iter().position(|c| *c == name)
}

/// Human-readable name of every feature, in vector order.
pub fn feature_names() -> Vec<String> {
    let mut names: Vec<String> = (0..NGRAM_BUCKETS).map(|i| format!("ngram_{i}")).collect();
    names.extend((0..shape::SHAPE_BUCKETS).map(|i| format!("shape_{i}")));
    names.extend(GENERAL_STATS.iter().map(|s| s.to_string()));
    names.extend(COUNTED_CHARS.iter().map(|(_, n)| format!("count_{n}")));
    names.extend(keywords::FAMILIES.iter().map(|f| format!("kw_{}", f.name)));
    names.extend(
        LocationGroup::ALL
            .iter()
            .map(|g| format!("loc_{}", g.as_str())),
    );
    names.push("loc_return_target".to_string());
    names
}

/// The nonzero features of one value, indices ascending and distinct: what the model reads.
///
/// Most of a row is the hashed n-gram block, and a value has a few dozen n-grams out of 4096
/// buckets, so the filter never materialises the dense vector.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SparseRow {
    /// Feature indices, ascending, below [`FEATURE_DIM`].
    pub idx: Vec<u32>,
    /// Values, same length as `idx`, all nonzero.
    pub val: Vec<f32>,
}

impl SparseRow {
    /// Number of nonzero features.
    pub fn len(&self) -> usize {
        self.idx.len()
    }

    /// No nonzero feature.
    pub fn is_empty(&self) -> bool {
        self.idx.is_empty()
    }

    /// Writes the row into `out` (length [`FEATURE_DIM`], every slot overwritten).
    pub fn scatter(&self, out: &mut [f32]) {
        out.iter_mut().for_each(|x| *x = 0.0);
        for (&i, &v) in self.idx.iter().zip(&self.val) {
            out[i as usize] = v;
        }
    }

    fn push(&mut self, i: usize, v: f32) {
        if v != 0.0 {
            self.idx.push(i as u32);
            self.val.push(v);
        }
    }
}

/// Index in [`COUNTED_CHARS`] of each ASCII byte.
fn counted_slots() -> &'static [Option<u8>; 128] {
    static SLOTS: std::sync::OnceLock<[Option<u8>; 128]> = std::sync::OnceLock::new();
    SLOTS.get_or_init(|| {
        let mut slots = [None; 128];
        for (i, (c, _)) in COUNTED_CHARS.iter().enumerate() {
            slots[*c as usize] = Some(i as u8);
        }
        slots
    })
}

/// Writes the features of `value` into `out` (length [`FEATURE_DIM`], every slot overwritten).
pub fn extract(value: &InspectedValue, out: &mut [f32]) {
    debug_assert_eq!(out.len(), FEATURE_DIM);
    extract_sparse(value).scatter(out);
}

/// The features of `value` as a [`SparseRow`].
pub fn extract_sparse(value: &InspectedValue) -> SparseRow {
    let normalized = decode::decoded(&value.raw);
    let text: &str = &normalized.text;
    let lower = lowercase(text);
    let canonical = canonicalize(&lower);

    let mut row = SparseRow::default();
    ngrams(&canonical, &mut row);

    let n_chars = text.chars().count().max(1) as f32;
    let (mut alpha, mut digit, mut space, mut punct, mut upper, mut nonascii) =
        (0usize, 0usize, 0usize, 0usize, 0usize, 0usize);
    let mut run = 0usize;
    let mut max_run = 0usize;
    let mut char_counts = [0u8; COUNTED_CHARS.len()];
    // Byte counts for the entropy, taken in the same pass.
    let mut bytes = [0u32; 256];
    let slots = counted_slots();
    for c in text.chars() {
        if c.is_ascii() {
            let b = c as u8;
            bytes[usize::from(b)] += 1;
            if let Some(i) = slots[usize::from(b)] {
                char_counts[usize::from(i)] = char_counts[usize::from(i)].saturating_add(1);
            }
            alpha += usize::from(b.is_ascii_alphabetic());
            digit += usize::from(b.is_ascii_digit());
            // `char::is_whitespace` on ASCII: space, \t, \n, \x0b, \x0c, \r.
            space += usize::from(matches!(b, b' ' | b'\t'..=b'\r'));
            upper += usize::from(b.is_ascii_uppercase());
        } else {
            let mut utf8 = [0u8; 4];
            for &b in c.encode_utf8(&mut utf8).as_bytes() {
                bytes[usize::from(b)] += 1;
            }
            nonascii += 1;
            alpha += usize::from(c.is_alphabetic());
            space += usize::from(c.is_whitespace());
            upper += usize::from(c.is_uppercase());
        }
        if c.is_ascii_punctuation() {
            punct += 1;
            run += 1;
            max_run = max_run.max(run);
        } else {
            run = 0;
        }
    }
    let stats: [f32; GENERAL_STATS.len()] = [
        ((text.len() as f32).ln_1p() / (crate::request::MAX_VALUE_CHARS as f32).ln_1p()).min(1.0),
        entropy(&bytes, text.len()) / 8.0,
        alpha as f32 / n_chars,
        digit as f32 / n_chars,
        space as f32 / n_chars,
        punct as f32 / n_chars,
        upper as f32 / n_chars,
        nonascii as f32 / n_chars,
        f32::from(normalized.passes) / f32::from(decode::MAX_DECODE_PASSES),
        f32::from(u8::from(normalized.had_nul)),
        (max_run as f32 / 16.0).min(1.0),
        f32::from(u8::from(keywords::has_event_handler(&lower))),
        f32::from(u8::from(host::names_internal_host(&lower))),
        f32::from(u8::from(magic::has_serialized_object(text))),
        (magic::decoded_code_keywords(text.as_bytes()).min(4) as f32) / 4.0,
    ];
    for (i, v) in stats.into_iter().enumerate() {
        row.push(STATS_OFFSET + i, v);
    }
    for (i, count) in char_counts.into_iter().enumerate() {
        row.push(CHARS_OFFSET + i, f32::from(count.min(8)) / 8.0);
    }
    let spaced = fold_spaces(&lower);
    let hits = match strip_sql_comments(&spaced) {
        Some(bare) => keywords::family_hits_any(&[&spaced, &fold_spaces(&bare)]),
        None => keywords::family_hits(&spaced),
    };
    for (i, hits) in hits.into_iter().enumerate() {
        row.push(KEYWORDS_OFFSET + i, hits.min(4) as f32 / 4.0);
    }
    let (group, return_target) = location_inputs(&value.location);
    row.push(LOCATION_OFFSET + group as usize, 1.0);
    if return_target {
        row.push(RETURN_TARGET_OFFSET, 1.0);
    }
    row
}

/// All the features read of a value's location: its group (a header's by its name), and
/// whether it names where the client is sent back to (`redirect_uri`, `returnTo`). A value's
/// row depends on these and its bytes alone, so the score cache keys on them
/// ([`crate::scorecache::ScoreCache::key`]).
pub fn location_inputs(location: &Location) -> (LocationGroup, bool) {
    (
        LocationGroup::of(location),
        location.kind != LocationKind::Header && ssrf_exempt(location),
    )
}

/// Base letters of U+00C0..=U+017F (Latin-1 Supplement letters and Latin Extended-A), `.` where
/// the code point is no letter (`×`, `÷`).
const LATIN_BASE: &[u8; 192] = b"aaaaaaaceeeeiiiidnooooo.ouuuuytsaaaaaaaceeeeiiiidnooooo.ouuuuyty\
aaaaaaccccccccddddeeeeeeeeeegggggggghhhhiiiiiiiiiiiijjkkkllllllllllnnnnnnnnnoooooooorrrrrrsssssssstttttt\
uuuuuuuuuuuuwwyyyzzzzzzs";

/// The unaccented ASCII letter of an accented Latin letter (`é` → `e`, `ł` → `l`), so that words
/// in French, German, Spanish or Polish look like the words the model saw in training.
fn latin_base(c: char) -> Option<char> {
    let i = (c as usize).checked_sub(0xC0)?;
    let b = *LATIN_BASE.get(i)?;
    (b != b'.').then_some(char::from(b))
}

/// Placeholder for a run of non-ASCII letters in the canonical text.
const NON_ASCII_LETTERS: char = '\u{1}';
/// Placeholder for a run of other non-ASCII characters (symbols, emoji, CJK punctuation).
const NON_ASCII_OTHER: char = '\u{2}';

/// Lower-cased text with digits folded to `0`, whitespace runs folded to one space and each run
/// of non-ASCII letters (or of other non-ASCII characters) folded to one placeholder, so that ids
/// and numbers generalise, spacing tricks do not change the n-grams, and words in other scripts
/// (which injections do not need) do not hash into buckets the model has barely seen.
fn canonicalize(lower: &str) -> String {
    let mut out = String::with_capacity(lower.len());
    let mut last: Option<char> = None;
    for c in lower.chars() {
        let mapped = if c.is_whitespace() {
            ' '
        } else if c.is_ascii_digit() {
            '0'
        } else if c.is_ascii() {
            c
        } else if let Some(base) = latin_base(c) {
            base
        } else if c.is_alphabetic() {
            NON_ASCII_LETTERS
        } else {
            NON_ASCII_OTHER
        };
        if matches!(mapped, ' ' | NON_ASCII_LETTERS | NON_ASCII_OTHER) && last == Some(mapped) {
            continue;
        }
        out.push(mapped);
        last = Some(mapped);
    }
    out
}

/// Hashed character 3-grams, word tokens and token bigrams, then the role n-grams of the tokens
/// ([`shape`]), each block as log counts, L2-normalised, appended to `row` in ascending order.
fn ngrams(canonical: &str, row: &mut SparseRow) {
    const BUCKETS: u64 = NGRAM_BUCKETS as u64;
    let bytes = canonical.as_bytes();
    let mut hits: Vec<u16> = Vec::with_capacity(bytes.len() * 2 + 1);
    for w in bytes.windows(3) {
        hits.push((hash64(SEED_CHAR3, w) % BUCKETS) as u16);
    }
    if bytes.len() < 3 && !bytes.is_empty() {
        hits.push((hash64(SEED_CHAR3, bytes) % BUCKETS) as u16);
    }
    let mut prev: Option<&str> = None;
    // One pass over the tokens serves both blocks: the role block reads the first ones.
    let mut head: Vec<&str> = Vec::new();
    for token in tokens(canonical) {
        hits.push((hash64(SEED_TOKEN, token.as_bytes()) % BUCKETS) as u16);
        if let Some(p) = prev {
            let pair = hash64_parts(SEED_BIGRAM, &[p.as_bytes(), b" ", token.as_bytes()]);
            hits.push((pair % BUCKETS) as u16);
        }
        prev = Some(token);
        if head.len() < shape::MAX_TOKENS {
            head.push(token);
        }
    }
    push_block(&mut hits, 0, row);
    hits.clear();
    let roles = shape::roles(&head);
    // A value of one or two tokens has no shape beyond its n-grams; given one, a bare `\n` or
    // a lone word read as its few rare anchored n-grams, which training had mostly in attacks.
    if roles.len() >= shape::MIN_ROLES {
        shape::shape_hits(&roles, &mut hits);
        push_block(&mut hits, SHAPE_OFFSET, row);
    }
}

/// The bucket hits of one hashed block as log counts at `offset + bucket`, L2-normalised.
fn push_block(hits: &mut [u16], offset: usize, row: &mut SparseRow) {
    hits.sort_unstable();
    let start = row.idx.len();
    let mut norm = 0.0f32;
    for run in hits.chunk_by(|a, b| a == b) {
        // Counts are small integers, exact in f32.
        let x = (run.len() as f32).ln_1p();
        norm += x * x;
        row.idx.push((offset + usize::from(run[0])) as u32);
        row.val.push(x);
    }
    if norm > 0.0 {
        let inv = 1.0 / norm.sqrt();
        row.val[start..].iter_mut().for_each(|x| *x *= inv);
    }
}

/// A character of a word token: a letter or digit of any script, or `_`.
fn word_char(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

/// Words (`[a-z0-9_]+`, other letters included) and single punctuation characters.
fn tokens(text: &str) -> impl Iterator<Item = &str> {
    let mut rest = text;
    std::iter::from_fn(move || {
        rest = rest.trim_start();
        let first = rest.chars().next()?;
        let len = if word_char(first) {
            rest.find(|c: char| !word_char(c)).unwrap_or(rest.len())
        } else {
            first.len_utf8()
        };
        let (token, tail) = rest.split_at(len);
        rest = tail;
        Some(token)
    })
}

/// Lower-cased `text`, borrowed when it is ASCII without capitals.
fn lowercase(text: &str) -> std::borrow::Cow<'_, str> {
    if !text.is_ascii() {
        return std::borrow::Cow::Owned(text.to_lowercase());
    }
    if text.bytes().any(|b| b.is_ascii_uppercase()) {
        return std::borrow::Cow::Owned(text.to_ascii_lowercase());
    }
    std::borrow::Cow::Borrowed(text)
}

/// `lower` with every run of ASCII whitespace (space, `\t`, `\n`, `\x0b`, `\x0c`, `\r`) folded
/// to one space, for the keyword needles: a parser reads `union\x0c\tselect` or `union  select`
/// as `union select`, so the needles must too (sqlmap's `space2randomblank` and `multiplespaces`
/// tampers passed as boolean oracles before schema 5). Borrowed when there is nothing to fold.
fn fold_spaces(lower: &str) -> std::borrow::Cow<'_, str> {
    let bytes = lower.as_bytes();
    let needs = bytes.windows(2).any(|w| w[0] == b' ' && w[1] == b' ')
        || bytes.iter().any(|&b| matches!(b, b'\t'..=b'\r'));
    if !needs {
        return std::borrow::Cow::Borrowed(lower);
    }
    let mut out = String::with_capacity(lower.len());
    let mut in_space = false;
    for c in lower.chars() {
        if matches!(c, ' ' | '\t'..='\r') {
            if !in_space {
                out.push(' ');
            }
            in_space = true;
        } else {
            out.push(c);
            in_space = false;
        }
    }
    std::borrow::Cow::Owned(out)
}

/// `lower` with its SQL comments read as the blank a SQL parser reads them as, or `None` when it
/// has none: `/*…*/` and `--…`/`#…` up to a line break become a space, and a MySQL versioned
/// comment `/*!50000 … */` keeps its content. sqlmap's `space2comment`, `space2dash`,
/// `space2hash` and `versionedkeywords` tampers split keywords this way (`union--x\nselect`);
/// the needles read both this and the text as sent, so `--` and `/*` still count themselves.
/// A comment that never closes is left as it is.
fn strip_sql_comments(lower: &str) -> Option<String> {
    let b = lower.as_bytes();
    // Once the search for a `*/` (or a line break) fails, it fails for every later opener too:
    // each is searched for at most once past that point, and the scan stays linear however
    // many unclosed openers a value holds.
    let mut block_closes = true;
    let mut line_ends = true;
    let mut out: Option<String> = None;
    let mut i = 0;
    let mut copied = 0;
    while i < b.len() {
        let end = match (b[i], b.get(i + 1)) {
            (b'/', Some(b'*')) if b.get(i + 2) == Some(&b'!') => {
                // Versioned comment: its opener (and version digits) is the blank.
                let mut j = i + 3;
                while j < b.len() && b[j].is_ascii_digit() {
                    j += 1;
                }
                Some(j)
            }
            (b'/', Some(b'*')) if block_closes => {
                let end = lower[i + 2..].find("*/").map(|k| i + 2 + k + 2);
                block_closes = end.is_some();
                end
            }
            (b'*', Some(b'/')) => Some(i + 2),
            (b'-', Some(b'-')) | (b'#', _) if line_ends => {
                let end = lower[i..].find('\n').map(|k| i + k + 1);
                line_ends = end.is_some();
                end
            }
            _ => None,
        };
        match end {
            Some(j) => {
                let o = out.get_or_insert_with(|| String::with_capacity(lower.len()));
                o.push_str(&lower[copied..i]);
                o.push(' ');
                i = j;
                copied = j;
            }
            None => i += 1,
        }
    }
    let mut out = out?;
    out.push_str(&lower[copied..]);
    Some(out)
}

/// Shannon entropy in bits per byte of a text of `len` bytes, from its byte counts.
fn entropy(counts: &[u32; 256], len: usize) -> f32 {
    if len == 0 {
        return 0.0;
    }
    let n = len as f32;
    counts
        .iter()
        .filter(|&&c| c > 0)
        .map(|&c| {
            let p = c as f32 / n;
            -p * p.log2()
        })
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn value(kind: LocationKind, raw: &str) -> InspectedValue {
        InspectedValue::new(kind, "x", raw)
    }

    fn features(kind: LocationKind, raw: &str) -> Vec<f32> {
        let mut out = vec![f32::NAN; FEATURE_DIM];
        extract(&value(kind, raw), &mut out);
        out
    }

    fn named(f: &[f32], name: &str) -> f32 {
        let i = feature_names().iter().position(|n| n == name).unwrap();
        f[i]
    }

    #[test]
    fn keyword_needles_see_through_control_whitespace_and_space_runs() {
        let plain = features(
            LocationKind::Query,
            "1 union all select null,null from users",
        );
        for tampered in [
            "1\tunion\x0call\rselect\nnull,null\x0bfrom\tusers",
            "1  union   all  select null,null   from users",
            "1%09union%0Call%0Dselect%0Anull,null%0Bfrom%09users",
        ] {
            let f = features(LocationKind::Query, tampered);
            assert_eq!(named(&f, "kw_sql"), named(&plain, "kw_sql"), "{tampered:?}");
            assert!(named(&f, "kw_sql") > 0.0);
        }
        assert!(matches!(fold_spaces("a b"), std::borrow::Cow::Borrowed(_)));
        assert_eq!(fold_spaces("a \t\r\n b\x0cc"), "a b c");
    }

    #[test]
    fn keyword_needles_read_sql_comments_as_blanks() {
        let plain = named(
            &features(LocationKind::Query, "1 union select null from users"),
            "kw_sql",
        );
        for (tampered, extra) in [
            ("1 union--abc\nselect null from users", "--"),
            ("1 union#q1\nselect null from users", ""),
            ("1/**/union/**/select/**/null/**/from/**/users", "/*"),
            ("1 /*!50000union*/ /*!select*/ null from users", "/*"),
            ("1%20union--x%0aselect%20null%20from%20users", "--"),
        ] {
            let f = named(&features(LocationKind::Query, tampered), "kw_sql");
            assert!(f >= plain, "{tampered:?}: {f} < {plain}");
            if !extra.is_empty() {
                assert!(f > plain, "{tampered:?} should also count {extra}");
            }
        }
        assert_eq!(
            strip_sql_comments("union/*x*/select--a\nfrom#b\nt /*!50000and*/ 1"),
            Some("union select from t  and  1".to_owned())
        );
        // Nothing to strip, or a comment that never closes: as sent.
        assert_eq!(strip_sql_comments("a - b / c"), None);
        assert_eq!(strip_sql_comments("a /* b"), None);
        assert_eq!(strip_sql_comments("1 or 1=1-- end"), None);
        assert_eq!(
            strip_sql_comments("union/*a*/select -- x /* y"),
            Some("union select -- x /* y".to_owned())
        );
    }

    #[test]
    fn names_match_dimension_and_classes_start_with_benign() {
        assert_eq!(feature_names().len(), FEATURE_DIM);
        assert_eq!(CLASSES[0], "benign");
        assert_eq!(class_index("ldap"), Some(12));
    }

    #[test]
    fn every_slot_is_finite_and_bounded() {
        for raw in [
            "",
            "a",
            "' OR 1=1 --",
            &"x".repeat(9000),
            "\u{1F600}\0\r\n%%%",
        ] {
            let f = features(LocationKind::Query, raw);
            assert!(
                f.iter().all(|x| x.is_finite() && (0.0..=1.0).contains(x)),
                "{raw:?}"
            );
        }
    }

    #[test]
    fn ngram_block_is_unit_length() {
        let f = features(LocationKind::Json, "hello world");
        let norm: f32 = f[..NGRAM_BUCKETS].iter().map(|x| x * x).sum();
        assert!((norm - 1.0).abs() < 1e-4);
        let short: f32 = f[SHAPE_OFFSET..STATS_OFFSET].iter().map(|x| x * x).sum();
        assert_eq!(short, 0.0, "two tokens have no shape block");
        let f = features(LocationKind::Json, "hello big world");
        let shape: f32 = f[SHAPE_OFFSET..STATS_OFFSET].iter().map(|x| x * x).sum();
        assert!((shape - 1.0).abs() < 1e-4);
    }

    #[test]
    fn the_role_block_reads_a_bounded_prefix() {
        // Past shape::MAX_TOKENS tokens a longer value has the same role block.
        let block = |n: usize| {
            features(LocationKind::Json, &"a ".repeat(n))[SHAPE_OFFSET..STATS_OFFSET].to_vec()
        };
        assert_eq!(block(2 * shape::MAX_TOKENS), block(10 * shape::MAX_TOKENS));
        assert_ne!(block(shape::MAX_TOKENS / 2), block(2 * shape::MAX_TOKENS));
    }

    #[test]
    fn injections_spelled_apart_share_their_shape() {
        // Another keyword, operand and terminator: the same move, so shared role n-grams.
        let a = features(LocationKind::Query, "' or 7=7-- ");
        let b = features(LocationKind::Query, "' and 42=42#");
        let shared = (SHAPE_OFFSET..STATS_OFFSET)
            .filter(|&i| a[i] > 0.0 && b[i] > 0.0)
            .count();
        assert!(shared >= 6, "{shared}");
        let prose = features(LocationKind::Query, "hello world");
        let with_prose = (SHAPE_OFFSET..STATS_OFFSET)
            .filter(|&i| a[i] > 0.0 && prose[i] > 0.0)
            .count();
        assert!(with_prose < shared, "{with_prose}");
    }

    #[test]
    fn encoded_and_plain_payloads_share_ngrams() {
        let plain = features(LocationKind::Query, "<script>alert(1)</script>");
        let encoded = features(
            LocationKind::Query,
            "%253Cscript%253Ealert(1)%253C/script%253E",
        );
        assert_eq!(plain[..NGRAM_BUCKETS], encoded[..NGRAM_BUCKETS]);
        assert!(named(&encoded, "decode_passes") > 0.0);
        assert_eq!(named(&plain, "decode_passes"), 0.0);
    }

    #[test]
    fn keyword_families_fire_on_their_attacks() {
        assert!(
            named(
                &features(LocationKind::Query, "1 UNION SELECT password FROM users"),
                "kw_sql"
            ) > 0.0
        );
        assert!(
            named(
                &features(LocationKind::Path, "/files/../../etc/passwd"),
                "kw_traversal"
            ) > 0.0
        );
        assert!(
            named(
                &features(LocationKind::Form, "x; cat /etc/passwd"),
                "kw_shell"
            ) > 0.0
        );
        assert!(
            named(
                &features(LocationKind::Header, "${jndi:ldap://x/a}"),
                "kw_jndi"
            ) > 0.0
        );
        assert_eq!(
            named(&features(LocationKind::Json, "Alice Smith"), "kw_sql"),
            0.0
        );
        assert_eq!(
            named(
                &features(LocationKind::Json, "<img src=x onerror=alert(1)>"),
                "event_handler"
            ),
            1.0
        );
    }

    #[test]
    fn internal_host_fires_on_decoded_ssrf_targets_only() {
        let internal = |kind, raw| named(&features(kind, raw), "internal_host");
        assert_eq!(
            internal(LocationKind::Query, "http%3A%2F%2F0x7F000001%2Flatest"),
            1.0
        );
        assert_eq!(
            internal(LocationKind::Json, "HTTP://Metadata.Google.Internal/"),
            1.0
        );
        assert_eq!(
            internal(LocationKind::Query, "https://api.example.com/cb"),
            0.0
        );
        assert_eq!(internal(LocationKind::Json, "1.2.3"), 0.0);
        assert_eq!(internal(LocationKind::Header, "10.0.0.1"), 0.0);
    }

    #[test]
    fn serialized_object_reads_the_decoded_header_not_the_length() {
        let object = |kind, raw: &str| named(&features(kind, raw), "serialized_object");
        // A Java stream (rO0AB…) in a form field, and percent-encoded in a cookie.
        let java = "rO0ABXNyABdqYXZhLnV0aWwuUHJpb3JpdHlRdWV1ZZTaMLT7P4KxAwACSQAEc2l6ZQ";
        assert_eq!(object(LocationKind::Form, java), 1.0);
        assert_eq!(
            object(LocationKind::Cookie, &format!("%72{}", &java[1..])),
            1.0
        );
        // A session token and a presigned policy of the same length and alphabet are not.
        let token = "IQoJb3JpZ2luX2VjEBAaCXVzLWVhc3QtMSJHMEUCIQDx4n8qTz9Rw2Lk5VbH0a3MEYCIQC";
        assert_eq!(object(LocationKind::Form, token), 0.0);
        let policy = "eyJleHBpcmF0aW9uIjoiMjAzMC0wMS0wMVQwMDowMDowMFoiLCJjb25kaXRpb25zIjpbXX0=";
        assert_eq!(object(LocationKind::Form, policy), 0.0);
    }

    #[test]
    fn words_in_other_scripts_fold_to_one_placeholder() {
        let ngram = |raw: &str| features(LocationKind::Json, raw)[..NGRAM_BUCKETS].to_vec();
        assert_eq!(ngram("коллектив"), ngram("保持する"));
        assert_eq!(ngram("вскакивать"), ngram("коллектив"));
        assert_ne!(ngram("fran\u{e7}ais"), ngram("коллектив"));
        assert_eq!(
            ngram("na\u{ee}tre d\u{e9}j\u{e0} \u{17c}\u{f3}\u{142}w"),
            ngram("naitre deja zolw")
        );
        assert_eq!(latin_base('\u{d7}'), None);
        assert_eq!(latin_base('\u{17f}'), Some('s'));
        assert_eq!(latin_base('\u{180}'), None);
        assert_ne!(ngram("' or 1=1--"), ngram("коллектив"));
    }

    #[test]
    fn location_group_is_one_hot() {
        let f = features(LocationKind::Cookie, "a b");
        assert_eq!(named(&f, "loc_cookie"), 1.0);
        assert_eq!(
            LocationGroup::ALL
                .iter()
                .map(|g| named(&f, &format!("loc_{}", g.as_str())))
                .sum::<f32>(),
            1.0
        );
        assert_eq!(named(&f, "loc_return_target"), 0.0);
    }

    #[test]
    fn extraction_is_deterministic() {
        assert_eq!(
            features(LocationKind::Body, "same input"),
            features(LocationKind::Body, "same input")
        );
    }
}
