//! The `probes` section: requests for restricted resources (`/.git/config`, `/.env`,
//! `/index.php.bak`), decided from the path beside the model (see [`crate::probes`]).

use serde::Deserialize;

use super::ConfigError;
use crate::probes::{self, MAX_NAME, MAX_SEQUENCE};

/// What a request for a restricted resource gets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "lowercase")]
pub enum ProbeAction {
    /// Deny it (403 in enforce mode; annotated `deny` in monitor mode).
    #[default]
    Deny,
    /// Pass it annotated `annotate` with class `restricted_file`.
    Annotate,
}

/// Largest number of entries in each of `extra_files`, `extra_extensions` and `allow`.
pub const MAX_ENTRIES: usize = 256;

/// Restricted-resource probes, validated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProbesConfig {
    /// Probes are checked (routes may say otherwise with `routes[].probes`).
    pub enabled: bool,
    /// What a match gets.
    pub action: ProbeAction,
    /// More restricted names (lower-case): a segment name, or consecutive segments `a/b`.
    pub extra_files: Vec<String>,
    /// More restricted extensions of the last segment (lower-case, with the dot).
    pub extra_extensions: Vec<String>,
    /// Built-in rules turned off (lower-case names as the README lists them).
    pub allow: Vec<String>,
    /// Uploaded file names are checked ([`crate::probes::Probes::check_upload`]).
    pub uploads: bool,
    /// More extensions of uploaded files that are refused (lower-case, with the dot).
    pub extra_upload_extensions: Vec<String>,
    /// Values are checked for line breaks into mail headers and mail protocol commands
    /// ([`crate::probes::Probes::check_mail`]).
    pub mail: bool,
    /// Values are checked for high-risk PHP function calls, superglobals and directives
    /// ([`crate::probes::Probes::check_php`]).
    pub php: bool,
}

impl Default for ProbesConfig {
    fn default() -> Self {
        ProbesConfig {
            enabled: true,
            action: ProbeAction::Deny,
            extra_files: Vec::new(),
            extra_extensions: Vec::new(),
            allow: Vec::new(),
            uploads: true,
            extra_upload_extensions: Vec::new(),
            mail: true,
            php: true,
        }
    }
}

/// `probes` as written: every field optional.
#[derive(Deserialize, Default)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub(super) struct RawProbes {
    /// Check request paths for restricted resources (default true; `routes[].probes` overrides
    /// it per route).
    enabled: Option<bool>,
    /// `deny` (default) or `annotate`. Monitor mode never denies.
    action: Option<ProbeAction>,
    /// More restricted names, matched case-insensitively against any path segment
    /// (`docker-compose.yml`), or against consecutive segments (`config/app.yml`).
    extra_files: Option<Vec<String>>,
    /// More restricted extensions of the last path segment, with their dot (`.log`).
    extra_extensions: Option<Vec<String>>,
    /// Built-in rules to turn off everywhere, by the name the README and the reasons give them
    /// (`.pem`, `.sql`, `id_rsa.pub`, `upload:.phar`, `mail:cc`, `php:superglobal`).
    allow: Option<Vec<String>>,
    /// Check the names of uploaded files (multipart `filename`, a raw upload's
    /// `Content-Disposition` and `X-File-Name`) for server-executed extensions (`.php`, `.jsp`,
    /// `.aspx`) and server configuration files (`.htaccess`, `web.config`); default true.
    uploads: Option<bool>,
    /// More refused extensions of uploaded files, with their dot (`.exe`).
    extra_upload_extensions: Option<Vec<String>>,
    /// Check values for a line break into a mail header (`a@b.c%0ABcc: v@x.y`) or a mail
    /// protocol command (SMTP, POP3, IMAP); default true.
    mail: Option<bool>,
    /// Check values for a call of a high-risk PHP function (`file_get_contents(`), a
    /// superglobal (`$_GET[c]`) or a PHP directive being set (`allow_url_include=1`); default
    /// true.
    php: Option<bool>,
}

/// Bytes a name may not hold: separators, wildcards, what a path parameter, query or
/// fragment starts with, and what decoding would change.
fn bad_name_byte(b: u8) -> bool {
    !b.is_ascii_graphic() || b"\\*?;#%&".contains(&b)
}

