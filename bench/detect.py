#!/usr/bin/env python3
"""`make bench-detect`: detection side by side, apiward (Envoy, enforce) vs nginx + ModSecurity v3
+ OWASP CRS, on a labelled corpus of HTTP requests.

Every corpus request is sent as recorded (method, raw target, headers, body) to each proxy in
turn; all proxies forward to one upstream (bench/upstream.py) that marks its replies with
`x-bench-upstream`. A request is *blocked* when its response lacks that marker, i.e. it did not
reach the upstream (a 403 from the WAF or a 400 from the proxy's own parser alike; both are
counted separately). Timeouts and connection errors are reported as errors, not as blocks.

Proxies: apiward (Envoy + the wasm module, {"mode":"enforce","behaviour":{"enabled":false}}:
the model's verdict on each request, as CRS gives one; with behaviour on, the corpus's attacks,
all from one loopback client, would soon block that client and every benign request after them),
modsec-pl1 (stock CRS,
paranoia level 1), modsec-pl2 (stock CRS, PL2), modsec-pl1-rest (PL1 with PUT/PATCH/DELETE and
text/plain allowed, as for a REST API). Everything listens on loopback, on free ports, as child
processes that are stopped on exit, Ctrl-C or failure.

nginx, the ModSecurity module and the CRS are found through dpkg (Debian/Ubuntu packages
nginx, libnginx-mod-http-modsecurity, modsecurity-crs; bench/install-deps.sh installs them) or
BENCH_NGINX, BENCH_MODSEC_MODULE, BENCH_CRS_RULES, BENCH_CRS_SETUP.
"""

from __future__ import annotations

import argparse
import base64
import collections
import hashlib
import http.client
import json
import os
import platform
import pwd
import random
import re
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
sys.path.insert(0, str(REPO / "examples"))

import harness  # noqa: E402

DEFAULT_CORPUS = REPO / "models" / "train" / ".cache" / "work" / "test.jsonl"
MARKER = "x-bench-upstream"
PROXIES = ["apiward", "modsec-pl1", "modsec-pl2", "modsec-pl1-rest"]
# Per-request verdicts, as CRS gives them: behaviour would block the one loopback client that
# sends every attack of the corpus, and with it the benign requests that follow.
APIWARD_CONFIG = {"mode": "enforce", "behaviour": {"enabled": False}}
TITLES = {
    "apiward": "apiward (Envoy, enforce, model only)",
    "modsec-pl1": "ModSecurity CRS PL1",
    "modsec-pl2": "ModSecurity CRS PL2",
    "modsec-pl1-rest": "ModSecurity CRS PL1 + REST methods/types",
}
BENIGN2 = "benign (second set)"
REST_METHODS = "GET HEAD POST OPTIONS PUT PATCH DELETE"
REST_CONTENT_TYPES = [
    "application/x-www-form-urlencoded",
    "multipart/form-data",
    "multipart/related",
    "text/xml",
    "application/xml",
    "application/soap+xml",
    "application/json",
    "application/cloudevents+json",
    "application/cloudevents-batch+json",
    "text/plain",
]


class BenchError(RuntimeError):
    pass


# ---------------------------------------------------------------------------------------------
# Corpus


@dataclass
class Req:
    label: str
    method: str
    data: bytes  # the whole request as sent
    second: bool = False  # from --second-benign
    origin: str = ""  # corpus file name and line


def unsendable(rec: dict) -> str | None:
    """Why a record cannot be written as one HTTP/1.1 request (None if it can)."""
    if any(c in rec["uri"] for c in " \r\n\0"):
        return "space/CR/LF/NUL in the target"
    if "#" in rec["uri"]:
        return "fragment (#) in the target"  # clients never send one; Envoy answers 400
    for k, v in rec.get("headers", {}).items():
        if any(c in k for c in " \t\r\n\0:") or any(c in v for c in "\r\n\0"):
            return "CR/LF/NUL in a header"
    return None


def encode(rec: dict, host: str) -> Req:
    method = rec["method"]
    headers = {
        k: v
        for k, v in (rec.get("headers") or {}).items()
        if k.lower() not in ("content-length", "transfer-encoding", "connection")
    }
    if "body_base64" in rec:
        body = base64.b64decode(rec["body_base64"])
    elif rec.get("body") is not None:
        body = rec["body"].encode("utf-8", "surrogatepass")
    else:
        body = b"" if method in ("POST", "PUT", "PATCH") else None  # as common clients do
    if not any(k.lower() == "host" for k in headers):
        headers = {"host": host, **headers}
    line = f"{method} {rec['uri']} HTTP/1.1"
    head = [line] + [f"{k}: {v}" for k, v in headers.items()]
    if body is not None:
        head.append(f"content-length: {len(body)}")
    data = ("\r\n".join(head) + "\r\n\r\n").encode("utf-8", "surrogatepass") + (body or b"")
    return Req(rec["label"], method, data, origin=rec.get("_origin", ""))


