//! The LAPI conversations as state machines with injected time: who polls (a lease in shared
//! data, since every VM ticks), when, and what a failure does; the watcher's login (JWT) and its
//! alert queue. The glue only sends what these say and feeds back the answers.

use std::collections::VecDeque;

use serde_json::json;

use crate::state::{FieldReader, FieldWriter, SharedStore, StoreError};

/// Shared-data key of the poll lease.
pub const LEASE_KEY: &str = "apiward:v1:crowdsec-lease";
const LEASE_FORMAT: u8 = 0xC2;
const LEASE_SIZE: usize = 1 + 8 + 8 + 1;

/// The poll lease: which VM polls until when, and whether the startup snapshot was taken.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Lease {
    /// Random id of the holding VM.
    pub holder: u64,
    /// The lease lapses at this time (ms) unless renewed.
    pub until_ms: u64,
    /// A `startup=true` answer was applied since the proxy started: deltas are enough.
    pub synced: bool,
}

impl Lease {
    fn encode(&self) -> Vec<u8> {
        let mut out = vec![0u8; LEASE_SIZE];
        FieldWriter::new(&mut out)
            .u8(LEASE_FORMAT)
            .u64(self.holder)
            .u64(self.until_ms)
            .u8(u8::from(self.synced));
        out
    }

    fn decode(b: &[u8]) -> Option<Lease> {
        let mut r = FieldReader::new(b);
        (b.len() == LEASE_SIZE && r.u8() == LEASE_FORMAT).then(|| Lease {
            holder: r.u64(),
            until_ms: r.u64(),
            synced: r.u8() == 1,
        })
    }
}

/// What a VM may do about polling now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Claim {
    /// This VM holds the lease: poll, with `startup=true` when `startup`.
    Poll {
        /// Ask for the full snapshot.
        startup: bool,
    },
    /// Another VM holds it.
    Held,
}

/// Takes or renews the lease for `hold_ms` if it is free, lapsed or ours (CAS: two VMs never
/// both win the same round).
pub fn claim_lease<S: SharedStore + ?Sized>(
    store: &S,
    me: u64,
    now_ms: u64,
    hold_ms: u64,
) -> Result<Claim, StoreError> {
    let (current, cas) = match store.get(LEASE_KEY)? {
        Some((v, cas)) => (Lease::decode(&v), cas),
        None => (None, 0),
    };
    if let Some(l) = current {
        if l.holder != me && now_ms < l.until_ms {
            return Ok(Claim::Held);
        }
    }
    let synced = current.is_some_and(|l| l.synced);
    let next = Lease {
        holder: me,
        until_ms: now_ms.saturating_add(hold_ms),
        synced,
    };
    match store.set(LEASE_KEY, &next.encode(), cas) {
        Ok(()) => Ok(Claim::Poll { startup: !synced }),
        Err(StoreError::CasMismatch) => Ok(Claim::Held),
        Err(e) => Err(e),
    }
}

