//! PHP named in a value: a value that, once decoded, calls one of PHP's high-risk functions
//! (`file_get_contents(`, `call_user_func_array`), reads a superglobal (`$_GET['c']`,
//! `$GLOBALS`) or sets a configuration directive (`allow_url_include=1`,
//! `-d auto_prepend_file=php://input`, `php_value auto_prepend_file …`). These are how PHP code
//! and argument injection reach an interpreter (CWE-94, CWE-88: the PHP-CGI argument injections
//! CVE-2012-1823 and CVE-2024-4577, ThinkPHP's `invokefunction&function=call_user_func_array`).
//! The model reads PHP that looks like code (`<?php system(…)`, `eval($_POST[x])`) but has seen
//! too few of these names on their own; they are identifiers of one language, so a rule
//! states them.
//!
//! The rule is narrow so that text *about* PHP does not trip it:
//! - a *function* counts only when it is called (`name(`, also with spaces or `/**/` before the
//!   parenthesis) or is the whole value (a callable passed by name); the list holds only names
//!   that are not English words (`file_get_contents`, `shell_exec`, `passthru`, not `system`,
//!   `exec` or `assert`, which the model reads in context);
//! - a *superglobal* counts only as PHP spells it (`$` and the exact, case-sensitive name:
//!   `$_SERVER`, `$GLOBALS`) and as code uses it: indexed, passed, assigned, concatenated,
//!   inside `${…}`, or the whole value; not as a word of a sentence;
//! - a *directive* counts only when it is being set: followed by `=`, or after `php_value`,
//!   `php_flag`, `php_admin_value`, `php_admin_flag` or `ini_set(`; and only directives that
//!   open a way to run or include code, or take a protection away;
//! - a *render callback* is a Drupal render-array key that names a function to call
//!   (`#post_render`, `#pre_render`, `#lazy_builder`, `#access_callback`) in a parameter name
//!   or value: Drupalgeddon 2 (CVE-2018-7600) sends `mail[#post_render][]=exec`.
//!
//! A value that is only a function's name (`function=call_user_func_array`) is trivially clean
//! to the inspection, which would leave it out; [`is_function_name`] keeps it in.

/// PHP rules as reasons show them (`probe:cmdi php:function`). `probes.allow` takes them as
/// `php:function`. Sorted.
pub const PHP_RULES: &[&str] = &["directive", "function", "render-callback", "superglobal"];

/// What `probes.allow` puts before a PHP rule (`php:function`).
pub const PHP_RULE_PREFIX: &str = "php:";

/// High-risk functions (lower-case; PHP function names are case-insensitive) that are not
/// words of prose: they run commands or code, open sockets, decode hidden code, read or write
/// files, or reveal the configuration. Sorted.
const FUNCTIONS: &[&str] = &[
    "__halt_compiler",
    "apache_setenv",
    "assert_options",
    "base64_decode",
    "call_user_func",
    "call_user_func_array",
    "convert_uudecode",
    "create_function",
    "file_get_contents",
    "file_put_contents",
    "forward_static_call",
    "forward_static_call_array",
    "fsockopen",
    "get_defined_constants",
    "get_defined_functions",
    "get_defined_vars",
    "gzdecode",
    "gzinflate",
    "gzuncompress",
    "highlight_file",
    "ini_get_all",
    "ini_restore",
    "ini_set",
    "move_uploaded_file",
    "passthru",
    "pcntl_exec",
    "pcntl_fork",
    "pfsockopen",
    "php_uname",
    "phpinfo",
    "posix_getpwuid",
    "posix_getuid",
    "posix_kill",
    "posix_setuid",
    "posix_uname",
    "proc_open",
    "reflectionfunction",
    "register_shutdown_function",
    "register_tick_function",
    "set_include_path",
    "shell_exec",
    "show_source",
    "str_rot13",
    "stream_socket_client",
    "zlib_decode",
];

/// Superglobals and the long arrays of old PHP, as PHP spells them (case-sensitive). Sorted.
const SUPERGLOBALS: &[&str] = &[
    "GLOBALS",
    "HTTP_COOKIE_VARS",
    "HTTP_ENV_VARS",
    "HTTP_GET_VARS",
    "HTTP_POST_FILES",
    "HTTP_POST_VARS",
    "HTTP_RAW_POST_DATA",
    "HTTP_SERVER_VARS",
    "HTTP_SESSION_VARS",
    "_COOKIE",
    "_ENV",
    "_FILES",
    "_GET",
    "_POST",
    "_REQUEST",
    "_SERVER",
    "_SESSION",
];

