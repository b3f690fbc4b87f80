"""Plugin configuration: Envoy accepts good ones and refuses bad ones, naming the field.

Three ways a configuration reaches the filter, each tested:
- a running Envoy gets a new listener through LDS (as from a control plane): a bad plugin
  configuration is rejected and the old listener keeps serving; a good one applies at once.
  The VM is reused, so each case costs milliseconds;
- a starting Envoy with a bad configuration exits;
- `envoy --mode validate` refuses it (what CI / a config pipeline runs).
The last two cost a V8 compile of the module each, so they are few and run two at a time.
"""

from __future__ import annotations

import concurrent.futures
import subprocess
from pathlib import Path

import pytest

import harness
from scenarios import BENIGN_GET, SQLI_IN_QUERY, assert_annotated, assert_problem_json_403

REPO = Path(__file__).resolve().parents[2]
ERROR_LINE = "apiward: invalid configuration:"

# (case id, plugin configuration, field path the error must name)
INVALID = [
    ("bad mode", {"mode": "block"}, "mode"),
    ("unknown field", {"mode": "enforce", "colour": "red"}, "colour"),
    ("deny threshold above 1", {"thresholds": {"deny": 1.5}}, "thresholds.deny"),
    ("annotate threshold below 0", {"thresholds": {"annotate": -0.1}}, "thresholds.annotate"),
    ("route without prefix", {"routes": [{"skip": True}]}, "routes[0].prefix"),
    (
        "route prefix not a path",
        {"routes": [{"prefix": "/a/"}, {"prefix": "api"}]},
        "routes[1].prefix",
    ),
    (
        "route threshold out of range",
        {"routes": [{"prefix": "/a/", "thresholds": {"deny": 7}}]},
        "routes[0].thresholds.deny",
    ),
    ("max_body_bytes above 1 MiB", {"max_body_bytes": 2 * 1024 * 1024}, "max_body_bytes"),
    ("bad failure_mode", {"failure_mode": "sideways"}, "failure_mode"),
    ("bad header name", {"inspect_headers": ["x good", "referer"]}, "inspect_headers[0]"),
    ("not JSON", "mode=enforce", "."),
    ("JSON but not an object", "[1, 2]", "."),
    ("crowdsec without cluster", {"crowdsec": {"api_key": "k"}}, "crowdsec.cluster"),
    (
        "crowdsec poll_s zero",
        {"crowdsec": {"cluster": "cs", "api_key": "k", "poll_s": 0}},
        "crowdsec.poll_s",
    ),
    (
        "crowdsec watcher without password",
        {"crowdsec": {"cluster": "cs", "watcher": {"machine_id": "m"}}},
        "crowdsec.watcher.password",
    ),
    (
        "probes extension without its dot",
        {"probes": {"extra_extensions": [".log", ".ini", "log"]}},
        "probes.extra_extensions[2]",
    ),
    ("probes action unknown", {"probes": {"action": "block"}}, "probes.action"),
    ("probes allow not a built-in rule", {"probes": {"allow": [".pemm"]}}, "probes.allow[0]"),
    (
        "route probes not a boolean",
        {"routes": [{"prefix": "/files/", "probes": "off"}]},
        "routes[0].probes",
    ),
]
# Refused by a starting Envoy and by `envoy --mode validate` (each costs a module compile).
PROCESS_CASES = {"bad mode", "unknown field", "deny threshold above 1"}

