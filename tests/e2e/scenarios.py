"""Requests and checks shared by the e2e tests."""

from __future__ import annotations

import json
import re
import time
from dataclasses import dataclass, field
from urllib.parse import urlencode

import harness

JSON = {"content-type": "application/json"}
FORM = {"content-type": "application/x-www-form-urlencoded"}

# What x-apiward-action may say (in monitor mode: what enforce would do).
ACTIONS = ("allow", "annotate", "challenge", "throttle", "deny", "block", "revoke")
ANNOTATIONS = ("score", "class", "action", "mode", "reasons", "request-id", "latency-us")


@dataclass(frozen=True)
class Call:
    """One request: what it is, and the class the filter should give it."""

    name: str
    method: str
    path: str
    body: bytes | None = None
    headers: dict = field(default_factory=dict)
    expected_class: str = "benign"

    def send(self, envoy: harness.Envoy, timeout: float = 10.0) -> harness.Response:
        return envoy.request(
            self.method, self.path, body=self.body, headers=self.headers, timeout=timeout
        )


BENIGN_GET = Call("benign GET user", "GET", "/api/users/2")
BENIGN_SEARCH = Call("benign search", "GET", "/api/search?q=grace%20hopper&limit=10")
BENIGN_POST_JSON = Call(
    "benign JSON order",
    "POST",
    "/api/orders",
    body=json.dumps(
        {
            "user_id": 2,
            "sku": "BK-0042",
            "quantity": 2,
            "shipping": {"city": "Lyon", "zip": "69002"},
        }
    ).encode(),
    headers=JSON,
)
BENIGN_POST_FORM = Call(
    "benign form comment",
    "POST",
    "/api/comments",
    body=urlencode({"author": "Alan", "text": "Thanks, the delivery was quick!"}).encode(),
    headers=FORM,
)

SQLI_IN_QUERY = Call(
    "SQLi in query",
    "GET",
    "/api/search?" + urlencode({"q": "1' UNION SELECT username, password FROM users--"}),
    expected_class="sqli",
)
XSS_IN_JSON_BODY = Call(
    "XSS in JSON body",
    "POST",
    "/api/orders",
    body=json.dumps(
        {"user_id": 2, "sku": "BK-0042", "note": "<script>alert(document.cookie)</script>"}
    ).encode(),
    headers=JSON,
    expected_class="xss",
)
TRAVERSAL_IN_PATH = Call(
    "path traversal in path",
    "GET",
    "/api/files/../../../../etc/passwd",
    expected_class="path_traversal",
)
CMDI_IN_FORM_BODY = Call(
    "command injection in form body",
    "POST",
    "/api/comments",
    body=urlencode({"author": "bob", "text": "nice; cat /etc/passwd"}).encode(),
    headers=FORM,
    expected_class="cmdi",
)

ATTACKS = [SQLI_IN_QUERY, XSS_IN_JSON_BODY, TRAVERSAL_IN_PATH, CMDI_IN_FORM_BODY]
BENIGN = [BENIGN_GET, BENIGN_SEARCH, BENIGN_POST_JSON, BENIGN_POST_FORM]


def assert_annotated(
    resp: harness.Response,
    *,
    action: str | None = None,
    cls: str | None = None,
    mode: str | None = None,
    prefix: str = harness.ANNOTATION_PREFIX,
) -> dict[str, str]:
    """The request reached the upstream with every annotation, well formed."""
    ann = resp.annotations(prefix)
    missing = [a for a in ANNOTATIONS if a not in ann]
    assert not missing, f"missing annotations {missing}; upstream saw {resp.echoed_headers}"
    score = float(ann["score"])
    assert 0.0 <= score <= 1.0 and re.fullmatch(r"\d\.\d{3}", ann["score"]), ann["score"]
    assert ann["action"] in ACTIONS, ann
    assert ann["mode"] in ("monitor", "enforce"), ann
    assert int(ann["latency-us"]) >= 0, ann
    assert ann["request-id"], ann
    if action is not None:
        assert ann["action"] == action, f"expected action {action}: {ann}"
    if cls is not None:
        assert ann["class"] == cls, f"expected class {cls}: {ann}"
    if mode is not None:
        assert ann["mode"] == mode, f"expected mode {mode}: {ann}"
    return ann


def assert_problem_json_403(resp: harness.Response, prefix: str = harness.ANNOTATION_PREFIX) -> dict:
    """An RFC 9457 deny that reveals no scores, classes or internals; the incident id is
    also in the `<prefix>incident` response header."""
    assert resp.status == 403, (resp.status, resp.body[:500])
    assert resp.headers.get("content-type", "").startswith("application/problem+json"), resp.headers
    problem = resp.json()
    for key in ("type", "title", "status", "detail", "incident_id"):
        assert key in problem, problem
    assert problem["status"] == 403, problem
    assert resp.headers.get(f"{prefix}incident"), resp.headers
    assert str(problem["incident_id"]) == resp.headers[f"{prefix}incident"], (
        problem,
        resp.headers,
    )
    text = resp.body.decode(errors="replace").lower()
    for leak in ("score", "sqli", "xss", "cmdi", "path_traversal", "model:", "p=0."):
        assert leak not in text, f"deny body leaks {leak!r}: {text}"
    return problem


def worker_connections(envoy: harness.Envoy) -> dict[str, float]:
    """downstream_cx_total per worker of the listener (from /stats)."""
    text = harness.http_get(envoy.admin_port, "/stats?filter=worker_.*downstream_cx_total").body
    out = {}
    for line in text.decode().splitlines():
        m = re.match(r"listener\.[^:]+?\.(worker_\d+)\.downstream_cx_total: (\d+)", line)
        if m:
            out[m.group(1)] = out.get(m.group(1), 0) + float(m.group(2))
    return out


def admin_stat(envoy: harness.Envoy, name: str) -> float:
    """One counter/gauge from /stats by exact name (0 if absent)."""
    body = harness.http_get(envoy.admin_port, f"/stats?filter=^{re.escape(name)}$").body.decode()
    for line in body.splitlines():
        key, _, value = line.partition(": ")
        if key == name:
            try:
                return float(value)
            except ValueError:
                return 0.0
    return 0.0


def assert_filter_healthy(envoy: harness.Envoy, requests: int = 24) -> None:
    """The VMs of both workers still score and annotate a normal request, no VM died."""
    before = worker_connections(envoy)
    assert len(before) == 2, f"expected 2 workers, stats show {before}"
    for i in range(requests):
        resp = envoy.request("GET", f"/api/users/{1 + i % 3}", timeout=10)
        assert resp.status == 200, (i, resp.status, resp.body[:300])
        assert_annotated(resp, cls="benign")
    after = worker_connections(envoy)
    used = [w for w in after if after[w] > before.get(w, 0)]
    assert len(used) == 2, f"requests did not reach both workers: {before} -> {after}"
    log = envoy.log()
    for marker in ("panicked at", "wasm trap", "Plugin apiward failed"):
        assert marker not in log, f"Envoy log shows {marker!r}"
    assert admin_stat(envoy, "wasm.apiward.vm_reload") == 0, "a crashed VM was reloaded"


def wait_for(predicate, timeout: float = 15.0, interval: float = 0.5):
    """Polls `predicate` until it returns a truthy value; returns the last value."""
    deadline = time.monotonic() + timeout
    value = predicate()
    while not value and time.monotonic() < deadline:
        time.sleep(interval)
        value = predicate()
    return value
