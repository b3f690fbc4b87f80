//! [`Scorer`] on tract: the MLP read from the ONNX weights, built once as a tract graph whose
//! first layer reads only the nonzero features, run for every request.
//!
//! A dense first layer multiplies every row by all 4,158 × hidden weights although a value has a
//! few dozen nonzero features; here the first layer is a tract op ([`SparseLinear`]) that sums
//! the weight rows of the nonzero features, weighted, which is the same product. The later layers
//! are small ([`DenseLinear`]); bias, ReLU and softmax are tract's own ops. The graph is run as
//! built: it has six nodes, and tract's optimiser brings nothing to it but code. The integration
//! test `tests/onnx_parity.rs` holds the result to tract's ONNX front end running the shipped file
//! as it is.

use std::cell::RefCell;
use std::sync::Arc;

use tract_core::internal::*;
use tract_core::ops::math;
use tract_core::ops::nn::{Softmax, SoftmaxKind};

use super::mlp::axpy;
use super::onnx::{read_mlp, Layer, Mlp};
use super::{ModelError, ModelMetadata, Scorer, EMBEDDED_LAYERS, EMBEDDED_ONNX_SHA256};
use crate::features::{SparseRow, FEATURE_DIM};

/// An MLP run by tract over sparse rows, with symbolic rows (`N`) and nonzeros (`T`).
pub struct TractScorer {
    plan: Arc<TypedRunnableModel>,
    /// Reused between runs: spawning a state per request costs as much as a small run.
    state: RefCell<Option<TypedSimpleState>>,
    metadata: ModelMetadata,
}

fn load_err(e: impl std::fmt::Display) -> ModelError {
    ModelError::Load(format!("{e:#}"))
}

fn infer_err(e: impl std::fmt::Display) -> ModelError {
    ModelError::Inference(format!("{e:#}"))
}

fn tensor(shape: &[usize], data: &[f32]) -> TractResult<Tensor> {
    Tensor::from_shape(shape, data)
}

/// The first layer over sparse rows: `out[r] = Σ val[j] · W[idx[j]]` for the nonzeros `j` of
/// row `r`, rows laid end to end (`lens[r]` nonzeros each). It is the product of the sparse
/// row with `W`, computed from the few weight rows it touches; a tract op like any other, so the
/// whole network stays one tract graph.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct SparseLinear;

impl Op for SparseLinear {
    fn name(&self) -> StaticName {
        "SparseLinear".into()
    }

    op_as_typed_op!();
}

impl EvalOp for SparseLinear {
    op_out_of_plan!();

    fn eval(&self, _ctx: &EvalContext, inputs: TVec<TValue>) -> TractResult<TVec<TValue>> {
        let [w, idx, val, lens] = &*inputs else {
            bail!("SparseLinear takes 4 inputs, got {}", inputs.len());
        };
        let (d, h) = match w.shape() {
            &[d, h] => (d, h),
            s => bail!("weights of shape {s:?}"),
        };
        let w = w.to_plain_array_view::<f32>()?;
        let w = w.as_slice().context("weights are not contiguous")?;
        let (idx, val, lens) = (
            idx.to_plain_array_view::<i64>()?,
            val.to_plain_array_view::<f32>()?,
            lens.to_plain_array_view::<i64>()?,
        );
        ensure!(
            idx.len() == val.len(),
            "{} indices for {} values",
            idx.len(),
            val.len()
        );
        let mut out = vec![0f32; lens.len() * h];
        let mut nonzeros = idx.iter().zip(val.iter());
        for (acc, &len) in out.chunks_exact_mut(h.max(1)).zip(lens.iter()) {
            for _ in 0..len {
                let Some((&i, &v)) = nonzeros.next() else {
                    bail!("row lengths add up to more than {} nonzeros", idx.len());
                };
                let i = usize::try_from(i).ok().filter(|&i| i < d);
                let Some(i) = i else {
                    bail!("feature index out of 0..{d}");
                };
                axpy(acc, v, &w[i * h..(i + 1) * h]);
            }
        }
        ensure!(
            nonzeros.next().is_none(),
            "row lengths leave nonzeros unused"
        );
        Ok(tvec!(
            Tensor::from_shape(&[lens.len(), h], &out)?.into_tvalue()
        ))
    }
}

