#!/usr/bin/env python3
"""`make bench-sqlmap`: sqlmap against a deliberately injectable API, through each proxy.

bench/sqlmap_target.py (Python stdlib + SQLite, loopback only, a test target that concatenates
SQL) serves four injectable inputs: a query parameter (integer), a JSON body field (string), a
path segment (integer) and a cookie (string). Its table `secrets` holds a canary generated per
run. sqlmap (from PyPI, pinned in bench/requirements-sqlmap.txt) attacks each input through each
proxy, without and with tamper scripts:

  envoy              plain Envoy (envoy/envoy.yaml without the filter): the control. sqlmap must
                     confirm the injection and dump the canary on every input without tamper,
                     otherwise the harness is broken and the run fails.
  apiward            Envoy + apiward, {"mode":"enforce","behaviour":{"enabled":false}}: the
                     model's verdict on each request.
  apiward-behaviour  Envoy + apiward, enforce with behaviour at its shipped defaults (the third
                     model deny from a client within 600 s blocks it for 600 s; rate floors
                     throttle). Each sqlmap run is a new client: it sends its own
                     X-Forwarded-For address (TEST-NET-2) and the configuration trusts one hop,
                     so one run's block does not carry into the next.
  modsec-pl1         nginx + ModSecurity v3 + stock OWASP CRS, paranoia level 1, configured as
                     bench/detect.py configures it.

Scored per run, objectively: injection confirmed (sqlmap printed the injection points it
identified, with their techniques and payloads); data dumped (the canary is in sqlmap's output or
dump files); the requests sqlmap sent (its traffic log, -t), how many reached the target (the
target's counter, read directly) and which responses lacked the target's marker header (blocked,
by status); and per technique (boolean, error, UNION, time, by the payload's shape) the probes sent
and passed. Everything listens on 127.0.0.1 on free ports; child processes are stopped by PID on
exit, Ctrl-C or SIGTERM; the work directory is removed unless --keep-workdir.
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import re
import secrets
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.parse
from dataclasses import dataclass, field
from pathlib import Path

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
sys.path.insert(0, str(REPO / "examples"))
sys.path.insert(0, str(BENCH))

import detect  # noqa: E402
import harness  # noqa: E402
from perf import PlainEnvoy  # noqa: E402

MARKER = "x-sqlmap-target"
PROXIES = ["envoy", "apiward", "apiward-behaviour", "modsec-pl1"]
TITLES = {
    "envoy": "plain Envoy (control)",
    "apiward": "apiward enforce, behaviour off",
    "apiward-behaviour": "apiward enforce, behaviour on (default)",
    "modsec-pl1": "ModSecurity CRS PL1",
}
APIWARD_CONFIGS = {
    "apiward": {"mode": "enforce", "behaviour": {"enabled": False}},
    # The shipped defaults, with one trusted X-Forwarded-For hop so that each sqlmap run is its
    # own client (its own address in X-Forwarded-For).
    "apiward-behaviour": {"mode": "enforce", "client_identity": {"trusted_xff_hops": 1}},
}

# Where APIs take input: sqlmap arguments per location ({base} = http://127.0.0.1:PORT).
LOCATIONS = {
    "query": ("GET /api/items?id=1 (query, integer)", ["-u", "{base}/api/items?id=1", "-p", "id"]),
    "json": (
        'POST /api/search {"name": "widget"} (JSON field, string)',
        ["-u", "{base}/api/search", "--data", '{"name":"widget*"}'],
    ),
    "path": ("GET /api/users/1 (path segment, integer)", ["-u", "{base}/api/users/1*"]),
    "cookie": (
        "GET /api/orders, Cookie tenant=acme (cookie, string)",
        ["-u", "{base}/api/orders?view=list", "--cookie", "tenant=acme", "-p", "tenant"],
    ),
}
# Tamper sets: none, the issue's, and common generic ones that keep SQLite syntax valid.
TAMPERS = {
    "none": "",
    "issue10": "space2dash,equaltolike,commentbeforeparentheses,lowercase",
    "between": "between,randomcase,space2comment",
    "charencode": "charencode",
    "blank": "space2randomblank,multiplespaces,uppercase",
}
QUICK = {"locations": "query,json", "tampers": "none,issue10"}
USER_AGENT = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"
TECHNIQUE_LETTER = {
    "boolean-based blind": "B",
    "error-based": "E",
    "UNION query": "U",
    "time-based blind": "T",
    "stacked queries": "S",
    "inline query": "Q",
}
PROBE_KINDS = ["boolean", "error", "union", "time", "other"]


class BenchError(RuntimeError):
    pass


# ---------------------------------------------------------------------------------------------
# Processes


@dataclass
class Target:
    workdir: Path
    secret: str
    proc: subprocess.Popen | None = None
    port: int = 0

    def start(self, max_seconds: float, timeout: float = 15) -> None:
        log = self.workdir / "target.log"
        with open(log, "wb") as out:
            self.proc = subprocess.Popen(
                [
                    sys.executable,
                    str(BENCH / "sqlmap_target.py"),
                    "--db",
                    str(self.workdir / "target.sqlite"),
                    "--secret",
                    self.secret,
                    "--max-seconds",
                    str(int(max_seconds)),
                ],
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            text = log.read_text(errors="replace")
            m = re.search(r"listening on http://127\.0\.0\.1:(\d+)", text)
            if m:
                self.port = int(m.group(1))
                return
            if self.proc.poll() is not None:
                break
            time.sleep(0.05)
        self.stop()
        raise BenchError(f"target did not start:\n{log.read_text(errors='replace')}")

    def stats(self) -> dict:
        return harness.http_get(self.port, "/__target/stats", timeout=5).json()

    def reset(self) -> None:
        harness.request(self.port, "POST", "/__target/reset", body=b"", timeout=5)

    def stop(self) -> None:
        detect.stop_proc(self.proc)


@dataclass
class Proxy:
    name: str
    port: int = 0
    envoy: harness.Envoy | None = None
    nginx: detect.Nginx | None = None

    def stop(self) -> None:
        if self.envoy is not None:
            self.envoy.stop()
        if self.nginx is not None:
            self.nginx.stop()

    def decisions(self) -> dict[str, float]:
        """apiward_decisions_total by action (apiward proxies only)."""
        if self.envoy is None or self.name == "envoy":
            return {}
        samples = harness.prometheus_samples(self.envoy.stats_prometheus(), "apiward_decisions")
        out = {}
        for series, value in samples.items():
            m = re.search(r'action="([a-z_]+)"', series)
            if m:
                out[m.group(1)] = out.get(m.group(1), 0) + value
        return out


def start_proxy(name: str, args, target_port: int, workdir: Path, files) -> Proxy:
    pdir = workdir / name
    pdir.mkdir()
    proxy = Proxy(name)
    if name == "modsec-pl1":
        proxy.nginx = detect.Nginx(files, target_port, pdir, paranoia=1, rest=False, workers=2)
        proxy.nginx.start()
        proxy.port = proxy.nginx.port
        return proxy
    cls = PlainEnvoy if name == "envoy" else harness.Envoy
    proxy.envoy = cls(
        plugin_config=APIWARD_CONFIGS.get(name, {"mode": "monitor"}),
        upstream_port=target_port,
        module=args.module,
        concurrency=2,
        log_level="warning",
        workdir=pdir,
    )
    try:
        proxy.envoy.start(timeout=180)
    except BaseException:
        proxy.envoy.stop()
        raise
    proxy.port = proxy.envoy.listen_port
    return proxy


# ---------------------------------------------------------------------------------------------
# One sqlmap run


def sqlmap_binary() -> str:
    for c in (Path(sys.executable).parent / "sqlmap", shutil.which("sqlmap")):
        if c and Path(c).is_file() and os.access(c, os.X_OK):
            return str(c)
    raise BenchError("sqlmap not found: pip install -r bench/requirements-sqlmap.txt into .venv")


def sqlmap_command(args, location: str, tamper: str, port: int, outdir: Path, xff: str | None):
    base = f"http://127.0.0.1:{port}"
    cmd = [sqlmap_binary()] + [a.replace("{base}", base) for a in LOCATIONS[location][1]]
    cmd += [
        "--batch",
        "--dbms=SQLite",
        # only the location under test (level 3 would go on to User-Agent and Referer)
        "--skip=User-Agent,Referer,Host",
        f"--technique={args.technique}",
        f"--level={args.level}",
        f"--risk={args.risk}",
        f"--time-sec={args.time_sec}",
        f"--timeout={args.request_timeout}",
        "--retries=1",
        f"--user-agent={USER_AGENT}",
        "--flush-session",
        f"--output-dir={outdir}",
        f"-t{outdir / 'traffic.txt'}",
        "--dump",
        "-T",
        "secrets",
        "--disable-coloring",
    ]
    if TAMPERS[tamper]:
        cmd.append(f"--tamper={TAMPERS[tamper]}")
    if xff:
        cmd.append(f"--headers=X-Forwarded-For: {xff}")
    return cmd


def run_sqlmap(cmd: list[str], outdir: Path, timeout: float) -> tuple[str, float, bool]:
    log = outdir / "sqlmap.log"
    started = time.monotonic()
    timed_out = False
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            cmd,
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
            cwd=outdir,
        )
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            timed_out = True
            detect.stop_proc(proc, grace=5)
        except BaseException:
            detect.stop_proc(proc, grace=5)
            raise
    return log.read_text(errors="replace"), time.monotonic() - started, timed_out


# ---------------------------------------------------------------------------------------------
# Scoring

_SEPARATOR = re.compile(r"^#{20,}$", re.M)
_REQ = re.compile(r"HTTP request \[#(\d+)\]:\n(.*?)(?=\nHTTP response \[#\d+\]|\Z)", re.S)
_RESP = re.compile(r"HTTP response \[#\d+\] \((\d+)[^)]*\):\n(.*?)(?:\nURI: |\Z)", re.S)


@dataclass
class Probe:
    text: str  # request line + body, as sent
    status: int  # 0 = no response
    passed: bool  # the response carries the target's marker


def parse_traffic(path: Path) -> list[Probe]:
    if not path.is_file():
        return []
    probes = []
    for chunk in _SEPARATOR.split(path.read_text(errors="replace")):
        req = _REQ.search(chunk)
        if not req:
            continue
        raw = req.group(2)
        line = raw.split("\n", 1)[0]
        body = raw.split("\n\n", 1)[1].strip() if "\n\n" in raw else ""
        headers = raw.split("\n\n", 1)[0].split("\n")[1:]
        cookie = next(
            (h.split(":", 1)[1].strip() for h in headers if h.lower().startswith("cookie:")), ""
        )
        resp = _RESP.search(chunk)
        status, passed = 0, False
        if resp:
            status = int(resp.group(1))
            passed = any(
                h.split(":", 1)[0].strip().lower() == MARKER for h in resp.group(2).split("\n")
            )
        probes.append(Probe(f"{line}\n{cookie}\n{body}", status, passed))
    return probes


def normalize(text: str) -> str:
    """The payload as SQLite reads it, roughly: percent-decoding twice (charencode), comments and
    odd blanks as spaces (space2dash, space2comment, space2randomblank), lower case."""
    t = urllib.parse.unquote_plus(urllib.parse.unquote(text))
    t = re.sub(r"--[^\n]*\n", " ", t)
    t = t.replace("/**/", " ")
    t = re.sub(r"\s+", " ", t)
    return t.lower()


def probe_kind(text: str) -> str:
    t = normalize(text)
    if "xp_cmdshell" in t:
        return "other"  # sqlmap's WAF-detection probe
    if "randomblob" in t:
        return "time"
    if "json_extract" in t:
        return "error"
    if "union" in t or "order by" in t:
        return "union"
    if re.search(r"\b(and|or)\b", t):
        return "boolean"
    return "other"  # the baseline, heuristics (random characters), dynamicity checks


def extraction(text: str) -> bool:
    t = normalize(text)
    return "secrets" in t or "sqlite_master" in t


def score(log: str, outdir: Path, secret: str, probes: list[Probe]) -> dict:
    found = re.search(
        r"identified the following injection point\(s\)(.*?)\n---\n(.*?)\n---", log, re.S
    )
    types, payloads = [], []
    if found:
        point = r"^\s+Type: (.+)$\n^\s+Title: (.+)$\n^\s+Payload: (.+)$"
        for m in re.finditer(point, found.group(2), re.M):
            kind, title, payload = (g.strip() for g in m.groups())
            types.append(kind)
            payloads.append({"type": kind, "title": title, "payload": payload})
    dumped = secret in log
    if not dumped:
        for f in outdir.rglob("*.csv"):
            if secret in f.read_text(errors="replace"):
                dumped = True
    kinds = {k: {"sent": 0, "passed": 0} for k in PROBE_KINDS}
    extract = {"sent": 0, "passed": 0}
    statuses: collections.Counter = collections.Counter()
    samples: dict[str, list[str]] = collections.defaultdict(list)
    for p in probes:
        k = probe_kind(p.text)
        kinds[k]["sent"] += 1
        kinds[k]["passed"] += p.passed
        if extraction(p.text):
            extract["sent"] += 1
            extract["passed"] += p.passed
        if not p.passed:
            statuses[str(p.status) if p.status else "no response"] += 1
        elif k != "other" and len(samples[k]) < 3:
            samples[k].append(p.text.strip()[:600])
    criticals = [m.strip() for m in re.findall(r"\[CRITICAL\] (.+)", log)][:3]
    return {
        "confirmed": bool(found),
        "techniques": types,
        "letters": "".join(TECHNIQUE_LETTER.get(t, "?") for t in types),
        "payloads": payloads,
        "dumped": dumped,
        "sent": len(probes),
        "passed": sum(p.passed for p in probes),
        "blocked": sum(1 for p in probes if p.status and not p.passed),
        "no_response": sum(1 for p in probes if not p.status),
        "blocked_by_status": dict(statuses),
        "by_technique": kinds,
        "extraction": extract,
        "passed_samples": dict(samples),
        "waf_detected": "protected by some kind of WAF/IPS" in log,
        "critical": criticals,
    }


# ---------------------------------------------------------------------------------------------
# Report


def letters(runs: list[dict]) -> str:
    """The techniques confirmed in any of the runs, in sqlmap's order (B E U T ...)."""
    seen = {c for r in runs for c in r["letters"]}
    return "".join(c for c in "BEUTSQ?" if c in seen)


