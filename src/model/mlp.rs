//! [`Scorer`] that runs the MLP itself: the sparse first layer, the small dense layers, bias,
//! ReLU and softmax, over buffers kept between runs.
//!
//! It computes what the tract graph of [`super::TractScorer`] computes, in the same order
//! (the first layer sums the weight rows of a row's nonzero features, weighted, then adds the
//! bias; a dense layer skips zero inputs), without a runtime: no graph, no plan, no tensors, no
//! allocation per run once the buffers have grown to the largest batch seen. The weights of the
//! shipped model are used where build.rs put them, in the module's data ([`EMBEDDED_LAYERS`]);
//! an inline model's are read from its ONNX bytes once.
//!
//! Why not tract in the module: V8 compiles the whole module before Envoy serves, and tract's
//! op, tensor and kernel machinery was 2.8 of the 4.2 MB of code (BENCHMARKS.md, "Issue 12"),
//! for a six-node graph. tract stays the reference natively: `tests/onnx_parity.rs` holds this
//! scorer and the tract graph to tract's ONNX front end running the shipped file.

use std::borrow::Cow;
use std::cell::RefCell;

use super::onnx::{read_mlp, Mlp};
use super::{ModelError, ModelMetadata, Scorer, EMBEDDED_LAYERS, EMBEDDED_ONNX_SHA256};
use crate::features::{SparseRow, FEATURE_DIM};

/// One layer: `y = x · weights + bias`, weights row-major `inputs × outputs`.
struct Layer {
    inputs: usize,
    outputs: usize,
    weights: Cow<'static, [f32]>,
    bias: Cow<'static, [f32]>,
}

/// Activations of one run, two buffers used in turn; grown, never shrunk.
#[derive(Default)]
struct Buffers {
    a: Vec<f32>,
    b: Vec<f32>,
}

/// The MLP over sparse rows, run directly.
pub struct MlpScorer {
    layers: Vec<Layer>,
    widest: usize,
    buffers: RefCell<Buffers>,
    metadata: ModelMetadata,
}

impl MlpScorer {
    /// The shipped model: its weights where build.rs put them, checked against the ONNX file's
    /// sha256 computed at build time.
    pub fn embedded(metadata: ModelMetadata) -> Result<MlpScorer, ModelError> {
        metadata.verify_sha256(EMBEDDED_ONNX_SHA256)?;
        let layers = EMBEDDED_LAYERS
            .iter()
            .map(|l| Layer {
                inputs: l.inputs,
                outputs: l.outputs,
                weights: Cow::Borrowed(l.weights),
                bias: Cow::Borrowed(l.bias),
            })
            .collect();
        MlpScorer::new(layers, metadata)
    }

    /// A model given as ONNX bytes (an inline model of the configuration), checked against its
    /// metadata.
    pub fn load(onnx: &[u8], metadata: ModelMetadata) -> Result<MlpScorer, ModelError> {
        metadata.verify(onnx)?;
        let Mlp { layers } = read_mlp(onnx)?;
        let layers = layers
            .into_iter()
            .map(|l| Layer {
                inputs: l.inputs,
                outputs: l.outputs,
                weights: Cow::Owned(l.weights),
                bias: Cow::Owned(l.bias),
            })
            .collect();
        MlpScorer::new(layers, metadata)
    }

    fn new(layers: Vec<Layer>, metadata: ModelMetadata) -> Result<MlpScorer, ModelError> {
        let schema = |m: String| Err(ModelError::Schema(m));
        let Some(first) = layers.first() else {
            return schema("model has no layer".into());
        };
        if first.inputs != FEATURE_DIM {
            return schema(format!(
                "model takes {} features, this build extracts {FEATURE_DIM}",
                first.inputs
            ));
        }
        for (i, l) in layers.iter().enumerate() {
            if l.weights.len() != l.inputs * l.outputs || l.bias.len() != l.outputs {
                return Err(ModelError::Load(format!(
                    "layer {i}: weights do not fit its shape"
                )));
            }
            if i > 0 && layers[i - 1].outputs != l.inputs {
                return Err(ModelError::Load(format!(
                    "layer {i} takes {} inputs, layer {} gives {}",
                    l.inputs,
                    i - 1,
                    layers[i - 1].outputs
                )));
            }
        }
        let classes = layers.last().map_or(0, |l| l.outputs);
        if classes != metadata.classes.len() {
            return schema(format!(
                "model has {classes} outputs per row, metadata names {} classes",
                metadata.classes.len()
            ));
        }
        let widest = layers.iter().map(|l| l.outputs).max().unwrap_or(0);
        let scorer = MlpScorer {
            layers,
            widest,
            buffers: RefCell::new(Buffers::default()),
            metadata,
        };
        let probe = scorer.score(&[SparseRow::default()])?;
        if probe.len() != classes || probe.iter().any(|p| !p.is_finite()) {
            return schema(format!("probe gave {probe:?} for {classes} classes"));
        }
        Ok(scorer)
    }

