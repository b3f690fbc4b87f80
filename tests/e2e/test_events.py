"""Security events to real HTTP receivers on loopback (NDJSON webhook, Splunk HEC, Elasticsearch
_bulk), validated against the OCSF 1.8.0 schema and ECS field definitions; privacy (planted
secrets never reach a receiver, client addresses truncated or keyed-hashed, principals
keyed-hashed); sinks down; the buffer bound across workers; response inspection (mask, block,
monitor mode, compressed bodies).

Two Envoys for the module: `live` sends to four healthy receivers (one per sink type and
encoding), truncates client addresses, masks /api/reports/ and inspects /api/legacy/ in monitor
mode; `down` hashes client addresses and sends to a closed port, a receiver answering 503, one
too slow for its timeout and an Elasticsearch `_bulk` receiver that refuses some items and can
hold batches unanswered, with a 5-event buffer, and blocks /api/reports/.
"""

from __future__ import annotations

import gzip
import hashlib
import hmac
import ipaddress
import json
import socket
import statistics
import threading
import time
import urllib.parse
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
    and answers with a fixed status (and optional delay). `bulk` answers like Elasticsearch's
    _bulk; with `refuse_every` n, every n-th item it receives gets a per-item error in a 200
    reply. `hold()` makes it keep every request unanswered until `release()`."""

    def __init__(self, status: int = 200, delay: float = 0.0, bulk: bool = False, refuse_every: int = 0):
        self.status = status
        self.delay = delay
        self.bulk = bulk
        self.refuse_every = refuse_every
        self.requests: list[dict] = []
        self.items_refused = 0
        self.items = 0
        self.held = 0  # requests waiting for release()
        self.gate = threading.Event()
        self.gate.set()
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
                    rx.held += 1
                rx.gate.wait(timeout=120)
                if rx.delay:
                    time.sleep(rx.delay)
                if rx.bulk and rx.status == 200:
                    items = []
                    for _ in range(body.count(b"\n") // 2):
                        with rx.lock:
                            rx.items += 1
                            refuse = rx.refuse_every and rx.items % rx.refuse_every == 0
                        if refuse:
                            error = {"type": "mapper_parsing_exception", "reason": "refused by the test"}
                            items.append({"create": {"status": 400, "error": error}})
                        else:
                            items.append({"create": {"status": 201}})
                    refused = sum(1 for it in items if "error" in it["create"])
                    with rx.lock:
                        rx.items_refused += refused
                    reply = json.dumps({"took": 1, "errors": refused > 0, "items": items}).encode()
                else:
                    reply = b'{"text":"Success","code":0}'
                with rx.lock:
                    rx.held -= 1
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

    def hold(self) -> None:
        self.gate.clear()

    def release(self) -> None:
        self.gate.set()

    def snapshot(self) -> list[dict]:
        with self.lock:
            return list(self.requests)

    def raw(self) -> bytes:
        return b"".join(r["body"] for r in self.snapshot())

    def stop(self) -> None:
        self.gate.set()
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


def bulk_docs(rx: Receiver, requests: list[dict] | None = None) -> list[dict]:
    """Elasticsearch _bulk: a create action line, then the document."""
    out = []
    for r in rx.snapshot() if requests is None else requests:
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
        "bulk_errors": Receiver(bulk=True, refuse_every=3),
    }
    yield rx
    for r in rx.values():
        r.stop()


@pytest.fixture(scope="module")
def envoys(receivers, upstream, module_path, tmp_path_factory):
    live_cfg = {
        "mode": "enforce",
        "behaviour": MODEL_FOCUSED_BEHAVIOUR,
        # One proxy in front: the client is the address it appends to X-Forwarded-For.
        "client_identity": {"trusted_xff_hops": 1},
        "routes": [
            {"prefix": "/api/reports/", "dlp": {"action": "mask"}},
            {"prefix": "/api/legacy/", "mode": "monitor", "dlp": {"action": "mask"}},
        ],
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
        "client_identity": {"trusted_xff_hops": 1},
        "routes": [{"prefix": "/api/reports/", "dlp": {"action": "block"}}],
        "events": _events_config(
            [
                {"type": "ndjson", "name": "closed", "cluster": "rx_closed", "timeout_ms": 300},
                {"type": "ndjson", "name": "unavailable", "cluster": "rx_unavailable", "timeout_ms": 300},
                {"type": "ndjson", "name": "slow", "cluster": "rx_slow", "timeout_ms": 300},
                {
                    "type": "elastic_bulk",
                    "name": "bulk_errors",
                    "cluster": "rx_bulk_errors",
                    "schema": "ecs",
                    "index": "logs-apiward-default",
                    "timeout_ms": 60000,
                },
            ],
            # Process-wide: the two workers together hold at most 5 events per sink.
            buffer={"max_events": 5},
            retry={"max_attempts": 2, "backoff_ms": 100, "max_backoff_ms": 200},
            privacy={"client_ip": "hash", "hash_key": HASH_KEY},
        ),
    }
    clusters_live = {f"rx_{k}": ("127.0.0.1", receivers[k].port) for k in ("ndjson_ocsf", "hec", "bulk", "ndjson_ecs")}
    clusters_down = {
        "rx_closed": ("127.0.0.1", closed_port()),
        "rx_unavailable": ("127.0.0.1", receivers["unavailable"].port),
        "rx_slow": ("127.0.0.1", receivers["slow"].port),
        "rx_bulk_errors": ("127.0.0.1", receivers["bulk_errors"].port),
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
    return harness.series_total(harness.prometheus_samples(envoy.stats_prometheus()), name, **labels)


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


def test_a_probe_denied_at_its_headers_is_a_valid_rule_finding_in_both_schemas(
    live, receivers
):
    resp = live.request("GET", "/.git/config")
    incident = assert_problem_json_403(resp)["incident_id"]

    def ocsf_mine(events: list[dict]) -> list[dict]:
        # metadata.uid: the incident id, `:finding` appended for the Detection Finding.
        return [e for e in events if e["metadata"].get("uid", "").split(":")[0] == incident]

    def ecs_mine(docs: list[dict]) -> list[dict]:
        return [d for d in docs if d["event"].get("id") == incident]

    def arrived():
        ocsf = ocsf_mine(ndjson_events(receivers["ndjson_ocsf"]))
        hec = ocsf_mine(hec_events(receivers["hec"]))
        ecs = ecs_mine(ndjson_events(receivers["ndjson_ecs"]))
        bulk = ecs_mine(bulk_docs(receivers["bulk"]))
        return (ocsf, ecs) if len(ocsf) == len(hec) == 2 and ecs and bulk else None

    got = wait_for(arrived, timeout=10, interval=0.1)
    assert got, "the probe's events did not reach every receiver"
    ocsf, ecs = got
    activity = next(e for e in ocsf if e["class_uid"] == 4002)
    finding = next(e for e in ocsf if e["class_uid"] == 2004)
    for e in ocsf:
        assert ocsf_errors(e) == [], (ocsf_errors(e), e)
        rule = e["firewall_rule"]
        assert (rule["name"], rule["type"], rule["match_location"]) == (
            "restricted_file",
            "probe",
            "path",
        )
        assert rule["condition"] == "probe:restricted_file metadata:.git at path", rule
        apiward = e["unmapped"]["apiward"]
        assert apiward["probe"] == {
            "category": "metadata",
            "rule": ".git",
            "location": "path",
            "action": "deny",
        }
        assert apiward["reasons"][1] == "model not run: restricted resource", apiward
    assert activity["disposition_id"] == 2, activity
    assert activity["http_request"]["url"]["path"] == "/.git/config", activity
    assert finding["finding_info"]["analytic"]["type_id"] == 1, finding["finding_info"]
    assert finding["finding_info"]["types"] == ["probe", "restricted_file"]
    doc = ecs[0]
    assert ecs_errors(doc) == [], (ecs_errors(doc), doc)
    assert (doc["event"]["kind"], doc["rule"]["category"]) == ("alert", "probe")
    assert doc["threat"]["technique"]["subtechnique"]["id"] == ["T1595.003"], doc["threat"]
    assert doc["labels"]["apiward_probe"] == "metadata:.git"


def test_an_executable_upload_is_a_valid_web_shell_finding_in_both_schemas(live, receivers):
    boundary = b"apiwardEventsBoundary"
    body = (
        b"--" + boundary + b'\r\nContent-Disposition: form-data; name="file"; filename="cmd.jsp"\r\n'
        b"Content-Type: image/png\r\n\r\n\x89PNG\r\n\x1a\n" + bytes(range(32)) * 4
        + b"\r\n--" + boundary + b"--\r\n"
    )
    resp = live.request(
        "POST",
        "/api/comments",
        body=body,
        headers={"content-type": "multipart/form-data; boundary=" + boundary.decode()},
    )
    incident = assert_problem_json_403(resp)["incident_id"]

    def arrived():
        ocsf = [
            e
            for e in ndjson_events(receivers["ndjson_ocsf"])
            if e["metadata"].get("uid", "").split(":")[0] == incident
        ]
        ecs = [d for d in ndjson_events(receivers["ndjson_ecs"]) if d["event"].get("id") == incident]
        return (ocsf, ecs) if len(ocsf) == 2 and ecs else None

    got = wait_for(arrived, timeout=10, interval=0.1)
    assert got, "the upload's events did not arrive"
    ocsf, ecs = got
    for e in ocsf:
        assert ocsf_errors(e) == [], (ocsf_errors(e), e)
        rule = e["firewall_rule"]
        assert (rule["name"], rule["type"], rule["match_location"]) == (
            "unrestricted_upload",
            "probe",
            "multipart:file#filename",
        )
        assert e["unmapped"]["apiward"]["probe"] == {
            "category": "upload",
            "rule": ".jsp",
            "location": "multipart:file#filename",
            "action": "deny",
        }
        assert e["unmapped"]["apiward"]["reasons"][1] == "model not run: executable upload"
    doc = ecs[0]
    assert ecs_errors(doc) == [], (ecs_errors(doc), doc)
    assert (doc["event"]["kind"], doc["rule"]["category"]) == ("alert", "probe")
    assert doc["threat"]["technique"]["subtechnique"]["id"] == ["T1505.003"], doc["threat"]
    assert doc["labels"]["apiward_probe"] == "upload:.jsp"


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


def test_sinks_down_pass_requests_and_losses_are_counted(live, down, receivers):
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
    # Printed, not asserted (speed belongs to the benchmark); that a request never waits for a
    # sink is shown causally in test_the_buffer_bound_holds_across_workers_*: requests complete
    # while a receiver holds a batch unanswered.
    print(f"\nlatency ms, healthy sinks: median {med_h:.1f} max {max(healthy):.1f}; "
          f"sinks down: median {med_b:.1f} max {max(broken):.1f}")

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


# ---------------------------------------------------------------------------------------------
# The buffer bound across workers; Elasticsearch per-item errors


def worker_connections(envoy: harness.Envoy) -> dict[str, int]:
    """Connections each Envoy worker accepted on the listener (listener.*.worker_N stats)."""
    pattern = urllib.parse.quote(r"worker_[0-9]+\.downstream_cx_total$")
    body = harness.http_get(envoy.admin_port, f"/stats?filter={pattern}").body
    out = {}
    for line in body.decode().splitlines():
        name, _, value = line.partition(": ")
        if name.startswith("listener.") and "admin" not in name:
            worker = name.split(".worker_")[1].split(".")[0]
            out[worker] = out.get(worker, 0) + int(value)
    return out


def sink_counts(envoy: harness.Envoy, sink: str) -> dict[str, float]:
    return {
        what: metric(envoy, f"apiward_events_{what}_total", sink=sink)
        for what in ("emitted", "failed", "dropped", "retried")
    }


def settle(envoy: harness.Envoy, rx: Receiver, sink: str) -> dict[str, float]:
    """Waits until the sink has nothing in flight and its counters stopped moving."""
    last = None
    for _ in range(40):
        now = sink_counts(envoy, sink)
        if now == last and rx.held == 0:
            return now
        last = now
        time.sleep(0.7)  # > batch.max_age_ms + a tick: anything buffered has left
    raise AssertionError(f"sink {sink} never settled: {last}")


def test_the_buffer_bound_holds_across_workers_and_requests_never_wait_for_a_sink(down, receivers):
    rx = receivers["bulk_errors"]
    before = settle(down, rx, "bulk_errors")
    first_request = len(rx.snapshot())
    refused_before = rx.items_refused
    workers_before = worker_connections(down)
    assert len(workers_before) == 2, workers_before
    rx.hold()
    try:
        sent = 1
        assert SQLI_IN_QUERY.send(down).status == 403
        assert wait_for(lambda: rx.held >= 1, timeout=10), "the first batch reached the receiver"
        # Every request completes while the receiver holds a batch unanswered (the sink's
        # timeout is 60 s): a request never waits for a sink.
        for _ in range(39):
            assert SQLI_IN_QUERY.send(down).status == 403
            sent += 1
        assert rx.held >= 1
        workers = worker_connections(down)
        served = {w: workers[w] - workers_before.get(w, 0) for w in workers}
        assert all(n > 0 for n in served.values()), f"both workers published events: {served}"
        # Each worker alone could buffer 5; together they hold at most 5: the rest is dropped
        # as it is published.
        dropped = wait_for(
            lambda: (d := sink_counts(down, "bulk_errors")["dropped"] - before["dropped"]) >= sent - 5 and d,
            timeout=10,
        )
        assert dropped >= sent - 5, dropped
    finally:
        rx.release()

    def accounted():
        now = sink_counts(down, "bulk_errors")
        done = sum(now[k] - before[k] for k in ("emitted", "failed", "dropped"))
        return now if done >= sent and rx.held == 0 else None

    now = wait_for(accounted, timeout=20)
    assert now, f"every event accounted for: {sink_counts(down, 'bulk_errors')} from {before}"
    delta = {k: now[k] - before[k] for k in now}
    docs = bulk_docs(rx, rx.snapshot()[first_request:])
    print(f"\nbuffer bound 5 across 2 workers, {sent} alerts, served per worker {served}: "
          f"{len(docs)} delivered to the receiver, counters {delta}")
    assert 1 <= len(docs) <= 5, "at most buffer.max_events held by all workers together"
    assert delta["emitted"] + delta["failed"] + delta["dropped"] == sent
    assert delta["dropped"] == sent - len(docs)
    # Per-item errors in a 200 reply are failed events, not retried.
    refused = rx.items_refused - refused_before
    assert delta["failed"] == refused and delta["emitted"] == len(docs) - refused
    assert delta["retried"] == 0
    for d in docs:
        assert ecs_errors(d) == [], (ecs_errors(d), d)


def test_bulk_item_errors_in_a_200_reply_are_counted_failed(down, receivers):
    rx = receivers["bulk_errors"]
    before = settle(down, rx, "bulk_errors")
    first_request = len(rx.snapshot())
    refused_before = rx.items_refused
    # One at a time into the 5-event buffer, so that none is dropped; the receiver refuses
    # every third item it gets.
    sent = 0
    for _ in range(6):
        assert SQLI_IN_QUERY.send(down).status == 403
        sent += 1
        wait_for(
            lambda: sum(sink_counts(down, "bulk_errors")[k] - before[k] for k in ("emitted", "failed", "dropped"))
            >= sent,
            timeout=10,
        )
    now = settle(down, rx, "bulk_errors")
    delta = {k: now[k] - before[k] for k in now}
    received = len(bulk_docs(rx, rx.snapshot()[first_request:]))
    refused = rx.items_refused - refused_before
    print(f"\n_bulk with per-item errors: {sent} alerts, {received} documents received, "
          f"{refused} refused by the receiver, counters {delta}")
    assert refused == 2 and received == sent
    assert delta["failed"] == refused
    assert delta["emitted"] == received - refused
    assert delta["emitted"] + delta["failed"] + delta["dropped"] == sent
    assert delta["retried"] == 0


# ---------------------------------------------------------------------------------------------
# Client addresses and principals


def pseudonym(value: str, domain: str = "ip") -> str:
    """apiward's keyed pseudonym: HMAC-SHA-256 under the hash key, first 128 bits, hex."""
    msg = domain.encode() + b"\0" + value.encode()
    return hmac.new(HASH_KEY.encode(), msg, hashlib.sha256).hexdigest()[:32]