def load(
    path: Path,
    limit_benign: int | None,
    limit_per_class: int | None,
    seed: int,
    force_label: str | None = None,
) -> list[dict]:
    recs = []
    with open(path, encoding="utf-8") as f:
        for number, line in enumerate(f, 1):
            if line.strip():
                rec = json.loads(line)
                rec["_origin"] = f"{path.name}:{number}"
                if force_label:
                    rec["label"] = force_label
                recs.append(rec)
    by_class: dict[str, list[int]] = collections.defaultdict(list)
    for i, rec in enumerate(recs):
        by_class[rec["label"]].append(i)
    keep: list[int] = []
    rng = random.Random(seed)
    for label, idx in sorted(by_class.items()):
        limit = limit_benign if label == "benign" else limit_per_class
        keep += rng.sample(idx, limit) if limit is not None and len(idx) > limit else idx
    return [recs[i] for i in sorted(keep)]  # corpus order, classes interleaved


# ---------------------------------------------------------------------------------------------
# Client: raw requests over keep-alive connections, a few threads


@dataclass
class Outcome:
    status: int = 0  # 0 = error
    passed: bool = False
    error: str = ""
    txn: str = ""  # client port - request number on the connection (nginx's transaction id)


def send_one(conn: list, port: int, req: Req, timeout: float) -> Outcome:
    """One request on the thread's connection conn = [socket, requests sent on it];
    reconnects once if a reused keep-alive connection turns out closed before any response."""
    for attempt in range(2):
        reused = conn[0] is not None
        try:
            if conn[0] is None:
                conn[0] = socket.create_connection(("127.0.0.1", port), timeout=timeout)
                conn[0].setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                conn[1] = 0
            sock = conn[0]
            conn[1] += 1
            txn = f"{sock.getsockname()[1]}-{conn[1]}"
            try:
                sock.sendall(req.data)
            except (BrokenPipeError, ConnectionResetError):
                if reused and attempt == 0:
                    raise
                # the proxy may have answered (400) and closed before reading it all: read on
            resp = http.client.HTTPResponse(sock, method=req.method)
            resp.begin()
            resp.read()
            out = Outcome(resp.status, resp.getheader(MARKER) is not None, txn=txn)
            if resp.will_close:
                close(conn)
            return out
        except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError) as exc:
            close(conn)
            if reused and attempt == 0:
                continue
            return Outcome(error=type(exc).__name__)
        except (OSError, http.client.HTTPException) as exc:
            close(conn)
            return Outcome(
                error=type(exc).__name__ if not str(exc) else f"{type(exc).__name__}: {exc}"[:120]
            )
    return Outcome(error="unreachable")


def close(conn: list) -> None:
    if conn[0] is not None:
        try:
            conn[0].close()
        except OSError:
            pass
        conn[0] = None


def run_corpus(
    port: int, reqs: list[Req], concurrency: int, timeout: float, name: str
) -> tuple[list[Outcome], float]:
    results: list[Outcome | None] = [None] * len(reqs)
    next_i = iter(range(len(reqs)))
    lock, stop = threading.Lock(), threading.Event()

    def worker() -> None:
        conn: list = [None, 0]
        try:
            while not stop.is_set():
                with lock:
                    i = next(next_i, None)
                if i is None:
                    return
                results[i] = send_one(conn, port, reqs[i], timeout)
        finally:
            close(conn)

    threads = [threading.Thread(target=worker, daemon=True) for _ in range(concurrency)]
    started = time.monotonic()
    for t in threads:
        t.start()
    last = started
    try:
        while any(t.is_alive() for t in threads):
            for t in threads:
                t.join(timeout=0.5)
            if time.monotonic() - last > 15:
                last = time.monotonic()
                done = sum(r is not None for r in results)
                print(
                    f"  {name}: {done}/{len(reqs)} ({done / (last - started):.0f}/s)",
                    file=sys.stderr,
                )
    finally:
        stop.set()
    return [r or Outcome(error="not sent") for r in results], time.monotonic() - started


# ---------------------------------------------------------------------------------------------
# Processes


def stop_proc(proc: subprocess.Popen | None, grace: float = 10.0) -> None:
    """SIGTERM the child, SIGKILL its process group (it leads its own session) after `grace`."""
    if proc is None or proc.poll() is not None:
        return
    try:
        proc.terminate()
        proc.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        proc.wait(timeout=grace)
    except ProcessLookupError:
        pass


