#!/usr/bin/env python3
"""`make bench`: throughput, latency, start-up time and memory of Envoy + apiward, side by side
with plain Envoy, plain nginx and nginx + ModSecurity v3 + OWASP CRS (paranoia level 1).

wrk -> proxy -> one upstream shared by all proxies (an nginx worker answering every request with
the same small JSON document). Everything runs on 127.0.0.1, on free ports, as child processes
that are stopped by PID on exit, Ctrl-C, SIGTERM or failure.

1. Throughput and latency, interleaved: in each round, for each payload (a GET with a query
   string, a 1 KB and a 10 KB JSON POST), every proxy in turn gets a short warm-up and then a
   measured wrk run; rounds alternate the proxy order (forward, backward, ...), so drift in the
   machine's load hits all proxies alike. Before measuring, every proxy must answer each payload
   with the upstream's 200 (and, for apiward, with the upstream having seen the filter's
   verdict); non-2xx answers and socket errors during a run are counted and flag the run.
2. Cold start: Envoy process start -> first response that apiward scored (median of several).
3. Memory: Envoy's VmRSS with the filter minus plain Envoy's, per wasm VM, after warm-up and
   after the enforce Envoy served 1 M requests (a wrk run stopped when Envoy's own request
   counter passes the count).
4. Events cost: apiward enforce with security events sent to a loopback NDJSON receiver (an
   nginx worker that accepts and discards the batches), once with the defaults (only notable
   requests become events: none of the benchmark's benign traffic) and once with
   `sample_allow: 1` (every request built, encoded as OCSF and sent: the worst case), against
   apiward enforce without events: the Envoy CPU time each adds per request.

nginx, the ModSecurity module and the CRS are found as bench/detect.py finds them (dpkg, or
BENCH_NGINX, BENCH_MODSEC_MODULE, BENCH_CRS_RULES, BENCH_CRS_SETUP); bench/install-deps.sh
installs them and wrk.
"""

from __future__ import annotations

import argparse
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
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
from dataclasses import dataclass
from pathlib import Path

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
sys.path.insert(0, str(REPO / "examples"))

import detect  # noqa: E402  (bench/ is this script's directory)
import harness  # noqa: E402

WRK_SCRIPT = BENCH / "perf.lua"
PROXY_TEMPLATE = BENCH / "perf-nginx.conf.in"
UPSTREAM_TEMPLATE = BENCH / "perf-upstream.conf.in"
# Replaced in each request by an 8-digit counter (bench/perf.lua).
VARY = "00000000"
UPSTREAM_BODY = '{"status": "ok", "request_id": "b3f1c2", "items": [], "next_page": null}'
# The upstream copies the filter's x-apiward-action request header into this response header.
VERDICT_HEADER = "x-bench-apiward-action"
ENVOY_RQ_TOTAL = "http.api_ingress.downstream_rq_total"  # stat_prefix of envoy/envoy.yaml

# All benchmark traffic comes from one address (127.0.0.1, the TCP peer: envoy/envoy.yaml sets
# use_remote_address and the filter trusts no X-Forwarded-For hop). The per-client rate signal
# stays on, but its floor is raised above any rate wrk reaches on loopback, so that once a
# route is out of warm-up (600 s) the benchmark client is not throttled. Every other setting is
# the default: behaviour on, model on every request.
BEHAVIOUR = {"signals": {"rate": {"min_requests": 10_000_000}}}
# Security events to one NDJSON sink on loopback (the `bench_siem` cluster, an nginx worker);
# everything else at its default (batches of 100 events / 256 KiB, 200 ms tick, 2000-event
# buffer for the whole proxy).
SINK_CLUSTER = "bench_siem"
EVENTS = {
    "sinks": [{"type": "ndjson", "name": "siem", "cluster": SINK_CLUSTER, "path": "/events"}],
    "privacy": {"hash_key": "bench-only-pseudonym-key"},
}
PLUGIN_CONFIGS = {
    "apiward-monitor": {"mode": "monitor", "behaviour": BEHAVIOUR},
    "apiward-enforce": {"mode": "enforce", "behaviour": BEHAVIOUR},
    "apiward-events": {"mode": "enforce", "behaviour": BEHAVIOUR, "events": EVENTS},
    "apiward-events-all": {
        "mode": "enforce",
        "behaviour": BEHAVIOUR,
        "events": {**EVENTS, "sample_allow": 1.0},
    },
    # Diagnostics (not in the default run): where apiward's cost goes.
    "apiward-model": {"mode": "enforce", "behaviour": {"enabled": False}},
    "apiward-minimal": {"mode": "enforce", "behaviour": BEHAVIOUR, "annotations": "minimal"},
    "apiward-skip": {"mode": "enforce", "routes": [{"prefix": "/", "skip": True}]},
    "wasm-null-body": {"body": True},
}
# The floor: a proxy-wasm filter that reads the request headers, counts and lets go
# (bench/null-filter, built by make bench).
NULL_MODULE = BENCH / "null-filter" / "target" / "wasm32-wasip1" / "release" / "null_filter.wasm"


@dataclass(frozen=True)
class ProxyKind:
    name: str
    title: str
    server: str  # "envoy" or "nginx"
    baseline: str | None  # the same proxy without a filter
    module: str | None = None  # Envoy's Wasm filter: "apiward", "null" or none
    scores: bool = False  # the filter's verdict reaches the upstream
    default: bool = True  # part of a run without --proxies


PROXIES = [
    ProxyKind("envoy", "Envoy", "envoy", None),
    ProxyKind("wasm-null", "Envoy + null Wasm filter", "envoy", "envoy", "null"),
    ProxyKind("wasm-null-body", "Envoy + null Wasm filter reading the body", "envoy", "envoy", "null"),
    ProxyKind("apiward-monitor", "Envoy + apiward monitor", "envoy", "envoy", "apiward", True),
    ProxyKind("apiward-enforce", "Envoy + apiward enforce", "envoy", "envoy", "apiward", True),
    ProxyKind("apiward-events", "Envoy + apiward enforce, events (notable only)", "envoy", "envoy", "apiward", True),
    ProxyKind(
        "apiward-events-all", "Envoy + apiward enforce, events sample_allow 1", "envoy", "envoy", "apiward", True
    ),
    ProxyKind("apiward-model", "Envoy + apiward enforce, behaviour off", "envoy", "envoy", "apiward", True, False),
    ProxyKind(
        "apiward-minimal", "Envoy + apiward enforce, minimal annotations", "envoy", "envoy", "apiward", True, False
    ),
    ProxyKind("apiward-skip", "Envoy + apiward, every route skipped", "envoy", "envoy", "apiward", False, False),
    ProxyKind("nginx", "nginx", "nginx", None),
    ProxyKind("nginx-modsec", "nginx + ModSecurity CRS PL1", "nginx", "nginx"),
]
KINDS = {k.name: k for k in PROXIES}


class BenchError(RuntimeError):
    pass


# ---------------------------------------------------------------------------------------------
# Payloads: an authenticated client of an orders API. Bodies are built deterministically.