impl TypedOp for SparseLinear {
    as_op!();

    fn output_facts(&self, inputs: &[&TypedFact]) -> TractResult<TVec<TypedFact>> {
        let [w, _, _, lens] = inputs else {
            bail!("SparseLinear takes 4 inputs, got {}", inputs.len());
        };
        ensure!(w.rank() == 2 && lens.rank() == 1);
        Ok(tvec!(f32::fact([
            lens.shape[0].clone(),
            w.shape[1].clone()
        ])))
    }
}

/// A dense layer after the first: `out = x · W` for `x` of shape `[N, H]` and `W` of shape
/// `[H, O]`. A few hundred multiply-adds per row: tract's general matrix product (EinSum and
/// the kernels, packers and convolution machinery it brings) would be most of the module's code
/// and of each run's overhead for that.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct DenseLinear;

impl Op for DenseLinear {
    fn name(&self) -> StaticName {
        "DenseLinear".into()
    }

    op_as_typed_op!();
}

impl EvalOp for DenseLinear {
    op_out_of_plan!();

    fn eval(&self, _ctx: &EvalContext, inputs: TVec<TValue>) -> TractResult<TVec<TValue>> {
        let [x, w] = &*inputs else {
            bail!("DenseLinear takes 2 inputs, got {}", inputs.len());
        };
        let (&[n, h], &[h2, o]) = (x.shape(), w.shape()) else {
            bail!("shapes {:?} and {:?}", x.shape(), w.shape());
        };
        ensure!(h == h2, "{h} inputs for weights of {h2} rows");
        let x = x.to_plain_array_view::<f32>()?;
        let x = x.as_slice().context("input is not contiguous")?;
        let w = w.to_plain_array_view::<f32>()?;
        let w = w.as_slice().context("weights are not contiguous")?;
        let mut out = vec![0f32; n * o];
        for (acc, row) in out.chunks_exact_mut(o.max(1)).zip(x.chunks_exact(h.max(1))) {
            for (k, &v) in row.iter().enumerate() {
                if v != 0.0 {
                    axpy(acc, v, &w[k * o..(k + 1) * o]);
                }
            }
        }
        Ok(tvec!(Tensor::from_shape(&[n, o], &out)?.into_tvalue()))
    }
}

impl TypedOp for DenseLinear {
    as_op!();

    fn output_facts(&self, inputs: &[&TypedFact]) -> TractResult<TVec<TypedFact>> {
        let [x, w] = inputs else {
            bail!("DenseLinear takes 2 inputs, got {}", inputs.len());
        };
        ensure!(x.rank() == 2 && w.rank() == 2);
        Ok(tvec!(f32::fact([x.shape[0].clone(), w.shape[1].clone()])))
    }
}

/// `y = x · W + b`, then ReLU unless it is the last layer, then softmax over classes.
fn build(mlp: &Mlp) -> TractResult<TypedModel> {
    let mut m = TypedModel::default();
    let n = m.symbols.sym("N");
    let t = m.symbols.sym("T");
    let idx = m.add_source("idx", i64::fact(dims!(t.clone())))?;
    let val = m.add_source("val", f32::fact(dims!(t)))?;
    let lens = m.add_source("lens", i64::fact(dims!(n)))?;
    let mut x = None;
    for (i, layer) in mlp.layers.iter().enumerate() {
        let Layer {
            inputs,
            outputs,
            weights,
            bias,
        } = layer;
        let w = m.add_const(format!("w{i}"), tensor(&[*inputs, *outputs], weights)?)?;
        let y = match x {
            None => m.wire_node("sparse_linear", SparseLinear, &[w, idx, val, lens])?[0],
            Some(x) => m.wire_node(format!("dense{i}"), DenseLinear, &[x, w])?[0],
        };
        let b = m.add_const(format!("b{i}"), tensor(&[1, *outputs], bias)?)?;
        let y = m.wire_node(format!("bias{i}"), math::add(), &[y, b])?[0];
        x = Some(if i + 1 < mlp.layers.len() {
            let zero = m.add_const(format!("zero{i}"), tensor(&[1, 1], &[0.0])?)?;
            m.wire_node(format!("relu{i}"), math::max(), &[y, zero])?[0]
        } else {
            y
        });
    }
    let logits = x.ok_or_else(|| format_err!("no layer"))?;
    let probs = m.wire_node(
        "softmax",
        Softmax::new(tvec!(1), None, SoftmaxKind::Softmax),
        &[logits],
    )?[0];
    m.select_output_outlets(&[probs])?;
    Ok(m)
}