/// Directives (lower-case) that let a request include or run code, or take a protection away.
/// Sorted.
const DIRECTIVES: &[&str] = &[
    "allow_url_fopen",
    "allow_url_include",
    "auto_append_file",
    "auto_prepend_file",
    "cgi.force_redirect",
    "disable_classes",
    "disable_functions",
    "doc_root",
    "enable_dl",
    "extension_dir",
    "include_path",
    "magic_quotes_gpc",
    "open_basedir",
    "phar.readonly",
    "register_globals",
    "safe_mode",
    "sendmail_path",
    "session.save_path",
    "suhosin.executor.disable_eval",
    "suhosin.simulation",
    "upload_tmp_dir",
    "user_ini.filename",
    "zend_extension",
];

/// Drupal render-array keys that name a callable (lower-case, with their `#`).
const RENDER_CALLBACKS: &[&str] = &[
    "#access_callback",
    "#lazy_builder",
    "#post_render",
    "#pre_render",
];

/// What a directive is set with when it is not followed by `=` (lower-case).
const SETTERS: &[&str] = &[
    "php_admin_flag",
    "php_admin_value",
    "php_flag",
    "php_value",
    "ini_set(\"",
    "ini_set('",
];

/// Longest identifier looked up (the longest name in the lists, with room for dots).
const MAX_IDENT: usize = 40;

/// The PHP rule `text` (decoded) matches, if any.
pub fn injection(text: &str) -> Option<&'static str> {
    let bytes = text.as_bytes();
    let whole = text.trim();
    // Every rule needs `$`, `=`, `(`, `#`, a setter (`php_value`), or a whole value that is
    // one identifier.
    if !bytes.iter().any(|b| matches!(b, b'$' | b'=' | b'(' | b'#'))
        && !bytes.windows(4).any(|w| w.eq_ignore_ascii_case(b"php_"))
        && !is_identifier(whole)
    {
        return None;
    }
    if bytes.contains(&b'#') {
        let hit = RENDER_CALLBACKS.iter().any(|k| {
            bytes
                .windows(k.len())
                .any(|w| w.eq_ignore_ascii_case(k.as_bytes()))
        });
        if hit {
            return Some("render-callback");
        }
    }
    let mut lower = [0u8; MAX_IDENT];
    let mut i = 0;
    while i < bytes.len() {
        if !is_ident_byte(bytes[i]) {
            i += 1;
            continue;
        }
        let start = i;
        while i < bytes.len() && is_ident_byte(bytes[i]) {
            i += 1;
        }
        // `'.file_get_contents(` and `x.` : dots around an identifier are PHP's concatenation.
        let (mut s, mut e) = (start, i);
        while s < e && bytes[s] == b'.' {
            s += 1;
        }
        while e > s && bytes[e - 1] == b'.' {
            e -= 1;
        }
        if let Some(rule) = token_rule(text, whole, s, e, &mut lower) {
            return Some(rule);
        }
    }
    None
}

/// The rule the identifier `text[s..e]` matches where it stands (`whole` is `text` trimmed).
fn token_rule(
    text: &str,
    whole: &str,
    s: usize,
    e: usize,
    lower: &mut [u8; MAX_IDENT],
) -> Option<&'static str> {
    let word = text.get(s..e)?;
    let before = text.get(..s)?;
    let after = text.get(e..)?;
    if (before.ends_with('$') || before.ends_with("${"))
        && SUPERGLOBALS.binary_search(&word).is_ok()
        && used_as_code(before, after)
    {
        return Some("superglobal");
    }
    let n = word.len();
    if !(4..=MAX_IDENT).contains(&n) {
        return None;
    }
    // Where the name stands decides what it can be, before any lookup: a call (`name(`, or
    // the whole value) can be a function; an assignment (`name=`) or a setter's argument
    // (`php_value name`) can be a directive. Most words of a value are neither.
    let next = skip_blanks(after);
    let call = next.starts_with('(') || (word.len() == whole.len() && word == whole);
    let assigned = next.starts_with('=');
    let prefix = before.trim_end();
    let set = !assigned
        && prefix.ends_with(['e', 'E', 'g', 'G', '\'', '"'])
        && SETTERS.iter().any(|st| {
            prefix.len() >= st.len()
                && prefix
                    .get(prefix.len() - st.len()..)
                    .is_some_and(|tail| tail.eq_ignore_ascii_case(st))
        });
    if !(call || assigned || set) {
        return None;
    }
    let buf = lower.get_mut(..n)?;
    buf.copy_from_slice(word.as_bytes());
    buf.make_ascii_lowercase();
    let lw = std::str::from_utf8(buf).ok()?;
    if (assigned || set) && DIRECTIVES.binary_search(&lw).is_ok() {
        return Some("directive");
    }
    // A function name is the part after the last dot (`x.file_get_contents`).
    let f = lw.rsplit('.').next().unwrap_or(lw);
    (call && is_function_name(f.as_bytes())).then_some("function")
}

