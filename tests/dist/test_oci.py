"""Both OCI image variants of the module go through a real registry and back: Debian's
docker-registry on a kernel-chosen loopback port (started and stopped by PID here), skopeo to push
and pull, umoci to read the compat image. The pulled module is byte-identical to the built one, and
Envoy running the pulled module blocks an attack."""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import re
import subprocess
import tarfile
import time
from pathlib import Path

import pytest

import harness
import oci
from conftest import REPO, tool

VERSION = re.search(r'^version\s*=\s*"([^"]+)"', (REPO / "Cargo.toml").read_text(), re.M).group(1)
ATTACK = "/api/search?q=1'%20union%20select%20password%20from%20users--"


def run(*args: str, timeout: float = 180) -> str:
    proc = subprocess.run(
        list(args), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=timeout
    )
    assert proc.returncode == 0, f"{' '.join(args)} exited {proc.returncode}:\n{proc.stdout}"
    return proc.stdout


def blob(layout: Path, digest: str) -> bytes:
    return (layout / "blobs" / "sha256" / digest.split(":", 1)[1]).read_bytes()


def manifest_of(layout: Path) -> tuple[str, dict]:
    index = json.loads((layout / "index.json").read_text())
    assert len(index["manifests"]) == 1
    desc = index["manifests"][0]
    return desc["digest"], json.loads(blob(layout, desc["digest"]))


class Registry:
    """docker-registry (distribution 2.8) with its own config and storage in a temp dir."""

    def __init__(self, workdir: Path):
        self.workdir = workdir
        self.proc: subprocess.Popen | None = None
        self.address = ""

    def start(self, timeout: float = 30) -> "Registry":
        config = self.workdir / "config.yml"
        config.write_text(
            "version: 0.1\n"
            "log:\n  level: info\n  formatter: text\n"
            f"storage:\n  filesystem:\n    rootdirectory: {self.workdir / 'storage'}\n"
            "http:\n  addr: 127.0.0.1:0\n  secret: apiward-test-only\n"
        )
        self.log_path = self.workdir / "registry.log"
        with open(self.log_path, "wb") as log:
            self.proc = subprocess.Popen(
                [tool("docker-registry"), "serve", str(config)],
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"registry exited {self.proc.returncode}: {self.log()}")
            m = re.search(r"listening on (127\.0\.0\.1:\d+)", self.log())
            if m:
                self.address = m.group(1)
                try:
                    if harness.http_get(int(self.address.split(":")[1]), "/v2/").status == 200:
                        return self
                except OSError:
                    pass
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"registry did not serve within {timeout}s: {self.log()}")

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def stop(self) -> None:
        harness._stop_process(self.proc)


@pytest.fixture(scope="module")
def registry(tmp_path_factory):
    reg = Registry(tmp_path_factory.mktemp("registry")).start()
    yield reg
    reg.stop()


@pytest.fixture(scope="module")
def round_trip(dist, registry, tmp_path_factory):
    """Push both layouts from dist/oci to the registry, pull them back into new layouts."""
    skopeo = tool("skopeo")
    pulled_root = tmp_path_factory.mktemp("pulled")
    out = {}
    for variant in ("compat", "oci"):
        ref = f"docker://{registry.address}/apiward-{variant}:{VERSION}"
        run(skopeo, "copy", "--dest-tls-verify=false", f"oci:{dist / 'oci' / variant}:{VERSION}", ref)
        remote_digest = run(
            skopeo, "inspect", "--tls-verify=false", "--format", "{{.Digest}}", ref
        ).strip() if variant == "compat" else None
        raw = run(skopeo, "inspect", "--tls-verify=false", "--raw", ref)
        pulled = pulled_root / variant
        run(skopeo, "copy", "--src-tls-verify=false", ref, f"oci:{pulled}:{VERSION}")
        out[variant] = {
            "remote_raw_digest": "sha256:" + hashlib.sha256(raw.encode()).hexdigest(),
            "remote_digest": remote_digest,
            "pulled": pulled,
        }
    return out


