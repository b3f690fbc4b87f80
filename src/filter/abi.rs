//! Host calls that report every status instead of panicking.
//!
//! The SDK's `hostcalls` panic on any status they do not expect (and a panic kills the worker's
//! VM), and its map decoder unwraps UTF-8. These wrappers call the same proxy-wasm ABI imports
//! and return `Err(status)` for anything but success.
#![allow(unsafe_code)]

use std::ptr::null_mut;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use crate::wire;

/// Kinds of host call, counted for `apiward_host_calls_total` (the benchmark divides them by
/// requests).
#[derive(Debug, Clone, Copy)]
pub enum Call {
    /// `proxy_get_shared_data`.
    SharedGet,
    /// `proxy_set_shared_data`.
    SharedSet,
    /// Header map reads.
    HeaderRead,
    /// Header writes and removals.
    HeaderWrite,
    /// Body reads and writes.
    Body,
    /// Properties (`source.address`).
    Property,
    /// Metric updates.
    Metric,
    /// The clock.
    Clock,
    /// Logs, local replies, timers.
    Other,
}

impl Call {
    /// Every kind, in counter order.
    pub const ALL: [Call; 9] = [
        Call::SharedGet,
        Call::SharedSet,
        Call::HeaderRead,
        Call::HeaderWrite,
        Call::Body,
        Call::Property,
        Call::Metric,
        Call::Clock,
        Call::Other,
    ];

    /// Label value.
    pub fn as_str(self) -> &'static str {
        match self {
            Call::SharedGet => "shared_get",
            Call::SharedSet => "shared_set",
            Call::HeaderRead => "header_read",
            Call::HeaderWrite => "header_write",
            Call::Body => "body",
            Call::Property => "property",
            Call::Metric => "metric",
            Call::Clock => "clock",
            Call::Other => "other",
        }
    }
}

#[allow(clippy::declare_interior_mutable_const)]
const ZERO: AtomicU64 = AtomicU64::new(0);
/// Host calls of this VM by phase (0: streams, 1: the root's tick) and kind.
static CALLS: [[AtomicU64; 9]; 2] = [[ZERO; 9], [ZERO; 9]];
static IN_TICK: AtomicBool = AtomicBool::new(false);

fn count(call: Call) {
    let phase = usize::from(IN_TICK.load(Ordering::Relaxed));
    if let Some(c) = CALLS.get(phase).and_then(|p| p.get(call as usize)) {
        c.fetch_add(1, Ordering::Relaxed);
    }
}

/// Host calls made so far: `[phase][kind]`, phase 0 for streams, 1 for ticks.
pub fn host_calls() -> [[u64; 9]; 2] {
    let mut out = [[0u64; 9]; 2];
    for (o, c) in out.iter_mut().zip(CALLS.iter()) {
        for (v, a) in o.iter_mut().zip(c.iter()) {
            *v = a.load(Ordering::Relaxed);
        }
    }
    out
}

/// Marks the calls made until the next `in_tick(false)` as the root tick's.
pub fn in_tick(on: bool) {
    IN_TICK.store(on, Ordering::Relaxed);
}

/// A non-OK status returned by the host (proxy-wasm ABI numbering).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HostStatus(pub u32);

const OK: u32 = 0;
const NOT_FOUND: u32 = 1;
const CAS_MISMATCH: u32 = 8;

/// Header maps, as numbered by the ABI.
#[derive(Debug, Clone, Copy)]
#[allow(clippy::enum_variant_names)]
#[repr(u32)]
pub enum Map {
    /// Request headers.
    RequestHeaders = 0,
    /// Response headers.
    ResponseHeaders = 2,
    /// Headers of the reply to a `dispatch_http_call`.
    HttpCallResponseHeaders = 6,
}

/// Buffers, as numbered by the ABI.
#[derive(Debug, Clone, Copy)]
#[repr(u32)]
pub enum Buffer {
    /// Request body.
    RequestBody = 0,
    /// Response body.
    ResponseBody = 1,
    /// Body of the reply to a `dispatch_http_call`.
    HttpCallResponseBody = 4,
    /// Plugin configuration.
    PluginConfiguration = 7,
}

/// Log levels, as numbered by the ABI.
#[derive(Debug, Clone, Copy)]
#[repr(u32)]
pub enum Level {
    /// Debug.
    Debug = 1,
    /// Info.
    Info = 2,
    /// Warn.
    Warn = 3,
    /// Error.
    Error = 4,
}

/// Metric kinds, as numbered by the ABI.
#[derive(Debug, Clone, Copy)]
#[repr(u32)]
pub enum MetricKind {
    /// Monotonic counter.
    Counter = 0,
    /// Histogram.
    Histogram = 2,
}

