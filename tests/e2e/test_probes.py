"""Restricted-resource probes (`/.git/config`, `/.env`, `/index.php.bak`) and executable uploads
(`shell.php` as a multipart file name or in `X-File-Name`) through a real Envoy: denied in
enforce mode (a path or file-name header at the headers, a multipart upload at its body),
annotated in monitor mode with the rule that matched, off on a route that serves files by name,
counted. The shared monitor and enforce Envoys of
conftest.py serve every case (the enforce one has `/api/files/` with `probes: false`); the
invalid configurations are in test_config.py, the security events in test_events.py."""

from __future__ import annotations

import json
import socket
import time
from urllib.parse import quote

import pytest

import harness
from scenarios import assert_annotated, assert_problem_json_403, wait_for

# (path as sent, the reason's rule): matched after Envoy and the filter's decoding.
PROBES = [
    ("/.git/config", "metadata:.git"),
    ("/index.php.bak", "backup:.bak"),
    ("/app/config.inc.old", "backup:.old"),
    ("/.env", "secret:.env"),
    ("/.env.local", "secret:.env.*"),
    ("/%2egit/HEAD", "metadata:.git"),
    ("/.git;/config", "metadata:.git"),
    ("/.env.", "secret:.env"),
    ("/backup.sql.gz", "dump:.sql"),
    ("/.aws/credentials", "secret:.aws"),
    ("/WEB-INF/web.xml", "secret:web-inf"),
]

# REST paths, well-known URIs and JVM logger names: never probes.
NOT_PROBES = [
    "/api/v1/backups",
    "/api/users/2",
    "/.well-known/openid-configuration",
    "/actuator/loggers/org.hibernate.SQL",
    "/api/search?q=backup.sql",
]


def _samples(envoy: harness.Envoy) -> dict[str, float]:
    return harness.prometheus_samples(envoy.stats_prometheus())


def _answer_to_a_started_request(
    envoy: harness.Envoy, head: bytes, first: bytes
) -> tuple[bytes, float]:
    """Sends `head` and the first bytes of a body it announces as longer, then waits for the
    answer's headers: what came back, and after how many seconds."""
    with socket.create_connection(("127.0.0.1", envoy.listen_port), timeout=5) as s:
        started = time.monotonic()
        s.sendall(head + first)
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
        return data, time.monotonic() - started


@pytest.mark.parametrize("path,rule", PROBES, ids=[p for p, _ in PROBES])
def test_a_probe_is_denied_with_problem_json_403_in_enforce_mode(enforce_envoy, path, rule):
    resp = enforce_envoy.request("GET", path)
    problem = assert_problem_json_403(resp)
    text = resp.body.decode().lower()
    assert "restricted" not in text and "probe" not in text and rule not in text, problem


@pytest.mark.parametrize("path,rule", PROBES, ids=[p for p, _ in PROBES])
def test_a_probe_reaches_the_upstream_annotated_deny_with_its_rule_in_monitor_mode(
    monitor_envoy, path, rule
):
    resp = monitor_envoy.request("GET", path)
    assert resp.status == 404, (resp.status, resp.body[:300])  # the upstream's own answer
    ann = assert_annotated(resp, action="deny", cls="restricted_file", mode="monitor")
    assert ann["reasons"].startswith(f"probe:restricted_file {rule} at path"), ann
    assert ann["score"] == "1.000", ann


def test_a_route_in_monitor_mode_on_the_enforcing_listener_annotates_the_probe(enforce_envoy):
    resp = enforce_envoy.request("GET", "/api/legacy/.git/config")
    assert resp.status == 404, (resp.status, resp.body[:300])
    ann = assert_annotated(resp, action="deny", cls="restricted_file", mode="monitor")
    assert ann["reasons"].startswith("probe:restricted_file metadata:.git at path"), ann


@pytest.mark.parametrize("path", NOT_PROBES)
def test_rest_paths_and_well_known_uris_pass_in_enforce_mode(enforce_envoy, path):
    resp = enforce_envoy.request("GET", path)
    assert resp.status in (200, 404), (resp.status, resp.body[:300])
    ann = assert_annotated(resp, action="allow", cls="benign", mode="enforce")
    assert "probe:" not in ann["reasons"], ann


