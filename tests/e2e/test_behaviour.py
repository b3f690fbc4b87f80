"""Behaviour and the response ladder in a real Envoy (--concurrency 2): what a user of the API
sees when one client bursts, walks object ids, brute-forces a login or is blocked, and that the
shared-data state stays bounded under an address spray.

Every scenario has its own Envoy with a configuration made for it (short windows, no warm-up,
small limits), all started in parallel once. All test traffic comes from 127.0.0.1, so clients are
told apart by X-Forwarded-For with one trusted hop (Envoy appends the peer itself with
`use_remote_address: true`; the filter does not count that entry as a hop).
"""

from __future__ import annotations

import re
import socket
import subprocess
import sys
import threading
import time

import pytest

import harness
from scenarios import admin_stat, assert_annotated, wait_for, worker_connections

JSON = {"content-type": "application/json"}
NO_WARMUP = {"seconds": 0, "requests": 0, "windows": 1}
# Signals a scenario does not look at, switched off so that its assertions are about one thing.
QUIET = {
    "structure": {"enabled": False},
    "route_rate": {"enabled": False},
    "response_size": {"enabled": False},
}


def _config(mode: str = "enforce", signals: dict | None = None, **extra) -> dict:
    behaviour = {"warmup": NO_WARMUP, "signals": {**QUIET, **(signals or {})}}
    behaviour.update(extra.pop("behaviour", {}))
    return {
        "mode": mode,
        "client_identity": {"trusted_xff_hops": 1},
        "behaviour": behaviour,
        **extra,
    }


CONFIGS = {
    "burst": _config(signals={"rate": {"min_requests": 20, "strong_factor": 2}}),
    "bola": _config(
        signals={
            "rate": {"min_requests": 100000},
            "bola": {"min_distinct": 10, "strong_factor": 2},
        }
    ),
    "login": _config(
        signals={"auth_failures": {"limit": 5, "strong_factor": 2}},
        ladder={"challenge": {"realm": "api", "acr_values": "urn:example:mfa"}},
    ),
    "ttl": _config(
        signals={"not_found": {"limit": 2, "strong_factor": 2}},
        behaviour={"window_s": 1},
        ladder={"block": {"ttl_s": 2, "excess": 2}},
    ),
    "revoke": _config(
        signals={
            "rate": {"min_requests": 100000},
            "bola": {"min_distinct": 5, "strong_factor": 2},
        },
        ladder={
            "block": {"scope": "client", "excess": 2},
            "revoke": {"enabled": True, "ttl_s": 600},
        },
    ),
    "allowlist": _config(
        signals={
            "rate": {"min_requests": 5, "strong_factor": 2},
            "not_found": {"limit": 2, "strong_factor": 2},
        },
        ladder={"block": {"excess": 2}},
        allowlist={"cidrs": ["198.51.100.0/24"]},
    ),
    "counting": _config(
        mode="monitor",
        signals={"rate": {"min_requests": 150, "strong_factor": 10}},
        behaviour={"window_s": 3600, "tables": {"max_retries": 16}},
    ),
    "monitor": _config(
        mode="monitor",
        signals={
            "rate": {"min_requests": 10, "strong_factor": 2},
            "not_found": {"limit": 3, "strong_factor": 2},
            "bola": {"min_distinct": 5, "strong_factor": 2},
        },
        ladder={"block": {"excess": 2}},
    ),
}


@pytest.fixture(scope="module")
def behaviour_envoys(envoy_pool) -> dict[str, harness.Envoy]:
    envoy_pool.start_all({f"behaviour-{k}": v for k, v in CONFIGS.items()})
    return {k: envoy_pool.envoys[f"behaviour-{k}"] for k in CONFIGS}


def _scenario(name: str):
    @pytest.fixture
    def envoy(behaviour_envoys) -> harness.Envoy:
        return behaviour_envoys[name]

    return envoy


