//! apiward: an API security filter for proxy-wasm hosts.
//!
//! Everything but [`filter`] is pure Rust with no host imports, tested natively; `filter` is
//! the thin proxy-wasm glue and exists only in the wasm32 build.
#![deny(unsafe_code)]
#![warn(missing_docs)]

pub mod behaviour;
pub mod config;
pub mod consensus;
pub mod corpus;
pub mod decode;
pub mod dlp;
pub mod engine;
pub mod events;
pub mod features;
pub mod fleet;
pub mod hash;
pub mod model;
pub mod policy;
pub mod probes;
pub mod request;
pub mod scorecache;
pub mod state;
pub mod wire;

#[cfg(target_arch = "wasm32")]
mod filter;