def test_a_route_with_probes_off_serves_its_files_and_others_stay_probed(enforce_envoy):
    # /api/files/ has `probes: false`: a backup file there is the API's business.
    resp = enforce_envoy.request("GET", "/api/files/report.bak")
    assert resp.status == 404 and resp.json()["name"] == "report.bak", resp.body[:300]
    assert_annotated(resp, action="allow", cls="benign", mode="enforce")
    # The same name elsewhere, or out of the route through a dot segment, is denied.
    assert_problem_json_403(enforce_envoy.request("GET", "/api/report.bak"))
    assert_problem_json_403(enforce_envoy.request("GET", "/api/files/../.git/config"))


def test_a_probe_with_a_body_is_denied_at_its_headers_without_waiting_for_the_body(
    enforce_envoy,
):
    # Headers and the first bytes of a 100 kB body, then nothing: a request the filter must
    # read the body of would wait here; the probe is answered at once.
    head = (
        b"POST /.env HTTP/1.1\r\nhost: api.example\r\ncontent-type: application/json\r\n"
        b"content-length: 100000\r\n\r\n"
    )
    data, elapsed = _answer_to_a_started_request(enforce_envoy, head, b'{"note": "')
    status_line = data.split(b"\r\n", 1)[0]
    assert status_line.startswith(b"HTTP/1.1 403"), data[:300]
    assert b"application/problem+json" in data.lower(), data[:300]
    assert elapsed < 2.0, f"answered after {elapsed:.2f} s"


def test_probes_are_counted_by_category_and_as_detections(enforce_envoy):
    before = _samples(enforce_envoy)
    for path in ("/.git/config", "/.svn/entries", "/index.php.bak"):
        assert_problem_json_403(enforce_envoy.request("GET", path))
    # Off on /api/files/: not a probe, not counted.
    assert enforce_envoy.request("GET", "/api/files/report.bak").status == 404

    def counted():
        after = _samples(enforce_envoy)
        grown = harness.series_total(after, "apiward_probes_total") - harness.series_total(before, "apiward_probes_total")
        return after if grown >= 3 else None

    after = wait_for(counted)
    assert after, "apiward_probes_total did not grow by 3"

    def delta(name, **labels):
        return harness.series_total(after, name, **labels) - harness.series_total(before, name, **labels)

    assert delta("apiward_probes_total") == 3
    assert delta("apiward_probes_total", category="metadata") == 2
    assert delta("apiward_probes_total", category="backup") == 1
    assert delta("apiward_detections_total", **{"class": "restricted_file"}) == 3
    assert delta("apiward_decisions_total", action="deny") == 3


# Executable uploads: the file's name decides, whatever its content (a JPEG's bytes with PHP in
# them here: binary, so the model never scores the part's content).
JPEG_WITH_PHP = (
    b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01" + bytes(range(0, 32)) * 8
    + b"<?php system($_GET['c']); ?>" + b"\xff\xd9"
)

# (file name as sent, the reason's rule).
UPLOADS = [
    ("shell.php", "upload:.php"),
    ("avatar.php;.jpg", "upload:.php"),
    ("avatar.pHp5", "upload:.php5"),
    ("cmd.jsp", "upload:.jsp"),
    ("x.aspx%00.png", "upload:.aspx"),
    ("../../var/www/html/.htaccess", "upload:.htaccess"),
]


def _file_upload(filename: str, content: bytes, name: str = "avatar") -> tuple[bytes, dict]:
    b = b"apiwardProbeBoundary3F9x"
    body = (
        b"--" + b + b'\r\nContent-Disposition: form-data; name="title"\r\n\r\nmy avatar\r\n'
        + b"--" + b + b'\r\nContent-Disposition: form-data; name="' + name.encode()
        + b'"; filename="' + filename.encode() + b'"\r\nContent-Type: image/jpeg\r\n\r\n'
        + content + b"\r\n--" + b + b"--\r\n"
    )
    return body, {"content-type": "multipart/form-data; boundary=" + b.decode()}


@pytest.mark.parametrize("filename,rule", UPLOADS, ids=[f for f, _ in UPLOADS])
def test_an_executable_upload_is_denied_in_enforce_mode(enforce_envoy, filename, rule):
    body, headers = _file_upload(filename, JPEG_WITH_PHP)
    resp = enforce_envoy.request("POST", "/api/comments", body=body, headers=headers)
    problem = assert_problem_json_403(resp)
    assert "upload" not in resp.body.decode().lower(), problem


