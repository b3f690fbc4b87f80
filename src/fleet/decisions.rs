//! Fleet decisions in shared data, bounded whatever the LAPI sends.
//!
//! - `Ip` decisions live in a fixed [`Table`] (`apiward:v1:crowdsec-ips:<bucket>`): the address's
//!   fingerprint, the decision's end, its LAPI id and remedy. A full bucket evicts the least
//!   recently written entry, an expired one first. Checking a request is one shared-data get.
//! - `Range` decisions live in one value (`apiward:v1:crowdsec-ranges`), at most `max_ranges`
//!   of them; more are not applied and are counted. Workers keep a decoded copy, refreshed on
//!   their tick, so ranges cost the hot path nothing.
//!
//! A deleted decision is lifted if the entry still holds that decision (its id); an expired one
//! stops applying by its end time. Time is passed in.

use std::net::IpAddr;

use super::stream::{ip_bits, IpRange, Remedy, StreamBatch, StreamDecision, Target};
use crate::state::{
    fingerprint, FieldReader, FieldWriter, Record, SharedStore, StateError, StoreError, Table,
    TableConfig, TableConfigError,
};

/// Name of the table of `Ip` decisions.
pub const IP_TABLE: &str = "crowdsec-ips";
/// Shared-data key of the range list.
pub const RANGES_KEY: &str = "apiward:v1:crowdsec-ranges";
/// Format byte of the range list (magic 0xC, version 1).
const RANGES_FORMAT: u8 = 0xC1;
const RANGES_HEADER: usize = 1 + 2 + 4;
const RANGE_SIZE: usize = 16 + 1 + 1 + 1 + 8 + 8;

/// One `Ip` decision as stored: 17 bytes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct IpDecision {
    /// End of the decision (ms since the epoch); 0 = none.
    pub until_ms: u64,
    /// LAPI decision id, so that deleting another decision does not lift this one.
    pub id: u64,
    /// [`Remedy::code`]; 0 = none.
    pub remedy: u8,
}

impl IpDecision {
    /// The remedy in force at `now_ms`.
    pub fn active(&self, now_ms: u64) -> Option<Remedy> {
        if now_ms < self.until_ms {
            Remedy::from_code(self.remedy)
        } else {
            None
        }
    }
}

impl Record for IpDecision {
    const TAG: u8 = 0x90;
    const SIZE: usize = 17;

    fn eviction_protected(&self, now_ms: u64) -> bool {
        self.active(now_ms).is_some()
    }

    fn encode(&self, out: &mut [u8]) {
        FieldWriter::new(out)
            .u64(self.until_ms)
            .u64(self.id)
            .u8(self.remedy);
    }

    fn decode(b: &[u8]) -> Self {
        let mut r = FieldReader::new(b);
        IpDecision {
            until_ms: r.u64(),
            id: r.u64(),
            remedy: r.u8(),
        }
    }
}

/// One `Range` decision as stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RangeDecision {
    /// The range.
    pub range: IpRange,
    /// What to do.
    pub remedy: Remedy,
    /// End (ms since the epoch).
    pub until_ms: u64,
    /// LAPI decision id.
    pub id: u64,
}

/// The decoded range list, as a worker keeps it between ticks.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RangeSet {
    /// Ranges in force or not yet pruned.
    pub ranges: Vec<RangeDecision>,
    /// Range decisions not applied because the list was full (since the proxy started).
    pub over_cap: u32,
}

impl RangeSet {
    /// The strongest remedy of a range holding `addr` at `now_ms`.
    pub fn lookup(&self, addr: IpAddr, now_ms: u64) -> Option<Remedy> {
        self.ranges
            .iter()
            .filter(|r| now_ms < r.until_ms && r.range.contains(addr))
            .map(|r| r.remedy)
            .max()
    }