/// Whether `lower` (lower-case bytes) is the name of a high-risk function: the inspection keeps
/// such a value although it is trivially clean ([`crate::features::is_left_out`]).
pub fn is_function_name(lower: &[u8]) -> bool {
    lower.len() <= MAX_IDENT
        && std::str::from_utf8(lower).is_ok_and(|n| FUNCTIONS.binary_search(&n).is_ok())
}

/// Whether a superglobal between `before` and `after` is used as PHP uses it: indexed,
/// passed, assigned, concatenated, ended with `;`, inside `${…}` or `{$…}`, or the whole
/// value; not a word of a sentence (`$_SERVER variable is empty`).
fn used_as_code(before: &str, after: &str) -> bool {
    let before = before.trim_end_matches('$');
    if before.ends_with('{') {
        return true;
    }
    let next = skip_blanks(after);
    next.is_empty()
        || next.starts_with("->")
        || next.starts_with(['[', '(', ')', ';', '.', ',', '}', '='])
}

/// `text` after ASCII whitespace and `/* … */` comments.
fn skip_blanks(mut text: &str) -> &str {
    loop {
        let t = text.trim_start();
        match t
            .strip_prefix("/*")
            .and_then(|r| r.find("*/").map(|end| &r[end + 2..]))
        {
            Some(rest) => text = rest,
            None => return t,
        }
    }
}

fn is_ident_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_' || b == b'.'
}

/// A PHP identifier: a letter or `_`, then letters, digits and `_`.
fn is_identifier(text: &str) -> bool {
    let mut bytes = text.bytes();
    bytes
        .next()
        .is_some_and(|b| b.is_ascii_alphabetic() || b == b'_')
        && bytes.all(|b| b.is_ascii_alphanumeric() || b == b'_')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_are_sorted_for_binary_search() {
        for list in [
            PHP_RULES,
            FUNCTIONS,
            SUPERGLOBALS,
            DIRECTIVES,
            RENDER_CALLBACKS,
        ] {
            assert!(list.windows(2).all(|w| w[0] < w[1]), "{list:?}");
        }
        assert!(FUNCTIONS
            .iter()
            .chain(DIRECTIVES)
            .all(|n| n.len() <= MAX_IDENT));
    }

    #[test]
    fn php_in_a_value_is_found() {
        for (text, rule) in [
            ("file_get_contents('/etc/passwd')", "function"),
            ("x'.file_get_contents('/etc/passwd').'", "function"),
            ("FILE_GET_CONTENTS ('/etc/passwd')", "function"),
            ("shell_exec/**/('id')", "function"),
            ("<?php echo shell_exec($_GET[1]); ?>", "function"),
            ("call_user_func_array", "function"),
            ("  passthru ", "function"),
            ("${@phpinfo()}", "function"),
            ("$_GET['c']($_POST['d'])", "superglobal"),
            ("echo $GLOBALS;", "superglobal"),
            ("{${_SERVER}}", "superglobal"),
            ("$HTTP_RAW_POST_DATA", "superglobal"),
            ("print_r($_SERVER)", "superglobal"),
            ("'.$_COOKIE.'", "superglobal"),
            ("$_POST = []", "superglobal"),
            ("allow_url_include=1", "directive"),
            (
                "-d allow_url_include=on -d auto_prepend_file=php://input",
                "directive",
            ),
            ("\u{AD}d auto_prepend_file = php://input", "directive"),
            ("php_value auto_prepend_file /tmp/x", "directive"),
            ("ini_set('open_basedir','/')", "function"),
            ("php_flag register_globals on", "directive"),
            ("php_admin_value open_basedir none", "directive"),
            ("x\ncgi.force_redirect=0", "directive"),
            ("mail[#post_render][]", "render-callback"),
            ("{\"#lazy_builder\":[\"exec\",[\"id\"]]}", "render-callback"),
        ] {
            assert_eq!(injection(text), Some(rule), "{text:?}");
        }
    }

    #[test]
    fn text_about_php_is_not_an_injection() {
        for text in [
            "",
            "system",
            "exec summary",
            "assert(x > 0)",
            "use file_get_contents to read a file",
            "the phpinfo page",
            "passthru mode (default)",
            "$_get is lower case",
            "$_SERVER variable empty in nginx",
            "is $GLOBALS deprecated?",
            "$_GETTER",
            "price: $_5",
            "my_GLOBALS",
            "allow_url_include is off",
            "safe_mode",
            "set include_path in php.ini",
            "The order id is call_user_func_array_2",
            "base64_decoded",
            "café (déjà vu)",
            "#render #post #callback",
        ] {
            assert_eq!(injection(text), None, "{text:?}");
        }
    }
}