@pytest.mark.parametrize("filename,rule", UPLOADS, ids=[f for f, _ in UPLOADS])
def test_an_executable_upload_reaches_the_upstream_annotated_in_monitor_mode(
    monitor_envoy, filename, rule
):
    body, headers = _file_upload(filename, JPEG_WITH_PHP)
    resp = monitor_envoy.request("POST", "/api/comments", body=body, headers=headers)
    assert resp.status == 201, (resp.status, resp.body[:300])  # the example API took it
    ann = assert_annotated(resp, action="deny", cls="unrestricted_upload", mode="monitor")
    assert ann["reasons"].startswith(
        f"probe:unrestricted_upload upload:{rule.split(':', 1)[1]} at multipart:avatar#filename"
    ), ann
    assert ann["score"] == "1.000", ann


@pytest.mark.parametrize("filename", ["avatar.jpg", "shell.php.jpg", "php.png", "notes.txt"])
def test_ordinary_uploads_pass_in_enforce_mode(enforce_envoy, filename):
    body, headers = _file_upload(filename, JPEG_WITH_PHP)
    resp = enforce_envoy.request("POST", "/api/comments", body=body, headers=headers)
    assert resp.status == 201, (resp.status, resp.body[:300])
    ann = assert_annotated(resp, action="allow", cls="benign", mode="enforce")
    assert "probe:" not in ann["reasons"], ann


def test_a_raw_upload_named_in_a_header_is_denied_at_its_headers(enforce_envoy):
    # PUT of a raw body named by X-File-Name: decided at the headers, before the body.
    head = (
        b"PUT /api/comments HTTP/1.1\r\nhost: api.example\r\n"
        b"content-type: application/octet-stream\r\nx-file-name: cmd.jsp\r\n"
        b"content-length: 100000\r\n\r\n"
    )
    data, _ = _answer_to_a_started_request(enforce_envoy, head, b"<%@ page import")
    assert data.split(b"\r\n", 1)[0].startswith(b"HTTP/1.1 403"), data[:300]
    resp = enforce_envoy.request(
        "PUT",
        "/api/comments",
        body=b"plain text",
        headers={"content-type": "text/plain", "content-disposition": 'attachment; filename="notes.txt"'},
    )
    assert resp.status != 403, (resp.status, resp.body[:300])


def test_uploads_are_not_checked_on_a_route_with_probes_off(enforce_envoy):
    body, headers = _file_upload("index.php", b"<html>ok</html>")
    resp = enforce_envoy.request("POST", "/api/files/index.php", body=body, headers=headers)
    assert resp.status != 403, (resp.status, resp.body[:300])
    ann = assert_annotated(resp, action="allow", cls="benign", mode="enforce")
    assert "probe:" not in ann["reasons"], ann


def test_an_upload_is_counted_as_its_category_and_class(enforce_envoy):
    before = _samples(enforce_envoy)
    for name in ("a.php", "b.jsp"):
        body, headers = _file_upload(name, JPEG_WITH_PHP)
        assert_problem_json_403(enforce_envoy.request("POST", "/api/comments", body=body, headers=headers))

    def counted():
        after = _samples(enforce_envoy)
        grown = harness.series_total(after, "apiward_probes_total", category="upload") - harness.series_total(
            before, "apiward_probes_total", category="upload"
        )
        return after if grown >= 2 else None

    after = wait_for(counted)
    assert after, "apiward_probes_total{category=upload} did not grow by 2"

    def delta(name, **labels):
        return harness.series_total(after, name, **labels) - harness.series_total(before, name, **labels)

    assert delta("apiward_probes_total", category="upload") == 2
    assert delta("apiward_detections_total", **{"class": "unrestricted_upload"}) == 2


# Line breaks into mail: a header an injection adds, or a mail protocol command.
MAIL_INJECTIONS = [
    ("form", "email", "jane@example.com\r\nBcc: list@victims.example", "bcc"),
    ("query", "to", "jane@example.com%0ACc:%20list@victims.example", "cc"),
    ("json", "mailbox", "INBOX\r\nA1 FETCH 1:* (BODY[])", "imap"),
    ("json", "name", "Jane\r\nRCPT TO:<list@victims.example>", "smtp"),
    ("form", "user", "jane\r\nRETR 1", "pop3"),
]


def _mail_request(where: str, field: str, value: str):
    if where == "query":
        return "GET", f"/api/search?{field}={value}", None, {}
    if where == "form":
        return ("POST", "/api/comments", f"{field}={quote(value)}&topic=support".encode(),
                {"content-type": "application/x-www-form-urlencoded"})
    return ("POST", "/api/comments", json.dumps({field: value, "topic": "support"}).encode(),
            {"content-type": "application/json"})


