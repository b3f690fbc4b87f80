//! The shape of a value: its tokens read by role, not by spelling.
//!
//! The n-gram block sees `' or 1=1--` and `') xor 7<=>7#` as different strings; an injection is
//! the same move in both: close the literal, a keyword, an operand, an operator, a terminator.
//! Here every word becomes the letter of its role (`k` SQL keyword, `c` a command or
//! interpreter, `j` a Java or expression-language name, `f` any word called with `(`, `e` an
//! HTML event handler assigned with `=`, `t` a tag that runs or loads code, `n` a number, `w`
//! another word, `l` a long word such as an id or a token), a punctuation character stays
//! itself, and the role n-grams (2 to 4 long, anchored at the start and end of the value) are
//! hashed into their own block. The model then sees the structure of an attack it has never
//! seen spelled that way, the way libinjection reads SQL by token types; a value of prose or
//! ids has the shapes of prose or ids.

use crate::hash::hash64;

/// Buckets of the hashed shape block.
pub const SHAPE_BUCKETS: usize = 1024;

const SEED_SHAPE: u64 = 4;

/// Roles (anchors included) a value needs for a shape block: three tokens.
pub(crate) const MIN_ROLES: usize = 5;

/// Tokens read at most (the caller's bound, `features::ngrams`): a shape past them adds nothing
/// a model could use, and the cost stays linear in a bounded prefix.
pub(crate) const MAX_TOKENS: usize = 512;

/// Words that structure SQL (not every SQL word: functions are read by their call).
const SQL_KEYWORDS: &[&str] = &[
    "all",
    "alter",
    "and",
    "as",
    "asc",
    "between",
    "by",
    "case",
    "collate",
    "create",
    "declare",
    "delay",
    "delete",
    "desc",
    "distinct",
    "div",
    "drop",
    "dumpfile",
    "else",
    "end",
    "escape",
    "exists",
    "false",
    "from",
    "grant",
    "group",
    "having",
    "in",
    "information_schema",
    "insert",
    "into",
    "is",
    "join",
    "like",
    "limit",
    "mod",
    "not",
    "null",
    "offset",
    "on",
    "or",
    "order",
    "outfile",
    "pg_catalog",
    "procedure",
    "regexp",
    "rlike",
    "select",
    "set",
    "shutdown",
    "sounds",
    "sysobjects",
    "table",
    "then",
    "top",
    "true",
    "truncate",
    "union",
    "update",
    "values",
    "waitfor",
    "when",
    "where",
    "xor",
];

/// Unix tools, shells, interpreters and Windows binaries an injected command line starts with;
/// not the names that are also everyday words (`more`, `type`, `net`, `find`, `id`): those
/// gave prose (`dir & more`) and user agents (`(.NET 9.0.0; Linux`) the shape of a command.
const COMMANDS: &[&str] = &[
    "base64",
    "bash",
    "bitsadmin",
    "busybox",
    "cat",
    "certutil",
    "chmod",
    "chown",
    "cmd",
    "crontab",
    "cscript",
    "csh",
    "curl",
    "eval",
    "exec",
    "iex",
    "ifconfig",
    "ipconfig",
    "ksh",
    "ls",
    "mkdir",
    "mshta",
    "nc",
    "ncat",
    "netcat",
    "netstat",
    "nslookup",
    "passthru",
    "perl",
    "php",
    "ping",
    "popen",
    "powershell",
    "printenv",
    "proc_open",
    "pwsh",
    "python",
    "python3",
    "regsvr32",
    "rm",
    "ruby",
    "rundll32",
    "sh",
    "shell_exec",
    "sleep",
    "socat",
    "sudo",
    "systeminfo",
    "tac",
    "tasklist",
    "telnet",
    "uname",
    "wget",
    "whoami",
    "wscript",
    "xargs",
    "xxd",
    "zsh",
];

/// Java and expression-language names of reflection and process creation.
const JAVA_NAMES: &[&str] = &[
    "classloader",
    "elprocessor",
    "facescontext",
    "forname",
    "getclass",
    "getdeclaredmethod",
    "getenginebyname",
    "getmethod",
    "getruntime",
    "java",
    "javax",
    "jndi",
    "lang",
    "ldap",
    "memberaccess",
    "newinstance",
    "ognl",
    "processbuilder",
    "reflect",
    "rmi",
    "runtime",
    "scriptengine",
    "scriptenginemanager",
    "servletcontext",
    "springframework",
];