FULL_VALID = {
    "mode": "enforce",
    "failure_mode": "closed",
    "max_body_bytes": 131072,
    "thresholds": {"annotate": 0.4, "deny": 0.9},
    "annotation_prefix": "x-sec-",
    "client_identity": {"trusted_xff_hops": 1, "principal_headers": ["authorization"]},
    "inspect_headers": ["user-agent", "referer"],
    "model": {"source": "embedded"},
    "routes": [
        {
            "prefix": "/api/legacy/",
            "mode": "monitor",
            "thresholds": {"annotate": 0.5, "deny": 0.95},
        },
        {"prefix": "/healthz", "skip": True},
        {"prefix": "/api/admin/", "ladder": {"block": {"ttl_s": 3600}}},
        {"prefix": "/api/files/", "probes": False},
    ],
    "behaviour": {
        "enabled": True,
        "window_s": 60,
        "learning_rate": 0.05,
        "warmup": {"seconds": 600, "requests": 200, "windows": 3},
        "signals": {
            "rate": {"enabled": True, "z": 4, "min_requests": 120, "strong_factor": 2},
            "route_rate": {"enabled": True, "z": 6, "min_requests": 600},
            "auth_failures": {"enabled": True, "limit": 10, "strong_factor": 2},
            "not_found": {"enabled": True, "limit": 30, "strong_factor": 2},
            "bola": {"enabled": True, "z": 4, "min_distinct": 50, "strong_factor": 2},
            "structure": {"enabled": True, "promote_after": 20},
            "response_size": {"enabled": True, "z": 6, "min_bytes": 65536},
            "model_denies": {"limit": 3, "window_s": 600},
        },
        "tables": {
            "clients": {"buckets": 4096, "entries": 8},
            "principals": {"buckets": 2048, "entries": 8},
            "principal_routes": {"buckets": 4096, "entries": 8},
            "routes": {"buckets": 256, "entries": 8},
            "blocks": {"buckets": 1024, "entries": 8},
            "revoked": {"buckets": 1024, "entries": 8},
            "max_retries": 4,
        },
    },
    "ladder": {
        "challenge": {
            "enabled": True,
            "realm": "api",
            "acr_values": "urn:example:mfa",
            "max_age_s": 300,
        },
        "throttle": {"enabled": True, "retry_after_max_s": 60},
        "block": {
            "enabled": True,
            "ttl_s": 600,
            "max_ttl_s": 86400,
            "scope": "both",
            "excess": 4,
        },
        "revoke": {
            "enabled": True,
            "ttl_s": 86400,
            "cluster": "idp",
            "path": "/oauth2/revoke",
            "authority": "idp.example.com",
            "client_authorization": "Basic YXBpd2FyZDpzZWNyZXQ=",
            "timeout_ms": 2000,
        },
    },
    "allowlist": {
        "cidrs": ["10.0.0.0/8", "2001:db8::/32"],
        "principals": ["sha256:" + "ab" * 32],
        "paths": ["/api/status"],
    },
    "probes": {
        "enabled": True,
        "action": "deny",
        "extra_files": ["docker-compose.yml", "config/app.yml"],
        "extra_extensions": [".log"],
        "allow": [".pem"],
    },
}


def _error_lines(output: str) -> list[str]:
    return [line for line in output.splitlines() if ERROR_LINE in line]


def assert_names_field(line: str, field: str) -> None:
    """The message starts with the field's full path (`.` for the document itself)."""
    text = line.split(ERROR_LINE, 1)[1].strip()
    assert text.startswith(f"{field}: "), f"error does not start with {field!r}: {line}"


# --- LDS: a running Envoy -----------------------------------------------------------------


@pytest.fixture(scope="module")
def lds_envoy(upstream, module_path, tmp_path_factory):
    envoy = harness.Envoy(
        plugin_config={"mode": "monitor"},
        upstream_port=upstream.port,
        module=module_path,
        workdir=tmp_path_factory.mktemp("envoy-lds"),
        dynamic_listeners=True,
    )
    envoy.start()
    yield envoy
    envoy.stop()


@pytest.mark.parametrize("case,cfg,field", INVALID, ids=[c[0] for c in INVALID])
def test_invalid_plugin_configuration_pushed_to_running_envoy_is_rejected_naming_the_field(
    lds_envoy, case, cfg, field
):
    mode_before = assert_annotated(BENIGN_GET.send(lds_envoy))["mode"]
    log_before = len(lds_envoy.log())
    assert lds_envoy.update_plugin_config(cfg) is False, f"Envoy accepted {cfg!r}"
    lines = _error_lines(lds_envoy.log()[log_before:])
    assert lines, f"no '{ERROR_LINE}' line for {cfg!r}"
    assert_names_field(lines[-1], field)
    # The listener that was serving keeps serving, with its old configuration.
    assert_annotated(BENIGN_GET.send(lds_envoy), action="allow", mode=mode_before)


def test_valid_configuration_pushed_to_running_envoy_applies_without_restart(lds_envoy):
    assert lds_envoy.update_plugin_config({"mode": "enforce", "annotation_prefix": "x-sec-"})
    resp = BENIGN_GET.send(lds_envoy)
    assert resp.status == 200
    assert_annotated(resp, action="allow", mode="enforce", prefix="x-sec-")
    assert not resp.annotations(), "the default annotation prefix must not be used any more"
    assert_problem_json_403(SQLI_IN_QUERY.send(lds_envoy), prefix="x-sec-")
    assert lds_envoy.update_plugin_config({"mode": "monitor"})
    assert_annotated(SQLI_IN_QUERY.send(lds_envoy), action="deny", mode="monitor")


def test_configuration_using_every_documented_field_is_accepted(lds_envoy):
    assert lds_envoy.update_plugin_config(FULL_VALID), harness.log_excerpt(lds_envoy.log(), 20)
    # From its own address (one trusted hop): earlier tests' attacks from 127.0.0.1 count as
    # model denies of that client, and the third one escalates to a block.
    resp = lds_envoy.request(
        "GET",
        "/api/legacy/search?q=" + SQLI_IN_QUERY.path.split("q=")[1],
        headers={"x-forwarded-for": "198.51.100.23"},
    )
    assert_annotated(resp, action="deny", mode="monitor", prefix="x-sec-")
    assert lds_envoy.update_plugin_config({"mode": "monitor"})


