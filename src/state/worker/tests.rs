//! Two "workers" (two [`WorkerStore`]s) over one [`MemStore`], as two VMs over Envoy's shared
//! data.

use super::*;
use crate::state::record::{BlockUntil, WindowCounter};
use crate::state::{MemStore, Table, TableConfig};

const W: u64 = 60_000;

fn counts() -> Table<WindowCounter> {
    Table::new(
        "counts",
        TableConfig {
            buckets: 4,
            entries_per_bucket: 4,
            max_retries: 4,
        },
    )
    .unwrap()
}

fn blocks() -> Table<BlockUntil> {
    Table::new("blocks", TableConfig::default()).unwrap()
}

fn worker(shared: &MemStore, max_keys: usize) -> WorkerStore<&MemStore> {
    let counts = counts();
    WorkerStore::new(
        shared,
        WorkerConfig {
            sync_ms: 100,
            max_keys,
            ..WorkerConfig::default()
        },
        vec![(counts.key_prefix().to_owned(), counts.merger())],
        vec![blocks().key_prefix().to_owned()],
    )
}

fn add(store: &impl SharedStore, fp: u64, now: u64) -> WindowCounter {
    counts()
        .update(store, fp, now, |c, _| {
            c.add(now, W, 1);
            *c
        })
        .unwrap()
        .0
}

#[test]
fn counts_of_two_workers_are_exact_once_both_have_merged() {
    let shared = MemStore::new();
    let (a, b) = (worker(&shared, 64), worker(&shared, 64));
    let now = 10 * W + 5;
    for i in 0..30u64 {
        add(&a, 7, now + i);
        add(&b, 7, now + i);
        add(if i % 3 == 0 { &a } else { &b }, 8 + i % 5, now + i);
    }
    // Nothing reached shared data yet; each worker sees its own counts.
    assert_eq!(shared.key_count(), 0);
    assert_eq!(counts().read(&a, 7).unwrap().unwrap().current, 30);
    let hits_before = a.stats().host_gets;
    add(&a, 7, now + 40);
    assert_eq!(
        a.stats().host_gets,
        hits_before,
        "a cached bucket costs no host call"
    );

    assert!(a.pending() > 0);
    assert_eq!(
        a.sync(now + 100).merged,
        4,
        "buckets of fps 7..12 a changed"
    );
    assert_eq!(a.pending(), 0);
    b.sync(now + 100);
    let total = counts().read(&shared, 7).unwrap().unwrap();
    assert_eq!(total.current, 61);
    let others: u32 = (8..13u64)
        .map(|fp| counts().read(&shared, fp).unwrap().unwrap().current)
        .sum();
    assert_eq!(others, 30);
    // After a's next merge it sees b's counts too.
    add(&a, 7, now + 150);
    a.sync(now + 200);
    assert_eq!(counts().read(&a, 7).unwrap().unwrap().current, 62);
    assert_eq!(counts().read(&shared, 7).unwrap().unwrap().current, 62);
}

#[test]
fn merges_retry_on_conflicts_and_lose_nothing() {
    let shared = MemStore::new();
    let now = 3 * W;
    for i in 0..5 {
        add(&shared, 1, now + i);
    }
    let a = worker(&shared, 64);
    for i in 0..10 {
        add(&a, 1, now + i);
    }
    // Another worker counts one request into the bucket between a's read and its write, three
    // times in a row.
    let mut left = 3;
    shared.interfere_after_get(move |key, v| {
        if left == 0 || !key.starts_with(counts().key_prefix()) {
            return false;
        }
        left -= 1;
        let scratch = MemStore::new();
        scratch.set(key, v, 0).unwrap();
        add(&scratch, 1, now + 50);
        *v = scratch.get(key).unwrap().unwrap().0;
        true
    });
    let report = a.sync(now + 100);
    shared.stop_interfering();
    assert_eq!(report.merged, 1, "{report:?}");
    assert_eq!(a.stats().merge_conflicts, 3);
    assert_eq!(
        counts().read(&shared, 1).unwrap().unwrap().current,
        5 + 3 + 10
    );
}

