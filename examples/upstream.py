#!/usr/bin/env python3
"""Example API upstream for apiward demos and end-to-end tests.

A small threaded HTTP API (users, orders, search, files, comments, login) that
answers every request with JSON and echoes what it received: method, path,
body length and all request headers. The `x-apiward-*` annotations the filter
adds upstream can therefore be read from the reply body.

Usage: upstream.py [PORT]   (or UPSTREAM_PORT; default 8080). Binds 127.0.0.1.
"""

from __future__ import annotations

import gzip
import json
import os
import re
import sys
import threading
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, unquote, urlsplit

USERS = {
    1: {"id": 1, "name": "Ada Lovelace", "email": "ada@example.com", "role": "admin"},
    2: {"id": 2, "name": "Alan Turing", "email": "alan@example.com", "role": "user"},
    3: {"id": 3, "name": "Grace Hopper", "email": "grace@example.com", "role": "user"},
}
FILES = {"report.pdf": 48213, "logo.png": 5120, "notes.txt": 812}
# Users 4..DIRECTORY_SIZE exist too (a directory big enough to be enumerated).
DIRECTORY_SIZE = 10_000
# The one account that logs in: POST /auth/login {"username": ..., "password": ...}.
LOGIN = ("alan", "correct horse battery staple")


def luhn_card(n: int, prefix: str = "400000") -> str:
    """The n-th Luhn-valid 16-digit test card number under `prefix`."""
    body = f"{prefix}{n:09d}"
    total = 0
    for i, ch in enumerate(reversed(body)):
        d = int(ch)
        if i % 2 == 0:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return body + str((10 - total % 10) % 10)


# Reports are static documents (no request echo), so their bytes can be compared end to end.
# /api/reports/payments leaks 50 card numbers (an over-broad query: excessive data exposure);
# /api/reports/summary is an ordinary report with no personal data. The legacy API version serves
# the same documents under /api/legacy/reports/. A request that accepts gzip gets the report
# gzip-compressed (deterministic bytes: no name, no time), as many production APIs answer.
REPORTS = {
    "payments": {
        "report": "payments",
        "payments": [
            {"id": i, "amount_cents": 1000 + i, "card": luhn_card(i), "status": "settled"}
            for i in range(1, 51)
        ],
    },
    "summary": {
        "report": "summary",
        "orders": 1742,
        "revenue_cents": 18_231_400,
        "top_skus": ["BK-0042", "BK-0007", "MG-1138"],
        "generated": "2026-01-01T00:00:00Z",
    },
}


def user(uid: int) -> dict | None:
    if uid in USERS:
        return USERS[uid]
    if 1 <= uid <= DIRECTORY_SIZE:
        return {"id": uid, "name": f"User {uid}", "email": f"user{uid}@example.com", "role": "user"}
    return None


