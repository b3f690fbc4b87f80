//! Filter metrics, defined once per VM and exported through the proxy's stats.

use super::abi::{self, MetricKind};
use crate::behaviour::{SignalKind, TABLE_NAMES};
use crate::consensus::{self, Outcome};
use crate::features::CLASSES;
use crate::policy::{Action, Decision, RULE_CLASSES};
use crate::probes::Category;
use crate::state::{StateError, WorkerStats};

/// Ids of the metrics this VM defined; a metric the host refused is `None` and skipped.
pub struct Metrics {
    requests: Option<u32>,
    skipped: Option<u32>,
    errors: Option<u32>,
    truncated: Option<u32>,
    enforced: Option<u32>,
    actions: Vec<Option<u32>>,
    classes: Vec<Option<u32>>,
    inference_us: Option<u32>,
    signals: Vec<Option<u32>>,
    state_errors: Vec<Option<u32>>,
    blocks: Option<u32>,
    revocations: Option<u32>,
    dlp: Vec<Option<u32>>,
    /// `apiward_host_calls_total{phase, call}`, phase-major as [`abi::host_calls`].
    host_calls: Vec<Option<u32>>,
    /// `apiward_worker_state_total{event}`: merged, merge_conflicts, merge_failures, lost,
    /// epoch_changes, hot_marks, hot_through.
    worker_state: Vec<Option<u32>>,
    /// `apiward_consensus_total{outcome}`, as [`CONSENSUS_OUTCOMES`].
    consensus: Vec<Option<u32>>,
    /// `apiward_probes_total{category}`, as [`Category::ALL`].
    probes: Vec<Option<u32>>,
}

/// The classes of `apiward_detections_total{class}`: the model's and the probes'
/// ([`RULE_CLASSES`]).
fn detection_classes() -> impl Iterator<Item = &'static str> {
    CLASSES.iter().copied().chain(RULE_CLASSES)
}

/// What value consensus did with a request's riskiest value, for
/// `apiward_consensus_total{outcome}`: counted, counted and discounted, or exempt (hard class).
const CONSENSUS_OUTCOMES: [&str; 3] = ["recorded", "discounted", "exempt"];

/// Shared-data tables, for `apiward_state_errors_total{table}`.
fn state_tables() -> impl Iterator<Item = &'static str> {
    TABLE_NAMES
        .iter()
        .copied()
        .chain(std::iter::once(consensus::TABLE_NAME))
}

/// Events of per-worker state, for `apiward_worker_state_total{event}`.
const WORKER_EVENTS: [&str; 7] = [
    "merged",
    "merge_conflicts",
    "merge_failures",
    "lost",
    "epoch_changes",
    "hot_marks",
    "hot_through",
];

/// Outcomes of response inspection, for `apiward_dlp_responses_total{outcome}`.
const DLP_OUTCOMES: [&str; 5] = ["clean", "annotated", "masked", "blocked", "skipped"];

fn define(kind: MetricKind, name: &str) -> Option<u32> {
    match abi::define_metric(kind, name) {
        Ok(id) => Some(id),
        Err(s) => {
            abi::log(
                abi::Level::Warn,
                &format!("apiward: metric {name} not defined (status {})", s.0),
            );
            None
        }
    }
}

fn bump(id: Option<u32>) {
    if let Some(id) = id {
        let _ = abi::increment_metric(id, 1);
    }
}

impl Metrics {
    /// Defines every metric.
    pub fn define() -> Metrics {
        Metrics {
            requests: define(MetricKind::Counter, "apiward_requests_total"),
            skipped: define(MetricKind::Counter, "apiward_requests_skipped_total"),
            errors: define(MetricKind::Counter, "apiward_errors_total"),
            truncated: define(MetricKind::Counter, "apiward_body_truncated_total"),
            enforced: define(MetricKind::Counter, "apiward_enforced_total"),
            actions: Action::ALL
                .iter()
                .map(|a| {
                    define(
                        MetricKind::Counter,
                        &format!("apiward_decisions_total.action.{}", a.as_str()),
                    )
                })
                .collect(),
            classes: detection_classes()
                .map(|c| {
                    define(
                        MetricKind::Counter,
                        &format!("apiward_detections_total.class.{c}"),
                    )
                })
                .collect(),
            inference_us: define(MetricKind::Histogram, "apiward_inference_us"),
            signals: SignalKind::ALL
                .iter()
                .map(|k| {
                    define(
                        MetricKind::Counter,
                        &format!("apiward_signals_total.signal.{}", k.as_str()),
                    )
                })
                .collect(),
            state_errors: state_tables()
                .map(|t| {
                    define(
                        MetricKind::Counter,
                        &format!("apiward_state_errors_total.table.{t}"),
                    )
                })
                .collect(),
            blocks: define(MetricKind::Counter, "apiward_blocks_imposed_total"),
            revocations: define(MetricKind::Counter, "apiward_tokens_revoked_total"),
            dlp: DLP_OUTCOMES
                .iter()
                .map(|o| {
                    define(
                        MetricKind::Counter,
                        &format!("apiward_dlp_responses_total.outcome.{o}"),
                    )
                })
                .collect(),
            host_calls: ["request", "tick"]
                .iter()
                .flat_map(|phase| {
                    abi::Call::ALL.iter().map(move |c| {
                        define(
                            MetricKind::Counter,
                            &format!("apiward_host_calls_total.phase.{phase}.call.{}", c.as_str()),
                        )
                    })
                })
                .collect(),
            worker_state: WORKER_EVENTS
                .iter()
                .map(|e| {
                    define(
                        MetricKind::Counter,
                        &format!("apiward_worker_state_total.event.{e}"),
                    )
                })
                .collect(),
            consensus: CONSENSUS_OUTCOMES
                .iter()
                .map(|o| {
                    define(
                        MetricKind::Counter,
                        &format!("apiward_consensus_total.outcome.{o}"),
                    )
                })
                .collect(),
            probes: Category::ALL
                .iter()
                .map(|c| {
                    define(
                        MetricKind::Counter,
                        &format!("apiward_probes_total.category.{}", c.as_str()),
                    )
                })
                .collect(),
        }
    }