#[link(wasm_import_module = "env")]
extern "C" {
    fn proxy_log(level: u32, message_data: *const u8, message_size: usize) -> u32;
    fn proxy_get_current_time_nanoseconds(return_time: *mut u64) -> u32;
    fn proxy_get_buffer_bytes(
        buffer_type: u32,
        start: usize,
        max_size: usize,
        return_buffer_data: *mut *mut u8,
        return_buffer_size: *mut usize,
    ) -> u32;
    fn proxy_get_header_map_pairs(
        map_type: u32,
        return_map_data: *mut *mut u8,
        return_map_size: *mut usize,
    ) -> u32;
    fn proxy_replace_header_map_value(
        map_type: u32,
        key_data: *const u8,
        key_size: usize,
        value_data: *const u8,
        value_size: usize,
    ) -> u32;
    fn proxy_get_property(
        path_data: *const u8,
        path_size: usize,
        return_value_data: *mut *mut u8,
        return_value_size: *mut usize,
    ) -> u32;
    fn proxy_send_local_response(
        status_code: u32,
        status_code_details_data: *const u8,
        status_code_details_size: usize,
        body_data: *const u8,
        body_size: usize,
        headers_data: *const u8,
        headers_size: usize,
        grpc_status: i32,
    ) -> u32;
    fn proxy_get_shared_data(
        key_data: *const u8,
        key_size: usize,
        return_value_data: *mut *mut u8,
        return_value_size: *mut usize,
        return_cas: *mut u32,
    ) -> u32;
    fn proxy_set_shared_data(
        key_data: *const u8,
        key_size: usize,
        value_data: *const u8,
        value_size: usize,
        cas: u32,
    ) -> u32;
    fn proxy_define_metric(
        metric_type: u32,
        name_data: *const u8,
        name_size: usize,
        return_id: *mut u32,
    ) -> u32;
    fn proxy_increment_metric(metric_id: u32, offset: i64) -> u32;
    fn proxy_set_tick_period_milliseconds(period: u32) -> u32;
    fn proxy_set_buffer_bytes(
        buffer_type: u32,
        start: usize,
        size: usize,
        buffer_data: *const u8,
        buffer_size: usize,
    ) -> u32;
    fn proxy_remove_header_map_value(map_type: u32, key_data: *const u8, key_size: usize) -> u32;
    fn proxy_record_metric(metric_id: u32, value: u64) -> u32;
}

fn status(code: u32) -> Result<(), HostStatus> {
    if code == OK {
        Ok(())
    } else {
        Err(HostStatus(code))
    }
}

/// Takes ownership of a buffer the host allocated through `proxy_on_memory_allocate`.
fn take_host_buffer(data: *mut u8, size: usize) -> Vec<u8> {
    if data.is_null() {
        return Vec::new();
    }
    // SAFETY: the host wrote `size` bytes into memory it obtained from the SDK's exported
    // allocator (a boxed slice of exactly `size` bytes), and hands ownership to us.
    unsafe { Vec::from_raw_parts(data, size, size) }
}

/// Writes a line to the proxy's log; a failing log call is ignored (there is nowhere to report it).
pub fn log(level: Level, message: &str) {
    count(Call::Other);
    // SAFETY: pointer and length describe a live &str.
    let _ = unsafe { proxy_log(level as u32, message.as_ptr(), message.len()) };
}

/// Wall-clock time in nanoseconds since the epoch.
pub fn now_ns() -> Result<u64, HostStatus> {
    count(Call::Clock);
    let mut t = 0u64;
    // SAFETY: `t` outlives the call.
    status(unsafe { proxy_get_current_time_nanoseconds(&mut t) })?;
    Ok(t)
}

/// Up to `max` bytes of a buffer from `start`; `Ok(None)` if the host has no such buffer.
pub fn buffer(kind: Buffer, start: usize, max: usize) -> Result<Option<Vec<u8>>, HostStatus> {
    count(Call::Body);
    let mut data = null_mut();
    let mut size = 0usize;
    // SAFETY: out-pointers outlive the call; the returned buffer is taken over below.
    let code = unsafe { proxy_get_buffer_bytes(kind as u32, start, max, &mut data, &mut size) };
    match code {
        OK => Ok(Some(take_host_buffer(data, size))),
        NOT_FOUND => Ok(None),
        other => Err(HostStatus(other)),
    }
}

/// All pairs of a header map, values as raw bytes.
pub fn header_pairs(map: Map) -> Result<Vec<(String, Vec<u8>)>, HostStatus> {
    count(Call::HeaderRead);
    let mut data = null_mut();
    let mut size = 0usize;
    // SAFETY: as in `buffer`.
    status(unsafe { proxy_get_header_map_pairs(map as u32, &mut data, &mut size) })?;
    let raw = take_host_buffer(data, size);
    // A map the host encoded in a way we cannot read is reported like a host failure.
    wire::decode_pairs(&raw).ok_or(HostStatus(u32::MAX))
}

/// Sets (replaces) a header.
pub fn set_header(map: Map, name: &str, value: &str) -> Result<(), HostStatus> {
    count(Call::HeaderWrite);
    // SAFETY: pointers and lengths describe live &str values.
    status(unsafe {
        proxy_replace_header_map_value(
            map as u32,
            name.as_ptr(),
            name.len(),
            value.as_ptr(),
            value.len(),
        )
    })
}

