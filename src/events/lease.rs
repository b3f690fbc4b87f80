//! The process-wide bound of a sink's buffer: every worker VM of the proxy holds a **lease** on
//! part of `buffer.max_events` / `buffer.max_bytes`, recorded in one shared-data key per sink,
//! and buffers only what its lease covers (the events queued and the batch in flight).
//!
//! - A VM takes quota when an event does not fit its lease: what it needs plus a quarter of what
//!   is still free (so that VMs contending for a short budget share it), in one read and one CAS
//!   write of the key; the events that fit that chunk cost no shared-data call. When the budget is short the event is dropped and counted, and
//!   the VM asks again only after its next tick (no shared-data call per dropped event).
//! - At every tick a VM renews its slot and gives back what it does not hold (keeping one chunk
//!   of headroom if it published since the last tick); the tick reads the key once and writes
//!   it only when the holding changes or half the lease time has passed; a VM that holds nothing
//!   and published nothing makes no call.
//! - A slot lapses `lease_ttl_ms` after its last renewal: a VM that dies (or stops ticking)
//!   holding quota gives it back to the others that way. A live VM that finds its slot lapsed or
//!   overwritten writes it back with what it still holds.
//!
//! Shared data has no "create if absent": two VMs creating the key at the same moment can each
//! write over the other; the loser finds its slot missing at its next tick and writes it back,
//! so the bound may be exceeded by one VM's lease for at most one tick, once per proxy start.
//!
//! Time is injected (`now_ms`) and the store is a [`SharedStore`], so every transition is
//! tested natively with several "VMs" on one [`crate::state::MemStore`].

use super::outbox::Outbox;
use crate::config::BufferLimits;
use crate::state::{FieldReader, FieldWriter, SharedStore, StoreError};

/// Shared-data key prefix of the leases of a sink (the sink's name follows).
pub const KEY_PREFIX: &str = "apiward:v1:events-buffer:";
const FORMAT: u8 = 0xE1;
const SLOT_SIZE: usize = 8 + 4 + 8 + 8;
/// Most VMs that can hold a lease on one sink at once (Envoy's `--concurrency` + the main
/// thread); a VM beyond it gets no quota and drops (counted).
pub const MAX_SLOTS: usize = 256;
/// Attempts of a read-modify-write before giving up until the next tick.
const CAS_TRIES: u32 = 4;
/// Headroom a publishing VM keeps over what it holds at a tick: 1/`HEADROOM` of each bound.
pub const HEADROOM: usize = 16;

/// An amount of buffer: events and bytes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Amount {
    /// Events (records).
    pub events: usize,
    /// Bytes.
    pub bytes: usize,
}

impl Amount {
    /// `events` and `bytes`.
    pub const fn new(events: usize, bytes: usize) -> Amount {
        Amount { events, bytes }
    }

    /// Nothing.
    pub const ZERO: Amount = Amount::new(0, 0);

    /// Both dimensions within `limit`.
    pub fn within(self, limit: Amount) -> bool {
        self.events <= limit.events && self.bytes <= limit.bytes
    }

    /// Sum, saturating.
    pub fn plus(self, o: Amount) -> Amount {
        Amount::new(
            self.events.saturating_add(o.events),
            self.bytes.saturating_add(o.bytes),
        )
    }

    /// Difference, floored at zero per dimension.
    pub fn minus(self, o: Amount) -> Amount {
        Amount::new(
            self.events.saturating_sub(o.events),
            self.bytes.saturating_sub(o.bytes),
        )
    }

    /// Per-dimension minimum.
    pub fn min(self, o: Amount) -> Amount {
        Amount::new(self.events.min(o.events), self.bytes.min(o.bytes))
    }

    /// Per-dimension maximum.
    pub fn max(self, o: Amount) -> Amount {
        Amount::new(self.events.max(o.events), self.bytes.max(o.bytes))
    }

    /// Nothing in either dimension.
    pub fn is_zero(self) -> bool {
        self.events == 0 && self.bytes == 0
    }
}

impl From<BufferLimits> for Amount {
    fn from(b: BufferLimits) -> Amount {
        Amount::new(b.max_events, b.max_bytes)
    }
}

/// One VM's slot in the shared key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Slot {
    holder: u64,
    amount: Amount,
    until_ms: u64,
}

