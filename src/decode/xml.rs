//! XML bodies read value by value, as WAFs read them (ModSecurity's `XML:/*` and `XML://@*`):
//! every text node and every attribute value with an XPath-like location
//! (`/soap:Envelope/soap:Body/ord:Customer/ord:Name`, `/…/ord:Customer/@id`), so a payload in
//! one element of a SOAP envelope is scored on its own instead of drowning in the markup around
//! it.
//!
//! A scanner, not a parser: no DTD is read, no entity is expanded, nothing is fetched (the
//! decoder turns `&lt;` into `<` in each value, as it does for every value); the document as a
//! whole is still scored as one value beside its leaves, so a `<!DOCTYPE>` with external entities
//! is judged where it is. Comments and processing instructions are skipped, CDATA sections are
//! text, namespace declarations (`xmlns`, `xmlns:*`) are not values. A malformed document gives
//! the values found before the break. Bounded: at most `max` values, element depth
//! [`MAX_XML_DEPTH`], paths of at most [`MAX_XML_PATH`] bytes (deeper names are left out of the
//! path, not the values). Never panics; allocates the path, the element stack and each start
//! tag's attribute spans, never a value.

/// Deepest element nesting that is tracked; deeper elements keep their parent's path.
pub const MAX_XML_DEPTH: usize = 64;

/// Longest location path, in bytes; a name that would make it longer is left out of it.
pub const MAX_XML_PATH: usize = 256;

