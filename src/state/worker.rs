//! Per-worker state: a [`SharedStore`] that keeps the buckets a worker VM counts into in the
//! VM's own memory and merges them into shared data on a tick, so that the request path makes
//! (almost) no shared-data calls.
//!
//! **Why.** Shared data is one process-wide map behind one mutex; every get copies the value
//! and calls back into the module's allocator. Counting a request in four tables cost ~13 host
//! calls. Here a request costs one small read (the block-list epoch) once the buckets it touches
//! are in the VM; the counting happens in local copies.
//!
//! **Three kinds of key.**
//! - *Deferred* (counters, windows, baselines: the `clients`, `principals`, `principal-routes`
//!   and `routes` tables): a get serves the local copy (read from shared data on first use); a
//!   set changes the local copy. [`WorkerStore::sync`] (the root context's tick) folds each
//!   changed copy into the shared bucket with a three-way merge ([`super::merge`]) under CAS,
//!   and the merged value becomes the new local copy. **The trade**: a request sees the counts
//!   of the last merge plus this worker's own since; another worker's counts arrive up to one
//!   tick late. Totals are exact after the merge.
//! - *Immediate* (`blocks`, `revoked`): writes go to shared data at once and bump a small epoch
//!   key; reads are cached in the VM while the epoch read at the start of the request
//!   ([`WorkerStore::begin_request`]) is unchanged. A block imposed by one worker is enforced by
//!   every worker from its next request.
//! - Anything else passes straight through.
//!
//! **Hot keys: exact where a limit is near.** The behaviour marks a deferred bucket *hot* when
//! one of its measures reaches `hot_fraction` of its limit ([`SharedStore::mark_hot`]). Hot keys
//! are listed (64-bit key hash, expiry) in the same shared-data value as the epoch, which every
//! worker reads at the start of each request anyway; so from its next request every worker
//! folds its pending counts for that bucket in and reads and writes it through (one get, one
//! CAS set: the cost of earlier versions) until the mark lapses ([`HOT_TTL_MS`] after the last
//! request that found it hot). With `hot_fraction` 0.25 and counts spread over N workers, a
//! worker's own view reaches the mark while the true count is below N/4 of the limit: with up to
//! four workers a limit is crossed on exact counts, whatever the tick.
//!
//! **Bounds.** At most `max_keys` deferred buckets (two copies each) and `max_keys` cached
//! immediate values live in a VM. A new bucket in a full VM evicts the least recently used clean
//! one, or merges the least recently used changed one first (counted as lost if that merge
//! fails). A bucket not changed since the last merge is dropped at the next one, so a
//! worker re-reads what it has stopped counting into.
//!
//! With `sync_ms: 0` every call passes through (the write-through behaviour of earlier
//! versions), which the benchmark uses for comparison.

use std::cell::RefCell;
use std::collections::HashMap;

use super::store::{SharedStore, StoreError};

/// Merges a worker's copy of a bucket into the shared one: `(base, mine, theirs, now_ms)`.
pub type Merger = Box<dyn Fn(Option<&[u8]>, &[u8], Option<&[u8]>, u64) -> Vec<u8>>;

/// Key of the block-list epoch, bumped by every write to an immediate table.
pub const EPOCH_KEY: &str = "apiward:v1:epoch";
/// CAS attempts of one merge or epoch bump.
pub const MERGE_ATTEMPTS: u32 = 8;
/// Token handed out for local copies (any set succeeds on them).
const LOCAL_TOKEN: u32 = 1;
/// How long a hot mark lasts after the last request that found the bucket hot.
pub const HOT_TTL_MS: u64 = 5_000;

/// `behaviour.worker_state`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct WorkerConfig {
    /// Merge period (ms); 0: no per-worker state, every call goes to shared data.
    pub sync_ms: u64,
    /// Deferred buckets (and cached immediate values) kept per VM.
    pub max_keys: usize,
    /// Share of a limit from which a bucket is read and written through (hot).
    pub hot_fraction: f64,
    /// Hot marks listed at once (0: none; counts always lag up to a tick).
    pub hot_keys: usize,
}