CLIENT_HEADERS = {
    # A name, not 127.0.0.1:port: CRS rule 920350 flags a numeric Host (a warning that writes
    # every request to ModSecurity's audit log).
    "Host": "api.example.com",
    "Accept": "application/json",
    "User-Agent": "orders-client/2.3.1 (python-requests/2.31.0)",
    "Authorization": "Bearer 7f3c9a1e5b2d4c6f8a0e1d3b5c7a9e2f",
}
FIRST_NAMES = ["Ada", "Grace", "Alan", "Katherine", "Linus", "Margaret", "Dennis", "Barbara"]
LAST_NAMES = ["Lovelace", "Hopper", "Turing", "Johnson", "Torvalds", "Hamilton", "Ritchie"]
CITIES = [("Lyon", "69002", "FR"), ("Leeds", "LS1 4DY", "GB"), ("Porto", "4050-262", "PT")]
STREETS = ["Harbour Street", "Rue de la Republique", "Market Lane", "Station Road"]
PRODUCTS = [
    ("Garden hose", "garden"),
    ("Desk lamp", "home"),
    ("Trail running shoes", "sport"),
    ("Espresso cups", "kitchen"),
    ("Rain jacket", "outdoor"),
    ("Notebook", "office"),
    ("Cast iron pan", "kitchen"),
]
COLOURS = ["blue", "green", "charcoal", "sand", "red", "white"]
NOTE_WORDS = (
    "please leave the parcel with the neighbour at number twelve if nobody is at home and "
    "ring the bell twice before leaving a card in the letter box thank you"
).split()


@dataclass
class Payload:
    """One benchmark request. wrk replaces the VARY placeholder in the path and in the body with
    a counter, so that no two requests are the same."""

    name: str
    title: str
    method: str
    path: str
    headers: dict[str, str]
    body: bytes | None = None
    body_file: Path | None = None

    def describe(self) -> dict:
        out = {"title": self.title, "method": self.method, "path": self.path, "varies": VARY}
        out["headers"] = self.headers
        if self.body is not None:
            out["body_bytes"] = len(self.body)
            out["body_sha256"] = hashlib.sha256(self.body).hexdigest()
        return out


def order_item(rng: random.Random, line: int) -> dict:
    name, category = rng.choice(PRODUCTS)
    colour = rng.choice(COLOURS)
    return {
        "line": line,
        "sku": f"{category[:3].upper()}-{rng.randrange(10000, 99999)}",
        "name": f"{name}, {colour}",
        "quantity": rng.randrange(1, 6),
        "unit_price": {"amount": round(rng.uniform(3, 180), 2), "currency": "EUR"},
        "attributes": {
            "colour": colour,
            "size": rng.choice(["S", "M", "L", "XL"]),
            "gift_wrap": rng.random() < 0.2,
        },
        "tags": [category, rng.choice(["new", "sale", "bestseller", "eco"])],
    }


def note_text(rng: random.Random, length: int) -> str:
    words: list[str] = []
    while len(" ".join(words)) < length:
        words.append(rng.choice(NOTE_WORDS))
    text = " ".join(words)[:length]
    return text[:-1] + "s" if text.endswith(" ") else text


def order_document(size: int, seed: int) -> bytes:
    """A JSON order of exactly `size` bytes: customer, address, as many items as fit, and a
    delivery note that fills the rest."""
    rng = random.Random(seed)
    first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
    city, postcode, country = rng.choice(CITIES)
    doc: dict = {
        "order_reference": f"PO-2024-{rng.randrange(100000, 999999)}",
        "created_at": "2024-05-14T09:21:37Z",
        "customer": {
            "id": 48213,
            "name": f"{first} {last}",
            "email": f"{first}.{last}@example.com".lower(),
            "loyalty_tier": "gold",
            "marketing_opt_in": False,
        },
        "shipping": {
            "method": "standard",
            "address": {
                "line1": f"{rng.randrange(1, 200)} {rng.choice(STREETS)}",
                "city": city,
                "postal_code": postcode,
                "country": country,
            },
        },
        "items": [],
        "payment": {"method": "card", "card_last4": "4242", "captured": True},
        "note": "",
    }

    def size_of() -> int:
        return len(json.dumps(doc).encode())

    while size_of() <= size:
        doc["items"].append(order_item(rng, len(doc["items"]) + 1))
    doc["items"].pop()
    if not doc["items"]:
        raise ValueError(f"{size} bytes is too small for an order")
    # Every request's note differs (wrk writes a counter over VARY), as free text does in real
    # traffic: a benchmark of one repeated body would measure apiward's score cache alone.
    doc["note"] = f"ref {VARY} "
    doc["note"] += note_text(rng, size - size_of())
    data = json.dumps(doc).encode()
    assert len(data) == size, (len(data), size)
    return data


def build_payloads(workdir: Path) -> list[Payload]:
    json_headers = {**CLIENT_HEADERS, "Content-Type": "application/json"}
    payloads = [
        Payload(
            "get",
            "GET, query string",
            "GET",
            "/api/v1/customers/48213/orders?status=shipped&created_after=2024-05-01"
            f"&page=2&per_page=50&sort=-created_at&q=blue%20garden%20hose&ref={VARY}",
            dict(CLIENT_HEADERS),
        ),
        Payload(
            "post-1k",
            "POST 1 KB JSON",
            "POST",
            "/api/v1/customers/48213/orders",
            json_headers,
            order_document(1024, seed=1),
        ),
        Payload(
            "post-10k",
            "POST 10 KB JSON",
            "POST",
            "/api/v1/orders/import",
            json_headers,
            order_document(10240, seed=2),
        ),
    ]
    for p in payloads:
        if p.body is not None:
            p.body_file = workdir / f"{p.name}.json"
            p.body_file.write_bytes(p.body)
    return payloads


# ---------------------------------------------------------------------------------------------
# Processes


