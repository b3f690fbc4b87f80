//! Restricted-resource probes: requests for files an API never serves and scanners always ask
//! for — version-control and tool metadata, secrets and server configuration, backup and editor
//! copies, database dumps and key stores — decided from the URL path alone, beside the model
//! (which scores values and cannot know that `/.git/config` is not a resource of this API).
//!
//! **How a path is read.** The raw path is decoded as routing decodes it
//! ([`crate::decode::decoded`]: repeated percent-decoding, `%uXXXX`, entities, escapes,
//! full-width forms), split on `/` and `\`, and each segment is read the way servers resolve it:
//! a `;` path parameter (`/.git;/config`, `..;/`), a NUL and an NTFS stream suffix (`::$DATA`) end
//! it, and trailing dots and spaces are dropped (`/.env.`, `/web.config%20`). Names compare
//! ASCII-case-insensitively. A path under `/.well-known/` (RFC 8615) is never a probe, unless it
//! has a dot segment (`/.well-known/../.git/config`).
//!
//! **What matches.**
//! - a *name* ([`NAMES`], `extra_files`) equal to any segment: `.git`, `.env`, `id_rsa`;
//!   a *sequence* of names (`cvs/entries`) equal to consecutive segments; `.env.*` matches any
//!   segment that starts with `.env.` (`.env.local`, `.env.production.bak`);
//! - an *extension* ([`EXTENSIONS`], `extra_extensions`) of the last segment: `report.bak`,
//!   `dump.sql`, also under archive extensions (`dump.sql.gz`, `site.bak.tar.gz`), unless the
//!   segment is a JVM package or logger name (`org.hibernate.SQL`, see [`PACKAGE_ROOTS`]);
//! - a *copy suffix* ([`COPY_SUFFIXES`]: `.old`, `.orig`, `.save`, `.copy`, `.tmp`, …) of the
//!   last segment only when the name before it has a source or configuration extension
//!   ([`SOURCE_EXTENSIONS`]): `config.inc.old`, `index.php.orig`, but not `bob.old` or
//!   `bob.old-account`;
//! - editor leftovers of the last segment: `index.php~` (`*~`, with a `.` in the name),
//!   `#index.php#` (`#*#`, with a `.` in the name), `.#index.php` (`.#*`).
//!
//! What the defaults leave out, and why, is in the README (*Restricted-resource probes*); the
//! short of it: nothing a REST API serves under its own names (`/api/v1/backups`,
//! `/v1/users/bob.old`, `export.zip`, `app.log`, `settings.ini`, `docker-compose.yml`), and
//! `routes[].probes: false` for the file-serving routes that do serve such names.
//!
//! Checking a path allocates nothing unless it has something to decode (then the decoder's
//! copies, as routing makes them) and costs one pass over its segments with a binary search per
//! segment (`tests/probes_alloc.rs`, `make bench-native`).

use crate::config::ProbesConfig;
use crate::decode;

/// What kind of resource a rule protects.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Category {
    /// Version-control and tool metadata (`.git`, `.svn`, `.idea`, `.DS_Store`).
    Metadata,
    /// Secrets, credentials and server configuration (`.env`, `.htpasswd`, `web.config`,
    /// `id_rsa`, `*.pem`, `*.kdbx`).
    Secret,
    /// Backup, temporary and editor copies (`*.bak`, `index.php.old`, `app.jsp~`).
    Backup,
    /// Database dumps, data files and infrastructure state (`*.sql`, `*.sqlite`, `*.tfstate`).
    Dump,
    /// The operator's `probes.extra_files` and `probes.extra_extensions`.
    Custom,
    /// An uploaded file the server would run, or that reconfigures the directory it lands in
    /// (`shell.php`, `cmd.jsp`, `.htaccess`): [`UPLOAD_EXTENSIONS`], [`UPLOAD_NAMES`] and
    /// `probes.extra_upload_extensions`.
    Upload,
    /// A value that breaks its line into a mail header or a mail protocol command
    /// (`a@b.c%0ABcc: victim@x.y`, `INBOX%0D%0AA1 FETCH 1:*`): [`mail::MAIL_RULES`].
    Mail,
    /// A value that calls a high-risk PHP function, reads a superglobal or sets a PHP
    /// directive (`file_get_contents(`, `$_GET[c]`, `-d allow_url_include=1`):
    /// [`php::PHP_RULES`].
    Php,
}