def cell(runs: list[dict]) -> str:
    """confirmed techniques (and in how many runs), dumps, blocked / sent over the runs."""
    n = len(runs)
    confirmed = sum(r["confirmed"] for r in runs)
    dumped = sum(r["dumped"] for r in runs)
    of = (lambda k: f" {k}/{n}") if n > 1 else (lambda k: "")
    what = f"**{letters(runs)}**{of(confirmed)}" if confirmed else f"no{of(0)}"
    if dumped:
        what += f" + dump{of(dumped)}"
    out = f"{what} · {sum(r['blocked'] for r in runs)}/{sum(r['sent'] for r in runs)}"
    if timeouts := sum(bool(r.get("timed_out")) for r in runs):
        out += f" ({timeouts} timed out)"
    return out


def markdown(report: dict) -> str:
    names = report["proxies"]
    out = [
        "| location | tamper | " + " | ".join(TITLES[n] for n in names) + " |",
        "|---|---|" + "---|" * len(names),
    ]
    for loc in report["locations"]:
        for tamper in report["tampers"]:
            cells = [cell(report["runs"][n][loc][tamper]) for n in names]
            out.append(f"| {loc} | {tamper} | " + " | ".join(cells) + " |")
    out += [
        "",
        "Cell: the techniques sqlmap confirmed (B boolean-blind, E error-based, U UNION, T "
        "time-based; `no` = no injection point confirmed) and in how many of the runs, `+ dump` "
        "when the canary from table `secrets` is in its dump, then blocked / sent requests over "
        "the runs (responses without the target's marker / requests in sqlmap's traffic log). "
        "Runs per cell: "
        + ", ".join(f"{TITLES[n]} {report['repeats'][n]}" for n in names)
        + ".",
        "",
        "Tamper sets: "
        + "; ".join(f"{k} = `{v or '(none)'}`" for k, v in report["tamper_sets"].items())
        + ".",
        "",
        "Probes that reached the target, by technique (passed / sent, all locations):",
        "",
        "| proxy | tamper | boolean | error | union | time | other | data extraction |",
        "|---|---|---:|---:|---:|---:|---:|---:|",
    ]
    for n in names:
        if n == "envoy":
            continue
        for tamper in report["tampers"]:
            agg = {k: [0, 0] for k in PROBE_KINDS + ["extraction"]}
            for r in (r for loc in report["locations"] for r in report["runs"][n][loc][tamper]):
                for k in PROBE_KINDS:
                    agg[k][0] += r["by_technique"][k]["passed"]
                    agg[k][1] += r["by_technique"][k]["sent"]
                agg["extraction"][0] += r["extraction"]["passed"]
                agg["extraction"][1] += r["extraction"]["sent"]
            out.append(
                f"| {n} | {tamper} | "
                + " | ".join(f"{a}/{b}" for a, b in agg.values())
                + " |"
            )
    v = report["versions"]
    out += [
        "",
        f"Versions: sqlmap {v['sqlmap']}; Envoy {v['envoy']}; apiward.wasm sha256 "
        f"{v['apiward_wasm_sha256'][:12]} "
        f"(model onnx sha256 {v['apiward_model_onnx_sha256'][:12]}); "
        f"{v['nginx']}; libmodsecurity3 {v['libmodsecurity3']}; modsecurity-crs "
        f"{v['modsecurity-crs']}; {v['host']}. sqlmap options: `{report['sqlmap_options']}`.",
        "",
        f"Command: `{report['command']}` ({report['total_seconds'] / 60:.1f} minutes)",
    ]
    return "\n".join(out)


