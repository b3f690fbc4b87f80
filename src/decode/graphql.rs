//! GraphQL documents read value by value: the string literals of a query (field arguments,
//! input-object fields, variable defaults, directive arguments) with the names they sit under
//! (`query.orders.customer`, `mutation.createUser.input.email`), so that a payload in one
//! argument is scored on its own instead of drowning in the selection sets around it. GraphQL
//! APIs take their inputs this way as often as in `variables` (which are JSON leaves already).
//!
//! Where a document is found is the caller's business (a JSON body's `query`, a `query`
//! parameter, an `application/graphql` body); [`looks_like`] tells a document from a search
//! string named `query`.
//!
//! A lexer, not a parser: `#` comments are skipped, `"…"` strings end at an unescaped quote (or
//! a line end, where GraphQL ends an unterminated one), `"""…"""` block strings at three quotes
//! not escaped as `\"""`. A value is given as it is written (its escapes are the decoder's
//! business, as for every value). A name followed by `:` is the key of the values after it; `(`
//! and `{` open a level named by the field or key before them. Bounded: at most `max` values,
//! [`MAX_GRAPHQL_DEPTH`] named levels, paths of at most [`MAX_GRAPHQL_PATH`] bytes (deeper names
//! are left out of the path, not the values). Never panics; allocates the path and the level
//! stack, never a value.

/// Deepest nesting whose names are kept in the path.
pub const MAX_GRAPHQL_DEPTH: usize = 64;

/// Longest location path, in bytes; a name that would make it longer is left out of it.
pub const MAX_GRAPHQL_PATH: usize = 256;

/// Whether `text` reads as a GraphQL executable document: after blanks, commas and comments it
/// starts with `{`, or with `query`, `mutation`, `subscription` or `fragment` followed by a
/// delimiter, and it has a `{`.
pub fn looks_like(text: &str) -> bool {
    let bytes = text.as_bytes();
    let start = skip_ignored(bytes, 0);
    let rest = bytes.get(start..).unwrap_or_default();
    if rest.first() == Some(&b'{') {
        return true;
    }
    let keyword = ["query", "mutation", "subscription", "fragment"]
        .iter()
        .any(|k| {
            rest.starts_with(k.as_bytes()) && rest.get(k.len()).is_some_and(|&b| !is_name_byte(b))
        });
    keyword && rest.contains(&b'{')
}

/// A token that decides what a `(` or `{` is named after.
#[derive(Clone, Copy)]
enum Prev {
    /// A name at this byte range.
    Name(usize, usize),
    /// A `:` after the key at this byte range.
    Colon(usize, usize),
    /// A `)` that closed the arguments of the field whose name is at this range.
    Close(usize, usize),
    /// A directive's name (`@include`), whose field is at this range, if known.
    Directive(Option<(usize, usize)>),
    /// An `@`, after the field at this range, if known.
    At(Option<(usize, usize)>),
    /// Anything else.
    Other,
}

