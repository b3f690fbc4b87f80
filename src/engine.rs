//! The request pipeline shared by the filter and the CLI: inspect → features → model → policy,
//! and with behaviour: standing → signals → model → decision → enforcement writes.

use std::cell::RefCell;
use std::fmt;

use crate::behaviour::{
    principal, Behaviour, History, RequestFacts, ResponseSignals, Signal, Standing,
};
use crate::config::{Config, ConfigError, Ladder, Mode, ModelSource, ProbeAction, Thresholds};
use crate::consensus::{self, Candidate, Consensus};
use crate::decode;
use crate::features::{self, SparseRow};
use crate::model::calibration::{self, Calibration, LocationGroup};
use crate::model::{
    MlpScorer, ModelError, ModelMetadata, Scorer, EMBEDDED_METADATA, EMBEDDED_ONNX_SHA256,
};
use crate::policy::{
    self, Action, Decision, Evidence, ModelVerdict, ProbeFinding, MAIL_CLASS, PHP_CLASS,
    PROBE_CLASS, UPLOAD_CLASS,
};
use crate::probes::{Category, ProbeMatch, Probes};
use crate::request::{InspectOptions, InspectedValue, InspectionNote, RequestView};
use crate::scorecache::ScoreCache;
use crate::state::{SharedStore, StateError};

/// Feature rows of one request.
#[derive(Debug, Clone, Default)]
pub struct Rows {
    /// The scored values, one per row.
    pub values: Vec<InspectedValue>,
    /// The features of each value.
    pub rows: Vec<SparseRow>,
    /// What could not be inspected fully.
    pub notes: Vec<InspectionNote>,
}

/// Extracts the feature rows of `view` as `apiward featurize` writes them for training. Serving
/// ([`Engine::evaluate`]) runs the same inspection and extractor on the values it scores,
/// leaving out inert values and those in the score cache.
pub fn request_rows(view: &RequestView, opts: &InspectOptions<'_>) -> Rows {
    let (values, notes) = view.inspected_values(opts);
    let rows = values.iter().map(features::extract_sparse).collect();
    Rows {
        values,
        rows,
        notes,
    }
}

/// Policy in force for one route.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RoutePolicy {
    /// Mode.
    pub mode: Mode,
    /// Thresholds.
    pub thresholds: Thresholds,
    /// Not inspected at all.
    pub skip: bool,
    /// Index of the route's ladder (see [`Engine::ladder`]).
    pub ladder: usize,
    /// Response inspection on this route.
    pub dlp: Option<crate::config::DlpConfig>,
    /// Restricted-resource probes are checked on this route.
    pub probes: bool,
}

/// Why the engine could not be built from a configuration.
#[derive(Debug)]
pub enum EngineError {
    /// A field of the configuration is invalid.
    Config(ConfigError),
    /// The model could not be loaded.
    Model(ModelError),
}

impl fmt::Display for EngineError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            EngineError::Config(e) => write!(f, "{e}"),
            EngineError::Model(e) => write!(f, "model: {e}"),
        }
    }
}

impl std::error::Error for EngineError {}

/// Result of evaluating a request.
#[derive(Debug, Clone)]
pub struct Evaluation {
    /// The decision.
    pub decision: Decision,
    /// Number of values scored by the model.
    pub rows: usize,
}

/// Result of [`Engine::screen`]: a decision when the request is to be answered before its body
/// is read (blocked client or principal, revoked token).
#[derive(Debug, Clone, Default)]
pub struct Screening {
    /// The decision, if the standing alone decides; send its local reply when `enforced`.
    pub decision: Option<Decision>,
    /// Store errors met (apply `failure_mode`, count them).
    pub errors: Vec<StateError>,
    /// The standing read (its errors are in `errors`), for [`Engine::assess_screened`].
    pub standing: Option<Standing>,
}

