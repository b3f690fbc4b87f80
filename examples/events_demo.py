"""The security-events part of `make demo`: a small NDJSON receiver on loopback that prints
events as they arrive, and the events configuration that sends to it.

    receiver = EventReceiver().start()
    config = {..., "events": events_config("demo_siem"), "routes": [DLP_ROUTE]}
    harness.Envoy(..., clusters={"demo_siem": ("127.0.0.1", receiver.port)})
"""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

# Response inspection on the example API's reports: /api/reports/payments leaks 50 card numbers.
DLP_ROUTE = {"prefix": "/api/reports/", "dlp": {"action": "mask"}}


def events_config(cluster: str) -> dict:
    return {
        "sinks": [{"type": "ndjson", "name": "demo", "cluster": cluster, "path": "/events", "schema": "ocsf"}],
        "flush_interval_ms": 100,
        "batch": {"max_age_ms": 500},
        # The key only keys the pseudonyms; it never appears in an event.
        "privacy": {"client_ip": "truncate", "hash_key": "demo-only-key-change-me"},
    }


class EventReceiver:
    """Collects NDJSON batches; `live=True` prints a line per event as the batch arrives."""

    def __init__(self, live: bool = False):
        self.events: list[tuple[float, dict]] = []
        self.batches = 0
        self.live = live
        self.started = time.monotonic()
        self.lock = threading.Lock()
        rx = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def do_POST(self):  # noqa: N802
                body = self.rfile.read(int(self.headers.get("content-length") or 0))
                at = time.monotonic() - rx.started
                batch = [json.loads(line) for line in body.split(b"\n") if line.strip()]
                with rx.lock:
                    rx.batches += 1
                    rx.events += [(at, e) for e in batch]
                if rx.live:
                    for e in batch:
                        print(f"  [{at:6.2f}s] {one_line(e)}", flush=True)
                self.send_response(200)
                self.send_header("content-length", "0")
                self.end_headers()

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]

    def start(self) -> EventReceiver:
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def one_line(e: dict) -> str:
    """OCSF event in one line: class, disposition, rule, request."""
    req = e.get("http_request") or (e.get("evidences") or [{}])[0].get("http_request", {})
    url = req.get("url", {})
    rule = e.get("firewall_rule", {})
    where = f" at {rule['match_location']}" if rule.get("match_location") else ""
    cls = {4002: "HTTP Activity    ", 2004: "Detection Finding"}.get(e.get("class_uid"), str(e.get("class_uid")))
    extra = ""
    ri = e.get("unmapped", {}).get("apiward", {}).get("response_inspection")
    if ri:
        extra = f" response {ri['action']} {ri['counts']}"
    if e.get("class_uid") == 2004:
        extra += f" finding {e['finding_info']['uid']}"
    return (
        f"{cls} {e.get('disposition', ''):<10} risk {e.get('risk_score', 0):>3} "
        f"{rule.get('type', '')}:{rule.get('name', '')}{where} "
        f"{req.get('http_method', '')} {url.get('path', '')}{extra}"
    )


def show(receiver: EventReceiver, wait: float = 1.5) -> None:
    """Prints what arrived: one line per event, then one full (redacted) event of each class."""
    time.sleep(wait)
    with receiver.lock:
        events = list(receiver.events)
        batches = receiver.batches
    print(f"security events: {len(events)} OCSF events in {batches} batches at the loopback receiver")
    for at, e in events[:24]:
        print(f"  [{at:6.2f}s] {one_line(e)}")
    if len(events) > 24:
        print(f"  ... {len(events) - 24} more")
    shown = set()
    for _, e in events:
        if e.get("class_uid") in shown or not e.get("is_alert"):
            continue
        shown.add(e.get("class_uid"))
        print(f"\none {e.get('class_name')} event as received:")
        print(json.dumps(e, indent=2)[:3000])
    print()