#[test]
fn a_block_written_by_one_worker_is_seen_by_the_other_on_its_next_request() {
    let shared = MemStore::new();
    let (a, b) = (worker(&shared, 64), worker(&shared, 64));
    let now = 5 * W;
    b.begin_request(now);
    assert!(blocks().read(&b, 42).unwrap().is_none());
    let gets = b.stats().host_gets;
    b.begin_request(now + 1);
    assert!(blocks().read(&b, 42).unwrap().is_none());
    assert_eq!(
        b.stats().host_gets,
        gets + 1,
        "an unchanged epoch: one read for the epoch, the block list from the VM"
    );
    a.begin_request(now + 2);
    blocks()
        .update(&a, 42, now + 2, |r, _| {
            r.impose(now + 2, now + 60_000, 1, 1)
        })
        .unwrap();
    // No merge, no tick: the block is in shared data and the epoch moved.
    b.begin_request(now + 3);
    let seen = blocks()
        .read(&b, 42)
        .unwrap()
        .expect("block visible to the other worker");
    assert!(seen.is_active(now + 3));
    assert_eq!(b.stats().epoch_changes, 1);
}

#[test]
fn memory_stays_bounded_and_evicted_counts_are_merged_first() {
    let shared = MemStore::new();
    let big = Table::<WindowCounter>::new(
        "counts",
        TableConfig {
            buckets: 1000,
            entries_per_bucket: 2,
            max_retries: 4,
        },
    )
    .unwrap();
    let a = WorkerStore::new(
        &shared,
        WorkerConfig {
            sync_ms: 100,
            max_keys: 16,
            ..WorkerConfig::default()
        },
        vec![(big.key_prefix().to_owned(), big.merger())],
        vec![],
    );
    let now = 7 * W;
    for fp in 0..500u64 {
        big.update(&a, fp, now, |c, _| c.add(now, W, 1)).unwrap();
        assert!(a.held() <= 16);
    }
    a.sync(now + 1);
    let total: u32 = (0..500u64)
        .filter_map(|fp| big.read(&shared, fp).unwrap())
        .map(|c| c.current)
        .sum();
    assert_eq!(total, 500, "every count reached shared data");
    assert_eq!(a.stats().lost, 0);
}

#[test]
fn copies_not_changed_since_the_last_merge_are_dropped_and_read_again() {
    let shared = MemStore::new();
    let (a, b) = (worker(&shared, 64), worker(&shared, 64));
    let now = 9 * W;
    add(&a, 3, now);
    a.sync(now + 100);
    add(&b, 3, now + 101);
    b.sync(now + 200);
    // a did not count into bucket 3 since its merge: the copy is dropped at the next one...
    a.sync(now + 300);
    assert_eq!(a.held(), 0);
    // ...and the next read sees b's count.
    assert_eq!(counts().read(&a, 3).unwrap().unwrap().current, 2);
}

#[test]
fn sync_ms_zero_writes_through() {
    let shared = MemStore::new();
    let counts = counts();
    let a = WorkerStore::new(
        &shared,
        WorkerConfig {
            sync_ms: 0,
            max_keys: 16,
            ..WorkerConfig::default()
        },
        vec![(counts.key_prefix().to_owned(), counts.merger())],
        vec![],
    );
    add(&a, 1, W);
    assert_eq!(counts.read(&shared, 1).unwrap().unwrap().current, 1);
    assert_eq!(a.held(), 0);
}

