"""Security events to real HTTP receivers on loopback (NDJSON webhook, Splunk HEC, Elasticsearch
_bulk), validated against the OCSF 1.8.0 schema and ECS field definitions; privacy (planted
secrets never reach a receiver); sinks down; response inspection (mask / block).

Two Envoys for the module: `live` sends to four healthy receivers (one per sink type and
encoding) and masks /api/reports/; `down` sends to a closed port, a receiver answering 503 and
one too slow for its timeout, with a small buffer, and blocks /api/reports/.
"""

from __future__ import annotations

import json
import socket
import statistics
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import quote, quote_plus

import harness
import pytest
import upstream as example_api
from conftest import MODEL_FOCUSED_BEHAVIOUR
from event_schemas import ecs_errors, ocsf_errors
from scenarios import ATTACKS, BENIGN, JSON, SQLI_IN_QUERY, assert_problem_json_403, wait_for

HASH_KEY = "e2e-hash-key-never-leaves-0001"
HEC_TOKEN = "hec-token-0000-1111"
SINK_AUTH = "Bearer sink-token-abc"


class Receiver:
    """A loopback HTTP server that records every request (arrival time, path, headers, body)
    and answers with a fixed status (and optional delay)."""

    def __init__(self, status: int = 200, delay: float = 0.0, bulk: bool = False):
        self.status = status
        self.delay = delay
        self.bulk = bulk
        self.requests: list[dict] = []
        self.lock = threading.Lock()
        rx = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def do_POST(self):  # noqa: N802
                n = int(self.headers.get("content-length") or 0)
                body = self.rfile.read(n)
                with rx.lock:
                    rx.requests.append(
                        {
                            "at": time.monotonic(),
                            "path": self.path,
                            "headers": {k.lower(): v for k, v in self.headers.items()},
                            "body": body,
                        }
                    )
                if rx.delay:
                    time.sleep(rx.delay)
                if rx.bulk and rx.status == 200:
                    items = [{"create": {"status": 201}} for _ in range(body.count(b"\n") // 2)]
                    reply = json.dumps({"took": 1, "errors": False, "items": items}).encode()
                else:
                    reply = b'{"text":"Success","code":0}'
                try:
                    self.send_response(rx.status)
                    self.send_header("content-type", "application/json")
                    self.send_header("content-length", str(len(reply)))
                    self.end_headers()
                    self.wfile.write(reply)
                except OSError:
                    pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def snapshot(self) -> list[dict]:
        with self.lock:
            return list(self.requests)

    def raw(self) -> bytes:
        return b"".join(r["body"] for r in self.snapshot())

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# ---------------------------------------------------------------------------------------------
# Decoding what receivers got


def ndjson_events(rx: Receiver) -> list[dict]:
    out = []
    for r in rx.snapshot():
        assert r["body"].endswith(b"\n"), "NDJSON batches end with a newline"
        out += [json.loads(line) for line in r["body"].split(b"\n") if line]
    return out


def hec_events(rx: Receiver) -> list[dict]:
    """Splunk HEC batches: event objects concatenated with no separator."""
    dec = json.JSONDecoder()
    out = []
    for r in rx.snapshot():
        text = r["body"].decode()
        i = 0
        while i < len(text):
            obj, i = dec.raw_decode(text, i)
            assert set(obj) >= {"time", "event", "sourcetype"}, obj.keys()
            out.append(obj["event"])
    return out


def bulk_docs(rx: Receiver) -> list[dict]:
    """Elasticsearch _bulk: a create action line, then the document."""
    out = []
    for r in rx.snapshot():
        assert r["body"].endswith(b"\n")
        lines = [json.loads(line) for line in r["body"].split(b"\n") if line]
        assert len(lines) % 2 == 0
        for action, doc in zip(lines[::2], lines[1::2]):
            assert action == {"create": {"_index": "logs-apiward-default"}}, action
            out.append(doc)
    return out


def batch_sizes(rx: Receiver, per_event_lines: int = 1) -> list[int]:
    return [r["body"].count(b"\n") // per_event_lines for r in rx.snapshot()]


# ---------------------------------------------------------------------------------------------
# Fixtures


def _events_config(sinks: list[dict], **extra) -> dict:
    events = {
        "sinks": sinks,
        "batch": {"max_events": 50, "max_age_ms": 500},
        "flush_interval_ms": 100,
        "privacy": {"client_ip": "truncate", "hash_key": HASH_KEY},
    }
    events.update(extra)
    return events


@pytest.fixture(scope="module")
def receivers():
    rx = {
        "ndjson_ocsf": Receiver(),
        "hec": Receiver(),
        "bulk": Receiver(bulk=True),
        "ndjson_ecs": Receiver(),
        "unavailable": Receiver(status=503),
        "slow": Receiver(delay=3.0),
    }
    yield rx
    for r in rx.values():
        r.stop()


@pytest.fixture(scope="module")
def envoys(receivers, upstream, module_path, tmp_path_factory):
    live_cfg = {
        "mode": "enforce",
        "behaviour": MODEL_FOCUSED_BEHAVIOUR,
        "routes": [{"prefix": "/api/reports/", "dlp": {"action": "mask"}}],
        "events": _events_config(
            [
                {
                    "type": "ndjson",
                    "name": "ndjson_ocsf",
                    "cluster": "rx_ndjson_ocsf",
                    "path": "/ingest",
                    "schema": "ocsf",
                    "token": SINK_AUTH,
                },
                {"type": "splunk_hec", "name": "hec", "cluster": "rx_hec", "schema": "ocsf", "token": HEC_TOKEN},
                {
                    "type": "elastic_bulk",
                    "name": "bulk",
                    "cluster": "rx_bulk",
                    "schema": "ecs",
                    "index": "logs-apiward-default",
                },
                {"type": "ndjson", "name": "ndjson_ecs", "cluster": "rx_ndjson_ecs", "schema": "ecs"},
            ]
        ),
    }
    down_cfg = {
        "mode": "enforce",
        "behaviour": MODEL_FOCUSED_BEHAVIOUR,
        "routes": [{"prefix": "/api/reports/", "dlp": {"action": "block"}}],
        "events": _events_config(
            [
                {"type": "ndjson", "name": "closed", "cluster": "rx_closed", "timeout_ms": 300},
                {"type": "ndjson", "name": "unavailable", "cluster": "rx_unavailable", "timeout_ms": 300},
                {"type": "ndjson", "name": "slow", "cluster": "rx_slow", "timeout_ms": 300},
            ],
            buffer={"max_events": 5},
            retry={"max_attempts": 2, "backoff_ms": 100, "max_backoff_ms": 200},
        ),
    }
    clusters_live = {f"rx_{k}": ("127.0.0.1", receivers[k].port) for k in ("ndjson_ocsf", "hec", "bulk", "ndjson_ecs")}
    clusters_down = {
        "rx_closed": ("127.0.0.1", closed_port()),
        "rx_unavailable": ("127.0.0.1", receivers["unavailable"].port),
        "rx_slow": ("127.0.0.1", receivers["slow"].port),
    }
    started = {}
    try:
        for name, cfg, clusters in (("live", live_cfg, clusters_live), ("down", down_cfg, clusters_down)):
            e = harness.Envoy(
                plugin_config=cfg,
                upstream_port=upstream.port,
                module=module_path,
                workdir=tmp_path_factory.mktemp(f"envoy-events-{name}"),
                clusters=clusters,
            )
            e.launch()
            started[name] = e
        deadline = time.monotonic() + harness.DEFAULT_START_TIMEOUT
        for e in started.values():
            e._wait_admin(deadline)
            e._wait_listener(deadline)
        yield started
    finally:
        for e in started.values():
            e.stop()


@pytest.fixture
def live(envoys):
    return envoys["live"]


@pytest.fixture
def down(envoys):
    return envoys["down"]


def metric(envoy: harness.Envoy, name: str, **labels: str) -> float:
    total = 0.0
    for series, value in harness.prometheus_samples(envoy.stats_prometheus()).items():
        base, _, rest = series.partition("{")
        if base == name and all(f'{k}="{v}"' in rest for k, v in labels.items()):
            total += value
    return total


def _notable(resp: harness.Response) -> bool:
    if resp.status != 200 and resp.headers.get("content-type", "").startswith("application/problem"):
        return True
    return resp.annotations().get("action", "allow") != "allow"


# ---------------------------------------------------------------------------------------------
# Events arrive, in batches, valid, one per notable request


def test_events_arrive_in_batches_valid_and_one_per_notable_request(live, receivers):
    before = {k: len(receivers[k].snapshot()) for k in ("ndjson_ocsf", "hec", "bulk", "ndjson_ecs")}
    before_docs = {
        "ndjson_ocsf": len(ndjson_events(receivers["ndjson_ocsf"])),
        "hec": len(hec_events(receivers["hec"])),
        "bulk": len(bulk_docs(receivers["bulk"])),
        "ndjson_ecs": len(ndjson_events(receivers["ndjson_ecs"])),
    }
    incidents = set()
    notable = alerts = 0
    for _ in range(3):
        for call in ATTACKS + BENIGN:
            resp = call.send(live)
            if _notable(resp):
                notable += 1
            if resp.status == 403:
                alerts += 1
                incidents.add(resp.headers["x-apiward-incident"])
    assert alerts >= 9, "the attacks were denied"

    def arrived():
        ocsf = ndjson_events(receivers["ndjson_ocsf"])[before_docs["ndjson_ocsf"] :]
        return ocsf if sum(e["class_uid"] == 4002 for e in ocsf) >= notable else None

    ocsf = wait_for(arrived, timeout=10)
    assert ocsf, f"expected {notable} HTTP Activity events"
    time.sleep(0.6)  # anything extra would have arrived by now
    ocsf = ndjson_events(receivers["ndjson_ocsf"])[before_docs["ndjson_ocsf"] :]
    activities = [e for e in ocsf if e["class_uid"] == 4002]
    findings = [e for e in ocsf if e["class_uid"] == 2004]
    assert len(activities) == notable
    assert len(findings) == alerts
    assert {f["finding_info"]["uid"] for f in findings} == incidents
    for e in ocsf:
        assert ocsf_errors(e) == [], (ocsf_errors(e), e)
        assert e["metadata"]["version"] == "1.8.0" and e["metadata"]["product"]["name"] == "apiward"
        assert e["type_uid"] == e["class_uid"] * 100 + e["activity_id"]
    denied = [e for e in activities if e["disposition_id"] == 2]
    assert len(denied) == alerts and all(e["action_id"] == 2 and e["is_alert"] for e in denied)
    for f in findings:
        ev = f["evidences"][0]
        assert set(ev) >= {"http_request", "src_endpoint", "url"}
        assert ev["src_endpoint"]["ip"] == "127.0.0.0", "client_ip truncate: /24"

    hec = hec_events(receivers["hec"])[before_docs["hec"] :]
    assert sorted(json.dumps(e, sort_keys=True) for e in hec) == sorted(
        json.dumps(e, sort_keys=True) for e in ocsf
    ), "the HEC sink got the same OCSF events"
    for ecs_name in ("bulk", "ndjson_ecs"):
        docs = (bulk_docs if ecs_name == "bulk" else ndjson_events)(receivers[ecs_name])[before_docs[ecs_name] :]
        assert len(docs) == notable, ecs_name
        for d in docs:
            assert ecs_errors(d) == [], (ecs_errors(d), d)
        assert sum(d["event"]["kind"] == "alert" for d in docs) >= alerts
        assert {d["event"]["id"] for d in docs if "denied" in d["event"]["type"]} == incidents

    new = {k: receivers[k].snapshot()[before[k] :] for k in before}
    assert max(r["body"].count(b"\n") for r in new["ndjson_ocsf"]) > 1, "events are batched"
    assert all(r["path"] == "/ingest" for r in new["ndjson_ocsf"])
    assert all(r["headers"].get("authorization") == SINK_AUTH for r in new["ndjson_ocsf"])
    assert all(r["headers"]["content-type"] == "application/x-ndjson" for r in new["ndjson_ocsf"])
    assert all(r["headers"].get("authorization") == f"Splunk {HEC_TOKEN}" for r in new["hec"])
    assert all(r["path"] == "/services/collector/event" for r in new["hec"])
    assert all(r["path"] == "/_bulk" for r in new["bulk"])

    def emitted():
        n = metric(live, "apiward_events_emitted_total", sink="bulk")
        return n if n >= len(bulk_docs(receivers["bulk"])) else None

    assert wait_for(emitted, timeout=5) == len(bulk_docs(receivers["bulk"]))
    assert metric(live, "apiward_events_dropped_total") == 0
    # Histograms reach the admin endpoint at Envoy's stats flush (every 5 s).
    assert wait_for(lambda: metric(live, "apiward_events_batch_latency_ms_count", sink="hec"), timeout=12)


def test_an_alert_reaches_the_receiver_within_one_second(live, receivers):
    resp = SQLI_IN_QUERY.send(live)
    answered = time.monotonic()
    incident = assert_problem_json_403(resp) and resp.headers["x-apiward-incident"]

    def finding():
        for r in receivers["ndjson_ocsf"].snapshot():
            for line in r["body"].split(b"\n"):
                if line and incident.encode() in line and b'"class_uid":2004' in line:
                    return r["at"]
        return None

    at = wait_for(finding, timeout=5, interval=0.02)
    assert at, "no Detection Finding for the incident"
    assert at - answered < 1.0, f"alert took {at - answered:.3f} s"


# ---------------------------------------------------------------------------------------------
# Privacy: every kind of secret planted in a request, none reaches a receiver

JWT = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhbGljZS0xMjM0NSJ9.c2lnbmF0dXJlLXNpZ25hdHVyZS1zaWc"
SECRETS = {
    "email": "alice.secret@example.org",
    "card": "4111111111111111",
    "card_spaced": "5500 0000 0000 0004",
    "iban": "DE89370400440532013000",
    "ssn": "123-45-6789",
    "phone": "+44 20 7946 0958",
    "jwt": JWT,
    "aws": "AKIAIOSFODNN7EXAMPLE",
    "github": "ghp_aBcDeFgHiJkLmNoPqRsTuVwXyZ0123456789",
    "slack": "xoxb-123456789012-abcdefABCDEF",
    "stripe": "sk_live_4eC39HqLyjWDarjtT1zdp7dc",
    "generic": "x9Qm2LpR7vT4kZ8wN3bY6cH1dF5gJ0sA",
    "password": "hunter2-Correct-Horse",
    "cookie": "sessionid=s3ss10n-c00k13-value",
    "api_key_header": "k3y-in-x-api-key-header-123",
}


def test_planted_secrets_never_reach_any_receiver(live, receivers):
    s = SECRETS
    query = "&".join(
        [
            "q=" + quote_plus("1' UNION SELECT username, password FROM users--"),
            "contact=" + quote(s["email"]),
            "phone=" + quote(s["phone"]),
            "token=" + quote(s["github"]),
            "note=" + quote(f"ssn {s['ssn']} iban {s['iban']}"),
        ]
    )
    path = f"/api/search/{quote(s['card'])}?{query}"
    body = json.dumps(
        {
            "password": s["password"],
            "card": s["card_spaced"],
            "keys": [s["aws"], s["slack"], s["stripe"]],
            "free_text": f"my key is {s['generic']} and jwt {s['jwt']}",
        }
    )
    headers = {
        **JSON,
        "authorization": f"Bearer {s['jwt']}",
        "cookie": s["cookie"],
        "x-api-key": s["api_key_header"],
        "user-agent": f"planted/1.0 ({s['email']})",
    }
    resp = live.request("POST", path, body=body, headers=headers, timeout=10)
    assert resp.status == 403, resp.body
    incident = resp.headers["x-apiward-incident"]

    def everywhere():
        return all(
            incident.encode() in receivers[k].raw() for k in ("ndjson_ocsf", "hec", "bulk", "ndjson_ecs")
        )

    assert wait_for(everywhere, timeout=5), "the event reached every receiver"
    received = b"".join(receivers[k].raw() for k in receivers)
    assert b"[REDACTED" in received
    leaked = []
    for name, secret in s.items():
        for form in {secret, quote(secret), quote_plus(secret), quote(secret, safe="")}:
            if form.encode() in received:
                leaked.append((name, form))
    assert leaked == []
    assert HASH_KEY.encode() not in received
    # The principal is there as a keyed pseudonym only.
    mine = [e for e in ndjson_events(receivers["ndjson_ocsf"]) if e.get("metadata", {}).get("uid") == incident]
    assert mine and len(mine[0]["src_endpoint"]["owner"]["uid"]) == 32


# ---------------------------------------------------------------------------------------------
# Response inspection


def test_a_leaking_report_is_masked_with_a_correct_content_length(live, upstream, receivers):
    direct = harness.request(upstream.port, "GET", "/api/reports/payments")
    cards = [p["card"] for p in json.loads(direct.body)["payments"]]
    assert len(cards) == 50 and cards[0] == example_api.luhn_card(1)
    resp = live.request("GET", "/api/reports/payments")
    assert resp.status == 200
    assert int(resp.headers["content-length"]) == len(resp.body) == len(direct.body)
    assert resp.headers["x-apiward-dlp"] == "card=50"
    doc = json.loads(resp.body)
    masked = [p["card"] for p in doc["payments"]]
    assert all(m == "*" * 12 + c[-4:] for m, c in zip(masked, cards))
    assert not any(c.encode() in resp.body for c in cards)
    assert [p["amount_cents"] for p in doc["payments"]] == list(range(1001, 1051))

    def event():
        for e in ndjson_events(receivers["ndjson_ocsf"]):
            ri = e.get("unmapped", {}).get("apiward", {}).get("response_inspection")
            if ri and e["class_uid"] == 4002 and e["http_request"]["url"]["path"] == "/api/reports/payments":
                return e
        return None

    e = wait_for(event, timeout=5)
    assert e and e["unmapped"]["apiward"]["response_inspection"] == {"action": "mask", "counts": {"card": 50}}
    assert e["disposition"] == "Masked" and ocsf_errors(e) == []


def test_a_leaking_report_is_blocked_and_a_normal_one_is_untouched(live, down, upstream):
    resp = down.request("GET", "/api/reports/payments")
    assert resp.status == 502
    assert resp.headers["content-type"] == "application/problem+json"
    assert int(resp.headers["content-length"]) == len(resp.body)
    assert b"400000" not in resp.body
    assert json.loads(resp.body)["status"] == 502
    direct = harness.request(upstream.port, "GET", "/api/reports/summary").body
    for envoy in (live, down):
        through = envoy.request("GET", "/api/reports/summary")
        assert through.status == 200 and through.body == direct, "byte for byte"
        assert "x-apiward-dlp" not in through.headers


# ---------------------------------------------------------------------------------------------
# Sinks down: requests pass at normal latency, losses are counted


def test_sinks_down_never_delay_requests_and_losses_are_counted(live, down, receivers):
    def timed(envoy, n=20):
        lat = []
        for i in range(n):
            call = (ATTACKS + BENIGN)[i % 8]
            r = call.send(envoy)
            assert r.status in (200, 201, 403, 404), r.status
            lat.append(r.elapsed_ms)
        return lat

    healthy = timed(live)
    broken = timed(down)
    # A burst of alerts into a 5-event buffer while the sinks fail.
    for _ in range(30):
        SQLI_IN_QUERY.send(down)
    med_h, med_b = statistics.median(healthy), statistics.median(broken)
    print(f"\nlatency ms, healthy sinks: median {med_h:.1f} max {max(healthy):.1f}; "
          f"sinks down: median {med_b:.1f} max {max(broken):.1f}")
    # Functional bound: a request never waits for a sink (a sink timeout is 300 ms, a slow
    # receiver answers after 3 s).
    assert max(broken) < 1000

    def counted():
        m = {
            what: {s: metric(down, f"apiward_events_{what}_total", sink=s) for s in ("closed", "unavailable", "slow")}
            for what in ("emitted", "dropped", "retried", "failed")
        }
        ok = all(m["failed"][s] > 0 for s in m["failed"]) and all(m["dropped"][s] > 0 for s in m["dropped"])
        return m if ok else None

    m = wait_for(counted, timeout=15)
    print(f"sinks down metrics: {m}")
    assert m, "losses were counted per sink"
    assert all(v == 0 for v in m["emitted"].values())
    assert all(v > 0 for v in m["retried"].values()), "5xx, timeouts and refused connections are retried"
    assert receivers["unavailable"].snapshot(), "the 503 receiver was tried"