    /// Bytes of the shared value.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = vec![0u8; RANGES_HEADER + self.ranges.len() * RANGE_SIZE];
        let count = u16::try_from(self.ranges.len()).unwrap_or(u16::MAX);
        let (head, body) = out.split_at_mut(RANGES_HEADER);
        FieldWriter::new(head)
            .u8(RANGES_FORMAT)
            .bytes(&count.to_le_bytes())
            .bytes(&self.over_cap.to_le_bytes());
        for (r, slot) in self.ranges.iter().zip(body.chunks_exact_mut(RANGE_SIZE)) {
            FieldWriter::new(slot)
                .bytes(&r.range.bits.to_le_bytes())
                .u8(r.range.prefix)
                .u8(u8::from(r.range.v4))
                .u8(r.remedy.code())
                .u64(r.until_ms)
                .u64(r.id);
        }
        out
    }

    /// The set a shared value holds; a value that does not decode reads as empty.
    pub fn decode(bytes: &[u8]) -> RangeSet {
        let mut r = FieldReader::new(bytes);
        let format = r.u8();
        let count = usize::from(u16::from_le_bytes(r.array()));
        let over_cap = u32::from_le_bytes(r.array());
        if format != RANGES_FORMAT || bytes.len() != RANGES_HEADER + count * RANGE_SIZE {
            return RangeSet::default();
        }
        let ranges = bytes
            .get(RANGES_HEADER..)
            .unwrap_or_default()
            .chunks_exact(RANGE_SIZE)
            .filter_map(|c| {
                let mut r = FieldReader::new(c);
                let bits = u128::from_le_bytes(r.array());
                let (prefix, v4, remedy) = (r.u8(), r.u8() == 1, r.u8());
                let (until_ms, id) = (r.u64(), r.u64());
                Some(RangeDecision {
                    range: IpRange { bits, prefix, v4 },
                    remedy: Remedy::from_code(remedy)?,
                    until_ms,
                    id,
                })
            })
            .collect();
        RangeSet { ranges, over_cap }
    }
}

/// What applying a stream answer did, for metrics and logs.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ApplyReport {
    /// Decisions written (new) or lifted (deleted).
    pub applied: usize,
    /// Range decisions not kept: the list is full.
    pub ranges_over_cap: usize,
    /// An active `Ip` decision was evicted to make room (the table is too small).
    pub evicted_active: usize,
    /// Writes that failed (contention or host error); the next startup resync repairs them.
    pub errors: Vec<StateError>,
}

/// The fleet decision tables of a proxy.
#[derive(Debug, Clone)]
pub struct DecisionTables {
    ips: Table<IpDecision>,
    max_ranges: usize,
}

impl DecisionTables {
    /// Tables of the configured sizes.
    pub fn new(ips: TableConfig, max_ranges: usize) -> Result<Self, TableConfigError> {
        Ok(DecisionTables {
            ips: Table::new(IP_TABLE, ips)?,
            max_ranges,
        })
    }

    /// Largest memory of the tables, in bytes of values.
    pub fn bytes_bound(&self) -> usize {
        self.ips.bytes_bound() + RANGES_HEADER + self.max_ranges * RANGE_SIZE
    }

    /// The `Ip` decision in force for `addr` at `now_ms`: one shared-data get.
    pub fn ip_remedy<S: SharedStore + ?Sized>(
        &self,
        store: &S,
        addr: IpAddr,
        now_ms: u64,
    ) -> Result<Option<Remedy>, StateError> {
        Ok(self
            .ips
            .read(store, ip_fingerprint(addr))?
            .and_then(|d| d.active(now_ms)))
    }

    /// The range list as stored (empty if absent or unreadable).
    pub fn ranges<S: SharedStore + ?Sized>(&self, store: &S) -> Result<RangeSet, StoreError> {
        Ok(store
            .get(RANGES_KEY)?
            .map(|(v, _)| RangeSet::decode(&v))
            .unwrap_or_default())
    }

    /// Writes a stream answer received at `now_ms`.
    pub fn apply<S: SharedStore + ?Sized>(
        &self,
        store: &S,
        batch: &StreamBatch,
        now_ms: u64,
    ) -> ApplyReport {
        let mut report = ApplyReport::default();
        let mut range_changes: Vec<(&StreamDecision, bool)> = Vec::new();
        for (d, is_new) in batch
            .deleted
            .iter()
            .map(|d| (d, false))
            .chain(batch.new.iter().map(|d| (d, true)))
        {
            match d.target {
                Target::Ip(addr) => match self.write_ip(store, addr, d, is_new, now_ms) {
                    Ok(evicted) => {
                        report.applied += 1;
                        report.evicted_active += usize::from(evicted);
                    }
                    Err(e) => report.errors.push(e),
                },
                Target::Range(_) => range_changes.push((d, is_new)),
            }
        }
        if !range_changes.is_empty() {
            match self.write_ranges(store, &range_changes, now_ms) {
                Ok((applied, over)) => {
                    report.applied += applied;
                    report.ranges_over_cap += over;
                }
                Err(e) => report.errors.push(StateError::Store {
                    table: "crowdsec-ranges".to_string(),
                    source: e,
                }),
            }
        }
        report
    }

