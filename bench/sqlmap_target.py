#!/usr/bin/env python3
"""DELIBERATELY INJECTABLE TEST TARGET for `make bench-sqlmap` (bench/sqlmap.py). Never expose it.

A small JSON API over SQLite whose handlers build SQL by string concatenation, so that sqlmap
has something real to find behind each proxy. It binds 127.0.0.1 only (it refuses any other
address), opens its database read-only, interrupts a query after 10 s, and exits by itself after
--max-seconds.

Injectable inputs, each a place where APIs take input:

  GET  /api/items?id=1            query parameter, integer context   ... WHERE id = <id>
  POST /api/search {"name": ".."} JSON body field, string context    ... WHERE name = '<name>'
  GET  /api/users/<id>            path segment, integer context      ... WHERE id = <id>
                                  (percent-decoded, as routers do; 404 when no row)
  GET  /api/orders                cookie `tenant`, string context    ... WHERE tenant = '<tenant>'
                                  (percent-decoded, as cookie parsers do)

Every query's rows go into the JSON answer (boolean-blind and UNION injection work), a database
error is answered 500 with the SQLite message (error-based, SQLite's JSON-path error), and
SQLite's heavy queries take time (time-based). The table `secrets` holds one row whose value is
the canary given by --secret: a dump that contains it is data exfiltrated through the proxy.

Every response carries `x-sqlmap-target: 1` (a proxy's own reply does not). Counters:
GET /__target/stats answers {"requests": n, "by_path": {...}}; POST /__target/reset zeroes them.
The harness calls both directly, not through a proxy.

Usage: sqlmap_target.py --db FILE --secret TOKEN [--port 0] [--max-seconds 3600]
Prints "listening on http://127.0.0.1:PORT" once it serves.
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import sys
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

MARKER = "x-sqlmap-target"
QUERY_SECONDS = 10.0  # a query running longer is interrupted (answered 500)
ITEMS = [
    (1, "widget", 9.5),
    (2, "gadget", 12.0),
    (3, "sprocket", 3.25),
    (4, "gizmo", 7.75),
    (5, "doohickey", 1.5),
]
USERS = [
    (1, "alice", "alice@example.com"),
    (2, "bob", "bob@example.com"),
    (3, "carol", "carol@example.com"),
]
ORDERS = [
    (1, "acme", "widget", 3),
    (2, "acme", "gizmo", 1),
    (3, "globex", "sprocket", 7),
    (4, "initech", "gadget", 2),
]


def build_db(path: Path, secret: str) -> None:
    path.unlink(missing_ok=True)
    con = sqlite3.connect(path)
    with con:
        con.execute("CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT, price REAL)")
        con.execute("CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT, email TEXT)")
        con.execute(
            "CREATE TABLE orders (id INTEGER PRIMARY KEY, tenant TEXT, item TEXT, qty INTEGER)"
        )
        con.execute("CREATE TABLE secrets (id INTEGER PRIMARY KEY, name TEXT, value TEXT)")
        con.executemany("INSERT INTO items VALUES (?, ?, ?)", ITEMS)
        con.executemany("INSERT INTO users VALUES (?, ?, ?)", USERS)
        con.executemany("INSERT INTO orders VALUES (?, ?, ?, ?)", ORDERS)
        con.execute("INSERT INTO secrets VALUES (1, 'api_key', ?)", (secret,))
    con.close()


class Counters:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.requests = 0
        self.by_path: dict[str, int] = {}

    def add(self, path: str) -> None:
        with self.lock:
            self.requests += 1
            self.by_path[path] = self.by_path.get(path, 0) + 1

    def snapshot(self) -> dict:
        with self.lock:
            return {"requests": self.requests, "by_path": dict(self.by_path)}

    def reset(self) -> None:
        with self.lock:
            self.requests = 0
            self.by_path = {}


class Handler(BaseHTTPRequestHandler):
    server_version = "injectable-test-target"
    protocol_version = "HTTP/1.1"
    db_uri = ""
    counters = Counters()

    def version_string(self) -> str:
        return self.server_version

    def log_message(self, fmt: str, *args) -> None:  # quiet
        pass

    # --- plumbing

    def reply(self, status: int, doc) -> None:
        body = json.dumps(doc).encode()
        self.send_response(status)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(body)))
        self.send_header(MARKER, "1")
        self.end_headers()
        self.wfile.write(body)

    def body(self) -> bytes:
        n = int(self.headers.get("content-length") or 0)
        return self.rfile.read(n) if n > 0 else b""

    def run(self, sql: str) -> list | None:
        """Runs the concatenated SQL (interrupted after QUERY_SECONDS); a database error is
        answered 500 with its message and gives None."""
        deadline = time.monotonic() + QUERY_SECONDS
        try:
            con = sqlite3.connect(self.db_uri, uri=True, timeout=5)
            con.set_progress_handler(lambda: time.monotonic() > deadline, 100_000)
            try:
                return con.execute(sql).fetchall()
            finally:
                con.close()
        except (sqlite3.Error, OverflowError, ValueError) as exc:
            self.reply(500, {"error": f"{type(exc).__name__}: {exc}"})
            return None

    def query(self, sql: str) -> None:
        """Rows -> 200 with the rows, database error -> 500 with the message."""
        rows = self.run(sql)
        if rows is not None:
            self.reply(200, {"rows": [[_jsonable(v) for v in row] for row in rows]})

    # --- routes

    def do_GET(self) -> None:
        url = urllib.parse.urlsplit(self.path)
        if url.path == "/__target/stats":
            self.reply(200, self.counters.snapshot())
            return
        self.counters.add(url.path.split("/")[2] if url.path.startswith("/api/") else "other")
        if url.path == "/api/items":
            ident = urllib.parse.parse_qs(url.query).get("id", ["1"])[0]
            self.query(f"SELECT id, name, price FROM items WHERE id = {ident}")
        elif url.path.startswith("/api/users/"):
            ident = urllib.parse.unquote(url.path[len("/api/users/") :])
            rows = self.run(f"SELECT id, name, email FROM users WHERE id = {ident}")
            if rows:
                self.reply(200, {"users": [[_jsonable(v) for v in r] for r in rows]})
            elif rows is not None:
                self.reply(404, {"error": "no such user"})
        elif url.path == "/api/orders":
            tenant = "acme"
            for part in (self.headers.get("cookie") or "").split(";"):
                name, sep, value = part.strip().partition("=")
                if sep and name == "tenant":
                    tenant = urllib.parse.unquote(value)
            self.query(f"SELECT id, item, qty FROM orders WHERE tenant = '{tenant}'")
        elif url.path == "/healthz":
            self.reply(200, {"ok": True})
        else:
            self.reply(404, {"error": "not found"})

    def do_POST(self) -> None:
        url = urllib.parse.urlsplit(self.path)
        data = self.body()
        if url.path == "/__target/reset":
            self.counters.reset()
            self.reply(200, {"ok": True})
            return
        self.counters.add(url.path.split("/")[2] if url.path.startswith("/api/") else "other")
        if url.path == "/api/search":
            try:
                name = json.loads(data or b"{}").get("name", "")
            except (ValueError, AttributeError):
                self.reply(400, {"error": "body must be a JSON object"})
                return
            self.query(f"SELECT id, name, price FROM items WHERE name = '{name}'")
        else:
            self.reply(404, {"error": "not found"})


def _jsonable(v):
    if isinstance(v, bytes):
        return v.hex()
    return v


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    ap.add_argument("--db", type=Path, required=True, help="SQLite file to create")
    ap.add_argument("--secret", required=True, help="the canary stored in table secrets")
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--max-seconds", type=float, default=3600, help="exit after this long")
    args = ap.parse_args()
    if args.host not in ("127.0.0.1", "::1", "localhost"):
        ap.error("this deliberately injectable target binds loopback only")
    build_db(args.db, args.secret)
    Handler.db_uri = args.db.resolve().as_uri() + "?mode=ro"
    server = ThreadingHTTPServer((args.host, args.port), Handler)
    server.daemon_threads = True
    timer = threading.Timer(args.max_seconds, server.shutdown)
    timer.daemon = True
    timer.start()
    print(
        "DELIBERATELY INJECTABLE TEST TARGET (bench/sqlmap.py), loopback only; "
        f"listening on http://127.0.0.1:{server.server_address[1]}",
        flush=True,
    )
    try:
        server.serve_forever(poll_interval=0.5)
    except KeyboardInterrupt:
        pass
    server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