/// Tags that run script or load a resource.
const TAGS: &[&str] = &[
    "a", "animate", "applet", "audio", "base", "body", "button", "details", "div", "embed", "form",
    "frame", "frameset", "iframe", "image", "img", "input", "isindex", "keygen", "link", "marquee",
    "math", "meta", "object", "script", "select", "set", "source", "style", "svg", "template",
    "textarea", "video", "x", "xss",
];

/// Whether `word` is in `list`, which is sorted (`lexicons_are_sorted`): a binary search, since
/// every word token of every scored value is looked up in three lists.
fn member(list: &[&str], word: &str) -> bool {
    list.binary_search(&word).is_ok()
}

/// The role letter of a word token, before its neighbours are known.
fn word_role(word: &str) -> u8 {
    // Tokens are never empty (`tokens`); a first byte of 0 would read as a word.
    let first = word.as_bytes().first().copied().unwrap_or(0);
    if first.is_ascii_digit() {
        b'n'
    } else if member(SQL_KEYWORDS, word) {
        b'k'
    } else if member(COMMANDS, word) {
        b'c'
    } else if member(JAVA_NAMES, word) {
        b'j'
    } else if word.len() >= 16 {
        b'l'
    } else {
        b'w'
    }
}

fn is_word(token: &str) -> bool {
    token.chars().next().is_some_and(super::word_char)
}

/// The role sequence of `tokens` (from `features::tokens`), `^` first and `$` last.
pub(crate) fn roles(tokens: &[&str]) -> Vec<u8> {
    let mut out = Vec::with_capacity(tokens.len() + 2);
    out.push(b'^');
    for (i, token) in tokens.iter().enumerate() {
        let next = tokens.get(i + 1).copied();
        let prev = i.checked_sub(1).map(|p| tokens[p]);
        let role = if is_word(token) {
            let base = word_role(token);
            if prev == Some("<") && member(TAGS, token) {
                b't'
            } else if next == Some("=")
                && token.len() >= 5
                && token.starts_with("on")
                && token.bytes().all(|b| b.is_ascii_lowercase())
            {
                b'e'
            } else if next == Some("(") && matches!(base, b'w' | b'l' | b'c' | b'j') {
                b'f'
            } else {
                base
            }
        } else {
            let c = token.as_bytes().first().copied().unwrap_or(0);
            if token.len() == 1 && c.is_ascii_punctuation() {
                c
            } else {
                b'u'
            }
        };
        out.push(role);
    }
    out.push(b'$');
    out
}

/// Bucket of every role n-gram of length 2 to 4 in `roles`, pushed onto `hits`.
pub(crate) fn shape_hits(roles: &[u8], hits: &mut Vec<u16>) {
    const BUCKETS: u64 = SHAPE_BUCKETS as u64;
    for n in 2..=4 {
        for w in roles.windows(n) {
            hits.push((hash64(SEED_SHAPE, w) % BUCKETS) as u16);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shape(text: &str) -> String {
        let tokens: Vec<&str> = super::super::tokens(text).collect();
        String::from_utf8(roles(&tokens)).unwrap()
    }

    #[test]
    fn lexicons_are_sorted() {
        for list in [SQL_KEYWORDS, COMMANDS, JAVA_NAMES, TAGS] {
            assert!(list.windows(2).all(|w| w[0] < w[1]), "{:?}", list.first());
        }
    }

    #[test]
    fn injections_read_by_role() {
        assert_eq!(shape("' or 0=0-- "), "^'kn=n--$");
        assert_eq!(shape("') xor 0<=>0#"), "^')kn<=>n#$");
        assert_eq!(shape(";cat /etc/passwd"), "^;c/w/w$");
        assert_eq!(shape("<svg onload=alert(0)>"), "^<te=f(n)>$");
        assert_eq!(
            shape("${java.lang.runtime.getruntime().exec('id')}"),
            "^${j.j.j.f().f('w')}$"
        );
    }

    #[test]
    fn prose_and_ids_read_as_words() {
        assert_eq!(shape("ship it on monday"), "^wwkw$");
        assert_eq!(shape("a0b0c0d0e0f0a0b0c0d0e0"), "^l$");
        assert_eq!(shape(""), "^$");
    }

    #[test]
    fn every_hit_is_a_bucket() {
        let long = "a ".repeat(10 * MAX_TOKENS);
        let mut hits = Vec::new();
        shape_hits(shape(&long).as_bytes(), &mut hits);
        assert_eq!(hits.len(), 3 * (10 * MAX_TOKENS + 2) - 6);
        assert!(hits.iter().all(|&b| usize::from(b) < SHAPE_BUCKETS));
    }
}
