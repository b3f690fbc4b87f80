//! Fixed-size tables of records over a [`SharedStore`]: `buckets` keys, each holding at most
//! `entries_per_bucket` entries, updated with CAS and a bounded retry.
//!
//! Bucket value layout (little-endian):
//!
//! ```text
//! offset 0  u8   FORMAT (0xA1: magic nibble 0xA, format version 1)
//!        1  u8   record tag (Record::TAG)
//!        2  u16  record size (Record::SIZE)
//!        4  u8   entry count
//!        5  entries, each: u64 fingerprint, u64 last_seen_ms, Record::SIZE bytes of record
//! ```

use std::fmt;
use std::marker::PhantomData;

use super::record::{FieldReader, FieldWriter, Record};
use super::store::{SharedStore, StoreError};
use crate::hash::hash64;

/// Format byte of a bucket value: magic nibble 0xA and format version 1.
pub const FORMAT: u8 = 0xA1;
/// Bytes of the bucket header.
pub const HEADER_SIZE: usize = 5;
/// Bytes of an entry besides its record: fingerprint and last-seen time.
pub const ENTRY_OVERHEAD: usize = 16;
/// Largest number of buckets a table may have.
pub const MAX_BUCKETS: u32 = 1 << 20;
/// Largest number of entries per bucket.
pub const MAX_ENTRIES_PER_BUCKET: usize = 64;
/// Largest number of CAS retries per update.
pub const MAX_RETRIES: u32 = 16;
/// Prefix of every bucket key; the version changes if the key scheme does.
pub const KEY_PREFIX: &str = "apiward:v1:";
/// Seed of [`fingerprint`]. Changing it moves every identity to another bucket.
pub const FINGERPRINT_SEED: u64 = 0x6170_6977_6172_6401;

/// The 64-bit fingerprint of an identity (client address, hashed principal, principal + route
/// template…), the same in every worker VM and after every restart.
pub fn fingerprint(identity: &[u8]) -> u64 {
    hash64(FINGERPRINT_SEED, identity)
}

/// Sizes of a table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TableConfig {
    /// Number of buckets (shared-data keys), 1…[`MAX_BUCKETS`].
    pub buckets: u32,
    /// Entries per bucket, 1…[`MAX_ENTRIES_PER_BUCKET`].
    pub entries_per_bucket: usize,
    /// CAS retries after the first attempt before an update gives up, 0…[`MAX_RETRIES`].
    pub max_retries: u32,
}

impl Default for TableConfig {
    fn default() -> Self {
        TableConfig {
            buckets: 4096,
            entries_per_bucket: 8,
            max_retries: 4,
        }
    }
}

/// An invalid table configuration; the message can be shown as a configuration error.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum TableConfigError {
    /// The table name cannot be part of a key.
    Name {
        /// The name given.
        name: String,
    },
    /// `buckets` out of range.
    Buckets {
        /// Table name.
        table: String,
        /// The value given.
        got: u32,
    },
    /// `entries_per_bucket` out of range.
    EntriesPerBucket {
        /// Table name.
        table: String,
        /// The value given.
        got: usize,
    },
    /// `max_retries` out of range.
    MaxRetries {
        /// Table name.
        table: String,
        /// The value given.
        got: u32,
    },
}

impl fmt::Display for TableConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TableConfigError::Name { name } => write!(
                f,
                "state table name must be 1 to 32 characters among a-z, 0-9, '_' and '-', got {name:?}"
            ),
            TableConfigError::Buckets { table, got } => write!(
                f,
                "state table {table}: buckets must be between 1 and {MAX_BUCKETS}, got {got}"
            ),
            TableConfigError::EntriesPerBucket { table, got } => write!(
                f,
                "state table {table}: entries per bucket must be between 1 and \
                 {MAX_ENTRIES_PER_BUCKET}, got {got}"
            ),
            TableConfigError::MaxRetries { table, got } => write!(
                f,
                "state table {table}: CAS retries must be at most {MAX_RETRIES}, got {got}"
            ),
        }
    }
}

impl std::error::Error for TableConfigError {}

/// Why a table operation did not complete; the caller applies its failure mode and counts it.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum StateError {
    /// Every attempt lost its CAS race against other workers.
    Contention {
        /// Table name.
        table: String,
        /// Bucket index.
        bucket: u32,
        /// Attempts made (retries + 1).
        attempts: u32,
    },
    /// The store failed otherwise.
    Store {
        /// Table name.
        table: String,
        /// The store's error.
        source: StoreError,
    },
}