def start_upstream(workdir: Path) -> tuple[subprocess.Popen, int]:
    log = workdir / "upstream.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            [sys.executable, str(BENCH / "upstream.py"), "0"],
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        m = re.search(r"listening on http://127\.0\.0\.1:(\d+)", log.read_text(errors="replace"))
        if m:
            return proc, int(m.group(1))
        if proc.poll() is not None:
            break
        time.sleep(0.05)
    stop_proc(proc)
    raise BenchError(f"upstream did not start:\n{log.read_text(errors='replace')}")


def dpkg_files(package: str) -> list[str]:
    try:
        out = subprocess.run(
            ["dpkg", "-L", package], check=False, capture_output=True, text=True, timeout=30
        )
    except (OSError, subprocess.TimeoutExpired):
        return []
    return out.stdout.splitlines() if out.returncode == 0 else []


def dpkg_version(package: str) -> str:
    try:
        out = subprocess.run(
            ["dpkg-query", "-W", "-f=${Version}", package],
            check=False,
            capture_output=True,
            text=True,
            timeout=30,
        )
        return out.stdout.strip() if out.returncode == 0 else "not installed"
    except (OSError, subprocess.TimeoutExpired):
        return "unknown"


@dataclass
class ModsecFiles:
    nginx: str
    module: str
    rules: str
    setup: str
    unicode_map: str | None


def find_modsec() -> ModsecFiles:
    hint = "run bench/install-deps.sh (Debian/Ubuntu), or set BENCH_NGINX etc."
    nginx = (
        os.environ.get("BENCH_NGINX")
        or shutil.which("nginx")
        or next(
            (f for f in dpkg_files("nginx") + dpkg_files("nginx-core") if f.endswith("bin/nginx")),
            None,
        )
    )
    mod_files = dpkg_files("libnginx-mod-http-modsecurity")
    module = os.environ.get("BENCH_MODSEC_MODULE") or next(
        (f for f in mod_files if f.endswith("ngx_http_modsecurity_module.so")), None
    )
    crs = dpkg_files("modsecurity-crs")
    rules = os.environ.get("BENCH_CRS_RULES") or next(
        (str(Path(f).parent) for f in crs if f.endswith("/REQUEST-901-INITIALIZATION.conf")), None
    )
    setup = (
        os.environ.get("BENCH_CRS_SETUP")
        or next((f for f in crs if f.endswith("/crs-setup.conf.example")), None)
        or next((f for f in crs if f.endswith("/crs-setup.conf")), None)
    )
    unicode_map = next(
        (
            f
            for f in mod_files + dpkg_files("libmodsecurity3")
            if f.endswith("/unicode.mapping") and Path(f).is_file()
        ),
        None,
    )
    for what, path in [
        ("nginx", nginx),
        ("ModSecurity nginx module", module),
        ("CRS rules", rules),
        ("CRS setup", setup),
    ]:
        if not path or not Path(path).exists():
            raise BenchError(f"{what} not found; {hint}")
    return ModsecFiles(nginx, module, rules, setup, unicode_map)