    fn write_ip<S: SharedStore + ?Sized>(
        &self,
        store: &S,
        addr: IpAddr,
        d: &StreamDecision,
        is_new: bool,
        now_ms: u64,
    ) -> Result<bool, StateError> {
        let until = end(now_ms, d.duration_ms);
        let ((), info) = self
            .ips
            .update(store, ip_fingerprint(addr), now_ms, |rec, _| {
                if !is_new {
                    if rec.id == d.id {
                        rec.until_ms = 0;
                    }
                    return;
                }
                // Two decisions on one address: the stronger wins, then the longer.
                let current = rec.active(now_ms);
                let stronger = current.is_none_or(|c| d.remedy > c)
                    || (current == Some(d.remedy) && until >= rec.until_ms);
                if stronger {
                    *rec = IpDecision {
                        until_ms: until,
                        id: d.id,
                        remedy: d.remedy.code(),
                    };
                }
            })?;
        // The table evicts inactive entries first: an eviction here lost an active decision only
        // when the whole bucket was active.
        Ok(info.evicted && info.is_new)
    }

    /// Applies range changes with CAS (one writer at a time normally: the poll lease holder).
    fn write_ranges<S: SharedStore + ?Sized>(
        &self,
        store: &S,
        changes: &[(&StreamDecision, bool)],
        now_ms: u64,
    ) -> Result<(usize, usize), StoreError> {
        for _ in 0..8 {
            let (mut set, cas) = match store.get(RANGES_KEY)? {
                Some((v, cas)) => (RangeSet::decode(&v), cas),
                None => (RangeSet::default(), 0),
            };
            set.ranges.retain(|r| now_ms < r.until_ms);
            let (mut applied, mut over) = (0, 0);
            for (d, is_new) in changes {
                let Target::Range(range) = d.target else {
                    continue;
                };
                if !is_new {
                    let before = set.ranges.len();
                    set.ranges.retain(|r| !(r.id == d.id && r.range == range));
                    applied += usize::from(set.ranges.len() < before);
                    continue;
                }
                let decision = RangeDecision {
                    range,
                    remedy: d.remedy,
                    until_ms: end(now_ms, d.duration_ms),
                    id: d.id,
                };
                if decision.until_ms <= now_ms {
                    continue;
                }
                if let Some(r) = set.ranges.iter_mut().find(|r| r.id == d.id) {
                    *r = decision;
                    applied += 1;
                } else if set.ranges.len() < self.max_ranges {
                    set.ranges.push(decision);
                    applied += 1;
                } else {
                    over += 1;
                }
            }
            set.over_cap = set
                .over_cap
                .saturating_add(u32::try_from(over).unwrap_or(u32::MAX));
            match store.set(RANGES_KEY, &set.encode(), cas) {
                Ok(()) => return Ok((applied, over)),
                Err(StoreError::CasMismatch) => continue,
                Err(e) => return Err(e),
            }
        }
        Err(StoreError::CasMismatch)
    }
}

/// End time of a decision with `duration_ms` left at `now_ms` (0 if already over).
fn end(now_ms: u64, duration_ms: i64) -> u64 {
    u64::try_from(duration_ms)
        .map(|d| now_ms.saturating_add(d))
        .unwrap_or(0)
}

