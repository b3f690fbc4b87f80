//! Principals: who a request acts for, from an API key, a bearer token or a JWT claim; kept as a
//! 64-bit fingerprint and a redacted display id, never as the credential itself.

use base64::Engine as _;

use super::allowlist::credential_digest;
use crate::config::PrincipalSource;
use crate::request::RequestView;
use crate::state::fingerprint;

/// Longest credential read; anything longer is not a credential we track.
pub const MAX_CREDENTIAL_BYTES: usize = 8192;
/// Longest claim value used as a principal.
pub const MAX_CLAIM_BYTES: usize = 256;

/// What kind of credential identified the principal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PrincipalKind {
    /// A bearer token (opaque or JWT), hashed.
    Token,
    /// Another credential header (API key), hashed.
    ApiKey,
    /// A JWT claim (`sub`), read without verification.
    Subject,
}

impl PrincipalKind {
    /// Prefix of display ids and fingerprint domain.
    pub fn as_str(self) -> &'static str {
        match self {
            PrincipalKind::Token => "tok",
            PrincipalKind::ApiKey => "key",
            PrincipalKind::Subject => "sub",
        }
    }
}

/// The principal of a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    /// Kind of credential.
    pub kind: PrincipalKind,
    /// Fingerprint of the identity (baselines, blocks).
    pub fp: u64,
    /// Fingerprint of the credential presented (revocation): the token, even when the
    /// identity is its `sub` claim.
    pub token_fp: u64,
    /// Redacted display id, `tok:<8 hex>`; safe for headers, logs and events.
    pub display: String,
    /// SHA-256 of the identity value (credential or claim), only when principals are
    /// allowlisted.
    pub digest: Option<[u8; 32]>,
}

impl Principal {
    fn new(kind: PrincipalKind, identity: &[u8], token: &[u8], with_digest: bool) -> Principal {
        let fp = domain_fingerprint(kind.as_str(), identity);
        let token_fp = domain_fingerprint("credential", token);
        Principal {
            kind,
            fp,
            token_fp,
            display: format!("{}:{:08x}", kind.as_str(), fp >> 32),
            digest: with_digest.then(|| credential_digest(identity)),
        }
    }
}

fn domain_fingerprint(domain: &str, value: &[u8]) -> u64 {
    let mut key = Vec::with_capacity(domain.len() + 1 + value.len());
    key.extend_from_slice(domain.as_bytes());
    key.push(b':');
    key.extend_from_slice(value);
    fingerprint(&key)
}

/// `Some(token)` (possibly empty) for a `Bearer` credential, `None` for any other value.
fn split_bearer(value: &[u8]) -> Option<&[u8]> {
    let v = trim(value);
    let scheme = v.get(..6)?;
    let separated = v.get(6).is_none_or(u8::is_ascii_whitespace);
    (scheme.eq_ignore_ascii_case(b"bearer") && separated)
        .then(|| trim(v.get(6..).unwrap_or_default()))
}

/// The token of a `Bearer` credential in `value`, if it is one and not empty.
fn bearer(value: &[u8]) -> Option<&[u8]> {
    split_bearer(value).filter(|t| !t.is_empty())
}

fn trim(b: &[u8]) -> &[u8] {
    let start = b
        .iter()
        .position(|c| !c.is_ascii_whitespace())
        .unwrap_or(b.len());
    let end = b
        .iter()
        .rposition(|c| !c.is_ascii_whitespace())
        .map_or(start, |e| e + 1);
    b.get(start..end).unwrap_or_default()
}

/// The principal from the first source present in `view`'s headers; `with_digest` also
/// computes the SHA-256 the allowlist compares.
pub fn resolve(
    view: &RequestView,
    sources: &[PrincipalSource],
    with_digest: bool,
) -> Option<Principal> {
    sources
        .iter()
        .find_map(|s| from_source(view, s, with_digest))
}

