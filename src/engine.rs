//! The request pipeline shared by the filter and the CLI: inspect → features → model → policy.

use std::fmt;

use crate::config::{Config, ConfigError, Mode, ModelSource, Thresholds};
use crate::decode;
use crate::features::{self, FEATURE_DIM};
use crate::model::{
    ModelError, ModelMetadata, Scorer, TractScorer, EMBEDDED_METADATA, EMBEDDED_ONNX,
};
use crate::policy::{self, Decision, ModelVerdict};
use crate::request::{InspectOptions, InspectedValue, InspectionNote, RequestView};

/// Feature rows of one request.
#[derive(Debug, Clone, Default)]
pub struct Rows {
    /// The scored values, one per row.
    pub values: Vec<InspectedValue>,
    /// Row-major `values.len() × FEATURE_DIM`.
    pub data: Vec<f32>,
    /// What could not be inspected fully.
    pub notes: Vec<InspectionNote>,
}

/// Extracts the feature rows of `view`: the single code path for training and serving.
pub fn request_rows(view: &RequestView, opts: &InspectOptions<'_>) -> Rows {
    let (values, notes) = view.inspected_values(opts);
    let mut data = vec![0.0f32; values.len() * FEATURE_DIM];
    for (value, row) in values.iter().zip(data.chunks_exact_mut(FEATURE_DIM)) {
        features::extract(value, row);
    }
    Rows {
        values,
        data,
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

/// Configuration plus loaded model: everything needed to decide on a request.
pub struct Engine {
    config: Config,
    scorer: Box<dyn Scorer>,
    model_sha256: String,
    thresholds: Thresholds,
    route_policies: Vec<RoutePolicy>,
}

impl Engine {
    /// Loads the configured model and resolves thresholds against its calibrated defaults.
    pub fn new(config: Config) -> Result<Engine, EngineError> {
        let (onnx, metadata): (&[u8], ModelMetadata) = match &config.model {
            ModelSource::Embedded => (
                EMBEDDED_ONNX,
                ModelMetadata::from_json(EMBEDDED_METADATA).map_err(EngineError::Model)?,
            ),
            ModelSource::Inline { onnx, metadata } => (onnx.as_slice(), (**metadata).clone()),
        };
        let model_sha256 = crate::model::sha256_hex(onnx);
        let defaults: Thresholds = metadata.thresholds.into();
        let scorer = TractScorer::load(onnx, metadata).map_err(|e| match &config.model {
            ModelSource::Inline { .. } => {
                EngineError::Config(ConfigError::new("model", e.to_string()))
            }
            ModelSource::Embedded => EngineError::Model(e),
        })?;
        Engine::with_scorer(config, Box::new(scorer), defaults, model_sha256)
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
                })
            })
            .collect::<Result<_, ConfigError>>()
            .map_err(EngineError::Config)?;
        Ok(Engine {
            config,
            scorer,
            model_sha256,
            thresholds,
            route_policies,
        })
    }

    /// The validated configuration.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// sha256 of the loaded model.
    pub fn model_sha256(&self) -> &str {
        &self.model_sha256
    }

    /// Policy for a request path (raw, percent-encoded). A `skip` route is honoured only for a
    /// path without dot segments, so `/health/../admin` is never skipped.
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
            },
        };
        let has_dot_segment = path.split(['/', '\\']).any(|seg| seg == ".." || seg == ".");
        if has_dot_segment {
            policy.skip = false;
        }
        policy
    }

    /// Options for [`RequestView::inspected_values`] from the configuration.
    pub fn inspect_options(&self) -> InspectOptions<'_> {
        InspectOptions {
            headers: &self.config.inspect_headers,
            max_values: self.config.max_inspected_values,
        }
    }

    /// Scores `view` and decides under `policy`.
    pub fn evaluate(
        &self,
        view: &RequestView,
        policy: &RoutePolicy,
    ) -> Result<Evaluation, ModelError> {
        let rows = request_rows(view, &self.inspect_options());
        let n = rows.values.len();
        let verdict = if n == 0 {
            ModelVerdict::nothing_scored()
        } else {
            let probs = self.scorer.score(&rows.data, n)?;
            self.verdict(&probs, &rows.values)
        };
        Ok(Evaluation {
            decision: policy::decide(&verdict, &rows.notes, policy.thresholds, policy.mode),
            rows: n,
        })
    }

    /// The riskiest row: highest 1 − P(benign), its most likely attack class and location.
    fn verdict(&self, probs: &[f32], values: &[InspectedValue]) -> ModelVerdict {
        let classes = self.scorer.classes();
        let k = classes.len();
        let benign = classes.iter().position(|c| c == "benign");
        let mut best = ModelVerdict::nothing_scored();
        for (row, value) in probs.chunks_exact(k).zip(values) {
            let p_benign = benign.map(|b| row[b]).unwrap_or(0.0);
            let risk = (1.0 - p_benign).clamp(0.0, 1.0);
            if best.location.is_some() && risk <= best.risk {
                continue;
            }
            let (class, probability) = row
                .iter()
                .enumerate()
                .filter(|(i, _)| Some(*i) != benign)
                .fold(
                    (0usize, f32::MIN),
                    |acc, (i, &p)| if p > acc.1 { (i, p) } else { acc },
                );
            best = ModelVerdict {
                class: classes
                    .get(class)
                    .cloned()
                    .unwrap_or_else(|| "unknown".into()),
                probability,
                risk,
                location: Some(value.location.to_string()),
            };
        }
        best
    }
}