def modsec_config(files: ModsecFiles, prefix: Path, paranoia: int, rest: bool) -> str:
    """ModSecurity main config: the engine settings of modsecurity.conf-recommended with the
    engine on and the audit log in the workdir (JSON, blocked requests only, for the rule
    counts; it costs a few % of throughput), then the CRS setup, our CRS variables, the rules."""
    tmp = prefix / "modsecurity"
    lines = [
        "SecRuleEngine On",
        "SecRequestBodyAccess On",
        # body processors by content type, as recommended
        (
            r'SecRule REQUEST_HEADERS:Content-Type "^(?:application(?:/soap\+|/)|text/)xml" '
            '"id:200000,phase:1,t:none,t:lowercase,pass,nolog,ctl:requestBodyProcessor=XML"'
        ),
        (
            'SecRule REQUEST_HEADERS:Content-Type "^application/json" '
            '"id:200001,phase:1,t:none,t:lowercase,pass,nolog,ctl:requestBodyProcessor=JSON"'
        ),
        "SecRequestBodyLimit 13107200",
        "SecRequestBodyNoFilesLimit 131072",
        "SecRequestBodyLimitAction Reject",
        "SecRequestBodyJsonDepthLimit 512",
        "SecArgumentsLimit 1000",
        (
            'SecRule &ARGS "@ge 1000" "id:200007,phase:2,t:none,log,deny,status:400,'
            "msg:'Failed to fully parse request body due to large argument count',severity:2\""
        ),
        (
            'SecRule REQBODY_ERROR "!@eq 0" "id:200002,phase:2,t:none,log,deny,status:400,'
            "msg:'Failed to parse request body.',logdata:'%{reqbody_error_msg}',severity:2\""
        ),
        (
            'SecRule MULTIPART_STRICT_ERROR "!@eq 0" "id:200003,phase:2,t:none,log,deny,status:400,'
            "msg:'Multipart request body failed strict validation'\""
        ),
        (
            'SecRule MULTIPART_UNMATCHED_BOUNDARY "@eq 1" "id:200004,phase:2,t:none,log,deny,'
            "msg:'Multipart parser detected a possible unmatched boundary.'\""
        ),
        "SecPcreMatchLimit 1000",
        "SecPcreMatchLimitRecursion 1000",
        (
            'SecRule TX:/^MSC_/ "!@streq 0" "id:200005,phase:2,t:none,deny,'
            "msg:'ModSecurity internal error flagged: %{MATCHED_VAR_NAME}'\""
        ),
        "SecResponseBodyAccess Off",
        f"SecTmpDir {tmp}",
        f"SecDataDir {tmp}",
        "SecAuditEngine RelevantOnly",
        'SecAuditLogRelevantStatus "^[45]"',
        "SecAuditLogParts AHZ",
        "SecAuditLogFormat JSON",
        "SecAuditLogType Serial",
        f"SecAuditLog {tmp}/audit.log",
        "SecArgumentSeparator &",
        "SecCookieFormat 0",
        "SecStatusEngine Off",
    ]
    if files.unicode_map:
        lines.append(f"SecUnicodeMapFile {files.unicode_map} 20127")
    lines += [
        f"Include {files.setup}",
        (
            f'SecAction "id:10001,phase:1,nolog,pass,t:none,setvar:tx.paranoia_level={paranoia},'
            f'setvar:tx.executing_paranoia_level={paranoia}"'
        ),
    ]
    if rest:
        types = " ".join(f"|{t}|" for t in REST_CONTENT_TYPES)
        lines += [
            (
                'SecAction "id:10002,phase:1,nolog,pass,t:none,'
                f"setvar:'tx.allowed_methods={REST_METHODS}'\""
            ),
            (
                f'SecAction "id:10003,phase:1,nolog,pass,t:none,'
                f"setvar:'tx.allowed_request_content_type={types}'\""
            ),
        ]
    lines.append(f"Include {files.rules}/*.conf")
    return "\n".join(lines) + "\n"


@dataclass
class Nginx:
    files: ModsecFiles
    upstream_port: int
    workdir: Path
    paranoia: int
    rest: bool
    workers: int = 2
    port: int = 0
    proc: subprocess.Popen | None = None

    @property
    def audit_log(self) -> Path:
        return self.workdir / "modsecurity" / "audit.log"

    def start(self, timeout: float = 60) -> None:
        try:
            self._start(timeout)
        except BaseException:
            self.stop()
            raise

    def _start(self, timeout: float) -> None:
        (self.workdir / "tmp").mkdir(parents=True, exist_ok=True)
        (self.workdir / "modsecurity").mkdir(exist_ok=True)
        (self.workdir / "modsecurity" / "main.conf").write_text(
            modsec_config(self.files, self.workdir, self.paranoia, self.rest)
        )
        for _ in range(3):  # the chosen port may be taken between choice and bind
            self.port = harness.free_port()
            self._write_conf()
            log = self.workdir / "nginx.out"
            with open(log, "wb") as out:
                self.proc = subprocess.Popen(
                    [
                        self.files.nginx,
                        "-p",
                        str(self.workdir),
                        "-c",
                        str(self.workdir / "nginx.conf"),
                        "-e",
                        str(self.workdir / "error.log"),
                    ],
                    stdout=out,
                    stderr=subprocess.STDOUT,
                    stdin=subprocess.DEVNULL,
                    start_new_session=True,
                )
            deadline = time.monotonic() + timeout
            while time.monotonic() < deadline and self.proc.poll() is None:
                try:
                    harness.request(self.port, "GET", "/", timeout=2, headers={"host": "localhost"})
                    return
                except (OSError, http.client.HTTPException):
                    time.sleep(0.1)
            self.stop()
            if "Address already in use" not in self.log():
                break
        raise BenchError(f"nginx did not start:\n{self.log()[-4000:]}")

    def _write_conf(self) -> None:
        user = ""
        if os.geteuid() == 0:  # workers would otherwise switch to `nobody`
            user = f"user {pwd.getpwuid(0).pw_name};"
        text = (BENCH / "nginx.conf.in").read_text()
        for key, value in {
            "MODSEC_MODULE": self.files.module,
            "USER_DIRECTIVE": user,
            "WORKERS": str(self.workers),
            "PREFIX": str(self.workdir),
            "UPSTREAM_PORT": str(self.upstream_port),
            "PORT": str(self.port),
        }.items():
            text = text.replace(f"@{key}@", value)
        (self.workdir / "nginx.conf").write_text(text)

    def log(self) -> str:
        text = ""
        for name in ("nginx.out", "error.log"):
            try:
                text += (self.workdir / name).read_text(errors="replace")
            except FileNotFoundError:
                pass
        return text

    def stop(self) -> None:
        stop_proc(self.proc)