/// Calls `sink(path, value)` for each non-blank text node (trimmed) and attribute value of
/// `text`, at most `max` times; returns how many.
pub fn values<'t, F>(text: &'t str, max: usize, mut sink: F) -> usize
where
    F: FnMut(&str, &'t str),
{
    let bytes = text.as_bytes();
    let mut path = String::new();
    // Path length before each open element (its name may have been left out).
    let mut stack: Vec<usize> = Vec::new();
    let mut found = 0;
    let mut i = 0;
    while i < bytes.len() && found < max {
        let Some(lt) = find(bytes, i, b"<") else {
            emit_text(text, i, bytes.len(), &path, &mut found, &mut sink);
            break;
        };
        emit_text(text, i, lt, &path, &mut found, &mut sink);
        let rest = bytes.get(lt..).unwrap_or_default();
        if rest.starts_with(b"<!--") {
            i = skip_past(bytes, lt + 4, b"-->");
        } else if rest.starts_with(b"<![CDATA[") {
            let start = lt + 9;
            let end = find(bytes, start, b"]]>").unwrap_or(bytes.len());
            if found < max {
                emit_text(text, start, end, &path, &mut found, &mut sink);
            }
            i = end.saturating_add(3);
        } else if rest.starts_with(b"<?") {
            i = skip_past(bytes, lt + 2, b"?>");
        } else if rest.starts_with(b"<!") {
            i = skip_declaration(bytes, lt + 2);
        } else if rest.starts_with(b"</") {
            if let Some(len) = stack.pop() {
                path.truncate(len);
            }
            i = skip_past(bytes, lt + 2, b">");
        } else {
            let Some(tag) = start_tag(bytes, lt + 1) else {
                break;
            };
            let parent = path.len();
            let name = text.get(tag.name.0..tag.name.1).unwrap_or_default();
            if stack.len() < MAX_XML_DEPTH && path.len() + 1 + name.len() <= MAX_XML_PATH {
                path.push('/');
                path.push_str(name);
            }
            for &(n, v) in &tag.attributes {
                if found >= max {
                    break;
                }
                let attr = text.get(n.0..n.1).unwrap_or_default();
                let value = text.get(v.0..v.1).unwrap_or_default();
                if attr == "xmlns" || attr.starts_with("xmlns:") || value.trim().is_empty() {
                    continue;
                }
                let at = path.len();
                if at + 2 + attr.len() <= MAX_XML_PATH {
                    path.push_str("/@");
                    path.push_str(attr);
                }
                sink(&path, value);
                found += 1;
                path.truncate(at);
            }
            if tag.self_closing {
                path.truncate(parent);
            } else {
                stack.push(parent);
            }
            i = tag.end;
        }
    }
    found
}

/// The text between `from` and `to`, trimmed, to `sink` when it is not blank.
fn emit_text<'t, F>(
    text: &'t str,
    from: usize,
    to: usize,
    path: &str,
    found: &mut usize,
    sink: &mut F,
) where
    F: FnMut(&str, &'t str),
{
    let Some(value) = text.get(from..to) else {
        return;
    };
    let value = value.trim();
    if value.is_empty() {
        return;
    }
    sink(if path.is_empty() { "/" } else { path }, value);
    *found += 1;
}

/// Byte spans of a start tag's name and attributes, and where the tag ends.
struct StartTag {
    name: (usize, usize),
    attributes: Vec<((usize, usize), (usize, usize))>,
    self_closing: bool,
    end: usize,
}

/// Reads the start tag whose name begins at `i` (just after `<`). `None` when it never ends.
fn start_tag(bytes: &[u8], mut i: usize) -> Option<StartTag> {
    let name_start = i;
    while bytes
        .get(i)
        .is_some_and(|&b| !b.is_ascii_whitespace() && b != b'>' && b != b'/')
    {
        i += 1;
    }
    let name = (name_start, i);
    let mut attributes = Vec::new();
    loop {
        while bytes.get(i).is_some_and(|b| b.is_ascii_whitespace()) {
            i += 1;
        }
        match bytes.get(i)? {
            b'>' => {
                return Some(StartTag {
                    name,
                    attributes,
                    self_closing: false,
                    end: i + 1,
                })
            }
            b'/' if bytes.get(i + 1) == Some(&b'>') => {
                return Some(StartTag {
                    name,
                    attributes,
                    self_closing: true,
                    end: i + 2,
                })
            }
            _ => {}
        }
        let attr_start = i;
        while bytes
            .get(i)
            .is_some_and(|&b| !b.is_ascii_whitespace() && !matches!(b, b'=' | b'>' | b'/'))
        {
            i += 1;
        }
        let attr = (attr_start, i);
        while bytes.get(i).is_some_and(|b| b.is_ascii_whitespace()) {
            i += 1;
        }
        if bytes.get(i) != Some(&b'=') {
            // A bare word or a stray `/`: not an attribute; step over it.
            if attr.0 == attr.1 {
                i += 1;
            }
            continue;
        }
        i += 1;
        while bytes.get(i).is_some_and(|b| b.is_ascii_whitespace()) {
            i += 1;
        }
        let quote = *bytes.get(i)?;
        if quote == b'"' || quote == b'\'' {
            let start = i + 1;
            let end = find(bytes, start, &[quote])?;
            attributes.push((attr, (start, end)));
            i = end + 1;
        } else {
            // Unquoted (HTML-style): up to whitespace or the tag's end.
            let start = i;
            while bytes
                .get(i)
                .is_some_and(|&b| !b.is_ascii_whitespace() && b != b'>')
            {
                i += 1;
            }
            attributes.push((attr, (start, i)));
        }
    }
}

/// Skips a `<!…>` declaration from `i`, with a `[…]` internal subset (a DOCTYPE's).
/// Looks for the `[` only before the declaration's first `>`, so many declarations cost one pass.
fn skip_declaration(bytes: &[u8], i: usize) -> usize {
    let gt = find(bytes, i, b">").unwrap_or(bytes.len());
    let open = bytes
        .get(i..gt)
        .and_then(|d| d.iter().position(|&b| b == b'['));
    match open {
        Some(open) => {
            let close = find(bytes, i + open, b"]").unwrap_or(bytes.len());
            skip_past(bytes, close, b">")
        }
        None => gt.saturating_add(1),
    }
}

/// Index just past the first `needle` at or after `from` (the end when there is none).
fn skip_past(bytes: &[u8], from: usize, needle: &[u8]) -> usize {
    find(bytes, from, needle).map_or(bytes.len(), |p| p + needle.len())
}

/// Index of the first `needle` at or after `from`.
fn find(bytes: &[u8], from: usize, needle: &[u8]) -> Option<usize> {
    let hay = bytes.get(from..)?;
    if needle.len() == 1 {
        return hay.iter().position(|&b| b == needle[0]).map(|p| p + from);
    }
    hay.windows(needle.len())
        .position(|w| w == needle)
        .map(|p| p + from)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all(text: &str) -> Vec<(String, String)> {
        let mut out = Vec::new();
        values(text, usize::MAX, |p, v| {
            out.push((p.to_string(), v.to_string()))
        });
        out
    }

    #[test]
    fn text_nodes_and_attributes_carry_their_path() {
        let doc = r#"<?xml version="1.0"?>
<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>
<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/">
  <s:Body><o:Order xmlns:o="urn:o"><o:Customer id='C-1' tier="gold"><o:Name>' or 1=1--</o:Name></o:Customer>
  <!-- a comment <o:Hidden>x</o:Hidden> -->
  <o:Note><![CDATA[<script>alert(1)</script>]]></o:Note><o:Item sku="A&amp;B"/><o:After>tail</o:After></o:Order></s:Body>
</s:Envelope>"#;
        assert_eq!(
            all(doc),
            vec![
                (
                    "/s:Envelope/s:Body/o:Order/o:Customer/@id".into(),
                    "C-1".into()
                ),
                (
                    "/s:Envelope/s:Body/o:Order/o:Customer/@tier".into(),
                    "gold".into()
                ),
                (
                    "/s:Envelope/s:Body/o:Order/o:Customer/o:Name".into(),
                    "' or 1=1--".into()
                ),
                (
                    "/s:Envelope/s:Body/o:Order/o:Note".into(),
                    "<script>alert(1)</script>".into()
                ),
                (
                    "/s:Envelope/s:Body/o:Order/o:Item/@sku".into(),
                    "A&amp;B".into()
                ),
                ("/s:Envelope/s:Body/o:Order/o:After".into(), "tail".into()),
            ]
        );
    }

    #[test]
    fn malformed_and_hostile_documents_are_bounded_and_never_panic() {
        // Cut in a tag, in an attribute, in a CDATA section; stray markup; unbalanced ends.
        for doc in [
            "<a><b x=\"1",
            "<a><b x=",
            "<a><![CDATA[abc",
            "</a></b>text<<<>>>",
            "<a b c=d e='f'>g</a>",
            "<",
            "<!DOCTYPE [",
            "plain text, no markup",
            "<a>\u{e9}t\u{e9}</a>",
        ] {
            let _ = all(doc);
        }
        assert_eq!(
            all("<a b c=d e='f'>g</a>"),
            vec![
                ("/a/@c".to_string(), "d".to_string()),
                ("/a/@e".to_string(), "f".to_string()),
                ("/a".to_string(), "g".to_string()),
            ]
        );
        assert_eq!(
            all("plain text"),
            vec![("/".to_string(), "plain text".to_string())]
        );
        // Deep nesting keeps paths bounded; the bound on values holds.
        let deep = "<a>".repeat(10_000) + "x" + &"</a>".repeat(10_000);
        let v = all(&deep);
        assert_eq!(v.len(), 1);
        assert!(v[0].0.len() <= MAX_XML_PATH);
        // Many declarations, comments and tags: one pass each, not one per pair.
        let decls = "<!x>".repeat(200_000) + "<a>y</a>";
        assert_eq!(all(&decls), vec![("/a".to_string(), "y".to_string())]);
        let many = "<i>v</i>".repeat(100);
        assert_eq!(values(&many, 7, |_, _| {}), 7);
    }
}