def by_incident(docs: list[dict], incident: str, ecs: bool = False) -> list[dict]:
    if ecs:
        return [d for d in docs if d.get("event", {}).get("id") == incident]
    return [e for e in docs if e.get("metadata", {}).get("uid") == incident or e.get("finding_info", {}).get("uid") == incident]


def test_client_addresses_are_truncated_to_24_and_48_bits(live, receivers):
    cases = {"203.0.113.77": "203.0.113.0", "2001:db8:85a3:8d3:1319:8a2e:370:7348": "2001:db8:85a3::"}
    incidents = {}
    for address in cases:
        resp = live.request("GET", SQLI_IN_QUERY.path, headers={"x-forwarded-for": address})
        assert resp.status == 403
        incidents[address] = resp.headers["x-apiward-incident"]

    def arrived():
        ocsf = ndjson_events(receivers["ndjson_ocsf"])
        ecs = ndjson_events(receivers["ndjson_ecs"])
        ok = all(len(by_incident(ocsf, i)) == 2 and by_incident(ecs, i, ecs=True) for i in incidents.values())
        return (ocsf, ecs) if ok else None

    got = wait_for(arrived, timeout=10)
    assert got, "the events of both requests arrived"
    ocsf, ecs = got
    for address, truncated in cases.items():
        activity, finding = sorted(by_incident(ocsf, incidents[address]), key=lambda e: e["class_uid"], reverse=True)
        assert activity["src_endpoint"] == {"ip": truncated}
        assert finding["evidences"][0]["src_endpoint"] == {"ip": truncated}
        assert ocsf_errors(activity) == [] and ocsf_errors(finding) == []
        (doc,) = by_incident(ecs, incidents[address], ecs=True)
        assert doc["source"] == {"ip": truncated} and ecs_errors(doc) == []
    received = b"".join(receivers[k].raw() for k in ("ndjson_ocsf", "hec", "bulk", "ndjson_ecs"))
    for address in cases:
        assert address.encode() not in received
        assert str(ipaddress.ip_address(address)).encode() not in received