/// Result of [`Engine::assess`].
#[derive(Debug, Clone)]
pub struct Assessment {
    /// The decision (already enforced in shared data when `decision.enforced`: blocks and
    /// revocations are written).
    pub decision: Decision,
    /// Number of values scored by the model (0 when it did not run).
    pub rows: usize,
    /// The model ran (it does not for a request behaviour alone stops in enforce mode).
    pub model_scored: bool,
    /// The route is still warming up (learned signals suppressed).
    pub learning: bool,
    /// Store errors met (apply `failure_mode`, count them); the decision is made without the
    /// failed tables.
    pub errors: Vec<StateError>,
    /// What value consensus did, when the request's riskiest value was in its zone.
    pub consensus: Option<consensus::Outcome>,
    /// Store errors that cannot weaken the decision (the consensus table: a failure there only
    /// withholds a discount): count them, never refuse the request for them.
    pub soft_errors: Vec<StateError>,
}

/// What scoring a request gave: the verdict of its riskiest value and that value.
struct Scored {
    verdict: ModelVerdict,
    notes: Vec<InspectionNote>,
    rows: usize,
    /// The riskiest value and the share of its attack probability in consensus-exempt classes.
    riskiest: Option<(InspectedValue, f32)>,
    /// The first value a value rule matches (a line break into mail, PHP named in a value):
    /// its location and the match.
    value_rule: Option<(String, ProbeMatch<'static>)>,
}

/// An RFC 7009 token revocation request for the glue to dispatch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RevocationRequest {
    /// Envoy cluster.
    pub cluster: String,
    /// Headers, pseudo-headers first.
    pub headers: Vec<(String, String)>,
    /// `token=…&token_type_hint=access_token`.
    pub body: String,
    /// Timeout (ms).
    pub timeout_ms: u64,
}

/// Configuration plus loaded model: everything needed to decide on a request.
pub struct Engine {
    config: Config,
    scorer: Box<dyn Scorer>,
    /// Model outputs of values seen recently (per VM).
    cache: RefCell<ScoreCache>,
    model_sha256: String,
    thresholds: Thresholds,
    /// Per-location risk calibration from the model's metadata.
    calibration: Calibration,
    route_policies: Vec<RoutePolicy>,
    ladders: Vec<Ladder>,
    behaviour: Option<Behaviour>,
    /// Value consensus (with behaviour only).
    consensus: Option<Consensus>,
    /// Indexes of the consensus-exempt classes among the model's classes.
    exempt_classes: Vec<usize>,
    /// The restricted-resource rules in force.
    probes: Probes,
}

impl Engine {
    /// Loads the configured model and resolves thresholds against its calibrated defaults.
    pub fn new(config: Config) -> Result<Engine, EngineError> {
        Engine::new_timed(config, &|| None).map(|(engine, _)| engine)
    }

    /// [`Engine::new`], also telling how long the model took to load (checksum, weights, the
    /// tract graph and its probe) by `now_ns` (the host's clock in the filter): the start-up
    /// breakdown's figure (`make bench-start`). `None` where the clock cannot tell.
    pub fn new_timed(
        config: Config,
        now_ns: &dyn Fn() -> Option<u64>,
    ) -> Result<(Engine, Option<u64>), EngineError> {
        let metadata = match &config.model {
            ModelSource::Embedded => {
                ModelMetadata::from_json(EMBEDDED_METADATA).map_err(EngineError::Model)?
            }
            ModelSource::Inline { metadata, .. } => (**metadata).clone(),
        };
        let started = now_ns();
        let model_sha256 = match &config.model {
            ModelSource::Embedded => EMBEDDED_ONNX_SHA256.to_string(),
            ModelSource::Inline { onnx, .. } => crate::model::sha256_hex(onnx),
        };
        let defaults: Thresholds = metadata.thresholds.into();
        let model_error = |e: ModelError| match &config.model {
            ModelSource::Inline { .. } => {
                EngineError::Config(ConfigError::new("model", e.to_string()))
            }
            ModelSource::Embedded => EngineError::Model(e),
        };
        let calibration = metadata.calibration().map_err(model_error)?;
        let scorer = match &config.model {
            ModelSource::Embedded => MlpScorer::embedded(metadata),
            ModelSource::Inline { onnx, .. } => MlpScorer::load(onnx, metadata),
        }
        .map_err(model_error)?;
        let model_ns = started.zip(now_ns()).map(|(a, b)| b.saturating_sub(a));
        let mut engine = Engine::with_scorer(config, Box::new(scorer), defaults, model_sha256)?;
        engine.calibration = calibration;
        Ok((engine, model_ns))
    }