fn encode(slots: &[Slot]) -> Vec<u8> {
    let mut out = vec![0u8; 1 + 2 + slots.len() * SLOT_SIZE];
    let mut w = FieldWriter::new(&mut out);
    w.u8(FORMAT)
        .bytes(&u16::try_from(slots.len()).unwrap_or(0).to_le_bytes());
    for s in slots {
        w.u64(s.holder)
            .u32(u32::try_from(s.amount.events).unwrap_or(u32::MAX))
            .u64(s.amount.bytes as u64)
            .u64(s.until_ms);
    }
    out
}

/// The slots of a stored value; anything malformed (another layout, a torn value) reads as no
/// slot, so the next write replaces it (the leases it held lapse with it).
fn decode(b: &[u8]) -> Vec<Slot> {
    let mut r = FieldReader::new(b);
    if b.len() < 3 || r.u8() != FORMAT {
        return Vec::new();
    }
    let n = usize::from(u16::from_le_bytes(r.array::<2>()));
    if n > MAX_SLOTS || b.len() != 3 + n * SLOT_SIZE {
        return Vec::new();
    }
    (0..n)
        .map(|_| Slot {
            holder: r.u64(),
            amount: Amount::new(
                r.u32() as usize,
                usize::try_from(r.u64()).unwrap_or(usize::MAX),
            ),
            until_ms: r.u64(),
        })
        .collect()
}

/// Counters of one lease (the glue logs or exports their increase).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LeaseStats {
    /// Writes of the key that took quota.
    pub grants: u64,
    /// Reservations refused because the budget was short.
    pub short: u64,
    /// CAS conflicts retried.
    pub conflicts: u64,
    /// Host errors of the shared-data calls.
    pub store_errors: u64,
    /// Times this VM found its slot lapsed or overwritten and wrote it back.
    pub relisted: u64,
}

/// One VM's lease on one sink's process-wide buffer.
#[derive(Debug)]
pub struct BufferLease {
    key: String,
    me: u64,
    total: Amount,
    chunk: Amount,
    ttl_ms: u64,
    granted: Amount,
    until_ms: u64,
    starved: bool,
    active: bool,
    stats: LeaseStats,
}

impl BufferLease {
    /// The lease of VM `me` on the buffer of `sink`, bounded process-wide by `total`; slots
    /// lapse `ttl_ms` after their last renewal. Holds nothing until the first reservation.
    pub fn new(sink: &str, me: u64, total: Amount, ttl_ms: u64) -> BufferLease {
        BufferLease {
            key: format!("{KEY_PREFIX}{sink}"),
            me,
            total,
            chunk: Amount::new(
                (total.events / HEADROOM).max(1),
                (total.bytes / HEADROOM).max(1),
            ),
            ttl_ms,
            granted: Amount::ZERO,
            until_ms: 0,
            starved: false,
            active: false,
            stats: LeaseStats::default(),
        }
    }

    /// The shared-data key.
    pub fn key(&self) -> &str {
        &self.key
    }

    /// What this VM may hold now.
    pub fn granted(&self) -> Amount {
        self.granted
    }

    /// Counters so far.
    pub fn stats(&self) -> LeaseStats {
        self.stats
    }

    /// Room for `need` more on top of `held` (what the VM holds now): true when the lease
    /// covers it, after taking more quota if needed. A refusal (budget short, CAS conflicts,
    /// host error) stops further shared-data calls until the next [`BufferLease::tick`].
    pub fn reserve<S: SharedStore + ?Sized>(
        &mut self,
        store: &S,
        held: Amount,
        need: Amount,
        now_ms: u64,
    ) -> bool {
        self.active = true;
        let want = held.plus(need);
        if want.within(self.granted) {
            return true;
        }
        if !need.within(self.total) {
            // Larger than the whole buffer: it can never fit.
            self.stats.short += 1;
            return false;
        }
        if self.starved {
            return false;
        }
        // What is wanted, and a quarter of what else is free.
        let grant = |free: Amount| {
            if !want.within(free) {
                // Short: take nothing more (what is held is kept by `write`).
                return Amount::ZERO;
            }
            let rest = free.minus(want);
            want.plus(Amount::new(rest.events / 4, rest.bytes / 4))
        };
        match self.write(store, held, now_ms, grant) {
            Ok(()) if want.within(self.granted) => {
                self.stats.grants += 1;
                true
            }
            Ok(()) => {
                self.stats.short += 1;
                self.starved = true;
                false
            }
            Err(_) => {
                self.starved = true;
                false
            }
        }
    }