impl Default for WorkerConfig {
    fn default() -> Self {
        WorkerConfig {
            sync_ms: 100,
            max_keys: 1024,
            hot_fraction: 0.25,
            hot_keys: 32,
        }
    }
}

/// Counters of a [`WorkerStore`] since it was made (the glue publishes their increase).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct WorkerStats {
    /// Shared-data reads made.
    pub host_gets: u64,
    /// Shared-data writes made.
    pub host_sets: u64,
    /// Reads served from the VM's memory.
    pub local_hits: u64,
    /// Buckets merged into shared data.
    pub merged: u64,
    /// Merge attempts repeated after a CAS conflict.
    pub merge_conflicts: u64,
    /// Merges that failed (the copy stays and is tried again on the next tick).
    pub merge_failures: u64,
    /// Changed copies dropped unmerged (VM full and the merge failed).
    pub lost: u64,
    /// Times the epoch changed under this VM (its cached block list was dropped).
    pub epoch_changes: u64,
    /// Buckets this VM marked hot (or whose mark it renewed).
    pub hot_marks: u64,
    /// Reads and writes of hot buckets made through to shared data.
    pub hot_through: u64,
}

/// What one [`WorkerStore::sync`] did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SyncReport {
    /// Buckets merged.
    pub merged: usize,
    /// Buckets whose merge failed, with the error.
    pub failed: Vec<(String, StoreError)>,
}

#[derive(Debug)]
struct Local {
    /// The shared value this copy started from (as of the last read or merge).
    base: Option<Vec<u8>>,
    /// The copy (None while the key does not exist anywhere).
    mine: Option<Vec<u8>>,
    dirty: bool,
    used: u64,
    table: usize,
    /// CAS token of `base` when it was just read from shared data (a hot bucket): the merge
    /// then tries one set with it before reading again.
    cas: Option<u32>,
}

#[derive(Debug, Default)]
struct State {
    local: HashMap<String, Local>,
    cached: HashMap<String, Option<(Vec<u8>, u32)>>,
    /// Epoch the cached immediate values belong to; None: unknown, do not cache.
    epoch: Option<u64>,
    /// Hot marks as of the last epoch read: (key hash, expiry ms).
    hot: Vec<(u64, u64)>,
    clock: u64,
    now_ms: u64,
    stats: WorkerStats,
}

enum Kind {
    Deferred(usize),
    Immediate,
    Passthrough,
}

/// Per-worker [`SharedStore`] over `inner` (the host's shared data). Single-threaded, like a
/// proxy-wasm VM.
pub struct WorkerStore<S: SharedStore> {
    inner: S,
    config: WorkerConfig,
    deferred: Vec<(String, Merger)>,
    immediate: Vec<String>,
    state: RefCell<State>,
}

impl<S: SharedStore> std::fmt::Debug for WorkerStore<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let st = self.state.borrow();
        f.debug_struct("WorkerStore")
            .field("config", &self.config)
            .field("local", &st.local.len())
            .field("cached", &st.cached.len())
            .field("stats", &st.stats)
            .finish()
    }
}

impl<S: SharedStore> WorkerStore<S> {
    /// A store over `inner`: keys starting with a `deferred` prefix are counted locally and
    /// merged with its merger; keys starting with an `immediate` prefix are written through and
    /// cached per epoch.
    pub fn new(
        inner: S,
        config: WorkerConfig,
        deferred: Vec<(String, Merger)>,
        immediate: Vec<String>,
    ) -> Self {
        WorkerStore {
            inner,
            config,
            deferred,
            immediate,
            state: RefCell::new(State::default()),
        }
    }

    /// The configuration.
    pub fn config(&self) -> WorkerConfig {
        self.config
    }

    /// The store underneath.
    pub fn inner(&self) -> &S {
        &self.inner
    }

