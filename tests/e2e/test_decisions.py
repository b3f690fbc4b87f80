"""What the filter decides and how Envoy answers, in monitor and enforce mode."""

from __future__ import annotations

import re
import time

import pytest

import harness
from scenarios import (
    ATTACKS,
    BENIGN,
    BENIGN_GET,
    BENIGN_SEARCH,
    SQLI_IN_QUERY,
    XSS_IN_JSON_BODY,
    assert_annotated,
    assert_problem_json_403,
)


@pytest.mark.parametrize("call", BENIGN, ids=lambda c: c.name)
def test_benign_request_passes_with_allow_annotations_in_enforce_mode(enforce_envoy, call):
    resp = call.send(enforce_envoy)
    assert resp.status in (200, 201), (resp.status, resp.body[:300])
    assert_annotated(resp, action="allow", cls="benign", mode="enforce")


@pytest.mark.parametrize("call", BENIGN, ids=lambda c: c.name)
def test_benign_request_passes_with_allow_annotations_in_monitor_mode(monitor_envoy, call):
    resp = call.send(monitor_envoy)
    assert resp.status in (200, 201), (resp.status, resp.body[:300])
    assert_annotated(resp, action="allow", cls="benign", mode="monitor")


def test_benign_post_body_reaches_upstream_intact(enforce_envoy):
    body = b'{"user_id": 3, "sku": "BK-0042", "quantity": 1}'
    resp = enforce_envoy.request(
        "POST", "/api/orders", body=body, headers={"content-type": "application/json"}
    )
    assert resp.status == 201, resp.body[:300]
    echoed = resp.json()
    assert echoed["request"]["body_length"] == len(body)
    assert echoed["order"]["sku"] == "BK-0042"


@pytest.mark.parametrize("call", ATTACKS, ids=lambda c: c.name)
def test_attack_is_denied_with_problem_json_403_in_enforce_mode(enforce_envoy, call):
    resp = call.send(enforce_envoy)
    assert_problem_json_403(resp)


@pytest.mark.parametrize("call", ATTACKS, ids=lambda c: c.name)
def test_attack_reaches_upstream_annotated_deny_with_its_class_in_monitor_mode(monitor_envoy, call):
    resp = call.send(monitor_envoy)
    assert resp.status in (200, 201, 400, 404), (resp.status, resp.body[:300])
    assert resp.echoed_headers, "monitor mode must not answer locally"
    ann = assert_annotated(resp, action="deny", cls=call.expected_class, mode="monitor")
    assert float(ann["score"]) >= 0.5, ann


def test_a_request_of_inert_values_reaches_no_model(monitor_envoy):
    # A path of plain segments and a phrase of plain words: nothing that can break out of a
    # value, so nothing is scored (skip_inert_values).
    resp = BENIGN_SEARCH.send(monitor_envoy)
    ann = assert_annotated(resp, action="allow", cls="benign")
    assert "nothing to score" in ann["reasons"], ann


def test_a_value_seen_before_gets_the_same_verdict_from_the_score_cache(monitor_envoy):
    # Eight sends over fresh connections reach both workers' VMs, and after the first on each
    # the payload's scores come from that VM's cache: the verdict must not change.
    seen = set()
    for _ in range(8):
        ann = assert_annotated(SQLI_IN_QUERY.send(monitor_envoy), action="deny", cls="sqli")
        seen.add((ann["score"], ann["reasons"]))
    assert len(seen) == 1, seen
    (score, reasons), = seen
    assert float(score) >= 0.5 and "at query:q" in reasons, reasons


def test_empty_configuration_defaults_to_monitor_mode(empty_envoy):
    resp = SQLI_IN_QUERY.send(empty_envoy)
    assert resp.status == 200
    assert_annotated(resp, mode="monitor")


def test_deny_reasons_name_the_class_and_location(monitor_envoy):
    ann = assert_annotated(SQLI_IN_QUERY.send(monitor_envoy), action="deny")
    assert "sqli" in ann["reasons"], ann
    assert "query" in ann["reasons"], ann


def test_each_deny_gets_its_own_incident_id(enforce_envoy):
    ids = {
        assert_problem_json_403(XSS_IN_JSON_BODY.send(enforce_envoy))["incident_id"]
        for _ in range(4)
    }
    assert len(ids) == 4, ids


def test_each_request_gets_its_own_request_id(enforce_envoy):
    ids = {assert_annotated(BENIGN_GET.send(enforce_envoy))["request-id"] for _ in range(6)}
    assert len(ids) == 6, ids


