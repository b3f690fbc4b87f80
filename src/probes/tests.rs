use super::*;
use crate::config::Config;

fn probes(json: &str) -> Probes {
    Probes::new(&Config::from_json(json.as_bytes()).unwrap().probes)
}

/// `category:rule` of the match, or `-`.
fn verdict(p: &Probes, path: &str) -> String {
    p.check(path).map_or_else(
        || "-".to_string(),
        |m| format!("{}:{}", m.category.as_str(), m.rule),
    )
}

fn wrong(p: &Probes, cases: &[(&str, &str)]) -> Vec<String> {
    cases
        .iter()
        .filter_map(|(path, want)| {
            let got = verdict(p, path);
            (got != *want).then(|| format!("{path:?}: got {got}, want {want}"))
        })
        .collect()
}

#[test]
fn the_lists_are_sorted_lower_case_and_their_names_unique() {
    assert!(SOURCE_EXTENSIONS.is_sorted(), "SOURCE_EXTENSIONS");
    assert!(ARCHIVE_EXTENSIONS.is_sorted(), "ARCHIVE_EXTENSIONS");
    assert!(PACKAGE_ROOTS.is_sorted(), "PACKAGE_ROOTS");
    let mut names: Vec<&str> = builtin_rules().map(|(n, _)| n).collect();
    for n in &names {
        assert_eq!(*n, n.to_ascii_lowercase(), "{n}");
        assert!(n.len() <= MAX_NAME && !n.is_empty(), "{n}");
        assert!(n.split('/').count() <= MAX_SEQUENCE, "{n}");
    }
    for (e, _) in EXTENSIONS {
        assert!(e.starts_with('.') && !e[1..].contains('.'), "{e}");
    }
    let n = names.len();
    names.sort_unstable();
    names.dedup();
    assert_eq!(names.len(), n, "a rule name is given twice");
}

#[test]
fn version_control_and_tool_metadata_match_at_any_depth() {
    let p = Probes::default();
    let cases = [
        ("/.git", "metadata:.git"),
        ("/.git/", "metadata:.git"),
        ("/.git/config", "metadata:.git"),
        ("/.git/HEAD", "metadata:.git"),
        ("/static/assets/.git/index", "metadata:.git"),
        ("/.svn/entries", "metadata:.svn"),
        ("/.svn/wc.db", "metadata:.svn"),
        ("/.hg/store/00manifest.i", "metadata:.hg"),
        ("/.bzr/branch/branch.conf", "metadata:.bzr"),
        ("/CVS/Entries", "metadata:cvs/entries"),
        ("/src/CVS/Root", "metadata:cvs/root"),
        ("/.idea/workspace.xml", "metadata:.idea"),
        ("/.vscode/settings.json", "metadata:.vscode"),
        ("/.DS_Store", "metadata:.ds_store"),
        ("/images/.DS_Store", "metadata:.ds_store"),
        ("/.terraform/environment", "metadata:.terraform"),
    ];
    let w = wrong(&p, &cases);
    assert!(w.is_empty(), "{}", w.join("\n"));
}

#[test]
fn secrets_and_server_configuration_match() {
    let p = Probes::default();
    let cases = [
        ("/.env", "secret:.env"),
        ("/api/.env", "secret:.env"),
        ("/.env.local", "secret:.env.*"),
        ("/.env.production", "secret:.env.*"),
        ("/.env.bak", "secret:.env.*"),
        ("/.htaccess", "secret:.htaccess"),
        ("/.htpasswd", "secret:.htpasswd"),
        ("/web.config", "secret:web.config"),
        ("/WEB-INF/web.xml", "secret:web-inf"),
        ("/.aws/credentials", "secret:.aws"),
        ("/.ssh/id_rsa", "secret:.ssh"),
        ("/id_rsa", "secret:id_rsa"),
        ("/home/deploy/id_ed25519.pub", "secret:id_ed25519.pub"),
        ("/.npmrc", "secret:.npmrc"),
        ("/.pypirc", "secret:.pypirc"),
        ("/.git-credentials", "secret:.git-credentials"),
        ("/.docker/config.json", "secret:.docker"),
        ("/.kube/config", "secret:.kube"),
        ("/wp-config.php", "secret:wp-config.php"),
        ("/blog/wp-config.php", "secret:wp-config.php"),
        ("/.bash_history", "secret:.bash_history"),
        ("/config/database.yml", "secret:config/database.yml"),
        ("/app/config/secrets.yml", "secret:config/secrets.yml"),
        ("/server.key", "secret:server.key"),
        ("/config/master.key", "secret:master.key"),
        ("/certs/privkey.pem", "secret:.pem"),
        ("/keystore.jks", "secret:.jks"),
        ("/store.p12", "secret:.p12"),
        ("/backup/passwords.kdbx", "secret:.kdbx"),
        ("/prod.tfvars", "secret:.tfvars"),
        ("/wp-content/debug.log", "dump:wp-content/debug.log"),
        ("/storage/logs/laravel.log", "dump:laravel.log"),
        ("/dump.rdb", "dump:dump.rdb"),
    ];
    let w = wrong(&p, &cases);
    assert!(w.is_empty(), "{}", w.join("\n"));
}