burst_envoy = _scenario("burst")
bola_envoy = _scenario("bola")
login_envoy = _scenario("login")
ttl_envoy = _scenario("ttl")
revoke_envoy = _scenario("revoke")
allowlist_envoy = _scenario("allowlist")
counting_envoy = _scenario("counting")
monitor_behaviour_envoy = _scenario("monitor")


# ---------------------------------------------------------------------------------------------
# Helpers


def get(envoy: harness.Envoy, path: str, ip: str, token: str | None = None) -> harness.Response:
    headers = {"x-forwarded-for": ip}
    if token:
        headers["authorization"] = f"Bearer {token}"
    return envoy.request("GET", path, headers=headers, timeout=15)


def is_local(resp: harness.Response) -> bool:
    """The filter answered (problem document), not the upstream."""
    return resp.headers.get("content-type", "").startswith("application/problem+json")


def metrics(envoy: harness.Envoy) -> dict[str, float]:
    return harness.prometheus_samples(envoy.stats_prometheus())


def grown(envoy: harness.Envoy, before: dict[str, float], name: str) -> dict[str, float] | None:
    """The metrics once `name` has grown since `before`, else None."""
    now = metrics(envoy)
    return now if harness.series_total(now, name) > harness.series_total(before, name) else None


def assert_problem(resp: harness.Response, status: int) -> dict:
    assert resp.status == status, (resp.status, resp.headers, resp.body[:300])
    assert is_local(resp), resp.headers
    problem = resp.json()
    assert problem["status"] == status and problem["incident_id"], problem
    assert resp.headers.get("cache-control") == "no-store", resp.headers
    return problem


# ---------------------------------------------------------------------------------------------
# Scenarios


def test_one_client_bursting_gets_429_with_retry_after_while_other_clients_pass(burst_envoy):
    statuses = []
    throttled = None
    for _ in range(80):
        resp = get(burst_envoy, "/api/users/1", "203.0.113.10")
        statuses.append(resp.status)
        if resp.status == 429:
            throttled = resp
            break
    assert throttled is not None, f"no 429 in 80 requests: {statuses}"
    # Limit 20 per window, throttled from 2x: the first 19 pass untouched.
    assert statuses[:19] == [200] * 19, statuses
    assert len(statuses) >= 40, f"throttled before 2x the limit: {statuses}"
    assert_problem(throttled, 429)
    retry_after = throttled.headers.get("retry-after", "")
    assert retry_after.isdigit() and 1 <= int(retry_after) <= 60, throttled.headers
    assert get(burst_envoy, "/api/users/1", "203.0.113.10").status == 429

    for ip in ("203.0.113.11", "192.0.2.44"):
        for _ in range(10):
            resp = get(burst_envoy, "/api/users/2", ip)
            assert resp.status == 200, (ip, resp.status, resp.body[:300])
            assert_annotated(resp, action="allow")


def test_token_walking_user_ids_is_blocked_on_its_own_evidence(bola_envoy):
    before = metrics(bola_envoy)
    token, ip = "walker-7f3a9c", "203.0.113.20"
    statuses = [get(bola_envoy, f"/api/users/{i}", ip, token).status for i in range(1, 201)]
    assert statuses[:9] == [200] * 9, statuses
    first_stop = statuses.index(403) if 403 in statuses else None
    assert first_stop is not None and first_stop < 60, statuses
    assert all(s == 403 for s in statuses[first_stop:]), str(statuses)
    # Blocked, not just denied per request: an id it already read, from another address too.
    assert_problem(get(bola_envoy, "/api/users/1", ip, token), 403)
    assert_problem(get(bola_envoy, "/api/users/1", "203.0.113.21", token), 403)
    # Another principal reading its own record is not affected.
    resp = get(bola_envoy, "/api/users/3", "203.0.113.22", "reader-51c0")
    assert resp.status == 200, resp.body[:300]
    after = wait_for(lambda: grown(bola_envoy, before, "apiward_blocks_imposed_total"))
    assert after, "no block counted"
    assert harness.series_total(after, "apiward_signals_total", signal="bola") > harness.series_total(
        before, "apiward_signals_total", signal="bola"
    )
    assert harness.series_total(after, "apiward_decisions_total", action="block") >= 1