# ---------------------------------------------------------------------------------------------
# ModSecurity audit log: which rules blocked benign requests

# aggregate rules (anomaly-score evaluation / correlation), not causes
_AGGREGATE = {"949110", "959100", "980130", "980140"}


def blocked_rules(audit_log: Path | None) -> dict[str, dict[str, str]]:
    """{transaction id: {rule id: message}} from the JSON audit log (blocked requests only)."""
    out: dict[str, dict[str, str]] = {}
    if audit_log is None or not audit_log.is_file():
        return out
    with open(audit_log, encoding="utf-8", errors="replace") as f:
        for line in f:
            try:
                txn = json.loads(line)["transaction"]
            except (ValueError, KeyError, TypeError):
                continue
            rules = {}
            for m in txn.get("messages") or []:
                rid = str((m.get("details") or {}).get("ruleId", ""))
                if rid and rid not in _AGGREGATE:
                    rules[rid] = m.get("message", "")
            out[str(txn.get("unique_id", ""))] = rules
    return out


def top_rules(reqs: list[Req], outcomes: list[Outcome], audit: dict, benign: bool) -> list[dict]:
    """Rules that matched in the blocked benign (or attack) requests, most frequent first."""
    counts: collections.Counter = collections.Counter()
    msgs: dict[str, str] = {}
    for req, out in zip(reqs, outcomes, strict=True):
        if (req.label == "benign") == benign and out.status and not out.passed:
            rules = audit.get(out.txn, {})
            counts.update(rules.keys())
            msgs.update(rules)
    return [{"id": r, "msg": msgs[r], "requests": n} for r, n in counts.most_common(12)]


# ---------------------------------------------------------------------------------------------
# Results


def summarize(reqs: list[Req], outcomes: list[Outcome]) -> dict:
    rows: dict[str, dict] = {}
    for req, out in zip(reqs, outcomes, strict=True):
        key = BENIGN2 if req.second else req.label
        row = rows.setdefault(
            key,
            {
                "n": 0,
                "blocked": 0,
                "blocked_403": 0,
                "blocked_other": collections.Counter(),
                "errors": 0,
                "error_kinds": collections.Counter(),
            },
        )
        row["n"] += 1
        if out.status == 0:
            row["errors"] += 1
            row["error_kinds"][out.error] += 1
        elif not out.passed:
            row["blocked"] += 1
            if out.status == 403:
                row["blocked_403"] += 1
            else:
                row["blocked_other"][str(out.status)] += 1
    for row in rows.values():
        answered = row["n"] - row["errors"]
        row["rate"] = row["blocked"] / answered if answered else None
        row["blocked_other"] = dict(row["blocked_other"])
        row["error_kinds"] = dict(row["error_kinds"])
    return rows


def class_order(labels: set[str]) -> list[str]:
    rest = sorted(label for label in labels if label not in ("benign", BENIGN2))
    return [c for c in ("benign", BENIGN2) if c in labels] + rest


def attack_micro(rows: dict) -> dict:
    attacks = [r for c, r in rows.items() if c not in ("benign", BENIGN2)]
    blocked = sum(r["blocked"] for r in attacks)
    answered = sum(r["n"] - r["errors"] for r in attacks)
    return {
        "n": sum(r["n"] for r in attacks),
        "blocked": blocked,
        "rate": blocked / answered if answered else None,
    }


def skipped_text(skipped: dict) -> str:
    parts = []
    for why, by_label in sorted(skipped.items()):
        benign = by_label.get("benign", 0) + by_label.get(BENIGN2, 0)
        parts.append(f"{why}: {sum(by_label.values())} ({benign} benign)")
    return "skipped, not sendable as HTTP/1.1: " + "; ".join(parts)


def pct(x: float | None, fine: bool = False) -> str:
    """A rate; `fine` for FPRs, where 0.045 % and 0.1 % must not both read 0.1 %."""
    if x is None:
        return "—"
    return f"{100 * x:.3f}%" if fine and x < 0.01 else f"{100 * x:.1f}%"