#[test]
fn backup_temporary_and_editor_copies_match_on_the_last_segment() {
    let p = Probes::default();
    let cases = [
        ("/files/report.bak", "backup:.bak"),
        ("/index.php.bak", "backup:.bak"),
        ("/app.jsp.BAK", "backup:.bak"),
        ("/site.bkp", "backup:.bkp"),
        ("/db.backup", "backup:.backup"),
        ("/.index.php.swp", "backup:.swp"),
        ("/.config.php.swo", "backup:.swo"),
        ("/config.inc.old", "backup:.old"),
        ("/index.php.orig", "backup:.orig"),
        ("/settings.py.save", "backup:.save"),
        ("/web.config.old", "backup:.old"),
        ("/login.aspx.copy", "backup:.copy"),
        ("/config.yml.tmp", "backup:.tmp"),
        ("/index.php~", "backup:*~"),
        ("/%23index.php%23", "backup:#*#"),
        ("/.%23index.php", "backup:.#*"),
        ("/site.bak.tar.gz", "backup:.bak"),
        ("/index.php.old.zip", "backup:.old"),
    ];
    let w = wrong(&p, &cases);
    assert!(w.is_empty(), "{}", w.join("\n"));
}

#[test]
fn dumps_match_by_extension_also_under_archives() {
    let p = Probes::default();
    let cases = [
        ("/backup.sql", "dump:.sql"),
        ("/db/dump.SQL", "dump:.sql"),
        ("/backup.sql.gz", "dump:.sql"),
        ("/db.sql.tar.gz", "dump:.sql"),
        ("/data.sqlite", "dump:.sqlite"),
        ("/app.sqlite3", "dump:.sqlite3"),
        ("/shop.mdb", "dump:.mdb"),
        ("/prod.dump", "dump:.dump"),
        ("/terraform.tfstate", "dump:.tfstate"),
        ("/terraform.tfstate.backup", "backup:.backup"),
        // Three archive layers are one too many to look through.
        ("/db.sql.gz.tar.gz", "-"),
    ];
    let w = wrong(&p, &cases);
    assert!(w.is_empty(), "{}", w.join("\n"));
}

#[test]
fn encodings_parameters_and_trailing_tricks_are_seen_through() {
    let p = Probes::default();
    let cases = [
        ("/%2egit/config", "metadata:.git"),
        ("/%2Egit%2Fconfig", "metadata:.git"),
        ("/%252egit/config", "metadata:.git"),
        ("/.git;/config", "metadata:.git"),
        ("/.git;jsessionid=1/HEAD", "metadata:.git"),
        ("/.GIT/CONFIG", "metadata:.git"),
        ("/.env.", "secret:.env"),
        ("/.env%20", "secret:.env"),
        ("/.env/", "secret:.env"),
        ("/.env%00.jpg", "secret:.env"),
        ("/web.config::$DATA", "secret:web.config"),
        ("/index.php.bak.", "backup:.bak"),
        ("/index.php.bak/", "backup:.bak"),
        ("/index.php.bak;x=1", "backup:.bak"),
        ("/files/report.bak/.", "backup:.bak"),
        ("\\.git\\config", "metadata:.git"),
        ("/static/..%2f.git%2fconfig", "metadata:.git"),
        ("/%u002eenv", "secret:.env"),
        ("/\u{ff0e}env", "secret:.env"),
        ("/cvs//entries", "metadata:cvs/entries"),
        ("/cvs;x/entries;y", "metadata:cvs/entries"),
    ];
    let w = wrong(&p, &cases);
    assert!(w.is_empty(), "{}", w.join("\n"));
}

