//! RFC 7009 token revocation: what an answer means and when to try again.
//!
//! The request itself is built by [`crate::engine::Engine::revocation_request`]
//! (`application/x-www-form-urlencoded` `token` + `token_type_hint`, the configured client
//! authentication header). RFC 7009 §2.2: the server answers 200 whether or not the token was
//! valid; §2.2.1: 503 means "try later" (with `Retry-After`). So 2xx is done; no answer, 429 and
//! 5xx are retried with a doubling pause, at most [`MAX_ATTEMPTS`] sends; any other answer (400
//! `invalid_request`, 401 `invalid_client`: a configuration error) is final and reported.

use std::collections::VecDeque;

/// Sends of one revocation before it is given up.
pub const MAX_ATTEMPTS: u32 = 3;
/// Pause before the first retry (doubled for each later one).
pub const FIRST_RETRY_MS: u64 = 1_000;
/// Longest pause a `Retry-After` may ask for.
pub const MAX_RETRY_AFTER_MS: u64 = 30_000;

/// What an answer of the authorization server means.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Revoked (or already invalid: the same for the server).
    Done,
    /// Try again later.
    Retry,
    /// Refused for good (configuration error); report it.
    Refused,
}

/// The meaning of `status` (`None`: no answer, timeout, connection failure).
pub fn verdict(status: Option<u16>) -> Verdict {
    match status {
        Some(s) if (200..300).contains(&s) => Verdict::Done,
        None | Some(429) => Verdict::Retry,
        Some(s) if s >= 500 => Verdict::Retry,
        Some(_) => Verdict::Refused,
    }
}

/// One queued request and its history.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pending<T> {
    /// The request.
    pub request: T,
    /// Sends so far.
    pub attempts: u32,
    /// Not before this time (ms).
    pub not_before_ms: u64,
}

/// What became of an answered request, for metrics and logs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Revoked.
    Done,
    /// Queued again for a later attempt.
    WillRetry,
    /// Given up after [`MAX_ATTEMPTS`].
    GaveUp,
    /// Refused by the server.
    Refused,
}

/// A bounded per-VM queue of requests with retries.
#[derive(Debug, Clone)]
pub struct RetryQueue<T> {
    queue: VecDeque<Pending<T>>,
    capacity: usize,
}

impl<T> RetryQueue<T> {
    /// An empty queue holding at most `capacity` requests.
    pub fn new(capacity: usize) -> Self {
        RetryQueue {
            queue: VecDeque::new(),
            capacity,
        }
    }

    /// Queues a new request; `false` (dropped, count it) when full.
    pub fn push(&mut self, request: T, now_ms: u64) -> bool {
        if self.queue.len() >= self.capacity {
            return false;
        }
        self.queue.push_back(Pending {
            request,
            attempts: 0,
            not_before_ms: now_ms,
        });
        true
    }

    /// Requests waiting.
    pub fn len(&self) -> usize {
        self.queue.len()
    }

    /// Whether nothing is waiting.
    pub fn is_empty(&self) -> bool {
        self.queue.is_empty()
    }

    /// Takes the requests due at `now_ms` (their send counts already raised).
    pub fn take_due(&mut self, now_ms: u64) -> Vec<Pending<T>> {
        let mut due = Vec::new();
        let mut keep = VecDeque::with_capacity(self.queue.len());
        for mut p in self.queue.drain(..) {
            if p.not_before_ms <= now_ms {
                p.attempts += 1;
                due.push(p);
            } else {
                keep.push_back(p);
            }
        }
        self.queue = keep;
        due
    }

    /// Feeds back the answer to a request taken by [`take_due`](Self::take_due);
    /// `retry_after_s` is the server's `Retry-After`, if any.
    pub fn answered(
        &mut self,
        mut p: Pending<T>,
        status: Option<u16>,
        retry_after_s: Option<u64>,
        now_ms: u64,
    ) -> Outcome {
        match verdict(status) {
            Verdict::Done => Outcome::Done,
            Verdict::Refused => Outcome::Refused,
            Verdict::Retry if p.attempts >= MAX_ATTEMPTS => Outcome::GaveUp,
            Verdict::Retry => {
                let backoff = FIRST_RETRY_MS << (p.attempts.saturating_sub(1)).min(10);
                let asked = retry_after_s
                    .map(|s| s.saturating_mul(1000).min(MAX_RETRY_AFTER_MS))
                    .unwrap_or(0);
                p.not_before_ms = now_ms + backoff.max(asked);
                // A retry goes back even when the queue filled meanwhile: bounded by the sends
                // in flight, which were in the queue before.
                self.queue.push_back(p);
                Outcome::WillRetry
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_follow_rfc_7009() {
        assert_eq!(verdict(Some(200)), Verdict::Done);
        assert_eq!(verdict(Some(503)), Verdict::Retry);
        assert_eq!(verdict(Some(429)), Verdict::Retry);
        assert_eq!(verdict(None), Verdict::Retry);
        assert_eq!(verdict(Some(400)), Verdict::Refused);
        assert_eq!(verdict(Some(401)), Verdict::Refused);
    }

    #[test]
    fn retries_are_bounded_and_paced() {
        let mut q = RetryQueue::new(2);
        assert!(q.push("a", 0));
        assert!(q.push("b", 0));
        assert!(!q.push("c", 0), "bounded");
        let mut due = q.take_due(0);
        assert_eq!(due.len(), 2);
        let b = due.pop().unwrap();
        let a = due.pop().unwrap();
        assert_eq!(q.answered(b, Some(200), None, 0), Outcome::Done);
        assert_eq!(q.answered(a, Some(503), None, 0), Outcome::WillRetry);
        assert!(q.take_due(999).is_empty());
        let a = q.take_due(1_000).pop().unwrap();
        assert_eq!(a.attempts, 2);
        assert_eq!(q.answered(a, None, Some(5), 1_000), Outcome::WillRetry);
        assert!(q.take_due(5_999).is_empty(), "Retry-After honoured");
        let a = q.take_due(6_000).pop().unwrap();
        assert_eq!(q.answered(a, Some(502), None, 6_000), Outcome::GaveUp);
        assert!(q.is_empty());
        q.push("d", 0);
        let d = q.take_due(0).pop().unwrap();
        assert_eq!(q.answered(d, Some(401), None, 0), Outcome::Refused);
        assert!(q.is_empty());
    }
}