impl TractScorer {
    /// Verifies `metadata` against `onnx` and this build, reads the MLP, builds and
    /// probes the tract graph.
    pub fn load(onnx: &[u8], metadata: ModelMetadata) -> Result<TractScorer, ModelError> {
        metadata.verify(onnx)?;
        TractScorer::from_mlp(&read_mlp(onnx)?, metadata)
    }

    /// The shipped model ([`EMBEDDED_LAYERS`], read from the ONNX file at build time) with its
    /// metadata, checked against the file's sha256 computed at build time.
    pub fn embedded(metadata: ModelMetadata) -> Result<TractScorer, ModelError> {
        metadata.verify_sha256(EMBEDDED_ONNX_SHA256)?;
        let layers = EMBEDDED_LAYERS
            .iter()
            .map(|l| Layer {
                inputs: l.inputs,
                outputs: l.outputs,
                weights: l.weights.to_vec(),
                bias: l.bias.to_vec(),
            })
            .collect();
        TractScorer::from_mlp(&Mlp { layers }, metadata)
    }

    fn from_mlp(mlp: &Mlp, metadata: ModelMetadata) -> Result<TractScorer, ModelError> {
        let first = &mlp.layers[0];
        if first.inputs != FEATURE_DIM {
            return Err(ModelError::Schema(format!(
                "model takes {} features, this build extracts {FEATURE_DIM}",
                first.inputs
            )));
        }
        let classes = mlp.layers.last().map_or(0, |l| l.outputs);
        if classes != metadata.classes.len() {
            return Err(ModelError::Schema(format!(
                "model has {classes} outputs per row, metadata names {} classes",
                metadata.classes.len()
            )));
        }
        let plan = build(mlp)
            .and_then(|m| m.into_runnable())
            .map_err(load_err)?;
        let scorer = TractScorer {
            plan,
            state: RefCell::new(None),
            metadata,
        };
        let probe = scorer.score(&[SparseRow::default()])?;
        if probe.len() != classes || probe.iter().any(|p| !p.is_finite()) {
            return Err(ModelError::Schema(format!(
                "probe gave {probe:?} for {classes} classes"
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

    fn score(&self, rows: &[SparseRow]) -> Result<Vec<f32>, ModelError> {
        let n = rows.len();
        let total = rows.iter().map(SparseRow::len).sum();
        let (mut idx, mut val) = (Vec::with_capacity(total), Vec::with_capacity(total));
        for row in rows {
            idx.extend(row.idx.iter().map(|&i| i64::from(i)));
            val.extend_from_slice(&row.val);
        }
        let lens: Vec<i64> = rows.iter().map(|r| r.len() as i64).collect();
        let inputs = tvec!(
            tensor1(&idx).into_tvalue(),
            tensor1(&val).into_tvalue(),
            tensor1(&lens).into_tvalue()
        );
        let mut slot = self.state.borrow_mut();
        let state = match slot.as_mut() {
            Some(s) => s,
            None => slot.insert(self.plan.spawn().map_err(infer_err)?),
        };
        let outputs = state.run(inputs).map_err(infer_err)?;
        let probs = outputs
            .first()
            .ok_or_else(|| ModelError::Inference("missing probability output".into()))?;
        let view = probs.to_plain_array_view::<f32>().map_err(infer_err)?;
        if view.shape() != [n, self.metadata.classes.len()] {
            return Err(ModelError::Inference(format!(
                "unexpected output shape {:?}",
                view.shape()
            )));
        }
        Ok(view.iter().copied().collect())
    }
}