/// Calls `sink(path, value)` for each string literal of the GraphQL document `text`, at most
/// `max` times; returns how many. `path` is the dotted names of the levels around the value and
/// its key (`query.orders.customer`); empty for a string with no name around it.
pub fn strings<'t, F>(text: &'t str, max: usize, mut sink: F) -> usize
where
    F: FnMut(&str, &'t str),
{
    let bytes = text.as_bytes();
    let mut path = String::new();
    // Per open level: the path length before it, and the field it belongs to (a `{` after its
    // `)` is named after it).
    let mut stack: Vec<(usize, Option<(usize, usize)>)> = Vec::new();
    let mut key: Option<(usize, usize)> = None;
    let mut prev = Prev::Other;
    let mut found = 0;
    let mut i = 0;
    while found < max {
        i = skip_ignored(bytes, i);
        let Some(&b) = bytes.get(i) else {
            break;
        };
        match b {
            b'"' => {
                let (start, end, next) = if bytes.get(i..i + 3) == Some(b"\"\"\"".as_slice()) {
                    block_string(bytes, i + 3)
                } else {
                    quoted_string(bytes, i + 1)
                };
                if let Some(value) = text.get(start..end) {
                    let name_len = path.len();
                    if let Some(k) = key.and_then(|(s, e)| text.get(s..e)) {
                        push_segment(&mut path, k);
                    }
                    sink(&path, value);
                    path.truncate(name_len);
                    found += 1;
                }
                prev = Prev::Other;
                i = next;
            }
            b'(' | b'{' => {
                let named = match (b, prev) {
                    (_, Prev::Name(s, e)) => Some((s, e)),
                    (b'{', Prev::Colon(s, e)) | (b'{', Prev::Close(s, e)) => Some((s, e)),
                    (b'{', Prev::Directive(field)) => field,
                    _ => None,
                };
                // A directive's arguments add no level to the path; they belong to its field.
                let field = match prev {
                    Prev::Directive(f) => f,
                    _ => named,
                };
                let before = path.len();
                if stack.len() < MAX_GRAPHQL_DEPTH {
                    if let Some(n) = named.and_then(|(s, e)| text.get(s..e)) {
                        push_segment(&mut path, n);
                    }
                }
                stack.push((before, field));
                key = None;
                prev = Prev::Other;
                i += 1;
            }
            b')' | b'}' => {
                let closed = stack.pop();
                if let Some((before, _)) = closed {
                    path.truncate(before);
                }
                prev = match (b, closed) {
                    (b')', Some((_, Some((s, e))))) => Prev::Close(s, e),
                    _ => Prev::Other,
                };
                key = None;
                i += 1;
            }
            b':' => {
                if let Prev::Name(s, e) = prev {
                    key = Some((s, e));
                    prev = Prev::Colon(s, e);
                } else {
                    prev = Prev::Other;
                }
                i += 1;
            }
            b'@' => {
                prev = Prev::At(match prev {
                    Prev::Name(s, e) | Prev::Close(s, e) => Some((s, e)),
                    Prev::Directive(f) | Prev::At(f) => f,
                    _ => None,
                });
                i += 1;
            }
            _ if is_name_start(b) => {
                let start = i;
                while bytes.get(i).is_some_and(|&c| is_name_byte(c)) {
                    i += 1;
                }
                prev = match prev {
                    Prev::At(field) => Prev::Directive(field),
                    _ => Prev::Name(start, i),
                };
            }
            // `$` before a name, lists, defaults, `!`, spreads, numbers.
            _ => {
                prev = Prev::Other;
                i += 1;
            }
        }
    }
    found
}

/// Appends `.name` (or `name` to an empty path) unless the path would grow past
/// [`MAX_GRAPHQL_PATH`].
fn push_segment(path: &mut String, name: &str) {
    let dot = usize::from(!path.is_empty());
    if path.len() + dot + name.len() <= MAX_GRAPHQL_PATH {
        if dot == 1 {
            path.push('.');
        }
        path.push_str(name);
    }
}

/// Skips blanks, commas, byte order marks and `#` comments from `i`.
fn skip_ignored(bytes: &[u8], mut i: usize) -> usize {
    loop {
        match bytes.get(i) {
            Some(b' ' | b'\t' | b'\n' | b'\r' | b',') => i += 1,
            Some(b'#') => {
                while bytes.get(i).is_some_and(|&c| c != b'\n' && c != b'\r') {
                    i += 1;
                }
            }
            _ if bytes.get(i..i + 3) == Some("\u{feff}".as_bytes()) => i += 3,
            _ => return i,
        }
    }
}

/// A `"…"` string whose content starts at `start`: (content start, content end, next index).
/// It ends at an unescaped `"`, or unterminated at a line end or the end of the text.
fn quoted_string(bytes: &[u8], start: usize) -> (usize, usize, usize) {
    let mut i = start;
    while let Some(&c) = bytes.get(i) {
        match c {
            b'\\' => i += 2,
            b'"' => return (start, i, i + 1),
            b'\n' | b'\r' => return (start, i, i),
            _ => i += 1,
        }
    }
    let end = i.min(bytes.len());
    (start, end, end)
}

/// A `"""…"""` block string whose content starts at `start`; `\"""` does not end it.
fn block_string(bytes: &[u8], start: usize) -> (usize, usize, usize) {
    let mut i = start;
    while i < bytes.len() {
        if bytes.get(i..i + 4) == Some(b"\\\"\"\"".as_slice()) {
            i += 4;
        } else if bytes.get(i..i + 3) == Some(b"\"\"\"".as_slice()) {
            return (start, i, i + 3);
        } else {
            i += 1;
        }
    }
    (start, bytes.len(), bytes.len())
}

fn is_name_start(b: u8) -> bool {
    b.is_ascii_alphabetic() || b == b'_'
}

fn is_name_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all(text: &str) -> Vec<(String, String)> {
        let mut out = Vec::new();
        strings(text, usize::MAX, |p, v| {
            out.push((p.to_string(), v.to_string()))
        });
        out
    }

    fn pairs(v: &[(&str, &str)]) -> Vec<(String, String)> {
        v.iter()
            .map(|(p, x)| (p.to_string(), x.to_string()))
            .collect()
    }

    #[test]
    fn documents_are_told_from_search_strings() {
        for doc in [
            "{ viewer { login } }",
            "query { orders { id } }",
            "query GetOrders($first: Int = 20) { orders(first: $first) { id } }",
            "  # a comment\n mutation M { createUser(input: {name: \"x\"}) { id } }",
            "subscription{onOrder{id}}",
            "fragment F on User { id } query { me { ...F } }",
            "\u{feff}{ me { id } }",
        ] {
            assert!(looks_like(doc), "{doc:?}");
        }
        for text in [
            "blue shoes",
            "query about my order",
            "querying { }",
            "select * from t",
            "",
            "mutation",
            "queries{",
        ] {
            assert!(!looks_like(text), "{text:?}");
        }
    }

    #[test]
    fn each_string_has_the_names_around_it() {
        let doc = r#"query GetOrders($status: String = "open") {
  orders(first: 20, customer: "' OR 1=1--", filter: {name: "Jane", tags: ["a", "b"]}) {
    edges { node { id total(currency: "EUR") } }
  }
  me @include(if: true) { avatar(size: "64") }
  you @cached { avatar(size: "32") }
}"#;
        assert_eq!(
            all(doc),
            pairs(&[
                ("GetOrders.status", "open"),
                ("GetOrders.orders.customer", "' OR 1=1--"),
                ("GetOrders.orders.filter.name", "Jane"),
                ("GetOrders.orders.filter.tags", "a"),
                ("GetOrders.orders.filter.tags", "b"),
                ("GetOrders.orders.edges.node.total.currency", "EUR"),
                ("GetOrders.me.avatar.size", "64"),
                ("GetOrders.you.avatar.size", "32"),
            ])
        );
        // Anonymous operations and aliases.
        assert_eq!(
            all(
                r#"{ a: user(login: "x\"y") { id } b: user(login: """multi "quoted" \""" line""") { id } }"#
            ),
            pairs(&[
                ("user.login", r#"x\"y"#),
                ("user.login", r#"multi "quoted" \""" line"#),
            ])
        );
        assert_eq!(
            all("mutation { createNote(body: \"hi\" # a comment with \"quotes\"\n) { id } }"),
            pairs(&[("mutation.createNote.body", "hi")])
        );
    }

    #[test]
    fn broken_documents_give_what_was_found_and_never_panic() {
        assert_eq!(all("{ a(x: \"open"), pairs(&[("a.x", "open")]));
        // A line end ends an unterminated string.
        assert_eq!(
            all("{ a(x: \"line\n\", y: \"z\") }").first(),
            Some(&("a.x".to_string(), "line".to_string()))
        );
        for text in [
            "}}}))) {",
            "\"\"\"",
            "\"\\",
            "((((((((",
            "{ a(x: \"\u{e9}\u{1F600}\") }",
            "\u{feff}",
            "#",
        ] {
            let _ = all(text);
        }
        // Random edits of a document: never a panic, never more than `max`, paths bounded.
        let seed = br#"query Q($a: S = "x") { f(b: """y \""" z""", c: {d: ["e", "f\"g"]}) @h(i: "j") { k # "l"
 m(n: "o") } }"#;
        let mut state = 0x2545_f491_4f6c_dd1du64;
        for _ in 0..20_000 {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            let mut doc = seed.to_vec();
            for k in 0..(state % 5) {
                let at = ((state >> (7 * k)) as usize) % (doc.len() + 1);
                let byte = b"\"\\(){}:#@$\n x\xc3\xa9"[((state >> (5 * k + 3)) % 15) as usize];
                if k % 2 == 0 && at < doc.len() {
                    doc[at] = byte;
                } else {
                    doc.insert(at, byte);
                }
            }
            let text = String::from_utf8_lossy(&doc);
            let mut n = 0;
            let found = strings(&text, 5, |p, _| {
                assert!(p.len() <= MAX_GRAPHQL_PATH);
                n += 1;
            });
            assert!(found <= 5 && found == n);
            let _ = looks_like(&text);
        }
        let deep = format!("{}\"v\"", "{a(b:".repeat(1000));
        let got = all(&deep);
        assert_eq!(got.len(), 1);
        assert!(got[0].0.len() <= MAX_GRAPHQL_PATH, "{}", got[0].0.len());
        assert_eq!(strings(&"{a(b:\"x\")}".repeat(100), 7, |_, _| ()), 7);
    }
}