/// A property such as `source.address`; `Ok(None)` if the host does not have it.
pub fn property(path: &[&str]) -> Result<Option<Vec<u8>>, HostStatus> {
    count(Call::Property);
    let mut serialized = Vec::new();
    for part in path {
        serialized.extend_from_slice(part.as_bytes());
        serialized.push(0);
    }
    serialized.pop();
    let mut data = null_mut();
    let mut size = 0usize;
    // SAFETY: as in `buffer`.
    let code =
        unsafe { proxy_get_property(serialized.as_ptr(), serialized.len(), &mut data, &mut size) };
    match code {
        OK => Ok(Some(take_host_buffer(data, size))),
        NOT_FOUND => Ok(None),
        other => Err(HostStatus(other)),
    }
}

/// Ends the stream with a local reply.
pub fn send_response(
    status_code: u32,
    headers: &[(&str, &[u8])],
    body: &[u8],
) -> Result<(), HostStatus> {
    count(Call::Other);
    let headers = wire::encode_pairs(headers);
    // SAFETY: all pointers describe live buffers for the duration of the call.
    status(unsafe {
        proxy_send_local_response(
            status_code,
            std::ptr::null(),
            0,
            body.as_ptr(),
            body.len(),
            headers.as_ptr(),
            headers.len(),
            -1,
        )
    })
}

/// Why a shared-data call failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SharedDataError {
    /// The CAS token is no longer the key's (another worker wrote it).
    CasMismatch,
    /// Any other non-OK status.
    Host(HostStatus),
}

/// The value of a shared-data key and its CAS token; `Ok(None)` if the key was never set.
pub fn shared_data(key: &str) -> Result<Option<(Vec<u8>, u32)>, SharedDataError> {
    count(Call::SharedGet);
    let mut data = null_mut();
    let mut size = 0usize;
    let mut cas = 0u32;
    // SAFETY: `key` is live; out-pointers outlive the call; the returned buffer is taken over.
    let code =
        unsafe { proxy_get_shared_data(key.as_ptr(), key.len(), &mut data, &mut size, &mut cas) };
    match code {
        OK => Ok(Some((take_host_buffer(data, size), cas))),
        NOT_FOUND => Ok(None),
        CAS_MISMATCH => Err(SharedDataError::CasMismatch),
        other => Err(SharedDataError::Host(HostStatus(other))),
    }
}

/// Writes a shared-data key if `cas` is 0 or still the key's token.
pub fn set_shared_data(key: &str, value: &[u8], cas: u32) -> Result<(), SharedDataError> {
    count(Call::SharedSet);
    // SAFETY: pointers and lengths describe live buffers for the duration of the call.
    let code =
        unsafe { proxy_set_shared_data(key.as_ptr(), key.len(), value.as_ptr(), value.len(), cas) };
    match code {
        OK => Ok(()),
        CAS_MISMATCH => Err(SharedDataError::CasMismatch),
        other => Err(SharedDataError::Host(HostStatus(other))),
    }
}

/// Defines a metric (idempotent per VM) and returns its id.
pub fn define_metric(kind: MetricKind, name: &str) -> Result<u32, HostStatus> {
    count(Call::Other);
    let mut id = 0u32;
    // SAFETY: `name` is live, `id` outlives the call.
    status(unsafe { proxy_define_metric(kind as u32, name.as_ptr(), name.len(), &mut id) })?;
    Ok(id)
}

/// Adds `delta` to a counter.
pub fn increment_metric(id: u32, delta: i64) -> Result<(), HostStatus> {
    count(Call::Metric);
    // SAFETY: plain values.
    status(unsafe { proxy_increment_metric(id, delta) })
}

/// Records a histogram sample.
pub fn record_metric(id: u32, value: u64) -> Result<(), HostStatus> {
    count(Call::Metric);
    // SAFETY: plain values.
    status(unsafe { proxy_record_metric(id, value) })
}

/// Asks the host to call `on_tick` every `ms` milliseconds (0 stops it).
pub fn set_tick_period(ms: u32) -> Result<(), HostStatus> {
    count(Call::Other);
    // SAFETY: plain values.
    status(unsafe { proxy_set_tick_period_milliseconds(ms) })
}

/// Replaces `size` bytes from `start` of a buffer with `data` (the whole body: 0, its size).
pub fn set_buffer(kind: Buffer, start: usize, size: usize, data: &[u8]) -> Result<(), HostStatus> {
    count(Call::Body);
    // SAFETY: `data` is live for the duration of the call.
    status(unsafe { proxy_set_buffer_bytes(kind as u32, start, size, data.as_ptr(), data.len()) })
}

/// Removes a header (absent is fine).
pub fn remove_header(map: Map, name: &str) -> Result<(), HostStatus> {
    count(Call::HeaderWrite);
    // SAFETY: `name` is live for the duration of the call.
    let code = unsafe { proxy_remove_header_map_value(map as u32, name.as_ptr(), name.len()) };
    match code {
        OK | NOT_FOUND => Ok(()),
        other => Err(HostStatus(other)),
    }
}