@dataclass
class NginxInstance:
    """nginx (master + workers) from a template in bench/, as a child process."""

    name: str
    binary: str
    template: Path
    values: dict[str, str]
    workdir: Path
    port: int = 0
    proc: subprocess.Popen | None = None

    def start(self, timeout: float = 30) -> NginxInstance:
        try:
            self._start(timeout)
        except BaseException:
            self.stop()
            raise
        return self

    def _start(self, timeout: float) -> None:
        for sub in ("tmp", "modsecurity"):
            (self.workdir / sub).mkdir(parents=True, exist_ok=True)
        for _ in range(3):  # the chosen port may be taken between choice and bind
            self.port = harness.free_port()
            self._write_conf()
            with open(self.workdir / "nginx.out", "wb") as out:
                self.proc = subprocess.Popen(
                    [
                        self.binary,
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
                    harness.request(self.port, "GET", "/", timeout=2)
                    return
                except (OSError, http.client.HTTPException):
                    time.sleep(0.05)
            self.stop()
            if "Address already in use" not in self.log():
                break
        raise BenchError(f"{self.name}: nginx did not start:\n{self.log()[-4000:]}")

    def _write_conf(self) -> None:
        user = f"user {pwd.getpwuid(0).pw_name};" if os.geteuid() == 0 else ""
        text = self.template.read_text()
        values = {
            **self.values,
            "USER_DIRECTIVE": user,  # as root, workers would otherwise switch to `nobody`
            "PREFIX": str(self.workdir),
            "PORT": str(self.port),
        }
        for key, value in values.items():
            text = text.replace(f"@{key}@", value)
        if m := re.search(r"^[^#\n]*(@[A-Z_]+@)", text, flags=re.M):
            raise BenchError(f"{self.template}: no value for {m.group(1)}")
        (self.workdir / "nginx.conf").write_text(text)

    def log(self) -> str:
        text = ""
        for name in ("nginx.out", "error.log"):
            try:
                text += (self.workdir / name).read_text(errors="replace")
            except FileNotFoundError:
                pass
        return text

    def audit_entries(self) -> collections.Counter:
        """Transactions in ModSecurity's audit log (JSON, one a line): "rule matched" (and per
        rule id) and "status only" (and per status), since the log also takes answers with a
        4xx/5xx status on which no rule matched."""
        counts: collections.Counter = collections.Counter()
        try:
            with open(self.workdir / "modsecurity" / "audit.log", encoding="utf-8") as f:
                for line in f:
                    try:
                        txn = json.loads(line)["transaction"]
                        messages = txn.get("messages") or []
                        status = str(txn.get("response", {}).get("http_code", "?"))
                    except (ValueError, KeyError, TypeError, AttributeError):
                        messages, status = [], "?"
                    counts["rule matched" if messages else "status only"] += 1
                    if not messages:
                        counts[f"status:{status}"] += 1
                    for m in messages:
                        counts[f"rule:{(m.get('details') or {}).get('ruleId', '?')}"] += 1
        except FileNotFoundError:
            pass
        return counts

    def pids(self) -> list[int]:
        """The master and its workers."""
        if self.proc is None or self.proc.poll() is not None:
            return []
        return [self.proc.pid] + child_pids(self.proc.pid)

    def stop(self) -> None:
        detect.stop_proc(self.proc)


def without_filter(config: str) -> str:
    """A rendered envoy/envoy.yaml with the apiward entry removed from http_filters (plain
    Envoy, everything else identical)."""
    lines = config.splitlines(keepends=True)
    starts = [i for i, line in enumerate(lines) if line.strip() == "- name: apiward"]
    if len(starts) != 1:
        raise BenchError(f"expected one '- name: apiward' filter entry, found {len(starts)}")
    start = starts[0]
    indent = lines[start][: len(lines[start]) - len(lines[start].lstrip())]
    end = next(
        (
            i
            for i in range(start + 1, len(lines))
            if lines[i].startswith(indent + "- ") or not lines[i].startswith(indent)
        ),
        None,
    )
    if end is None or "envoy.filters.http.router" not in lines[end]:
        raise BenchError("the apiward filter entry is not followed by the router")
    return "".join(lines[:start] + lines[end:])


@dataclass
class PlainEnvoy(harness.Envoy):
    """The same Envoy configuration without the wasm filter."""

    def _render(self, plugin_config) -> str:
        return without_filter(super()._render(plugin_config))


@dataclass
class Proxy:
    kind: ProxyKind
    port: int
    config: str  # what the report says about its configuration
    envoy: harness.Envoy | None = None
    nginx: NginxInstance | None = None

    def pids(self) -> list[int]:
        """Envoy: its one process (the venv's `envoy` script execs the binary, which keeps the
        PID; checked). nginx: the master and its workers."""
        if self.envoy is not None:
            proc = self.envoy.proc
            if proc is None or proc.poll() is not None:
                return []
            try:
                comm = Path(f"/proc/{proc.pid}/comm").read_text().strip()
            except OSError:
                return []
            if comm != "envoy":
                raise BenchError(f"PID {proc.pid} is {comm!r}, not envoy: RSS would be wrong")
            return [proc.pid]
        return self.nginx.pids() if self.nginx else []

    def alive(self) -> bool:
        proc = (self.envoy or self.nginx).proc
        return proc is not None and proc.poll() is None

    def log(self) -> str:
        return (self.envoy or self.nginx).log()

    def stop(self) -> None:
        (self.envoy or self.nginx).stop()


def child_pids(parent: int) -> list[int]:
    out = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            # the ppid is the second field after the parenthesised command name
            if int(stat.rsplit(")", 1)[1].split()[1]) == parent:
                out.append(int(entry.name))
    return sorted(out)


def memory_kib(pids: list[int]) -> dict[str, int]:
    """VmRSS and RssAnon (KiB) summed over processes, from /proc/PID/status."""
    total = {"VmRSS": 0, "RssAnon": 0}
    for pid in pids:
        try:
            text = Path(f"/proc/{pid}/status").read_text()
        except OSError:
            continue
        for key in total:
            m = re.search(rf"^{key}:\s+(\d+) kB", text, flags=re.M)
            if m:
                total[key] += int(m.group(1))
    return {"vmrss_kib": total["VmRSS"], "rssanon_kib": total["RssAnon"]}


def envoy_stats(envoy: harness.Envoy, pattern: str) -> dict[str, int]:
    """Counters and gauges from the admin /stats whose name matches `pattern` (a regex)."""
    path = "/stats?filter=" + urllib.parse.quote(pattern)
    body = harness.http_get(envoy.admin_port, path, timeout=5).body.decode(errors="replace")
    out = {}
    for line in body.splitlines():
        name, _, value = line.partition(": ")
        if value.strip().isdigit():
            out[name.strip()] = int(value)
    return out


def start_proxy(
    kind: ProxyKind,
    args: argparse.Namespace,
    up_port: int,
    workdir: Path,
    files: detect.ModsecFiles,
    running: list,
) -> Proxy:
    pdir = workdir / kind.name
    pdir.mkdir()
    if kind.server == "envoy":
        cls = PlainEnvoy if kind.module is None else harness.Envoy
        plugin = PLUGIN_CONFIGS.get(kind.name, {})
        clusters = {SINK_CLUSTER: ("127.0.0.1", args.sink_port)} if "events" in plugin else {}
        envoy = cls(
            plugin_config=plugin,
            upstream_port=up_port,
            clusters=clusters,
            module=args.null_module if kind.module == "null" else args.module,
            concurrency=args.workers,
            log_level="warning",
            workdir=pdir,
        )
        proxy = Proxy(kind, 0, "", envoy=envoy)
        running.append(proxy)
        envoy.start(timeout=args.start_timeout)
        proxy.port = envoy.listen_port
        proxy.config = (
            f"envoy/envoy.yaml, --concurrency {args.workers}"
            + (", without the apiward filter" if kind.module is None else "")
            + (", bench/null-filter in place of apiward" if kind.module == "null" else "")
            + (f", plugin configuration `{harness.plugin_config_text(plugin)}`" if plugin else "")
            + (f", cluster `{SINK_CLUSTER}` = the loopback NDJSON receiver" if clusters else "")
        )
        return proxy
    modsec = kind.name == "nginx-modsec"
    values = {"WORKERS": str(args.workers), "UPSTREAM_PORT": str(up_port)}
    if modsec:
        (pdir / "modsecurity").mkdir()
        (pdir / "modsecurity" / "main.conf").write_text(
            detect.modsec_config(files, pdir, paranoia=1, rest=False)
        )
        values["LOAD_MODULE"] = f"load_module {files.module};"
        values["MODSECURITY"] = (
            f"modsecurity on;\n        modsecurity_rules_file {pdir}/modsecurity/main.conf;"
        )
    else:
        values["LOAD_MODULE"] = values["MODSECURITY"] = ""
    nginx = NginxInstance(kind.name, files.nginx, PROXY_TEMPLATE, values, pdir)
    proxy = Proxy(kind, 0, "", nginx=nginx)
    running.append(proxy)
    nginx.start()
    proxy.port = nginx.port
    proxy.config = f"bench/perf-nginx.conf.in, {args.workers} workers" + (
        ", ModSecurity v3 + stock CRS at paranoia level 1 as bench/detect.py sets them up"
        if modsec
        else ""
    )
    return proxy


# ---------------------------------------------------------------------------------------------
# Load


def wrk_command(args: argparse.Namespace, port: int, payload: Payload, seconds: int) -> list[str]:
    return [
        args.wrk,
        f"-t{args.threads}",
        f"-c{args.connections}",
        f"-d{seconds}s",
        "--timeout",
        "10s",
        "-s",
        str(WRK_SCRIPT),
        f"http://127.0.0.1:{port}{payload.path}",
    ]


def wrk_env(payload: Payload) -> dict[str, str]:
    return dict(
        os.environ,
        PERF_METHOD=payload.method,
        PERF_HEADERS="\n".join(f"{k}: {v}" for k, v in payload.headers.items()),
        PERF_BODY_FILE=str(payload.body_file or ""),
        PERF_VARY=VARY,
    )


def parse_wrk(out: str, err: str) -> dict:
    m = re.search(r"^PERF_RESULT (\{.*\})$", out, flags=re.M)
    if not m:
        raise BenchError(f"wrk printed no result:\n{out[-2000:]}\n{err[-2000:]}")
    r = json.loads(m.group(1))
    r["rps"] = r["requests"] / (r["duration_us"] / 1e6) if r["duration_us"] else 0.0
    r["socket_errors"] = sum(
        r[k] for k in ("connect_errors", "read_errors", "write_errors", "timeouts")
    )
    return r


def run_wrk(args: argparse.Namespace, port: int, payload: Payload, seconds: int) -> dict:
    p = subprocess.run(
        wrk_command(args, port, payload, seconds),
        capture_output=True,
        text=True,
        env=wrk_env(payload),
        stdin=subprocess.DEVNULL,
        timeout=seconds + 60,
    )
    return parse_wrk(p.stdout, p.stderr)


def send(port: int, payload: Payload, timeout: float) -> harness.Response:
    """The payload as wrk sends it (its Host header included), on a fresh connection."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    started = time.perf_counter()
    try:
        conn.putrequest(payload.method, payload.path, skip_host=True, skip_accept_encoding=True)
        for name, value in payload.headers.items():
            conn.putheader(name, value)
        if payload.body is not None:
            conn.putheader("Content-Length", str(len(payload.body)))
        conn.endheaders(payload.body)
        resp = conn.getresponse()
        body = resp.read()
        headers = {k.lower(): v for k, v in resp.getheaders()}
        elapsed = (time.perf_counter() - started) * 1000
        return harness.Response(resp.status, headers, body, elapsed)
    finally:
        conn.close()


def precheck(proxy: Proxy, payload: Payload) -> dict:
    """One request as wrk sends it: the upstream's 200 must come back (a proxy that refuses the
    benchmark traffic would look fast), with apiward's verdict seen upstream for apiward."""
    r = send(proxy.port, payload, timeout=15)
    verdict = r.headers.get(VERDICT_HEADER, "")
    where = f"{proxy.kind.name}, {payload.title}"
    if r.status != 200 or r.body.decode(errors="replace") != UPSTREAM_BODY:
        raise BenchError(
            f"{where}: expected the upstream's 200, got {r.status} {r.body[:300]!r}; "
            "the benchmark traffic must pass every proxy"
        )
    if proxy.kind.scores and not verdict:
        raise BenchError(f"{where}: the upstream saw no x-apiward-action (filter not running?)")
    if not proxy.kind.scores and verdict:
        raise BenchError(f"{where}: x-apiward-action reached the upstream without the filter")
    return {"status": r.status, "apiward_action": verdict or None}


def cold_start(
    args: argparse.Namespace, up_port: int, workdir: Path, probe: Payload, running: list
) -> dict:
    """Seconds from starting the Envoy process (the venv's envoy wrapper execs the binary) to
    the first response of the listener (any status) and to the first response whose request
    apiward scored (the upstream saw its x-apiward-action)."""
    for attempt in range(3):
        envoy = harness.Envoy(
            plugin_config=PLUGIN_CONFIGS["apiward-enforce"],
            upstream_port=up_port,
            listen_port=harness.free_port(),
            module=args.module,
            concurrency=args.workers,
            log_level="warning",
            workdir=workdir,
        )
        running.append(envoy)
        started = time.monotonic()
        envoy.launch()
        first_response = None
        try:
            deadline = started + args.start_timeout
            while time.monotonic() < deadline and envoy.proc.poll() is None:
                try:
                    r = send(envoy.listen_port, probe, timeout=5)
                    now = time.monotonic() - started
                    first_response = first_response if first_response is not None else now
                    if r.status == 200 and r.headers.get(VERDICT_HEADER):
                        return {"first_response_s": first_response, "first_scored_s": now}
                except (OSError, http.client.HTTPException):
                    pass
                time.sleep(0.02)
        finally:
            envoy.stop()
            running.remove(envoy)
        if "Address already in use" not in envoy.log() or attempt == 2:
            break
    raise BenchError(
        f"cold start: no scored response within {args.start_timeout}s:\n"
        f"{harness.log_excerpt(envoy.log())}"
    )


def million_run(
    args: argparse.Namespace, proxy: Proxy, payload: Payload, running: list
) -> dict:
    """wrk on `proxy` until Envoy's downstream request counter passes args.memory_requests
    (polled once a second), or args.memory_max_seconds pass."""
    assert proxy.envoy is not None
    count = envoy_stats(proxy.envoy, f"^{re.escape(ENVOY_RQ_TOTAL)}$").get(ENVOY_RQ_TOTAL, 0)
    if count >= args.memory_requests:  # the rounds got there: nothing to add
        return {
            "payload": payload.name,
            "seconds": 0.0,
            "envoy_requests": count,
            "reached": True,
            "wrk": None,
        }
    started = time.monotonic()
    print(
        f"memory run: {proxy.kind.name} has served {count} requests; wrk ({payload.title}) "
        f"until {args.memory_requests} (at most {args.memory_max_seconds}s)",
        file=sys.stderr,
    )
    proc = subprocess.Popen(
        wrk_command(args, proxy.port, payload, args.memory_max_seconds + 5),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        text=True,
        env=wrk_env(payload),
        start_new_session=True,
    )
    running.append(proc)
    last_note = started
    try:
        while proc.poll() is None:
            count = envoy_stats(proxy.envoy, f"^{re.escape(ENVOY_RQ_TOTAL)}$").get(
                ENVOY_RQ_TOTAL, 0
            )
            elapsed = time.monotonic() - started
            # (wrk needs a moment to set up its SIGINT handler)
            done = count >= args.memory_requests or elapsed > args.memory_max_seconds
            if done and elapsed > 2:
                break
            if time.monotonic() - last_note > 30:
                last_note = time.monotonic()
                print(f"  {count} requests after {elapsed:.0f}s", file=sys.stderr)
            time.sleep(1)
        if proc.poll() is None:
            proc.send_signal(signal.SIGINT)  # wrk stops, prints its summary and runs done()
        try:
            out, err = proc.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            out, err = proc.communicate(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=10)
        running.remove(proc)
    seconds = time.monotonic() - started
    count = envoy_stats(proxy.envoy, f"^{re.escape(ENVOY_RQ_TOTAL)}$").get(ENVOY_RQ_TOTAL, 0)
    result = parse_wrk(out, err)
    return {
        "payload": payload.name,
        "seconds": seconds,
        "envoy_requests": count,
        "reached": count >= args.memory_requests,
        "wrk": result,
    }


# ---------------------------------------------------------------------------------------------
# Results


def mean(xs: list[float]) -> float:
    return sum(xs) / len(xs)


def mean_ms(micros: list[float]) -> float | None:
    return mean(micros) / 1000 if micros else None


def minus(a: float | None, b: float | None) -> float | None:
    return None if a is None or b is None else a - b


def summarize(runs: list[dict], payloads: list[Payload], names: list[str]) -> dict:
    """Per payload and proxy: request rate per round and its mean, the ratio to the proxy
    without a filter, mean p50/p99 over rounds and what the filter adds to them."""
    out: dict[str, dict] = {}
    for payload in payloads:
        rows: dict[str, dict] = {}
        for name in names:
            rs = [r for r in runs if r["payload"] == payload.name and r["proxy"] == name]
            if not rs:
                continue
            cpu = [r["cpu_us_per_request"] for r in rs if r.get("cpu_us_per_request")]
            rows[name] = {
                "rps_rounds": [r["rps"] for r in rs],
                "rps": mean([r["rps"] for r in rs]),
                # latencies of runs in which some request completed
                "p50_ms": mean_ms([r["p50_us"] for r in rs if r["requests"]]),
                "p99_ms": mean_ms([r["p99_us"] for r in rs if r["requests"]]),
                "non2xx": sum(r["non2xx"] for r in rs),
                "socket_errors": sum(r["socket_errors"] for r in rs),
                "empty_runs": sum(1 for r in rs if not r["requests"]),
                "cpu_us_per_request": mean(cpu) if cpu else None,
            }
        for name, row in rows.items():
            base = rows.get(KINDS[name].baseline or "")
            row["ratio"] = row["rps"] / base["rps"] if base else None
            row["added_p50_ms"] = minus(row["p50_ms"], base["p50_ms"]) if base else None
            row["added_p99_ms"] = minus(row["p99_ms"], base["p99_ms"]) if base else None
            row["flagged"] = bool(row["non2xx"] or row["socket_errors"] or row["empty_runs"])
        out[payload.name] = rows
    return out


def memory_summary(report: dict, workers: int) -> dict:
    """(RSS with the filter − plain Envoy's RSS) / wasm VMs, per snapshot."""
    vms = workers + 1
    out = {"wasm_vms": vms, "snapshots": {}}
    for label, snap in report["memory"]["snapshots"].items():
        plain = snap.get("envoy")
        if not plain:
            continue
        rows = {}
        for name in ("wasm-null", "wasm-null-body", "apiward-monitor", "apiward-enforce"):
            if name in snap and (name == "apiward-enforce" or "fixed-count" not in label):
                delta = snap[name]["vmrss_kib"] - plain["vmrss_kib"]
                rows[name] = {
                    "vmrss_kib": snap[name]["vmrss_kib"],
                    "plain_vmrss_kib": plain["vmrss_kib"],
                    "delta_kib": delta,
                    "per_vm_kib": delta / vms,
                    "requests": snap[name].get("requests"),
                }
        out["snapshots"][label] = rows
    return out


def fmt_ratio(x: float | None) -> str:
    return "—" if x is None else f"{x:.2f}"


def fmt_added(x: float | None) -> str:
    return "—" if x is None else f"{x:+.2f}"


def fmt_ms(x: float | None) -> str:
    return "—" if x is None else f"{x:.2f}"


def mib(kib: float) -> str:
    return f"{kib / 1024:.1f}"


def table_rows(report: dict) -> list[list[str]]:
    rows = []
    for pname, proxies in report["summary"].items():
        title = report["payloads"][pname]["title"]
        for name, row in proxies.items():
            rounds = " / ".join(f"{x:.0f}" for x in row["rps_rounds"])
            problems = [
                f"{row['non2xx']} non-2xx" if row["non2xx"] else "",
                f"{row['socket_errors']} socket errors" if row["socket_errors"] else "",
                f"{row['empty_runs']} runs without a complete request" if row["empty_runs"] else "",
            ]
            flag = "⚠ " + ", ".join(p for p in problems if p) if row["flagged"] else "—"
            rows.append(
                [
                    title,
                    KINDS[name].title,
                    f"{row['rps']:.0f}",
                    rounds,
                    fmt_ratio(row["ratio"]),
                    fmt_ms(row["p50_ms"]),
                    fmt_ms(row["p99_ms"]),
                    f"{fmt_added(row['added_p50_ms'])} / {fmt_added(row['added_p99_ms'])}",
                    f"{row['cpu_us_per_request']:.0f}" if row.get("cpu_us_per_request") else "—",
                    flag,
                ]
            )
    return rows


HEADER = [
    "payload",
    "proxy",
    "requests/s (mean)",
    "per round",
    "ratio",
    "p50 ms",
    "p99 ms",
    "added p50 / p99 ms",
    "proxy CPU µs/request",
    "errors",
]


MEMORY_HEADER = [
    "proxy",
    "when",
    "requests served",
    "VmRSS MiB",
    "plain Envoy MiB",
    "difference MiB",
    "per wasm VM MiB",
]


def memory_rows(report: dict) -> list[list[str]]:
    mem = report.get("memory_summary") or {}
    out = []
    for label, rows in mem.get("snapshots", {}).items():
        for name, r in rows.items():
            out.append(
                [
                    KINDS[name].title,
                    label,
                    str(r["requests"]),
                    mib(r["vmrss_kib"]),
                    mib(r["plain_vmrss_kib"]),
                    f"{r['delta_kib'] / 1024:+.1f}",
                    mib(r["per_vm_kib"]),
                ]
            )
    return out


def aligned(rows: list[list[str]]) -> list[str]:
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    return ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in rows]