impl Category {
    /// Every category, for metric registration.
    pub const ALL: [Category; 8] = [
        Category::Metadata,
        Category::Secret,
        Category::Backup,
        Category::Dump,
        Category::Custom,
        Category::Upload,
        Category::Mail,
        Category::Php,
    ];

    /// Lower-case name for reasons, metrics and events.
    pub fn as_str(self) -> &'static str {
        match self {
            Category::Metadata => "metadata",
            Category::Secret => "secret",
            Category::Backup => "backup",
            Category::Dump => "dump",
            Category::Custom => "custom",
            Category::Upload => "upload",
            Category::Mail => "mail",
            Category::Php => "php",
        }
    }
}

/// Segment names (and `a/b` sequences of consecutive segments) that are restricted wherever they
/// appear in a path. Lower-case; compared case-insensitively.
pub const NAMES: &[(&str, Category)] = &[
    // Version control working copies and repositories.
    (".git", Category::Metadata),
    (".svn", Category::Metadata),
    (".hg", Category::Metadata),
    (".bzr", Category::Metadata),
    ("_darcs", Category::Metadata),
    (".fslckout", Category::Metadata),
    ("_fossil_", Category::Metadata),
    ("cvs/entries", Category::Metadata),
    ("cvs/repository", Category::Metadata),
    ("cvs/root", Category::Metadata),
    // IDE, OS and tool state.
    (".idea", Category::Metadata),
    (".vscode", Category::Metadata),
    (".vs", Category::Metadata),
    (".ds_store", Category::Metadata),
    (".terraform", Category::Metadata),
    // Environment files and server configuration.
    (".env", Category::Secret),
    (".envrc", Category::Secret),
    (".htaccess", Category::Secret),
    (".htpasswd", Category::Secret),
    (".htdigest", Category::Secret),
    (".user.ini", Category::Secret),
    ("php.ini", Category::Secret),
    ("web.config", Category::Secret),
    ("web-inf", Category::Secret),
    ("wp-config.php", Category::Secret),
    ("config/database.yml", Category::Secret),
    ("config/secrets.yml", Category::Secret),
    ("config/credentials.yml.enc", Category::Secret),
    // Credentials of package managers, clouds and tools.
    (".npmrc", Category::Secret),
    (".yarnrc", Category::Secret),
    (".yarnrc.yml", Category::Secret),
    (".pypirc", Category::Secret),
    (".netrc", Category::Secret),
    ("_netrc", Category::Secret),
    (".pgpass", Category::Secret),
    (".my.cnf", Category::Secret),
    (".s3cfg", Category::Secret),
    (".boto", Category::Secret),
    (".dockercfg", Category::Secret),
    (".docker", Category::Secret),
    (".git-credentials", Category::Secret),
    (".gitconfig", Category::Secret),
    (".aws", Category::Secret),
    (".azure", Category::Secret),
    (".kube", Category::Secret),
    (".gnupg", Category::Secret),
    (".ssh", Category::Secret),
    ("id_rsa", Category::Secret),
    ("id_rsa.pub", Category::Secret),
    ("id_dsa", Category::Secret),
    ("id_dsa.pub", Category::Secret),
    ("id_ecdsa", Category::Secret),
    ("id_ecdsa.pub", Category::Secret),
    ("id_ed25519", Category::Secret),
    ("id_ed25519.pub", Category::Secret),
    ("authorized_keys", Category::Secret),
    ("known_hosts", Category::Secret),
    // Private keys by the names servers and frameworks give them (`.key` alone is also a
    // Keynote document, which file APIs serve).
    ("server.key", Category::Secret),
    ("private.key", Category::Secret),
    ("privatekey.key", Category::Secret),
    ("ssl.key", Category::Secret),
    ("tls.key", Category::Secret),
    ("client.key", Category::Secret),
    ("master.key", Category::Secret),
    // Shell and client histories and profiles (commands with passwords and tokens in them).
    (".bash_history", Category::Secret),
    (".zsh_history", Category::Secret),
    (".sh_history", Category::Secret),
    (".history", Category::Secret),
    (".mysql_history", Category::Secret),
    (".psql_history", Category::Secret),
    (".sqlite_history", Category::Secret),
    (".rediscli_history", Category::Secret),
    (".python_history", Category::Secret),
    (".node_repl_history", Category::Secret),
    (".viminfo", Category::Secret),
    (".bashrc", Category::Secret),
    (".bash_profile", Category::Secret),
    (".zshrc", Category::Secret),
    (".profile", Category::Secret),
    // Well-known dumps and logs of frameworks and tools.
    ("dump.rdb", Category::Dump),
    ("laravel.log", Category::Dump),
    ("npm-debug.log", Category::Dump),
    ("yarn-error.log", Category::Dump),
    ("wp-content/debug.log", Category::Dump),
];

