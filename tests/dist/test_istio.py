"""The Istio manifests (envoy/istio) against Istio's published CRD schemas, as compiled into
validators by npm @kubernetes-models/istio (pinned in tests/dist/package.json), and their
pluginConfig against the filter itself.

TrafficExtension (Istio 1.30) is in no registry package available here (@kubernetes-models/istio
3.0.1 has WasmPlugin, not TrafficExtension). Its `wasm` block is Istio's WasmConfig, whose fields
are those of WasmPlugin's spec (same proto types: WorkloadSelector, PolicyTargetReference,
FailStrategy, PullPolicy, VmConfig, PluginType, TrafficSelector), so it is checked as the
equivalent WasmPlugin by the same validator, plus the rules of the TrafficExtension proto that the
WasmPlugin schema cannot see (its field names; exactly one of wasm/lua; not both selector and
targetRefs)."""

from __future__ import annotations

import copy
import json
import re
import subprocess

import pytest

import harness
from conftest import REPO, load_yaml_docs, tool

ISTIO = REPO / "envoy" / "istio"
VALIDATOR = REPO / "tests" / "dist" / "validate-istio.mjs"

# Fields of istio.extensions.v1alpha1.TrafficExtension and of its WasmConfig (traffic_extension.proto).
TRAFFIC_EXTENSION_FIELDS = {"selector", "targetRefs", "phase", "priority", "match", "wasm", "lua"}
WASM_CONFIG_FIELDS = {
    "url", "sha256", "imagePullPolicy", "imagePullSecret", "verificationKey", "pluginConfig",
    "pluginName", "failStrategy", "vmConfig", "type",
}


def validate(docs: list[dict]) -> list[dict]:
    """Runs the @kubernetes-models/istio validators (node) over the documents."""
    node = tool("node")
    if not (REPO / "tests" / "dist" / "node_modules" / "@kubernetes-models" / "istio").is_dir():
        pytest.fail("npm packages missing: run `make dist-deps` (npm ci in tests/dist)")
    proc = subprocess.run(
        [node, str(VALIDATOR)],
        input=json.dumps(docs),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        timeout=60,
        cwd=VALIDATOR.parent,
    )
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def as_wasmplugin(doc: dict) -> dict:
    """A TrafficExtension with a wasm block as the WasmPlugin Istio derives it from."""
    spec = doc["spec"]
    unknown = set(spec) - TRAFFIC_EXTENSION_FIELDS
    assert not unknown, f"not TrafficExtension fields: {unknown}"
    assert ("wasm" in spec) != ("lua" in spec), "exactly one of wasm or lua must be set"
    assert not ("selector" in spec and "targetRefs" in spec), "only one of targetRefs or selector"
    unknown = set(spec["wasm"]) - WASM_CONFIG_FIELDS
    assert not unknown, f"not WasmConfig fields: {unknown}"
    plugin_spec = {k: v for k, v in spec.items() if k != "wasm"}
    plugin_spec.update(spec["wasm"])
    return {
        "apiVersion": "extensions.istio.io/v1alpha1",
        "kind": "WasmPlugin",
        "metadata": doc["metadata"],
        "spec": plugin_spec,
    }


@pytest.fixture(scope="module")
def rendered(dist) -> dict[str, list[dict]]:
    """The manifests as `make dist` wrote them (this build's digest filled in)."""
    return {
        name: load_yaml_docs(dist / "istio" / name)
        for name in ("wasmplugin.yaml", "trafficextension.yaml")
    }


def test_wasmplugins_are_valid_for_istio(rendered, dist):
    docs = rendered["wasmplugin.yaml"]
    assert [d["kind"] for d in docs] == ["WasmPlugin", "WasmPlugin"]
    assert "selector" in docs[0]["spec"] and "targetRefs" in docs[1]["spec"]
    results = validate(docs)
    print(json.dumps(results))
    assert all(r["valid"] for r in results), results
    compat_digest = (dist / "oci" / "digests.txt").read_text().split()[1]
    for doc in docs:
        assert f"sha256:{doc['spec']['sha256']}" == compat_digest
        assert doc["spec"]["url"].startswith("oci://")
        assert doc["spec"]["failStrategy"] == "FAIL_RELOAD"
        assert doc["spec"]["phase"] == "AUTHZ"
        assert doc["spec"]["pluginName"] == "apiward"