fn from_source(
    view: &RequestView,
    source: &PrincipalSource,
    with_digest: bool,
) -> Option<Principal> {
    match source {
        PrincipalSource::Header { name } => {
            let value = trim(view.header(name)?);
            if value.is_empty() || value.len() > MAX_CREDENTIAL_BYTES {
                return None;
            }
            match split_bearer(value) {
                Some([]) => None,
                Some(token) => Some(Principal::new(
                    PrincipalKind::Token,
                    token,
                    token,
                    with_digest,
                )),
                None => Some(Principal::new(
                    PrincipalKind::ApiKey,
                    value,
                    value,
                    with_digest,
                )),
            }
        }
        PrincipalSource::Bearer { header } => {
            let token = bearer(view.header(header)?)?;
            (token.len() <= MAX_CREDENTIAL_BYTES)
                .then(|| Principal::new(PrincipalKind::Token, token, token, with_digest))
        }
        PrincipalSource::JwtClaim { header, claim } => {
            let token = bearer(view.header(header)?)?;
            let value = jwt_claim(token, claim)?;
            Some(Principal::new(
                PrincipalKind::Subject,
                value.as_bytes(),
                token,
                with_digest,
            ))
        }
    }
}

/// The raw credential the first present source reads (the bearer token for JWT sources): only
/// for the RFC 7009 revocation request, never stored or logged.
pub fn credential<'v>(view: &'v RequestView, sources: &[PrincipalSource]) -> Option<&'v [u8]> {
    sources.iter().find_map(|s| match s {
        PrincipalSource::Header { name } => {
            let value = trim(view.header(name)?);
            let value = split_bearer(value).unwrap_or(value);
            (!value.is_empty() && value.len() <= MAX_CREDENTIAL_BYTES).then_some(value)
        }
        PrincipalSource::Bearer { header } => bearer(view.header(header)?),
        PrincipalSource::JwtClaim { header, claim } => {
            let token = bearer(view.header(header)?)?;
            jwt_claim(token, claim).map(|_| token)
        }
    })
}