def test_repeated_401s_from_the_upstream_get_a_step_up_challenge_then_a_block(login_envoy):
    ip = "203.0.113.30"
    seen = []  # ("upstream" | "challenge" | "blocked", status)
    for attempt in range(40):
        resp = login_envoy.request(
            "POST",
            "/auth/login",
            body=f'{{"username": "alan", "password": "guess-{attempt}"}}',
            headers={**JSON, "x-forwarded-for": ip},
            timeout=15,
        )
        if resp.status == 401 and not is_local(resp):
            assert resp.json()["error"] == "invalid username or password"
            seen.append("upstream")
        elif resp.status == 401:
            www = resp.headers.get("www-authenticate", "")
            assert 'error="insufficient_user_authentication"' in www, resp.headers
            assert 'acr_values="urn:example:mfa"' in www and 'realm="api"' in www, www
            assert_problem(resp, 401)
            seen.append("challenge")
        else:
            assert_problem(resp, 403)
            seen.append("blocked")
            if seen.count("blocked") >= 3:
                break
    # Limit 5 per window: challenged from 10 failures, blocked from 4x the limit.
    first_challenge = seen.index("challenge") if "challenge" in seen else None
    assert first_challenge is not None and first_challenge >= 5, seen
    assert "blocked" in seen, seen
    first_block = seen.index("blocked")
    assert first_challenge < first_block, seen
    assert set(seen[first_block:]) == {"blocked"}, seen
    # The right password from another client still logs in.
    resp = login_envoy.request(
        "POST",
        "/auth/login",
        body='{"username": "alan", "password": "correct horse battery staple"}',
        headers={**JSON, "x-forwarded-for": "203.0.113.31"},
    )
    assert resp.status == 200 and resp.json()["token"], resp.body[:300]


def test_block_expires_after_its_ttl(ttl_envoy):
    ip = "203.0.113.40"
    blocked_at = None
    for i in range(30):
        resp = get(ttl_envoy, f"/api/files/missing-{i}.txt", ip)
        if resp.status == 403:
            blocked_at = time.monotonic()
            assert_problem(resp, 403)
            break
        assert resp.status == 404, (i, resp.status, resp.body[:300])
    assert blocked_at is not None, "404 scanning was not blocked"
    assert_problem(get(ttl_envoy, "/api/users/1", ip), 403)
    # A 2 s block: polled, with a generous deadline for a busy machine.
    passed = wait_for(
        lambda: get(ttl_envoy, "/api/users/1", ip).status == 200, timeout=30, interval=0.25
    )
    waited = time.monotonic() - blocked_at
    assert passed, f"still blocked {waited:.1f}s after a 2 s block"
    assert waited >= 1.0, f"the block lasted only {waited:.2f}s"


def test_revoked_token_is_denied_on_both_workers_from_any_address(revoke_envoy):
    before = metrics(revoke_envoy)
    token = "leaked-token-9d2e"
    statuses = []
    for i in range(1, 61):
        resp = get(revoke_envoy, f"/api/users/{i}", "203.0.113.50", token)
        statuses.append(resp.status)
        if resp.status == 403:
            break
    assert statuses[-1] == 403, statuses
    # The token from 24 other addresses, each on a new connection: both workers deny it.
    conns_before = worker_connections(revoke_envoy)
    for n in range(24):
        assert_problem(get(revoke_envoy, "/api/users/1", f"192.0.2.{n + 10}", token), 403)
    conns_after = worker_connections(revoke_envoy)
    used = [w for w in conns_after if conns_after[w] > conns_before.get(w, 0)]
    assert len(used) == 2, f"requests did not reach both workers: {conns_before} -> {conns_after}"
    # Those addresses are not blocked: without the token they pass.
    for n in range(4):
        assert get(revoke_envoy, "/api/users/1", f"192.0.2.{n + 10}").status == 200
    after = metrics(revoke_envoy)
    assert harness.series_total(after, "apiward_tokens_revoked_total") >= 1 + harness.series_total(
        before, "apiward_tokens_revoked_total"
    )
    assert harness.series_total(after, "apiward_signals_total", signal="revoked") >= 24 + harness.series_total(
        before, "apiward_signals_total", signal="revoked"
    )