impl fmt::Display for StateError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StateError::Contention {
                table,
                bucket,
                attempts,
            } => write!(
                f,
                "state table {table}: bucket {bucket} was changed by other workers during each of \
                 {attempts} attempts (CAS contention); raise buckets or retries"
            ),
            StateError::Store { table, source } => write!(f, "state table {table}: {source}"),
        }
    }
}

impl std::error::Error for StateError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            StateError::Store { source, .. } => Some(source),
            StateError::Contention { .. } => None,
        }
    }
}

/// What an [`Table::update`] did besides applying the closure, for metrics.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct UpdateInfo {
    /// The entry did not exist; the closure got a default record.
    pub is_new: bool,
    /// Another entry was evicted to make room (or to fit a smaller configured bucket).
    pub evicted: bool,
    /// The stored bucket was malformed or of another format/record type and was replaced by an
    /// empty one (its entries are lost).
    pub discarded_malformed: bool,
    /// CAS retries before the write succeeded.
    pub retries: u32,
}

/// A fixed-size table of `R` records shared by every worker VM. Memory is at most
/// [`bytes_bound`](Self::bytes_bound) whatever the traffic: no key is ever made per client.
#[derive(Debug, Clone)]
pub struct Table<R: Record> {
    name: String,
    key_prefix: String,
    config: TableConfig,
    record: PhantomData<fn() -> R>,
}

impl<R: Record> Table<R> {
    const ENTRY_SIZE: usize = ENTRY_OVERHEAD + R::SIZE;

    /// A table named `name` (1–32 of `a-z 0-9 _ -`, unique per record type) with `config`.
    pub fn new(name: &str, config: TableConfig) -> Result<Self, TableConfigError> {
        let name_ok = (1..=32).contains(&name.len())
            && name
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-');
        if !name_ok {
            return Err(TableConfigError::Name {
                name: name.to_owned(),
            });
        }
        let table = name.to_owned();
        if !(1..=MAX_BUCKETS).contains(&config.buckets) {
            return Err(TableConfigError::Buckets {
                table,
                got: config.buckets,
            });
        }
        if !(1..=MAX_ENTRIES_PER_BUCKET).contains(&config.entries_per_bucket) {
            return Err(TableConfigError::EntriesPerBucket {
                table,
                got: config.entries_per_bucket,
            });
        }
        if config.max_retries > MAX_RETRIES {
            return Err(TableConfigError::MaxRetries {
                table,
                got: config.max_retries,
            });
        }
        Ok(Table {
            key_prefix: format!("{KEY_PREFIX}{name}:"),
            name: table,
            config,
            record: PhantomData,
        })
    }

    /// The prefix of every bucket key of the table, `apiward:v1:<name>:`.
    pub fn key_prefix(&self) -> &str {
        &self.key_prefix
    }

    /// The table's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The table's sizes.
    pub fn config(&self) -> TableConfig {
        self.config
    }

    /// The bucket of a fingerprint.
    pub fn bucket_of(&self, fp: u64) -> u32 {
        // `buckets` ≤ 2^20, so the remainder fits.
        (fp % u64::from(self.config.buckets)) as u32
    }

    /// The shared-data key of bucket `bucket`: `apiward:v1:<name>:<bucket>`.
    pub fn bucket_key(&self, bucket: u32) -> String {
        format!("{}{bucket}", self.key_prefix)
    }

    /// Marks the bucket holding `fp` hot in `store` (see [`SharedStore::mark_hot`]).
    pub fn mark_hot<S: SharedStore + ?Sized>(&self, store: &S, fp: u64) {
        store.mark_hot(&self.bucket_key(self.bucket_of(fp)));
    }

    /// Largest bucket value, in bytes.
    pub fn value_bound(&self) -> usize {
        HEADER_SIZE + self.config.entries_per_bucket * Self::ENTRY_SIZE
    }

    /// Largest total of the table's values, in bytes (keys and the host's per-key overhead not
    /// included).
    pub fn bytes_bound(&self) -> usize {
        self.config.buckets as usize * self.value_bound()
    }

    /// The record of `fp`, if the table has it. Writes nothing; a malformed bucket reads as empty.
    pub fn read<S: SharedStore + ?Sized>(
        &self,
        store: &S,
        fp: u64,
    ) -> Result<Option<R>, StateError> {
        let key = self.bucket_key(self.bucket_of(fp));
        let value = store.get(&key).map_err(|e| self.store_error(e))?;
        let (buf, _) = self.parse(value.map(|(v, _)| v));
        Ok(self.find(&buf, fp).map(|i| self.entry(&buf, i).2))
    }

