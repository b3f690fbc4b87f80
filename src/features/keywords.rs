//! Keyword families: counts of indicative substrings per attack family. They are features, not
//! rules: the model learns how much each family means in each location.

/// A named list of lower-case indicative substrings.
pub struct Family {
    /// Feature name suffix.
    pub name: &'static str,
    needles: &'static [&'static str],
}

impl Family {
    /// Number of needles found in `lower` (each counted once).
    pub fn hits(&self, lower: &str) -> usize {
        self.needles.iter().filter(|n| lower.contains(*n)).count()
    }
}

/// The families, in feature order.
pub const FAMILIES: &[Family] = &[
    Family {
        name: "sql",
        needles: &[
            "union",
            "select ",
            "insert ",
            "update ",
            "delete ",
            "drop ",
            " from ",
            "where ",
            "sleep(",
            "benchmark(",
            "waitfor",
            "information_schema",
            "concat(",
            "char(",
            "--",
            "/*",
            "xp_cmdshell",
            "load_file",
            "outfile",
            "having ",
            "order by",
            "' or",
            "\" or",
            "' and",
            "or 1=1",
            "pg_sleep",
            "extractvalue",
            "updatexml",
            "@@version",
            "case when",
            "substring(",
            "sysobjects",
            "dbms_",
            "cast(",
            "convert(",
        ],
    },
    Family {
        name: "xss",
        needles: &[
            "<script",
            "javascript:",
            "alert(",
            "prompt(",
            "confirm(",
            "<img",
            "<svg",
            "<iframe",
            "document.",
            "eval(",
            "srcdoc",
            "<body",
            "vbscript:",
            "expression(",
            "fromcharcode",
            "<object",
            "<embed",
            "<details",
            "<math",
            "<style",
            "<link",
            "<meta",
            "window.",
            "<input",
            "<video",
            "<audio",
            "data:text/html",
            "innerhtml",
            "</",
        ],
    },
    Family {
        name: "shell",
        needles: &[
            ";",
            "|",
            "&&",
            "`",
            "$(",
            "${ifs",
            "/bin/",
            "bash",
            "sh -c",
            "cat ",
            "ls ",
            "whoami",
            "uname",
            "wget ",
            "curl ",
            "nc ",
            "ping ",
            "sleep ",
            "cmd.exe",
            "cmd /c",
            "powershell",
            "echo ",
            "rm -",
            "chmod",
            "nslookup",
            "net user",
            "/dev/tcp",
            "id\n",
            ";id",
            "|id",
            "perl -e",
            "python -c",
        ],
    },
    Family {
        name: "traversal",
        needles: &[
            "../",
            "..\\",
            "/etc/",
            "passwd",
            "/shadow",
            "win.ini",
            "boot.ini",
            "system32",
            "/proc/self",
            "php://",
            "/var/log",
            ".htaccess",
            "web.config",
            "c:\\",
            "..;/",
            "/windows/",
            "\0",
        ],
    },
    Family {
        name: "ssrf",
        needles: &[
            "://127.",
            "localhost",
            "169.254.169.254",
            "metadata",
            "://0x",
            "://[::",
            "gopher://",
            "dict://",
            "ftp://",
            "file://",
            "://0.0.0.0",
            "://0/",
            "2130706433",
            "://10.",
            "://192.168.",
            "://172.",
            "internal",
            "tftp://",
            "ldap://",
            "jar:",
            "@127.",
        ],
    },
    Family {
        name: "template",
        needles: &[
            "{{",
            "}}",
            "{%",
            "%}",
            "${",
            "#{",
            "<%",
            "%>",
            "__class__",
            "__globals__",
            "__builtins__",
            "__import__",
            "config.",
            "self.",
            "lipsum",
            "7*7",
            "getclass",
            "forname",
            "freemarker",
            "#set(",
            "@(",
            "*{",
        ],
    },
    Family {
        name: "jndi",
        needles: &[
            "${jndi", "jndi:", "ldap:", "rmi:", "dns:", "ldaps:", "iiop:", "${lower", "${upper",
            "${env", "${sys", "${::-", ":-", "corba:", "nds:",
        ],
    },
    Family {
        name: "nosql",
        needles: &[
            "$ne",
            "$gt",
            "$lt",
            "$gte",
            "$lte",
            "$where",
            "$regex",
            "$exists",
            "$in",
            "$nin",
            "$or",
            "$and",
            "$expr",
            "$elemmatch",
            "this.",
            "db.",
            "[$",
            "function(",
            "mapreduce",
        ],
    },
    Family {
        name: "crlf",
        needles: &[
            "\r\n",
            "\n",
            "\r",
            "set-cookie",
            "location:",
            "content-length",
            "http/1.",
            "content-type:",
            "x-forwarded",
            "\u{560a}",
            "\u{560d}",
        ],
    },
    Family {
        name: "xxe",
        needles: &[
            "<!doctype",
            "<!entity",
            "system \"",
            "system '",
            "<?xml",
            "public \"",
            "%xxe",
            "file:///",
            "expect://",
            "&xxe",
            "<!element",
            "xinclude",
            "xi:include",
        ],
    },
    Family {
        name: "deserialization",
        needles: &[
            "ro0ab",
            "aced0005",
            "o:8:",
            "a:2:{",
            "s:4:",
            "__php_incomplete",
            "cposix",
            "c__builtin__",
            "(lp0",
            "reduce",
            "!!python",
            "typeobject",
            "$type",
            "system.windows",
            "objectdataprovider",
            "java.lang.runtime",
            "ysoserial",
            "o:+",
            "cos\nsystem",
            "gadget",
            "processbuilder",
            "invokertransformer",
            "system.diagnostics",
        ],
    },
    Family {
        name: "ldap",
        needles: &[
            "*)(",
            ")(",
            "(|",
            "(&",
            "objectclass",
            "*)",
            "(uid=",
            "(cn=",
            "\\2a",
            "(!(",
            "userpassword",
            "samaccountname",
        ],
    },
];

/// An HTML event-handler attribute: `on<letters>` then optional spaces then `=`.
pub fn has_event_handler(lower: &str) -> bool {
    let bytes = lower.as_bytes();
    let mut i = 0;
    while let Some(pos) = lower[i..].find("on") {
        let start = i + pos;
        let preceded_ok = start == 0
            || matches!(
                bytes[start - 1],
                b' ' | b'/' | b'"' | b'\'' | b'\t' | b'\n' | b'<' | b';'
            );
        let mut j = start + 2;
        while j < bytes.len() && bytes[j].is_ascii_lowercase() {
            j += 1;
        }
        let letters = j - start - 2;
        while j < bytes.len() && matches!(bytes[j], b' ' | b'\t' | b'\n') {
            j += 1;
        }
        if preceded_ok && letters >= 3 && bytes.get(j) == Some(&b'=') {
            return true;
        }
        i = start + 2;
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn event_handlers_are_found_and_prose_is_not() {
        assert!(has_event_handler("<img src=x onerror=alert(1)>"));
        assert!(has_event_handler("<svg/onload =x>"));
        assert!(!has_event_handler("put it on hold"));
        assert!(!has_event_handler("contact=me"));
        assert!(!has_event_handler("money = 3"));
    }
}
