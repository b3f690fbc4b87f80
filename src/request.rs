//! The request as the detector sees it, and the list of values it scores.

use std::borrow::Cow;
use std::fmt;

use crate::decode::{self, graphql, json, xml};
use crate::hash;

/// Where in the request a scored value came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LocationKind {
    /// The URL path.
    Path,
    /// A query parameter (value or unusual name).
    Query,
    /// A JSON body leaf or unusual key.
    Json,
    /// A urlencoded form field.
    Form,
    /// A request header.
    Header,
    /// A cookie.
    Cookie,
    /// A body that is neither JSON nor a form (text, XML).
    Body,
    /// A multipart/form-data part (value or file name).
    Multipart,
    /// A text node or attribute value of an XML body (`xml:/s:Envelope/s:Body/o:Name`,
    /// `xml:/…/o:Item/@sku`); the document itself is a `body` value.
    Xml,
    /// A string argument of a GraphQL document (`graphql:query.orders.customer`), found in a
    /// JSON body's `query`, a `query` parameter or an `application/graphql` body; the document
    /// itself is scored where it was found.
    Graphql,
}

impl LocationKind {
    /// All kinds, in feature order.
    pub const ALL: [LocationKind; 10] = [
        LocationKind::Path,
        LocationKind::Query,
        LocationKind::Json,
        LocationKind::Form,
        LocationKind::Header,
        LocationKind::Cookie,
        LocationKind::Body,
        LocationKind::Multipart,
        LocationKind::Xml,
        LocationKind::Graphql,
    ];

    /// Short name used in location keys (`query:id`).
    pub fn as_str(self) -> &'static str {
        match self {
            LocationKind::Path => "path",
            LocationKind::Query => "query",
            LocationKind::Json => "json",
            LocationKind::Form => "form",
            LocationKind::Header => "header",
            LocationKind::Cookie => "cookie",
            LocationKind::Body => "body",
            LocationKind::Multipart => "multipart",
            LocationKind::Xml => "xml",
            LocationKind::Graphql => "graphql",
        }
    }
}

/// A location: kind plus name (`query:id`, `json:$.user.name`, `path`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Location {
    /// Kind of location.
    pub kind: LocationKind,
    /// Parameter name, JSON path, XML path or header name; empty for `path` and `body`.
    pub name: String,
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.name.is_empty() {
            f.write_str(self.kind.as_str())
        } else {
            write!(f, "{}:{}", self.kind.as_str(), self.name)
        }
    }
}

/// Locations calibrated together.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum LocationGroup {
    /// The URL path.
    Path,
    /// Query parameters.
    Query,
    /// Document leaves: JSON leaves and keys, XML text nodes and attribute values.
    Json,
    /// Urlencoded form fields.
    Form,
    /// A text or XML body.
    Body,
    /// Multipart parts and file names.
    Multipart,
    /// Cookies.
    Cookie,
    /// `User-Agent`.
    UserAgent,
    /// `Referer` and `Origin`: where the client came from.
    Referrer,
    /// Any other inspected header.
    Header,
}

impl LocationGroup {
    /// Every group, in a fixed order.
    pub const ALL: [LocationGroup; 10] = [
        LocationGroup::Path,
        LocationGroup::Query,
        LocationGroup::Json,
        LocationGroup::Form,
        LocationGroup::Body,
        LocationGroup::Multipart,
        LocationGroup::Cookie,
        LocationGroup::UserAgent,
        LocationGroup::Referrer,
        LocationGroup::Header,
    ];

    /// Name used in the model metadata (`location_thresholds`).
    pub fn as_str(self) -> &'static str {
        match self {
            LocationGroup::Path => "path",
            LocationGroup::Query => "query",
            LocationGroup::Json => "json",
            LocationGroup::Form => "form",
            LocationGroup::Body => "body",
            LocationGroup::Multipart => "multipart",
            LocationGroup::Cookie => "cookie",
            LocationGroup::UserAgent => "header:user-agent",
            LocationGroup::Referrer => "header:referrer",
            LocationGroup::Header => "header",
        }
    }

    /// The group named `name` in metadata.
    pub fn from_name(name: &str) -> Option<LocationGroup> {
        LocationGroup::ALL.into_iter().find(|g| g.as_str() == name)
    }

    /// The group of a location.
    pub fn of(location: &Location) -> LocationGroup {
        match location.kind {
            LocationKind::Path => LocationGroup::Path,
            LocationKind::Query => LocationGroup::Query,
            // A document's leaves, JSON, XML or GraphQL arguments: values of the same nature,
            // read and calibrated alike.
            LocationKind::Json | LocationKind::Xml | LocationKind::Graphql => LocationGroup::Json,
            LocationKind::Form => LocationGroup::Form,
            LocationKind::Body => LocationGroup::Body,
            LocationKind::Multipart => LocationGroup::Multipart,
            LocationKind::Cookie => LocationGroup::Cookie,
            LocationKind::Header => match location.name.as_str() {
                "user-agent" => LocationGroup::UserAgent,
                "referer" | "origin" => LocationGroup::Referrer,
                _ => LocationGroup::Header,
            },
        }
    }
}

/// Parameter names (the last segment of a JSON path, a query, form, multipart or cookie name)
/// that carry where the client is sent back to, compared without case, `_` or `-`.
const RETURN_TARGETS: [&str; 14] = [
    "redirect",
    "redirecturi",
    "redirecturl",
    "redirectto",
    "postlogoutredirecturi",
    "returnto",
    "returnurl",
    "returnuri",
    "returnpath",
    "next",
    "continue",
    "successurl",
    "cancelurl",
    "backurl",
];

/// True when SSRF does not apply at `location`: `Referer`/`Origin`, and parameters or cookies
/// naming where the client will be redirected (`redirect_uri`, `returnTo`, `next`, ...).
/// `callback`/`webhook` names are not exempt: a server fetches those.
pub fn ssrf_exempt(location: &Location) -> bool {
    match location.kind {
        LocationKind::Header => matches!(location.name.as_str(), "referer" | "origin"),
        LocationKind::Path | LocationKind::Body => false,
        LocationKind::Query
        | LocationKind::Form
        | LocationKind::Json
        | LocationKind::Multipart
        | LocationKind::Cookie => is_return_target(last_segment(&location.name)),
        LocationKind::Xml => {
            let name = &location.name;
            is_return_target(name.rsplit(['/', '@', ':']).next().unwrap_or(name))
        }
        LocationKind::Graphql => {
            let name = &location.name;
            is_return_target(name.rsplit('.').next().unwrap_or(name))
        }
    }
}

/// `$.a.b[2]` -> `b`, `$["x y"]` -> `x y`, `name` -> `name`.
fn last_segment(name: &str) -> &str {
    let trimmed = name.trim_end_matches(|c: char| c == ']' || c.is_ascii_digit() || c == '[');
    let trimmed = trimmed.trim_end_matches('"');
    let start = trimmed
        .rfind(['.', '[', '"', '#'])
        .map(|i| i + 1)
        .unwrap_or(0);
    &trimmed[start..]
}

fn is_return_target(name: &str) -> bool {
    if name.len() > 40 {
        return false;
    }
    let mut folded = [0u8; 40];
    let mut n = 0;
    for b in name.bytes() {
        if b == b'_' || b == b'-' {
            continue;
        }
        folded[n] = b.to_ascii_lowercase();
        n += 1;
    }
    RETURN_TARGETS.iter().any(|t| t.as_bytes() == &folded[..n])
}

/// One value to score.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InspectedValue {
    /// Where it came from.
    pub location: Location,
    /// The value as received (before normalisation; URL decoding of query/form already done).
    pub raw: String,
}

impl InspectedValue {
    /// A value `raw` found at `kind` under `name`.
    pub fn new(kind: LocationKind, name: &str, raw: &str) -> InspectedValue {
        InspectedValue {
            location: Location {
                kind,
                name: name.to_string(),
            },
            raw: raw.to_string(),
        }
    }
}

/// Who sent the request.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ClientIdentity {
    /// Client IP address (from the connection or trusted X-Forwarded-For hops).
    pub ip: Option<String>,
    /// Hashed credential (`tok:<16 hex>`); never the credential itself.
    pub principal: Option<String>,
}

/// A request under inspection: what the filter read from the host or the CLI from a file.
#[derive(Debug, Clone, Default)]
pub struct RequestView {
    /// HTTP method.
    pub method: String,
    /// Path without the query, as received (still percent-encoded).
    pub path: String,
    /// Raw query string without `?`.
    pub query: String,
    /// Headers with lower-case names and raw byte values; pseudo-headers excluded.
    pub headers: Vec<(String, Vec<u8>)>,
    /// Body bytes read (at most `max_body_bytes`).
    pub body: Vec<u8>,
    /// The body was longer than what was read.
    pub body_truncated: bool,
    /// Client identity.
    pub client: ClientIdentity,
}

/// Something the inspection could not do fully; it ends up in the decision's reasons.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InspectionNote {
    /// Only the first N body bytes were scored.
    BodyTruncated(usize),
    /// The body claimed JSON but did not parse; it was scored as text.
    MalformedJson,
    /// The body looked binary and was not scored.
    BinaryBody,
    /// More values than `max_inspected_values`: the rest were scored together.
    ValuesMerged(usize),
}

impl fmt::Display for InspectionNote {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            InspectionNote::BodyTruncated(n) => write!(f, "body truncated: first {n} bytes scored"),
            InspectionNote::MalformedJson => f.write_str("malformed json body scored as text"),
            InspectionNote::BinaryBody => f.write_str("binary body not scored"),
            InspectionNote::ValuesMerged(n) => write!(f, "{n} values scored together"),
        }
    }
}

/// What to inspect and how much.
#[derive(Debug, Clone)]
pub struct InspectOptions<'a> {
    /// Header names (lower-case) whose values are scored.
    pub headers: &'a [String],
    /// Also score every other header except these (lower-case names; `prefix*` matches a
    /// prefix); `None`: only `headers`.
    pub other_headers: Option<&'a [String]>,
    /// Values scored separately; the rest are merged into the last one.
    pub max_values: usize,
    /// Leave out values that cannot carry an injection ([`crate::features::is_inert`]) before
    /// the cap: serving does, training does not (the model learns from every value).
    pub skip_inert: bool,
}

/// Whether header `name` is in `list` (lower-case names; an entry `prefix*` matches a prefix).
pub fn header_listed(list: &[String], name: &str) -> bool {
    list.iter().any(|entry| match entry.strip_suffix('*') {
        Some(prefix) => name.starts_with(prefix),
        None => entry == name,
    })
}

/// Longest value kept whole; anything longer is cut (the prefix is what injections start with).
pub const MAX_VALUE_CHARS: usize = 8192;

impl RequestView {
    /// Builds a view from a method and a request target (`/path?query`), lossy on bad UTF-8.
    pub fn new(method: &str, target: &[u8]) -> RequestView {
        let target = String::from_utf8_lossy(target);
        let (path, query) = match target.split_once('?') {
            Some((p, q)) => (p.to_string(), q.to_string()),
            None => (target.to_string(), String::new()),
        };
        RequestView {
            method: method.to_ascii_uppercase(),
            path,
            query,
            ..RequestView::default()
        }
    }