    /// Counters so far.
    pub fn stats(&self) -> WorkerStats {
        self.state.borrow().stats
    }

    /// Changed copies waiting for the next merge.
    pub fn pending(&self) -> usize {
        self.state
            .borrow()
            .local
            .values()
            .filter(|l| l.dirty)
            .count()
    }

    /// Buckets held in the VM (deferred copies and cached immediate values).
    pub fn held(&self) -> usize {
        let st = self.state.borrow();
        st.local.len() + st.cached.len()
    }

    fn kind(&self, key: &str) -> Kind {
        if self.config.sync_ms == 0 {
            return Kind::Passthrough;
        }
        if let Some(i) = self.deferred.iter().position(|(p, _)| key.starts_with(p)) {
            return Kind::Deferred(i);
        }
        if self.immediate.iter().any(|p| key.starts_with(p.as_str())) {
            return Kind::Immediate;
        }
        Kind::Passthrough
    }

    /// Start of a request at `now_ms`: one read of the epoch; when it moved, the cached block
    /// and revocation values are dropped. On a read error nothing is cached until the next one
    /// succeeds (every immediate read then goes to shared data).
    pub fn begin_request(&self, now_ms: u64) {
        if self.config.sync_ms == 0 {
            return;
        }
        let mut st = self.state.borrow_mut();
        st.now_ms = now_ms;
        st.stats.host_gets += 1;
        let epoch = match self.inner.get(EPOCH_KEY) {
            Ok(v) => {
                let (epoch, hot) = v.map_or((0, Vec::new()), |(b, _)| parse_epoch(&b));
                st.hot = hot;
                Some(epoch)
            }
            Err(_) => None,
        };
        if epoch != st.epoch || epoch.is_none() {
            if st.epoch.is_some() {
                st.stats.epoch_changes += 1;
            }
            st.cached.clear();
            st.epoch = epoch;
        }
    }

    /// Merges every changed copy into shared data and drops the copies that were not changed
    /// since the previous merge. Call it on the tick.
    pub fn sync(&self, now_ms: u64) -> SyncReport {
        let mut report = SyncReport::default();
        if self.config.sync_ms == 0 {
            return report;
        }
        let mut st = self.state.borrow_mut();
        st.now_ms = now_ms;
        st.local.retain(|_, l| l.dirty);
        let keys: Vec<String> = st.local.keys().cloned().collect();
        for key in keys {
            match self.merge_key(&mut st, &key, now_ms) {
                Ok(()) => report.merged += 1,
                Err(e) => {
                    st.stats.merge_failures += 1;
                    report.failed.push((key, e));
                }
            }
        }
        report
    }

    fn merge_key(&self, st: &mut State, key: &str, now_ms: u64) -> Result<(), StoreError> {
        let Some(local) = st.local.get(key) else {
            return Ok(());
        };
        let (Some(mine), true) = (local.mine.as_deref(), local.dirty) else {
            return Ok(());
        };
        let Some((_, merger)) = self.deferred.get(local.table) else {
            return Ok(());
        };
        let mut last = StoreError::CasMismatch;
        // A base just read (hot bucket): if nobody wrote since, the copy is the merge.
        let mut known = local.cas.map(|cas| (local.base.clone(), cas));
        for attempt in 0..MERGE_ATTEMPTS {
            if attempt > 0 {
                st.stats.merge_conflicts += 1;
            }
            let (theirs, cas) = match known.take() {
                Some(k) => k,
                None => {
                    st.stats.host_gets += 1;
                    match self.inner.get(key)? {
                        Some((v, cas)) => (Some(v), cas),
                        None => (None, 0),
                    }
                }
            };
            let merged = merger(local.base.as_deref(), mine, theirs.as_deref(), now_ms);
            st.stats.host_sets += 1;
            match self.inner.set(key, &merged, cas) {
                Ok(())
                    if cas == 0 && {
                        st.stats.host_gets += 1;
                        !self.created_as(key, &merged)?
                    } =>
                {
                    // Another worker created the bucket at the same moment and its write
                    // replaced ours: merge again into what it wrote.
                    last = StoreError::CasMismatch;
                }
                Ok(()) => {
                    st.stats.merged += 1;
                    if let Some(l) = st.local.get_mut(key) {
                        l.base = Some(merged.clone());
                        l.mine = Some(merged);
                        l.dirty = false;
                        l.cas = None;
                    }
                    return Ok(());
                }
                Err(StoreError::CasMismatch) => last = StoreError::CasMismatch,
                Err(e) => return Err(e),
            }
        }
        Err(last)
    }