def test_layouts_are_reproducible(dist, tmp_path):
    wasm = (dist / "apiward.wasm").read_bytes()
    for variant, write in (("compat", oci.write_compat), ("oci", oci.write_oci)):
        again = write(wasm, tmp_path / variant, VERSION, VERSION)
        assert again["digest"] == manifest_of(dist / "oci" / variant)[0]


def test_compat_variant_follows_the_wasm_image_spec(dist):
    layout = dist / "oci" / "compat"
    _, manifest = manifest_of(layout)
    assert manifest["annotations"]["module.wasm.image/variant"] == "compat"
    assert [layer["mediaType"] for layer in manifest["layers"]] == [oci.OCI_LAYER_TGZ]
    with tarfile.open(fileobj=io.BytesIO(gzip.decompress(blob(layout, manifest["layers"][0]["digest"])))) as tar:
        assert tar.getnames() == ["plugin.wasm"]
        assert tar.extractfile("plugin.wasm").read() == (dist / "apiward.wasm").read_bytes()
    # umoci reads it as an ordinary image (one layer, our history entry).
    stat = run(tool("umoci"), "stat", "--image", f"{layout}:{VERSION}")
    assert manifest["layers"][0]["digest"] in stat


def test_oci_variant_follows_the_wasm_image_spec(dist):
    _, manifest = manifest_of(dist / "oci" / "oci")
    assert manifest["config"]["mediaType"] == "application/vnd.module.wasm.config.v1+json"
    config = json.loads(blob(dist / "oci" / "oci", manifest["config"]["digest"]))
    assert config == {"type": "envoy_proxy", "abi_version": "v0.2.1", "config": {"root_ids": ["apiward"]}}
    assert [layer["mediaType"] for layer in manifest["layers"]] == [
        "application/vnd.module.wasm.content.layer.v1+wasm"
    ]
    layer = blob(dist / "oci" / "oci", manifest["layers"][0]["digest"])
    assert layer == (dist / "apiward.wasm").read_bytes()


@pytest.mark.parametrize("variant", ["compat", "oci"])
def test_registry_round_trip_keeps_digests_and_module_bytes(variant, dist, round_trip):
    built_digest, built_manifest = manifest_of(dist / "oci" / variant)
    got = round_trip[variant]
    assert got["remote_raw_digest"] == built_digest
    if got["remote_digest"] is not None:
        assert got["remote_digest"] == built_digest
    pulled_digest, pulled_manifest = manifest_of(got["pulled"])
    assert pulled_digest == built_digest
    assert pulled_manifest == built_manifest
    layer = blob(got["pulled"], pulled_manifest["layers"][0]["digest"])
    module = gzip.decompress(layer) if variant == "compat" else layer
    if variant == "compat":
        with tarfile.open(fileobj=io.BytesIO(module)) as tar:
            module = tar.extractfile("plugin.wasm").read()
    assert module == (dist / "apiward.wasm").read_bytes()
    print(f"{variant}: pushed {built_digest}, registry {got['remote_raw_digest']}, pulled {pulled_digest}")


def test_envoy_runs_the_pulled_module_and_blocks_an_attack(round_trip, tmp_path):
    pulled = round_trip["compat"]["pulled"]
    _, manifest = manifest_of(pulled)
    with tarfile.open(fileobj=io.BytesIO(gzip.decompress(blob(pulled, manifest["layers"][0]["digest"])))) as tar:
        module = tmp_path / "plugin.wasm"
        module.write_bytes(tar.extractfile("plugin.wasm").read())
    with harness.Stack({"mode": "enforce"}, module=module, workdir=tmp_path / "stack") as stack:
        attack = stack.envoy.request("GET", ATTACK)
        benign = stack.envoy.request("GET", "/api/users/1")
    assert attack.status == 403, attack.body[:300]
    assert benign.status == 200
