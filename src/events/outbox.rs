//! The outbox of one sink in one VM: a bounded buffer of encoded records, cut into batches by
//! count, bytes and age, one batch in flight at a time, retried with exponential backoff up to
//! a bound. Time is injected (`now_ms`), so every transition is tested natively.
//!
//! Memory: the records waiting and the batch in flight together stay within the outbox's limit
//! (`buffer.max_events` / `buffer.max_bytes`, or the VM's lease on the process-wide buffer:
//! [`super::lease`]). A record that does not fit is dropped and counted; pushing never blocks
//! and never fails the request.

use std::collections::VecDeque;

use super::lease::Amount;
use crate::config::{BatchLimits, BufferLimits, RetryPolicy};

/// Counters of one outbox since it was created (the glue turns their increase into metrics).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct OutboxStats {
    /// Events the sink accepted.
    pub emitted: u64,
    /// Events dropped: buffer full, or record larger than a batch.
    pub dropped: u64,
    /// Batch attempts after the first.
    pub retried: u64,
    /// Events lost after the last attempt, or refused by the sink.
    pub failed: u64,
}

/// A batch handed to the glue to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Batch {
    /// The request body (records concatenated).
    pub body: Vec<u8>,
    /// Events in it.
    pub events: usize,
    /// Attempt number, 1 for the first.
    pub attempt: u32,
}

#[derive(Debug)]
struct InFlight {
    records: Vec<Vec<u8>>,
    bytes: usize,
    attempt: u32,
    sent_ms: u64,
}

/// How a batch ended, as the glue saw it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Accepted; `failed` events of it were refused one by one.
    Delivered {
        /// Events refused inside an accepted batch.
        failed: u32,
    },
    /// Send again after a backoff (5xx, 429, timeout, connection failure, dispatch refused).
    Retry,
    /// Refused for good (4xx).
    Rejected,
}

/// One sink's outbox.
#[derive(Debug)]
pub struct Outbox {
    batch: BatchLimits,
    limit: Amount,
    retry: RetryPolicy,
    queue: VecDeque<Vec<u8>>,
    queued_bytes: usize,
    oldest_ms: Option<u64>,
    urgent: bool,
    in_flight: Option<InFlight>,
    not_before_ms: u64,
    stats: OutboxStats,
}

impl Outbox {
    /// An empty outbox holding at most `buffer` (queued and in flight together).
    pub fn new(batch: BatchLimits, buffer: BufferLimits, retry: RetryPolicy) -> Outbox {
        Outbox {
            batch,
            limit: buffer.into(),
            retry,
            queue: VecDeque::new(),
            queued_bytes: 0,
            oldest_ms: None,
            urgent: false,
            in_flight: None,
            not_before_ms: 0,
            stats: OutboxStats::default(),
        }
    }

    /// Counters so far.
    pub fn stats(&self) -> OutboxStats {
        self.stats
    }

    /// Records waiting (not counting the batch in flight).
    pub fn queued(&self) -> usize {
        self.queue.len()
    }

    /// Bytes waiting.
    pub fn queued_bytes(&self) -> usize {
        self.queued_bytes
    }

    /// What the outbox holds: the records waiting and the batch in flight.
    pub fn held(&self) -> Amount {
        let (n, b) = self
            .in_flight
            .as_ref()
            .map_or((0, 0), |f| (f.records.len(), f.bytes));
        Amount::new(self.queue.len() + n, self.queued_bytes + b)
    }

    /// The most it may hold from now on (its lease); what it holds already is kept.
    pub fn set_limit(&mut self, limit: Amount) {
        self.limit = limit;
    }

    /// Largest record a batch takes.
    pub fn max_record_bytes(&self) -> usize {
        self.batch.max_bytes
    }

    /// A batch is being sent.
    pub fn in_flight(&self) -> bool {
        self.in_flight.is_some()
    }

    /// Queues one record; `urgent` (an alert) makes the next [`Outbox::poll`] send without
    /// waiting for the batch to fill or age. Returns false (and counts a drop) when it does not
    /// fit.
    pub fn push(&mut self, record: Vec<u8>, urgent: bool, now_ms: u64) -> bool {
        let fits = self
            .held()
            .plus(Amount::new(1, record.len()))
            .within(self.limit)
            && record.len() <= self.batch.max_bytes;
        if !fits {
            self.stats.dropped += 1;
            return false;
        }
        self.queued_bytes += record.len();
        self.queue.push_back(record);
        self.oldest_ms.get_or_insert(now_ms);
        self.urgent |= urgent;
        true
    }