    /// After creating a bucket (Envoy has no atomic create: a set of an absent key succeeds
    /// whatever the cas): whether the bucket still holds what this worker wrote. It narrows
    /// the race of two workers creating one bucket to the moment between this read and the
    /// other's write, once per bucket per proxy lifetime.
    fn created_as(&self, key: &str, wrote: &[u8]) -> Result<bool, StoreError> {
        Ok(matches!(self.inner.get(key)?, Some((v, _)) if v == wrote))
    }

    /// Makes room for one more deferred copy.
    fn make_room(&self, st: &mut State) {
        if st.local.len() < self.config.max_keys {
            return;
        }
        let lru = |dirty: bool| {
            st.local
                .iter()
                .filter(|(_, l)| l.dirty == dirty)
                .min_by_key(|(_, l)| l.used)
                .map(|(k, _)| k.clone())
        };
        if let Some(k) = lru(false) {
            st.local.remove(&k);
            return;
        }
        if let Some(k) = lru(true) {
            let now = st.now_ms;
            if self.merge_key(st, &k, now).is_err() {
                st.stats.lost += 1;
            }
            st.local.remove(&k);
        }
    }

    /// A hot bucket: this VM's pending counts folded in, then the shared value read fresh
    /// (its CAS token kept for the write that follows).
    fn read_through(
        &self,
        st: &mut State,
        key: &str,
        table: usize,
        clock: u64,
    ) -> Result<Option<(Vec<u8>, u32)>, StoreError> {
        st.stats.hot_through += 1;
        let now = st.now_ms;
        if st.local.get(key).is_some_and(|l| l.dirty) && self.merge_key(st, key, now).is_err() {
            st.stats.merge_failures += 1;
        }
        st.stats.host_gets += 1;
        let fresh = self.inner.get(key)?;
        if st.local.get(key).is_some_and(|l| l.dirty) {
            // The merge failed: count on the local copy, merged on the tick.
            let v = st.local.get(key).and_then(|l| l.mine.clone());
            return Ok(v.map(|m| (m, LOCAL_TOKEN)));
        }
        if !st.local.contains_key(key) {
            self.make_room(st);
        }
        let (v, cas) = match fresh {
            Some((v, cas)) => (Some(v), Some(cas)),
            None => (None, None),
        };
        st.local.insert(
            key.to_owned(),
            Local {
                base: v.clone(),
                mine: v.clone(),
                dirty: false,
                used: clock,
                table,
                cas,
            },
        );
        Ok(v.map(|b| (b, LOCAL_TOKEN)))
    }

    /// A hot bucket's write: a CAS set against the value [`Self::read_through`] read, so that
    /// a concurrent write on another worker fails this one with `CasMismatch` and the caller
    /// reads again, as without per-worker state. A bucket that did not exist when read is
    /// merged instead (no token to set against).
    fn write_through(&self, st: &mut State, key: &str, value: &[u8]) -> Result<(), StoreError> {
        st.stats.hot_through += 1;
        let now = st.now_ms;
        let Some(cas) = st.local.get(key).and_then(|l| l.cas) else {
            if self.merge_key(st, key, now).is_err() {
                // Kept changed: the tick tries again.
                st.stats.merge_failures += 1;
            }
            return Ok(());
        };
        st.stats.host_sets += 1;
        let result = self.inner.set(key, value, cas);
        if let Some(l) = st.local.get_mut(key) {
            match &result {
                Ok(()) => {
                    l.base = Some(value.to_vec());
                    l.mine = Some(value.to_vec());
                }
                // Stale: drop the change; the caller's retry reads the bucket again.
                Err(_) => l.mine.clone_from(&l.base),
            }
            l.dirty = false;
            l.cas = None;
        }
        if result.is_ok() {
            st.stats.merged += 1;
        }
        result
    }