#[test]
fn rest_paths_and_well_known_uris_do_not_match() {
    let p = Probes::default();
    let paths = [
        "/",
        "",
        "/api/v1/backups",
        "/api/v1/backups/123/restore",
        "/v1/users/bob.old-account",
        "/v1/users/bob.old",
        "/v1/users/john.smith.old",
        "/v1/notes/meeting.copy",
        "/v1/uploads/chunk-17.tmp",
        "/v1/files/export.zip",
        "/v1/files/site.tar.gz",
        "/v1/exports/report.csv",
        "/v1/logs/app.log",
        "/v1/settings/config.ini",
        "/v1/stacks/7/docker-compose.yml",
        "/v1/environments/prod",
        "/v1/env",
        "/api/environment",
        "/v1/keys",
        "/v1/keys/1/rotate",
        "/api/ssh-keys/4",
        "/api/git/refs/heads/main",
        "/api/repos/acme/web/git/trees/abc123",
        "/v1/sql/query",
        "/api/gitignore/templates/Rust",
        "/v1/pharmacies/cvs/stores",
        "/v1/brands/CVS",
        "/api/files/reports/2024/q1-summary.pdf",
        "/users/~bob/profile",
        "/v1/items/abc~",
        "/v1/tags/%23release%23",
        "/.well-known/openid-configuration",
        "/.well-known/jwks.json",
        "/.well-known/security.txt",
        "/.well-known/acme-challenge/x2kDq9v7T3",
        "/.well-known/apple-app-site-association",
        "/.WELL-KNOWN/change-password",
        "/v1/objects/a.b.c.d",
        "/v1/environment.json",
        "/api/v1/audit-logs",
        "/api/.../x",
        // Keynote documents and JVM logger and package names (Spring Boot's actuator).
        "/v1/files/keynote/q3-review.key",
        "/webhdfs/v1/uploads%2F2019%2Fdeck.key",
        "/actuator/loggers/org.hibernate.SQL",
        "/actuator/loggers/org.hibernate.type.descriptor.sql",
        "/v1/registries/r/schemas/com.example.Dump",
        "/v1/loggers/com.acme.config.old",
    ];
    let matched: Vec<String> = paths
        .iter()
        .filter_map(|path| p.check(path).map(|m| format!("{path:?}: {}", m.rule)))
        .collect();
    assert!(matched.is_empty(), "{}", matched.join("\n"));
}

#[test]
fn a_dot_segment_takes_a_well_known_path_out_of_its_exemption() {
    let p = Probes::default();
    assert_eq!(verdict(&p, "/.well-known/../.git/config"), "metadata:.git");
    assert_eq!(verdict(&p, "/.well-known/..;/.env"), "secret:.env");
    assert_eq!(verdict(&p, "/.well-known/%2e%2e/backup.sql"), "dump:.sql");
    assert_eq!(verdict(&p, "/.well-known/.git/config"), "-");
}

#[test]
fn extra_files_and_extensions_add_rules_and_allow_removes_built_in_ones() {
    let p = probes(
        r#"{"probes":{"extra_files":["Docker-Compose.yml","deploy/","conf/app.yml"],
            "extra_extensions":[".LOG",".ini"],
            "allow":[".pem","id_rsa.pub",".old","*~",".env.*",".git"]}}"#,
    );
    let cases = [
        ("/docker-compose.yml", "custom:docker-compose.yml"),
        ("/app/DOCKER-COMPOSE.YML", "custom:docker-compose.yml"),
        ("/deploy/run.sh", "custom:deploy"),
        ("/conf/app.yml", "custom:conf/app.yml"),
        ("/conf/other.yml", "-"),
        ("/app.yml", "-"),
        ("/var/log/error.log", "custom:.log"),
        ("/error.log.gz", "custom:.log"),
        ("/php.ini", "secret:php.ini"),
        ("/settings.ini", "custom:.ini"),
        // Allowed: off everywhere.
        ("/certs/ca.pem", "-"),
        ("/id_rsa.pub", "-"),
        ("/config.inc.old", "-"),
        ("/index.php~", "-"),
        ("/.env.local", "-"),
        ("/.git/config", "-"),
        // The rest still apply.
        ("/.env", "secret:.env"),
        ("/id_rsa", "secret:id_rsa"),
        ("/index.php.bak", "backup:.bak"),
        ("/.svn/entries", "metadata:.svn"),
    ];
    let w = wrong(&p, &cases);
    assert!(w.is_empty(), "{}", w.join("\n"));
}

