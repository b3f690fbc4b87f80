"""Kong (envoy/kong, dist/kong) and docker-compose (envoy/docker-compose.yaml).

No Kong runs here (its proxy-wasm builds are 3.4 to 3.9 and not in Debian): the filter's meta.json
must carry the configuration's JSON schema, the declarative file's filter config must pass that
schema (what Kong checks) and the filter's own parser (what the filter checks). No Docker engine
runs here either: the compose file is checked by `docker-compose config` (Debian's client, which
needs no daemon) and the Envoy configuration it mounts by `envoy --mode validate`."""

from __future__ import annotations

import json
import re
import subprocess

import jsonschema
import yaml

import harness
from conftest import REPO, load_yaml_docs, parser_verdict, tool


def kong_filter_configs(path):
    doc = load_yaml_docs(path)[0]
    assert doc["_format_version"] == "3.0"
    found = []
    for service in doc["services"]:
        for chain in service.get("filter_chains", []):
            for f in chain["filters"]:
                found.append(f)
    return found


def test_kong_meta_json_carries_the_config_schema(dist, config_schema):
    meta = json.loads((dist / "kong" / "apiward.meta.json").read_text())
    assert meta == {"config_schema": config_schema}
    assert (dist / "kong" / "apiward.wasm").read_bytes() == (dist / "apiward.wasm").read_bytes()


def test_kong_declarative_filter_config_passes_kong_schema_and_filter(dist, tmp_path):
    meta = json.loads((dist / "kong" / "apiward.meta.json").read_text())
    filters = kong_filter_configs(dist / "kong" / "kong.yaml")
    assert [f["name"] for f in filters] == ["apiward"]  # the name of apiward.wasm in wasm_filters_path
    for f in filters:
        jsonschema.validate(f["config"], meta["config_schema"], cls=jsonschema.Draft202012Validator)
        accepted, message = parser_verdict(f["config"], tmp_path)
        assert accepted, message
    bad = dict(filters[0]["config"], mode="block")
    errors = list(jsonschema.Draft202012Validator(meta["config_schema"]).iter_errors(bad))
    assert any(list(e.absolute_path) == ["mode"] for e in errors), errors


def test_kong_conf_enables_wasm_and_points_at_the_filters():
    settings = {}
    for line in (REPO / "envoy" / "kong" / "kong.conf").read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            key, _, value = line.partition("=")
            settings[key.strip()] = value.strip()
    assert settings["wasm"] == "on"
    assert settings["wasm_filters_path"].startswith("/")


def test_docker_compose_file_is_valid_and_pinned(tmp_path):
    compose = REPO / "envoy" / "docker-compose.yaml"
    proc = subprocess.run(
        [tool("docker-compose"), "-f", str(compose), "config"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stdout
    resolved = yaml.safe_load(proc.stdout)
    envoy = resolved["services"]["envoy"]
    assert re.fullmatch(r"envoyproxy/envoy:v\d+\.\d+\.\d+", envoy["image"]), envoy["image"]
    mounts = {}
    for volume in envoy["volumes"] + resolved["services"]["upstream"]["volumes"]:
        source, target, *_ = volume.split(":") if isinstance(volume, str) else (
            volume["source"], volume["target"])
        mounts[target] = source
    assert mounts["/apiward/envoy/envoy.yaml"] == str(REPO / "envoy" / "envoy.yaml")
    assert mounts["/apiward/target/wasm32-wasip1/release/apiward.wasm"] == str(
        REPO / "target" / "wasm32-wasip1" / "release" / "apiward.wasm"
    )
    assert mounts["/apiward/examples/upstream.py"] == str(REPO / "examples" / "upstream.py")
    # Envoy's working directory makes the module path relative to it resolve to the mount.
    assert envoy["working_dir"] == "/apiward"
    assert "/apiward/envoy/envoy.yaml" in envoy["command"]


def test_envoy_yaml_mounted_by_compose_passes_envoy_validate():
    """The very file compose mounts, from the directory layout compose recreates."""
    proc = harness.validate_envoy_config(REPO / "envoy" / "envoy.yaml", cwd=REPO)
    print(proc.stdout.strip().splitlines()[-1])
    assert proc.returncode == 0, harness.log_excerpt(proc.stdout)
    assert re.search(r"^configuration '.*' OK$", proc.stdout, re.M)