fn list(entries: Option<Vec<String>>, field: &str) -> Result<Vec<String>, ConfigError> {
    let entries = entries.unwrap_or_default();
    if entries.len() > MAX_ENTRIES {
        return Err(ConfigError::new(
            field,
            format!("at most {MAX_ENTRIES} entries, got {}", entries.len()),
        ));
    }
    Ok(entries)
}

/// A name of `extra_files`: `name` or `dir/name` (a trailing `/` is dropped), lower-case.
fn file_name(raw: &str, field: &str) -> Result<String, ConfigError> {
    let name = raw.strip_suffix('/').unwrap_or(raw).to_ascii_lowercase();
    let fail = |why: &str| Err(ConfigError::new(field, format!("{why}, got {raw:?}")));
    if name.is_empty() {
        return fail("must be a file or directory name");
    }
    if name.starts_with('/') {
        return fail("names match at any depth: give it without a leading '/'");
    }
    let parts: Vec<&str> = name.split('/').collect();
    if parts.len() > MAX_SEQUENCE {
        return fail(&format!("at most {MAX_SEQUENCE} segments"));
    }
    for part in &parts {
        if part.is_empty() || part.len() > MAX_NAME || part.bytes().any(bad_name_byte) {
            return fail(&format!(
                "each segment must be 1 to {MAX_NAME} visible characters without \\ * ? ; # % &"
            ));
        }
        if part.trim_end_matches(['.', ' ', ':']).len() != part.len() {
            return fail("a segment never ends in '.' or ':' once a server has resolved it");
        }
        if *part == ".well-known" {
            return fail(".well-known (RFC 8615) is never a probe");
        }
    }
    Ok(name)
}

/// An extension of `extra_extensions`: `.ext`, lower-case.
fn extension(raw: &str, field: &str) -> Result<String, ConfigError> {
    let ext = raw.to_ascii_lowercase();
    let ok = ext.len() >= 2
        && ext.len() <= 17
        && ext.starts_with('.')
        && ext[1..]
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"_-~+".contains(&b));
    if !ok {
        return Err(ConfigError::new(
            field,
            format!(
                "must be one file extension with its dot, 1 to 16 letters, digits or _-~+ \
                 (\".log\"), got {raw:?}"
            ),
        ));
    }
    Ok(ext)
}

impl RawProbes {
    pub(super) fn validate(self, field: &str) -> Result<ProbesConfig, ConfigError> {
        let mut p = ProbesConfig::default();
        if let Some(e) = self.enabled {
            p.enabled = e;
        }
        if let Some(a) = self.action {
            p.action = a;
        }
        let f = format!("{field}.extra_files");
        for (i, raw) in list(self.extra_files, &f)?.iter().enumerate() {
            p.extra_files.push(file_name(raw, &format!("{f}[{i}]"))?);
        }
        let f = format!("{field}.extra_extensions");
        for (i, raw) in list(self.extra_extensions, &f)?.iter().enumerate() {
            p.extra_extensions
                .push(extension(raw, &format!("{f}[{i}]"))?);
        }
        if let Some(u) = self.uploads {
            p.uploads = u;
        }
        if let Some(m) = self.mail {
            p.mail = m;
        }
        if let Some(v) = self.php {
            p.php = v;
        }
        let f = format!("{field}.extra_upload_extensions");
        for (i, raw) in list(self.extra_upload_extensions, &f)?.iter().enumerate() {
            p.extra_upload_extensions
                .push(extension(raw, &format!("{f}[{i}]"))?);
        }
        let f = format!("{field}.allow");
        for (i, raw) in list(self.allow, &f)?.iter().enumerate() {
            let name = raw.to_ascii_lowercase();
            if !probes::is_builtin_rule(&name) {
                return Err(ConfigError::new(
                    format!("{f}[{i}]"),
                    format!(
                        "{raw:?} is not a built-in rule (the README lists them, e.g. \".pem\", \
                         \".sql\", \"id_rsa.pub\", \"upload:.phar\", \"mail:cc\", \"php:function\"); \
                         to let a file-serving route through, set routes[].probes to false"
                    ),
                ));
            }
            p.allow.push(name);
        }
        Ok(p)
    }
}
