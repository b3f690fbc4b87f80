//! [`Scorer`] on tract: loaded and optimised once, run many times.

use std::sync::Arc;

use tract_onnx::prelude::*;
use tract_onnx::tract_core::dims;

use super::{ModelError, ModelMetadata, Scorer};
use crate::features::FEATURE_DIM;

/// An ONNX classifier run by tract, with a symbolic batch dimension.
pub struct TractScorer {
    plan: Arc<TypedRunnableModel>,
    probabilities_output: usize,
    metadata: ModelMetadata,
}

fn load_err(e: impl std::fmt::Display) -> ModelError {
    ModelError::Load(format!("{e:#}"))
}

impl TractScorer {
    /// Verifies `metadata` against `onnx` and this build, loads, optimises and probes the model.
    pub fn load(onnx: &[u8], metadata: ModelMetadata) -> Result<TractScorer, ModelError> {
        metadata.verify(onnx)?;
        let mut model = tract_onnx::onnx()
            .model_for_read(&mut &*onnx)
            .map_err(load_err)?;
        let batch = model.sym("N");
        model = model
            .with_input_fact(0, f32::fact(dims!(batch, FEATURE_DIM)).into())
            .map_err(|e| {
                ModelError::Schema(format!("input is not [N, {FEATURE_DIM}] floats: {e:#}"))
            })?;
        let typed = model.into_optimized().map_err(|e| {
            ModelError::Schema(format!(
                "model does not accept [N, {FEATURE_DIM}] float input ({e:#})"
            ))
        })?;
        // Class probabilities are the float output of rank 2 (skl2onnx: `probabilities`).
        let probabilities_output = (0..typed.outputs.len())
            .find(|&i| {
                typed
                    .output_fact(i)
                    .map(|f| f.datum_type == f32::datum_type() && f.rank() == 2)
                    .unwrap_or(false)
            })
            .ok_or_else(|| ModelError::Schema("no [N, K] float probability output".into()))?;
        let plan = typed.into_runnable().map_err(load_err)?;
        let scorer = TractScorer {
            plan,
            probabilities_output,
            metadata,
        };
        let probe = scorer.score(&vec![0.0; FEATURE_DIM], 1)?;
        if probe.len() != scorer.metadata.classes.len() {
            return Err(ModelError::Schema(format!(
                "model has {} outputs per row, metadata names {} classes",
                probe.len(),
                scorer.metadata.classes.len()
            )));
        }
        Ok(scorer)
    }

    /// The model's metadata.
    pub fn metadata(&self) -> &ModelMetadata {
        &self.metadata
    }
}

impl Scorer for TractScorer {
    fn classes(&self) -> &[String] {
        &self.metadata.classes
    }

    fn score(&self, rows: &[f32], n: usize) -> Result<Vec<f32>, ModelError> {
        let input = Tensor::from_shape(&[n, FEATURE_DIM], rows)
            .map_err(|e| ModelError::Inference(format!("{e:#}")))?;
        let outputs = self
            .plan
            .run(tvec!(input.into_tvalue()))
            .map_err(|e| ModelError::Inference(format!("{e:#}")))?;
        let probs = outputs
            .get(self.probabilities_output)
            .ok_or_else(|| ModelError::Inference("missing probability output".into()))?;
        let view = probs
            .to_plain_array_view::<f32>()
            .map_err(|e| ModelError::Inference(format!("{e:#}")))?;
        if view.shape() != [n, self.metadata.classes.len()] {
            return Err(ModelError::Inference(format!(
                "unexpected output shape {:?}",
                view.shape()
            )));
        }
        Ok(view.iter().copied().collect())
    }
}