def test_client_addresses_and_principals_are_keyed_pseudonyms(down, receivers):
    rx = receivers["bulk_errors"]
    settle(down, rx, "bulk_errors")
    tokens = {"alpha": "tok-alpha-5f1c0e2b9d7a4c3e", "beta": "tok-beta-8a6d2f4e1b3c5a7d"}
    calls = [("203.0.113.7", "alpha"), ("203.0.113.7", "alpha"), ("198.51.100.9", "alpha"), ("2001:db8::7", "beta")]
    seen = []
    for address, who in calls:
        headers = {"x-forwarded-for": address, "authorization": f"Bearer {tokens[who]}"}
        resp = down.request("GET", SQLI_IN_QUERY.path, headers=headers)
        assert resp.status == 403
        incident = resp.headers["x-apiward-incident"]
        # One at a time into the 5-event buffer, so that none is dropped.
        docs = wait_for(lambda: by_incident(bulk_docs(rx), incident, ecs=True), timeout=10)
        assert docs, f"the ECS document of {address} arrived"
        seen.append((address, who, incident, docs[0]))
    for address, _, _, doc in seen:
        assert ecs_errors(doc) == [], (ecs_errors(doc), doc)
        assert doc["source"] == {"address": pseudonym(address)}, "no source.ip, only the keyed pseudonym"
    users = {who: {d["user"]["hash"] for _, w, _, d in seen if w == who} for who in tokens}
    assert all(len(u) == 1 for u in users.values()), "one pseudonym per principal"
    assert users["alpha"] != users["beta"]
    assert all(len(next(iter(u))) == 32 for u in users.values())
    # The same pseudonyms in OCSF, as the 503 receiver got them (each batch is still sent).
    ocsf = wait_for(
        lambda: (evs := [e for r in receivers["unavailable"].snapshot() for e in map(json.loads, filter(None, r["body"].split(b"\n")))])
        and all(by_incident(evs, inc) for _, _, inc, _ in seen) and evs,
        timeout=10,
    )
    assert ocsf, "the OCSF events reached the 503 receiver"
    for address, who, incident, doc in seen:
        for e in by_incident(ocsf, incident):
            src = e["src_endpoint"] if e["class_uid"] == 4002 else e["evidences"][0]["src_endpoint"]
            assert "ip" not in src and src["uid"] == pseudonym(address)
            assert src["owner"]["uid"] == doc["user"]["hash"]
            assert ocsf_errors(e) == []
    received = b"".join(receivers[k].raw() for k in ("unavailable", "slow", "bulk_errors"))
    assert HASH_KEY.encode() not in received, "the key never leaves"
    for address, _ in calls:
        assert address.encode() not in received
    for token in tokens.values():
        assert token.encode() not in received