    fn backoff_ms(&self, attempt: u32) -> u64 {
        let shift = attempt.saturating_sub(1).min(20);
        self.retry
            .backoff_ms
            .saturating_mul(1 << shift)
            .min(self.retry.max_backoff_ms)
    }

    /// The batch to send now, if any: a retry whose backoff is over, or a new batch when the
    /// queue is full enough, old enough or holds an alert. At most one batch is in flight.
    pub fn poll(&mut self, now_ms: u64) -> Option<Batch> {
        if now_ms < self.not_before_ms {
            return None;
        }
        if let Some(f) = self.in_flight.as_mut() {
            // Waiting for a reply (attempt counted), or due for a retry (sent_ms = 0).
            if f.sent_ms != 0 {
                return None;
            }
            f.attempt += 1;
            f.sent_ms = now_ms.max(1);
            self.stats.retried += 1;
            return Some(Batch {
                body: f.records.concat(),
                events: f.records.len(),
                attempt: f.attempt,
            });
        }
        if self.queue.is_empty() {
            return None;
        }
        let due = self.urgent
            || self.queue.len() >= self.batch.max_events
            || self.queued_bytes >= self.batch.max_bytes
            || self
                .oldest_ms
                .is_some_and(|t| now_ms.saturating_sub(t) >= self.batch.max_age_ms);
        if !due {
            return None;
        }
        let mut records = Vec::new();
        let mut bytes = 0;
        while let Some(r) = self.queue.front() {
            if records.len() >= self.batch.max_events
                || (bytes + r.len() > self.batch.max_bytes && !records.is_empty())
            {
                break;
            }
            bytes += r.len();
            self.queued_bytes -= r.len();
            if let Some(r) = self.queue.pop_front() {
                records.push(r);
            }
        }
        if self.queue.is_empty() {
            self.oldest_ms = None;
            self.urgent = false;
        } else {
            // What is left is due as soon as this batch is done.
            self.oldest_ms = Some(0);
        }
        let batch = Batch {
            body: records.concat(),
            events: records.len(),
            attempt: 1,
        };
        self.in_flight = Some(InFlight {
            records,
            bytes,
            attempt: 1,
            sent_ms: now_ms.max(1),
        });
        Some(batch)
    }

    /// The batch in flight ended with `outcome`.
    pub fn complete(&mut self, outcome: Outcome, now_ms: u64) {
        let Some(mut f) = self.in_flight.take() else {
            return;
        };
        let n = f.records.len() as u64;
        match outcome {
            Outcome::Delivered { failed } => {
                let failed = u64::from(failed).min(n);
                self.stats.emitted += n - failed;
                self.stats.failed += failed;
            }
            Outcome::Rejected => self.stats.failed += n,
            Outcome::Retry => {
                if f.attempt >= self.retry.max_attempts {
                    self.stats.failed += n;
                } else {
                    self.not_before_ms = now_ms + self.backoff_ms(f.attempt);
                    f.sent_ms = 0;
                    self.in_flight = Some(f);
                }
            }
        }
    }