    /// First value of header `name` (lower-case).
    pub fn header(&self, name: &str) -> Option<&[u8]> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_slice())
    }

    /// The media type of the body, lower-case, without parameters.
    pub fn content_type(&self) -> String {
        self.header("content-type")
            .map(|v| {
                String::from_utf8_lossy(v)
                    .split(';')
                    .next()
                    .unwrap_or("")
                    .trim()
                    .to_ascii_lowercase()
            })
            .unwrap_or_default()
    }

    /// The `charset` parameter of the `Content-Type` header, lower-case, unquoted.
    pub fn charset(&self) -> Option<String> {
        self.content_type_param("charset")
            .map(|c| c.to_ascii_lowercase())
    }

    /// Parameter `key` of the `Content-Type` header (its name compared ASCII-case-insensitively),
    /// trimmed and unquoted.
    fn content_type_param(&self, key: &str) -> Option<String> {
        let value = String::from_utf8_lossy(self.header("content-type")?);
        value.split(';').skip(1).find_map(|p| {
            let (k, v) = p.split_once('=')?;
            k.trim()
                .eq_ignore_ascii_case(key)
                .then(|| v.trim().trim_matches('"').to_string())
        })
    }

    /// Every value worth scoring, with its location, and notes on what could not be inspected.
    ///
    /// Values are read where they lie (the path, query, headers and body are not copied):
    /// each is decoded only when it has something to decode (`%`/`+` in a query or form, `\`
    /// in a JSON string), then checked by [`crate::features::is_left_out`] on its bytes, and
    /// copied only when it is kept.
    pub fn inspected_values(
        &self,
        opts: &InspectOptions<'_>,
    ) -> (Vec<InspectedValue>, Vec<InspectionNote>) {
        let mut out = Collector {
            values: Vec::new(),
            skip_inert: opts.skip_inert,
        };
        let mut notes = Vec::new();
        out.push(LocationKind::Path, &self.path, String::new);
        // A path segment that is text in base64 (`/files/Li4vLi4vZXRjL3Bhc3N3ZA`, an id a
        // route decodes), also as that text: `path:seg2>base64` for the second segment.
        for (i, seg) in self
            .path
            .split('/')
            .enumerate()
            .skip(1)
            .take(MAX_PATH_SEGMENTS)
        {
            if seg.len() >= MIN_BASE64_TEXT {
                if let Some(text) = embedded_base64_text(&decode::percent_decoded(seg, false)) {
                    out.push(LocationKind::Path, &text, || format!("seg{i}>base64"));
                }
            }
        }
        for (k, v) in decode::urlencoded_pairs(&self.query) {
            out.pair(LocationKind::Query, &k, &v);
            if k == "query" {
                out.graphql(&v);
            }
        }
        for name in opts.headers {
            for (_, raw) in self.headers.iter().filter(|(n, _)| n == name) {
                let value = String::from_utf8_lossy(raw);
                if name == "cookie" {
                    for pair in value.split(';') {
                        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
                        out.pair(LocationKind::Cookie, k.trim(), v.trim());
                    }
                } else {
                    out.header(name, &value);
                }
            }
        }
        if let Some(skip) = opts.other_headers {
            let others = self.headers.iter().filter(|(n, _)| {
                n != "cookie" && !opts.headers.contains(n) && !header_listed(skip, n)
            });
            for (name, raw) in others {
                out.header(name, &String::from_utf8_lossy(raw));
            }
        }
        // A bearer JWS's protected header (`kid`, `jku`, `x5u`): servers read it to pick the
        // key before anything is verified (`"kid":"../../dev/null"`, a `jku` on the attacker's
        // host). The credential itself is never scored, nor are its claims read.
        if let Some(auth) = self.header("authorization") {
            let auth = String::from_utf8_lossy(auth);
            let token = auth.get(..7).filter(|p| p.eq_ignore_ascii_case("bearer "));
            if let Some(token) = token.and_then(|_| auth.get(7..)) {
                for text in embedded_base64_json(token, 1) {
                    if let Ok(doc) = json::Document::parse(&text) {
                        out.document_leaves(&doc, "header:authorization>jose>");
                    }
                }
            }
        }
        if self.body_truncated {
            notes.push(InspectionNote::BodyTruncated(self.body.len()));
        }
        self.body_values(&mut out, &mut notes);
        let mut values = out.values;
        if values.len() > opts.max_values {
            let rest = keep_most_suspicious(&mut values, opts.max_values.saturating_sub(1));
            notes.push(InspectionNote::ValuesMerged(rest.len()));
            let location = rest
                .first()
                .map(|v| v.location.clone())
                .unwrap_or(Location {
                    kind: LocationKind::Body,
                    name: String::new(),
                });
            let mut merged = String::new();
            for v in rest {
                if merged.len() >= MAX_VALUE_CHARS {
                    break;
                }
                merged.push_str(&v.raw);
                merged.push('\n');
            }
            if !is_trivially_clean(&merged) {
                merged.truncate(decode::floor_char_boundary(&merged, MAX_VALUE_CHARS));
                values.push(InspectedValue {
                    location,
                    raw: merged,
                });
            }
        }
        (values, notes)
    }

    fn body_values(&self, out: &mut Collector, notes: &mut Vec<InspectionNote>) {
        if self.body.is_empty() {
            return;
        }
        // A body in an EBCDIC charset it declares (`charset=ibm037`) is read as servers that
        // honour it read it, beside the reading below for those that ignore it.
        let charset = self.charset();
        if let Some(table) = charset.as_deref().and_then(decode::ebcdic::table) {
            if self.content_type() == "application/x-www-form-urlencoded" {
                for (k, v) in decode::ebcdic::form_pairs(&self.body, table) {
                    out.pair(LocationKind::Form, &k, &v);
                }
            } else {
                let text = decode::ebcdic::decode(&self.body, table);
                if looks_binary(text.as_bytes()) {
                    notes.push(InspectionNote::BinaryBody);
                } else {
                    self.text_values(&text, out, notes);
                }
            }
            if looks_binary(&self.body) {
                return;
            }
        }
        // UTF-16 and UTF-32 bodies are text to the parsers that read them (JSON parsers detect
        // them from the first bytes): read as the text they encode, not as binary.
        let wide =
            wide_text(&self.body, charset.as_deref()).filter(|t| !looks_binary(t.as_bytes()));
        if wide.is_none() && looks_binary(&self.body) {
            notes.push(InspectionNote::BinaryBody);
            return;
        }
        let text = match wide {
            Some(t) => Cow::Owned(t),
            None => String::from_utf8_lossy(&self.body),
        };
        self.text_values(&text, out, notes);
    }

    /// The values of a body that reads as `text`, by its `Content-Type`: JSON leaves, form
    /// fields, multipart parts, the body whole (and XML nodes, GraphQL arguments).
    fn text_values(&self, text: &str, out: &mut Collector, notes: &mut Vec<InspectionNote>) {
        let ctype = self.content_type();
        let trimmed = text.trim_start();
        // application/json, +json, and vendor types such as application/x-amz-json-1.1.
        let is_json = ctype.contains("json")
            || (ctype.is_empty() && (trimmed.starts_with('{') || trimmed.starts_with('[')));
        if is_json {
            match json::Document::parse(text) {
                Ok(doc) => {
                    json_leaves(&doc, out, MAX_JSON_LEAVES, "", true);
                    return;
                }
                Err(json::Malformed) => {
                    // A body cut at max_body_bytes (or a broken one) is no JSON document, but
                    // its string values still deserve one row each: scored as one blob, a
                    // payload drowns in the text around it.
                    if !self.body_truncated {
                        notes.push(InspectionNote::MalformedJson);
                    }
                    let found = json::strings_lenient(text, MAX_JSON_LEAVES, |key, v| {
                        out.push(LocationKind::Json, &v, || format!("$..{key}"))
                    });
                    if found > 0 {
                        return;
                    }
                }
            }
        } else if ctype == "application/x-www-form-urlencoded" {
            for (k, v) in decode::urlencoded_pairs(text) {
                out.pair(LocationKind::Form, &k, &v);
            }
            return;
        } else if ctype == "multipart/form-data" {
            if let Some(boundary) = self.multipart_boundary() {
                multipart_values(text, &boundary, out);
                return;
            }
        } else if trimmed.starts_with('{') || trimmed.starts_with('[') {
            // A JSON document under another type (`text/plain`, `application/octet-stream`):
            // frameworks that parse the body whatever its type says read it as JSON, and so
            // does the filter when it is one: scored only as one blob, a payload drowns in it.
            // The whole body is still scored as it was, beside the leaves.
            if let Ok(doc) = json::Document::parse(text) {
                out.push(LocationKind::Body, text, String::new);
                json_leaves(&doc, out, MAX_JSON_LEAVES, "", true);
                return;
            }
        }
        out.push(LocationKind::Body, text, String::new);
        // application/graphql: the document's string arguments too.
        if ctype.contains("graphql") {
            out.graphql(text);
        }
        // application/xml, text/xml, +xml (SOAP, Atom), or an XML declaration under any type:
        // each text node and attribute value too, where it sits (`xml:/s:Envelope/s:Body/o:Name`).
        if ctype.contains("xml") || trimmed.starts_with("<?xml") {
            xml::values(text, MAX_XML_VALUES, |path, v| {
                out.push(LocationKind::Xml, v, || path.to_string())
            });
        }
    }

    /// The names of the files this request uploads, each with where it was sent: the
    /// `filename` and `filename*` of every multipart part (`multipart:doc#filename`), read from
    /// the part headers of the raw body, whether or not the body or the part's content is text
    /// (a web shell rides in an image as well as in a text file), and the file-name headers of a
    /// raw upload (`header:content-disposition`, `header:x-file-name`). Allocates nothing for a
    /// request that has none; reads at most [`MAX_UPLOAD_PARTS`] parts.
    pub fn uploaded_file_names(&self) -> Vec<(String, String)> {
        let mut found = Vec::new();
        for (name, value) in &self.headers {
            if name == "content-disposition" {
                let pairs = disposition_pairs(&String::from_utf8_lossy(value));
                for (k, v) in file_names(pairs) {
                    found.push((format!("header:{name}#{k}"), v));
                }
            } else if FILE_NAME_HEADERS.contains(&name.as_str()) {
                found.push((
                    format!("header:{name}"),
                    String::from_utf8_lossy(value).into_owned(),
                ));
            }
        }
        let multipart = self.header("content-type").is_some_and(|v| {
            v.trim_ascii_start()
                .get(..10)
                .is_some_and(|p| p.eq_ignore_ascii_case(b"multipart/"))
        });
        if self.body.is_empty() || !multipart {
            return found;
        }
        let Some(boundary) = self.multipart_boundary() else {
            return found;
        };
        let delimiter = format!("--{boundary}");
        let body = self.body.as_slice();
        let mut at = 0;
        for _ in 0..MAX_UPLOAD_PARTS {
            let Some(i) = find_bytes(body.get(at..).unwrap_or_default(), delimiter.as_bytes())
            else {
                break;
            };
            let start = at + i + delimiter.len();
            at = start;
            let window = body
                .get(start..body.len().min(start + MAX_PART_HEAD))
                .unwrap_or_default();
            let Some(end) = find_bytes(window, b"\r\n\r\n").or_else(|| find_bytes(window, b"\n\n"))
            else {
                continue;
            };
            let head = String::from_utf8_lossy(window.get(..end).unwrap_or_default());
            for line in head.lines() {
                let Some((field, rest)) = line.split_once(':') else {
                    continue;
                };
                if !field.trim().eq_ignore_ascii_case("content-disposition") {
                    continue;
                }
                let pairs = disposition_pairs(rest);
                let part = pairs
                    .iter()
                    .find_map(|(k, v)| (k == "name").then_some(v.clone()))
                    .unwrap_or_default();
                for (k, v) in file_names(pairs) {
                    found.push((format!("multipart:{part}#{k}"), v));
                }
            }
        }
        found
    }

    fn multipart_boundary(&self) -> Option<String> {
        self.content_type_param("boundary")
    }
}