#[test]
fn an_extra_that_is_built_in_keeps_its_category() {
    let p = probes(r#"{"probes":{"extra_files":[".env"],"extra_extensions":[".sql"]}}"#);
    assert_eq!(verdict(&p, "/.env"), "secret:.env");
    assert_eq!(verdict(&p, "/dump.sql"), "dump:.sql");
}

#[test]
fn long_segments_and_odd_bytes_never_match_or_panic() {
    let p = Probes::default();
    let long = format!("/{}.bak", "a".repeat(10_000));
    assert_eq!(verdict(&p, &long), "backup:.bak");
    let long_ext = format!("/a.{}", "b".repeat(100));
    assert_eq!(verdict(&p, &long_ext), "-");
    for path in [
        "/\u{e9}.git/x",
        "/%ff%fe/.bak",
        "/#",
        "/~",
        "/.#",
        "/##",
        "/.",
        "/..",
        "/;",
    ] {
        let _ = p.check(path);
    }
    assert_eq!(verdict(&p, "/%ff%fe/x.bak"), "backup:.bak");
}

#[test]
fn the_readme_lists_every_built_in_rule_and_package_root() {
    let readme = include_str!("../../README.md");
    let missing: Vec<&str> = builtin_rules()
        .map(|(n, _)| n)
        .chain(PACKAGE_ROOTS.iter().copied())
        .filter(|n| !readme.contains(&format!("`{n}`")))
        .collect();
    assert!(missing.is_empty(), "not in README.md: {missing:?}");
}

/// `upload:rule` of the uploaded file name's match, or `-`.
fn upload(p: &Probes, name: &str) -> String {
    p.check_upload(name).map_or_else(
        || "-".to_string(),
        |m| format!("{}:{}", m.category.as_str(), m.rule),
    )
}

#[test]
fn the_upload_lists_are_sorted_lower_case_extensions_and_in_the_readme() {
    assert!(UPLOAD_EXTENSIONS.is_sorted(), "UPLOAD_EXTENSIONS");
    assert!(UPLOAD_NAMES.is_sorted(), "UPLOAD_NAMES");
    for e in UPLOAD_EXTENSIONS {
        assert!(e.starts_with('.') && !e[1..].contains('.'), "{e}");
        assert_eq!(*e, e.to_ascii_lowercase(), "{e}");
    }
    let readme = include_str!("../../README.md");
    let missing: Vec<&str> = UPLOAD_NAMES
        .iter()
        .chain(UPLOAD_EXTENSIONS)
        .copied()
        .filter(|n| !readme.contains(&format!("`{n}`")))
        .collect();
    assert!(missing.is_empty(), "not in README.md: {missing:?}");
    for rule in builtin_upload_rules() {
        assert!(is_builtin_rule(&rule), "{rule}");
    }
    assert!(!is_builtin_rule("upload:.jpg"));
    assert!(!is_builtin_rule("upload:.git"));
}

#[test]
fn uploaded_names_are_read_as_a_server_stores_them() {
    let p = Probes::default();
    let cases = [
        ("shell.php", "upload:.php"),
        ("SHELL.PhP5", "upload:.php5"),
        ("cmd.jsp", "upload:.jsp"),
        ("x.jspx", "upload:.jspx"),
        ("a.aspx", "upload:.aspx"),
        ("h.ashx", "upload:.ashx"),
        ("page.shtml", "upload:.shtml"),
        ("run.cgi", "upload:.cgi"),
        ("app.phar", "upload:.phar"),
        ("t.cfm", "upload:.cfm"),
        (".htaccess", "upload:.htaccess"),
        (".user.ini", "upload:.user.ini"),
        ("Web.Config", "upload:web.config"),
        // The parts a server drops or cuts at.
        ("shell.php;.jpg", "upload:.php"),
        ("shell.php%00.png", "upload:.php"),
        ("shell.php\0.png", "upload:.php"),
        ("shell.php.", "upload:.php"),
        ("shell.php%20", "upload:.php"),
        ("shell.php ...", "upload:.php"),
        ("cmd.jsp::$DATA", "upload:.jsp"),
        ("shell%2ephp", "upload:.php"),
        ("shell%252ephp", "upload:.php"),
        // Only the last path component is the name.
        ("../../var/www/html/shell.php", "upload:.php"),
        ("C:\\Users\\me\\Desktop\\shell.asp", "upload:.asp"),
        ("uploads%2fshell.php", "upload:.php"),
        ("a/.htaccess", "upload:.htaccess"),
    ];
    let w: Vec<String> = cases
        .iter()
        .filter_map(|(name, want)| {
            let got = upload(&p, name);
            (got != *want).then(|| format!("{name:?}: got {got}, want {want}"))
        })
        .collect();
    assert!(w.is_empty(), "{}", w.join("\n"));
}

#[test]
fn ordinary_uploads_are_not_matched() {
    let p = Probes::default();
    let names = [
        "photo.jpg",
        "report.pdf",
        "shell.php.jpg",
        "php.png",
        "index.html",
        "app.js",
        "notes.txt",
        "invoice-2024.xlsx",
        "data.json",
        "archive.zip",
        "htaccess.txt",
        "web.config.sample",
        "my.php.notes.md",
        "résumé.docx",
        "a b.mp4",
        "",
        ".",
        "..",
        "/",
        "C:\\",
        "%",
        "a.",
        &"x".repeat(10_000),
        &format!("{}.php", "x".repeat(10_000)),
    ];
    let matched: Vec<String> = names
        .iter()
        .filter_map(|n| p.check_upload(n).map(|m| format!("{n:?}: {}", m.rule)))
        .collect();
    // A name longer than any rule is still read by its extension.
    assert_eq!(matched.len(), 1, "{}", matched.join("\n"));
    assert!(matched[0].ends_with(": .php"), "{}", matched[0]);
}

#[test]
fn upload_rules_follow_the_configuration() {
    let p = probes(
        r#"{"probes":{"extra_upload_extensions":[".EXE",".sh"],
            "allow":["upload:.phar","upload:.htaccess",".htaccess"]}}"#,
    );
    assert_eq!(upload(&p, "setup.exe"), "upload:.exe");
    assert_eq!(upload(&p, "run.SH"), "upload:.sh");
    assert_eq!(upload(&p, "app.phar"), "-");
    assert_eq!(upload(&p, ".htaccess"), "-");
    assert_eq!(upload(&p, "shell.php"), "upload:.php");
    // The path rule `.htaccess` is allowed separately.
    assert_eq!(verdict(&p, "/.htaccess"), "-");
    let off = probes(r#"{"probes":{"uploads":false}}"#);
    assert_eq!(upload(&off, "shell.php"), "-");
    assert_eq!(verdict(&off, "/.git/config"), "metadata:.git");
}

