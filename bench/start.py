#!/usr/bin/env python3
"""`make bench-start`: where the cold start and the memory of the filter go (issue 12).

1. The module alone, in node with the V8 flags Envoy's Wasm host sets (no Liftoff, and the whole
   module compiled before the first call, as Envoy's log shows it): compile, then per VM
   instantiate, `_initialize`, `proxy_on_configure` (bench/start-vm.mjs), and each VM's linear
   memory.
2. Envoy (`--concurrency 2`, enforce) started N times: Envoy start -> first scored response, and
   its own log (`wasm:debug`) split into Envoy's boot, the module's compile (base VM created ->
   first thread-local VM), each VM's on_configure (the filter logs `configure_ms` and
   `model_load_ms`, measured with the host's clock), and the first request.
3. RSS per wasm VM: Envoy's VmRSS with the filter minus plain Envoy's, divided by the VMs that
   live on (one per worker and one on the main thread), and split from /proc/PID/smaps: code
   (V8's executable anonymous mappings), linear memory (anonymous mappings of exactly a VM's
   linear memory size), the rest (the allocator's heap: V8's compiler and module metadata, kept
   by the allocator after compilation, and Envoy's per-VM objects).

    python bench/start.py [--module M.wasm] [--starts 5] [--out FILE.json]
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "examples"))

import harness  # noqa: E402

# proxy-wasm-cpp-host turns Liftoff off; Envoy's log shows the whole module compiled between
# "Base Wasm created" and the first VM (no lazy compilation).
NODE_FLAGS = ["--no-liftoff", "--no-wasm-lazy-compilation"]
PROBE = '{"order":{"note":"please ship the blue one, ref 1 OR 1=1"}}'
LOG_LINE = re.compile(r"^\[(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3})\]\[(\d+)\]\[(\w+)\]\[(\w+)\] (.*)$")


class BenchEnvoy(harness.Envoy):
    """harness.Envoy with the wasm component at debug level (VM creation is logged there)."""

    def launch(self) -> None:
        self.write_config()
        self.admin_address_path.unlink(missing_ok=True)
        with open(self.log_path, "wb") as out:
            self.proc = subprocess.Popen(
                [harness.envoy_binary(), "-c", str(self.config_path),
                 "--concurrency", str(self.concurrency), "--use-dynamic-base-id",
                 "--admin-address-path", str(self.admin_address_path),
                 "-l", self.log_level, "--component-log-level", "wasm:debug",
                 "--log-format", "[%Y-%m-%d %T.%e][%t][%l][%n] %v"],
                cwd=REPO, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                start_new_session=True,
            )


class PlainEnvoy(harness.Envoy):
    def _render(self, plugin_config) -> str:
        sys.path.insert(0, str(REPO / "bench"))
        import perf  # noqa: E402  (its without_filter)

        return perf.without_filter(super()._render(plugin_config))


def node_phases(module: Path, vms: int) -> dict:
    node = shutil.which("node")
    if not node:
        return {"error": "node not found"}
    out = subprocess.run(
        [node, *NODE_FLAGS, str(REPO / "bench" / "start-vm.mjs"), str(module), str(vms),
         '{"mode":"enforce"}'],
        capture_output=True, text=True, timeout=300, check=True,
    )
    return json.loads(out.stdout)


def stamp(text: str) -> float:
    return datetime.strptime(text, "%Y-%m-%d %H:%M:%S.%f").timestamp()


def parse_log(log: str, launched: float) -> dict:
    """Seconds from launch of: base VM created, each VM created and ready (with the filter's own
    configure_ms / model_load_ms)."""
    base = None
    vms: list[dict] = []
    open_vm: dict[str, dict] = {}
    for line in log.splitlines():
        m = LOG_LINE.match(line)
        if not m:
            continue
        t = stamp(m.group(1)) - launched
        thread, msg = m.group(2), m.group(5)
        if "Base Wasm created" in msg and base is None:
            base = t
        elif "Thread-Local Wasm created" in msg:
            open_vm[thread] = {"thread": thread, "created_s": t}
        elif "apiward" in msg and " ready: " in msg:
            vm = open_vm.pop(thread, {"thread": thread, "created_s": None})
            vm["ready_s"] = t
            for key in ("configure_ms", "model_load_ms"):
                k = re.search(rf"{key}=([-\d.]+)", msg)
                vm[key] = float(k.group(1)) if k else None
            vms.append(vm)
    return {"base_vm_created_s": base, "vms": vms}


def send_probe(port: int) -> harness.Response:
    return harness.request(port, "POST", "/api/orders", body=PROBE,
                           headers={"content-type": "application/json"}, timeout=5)


def cold_start(args, up_port: int, workdir: Path) -> dict:
    envoy = BenchEnvoy(plugin_config={"mode": "enforce"}, upstream_port=up_port,
                       listen_port=harness.free_port(), module=Path(args.module),
                       concurrency=args.workers, log_level="info", workdir=workdir)
    launched = time.time()
    started = time.monotonic()
    envoy.launch()
    try:
        deadline = started + args.timeout
        while time.monotonic() < deadline and envoy.proc.poll() is None:
            try:
                r = send_probe(envoy.listen_port)
                if r.headers.get("x-apiward-action") or r.annotations().get("action"):
                    scored = time.monotonic() - started
                    break
            except (OSError, http.client.HTTPException):
                pass
            time.sleep(0.01)
        else:
            raise SystemExit(f"no scored response:\n{harness.log_excerpt(envoy.log())}")
        out = {"first_scored_s": scored, **parse_log(envoy.log(), launched)}
        if args.memory:
            out["memory"] = memory(envoy, args, up_port, workdir)
        return out
    finally:
        envoy.stop()


def smaps(pid: int) -> list[tuple[int, int, str, str]]:
    """(size KiB, Rss KiB, perms, path) per mapping."""
    rows = []
    for block in re.split(r"\n(?=[0-9a-f]+-[0-9a-f]+ )", Path(f"/proc/{pid}/smaps").read_text()):
        head = block.split("\n", 1)[0].split(None, 5)
        lo, hi = (int(x, 16) for x in head[0].split("-"))
        rss = int(re.search(r"^Rss:\s+(\d+)", block, re.M).group(1))
        rows.append(((hi - lo) // 1024, rss, head[1], head[5].strip() if len(head) > 5 else ""))
    return rows


def rss_kib(pid: int) -> int:
    return int(re.search(r"^VmRSS:\s+(\d+)", Path(f"/proc/{pid}/status").read_text(), re.M).group(1))


def memory(envoy: harness.Envoy, args, up_port: int, workdir: Path) -> dict:
    """After a few scored requests: this Envoy's RSS and a plain Envoy's, and the split (every
    start: the allocator keeps a different share of the compiler's memory from start to start)."""
    for _ in range(20):
        send_probe(envoy.listen_port)
    time.sleep(1)
    plain = PlainEnvoy(plugin_config={}, upstream_port=up_port, concurrency=args.workers,
                       log_level="warning", workdir=workdir / "plain")
    plain.start(timeout=60)
    try:
        for _ in range(20):
            harness.http_get(plain.listen_port, "/")
        time.sleep(1)
        with_kib, plain_kib = rss_kib(envoy.proc.pid), rss_kib(plain.proc.pid)
        maps, plain_maps = smaps(envoy.proc.pid), smaps(plain.proc.pid)
    finally:
        plain.stop()
    vms = args.workers + 1
    code = sum(r for s, r, p, path in maps if not path and "x" in p)
    plain_code = sum(r for s, r, p, path in plain_maps if not path and "x" in p)
    linear_size = args.linear_kib
    linear = sum(r for s, r, p, path in maps if not path and p.startswith("rw") and s == linear_size)
    delta = with_kib - plain_kib
    return {
        "vmrss_kib": with_kib, "plain_vmrss_kib": plain_kib, "vms": vms,
        "per_vm_kib": delta / vms,
        "code_kib": code - plain_code,
        "linear_memory_kib": linear,
        "rest_kib": delta - (code - plain_code) - linear,
    }


def summary(report: dict) -> str:
    n = report["node"]
    starts = report["envoy"]
    lines = [f"module {n['module_bytes'] / 1e6:.2f} MB (code {n['code_bytes'] / 1e6:.2f} MB, "
             f"data {n['data_bytes'] / 1e6:.2f} MB); load {report['load']}"]
    lines.append(f"node {' '.join(NODE_FLAGS)}: compile {n['compile_ms']:.0f} ms; per VM "
                 + ", ".join(f"instantiate {v['instantiate_ms']:.1f} + _initialize "
                             f"{v['initialize_ms']:.1f} + on_configure {v['configure_ms']:.1f} ms "
                             f"(linear memory {v['linear_memory_bytes'] / 2**20:.2f} MiB)"
                             for v in n["vms"]))
    firsts = [s["first_scored_s"] for s in starts]
    lines.append(f"cold start (Envoy start -> first scored response), {len(firsts)} starts: median "
                 f"{statistics.median(firsts):.2f} s, range {min(firsts):.2f}-{max(firsts):.2f} s")
    for s in starts:
        vms = s["vms"]
        base = s["base_vm_created_s"]
        first_vm = min((v["created_s"] for v in vms if v["created_s"] is not None), default=None)
        parts = [f"boot {base:.2f}" if base is not None else "boot ?"]
        if base is not None and first_vm is not None:
            parts.append(f"compile+base VM {first_vm - base:.2f}")
        parts.append("VMs " + ", ".join(
            f"[{v['thread']}] configure {v['configure_ms']:.1f} ms (model {v['model_load_ms']:.1f})"
            for v in vms))
        last = max(v["ready_s"] for v in vms)
        parts.append(f"last VM ready {last:.2f}")
        parts.append(f"first scored {s['first_scored_s']:.2f} s")
        lines.append("  " + "; ".join(parts))
    mem = sorted((s["memory"] for s in starts if "memory" in s), key=lambda m: m["per_vm_kib"])
    if mem:
        per_vm = [m["per_vm_kib"] / 1024 for m in mem]
        lines.append(f"RSS per VM over {len(mem)} starts: median {statistics.median(per_vm):.1f} MiB, "
                     f"range {min(per_vm):.1f}-{max(per_vm):.1f}; the median start:")
        m = mem[len(mem) // 2]
        lines.append(
            f"RSS: with the filter {m['vmrss_kib'] / 1024:.1f} MiB, plain {m['plain_vmrss_kib'] / 1024:.1f}"
            f" MiB -> {m['per_vm_kib'] / 1024:.1f} MiB per VM ({m['vms']} VMs); of the difference: "
            f"code {m['code_kib'] / 1024:.1f} MiB, linear memory {m['linear_memory_kib'] / 1024:.1f} MiB, "
            f"rest (heap) {m['rest_kib'] / 1024:.1f} MiB")
    return "\n".join(lines)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--module", default=str(harness.DEFAULT_MODULE))
    ap.add_argument("--starts", type=int, default=5)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--timeout", type=float, default=120)
    ap.add_argument("--out", help="write the report as JSON")
    args = ap.parse_args()
    report = {"module": args.module, "load": " ".join(os.getloadavg().__repr__().strip("()").split())}
    report["node"] = node_phases(Path(args.module), args.workers + 1)
    args.linear_kib = report["node"]["vms"][-1]["linear_memory_bytes"] // 1024
    upstream = harness.Upstream().start()
    workdir = Path(tempfile.mkdtemp(prefix="apiward-start-"))
    try:
        report["envoy"] = []
        for i in range(args.starts):
            args.memory = True
            report["envoy"].append(cold_start(args, upstream.port, workdir / str(i)))
    finally:
        upstream.stop()
        shutil.rmtree(workdir, ignore_errors=True)
    text = summary(report)
    report["summary"] = text
    print(text)
    if args.out:
        Path(args.out).write_text(json.dumps(report, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