def test_trafficextension_is_valid_as_its_wasmplugin_equivalent(rendered, dist):
    docs = rendered["trafficextension.yaml"]
    assert [d["kind"] for d in docs] == ["TrafficExtension"]
    results = validate([as_wasmplugin(d) for d in docs])
    print(json.dumps(results))
    assert all(r["valid"] for r in results), results
    compat_digest = (dist / "oci" / "digests.txt").read_text().split()[1]
    assert f"sha256:{docs[0]['spec']['wasm']['sha256']}" == compat_digest


def test_the_validator_rejects_broken_manifests(rendered):
    good = rendered["wasmplugin.yaml"][0]
    broken = []
    for path, value in [
        (("spec", "failStrategy"), "FAIL_SOMETIMES"),
        (("spec", "phase"), "BEFORE_EVERYTHING"),
        (("spec", "sha256"), "not-a-digest"),
        (("spec", "imagePullPolicy"), "Sometimes"),
        (("spec", "priority"), "high"),
    ]:
        doc = copy.deepcopy(good)
        doc[path[0]][path[1]] = value
        broken.append(doc)
    results = validate(broken)
    assert [r["valid"] for r in results] == [False] * len(broken), results
    for result, field in zip(results, ["failStrategy", "phase", "sha256", "imagePullPolicy", "priority"]):
        assert field in result["errors"][0], result


def test_committed_manifests_cannot_be_applied_without_a_digest():
    """The placeholder in envoy/istio is refused by Istio's schema: unfilled files fail loudly."""
    docs = load_yaml_docs(ISTIO / "wasmplugin.yaml")
    results = validate(docs)
    assert not any(r["valid"] for r in results)
    assert all("sha256" in r["errors"][0] for r in results)


def test_plugin_config_of_the_wasmplugin_is_accepted_by_envoy(rendered, dist, tmp_path):
    """Istio hands pluginConfig to the filter as JSON; Envoy (--mode validate) runs the filter's
    on_configure on it with the shipped module."""
    plugin_config = rendered["wasmplugin.yaml"][0]["spec"]["pluginConfig"]
    config = tmp_path / "envoy.yaml"
    config.write_text(
        harness.render_envoy_config(plugin_config=plugin_config, module=dist / "apiward.wasm")
    )
    proc = harness.validate_envoy_config(config)
    print(proc.stdout.strip().splitlines()[-1])
    assert proc.returncode == 0, harness.log_excerpt(proc.stdout)
    assert re.search(r"^configuration '.*' OK$", proc.stdout, re.M), proc.stdout[-500:]

    # and the same check refuses a pluginConfig the filter would refuse
    bad = dict(plugin_config, max_body_bytes=10_000_000)
    config.write_text(harness.render_envoy_config(plugin_config=bad, module=dist / "apiward.wasm"))
    proc = harness.validate_envoy_config(config)
    assert proc.returncode != 0
    assert "apiward: invalid configuration: max_body_bytes" in proc.stdout


class IstioShapedEnvoy(harness.Envoy):
    """envoy/envoy.yaml as Istio would generate the filter from a WasmPlugin: without
    allow_on_headers_stop_iteration (see envoy/istio/README.md)."""

    def _render(self, plugin_config):
        text = super()._render(plugin_config)
        flag = "allow_on_headers_stop_iteration: true"
        assert text.count(flag) == 1
        return text.replace(flag, "allow_on_headers_stop_iteration: false")


def test_shipped_plugin_config_serves_bodies_and_blocks_attacks_without_the_body_flag(
    rendered, dist, tmp_path
):
    """The pluginConfig shipped for Istio (max_body_bytes: 0), switched to enforce, in an Envoy
    shaped like Istio's: a POST with a body is answered (it would hang with the default 64 KiB,
    README), and an SQL injection in the query is denied."""
    plugin_config = dict(rendered["wasmplugin.yaml"][0]["spec"]["pluginConfig"], mode="enforce")
    upstream = harness.Upstream(workdir=tmp_path / "upstream").start()
    envoy = IstioShapedEnvoy(
        plugin_config=plugin_config,
        upstream_port=upstream.port,
        module=dist / "apiward.wasm",
        workdir=tmp_path / "envoy",
    )
    try:
        envoy.start()
        post = envoy.request(
            "POST", "/api/orders", body='{"item": "book", "qty": 1}',
            headers={"content-type": "application/json"}, timeout=10,
        )
        attack = envoy.request("GET", "/api/search?q=1'%20union%20select%20password%20from%20users--")
    finally:
        envoy.stop()
        upstream.stop()
    assert 200 <= post.status < 300, post.body[:300]
    assert attack.status == 403, attack.body[:300]
