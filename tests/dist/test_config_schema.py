"""The configuration's JSON schema (generated from the Rust types that parse the configuration)
agrees with the parser: it accepts every configuration the project ships and rejects the
malformed ones the parser rejects. If a field is added to the parser and not to the schema (or
the reverse), these tests fail."""

from __future__ import annotations

import json
import re
import subprocess

import jsonschema
import pytest

from conftest import CLI, REPO, load_yaml_docs, parser_verdict

sys_path_e2e = REPO / "tests" / "e2e"


def shipped_configs() -> dict[str, object]:
    """Every plugin configuration the repository ships or tests with."""
    import importlib.util

    configs: dict[str, object] = {}
    spec = importlib.util.spec_from_file_location("e2e_conftest", sys_path_e2e / "conftest.py")
    e2e = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(e2e)
    for name in ("EMPTY_CONFIG", "MONITOR_CONFIG", "ENFORCE_CONFIG"):
        configs[f"tests/e2e {name}"] = getattr(e2e, name)
    envoy_yaml = (REPO / "envoy" / "envoy.yaml").read_text()
    m = re.search(r"value:\s*'((?:[^']|'')*)'\s*#\s*apiward:plugin_config", envoy_yaml)
    assert m, "envoy/envoy.yaml: no plugin configuration line"
    configs["envoy/envoy.yaml"] = json.loads(m.group(1).replace("''", "'"))
    for name in ("wasmplugin.yaml", "trafficextension.yaml"):
        for doc in load_yaml_docs(REPO / "envoy" / "istio" / name):
            spec_ = doc["spec"]
            cfg = spec_["wasm"]["pluginConfig"] if "wasm" in spec_ else spec_["pluginConfig"]
            configs[f"envoy/istio/{name} {doc['metadata']['name']}"] = cfg
    kong = load_yaml_docs(REPO / "envoy" / "kong" / "kong.yaml")[0]
    for service in kong["services"]:
        for chain in service.get("filter_chains", []):
            for f in chain["filters"]:
                configs[f"envoy/kong/kong.yaml {chain['name']}"] = f["config"]
    return configs


SHIPPED = shipped_configs()

# Malformed configurations: the parser rejects each at load, and so must the schema.
MALFORMED = {
    "unknown top-level field": {"mode": "monitor", "modes": "enforce"},
    "unknown mode": {"mode": "block"},
    "mode not a string": {"mode": 1},
    "max_body_bytes negative": {"max_body_bytes": -1},
    "max_body_bytes a string": {"max_body_bytes": "64k"},
    "threshold not a number": {"thresholds": {"deny": "high"}},
    "unknown threshold": {"thresholds": {"block": 0.9}},
    "route without prefix": {"routes": [{"mode": "enforce"}]},
    "route skip not a bool": {"routes": [{"prefix": "/a", "skip": "yes"}]},
    "unknown model source": {"model": {"source": "remote"}},
    "inline model without onnx": {"model": {"source": "inline", "metadata": {}}},
    "unknown behaviour signal": {"behaviour": {"signals": {"dns": {"enabled": True}}}},
    "unknown block scope": {"ladder": {"block": {"scope": "everyone"}}},
    "principal source unknown key": {"client_identity": {"principal_sources": [{"cookie": "s"}]}},
    "allowlist cidrs not a list": {"allowlist": {"cidrs": "10.0.0.0/8"}},
    "unknown probes action": {"probes": {"action": "block"}},
    "probes extra_files not a list": {"probes": {"extra_files": ".env"}},
    "route probes not a bool": {"routes": [{"prefix": "/files/", "probes": "off"}]},
    "configuration not an object": ["mode", "enforce"],
}


def test_schema_is_what_the_cli_generates_now(config_schema):
    out = subprocess.run(
        [str(CLI), "config-schema"], check=True, stdout=subprocess.PIPE, text=True
    ).stdout
    assert json.loads(out) == config_schema, "dist/ is stale: run `make dist`"


def test_schema_is_a_valid_draft_2020_12_schema(config_schema):
    assert config_schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    jsonschema.Draft202012Validator.check_schema(config_schema)
    assert config_schema["additionalProperties"] is False
    for field in ("mode", "routes", "behaviour", "ladder", "allowlist", "client_identity"):
        assert field in config_schema["properties"]


@pytest.mark.parametrize("name", sorted(SHIPPED))
def test_every_shipped_configuration_is_accepted_by_schema_and_parser(
    name, config_schema, tmp_path
):
    config = SHIPPED[name]
    jsonschema.validate(config, config_schema, cls=jsonschema.Draft202012Validator)
    accepted, message = parser_verdict(config, tmp_path)
    assert accepted, f"{name}: the filter refuses it: {message}"


@pytest.mark.parametrize("case", sorted(MALFORMED))
def test_malformed_configuration_is_rejected_by_schema_and_parser(case, config_schema, tmp_path):
    config = MALFORMED[case]
    errors = list(jsonschema.Draft202012Validator(config_schema).iter_errors(config))
    assert errors, f"schema accepts {config}"
    accepted, message = parser_verdict(config, tmp_path)
    assert not accepted, f"parser accepts {config}"
    assert "invalid configuration" in message or "must be a JSON object" in message


def test_schema_documents_the_enums(config_schema):
    defs = config_schema["$defs"]
    modes = {v["const"] for v in defs["Mode"]["oneOf"]}
    assert modes == {"monitor", "enforce"}
    failure = {v["const"] for v in defs["FailureMode"]["oneOf"]}
    assert failure == {"open", "closed"}
    probe_actions = {v["const"] for v in defs["ProbeAction"]["oneOf"]}
    assert probe_actions == {"deny", "annotate"}