    /// The root context's tick: renews the slot, gives back what is not held (one chunk of
    /// headroom kept if the VM published since the last tick), writes back a lapsed slot, and
    /// lets reservations call the store again.
    pub fn tick<S: SharedStore + ?Sized>(&mut self, store: &S, held: Amount, now_ms: u64) {
        self.starved = false;
        let active = std::mem::take(&mut self.active);
        let target = if active {
            self.granted.min(held.plus(self.chunk))
        } else {
            held
        };
        let target = target.max(held);
        let renew = !target.is_zero() && now_ms.saturating_add(self.ttl_ms / 2) >= self.until_ms;
        if target == self.granted && !renew && !self.slot_missing(store) {
            return;
        }
        let _ = self.write(store, held, now_ms, |free| target.min(free));
    }

    /// Gives everything back (the root context is going away).
    pub fn release<S: SharedStore + ?Sized>(&mut self, store: &S, now_ms: u64) {
        let _ = self.write(store, Amount::ZERO, now_ms, |_| Amount::ZERO);
    }

    /// This VM believes it holds quota but the key has no (or another) slot for it.
    fn slot_missing<S: SharedStore + ?Sized>(&mut self, store: &S) -> bool {
        if self.granted.is_zero() {
            return false;
        }
        match store.get(&self.key) {
            Ok(v) => {
                let slots = v.map(|(b, _)| decode(&b)).unwrap_or_default();
                !slots
                    .iter()
                    .any(|s| s.holder == self.me && s.amount == self.granted)
            }
            Err(_) => {
                self.stats.store_errors += 1;
                false
            }
        }
    }

    /// Read-modify-write of the key: lapsed slots of other VMs are dropped, `f(free)` says what
    /// this VM holds next (never less than `held`, even if that exceeds what is free: events
    /// already buffered are not thrown away; the others then find nothing free).
    fn write<S: SharedStore + ?Sized>(
        &mut self,
        store: &S,
        held: Amount,
        now_ms: u64,
        f: impl Fn(Amount) -> Amount,
    ) -> Result<(), StoreError> {
        for _ in 0..CAS_TRIES {
            let (slots, cas) = match store.get(&self.key) {
                Ok(Some((v, cas))) => (decode(&v), cas),
                Ok(None) => (Vec::new(), 0),
                Err(e) => {
                    self.stats.store_errors += 1;
                    return Err(e);
                }
            };
            let mine = slots.iter().find(|s| s.holder == self.me).copied();
            if mine.map(|s| s.amount) != Some(self.granted) && !self.granted.is_zero() {
                self.stats.relisted += 1;
            }
            let mut next: Vec<Slot> = slots
                .into_iter()
                .filter(|s| s.holder != self.me && s.until_ms > now_ms)
                .collect();
            let others = next.iter().fold(Amount::ZERO, |acc, s| acc.plus(s.amount));
            let free = self.total.minus(others);
            let mut amount = f(free).max(held);
            if !amount.is_zero() && next.len() >= MAX_SLOTS {
                amount = Amount::ZERO;
            }
            let until_ms = now_ms.saturating_add(self.ttl_ms);
            if !amount.is_zero() {
                next.push(Slot {
                    holder: self.me,
                    amount,
                    until_ms,
                });
            }
            match store.set(&self.key, &encode(&next), cas) {
                Ok(()) => {
                    self.granted = amount;
                    self.until_ms = until_ms;
                    return Ok(());
                }
                Err(StoreError::CasMismatch) => self.stats.conflicts += 1,
                Err(e) => {
                    self.stats.store_errors += 1;
                    return Err(e);
                }
            }
        }
        Err(StoreError::CasMismatch)
    }
}

/// A sink's outbox in one VM, bounded by the VM's lease on the process-wide buffer.
#[derive(Debug)]
pub struct LeasedOutbox {
    /// Batching and retries.
    pub outbox: Outbox,
    /// The VM's share of the buffer.
    pub lease: BufferLease,
}

impl LeasedOutbox {
    /// `outbox` (its own limit replaced by the lease, empty at first) under `lease`.
    pub fn new(mut outbox: Outbox, lease: BufferLease) -> LeasedOutbox {
        outbox.set_limit(lease.granted());
        LeasedOutbox { outbox, lease }
    }