def _probe(envoy: harness.Envoy, ip: str, n: int = 40) -> list[harness.Response]:
    out = []
    for i in range(n):
        # Files the upstream does not have (404s), none a restricted resource: `.bak` would be
        # denied by the probes before behaviour, allowlisted client or not.
        path = "/api/users/1" if i % 2 else f"/api/files/probe-{i}.txt"
        out.append(get(envoy, path, ip))
    return out


def test_allowlisted_client_is_never_challenged_throttled_or_blocked(allowlist_envoy):
    control = _probe(allowlist_envoy, "203.0.113.60")
    assert any(r.status in (403, 429) and is_local(r) for r in control), [
        r.status for r in control
    ]
    trusted = _probe(allowlist_envoy, "198.51.100.7")
    for r in trusted:
        assert not is_local(r) and r.status in (200, 404), (r.status, r.body[:300])
        ann = assert_annotated(r)
        assert "allowlisted: client in 198.51.100.0/24" in ann["reasons"], ann


def test_request_counts_are_exact_across_both_workers_under_concurrent_load(counting_envoy):
    # The window is aligned to the hour: stay inside one (the count is then exact, not slid).
    if time.time() % 3600 > 3540:
        time.sleep(3600 - time.time() % 3600 + 1)
    before = metrics(counting_envoy)
    conns_before = worker_connections(counting_envoy)
    threads, per_thread, limit = 8, 25, 150
    errors: list[str] = []

    def client() -> None:
        for _ in range(per_thread):
            try:
                resp = get(counting_envoy, "/api/users/1", "203.0.113.70")
                if resp.status != 200:
                    errors.append(f"{resp.status}")
            except OSError as exc:
                errors.append(repr(exc))

    pool = [threading.Thread(target=client) for _ in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    assert not errors, errors
    total = threads * per_thread
    conns_after = worker_connections(counting_envoy)
    assert all(conns_after[w] > conns_before.get(w, 0) for w in conns_after), conns_after

    def counted():
        m = metrics(counting_envoy)
        done = harness.series_total(m, "apiward_requests_total") - harness.series_total(before, "apiward_requests_total")
        return m if done >= total else None

    assert wait_for(counted), "request counter did not reach the number sent"
    # Per-worker figures are published on the tick (100 ms): take them after the next one.
    time.sleep(0.5)
    after = metrics(counting_envoy)

    def delta(name, **labels):
        return harness.series_total(after, name, **labels) - harness.series_total(before, name, **labels)

    # Each worker counts in its own memory and merges on its tick (behaviour.worker_state); once
    # the client's count reaches a quarter of its limit (hot_fraction) every worker counts it
    # through shared data under CAS, so the limit is crossed on exact counts: the 150th request
    # and each one after it carry the rate signal, not one more or less.
    assert delta("apiward_state_errors_total") == 0
    rate = delta("apiward_signals_total", signal="rate")
    assert rate == total - limit + 1, rate
    assert delta("apiward_decisions_total", action="annotate") == rate
    assert delta("apiward_decisions_total", action="allow") == total - rate
    worker = {e: delta("apiward_worker_state_total", event=e) for e in ("merged", "hot_marks")}
    assert worker["merged"] > 0 and worker["hot_marks"] >= 1, worker
    # Two shared-data calls per request at most on average (the epoch read, and the hot
    # bucket's read and write), where writing every table through cost about 13.
    shared = sum(
        delta("apiward_host_calls_total", phase="request", call=c) for c in ("shared_get", "shared_set")
    )
    assert shared <= 3.5 * total, shared

    # After the merge the totals are exact: the next request of the client is its 201st, and
    # once that one is merged too, the one after is the 202nd, whichever worker serves them.
    def nth_request() -> int | None:
        ann = assert_annotated(get(counting_envoy, "/api/users/1", "203.0.113.70"))
        found = re.search(r"rate: (\d+)/h from client 203\.0\.113\.70", ann["reasons"])
        return int(found.group(1)) if found else None

    time.sleep(0.5)  # several merge periods (100 ms), not a timing assertion
    assert nth_request() == total + 1
    time.sleep(0.5)
    assert nth_request() == total + 2


def test_monitor_mode_blocks_nothing_and_annotates_what_enforce_would_do(
    monitor_behaviour_envoy,
):
    envoy = monitor_behaviour_envoy
    before = metrics(envoy)
    ip, token = "203.0.113.80", "monitored-4be1"
    responses = [get(envoy, f"/api/users/{i}", ip, token) for i in range(1, 61)]
    responses += [get(envoy, f"/api/files/old-{i}.zip", ip, token) for i in range(20)]
    actions = set()
    for r in responses:
        assert not is_local(r) and r.status in (200, 404), (r.status, r.body[:300])
        ann = assert_annotated(r, mode="monitor")
        actions.add(ann["action"])
    assert {"annotate", "throttle"} <= actions, actions
    assert actions & {"block", "revoke"}, actions
    # Nothing was written to the block list: the client keeps reaching the API.
    assert get(envoy, "/api/users/1", ip, token).status == 200
    after = metrics(envoy)
    assert harness.series_total(after, "apiward_enforced_total") == harness.series_total(before, "apiward_enforced_total")
    assert harness.series_total(after, "apiward_blocks_imposed_total") == 0


# ---------------------------------------------------------------------------------------------
# Bounded state under an address spray

SPRAY_CLIENTS = 200_000
# The spray needs a fast upstream: a fixed answer per request, in its own process.
FAST_UPSTREAM = r"""
import asyncio, sys
REPLY = (b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n"
         b"content-length: 11\r\n\r\n{\"ok\":true}")
class P(asyncio.Protocol):
    def connection_made(self, t): self.t, self.buf = t, b""
    def data_received(self, d):
        self.buf += d
        n = self.buf.count(b"\r\n\r\n")
        if n:
            self.buf = self.buf[self.buf.rfind(b"\r\n\r\n") + 4:]
            self.t.write(REPLY * n)
async def main():
    srv = await asyncio.get_running_loop().create_server(P, "127.0.0.1", 0)
    print("listening on http://127.0.0.1:%d" % srv.sockets[0].getsockname()[1], flush=True)
    await srv.serve_forever()
asyncio.run(main())
"""


def _vm_rss_kib(pid: int) -> int:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise AssertionError("no VmRSS")


def _spray(port: int, first: int, count: int, threads: int = 4, batch: int = 64) -> int:
    """GETs from `count` distinct X-Forwarded-For addresses (10.x.y.z), pipelined on keep-alive
    connections; returns the number of 200 answers."""
    ok = [0] * threads

    def worker(k: int) -> None:
        sock = socket.create_connection(("127.0.0.1", port), timeout=30)
        try:
            ids = range(first + k, first + count, threads)
            for start in range(0, len(ids), batch):
                chunk = ids[start : start + batch]
                req = b"".join(
                    b"GET /api/users/1 HTTP/1.1\r\nhost: api\r\n"
                    b"x-forwarded-for: 10.%d.%d.%d\r\n\r\n"
                    % ((i >> 16) & 255, (i >> 8) & 255, i & 255)
                    for i in chunk
                )
                sock.sendall(req)
                seen, data = 0, b""
                while seen < len(chunk):
                    part = sock.recv(1 << 16)
                    if not part:
                        raise ConnectionError("envoy closed the connection")
                    data += part
                    seen = data.count(b"HTTP/1.1 ")
                ok[k] += data.count(b"HTTP/1.1 200 ")
                # Responses end with their body: wait for the last one completely.
                while not data.endswith(b"}"):
                    data += sock.recv(1 << 16)
        finally:
            sock.close()

    pool = [threading.Thread(target=worker, args=(k,)) for k in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    return sum(ok)


def test_shared_state_stays_bounded_when_200k_client_addresses_are_sprayed(
    module_path, tmp_path
):
    up = subprocess.Popen(
        [sys.executable, "-c", FAST_UPSTREAM],
        stdout=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        text=True,
        start_new_session=True,
    )
    envoy = None
    try:
        line = up.stdout.readline() if up.stdout else ""
        port = int(re.search(r":(\d+)$", line.strip()).group(1))
        envoy = harness.Envoy(
            # Every request over a limit of 1 per window: each one must write and read its
            # client's entry (counted in apiward_signals_total{signal="rate"}).
            plugin_config={
                "mode": "monitor",
                "client_identity": {"trusted_xff_hops": 1},
                "inspect_headers": ["user-agent"],
                "behaviour": {
                    "warmup": NO_WARMUP,
                    "signals": {"rate": {"min_requests": 1, "strong_factor": 100}},
                },
            },
            upstream_port=port,
            module=module_path,
            workdir=tmp_path,
        ).start()
        pid = envoy.proc.pid
        _spray(envoy.listen_port, 1, 5_000)  # warm the VMs, allocators and connection pools
        rss_start = _vm_rss_kib(pid)
        before = metrics(envoy)
        started = time.monotonic()
        half = _spray(envoy.listen_port, 10_000, SPRAY_CLIENTS // 2)
        rss_half = _vm_rss_kib(pid)
        rest = _spray(envoy.listen_port, 10_000 + SPRAY_CLIENTS // 2, SPRAY_CLIENTS // 2)
        elapsed = time.monotonic() - started
        rss_end = _vm_rss_kib(pid)
        assert half + rest == SPRAY_CLIENTS, (half, rest)
        assert admin_stat(envoy, "wasm.apiward.vm_reload") == 0
        after = metrics(envoy)
        written = harness.series_total(after, "apiward_signals_total", signal="rate") - harness.series_total(
            before, "apiward_signals_total", signal="rate"
        )
        assert written == SPRAY_CLIENTS, written
        assert harness.series_total(after, "apiward_state_errors_total") == 0
        # Default tables: 7.9 MiB of values at most (README), plus keys and host overhead.
        bound_kib = 8_303_872 // 1024
        slack_kib = 16 * 1024
        print(
            f"\nspray: {SPRAY_CLIENTS} distinct clients in {elapsed:.1f}s "
            f"({SPRAY_CLIENTS / elapsed:.0f} req/s); envoy VmRSS {rss_start} KiB before, "
            f"{rss_half} KiB after 100k, {rss_end} KiB after 200k (growth "
            f"{rss_end - rss_start} KiB; table bound {bound_kib} KiB + slack {slack_kib} KiB)"
        )
        assert rss_end - rss_start <= bound_kib + slack_kib, (rss_start, rss_half, rss_end)
        # Once the tables are full, more addresses evict old entries instead of growing memory.
        assert rss_end - rss_half <= 4 * 1024, (rss_start, rss_half, rss_end)
        # And the filter still works.
        resp = envoy.request("GET", "/api/users/1", headers={"x-forwarded-for": "10.0.0.1"})
        assert resp.status == 200
    finally:
        if envoy is not None:
            envoy.stop()
        harness._stop_process(up)