/// A claim of a JWS compact token (`header.payload.signature`), read **without verifying the
/// signature**: a string, or a number as text. Bounded and never panicking on garbage.
pub fn jwt_claim(token: &[u8], claim: &str) -> Option<String> {
    if token.len() > MAX_CREDENTIAL_BYTES {
        return None;
    }
    let mut parts = token.split(|&b| b == b'.');
    let (_header, payload, _signature) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() || payload.is_empty() {
        return None; // JWE (five parts) or not a JWT
    }
    let payload = payload
        .strip_suffix(b"==")
        .or_else(|| payload.strip_suffix(b"="))
        .unwrap_or(payload);
    let json = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload)
        .ok()?;
    let doc: serde_json::Value = serde_json::from_slice(&json).ok()?;
    let value = match doc.get(claim)? {
        serde_json::Value::String(s) => s.clone(),
        serde_json::Value::Number(n) => n.to_string(),
        _ => return None,
    };
    (!value.is_empty() && value.len() <= MAX_CLAIM_BYTES).then_some(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn b64(s: &str) -> String {
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(s)
    }

    fn jwt(payload: &str) -> String {
        format!("{}.{}.sig", b64(r#"{"alg":"RS256"}"#), b64(payload))
    }

    fn view(headers: &[(&str, &str)]) -> RequestView {
        let mut v = RequestView::new("GET", b"/");
        v.headers = headers
            .iter()
            .map(|(n, v)| (n.to_string(), v.as_bytes().to_vec()))
            .collect();
        v
    }

    fn sources(json: &str) -> Vec<PrincipalSource> {
        let cfg = crate::config::Config::from_json(
            format!(r#"{{"client_identity":{{"principal_sources":{json}}}}}"#).as_bytes(),
        )
        .unwrap();
        cfg.identity.principal_sources
    }

    #[test]
    fn jwt_sub_is_read_without_verification_and_garbage_never_panics() {
        assert_eq!(
            jwt_claim(jwt(r#"{"sub":"alice","iat":1}"#).as_bytes(), "sub").as_deref(),
            Some("alice")
        );
        assert_eq!(
            jwt_claim(jwt(r#"{"sub":42}"#).as_bytes(), "sub").as_deref(),
            Some("42")
        );
        for garbage in [
            "".to_string(),
            "a.b".to_string(),
            "a.b.c.d.e".to_string(),
            "x.!!!.y".to_string(),
            format!("x.{}.y", b64("not json")),
            jwt(r#"{"sub":{"nested":1}}"#),
            jwt(r#"{"sub":""}"#),
            jwt(&format!(r#"{{"sub":"{}"}}"#, "a".repeat(300))),
            jwt(r#"["sub"]"#),
            "\u{0}.\u{ff}.".to_string(),
        ] {
            assert_eq!(jwt_claim(garbage.as_bytes(), "sub"), None, "{garbage:?}");
        }
        let huge = format!("a.{}.c", "A".repeat(MAX_CREDENTIAL_BYTES));
        assert_eq!(jwt_claim(huge.as_bytes(), "sub"), None);
        let padded = format!("{}.{}=.s", b64("{}"), b64(r#"{"sub":"bob"}"#));
        assert_eq!(jwt_claim(padded.as_bytes(), "sub").as_deref(), Some("bob"));
    }

    #[test]
    fn sources_are_tried_in_order_and_ids_are_redacted() {
        let token = jwt(r#"{"sub":"alice"}"#);
        let auth = format!("Bearer {token}");
        let srcs = sources(r#"[{"jwt_claim":"sub"},{"bearer":true},{"header":"x-api-key"}]"#);
        let p = resolve(&view(&[("authorization", &auth)]), &srcs, false).unwrap();
        assert_eq!(p.kind, PrincipalKind::Subject);
        assert!(
            p.display.starts_with("sub:") && p.display.len() == 12,
            "{}",
            p.display
        );
        // Another token of the same subject is the same principal but another credential.
        let other = format!("Bearer {}", jwt(r#"{"sub":"alice","n":2}"#));
        let q = resolve(&view(&[("authorization", &other)]), &srcs, false).unwrap();
        assert_eq!(p.fp, q.fp);
        assert_ne!(p.token_fp, q.token_fp);

        let opaque = resolve(&view(&[("authorization", "Bearer s3cr3t")]), &srcs, false).unwrap();
        assert_eq!(opaque.kind, PrincipalKind::Token);
        assert!(!opaque.display.contains("s3cr3t"));
        let key = resolve(&view(&[("x-api-key", "k-123")]), &srcs, true).unwrap();
        assert_eq!(key.kind, PrincipalKind::ApiKey);
        assert_eq!(key.digest, Some(credential_digest(b"k-123")));
        assert_eq!(
            resolve(&view(&[("authorization", "Basic dXM6cHc=")]), &srcs, false),
            None
        );
        assert_eq!(resolve(&view(&[]), &srcs, false), None);
        assert_eq!(
            credential(&view(&[("authorization", &auth)]), &srcs),
            Some(token.as_bytes())
        );
    }

    #[test]
    fn default_header_sources_strip_bearer_and_hash_api_keys() {
        let srcs = crate::config::Config::default().identity.principal_sources;
        let a = resolve(&view(&[("authorization", "Bearer abc")]), &srcs, false).unwrap();
        let b = resolve(&view(&[("authorization", "bearer   abc ")]), &srcs, false).unwrap();
        assert_eq!((a.kind, a.fp), (PrincipalKind::Token, b.fp));
        let k = resolve(&view(&[("x-api-key", "abc")]), &srcs, false).unwrap();
        assert_eq!(k.kind, PrincipalKind::ApiKey);
        assert_ne!(k.fp, a.fp, "kinds are separate fingerprint domains");
        assert_eq!(k.token_fp, a.token_fp, "the same credential string");
        assert_eq!(
            resolve(&view(&[("authorization", "Bearer ")]), &srcs, false),
            None
        );
        let basic = resolve(&view(&[("authorization", "Basic dXM6cHc=")]), &srcs, false);
        assert_eq!(basic.map(|p| p.kind), Some(PrincipalKind::ApiKey));
    }
}