    fn is_hot(&self, st: &State, key: &str) -> bool {
        if st.hot.is_empty() {
            return false;
        }
        let h = key_hash(key);
        st.hot.iter().any(|&(k, until)| k == h && until > st.now_ms)
    }

    /// Lists `key` as hot in the epoch value (CAS, bounded to `hot_keys` marks: expired ones
    /// go first, then the one closest to expiry) and merges this VM's pending counts for it.
    fn mark(&self, st: &mut State, key: &str) {
        let now = st.now_ms;
        let h = key_hash(key);
        let fresh = |hot: &[(u64, u64)]| {
            hot.iter()
                .any(|&(k, until)| k == h && until >= now + HOT_TTL_MS / 2)
        };
        if fresh(&st.hot) {
            return;
        }
        for _ in 0..MERGE_ATTEMPTS {
            st.stats.host_gets += 1;
            let ((epoch, mut hot), cas) = match self.inner.get(EPOCH_KEY) {
                Ok(Some((b, cas))) => (parse_epoch(&b), cas),
                Ok(None) => ((0, Vec::new()), 0),
                Err(_) => return,
            };
            if fresh(&hot) {
                st.hot = hot;
                break;
            }
            hot.retain(|&(k, until)| k != h && until > now);
            if hot.len() >= self.config.hot_keys {
                hot.sort_by_key(|&(_, until)| std::cmp::Reverse(until));
                hot.truncate(self.config.hot_keys.saturating_sub(1));
            }
            hot.push((h, now + HOT_TTL_MS));
            st.stats.host_sets += 1;
            match self.inner.set(EPOCH_KEY, &encode_epoch(epoch, &hot), cas) {
                Ok(()) => {
                    st.stats.hot_marks += 1;
                    st.hot = hot;
                    break;
                }
                Err(StoreError::CasMismatch) => continue,
                Err(_) => return,
            }
        }
        // Publish what this VM counted so far; from now on the bucket goes through.
        if st.local.get(key).is_some_and(|l| l.dirty) && self.merge_key(st, key, now).is_err() {
            st.stats.merge_failures += 1;
        }
    }

    fn bump_epoch(&self, st: &mut State) {
        for _ in 0..MERGE_ATTEMPTS {
            st.stats.host_gets += 1;
            let ((epoch, hot), cas) = match self.inner.get(EPOCH_KEY) {
                Ok(Some((b, cas))) => (parse_epoch(&b), cas),
                Ok(None) => ((0, Vec::new()), 0),
                Err(_) => break,
            };
            st.stats.host_sets += 1;
            match self
                .inner
                .set(EPOCH_KEY, &encode_epoch(epoch.wrapping_add(1), &hot), cas)
            {
                Err(StoreError::CasMismatch) => continue,
                _ => break,
            }
        }
        // Other workers may have written too: re-read the epoch on the next request.
        st.cached.clear();
        st.epoch = None;
    }
}

/// The epoch value: epoch (u64 LE), then hot marks (key hash, expiry ms), u64 LE each.
fn parse_epoch(b: &[u8]) -> (u64, Vec<(u64, u64)>) {
    let epoch = read_u64(b);
    let hot = b
        .get(8..)
        .unwrap_or_default()
        .chunks_exact(16)
        .map(|c| (read_u64(c), read_u64(c.get(8..).unwrap_or_default())))
        .collect();
    (epoch, hot)
}

