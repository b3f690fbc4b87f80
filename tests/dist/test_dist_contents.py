"""`make dist`: every file is there, the checksums match, the model is the shipped one, and the
SBOM is a valid CycloneDX 1.5 document (validated against the CycloneDX JSON schema by
cyclonedx-python-lib) listing the module's dependencies."""

from __future__ import annotations

import hashlib
import json

from cyclonedx.schema import SchemaVersion
from cyclonedx.validation.json import JsonStrictValidator

from conftest import REPO

EXPECTED = {
    "apiward.wasm",
    "apiward.wasm.sha256",
    "apiward.cdx.json",
    "apiward.config.schema.json",
    "models/apiward.onnx",
    "models/apiward.json",
    "models/MODEL_CARD.md",
    "oci/compat/index.json",
    "oci/compat/oci-layout",
    "oci/oci/index.json",
    "oci/oci/oci-layout",
    "oci/digests.txt",
    "istio/wasmplugin.yaml",
    "istio/trafficextension.yaml",
    "kong/apiward.wasm",
    "kong/apiward.meta.json",
    "kong/kong.conf",
    "kong/kong.yaml",
    "SHA256SUMS",
}


def sha256(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_dist_has_every_artifact(dist):
    files = {str(p.relative_to(dist)) for p in dist.rglob("*") if p.is_file()}
    missing = EXPECTED - files
    assert not missing, missing
    blobs = {f for f in files if "/blobs/sha256/" in f}
    assert files - EXPECTED - blobs == set()


def test_module_checksum_matches_and_is_the_built_module(dist):
    digest, name = (dist / "apiward.wasm.sha256").read_text().split()
    assert name == "apiward.wasm"
    assert digest == sha256(dist / "apiward.wasm")
    built = REPO / "target" / "wasm32-wasip1" / "release" / "apiward.wasm"
    assert digest == sha256(built)


def test_sha256sums_cover_every_file_and_match(dist):
    lines = (dist / "SHA256SUMS").read_text().splitlines()
    listed = {}
    for line in lines:
        digest, name = line.split("  ", 1)
        listed[name] = digest
    files = {str(p.relative_to(dist)) for p in dist.rglob("*") if p.is_file()} - {"SHA256SUMS"}
    assert set(listed) == files
    for name, digest in listed.items():
        assert sha256(dist / name) == digest, name


def test_model_and_card_are_the_shipped_ones(dist):
    for name in ("apiward.onnx", "apiward.json", "MODEL_CARD.md"):
        assert sha256(dist / "models" / name) == sha256(REPO / "models" / name)
    metadata = json.loads((dist / "models" / "apiward.json").read_text())
    if metadata.get("onnx_sha256"):
        assert metadata["onnx_sha256"] == sha256(dist / "models" / "apiward.onnx")


def test_sbom_is_valid_cyclonedx_and_lists_the_module_dependencies(dist):
    text = (dist / "apiward.cdx.json").read_text()
    errors = JsonStrictValidator(SchemaVersion.V1_5).validate_str(text)
    assert errors is None, errors
    bom = json.loads(text)
    assert bom["bomFormat"] == "CycloneDX" and bom["specVersion"] == "1.5"
    assert bom["metadata"]["component"]["name"] == "apiward"
    components = {c["name"]: c for c in bom["components"]}
    for name in ("proxy-wasm", "serde_json", "sha2"):
        assert name in components, name
        assert components[name]["purl"].startswith(f"pkg:cargo/{name}@")
    # The SBOM describes the module (wasm32 target, no build or dev dependencies); tract is the
    # native reference runtime only (the module runs the MLP itself: src/model/mlp.rs).
    for name in ("tract-core", "tract-onnx", "criterion", "schemars"):
        assert name not in components, name
    lock = (REPO / "Cargo.lock").read_text()
    version = components["serde_json"]["version"]
    assert f'name = "serde_json"\nversion = "{version}"' in lock