def md_table(header: list[str], rows: list[list[str]], left: int) -> list[str]:
    """A Markdown table whose first `left` columns are left-aligned, the others right."""
    rule = "|" + "---|" * left + "---:|" * (len(header) - left)
    return ["| " + " | ".join(header) + " |", rule] + ["| " + " | ".join(r) + " |" for r in rows]


def cold_line(report: dict) -> str:
    c = report["cold_start"]
    if not c["starts"]:
        return "cold start: not measured"
    scored = ", ".join(f"{s['first_scored_s']:.2f}" for s in c["starts"])
    return (
        f"cold start (Envoy start -> first scored response): median {c['median_s']:.2f} s "
        f"({scored}); module {c['module_bytes'] / 1e6:.2f} MB"
    )


def text_report(report: dict) -> str:
    out = aligned([HEADER] + table_rows(report))
    out += ["", cold_line(report)]
    if mem := memory_rows(report):
        out += [""] + aligned([MEMORY_HEADER] + mem)
    if report.get("million_run"):
        out.append(million_line(report))
    if rows := events_cost(report):
        out += ["", "events cost (Envoy CPU per request):"] + aligned([EVENTS_HEADER] + rows)
    for name, s in report.get("apiward_stats", {}).items():
        out.append(f"{name}: {s['note']}")
    if "modsec_audit_entries" in report:
        out.append(modsec_line(report))
    return "\n".join(out)