/// `.env.*`: a segment that starts with `.env.` (`.env.local`, `.env.production`).
pub const ENV_VARIANTS: &str = ".env.*";
/// `*~`: a last segment ending in `~` with a `.` before it (`index.php~`).
pub const TILDE_COPY: &str = "*~";
/// `#*#`: an Emacs auto-save file (`#index.php#`, with a `.` in the name).
pub const EMACS_AUTOSAVE: &str = "#*#";
/// `.#*`: an Emacs lock file (`.#index.php`).
pub const EMACS_LOCK: &str = ".#*";

/// Extensions of the last segment that are restricted on any name. Lower-case, with the dot.
pub const EXTENSIONS: &[(&str, Category)] = &[
    // Backup copies and editor swap files.
    (".bak", Category::Backup),
    (".bkp", Category::Backup),
    (".backup", Category::Backup),
    (".swp", Category::Backup),
    (".swo", Category::Backup),
    // Database dumps and files, infrastructure state.
    (".sql", Category::Dump),
    (".sqlite", Category::Dump),
    (".sqlite3", Category::Dump),
    (".mdb", Category::Dump),
    (".accdb", Category::Dump),
    (".dump", Category::Dump),
    (".tfstate", Category::Dump),
    // Private keys, key stores and password databases.
    (".pem", Category::Secret),
    (".p12", Category::Secret),
    (".pfx", Category::Secret),
    (".jks", Category::Secret),
    (".keystore", Category::Secret),
    (".kdbx", Category::Secret),
    (".ppk", Category::Secret),
    (".tfvars", Category::Secret),
];

/// Suffixes of copies (category backup) that are restricted only after a source or
/// configuration extension ([`SOURCE_EXTENSIONS`]): `index.php.old`, `config.inc.orig`,
/// `settings.py.save`, but not `bob.old` nor `notes.copy`.
pub const COPY_SUFFIXES: &[&str] = &[".copy", ".old", ".orig", ".sav", ".save", ".temp", ".tmp"];

/// Extensions of source and configuration files, which a copy suffix turns into a copy of
/// something the server would otherwise execute or never serve. Lower-case, without the dot,
/// sorted.
pub const SOURCE_EXTENSIONS: &[&str] = &[
    "asax",
    "ascx",
    "ashx",
    "asmx",
    "asp",
    "aspx",
    "cfg",
    "cfm",
    "cgi",
    "conf",
    "config",
    "cs",
    "db",
    "env",
    "erb",
    "go",
    "htaccess",
    "htm",
    "html",
    "htpasswd",
    "inc",
    "ini",
    "java",
    "js",
    "json",
    "jsp",
    "jspx",
    "key",
    "log",
    "pem",
    "php",
    "php3",
    "php4",
    "php5",
    "php7",
    "phtml",
    "pl",
    "properties",
    "py",
    "rb",
    "sh",
    "shtml",
    "sql",
    "sqlite",
    "toml",
    "tpl",
    "ts",
    "twig",
    "txt",
    "xml",
    "yaml",
    "yml",
];

/// Archive and compression extensions looked through (at most [`MAX_ARCHIVE_LAYERS`]) to the
/// extension under them: `dump.sql.gz`, `site.bak.tar.gz`. Lower-case, with the dot, sorted.
pub const ARCHIVE_EXTENSIONS: &[&str] = &[
    ".7z", ".bz2", ".gz", ".rar", ".tar", ".tgz", ".xz", ".zip", ".zst",
];

