"""Fleet decisions through a real CrowdSec Local API (Debian's `crowdsec`), and RFC 7009 token
revocation sent to a real receiver on loopback.

The module starts the LAPI alone (`crowdsec -c DIR/config.yaml -no-cs -no-capi`: sqlite under a
temporary directory, a free loopback port, no central API), registers a bouncer key and two
machines with `cscli` (one for `cscli decisions add`, one for apiward's watcher), and one Envoy
(--concurrency 2) whose plugin configuration names the LAPI and the revocation endpoint as
clusters. Clients are told apart by X-Forwarded-For with one trusted hop, as in
test_behaviour.py. The outage test stops the LAPI (by PID) and runs last.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

import harness
from scenarios import wait_for, worker_connections

POLL_S = 1
BOUNCER_KEY = "apiward-e2e-bouncer-key-0123456789"
WATCHER_ID = "apiward-e2e"
WATCHER_PASSWORD = "watcher-password-e2e-0123456789"
CLIENT_AUTH = "Basic YXBpd2FyZDpzM2NyZXQ="  # apiward:s3cret
NO_WARMUP = {"seconds": 0, "requests": 0, "windows": 1}


def _require_crowdsec() -> None:
    if shutil.which("crowdsec") and shutil.which("cscli"):
        return
    message = (
        "Debian's crowdsec is not installed (.ci/run installs it: write a non-empty "
        "/etc/crowdsec/online_api_credentials.yaml first, then apt-get install crowdsec)"
    )
    if os.environ.get("CI"):
        pytest.fail(message)
    pytest.skip(message)


class Lapi:
    """A CrowdSec Local API process with its own configuration and database."""

    def __init__(self, workdir: Path):
        self.dir = workdir
        self.port = harness.free_port()
        self.proc: subprocess.Popen | None = None
        self.config = self.dir / "config.yaml"

    def write_config(self) -> None:
        d = self.dir
        (d / "data").mkdir(parents=True, exist_ok=True)
        # Alerts that carry decisions (apiward's) are stored as sent; profiles only decide for
        # alerts without decisions, which this test does not send.
        (d / "profiles.yaml").write_text(
            "name: default_ip_remediation\n"
            "filters:\n"
            ' - Alert.Remediation == true && Alert.GetScope() == "Ip"\n'
            "decisions:\n"
            " - type: ban\n"
            "   duration: 4h\n"
            "on_success: break\n"
        )
        (d / "local_api_credentials.yaml").write_text(f"url: http://127.0.0.1:{self.port}\n")
        self.config.write_text(
            "common:\n"
            "  daemonize: false\n"
            "  log_media: stdout\n"
            "  log_level: info\n"
            "  working_dir: .\n"
            "config_paths:\n"
            f"  config_dir: {d}/\n"
            f"  data_dir: {d}/data/\n"
            f"  hub_dir: {d}/hub/\n"
            f"  index_path: {d}/hub/.index.json\n"
            f"  simulation_path: {d}/simulation.yaml\n"
            "db_config:\n"
            "  type: sqlite\n"
            f"  db_path: {d}/data/crowdsec.db\n"
            "  use_wal: false\n"
            "api:\n"
            "  client:\n"
            f"    credentials_path: {d}/local_api_credentials.yaml\n"
            "  server:\n"
            "    log_level: info\n"
            f"    listen_uri: 127.0.0.1:{self.port}\n"
            f"    profiles_path: {d}/profiles.yaml\n"
            "prometheus:\n"
            "  enabled: false\n"
        )

    def start(self, timeout: float = 30.0) -> None:
        log = open(self.dir / "lapi.log", "ab")
        self.proc = subprocess.Popen(
            ["crowdsec", "-c", str(self.config), "-no-cs", "-no-capi"],
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            cwd=self.dir,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"crowdsec exited:\n{self.log()}")
            try:
                harness.http_get(self.port, "/v1/decisions/stream", timeout=1)
                return
            except OSError:
                time.sleep(0.2)
        raise RuntimeError(f"crowdsec LAPI did not listen on {self.port}:\n{self.log()}")

    def stop(self) -> None:
        harness._stop_process(self.proc)

    def log(self) -> str:
        path = self.dir / "lapi.log"
        return path.read_text(errors="replace")[-4000:] if path.exists() else ""

    def cscli(self, *args: str) -> str:
        out = subprocess.run(
            ["cscli", "-c", str(self.config), *args],
            capture_output=True,
            text=True,
            timeout=60,
            stdin=subprocess.DEVNULL,
        )
        if out.returncode != 0:
            raise RuntimeError(f"cscli {' '.join(args)} failed:\n{out.stdout}\n{out.stderr}")
        return out.stdout

    def decisions(self) -> list[dict]:
        """Every active decision, whatever its origin (`-a`), flattened from the alerts."""
        alerts = json.loads(self.cscli("decisions", "list", "-a", "-o", "json") or "null") or []
        return [d for a in alerts for d in (a.get("decisions") or [])]


class RevocationReceiver:
    """An RFC 7009 revocation endpoint on loopback: records each request; answers the first
    with 503 + Retry-After: 1 (so the client's retry is exercised), later ones with 200."""

    def __init__(self):
        self.requests: list[dict] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802
                length = int(self.headers.get("content-length") or 0)
                body = self.rfile.read(length).decode("latin-1")
                receiver.requests.append(
                    {
                        "path": self.path,
                        "headers": {k.lower(): v for k, v in self.headers.items()},
                        "body": body,
                    }
                )
                status = 503 if len(receiver.requests) == 1 else 200
                self.send_response(status)
                if status == 503:
                    self.send_header("retry-after", "1")
                self.send_header("content-length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture(scope="module")
def lapi(tmp_path_factory):
    _require_crowdsec()
    lapi = Lapi(tmp_path_factory.mktemp("crowdsec"))
    lapi.write_config()
    lapi.start()
    try:
        lapi.cscli("bouncers", "add", "apiward-e2e", "--key", BOUNCER_KEY)
        # `cscli decisions add` talks to the LAPI as this machine.
        lapi.cscli(
            "machines", "add", "cscli-e2e", "--password", "cscli-password-e2e-0123456789",
            "-f", str(lapi.dir / "local_api_credentials.yaml"), "--force",
        )  # fmt: skip
        lapi.cscli(
            "machines", "add", WATCHER_ID, "--password", WATCHER_PASSWORD,
            "-f", str(lapi.dir / "watcher_credentials.yaml"), "--force",
        )  # fmt: skip
        yield lapi
    finally:
        lapi.stop()


@pytest.fixture(scope="module")
def receiver():
    with RevocationReceiver() as r:
        yield r


def plugin_config() -> dict:
    return {
        "mode": "enforce",
        "client_identity": {"trusted_xff_hops": 1},
        "behaviour": {
            "warmup": NO_WARMUP,
            "signals": {
                "structure": {"enabled": False},
                "route_rate": {"enabled": False},
                "response_size": {"enabled": False},
                "rate": {"min_requests": 100000},
                "bola": {"min_distinct": 5, "strong_factor": 2},
            },
        },
        "ladder": {
            "block": {"scope": "client", "excess": 2, "ttl_s": 900},
            "revoke": {
                "enabled": True,
                "ttl_s": 600,
                "cluster": "idp",
                "path": "/oauth2/revoke",
                "client_authorization": CLIENT_AUTH,
            },
        },
        "crowdsec": {
            "cluster": "crowdsec",
            "api_key": BOUNCER_KEY,
            "poll_s": POLL_S,
            "watcher": {"machine_id": WATCHER_ID, "password": WATCHER_PASSWORD},
        },
    }


@pytest.fixture(scope="module")
def fleet_envoy(lapi, receiver, upstream, module_path, tmp_path_factory):
    envoy = harness.Envoy(
        plugin_config=plugin_config(),
        upstream_port=upstream.port,
        module=module_path,
        workdir=tmp_path_factory.mktemp("envoy-crowdsec"),
        clusters={"crowdsec": ("127.0.0.1", lapi.port), "idp": ("127.0.0.1", receiver.port)},
    )
    envoy.start()
    yield envoy
    envoy.stop()


def get(envoy: harness.Envoy, ip: str, path: str = "/api/users/1", token: str | None = None):
    headers = {"x-forwarded-for": ip}
    if token:
        headers["authorization"] = f"Bearer {token}"
    return envoy.request("GET", path, headers=headers, timeout=10)


def metric(envoy: harness.Envoy, name: str) -> float:
    """Sum of the series of `name` (tagged or, without stats_tags rules, flat `name_tag_value`)."""
    samples = harness.prometheus_samples(envoy.stats_prometheus())
    return sum(v for k, v in samples.items() if k.split("{")[0].startswith(name))


def assert_denied(resp: harness.Response, status: int = 403) -> dict:
    assert resp.status == status, (resp.status, resp.headers, resp.body[:300])
    assert resp.headers.get("content-type", "").startswith("application/problem+json")
    problem = resp.json()
    assert problem["status"] == status and problem["incident_id"], problem
    return problem


def wait_status(envoy, ip: str, status: int, timeout: float) -> float | None:
    """Seconds until a request from `ip` gets `status` (fresh connection each time), or None."""
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        if get(envoy, ip).status == status:
            return time.monotonic() - started
        time.sleep(0.05)
    return None


def both_workers_answer(envoy, ip: str, status: int, requests: int = 40) -> list[int]:
    """Sends `requests` on fresh connections; asserts both workers took some; the statuses."""
    before = worker_connections(envoy)
    statuses = [get(envoy, ip).status for _ in range(requests)]
    after = worker_connections(envoy)
    used = [w for w in after if after[w] > before.get(w, 0)]
    assert len(used) == 2, f"requests did not reach both workers: {before} -> {after}"
    return statuses


def test_ban_added_with_cscli_is_enforced_by_both_workers_within_poll_s_and_lifted(
    fleet_envoy, lapi
):
    ip = "203.0.113.50"
    assert get(fleet_envoy, ip).status == 200
    # The first poll (startup=true) has happened: the decision is a delta.
    assert wait_for(lambda: metric(fleet_envoy, "apiward_crowdsec_polls_total") >= 2, 10)

    lapi.cscli("decisions", "add", "--ip", ip, "--duration", "10m", "--reason", "e2e ban")
    added = time.monotonic()
    took = wait_status(fleet_envoy, ip, 403, timeout=POLL_S + 5)
    assert took is not None, "the ban was never enforced"
    enforced_after = time.monotonic() - added
    print(f"\ncscli decisions add -> first 403: {enforced_after:.3f} s (poll_s={POLL_S})")
    assert enforced_after <= POLL_S + 1, f"enforced after {enforced_after:.2f} s"

    statuses = both_workers_answer(fleet_envoy, ip, 403)
    assert statuses == [403] * len(statuses), statuses
    problem = assert_denied(get(fleet_envoy, ip))
    assert "crowdsec" not in json.dumps(problem), "the reply names no internals"
    assert get(fleet_envoy, "203.0.113.51").status == 200, "another client passes"
    assert metric(fleet_envoy, "apiward_crowdsec_matches_total") >= len(statuses)

    lapi.cscli("decisions", "delete", "--ip", ip)
    deleted = time.monotonic()
    assert wait_status(fleet_envoy, ip, 200, timeout=POLL_S + 5) is not None
    lifted_after = time.monotonic() - deleted
    print(f"cscli decisions delete -> first 200: {lifted_after:.3f} s")
    assert lifted_after <= POLL_S + 1
    statuses = both_workers_answer(fleet_envoy, ip, 200)
    assert statuses == [200] * len(statuses), statuses


def test_captcha_on_a_range_gets_the_ladders_challenge(fleet_envoy, lapi):
    lapi.cscli("decisions", "add", "--range", "198.51.100.0/24", "--type", "captcha")
    took = wait_status(fleet_envoy, "198.51.100.7", 401, timeout=POLL_S + 5)
    assert took is not None, "the captcha range was never enforced"
    # One worker has it; every VM refreshes its copy of the range list on its tick (200 ms).
    time.sleep(0.5)
    resp = get(fleet_envoy, "198.51.100.200")
    assert_denied(resp, 401)
    assert 'error="insufficient_user_authentication"' in resp.headers.get("www-authenticate", "")
    assert get(fleet_envoy, "198.51.101.1").status == 200, "outside the range"
    lapi.cscli("decisions", "delete", "--range", "198.51.100.0/24")
    assert wait_status(fleet_envoy, "198.51.100.7", 200, timeout=POLL_S + 5) is not None


def test_bola_block_reaches_crowdsec_as_an_apiward_decision_and_the_token_is_revoked_at_the_idp(
    fleet_envoy, lapi, receiver
):
    ip, token = "192.0.2.77", "walker-token-5d2e"
    statuses = [get(fleet_envoy, ip, f"/api/users/{i}", token).status for i in range(1, 80)]
    assert 403 in statuses, statuses
    assert_denied(get(fleet_envoy, ip, "/api/users/1", token))

    def apiward_decision():
        for d in lapi.decisions():
            if d.get("origin") == "apiward" and d.get("value") == ip:
                return d
        return None

    decision = wait_for(apiward_decision, timeout=10, interval=0.3)
    assert decision, f"no apiward decision for {ip}: {lapi.decisions()}"
    assert decision["type"] == "ban" and decision["scope"] == "Ip", decision
    assert decision["scenario"] == "apiward/bola", decision
    print("\n" + lapi.cscli("decisions", "list", "-a"))

    # RFC 7009: the first answer was 503 + Retry-After, the retry got 200.
    assert wait_for(lambda: len(receiver.requests) >= 2, timeout=10), receiver.requests
    for req in receiver.requests[:2]:
        assert req["path"] == "/oauth2/revoke"
        assert req["headers"]["content-type"] == "application/x-www-form-urlencoded"
        assert req["headers"]["authorization"] == CLIENT_AUTH
        form = urllib.parse.parse_qs(req["body"], strict_parsing=True)
        assert form == {"token": [token], "token_type_hint": ["access_token"]}, req["body"]
    assert wait_for(
        lambda: metric(fleet_envoy, "apiward_rfc7009_revocations_total") >= 2, timeout=5
    )
    samples = harness.prometheus_samples(fleet_envoy.stats_prometheus())
    revoked = {k: v for k, v in samples.items() if "rfc7009" in k}
    print(f"RFC 7009 metrics: {revoked}")
    assert sum(v for k, v in revoked.items() if "revoked" in k) == 1, revoked
    assert sum(v for k, v in revoked.items() if "retried" in k) == 1, revoked


def test_with_the_lapi_down_known_bans_still_apply_and_benign_traffic_passes(fleet_envoy, lapi):
    ip = "203.0.113.60"
    lapi.cscli("decisions", "add", "--ip", ip, "--duration", "10m")
    assert wait_status(fleet_envoy, ip, 403, timeout=POLL_S + 5) is not None
    failures = metric(fleet_envoy, "apiward_crowdsec_poll_failures_total")
    lapi.stop()
    assert wait_for(
        lambda: metric(fleet_envoy, "apiward_crowdsec_poll_failures_total") >= failures + 3,
        timeout=15,
    ), "poll failures are not counted"

    statuses = both_workers_answer(fleet_envoy, ip, 403)
    assert statuses == [403] * len(statuses), statuses
    slowest = 0.0
    for i in range(20):
        resp = get(fleet_envoy, f"203.0.113.{100 + i}")
        assert resp.status == 200, (resp.status, resp.body[:200])
        slowest = max(slowest, resp.elapsed_ms)
    print(f"\nLAPI down: benign requests pass, slowest {slowest:.1f} ms")
    assert slowest < 1000, "a request waited for the LAPI"
    # Logged once per failure period (60 s), however many polls failed.
    assert fleet_envoy.log().count("decision stream poll failed") == 1, fleet_envoy.log()[-3000:]