# ---------------------------------------------------------------------------------------------
# Response inspection in monitor mode, and compressed responses


def test_monitor_mode_dlp_annotates_and_never_changes_the_body(live, upstream, receivers):
    direct = harness.request(upstream.port, "GET", "/api/legacy/reports/payments")
    assert direct.status == 200 and direct.body.count(b'"card"') == 50
    annotated = metric(live, "apiward_dlp_responses_total", outcome="annotated")
    resp = live.request("GET", "/api/legacy/reports/payments")
    assert resp.status == 200
    assert resp.body == direct.body, "byte for byte"
    assert int(resp.headers["content-length"]) == len(direct.body)
    assert resp.headers["x-apiward-dlp"] == "card=50"
    assert metric(live, "apiward_dlp_responses_total", outcome="annotated") == annotated + 1

    def events():
        ocsf = [
            e
            for e in ndjson_events(receivers["ndjson_ocsf"])
            if e["class_uid"] == 4002 and e["http_request"]["url"]["path"] == "/api/legacy/reports/payments"
        ]
        ecs = [d for d in ndjson_events(receivers["ndjson_ecs"]) if d.get("url", {}).get("path") == "/api/legacy/reports/payments"]
        return (ocsf[-1], ecs[-1]) if ocsf and ecs else None

    got = wait_for(events, timeout=10)
    assert got, "the monitor-mode finding became an event"
    e, d = got
    assert e["unmapped"]["apiward"]["response_inspection"] == {"action": "annotate", "counts": {"card": 50}}
    assert (e["action"], e["disposition"]) == ("Allowed", "Detected") and e["is_alert"]
    assert ocsf_errors(e) == []
    assert d["labels"]["apiward_response_action"] == "annotate" and ecs_errors(d) == []