/// Extensions of files a web server runs rather than serves: PHP, JSP, ASP and ASP.NET,
/// ColdFusion, server-side includes and CGI. An upload under one of them (multipart
/// `filename`, a raw upload's `Content-Disposition` or `X-File-Name`) is how a web shell gets
/// onto a server that stores uploads where it serves them (CWE-434). Lower-case, with the dot,
/// sorted; reasons show them as `upload:.php`, and `probes.allow` takes that name.
pub const UPLOAD_EXTENSIONS: &[&str] = &[
    ".asa", ".asax", ".ascx", ".ashx", ".asmx", ".asp", ".aspx", ".axd", ".cfc", ".cfm", ".cfml",
    ".cgi", ".cshtml", ".jsp", ".jspf", ".jspx", ".jsv", ".jsw", ".phar", ".php", ".php3", ".php4",
    ".php5", ".php7", ".php8", ".pht", ".phtml", ".shtm", ".shtml", ".stm", ".vbhtml",
];

/// Uploaded file names that reconfigure the directory they land in (a handler for `.jpg`, an
/// `auto_prepend_file`): Apache's `.htaccess`, PHP's `.user.ini`, IIS's `web.config`. Sorted;
/// `probes.allow` takes them as `upload:.htaccess` (`.htaccess` alone is the path rule).
pub const UPLOAD_NAMES: &[&str] = &[".htaccess", ".user.ini", "web.config"];

/// What upload rules' names start with in `probes.allow` (and in reasons, as their category),
/// so that `upload:.htaccess` is told from the path rule `.htaccess`.
pub const UPLOAD_RULE_PREFIX: &str = "upload:";

/// First labels of JVM package, logger and class names (reverse domain names), which APIs carry
/// in paths (`/actuator/loggers/org.hibernate.SQL`, Maven coordinates) and whose last label can
/// look like an extension: a last segment of three or more identifier labels starting with one
/// of these is a name, not a file. Sorted.
pub const PACKAGE_ROOTS: &[&str] = &[
    "com", "de", "dev", "edu", "gov", "io", "jakarta", "java", "javax", "jdk", "net", "org", "sun",
];

/// Archive layers looked through (`.tar.gz` is two).
pub const MAX_ARCHIVE_LAYERS: usize = 2;

/// Longest name, segment of a sequence or extension a rule can have (the configuration is held
/// to it); longer segments are never compared by name.
pub const MAX_NAME: usize = 64;

/// Longest sequence of names (`a/b/c/d`).
pub const MAX_SEQUENCE: usize = 4;

/// Every built-in rule name, as `probes.allow` takes them and reasons show them.
pub fn builtin_rules() -> impl Iterator<Item = (&'static str, Category)> {
    NAMES
        .iter()
        .copied()
        .chain([
            (ENV_VARIANTS, Category::Secret),
            (TILDE_COPY, Category::Backup),
            (EMACS_AUTOSAVE, Category::Backup),
            (EMACS_LOCK, Category::Backup),
        ])
        .chain(EXTENSIONS.iter().copied())
        .chain(COPY_SUFFIXES.iter().map(|s| (*s, Category::Backup)))
}

/// Every built-in upload rule name (`upload:.php`, `upload:.htaccess`), as `probes.allow`
/// takes them.
pub fn builtin_upload_rules() -> impl Iterator<Item = String> {
    UPLOAD_NAMES
        .iter()
        .chain(UPLOAD_EXTENSIONS)
        .map(|n| format!("{UPLOAD_RULE_PREFIX}{n}"))
}

/// Whether `name` (lower-case) is a built-in rule.
pub fn is_builtin_rule(name: &str) -> bool {
    builtin_rules().any(|(n, _)| n == name)
        || name
            .strip_prefix(mail::MAIL_RULE_PREFIX)
            .is_some_and(|n| mail::MAIL_RULES.binary_search(&n).is_ok())
        || name
            .strip_prefix(php::PHP_RULE_PREFIX)
            .is_some_and(|n| php::PHP_RULES.binary_search(&n).is_ok())
        || name.strip_prefix(UPLOAD_RULE_PREFIX).is_some_and(|n| {
            UPLOAD_NAMES.binary_search(&n).is_ok() || UPLOAD_EXTENSIONS.binary_search(&n).is_ok()
        })
}