def million_line(report: dict) -> str:
    mr = report["million_run"]
    w = mr["wrk"]
    if w is None:
        return f"Fixed-count run: not needed, the rounds had served {mr['envoy_requests']}"
    line = (
        f"Fixed-count run: wrk ({report['payloads'][mr['payload']]['title']}) on "
        f"{KINDS['apiward-enforce'].title} until it had served {mr['envoy_requests']} requests "
        f"in all: {w['rps']:.0f} requests/s over {mr['seconds']:.0f} s, {w['non2xx']} non-2xx, "
        f"{w['socket_errors']} socket errors"
    )
    if not mr["reached"]:
        line += f" ⚠ stopped by the time limit before {report['settings']['memory_requests']}"
    return line


def modsec_line(report: dict) -> str:
    n = report["modsec_audit_entries"]
    line = (
        f"ModSecurity audit log: {n['rule matched']} requests on which a CRS rule matched, "
        f"{n['status only']} logged for their 4xx/5xx status alone"
    )
    details = ", ".join(f"{k} {v}" for k, v in sorted(n.items()) if ":" in k)
    if details:
        line += f" ({details})"
    return line + (" ⚠ (rules match the benchmark traffic)" if n["rule matched"] else "")


def cpu_seconds(pids: list[int]) -> float:
    """User + system CPU time of `pids` so far (0 for a process that is gone)."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / tick


def latency_rows(report: dict) -> list[list[str]]:
    """The one-connection runs: p50/p99 and what the filter adds to its proxy's."""
    by = {(r["payload"], r["proxy"]): r for r in report.get("latency", [])}
    rows = []
    for (payload, name), r in by.items():
        base = by.get((payload, KINDS[name].baseline or ""))
        added = (
            f"{r['p50_us'] - base['p50_us']:+.0f} / {r['p99_us'] - base['p99_us']:+.0f}"
            if base
            else "— / —"
        )
        title = report["payloads"][payload]["title"]
        rows.append([title, KINDS[name].title, f"{r['p50_us']:.0f}", f"{r['p99_us']:.0f}", added])
    return rows


