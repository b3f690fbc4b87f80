#!/usr/bin/env python3
"""Writes the apiward module as two OCI image layouts, without a container daemon.

    release/oci.py --wasm target/wasm32-wasip1/release/apiward.wasm --out dist/oci --tag 0.1.0

  <out>/compat   the Wasm image spec's *compat* variant: one gzip tar layer holding plugin.wasm,
                 manifest annotation module.wasm.image/variant=compat (what Istio's fetcher reads,
                 and what docker/podman/buildah can handle as an ordinary image);
  <out>/oci      the *oci* variant: config application/vnd.module.wasm.config.v1+json
                 ({"type": "envoy_proxy", "abi_version", "config": {"root_ids"}}) and exactly one
                 raw layer application/vnd.module.wasm.content.layer.v1+wasm.

Each directory follows the OCI image-layout spec (oci-layout, index.json, blobs/sha256/...), so
`skopeo copy oci:<out>/compat:<tag> docker://REGISTRY/apiward:<tag>` pushes it and `umoci stat
--image <out>/compat:<tag>` reads it.

Why a script: Debian's umoci and buildah build ordinary container images (image config, tar
layers), not the oci variant's Wasm config and raw layer; and the bytes here are reproducible
(tar mtime/owner fixed, gzip without name or time, canonical JSON), so a rebuild of the same
module gives the same digests, which `sha256:` pins in WasmPlugin manifests depend on.
The output is checked with the real tools by tests/dist (skopeo, umoci, a registry, Envoy).
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import io
import json
import shutil
import sys
import tarfile
from pathlib import Path

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
OCI_LAYER_TGZ = "application/vnd.oci.image.layer.v1.tar+gzip"
WASM_CONFIG = "application/vnd.module.wasm.config.v1+json"
WASM_LAYER = "application/vnd.module.wasm.content.layer.v1+wasm"
VARIANT_ANNOTATION = "module.wasm.image/variant"
REF_NAME = "org.opencontainers.image.ref.name"

# proxy-wasm ABI the module is built against (proxy-wasm Rust SDK 0.2.x) and its root context id
# (envoy/envoy.yaml `root_id`, Istio `pluginName`).
ABI_VERSION = "v0.2.1"
ROOT_ID = "apiward"
# A fixed creation time keeps the config blobs, and so the digests, reproducible.
EPOCH = "1970-01-01T00:00:00Z"


def canonical_json(value) -> bytes:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode()


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class Layout:
    """An OCI image layout being written: content-addressed blobs plus index.json."""

    def __init__(self, root: Path):
        self.root = root
        if root.exists():
            shutil.rmtree(root)
        (root / "blobs" / "sha256").mkdir(parents=True)
        (root / "oci-layout").write_bytes(canonical_json({"imageLayoutVersion": "1.0.0"}))

    def blob(self, data: bytes, media_type: str, annotations: dict | None = None) -> dict:
        digest = sha256_hex(data)
        (self.root / "blobs" / "sha256" / digest).write_bytes(data)
        desc = {"mediaType": media_type, "digest": f"sha256:{digest}", "size": len(data)}
        if annotations:
            desc["annotations"] = annotations
        return desc

    def finish(self, manifest: dict, tag: str) -> dict:
        desc = self.blob(canonical_json(manifest), OCI_MANIFEST)
        desc["annotations"] = {REF_NAME: tag}
        index = {"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": [desc]}
        (self.root / "index.json").write_bytes(canonical_json(index))
        return desc


def plugin_tar(wasm: bytes) -> bytes:
    """A tar with one file, plugin.wasm, with fixed metadata."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.USTAR_FORMAT) as tar:
        info = tarfile.TarInfo("plugin.wasm")
        info.size = len(wasm)
        info.mode = 0o644
        info.mtime = 0
        info.uid = info.gid = 0
        info.uname = info.gname = ""
        tar.addfile(info, io.BytesIO(wasm))
    return buf.getvalue()


def gzip_bytes(data: bytes) -> bytes:
    buf = io.BytesIO()
    with gzip.GzipFile(fileobj=buf, mode="wb", compresslevel=9, mtime=0) as gz:
        gz.write(data)
    return buf.getvalue()


def common_annotations(version: str) -> dict:
    return {
        "org.opencontainers.image.title": "apiward",
        "org.opencontainers.image.description": "apiward: AI API security filter (proxy-wasm)",
        "org.opencontainers.image.version": version,
        "org.opencontainers.image.licenses": "Apache-2.0",
        "org.opencontainers.image.created": EPOCH,
    }


def write_compat(wasm: bytes, root: Path, tag: str, version: str) -> dict:
    layout = Layout(root)
    tar = plugin_tar(wasm)
    layer = layout.blob(gzip_bytes(tar), OCI_LAYER_TGZ)
    config = {
        "architecture": "wasm",
        "os": "wasip1",
        "created": EPOCH,
        "config": {},
        "rootfs": {"type": "layers", "diff_ids": [f"sha256:{sha256_hex(tar)}"]},
        "history": [{"created": EPOCH, "created_by": "release/oci.py: plugin.wasm"}],
    }
    manifest = {
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "config": layout.blob(canonical_json(config), OCI_CONFIG),
        "layers": [layer],
        "annotations": {VARIANT_ANNOTATION: "compat", **common_annotations(version)},
    }
    return layout.finish(manifest, tag)


def write_oci(wasm: bytes, root: Path, tag: str, version: str) -> dict:
    layout = Layout(root)
    runtime_config = {
        "type": "envoy_proxy",
        "abi_version": ABI_VERSION,
        "config": {"root_ids": [ROOT_ID]},
    }
    manifest = {
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "config": layout.blob(
            canonical_json(runtime_config),
            WASM_CONFIG,
            {"org.opencontainers.image.title": "runtime-config.json"},
        ),
        "layers": [
            layout.blob(wasm, WASM_LAYER, {"org.opencontainers.image.title": "plugin.wasm"})
        ],
        "annotations": common_annotations(version),
    }
    return layout.finish(manifest, tag)


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--wasm", required=True, type=Path, help="the built module")
    ap.add_argument("--out", required=True, type=Path, help="directory for compat/ and oci/")
    ap.add_argument("--tag", required=True, help="the image tag (ref name in index.json)")
    args = ap.parse_args(argv)
    wasm = args.wasm.read_bytes()
    if wasm[:4] != b"\0asm":
        print(f"{args.wasm}: not a Wasm module", file=sys.stderr)
        return 1
    args.out.mkdir(parents=True, exist_ok=True)
    for name, write in (("compat", write_compat), ("oci", write_oci)):
        desc = write(wasm, args.out / name, args.tag, args.tag)
        print(f"{args.out / name}:{args.tag} manifest {desc['digest']} ({desc['size']} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