    /// Applies `f` to the record of `fp` (a default record, with `is_new`, if absent; evicting
    /// the least recently seen entry — preferring unprotected ones — when the bucket is full),
    /// marks it seen at `now_ms` and writes the bucket back with CAS. On a CAS conflict the bucket
    /// is read again and `f` applied again, at most `max_retries` times, then
    /// [`StateError::Contention`].
    ///
    /// `f` may therefore run several times: it must be a pure function of the record (no
    /// counting or I/O of its own); act on its return value instead, which is the one of the
    /// attempt that was written.
    pub fn update<S, T, F>(
        &self,
        store: &S,
        fp: u64,
        now_ms: u64,
        mut f: F,
    ) -> Result<(T, UpdateInfo), StateError>
    where
        S: SharedStore + ?Sized,
        F: FnMut(&mut R, bool) -> T,
    {
        self.update_if(store, fp, now_ms, |r, is_new| (f(r, is_new), true))
    }

    /// [`Table::update`] where `f` also says whether its change is worth writing: when it
    /// returns `false` the bucket is left as it was read (one get, no set; the entry's
    /// last-seen time is not refreshed either), so a hot entry that rarely changes costs no CAS.
    pub fn update_if<S, T, F>(
        &self,
        store: &S,
        fp: u64,
        now_ms: u64,
        mut f: F,
    ) -> Result<(T, UpdateInfo), StateError>
    where
        S: SharedStore + ?Sized,
        F: FnMut(&mut R, bool) -> (T, bool),
    {
        let bucket = self.bucket_of(fp);
        let key = self.bucket_key(bucket);
        for attempt in 0..=self.config.max_retries {
            let (value, cas) = match store.get(&key).map_err(|e| self.store_error(e))? {
                Some((v, cas)) => (Some(v), cas),
                // Envoy makes any set of an absent key succeed, so two workers creating the same
                // bucket at once can lose one write: once per bucket per proxy lifetime.
                None => (None, 0),
            };
            let (mut buf, malformed) = self.parse(value);
            let mut info = UpdateInfo {
                discarded_malformed: malformed,
                retries: attempt,
                ..UpdateInfo::default()
            };

            // A bucket written under a larger `entries_per_bucket` is trimmed to the bound.
            while self.count(&buf) > self.config.entries_per_bucket {
                self.evict(&mut buf, now_ms);
                info.evicted = true;
            }
            let (index, mut record) = match self.find(&buf, fp) {
                Some(i) => (i, self.entry(&buf, i).2),
                None => {
                    if self.count(&buf) >= self.config.entries_per_bucket {
                        self.evict(&mut buf, now_ms);
                        info.evicted = true;
                    }
                    info.is_new = true;
                    buf.resize(buf.len() + Self::ENTRY_SIZE, 0);
                    (self.count(&buf) - 1, R::default())
                }
            };
            let (out, write) = f(&mut record, info.is_new);
            if !write && !info.is_new {
                return Ok((out, info));
            }
            self.write_entry(&mut buf, index, fp, now_ms, &record);
            // count ≤ MAX_ENTRIES_PER_BUCKET < 256
            let count = self.count(&buf) as u8;
            if let Some(c) = buf.get_mut(4) {
                *c = count;
            }

            match store.set(&key, &buf, cas) {
                Ok(()) => return Ok((out, info)),
                Err(StoreError::CasMismatch) => continue,
                Err(e) => return Err(self.store_error(e)),
            }
        }
        Err(StateError::Contention {
            table: self.name.clone(),
            bucket,
            attempts: self.config.max_retries + 1,
        })
    }

    fn store_error(&self, source: StoreError) -> StateError {
        StateError::Store {
            table: self.name.clone(),
            source,
        }
    }

    /// The stored value if it is a well-formed bucket of this record type; otherwise an empty
    /// bucket, and `true` if a value was there (malformed, other format or other record type).
    fn parse(&self, value: Option<Vec<u8>>) -> (Vec<u8>, bool) {
        let malformed = match value {
            Some(v) if self.well_formed(&v) => return (v, false),
            Some(_) => true,
            None => false,
        };
        let mut empty = vec![0u8; HEADER_SIZE];
        let size = u16::try_from(R::SIZE).unwrap_or(u16::MAX);
        FieldWriter::new(&mut empty)
            .u8(FORMAT)
            .u8(R::TAG)
            .bytes(&size.to_le_bytes())
            .u8(0);
        (empty, malformed)
    }