    /// Builds an engine around any scorer (used by tests and the CLI's `--model`).
    pub fn with_scorer(
        config: Config,
        scorer: Box<dyn Scorer>,
        model_defaults: Thresholds,
        model_sha256: String,
    ) -> Result<Engine, EngineError> {
        let thresholds = model_defaults
            .with_overrides(&config.thresholds, "thresholds")
            .map_err(EngineError::Config)?;
        let route_policies = config
            .routes
            .iter()
            .enumerate()
            .map(|(i, r)| {
                Ok(RoutePolicy {
                    mode: r.mode.unwrap_or(config.mode),
                    thresholds: thresholds
                        .with_overrides(&r.thresholds, &format!("routes[{i}].thresholds"))?,
                    skip: r.skip,
                    ladder: i + 1,
                    dlp: r.dlp,
                    probes: r.probes.unwrap_or(config.probes.enabled),
                })
            })
            .collect::<Result<_, ConfigError>>()
            .map_err(EngineError::Config)?;
        let ladders = std::iter::once(config.ladder.clone())
            .chain(
                config
                    .routes
                    .iter()
                    .map(|r| r.ladder.clone().unwrap_or_else(|| config.ladder.clone())),
            )
            .collect();
        let behaviour = if config.behaviour.enabled {
            Some(
                Behaviour::new(&config.behaviour, &config.allowlist)
                    .map_err(EngineError::Config)?,
            )
        } else {
            None
        };
        let cache = RefCell::new(ScoreCache::new(
            config.score_cache_entries,
            scorer.classes().len(),
        ));
        let exempt_classes = config
            .consensus
            .exempt_classes
            .iter()
            .enumerate()
            .map(|(i, name)| {
                if !features::CLASSES.contains(&name.as_str()) {
                    return Err(ConfigError::new(
                        format!("consensus.exempt_classes[{i}]"),
                        format!(
                            "unknown class {name:?}; the classes are {}",
                            features::CLASSES[1..].join(", ")
                        ),
                    ));
                }
                // A class this model does not have is never its verdict (its syntax markers
                // still apply).
                Ok(scorer.classes().iter().position(|c| c == name))
            })
            .collect::<Result<Vec<Option<usize>>, ConfigError>>()
            .map_err(EngineError::Config)?
            .into_iter()
            .flatten()
            .collect();
        let probes = Probes::new(&config.probes);
        let consensus = if config.consensus.enabled && behaviour.is_some() {
            Some(Consensus::new(&config.consensus).map_err(EngineError::Config)?)
        } else {
            None
        };
        Ok(Engine {
            config,
            scorer,
            cache,
            model_sha256,
            thresholds,
            calibration: Calibration::default(),
            route_policies,
            ladders,
            behaviour,
            consensus,
            exempt_classes,
            probes,
        })
    }

    /// Value consensus, when `consensus.enabled` (and behaviour is on).
    pub fn consensus(&self) -> Option<&Consensus> {
        self.consensus.as_ref()
    }

    /// The behaviour layer, when `behaviour.enabled`.
    pub fn behaviour(&self) -> Option<&Behaviour> {
        self.behaviour.as_ref()
    }

    /// The response ladder of a route.
    pub fn ladder(&self, policy: &RoutePolicy) -> &Ladder {
        self.ladders
            .get(policy.ladder)
            .unwrap_or(&self.config.ladder)
    }