/// A path that asks for a restricted resource: the rule and its category.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProbeMatch<'a> {
    /// What kind of resource.
    pub category: Category,
    /// The rule as `probes.allow` names it (`.git`, `.bak`, `cvs/entries`, `.env.*`).
    pub rule: &'a str,
}

#[derive(Debug, Clone)]
struct Rule {
    /// Lower-case; a sequence is its parts joined by `/`.
    name: Box<str>,
    category: Category,
}

/// The rules in force: the built-in ones less `probes.allow`, plus the operator's.
#[derive(Debug, Clone)]
pub struct Probes {
    /// For each ASCII byte, the lengths (bit `len - 1`) of the names and the first parts of
    /// sequences that start with it, lower-case: most segments are ruled out by one lookup.
    starts: [u64; 128],
    /// Single-segment names, sorted.
    names: Vec<Rule>,
    /// Sequences of 2 to [`MAX_SEQUENCE`] names.
    sequences: Vec<Rule>,
    /// Extensions with their dot, sorted.
    extensions: Vec<Rule>,
    /// Copy suffixes with their dot, sorted.
    copies: Vec<Rule>,
    env_variants: bool,
    tilde: bool,
    emacs_autosave: bool,
    emacs_lock: bool,
    /// Upload rules (`.php`, `.htaccess`: names and extensions), sorted; empty when
    /// `probes.uploads` is off.
    uploads: Vec<Rule>,
    /// Mail rules in force ([`mail::MAIL_RULES`] less `probes.allow`); empty when
    /// `probes.mail` is off.
    mail: Vec<&'static str>,
    /// PHP rules in force ([`php::PHP_RULES`] less `probes.allow`); empty when `probes.php`
    /// is off.
    php: Vec<&'static str>,
}

impl Default for Probes {
    fn default() -> Self {
        Probes::new(&ProbesConfig::default())
    }
}

impl Probes {
    /// The rules of a validated configuration (names lower-case, extensions with their dot).
    pub fn new(config: &ProbesConfig) -> Probes {
        let allowed = |name: &str| config.allow.iter().any(|a| a == name);
        let mut names = Vec::new();
        let mut sequences = Vec::new();
        let builtin_names = NAMES.iter().map(|(n, c)| (*n, *c));
        let extra_names = config
            .extra_files
            .iter()
            .map(|n| (n.as_str(), Category::Custom));
        for (name, category) in builtin_names
            .filter(|(n, _)| !allowed(n))
            .chain(extra_names)
        {
            let rule = Rule {
                name: name.into(),
                category,
            };
            if name.contains('/') {
                sequences.push(rule);
            } else {
                names.push(rule);
            }
        }
        let mut extensions: Vec<Rule> = EXTENSIONS
            .iter()
            .filter(|(n, _)| !allowed(n))
            .map(|(n, c)| Rule {
                name: (*n).into(),
                category: *c,
            })
            .chain(config.extra_extensions.iter().map(|n| Rule {
                name: n.as_str().into(),
                category: Category::Custom,
            }))
            .collect();
        let mut copies: Vec<Rule> = COPY_SUFFIXES
            .iter()
            .filter(|n| !allowed(n))
            .map(|n| Rule {
                name: (*n).into(),
                category: Category::Backup,
            })
            .collect();
        let mut uploads = upload_rules(config);
        for list in [&mut names, &mut extensions, &mut copies, &mut uploads] {
            // A name given twice (an extra that is also built in) keeps its first category.
            list.sort_by(|a, b| a.name.cmp(&b.name));
            list.dedup_by(|a, b| a.name == b.name);
        }
        let mut starts = [0u64; 128];
        let firsts = names
            .iter()
            .chain(&sequences)
            .map(|r| r.name.split('/').next().unwrap_or(&r.name));
        for first in firsts.chain([".env."]) {
            if let (Some(&b), 1..=MAX_NAME) = (first.as_bytes().first(), first.len()) {
                if let Some(mask) = starts.get_mut(usize::from(b)) {
                    // `.env.*` needs every length from 6.
                    *mask |= if first == ".env." {
                        !0u64 << 5
                    } else {
                        1u64 << (first.len() - 1)
                    };
                }
            }
        }
        Probes {
            starts,
            names,
            sequences,
            extensions,
            copies,
            env_variants: !allowed(ENV_VARIANTS),
            tilde: !allowed(TILDE_COPY),
            emacs_autosave: !allowed(EMACS_AUTOSAVE),
            emacs_lock: !allowed(EMACS_LOCK),
            uploads,
            mail: mail::MAIL_RULES
                .iter()
                .copied()
                .filter(|r| config.mail && !allowed(&format!("{}{r}", mail::MAIL_RULE_PREFIX)))
                .collect(),
            php: php::PHP_RULES
                .iter()
                .copied()
                .filter(|r| config.php && !allowed(&format!("{}{r}", php::PHP_RULE_PREFIX)))
                .collect(),
        }
    }