    fn well_formed(&self, v: &[u8]) -> bool {
        let mut r = FieldReader::new(v);
        let (format, tag) = (r.u8(), r.u8());
        let size = u16::from_le_bytes(r.array());
        let count = usize::from(r.u8());
        v.len() >= HEADER_SIZE
            && format == FORMAT
            && tag == R::TAG
            && usize::from(size) == R::SIZE
            && v.len() - HEADER_SIZE == count * Self::ENTRY_SIZE
    }

    fn count(&self, buf: &[u8]) -> usize {
        buf.len().saturating_sub(HEADER_SIZE) / Self::ENTRY_SIZE
    }

    fn entries<'b>(&self, buf: &'b [u8]) -> std::slice::ChunksExact<'b, u8> {
        buf.get(HEADER_SIZE..)
            .unwrap_or_default()
            .chunks_exact(Self::ENTRY_SIZE)
    }

    fn find(&self, buf: &[u8], fp: u64) -> Option<usize> {
        let want = fp.to_le_bytes();
        self.entries(buf)
            .position(|e| e.get(..8) == Some(&want[..]))
    }

    /// The encoded entry `i` (empty if out of range).
    fn entry_bytes<'b>(&self, buf: &'b [u8], i: usize) -> &'b [u8] {
        let start = HEADER_SIZE + i * Self::ENTRY_SIZE;
        buf.get(start..start + Self::ENTRY_SIZE).unwrap_or_default()
    }

    /// Fingerprint, last-seen time and record of entry `i`.
    fn entry(&self, buf: &[u8], i: usize) -> (u64, u64, R) {
        let start = HEADER_SIZE + i * Self::ENTRY_SIZE;
        let mut r = FieldReader::new(buf.get(start..start + Self::ENTRY_SIZE).unwrap_or_default());
        (r.u64(), r.u64(), r.record())
    }

    fn write_entry(&self, buf: &mut [u8], i: usize, fp: u64, seen_ms: u64, record: &R) {
        let start = HEADER_SIZE + i * Self::ENTRY_SIZE;
        let slot = buf
            .get_mut(start..start + Self::ENTRY_SIZE)
            .unwrap_or_default();
        FieldWriter::new(slot).u64(fp).u64(seen_ms).record(record);
    }

    /// The entry to evict: the least recently seen among those the record does not protect, or
    /// among all if every one is protected (the memory bound comes first).
    fn victim(&self, buf: &[u8], now_ms: u64) -> usize {
        let mut best: Option<(bool, u64, usize)> = None;
        for i in 0..self.count(buf) {
            let (_, seen, record) = self.entry(buf, i);
            let rank = (record.eviction_protected(now_ms), seen, i);
            if best.is_none_or(|b| (rank.0, rank.1) < (b.0, b.1)) {
                best = Some(rank);
            }
        }
        best.map_or(0, |b| b.2)
    }

    /// Removes the [`victim`](Self::victim) by moving the last entry into its place.
    fn evict(&self, buf: &mut Vec<u8>, now_ms: u64) {
        let i = self.victim(buf, now_ms);
        let n = self.count(buf);
        if i >= n {
            return;
        }
        let last = HEADER_SIZE + (n - 1) * Self::ENTRY_SIZE;
        if i != n - 1 {
            buf.copy_within(
                last..last + Self::ENTRY_SIZE,
                HEADER_SIZE + i * Self::ENTRY_SIZE,
            );
        }
        buf.truncate(last);
    }
}

impl<R: Record + super::merge::Merge> Table<R> {
    /// The merge of this table's buckets ([`Table::merge_buckets`]) for a
    /// [`super::worker::WorkerStore`].
    pub fn merger(&self) -> super::worker::Merger
    where
        R: 'static,
    {
        let table = self.clone();
        Box::new(move |base, mine, theirs, now_ms| table.merge_buckets(base, mine, theirs, now_ms))
    }