/// Records that a startup snapshot was applied (later polls ask for deltas only).
pub fn mark_synced<S: SharedStore + ?Sized>(store: &S, me: u64) -> Result<(), StoreError> {
    for _ in 0..4 {
        let Some((v, cas)) = store.get(LEASE_KEY)? else {
            return Ok(());
        };
        let Some(mut l) = Lease::decode(&v) else {
            return Ok(());
        };
        if l.holder != me || l.synced {
            return Ok(());
        }
        l.synced = true;
        match store.set(LEASE_KEY, &l.encode(), cas) {
            Ok(()) => return Ok(()),
            Err(StoreError::CasMismatch) => continue,
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// When this VM next tries to poll, and how failures are reported.
#[derive(Debug, Clone)]
pub struct Poller {
    poll_ms: u64,
    failure_log_ms: u64,
    next_ms: u64,
    in_flight_since: Option<u64>,
    timeout_ms: u64,
    last_log_ms: Option<u64>,
    failures_since_log: u64,
}

impl Poller {
    /// A poller that tries at once.
    pub fn new(poll_ms: u64, timeout_ms: u64, failure_log_ms: u64) -> Poller {
        Poller {
            poll_ms,
            failure_log_ms,
            next_ms: 0,
            in_flight_since: None,
            timeout_ms,
            last_log_ms: None,
            failures_since_log: 0,
        }
    }

    /// How long a lease is held: past the next poll and its timeout, so that a holder that is
    /// alive keeps it and a dead one's lapses within one more period.
    pub fn hold_ms(&self) -> u64 {
        self.poll_ms + self.timeout_ms + 1000
    }

    /// Whether to try for the lease now (due and nothing in flight; a call the host never
    /// answered is given up after twice its timeout).
    pub fn due(&mut self, now_ms: u64) -> bool {
        if let Some(t) = self.in_flight_since {
            if now_ms < t.saturating_add(2 * self.timeout_ms + 1000) {
                return false;
            }
            self.in_flight_since = None;
        }
        now_ms >= self.next_ms
    }

    /// Another VM holds the lease: look again next period.
    pub fn held_elsewhere(&mut self, now_ms: u64) {
        self.next_ms = now_ms + self.poll_ms;
    }

    /// A poll was sent.
    pub fn sent(&mut self, now_ms: u64) {
        self.in_flight_since = Some(now_ms);
        self.next_ms = now_ms + self.poll_ms;
    }

    /// The poll was answered and applied.
    pub fn succeeded(&mut self, now_ms: u64) -> Option<String> {
        self.in_flight_since = None;
        let recovered = self.failures_since_log > 0 || self.last_log_ms.is_some();
        self.failures_since_log = 0;
        self.last_log_ms = None;
        recovered.then(|| format!("crowdsec: LAPI reachable again at {now_ms}"))
    }

    /// The poll failed (no answer, timeout, non-200, unreadable): a log line to write, at most
    /// one per `failure_log_ms`, saying how many failures it covers.
    pub fn failed(&mut self, now_ms: u64, why: &str) -> Option<String> {
        self.in_flight_since = None;
        self.failures_since_log += 1;
        let due = self
            .last_log_ms
            .is_none_or(|t| now_ms >= t.saturating_add(self.failure_log_ms));
        if !due {
            return None;
        }
        let n = self.failures_since_log;
        self.failures_since_log = 0;
        self.last_log_ms = Some(now_ms);
        Some(format!(
            "crowdsec: decision stream poll failed ({why}); {n} failure(s) since the last report; \
             known decisions keep applying until they expire, requests are not delayed"
        ))
    }
}

/// An alert to push: apiward blocked a client (or revoked the token it used).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AlertItem {
    /// Client address.
    pub ip: String,
    /// The signal or cause (`bola`, `model_denies`…): the scenario is `apiward/<signal>`.
    pub signal: String,
    /// How long the fleet should ban it (s).
    pub duration_s: u64,
    /// When (ms since the epoch).
    pub at_ms: u64,
    /// What apiward did (`block`, `revoke`).
    pub action: String,
    /// Sends tried so far.
    pub attempts: u32,
}

/// Largest number of alerts in one `POST /v1/alerts`.
pub const MAX_ALERTS_PER_PUSH: usize = 16;
/// Sends of one alert before it is dropped.
pub const MAX_ALERT_ATTEMPTS: u32 = 3;

/// The JSON body of `POST /v1/alerts` for `items`: one alert per item, each with one `ban`
/// decision on the `Ip` scope, origin `apiward`, scenario `apiward/<signal>`.
pub fn alerts_json(items: &[AlertItem], version: &str) -> String {
    let alerts: Vec<serde_json::Value> = items
        .iter()
        .map(|a| {
            let at = rfc3339(a.at_ms);
            let scenario = format!("apiward/{}", a.signal);
            json!({
                "scenario": scenario,
                "scenario_hash": "",
                "scenario_version": version,
                "message": format!("apiward {} {}: {}", a.action, a.ip, a.signal),
                "events_count": 1,
                "events": [],
                "start_at": at,
                "stop_at": at,
                "capacity": 0,
                "leakspeed": "0",
                "simulated": false,
                "remediation": true,
                "source": {"scope": "Ip", "value": a.ip, "ip": a.ip},
                "decisions": [{
                    "origin": "apiward",
                    "type": "ban",
                    "scope": "Ip",
                    "value": a.ip,
                    "duration": format!("{}s", a.duration_s.max(1)),
                    "scenario": scenario,
                }],
            })
        })
        .collect();
    serde_json::Value::Array(alerts).to_string()
}

/// A request the watcher wants sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WatcherCall {
    /// `POST /v1/watchers/login` with this body.
    Login(String),
    /// `POST /v1/alerts` with this bearer token and body, for this many queued alerts.
    Push {
        /// JWT.
        token: String,
        /// JSON array.
        body: String,
        /// Alerts in the body (taken from the queue until the answer).
        count: usize,
    },
}

/// What an answer did to the queue, for metrics.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PushOutcome {
    /// Alerts the LAPI accepted.
    pub sent: usize,
    /// Alerts given up (too many attempts).
    pub dropped: usize,
}

