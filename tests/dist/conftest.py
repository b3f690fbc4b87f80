"""Fixtures for tests/dist: the artifacts `make dist` wrote, and the real tools that check them.

A tool that is missing fails the test that needs it (`make dist-deps` and .ci/run install them);
nothing is skipped.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
DIST = REPO / "dist"
CLI = REPO / "target" / "release" / "apiward"
sys.path.insert(0, str(REPO / "examples"))
sys.path.insert(0, str(REPO / "release"))

import harness  # noqa: E402


def tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        pytest.fail(f"{name} not installed: run `make dist-deps` (Debian package)")
    return path


@pytest.fixture(scope="session")
def dist() -> Path:
    if not (DIST / "SHA256SUMS").is_file():
        pytest.fail("dist/ not built: run `make dist` (make test-dist does)")
    return DIST


@pytest.fixture(scope="session")
def config_schema(dist) -> dict:
    return json.loads((dist / "apiward.config.schema.json").read_text())


def load_yaml_docs(path: Path) -> list[dict]:
    return [d for d in yaml.safe_load_all(path.read_text()) if d is not None]


def parser_verdict(config, tmp_path: Path) -> tuple[bool, str]:
    """The filter's own parser (Config::from_json, through the CLI): (accepted, message)."""
    path = tmp_path / "config.json"
    path.write_text(config if isinstance(config, str) else json.dumps(config))
    proc = subprocess.run(
        [str(CLI), "score", "-", "--config", str(path)],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        timeout=120,
    )
    return proc.returncode == 0, proc.stderr.strip()