/// The values kept so far.
struct Collector {
    values: Vec<InspectedValue>,
    skip_inert: bool,
}

impl Collector {
    /// Keeps `raw` (cut to [`MAX_VALUE_CHARS`]) under the name `name()` unless it is left out
    /// ([`crate::features::is_left_out`]); only a kept value is copied.
    fn push(&mut self, kind: LocationKind, raw: &str, name: impl FnOnce() -> String) {
        if crate::features::is_left_out(kind, raw, self.skip_inert) {
            return;
        }
        self.keep(kind, raw, name);
    }

    /// Keeps a name (`…#key`): an identifier (`user_id`, `a[b][0]`, `page.size`) exactly when
    /// it is not inert as a name ([`crate::features::name_is_inert`]: a keyword needle, a
    /// prototype path), any other name like a value.
    fn push_name(&mut self, kind: LocationKind, raw: &str, name: impl FnOnce() -> String) {
        if !crate::features::is_identifier_name(raw) {
            self.push(kind, raw, name);
        } else if !crate::features::name_is_inert(raw) {
            self.keep(kind, raw, name);
        }
    }

    fn keep(&mut self, kind: LocationKind, raw: &str, name: impl FnOnce() -> String) {
        let cut = decode::floor_char_boundary(raw, MAX_VALUE_CHARS);
        self.values.push(InspectedValue {
            location: Location { kind, name: name() },
            raw: raw.get(..cut).unwrap_or(raw).to_string(),
        });
    }

    /// A request header's value, left out like an inert value when it is a well-formed value
    /// of a standard header's grammar ([`crate::features::header_is_inert`]).
    fn header(&mut self, name: &str, value: &str) {
        if self.skip_inert && crate::features::header_is_inert(name, value) {
            return;
        }
        self.push(LocationKind::Header, value, || name.to_string());
        self.nested(LocationKind::Header, value, name);
    }

    /// The string arguments of `text` when it reads as a GraphQL document
    /// ([`graphql::looks_like`]), each at `graphql:<names around it>`.
    fn graphql(&mut self, text: &str) {
        if graphql::looks_like(text) {
            graphql::strings(text, MAX_GRAPHQL_VALUES, |path, v| {
                self.push(LocationKind::Graphql, v, || path.to_string())
            });
        }
    }

    /// A name/value pair: the value is scored, and the name too unless it is an inert
    /// identifier ([`Collector::push_name`]).
    fn pair(&mut self, kind: LocationKind, name: &str, value: &str) {
        self.push_name(kind, name, || format!("{name}#key"));
        self.push(kind, value, || name.to_string());
        self.nested(kind, value, name);
    }

    /// The leaves of a JSON document carried inside a value (a stringified `metadata` field, a
    /// form's `payload=`, a `filter=` parameter, base64 JSON in a cookie, the two first parts of
    /// a JWS), beside the value itself: inside one string, a payload drowns in the document
    /// around it. They are JSON leaves (read and calibrated as document leaves) named after
    /// their carrier: `json:query:filter>$.where.name`, `json:$.metadata>$.note`, and
    /// `json:cookie:session>base64>$.user` when the document was base64. One level: a document
    /// inside a document inside a value is its leaf's text.
    fn nested(&mut self, kind: LocationKind, raw: &str, carrier: &str) {
        let prefix = |how: &str| match kind {
            LocationKind::Json => format!("{carrier}>{how}"),
            _ => format!("{}:{carrier}>{how}", kind.as_str()),
        };
        if let Some(doc) = embedded_json(raw) {
            self.document_leaves(&doc, &prefix(""));
            return;
        }
        // Percent-encoded, as cookies carry JSON (`cart=%7B%22items%22…`).
        let encoded = raw
            .trim_start()
            .get(..3)
            .is_some_and(|p| p.eq_ignore_ascii_case("%7b") || p.eq_ignore_ascii_case("%5b"));
        if encoded {
            let text = decode::percent_decode(raw, false);
            if let Some(doc) = embedded_json(&text) {
                self.document_leaves(&doc, &prefix(""));
            }
            return;
        }
        let mut found = false;
        for text in embedded_base64_json(raw, 2) {
            if let Ok(doc) = json::Document::parse(&text) {
                self.document_leaves(&doc, &prefix("base64>"));
                found = true;
            }
        }
        // Text in base64, as applications that decode a parameter before use receive it
        // (`data=JyBvciAxPTEtLQ==`): scored as the text it decodes to, at `query:data>base64`.
        if !found {
            if let Some(text) = embedded_base64_text(raw) {
                self.push(kind, &text, || format!("{carrier}>base64"));
            }
        }
    }

    /// The leaves of an embedded document, named `{prefix}{path}`; nothing inside them is
    /// read further.
    fn document_leaves(&mut self, doc: &json::Document<'_>, prefix: &str) {
        json_leaves(doc, self, MAX_NESTED_LEAVES, prefix, false);
    }
}

/// The leaves of a JSON document (at most `max`) at `{prefix}{path}`, keys that carry a payload
/// as `…#key`; with `carried`, also what its values carry: the string arguments of a GraphQL
/// document in a top-level `query` (`$.query`, or `$[2].query` in a batch), and a document
/// embedded in a value ([`Collector::nested`]).
fn json_leaves(
    doc: &json::Document<'_>,
    out: &mut Collector,
    max: usize,
    prefix: &str,
    carried: bool,
) {
    doc.leaves(max, MAX_VALUE_CHARS, |path, v| {
        let name = || format!("{prefix}{path}");
        if path.ends_with("#key") {
            out.push_name(LocationKind::Json, &v, name)
        } else {
            out.push(LocationKind::Json, &v, name);
            if carried {
                if is_graphql_query_path(path) {
                    out.graphql(&v);
                } else {
                    out.nested(LocationKind::Json, &v, path);
                }
            }
        }
    });
}

/// A JSON object or array that is the whole of `raw` (blanks around it aside).
fn embedded_json(raw: &str) -> Option<json::Document<'_>> {
    let t = raw.trim();
    framed_as_json(t).then(|| json::Document::parse(t).ok())?
}

/// `t` opens and closes as a JSON object or array does (`{…}`, `[…]`).
fn framed_as_json(t: &str) -> bool {
    t.len() >= 2
        && ((t.starts_with('{') && t.ends_with('}')) || (t.starts_with('[') && t.ends_with(']')))
}

/// Shortest base64 text read for a JSON document (`{"a":1}` is 10 characters of base64).
const MIN_BASE64_JSON: usize = 10;

/// The JSON documents (object or array) that `raw` is in base64 or base64url: the whole value,
/// or the first `max_parts` dot-separated parts of a JWS/JWT (`header.payload.signature`) or a
/// signed cookie. Padding is optional. Allocates only for a value that starts like base64 of
/// `{` or `[` (`e`, `W`) and decodes to one.
fn embedded_base64_json(raw: &str, max_parts: usize) -> Vec<String> {
    let raw = raw.trim();
    // Base64 of `{` or `[` starts with `e` or `W` (a JWS header is an object): nothing else is
    // split or decoded.
    if raw.len() < MIN_BASE64_JSON
        || raw.len() > 2 * MAX_VALUE_CHARS
        || !matches!(raw.as_bytes().first(), Some(b'e' | b'W'))
    {
        return Vec::new();
    }
    let take = match raw.split('.').count() {
        1 => 1,
        3 | 5 => max_parts.min(2),
        _ => return Vec::new(),
    };
    raw.split('.')
        .take(take)
        .filter_map(|part| {
            let part = part.trim_end_matches('=');
            if part.len() < MIN_BASE64_JSON || !matches!(part.as_bytes().first(), Some(b'e' | b'W'))
            {
                return None;
            }
            let bytes = base64::Engine::decode(base64_engine(part)?, part).ok()?;
            let text = String::from_utf8(bytes).ok()?;
            framed_as_json(text.trim()).then_some(text)
        })
        .collect()
}

/// The unpadded decoder of the base64 alphabet `run` is written in, standard (`+/`) or
/// URL-safe (`-_`); `None` when it holds other characters or both alphabets' own.
fn base64_engine(run: &str) -> Option<&'static base64::engine::GeneralPurpose> {
    let standard = |b: u8| b.is_ascii_alphanumeric() || b == b'+' || b == b'/';
    let url_safe = |b: u8| b.is_ascii_alphanumeric() || b == b'-' || b == b'_';
    if run.bytes().all(standard) {
        Some(&base64::engine::general_purpose::STANDARD_NO_PAD)
    } else if run.bytes().all(url_safe) {
        Some(&base64::engine::general_purpose::URL_SAFE_NO_PAD)
    } else {
        None
    }
}

/// Path segments read for base64 text.
const MAX_PATH_SEGMENTS: usize = 16;

/// Shortest base64 value read for text (12 characters are 9 bytes: `' or 1=1--` is 16).
const MIN_BASE64_TEXT: usize = 12;

/// The text that `raw` is in base64 or base64url (padding optional), when the whole value is
/// one run of either alphabet that decodes to printable UTF-8 (tabs and line breaks allowed).
/// Identifiers, hashes and random tokens decode to bytes that are not text: the first 16
/// characters are decoded on the stack and checked before anything is allocated, so most are
/// turned away after 12 bytes.
fn embedded_base64_text(raw: &str) -> Option<String> {
    let run = raw.trim().trim_end_matches('=');
    let bytes = run.as_bytes();
    if run.len() < MIN_BASE64_TEXT
        || run.len() > 2 * MAX_VALUE_CHARS
        || run.len() % 4 == 1
        || raw.trim().len() - run.len() > 2
    {
        return None;
    }
    let engine = base64_engine(run)?;
    // Text bytes: printable ASCII, tab, line breaks, or part of a multi-byte character.
    let textual = |b: u8| matches!(b, 0x20..=0x7E | b'\t' | b'\n' | b'\r' | 0x80..=0xF4);
    let mut head = [0u8; 12];
    let n =
        base64::Engine::decode_slice(engine, &bytes[..16.min(bytes.len() & !3)], &mut head).ok()?;
    if !head[..n].iter().copied().all(textual) {
        return None;
    }
    let text = String::from_utf8(base64::Engine::decode(engine, run).ok()?).ok()?;
    // Random bytes are valid UTF-8 now and then (`ed-8862-uycr` decodes to `y߼󭾻'+`); text
    // that carries a payload is nearly all ASCII.
    let chars = text.chars().count();
    let ascii = text.chars().filter(char::is_ascii).count();
    (text.bytes().all(textual) && ascii * 10 >= chars * 9).then_some(text)
}

