//! Line-break injection into mail: a value that, once decoded, breaks its line and goes on
//! with a mail header or a mail protocol command. A contact form's `email=a@b.c%0ABcc:
//! victim@x.y` adds recipients to the message the server sends (CWE-93); a webmail's
//! `mailbox=INBOX%0D%0AA1 FETCH 1:* (BODY[])` runs an IMAP command, `x%0D%0ARCPT TO:<…>` an
//! SMTP one (OWASP WSTG-INPV-10). The model reads HTTP header injection (`%0D%0ASet-Cookie:`)
//! but has seen too few of these; they are exact grammars, so a rule states them.
//!
//! Free text has line breaks too (a pasted e-mail in a support ticket: `From:`, `To:`,
//! `Subject:` lines), so the rule is narrow:
//! - a *header* counts only on the line right after the value's first line, only when that
//!   first line is short and is not itself a header (`Hi,` or a pasted `From: …` block start
//!   text, not an injection), and only for the headers that redirect or re-type a message
//!   (`Bcc`, `Cc`, `To`, `From`, `Reply-To`, `Sender`, `Return-Path`, with an address).
//!   `Content-Type` is left to the model: every multipart body has that line after its
//!   first (the boundary);
//! - a *command* counts on any later line, written as the protocols write them: SMTP
//!   `MAIL FROM:<…@…>`, `RCPT TO:<…@…>`, upper-case `HELO`/`EHLO`/`VRFY`/`EXPN` with an
//!   argument; POP3 upper-case `USER`/`PASS`/`RETR`/`DELE`/`TOP`/`APOP` with an argument;
//!   IMAP a tag and an upper-case command (`A1 FETCH`, `x LOGIN`).

/// Mail rules as reasons show them (`probe:crlf mail:bcc`): the headers an injection adds, and
/// `smtp`, `pop3`, `imap` for a protocol command. `probes.allow` takes them as `mail:bcc`.
/// Sorted.
pub const MAIL_RULES: &[&str] = &[
    "bcc",
    "cc",
    "from",
    "imap",
    "pop3",
    "reply-to",
    "return-path",
    "sender",
    "smtp",
    "to",
];

/// What `probes.allow` puts before a mail rule (`mail:bcc`).
pub const MAIL_RULE_PREFIX: &str = "mail:";

/// Longest first line read as a field value (an address, a name, a mailbox, a subject).
const MAX_FIRST_LINE: usize = 200;
/// Lines read after the first.
const MAX_LINES: usize = 32;

/// Address-bearing headers an injection adds; each is its own rule.
const ADDRESS_HEADERS: &[&str] = &[
    "bcc",
    "cc",
    "from",
    "reply-to",
    "return-path",
    "sender",
    "to",
];

const POP3_WITH_ARGUMENT: &[&str] = &["APOP", "DELE", "PASS", "RETR", "TOP", "USER"];
const SMTP_WITH_ARGUMENT: &[&str] = &["EHLO", "EXPN", "HELO", "VRFY"];
const IMAP_COMMANDS: &[&str] = &[
    "APPEND",
    "AUTHENTICATE",
    "CAPABILITY",
    "CLOSE",
    "COPY",
    "CREATE",
    "DELETE",
    "EXAMINE",
    "EXPUNGE",
    "FETCH",
    "LIST",
    "LOGIN",
    "LOGOUT",
    "LSUB",
    "MOVE",
    "RENAME",
    "SEARCH",
    "SELECT",
    "STATUS",
    "STORE",
    "SUBSCRIBE",
    "UID",
];

/// The mail rule `text` (decoded) breaks, if any.
pub fn injection(text: &str) -> Option<&'static str> {
    let mut lines = text.split(['\r', '\n']).filter(|l| !l.is_empty());
    let first = lines.next()?;
    if !text.contains(['\r', '\n']) {
        return None;
    }
    // The line break must come after the first line: a value that starts with one
    // (`\r\nBcc:`) has an empty first line, which is what an injection into an empty field
    // looks like too.
    let starts_broken = text.starts_with(['\r', '\n']);
    let mut rest: Vec<&str> = Vec::new();
    if starts_broken {
        rest.push(first);
    } else if first.len() > MAX_FIRST_LINE || header_name(first).is_some() {
        return commands(lines.take(MAX_LINES));
    }
    rest.extend(lines.take(MAX_LINES));
    if let Some(rule) = rest.first().and_then(|l| header(l)) {
        return Some(rule);
    }
    commands(rest.into_iter())
}

