"""Hostile and oversized input neither kills a VM nor hangs a request.

After each input, every worker's VM must still score and annotate a normal request
(`assert_filter_healthy`). Every client call has a timeout.
"""

from __future__ import annotations

import json
import os

import pytest

import harness
from scenarios import (
    XSS_IN_JSON_BODY,
    assert_annotated,
    assert_filter_healthy,
    assert_problem_json_403,
)

MiB = 1024 * 1024

# (name, method, path (bytes allowed), headers, body): sent over HTTP/1.1.
HOSTILE_HTTP1 = [
    (
        "binary body",
        "POST",
        "/api/orders",
        {"content-type": "application/octet-stream"},
        os.urandom(48 * 1024),
    ),
    (
        "binary body labelled JSON",
        "POST",
        "/api/orders",
        {"content-type": "application/json"},
        bytes(range(256)) * 64,
    ),
    (
        "binary body labelled form",
        "POST",
        "/api/comments",
        {"content-type": "application/x-www-form-urlencoded"},
        b"a=\xff\xfe%&&==%zz" * 500,
    ),
    (
        "truncated JSON",
        "POST",
        "/api/orders",
        {"content-type": "application/json"},
        b'{"user_id": 2, "items": [{"sku": "BK-0042", "note": "abc',
    ),
    (
        "invalid UTF-8 inside JSON strings",
        "POST",
        "/api/orders",
        {"content-type": "application/json"},
        b'{"note": "\xc3\x28\xa0\xa1 \xf0\x28\x8c\xbc"}',
    ),
    (
        "deeply nested JSON",
        "POST",
        "/api/orders",
        {"content-type": "application/json"},
        b"[" * 50_000 + b"]" * 50_000,
    ),
    (
        "JSON with 20k keys",
        "POST",
        "/api/orders",
        {"content-type": "application/json"},
        json.dumps({f"k{i}": i for i in range(20_000)}).encode()[:60_000] + b"}",
    ),
    (
        "invalid UTF-8 header value",
        "GET",
        "/api/users/1",
        {"x-comment": b"caf\xe9 \xff\xfe\xc3\x28", "user-agent": b"\xf0\x9f\x92"},
        None,
    ),
    (
        "invalid UTF-8 cookie and authorization",
        "GET",
        "/api/users/1",
        {"cookie": b"session=\xff\xfe", "authorization": b"Bearer \xc3\x28.\xff.\x80"},
        None,
    ),
    (
        "malformed JWT and API key",
        "GET",
        "/api/users/1",
        {"authorization": "Bearer eyJ!!!.e30.", "x-api-key": "%%%"},
        None,
    ),
    (
        "bad percent-encoding and NUL in query",
        "GET",
        "/api/search?q=%zz%%%00%c0%ae%c0%ae%2f&x=%ff%fe&&&=&a[b][c]=1",
        {},
        None,
    ),
    (
        "5000 query parameters",
        "GET",
        "/api/search?" + "&".join(f"p{i}=v" for i in range(5000)),
        {},
        None,
    ),
    ("long header value", "GET", "/api/users/1", {"x-long": "A" * 50_000}, None),
    (
        "billion laughs XML",
        "POST",
        "/api/orders",
        {"content-type": "application/xml"},
        b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
        + b"".join(
            b'<!ENTITY lol%d "%s">' % (i, (b"&lol%d;" % (i - 1) if i > 1 else b"&lol;") * 10)
            for i in range(1, 10)
        )
        + b"]><lolz>&lol9;</lolz>",
    ),
    (
        "broken multipart",
        "POST",
        "/api/comments",
        {"content-type": "multipart/form-data; boundary=XyZ"},
        b'--XyZ\r\nContent-Disposition: form-data; name="a"\r\n\r\n\xff\xfe--Xy',
    ),
    (
        "empty body with content-length 0",
        "POST",
        "/api/orders",
        {"content-type": "application/json"},
        b"",
    ),
    ("unknown method", "PROPFIND", "/api/files/report.pdf", {}, None),
]


@pytest.fixture(params=["monitor", "enforce"])
def any_envoy(request) -> harness.Envoy:
    return request.getfixturevalue(f"{request.param}_envoy")


@pytest.mark.parametrize(
    "name,method,path,headers,body", HOSTILE_HTTP1, ids=[c[0] for c in HOSTILE_HTTP1]
)
def test_hostile_http1_input_gets_an_answer_and_leaves_every_vm_scoring(
    any_envoy, name, method, path, headers, body
):
    resp = any_envoy.request(method, path, headers=headers, body=body, timeout=15)
    # A dead VM answers 503 (failure_policy); a 5xx must come from the upstream itself.
    assert resp.status < 500 or resp.echoed_headers, (resp.status, resp.body[:300])
    assert_filter_healthy(any_envoy)


