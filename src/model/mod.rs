//! The detection model: metadata, the [`Scorer`] trait, the MLP run directly ([`MlpScorer`],
//! what the filter runs) and as a tract graph (natively, the reference).

pub mod calibration;
mod mlp;
mod onnx;
// The reference runtime, natively only (tests/onnx_parity.rs, benches): the module runs
// [`MlpScorer`].
#[cfg(not(target_arch = "wasm32"))]
mod tract;

use std::collections::BTreeMap;
use std::fmt;

use serde::Deserialize;
use sha2::{Digest, Sha256};

use crate::config::Thresholds;
use crate::features::{self, SparseRow};
use crate::hash::to_hex;

pub use self::calibration::{Calibration, GroupThresholds, LocationGroup};
pub use self::mlp::MlpScorer;
#[cfg(not(target_arch = "wasm32"))]
pub use self::tract::TractScorer;

/// The model shipped inside the module, as the ONNX file of record. The filter does not read it:
/// it runs [`EMBEDDED_LAYERS`], the same weights read from this file at build time.
pub const EMBEDDED_ONNX: &[u8] = include_bytes!("../../models/apiward.onnx");

/// One layer of the shipped MLP as build.rs wrote it: `y = x · weights + bias`.
#[derive(Debug)]
pub struct EmbeddedLayer {
    /// Input width.
    pub inputs: usize,
    /// Output width.
    pub outputs: usize,
    /// Row-major `inputs × outputs`.
    pub weights: &'static [f32],
    /// `outputs` values.
    pub bias: &'static [f32],
}

// Generated weights: a trained value may happen to sit near a named constant (1.12837 is
// FRAC_2_SQRT_PI to six digits); it is data, not an approximation of one.
#[allow(clippy::approx_constant)]
mod embedded {
    use super::EmbeddedLayer;
    include!(concat!(env!("OUT_DIR"), "/embedded_mlp.rs"));
}

/// The shipped MLP's layers, input first, read from [`EMBEDDED_ONNX`] at build time (build.rs):
/// in the module's data, used where they are.
pub static EMBEDDED_LAYERS: &[EmbeddedLayer] = &embedded::LAYERS;
/// sha256 of [`EMBEDDED_ONNX`], computed at build time (build.rs checks it against the metadata).
pub const EMBEDDED_ONNX_SHA256: &str = embedded::ONNX_SHA256;
/// Metadata of the shipped model.
pub const EMBEDDED_METADATA: &str = include_str!("../../models/apiward.json");

/// What a model says about itself (`models/apiward.json`); unknown fields are kept out of the way.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct ModelMetadata {
    /// Feature schema the model was trained on.
    pub schema_version: u32,
    /// Input width.
    pub feature_dim: usize,
    /// Class names in output column order.
    pub classes: Vec<String>,
    /// Calibrated default thresholds.
    pub thresholds: MetadataThresholds,
    /// sha256 of the ONNX bytes, hex; checked at load when present.
    #[serde(default)]
    pub onnx_sha256: Option<String>,
    /// Model family, for logs.
    #[serde(default)]
    pub model: Option<String>,
    /// Thresholds calibrated per location group on real benign traffic (see
    /// [`calibration`]); groups not listed use the global thresholds.
    #[serde(default)]
    pub location_thresholds: BTreeMap<String, GroupThresholds>,
}

/// Thresholds as written by the training pipeline.
#[derive(Debug, Clone, Copy, PartialEq, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct MetadataThresholds {
    /// Annotate threshold.
    pub annotate: f32,
    /// Deny threshold.
    pub deny: f32,
}

impl From<MetadataThresholds> for Thresholds {
    fn from(t: MetadataThresholds) -> Self {
        Thresholds {
            annotate: t.annotate,
            deny: t.deny,
        }
    }
}

/// Why a model could not be loaded or run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ModelError {
    /// The metadata JSON is invalid.
    Metadata(String),
    /// The ONNX bytes do not match the sha256 in the metadata.
    Checksum {
        /// From the metadata.
        expected: String,
        /// Of the bytes.
        actual: String,
    },
    /// Trained on another feature schema or width.
    Schema(String),
    /// tract refused the model.
    Load(String),
    /// Inference failed.
    Inference(String),
}

