//! Bounded state shared by every worker VM: fixed tables of fixed-size records over the host's
//! shared data.
//!
//! **Why fixed tables.** proxy-wasm shared data is a key → (bytes, CAS token) map shared by all
//! worker VMs of a proxy, with no delete and no TTL: every key lives until the proxy restarts. One
//! key per client would grow with every address an attacker can spray. So a [`Table`] owns exactly
//! `buckets` keys (`apiward:v1:<name>:<i>`), and each bucket value is a small versioned array of at
//! most `entries_per_bucket` entries; memory is [`Table::bytes_bound`] whatever the traffic.
//!
//! **Identity.** Callers pass a 64-bit [`fingerprint`] of the identity (fixed seed, so every worker
//! and every restart picks the same bucket) and the entry stores the whole fingerprint, so two
//! identities only share an entry if their 64-bit fingerprints collide.
//!
//! **Eviction.** A new identity in a full bucket replaces the least recently seen entry, skipping
//! entries whose record asks for protection ([`Record::eviction_protected`], e.g. an active block)
//! unless every entry does. Evicted state is forgotten: a returning client starts fresh, which the
//! behaviour layer must treat as "unknown", never as "trusted".
//!
//! **Concurrency.** An update reads the bucket and its CAS token, changes one entry, and writes it
//! back with that token. If another worker wrote in between, the write fails and the update is
//! redone on a fresh read, up to `max_retries` times; then it returns
//! [`StateError::Contention`], and the caller applies its configured failure mode and counts a
//! metric. The update closure may therefore run more than once and must be a pure function of
//! the record.
//!
//! **Robustness.** A bucket that does not decode (other format version or record type, wrong
//! length) reads as empty and is replaced on the next update, reported in
//! [`UpdateInfo::discarded_malformed`]. Time is always passed in (`now_ms`), never read here.
//!
//! Nothing here imports proxy-wasm: the filter implements [`SharedStore`] over the host calls and
//! [`MemStore`] serves tests and the native CLI.

pub mod merge;
pub mod record;
pub mod store;
pub mod table;
pub mod worker;

pub use record::{
    BlockUntil, ClientRecord, DistinctSketch, Ewma, FieldReader, FieldWriter, PrincipalRouteRecord,
    Record, WindowCounter,
};
pub use store::{MemStore, SharedStore, StoreError};
pub use table::{fingerprint, StateError, Table, TableConfig, TableConfigError, UpdateInfo};
pub use worker::{WorkerConfig, WorkerStats, WorkerStore};