HOSTILE_HTTP2 = [
    ("non-UTF-8 bytes in path", b"GET", b"/api/users/\xff\xfe\xc3\x28", [], b""),
    ("non-UTF-8 bytes in query", b"GET", b"/api/search?q=\xc0\xae\xc0\xae\xff", [], b""),
    (
        "non-UTF-8 path with binary body",
        b"POST",
        b"/api/files/\xe9t\xe9.txt",
        [(b"content-type", b"application/json")],
        bytes(range(256)) * 8,
    ),
    ("invalid UTF-8 header value", b"GET", b"/api/users/1", [(b"x-bin", b"\xff\x80\xc3\x28")], b""),
]


@pytest.mark.parametrize(
    "name,method,path,headers,body", HOSTILE_HTTP2, ids=[c[0] for c in HOSTILE_HTTP2]
)
def test_hostile_http2_input_is_scored_and_leaves_every_vm_scoring(
    any_envoy, name, method, path, headers, body
):
    resp = harness.h2_request(
        any_envoy.listen_port, method, path, headers=headers, body=body, timeout=15
    )
    assert 0 < resp.status < 500, (resp.status, resp.body[:300])
    if resp.status != 403:
        assert_annotated(resp)
    assert_filter_healthy(any_envoy)


def test_non_utf8_path_over_http1_is_refused_by_envoy_before_the_filter(monitor_envoy):
    import socket

    with socket.create_connection(("127.0.0.1", monitor_envoy.listen_port), timeout=10) as s:
        s.sendall(b"GET /api/users/\xff\xfe HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        data = b""
        while chunk := s.recv(65536):
            data += chunk
    assert data.startswith(b"HTTP/1.1 400"), data[:200]
    assert_filter_healthy(monitor_envoy)


def test_two_mib_body_gets_an_answer_and_leaves_every_vm_scoring(any_envoy):
    body = json.dumps({"note": "x" * (2 * MiB)}).encode()
    resp = any_envoy.request(
        "POST", "/api/orders", body=body, headers={"content-type": "application/json"}, timeout=30
    )
    assert resp.status in (200, 201, 403, 413), (resp.status, resp.body[:300])
    assert_filter_healthy(any_envoy)


@pytest.mark.parametrize(
    "note",
    [
        pytest.param("lorem ipsum dolor " * (2 * MiB // 18), id="2MiB-beyond-envoy-buffer"),
        pytest.param("lorem ipsum " * 20_000, id="240KB-beyond-max_body_bytes"),
    ],
)
def test_body_over_max_body_bytes_is_forwarded_whole_and_scored_on_its_prefix(monitor_envoy, note):
    body = json.dumps({"sku": "BK-0042", "note": note}).encode()
    resp = monitor_envoy.request(
        "POST", "/api/orders", body=body, headers={"content-type": "application/json"}, timeout=30
    )
    assert resp.status == 201, (resp.status, resp.body[:300])
    assert resp.json()["request"]["body_length"] == len(body)
    ann = assert_annotated(resp)
    assert "truncated" in ann["reasons"], ann


def test_attack_at_start_of_large_body_is_denied_in_enforce_mode(enforce_envoy):
    attack = json.loads(XSS_IN_JSON_BODY.body)
    attack["padding"] = "lorem ipsum " * 20_000
    resp = enforce_envoy.request(
        "POST",
        "/api/orders",
        body=json.dumps(attack).encode(),
        headers={"content-type": "application/json"},
        timeout=30,
    )
    assert_problem_json_403(resp)


def test_slow_body_upload_is_decided_after_the_last_byte(monitor_envoy):
    import socket
    import time

    body = XSS_IN_JSON_BODY.body
    with socket.create_connection(("127.0.0.1", monitor_envoy.listen_port), timeout=15) as s:
        s.sendall(
            b"POST /api/orders HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
            b"Content-Type: application/json\r\nContent-Length: %d\r\n\r\n" % len(body)
        )
        for i in range(0, len(body), 20):
            s.sendall(body[i : i + 20])
            time.sleep(0.05)
        data = b""
        while chunk := s.recv(65536):
            data += chunk
    head, _, payload = data.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 201"), head
    echoed = json.loads(payload)["request"]
    assert echoed["body_length"] == len(body)
    assert echoed["headers"].get("x-apiward-action") == "deny", echoed["headers"]
    assert echoed["headers"].get("x-apiward-class") == "xss", echoed["headers"]