def text_table(report: dict) -> str:
    names = list(report["proxies"])
    classes = report["classes"]
    w = max(16, *(len(n) for n in names))
    out = [f"{'class':<20} {'n':>6}  " + "  ".join(f"{n:>{w}}" for n in names)]
    for c in classes:
        what = "FPR" if c in ("benign", BENIGN2) else "recall"
        cells = []
        for n in names:
            row = report["proxies"][n]["classes"].get(c)
            cell = pct(row["rate"], fine=what == "FPR") if row else "—"
            if row and row["errors"]:
                cell += f" ({row['errors']} err)"
            cells.append(f"{cell:>{w}}")
        out.append(f"{c + ' ' + what:<20} {report['n'][c]:>6}  " + "  ".join(cells))
    micro = [report["proxies"][n]["attack_micro"] for n in names]
    out.append(
        f"{'attacks recall':<20} {micro[0]['n']:>6}  "
        + "  ".join(f"{pct(m['rate']):>{w}}" for m in micro)
    )
    out.append(
        f"{'requests/s':<20} {'':>6}  "
        + "  ".join(f"{report['proxies'][n]['rps']:>{w}.0f}" for n in names)
    )
    out.append("")
    for n in names:
        p = report["proxies"][n]
        blocked = sum(r["blocked"] for r in p["classes"].values())
        b403 = sum(r["blocked_403"] for r in p["classes"].values())
        other = collections.Counter()
        errs = collections.Counter()
        for r in p["classes"].values():
            other.update(r["blocked_other"])
            errs.update(r["error_kinds"])
        line = (
            f"{n}: {p['seconds']:.1f}s for {p['sent']} requests, "
            f"started in {p['start_seconds']:.1f}s; "
            f"blocked {blocked} = {b403} x 403"
        )
        if other:
            line += " + " + ", ".join(f"{v} x {k}" for k, v in sorted(other.items()))
        if errs:
            line += "; errors: " + ", ".join(f"{v} x {k}" for k, v in errs.most_common())
        out.append(line)
        for rule in p.get("benign_rules", [])[:6]:
            out.append(
                f"    benign blocked, rule {rule['id']} matched in {rule['requests']}: "
                f"{rule['msg']}"
            )
    if report["skipped"]:
        out.append(skipped_text(report["skipped"]))
    return "\n".join(out)


def markdown(report: dict) -> str:
    names = list(report["proxies"])
    out = [
        "| class | n | " + " | ".join(TITLES.get(n, n) for n in names) + " |",
        "|---|---:|" + "---:|" * len(names),
    ]
    for c in report["classes"]:
        what = "FPR" if c in ("benign", BENIGN2) else "recall"
        cells = []
        for n in names:
            row = report["proxies"][n]["classes"].get(c)
            cell = pct(row["rate"], fine=what == "FPR") if row else "—"
            if row and row["errors"]:
                cell += f" ({row['errors']} errors)"
            cells.append(cell)
        label = f"**{c}** ({what})" if c in ("benign", BENIGN2) else f"{c} ({what})"
        out.append(f"| {label} | {report['n'][c]} | " + " | ".join(cells) + " |")
    micro = [report["proxies"][n]["attack_micro"] for n in names]
    out.append(
        f"| **all attacks** (recall, micro) | {micro[0]['n']} | "
        + " | ".join(f"**{pct(m['rate'])}**" for m in micro)
        + " |"
    )
    out.append(
        "| requests/s during the run | | "
        + " | ".join(f"{report['proxies'][n]['rps']:.0f}" for n in names)
        + " |"
    )
    blocks = []
    for n in names:
        rows = report["proxies"][n]["classes"].values()
        b403 = sum(r["blocked_403"] for r in rows)
        other = sum(sum(r["blocked_other"].values()) for r in rows)
        blocks.append(f"{b403} / {other}")
    out.append("| blocked: 403 / other status | | " + " | ".join(blocks) + " |")
    v = report["versions"]
    for n in names:
        rules = report["proxies"][n].get("benign_rules")
        if rules:
            title = (
                f"{TITLES.get(n, n)}: CRS rules matched in the blocked benign requests "
                "(requests per rule; a request can match several):"
            )
            out += ["", title, ""]
            out += [f"- {r['id']} {r['msg']}: {r['requests']}" for r in rules[:8]]
    versions_line = (
        f"Versions: Envoy {v['envoy']}; apiward.wasm sha256 {v['apiward_wasm_sha256'][:12]} "
        f"(model onnx sha256 {v['apiward_model_onnx_sha256'][:12]}); "
        f"{v['nginx']}; libnginx-mod-http-modsecurity {v['libnginx-mod-http-modsecurity']}; "
        f"libmodsecurity3 {v['libmodsecurity3']}; modsecurity-crs {v['modsecurity-crs']}; "
        f"{v['host']}."
    )
    out += ["", versions_line, "", f"Command: `{report['command']}`"]
    if report["skipped"]:
        out += ["", skipped_text(report["skipped"]) + " (see bench/README.md)."]
    return "\n".join(out)