    /// The model's metadata.
    pub fn metadata(&self) -> &ModelMetadata {
        &self.metadata
    }
}

impl Scorer for MlpScorer {
    fn classes(&self) -> &[String] {
        &self.metadata.classes
    }

    fn score(&self, rows: &[SparseRow]) -> Result<Vec<f32>, ModelError> {
        let mut out = vec![0f32; rows.len() * self.metadata.classes.len()];
        self.score_into(rows, &mut out)?;
        Ok(out)
    }

    fn score_into(&self, rows: &[SparseRow], out: &mut [f32]) -> Result<(), ModelError> {
        let n = rows.len();
        let classes = self.metadata.classes.len();
        if out.len() != n * classes {
            return Err(ModelError::Inference(format!(
                "{} outputs for {n} rows of {classes} classes",
                out.len()
            )));
        }
        let mut guard = self.buffers.borrow_mut();
        let Buffers { a, b } = &mut *guard;
        for buf in [&mut *a, &mut *b] {
            if buf.len() < n * self.widest {
                buf.resize(n * self.widest, 0.0);
            }
        }
        let (mut x, mut y) = (a, b);
        let last = self.layers.len() - 1;
        for (i, layer) in self.layers.iter().enumerate() {
            let (d, h) = (layer.inputs, layer.outputs);
            let acc = &mut y[..n * h];
            acc.fill(0.0);
            if i == 0 {
                for (acc, row) in acc.chunks_exact_mut(h).zip(rows) {
                    for (&j, &v) in row.idx.iter().zip(&row.val) {
                        let j = j as usize;
                        if j >= d {
                            return Err(ModelError::Inference(format!(
                                "feature index {j} out of 0..{d}"
                            )));
                        }
                        axpy(acc, v, &layer.weights[j * h..(j + 1) * h]);
                    }
                }
            } else {
                for (acc, input) in acc.chunks_exact_mut(h).zip(x[..n * d].chunks_exact(d)) {
                    for (k, &v) in input.iter().enumerate() {
                        if v != 0.0 {
                            axpy(acc, v, &layer.weights[k * h..(k + 1) * h]);
                        }
                    }
                }
            }
            for row in acc.chunks_exact_mut(h) {
                for (v, &b) in row.iter_mut().zip(layer.bias.iter()) {
                    *v += b;
                    if i < last {
                        *v = v.max(0.0);
                    }
                }
            }
            std::mem::swap(&mut x, &mut y);
        }
        for (probs, logits) in out.chunks_exact_mut(classes).zip(x.chunks_exact(classes)) {
            softmax(logits, probs);
        }
        Ok(())
    }
}

/// `probs = exp(logits − max) / Σ`, as tract's softmax (the sum's reciprocal times each term).
fn softmax(logits: &[f32], probs: &mut [f32]) {
    let max = logits.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let mut sum = 0f32;
    for (p, &l) in probs.iter_mut().zip(logits) {
        *p = (l - max).exp();
        sum += *p;
    }
    let r = sum.recip();
    for p in probs.iter_mut() {
        *p *= r;
    }
}

/// `acc += v · x`, four lanes at a time where the host runs Wasm SIMD.
#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
pub(crate) fn axpy(acc: &mut [f32], v: f32, x: &[f32]) {
    use core::arch::wasm32::{f32x4, f32x4_add, f32x4_extract_lane, f32x4_mul, f32x4_splat};
    let vv = f32x4_splat(v);
    let mut a4 = acc.chunks_exact_mut(4);
    let mut x4 = x.chunks_exact(4);
    for (a, x) in (&mut a4).zip(&mut x4) {
        let sum = f32x4_add(
            f32x4(a[0], a[1], a[2], a[3]),
            f32x4_mul(vv, f32x4(x[0], x[1], x[2], x[3])),
        );
        a[0] = f32x4_extract_lane::<0>(sum);
        a[1] = f32x4_extract_lane::<1>(sum);
        a[2] = f32x4_extract_lane::<2>(sum);
        a[3] = f32x4_extract_lane::<3>(sum);
    }
    for (a, &x) in a4.into_remainder().iter_mut().zip(x4.remainder()) {
        *a += v * x;
    }
}

/// `acc += v · x`.
#[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
pub(crate) fn axpy(acc: &mut [f32], v: f32, x: &[f32]) {
    for (a, &x) in acc.iter_mut().zip(x) {
        *a += v * x;
    }
}
