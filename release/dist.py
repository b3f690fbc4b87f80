#!/usr/bin/env python3
"""`make dist`: the release artifacts in dist/ (run from the repository root after `make build`).

  apiward.wasm, apiward.wasm.sha256      the module and its checksum (sha256sum format)
  models/                                the embedded model: apiward.onnx, apiward.json, MODEL_CARD.md
  oci/compat, oci/oci                    OCI image layouts of the module (release/oci.py)
  oci/digests.txt                        their manifest digests (what Istio's `sha256` pins)
  apiward.config.schema.json             the configuration's JSON schema (`apiward config-schema`)
  apiward.cdx.json                       CycloneDX 1.5 SBOM of the module's dependencies
                                         (cargo-cyclonedx, wasm32-wasip1 target, no build deps)
  istio/                                 wasmplugin.yaml, trafficextension.yaml with url and sha256
                                         of this build filled in
  kong/                                  apiward.wasm + apiward.meta.json (config_schema), kong.conf,
                                         kong.yaml
  SHA256SUMS                             every file above
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "release"))

import oci  # noqa: E402

PLACEHOLDER = "SHA256_OF_THE_COMPAT_IMAGE_MANIFEST"


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def crate_version() -> str:
    m = re.search(r'^version\s*=\s*"([^"]+)"', (REPO / "Cargo.toml").read_text(), re.M)
    if not m:
        raise SystemExit("Cargo.toml: no version")
    return m.group(1)


def render_istio(text: str, image: str, digest_hex: str) -> str:
    """The manifest with this build's image reference and digest."""
    if PLACEHOLDER not in text:
        raise SystemExit(f"istio manifest has no {PLACEHOLDER} placeholder")
    text = re.sub(r"oci://\S+", f"oci://{image}", text)
    return text.replace(PLACEHOLDER, digest_hex)


def sbom(out: Path) -> None:
    """cargo-cyclonedx writes <name>.cdx.json beside Cargo.toml; move it into dist/."""
    produced = REPO / "apiward.cdx.json"
    produced.unlink(missing_ok=True)
    subprocess.run(
        [
            "cargo",
            "cyclonedx",
            "--format",
            "json",
            "--spec-version",
            "1.5",
            "--target",
            "wasm32-wasip1",
            "--no-build-deps",
            "--override-filename",
            "apiward.cdx",
            "--quiet",
        ],
        cwd=REPO,
        check=True,
    )
    shutil.move(produced, out)


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(description="write the release artifacts")
    ap.add_argument("--out", type=Path, default=REPO / "dist")
    ap.add_argument("--wasm", type=Path, default=REPO / "target/wasm32-wasip1/release/apiward.wasm")
    ap.add_argument("--cli", type=Path, default=REPO / "target/release/apiward")
    ap.add_argument(
        "--image",
        default=os.environ.get("APIWARD_IMAGE", "registry.example.com/apiward"),
        help="image repository the Istio manifests point at (tag: the crate version)",
    )
    args = ap.parse_args(argv)
    out: Path = args.out
    version = crate_version()
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)

    wasm = out / "apiward.wasm"
    shutil.copyfile(args.wasm, wasm)
    (out / "apiward.wasm.sha256").write_text(f"{sha256_file(wasm)}  apiward.wasm\n")

    models = out / "models"
    models.mkdir()
    for name in ("apiward.onnx", "apiward.json", "MODEL_CARD.md"):
        shutil.copyfile(REPO / "models" / name, models / name)

    digests = {}
    for variant, write in (("compat", oci.write_compat), ("oci", oci.write_oci)):
        desc = write(wasm.read_bytes(), out / "oci" / variant, version, version)
        digests[variant] = desc["digest"]
    (out / "oci" / "digests.txt").write_text(
        "".join(f"{variant} {digest}\n" for variant, digest in digests.items())
    )

    schema = subprocess.run(
        [str(args.cli), "config-schema"], check=True, stdout=subprocess.PIPE, text=True
    ).stdout
    schema_json = json.loads(schema)
    (out / "apiward.config.schema.json").write_text(schema)

    sbom(out / "apiward.cdx.json")

    istio = out / "istio"
    istio.mkdir()
    compat_hex = digests["compat"].split(":", 1)[1]
    for name in ("wasmplugin.yaml", "trafficextension.yaml"):
        text = (REPO / "envoy" / "istio" / name).read_text()
        (istio / name).write_text(render_istio(text, f"{args.image}:{version}", compat_hex))

    kong = out / "kong"
    kong.mkdir()
    shutil.copyfile(wasm, kong / "apiward.wasm")
    meta = {"config_schema": schema_json}
    (kong / "apiward.meta.json").write_text(json.dumps(meta, indent=2) + "\n")
    for name in ("kong.conf", "kong.yaml"):
        shutil.copyfile(REPO / "envoy" / "kong" / name, kong / name)

    files = sorted(p for p in out.rglob("*") if p.is_file() and p.name != "SHA256SUMS")
    (out / "SHA256SUMS").write_text(
        "".join(f"{sha256_file(p)}  {p.relative_to(out)}\n" for p in files)
    )
    for variant, digest in digests.items():
        print(f"oci/{variant}:{version}  {digest}")
    print(f"{out}: {len(files) + 1} files")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
