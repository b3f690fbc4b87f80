//! Three-way merge of records, for per-worker state ([`super::worker`]): a worker VM counts into
//! its own copy of a record (`mine`, made from `base`, the shared value it last saw) and, on its
//! tick, folds what it added into whatever the shared value has become since (`theirs`).
//!
//! The rules, per building block:
//! - **Counters** add: the result is `theirs` plus what this worker added since `base`, so the
//!   totals after every worker has merged are exact (no lost update), window by window.
//! - **Baselines** ([`Ewma`]) are fed once per finished window by whichever worker sees the
//!   window end; if two workers fed the same window before merging, the one with more samples
//!   (then `theirs`) wins, so a window is never fed twice.
//! - **Sets** (distinct sketches, Bloom filters) are unions; **blocks** keep the later end.
//!
//! Merges are pure functions of the three records, tested here natively.

use super::record::{BlockUntil, DistinctSketch, Ewma, PrincipalRouteRecord, WindowCounter};

/// A record that several workers can update apart and merge later.
pub trait Merge: Sized {
    /// `theirs` plus what `mine` changed since `base` (`base` is `mine`'s starting point; a
    /// record absent from a bucket is its `Default`).
    fn merge(base: &Self, mine: &Self, theirs: &Self) -> Self;
}

/// `theirs + (mine - base)`, saturating: what this worker added, on top of the shared count.
pub fn add_delta(base: u32, mine: u32, theirs: u32) -> u32 {
    theirs.saturating_add(mine.saturating_sub(base))
}

/// [`add_delta`] for saturating byte cells.
pub fn add_delta_u8(base: u8, mine: u8, theirs: u8) -> u8 {
    theirs.saturating_add(mine.saturating_sub(base))
}

impl Merge for WindowCounter {
    fn merge(base: &Self, mine: &Self, theirs: &Self) -> Self {
        if mine == base {
            return *theirs;
        }
        // What this worker added: in its current sub-window, and (if it rolled since `base`) in
        // the sub-window `base` was in. Rolling keeps the previous count only when the new
        // sub-window follows `base`'s; a gap leaves `previous` at 0 (old counts are out).
        let rolled = mine.start_ms != base.start_ms;
        let (added_now, added_before) = if rolled {
            let consecutive = mine.previous >= base.current && mine.previous > 0;
            let before = if consecutive {
                mine.previous - base.current
            } else {
                0
            };
            (mine.current, before)
        } else {
            (mine.current.saturating_sub(base.current), 0)
        };
        if theirs.start_ms == mine.start_ms {
            WindowCounter {
                start_ms: mine.start_ms,
                current: theirs.current.saturating_add(added_now),
                previous: theirs.previous.saturating_add(added_before),
            }
        } else if theirs.start_ms > mine.start_ms {
            // Another worker already rolled past this worker's sub-window: what was added lands in
            // its previous one (ticks are much shorter than windows, so it is the one before).
            WindowCounter {
                current: theirs.current,
                previous: theirs.previous.saturating_add(added_now),
                ..*theirs
            }
        } else {
            // This worker rolled first: the shared record is still in an older sub-window.
            let previous = if rolled && theirs.start_ms == base.start_ms {
                if mine.previous == 0 && base.current > 0 {
                    0 // a gap: the older sub-window no longer counts
                } else {
                    theirs.current.saturating_add(added_before)
                }
            } else {
                mine.previous
            };
            WindowCounter {
                start_ms: mine.start_ms,
                current: mine.current,
                previous,
            }
        }
    }
}

impl Merge for Ewma {
    fn merge(base: &Self, mine: &Self, theirs: &Self) -> Self {
        if mine == base {
            *theirs
        } else if theirs == base {
            *mine
        } else if mine.n > theirs.n {
            // Both fed the baseline since `base` (the same finished window, seen by two workers):
            // keep one feed, never both.
            *mine
        } else {
            *theirs
        }
    }
}

impl Merge for DistinctSketch {
    fn merge(_base: &Self, mine: &Self, theirs: &Self) -> Self {
        let mut out = *theirs;
        for (o, m) in out.bits.iter_mut().zip(mine.bits.iter()) {
            *o |= m;
        }
        out
    }
}

impl Merge for BlockUntil {
    fn merge(_base: &Self, mine: &Self, theirs: &Self) -> Self {
        let (later, other) = if mine.until_ms > theirs.until_ms {
            (mine, theirs)
        } else {
            (theirs, mine)
        };
        BlockUntil {
            level: later.level.max(other.level),
            ..*later
        }
    }
}