def rel(path: Path | str) -> str:
    """A path relative to the repository when it is inside it (for the report)."""
    p = Path(path).resolve()
    return str(p.relative_to(REPO)) if p.is_relative_to(REPO) else str(path)


def file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def versions(module: Path, files: ModsecFiles | None, corpora: list[Path]) -> dict:
    def run(cmd: list[str]) -> str:
        try:
            p = subprocess.run(cmd, check=False, capture_output=True, text=True, timeout=60)
            return (p.stdout + p.stderr).strip()
        except (OSError, subprocess.TimeoutExpired):
            return "unknown"

    try:
        envoy = run([harness.envoy_binary(), "--version"])
    except harness.HarnessError:
        envoy = "not found"
    m = re.search(r"version: \S+?/([\d.]+)/", envoy)
    wasm = module.read_bytes()
    # the model metadata compiled into the module names its ONNX file's hash
    model = re.search(rb'"onnx_sha256":\s*"([0-9a-f]{64})"', wasm)
    out = {
        "envoy": m.group(1) if m else envoy,
        "apiward_wasm_sha256": hashlib.sha256(wasm).hexdigest(),
        "apiward_model_onnx_sha256": model.group(1).decode() if model else "unknown",
        "corpus_sha256": {rel(p): file_sha256(p) for p in corpora},
        "nginx": run([files.nginx, "-v"]).replace("nginx version: ", "") if files else "n/a",
        "host": f"{platform.system()} {platform.machine()}, {os.cpu_count()} CPUs",
    }
    for pkg in ("libnginx-mod-http-modsecurity", "libmodsecurity3", "modsecurity-crs"):
        out[pkg] = dpkg_version(pkg)
    return out


# ---------------------------------------------------------------------------------------------


