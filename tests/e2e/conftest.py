"""Fixtures for the end-to-end suite: the compiled filter in a real Envoy (--concurrency 2)
in front of the example API on loopback.

Starting Envoy costs V8 a full compile of the module (seconds), so Envoy instances are shared:
one per plugin configuration for the whole session, started in parallel. On a failing test
the log of every Envoy the test used is attached to the report (pytest prints it).
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "examples"))

import harness  # noqa: E402

MODULE = harness.DEFAULT_MODULE  # APIWARD_WASM overrides the built one

# Plugin configurations shared by the tests (one Envoy each).
EMPTY_CONFIG: dict = {}  # all defaults: monitor mode
# The model-focused tests send every attack and every odd request from 127.0.0.1. Behaviour stays
# on (every request updates shared data), with its escalations out of their reach: the n-th model
# deny from one client would block it, and traversal attacks add up to 404 bursts.
# tests/e2e/test_behaviour.py covers behaviour with one Envoy per scenario.
MODEL_FOCUSED_BEHAVIOUR = {
    "signals": {"model_denies": {"limit": 1000}, "not_found": {"limit": 100000}},
}
MONITOR_CONFIG: dict = {"behaviour": MODEL_FOCUSED_BEHAVIOUR}
ENFORCE_CONFIG = {
    "mode": "enforce",
    "routes": [
        {"prefix": "/internal/", "skip": True},
        {"prefix": "/api/legacy/", "mode": "monitor"},
        # A route that serves files by name: restricted-resource probes off (test_probes.py).
        {"prefix": "/api/files/", "probes": False},
    ],
    "behaviour": MODEL_FOCUSED_BEHAVIOUR,
}

LOG_TAIL_LINES = 150


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if report.failed:
        seen = set()
        for value in list(item.funcargs.values()):
            envoys = value.values() if isinstance(value, dict) else [value]
            for envoy in envoys:
                if isinstance(envoy, harness.Envoy) and id(envoy) not in seen:
                    seen.add(id(envoy))
                    report.sections.append(
                        (
                            f"envoy log ({envoy.log_path}, last {LOG_TAIL_LINES} lines)",
                            harness.log_excerpt(envoy.log(), LOG_TAIL_LINES),
                        )
                    )


@pytest.fixture(scope="session")
def module_path() -> Path:
    if not MODULE.is_file():
        pytest.exit(f"wasm module not built: {MODULE} (run `make build`)", returncode=2)
    return MODULE


@pytest.fixture(scope="session")
def upstream(tmp_path_factory):
    up = harness.Upstream(workdir=tmp_path_factory.mktemp("upstream")).start()
    yield up
    up.stop()


class EnvoyPool:
    """Starts Envoys for several configurations at once and keeps them for the session."""

    def __init__(self, upstream, module, tmp_path_factory):
        self.upstream = upstream
        self.module = module
        self.tmp = tmp_path_factory
        self.envoys: dict[str, harness.Envoy] = {}

    def start_all(self, configs: dict[str, dict]) -> None:
        pending = {}
        for name, cfg in configs.items():
            if name in self.envoys:
                continue
            envoy = harness.Envoy(
                plugin_config=cfg,
                upstream_port=self.upstream.port,
                module=self.module,
                workdir=self.tmp.mktemp(f"envoy-{name}"),
            )
            envoy.launch()
            pending[name] = envoy
        deadline = time.monotonic() + harness.DEFAULT_START_TIMEOUT
        try:
            for name, envoy in pending.items():
                envoy._wait_admin(deadline)
                envoy._wait_listener(deadline)
                self.envoys[name] = envoy
        except BaseException:
            for envoy in pending.values():
                envoy.stop()
            raise

    def get(self, name: str, config: dict) -> harness.Envoy:
        if name not in self.envoys:
            self.start_all({name: config})
        return self.envoys[name]

    def stop(self) -> None:
        for envoy in self.envoys.values():
            envoy.stop()


@pytest.fixture(scope="session")
def envoy_pool(upstream, module_path, tmp_path_factory):
    pool = EnvoyPool(upstream, module_path, tmp_path_factory)
    try:
        # The common ones in parallel: V8 compiles in each process at the same time.
        pool.start_all(
            {"monitor": MONITOR_CONFIG, "enforce": ENFORCE_CONFIG, "empty": EMPTY_CONFIG}
        )
    except harness.HarnessError as exc:
        pool.stop()
        pytest.exit(f"could not start Envoy with the filter:\n{exc}", returncode=3)
    yield pool
    pool.stop()


@pytest.fixture(scope="session")
def monitor_envoy(envoy_pool) -> harness.Envoy:
    return envoy_pool.get("monitor", MONITOR_CONFIG)


@pytest.fixture(scope="session")
def enforce_envoy(envoy_pool) -> harness.Envoy:
    return envoy_pool.get("enforce", ENFORCE_CONFIG)


@pytest.fixture(scope="session")
def empty_envoy(envoy_pool) -> harness.Envoy:
    return envoy_pool.get("empty", EMPTY_CONFIG)
