#!/usr/bin/env python3
"""`make bench-quick`: a first, short throughput and start-up measurement.

wrk -> Envoy (no filter | apiward monitor without behaviour | apiward monitor | apiward
enforce) -> a fixed upstream (a second
Envoy answering every request with a direct_response, so the upstream is never the
bottleneck). Reports requests/s, the ratio to Envoy without the filter, wrk's latency
percentiles, the time from Envoy start to the first scored response, and the filter's own
processing time (its x-apiward-latency-us annotation). Loopback only; every run is bounded.

The full side-by-side benchmark (with nginx + ModSecurity, several payloads, interleaved
rounds) is `make bench`, a later piece of work.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import harness  # noqa: E402

UPSTREAM_YAML = """
admin:
  address: {{socket_address: {{address: 127.0.0.1, port_value: {admin}}}}}
static_resources:
  listeners:
  - name: fixed
    address: {{socket_address: {{address: 127.0.0.1, port_value: {port}}}}}
    filter_chains:
    - filters:
      - name: envoy.filters.network.http_connection_manager
        typed_config:
          "@type": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager
          stat_prefix: fixed
          route_config:
            virtual_hosts:
            - name: all
              domains: ["*"]
              routes:
              - match: {{prefix: "/"}}
                direct_response: {{status: 200, body: {{inline_string: '{{"ok":true}}'}}}}
          http_filters:
          - name: envoy.filters.http.router
            typed_config: {{"@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router}}
"""

POST_LUA = """
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = {body}
"""

GET_PATH = "/api/orders?status=shipped&page=2&sort=-created_at&q=blue%20widget"


def json_body_1k() -> str:
    items = [{"sku": f"SKU-{i:04d}", "name": f"Blue widget size {i}", "qty": i % 5 + 1,
              "note": "leave at the front door, ring twice"} for i in range(8)]
    body = json.dumps({"customer": {"name": "Ada Lovelace", "email": "ada@example.com"},
                       "items": items, "currency": "EUR"})
    return body[:1024]


def start_fixed_upstream(workdir: Path) -> tuple[subprocess.Popen, int]:
    port, admin = harness.free_port(), harness.free_port()
    cfg = workdir / "upstream.yaml"
    cfg.write_text(UPSTREAM_YAML.format(port=port, admin=admin))
    log = open(workdir / "upstream.log", "wb")
    proc = subprocess.Popen([harness.envoy_binary(), "-c", str(cfg), "--concurrency", "1",
                             "--use-dynamic-base-id", "-l", "error"],
                            stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                            start_new_session=True)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if harness.http_get(port, "/", timeout=1).status == 200:
                return proc, port
        except OSError:
            time.sleep(0.05)
    proc.kill()
    raise SystemExit("fixed upstream did not start")


def without_filter(text: str) -> str:
    """envoy.yaml with the apiward filter entry removed (plain Envoy, same everything else)."""
    out, n = re.subn(r"\n          - name: apiward\n.*?(?=\n          - name: envoy\.filters\.http\.router)",
                     "", text, flags=re.S)
    if n != 1:
        raise SystemExit("could not strip the apiward filter from envoy.yaml")
    return out


def wrk(port: int, seconds: int, script: Path | None, path: str) -> dict:
    cmd = ["wrk", "-t2", "-c16", f"-d{seconds}s", "--latency", "--timeout", "5s"]
    if script:
        cmd += ["-s", str(script)]
    cmd.append(f"http://127.0.0.1:{port}{path}")
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=seconds + 30).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    lat = dict(re.findall(r"^\s+(50|99)%\s+([\d.]+\w+)", out, flags=re.M))
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return {"rps": rps, "p50": lat.get("50"), "p99": lat.get("99"),
            "non2xx": int(non2xx.group(1)) if non2xx else 0}


def filter_time(envoy: harness.Envoy) -> str:
    """P50/P99 of the filter's own apiward_inference_us histogram (decode + features + model)."""
    text = harness.http_get(envoy.admin_port, "/stats?filter=apiward_inference_us").body.decode()
    m = re.search(r"P50\(([\d.]+),([\d.]+)\).*P99\(([\d.]+),([\d.]+)\)", text)
    return f"{float(m.group(2)):.0f}/{float(m.group(4)):.0f}" if m else "?"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seconds", type=int, default=10)
    ap.add_argument("--module", default=str(harness.DEFAULT_MODULE))
    args = ap.parse_args()
    if not shutil.which("wrk"):
        print("wrk is not installed (Debian: apt-get install wrk)", file=sys.stderr)
        return 2
    workdir = Path(tempfile.mkdtemp(prefix="apiward-bench-"))
    lua = workdir / "post.lua"
    lua.write_text(POST_LUA.format(body=json.dumps(json_body_1k())))
    upstream, up_port = start_fixed_upstream(workdir)
    module = Path(args.module)
    print(f"module: {module} ({module.stat().st_size / 1e6:.2f} MB)")
    results = []
    try:
        # "behaviour off" is the model alone: the difference to monitor is the shared-data state
        # (all wrk connections are one client: one hot bucket, CAS races between the workers).
        for name, cfg in [("envoy (no filter)", None),
                          ("monitor, behav. off", {"mode": "monitor", "behaviour": {"enabled": False}}),
                          ("apiward monitor", {"mode": "monitor"}),
                          ("apiward enforce", {"mode": "enforce"})]:
            envoy = harness.Envoy(plugin_config=cfg or {}, upstream_port=up_port, module=module)
            if cfg is None:
                envoy._render = lambda pc, _orig=envoy._render: without_filter(_orig(pc))  # noqa: E731
            t0 = time.monotonic()
            envoy.start(timeout=180)
            ready = time.monotonic() - t0
            try:
                get = wrk(envoy.listen_port, args.seconds, None, GET_PATH)
                post = wrk(envoy.listen_port, args.seconds, lua, "/api/orders")
                time.sleep(6)  # Envoy flushes histograms every 5 s
                latency = filter_time(envoy) if cfg is not None else ""
            finally:
                envoy.stop()
            results.append((name, ready, get, post, latency))
    finally:
        upstream.kill()
    base_get, base_post = results[0][2]["rps"], results[0][3]["rps"]
    print(f"\n{'proxy':<20} {'ready s':>8} {'GET rps':>9} {'ratio':>6} {'p50':>8} {'p99':>8}"
          f" {'POST1K rps':>10} {'ratio':>6} {'p50':>8} {'p99':>8} {'filter us p50/p99 (cumulative)':>18}")
    for name, ready, get, post, lat_s in results:
        print(f"{name:<20} {ready:>8.1f} {get['rps']:>9.0f} {get['rps'] / base_get:>6.2f} {get['p50']:>8} "
              f"{get['p99']:>8} {post['rps']:>10.0f} {post['rps'] / base_post:>6.2f} {post['p50']:>8} "
              f"{post['p99']:>8} {lat_s:>18}")
        if get["non2xx"] or post["non2xx"]:
            print(f"  note: {get['non2xx'] + post['non2xx']} non-2xx responses (benign traffic denied?)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