/// The first mail command among `lines`.
fn commands<'a>(mut lines: impl Iterator<Item = &'a str>) -> Option<&'static str> {
    lines.find_map(command)
}

/// `Name:` at the start of `line` (a header field name: letters, digits, `-`), lower-cased.
fn header_name(line: &str) -> Option<String> {
    let (name, _) = line.split_once(':')?;
    let name = name.trim_end();
    (!name.is_empty()
        && name.len() <= 40
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-'))
    .then(|| name.to_ascii_lowercase())
}

/// The rule of a header line an injection adds.
fn header(line: &str) -> Option<&'static str> {
    let name = header_name(line.trim_start())?;
    let value = line.split_once(':').map(|(_, v)| v.trim())?;
    let rule = *ADDRESS_HEADERS.iter().find(|n| **n == name)?;
    // An address: `a@b.c`, `<a@b.c>`, `"Name" <a@b.c>`.
    let at = value.find('@')?;
    (at > 0 && value[at + 1..].contains('.')).then_some(rule)
}

/// The rule of a mail protocol command line.
fn command(line: &str) -> Option<&'static str> {
    let line = line.trim_start();
    let mut words = line.split(' ').filter(|w| !w.is_empty());
    let first = words.next()?;
    let second = words.next();
    let upper = line.to_ascii_uppercase();
    for verb in ["MAIL FROM:", "RCPT TO:"] {
        if let Some(arg) = upper.strip_prefix(verb) {
            if arg.contains('@') || arg.trim_start().starts_with('<') {
                return Some("smtp");
            }
        }
    }
    if second.is_some() && SMTP_WITH_ARGUMENT.contains(&first) {
        return Some("smtp");
    }
    if second.is_some() && POP3_WITH_ARGUMENT.contains(&first) {
        return Some("pop3");
    }
    // IMAP: a tag (letters, digits, `.`, with a digit or of one character: `A1`, `a001`,
    // `x`; not a word of prose) and an upper-case command.
    let tag = first.len() <= 12
        && first
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'.')
        && (first.len() == 1 || first.bytes().any(|b| b.is_ascii_digit()));
    if tag && second.is_some_and(|c| IMAP_COMMANDS.contains(&c)) {
        return Some("imap");
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn injections_are_found() {
        for (text, rule) in [
            ("a@b.c\r\nBcc: victim@x.y", "bcc"),
            ("a@b.c\nbcc:victim@x.y", "bcc"),
            ("\r\nCc: <victim@x.y>", "cc"),
            (
                "Jane Doe\r\nReply-To: \"Mallory\" <m@evil.example>",
                "reply-to",
            ),
            ("x\r\nRCPT TO:<a@evil.example>", "smtp"),
            ("x\r\nmail from: <a@b.c>\r\nrcpt to:<d@e.f>\r\nDATA", "smtp"),
            ("x\r\n\r\nVRFY root", "smtp"),
            ("INBOX\r\nA1 FETCH 1:* (BODY[])", "imap"),
            ("INBOX\nx LOGIN admin secret", "imap"),
            ("x\r\nUSER admin\r\nPASS secret", "pop3"),
            ("1\r\nRETR 1", "pop3"),
        ] {
            assert_eq!(injection(text), Some(rule), "{text:?}");
        }
    }

    #[test]
    fn text_with_line_breaks_is_not_an_injection() {
        for text in [
            "a@b.c",
            "Hi team,\nplease see the order below.\nThanks",
            // A pasted e-mail: the first line is a header, or the headers come later.
            "From: Jane <jane@example.com>\nTo: support@example.com\nSubject: refund",
            "Please see below\n\n-----Original Message-----\nFrom: jane@example.com\nTo: x@y.z",
            "Shopping list:\nTo: buy milk\nCc: nobody",
            "Meeting notes\nTo do: call Bob",
            "Line one\nUser guide is attached\nList of items: 3",
            "--b1\r\nContent-Type: text/plain\r\n\r\nhi\r\n--b1--",
            "Status\nA list of things\nthe LOGIN page is down",
            "x\r\nUSER",
            "Dear support,\r\nmy MAIL FROM: header is wrong",
            &format!("{}\nBcc: v@x.y", "a".repeat(MAX_FIRST_LINE + 1)),
        ] {
            assert_eq!(injection(text), None, "{text:?}");
        }
    }
}