def text_table(report: dict) -> str:
    names = report["proxies"]
    rows = [["location", "tamper"] + names]
    for loc in report["locations"]:
        for tamper in report["tampers"]:
            cells = [cell(report["runs"][n][loc][tamper]).replace("**", "") for n in names]
            rows.append([loc, tamper] + cells)
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    return "\n".join("  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip() for r in rows)


# ---------------------------------------------------------------------------------------------


def main() -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--proxies", default=",".join(PROXIES), help=f"subset of {','.join(PROXIES)}")
    ap.add_argument(
        "--locations", default=",".join(LOCATIONS), help=f"subset of {','.join(LOCATIONS)}"
    )
    ap.add_argument(
        "--tampers",
        default=",".join(TAMPERS),
        help="subset of " + ", ".join(f"{k} ({v or 'no tamper'})" for k, v in TAMPERS.items()),
    )
    ap.add_argument(
        "--quick",
        action="store_true",
        help=f"locations {QUICK['locations']}, tampers {QUICK['tampers']} (about 2 minutes)",
    )
    ap.add_argument(
        "--repeats",
        type=int,
        default=3,
        help="runs per location and tamper set through --repeat-proxies (sqlmap's payloads carry "
        "random numbers and, with space2dash, random comment text: one run is one sample)",
    )
    ap.add_argument(
        "--repeat-proxies", default="apiward", help="proxies run --repeats times; others once"
    )
    ap.add_argument("--technique", default="BEUT", help="sqlmap --technique")
    ap.add_argument("--level", type=int, default=3, help="sqlmap --level (3: SQLite time-based)")
    ap.add_argument("--risk", type=int, default=2, help="sqlmap --risk (2: SQLite time-based)")
    ap.add_argument("--time-sec", type=int, default=1, help="sqlmap --time-sec")
    ap.add_argument("--request-timeout", type=int, default=10, help="sqlmap --timeout, seconds")
    ap.add_argument("--run-timeout", type=float, default=300, help="one sqlmap run, seconds")
    ap.add_argument("--module", type=Path, default=harness.DEFAULT_MODULE)
    ap.add_argument("--out", type=Path, help="write the results as JSON")
    ap.add_argument("--markdown", action="store_true", help="also print Markdown tables")
    ap.add_argument("--keep-workdir", action="store_true")
    args = ap.parse_args()
    if args.quick:
        args.locations, args.tampers = QUICK["locations"], QUICK["tampers"]

    def subset(value: str, known, what: str) -> list[str]:
        items = [x.strip() for x in value.split(",") if x.strip()]
        if bad := [x for x in items if x not in known]:
            ap.error(f"unknown {what}: {bad}")
        return items

    proxies = subset(args.proxies, PROXIES, "proxies")
    locations = subset(args.locations, LOCATIONS, "locations")
    tampers = subset(args.tampers, TAMPERS, "tampers")
    repeat_proxies = subset(args.repeat_proxies, PROXIES, "proxies")
    repeats = {n: max(1, args.repeats) if n in repeat_proxies else 1 for n in proxies}
    if any(p != "modsec-pl1" for p in proxies) and not args.module.is_file():
        ap.error(f"wasm module not found: {args.module} (make wasm)")
    try:
        sqlmap = sqlmap_binary()
        files = detect.find_modsec() if "modsec-pl1" in proxies else None
        sqlmap_version = subprocess.run(
            [sqlmap, "--version"], capture_output=True, text=True, timeout=60, check=False
        ).stdout.strip()
    except (BenchError, detect.BenchError, subprocess.TimeoutExpired) as exc:
        print(f"bench/sqlmap.py: {exc}", file=sys.stderr)
        return 2

    for sig in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, lambda signum, _frame: sys.exit(128 + signum))
    workdir = Path(tempfile.mkdtemp(prefix="apiward-sqlmap-"))
    secret = "apiward-canary-" + secrets.token_hex(8)
    report: dict = {
        "proxies": proxies,
        "locations": locations,
        "location_titles": {k: LOCATIONS[k][0] for k in locations},
        "tampers": tampers,
        "tamper_sets": {k: TAMPERS[k] for k in tampers},
        "repeats": repeats,
        "configs": {k: v for k, v in APIWARD_CONFIGS.items() if k in proxies},
        "runs": {},
    }
    sample = sqlmap_command(args, "query", "none", 0, Path("OUT"), None)
    report["sqlmap_options"] = " ".join(
        shlex.quote(a) for a in sample[len(LOCATIONS["query"][1]) + 1 :] if "OUT" not in a
    )
    target = Target(workdir, secret)
    proxy: Proxy | None = None
    started = time.monotonic()
    total = sum(repeats.values()) * len(locations) * len(tampers)
    done = clients = 0
    try:
        target.start(max_seconds=args.run_timeout * total + 1800)
        for name in proxies:
            t0 = time.monotonic()
            proxy = start_proxy(name, args, target.port, workdir, files)
            ready = time.monotonic() - t0
            print(f"{name}: ready in {ready:.1f}s on :{proxy.port}", file=sys.stderr)
            check = harness.http_get(proxy.port, "/api/items?id=1", timeout=10)
            if check.status != 200 or MARKER not in check.headers:
                raise BenchError(f"{name}: a benign request got {check.status}, not the target")
            runs = report["runs"].setdefault(name, {})
            for loc, tamper, rep in (
                (loc, tamper, rep)
                for loc in locations
                for tamper in tampers
                for rep in range(repeats[name])
            ):
                done += 1
                outdir = workdir / "runs" / name / loc / tamper / str(rep + 1)
                outdir.mkdir(parents=True)
                xff = None
                if name == "apiward-behaviour":  # a new client per run
                    clients += 1
                    net = "198.51.100" if clients <= 250 else "203.0.113"
                    xff = f"{net}.{(clients - 1) % 250 + 1}"
                cmd = sqlmap_command(args, loc, tamper, proxy.port, outdir, xff)
                target.reset()
                before = proxy.decisions()
                log, seconds, timed_out = run_sqlmap(cmd, outdir, args.run_timeout)
                after = proxy.decisions()
                r = score(log, outdir, secret, parse_traffic(outdir / "traffic.txt"))
                r["arrived"] = target.stats()["requests"]
                r["seconds"] = round(seconds, 1)
                r["timed_out"] = timed_out
                if after:
                    r["apiward_decisions"] = {
                        k: int(after[k] - before.get(k, 0))
                        for k in after
                        if after[k] - before.get(k, 0)
                    }
                if xff:
                    r["client"] = xff
                runs.setdefault(loc, {}).setdefault(tamper, []).append(r)
                print(
                    f"[{done}/{total}] {name} {loc} {tamper}"
                    + (f" #{rep + 1}" if repeats[name] > 1 else "")
                    + ": "
                    f"{'CONFIRMED ' + r['letters'] if r['confirmed'] else 'not confirmed'}"
                    f"{', DUMPED' if r['dumped'] else ''}; sent {r['sent']}, blocked "
                    f"{r['blocked']} {r['blocked_by_status']}, arrived {r['arrived']}; "
                    f"{seconds:.0f}s{' TIMEOUT' if timed_out else ''}"
                    + (f"; apiward {r.get('apiward_decisions')}" if after else ""),
                    file=sys.stderr,
                )
            proxy.stop()
            proxy = None
    except (BenchError, detect.BenchError, harness.HarnessError, OSError) as exc:
        print(f"bench/sqlmap.py: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    finally:
        if proxy is not None:
            proxy.stop()
        target.stop()
        if args.keep_workdir:
            print(f"workdir kept: {workdir}", file=sys.stderr)
        else:
            shutil.rmtree(workdir, ignore_errors=True)

    argv = [detect.rel(sys.argv[0])] + [
        detect.rel(a) if Path(a).is_absolute() else a for a in sys.argv[1:]
    ]
    report["command"] = "python " + " ".join(shlex.quote(a) for a in argv)
    report["versions"] = detect.versions(args.module, files, [])
    report["versions"]["sqlmap"] = sqlmap_version
    report["total_seconds"] = round(time.monotonic() - started, 1)
    print(text_table(report))
    print(f"total wall-clock: {report['total_seconds'] / 60:.1f} minutes")
    if args.markdown:
        print()
        print(markdown(report))
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(report, indent=1) + "\n")

    # The control: through plain Envoy sqlmap must find and dump every input without tamper.
    if "envoy" in proxies and "none" in tampers:
        broken = [
            loc
            for loc in locations
            if not all(r["confirmed"] and r["dumped"] for r in report["runs"]["envoy"][loc]["none"])
        ]
        if broken:
            print(
                f"bench/sqlmap.py: HARNESS BROKEN: through plain Envoy sqlmap did not confirm and "
                f"dump {broken}",
                file=sys.stderr,
            )
            return 3
    return 0


if __name__ == "__main__":
    sys.exit(main())