    /// A request for a restricted resource, by category (whatever the decision: in monitor
    /// mode and under `probes.action: annotate` too).
    pub fn probe(&self, category: &str) {
        if let Some(i) = Category::ALL.iter().position(|c| c.as_str() == category) {
            bump(self.probes.get(i).copied().flatten());
        }
    }

    /// What value consensus did for a request (a discounted value was recorded too).
    pub fn consensus(&self, outcome: &Outcome) {
        let i = match outcome {
            Outcome::Recorded { .. } => 0,
            Outcome::Discounted(_) => 1,
            Outcome::Exempt(_) => 2,
        };
        if i == 1 {
            bump(self.consensus.first().copied().flatten());
        }
        bump(self.consensus.get(i).copied().flatten());
    }

    /// Adds the host calls made since `before` (both from [`abi::host_calls`]).
    pub fn host_calls(&self, before: &[[u64; 9]; 2], now: &[[u64; 9]; 2]) {
        let deltas = now
            .iter()
            .zip(before.iter())
            .flat_map(|(n, b)| n.iter().zip(b.iter()).map(|(n, b)| n.saturating_sub(*b)));
        for (id, delta) in self.host_calls.iter().zip(deltas) {
            if let (Some(id), true) = (id, delta > 0) {
                let _ = abi::increment_metric(*id, i64::try_from(delta).unwrap_or(i64::MAX));
            }
        }
    }

    /// Adds the per-worker state events since `before`.
    pub fn worker_state(&self, before: &WorkerStats, now: &WorkerStats) {
        let deltas = [
            now.merged.saturating_sub(before.merged),
            now.merge_conflicts.saturating_sub(before.merge_conflicts),
            now.merge_failures.saturating_sub(before.merge_failures),
            now.lost.saturating_sub(before.lost),
            now.epoch_changes.saturating_sub(before.epoch_changes),
            now.hot_marks.saturating_sub(before.hot_marks),
            now.hot_through.saturating_sub(before.hot_through),
        ];
        for (id, delta) in self.worker_state.iter().zip(deltas) {
            if let (Some(id), true) = (id, delta > 0) {
                let _ = abi::increment_metric(*id, i64::try_from(delta).unwrap_or(i64::MAX));
            }
        }
    }

    /// A request entered the filter.
    pub fn request(&self) {
        bump(self.requests);
    }

    /// A request was on a `skip` route.
    pub fn skipped(&self) {
        bump(self.skipped);
    }

    /// The filter failed on a request (failure mode applied).
    pub fn error(&self) {
        bump(self.errors);
    }

    /// The body was longer than `max_body_bytes`.
    pub fn truncated(&self) {
        bump(self.truncated);
    }

    /// A decision was made: its action, class, whether it was enforced, and its cost.
    pub fn decision(&self, action: Action, class: &str, enforced: bool, micros: u64) {
        if let Some(i) = Action::ALL.iter().position(|a| *a == action) {
            bump(self.actions.get(i).copied().flatten());
        }
        if action > Action::Allow {
            if let Some(i) = detection_classes().position(|c| c == class) {
                bump(self.classes.get(i).copied().flatten());
            }
        }
        if enforced {
            bump(self.enforced);
        }
        if let Some(id) = self.inference_us {
            let _ = abi::record_metric(id, micros);
        }
    }

    /// Behaviour signals raised by a request or response, once per kind.
    pub fn signals(&self, kinds: impl IntoIterator<Item = SignalKind>) {
        let mut seen: Vec<SignalKind> = Vec::new();
        for kind in kinds {
            if seen.contains(&kind) {
                continue;
            }
            seen.push(kind);
            if let Some(i) = SignalKind::ALL.iter().position(|k| *k == kind) {
                bump(self.signals.get(i).copied().flatten());
            }
        }
    }

    /// Shared-data errors, per table.
    pub fn state_errors(&self, errors: &[StateError]) {
        for e in errors {
            let table = match e {
                StateError::Contention { table, .. } | StateError::Store { table, .. } => table,
            };
            if let Some(i) = state_tables().position(|t| t == table) {
                bump(self.state_errors.get(i).copied().flatten());
            }
        }
    }

    /// Blocks and revocations an enforced decision wrote.
    pub fn enforcement(&self, decision: &Decision) {
        if !decision.enforced {
            return;
        }
        if decision.block.is_some() {
            bump(self.blocks);
        }
        if decision.revoke.is_some() {
            bump(self.revocations);
        }
    }

    /// A response inspected on a `dlp` route, by outcome.
    pub fn dlp(&self, outcome: &str) {
        if let Some(i) = DLP_OUTCOMES.iter().position(|o| *o == outcome) {
            bump(self.dlp.get(i).copied().flatten());
        }
    }
}