    /// A batch in flight for longer than `timeout_ms` without a reply is taken as a failed
    /// attempt (the host's own timeout should have answered first).
    pub fn expire(&mut self, now_ms: u64, timeout_ms: u64) {
        let stale = self
            .in_flight
            .as_ref()
            .is_some_and(|f| f.sent_ms != 0 && now_ms.saturating_sub(f.sent_ms) > timeout_ms);
        if stale {
            self.complete(Outcome::Retry, now_ms);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn outbox() -> Outbox {
        Outbox::new(
            BatchLimits {
                max_events: 3,
                max_bytes: 100,
                max_age_ms: 1000,
            },
            BufferLimits {
                max_events: 5,
                max_bytes: 200,
                lease_ttl_ms: 10_000,
            },
            RetryPolicy {
                max_attempts: 3,
                backoff_ms: 100,
                max_backoff_ms: 150,
            },
        )
    }

    fn rec(n: usize) -> Vec<u8> {
        vec![b'x'; n]
    }

    #[test]
    fn batches_are_cut_by_count_age_bytes_and_alerts() {
        let mut o = outbox();
        o.push(rec(10), false, 0);
        o.push(rec(10), false, 10);
        assert_eq!(o.poll(500), None, "neither full nor old");
        let b = o.poll(1000).unwrap();
        assert_eq!((b.events, b.body.len(), b.attempt), (2, 20, 1));
        assert_eq!(o.poll(1001), None, "one batch in flight at a time");
        o.complete(Outcome::Delivered { failed: 0 }, 1002);
        for t in 0..4 {
            o.push(rec(10), false, 2000 + t);
        }
        assert_eq!(o.poll(2004).unwrap().events, 3, "count");
        o.complete(Outcome::Delivered { failed: 0 }, 2005);
        assert_eq!(o.poll(2006).unwrap().events, 1, "the rest is due at once");
        o.complete(Outcome::Delivered { failed: 0 }, 2007);
        o.push(rec(60), false, 3000);
        o.push(rec(60), false, 3000);
        let b = o.poll(3000).unwrap();
        assert_eq!(b.events, 1, "bytes: the second would pass max_bytes");
        o.complete(Outcome::Delivered { failed: 0 }, 3001);
        assert_eq!(o.poll(3002).unwrap().events, 1);
        o.complete(Outcome::Delivered { failed: 0 }, 3003);
        o.push(rec(10), true, 4000);
        assert_eq!(o.poll(4000).unwrap().events, 1, "an alert goes at once");
        o.complete(Outcome::Delivered { failed: 0 }, 4001);
        assert_eq!(o.stats().emitted, 9);
    }

    #[test]
    fn a_full_buffer_drops_and_counts() {
        let mut o = outbox();
        for _ in 0..5 {
            assert!(o.push(rec(10), false, 0));
        }
        assert!(!o.push(rec(10), false, 0), "max_events");
        let mut o2 = outbox();
        assert!(o2.push(rec(100), false, 0));
        assert!(o2.push(rec(100), false, 0));
        assert!(!o2.push(rec(1), false, 0), "max_bytes");
        assert!(!o2.push(rec(101), false, 0), "larger than a batch");
        assert_eq!((o.stats().dropped, o2.stats().dropped), (1, 2));
    }

    #[test]
    fn failures_are_retried_with_bounded_backoff_then_counted() {
        let mut o = outbox();
        o.push(rec(10), true, 0);
        o.push(rec(10), true, 0);
        assert_eq!(o.poll(0).unwrap().attempt, 1);
        o.complete(Outcome::Retry, 10);
        assert_eq!(o.poll(109), None, "backoff 100 ms");
        let b = o.poll(110).unwrap();
        assert_eq!((b.attempt, b.events), (2, 2));
        o.complete(Outcome::Retry, 120);
        assert_eq!(o.poll(269), None, "doubled, capped at 150 ms");
        assert_eq!(o.poll(270).unwrap().attempt, 3);
        o.complete(Outcome::Retry, 300);
        assert!(!o.in_flight());
        let s = o.stats();
        assert_eq!((s.retried, s.failed, s.emitted), (2, 2, 0));
        // Refused batches and per-item failures are counted, not retried.
        o.push(rec(10), true, 400);
        o.poll(400);
        o.complete(Outcome::Rejected, 401);
        o.push(rec(10), true, 500);
        o.push(rec(10), true, 500);
        o.poll(500);
        o.complete(Outcome::Delivered { failed: 1 }, 501);
        let s = o.stats();
        assert_eq!((s.failed, s.emitted), (4, 1));
    }

    #[test]
    fn a_batch_without_reply_expires_into_a_retry() {
        let mut o = outbox();
        o.push(rec(10), true, 0);
        o.poll(0);
        o.expire(500, 1000);
        assert!(o.in_flight());
        assert_eq!(o.poll(600), None);
        o.expire(1002, 1000);
        assert_eq!(o.poll(1101), None, "backoff after the expiry");
        assert_eq!(o.poll(1102).unwrap().attempt, 2);
    }
}