    /// The first value rule `raw` (a value as inspected, still encoded) matches, decoded once:
    /// [`Self::check_mail`], then [`Self::check_php`].
    pub fn check_value(&self, raw: &str) -> Option<ProbeMatch<'static>> {
        if self.mail.is_empty() && self.php.is_empty() {
            return None;
        }
        let decoded = decode::decoded(raw);
        let text = &decoded.text;
        let mail = if may_break_a_line(raw) {
            rule_in_force(&self.mail, Category::Mail, || mail::injection(text))
        } else {
            None
        };
        mail.or_else(|| rule_in_force(&self.php, Category::Php, || php::injection(text)))
    }

    /// The PHP rule `raw` (a value as inspected, still encoded) matches, if any: decoded, it
    /// calls a high-risk PHP function, reads a superglobal or sets a directive
    /// ([`php::injection`]).
    pub fn check_php(&self, raw: &str) -> Option<ProbeMatch<'static>> {
        rule_in_force(&self.php, Category::Php, || {
            php::injection(&decode::decoded(raw).text)
        })
    }

    /// The mail rule `raw` (a value as inspected, still encoded) breaks, if any: decoded, it
    /// breaks its line into a mail header or a mail protocol command ([`mail::injection`]).
    /// A value with no line break and nothing that could decode to one costs one scan.
    pub fn check_mail(&self, raw: &str) -> Option<ProbeMatch<'static>> {
        if !may_break_a_line(raw) {
            return None;
        }
        rule_in_force(&self.mail, Category::Mail, || {
            mail::injection(&decode::decoded(raw).text)
        })
    }

    /// The upload rule an uploaded file's name matches, if any: `name` is the multipart
    /// `filename` or a file-name header as sent. Its last path component is read as a server
    /// stores it: percent-decoded, cut at a `;`, a NUL or an NTFS stream, trailing dots and
    /// spaces dropped (`shell.php;.jpg`, `shell.php%00.png`, `shell.php.`, `cmd.jsp::$DATA`), then
    /// compared whole ([`UPLOAD_NAMES`]) and by its extension ([`UPLOAD_EXTENSIONS`]),
    /// ASCII-case-insensitively. A double extension whose last one is harmless
    /// (`shell.php.jpg`) is not matched: that needs a misconfigured server, and image names
    /// carry such dots.
    pub fn check_upload(&self, name: &str) -> Option<ProbeMatch<'_>> {
        if self.uploads.is_empty() {
            return None;
        }
        // The last component as sent, then decoded (`%2f` may hide another separator).
        let decoded = decode::decoded(last_component(name)?);
        let file = last_component(&decoded.text)?;
        let mut buf = [0u8; MAX_NAME];
        if let Some(r) = lower(file, &mut buf).and_then(|key| find(&self.uploads, key)) {
            return Some(r);
        }
        let dot = file.rfind('.')?;
        let key = lower(file.get(dot..)?, &mut buf)?;
        find(&self.uploads, key)
    }

    /// The rule `raw_path` (as received, percent-encoded, without the query) matches, if any.
    pub fn check(&self, raw_path: &str) -> Option<ProbeMatch<'_>> {
        let decoded = decode::decoded(raw_path);
        let path: &str = &decoded.text;
        let mut buf = [0u8; MAX_NAME];
        let mut segments = path.split(['/', '\\']);
        let mut found = None;
        let mut last = "";
        let mut first = true;
        let mut well_known = false;
        let mut dot_segment = false;
        while let Some(raw) = segments.next() {
            let segment = resolve(raw);
            if segment.is_empty() {
                // `.`, `..`, `..;`: what routing resolves, and what defeats `.well-known`.
                dot_segment |= !raw.is_empty();
                continue;
            }
            if first {
                first = false;
                well_known = segment.eq_ignore_ascii_case(".well-known");
            }
            last = segment;
            if found.is_none() {
                found = self.segment_rule(segment, segments.clone(), &mut buf);
                if found.is_some() && !well_known {
                    break;
                }
            }
        }
        if found.is_none() && !last.is_empty() {
            found = self.last_segment_rule(last, &mut buf);
        }
        if well_known && !dot_segment {
            return None;
        }
        found
    }

    /// A name or sequence rule that `segment` (followed by `rest`) matches.
    fn segment_rule<'s, 'p>(
        &'s self,
        segment: &str,
        rest: impl Iterator<Item = &'p str> + Clone,
        buf: &mut [u8; MAX_NAME],
    ) -> Option<ProbeMatch<'s>> {
        let first = usize::from(segment.as_bytes().first()?.to_ascii_lowercase());
        let mask = self.starts.get(first).copied().unwrap_or(0);
        if segment.len() > MAX_NAME || mask & (1u64 << (segment.len() - 1)) == 0 {
            return None;
        }
        let key = lower(segment, buf)?;
        if let Some(r) = find(&self.names, key) {
            return Some(r);
        }
        if self.env_variants && key.starts_with(".env.") {
            return Some(ProbeMatch {
                category: Category::Secret,
                rule: ENV_VARIANTS,
            });
        }
        for rule in &self.sequences {
            let mut parts = rule.name.split('/');
            if parts.next() != Some(key) {
                continue;
            }
            let mut following = rest.clone().map(resolve).filter(|s| !s.is_empty());
            if parts.all(|p| following.next().is_some_and(|s| s.eq_ignore_ascii_case(p))) {
                return Some(ProbeMatch {
                    category: rule.category,
                    rule: &rule.name,
                });
            }
        }
        None
    }

    /// An extension, copy-suffix or editor rule that the last segment matches.
    fn last_segment_rule(&self, segment: &str, buf: &mut [u8; MAX_NAME]) -> Option<ProbeMatch<'_>> {
        let backup = |rule| {
            Some(ProbeMatch {
                category: Category::Backup,
                rule,
            })
        };
        if let Some(name) = segment.strip_suffix('~') {
            if self.tilde && name.contains('.') {
                return backup(TILDE_COPY);
            }
        }
        let autosave = segment
            .strip_prefix('#')
            .and_then(|s| s.strip_suffix('#'))
            .is_some_and(|name| name.contains('.'));
        if self.emacs_autosave && autosave {
            return backup(EMACS_AUTOSAVE);
        }
        if self.emacs_lock && segment.len() > 2 && segment.starts_with(".#") {
            return backup(EMACS_LOCK);
        }
        if is_package_name(segment) {
            return None;
        }
        let mut stem = segment;
        for _ in 0..=MAX_ARCHIVE_LAYERS {
            let dot = stem.rfind('.')?;
            let key = lower(&stem[dot..], buf)?;
            if let Some(r) = find(&self.extensions, key) {
                return Some(r);
            }
            if let Some(r) = find(&self.copies, key) {
                if has_source_extension(&stem[..dot]) {
                    return Some(r);
                }
            }
            if ARCHIVE_EXTENSIONS.binary_search(&key).is_err() {
                return None;
            }
            stem = &stem[..dot];
        }
        None
    }
}