impl Merge for PrincipalRouteRecord {
    fn merge(base: &Self, mine: &Self, theirs: &Self) -> Self {
        if mine == base {
            return *theirs;
        }
        let baseline = Ewma::merge(&base.baseline, &mine.baseline, &theirs.baseline);
        // Windows start at a record's first request, so two workers that start (or roll) one
        // apart since `base` start it at different times: those are the same window, united
        // from the earlier start. Only one side having started a window since `base` means the
        // other side's ids belong to the window that ended.
        let mine_new = mine.window_start_ms != base.window_start_ms;
        let theirs_new = theirs.window_start_ms != base.window_start_ms;
        let (objects, window_start_ms) = match (mine_new, theirs_new) {
            (false, false) => (
                DistinctSketch::merge(&base.objects, &mine.objects, &theirs.objects),
                theirs.window_start_ms,
            ),
            (true, false) => (mine.objects, mine.window_start_ms),
            (false, true) => (theirs.objects, theirs.window_start_ms),
            (true, true) => (
                DistinctSketch::merge(&base.objects, &mine.objects, &theirs.objects),
                mine.window_start_ms.min(theirs.window_start_ms),
            ),
        };
        PrincipalRouteRecord {
            objects,
            window_start_ms,
            baseline,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const W: u64 = 60_000;

    fn counted(start: &WindowCounter, at: u64, n: u32) -> WindowCounter {
        let mut c = *start;
        c.add(at, W, n);
        c
    }

    #[test]
    fn counts_added_by_two_workers_in_one_window_sum_exactly() {
        let base = counted(&WindowCounter::default(), W, 10);
        let a = counted(&base, W + 5, 7);
        let b = counted(&base, W + 9, 5);
        // Worker b merges first, then a merges into b's result.
        let shared = WindowCounter::merge(&base, &b, &base);
        let shared = WindowCounter::merge(&base, &a, &shared);
        assert_eq!(shared.current, 22);
        assert_eq!(shared.start_ms, W);
        // Nothing added: theirs is kept as is.
        assert_eq!(WindowCounter::merge(&shared, &shared, &a), a);
    }

    #[test]
    fn a_worker_that_rolled_keeps_both_windows_exact() {
        let base = counted(&WindowCounter::default(), W, 10);
        // Worker a adds 3 in the old window and 4 in the next one.
        let a = counted(&counted(&base, W + 1, 3), 2 * W + 1, 4);
        assert_eq!((a.previous, a.current), (13, 4));
        // Meanwhile worker b added 6 in the old window and merged.
        let shared = counted(&base, W + 2, 6);
        let merged = WindowCounter::merge(&base, &a, &shared);
        assert_eq!(merged.start_ms, 2 * W);
        assert_eq!((merged.previous, merged.current), (19, 4));
        // The other way round: b rolled and merged first, a still in the old window.
        let b = counted(&counted(&base, W + 1, 2), 2 * W + 3, 5);
        let shared = WindowCounter::merge(&base, &b, &base);
        let a = counted(&base, W + 7, 3);
        let merged = WindowCounter::merge(&base, &a, &shared);
        assert_eq!((merged.previous, merged.current), (15, 5));
    }

    #[test]
    fn a_gap_of_windows_does_not_resurrect_old_counts() {
        let base = counted(&WindowCounter::default(), W, 10);
        let a = counted(&base, 5 * W, 1);
        assert_eq!((a.previous, a.current), (0, 1));
        let merged = WindowCounter::merge(&base, &a, &base);
        assert_eq!(
            (merged.start_ms, merged.previous, merged.current),
            (5 * W, 0, 1)
        );
    }

    #[test]
    fn a_window_fed_by_two_workers_counts_once_in_the_baseline() {
        let mut base = Ewma::default();
        base.update(10.0, 0.1);
        let mut a = base;
        a.update(12.0, 0.1);
        let mut b = base;
        b.update(11.0, 0.1);
        let merged = Ewma::merge(&base, &a, &b);
        assert_eq!(merged.n, 2);
        assert_eq!(merged, b);
        assert_eq!(Ewma::merge(&base, &a, &base), a);
        assert_eq!(Ewma::merge(&base, &base, &b), b);
    }

    #[test]
    fn sketches_unite_and_blocks_keep_the_later_end() {
        let mut a = DistinctSketch::default();
        let mut b = DistinctSketch::default();
        (0..40u64).for_each(|i| {
            a.insert(i);
        });
        (40..80u64).for_each(|i| {
            b.insert(i);
        });
        let mut both = DistinctSketch::default();
        (0..80u64).for_each(|i| {
            both.insert(i);
        });
        assert_eq!(
            DistinctSketch::merge(&DistinctSketch::default(), &a, &b),
            both
        );

        let short = BlockUntil {
            until_ms: 100,
            reason: 1,
            level: 3,
        };
        let long = BlockUntil {
            until_ms: 900,
            reason: 2,
            level: 1,
        };
        let m = BlockUntil::merge(&BlockUntil::default(), &short, &long);
        assert_eq!((m.until_ms, m.reason, m.level), (900, 2, 3));
    }

    #[test]
    fn bola_objects_of_the_same_window_unite_and_a_newer_window_wins() {
        let mut base = PrincipalRouteRecord::default();
        base.roll_window(1_000, W);
        let mut a = base;
        (0..20u64).for_each(|i| {
            a.objects.insert(i);
        });
        let mut b = base;
        (20..40u64).for_each(|i| {
            b.objects.insert(i);
        });
        let m = PrincipalRouteRecord::merge(&base, &a, &b);
        assert!(m.objects.estimate() > 35.0, "{}", m.objects.estimate());
        let mut rolled = a;
        rolled.roll_window(1_000 + 2 * W, W);
        rolled.objects.insert(99);
        let m = PrincipalRouteRecord::merge(&base, &rolled, &b);
        assert_eq!(m.window_start_ms, 1_000 + 2 * W);
        assert!(m.objects.estimate() < 2.0);
    }

    #[test]
    fn a_bola_window_two_workers_started_apart_is_one_window() {
        // Neither worker saw the record in shared data; each started the window at its own
        // first request.
        let base = PrincipalRouteRecord::default();
        let (mut a, mut b) = (base, base);
        a.roll_window(1_050, W);
        b.roll_window(1_000, W);
        (0..10u64).for_each(|i| {
            a.objects.insert(2 * i);
            b.objects.insert(2 * i + 1);
        });
        let m = PrincipalRouteRecord::merge(&base, &a, &b);
        assert_eq!(m.window_start_ms, 1_000);
        assert!(
            (18.0..22.0).contains(&m.objects.estimate()),
            "{}",
            m.objects.estimate()
        );
        let m = PrincipalRouteRecord::merge(&base, &b, &a);
        assert_eq!(m.window_start_ms, 1_000);
        assert!((18.0..22.0).contains(&m.objects.estimate()));
    }
}