    /// The validated configuration.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// sha256 of the loaded model.
    pub fn model_sha256(&self) -> &str {
        &self.model_sha256
    }

    /// Policy for a request path (raw, percent-encoded). A `skip` route, and a route's
    /// `probes: false`, are honoured only for a path without dot segments (`..;` is one), so
    /// `/health/../admin` is never skipped and `/files/../.git/config` is probed.
    pub fn route(&self, raw_path: &str) -> RoutePolicy {
        let path = decode::normalize(raw_path).text;
        let index = self
            .config
            .routes
            .iter()
            .position(|r| path.starts_with(&r.prefix));
        let mut policy = match index.and_then(|i| self.route_policies.get(i)) {
            Some(p) => *p,
            None => RoutePolicy {
                mode: self.config.mode,
                thresholds: self.thresholds,
                skip: false,
                ladder: 0,
                dlp: None,
                probes: self.config.probes.enabled,
            },
        };
        // `..;` is `..` to servers that take `;` for a path parameter (Tomcat).
        let has_dot_segment = path
            .split(['/', '\\'])
            .map(|seg| seg.split(';').next().unwrap_or(seg))
            .any(|seg| seg == ".." || seg == ".");
        if has_dot_segment {
            policy.skip = false;
            // Nor does a route's `probes: false` reach beyond the route.
            policy.probes |= self.config.probes.enabled;
        }
        policy
    }