def test_client_supplied_annotation_headers_are_replaced_not_trusted(enforce_envoy):
    forged = {"x-apiward-action": "allow", "x-apiward-class": "benign", "x-apiward-score": "0.000"}
    resp = enforce_envoy.request("GET", SQLI_IN_QUERY.path, headers=forged)
    assert_problem_json_403(resp)
    resp = enforce_envoy.request(
        "GET", BENIGN_GET.path, headers={"x-apiward-action": "deny", "x-apiward-score": "0.999"}
    )
    assert resp.status == 200
    ann = assert_annotated(resp, action="allow")
    assert "," not in ann["action"] and "," not in ann["score"], ann


def test_skipped_route_is_not_inspected_or_blocked(enforce_envoy):
    resp = enforce_envoy.request(
        "GET", "/internal/metrics?q=" + SQLI_IN_QUERY.path.split("q=", 1)[1]
    )
    assert resp.status == 404, (resp.status, resp.body[:300])  # the upstream's own 404
    ann = resp.annotations()
    assert ann.get("action") in (None, "allow"), ann


def test_route_mode_override_monitors_an_attack_on_an_enforced_listener(enforce_envoy):
    resp = enforce_envoy.request(
        "GET", "/api/legacy/search?q=" + SQLI_IN_QUERY.path.split("q=", 1)[1]
    )
    assert resp.status == 404, (resp.status, resp.body[:300])  # reached the upstream
    assert_annotated(resp, action="deny", cls="sqli", mode="monitor")


def test_attack_in_http2_request_is_denied_in_enforce_mode(enforce_envoy):
    resp = harness.h2_request(enforce_envoy.listen_port, b"GET", SQLI_IN_QUERY.path.encode())
    assert_problem_json_403(resp)


def test_json_body_sent_with_http2_trailers_is_scored(enforce_envoy):
    """HTTP/2 with trailers never sets end_of_stream on the body: decide on trailers."""
    resp = harness.h2_request(
        enforce_envoy.listen_port,
        b"POST",
        b"/api/orders",
        headers=[(b"content-type", b"application/json")],
        body=XSS_IN_JSON_BODY.body,
        trailers=[(b"x-checksum", b"abc")],
    )
    assert_problem_json_403(resp)
    resp = harness.h2_request(
        enforce_envoy.listen_port,
        b"POST",
        b"/api/orders",
        headers=[(b"content-type", b"application/json")],
        body=b'{"sku": "BK-0042", "quantity": 1}',
        trailers=[(b"x-checksum", b"abc")],
    )
    assert resp.status == 201, (resp.status, resp.body[:300])
    assert_annotated(resp, action="allow")


def test_chunked_json_body_without_content_length_is_scored(enforce_envoy):
    chunks = [XSS_IN_JSON_BODY.body[i : i + 16] for i in range(0, len(XSS_IN_JSON_BODY.body), 16)]
    body = b"".join(b"%x\r\n%s\r\n" % (len(c), c) for c in chunks) + b"0\r\n\r\n"
    resp = enforce_envoy.request(
        "POST",
        "/api/orders",
        body=body,
        headers={"content-type": "application/json", "transfer-encoding": "chunked"},
    )
    assert_problem_json_403(resp)


def test_minimal_annotations_are_action_score_and_request_id_in_three_header_writes(envoy_pool):
    from conftest import ENFORCE_CONFIG

    envoy = envoy_pool.get("minimal", {**ENFORCE_CONFIG, "annotations": "minimal"})

    def header_writes() -> float:
        samples = harness.prometheus_samples(envoy.stats_prometheus())
        return sum(
            v
            for series, v in samples.items()
            if series.startswith("apiward_host_calls_total{")
            and 'phase="request"' in series
            and 'call="header_write"' in series
        )

    # A client cannot slip the annotations the filter leaves out past it.
    forged = {"x-apiward-class": "benign", "x-apiward-reasons": "trusted", "x-apiward-mode": "monitor"}
    resp = envoy.request("GET", BENIGN_GET.path, headers=forged)
    assert resp.status == 200, resp.status
    ann = resp.annotations(harness.ANNOTATION_PREFIX)
    assert set(ann) == {"action", "score", "request-id"}, ann
    assert ann["action"] == "allow" and re.fullmatch(r"\d\.\d{3}", ann["score"]), ann
    assert_problem_json_403(SQLI_IN_QUERY.send(envoy))

    time.sleep(0.5)  # per-worker host-call counts are published on the tick (100 ms)
    before = header_writes()
    n = 10
    for _ in range(n):
        assert BENIGN_GET.send(envoy).status == 200
    time.sleep(0.5)
    assert header_writes() - before == 3 * n