#[test]
fn a_hot_bucket_is_counted_through_on_every_worker_without_waiting_for_a_merge() {
    let shared = MemStore::new();
    let (a, b) = (worker(&shared, 64), worker(&shared, 64));
    let now = 10 * W + 5;
    let key = counts().bucket_key(counts().bucket_of(7));
    for i in 0..10u64 {
        let w = if i % 2 == 0 { &a } else { &b };
        w.begin_request(now + i);
        add(w, 7, now + i);
    }
    assert_eq!(shared.key_count(), 0, "cold buckets wait for the tick");
    // a finds the bucket near a limit: its 5 pending counts are published with the mark.
    a.begin_request(now + 20);
    counts().mark_hot(&a, 7);
    assert_eq!(counts().read(&shared, 7).unwrap().unwrap().current, 5);
    assert_eq!(a.stats().hot_marks, 1);
    // b learns of the mark from the epoch read at its next request and folds its 5 in.
    b.begin_request(now + 21);
    assert_eq!(add(&b, 7, now + 21).current, 11);
    a.begin_request(now + 22);
    assert_eq!(add(&a, 7, now + 22).current, 12);
    assert_eq!(counts().read(&shared, 7).unwrap().unwrap().current, 12);
    // Through: one get and one CAS set per count, no merge pending.
    let (gets, sets) = (a.stats().host_gets, a.stats().host_sets);
    a.begin_request(now + 23);
    add(&a, 7, now + 23);
    assert_eq!(
        (a.stats().host_gets - gets, a.stats().host_sets - sets),
        (2, 1)
    );
    // 13 so far.
    assert_eq!(a.pending(), 0);
    assert_eq!(b.pending(), 0);
    // Another worker writes between a's read and a's write: a's CAS set fails and the update
    // reads again, so the count a acts on is exact (15: 13, the other worker's and its own).
    let current = shared.get(&key).unwrap().unwrap().0;
    let scratch = MemStore::new();
    scratch.set(&key, &current, 0).unwrap();
    add(&scratch, 7, now + 23);
    let mut theirs = scratch.get(&key).unwrap().map(|(v, _)| v);
    let hooked = key.clone();
    a.begin_request(now + 23);
    shared.interfere_after_get(move |k, v| match (k == hooked, theirs.take()) {
        (true, Some(t)) => {
            *v = t;
            true
        }
        (_, t) => {
            theirs = t;
            false
        }
    });
    assert_eq!(add(&a, 7, now + 23).current, 15);
    shared.stop_interfering();
    assert_eq!(counts().read(&shared, 7).unwrap().unwrap().current, 15);
    // Another bucket stays local; the mark lapses after HOT_TTL_MS.
    a.begin_request(now + 24);
    add(&a, 9, now + 24);
    assert_eq!(a.pending(), 1);
    let later = now + 22 + HOT_TTL_MS + 1;
    a.begin_request(later);
    add(&a, 7, later);
    assert_eq!(counts().read(&shared, 7).unwrap().unwrap().current, 15);
    assert!(a.pending() >= 1, "{key} is deferred again");
}

#[test]
fn hot_marks_are_bounded_and_keep_the_block_epoch() {
    let shared = MemStore::new();
    let a = WorkerStore::new(
        &shared,
        WorkerConfig {
            hot_keys: 4,
            ..WorkerConfig::default()
        },
        vec![(counts().key_prefix().to_owned(), counts().merger())],
        vec![blocks().key_prefix().to_owned()],
    );
    let now = 10 * W;
    a.begin_request(now);
    blocks()
        .update(&a, 1, now, |b, _| {
            *b = BlockUntil {
                until_ms: now + W,
                ..*b
            };
        })
        .unwrap();
    for fp in 0..20u64 {
        a.begin_request(now + fp);
        a.mark_hot(&format!("{}{fp}", counts().key_prefix()));
    }
    let (epoch, hot) = parse_epoch(&shared.get(EPOCH_KEY).unwrap().unwrap().0);
    assert_eq!(epoch, 1, "marks do not move the block epoch");
    assert_eq!(hot.len(), 4);
    assert!(hot.iter().all(|&(_, until)| until > now + HOT_TTL_MS));
    // Keys outside the deferred tables are never marked.
    let before = a.stats().hot_marks;
    a.mark_hot("apiward:v1:other:1");
    assert_eq!(a.stats().hot_marks, before);
}