def main() -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    ap.add_argument(
        "--second-benign", type=Path, help="a second all-benign JSONL; its FPR is a row"
    )
    ap.add_argument(
        "--second-name",
        default="second set",
        help="what the second benign set is, for its row: benign (NAME)",
    )
    ap.add_argument("--limit-benign", type=int, help="sample this many benign requests")
    ap.add_argument(
        "--limit-per-class", type=int, help="sample this many requests per attack class"
    )
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--proxies", default=",".join(PROXIES), help=f"subset of {','.join(PROXIES)}")
    ap.add_argument("--concurrency", type=int, default=4, help="client threads per proxy")
    ap.add_argument(
        "--modsec-concurrency", type=int, help="client threads for nginx (default: --concurrency)"
    )
    ap.add_argument(
        "--workers", type=int, default=2, help="Envoy --concurrency and nginx worker_processes"
    )
    ap.add_argument("--timeout", type=float, default=15.0, help="per request, seconds")
    ap.add_argument(
        "--host", default="api.example.com", help="Host header when the record has none"
    )
    ap.add_argument(
        "--unsendable",
        choices=["skip", "send"],
        default="skip",
        help="records no HTTP/1.1 client would send (CR/LF/NUL in a header; space or # "
        "in the target): skip (default) or send the raw bytes anyway",
    )
    ap.add_argument("--module", type=Path, default=harness.DEFAULT_MODULE)
    ap.add_argument("--out", type=Path, help="write the results as JSON")
    ap.add_argument(
        "--outcomes",
        type=Path,
        help="write every request's outcome per proxy as JSONL (corpus line, label, status, passed)",
    )
    ap.add_argument("--markdown", action="store_true", help="also print a Markdown table")
    ap.add_argument("--keep-workdir", action="store_true")
    args = ap.parse_args()
    global BENIGN2
    BENIGN2 = f"benign ({args.second_name})"

    proxies = [p.strip() for p in args.proxies.split(",") if p.strip()]
    if unknown := [p for p in proxies if p not in PROXIES]:
        ap.error(f"unknown proxies: {unknown}")
    if not args.corpus.is_file():
        ap.error(f"corpus not found: {args.corpus} (make model builds it)")
    if not args.module.is_file():
        ap.error(f"wasm module not found: {args.module} (make wasm)")

    if args.outcomes:
        args.outcomes.write_text("")
    recs = load(args.corpus, args.limit_benign, args.limit_per_class, args.seed)
    second = []
    if args.second_benign:
        second = load(args.second_benign, args.limit_benign, None, args.seed, force_label="benign")
    reqs: list[Req] = []
    skipped: dict[str, collections.Counter] = collections.defaultdict(collections.Counter)
    for rec, is_second in [(r, False) for r in recs] + [(r, True) for r in second]:
        why = unsendable(rec)
        if why and args.unsendable == "skip":
            skipped[why][BENIGN2 if is_second else rec["label"]] += 1
            continue
        req = encode(rec, args.host)
        req.second = is_second
        reqs.append(req)
    n = collections.Counter(BENIGN2 if r.second else r.label for r in reqs)
    classes = class_order(set(n))
    print(
        f"corpus: {rel(args.corpus)} -> {len(reqs)} requests "
        + ", ".join(f"{c} {n[c]}" for c in classes)
        + (f"; {skipped_text(skipped)}" if skipped else ""),
        file=sys.stderr,
    )

    try:
        files = find_modsec() if any(p.startswith("modsec") for p in proxies) else None
    except BenchError as exc:
        print(f"bench/detect.py: {exc}", file=sys.stderr)
        return 2
    workdir = Path(tempfile.mkdtemp(prefix="apiward-detect-"))
    # SIGTERM / SIGHUP unwind like Ctrl-C, so the finally blocks stop the children.
    for sig in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, lambda signum, _frame: sys.exit(128 + signum))

    report = {
        "corpus": rel(args.corpus),
        "second_benign": rel(args.second_benign) if args.second_benign else "",
        "seed": args.seed,
        "limits": {"benign": args.limit_benign, "per_class": args.limit_per_class},
        "concurrency": args.concurrency,
        "workers": args.workers,
        "n": dict(n),
        "classes": classes,
        "skipped": {k: dict(v) for k, v in skipped.items()},
        "proxies": {},
    }
    upstream = None
    running: list = []  # proxies to stop whatever happens
    total_started = time.monotonic()
    try:
        upstream, up_port = start_upstream(workdir)
        for name in proxies:
            pdir = workdir / name
            pdir.mkdir()
            t0 = time.monotonic()
            conc = args.concurrency
            if name == "apiward":
                proxy = harness.Envoy(
                    plugin_config=APIWARD_CONFIG,
                    upstream_port=up_port,
                    module=args.module,
                    concurrency=args.workers,
                    log_level="warning",
                    workdir=pdir,
                )
                running.append(proxy)
                proxy.start(timeout=180)
                port = proxy.listen_port
            else:
                proxy = Nginx(
                    files,
                    up_port,
                    pdir,
                    paranoia=2 if name == "modsec-pl2" else 1,
                    rest=name.endswith("-rest"),
                    workers=args.workers,
                )
                running.append(proxy)
                proxy.start()
                port = proxy.port
                conc = args.modsec_concurrency or conc
            start_s = time.monotonic() - t0
            print(
                f"{name}: ready in {start_s:.1f}s on :{port}, sending {len(reqs)} requests "
                f"with {conc} threads",
                file=sys.stderr,
            )
            outcomes, seconds = run_corpus(port, reqs, conc, args.timeout, name)
            proxy.stop()
            if args.outcomes:
                with open(args.outcomes, "a", encoding="utf-8") as f:
                    for req, out in zip(reqs, outcomes, strict=True):
                        f.write(json.dumps({"proxy": name, "origin": req.origin, "label": req.label,
                                            "status": out.status, "passed": out.passed,
                                            "error": out.error}) + "\n")
            rows = summarize(reqs, outcomes)
            report["proxies"][name] = {
                "start_seconds": start_s,
                "seconds": seconds,
                "sent": len(reqs),
                "rps": len(reqs) / seconds,
                "concurrency": conc,
                "classes": rows,
                "attack_micro": attack_micro(rows),
            }
            if isinstance(proxy, Nginx):
                audit = blocked_rules(proxy.audit_log)
                report["proxies"][name]["benign_rules"] = top_rules(reqs, outcomes, audit, True)
                report["proxies"][name]["attack_rules"] = top_rules(reqs, outcomes, audit, False)
            print(f"{name}: {seconds:.1f}s, {len(reqs) / seconds:.0f} requests/s", file=sys.stderr)
    except (BenchError, harness.HarnessError) as exc:
        print(f"bench/detect.py: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    finally:
        for proxy in running:
            proxy.stop()
        stop_proc(upstream)
        if not args.keep_workdir:
            shutil.rmtree(workdir, ignore_errors=True)
        else:
            print(f"workdir kept: {workdir}", file=sys.stderr)

    argv = [rel(sys.argv[0])] + [rel(a) if Path(a).is_absolute() else a for a in sys.argv[1:]]
    report["command"] = "python " + " ".join(shlex.quote(a) for a in argv)
    report["versions"] = versions(
        args.module, files, [args.corpus] + ([args.second_benign] if args.second_benign else [])
    )
    report["total_seconds"] = time.monotonic() - total_started
    print(text_table(report))
    print(f"total wall-clock: {report['total_seconds']:.0f}s")
    if args.markdown:
        print()
        print(markdown(report))
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(report, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