def markdown(report: dict) -> str:
    v, m, s = report["versions"], report["machine"], report["settings"]
    out = [
        "## Throughput, latency, start-up and memory (`make bench`)",
        "",
        f"Machine: {m['cpu']}, {m['cores']} cores ({m['system']}), shared by wrk, the proxy and "
        "the upstream. Versions: Envoy "
        f"{v['envoy']}; {v['nginx']}; libmodsecurity3 {v['libmodsecurity3']}; "
        f"libnginx-mod-http-modsecurity {v['libnginx-mod-http-modsecurity']}; modsecurity-crs "
        f"{v['modsecurity-crs']}; {v['wrk']}; apiward.wasm sha256 "
        f"{v['apiward_wasm_sha256'][:12]}, {v['apiward_wasm_bytes'] / 1e6:.2f} MB (model onnx "
        f"sha256 {v['apiward_model_onnx_sha256'][:12]}).",
        "",
        f"Command: `{report['command']}`, {report['total_seconds'] / 60:.1f} min in all.",
        "",
        f"wrk -t{s['threads']} -c{s['connections']}, {s['rounds']} rounds of {s['duration_s']} s "
        f"per payload and proxy, each after a {s['warmup_s']} s warm-up, proxies in turn within "
        "a round (order reversed every other round) -> one upstream (an nginx worker answering "
        f"a {len(UPSTREAM_BODY)}-byte JSON document). Envoy with "
        f"`--concurrency {s['workers']}`, nginx with {s['workers']} workers. Configurations:",
        "",
    ]
    for name, cfg in report["proxies"].items():
        out.append(f"- {KINDS[name].title}: {cfg['config']}")
    out += [
        "",
        "Payloads (an authenticated client: `Accept`, `User-Agent`, `Authorization: Bearer`):",
        "",
    ]
    for p in report["payloads"].values():
        body = f", {p['body_bytes']} bytes of JSON" if "body_bytes" in p else ""
        out.append(f"- {p['title']}: `{p['method']} {p['path']}`{body}")
    out += [""] + md_table(HEADER, table_rows(report), left=2)
    if report.get("latency"):
        out += [
            "",
            "Latency without queueing: wrk -t1 -c1 (one request at a time) for "
            f"{report['settings'].get('latency_s', '?')} s per payload and proxy; added = minus "
            "the same proxy without a filter.",
            "",
        ]
        out += md_table(
            ["payload", "proxy", "p50 µs", "p99 µs", "added p50 / p99 µs"],
            latency_rows(report),
            left=2,
        )
    out += [
        "",
        "Ratio: requests/s over the same proxy without a filter (Envoy variants over plain "
        "Envoy, nginx + ModSecurity over plain nginx); latencies are wrk's p50/p99 averaged "
        "over rounds, added = minus the proxy without a filter. Proxy CPU: user + system time "
        "of the proxy's processes (Envoy; nginx master and workers) during the run, per request "
        "served: what the filter costs whatever the machine's load.",
        "",
        "- " + cold_line(report).replace("cold start", "Cold start", 1) + ".",
    ]
    if report.get("million_run"):
        out.append(f"- {million_line(report)}.")
    for name, st in report.get("apiward_stats", {}).items():
        out.append(f"- {KINDS[name].title}, filter counters: {st['note']}.")
    if rows := events_cost(report):
        out += [
            "",
            "Events cost: Envoy's CPU time per request (user + system over the measured runs) "
            "of apiward enforce with security events sent to a loopback NDJSON receiver, minus "
            "the same without events. With the defaults only notable requests become events "
            "(none of this benign traffic); `sample_allow: 1` builds, encodes (OCSF) and sends "
            "every request: the worst case.",
            "",
        ]
        out += md_table(EVENTS_HEADER, rows, left=1)
    if "modsec_audit_entries" in report:
        out.append(f"- {modsec_line(report)}.")
    if mem := memory_rows(report):
        vms = report["memory_summary"]["wasm_vms"]
        out += [
            "",
            f"Memory: Envoy's VmRSS with the filter minus plain Envoy's (read at the same moment), "
            f"divided by {vms} wasm VMs: one per worker (`--concurrency "
            f"{report['settings']['workers']}`) and one on the main thread. The difference is "
            "everything the filter costs the process (V8, the compiled module, the VMs' linear "
            "memories, the shared-data tables), spread evenly over the VMs.",
            "",
        ]
        out += md_table(MEMORY_HEADER, mem, left=2)
    return "\n".join(out)


def apiward_check(proxy: Proxy) -> dict:
    """The filter's own counters against Envoy's: every request scored, none skipped or failed."""
    stats = envoy_stats(proxy.envoy, r"apiward_|^http\.api_ingress\.downstream_rq_total$")
    requests = stats.get(ENVOY_RQ_TOTAL, 0)
    scored = stats.get("wasmcustom.apiward_requests_total", 0)
    skipped = stats.get("wasmcustom.apiward_requests_skipped_total", 0)
    errors = stats.get("wasmcustom.apiward_errors_total", 0)
    actions = {
        k.rsplit(".", 1)[1]: v
        for k, v in stats.items()
        if k.startswith("wasmcustom.apiward_decisions_total.action.") and v
    }
    ok = scored >= requests and not skipped and not errors
    decision_us = inference_percentiles(proxy.envoy)
    note = (
        f"the filter saw {scored} of the {requests} requests Envoy served, {skipped} skipped, "
        f"{errors} errors; decisions: "
        + (", ".join(f"{k} {v}" for k, v in sorted(actions.items())) or "none")
    )
    calls = host_calls_per_request(stats, scored)
    if calls:
        note += "; host calls per request: " + calls
    if decision_us:
        note += (
            f"; the filter's own decision time (histogram `apiward_inference_us`, every request "
            f"of the run): p50 {decision_us['p50']:.0f} µs, p99 {decision_us['p99']:.0f} µs"
        )
    events = None
    if "events" in PLUGIN_CONFIGS.get(proxy.kind.name, {}):
        events = {
            what: sum(v for k, v in stats.items() if k.startswith(f"wasmcustom.apiward_events_{what}_total"))
            for what in ("emitted", "dropped", "retried", "failed")
        }
        note += "; events: " + ", ".join(f"{k} {v}" for k, v in events.items())
        sampled = PLUGIN_CONFIGS[proxy.kind.name]["events"].get("sample_allow", 0)
        if sampled and not events["emitted"]:
            ok = False
    if not ok:
        note += " ⚠"
    return {"ok": ok, "note": note, "stats": stats, "decision_us": decision_us, "events": events}


