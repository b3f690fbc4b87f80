//! Outgoing HTTP calls from the root context (CrowdSec LAPI, RFC 7009 endpoint) and the tick.
//!
//! Calls are made from the root context only: a call made from an HTTP context whose stream
//! ended with a local reply never gets its answer. `dispatch_http_call` goes through the SDK
//! (it records the token so that the answer is routed back to the root context); the SDK panics
//! only on statuses Envoy does not return for a call with `:method`, `:path` and `:authority`,
//! which [`dispatch`] always sets.
#![allow(unsafe_code)]

use std::ptr::null_mut;
use std::time::Duration;

use super::abi::HostStatus;
use crate::wire;

const OK: u32 = 0;
const NOT_FOUND: u32 = 1;
/// ABI number of the header map of a call's answer.
const HTTP_CALL_RESPONSE_HEADERS: u32 = 6;
/// ABI number of the body of a call's answer.
const HTTP_CALL_RESPONSE_BODY: u32 = 4;
/// Largest answer body read (a LAPI startup snapshot of ~30,000 decisions).
pub const MAX_RESPONSE_BYTES: usize = 8 * 1024 * 1024;

#[link(wasm_import_module = "env")]
extern "C" {
    fn proxy_set_tick_period_milliseconds(period: u32) -> u32;
    fn proxy_get_header_map_pairs(
        map_type: u32,
        return_map_data: *mut *mut u8,
        return_map_size: *mut usize,
    ) -> u32;
    fn proxy_get_buffer_bytes(
        buffer_type: u32,
        start: usize,
        max_size: usize,
        return_buffer_data: *mut *mut u8,
        return_buffer_size: *mut usize,
    ) -> u32;
}

fn take(data: *mut u8, size: usize) -> Vec<u8> {
    if data.is_null() {
        return Vec::new();
    }
    // SAFETY: the host allocated `size` bytes through the SDK's exported allocator and hands
    // them over.
    unsafe { Vec::from_raw_parts(data, size, size) }
}

/// Asks the host to call `on_tick` every `ms` milliseconds in this VM.
pub fn set_tick_period(ms: u32) -> Result<(), HostStatus> {
    // SAFETY: plain value.
    match unsafe { proxy_set_tick_period_milliseconds(ms) } {
        OK => Ok(()),
        s => Err(HostStatus(s)),
    }
}

/// Sends a request to `cluster`; the answer comes to the root context's
/// `on_http_call_response` with the returned token.
pub fn dispatch(
    cluster: &str,
    headers: &[(&str, &str)],
    body: Option<&[u8]>,
    timeout_ms: u64,
) -> Result<u32, String> {
    let has = |name: &str| headers.iter().any(|(k, v)| *k == name && !v.is_empty());
    if !(has(":method") && has(":path") && has(":authority")) {
        return Err("a call needs :method, :path and :authority".to_string());
    }
    proxy_wasm::hostcalls::dispatch_http_call(
        cluster,
        headers.to_vec(),
        body,
        Vec::new(),
        Duration::from_millis(timeout_ms),
    )
    .map_err(|s| format!("host refused the call to cluster {cluster:?} ({s:?}); is it defined?"))
}

/// The answer's `:status` (None: no answer: timeout, connection failure, reset) and headers.
pub fn response_headers() -> (Option<u16>, Vec<(String, Vec<u8>)>) {
    let mut data = null_mut();
    let mut size = 0usize;
    // SAFETY: out-pointers outlive the call; the buffer is taken over.
    let code =
        unsafe { proxy_get_header_map_pairs(HTTP_CALL_RESPONSE_HEADERS, &mut data, &mut size) };
    if code != OK {
        return (None, Vec::new());
    }
    let pairs = wire::decode_pairs(&take(data, size)).unwrap_or_default();
    let status = pairs
        .iter()
        .find(|(k, _)| k == ":status")
        .and_then(|(_, v)| std::str::from_utf8(v).ok())
        .and_then(|v| v.trim().parse().ok());
    (status, pairs)
}

/// A header of the answer, as text.
pub fn header<'a>(pairs: &'a [(String, Vec<u8>)], name: &str) -> Option<&'a str> {
    pairs
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .and_then(|(_, v)| std::str::from_utf8(v).ok())
}

/// The answer's body, up to [`MAX_RESPONSE_BYTES`].
pub fn response_body(body_size: usize) -> Vec<u8> {
    if body_size == 0 {
        return Vec::new();
    }
    let mut data = null_mut();
    let mut size = 0usize;
    // SAFETY: as above.
    let code = unsafe {
        proxy_get_buffer_bytes(
            HTTP_CALL_RESPONSE_BODY,
            0,
            body_size.min(MAX_RESPONSE_BYTES),
            &mut data,
            &mut size,
        )
    };
    match code {
        OK => take(data, size),
        NOT_FOUND => Vec::new(),
        _ => Vec::new(),
    }
}