    /// Folds a worker's copy of a bucket (`mine`, made from `base`, the value it last read) into
    /// the bucket as it is now (`theirs`): entries this worker did not change are left as
    /// `theirs` has them; changed entries are merged record by record ([`super::merge::Merge`]);
    /// entries only this worker has are added, evicting as [`Table::update`] does when the
    /// bucket is full. A malformed value reads as an empty bucket, as everywhere.
    pub fn merge_buckets(
        &self,
        base: Option<&[u8]>,
        mine: &[u8],
        theirs: Option<&[u8]>,
        now_ms: u64,
    ) -> Vec<u8> {
        let (base, _) = self.parse(base.map(<[u8]>::to_vec));
        let (mine, _) = self.parse(Some(mine.to_vec()));
        let (mut out, _) = self.parse(theirs.map(<[u8]>::to_vec));
        while self.count(&out) > self.config.entries_per_bucket {
            self.evict(&mut out, now_ms);
        }
        for i in 0..self.count(&mine) {
            let (fp, seen, record) = self.entry(&mine, i);
            let before = self.find(&base, fp);
            if before.is_some_and(|j| self.entry_bytes(&base, j) == self.entry_bytes(&mine, i)) {
                continue;
            }
            let base_record = before.map(|j| self.entry(&base, j).2).unwrap_or_default();
            match self.find(&out, fp) {
                Some(j) => {
                    let (_, their_seen, theirs) = self.entry(&out, j);
                    let merged = R::merge(&base_record, &record, &theirs);
                    self.write_entry(&mut out, j, fp, seen.max(their_seen), &merged);
                }
                None => {
                    // New here, or evicted by another worker since: this worker's copy is all
                    // there is.
                    if self.count(&out) >= self.config.entries_per_bucket {
                        self.evict(&mut out, now_ms);
                    }
                    out.resize(out.len() + Self::ENTRY_SIZE, 0);
                    let j = self.count(&out) - 1;
                    self.write_entry(&mut out, j, fp, seen, &record);
                }
            }
        }
        let count = self.count(&out) as u8;
        if let Some(c) = out.get_mut(4) {
            *c = count;
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicU32, Ordering};
    use std::sync::Arc;

    use super::*;
    use crate::state::record::{BlockUntil, ClientRecord};
    use crate::state::store::MemStore;

    /// A bare counter, to test the table without record logic.
    #[derive(Debug, Clone, Copy, Default, PartialEq)]
    struct Count(u64);

    impl Record for Count {
        const TAG: u8 = 0xf0;
        const SIZE: usize = 8;
        fn encode(&self, out: &mut [u8]) {
            FieldWriter::new(out).u64(self.0);
        }
        fn decode(b: &[u8]) -> Self {
            Count(FieldReader::new(b).u64())
        }
    }

    fn table(buckets: u32, entries: usize) -> Table<Count> {
        let config = TableConfig {
            buckets,
            entries_per_bucket: entries,
            max_retries: 4,
        };
        Table::new("counts", config).unwrap()
    }

    fn bump(t: &Table<Count>, s: &MemStore, fp: u64, now: u64) -> UpdateInfo {
        t.update(s, fp, now, |c, _| c.0 += 1).unwrap().1
    }

    #[test]
    fn bucket_key_is_short_and_names_the_table() {
        let t = table(16, 4);
        assert_eq!(t.bucket_key(7), "apiward:v1:counts:7");
        assert_eq!(t.bucket_of(35), 3);
        assert_eq!(t.name(), "counts");
    }

    #[test]
    fn fingerprint_is_pinned_across_builds() {
        // Pinned: a change re-buckets every client of a running fleet after an upgrade.
        assert_eq!(fingerprint(b"203.0.113.7"), fingerprint(b"203.0.113.7"));
        assert_eq!(fingerprint(b""), hash64(FINGERPRINT_SEED, b""));
        assert_eq!(fingerprint(b"203.0.113.7"), 0xf48c_738e_56fd_0e03);
    }

    #[test]
    fn read_of_unknown_identity_is_none_and_writes_nothing() {
        let (t, s) = (table(4, 4), MemStore::new());
        assert_eq!(t.read(&s, 42).unwrap(), None);
        assert_eq!(s.key_count(), 0);
    }

    #[test]
    fn update_inserts_then_finds_the_same_entry() {
        let (t, s) = (table(4, 4), MemStore::new());
        let (seen, info) = t.update(&s, 42, 1_000, |c, is_new| (c.0, is_new)).unwrap();
        assert_eq!(seen, (0, true));
        assert!(info.is_new && !info.evicted && info.retries == 0);
        assert!(!bump(&t, &s, 42, 2_000).is_new);
        assert!(!bump(&t, &s, 42, 3_000).is_new);
        assert_eq!(t.read(&s, 42).unwrap(), Some(Count(2)));
        assert_eq!(s.keys(), vec!["apiward:v1:counts:2".to_owned()]);
    }

    #[test]
    fn update_if_writes_only_what_is_worth_writing() {
        let (t, s) = (table(4, 4), MemStore::new());
        bump(&t, &s, 42, 1_000);
        s.fail_next_sets(1);
        // Not worth writing: no set is attempted (the failing one would have been used up).
        let (seen, info) = t
            .update_if(&s, 42, 2_000, |c, _| {
                c.0 += 1;
                (c.0, false)
            })
            .unwrap();
        assert_eq!((seen, info.retries), (2, 0));
        assert_eq!(t.read(&s, 42).unwrap(), Some(Count(1)));
        assert!(t.update(&s, 42, 3_000, |c, _| c.0 += 1).is_ok());
        assert_eq!(
            t.read(&s, 42).unwrap(),
            Some(Count(2)),
            "one CAS conflict, retried"
        );
        // A new entry is always written.
        t.update_if(&s, 7, 4_000, |c, _| {
            c.0 = 5;
            ((), false)
        })
        .unwrap();
        assert_eq!(t.read(&s, 7).unwrap(), Some(Count(5)));
    }

    #[test]
    fn identities_in_the_same_bucket_keep_separate_entries() {
        let (t, s) = (table(1, 4), MemStore::new());
        for (fp, n) in [(1u64, 1), (2, 2), (3, 3)] {
            for _ in 0..n {
                bump(&t, &s, fp, 10);
            }
        }
        assert_eq!(t.read(&s, 1).unwrap(), Some(Count(1)));
        assert_eq!(t.read(&s, 2).unwrap(), Some(Count(2)));
        assert_eq!(t.read(&s, 3).unwrap(), Some(Count(3)));
        assert_eq!(t.read(&s, 4).unwrap(), None);
    }

    #[test]
    fn full_bucket_evicts_least_recently_seen_entry() {
        let (t, s) = (table(1, 3), MemStore::new());
        bump(&t, &s, 1, 100);
        bump(&t, &s, 2, 200);
        bump(&t, &s, 3, 300);
        bump(&t, &s, 1, 400); // 2 is now the least recently seen
        let info = bump(&t, &s, 4, 500);
        assert!(info.is_new && info.evicted);
        assert_eq!(t.read(&s, 2).unwrap(), None);
        for fp in [1, 3, 4] {
            assert!(t.read(&s, fp).unwrap().is_some(), "{fp}");
        }
        assert_eq!(s.value_bytes(), t.value_bound());
    }

    #[test]
    fn active_block_survives_a_flood_of_new_identities() {
        let config = TableConfig {
            buckets: 1,
            entries_per_bucket: 4,
            max_retries: 4,
        };
        let (t, s) = (
            Table::<ClientRecord>::new("clients", config).unwrap(),
            MemStore::new(),
        );
        t.update(&s, 666, 0, |r, _| {
            r.block = BlockUntil {
                until_ms: 60_000,
                reason: 1,
                level: 1,
            }
        })
        .unwrap();
        for fp in 1..=100u64 {
            t.update(&s, fp, fp, |r, _| r.requests.add(fp, 1_000, 1))
                .unwrap();
        }
        assert!(t.read(&s, 666).unwrap().unwrap().block.is_active(100));
        // Once expired, it is evictable like any other entry.
        for fp in 101..=104u64 {
            t.update(&s, fp, 60_000 + fp, |r, _| r.requests.add(fp, 1_000, 1))
                .unwrap();
        }
        assert_eq!(t.read(&s, 666).unwrap(), None);
    }

    #[test]
    fn bucket_of_only_protected_entries_still_evicts_to_stay_bounded() {
        let config = TableConfig {
            buckets: 1,
            entries_per_bucket: 2,
            max_retries: 4,
        };
        let (t, s) = (
            Table::<ClientRecord>::new("clients", config).unwrap(),
            MemStore::new(),
        );
        for fp in 1..=3u64 {
            t.update(&s, fp, fp, |r, _| r.block.impose(fp, 1_000, 1, 1))
                .unwrap();
        }
        assert_eq!(t.read(&s, 1).unwrap(), None);
        assert_eq!(s.max_value_bytes(), t.value_bound());
    }

    #[test]
    fn malformed_or_foreign_buckets_read_empty_and_are_replaced() {
        let t = table(1, 4);
        let key = t.bucket_key(0);
        let good = {
            let s = MemStore::new();
            bump(&t, &s, 9, 1);
            s.get(&key).unwrap().unwrap().0
        };
        let mut other_version = good.clone();
        other_version[0] = 0xA2;
        let mut other_tag = good.clone();
        other_tag[1] = 0x01;
        let mut other_size = good.clone();
        other_size[2] = 9;
        let mut wrong_count = good.clone();
        wrong_count[4] = 2;
        let truncated = good[..good.len() - 1].to_vec();
        let mut trailing = good.clone();
        trailing.push(0);
        let cases = [
            vec![],
            vec![0xA1],
            b"not a bucket".to_vec(),
            other_version,
            other_tag,
            other_size,
            wrong_count,
            truncated,
            trailing,
        ];
        for (i, bad) in cases.into_iter().enumerate() {
            let s = MemStore::new();
            s.set(&key, &bad, 0).unwrap();
            assert_eq!(t.read(&s, 9).unwrap(), None, "case {i}");
            let info = bump(&t, &s, 9, 2);
            assert!(info.discarded_malformed && info.is_new, "case {i}");
            assert_eq!(t.read(&s, 9).unwrap(), Some(Count(1)), "case {i}");
            assert!(!bump(&t, &s, 9, 3).discarded_malformed, "case {i}");
        }
    }

    #[test]
    fn smaller_configured_bucket_trims_old_values_to_the_new_bound() {
        let s = MemStore::new();
        let big = table(1, 8);
        for fp in 1..=8 {
            bump(&big, &s, fp, fp);
        }
        let small = table(1, 2);
        let info = bump(&small, &s, 8, 100);
        assert!(info.evicted && !info.is_new);
        assert_eq!(s.value_bytes(), small.value_bound());
        assert_eq!(small.read(&s, 8).unwrap(), Some(Count(2)));
        assert_eq!(small.read(&s, 7).unwrap(), Some(Count(1)));
    }

    #[test]
    fn cas_conflict_is_retried_on_the_other_workers_value() {
        let (t, s) = (table(1, 4), MemStore::new());
        bump(&t, &s, 5, 1);
        // What another worker wrote: the count at 10.
        let theirs = {
            let other = MemStore::new();
            t.update(&other, 5, 2, |c, _| c.0 = 10).unwrap();
            other.get(&t.bucket_key(0)).unwrap().unwrap().0
        };
        let mut pending = Some(theirs);
        s.interfere_after_get(move |_, v| match pending.take() {
            Some(t) => {
                *v = t;
                true
            }
            None => false,
        });
        let mut calls = 0;
        let (seen, info) = t
            .update(&s, 5, 3, |c, _| {
                calls += 1;
                c.0 += 1;
                c.0
            })
            .unwrap();
        assert_eq!((seen, info.retries, calls), (11, 1, 2));
        assert_eq!(t.read(&s, 5).unwrap(), Some(Count(11)));
    }

    #[test]
    fn cas_conflict_is_retried_then_reported_as_contention() {
        let (t, s) = (table(1, 4), MemStore::new());
        bump(&t, &s, 5, 1);
        s.fail_next_sets(5);
        let mut calls = 0;
        let err = t.update(&s, 5, 2, |c, _| {
            calls += 1;
            c.0 += 1;
        });
        assert_eq!(
            err,
            Err(StateError::Contention {
                table: "counts".into(),
                bucket: 0,
                attempts: 5
            })
        );
        assert_eq!(calls, 5);
        assert_eq!(t.read(&s, 5).unwrap(), Some(Count(1)));
        assert!(err.unwrap_err().to_string().contains("CAS contention"));
        // Four conflicts fit in four retries.
        s.fail_next_sets(4);
        assert_eq!(bump(&t, &s, 5, 3).retries, 4);
        assert_eq!(t.read(&s, 5).unwrap(), Some(Count(2)));
    }

    #[test]
    fn zero_retries_gives_up_after_one_attempt() {
        let config = TableConfig {
            buckets: 1,
            entries_per_bucket: 1,
            max_retries: 0,
        };
        let (t, s) = (
            Table::<Count>::new("counts", config).unwrap(),
            MemStore::new(),
        );
        bump(&t, &s, 5, 1);
        s.fail_next_sets(1);
        assert!(matches!(
            t.update(&s, 5, 2, |_, _| ()),
            Err(StateError::Contention { attempts: 1, .. })
        ));
    }

    struct BrokenHost;

    impl SharedStore for BrokenHost {
        fn get(&self, _: &str) -> Result<Option<(Vec<u8>, u32)>, StoreError> {
            Err(StoreError::Host { status: 2 })
        }
        fn set(&self, _: &str, _: &[u8], _: u32) -> Result<(), StoreError> {
            Err(StoreError::Host { status: 2 })
        }
    }

    #[test]
    fn host_failure_is_reported_with_the_table_name() {
        let t = table(1, 1);
        let err = t.update(&BrokenHost, 1, 1, |_, _| ()).unwrap_err();
        assert_eq!(
            err,
            StateError::Store {
                table: "counts".into(),
                source: StoreError::Host { status: 2 }
            }
        );
        assert_eq!(
            err.to_string(),
            "state table counts: shared data host call failed with status 2"
        );
        let store: &dyn SharedStore = &BrokenHost;
        assert!(t.read(store, 1).is_err());
    }

    #[test]
    fn concurrent_updates_from_threads_lose_no_increments() {
        const THREADS: u64 = 4;
        const PER_THREAD: u64 = 5_000;
        let (t, s) = (table(8, 4), MemStore::new());
        let fp = 77;
        // Envoy cannot create a key atomically; create the bucket first so every write is a CAS.
        bump(&t, &s, fp, 0);
        let gave_up = AtomicU32::new(0);
        let retried = AtomicU32::new(0);
        std::thread::scope(|scope| {
            for thread in 0..THREADS {
                let (t, s, gave_up, retried) = (&t, &s, &gave_up, &retried);
                scope.spawn(move || {
                    for i in 0..PER_THREAD {
                        loop {
                            let r = t.update(s, fp, thread * PER_THREAD + i, |c, _| {
                                // Widen the get→set window so that attempts really interleave.
                                std::thread::yield_now();
                                c.0 += 1;
                            });
                            match r {
                                Ok((_, info)) => {
                                    retried.fetch_add(info.retries, Ordering::Relaxed);
                                    break;
                                }
                                Err(StateError::Contention { .. }) => {
                                    gave_up.fetch_add(1, Ordering::Relaxed);
                                }
                                Err(e) => panic!("{e}"),
                            }
                        }
                    }
                });
            }
        });
        assert_eq!(
            t.read(&s, fp).unwrap(),
            Some(Count(1 + THREADS * PER_THREAD))
        );
        eprintln!(
            "retries: {}, gave up: {}",
            retried.load(Ordering::Relaxed),
            gave_up.load(Ordering::Relaxed)
        );
    }

    #[test]
    fn memory_stays_within_bound_for_200k_distinct_clients() {
        let config = TableConfig {
            buckets: 512,
            entries_per_bucket: 8,
            max_retries: 4,
        };
        let t = Table::<ClientRecord>::new("clients", config).unwrap();
        let s = Arc::new(MemStore::new());
        let mut evictions = 0u32;
        for i in 0..200_000u64 {
            let fp = fingerprint(format!("198.51.{}.{}", i / 256, i % 256).as_bytes());
            let (_, info) = t
                .update(&*s, fp, i, |r, _| r.requests.add(i, 60_000, 1))
                .unwrap();
            evictions += u32::from(info.evicted);
        }
        assert_eq!(t.bytes_bound(), 512 * (5 + 8 * (16 + 78)));
        assert!(
            s.max_value_bytes() <= t.bytes_bound(),
            "{} > {}",
            s.max_value_bytes(),
            t.bytes_bound()
        );
        assert_eq!(s.value_bytes(), t.bytes_bound());
        assert_eq!(s.key_count(), 512);
        assert!(s
            .keys()
            .iter()
            .all(|k| k.starts_with("apiward:v1:clients:")));
        assert_eq!(evictions, 200_000 - 512 * 8);
    }

    #[test]
    fn invalid_sizes_are_config_errors_with_readable_messages() {
        let ok = TableConfig::default();
        let cases: [(&str, TableConfig, &str); 7] = [
            ("", ok, "state table name must be 1 to 32 characters among a-z, 0-9, '_' and '-', got \"\""),
            ("a:b", ok, "state table name must be 1 to 32 characters among a-z, 0-9, '_' and '-', got \"a:b\""),
            ("t", TableConfig { buckets: 0, ..ok }, "state table t: buckets must be between 1 and 1048576, got 0"),
            ("t", TableConfig { buckets: MAX_BUCKETS + 1, ..ok }, "state table t: buckets must be between 1 and 1048576, got 1048577"),
            ("t", TableConfig { entries_per_bucket: 0, ..ok }, "state table t: entries per bucket must be between 1 and 64, got 0"),
            ("t", TableConfig { entries_per_bucket: 65, ..ok }, "state table t: entries per bucket must be between 1 and 64, got 65"),
            ("t", TableConfig { max_retries: 17, ..ok }, "state table t: CAS retries must be at most 16, got 17"),
        ];
        for (name, config, message) in cases {
            assert_eq!(
                Table::<Count>::new(name, config).unwrap_err().to_string(),
                message
            );
        }
        let edge = TableConfig {
            buckets: MAX_BUCKETS,
            entries_per_bucket: 64,
            max_retries: 16,
        };
        assert!(Table::<Count>::new("principal-route_2", edge).is_ok());
    }
}
