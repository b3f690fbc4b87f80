// The start-up of the module outside Envoy, phase by phase (`make bench-start` runs it with
// node): compile with the V8 flags Envoy's Wasm host sets (no Liftoff: TurboFan compiles every
// function before the first call), then for each VM (a canary plus one per worker, as Envoy
// makes them) instantiate, `_initialize`, the root context and `proxy_on_configure` with the
// plugin configuration. A minimal proxy-wasm host: the calls on_configure makes are served
// (plugin configuration, log, clock, metrics, tick), every other import answers "not found".
//
//   node --no-liftoff bench/start-vm.mjs MODULE.wasm [VMS] [PLUGIN_CONFIG_JSON]
//
// Prints one JSON object: compile_ms, per VM {instantiate_ms, initialize_ms, configure_ms,
// linear_memory_bytes, log}, and the module's code and data section sizes.
import { readFileSync } from "node:fs";
import { performance } from "node:perf_hooks";

const [path, vmsArg, configArg] = process.argv.slice(2);
const vms = Number(vmsArg ?? 3);
const config = new TextEncoder().encode(configArg ?? '{"mode":"enforce"}');
const bytes = readFileSync(path);

// Section sizes (id 10: code, 11: data) from the module header walk.
function sections(buf) {
  const out = {};
  let p = 8;
  const leb = () => {
    let v = 0, s = 0, b;
    do { b = buf[p++]; v += (b & 0x7f) * 2 ** s; s += 7; } while (b & 0x80);
    return v;
  };
  while (p < buf.length) {
    const id = buf[p++];
    const len = leb();
    out[id] = (out[id] ?? 0) + len;
    p += len;
  }
  return { code_bytes: out[10] ?? 0, data_bytes: out[11] ?? 0 };
}

let t = performance.now();
const module = new WebAssembly.Module(bytes);
const compileMs = performance.now() - t;

function makeVm() {
  let memory = null;
  let exports = null;
  const log = [];
  const u8 = () => new Uint8Array(memory.buffer);
  const dv = () => new DataView(memory.buffer);
  const text = (ptr, len) => new TextDecoder().decode(u8().subarray(ptr, ptr + len));
  const env = {
    proxy_log(level, ptr, len) { log.push(text(ptr, len)); return 0; },
    proxy_get_buffer_bytes(type, start, max, retPtr, retLen) {
      // 7: plugin configuration
      if (type !== 7) return 1;
      const data = config.subarray(start >>> 0, (start >>> 0) + Math.min(max >>> 0, config.length));
      const p = exports.proxy_on_memory_allocate(data.length);
      u8().set(data, p);
      dv().setUint32(retPtr, p, true);
      dv().setUint32(retLen, data.length, true);
      return 0;
    },
    proxy_get_current_time_nanoseconds(retPtr) {
      const ns = BigInt(Math.round((performance.timeOrigin + performance.now()) * 1e6));
      dv().setBigUint64(retPtr, ns, true);
      return 0;
    },
    proxy_set_tick_period_milliseconds() { return 0; },
    proxy_define_metric(type, ptr, len, retId) { dv().setUint32(retId, 1, true); return 0; },
    proxy_increment_metric() { return 0; },
    proxy_record_metric() { return 0; },
  };
  const wasi = {
    random_get(ptr, len) {
      const b = u8().subarray(ptr, ptr + len);
      for (let i = 0; i < len; i++) b[i] = (Math.random() * 256) | 0;
      return 0;
    },
    environ_sizes_get(a, b) { dv().setUint32(a, 0, true); dv().setUint32(b, 0, true); return 0; },
    environ_get() { return 0; },
    clock_time_get(id, precision, retPtr) {
      const ns = BigInt(Math.round((performance.timeOrigin + performance.now()) * 1e6));
      dv().setBigUint64(retPtr, ns, true);
      return 0;
    },
    fd_write(fd, iovs, n, retPtr) { dv().setUint32(retPtr, 0, true); return 0; },
    proc_exit(code) { throw new Error(`proc_exit(${code})`); },
    sched_yield() { return 0; },
  };
  const imports = { env: {}, wasi_snapshot_preview1: {} };
  for (const imp of WebAssembly.Module.imports(module)) {
    const table = imp.module === "env" ? env : wasi;
    imports[imp.module][imp.name] = table[imp.name] ?? (() => 1 /* NotFound */);
  }
  const vm = {};
  t = performance.now();
  const instance = new WebAssembly.Instance(module, imports);
  vm.instantiate_ms = performance.now() - t;
  exports = instance.exports;
  memory = exports.memory;
  t = performance.now();
  exports._initialize();
  vm.initialize_ms = performance.now() - t;
  vm.after_initialize_bytes = memory.buffer.byteLength;
  t = performance.now();
  exports.proxy_on_context_create(1, 0);
  if (exports.proxy_on_vm_start(1, 0) === 0) throw new Error("on_vm_start failed");
  if (exports.proxy_on_configure(1, config.length) === 0) {
    throw new Error(`on_configure failed: ${log.join(" | ")}`);
  }
  vm.configure_ms = performance.now() - t;
  vm.linear_memory_bytes = memory.buffer.byteLength;
  vm.log = log;
  return vm;
}

const result = { module_bytes: bytes.length, ...sections(bytes), compile_ms: compileMs, vms: [] };
for (let i = 0; i < vms; i++) result.vms.push(makeVm());
result.heap_used_bytes = process.memoryUsage().heapUsed;
console.log(JSON.stringify(result));