def test_empty_configuration_is_accepted(lds_envoy):
    assert lds_envoy.update_plugin_config({})
    assert lds_envoy.update_plugin_config("")


# --- Processes: a starting Envoy, and envoy --mode validate ---------------------------------


def _validate(plugin_config, module: Path, workdir: Path):
    config = workdir / "envoy.yaml"
    config.write_text(
        harness.render_envoy_config(
            plugin_config=plugin_config,
            listen_port=0,
            admin_port=0,
            upstream_port=9,
            module=module,
        )
    )
    res = harness.validate_envoy_config(config)
    return res.returncode, res.stdout


def _start_refused(plugin_config, module: Path, workdir: Path):
    envoy = harness.Envoy(
        plugin_config=plugin_config, upstream_port=9, module=module, workdir=workdir
    )
    envoy.launch()
    code = envoy.wait_exit(timeout=harness.DEFAULT_START_TIMEOUT)
    if code is None:  # still running: the configuration was accepted
        envoy.stop()
        return None, envoy.log() + "\n(envoy was still running)"
    return code, envoy.log()


@pytest.fixture(scope="module")
def process_outcomes(module_path, tmp_path_factory):
    """{(kind, case id): (exit code, output)} for the validate / start cases."""
    jobs = {}
    with concurrent.futures.ThreadPoolExecutor(max_workers=2) as pool:
        for case, cfg, _ in INVALID:
            if case in PROCESS_CASES:
                jobs[("validate", case)] = pool.submit(
                    _validate, cfg, module_path, tmp_path_factory.mktemp("validate")
                )
        jobs[("start", "bad mode")] = pool.submit(
            _start_refused, {"mode": "block"}, module_path, tmp_path_factory.mktemp("refused")
        )
        results = {}
        for key, fut in jobs.items():
            try:
                results[key] = fut.result()
            except subprocess.TimeoutExpired as exc:
                results[key] = (None, f"timed out: {exc}")
    return results


@pytest.mark.parametrize(
    "case,cfg,field",
    [c for c in INVALID if c[0] in PROCESS_CASES],
    ids=[c[0] for c in INVALID if c[0] in PROCESS_CASES],
)
def test_invalid_plugin_configuration_is_refused_by_envoy_validate_naming_the_field(
    process_outcomes, case, cfg, field
):
    code, output = process_outcomes[("validate", case)]
    assert code is not None and code != 0, f"validate accepted {cfg!r}:\n{output[-3000:]}"
    lines = _error_lines(output)
    assert lines, f"no '{ERROR_LINE}' line:\n{harness.log_excerpt(output, 40)}"
    assert_names_field(lines[0], field)


def test_starting_envoy_with_invalid_plugin_configuration_exits_naming_the_field(
    process_outcomes,
):
    code, output = process_outcomes[("start", "bad mode")]
    assert code is not None and code != 0, f"Envoy kept running:\n{output[-3000:]}"
    lines = _error_lines(output)
    assert lines, f"no '{ERROR_LINE}' line:\n{harness.log_excerpt(output, 40)}"
    assert_names_field(lines[0], "mode")


def test_shipped_envoy_yaml_passes_envoy_validate(module_path):
    if module_path.resolve() != harness.BUILT_MODULE.resolve():
        pytest.skip("envoy/envoy.yaml names the module built by `make build`")
    res = harness.validate_envoy_config("envoy/envoy.yaml", cwd=REPO)
    assert res.returncode == 0, harness.log_excerpt(res.stdout, 40)
    assert "OK" in res.stdout.splitlines()[-1], res.stdout[-1000:]


# --- make run's extra clusters (APIWARD_CLUSTER_<name>=host:port) -----------------------------


def test_clusters_from_environment_render_into_a_config_envoy_validates(module_path, tmp_path):
    clusters = harness.clusters_from_env(
        {"APIWARD_CLUSTER_siem": "127.0.0.1:8088", "APIWARD_CLUSTER_crowdsec": "localhost:8081"}
    )
    assert clusters == {"siem": ("127.0.0.1", 8088), "crowdsec": ("127.0.0.1", 8081)}
    config = tmp_path / "envoy.yaml"
    config.write_text(
        harness.render_envoy_config(
            plugin_config={}, listen_port=0, admin_port=0, upstream_port=9,
            module=module_path, clusters=clusters,
        )
    )
    res = harness.validate_envoy_config(config)
    assert res.returncode == 0, harness.log_excerpt(res.stdout, 40)


@pytest.mark.parametrize(
    "value", ["10.0.0.5:80", "example.org:443", "127.0.0.1", "127.0.0.1:http", "127.0.0.1:0"]
)
def test_cluster_from_environment_off_loopback_or_malformed_is_refused(value):
    with pytest.raises(harness.HarnessError, match="APIWARD_CLUSTER_x|cluster x"):
        harness.clusters_from_env({"APIWARD_CLUSTER_x": value})