#[test]
fn mail_rules_read_values_as_decoded_and_follow_the_configuration() {
    let mail = |p: &Probes, raw: &str| p.check_mail(raw).map_or("-", |m| m.rule);
    let p = Probes::default();
    assert_eq!(mail(&p, "a@b.c%0D%0ABcc:%20victim@x.y"), "bcc");
    assert_eq!(mail(&p, "a@b.c&#13;&#10;Cc: victim@x.y"), "cc");
    assert_eq!(mail(&p, "INBOX\r\nA1 FETCH 1:* (BODY[])"), "imap");
    assert_eq!(mail(&p, "INBOX\\x0d\\x0aA1 LOGIN admin pw"), "imap");
    assert_eq!(mail(&p, "x%250d%250aRCPT%2520TO:<a@evil.example>"), "smtp");
    assert_eq!(mail(&p, "a@b.c"), "-");
    assert_eq!(mail(&p, "Hi,%0Athe order is late"), "-");
    let some = probes(r#"{"probes":{"allow":["mail:cc","MAIL:smtp"]}}"#);
    assert_eq!(mail(&some, "a@b.c%0ACc: v@x.y"), "-");
    assert_eq!(mail(&some, "x%0ARCPT TO:<a@b.c>"), "-");
    assert_eq!(mail(&some, "a@b.c%0ABcc: v@x.y"), "bcc");
    let off = probes(r#"{"probes":{"mail":false}}"#);
    assert_eq!(mail(&off, "a@b.c%0ABcc: v@x.y"), "-");
}

#[test]
fn php_rules_read_values_as_decoded_and_follow_the_configuration() {
    let php = |p: &Probes, raw: &str| p.check_php(raw).map_or("-", |m| m.rule);
    let p = Probes::default();
    assert_eq!(
        php(&p, "x%27.file_get_contents(%27/etc/passwd%27).%27"),
        "function"
    );
    assert_eq!(php(&p, "%2524_GET%5Bc%5D"), "superglobal");
    assert_eq!(php(&p, "-d+allow_url_include%3d1"), "directive");
    assert_eq!(php(&p, "mail[%23post_render][]"), "render-callback");
    assert_eq!(php(&p, "read the file_get_contents docs"), "-");
    // A value rule: mail first, then PHP.
    assert_eq!(
        p.check_value("a@b.c%0ABcc: $_GET@x.y").map(|m| m.category),
        Some(Category::Mail)
    );
    assert_eq!(
        p.check_value("$_GET[0]").map(|m| m.category),
        Some(Category::Php)
    );
    let some = probes(r#"{"probes":{"allow":["php:superglobal","PHP:directive"]}}"#);
    assert_eq!(php(&some, "$_GET[0]"), "-");
    assert_eq!(php(&some, "allow_url_include=1"), "-");
    assert_eq!(php(&some, "shell_exec('id')"), "function");
    let off = probes(r#"{"probes":{"php":false}}"#);
    assert_eq!(php(&off, "shell_exec('id')"), "-");
}