    /// Options for [`RequestView::inspected_values`] from the configuration.
    pub fn inspect_options(&self) -> InspectOptions<'_> {
        InspectOptions {
            headers: &self.config.inspect_headers,
            other_headers: self.config.other_headers(),
            max_values: self.config.max_inspected_values,
            skip_inert: self.config.skip_inert_values,
        }
    }

    /// The restricted resource `view`'s path asks for, or else the first file it uploads that
    /// the server would run ([`crate::probes`]), when probes are on for the route. Allocates
    /// only for a match, to decode a path that has something to decode, and for a request that
    /// names files it uploads.
    pub fn probe(&self, view: &RequestView, policy: &RoutePolicy) -> Option<ProbeFinding> {
        if !policy.probes {
            return None;
        }
        let action = self.probe_action();
        if let Some(m) = self.probes.check(&view.path) {
            return Some(finding(&m, "path".to_string(), action));
        }
        if !self.config.probes.uploads {
            return None;
        }
        view.uploaded_file_names()
            .into_iter()
            .find_map(|(location, name)| {
                let m = self.probes.check_upload(&name)?;
                Some(finding(&m, location, action))
            })
    }

    /// The probe finding of a value rule: a value that breaks its line into mail (class
    /// [`MAIL_CLASS`]) or names PHP (class [`PHP_CLASS`]); [`Self::score`] looks for one only
    /// where the route has probes on.
    fn value_finding(&self, found: Option<(String, ProbeMatch<'static>)>) -> Option<ProbeFinding> {
        let (location, m) = found?;
        Some(finding(&m, location, self.probe_action()))
    }

    /// What a probe match gets (`probes.action`).
    fn probe_action(&self) -> Action {
        match self.config.probes.action {
            ProbeAction::Deny => Action::Deny,
            ProbeAction::Annotate => Action::Annotate,
        }
    }

    /// A probe stops the request under `policy` (enforce mode, `probes.action: deny`): the
    /// decision needs neither the body nor the model, so the filter makes it at the headers.
    pub fn probe_stops(&self, view: &RequestView, policy: &RoutePolicy) -> bool {
        policy.mode == Mode::Enforce
            && self.config.probes.action == ProbeAction::Deny
            && self.probe(view, policy).is_some()
    }

    /// Scores `view` and decides under `policy` with the model alone (no behaviour, no state),
    /// and the restricted-resource probes: a probe that stops the request (enforce mode, deny)
    /// decides without the model.
    pub fn evaluate(
        &self,
        view: &RequestView,
        policy: &RoutePolicy,
    ) -> Result<Evaluation, ModelError> {
        let probe = self.probe(view, policy);
        if let Some(p) = probe.as_ref().filter(|p| stops(p, policy.mode)) {
            let d = policy::decide(
                &ModelVerdict::nothing_scored(),
                &[],
                policy.thresholds,
                policy.mode,
            );
            return Ok(Evaluation {
                decision: policy::with_probe(unscored(d, stop_reason(p)), p.clone()),
                rows: 0,
            });
        }
        let s = self.score(view, policy)?;
        let d = policy::decide(&s.verdict, &s.notes, policy.thresholds, policy.mode);
        let probe = probe.or_else(|| self.value_finding(s.value_rule));
        Ok(Evaluation {
            decision: match probe {
                Some(p) => policy::with_probe(d, p),
                None => d,
            },
            rows: s.rows,
        })
    }

    /// Model verdict, inspection notes, number of scored values and riskiest value of `view`;
    /// and the first value a value rule matches ([`crate::probes::Probes::check_value`]), looked
    /// for only where `policy` has probes on.
    fn score(&self, view: &RequestView, policy: &RoutePolicy) -> Result<Scored, ModelError> {
        let (values, notes) = view.inspected_values(&self.inspect_options());
        let value_rule = values.iter().filter(|_| policy.probes).find_map(|v| {
            let m = self.probes.check_value(&v.raw)?;
            Some((v.location.to_string(), m))
        });
        let n = values.len();
        if n == 0 {
            return Ok(Scored {
                verdict: ModelVerdict::nothing_scored(),
                notes,
                rows: 0,
                riskiest: None,
                value_rule,
            });
        }
        // Values scored before come from the cache; the others are featurised and scored in
        // one run, then remembered.
        let k = self.scorer.classes().len();
        let mut probs = vec![0f32; n * k];
        let mut cache = self.cache.borrow_mut();
        let keys: Vec<u64> = values.iter().map(|v| cache.key(v)).collect();
        let misses: Vec<usize> = (0..n)
            .filter(|&i| !cache.get(keys[i], &mut probs[i * k..(i + 1) * k]))
            .collect();
        if !misses.is_empty() {
            let rows: Vec<SparseRow> = misses
                .iter()
                .map(|&i| features::extract_sparse(&values[i]))
                .collect();
            let mut scored = vec![0f32; misses.len() * k];
            self.scorer.score_into(&rows, &mut scored)?;
            for (row, &i) in scored.chunks_exact(k).zip(&misses) {
                probs[i * k..(i + 1) * k].copy_from_slice(row);
                cache.put(keys[i], row);
            }
        }
        let (verdict, best) = self.verdict(&probs, &values);
        let riskiest = best.and_then(|i| {
            let row = probs.get(i * k..(i + 1) * k)?;
            let value = values.into_iter().nth(i)?;
            Some((value, self.exempt_share(row)))
        });
        Ok(Scored {
            verdict,
            notes,
            rows: n,
            riskiest,
            value_rule,
        })
    }

    /// Share of a row's attack probability (1 − P(benign)) in consensus-exempt classes.
    fn exempt_share(&self, row: &[f32]) -> f32 {
        let benign = self.scorer.classes().iter().position(|c| c == "benign");
        let attack = 1.0 - benign.and_then(|b| row.get(b)).copied().unwrap_or(0.0);
        if attack <= f32::EPSILON {
            return 0.0;
        }
        let exempt: f32 = self.exempt_classes.iter().filter_map(|&i| row.get(i)).sum();
        (exempt / attack).clamp(0.0, 1.0)
    }

    /// What behaviour needs to know about `view`: client (from `view.client.ip`), principal
    /// (from the configured sources), route template and object, parameter shapes. Keep it for
    /// the response callbacks.
    pub fn request_facts(&self, view: &RequestView) -> RequestFacts {
        match &self.behaviour {
            Some(b) => b.facts(view, &self.config.identity),
            None => RequestFacts::from_view(view, &self.config.identity, false),
        }
    }

    /// Headers phase, read only: a decision when the client or principal is blocked or the
    /// token revoked (send its local reply when `enforced`, without waiting for the body).
    pub fn screen<S: SharedStore + ?Sized>(
        &self,
        facts: &RequestFacts,
        policy: &RoutePolicy,
        store: &S,
        now_ms: u64,
    ) -> Screening {
        let Some(b) = &self.behaviour else {
            return Screening::default();
        };
        let mut st = b.standing(store, facts, now_ms);
        let errors = std::mem::take(&mut st.errors);
        let signals: Vec<Signal> = st.blocked.iter().chain(&st.revoked).cloned().collect();
        if st.allowlisted.is_some() || signals.is_empty() {
            return Screening {
                decision: None,
                errors,
                standing: Some(st),
            };
        }
        let evidence = Evidence {
            signals: &signals,
            history: History {
                earlier_blocks: st.earlier_blocks,
                ..History::default()
            },
            allowlisted: None,
            has_principal: facts.principal.is_some(),
            ladder: self.ladder(policy),
        };
        Screening {
            decision: Some(unscored(
                policy::decide_with(
                    &ModelVerdict::nothing_scored(),
                    &[],
                    policy.thresholds,
                    policy.mode,
                    &evidence,
                ),
                BEHAVIOUR_STOP,
            )),
            errors,
            standing: Some(st),
        }
    }

    /// Model + behaviour + decision for one request at `now_ms`, and the enforcement writes
    /// (blocks, revocation, strike) in `store`. Without behaviour this is [`Engine::evaluate`].
    /// A request that behaviour alone stops in enforce mode is not scored by the model, so a
    /// flood of throttled or blocked requests costs no inference; nor is one that a
    /// restricted-resource probe denies in enforce mode, which counts for the `not_found`
    /// signal as the upstream's 404 would have.
    pub fn assess<S: SharedStore + ?Sized>(
        &self,
        view: &RequestView,
        facts: &RequestFacts,
        policy: &RoutePolicy,
        store: &S,
        now_ms: u64,
    ) -> Result<Assessment, ModelError> {
        self.assess_from(view, facts, policy, None, store, now_ms)
    }

    /// [`Engine::assess`] for a request that [`Engine::screen`] saw at its headers: its standing
    /// (blocked, revoked, allowlisted) is the one read then, not read again. A block another
    /// worker sets between the two applies from the next request.
    pub fn assess_screened<S: SharedStore + ?Sized>(
        &self,
        view: &RequestView,
        facts: &RequestFacts,
        policy: &RoutePolicy,
        standing: Standing,
        store: &S,
        now_ms: u64,
    ) -> Result<Assessment, ModelError> {
        self.assess_from(view, facts, policy, Some(standing), store, now_ms)
    }

    fn assess_from<S: SharedStore + ?Sized>(
        &self,
        view: &RequestView,
        facts: &RequestFacts,
        policy: &RoutePolicy,
        standing: Option<Standing>,
        store: &S,
        now_ms: u64,
    ) -> Result<Assessment, ModelError> {
        let Some(b) = &self.behaviour else {
            let ev = self.evaluate(view, policy)?;
            let model_scored = ev
                .decision
                .probe
                .as_ref()
                .is_none_or(|p| !stops(p, policy.mode));
            return Ok(Assessment {
                decision: ev.decision,
                rows: ev.rows,
                model_scored,
                learning: false,
                errors: Vec::new(),
                consensus: None,
                soft_errors: Vec::new(),
            });
        };
        let signals = match standing {
            Some(st) => b.on_request_from(st, store, facts, now_ms),
            None => b.on_request(store, facts, now_ms),
        };
        let evidence = Evidence {
            signals: &signals.signals,
            history: signals.history,
            allowlisted: signals.allowlisted.as_deref(),
            has_principal: facts.principal.is_some(),
            ladder: self.ladder(policy),
        };
        let (t, mode) = (policy.thresholds, policy.mode);
        let early = policy::decide_with(&ModelVerdict::nothing_scored(), &[], t, mode, &evidence);
        let probe = self.probe(view, policy);
        let mut errors = signals.errors.clone();
        let mut soft_errors = Vec::new();
        let mut outcome = None;
        let mut value_probe = None;
        let (decision, rows, scored) = if early.enforced {
            (unscored(early, BEHAVIOUR_STOP), 0, false)
        } else if let Some(p) = probe.as_ref().filter(|p| stops(p, mode)) {
            if p.class == PROBE_CLASS {
                // Answered here, a path probe never reaches the upstream, whose 404 would have
                // counted it for the `not_found` signal (scanning): it counts as one.
                let seen = b.on_response(store, facts, 404, None, now_ms);
                errors.extend(seen.errors);
            }
            (unscored(early, stop_reason(p)), 0, false)
        } else {
            let Scored {
                mut verdict,
                notes,
                rows,
                riskiest,
                value_rule: found,
            } = self.score(view, policy)?;
            value_probe = self.value_finding(found);
            // Cleared: nothing but the model finds the request suspicious.
            let cleared = evidence.signals.is_empty() && evidence.allowlisted.is_none();
            if let (Some(c), Some((value, share)), Some(location)) =
                (&self.consensus, &riskiest, &verdict.location)
            {
                let candidate = Candidate {
                    location,
                    raw: &value.raw,
                    class: &verdict.class,
                    exempt_share: *share,
                    risk: verdict.risk,
                };
                match c.assess(store, facts, &candidate, t, cleared, now_ms) {
                    Ok(o) => outcome = o,
                    Err(e) => soft_errors.push(e),
                }
            }
            let discount = match &outcome {
                Some(consensus::Outcome::Discounted(d)) => Some(d.clone()),
                _ => None,
            };
            if let Some(d) = &discount {
                verdict.risk = d.to;
            }
            if verdict.risk >= t.deny && evidence.allowlisted.is_none() {
                errors.extend(b.record_model_deny(store, facts, now_ms));
            }
            let mut d = policy::decide_with(&verdict, &notes, t, mode, &evidence);
            if let Some(discount) = discount {
                let after_model = d
                    .reasons
                    .iter()
                    .position(|r| r.starts_with("model:"))
                    .map_or(0, |i| i + 1);
                d.reasons.insert(after_model, discount.reason());
                d.consensus = Some(discount);
            }
            (d, rows, true)
        };
        let decision = match probe.or(value_probe) {
            Some(p) => policy::with_probe(decision, p),
            None => decision,
        };
        errors.extend(b.apply(store, facts, &decision, now_ms));
        Ok(Assessment {
            decision,
            rows,
            model_scored: scored,
            learning: signals.learning,
            errors,
            consensus: outcome,
            soft_errors,
        })
    }

    /// Response phase: feeds the upstream's status (401/403, 404 bursts) and, for 2xx, the
    /// body size (route baseline). Not for the filter's own local replies.
    pub fn observe_response<S: SharedStore + ?Sized>(
        &self,
        facts: &RequestFacts,
        status: u16,
        body_bytes: Option<u64>,
        store: &S,
        now_ms: u64,
    ) -> ResponseSignals {
        match &self.behaviour {
            Some(b) => b.on_response(store, facts, status, body_bytes, now_ms),
            None => ResponseSignals::default(),
        }
    }

    /// The RFC 7009 revocation request for an enforced revoke, when the route's ladder names a
    /// cluster and the request carries a credential.
    pub fn revocation_request(
        &self,
        view: &RequestView,
        policy: &RoutePolicy,
    ) -> Option<RevocationRequest> {
        let r = &self.ladder(policy).revoke;
        let cluster = r.cluster.clone()?;
        let token = principal::credential(view, &self.config.identity.principal_sources)?;
        let mut headers = vec![
            (":method".to_string(), "POST".to_string()),
            (":path".to_string(), r.path.clone()),
            (
                ":authority".to_string(),
                r.authority.clone().unwrap_or_else(|| cluster.clone()),
            ),
            (
                "content-type".to_string(),
                "application/x-www-form-urlencoded".to_string(),
            ),
        ];
        if let Some(auth) = &r.client_authorization {
            headers.push(("authorization".to_string(), auth.clone()));
        }
        Some(RevocationRequest {
            cluster,
            headers,
            body: format!("token={}&token_type_hint=access_token", form_encode(token)),
            timeout_ms: r.timeout_ms,
        })
    }

    /// The riskiest row: highest calibrated risk (1 − P(benign), less P(ssrf) where SSRF does
    /// not apply, mapped by the location's calibration), its attack class and location.
    /// Also the index of that value.
    fn verdict(&self, probs: &[f32], values: &[InspectedValue]) -> (ModelVerdict, Option<usize>) {
        let classes = self.scorer.classes();
        let k = classes.len();
        let benign = classes.iter().position(|c| c == "benign");
        let ssrf = classes.iter().position(|c| c == "ssrf");
        let mut best = ModelVerdict::nothing_scored();
        let mut index = None;
        for (i, (row, value)) in probs.chunks_exact(k).zip(values).enumerate() {
            let exempt = calibration::ssrf_exempt(&value.location);
            let (raw, class, probability) = calibration::value_risk(row, benign, ssrf, exempt);
            let risk = self
                .calibration
                .calibrate(LocationGroup::of(&value.location), raw);
            if best.location.is_some() && risk <= best.risk {
                continue;
            }
            best = ModelVerdict {
                class: classes
                    .get(class)
                    .cloned()
                    .unwrap_or_else(|| "unknown".into()),
                probability,
                risk,
                location: Some(value.location.to_string()),
            };
            index = Some(i);
        }
        (best, index)
    }
}