def test_a_compressed_leaking_report_passes_unread_and_the_skip_is_reported(live, upstream, receivers):
    gz = {"accept-encoding": "gzip"}
    direct = harness.request(upstream.port, "GET", "/api/reports/payments", headers=gz)
    assert direct.headers["content-encoding"] == "gzip"
    skipped = metric(live, "apiward_dlp_responses_total", outcome="skipped")
    resp = live.request("GET", "/api/reports/payments", headers=gz)
    # Documented choice: no decompression in the VM; the body passes as the upstream sent it
    # (so the cards inside are NOT masked) and the skip is reported with its reason.
    assert resp.status == 200 and resp.headers["content-encoding"] == "gzip"
    assert resp.body == direct.body, "byte for byte"
    assert "x-apiward-dlp" not in resp.headers
    assert gzip.decompress(resp.body).count(b'"card"') == 50
    assert metric(live, "apiward_dlp_responses_total", outcome="skipped") == skipped + 1

    def event():
        for e in ndjson_events(receivers["ndjson_ocsf"]):
            ri = e.get("unmapped", {}).get("apiward", {}).get("response_inspection", {})
            if e["class_uid"] == 4002 and ri.get("skipped"):
                return e
        return None

    e = wait_for(event, timeout=10)
    assert e, "the skip became an event"
    assert e["unmapped"]["apiward"]["response_inspection"]["skipped"] == "content-encoding gzip not inspected"
    assert e["http_request"]["url"]["path"] == "/api/reports/payments" and ocsf_errors(e) == []


# ---------------------------------------------------------------------------------------------
# The committed samples (make event-samples regenerates them from a real Envoy)


def test_the_committed_event_samples_are_valid():
    import event_samples

    found = event_samples.check(event_samples.HERE / "events")
    assert found == {name: [] for name in event_samples.SAMPLES}, found