/// Fingerprint of an address in the decision table (IPv4-mapped IPv6 as IPv4).
pub fn ip_fingerprint(addr: IpAddr) -> u64 {
    let (bits, v4) = ip_bits(addr);
    let mut key = [0u8; 18];
    key[0] = b'c';
    key[1] = u8::from(v4);
    key[2..].copy_from_slice(&bits.to_le_bytes());
    fingerprint(&key)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fleet::stream::parse_stream;
    use crate::state::MemStore;

    fn tables(buckets: u32, entries: usize, max_ranges: usize) -> DecisionTables {
        DecisionTables::new(
            TableConfig {
                buckets,
                entries_per_bucket: entries,
                max_retries: 4,
            },
            max_ranges,
        )
        .unwrap()
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    const T0: u64 = 1_800_000_000_000;

    #[test]
    fn ban_applies_until_it_expires_and_a_deleted_one_stops_at_once() {
        let store = MemStore::new();
        let t = tables(64, 4, 8);
        let b = parse_stream(
            br#"{"new":[
            {"id":1,"type":"ban","scope":"Ip","value":"203.0.113.7","duration":"10s"},
            {"id":2,"type":"captcha","scope":"Ip","value":"203.0.113.8","duration":"1h"}]}"#,
        )
        .unwrap();
        let r = t.apply(&store, &b, T0);
        assert_eq!((r.applied, r.errors.len()), (2, 0));
        assert_eq!(
            t.ip_remedy(&store, ip("203.0.113.7"), T0 + 9_999).unwrap(),
            Some(Remedy::Ban)
        );
        assert_eq!(
            t.ip_remedy(&store, ip("203.0.113.7"), T0 + 10_000).unwrap(),
            None
        );
        assert_eq!(
            t.ip_remedy(&store, ip("::ffff:203.0.113.8"), T0).unwrap(),
            Some(Remedy::Captcha)
        );
        assert_eq!(t.ip_remedy(&store, ip("203.0.113.9"), T0).unwrap(), None);
        let del = parse_stream(br#"{"deleted":[{"id":2,"type":"captcha","scope":"Ip","value":"203.0.113.8","duration":"-5ms"}]}"#).unwrap();
        t.apply(&store, &del, T0 + 1);
        assert_eq!(
            t.ip_remedy(&store, ip("203.0.113.8"), T0 + 2).unwrap(),
            None
        );
    }

    #[test]
    fn deleting_another_decision_of_the_same_address_keeps_the_stronger_one() {
        let store = MemStore::new();
        let t = tables(8, 4, 8);
        let b = parse_stream(
            br#"{"new":[
            {"id":5,"type":"ban","scope":"Ip","value":"192.0.2.1","duration":"1h"},
            {"id":6,"type":"captcha","scope":"Ip","value":"192.0.2.1","duration":"2h"}]}"#,
        )
        .unwrap();
        t.apply(&store, &b, T0);
        assert_eq!(
            t.ip_remedy(&store, ip("192.0.2.1"), T0).unwrap(),
            Some(Remedy::Ban)
        );
        let del = parse_stream(br#"{"deleted":[{"id":6,"type":"captcha","scope":"Ip","value":"192.0.2.1","duration":"-1s"}]}"#).unwrap();
        t.apply(&store, &del, T0);
        assert_eq!(
            t.ip_remedy(&store, ip("192.0.2.1"), T0).unwrap(),
            Some(Remedy::Ban)
        );
    }

    #[test]
    fn table_memory_stays_bounded_under_a_flood_of_decisions() {
        let store = MemStore::new();
        let t = tables(16, 4, 8);
        let mut body = String::from(r#"{"new":["#);
        for i in 0..2000u32 {
            if i > 0 {
                body.push(',');
            }
            body.push_str(&format!(
                r#"{{"id":{i},"type":"ban","scope":"Ip","value":"10.{}.{}.{}","duration":"1h"}}"#,
                i >> 16,
                (i >> 8) & 255,
                i & 255
            ));
        }
        body.push_str("]}");
        let r = t.apply(&store, &parse_stream(body.as_bytes()).unwrap(), T0);
        assert_eq!(r.applied, 2000);
        // 64 slots: every later decision evicted an active one, and said so.
        assert_eq!(r.evicted_active, 2000 - 64);
        assert!(
            store.value_bytes() <= t.bytes_bound(),
            "{} > {}",
            store.value_bytes(),
            t.bytes_bound()
        );
        assert_eq!(store.key_count(), 16);
    }

    #[test]
    fn ranges_are_capped_counted_lifted_and_expire() {
        let store = MemStore::new();
        let t = tables(8, 4, 2);
        let b = parse_stream(
            br#"{"new":[
            {"id":1,"type":"ban","scope":"Range","value":"198.51.100.0/24","duration":"1h"},
            {"id":2,"type":"captcha","scope":"Range","value":"2001:db8::/32","duration":"10s"},
            {"id":3,"type":"ban","scope":"Range","value":"192.0.2.0/24","duration":"1h"}]}"#,
        )
        .unwrap();
        let r = t.apply(&store, &b, T0);
        assert_eq!((r.applied, r.ranges_over_cap), (2, 1));
        let set = t.ranges(&store).unwrap();
        assert_eq!(set.over_cap, 1);
        assert_eq!(set.lookup(ip("198.51.100.9"), T0), Some(Remedy::Ban));
        assert_eq!(set.lookup(ip("2001:db8::1"), T0), Some(Remedy::Captcha));
        assert_eq!(set.lookup(ip("2001:db8::1"), T0 + 10_000), None);
        assert_eq!(set.lookup(ip("192.0.2.1"), T0), None);
        // The expired one is pruned at the next write, making room.
        let del = parse_stream(br#"{"deleted":[{"id":1,"type":"ban","scope":"Range","value":"198.51.100.0/24","duration":"-1s"}],
            "new":[{"id":3,"type":"ban","scope":"Range","value":"192.0.2.0/24","duration":"1h"}]}"#).unwrap();
        let r = t.apply(&store, &del, T0 + 20_000);
        assert_eq!((r.applied, r.ranges_over_cap), (2, 0));
        let set = t.ranges(&store).unwrap();
        assert_eq!(set.ranges.len(), 1);
        assert_eq!(set.lookup(ip("198.51.100.9"), T0 + 20_000), None);
        assert_eq!(set.lookup(ip("192.0.2.1"), T0 + 20_000), Some(Remedy::Ban));
        assert_eq!(RangeSet::decode(&set.encode()), set);
        assert_eq!(RangeSet::decode(b"\xc1garbage"), RangeSet::default());
    }
}