/// Why the model did not run, in place of "nothing to score".
const BEHAVIOUR_STOP: &str = "model not run: stopped by behaviour";
const PROBE_STOP: &str = "model not run: restricted resource";
const UPLOAD_STOP: &str = "model not run: executable upload";

/// Why the model did not run for a probe that stops the request.
fn stop_reason(p: &ProbeFinding) -> &'static str {
    if p.class == UPLOAD_CLASS {
        UPLOAD_STOP
    } else {
        PROBE_STOP
    }
}

/// A decision made without the model: its "nothing to score" reason says `why` instead.
fn unscored(mut d: Decision, why: &str) -> Decision {
    for r in d.reasons.iter_mut() {
        if r == "nothing to score" {
            *r = why.to_string();
        }
    }
    d
}

/// The probe stops the request: a deny in enforce mode.
/// The finding of probe match `m` at `location`: its class follows from its category
/// ([`PROBE_CLASS`] for a path's, [`UPLOAD_CLASS`], [`MAIL_CLASS`], [`PHP_CLASS`]).
fn finding(m: &ProbeMatch<'_>, location: String, action: Action) -> ProbeFinding {
    let class = match m.category {
        Category::Metadata
        | Category::Secret
        | Category::Backup
        | Category::Dump
        | Category::Custom => PROBE_CLASS,
        Category::Upload => UPLOAD_CLASS,
        Category::Mail => MAIL_CLASS,
        Category::Php => PHP_CLASS,
    };
    ProbeFinding {
        class,
        category: m.category.as_str(),
        rule: m.rule.to_string(),
        location,
        action,
    }
}

fn stops(p: &ProbeFinding, mode: Mode) -> bool {
    mode == Mode::Enforce && p.action.stops()
}

/// `application/x-www-form-urlencoded` encoding of bytes (RFC 7009 request body).
fn form_encode(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len());
    for &b in bytes {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}