/// The watcher: its JWT and its bounded queue of alerts.
#[derive(Debug, Clone)]
pub struct Watcher {
    machine_id: String,
    password: String,
    max_pending: usize,
    token: Option<(String, u64)>,
    queue: VecDeque<AlertItem>,
    in_flight: Option<Vec<AlertItem>>,
    login_in_flight: bool,
    retry_at_ms: u64,
}

impl Watcher {
    /// A watcher with no token yet.
    pub fn new(machine_id: &str, password: &str, max_pending: usize) -> Watcher {
        Watcher {
            machine_id: machine_id.to_string(),
            password: password.to_string(),
            max_pending,
            token: None,
            queue: VecDeque::new(),
            in_flight: None,
            login_in_flight: false,
            retry_at_ms: 0,
        }
    }

    /// Queues an alert; `false` (dropped) when the queue is full.
    pub fn enqueue(&mut self, item: AlertItem) -> bool {
        if self.queue.len() >= self.max_pending {
            return false;
        }
        self.queue.push_back(item);
        true
    }

    /// Alerts waiting.
    pub fn pending(&self) -> usize {
        self.queue.len()
    }

    /// The next request to send at `now_ms`, if any: a login when there is something to push
    /// and no valid token (renewed a minute before it expires), else a push.
    pub fn next_call(&mut self, now_ms: u64, version: &str) -> Option<WatcherCall> {
        if self.queue.is_empty() || self.in_flight.is_some() || self.login_in_flight {
            return None;
        }
        if now_ms < self.retry_at_ms {
            return None;
        }
        let token = match &self.token {
            Some((t, exp)) if now_ms + 60_000 < *exp => t.clone(),
            _ => {
                self.token = None;
                self.login_in_flight = true;
                let body = json!({"machine_id": self.machine_id, "password": self.password});
                return Some(WatcherCall::Login(body.to_string()));
            }
        };
        let n = self.queue.len().min(MAX_ALERTS_PER_PUSH);
        let batch: Vec<AlertItem> = self.queue.drain(..n).collect();
        let body = alerts_json(&batch, version);
        self.in_flight = Some(batch);
        Some(WatcherCall::Push {
            token,
            body,
            count: n,
        })
    }

    /// The login's answer (`status` None: no answer). A 200 with a token is kept until its
    /// `expire` (or an hour); anything else retries after a pause.
    pub fn login_answered(
        &mut self,
        status: Option<u16>,
        body: &[u8],
        now_ms: u64,
    ) -> Result<(), String> {
        self.login_in_flight = false;
        #[derive(serde::Deserialize)]
        struct Login {
            token: String,
            expire: Option<String>,
        }
        let parsed = match status {
            Some(200) => serde_json::from_slice::<Login>(body).ok(),
            _ => None,
        };
        match parsed {
            Some(l) if !l.token.is_empty() => {
                let exp = l
                    .expire
                    .as_deref()
                    .and_then(parse_rfc3339)
                    .unwrap_or(now_ms + 3_600_000);
                self.token = Some((l.token, exp));
                Ok(())
            }
            _ => {
                self.retry_at_ms = now_ms + 5_000;
                Err(match status {
                    Some(s) => format!(
                        "crowdsec: watcher login refused (HTTP {s}): check watcher.machine_id and \
                         watcher.password (cscli machines add)"
                    ),
                    None => "crowdsec: watcher login got no answer".to_string(),
                })
            }
        }
    }

    /// The push's answer. 2xx: sent. 401/403: the token is renewed and the alerts go back to the
    /// queue. Anything else: back to the queue until [`MAX_ALERT_ATTEMPTS`], then dropped.
    pub fn push_answered(&mut self, status: Option<u16>, now_ms: u64) -> PushOutcome {
        let Some(batch) = self.in_flight.take() else {
            return PushOutcome::default();
        };
        let mut out = PushOutcome::default();
        match status {
            Some(s) if (200..300).contains(&s) => {
                out.sent = batch.len();
                return out;
            }
            Some(401) | Some(403) => self.token = None,
            _ => self.retry_at_ms = now_ms + 2_000,
        }
        for mut item in batch.into_iter().rev() {
            item.attempts += 1;
            if item.attempts >= MAX_ALERT_ATTEMPTS {
                out.dropped += 1;
            } else {
                self.queue.push_front(item);
            }
        }
        out
    }
}

fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * (m + if m > 2 { -3 } else { 9 }) + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// `2026-12-05T08:52:25Z` (UTC, seconds) of a time in ms since the epoch.
pub fn rfc3339(ms: u64) -> String {
    let secs = i64::try_from(ms / 1000).unwrap_or(0);
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        (rem / 60) % 60,
        rem % 60
    )
}