/// `$.query`, or `$[n].query` (a batch of operations).
fn is_graphql_query_path(path: &str) -> bool {
    path == "$.query"
        || path
            .strip_prefix("$[")
            .and_then(|p| p.strip_suffix("].query"))
            .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
}

fn multipart_values(body: &str, boundary: &str, out: &mut Collector) {
    let delimiter = format!("--{boundary}");
    for part in body.split(delimiter.as_str()).skip(1) {
        let Some((head, content)) = part
            .split_once("\r\n\r\n")
            .or_else(|| part.split_once("\n\n"))
        else {
            continue;
        };
        let mut name = String::new();
        for line in head.lines() {
            let disposition = line
                .as_bytes()
                .get(..20)
                .is_some_and(|p| p.eq_ignore_ascii_case(b"content-disposition:"));
            if !disposition {
                continue;
            }
            // Quote-aware, as servers parse it: `filename="a; cat /etc/passwd"` is one name
            // (split on every `;`, the payload after it was lost).
            for (k, v) in disposition_pairs(line) {
                if k == "name" {
                    out.push_name(LocationKind::Multipart, &v, || format!("{v}#key"));
                    name = v;
                } else if k == "filename" {
                    out.push(LocationKind::Multipart, &v, || format!("{name}#filename"));
                }
            }
        }
        let content = content.strip_suffix("\r\n").unwrap_or(content);
        if !looks_binary(content.as_bytes()) {
            out.push(LocationKind::Multipart, content, || name.clone());
            out.nested(LocationKind::Multipart, content, &name);
        }
    }
}

/// Request headers that name the file of a raw (non-multipart) upload, as upload libraries and
/// APIs send them.
pub const FILE_NAME_HEADERS: &[&str] = &["x-file-name", "x-filename", "x_filename"];

/// Multipart parts whose headers are read for file names; a body with more is read this far.
pub const MAX_UPLOAD_PARTS: usize = 256;

/// Longest part header block read (the `Content-Disposition` and `Content-Type` lines).
pub const MAX_PART_HEAD: usize = 8192;

/// First position of `needle` in `hay`.
fn find_bytes(hay: &[u8], needle: &[u8]) -> Option<usize> {
    if needle.is_empty() {
        return None;
    }
    memchr::memmem::find(hay, needle)
}

/// The parameters of a `Content-Disposition` value after its type, as `(lower-case key,
/// value)`: a quoted string is one value (a `;` in it ends nothing, `\"` is a quote, any other
/// backslash is kept) and loses its quotes.
fn disposition_pairs(text: &str) -> Vec<(String, String)> {
    let mut segments = Vec::new();
    let mut current = String::new();
    let (mut quoted, mut escaped) = (false, false);
    for c in text.chars() {
        if escaped {
            // `\"` is an escape; before anything else a backslash is itself, as browsers send
            // Windows and UNC paths (`..\..\etc\passwd`, `\\host\share\a.php`) unescaped.
            if c != '"' {
                current.push('\\');
            }
            current.push(c);
            escaped = false;
            continue;
        }
        match c {
            '\\' if quoted => escaped = true,
            '"' => quoted = !quoted,
            ';' if !quoted => segments.push(std::mem::take(&mut current)),
            _ => current.push(c),
        }
    }
    segments.push(current);
    segments
        .into_iter()
        .skip(1)
        .filter_map(|s| {
            let (k, v) = s.split_once('=')?;
            Some((k.trim().to_ascii_lowercase(), v.trim().to_string()))
        })
        .collect()
}

/// The file names among a `Content-Disposition` value's parameters ([`disposition_pairs`]):
/// `filename`, and `filename*` (RFC 6266, `UTF-8''shell.php`) without its charset and language.
fn file_names(pairs: Vec<(String, String)>) -> Vec<(&'static str, String)> {
    pairs
        .into_iter()
        .filter_map(|(k, v)| match k.as_str() {
            "filename" => Some(("filename", v)),
            "filename*" => {
                let name = v.splitn(3, '\'').nth(2).map_or(v.as_str(), |n| n);
                Some(("filename*", name.to_string()))
            }
            _ => None,
        })
        .collect()
}

/// The text of a UTF-16 or UTF-32 body, by its byte-order mark, the pattern of zero bytes its
/// first four bytes show when it starts with ASCII (how JSON parsers detect the encoding,
/// RFC 4627 §3), or its declared `charset` when it is not UTF-8 text. `None` for any other
/// body, or one that does not decode whole.
fn wide_text(body: &[u8], charset: Option<&str>) -> Option<String> {
    #[derive(Clone, Copy)]
    enum Wide {
        U16(bool),
        U32(bool),
    }
    let head = |n: usize| body.get(..n);
    let (kind, skip) = match (head(4), head(2)) {
        (Some([0xFF, 0xFE, 0, 0]), _) => (Wide::U32(false), 4),
        (Some([0, 0, 0xFE, 0xFF]), _) => (Wide::U32(true), 4),
        (_, Some([0xFF, 0xFE])) => (Wide::U16(false), 2),
        (_, Some([0xFE, 0xFF])) => (Wide::U16(true), 2),
        _ => {
            // A declared charset counts only for a body that is not UTF-8 text already: parsers
            // that detect the encoding from the bytes read a UTF-8 body as UTF-8 whatever the
            // header says, so `charset=utf-16le` on one must not hide it.
            let plain = !body.contains(&0) && std::str::from_utf8(body).is_ok();
            let declared = match charset.filter(|_| !plain) {
                Some("utf-16le") => Some(Wide::U16(false)),
                Some("utf-16be") => Some(Wide::U16(true)),
                Some("utf-32le") => Some(Wide::U32(false)),
                Some("utf-32be") => Some(Wide::U32(true)),
                _ => None,
            };
            let sniffed = match head(4)? {
                [0, 0, 0, a] if *a != 0 => Some(Wide::U32(true)),
                [a, 0, 0, 0] if *a != 0 => Some(Wide::U32(false)),
                [0, a, 0, b] if *a != 0 && *b != 0 => Some(Wide::U16(true)),
                [a, 0, b, 0] if *a != 0 && *b != 0 => Some(Wide::U16(false)),
                _ => None,
            };
            (declared.or(sniffed)?, 0)
        }
    };
    let body = body.get(skip..)?;
    match kind {
        Wide::U16(big) => {
            let units = body.chunks_exact(2).map(|c| {
                let pair = [c[0], c[1]];
                if big {
                    u16::from_be_bytes(pair)
                } else {
                    u16::from_le_bytes(pair)
                }
            });
            char::decode_utf16(units)
                .collect::<Result<String, _>>()
                .ok()
        }
        Wide::U32(big) => body
            .chunks_exact(4)
            .map(|c| {
                let quad = [c[0], c[1], c[2], c[3]];
                char::from_u32(if big {
                    u32::from_be_bytes(quad)
                } else {
                    u32::from_le_bytes(quad)
                })
            })
            .collect(),
    }
}

/// True when the first KiB of `bytes` is not text: more than 10 % control bytes, or more than 4
/// invalid UTF-8 sequences. A multipart part's content arrives here after the body went through
/// `from_utf8_lossy`, so an invalid sequence shows as U+FFFD (a video's or an image's bytes
/// around the text of its metadata); the count is the same for raw and already-replaced bytes.
/// A cut multi-byte sequence at the end of the sample is one, not binary.
fn looks_binary(bytes: &[u8]) -> bool {
    let sample = &bytes[..bytes.len().min(1024)];
    let control = sample
        .iter()
        .filter(|&&b| b < 0x20 && !matches!(b, b'\t' | b'\n' | b'\r'))
        .count();
    control * 10 > sample.len()
        || String::from_utf8_lossy(sample)
            .matches('\u{FFFD}')
            .nth(4)
            .is_some()
}

/// Leaves read of a JSON document inside one value ([`Collector::nested`]).
pub const MAX_NESTED_LEAVES: usize = 256;

/// Text nodes and attribute values of an XML body that are inspected, beside the body itself.
pub const MAX_XML_VALUES: usize = 4096;

/// String arguments of a GraphQL document read at most (the rest of the document is still
/// scored where it was found).
pub const MAX_GRAPHQL_VALUES: usize = 1024;

/// Leaves of a JSON body that are inspected (the body itself is bounded by `max_body_bytes`).
pub const MAX_JSON_LEAVES: usize = 4096;

/// How much a value looks like it could break out of its context: characters that delimit code
/// in SQL, shells, HTML, templates and paths, and `../`. Used only to choose which values keep a
/// row of their own when a request has more than `max_inspected_values`, so that padding a body
/// with many harmless fields cannot push a payload into the merged row.
fn suspicion(raw: &str) -> usize {
    let chars = raw
        .bytes()
        .filter(|b| b"'\"<>();|&$`{}\\*#%\n\r".contains(b))
        .count();
    chars + 4 * (raw.matches("../").count() + raw.matches("..\\").count())
}

/// Keeps the `keep` most suspicious values in `values` (in their original order) and returns the
/// others (in their original order).
fn keep_most_suspicious(values: &mut Vec<InspectedValue>, keep: usize) -> Vec<InspectedValue> {
    let mut ranked: Vec<(usize, usize)> = values
        .iter()
        .enumerate()
        .map(|(i, v)| (suspicion(&v.raw), i))
        .collect();
    // most suspicious first; among equals, the earlier value
    ranked.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
    let mut kept_flags = vec![false; values.len()];
    for &(_, i) in ranked.iter().take(keep) {
        kept_flags[i] = true;
    }
    let mut kept = Vec::with_capacity(keep);
    let mut rest = Vec::with_capacity(values.len().saturating_sub(keep));
    for (v, k) in values.drain(..).zip(kept_flags) {
        if k {
            kept.push(v);
        } else {
            rest.push(v);
        }
    }
    *values = kept;
    rest
}

/// A value made only of letters, digits, `_` and `-` (and short) carries no injection: skip it,
/// unless it is base64 of code ([`crate::features::hides_code`]).
pub fn is_trivially_clean(raw: &str) -> bool {
    raw.len() <= 64
        && raw
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
        && !crate::features::hides_code(raw.as_bytes())
}

/// Hashes a credential into a stable, non-reversible principal id.
pub fn principal_id(credential: &[u8]) -> String {
    const PRINCIPAL_SEED: u64 = 0x6170_6977_6172_6401;
    format!("tok:{:016x}", hash::hash64(PRINCIPAL_SEED, credential))
}