class ApiState:
    """In-memory orders and comments shared by the handler threads."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.orders: list[dict] = [
            {"id": 1001, "user_id": 1, "sku": "BK-0042", "quantity": 1, "status": "shipped"},
        ]
        self.comments: list[dict] = []

    def add_order(self, order: dict) -> dict:
        with self.lock:
            order = dict(order)
            order["id"] = 1001 + len(self.orders)
            order.setdefault("status", "pending")
            self.orders.append(order)
            return order

    def add_comment(self, comment: dict) -> dict:
        with self.lock:
            comment = dict(comment)
            comment["id"] = len(self.comments) + 1
            self.comments.append(comment)
            return comment


STATE = ApiState()
# Cap on what the upstream reads from a request body (the filter may forward up to 1 MiB+).
MAX_READ = 8 * 1024 * 1024


class ApiHandler(BaseHTTPRequestHandler):
    """Routes a request to a tiny API and echoes the request in every reply."""

    server_version = "apiward-example-api/1.0"
    protocol_version = "HTTP/1.1"
    # Headers and body are written separately: without TCP_NODELAY, Nagle + delayed ACK add 40 ms.
    disable_nagle_algorithm = True

    # Every method goes through one dispatcher.
    def do_GET(self) -> None:  # noqa: N802 (http.server naming)
        self._dispatch()

    def __getattr__(self, name: str):
        # Any method (PROPFIND, PURGE, ...) is answered like the others.
        if name.startswith("do_"):
            return self._dispatch
        raise AttributeError(name)

    def log_message(self, fmt: str, *args) -> None:
        if os.environ.get("UPSTREAM_QUIET") != "1":
            sys.stderr.write("upstream: %s\n" % (fmt % args))

    def _read_body(self) -> bytes:
        length = self.headers.get("content-length")
        if length is not None:
            try:
                n = int(length)
            except ValueError:
                return b""
            return self.rfile.read(min(max(n, 0), MAX_READ))
        if "chunked" in self.headers.get("transfer-encoding", "").lower():
            chunks = []
            total = 0
            while True:
                line = self.rfile.readline(1024)
                if not line:
                    break
                try:
                    size = int(line.split(b";")[0].strip() or b"0", 16)
                except ValueError:
                    break
                if size == 0:
                    # Trailers until an empty line.
                    while self.rfile.readline(8192) not in (b"\r\n", b"\n", b""):
                        pass
                    break
                data = self.rfile.read(size)
                self.rfile.readline(8)
                total += len(data)
                if total <= MAX_READ:
                    chunks.append(data)
            return b"".join(chunks)
        return b""

    def _dispatch(self) -> None:
        body = self._read_body()
        url = urlsplit(self.path)
        path = url.path
        query = parse_qs(url.query, keep_blank_values=True)
        try:
            status, payload = self._route(self.command, path, query, body)
        except Exception as exc:  # an example API answers, whatever it was sent
            status, payload = 500, {"error": f"{type(exc).__name__}"}
        if payload.pop("__document__", False):
            data = json.dumps(payload, separators=(",", ":")).encode()
            self.send_response(status)
            self.send_header("content-type", "application/json")
            if accepts_gzip(self.headers.get("accept-encoding", "")):
                data = gzip_bytes(data)
                self.send_header("content-encoding", "gzip")
                self.send_header("vary", "accept-encoding")
            self.send_header("content-length", str(len(data)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(data)
            return
        reply = {
            **payload,
            "request": {
                "method": self.command,
                "path": self.path,
                "body_length": len(body),
                # Lower-case names; repeated headers joined with ", ".
                "headers": _headers_dict(self.headers),
            },
        }
        data = json.dumps(reply, indent=None, sort_keys=False).encode()
        self.send_response(status)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    def _route(self, method: str, path: str, query: dict, body: bytes) -> tuple[int, dict]:
        if path == "/healthz":
            return 200, {"status": "ok"}
        m = re.fullmatch(r"/api/users/([^/]+)", path)
        if m:
            raw_id = unquote(m.group(1))
            found = user(int(raw_id)) if raw_id.isdigit() and len(raw_id) < 9 else None
            if found:
                return 200, {"user": found}
            return 404, {"error": "user not found", "id": raw_id}
        if path == "/api/users":
            return 200, {"users": list(USERS.values())}
        m = re.fullmatch(r"/api/(?:legacy/)?reports/([a-z]+)", path)
        if m and m.group(1) in REPORTS:
            return 200, {**REPORTS[m.group(1)], "__document__": True}
        if path == "/api/orders":
            if method == "POST":
                try:
                    order = json.loads(body or b"{}")
                    if not isinstance(order, dict):
                        raise ValueError("order must be a JSON object")
                except (ValueError, RecursionError) as exc:
                    return 400, {"error": f"invalid JSON: {type(exc).__name__}"}
                return 201, {"order": STATE.add_order(order)}
            with STATE.lock:
                return 200, {"orders": list(STATE.orders)}
        if path == "/auth/login" and method == "POST":
            try:
                creds = json.loads(body or b"{}")
            except (ValueError, RecursionError):
                creds = {}
            if isinstance(creds, dict) and (creds.get("username"), creds.get("password")) == LOGIN:
                return 200, {"token": "demo-session-token", "token_type": "Bearer"}
            return 401, {"error": "invalid username or password"}
        if path == "/api/search":
            q = query.get("q", [""])[0]
            hits = [u for u in USERS.values() if q and q.lower() in u["name"].lower()]
            return 200, {"query": q, "results": hits}
        m = re.fullmatch(r"/api/files/(.+)", path)
        if m:
            name = unquote(m.group(1))
            if name in FILES:
                return 200, {"file": {"name": name, "size": FILES[name]}}
            return 404, {"error": "file not found", "name": name}
        if path == "/api/comments":
            if method == "POST":
                form = parse_qs(body.decode("utf-8", "replace"), keep_blank_values=True)
                comment = {k: v[0] for k, v in form.items()}
                return 201, {"comment": STATE.add_comment(comment)}
            with STATE.lock:
                return 200, {"comments": list(STATE.comments)}
        return 404, {"error": HTTPStatus.NOT_FOUND.phrase}


def accepts_gzip(accept_encoding: str) -> bool:
    """`gzip` listed in Accept-Encoding with a non-zero q."""
    for item in accept_encoding.lower().split(","):
        coding, _, params = item.strip().partition(";")
        if coding.strip() == "gzip":
            q = params.strip()
            return not (q.startswith("q=") and q[2:].strip() in ("0", "0.0", "0.00", "0.000"))
    return False


def gzip_bytes(data: bytes) -> bytes:
    """gzip with a fixed header (mtime 0, no file name): the same bytes every time."""
    return gzip.compress(data, compresslevel=6, mtime=0)


def _headers_dict(headers) -> dict[str, str]:
    out: dict[str, str] = {}
    for name, value in headers.items():
        key = name.lower()
        out[key] = f"{out[key]}, {value}" if key in out else value
    return out


def serve(port: int, host: str = "127.0.0.1") -> ThreadingHTTPServer:
    """Returns a started-in-a-thread server (for in-process use)."""
    server = ThreadingHTTPServer((host, port), ApiHandler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def main() -> None:
    port = int(sys.argv[1] if len(sys.argv) > 1 else os.environ.get("UPSTREAM_PORT", "8080"))
    server = ThreadingHTTPServer(("127.0.0.1", port), ApiHandler)
    server.daemon_threads = True
    print(f"example API listening on http://127.0.0.1:{server.server_address[1]}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


if __name__ == "__main__":
    main()