/// Milliseconds since the epoch of `YYYY-MM-DDTHH:MM:SS[.frac](Z|±HH:MM)`.
pub fn parse_rfc3339(text: &str) -> Option<u64> {
    let b = text.as_bytes();
    let num = |r: std::ops::Range<usize>| -> Option<i64> {
        std::str::from_utf8(b.get(r)?).ok()?.parse().ok()
    };
    if b.len() < 20 || b.get(4) != Some(&b'-') || !matches!(b.get(10), Some(b'T' | b't' | b' ')) {
        return None;
    }
    let (y, mo, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let (h, mi, s) = (num(11..13)?, num(14..16)?, num(17..19)?);
    let mut rest = text.get(19..)?;
    if let Some(frac) = rest.strip_prefix('.') {
        let end = frac
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(frac.len());
        rest = frac.get(end..)?;
    }
    let offset_s = match rest {
        "Z" | "z" => 0,
        _ => {
            let sign = match rest.get(..1)? {
                "+" => 1,
                "-" => -1,
                _ => return None,
            };
            let hh: i64 = rest.get(1..3)?.parse().ok()?;
            let mm: i64 = rest.get(4..6)?.parse().ok()?;
            sign * (hh * 3600 + mm * 60)
        }
    };
    let secs = days_from_civil(y, mo, d) * 86_400 + h * 3600 + mi * 60 + s - offset_s;
    u64::try_from(secs).ok().map(|s| s * 1000)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::state::MemStore;

    #[test]
    fn one_vm_at_a_time_holds_the_poll_lease() {
        let store = MemStore::new();
        let (a, b) = (11, 22);
        assert_eq!(
            claim_lease(&store, a, 1000, 5000).unwrap(),
            Claim::Poll { startup: true }
        );
        assert_eq!(claim_lease(&store, b, 2000, 5000).unwrap(), Claim::Held);
        mark_synced(&store, a).unwrap();
        assert_eq!(
            claim_lease(&store, a, 3000, 5000).unwrap(),
            Claim::Poll { startup: false }
        );
        // A holder that stops renewing loses it when it lapses; the snapshot is not taken again.
        assert_eq!(claim_lease(&store, b, 7999, 5000).unwrap(), Claim::Held);
        assert_eq!(
            claim_lease(&store, b, 8000, 5000).unwrap(),
            Claim::Poll { startup: false }
        );
        assert_eq!(claim_lease(&store, a, 9000, 5000).unwrap(), Claim::Held);
    }

    #[test]
    fn a_vm_that_loses_the_cas_race_for_a_lapsed_lease_does_not_poll() {
        let store = MemStore::new();
        assert_eq!(
            claim_lease(&store, 1, 0, 1000).unwrap(),
            Claim::Poll { startup: true }
        );
        // The lease lapsed; VM 2 reads it, VM 3 renews it in between, VM 2's write loses.
        store.interfere_after_get(|_, value| {
            value[1] = 3;
            true
        });
        assert_eq!(claim_lease(&store, 2, 5000, 1000).unwrap(), Claim::Held);
        store.stop_interfering();
        store.fail_next_sets(1);
        assert_eq!(claim_lease(&store, 2, 5000, 1000).unwrap(), Claim::Held);
    }

    #[test]
    fn poll_failures_are_logged_once_per_period_and_counted_in_the_line() {
        let mut p = Poller::new(10_000, 2_000, 60_000);
        assert!(p.due(0));
        p.sent(0);
        assert!(!p.due(5_000), "a poll is in flight");
        let first = p.failed(3_000, "no answer").unwrap();
        assert!(first.contains("1 failure(s)"), "{first}");
        assert!(!p.due(12_999) || p.due(12_999));
        for t in [13_000u64, 23_000, 33_000, 43_000, 53_000] {
            assert!(p.due(t));
            p.sent(t);
            assert_eq!(p.failed(t + 1, "HTTP 503"), None);
        }
        let later = p.failed(63_001, "HTTP 503").unwrap();
        assert!(later.contains("6 failure(s)"), "{later}");
        assert!(p.succeeded(70_000).is_some());
        assert!(
            p.failed(71_000, "x").is_some(),
            "a new outage is reported at once"
        );
    }

    #[test]
    fn a_poll_the_host_never_answers_is_given_up() {
        let mut p = Poller::new(1_000, 500, 60_000);
        p.sent(0);
        assert!(!p.due(1_999));
        assert!(p.due(2_000));
    }

    fn item(ip: &str) -> AlertItem {
        AlertItem {
            ip: ip.to_string(),
            signal: "bola".to_string(),
            duration_s: 600,
            at_ms: 1_796_460_745_000,
            action: "block".to_string(),
            attempts: 0,
        }
    }

    #[test]
    fn alert_body_has_the_fields_the_lapi_requires() {
        let body = alerts_json(&[item("192.0.2.44")], "0.1.0");
        let v: serde_json::Value = serde_json::from_str(&body).unwrap();
        let a = &v[0];
        for field in [
            "scenario",
            "scenario_hash",
            "scenario_version",
            "message",
            "events_count",
            "events",
            "start_at",
            "stop_at",
            "capacity",
            "leakspeed",
            "simulated",
            "source",
        ] {
            assert!(!a[field].is_null(), "{field} missing in {body}");
        }
        assert_eq!(a["scenario"], "apiward/bola");
        assert_eq!(a["start_at"], "2026-12-05T08:52:25Z");
        assert_eq!(a["source"]["scope"], "Ip");
        let d = &a["decisions"][0];
        assert_eq!(d["origin"], "apiward");
        assert_eq!(
            (d["type"].as_str(), d["scope"].as_str()),
            (Some("ban"), Some("Ip"))
        );
        assert_eq!(d["value"], "192.0.2.44");
        assert_eq!(d["duration"], "600s");
    }

    #[test]
    fn watcher_logs_in_pushes_renews_on_401_and_drops_after_bounded_attempts() {
        let mut w = Watcher::new("m1", "pw", 2);
        assert_eq!(w.next_call(0, "v"), None, "nothing to push, no login");
        assert!(w.enqueue(item("192.0.2.1")));
        assert!(w.enqueue(item("192.0.2.2")));
        assert!(!w.enqueue(item("192.0.2.3")), "queue bound");
        let Some(WatcherCall::Login(body)) = w.next_call(0, "v") else {
            panic!("expected a login")
        };
        assert_eq!(body, r#"{"machine_id":"m1","password":"pw"}"#);
        assert_eq!(w.next_call(1, "v"), None, "login in flight");
        w.login_answered(
            Some(200),
            br#"{"code":200,"expire":"2026-12-05T09:52:18Z","token":"jwt1"}"#,
            1_796_460_738_000,
        )
        .unwrap();
        let now = 1_796_460_740_000;
        let Some(WatcherCall::Push { token, count, .. }) = w.next_call(now, "v") else {
            panic!("expected a push")
        };
        assert_eq!((token.as_str(), count), ("jwt1", 2));
        // 401: token dropped, alerts back in the queue, a new login next.
        assert_eq!(w.push_answered(Some(401), now), PushOutcome::default());
        assert_eq!(w.pending(), 2);
        assert!(matches!(w.next_call(now, "v"), Some(WatcherCall::Login(_))));
        w.login_answered(
            Some(200),
            br#"{"token":"jwt2","expire":"2026-12-05T09:52:18Z"}"#,
            now,
        )
        .unwrap();
        assert!(matches!(
            w.next_call(now, "v"),
            Some(WatcherCall::Push { .. })
        ));
        assert_eq!(w.push_answered(None, now), PushOutcome::default());
        assert_eq!(w.next_call(now + 1_000, "v"), None, "pause after a failure");
        assert!(matches!(
            w.next_call(now + 2_000, "v"),
            Some(WatcherCall::Push { .. })
        ));
        let out = w.push_answered(Some(500), now + 2_000);
        assert_eq!(out.dropped, 2, "third attempt failed: dropped");
        assert_eq!(w.pending(), 0);
        // Renewed a minute before it expires.
        w.enqueue(item("192.0.2.9"));
        let exp = parse_rfc3339("2026-12-05T09:52:18Z").unwrap();
        assert!(matches!(
            w.next_call(exp - 61_000, "v"),
            Some(WatcherCall::Push { .. })
        ));
        assert_eq!(w.push_answered(Some(201), exp - 61_000).sent, 1);
        w.enqueue(item("192.0.2.9"));
        assert!(matches!(
            w.next_call(exp - 59_000, "v"),
            Some(WatcherCall::Login(_))
        ));
        assert!(w.login_answered(Some(401), b"{}", exp).is_err());
    }

    #[test]
    fn rfc3339_round_trips() {
        for ms in [0u64, 951_782_400_000, 1_796_460_745_000, 4_102_444_800_000] {
            assert_eq!(parse_rfc3339(&rfc3339(ms)), Some(ms));
        }
        assert_eq!(rfc3339(951_782_400_000), "2000-02-29T00:00:00Z");
        assert_eq!(
            parse_rfc3339("2026-12-05T10:52:18.5+01:00"),
            parse_rfc3339("2026-12-05T09:52:18Z")
        );
        assert_eq!(parse_rfc3339("yesterday"), None);
    }
}