def host_calls_per_request(stats: dict, requests: int) -> str:
    """`apiward_host_calls_total` divided by the requests the filter saw: the request path's
    calls by kind (shared-data gets and sets, header reads and writes, ...) and the tick's."""
    if not requests:
        return ""
    prefix = "wasmcustom.apiward_host_calls_total.phase."
    by = {}
    for k, v in stats.items():
        if k.startswith(prefix) and v:
            phase, _, call = k[len(prefix):].partition(".call.")
            by.setdefault(phase, {})[call] = v / requests
    req = by.get("request", {})
    if not req:
        return ""
    parts = [f"{sum(req.values()):.1f} on the request path ("]
    parts[0] += ", ".join(f"{c} {n:.2f}" for c, n in sorted(req.items(), key=lambda x: -x[1])) + ")"
    tick = by.get("tick", {})
    if tick:
        parts.append(f"{sum(tick.values()):.2f} on the ticks (shared_get {tick.get('shared_get', 0):.2f}, "
                     f"shared_set {tick.get('shared_set', 0):.2f})")
    return ", ".join(parts)


def events_cost(report: dict) -> list[list[str]]:
    """Per payload: Envoy CPU µs per request of apiward enforce without events, with events
    (notable only) and with sample_allow 1, and what events add."""
    rows = []
    for pname, proxies in report["summary"].items():
        off = proxies.get("apiward-enforce", {}).get("cpu_us_per_request")
        if off is None:
            continue
        cells = [report["payloads"][pname]["title"], f"{off:.0f}"]
        for name in ("apiward-events", "apiward-events-all"):
            on = proxies.get(name, {}).get("cpu_us_per_request")
            cells += ["—", "—"] if on is None else [f"{on:.0f}", f"{on - off:+.0f}"]
        rows.append(cells)
    return rows


EVENTS_HEADER = [
    "payload",
    "events off µs/req",
    "events on (notable only) µs/req",
    "added",
    "sample_allow 1 µs/req",
    "added",
]


def inference_percentiles(envoy: harness.Envoy) -> dict | None:
    """p50/p99 of the filter's decision-time histogram from Envoy's admin /stats."""
    path = "/stats?filter=" + urllib.parse.quote("apiward_inference_us$")
    body = harness.http_get(envoy.admin_port, path, timeout=5).body.decode(errors="replace")
    found = {}
    for q in ("50", "99"):
        m = re.search(rf"\bP{q}\(([0-9.]+),", body)
        if m:
            found[f"p{q}"] = float(m.group(1))
    return found if len(found) == 2 else None


def machine() -> dict:
    cpu = "unknown"
    try:
        m = re.search(r"^model name\s*:\s*(.+)$", Path("/proc/cpuinfo").read_text(), flags=re.M)
        cpu = m.group(1).strip() if m else cpu
    except OSError:
        pass
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "system": f"{platform.system()} {platform.release()} {platform.machine()}",
    }


def tool_version(cmd: list[str]) -> str:
    try:
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=30, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return "unknown"
    return ((p.stdout + p.stderr).strip().splitlines() or ["unknown"])[0]


# ---------------------------------------------------------------------------------------------