/// Resolves the client IP and principal from the connection address and headers.
pub fn identify(
    view: &RequestView,
    source_address: Option<&str>,
    trusted_xff_hops: usize,
    principal_headers: &[String],
) -> ClientIdentity {
    let peer = source_address.map(strip_port);
    let ip = if trusted_xff_hops == 0 {
        peer
    } else {
        // Each trusted proxy appends the address it saw; the client is `hops` from the right
        // once the entry Envoy appended itself is dropped: with `use_remote_address: true`
        // (required) Envoy appends the peer, or its own address for a loopback peer, before
        // any filter runs.
        let xff = view
            .header("x-forwarded-for")
            .map(|v| String::from_utf8_lossy(v).into_owned())
            .unwrap_or_default();
        let mut hops: Vec<&str> = xff
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .collect();
        hops.pop();
        hops.len()
            .checked_sub(trusted_xff_hops)
            .and_then(|i| hops.get(i))
            .map(|s| strip_port(s))
            .or(peer)
    };
    let principal = principal_headers.iter().find_map(|name| {
        let value = view.header(name)?;
        let token = match value.get(..7) {
            Some(p) if p.eq_ignore_ascii_case(b"bearer ") => &value[7..],
            _ => value,
        };
        (!token.is_empty()).then(|| principal_id(token))
    });
    ClientIdentity { ip, principal }
}

/// Resolves the client IP as [`identify`] does and the principal from the configured principal
/// sources (API key header, bearer token, JWT claim), as its redacted display id (`tok:1a2b3c4d`,
/// the id behaviour reasons use).
pub fn identify_with(
    view: &RequestView,
    source_address: Option<&str>,
    identity: &crate::config::IdentityConfig,
) -> ClientIdentity {
    let mut id = identify(view, source_address, identity.trusted_xff_hops, &[]);
    id.principal = crate::behaviour::principal::resolve(view, &identity.principal_sources, false)
        .map(|p| p.display);
    id
}