impl fmt::Display for ModelError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ModelError::Metadata(m) => write!(f, "model metadata: {m}"),
            ModelError::Checksum { expected, actual } => write!(
                f,
                "model sha256 is {actual}, metadata says {expected}: model and metadata do not belong together"
            ),
            ModelError::Schema(m) => write!(f, "model does not fit this build: {m}"),
            ModelError::Load(m) => write!(f, "model could not be loaded: {m}"),
            ModelError::Inference(m) => write!(f, "inference failed: {m}"),
        }
    }
}

impl std::error::Error for ModelError {}

/// Probabilities per class for a batch of feature rows.
pub trait Scorer {
    /// Class names in output column order.
    fn classes(&self) -> &[String];
    /// Scores `rows`; returns `rows.len() × classes().len()` probabilities, row-major.
    fn score(&self, rows: &[SparseRow]) -> Result<Vec<f32>, ModelError>;
    /// [`Scorer::score`] into `out` (`rows.len() × classes().len()`): a scorer that keeps its
    /// buffers between runs allocates nothing.
    fn score_into(&self, rows: &[SparseRow], out: &mut [f32]) -> Result<(), ModelError> {
        let scored = self.score(rows)?;
        if scored.len() != out.len() {
            return Err(ModelError::Inference(format!(
                "{} probabilities for {} outputs",
                scored.len(),
                out.len()
            )));
        }
        out.copy_from_slice(&scored);
        Ok(())
    }
}

/// sha256 of `bytes`, lower-case hex.
pub fn sha256_hex(bytes: &[u8]) -> String {
    to_hex(&Sha256::digest(bytes))
}

impl ModelMetadata {
    /// Parses metadata JSON.
    pub fn from_json(json: &str) -> Result<ModelMetadata, ModelError> {
        serde_json::from_str(json).map_err(|e| ModelError::Metadata(e.to_string()))
    }

    /// Checks the metadata against this build's feature schema and the model bytes.
    pub fn verify(&self, onnx: &[u8]) -> Result<(), ModelError> {
        self.verify_sha256(&sha256_hex(onnx))
    }

    /// [`ModelMetadata::verify`] for the ONNX file whose sha256 is `onnx_sha256` (the embedded
    /// model's is computed at build time).
    pub fn verify_sha256(&self, onnx_sha256: &str) -> Result<(), ModelError> {
        if self.schema_version != features::SCHEMA_VERSION {
            return Err(ModelError::Schema(format!(
                "trained on feature schema {}, this build extracts schema {}",
                self.schema_version,
                features::SCHEMA_VERSION
            )));
        }
        if self.feature_dim != features::FEATURE_DIM {
            return Err(ModelError::Schema(format!(
                "expects {} features, this build extracts {}",
                self.feature_dim,
                features::FEATURE_DIM
            )));
        }
        if !self.classes.iter().any(|c| c == "benign") {
            return Err(ModelError::Metadata(
                "classes must include \"benign\"".into(),
            ));
        }
        if let Some(unknown) = self
            .classes
            .iter()
            .find(|c| features::class_index(c).is_none())
        {
            return Err(ModelError::Metadata(format!("unknown class {unknown:?}")));
        }
        let t = self.thresholds;
        if !(0.0..=1.0).contains(&t.annotate)
            || !(0.0..=1.0).contains(&t.deny)
            || t.annotate > t.deny
        {
            return Err(ModelError::Metadata(format!(
                "thresholds must satisfy 0 <= annotate <= deny <= 1, got {} and {}",
                t.annotate, t.deny
            )));
        }
        self.calibration()?;
        if let Some(expected) = &self.onnx_sha256 {
            if !expected.eq_ignore_ascii_case(onnx_sha256) {
                return Err(ModelError::Checksum {
                    expected: expected.clone(),
                    actual: onnx_sha256.to_string(),
                });
            }
        }
        Ok(())
    }

    /// The per-location calibration these metadata describe.
    pub fn calibration(&self) -> Result<Calibration, ModelError> {
        Calibration::new(
            (self.thresholds.annotate, self.thresholds.deny),
            &self.location_thresholds,
        )
        .map_err(ModelError::Metadata)
    }
}