/// The match of the rule `find` gives, when it is one of `rules` (the rules in force); `find`
/// runs only when some rule of the kind is in force.
fn rule_in_force(
    rules: &[&'static str],
    category: Category,
    find: impl FnOnce() -> Option<&'static str>,
) -> Option<ProbeMatch<'static>> {
    if rules.is_empty() {
        return None;
    }
    let rule = find()?;
    let rule = *rules.iter().find(|r| **r == rule)?;
    Some(ProbeMatch { category, rule })
}

/// Whether `raw` holds a line break or something that could decode to one.
fn may_break_a_line(raw: &str) -> bool {
    raw.bytes()
        .any(|b| matches!(b, b'\r' | b'\n' | b'%' | b'&' | b'\\'))
}

/// The upload rules of `config`: the built-in ones less `probes.allow`, plus
/// `extra_upload_extensions` (sorted by [`Probes::new`] with the other lists); none when
/// `probes.uploads` is off.
fn upload_rules(config: &ProbesConfig) -> Vec<Rule> {
    if !config.uploads {
        return Vec::new();
    }
    let allowed = |name: &str| {
        config.allow.iter().any(|a| {
            a.strip_prefix(UPLOAD_RULE_PREFIX)
                .is_some_and(|a| a == name)
        })
    };
    UPLOAD_NAMES
        .iter()
        .chain(UPLOAD_EXTENSIONS)
        .filter(|n| !allowed(n))
        .copied()
        .chain(config.extra_upload_extensions.iter().map(String::as_str))
        .map(|name| Rule {
            name: name.into(),
            category: Category::Upload,
        })
        .collect()
}