    /// Queues a record if the lease covers it (taking more quota if needed); else drops and
    /// counts it.
    pub fn push<S: SharedStore + ?Sized>(
        &mut self,
        store: &S,
        record: Vec<u8>,
        urgent: bool,
        now_ms: u64,
    ) -> bool {
        let need = Amount::new(1, record.len());
        if record.len() <= self.outbox.max_record_bytes()
            && self.lease.reserve(store, self.outbox.held(), need, now_ms)
        {
            self.outbox.set_limit(self.lease.granted());
        }
        self.outbox.push(record, urgent, now_ms)
    }

    /// The tick: renew the lease and give back what the outbox no longer holds.
    pub fn tick<S: SharedStore + ?Sized>(&mut self, store: &S, now_ms: u64) {
        self.lease.tick(store, self.outbox.held(), now_ms);
        self.outbox.set_limit(self.lease.granted());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::state::MemStore;

    const TTL: u64 = 10_000;

    fn lease(me: u64, events: usize, bytes: usize) -> BufferLease {
        BufferLease::new("s", me, Amount::new(events, bytes), TTL)
    }

    /// Sum of the live slots in the store.
    fn leased(store: &MemStore, now_ms: u64) -> Amount {
        let v = store.get("apiward:v1:events-buffer:s").unwrap();
        decode(&v.map(|(b, _)| b).unwrap_or_default())
            .iter()
            .filter(|s| s.until_ms > now_ms)
            .fold(Amount::ZERO, |a, s| a.plus(s.amount))
    }

    #[test]
    fn two_vms_never_hold_more_than_the_total() {
        let store = MemStore::new();
        let (mut a, mut b) = (lease(1, 32, 1 << 20), lease(2, 32, 1 << 20));
        let one = Amount::new(1, 100);
        let (mut held_a, mut held_b) = (Amount::ZERO, Amount::ZERO);
        let mut accepted = 0;
        for i in 0..100 {
            let (l, held) = if i % 2 == 0 {
                (&mut a, &mut held_a)
            } else {
                (&mut b, &mut held_b)
            };
            if l.reserve(&store, *held, one, 0) {
                *held = held.plus(one);
                accepted += 1;
            }
            assert!(leased(&store, 0).within(Amount::new(32, 1 << 20)));
            assert!(held.within(l.granted()));
        }
        assert_eq!(accepted, 32, "the whole budget and no more");
        assert!(held_a.events > 0 && held_b.events > 0, "both VMs got some");
    }

    #[test]
    fn quota_is_taken_in_chunks_and_refusals_wait_for_the_tick() {
        let store = MemStore::new();
        let mut a = lease(1, 65, 1 << 20);
        assert!(a.reserve(&store, Amount::ZERO, Amount::new(1, 10), 0));
        assert_eq!(
            a.granted().events,
            17,
            "the one needed and a quarter of the other 64"
        );
        // The next 16 fit without a shared-data call: a store that fails every set proves it.
        store.fail_next_sets(100);
        for n in 1..17 {
            assert!(a.reserve(&store, Amount::new(n, 10 * n), Amount::new(1, 10), 1));
        }
        // The 18th needs more: the write fails (CAS conflicts), the event is refused, and so is
        // the next one without asking the store again.
        assert!(!a.reserve(&store, Amount::new(17, 170), Amount::new(1, 10), 2));
        assert_eq!(a.stats().conflicts, u64::from(CAS_TRIES));
        assert!(!a.reserve(&store, Amount::new(17, 170), Amount::new(1, 10), 3));
        assert_eq!(
            a.stats().conflicts,
            u64::from(CAS_TRIES),
            "starved until the tick"
        );
        store.fail_next_sets(0);
        a.tick(&store, Amount::new(17, 170), 200);
        assert!(a.reserve(&store, Amount::new(17, 170), Amount::new(1, 10), 201));
        assert_eq!(a.granted().events, 18 + (65 - 18) / 4);
    }

    #[test]
    fn a_record_larger_than_a_chunk_gets_what_it_needs() {
        let store = MemStore::new();
        let mut a = lease(1, 100, 16 * 1024);
        assert!(a.reserve(&store, Amount::ZERO, Amount::new(1, 5000), 0));
        assert!(a.granted().bytes >= 5000);
        assert!(
            !a.reserve(&store, Amount::ZERO, Amount::new(1, 20_000), 0),
            "over the total"
        );
    }

    #[test]
    fn ticks_give_back_what_is_not_held() {
        let store = MemStore::new();
        let (mut a, mut b) = (lease(1, 16, 1 << 20), lease(2, 16, 1 << 20));
        let mut held = Amount::ZERO;
        while a.reserve(&store, held, Amount::new(1, 1), 0) {
            held = held.plus(Amount::new(1, 1));
        }
        assert_eq!(held.events, 16);
        assert!(
            !b.reserve(&store, Amount::ZERO, Amount::new(1, 1), 0),
            "all taken"
        );
        // Delivered: A holds 2 now; it published since the last tick, so it keeps a chunk (1).
        a.tick(&store, Amount::new(2, 2), 100);
        assert_eq!(a.granted().events, 3);
        b.tick(&store, Amount::ZERO, 100);
        assert!(b.reserve(&store, Amount::ZERO, Amount::new(1, 1), 101));
        // Idle: A keeps exactly what it holds.
        a.tick(&store, Amount::new(2, 2), 200);
        a.tick(&store, Amount::new(2, 2), 300);
        assert_eq!(a.granted(), Amount::new(2, 2));
        a.tick(&store, Amount::ZERO, 400);
        assert_eq!(a.granted(), Amount::ZERO);
        assert_eq!(leased(&store, 400), b.granted());
    }

    #[test]
    fn a_dead_vms_lease_lapses_and_a_live_one_renews() {
        let store = MemStore::new();
        let (mut a, mut b) = (lease(1, 16, 1 << 20), lease(2, 16, 1 << 20));
        let mut held = Amount::ZERO;
        while a.reserve(&store, held, Amount::new(1, 1), 0) {
            held = held.plus(Amount::new(1, 1));
        }
        // B ticks along; A dies holding everything.
        for t in (1000..TTL).step_by(1000) {
            b.tick(&store, Amount::ZERO, t);
            assert!(!b.reserve(&store, Amount::ZERO, Amount::new(1, 1), t));
        }
        b.tick(&store, Amount::ZERO, TTL);
        assert!(
            b.reserve(&store, Amount::ZERO, Amount::new(1, 1), TTL),
            "A's slot lapsed"
        );
        // A live VM renews before its lease lapses, even when idle but holding events.
        let store = MemStore::new();
        let (mut a, mut b) = (lease(1, 16, 1 << 20), lease(2, 16, 1 << 20));
        assert!(a.reserve(&store, Amount::ZERO, Amount::new(16, 16), 0));
        for t in (200..3 * TTL).step_by(200) {
            a.tick(&store, Amount::new(16, 16), t);
            b.tick(&store, Amount::ZERO, t);
            assert!(!b.reserve(&store, Amount::ZERO, Amount::new(1, 1), t));
        }
    }

    #[test]
    fn a_slot_lost_in_the_creation_race_is_written_back_at_the_next_tick() {
        let store = MemStore::new();
        let (mut a, mut b) = (lease(1, 16, 1 << 20), lease(2, 16, 1 << 20));
        assert!(a.reserve(&store, Amount::ZERO, Amount::new(10, 10), 0));
        // B read "no key" before A wrote, and writes unconditionally (cas 0) after: A's slot is
        // gone.
        store
            .set("apiward:v1:events-buffer:s", &encode(&[]), 0)
            .unwrap();
        assert!(b.reserve(&store, Amount::ZERO, Amount::new(10, 10), 1));
        assert_eq!(
            leased(&store, 1),
            b.granted(),
            "for now A's are not counted"
        );
        a.tick(&store, Amount::new(10, 10), 100);
        assert_eq!(a.stats().relisted, 1);
        assert_eq!(a.granted().events, 10, "A keeps what it holds, no more");
        assert_eq!(
            leased(&store, 100).events,
            10 + b.granted().events,
            "over the total until the batches leave"
        );
        // Once the batches are delivered, what is left is under the total again.
        for t in [200, 300] {
            b.tick(&store, Amount::ZERO, t);
            a.tick(&store, Amount::ZERO, t);
        }
        assert_eq!(leased(&store, 300), Amount::ZERO);
        assert_eq!(a.stats().relisted, 1);
    }

    #[test]
    fn cas_conflicts_are_retried_and_malformed_values_replaced() {
        let store = MemStore::new();
        let mut a = lease(1, 16, 1 << 20);
        store
            .set("apiward:v1:events-buffer:s", b"\xff garbage", 0)
            .unwrap();
        assert!(a.reserve(&store, Amount::ZERO, Amount::new(1, 1), 0));
        // Another VM writes between every read and write, twice.
        let mut n = 0;
        store.interfere_after_get(move |_, _| {
            n += 1;
            n <= 2
        });
        let held = a.granted();
        assert!(a.reserve(&store, held, Amount::new(2, 2), 1));
        assert_eq!(a.stats().conflicts, 2);
        store.stop_interfering();
        a.release(&store, 2);
        assert_eq!(leased(&store, 2), Amount::ZERO);
    }

    #[test]
    fn slots_beyond_the_cap_get_nothing() {
        let store = MemStore::new();
        let full: Vec<Slot> = (0..MAX_SLOTS as u64)
            .map(|h| Slot {
                holder: h + 100,
                amount: Amount::new(1, 1),
                until_ms: TTL,
            })
            .collect();
        store
            .set("apiward:v1:events-buffer:s", &encode(&full), 0)
            .unwrap();
        let mut a = lease(1, 100_000, 1 << 24);
        assert!(!a.reserve(&store, Amount::ZERO, Amount::new(1, 1), 0));
        assert_eq!(leased(&store, 0).events, MAX_SLOTS);
        // One lapses: there is room again.
        let mut b = lease(2, 100_000, 1 << 24);
        let mut full = full;
        full[0].until_ms = 0;
        store
            .set("apiward:v1:events-buffer:s", &encode(&full), 0)
            .unwrap();
        assert!(b.reserve(&store, Amount::ZERO, Amount::new(1, 1), 1));
    }

    fn vm(me: u64, max_events: usize) -> LeasedOutbox {
        use crate::config::{BatchLimits, RetryPolicy};
        let buffer = BufferLimits {
            max_events,
            max_bytes: 1 << 20,
            lease_ttl_ms: TTL,
        };
        LeasedOutbox::new(
            Outbox::new(
                BatchLimits {
                    max_events: 100,
                    max_bytes: 64 * 1024,
                    max_age_ms: 1000,
                },
                buffer,
                RetryPolicy {
                    max_attempts: 2,
                    backoff_ms: 100,
                    max_backoff_ms: 100,
                },
            ),
            BufferLease::new("s", me, buffer.into(), buffer.lease_ttl_ms),
        )
    }

    #[test]
    fn the_buffer_bound_holds_across_vms_with_batches_in_flight() {
        use super::super::outbox::Outcome;
        let store = MemStore::new();
        let mut vms = [vm(1, 5), vm(2, 5)];
        // A sink that never answers: everything pushed stays held (queued or in flight).
        let mut accepted = 0;
        for i in 0..40u64 {
            let v = &mut vms[(i % 2) as usize];
            accepted += usize::from(v.push(&store, vec![b'x'; 50], true, i));
            v.outbox.poll(i);
            if i % 10 == 9 {
                for v in vms.iter_mut() {
                    v.tick(&store, i);
                }
            }
            let held = vms[0].outbox.held().plus(vms[1].outbox.held());
            assert!(held.events <= 5, "{held:?} at {i}");
        }
        assert_eq!(accepted, 5);
        let dropped: u64 = vms.iter().map(|v| v.outbox.stats().dropped).sum();
        assert_eq!(dropped, 35, "every refusal counted");
        // Delivered: the quota comes back at the tick and the other VM can use it.
        for v in vms.iter_mut() {
            v.outbox.complete(Outcome::Delivered { failed: 0 }, 50);
            while v.outbox.poll(51).is_some() {
                v.outbox.complete(Outcome::Delivered { failed: 0 }, 51);
            }
        }
        for t in [100, 200] {
            for v in vms.iter_mut() {
                v.tick(&store, t);
            }
        }
        assert_eq!(leased(&store, 200), Amount::ZERO);
        let mut accepted = 0;
        for i in 0..5 {
            accepted += usize::from(vms[1].push(&store, vec![b'x'; 50], false, 300 + i));
        }
        assert_eq!(
            accepted, 5,
            "the whole buffer for the one VM that publishes"
        );
    }

    #[test]
    fn a_vm_that_dies_holding_the_buffer_frees_it_when_its_lease_lapses() {
        let store = MemStore::new();
        let mut a = vm(1, 5);
        let mut b = vm(2, 5);
        for i in 0..5 {
            assert!(a.push(&store, vec![b'x'; 10], false, i));
        }
        drop(a);
        let mut t = 200;
        while t < TTL {
            b.tick(&store, t);
            assert!(!b.push(&store, vec![b'x'; 10], false, t + 1));
            t += 200;
        }
        // A's last write was at 4 ms: its slot lapses at TTL + 4.
        let t = TTL + 200;
        b.tick(&store, t);
        assert!(b.push(&store, vec![b'x'; 10], false, t + 1));
    }
}
