#!/usr/bin/env python3
"""`make event-samples`: one security event of each kind and encoding, as a real Envoy with the
filter sends them, written to examples/events/.

Starts the example API, two loopback NDJSON receivers (one for OCSF, one for ECS) and one Envoy
(enforce mode, client address truncated, principal as a keyed pseudonym, response masking on
/api/reports/), sends three requests:

- deny: an SQL injection in the query, with an e-mail address beside it, a bearer token and a
  client behind one proxy (X-Forwarded-For 203.0.113.77);
- dlp: GET /api/reports/payments, whose answer leaks 50 card numbers (masked in place);
- probe: GET /.git/config, a scanner's request for version-control metadata, denied at the
  headers by a restricted-resource rule (no model, no body);

and writes what the receivers got: the OCSF HTTP Activity (4002) and Detection Finding (2004)
and the ECS document of each, after validating every one against the OCSF 1.8.0 schema and
ECS's field definitions (tests/e2e/event_schemas.py, as the e2e tests validate events) and
checking that no planted secret is in them. Times, ids and pseudonyms change from run to run.

Options: --out DIR (default examples/events), --module PATH.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlencode

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(REPO / "tests" / "e2e"))

import harness  # noqa: E402
from events_demo import EventReceiver  # noqa: E402

# Not a secret: it only keys the pseudonyms of these samples, and never appears in an event.
HASH_KEY = "samples-only-pseudonym-key"
TOKEN = "sample-bearer-token-7f3c9a1e5b2d4c6f"
EMAIL = "alice.sample@example.org"
CLIENT = "203.0.113.77"
USER_AGENT = "orders-client/2.3.1 (python-requests/2.31.0)"

DENY_PATH = "/api/search?" + urlencode(
    {"q": "1' UNION SELECT username, password FROM users--", "contact": EMAIL}
)
DLP_PATH = "/api/reports/payments"
PROBE_PATH = "/.git/config"

# File name -> what it holds.
SAMPLES = {
    "ocsf-http-activity-deny.json": "OCSF 1.8.0 HTTP Activity (4002), security_control profile: an SQL injection denied (403)",
    "ocsf-detection-finding-deny.json": "OCSF 1.8.0 Detection Finding (2004) of the same deny; finding_info.uid = the 403 body's incident_id",
    "ecs-deny.json": "ECS 9.x document of the same deny",
    "ocsf-http-activity-dlp.json": "OCSF 1.8.0 HTTP Activity (4002): a response leaking 50 card numbers, masked in place",
    "ocsf-detection-finding-dlp.json": "OCSF 1.8.0 Detection Finding (2004) of the same data exposure",
    "ecs-dlp.json": "ECS 9.x document of the same data exposure",
    "ocsf-detection-finding-probe.json": "OCSF 1.8.0 Detection Finding (2004): a request for /.git/config denied by a restricted-resource rule",
    "ecs-probe.json": "ECS 9.x document of the same probe",
}
FORBIDDEN = [HASH_KEY, TOKEN, EMAIL, CLIENT]


def plugin_config(ocsf_cluster: str, ecs_cluster: str) -> dict:
    return {
        "mode": "enforce",
        "client_identity": {"trusted_xff_hops": 1},
        "routes": [{"prefix": "/api/reports/", "dlp": {"action": "mask"}}],
        "events": {
            "sinks": [
                {"type": "ndjson", "name": "ocsf", "cluster": ocsf_cluster, "schema": "ocsf"},
                {"type": "ndjson", "name": "ecs", "cluster": ecs_cluster, "schema": "ecs"},
            ],
            "flush_interval_ms": 100,
            "batch": {"max_age_ms": 200},
            "privacy": {"client_ip": "truncate", "principal": "hash", "hash_key": HASH_KEY},
        },
    }


def problems(name: str, event: dict) -> list[str]:
    """Schema violations, and any planted secret, in one sample."""
    from event_schemas import ecs_errors, ocsf_errors

    out = ecs_errors(event) if name.startswith("ecs-") else ocsf_errors(event)
    text = json.dumps(event)
    out += [f"holds {s!r}" for s in FORBIDDEN if s in text]
    if name.startswith("ocsf-"):
        want = 2004 if "detection-finding" in name else 4002
        if event.get("class_uid") != want:
            out.append(f"class_uid {event.get('class_uid')} is not {want}")
    return out


def check(directory: Path) -> dict[str, list[str]]:
    """The samples in `directory` and their problems ({} for a missing file too)."""
    found = {}
    for name in SAMPLES:
        path = directory / name
        if not path.is_file():
            found[name] = ["missing"]
            continue
        found[name] = problems(name, json.loads(path.read_text()))
    return found


def collect(module: Path, workdir: Path) -> dict[str, dict]:
    ocsf_rx, ecs_rx = EventReceiver().start(), EventReceiver().start()
    upstream = harness.Upstream(workdir=workdir / "upstream").start()
    envoy = harness.Envoy(
        plugin_config=plugin_config("samples_ocsf", "samples_ecs"),
        upstream_port=upstream.port,
        module=module,
        workdir=workdir / "envoy",
        clusters={
            "samples_ocsf": ("127.0.0.1", ocsf_rx.port),
            "samples_ecs": ("127.0.0.1", ecs_rx.port),
        },
    )
    try:
        envoy.start()
        deny = envoy.request(
            "GET",
            DENY_PATH,
            headers={
                "x-forwarded-for": CLIENT,
                "authorization": f"Bearer {TOKEN}",
                "user-agent": USER_AGENT,
            },
        )
        if deny.status != 403:
            raise SystemExit(f"expected a 403 for the SQL injection, got {deny.status}")
        incident = deny.headers["x-apiward-incident"]
        dlp = envoy.request("GET", DLP_PATH, headers={"x-forwarded-for": CLIENT, "user-agent": USER_AGENT})
        if dlp.status != 200 or dlp.headers.get("x-apiward-dlp") != "card=50":
            raise SystemExit(f"expected the report masked, got {dlp.status} {dlp.headers}")
        probe = envoy.request("GET", PROBE_PATH, headers={"x-forwarded-for": CLIENT, "user-agent": USER_AGENT})
        if probe.status != 403:
            raise SystemExit(f"expected a 403 for {PROBE_PATH}, got {probe.status}")
        probe_incident = probe.headers["x-apiward-incident"]

        def pick() -> dict[str, dict] | None:
            with ocsf_rx.lock, ecs_rx.lock:
                ocsf = [e for _, e in ocsf_rx.events]
                ecs = [e for _, e in ecs_rx.events]

            def ocsf_of(cls: int, match) -> dict | None:
                return next((e for e in ocsf if e.get("class_uid") == cls and match(e)), None)

            def is_deny(e: dict) -> bool:
                return incident in (e.get("metadata", {}).get("uid"), e.get("finding_info", {}).get("uid"))

            def is_dlp(e: dict) -> bool:
                return "response_inspection" in e.get("unmapped", {}).get("apiward", {})

            def is_probe(e: dict) -> bool:
                return probe_incident in (e.get("metadata", {}).get("uid"), e.get("finding_info", {}).get("uid"))

            got = {
                "ocsf-http-activity-deny.json": ocsf_of(4002, is_deny),
                "ocsf-detection-finding-deny.json": ocsf_of(2004, is_deny),
                "ecs-deny.json": next((d for d in ecs if d.get("event", {}).get("id") == incident), None),
                "ocsf-http-activity-dlp.json": ocsf_of(4002, is_dlp),
                "ocsf-detection-finding-dlp.json": ocsf_of(2004, is_dlp),
                "ecs-dlp.json": next(
                    (d for d in ecs if d.get("labels", {}).get("apiward_response_action") == "mask"), None
                ),
                "ocsf-detection-finding-probe.json": ocsf_of(2004, is_probe),
                "ecs-probe.json": next((d for d in ecs if d.get("event", {}).get("id") == probe_incident), None),
            }
            return got if all(got.values()) else None

        deadline = time.monotonic() + 15
        samples = pick()
        while samples is None and time.monotonic() < deadline:
            time.sleep(0.2)
            samples = pick()
        if samples is None:
            raise SystemExit("not every sample arrived at the receivers within 15 s")
        return samples
    finally:
        envoy.stop()
        upstream.stop()
        ocsf_rx.stop()
        ecs_rx.stop()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", type=Path, default=HERE / "events")
    ap.add_argument("--module", type=Path, default=harness.DEFAULT_MODULE)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="apiward-samples-") as tmp:
        samples = collect(args.module, Path(tmp))
    bad = {name: problems(name, e) for name, e in samples.items()}
    bad = {k: v for k, v in bad.items() if v}
    if bad:
        for name, errs in bad.items():
            print(f"{name}: {errs}", file=sys.stderr)
        return 1
    args.out.mkdir(parents=True, exist_ok=True)
    for name, event in samples.items():
        (args.out / name).write_text(json.dumps(event, indent=2, ensure_ascii=False) + "\n")
        print(f"{args.out / name}: {SAMPLES[name]}")
    print("every sample valid (OCSF 1.8.0 schema / ECS field definitions), no planted secret in any")
    return 0


if __name__ == "__main__":
    sys.exit(main())