/// The last non-empty component of a file name, resolved as a server stores it ([`resolve`]).
fn last_component(name: &str) -> Option<&str> {
    name.rsplit(['/', '\\'])
        .map(resolve)
        .find(|seg| !seg.is_empty())
}

/// A segment as servers resolve it: cut at a `;` path parameter, a NUL or an NTFS stream
/// (`::$DATA`), trailing dots, spaces and colons dropped. Empty for `.` and `..`.
fn resolve(raw: &str) -> &str {
    let bytes = raw.as_bytes();
    let end = bytes
        .iter()
        .enumerate()
        .position(|(i, &b)| b == b';' || b == 0 || (b == b':' && bytes.get(i + 1) == Some(&b'$')))
        .unwrap_or(bytes.len());
    // The cut is at an ASCII byte, so at a char boundary.
    raw.get(..end)
        .unwrap_or(raw)
        .trim_end_matches(['.', ' ', ':'])
}

/// `s` in ASCII lower case in `buf`, or `None` when it is longer than any rule.
fn lower<'b>(s: &str, buf: &'b mut [u8; MAX_NAME]) -> Option<&'b str> {
    let out = buf.get_mut(..s.len())?;
    out.copy_from_slice(s.as_bytes());
    out.make_ascii_lowercase();
    std::str::from_utf8(out).ok()
}

fn find<'r>(rules: &'r [Rule], key: &str) -> Option<ProbeMatch<'r>> {
    let i = rules.binary_search_by(|r| (*r.name).cmp(key)).ok()?;
    rules.get(i).map(|r| ProbeMatch {
        category: r.category,
        rule: &r.name,
    })
}

/// `org.hibernate.SQL`, `com.example.config.old`: three or more labels of letters, digits, `_`,
/// `$` and `-`, the first a [`PACKAGE_ROOTS`] entry.
fn is_package_name(segment: &str) -> bool {
    let mut labels = segment.split('.');
    let Some(root) = labels.next() else {
        return false;
    };
    let mut buf = [0u8; MAX_NAME];
    let rooted = lower(root, &mut buf).is_some_and(|r| PACKAGE_ROOTS.binary_search(&r).is_ok());
    let identifier = |l: &str| {
        !l.is_empty()
            && l.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"_$-".contains(&b))
    };
    rooted && segment.split('.').count() >= 3 && labels.all(identifier)
}

/// `stem` (`index.php`, `config.inc`) ends in a source or configuration extension.
fn has_source_extension(stem: &str) -> bool {
    let Some((_, ext)) = stem.rsplit_once('.') else {
        return false;
    };
    let mut buf = [0u8; MAX_NAME];
    lower(ext, &mut buf).is_some_and(|e| SOURCE_EXTENSIONS.binary_search(&e).is_ok())
}

pub mod mail;
pub mod php;

#[cfg(test)]
mod tests;