fn strip_port(addr: &str) -> String {
    let addr = addr.trim();
    if let Some(rest) = addr.strip_prefix('[') {
        return rest.split(']').next().unwrap_or(rest).to_string();
    }
    match addr.rsplit_once(':') {
        Some((host, port)) if !host.contains(':') && port.bytes().all(|b| b.is_ascii_digit()) => {
            host.to_string()
        }
        _ => addr.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn opts(headers: &[String]) -> InspectOptions<'_> {
        InspectOptions {
            headers,
            other_headers: None,
            max_values: 32,
            skip_inert: false,
        }
    }

    fn locations(view: &RequestView, opts: &InspectOptions<'_>) -> Vec<String> {
        view.inspected_values(opts)
            .0
            .iter()
            .map(|v| v.location.to_string())
            .collect()
    }

    fn locs(view: &RequestView, headers: &[String]) -> Vec<String> {
        locations(view, &opts(headers))
    }

    /// A GET of `path` with `headers`.
    fn get_with_headers(path: &[u8], headers: &[(&str, &str)]) -> RequestView {
        let mut view = RequestView::new("GET", path);
        for (name, value) in headers {
            view.headers
                .push((name.to_string(), value.as_bytes().to_vec()));
        }
        view
    }

    #[test]
    fn query_values_are_decoded_and_trivial_ones_skipped() {
        let view = RequestView::new("get", b"/api/search?q=a%27+or+1%3D1&page=2&sort=name");
        let (values, _) = view.inspected_values(&opts(&[]));
        assert_eq!(view.method, "GET");
        assert_eq!(values.len(), 2, "{values:?}");
        assert_eq!(values[1].location.to_string(), "query:q");
        assert_eq!(values[1].raw, "a' or 1=1");
    }

    #[test]
    fn other_headers_are_scored_except_the_skipped_ones() {
        let view = get_with_headers(
            b"/a",
            &[
                ("user-agent", "curl/8.0 (x; y)"),
                ("x-filename", "../../etc/passwd"),
                ("authorization", "Bearer a.b/c=="),
                ("x-envoy-original-path", "/a?b=<c>"),
                ("cookie", "sid=a b"),
                ("x-custom", "ok"),
            ],
        );
        let named = vec!["user-agent".to_string()];
        let skip = vec!["authorization".to_string(), "x-envoy-*".to_string()];
        let with_others = InspectOptions {
            other_headers: Some(&skip),
            ..opts(&named)
        };
        let found = locations(&view, &with_others);
        // Cookies are read only by name; `x-custom: ok` is trivially clean.
        assert_eq!(
            found,
            vec!["path", "header:user-agent", "header:x-filename"]
        );
        assert_eq!(locs(&view, &named), vec!["path", "header:user-agent"]);
        assert!(header_listed(&skip, "x-envoy-attempt-count"));
        assert!(!header_listed(&skip, "x-envoy"));
    }

    #[test]
    fn well_formed_standard_headers_are_left_out_when_serving() {
        let view = get_with_headers(
            b"/v1/models",
            &[
                ("accept", "application/json"),
                ("if-none-match", "W/\"5f3c-1a2b3c4d\""),
                ("prefer", "return=minimal"),
                ("accept-language", "en-US,en;q=0.9"),
                ("content-type", "application/json'; select pg_sleep(5)--"),
            ],
        );
        let named = vec!["accept-language".to_string()];
        let skip: Vec<String> = Vec::new();
        let found = |skip_inert: bool| {
            let o = InspectOptions {
                other_headers: Some(&skip),
                skip_inert,
                ..opts(&named)
            };
            locations(&view, &o)
        };
        // Serving: only the value outside its header's grammar is scored.
        assert_eq!(found(true), vec!["header:content-type"]);
        // Training reads every value.
        assert_eq!(
            found(false),
            vec![
                "path",
                "header:accept-language",
                "header:accept",
                "header:if-none-match",
                "header:prefer",
                "header:content-type"
            ]
        );
    }

    #[test]
    fn json_body_leaves_carry_their_path() {
        let mut view = RequestView::new("POST", b"/api/orders");
        view.headers.push((
            "content-type".into(),
            b"application/json; charset=utf-8".to_vec(),
        ));
        view.body = br#"{"customer":{"name":"<script>alert(1)</script>"},"qty":3}"#.to_vec();
        assert_eq!(locs(&view, &[]), vec!["path", "json:$.customer.name"]);
    }

    #[test]
    fn form_multipart_cookie_and_header_values_are_located() {
        let mut view = RequestView::new("POST", b"/c");
        view.headers.push((
            "content-type".into(),
            b"application/x-www-form-urlencoded".to_vec(),
        ));
        view.headers
            .push(("cookie".into(), b"sid=abc; pref=a b".to_vec()));
        view.headers
            .push(("user-agent".into(), b"curl/8.0".to_vec()));
        view.body = b"comment=hi+there%3B+ls&x=1".to_vec();
        let headers = vec!["cookie".to_string(), "user-agent".to_string()];
        assert_eq!(
            locs(&view, &headers),
            vec!["path", "cookie:pref", "header:user-agent", "form:comment"]
        );

        let mut view = RequestView::new("POST", b"/upload");
        view.headers.push((
            "content-type".into(),
            b"multipart/form-data; boundary=XyZ".to_vec(),
        ));
        view.body = b"--XyZ\r\nContent-Disposition: form-data; name=\"doc\"; filename=\"../../etc/passwd\"\r\n\r\nhello world\r\n--XyZ--\r\n".to_vec();
        assert_eq!(
            locs(&view, &[]),
            vec!["path", "multipart:doc#filename", "multipart:doc"]
        );
    }

    #[test]
    fn a_binary_file_part_is_not_scored_even_with_text_inside() {
        // An MP4's first bytes: binary around the text of its encoder's options, with fewer than
        // 10 % control bytes. Found scored as cmdi in a recorded video upload: the part's
        // content had gone through from_utf8_lossy with the body, so its invalid bytes were
        // U+FFFD, valid UTF-8.
        let mut video = b"\x00\x00\x00 ftypisom\x00\x00\x02\x00isomiso2avc1mp41".to_vec();
        for _ in 0..8 {
            video.extend_from_slice(b"\xb7\xff\xe9E\xe6\xd9H\xb7\x96,\xd8 \xd9#\xee\xefx");
        }
        video.extend_from_slice(b"x264 - options: cabac=1 ref=3 deblock=1:-3:-3 me=hex; rm -rf");
        // A presigned upload's form fields come first: the body's first KiB is text.
        let mut body = b"--B\r\nContent-Disposition: form-data; name=\"acl\"\r\n\r\npublic read\r\n--B\r\nContent-Disposition: form-data; name=\"policy\"\r\n\r\n".to_vec();
        body.extend_from_slice(
            "eyJleHBpcmF0aW9uIjogIjIwMjAtMTItMDNUMDc6MzY6NDZaIiwg"
                .repeat(24)
                .as_bytes(),
        );
        body.extend_from_slice(b"\r\n--B\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a b.mp4\"\r\nContent-Type: video/mp4\r\n\r\n");
        body.extend_from_slice(&video);
        body.extend_from_slice(b"\r\n--B--\r\n");
        assert!(!looks_binary(&body), "the body's first KiB is text");
        let mut view = RequestView::new("POST", b"/upload");
        view.headers.push((
            "content-type".into(),
            b"multipart/form-data; boundary=B".to_vec(),
        ));
        view.body = body;
        assert_eq!(
            locs(&view, &[]),
            vec![
                "path",
                "multipart:acl",
                "multipart:policy",
                // Base64 of text (a policy document cut short, so not JSON): read as text too.
                "multipart:policy>base64",
                "multipart:file#filename"
            ]
        );
        // The same text without the binary around it is scored.
        view.body = b"--B\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a b.txt\"\r\n\r\nref=3; rm -rf /\r\n--B--\r\n".to_vec();
        assert_eq!(
            locs(&view, &[]),
            vec!["path", "multipart:file#filename", "multipart:file"]
        );
    }

    #[test]
    fn vendor_json_is_flattened_and_bracket_names_are_not_scored_as_keys() {
        let mut view = RequestView::new("POST", b"/");
        view.headers.push((
            "content-type".into(),
            b"application/x-amz-json-1.1".to_vec(),
        ));
        view.body = br#"{"TableName":"my table"}"#.to_vec();
        assert_eq!(locs(&view, &[]), vec!["path", "json:$.TableName"]);
        let view = RequestView::new("GET", b"/v1/charges?metadata[order_id]=a+b&expand[]=x.y");
        assert_eq!(
            locs(&view, &[]),
            vec!["path", "query:metadata[order_id]", "query:expand[]"]
        );
        let view = RequestView::new("GET", b"/s?%3Cscript%3E=1");
        assert_eq!(locs(&view, &[]), vec!["path", "query:<script>#key"]);
    }

    #[test]
    fn names_that_carry_a_payload_are_scored_as_keys() {
        // Prototype pollution: in a query, a form, a cookie name and a JSON body.
        let view = RequestView::new(
            "GET",
            b"/a?__proto__[admin]=1&a[constructor][prototype][x]=1&__proto__.y=1&filter[status]=open",
        );
        assert_eq!(
            locs(&view, &[]),
            vec![
                "path",
                "query:__proto__[admin]#key",
                "query:a[constructor][prototype][x]#key",
                "query:__proto__.y#key",
            ]
        );
        let mut view = RequestView::new("POST", b"/a");
        view.headers
            .push(("content-type".into(), b"application/json".to_vec()));
        view.body = br#"{"user":{"__proto__":{"admin":true}},"constructor":{"prototype":{"x":1}},"prototype":"ok"}"#.to_vec();
        let (values, _) = view.inspected_values(&opts(&[]));
        let rows: Vec<(String, &str)> = values
            .iter()
            .map(|v| (v.location.to_string(), v.raw.as_str()))
            .collect();
        assert_eq!(
            rows,
            vec![
                ("path".to_string(), "/a"),
                (
                    "json:$.constructor.prototype#key".to_string(),
                    "constructor.prototype"
                ),
                ("json:$.user.__proto__#key".to_string(), "user.__proto__"),
            ]
        );
        // A Java class or gadget as a name, as a form body without `=` sends it, and as a
        // cookie name.
        let mut view = RequestView::new("POST", b"/a");
        view.headers.push((
            "content-type".into(),
            b"application/x-www-form-urlencoded".to_vec(),
        ));
        view.headers.push((
            "cookie".into(),
            b"session=abc; java.lang.Runtime=1".to_vec(),
        ));
        view.body = b"java.beans.XMLDecoder".to_vec();
        assert_eq!(
            locs(&view, &["cookie".to_string()]),
            vec![
                "path",
                "cookie:java.lang.Runtime#key",
                "form:java.beans.XMLDecoder#key"
            ]
        );
        // Identifiers without a needle stay unscored, in every syntax clients use.
        let view = RequestView::new(
            "GET",
            b"/a?page.size=10&sort[created_at]=desc&is_active=1&order_id=5&prototype_id=3&constructor=x",
        );
        assert_eq!(locs(&view, &[]), vec!["path"]);
    }

    #[test]
    fn xml_bodies_are_scored_whole_and_by_text_node_and_attribute() {
        let soap = br#"<?xml version="1.0"?><s:Envelope xmlns:s="urn:s"><s:Body><Order id="' or 1=1--"><Name>Jane Doe</Name><Note>x' union select 1--</Note></Order></s:Body></s:Envelope>"#;
        // An XML declaration makes it XML under any other type too.
        for ctype in [
            "text/xml; charset=utf-8",
            "application/soap+xml",
            "",
            "text/plain",
        ] {
            let mut view = RequestView::new("POST", b"/soap");
            if !ctype.is_empty() {
                view.headers
                    .push(("content-type".into(), ctype.as_bytes().to_vec()));
            }
            view.body = soap.to_vec();
            assert_eq!(
                locs(&view, &[]),
                vec![
                    "path",
                    "body",
                    "xml:/s:Envelope/s:Body/Order/@id",
                    "xml:/s:Envelope/s:Body/Order/Name",
                    "xml:/s:Envelope/s:Body/Order/Note"
                ],
                "{ctype}"
            );
        }
        // Text that is not XML stays one value.
        let mut view = RequestView::new("POST", b"/notes");
        view.headers
            .push(("content-type".into(), b"text/plain".to_vec()));
        view.body = b"<b>not</b> an xml document; x' union select 1--".to_vec();
        assert_eq!(locs(&view, &[]), vec!["path", "body"]);
    }

    #[test]
    fn json_under_another_type_is_read_as_json_and_other_text_stays_one_value() {
        let doc = br#"{"customer":{"name":"Jane Doe"},"items":[{"sku":"A-1","qty":2}],"comment":"x' OR 1=1--"}"#;
        for ctype in [
            "text/plain",
            "application/octet-stream",
            "text/plain;charset=UTF-8",
        ] {
            let mut view = RequestView::new("POST", b"/orders");
            view.headers
                .push(("content-type".into(), ctype.as_bytes().to_vec()));
            view.body = doc.to_vec();
            assert_eq!(
                locs(&view, &[]),
                vec!["path", "body", "json:$.comment", "json:$.customer.name"],
                "{ctype}"
            );
            // Not JSON after all: one value, and no note (the type never said JSON).
            view.body = b"{not json} x' OR 1=1--".to_vec();
            let (values, notes) = view.inspected_values(&opts(&[]));
            assert_eq!(values.len(), 2, "{ctype}");
            assert!(notes.is_empty(), "{notes:?}");
        }
        // A form body that starts with `{` is still a form.
        let mut view = RequestView::new("POST", b"/f");
        view.headers.push((
            "content-type".into(),
            b"application/x-www-form-urlencoded".to_vec(),
        ));
        view.body = br#"{"a":"x' OR 1=1--"}"#.to_vec();
        assert_eq!(
            locs(&view, &[]),
            vec!["path", "form:{\"a\":\"x' OR 1#key", "form:{\"a\":\"x' OR 1"]
        );
    }

    #[test]
    fn json_documents_inside_values_are_read_by_their_leaves() {
        use base64::Engine as _;
        let inner = r#"{"where":{"name":"x' OR 1=1--"},"limit":10}"#;
        let b64 = base64::engine::general_purpose::STANDARD.encode(inner);
        let jose = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .encode(r#"{"alg":"HS256","kid":"../../dev/null"}"#);
        let claims = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .encode(r#"{"sub":"1234","note":"x' OR 1=1--"}"#);
        let target = format!(
            "/orders?filter={}&state={}",
            inner.replace(' ', "%20"),
            b64.replace('+', "%2B").replace('=', "%3D")
        );
        let mut view = RequestView::new("POST", target.as_bytes());
        view.headers.push((
            "authorization".into(),
            format!("Bearer {jose}.{claims}.c2lnbmF0dXJl").into_bytes(),
        ));
        view.headers.push((
            "cookie".into(),
            format!("session={b64}; token={jose}.{claims}.c2ln; cart=%7B%22note%22%3A%22x%27%20OR%201%3D1--%22%7D").into_bytes(),
        ));
        view.headers
            .push(("content-type".into(), b"application/json".to_vec()));
        view.body = serde_json::to_vec(&serde_json::json!({"type": "order", "metadata": inner}))
            .unwrap_or_default();
        assert_eq!(
            locs(&view, &["cookie".to_string()]),
            vec![
                "path",
                "query:filter",
                "json:query:filter>$.where.name",
                "query:state",
                "json:query:state>base64>$.where.name",
                "cookie:session",
                "json:cookie:session>base64>$.where.name",
                "cookie:token",
                "json:cookie:token>base64>$.kid",
                "json:cookie:token>base64>$.note",
                "cookie:cart",
                "json:cookie:cart>$.note",
                // The bearer token: its protected header only, never the credential or claims.
                "json:header:authorization>jose>$.kid",
                "json:$.metadata",
                "json:$.metadata>$.where.name",
            ]
        );
        // Values that only look like documents stay values.
        for value in ["{not json}", "[1, 2", "e30", "abc.def.ghi"] {
            let target = format!("/o?v={value}");
            let view = RequestView::new("GET", target.as_bytes());
            let found = locs(&view, &[]);
            assert!(found.iter().all(|l| !l.contains('>')), "{value}: {found:?}");
        }
        assert!(embedded_base64_json(&"e".repeat(3 * MAX_VALUE_CHARS), 2).is_empty());
    }

    #[test]
    fn text_in_base64_is_scored_as_the_text_it_decodes_to() {
        use base64::Engine as _;
        let b64 = |t: &str| base64::engine::general_purpose::STANDARD.encode(t);
        let url = |t: &str| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(t);
        let payload = "x' OR 1=1-- ";
        let target = format!(
            "/o?data={}&next={}",
            b64(payload).replace('=', "%3D"),
            url("../../etc/passwd?a>b")
        );
        let mut view = RequestView::new("POST", target.as_bytes());
        view.headers.push((
            "cookie".into(),
            format!("pref={}", b64("<svg onload=alert(1)>")).into_bytes(),
        ));
        view.headers
            .push(("content-type".into(), b"application/json".to_vec()));
        view.body = serde_json::to_vec(&serde_json::json!({"blob": b64("; cat /etc/passwd")}))
            .unwrap_or_default();
        assert_eq!(
            locs(&view, &["cookie".to_string()]),
            vec![
                // The base64 values themselves are inert (letters and digits): left out.
                "path",
                "query:data>base64",
                "query:next>base64",
                "cookie:pref",
                "cookie:pref>base64",
                "json:$.blob",
                "json:$.blob>base64",
            ]
        );
        let (values, _) = view.inspected_values(&opts(&["cookie".to_string()]));
        let text = |l: &str| {
            values
                .iter()
                .find(|v| v.location.to_string() == l)
                .map(|v| v.raw.clone())
        };
        assert_eq!(text("query:data>base64").as_deref(), Some(payload));
        assert_eq!(
            text("query:next>base64").as_deref(),
            Some("../../etc/passwd?a>b")
        );
        // Identifiers, hashes, tokens and binary data are not text: nothing is added.
        for value in [
            "550e8400e29b41d4a716446655440000",
            "d41d8cd98f00b204e9800998ecf8427e",
            "internationalization",
            "AKIAIOSFODNN7EXAMPLE",
            "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk",
            "Zm9v",
            "aGVsbG8gd29ybGQ=x",
            "aGVsbG8+d29y_bGQ",
            // Valid UTF-8 by chance, not text.
            "ed-8862-uycr",
        ] {
            let target = format!("/o?v={value}");
            let found = locs(&RequestView::new("GET", target.as_bytes()), &[]);
            assert!(found.iter().all(|l| !l.contains('>')), "{value}: {found:?}");
        }
        // A path segment.
        let target = format!("/api/files/{}/raw", url("../../etc/passwd"));
        let found = locs(&RequestView::new("GET", target.as_bytes()), &[]);
        assert_eq!(found, vec!["path", "path:seg3>base64"]);
        assert!(embedded_base64_text(&"QUFB".repeat(MAX_VALUE_CHARS)).is_none());
        assert_eq!(
            embedded_base64_text(&b64("plain words here")).as_deref(),
            Some("plain words here")
        );
    }

    #[test]
    fn utf16_and_utf32_bodies_are_read_as_the_text_they_encode() {
        let doc = r#"{"name":"x' OR 1=1--","page":1}"#;
        let utf16 = |big: bool| -> Vec<u8> {
            doc.encode_utf16()
                .flat_map(|u| {
                    if big {
                        u.to_be_bytes()
                    } else {
                        u.to_le_bytes()
                    }
                })
                .collect()
        };
        let utf32_be: Vec<u8> = doc
            .chars()
            .flat_map(|c| u32::from(c).to_be_bytes())
            .collect();
        let with_bom = |bom: &[u8], body: Vec<u8>| [bom.to_vec(), body].concat();
        let bodies: Vec<(&str, Vec<u8>)> = vec![
            ("application/json", utf16(false)),
            ("application/json", utf16(true)),
            ("application/json", with_bom(&[0xFF, 0xFE], utf16(false))),
            ("application/json", with_bom(&[0xFE, 0xFF], utf16(true))),
            ("application/json", utf32_be.clone()),
            ("application/json", with_bom(&[0, 0, 0xFE, 0xFF], utf32_be)),
            // Declared and not UTF-8, or declared on UTF-8 text: read as what it is.
            ("application/json; charset=UTF-16LE", utf16(false)),
            (
                "application/json; charset=\"utf-16le\"",
                doc.as_bytes().to_vec(),
            ),
        ];
        for (ctype, body) in bodies {
            let mut view = RequestView::new("POST", b"/a");
            view.headers
                .push(("content-type".into(), ctype.as_bytes().to_vec()));
            view.body = body;
            assert_eq!(
                locs(&view, &[]),
                vec!["path", "json:$.name"],
                "{ctype} {:?}",
                &view.body[..6]
            );
        }
        // Binary stays binary, even when its first bytes look like UTF-16.
        let mut view = RequestView::new("POST", b"/a");
        view.headers
            .push(("content-type".into(), b"application/octet-stream".to_vec()));
        view.body = [b"a\0b\0".to_vec(), (0u8..=255).cycle().take(4096).collect()].concat();
        let (values, notes) = view.inspected_values(&opts(&[]));
        assert_eq!(values.len(), 1, "{values:?}");
        assert!(notes.contains(&InspectionNote::BinaryBody), "{notes:?}");
        assert_eq!(
            wide_text(&[0xFF, 0xFE, 0x00, 0xD8], None),
            None,
            "a lone surrogate"
        );
    }

    #[test]
    fn a_body_in_a_declared_ebcdic_charset_is_read_in_it_and_as_sent() {
        let ebcdic = |t: &str| -> Vec<u8> {
            t.chars()
                .map(|c| {
                    let i = decode::ebcdic::IBM037
                        .iter()
                        .position(|&u| u32::from(u) == u32::from(c));
                    i.and_then(|i| u8::try_from(i).ok()).unwrap_or(0x6F)
                })
                .collect()
        };
        let pct = |b: Vec<u8>| b.iter().map(|b| format!("%{b:02x}")).collect::<String>();
        let mut view = RequestView::new("POST", b"/a");
        view.headers.push((
            "content-type".into(),
            b"application/x-www-form-urlencoded; charset=IBM037".to_vec(),
        ));
        view.body = format!("{}={}", pct(ebcdic("name")), pct(ebcdic("x' OR 1=1--"))).into_bytes();
        let (values, _) = view.inspected_values(&opts(&[]));
        assert!(
            values
                .iter()
                .any(|v| v.location.to_string() == "form:name" && v.raw == "x' OR 1=1--"),
            "{values:?}"
        );
        // A JSON body in EBCDIC: its leaves; a UTF-8 body that says EBCDIC: read as sent too.
        view.headers[0].1 = b"application/json; charset=ibm037".to_vec();
        view.body = ebcdic(r#"{"name":"x' OR 1=1--"}"#);
        assert_eq!(locs(&view, &[]), vec!["path", "json:$.name"]);
        view.body = br#"{"name":"x' OR 1=1--"}"#.to_vec();
        let (values, _) = view.inspected_values(&opts(&[]));
        assert!(values.iter().any(|v| v.raw == "x' OR 1=1--"), "{values:?}");
    }

    #[test]
    fn multipart_names_and_file_names_are_read_quote_aware() {
        let mut view = RequestView::new("POST", b"/upload");
        view.headers.push((
            "content-type".into(),
            b"multipart/form-data; boundary=B".to_vec(),
        ));
        view.body = b"--B\r\nContent-Disposition: form-data; name=\"doc\"; filename=\"127.0.0.1; cat ~/.aws/credentials\"\r\n\r\nhello\r\n--B\r\nContent-Disposition: form-data; name=\"a;b\"\r\n\r\nx' OR 1=1--\r\n--B\r\nContent-Disposition: form-data; name=\"f\"; filename=\"..\\..\\etc\\passwd \\\"x\\\"\"\r\n\r\nhi\r\n--B--\r\n".to_vec();
        let (values, _) = view.inspected_values(&opts(&[]));
        let found: Vec<(String, String)> = values
            .iter()
            .map(|v| (v.location.to_string(), v.raw.clone()))
            .collect();
        assert!(
            found.contains(&(
                "multipart:doc#filename".into(),
                "127.0.0.1; cat ~/.aws/credentials".into()
            )),
            "{found:?}"
        );
        assert!(
            found.contains(&("multipart:a;b".into(), "x' OR 1=1--".into())),
            "{found:?}"
        );
        // Backslashes of a Windows path are kept; `\"` is a quote.
        assert!(
            found.contains(&(
                "multipart:f#filename".into(),
                "..\\..\\etc\\passwd \"x\"".into()
            )),
            "{found:?}"
        );
    }

    #[test]
    fn graphql_string_arguments_are_scored_where_they_sit() {
        let query = r#"query Orders { orders(first: 20, customer: "x' OR 1=1--", filter: {note: "gift wrap"}) { id } }"#;
        let want = vec![
            "path",
            "json:$.query",
            "graphql:Orders.orders.customer",
            "graphql:Orders.orders.filter.note",
        ];
        // A JSON body's `query`, alone or in a batch.
        let mut view = RequestView::new("POST", b"/graphql");
        view.headers
            .push(("content-type".into(), b"application/json".to_vec()));
        view.body = serde_json::to_vec(&serde_json::json!({"query": query, "variables": {}}))
            .unwrap_or_default();
        assert_eq!(locs(&view, &[]), want);
        view.body = serde_json::to_vec(&serde_json::json!([{"query": query}])).unwrap_or_default();
        assert_eq!(
            locs(&view, &[]),
            want.iter()
                .map(|l| l.replace("json:$.query", "json:$[0].query"))
                .collect::<Vec<_>>()
        );
        // Another key named `query` is not a GraphQL document's place.
        view.body = serde_json::to_vec(&serde_json::json!({"search": {"query": query}}))
            .unwrap_or_default();
        assert_eq!(locs(&view, &[]), vec!["path", "json:$.search.query"]);
        // GraphQL over GET, and an application/graphql body.
        let target = format!(
            "/graphql?query={}",
            query.replace(' ', "%20").replace('"', "%22")
        );
        let view = RequestView::new("GET", target.as_bytes());
        assert_eq!(
            locs(&view, &[]),
            vec![
                "path",
                "query:query",
                "graphql:Orders.orders.customer",
                "graphql:Orders.orders.filter.note"
            ]
        );
        let mut view = RequestView::new("POST", b"/graphql");
        view.headers
            .push(("content-type".into(), b"application/graphql".to_vec()));
        view.body = query.as_bytes().to_vec();
        assert_eq!(
            locs(&view, &[]),
            vec![
                "path",
                "body",
                "graphql:Orders.orders.customer",
                "graphql:Orders.orders.filter.note"
            ]
        );
        // A search parameter named `query` is text, not a document.
        let view = RequestView::new("GET", b"/search?query=blue%20shoes%20x'%20OR%201=1--");
        assert_eq!(locs(&view, &[]), vec!["path", "query:query"]);
    }

    #[test]
    fn malformed_json_is_scored_by_its_string_values_and_binary_is_noted() {
        let mut view = RequestView::new("POST", b"/a");
        view.headers
            .push(("content-type".into(), b"application/json".to_vec()));
        view.body = br#"{"a": "' or 1=1"#.to_vec();
        let (values, notes) = view.inspected_values(&opts(&[]));
        let last = values.last().unwrap();
        assert_eq!(
            (last.location.to_string().as_str(), last.raw.as_str()),
            ("json:$..a", "' or 1=1")
        );
        assert_eq!(notes, vec![InspectionNote::MalformedJson]);

        view.body = b"{not json at all".to_vec();
        let (values, _) = view.inspected_values(&opts(&[]));
        assert_eq!(values.last().unwrap().location.to_string(), "body");

        view.body = (0u8..=255).cycle().take(4096).collect();
        let (_, notes) = view.inspected_values(&opts(&[]));
        assert_eq!(notes, vec![InspectionNote::BinaryBody]);
    }

    #[test]
    fn truncated_json_body_is_scored_value_by_value() {
        let mut view = RequestView::new("POST", b"/api/orders");
        view.headers
            .push(("content-type".into(), b"application/json".to_vec()));
        view.body =
            br#"{"order": {"note": "<script>alert(1)</script>", "padding": "lorem ipsum lorem"#
                .to_vec();
        view.body_truncated = true;
        let (values, notes) = view.inspected_values(&opts(&[]));
        let got: Vec<String> = values
            .iter()
            .map(|v| format!("{}={}", v.location, v.raw))
            .collect();
        assert_eq!(
            got,
            vec![
                "path=/api/orders",
                "json:$..note=<script>alert(1)</script>",
                "json:$..padding=lorem ipsum lorem"
            ]
        );
        assert!(matches!(notes[..], [InspectionNote::BodyTruncated(_)]));
    }

    #[test]
    fn each_value_of_a_repeated_json_key_is_inspected() {
        let mut view = RequestView::new("POST", b"/api/search");
        view.headers
            .push(("content-type".into(), b"application/json".to_vec()));
        view.body = br#"{"q":"1' or '1'='1","q":"shoes and socks"}"#.to_vec();
        let (values, _) = view.inspected_values(&opts(&[]));
        let got: Vec<String> = values
            .iter()
            .map(|v| format!("{}={}", v.location, v.raw))
            .collect();
        assert_eq!(
            got,
            [
                "path=/api/search",
                "json:$.q=1' or '1'='1",
                "json:$.q=shoes and socks"
            ]
        );
    }

    #[test]
    fn inert_values_are_left_out_before_the_cap() {
        let mut view = RequestView::new("GET", b"/api/v1/items?page=2&q=blue+shirt&x=%3Cb%3E");
        view.headers
            .push(("content-type".into(), b"application/json".to_vec()));
        view.body = br#"{"city":"Lyon","note":"a;b","price":19.99,"n":3}"#.to_vec();
        let serving = InspectOptions {
            headers: &[],
            other_headers: None,
            max_values: 32,
            skip_inert: true,
        };
        let (values, _) = view.inspected_values(&serving);
        let kept: Vec<String> = values.iter().map(|v| v.location.to_string()).collect();
        assert_eq!(kept, ["query:x", "json:$.note"]);
        let (all, _) = view.inspected_values(&opts(&[]));
        let expected: Vec<&InspectedValue> = all
            .iter()
            .filter(|v| !crate::features::is_inert(v))
            .collect();
        assert_eq!(values.iter().collect::<Vec<_>>(), expected);
    }

    #[test]
    fn random_bodies_never_panic_and_stay_bounded() {
        let seeds: [&[u8]; 11] = [
            br#"{"a":[1,{"b":"\u00e9\ud83d\ude00"}],"$ne":null,"k y":-0.5e3}"#,
            br#"{"query":"query Q($a: S = \"x\") { f(b: \"\"\"y\"\"\", c: {d: [\"e\"]}) @g(h: \"i\") { j } }","m":"{\"n\":\"eyJvIjoicCJ9\"}"}"#,
            b"a=%7B%22b%22%3A%22eyJjIjoiZCJ9.eyJlIjoiZiJ9.c2ln%22%7D&query=%7B+f(a%3A+%22b%22)+%7D",
            br#"<?xml?><!DOCTYPE a [<!ENTITY e "x">]><a k='1' j="2"><b><![CDATA[<c>]]></b><!--x-->&e;</a>"#,
            b"a=1&b=%zz%4&%3C=+",
            b"--B\r\nContent-Disposition: form-data; name=\"f\"; filename=\"x\"\r\n\r\nv\r\n--B--",
            b"\"\\",
            b"[[[[[[[[[[",
            b"\xff\xfe{\0\"\0a\0\"\0:\0\"\0x\0\"\0}\0",
            b"%89%95=%7d%40&x=a@b.c%0D%0ABcc: v@x.y\r\nA1 FETCH 1\r\nRCPT TO:<a@b.c>",
            "p=${$_GET[\u{e9}]}.file_get_contents\u{a0}/**/(x)&-d+allow_url_include%3d1&m[#post_render][]=call_user_func_array&\u{e9}=$GLOBALS;".as_bytes(),
        ];
        let types: [&[u8]; 7] = [
            b"application/json",
            b"text/xml",
            b"application/x-www-form-urlencoded",
            b"multipart/form-data; boundary=B",
            b"",
            b"application/json; charset=utf-16le",
            b"application/x-www-form-urlencoded; charset=ibm037",
        ];
        let probes = crate::probes::Probes::default();
        let mut state = 0x9e37_79b9_7f4a_7c15u64;
        for round in 0..20_000usize {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            let mut body = seeds[round % seeds.len()].to_vec();
            for k in 0..(state % 6) {
                let at = ((state >> (8 * k)) as usize) % (body.len() + 1);
                let byte = (state >> (3 * k + 5)) as u8;
                if k % 2 == 0 && at < body.len() {
                    body[at] = byte;
                } else {
                    body.insert(at, byte);
                }
            }
            body.truncate(((state >> 40) as usize) % (body.len() + 1));
            let mut view = RequestView::new("POST", b"/r?a=%F0%9F&b=\xff");
            view.headers
                .push(("content-type".into(), types[round % types.len()].to_vec()));
            view.body = body;
            view.body_truncated = round % 3 == 0;
            let (values, _) = view.inspected_values(&InspectOptions {
                headers: &[],
                other_headers: None,
                max_values: 8,
                skip_inert: round % 2 == 0,
            });
            assert!(values.len() <= 8);
            assert!(values.iter().all(|v| v.raw.len() <= MAX_VALUE_CHARS));
            for v in &values {
                let _ = probes.check_value(&v.raw);
                let _ = crate::probes::php::injection(&v.raw);
            }
            assert!(view.uploaded_file_names().len() <= 2 * MAX_UPLOAD_PARTS);
        }
    }

    #[test]
    fn uploaded_file_names_are_read_from_part_headers_even_in_binary_bodies() {
        let mut body =
            b"--X\r\nContent-Disposition: form-data; name=\"title\"\r\n\r\nhi\r\n".to_vec();
        // An image whose bytes are binary from the start: the body is not text, its part
        // headers are.
        body.extend_from_slice(b"--X\r\nContent-Disposition: form-data; name=\"avatar\"; filename=\"me.php;.jpg\"\r\nContent-Type: image/jpeg\r\n\r\n");
        body.extend_from_slice(&[0xff, 0xd8, 0xff, 0xe0, 0, 0x10]);
        body.extend_from_slice(&[0, 1, 2, 0, 3, 4, 0, 5].repeat(24));
        body.extend_from_slice(b"<?php system($_GET[c]); ?>\r\n");
        body.extend_from_slice(b"--X\nContent-Disposition: form-data; name=doc; filename*=UTF-8''r%C3%A9sum%C3%A9.pdf\n\nx\n--X--\r\n");
        assert!(looks_binary(&body));
        let mut view = RequestView::new("POST", b"/v1/profile");
        view.headers.push((
            "content-type".into(),
            b"multipart/form-data; boundary=\"X\"".to_vec(),
        ));
        view.body = body;
        assert_eq!(
            view.uploaded_file_names(),
            vec![
                (
                    "multipart:avatar#filename".to_string(),
                    "me.php;.jpg".to_string()
                ),
                (
                    "multipart:doc#filename*".to_string(),
                    "r%C3%A9sum%C3%A9.pdf".to_string()
                ),
            ]
        );
        // A raw upload names its file in headers.
        let mut put = RequestView::new("PUT", b"/v1/files/42");
        put.headers.push((
            "content-disposition".into(),
            b"attachment; filename=\"a;b.jsp\"; size=3".to_vec(),
        ));
        put.headers
            .push(("x-file-name".into(), b"cmd.aspx".to_vec()));
        put.headers
            .push(("content-type".into(), b"multipart/form-data".to_vec()));
        put.body = b"--B\r\nContent-Disposition: form-data; filename=x.php\r\n\r\n".to_vec();
        assert_eq!(
            put.uploaded_file_names(),
            vec![
                (
                    "header:content-disposition#filename".to_string(),
                    "a;b.jsp".to_string()
                ),
                ("header:x-file-name".to_string(), "cmd.aspx".to_string()),
            ],
            "no boundary, no parts"
        );
        // Nothing to name: nothing found, nothing allocated.
        let plain = RequestView::new("GET", b"/v1/files?name=shell.php");
        assert!(plain.uploaded_file_names().is_empty());
    }

    #[test]
    fn padding_a_body_cannot_push_a_payload_into_the_merged_row() {
        let mut fields: Vec<String> = (0..300).map(|i| format!(r#""f{i}":"v.{i}""#)).collect();
        fields.push(r#""zz":"1' union select password from users--""#.to_string());
        let mut view = RequestView::new("POST", b"/api");
        view.headers
            .push(("content-type".into(), b"application/json".to_vec()));
        view.body = format!("{{{}}}", fields.join(",")).into_bytes();
        let (values, notes) = view.inspected_values(&opts(&[]));
        assert_eq!(values.len(), 32);
        let row = values
            .iter()
            .find(|v| v.location.to_string() == "json:$.zz")
            .expect("payload keeps its own row");
        assert!(row.raw.contains("union select"));
        assert_eq!(notes, vec![InspectionNote::ValuesMerged(271)]);
    }

    #[test]
    fn values_beyond_the_bound_are_merged_not_dropped() {
        let query: Vec<String> = (0..100).map(|i| format!("p{i}=v.{i}")).collect();
        let view = RequestView::new("GET", format!("/x?{}", query.join("&")).as_bytes());
        let (values, notes) = view.inspected_values(&InspectOptions {
            skip_inert: false,
            headers: &[],
            other_headers: None,
            max_values: 8,
        });
        assert_eq!(values.len(), 8);
        assert!(values[7].raw.contains("v.99"));
        assert_eq!(notes, vec![InspectionNote::ValuesMerged(94)]);
    }

    #[test]
    fn client_ip_honours_trusted_hops_and_principal_is_hashed() {
        let mut view = RequestView::new("GET", b"/");
        // Client, the first trusted proxy (appended by the second), Envoy's own entry.
        view.headers.push((
            "x-forwarded-for".into(),
            b"203.0.113.9, 10.0.0.1, 192.0.2.2".to_vec(),
        ));
        view.headers
            .push(("authorization".into(), b"Bearer secret-token".to_vec()));
        let ph = vec!["authorization".to_string()];
        let id = identify(&view, Some("127.0.0.1:5000"), 0, &ph);
        assert_eq!(id.ip.as_deref(), Some("127.0.0.1"));
        let id = identify(&view, Some("127.0.0.1:5000"), 2, &ph);
        assert_eq!(id.ip.as_deref(), Some("203.0.113.9"));
        let id = identify(&view, Some("127.0.0.1:5000"), 1, &ph);
        assert_eq!(id.ip.as_deref(), Some("10.0.0.1"));
        let id = identify(&view, Some("127.0.0.1:5000"), 3, &ph);
        assert_eq!(
            id.ip.as_deref(),
            Some("127.0.0.1"),
            "more hops than entries: the peer"
        );
        let id = identify(&view, Some("[::1]:80"), 5, &ph);
        assert_eq!(id.ip.as_deref(), Some("::1"));
        let principal = id.principal.unwrap();
        assert!(principal.starts_with("tok:") && !principal.contains("secret"));
        assert_eq!(Some(principal), identify(&view, None, 0, &ph).principal);
    }

    #[test]
    fn configured_principal_sources_give_the_behaviour_display_id() {
        let cfg = crate::config::Config::from_json(
            br#"{"client_identity":{"trusted_xff_hops":1,"principal_sources":[{"header":"x-api-key"}]}}"#,
        )
        .unwrap();
        let mut view = RequestView::new("GET", b"/");
        view.headers
            .push(("x-forwarded-for".into(), b"203.0.113.9,10.0.0.1".to_vec()));
        view.headers.push(("x-api-key".into(), b"k-1".to_vec()));
        let id = identify_with(&view, Some("10.0.0.1:80"), &cfg.identity);
        assert_eq!(id.ip.as_deref(), Some("203.0.113.9"));
        let p = id.principal.unwrap();
        assert!(
            p.starts_with("key:") && p.len() == 12 && !p.contains("k-1"),
            "{p}"
        );
    }

    fn loc(kind: LocationKind, name: &str) -> Location {
        Location {
            kind,
            name: name.to_string(),
        }
    }

    #[test]
    fn groups_follow_kind_and_header_name() {
        assert_eq!(
            LocationGroup::of(&loc(LocationKind::Header, "user-agent")),
            LocationGroup::UserAgent
        );
        assert_eq!(
            LocationGroup::of(&loc(LocationKind::Header, "origin")),
            LocationGroup::Referrer
        );
        assert_eq!(
            LocationGroup::of(&loc(LocationKind::Header, "x-forwarded-for")),
            LocationGroup::Header
        );
        assert_eq!(
            LocationGroup::of(&loc(LocationKind::Json, "$.a")),
            LocationGroup::Json
        );
        for g in LocationGroup::ALL {
            assert_eq!(LocationGroup::from_name(g.as_str()), Some(g));
        }
    }

    #[test]
    fn ssrf_is_exempt_only_where_the_client_comes_from_or_returns_to() {
        for (kind, name) in [
            (LocationKind::Header, "referer"),
            (LocationKind::Header, "origin"),
            (LocationKind::Query, "redirect_uri"),
            (LocationKind::Query, "returnTo"),
            (LocationKind::Cookie, "returnTo"),
            (LocationKind::Form, "post_logout_redirect_uri"),
            (LocationKind::Json, "$.auth.redirect-url"),
            (LocationKind::Json, "$[\"next\"]"),
            (LocationKind::Query, "next"),
        ] {
            assert!(ssrf_exempt(&loc(kind, name)), "{kind:?} {name}");
        }
        for (kind, name) in [
            (LocationKind::Header, "x-forwarded-host"),
            (LocationKind::Query, "url"),
            (LocationKind::Query, "callback"),
            (LocationKind::Json, "$.webhook_url"),
            (LocationKind::Json, "$.redirects"),
            (LocationKind::Query, "image_url"),
            (LocationKind::Path, ""),
            (LocationKind::Body, ""),
        ] {
            assert!(!ssrf_exempt(&loc(kind, name)), "{kind:?} {name}");
        }
    }
}