fn encode_epoch(epoch: u64, hot: &[(u64, u64)]) -> Vec<u8> {
    let mut v = Vec::with_capacity(8 + hot.len() * 16);
    v.extend_from_slice(&epoch.to_le_bytes());
    for (h, until) in hot {
        v.extend_from_slice(&h.to_le_bytes());
        v.extend_from_slice(&until.to_le_bytes());
    }
    v
}

/// FNV-1a of a key: what a hot mark names.
fn key_hash(key: &str) -> u64 {
    key.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

fn read_u64(b: &[u8]) -> u64 {
    let mut a = [0u8; 8];
    if let Some(src) = b.get(..8) {
        a.copy_from_slice(src);
    }
    u64::from_le_bytes(a)
}

impl<S: SharedStore> SharedStore for WorkerStore<S> {
    fn get(&self, key: &str) -> Result<Option<(Vec<u8>, u32)>, StoreError> {
        match self.kind(key) {
            Kind::Passthrough => {
                self.state.borrow_mut().stats.host_gets += 1;
                self.inner.get(key)
            }
            Kind::Immediate => {
                let mut st = self.state.borrow_mut();
                if let Some(v) = st.cached.get(key).cloned() {
                    st.stats.local_hits += 1;
                    return Ok(v);
                }
                st.stats.host_gets += 1;
                let v = self.inner.get(key)?;
                if st.epoch.is_some() {
                    if st.cached.len() >= self.config.max_keys {
                        st.cached.clear();
                    }
                    st.cached.insert(key.to_owned(), v.clone());
                }
                Ok(v)
            }
            Kind::Deferred(table) => {
                let mut st = self.state.borrow_mut();
                st.clock += 1;
                let clock = st.clock;
                if self.is_hot(&st, key) {
                    return self.read_through(&mut st, key, table, clock);
                }
                if let Some(l) = st.local.get_mut(key) {
                    l.used = clock;
                    let v = l.mine.clone().map(|m| (m, LOCAL_TOKEN));
                    st.stats.local_hits += 1;
                    return Ok(v);
                }
                st.stats.host_gets += 1;
                let v = self.inner.get(key)?.map(|(b, _)| b);
                self.make_room(&mut st);
                st.local.insert(
                    key.to_owned(),
                    Local {
                        base: v.clone(),
                        mine: v.clone(),
                        dirty: false,
                        used: clock,
                        table,
                        cas: None,
                    },
                );
                Ok(v.map(|b| (b, LOCAL_TOKEN)))
            }
        }
    }

    fn set(&self, key: &str, value: &[u8], cas: u32) -> Result<(), StoreError> {
        match self.kind(key) {
            Kind::Passthrough => {
                self.state.borrow_mut().stats.host_sets += 1;
                self.inner.set(key, value, cas)
            }
            Kind::Immediate => {
                let mut st = self.state.borrow_mut();
                st.cached.remove(key);
                st.stats.host_sets += 1;
                self.inner.set(key, value, cas)?;
                self.bump_epoch(&mut st);
                Ok(())
            }
            Kind::Deferred(_) => {
                if !self.state.borrow().local.contains_key(key) {
                    // Written without a read: take the shared value as the base first.
                    self.get(key)?;
                }
                let mut st = self.state.borrow_mut();
                if let Some(l) = st.local.get_mut(key) {
                    l.mine = Some(value.to_vec());
                    l.dirty = true;
                }
                if self.is_hot(&st, key) {
                    return self.write_through(&mut st, key, value);
                }
                Ok(())
            }
        }
    }

    fn mark_hot(&self, key: &str) {
        if self.hot_fraction().is_none() {
            return;
        }
        if let Kind::Deferred(_) = self.kind(key) {
            let mut st = self.state.borrow_mut();
            self.mark(&mut st, key);
        }
    }

    fn hot_fraction(&self) -> Option<f64> {
        (self.config.sync_ms != 0 && self.config.hot_keys > 0).then_some(self.config.hot_fraction)
    }
}

#[cfg(test)]
mod tests;