def main() -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--quick", action="store_true", help="a ~2-minute smoke run")
    ap.add_argument("--duration", type=int, help="seconds per measured wrk run (default 10)")
    ap.add_argument("--warmup", type=int, help="seconds of wrk before each run (default 2)")
    ap.add_argument("--rounds", type=int, help="rounds over all payloads and proxies (default 2)")
    ap.add_argument("--threads", type=int, default=2, help="wrk threads")
    ap.add_argument("--connections", type=int, default=16, help="wrk connections")
    ap.add_argument(
        "--workers", type=int, default=2, help="Envoy --concurrency and nginx worker_processes"
    )
    ap.add_argument(
        "--proxies",
        default=",".join(k.name for k in PROXIES if k.default),
        help=f"subset of {','.join(KINDS)} (default: all but the apiward-model and apiward-skip diagnostics)",
    )
    ap.add_argument("--payloads", default="get,post-1k,post-10k", help="subset of the payloads")
    ap.add_argument("--cold-starts", type=int, help="Envoy starts to time (default 3)")
    ap.add_argument(
        "--latency-seconds",
        type=int,
        help="seconds of the one-connection latency run per payload and proxy (default 5; 0: none)",
    )
    ap.add_argument(
        "--memory-requests",
        type=int,
        help="requests the enforce Envoy serves before the last memory reading "
        "(default 1000000; --quick 20000)",
    )
    ap.add_argument("--no-memory-run", action="store_true", help="skip the fixed-count run")
    ap.add_argument(
        "--memory-max-seconds",
        type=int,
        default=480,
        help="upper bound of the fixed-count run (the last reading then says how many requests)",
    )
    ap.add_argument("--start-timeout", type=float, default=180, help="seconds for Envoy to serve")
    ap.add_argument("--module", type=Path, default=harness.DEFAULT_MODULE)
    ap.add_argument("--null-module", type=Path, default=NULL_MODULE, help="bench/null-filter's wasm")
    ap.add_argument("--out", type=Path, help="write the results as JSON")
    ap.add_argument("--markdown", action="store_true", help="also print the BENCHMARKS.md section")
    ap.add_argument("--keep-workdir", action="store_true")
    args = ap.parse_args()

    defaults = {"duration": 10, "warmup": 2, "rounds": 2, "cold_starts": 3, "latency_seconds": 5}
    if args.quick:
        defaults = {"duration": 2, "warmup": 1, "rounds": 2, "cold_starts": 1, "latency_seconds": 1}
    for key, value in defaults.items():
        if getattr(args, key) is None:
            setattr(args, key, value)
    if args.memory_requests is None:
        args.memory_requests = 20_000 if args.quick else 1_000_000
    if args.no_memory_run:
        args.memory_requests = 0
    if args.rounds < 1 or args.duration < 1 or args.warmup < 0:
        ap.error("--rounds and --duration must be at least 1, --warmup at least 0")

    names = [p.strip() for p in args.proxies.split(",") if p.strip()]
    if unknown := [p for p in names if p not in KINDS]:
        ap.error(f"unknown proxies: {unknown}")
    names = [k for k in KINDS if k in names]  # fixed order
    if not args.module.is_file():
        ap.error(f"wasm module not found: {args.module} (make wasm)")
    if any(n.startswith("wasm-null") for n in names) and not args.null_module.is_file():
        ap.error(f"null filter not found: {args.null_module} (make bench builds it)")
    args.wrk = shutil.which("wrk")
    if not args.wrk:
        print("bench/perf.py: wrk not found; run bench/install-deps.sh", file=sys.stderr)
        return 2
    try:
        files = detect.find_modsec()
    except detect.BenchError as exc:
        print(f"bench/perf.py: {exc}", file=sys.stderr)
        return 2

    workdir = Path(tempfile.mkdtemp(prefix="apiward-perf-"))
    # SIGTERM / SIGHUP unwind like Ctrl-C, so the finally block stops the children.
    for sig in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, lambda signum, _frame: sys.exit(128 + signum))
    all_payloads = build_payloads(workdir)
    wanted = [p.strip() for p in args.payloads.split(",") if p.strip()]
    payloads = [p for p in all_payloads if p.name in wanted]
    if len(payloads) != len(wanted):
        ap.error(f"payloads are {','.join(p.name for p in all_payloads)}")

    report: dict = {
        "settings": {
            "duration_s": args.duration,
            "warmup_s": args.warmup,
            "rounds": args.rounds,
            "threads": args.threads,
            "connections": args.connections,
            "workers": args.workers,
            "memory_requests": args.memory_requests,
            "latency_s": args.latency_seconds,
        },
        "payloads": {p.name: p.describe() for p in payloads},
        "proxies": {},
        "precheck": {},
        "runs": [],
        "latency": [],
        "cold_start": {"starts": []},
        "memory": {"snapshots": {}},
    }
    running: list = []  # whatever was started, stopped in the finally block
    total_started = time.monotonic()
    upstream = None
    try:
        upstream = NginxInstance(
            "upstream",
            files.nginx,
            UPSTREAM_TEMPLATE,
            {"BODY": UPSTREAM_BODY},
            workdir / "upstream",
        )
        running.append(upstream)
        upstream.start()
        print(f"upstream: nginx, 1 worker, on :{upstream.port}", file=sys.stderr)
        args.sink_port = 0
        if any("events" in PLUGIN_CONFIGS.get(n, {}) for n in names):
            # The event sink: another nginx worker accepting the NDJSON batches.
            sink = NginxInstance("siem", files.nginx, UPSTREAM_TEMPLATE, {"BODY": "{}"}, workdir / "siem")
            running.append(sink)
            sink.start()
            args.sink_port = sink.port
            print(f"event sink: nginx, 1 worker, on :{sink.port}", file=sys.stderr)

        # Cold start first, while nothing else runs.
        for i in range(args.cold_starts):
            start = cold_start(args, upstream.port, workdir / f"cold-{i}", payloads[0], running)
            report["cold_start"]["starts"].append(start)
            print(
                f"cold start {i + 1}: first response {start['first_response_s']:.2f}s, "
                f"first scored {start['first_scored_s']:.2f}s",
                file=sys.stderr,
            )

        proxies: dict[str, Proxy] = {}
        for name in names:
            t0 = time.monotonic()
            proxies[name] = start_proxy(KINDS[name], args, upstream.port, workdir, files, running)
            report["proxies"][name] = {
                "config": proxies[name].config,
                "start_s": time.monotonic() - t0,
                "pids": proxies[name].pids(),
            }
            print(
                f"{name}: ready on :{proxies[name].port} in {time.monotonic() - t0:.1f}s",
                file=sys.stderr,
            )

        modsec = proxies.get("nginx-modsec")
        audit_before = modsec.nginx.audit_entries() if modsec else collections.Counter()
        for name, proxy in proxies.items():
            for payload in payloads:
                report["precheck"].setdefault(name, {})[payload.name] = precheck(proxy, payload)
            if args.warmup:
                run_wrk(args, proxy.port, payloads[0], args.warmup)
        report["memory"]["snapshots"]["after warm-up"] = snapshot(proxies)

        order = list(proxies)
        for rnd in range(1, args.rounds + 1):
            for payload in payloads:
                for name in order if rnd % 2 else order[::-1]:
                    proxy = proxies[name]
                    if not proxy.alive():
                        raise BenchError(f"{name} exited:\n{proxy.log()[-4000:]}")
                    if args.warmup:
                        run_wrk(args, proxy.port, payload, args.warmup)
                    cpu_before = cpu_seconds(proxy.pids())
                    r = run_wrk(args, proxy.port, payload, args.duration)
                    cpu = cpu_seconds(proxy.pids()) - cpu_before
                    r.update(round=rnd, payload=payload.name, proxy=name)
                    r["cpu_us_per_request"] = 1e6 * cpu / r["requests"] if r["requests"] else None
                    report["runs"].append(r)
                    flag = ""
                    if r["non2xx"] or r["socket_errors"] or not r["requests"]:
                        flag = f"  ⚠ {r['non2xx']} non-2xx, {r['socket_errors']} socket errors"
                    print(
                        f"round {rnd} {payload.name:<8} {name:<16} {r['rps']:>8.0f} req/s  "
                        f"p50 {r['p50_us'] / 1000:.2f} ms  p99 {r['p99_us'] / 1000:.2f} ms"
                        + flag,
                        file=sys.stderr,
                    )
        report["memory"]["snapshots"]["after the rounds"] = snapshot(proxies)

        if args.latency_seconds:
            # Added latency without queueing: one connection, one request at a time, so each
            # sample is the proxy's service time (the rounds above saturate two cores).
            one = argparse.Namespace(**{**vars(args), "threads": 1, "connections": 1})
            for payload in payloads:
                for name in order:
                    r = run_wrk(one, proxies[name].port, payload, args.latency_seconds)
                    r.update(payload=payload.name, proxy=name)
                    report["latency"].append(r)
                    print(
                        f"one connection {payload.name:<8} {name:<16} p50 {r['p50_us']} us  "
                        f"p99 {r['p99_us']} us",
                        file=sys.stderr,
                    )

        enforce = proxies.get("apiward-enforce")
        if args.memory_requests and enforce is not None:
            report["million_run"] = million_run(args, enforce, payloads[0], running)
            report["memory"]["snapshots"]["after the fixed-count run"] = snapshot(proxies)
        if modsec:
            # CRS rules matching the benign traffic would make ModSecurity write every request
            # to its audit log, which is not what a tuned deployment pays.
            audit = modsec.nginx.audit_entries()
            audit.subtract(audit_before)
            report["modsec_audit_entries"] = {
                "rule matched": audit["rule matched"],
                "status only": audit["status only"],
                **{k: v for k, v in sorted(audit.items()) if ":" in k and v},
            }
        report["apiward_stats"] = {
            name: apiward_check(p) for name, p in proxies.items() if p.kind.scores
        }
    except (BenchError, harness.HarnessError, detect.BenchError) as exc:
        print(f"bench/perf.py: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    finally:
        for item in reversed(running):
            if isinstance(item, subprocess.Popen):
                detect.stop_proc(item)
            else:
                item.stop()
        if args.keep_workdir:
            print(f"workdir kept: {workdir}", file=sys.stderr)
        else:
            shutil.rmtree(workdir, ignore_errors=True)

    starts = [s["first_scored_s"] for s in report["cold_start"]["starts"]]
    report["cold_start"]["median_s"] = statistics.median(starts) if starts else None
    report["cold_start"]["module_bytes"] = args.module.stat().st_size
    report["summary"] = summarize(report["runs"], payloads, names)
    report["memory_summary"] = memory_summary(report, args.workers)
    argv = [detect.rel(sys.argv[0])] + [
        detect.rel(a) if Path(a).is_absolute() else a for a in sys.argv[1:]
    ]
    report["command"] = "python " + " ".join(shlex.quote(a) for a in argv)
    if os.environ.get("MAKELEVEL"):  # make exports it to the commands of a target
        report["command"] = f"make bench (runs {report['command']})"
    report["machine"] = machine()
    report["versions"] = detect.versions(args.module, files, [])
    del report["versions"]["corpus_sha256"]
    report["versions"]["apiward_wasm_bytes"] = args.module.stat().st_size
    report["versions"]["wrk"] = tool_version([args.wrk, "-v"]).split(" [")[0]
    report["total_seconds"] = time.monotonic() - total_started
    if args.out:  # first, so that the measurements survive a reporting bug
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(report, indent=1) + "\n")
    print(text_report(report))
    print(f"total wall-clock: {report['total_seconds']:.0f}s")
    if args.markdown:
        print()
        print(markdown(report))
    flagged = [
        f"{p}/{n}" for p, rows in report["summary"].items() for n, r in rows.items() if r["flagged"]
    ]
    if flagged:
        print(
            f"flagged (non-2xx, socket errors or no complete request): {', '.join(flagged)}",
            file=sys.stderr,
        )
    return 0


def snapshot(proxies: dict[str, Proxy]) -> dict:
    """RSS of every proxy (Envoy: its one process; nginx: master + workers) and, for Envoy,
    the requests it has served."""
    out = {}
    for name, proxy in proxies.items():
        out[name] = memory_kib(proxy.pids())
        if proxy.envoy is not None:
            pattern = f"^{re.escape(ENVOY_RQ_TOTAL)}$"
            out[name]["requests"] = envoy_stats(proxy.envoy, pattern).get(ENVOY_RQ_TOTAL, 0)
    return out


if __name__ == "__main__":
    sys.exit(main())
