#!/usr/bin/env python3
"""`make run`: the apiward filter in Envoy on 127.0.0.1:10000 in front of the example API.

Environment:
  APIWARD_MODE     monitor (default) | enforce
  APIWARD_CONFIG   full plugin configuration as JSON (overrides APIWARD_MODE)
  APIWARD_LISTEN_PORT / APIWARD_ADMIN_PORT / APIWARD_UPSTREAM_PORT  (10000 / 9901 / 8080)
  APIWARD_CLUSTER_<name>=host:port  adds a static Envoy cluster <name> (loopback only) that the
                   configuration can name: event sinks, CrowdSec LAPI, an RFC 7009 endpoint
Stops Envoy and the upstream on Ctrl-C (or SIGTERM).
"""

from __future__ import annotations

import json
import os
import signal
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import harness  # noqa: E402


def plugin_config_from_env() -> dict:
    raw = os.environ.get("APIWARD_CONFIG")
    if raw:
        try:
            return json.loads(raw)
        except ValueError as exc:
            sys.exit(f"APIWARD_CONFIG is not JSON: {exc}")
    mode = os.environ.get("APIWARD_MODE", "monitor").strip() or "monitor"
    if mode not in ("monitor", "enforce"):
        sys.exit(f"APIWARD_MODE must be monitor or enforce, not {mode!r}")
    return {"mode": mode}


def main() -> int:
    config = plugin_config_from_env()
    try:
        clusters = harness.clusters_from_env()
    except harness.HarnessError as exc:
        sys.exit(f"error: {exc}")
    listen = int(os.environ.get("APIWARD_LISTEN_PORT", "10000"))
    admin = int(os.environ.get("APIWARD_ADMIN_PORT", "9901"))
    upstream = int(os.environ.get("APIWARD_UPSTREAM_PORT", "8080"))
    workdir = harness.REPO / ".work" / "run"
    workdir.mkdir(parents=True, exist_ok=True)

    def on_sigterm(signum, _frame):
        raise KeyboardInterrupt

    # SIGTERM unwinds like Ctrl-C, so the children (own sessions) are always stopped by PID.
    signal.signal(signal.SIGTERM, on_sigterm)

    print(
        f"starting the example API on 127.0.0.1:{upstream} and Envoy (V8 compiles the module, "
        f"a few seconds) ...",
        flush=True,
    )
    stack = harness.Stack(
        config,
        listen_port=listen,
        admin_port=admin,
        upstream_port=upstream,
        quiet_upstream=False,
        workdir=workdir,
        clusters=clusters,
    )
    try:
        stack.__enter__()
    except KeyboardInterrupt:
        return 130
    except harness.HarnessError as exc:
        print(f"error: {exc}", file=sys.stderr)
        print(
            "(is something else using the ports? set APIWARD_LISTEN_PORT / APIWARD_ADMIN_PORT / "
            "APIWARD_UPSTREAM_PORT)",
            file=sys.stderr,
        )
        return 1
    try:
        base = f"http://127.0.0.1:{listen}"
        mode = config.get("mode", "monitor")
        print(
            f"""
apiward is serving ({mode} mode), plugin configuration: {json.dumps(config)}
  API through the filter  {base}   (example API: /api/users/1, /api/orders, /api/search?q=, ...)
  Envoy admin             http://127.0.0.1:{admin}   (/stats/prometheus, /ready)
  extra clusters          {", ".join(f"{n}={h}:{p}" for n, (h, p) in clusters.items()) or "none (APIWARD_CLUSTER_<name>=host:port)"}
  logs                    {stack.envoy.log_path}
                          {stack.upstream.log_path}
Try:
  curl -s -m 5 '{base}/api/users/1'
  curl -s -m 5 '{base}/api/search?q=1%27%20UNION%20SELECT%20password%20FROM%20users--'
  curl -s -m 5 'http://127.0.0.1:{admin}/stats/prometheus' | grep apiward
Ctrl-C stops Envoy and the example API.""",
            flush=True,
        )
        while True:
            for name, proc in (("envoy", stack.envoy.proc), ("upstream", stack.upstream.proc)):
                if proc is not None and proc.poll() is not None:
                    print(
                        f"{name} exited with {proc.returncode}; log:\n"
                        f"{(stack.envoy if name == 'envoy' else stack.upstream).log()[-4000:]}",
                        file=sys.stderr,
                    )
                    return 1
            time.sleep(0.5)
    except KeyboardInterrupt:
        print("\nstopping ...", flush=True)
        return 0
    finally:
        stack.stop()


if __name__ == "__main__":
    sys.exit(main())