@pytest.mark.parametrize("where,field,value,rule", MAIL_INJECTIONS)
def test_a_line_break_into_mail_is_denied_in_enforce_mode(enforce_envoy, where, field, value, rule):
    method, target, body, headers = _mail_request(where, field, value)
    assert_problem_json_403(enforce_envoy.request(method, target, body=body, headers=headers))


@pytest.mark.parametrize("rule", ["mail", "php"])
def test_a_value_rule_is_annotated_with_its_rule_in_monitor_mode(monitor_envoy, rule):
    if rule == "mail":
        (method, target, body, headers), status = _mail_request("form", "email", MAIL_INJECTIONS[0][2]), 201
        cls, reason = "crlf", "probe:crlf mail:bcc at form:email"
    else:
        (method, target, body, headers, _), status = PHP_INJECTIONS[0], 200
        cls, reason = "cmdi", "probe:cmdi php:function at query:function"
    resp = monitor_envoy.request(method, target, body=body, headers=headers)
    assert resp.status == status, (resp.status, resp.body[:300])
    ann = assert_annotated(resp, action="deny", cls=cls, mode="monitor")
    assert ann["reasons"].startswith(reason), ann


@pytest.mark.parametrize("value", [
    "Hi team,\r\nthe order below never arrived.\r\nThanks, Jane",
    "From: Jane <jane@example.com>\r\nTo: support@example.com\r\nSubject: refund",
    "See the thread:\r\n\r\n-----Original Message-----\r\nFrom: bob@example.com\r\nTo: jane@example.com",
    "Status\r\nthe LOGIN page is down; USER list is empty",
    # text about PHP, for the PHP rules
    "How do I read a file with file_get_contents in PHP 8?",
    "phpinfo shows allow_url_include is off",
    "the system exec summary (Q3)",
    "$_SERVER variable empty behind nginx",
])
def test_text_with_line_breaks_or_about_php_passes_in_enforce_mode(enforce_envoy, value):
    method, target, body, headers = _mail_request("json", "message", value)
    resp = enforce_envoy.request(method, target, body=body, headers=headers)
    assert resp.status == 201, (resp.status, resp.body[:300])
    ann = assert_annotated(resp, mode="enforce")
    assert "probe:" not in ann["reasons"], ann


def test_a_line_break_into_mail_is_counted_as_its_category_and_class(enforce_envoy):
    before = _samples(enforce_envoy)
    for case in MAIL_INJECTIONS[:2]:
        method, target, body, headers = _mail_request(*case[:3])
        assert_problem_json_403(enforce_envoy.request(method, target, body=body, headers=headers))

    def counted():
        after = _samples(enforce_envoy)
        grown = harness.series_total(after, "apiward_probes_total", category="mail") - harness.series_total(
            before, "apiward_probes_total", category="mail"
        )
        return after if grown >= 2 else None

    assert wait_for(counted), "apiward_probes_total{category=mail} did not grow by 2"


# PHP named in a value: a high-risk function called or passed by name, a superglobal, a
# directive being set, a Drupal render callback.
PHP_INJECTIONS = [
    ("GET", "/api/search?s=/index/think/app/invokefunction&function=call_user_func_array"
            "&vars[0]=system&vars[1][]=id", None, {}, "function"),
    ("POST", "/index.php?-d+allow_url_include%3d1+-d+auto_prepend_file%3dphp://input",
     b"<?php echo 1; ?>", {"content-type": "application/x-www-form-urlencoded"}, "directive"),
    ("POST", "/api/render", json.dumps({"template": "{${$_SERVER['DOCUMENT_ROOT']}}"}).encode(),
     {"content-type": "application/json"}, "superglobal"),
    ("POST", "/user/register?element_parents=account/mail/%23value&ajax_form=1",
     b"form_id=user_register_form&mail[%23post_render][]=exec&mail[%23type]=markup&mail[%23markup]=id",
     {"content-type": "application/x-www-form-urlencoded"}, "render-callback"),
]


@pytest.mark.parametrize("method,target,body,headers,rule", PHP_INJECTIONS)
def test_php_named_in_a_value_is_denied_in_enforce_mode(enforce_envoy, method, target, body, headers, rule):
    assert_problem_json_403(enforce_envoy.request(method, target, body=body, headers=headers))
