//! Reads the weights of a multi-layer perceptron from ONNX bytes, without an ONNX runtime.
//!
//! The module carries no ONNX runtime: V8 compiles every byte of it before the first request
//! (BENCHMARKS.md, issue 12). The shipped model is read by this file at build time (build.rs);
//! an inline model of the configuration at load. An ONNX file is a protobuf; this
//! walks the few fields an MLP needs (nodes, initializers, the graph's input) and accepts exactly
//! the graph scikit-learn's exporter writes for `MLPClassifier`:
//!
//! ```text
//! input → [Cast] → (MatMul W → Add b → Relu)* → MatMul W → Add b → Softmax → probabilities
//! ```
//!
//! (the `label` branch after `probabilities` is ignored). Anything else is refused with the
//! reason, so a model that would be scored differently than it was trained can never load.

use super::ModelError;

/// One dense layer: `y = x · weights + bias`.
#[derive(Debug, Clone, PartialEq)]
pub struct Layer {
    /// Input width.
    pub inputs: usize,
    /// Output width.
    pub outputs: usize,
    /// Row-major `inputs × outputs`.
    pub weights: Vec<f32>,
    /// `outputs` values.
    pub bias: Vec<f32>,
}

/// The layers of the MLP, input first; ReLU between layers, softmax after the last.
#[derive(Debug, Clone, PartialEq)]
pub struct Mlp {
    /// At least one layer.
    pub layers: Vec<Layer>,
}

fn bad(msg: impl Into<String>) -> ModelError {
    ModelError::Load(format!("ONNX: {}", msg.into()))
}

/// A protobuf field: number and payload.
enum Field<'a> {
    Varint(u64),
    Bytes(&'a [u8]),
    Fixed32(u32),
    Fixed64,
}

/// Iterates the fields of one protobuf message.
struct Fields<'a> {
    buf: &'a [u8],
}

impl<'a> Fields<'a> {
    fn new(buf: &'a [u8]) -> Self {
        Fields { buf }
    }

    fn varint(&mut self) -> Result<u64, ModelError> {
        let mut v = 0u64;
        for shift in (0..64).step_by(7) {
            let (&b, rest) = self
                .buf
                .split_first()
                .ok_or_else(|| bad("truncated varint"))?;
            self.buf = rest;
            v |= u64::from(b & 0x7f) << shift;
            if b & 0x80 == 0 {
                return Ok(v);
            }
        }
        Err(bad("varint longer than 10 bytes"))
    }

    fn take(&mut self, n: usize) -> Result<&'a [u8], ModelError> {
        if n > self.buf.len() {
            return Err(bad("field runs past the end of its message"));
        }
        let (head, rest) = self.buf.split_at(n);
        self.buf = rest;
        Ok(head)
    }
}

impl<'a> Iterator for Fields<'a> {
    type Item = Result<(u64, Field<'a>), ModelError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.buf.is_empty() {
            return None;
        }
        let item = (|| {
            let key = self.varint()?;
            let field = match key & 7 {
                0 => Field::Varint(self.varint()?),
                1 => {
                    self.take(8)?;
                    Field::Fixed64
                }
                2 => {
                    let n = usize::try_from(self.varint()?).map_err(|_| bad("huge length"))?;
                    Field::Bytes(self.take(n)?)
                }
                5 => {
                    let b = self.take(4)?;
                    Field::Fixed32(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
                }
                t => return Err(bad(format!("unsupported wire type {t}"))),
            };
            Ok((key >> 3, field))
        })();
        if item.is_err() {
            self.buf = &[];
        }
        Some(item)
    }
}

fn string(bytes: &[u8]) -> Result<String, ModelError> {
    String::from_utf8(bytes.to_vec()).map_err(|_| bad("name is not UTF-8"))
}

struct Node {
    op: String,
    inputs: Vec<String>,
    outputs: Vec<String>,
    /// Integer attributes (`axis`).
    ints: Vec<(String, i64)>,
}

struct Initializer {
    name: String,
    dims: Vec<usize>,
    floats: Vec<f32>,
}

// Field numbers (onnx.proto3).
const MODEL_GRAPH: u64 = 7;
const GRAPH_NODE: u64 = 1;
const GRAPH_INITIALIZER: u64 = 5;
const GRAPH_INPUT: u64 = 11;
const NODE_INPUT: u64 = 1;
const NODE_OUTPUT: u64 = 2;
const NODE_OP_TYPE: u64 = 4;
const NODE_ATTRIBUTE: u64 = 5;
const ATTRIBUTE_NAME: u64 = 1;
const ATTRIBUTE_INT: u64 = 3;
const VALUE_INFO_NAME: u64 = 1;
const TENSOR_DIMS: u64 = 1;
const TENSOR_DATA_TYPE: u64 = 2;
const TENSOR_FLOAT_DATA: u64 = 4;
const TENSOR_NAME: u64 = 8;
const TENSOR_RAW_DATA: u64 = 9;
const FLOAT: u64 = 1;

fn node(buf: &[u8]) -> Result<Node, ModelError> {
    let mut n = Node {
        op: String::new(),
        inputs: Vec::new(),
        outputs: Vec::new(),
        ints: Vec::new(),
    };
    for f in Fields::new(buf) {
        match f? {
            (NODE_ATTRIBUTE, Field::Bytes(b)) => {
                let (mut name, mut int) = (String::new(), None);
                for f in Fields::new(b) {
                    match f? {
                        (ATTRIBUTE_NAME, Field::Bytes(b)) => name = string(b)?,
                        (ATTRIBUTE_INT, Field::Varint(i)) => int = Some(i as i64),
                        _ => {}
                    }
                }
                if let Some(i) = int {
                    n.ints.push((name, i));
                }
            }
            (NODE_INPUT, Field::Bytes(b)) => n.inputs.push(string(b)?),
            (NODE_OUTPUT, Field::Bytes(b)) => n.outputs.push(string(b)?),
            (NODE_OP_TYPE, Field::Bytes(b)) => n.op = string(b)?,
            _ => {}
        }
    }
    Ok(n)
}

/// A float initializer; `None` for other element types (class labels, shapes).
fn initializer(buf: &[u8]) -> Result<Option<Initializer>, ModelError> {
    let mut t = Initializer {
        name: String::new(),
        dims: Vec::new(),
        floats: Vec::new(),
    };
    let mut data_type = 0;
    for f in Fields::new(buf) {
        match f? {
            (TENSOR_DIMS, Field::Varint(d)) => t.dims.push(dim(d)?),
            (TENSOR_DIMS, Field::Bytes(packed)) => {
                for d in Fields::varints(packed) {
                    t.dims.push(dim(d?)?);
                }
            }
            (TENSOR_DATA_TYPE, Field::Varint(d)) => data_type = d,
            (TENSOR_FLOAT_DATA, Field::Fixed32(x)) => t.floats.push(f32::from_bits(x)),
            (TENSOR_FLOAT_DATA | TENSOR_RAW_DATA, Field::Bytes(b)) => {
                if b.len() % 4 != 0 {
                    return Err(bad("float data is not a whole number of floats"));
                }
                t.floats.extend(
                    b.chunks_exact(4)
                        .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]])),
                );
            }
            (TENSOR_NAME, Field::Bytes(b)) => t.name = string(b)?,
            _ => {}
        }
    }
    if data_type != FLOAT {
        return Ok(None);
    }
    let n: usize = t.dims.iter().product();
    if t.floats.len() != n {
        return Err(bad(format!(
            "initializer {:?} has {} values for shape {:?}",
            t.name,
            t.floats.len(),
            t.dims
        )));
    }
    Ok(Some(t))
}

fn dim(d: u64) -> Result<usize, ModelError> {
    usize::try_from(d)
        .ok()
        .filter(|&d| d <= 1 << 24)
        .ok_or_else(|| bad(format!("dimension {d} is out of range")))
}

impl<'a> Fields<'a> {
    /// A packed repeated varint field.
    fn varints(buf: &'a [u8]) -> impl Iterator<Item = Result<u64, ModelError>> + 'a {
        let mut f = Fields::new(buf);
        std::iter::from_fn(move || (!f.buf.is_empty()).then(|| f.varint()))
    }
}

/// Reads the MLP in `onnx`, checking every layer's shape against its neighbours.
pub fn read_mlp(onnx: &[u8]) -> Result<Mlp, ModelError> {
    let mut graph = None;
    for f in Fields::new(onnx) {
        if let (MODEL_GRAPH, Field::Bytes(b)) = f? {
            graph = Some(b);
        }
    }
    let graph = graph.ok_or_else(|| bad("no graph (is this an ONNX model?)"))?;
    let (mut nodes, mut inits, mut inputs) = (Vec::new(), Vec::new(), Vec::new());
    for f in Fields::new(graph) {
        match f? {
            (GRAPH_NODE, Field::Bytes(b)) => nodes.push(node(b)?),
            (GRAPH_INITIALIZER, Field::Bytes(b)) => inits.extend(initializer(b)?),
            (GRAPH_INPUT, Field::Bytes(b)) => {
                for f in Fields::new(b) {
                    if let (VALUE_INFO_NAME, Field::Bytes(n)) = f? {
                        inputs.push(string(n)?);
                    }
                }
            }
            _ => {}
        }
    }
    let [input] = inputs.as_slice() else {
        return Err(bad(format!(
            "expected one graph input, found {}",
            inputs.len()
        )));
    };
    let weight = |name: &str| inits.iter().find(|t| t.name == name);
    // The node consuming `value` (the label branch reads `probabilities`, never a hidden value).
    let consumer = |value: &str| {
        let mut it = nodes
            .iter()
            .filter(|n| n.inputs.first().map(String::as_str) == Some(value));
        match (it.next(), it.next()) {
            (Some(n), None) => Ok(n),
            (None, _) => Err(bad(format!("nothing consumes {value:?}"))),
            (Some(_), Some(_)) => Err(bad(format!("{value:?} feeds several nodes"))),
        }
    };
    let mut cur = input.clone();
    let first = consumer(&cur)?;
    if first.op == "Cast" {
        cur = output(first)?;
    }
    let mut layers: Vec<Layer> = Vec::new();
    loop {
        let matmul = consumer(&cur)?;
        expect_op(matmul, "MatMul", layers.len())?;
        let w = matmul
            .inputs
            .get(1)
            .and_then(|n| weight(n))
            .ok_or_else(|| {
                bad(format!(
                    "layer {}: MatMul weights are not a float initializer",
                    layers.len()
                ))
            })?;
        let add = consumer(&output(matmul)?)?;
        expect_op(add, "Add", layers.len())?;
        let b = add.inputs.get(1).and_then(|n| weight(n)).ok_or_else(|| {
            bad(format!(
                "layer {}: Add bias is not a float initializer",
                layers.len()
            ))
        })?;
        let &[inputs_n, outputs_n] = w.dims.as_slice() else {
            return Err(bad(format!(
                "layer {}: weights of shape {:?}",
                layers.len(),
                w.dims
            )));
        };
        if b.floats.len() != outputs_n
            || !matches!(b.dims.as_slice(), [o] | [1, o] if *o == outputs_n)
        {
            return Err(bad(format!(
                "layer {}: bias of shape {:?} for {outputs_n} outputs",
                layers.len(),
                b.dims
            )));
        }
        if let Some(prev) = layers.last() {
            if prev.outputs != inputs_n {
                return Err(bad(format!(
                    "layer {} takes {inputs_n} inputs, layer {} gives {}",
                    layers.len(),
                    layers.len() - 1,
                    prev.outputs
                )));
            }
        }
        layers.push(Layer {
            inputs: inputs_n,
            outputs: outputs_n,
            weights: w.floats.clone(),
            bias: b.floats.clone(),
        });
        let act = consumer(&output(add)?)?;
        match act.op.as_str() {
            "Relu" => cur = output(act)?,
            "Softmax" => {
                // Over the class axis: the last of [N, classes].
                return match act.ints.iter().find(|(n, _)| n == "axis") {
                    None | Some((_, -1 | 1)) => Ok(Mlp { layers }),
                    Some((_, axis)) => Err(bad(format!("Softmax over axis {axis}"))),
                };
            }
            op => {
                return Err(bad(format!(
                    "layer {}: {op} after Add; only Relu between layers and Softmax at the end are supported",
                    layers.len() - 1
                )))
            }
        }
    }
}

fn output(n: &Node) -> Result<String, ModelError> {
    n.outputs
        .first()
        .cloned()
        .ok_or_else(|| bad(format!("{} node without output", n.op)))
}

fn expect_op(n: &Node, op: &str, layer: usize) -> Result<(), ModelError> {
    if n.op == op {
        Ok(())
    } else {
        Err(bad(format!("layer {layer}: expected {op}, found {}", n.op)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_shipped_mlp() {
        let mlp = read_mlp(super::super::EMBEDDED_ONNX).unwrap();
        let first = &mlp.layers[0];
        assert_eq!(first.inputs, crate::features::FEATURE_DIM);
        assert_eq!(first.weights.len(), first.inputs * first.outputs);
        let last = mlp.layers.last().unwrap();
        assert_eq!(last.outputs, crate::features::CLASSES.len());
        assert!(mlp
            .layers
            .iter()
            .all(|l| l.weights.iter().chain(&l.bias).all(|x| x.is_finite())));
        assert!(first.weights.iter().any(|&x| x != 0.0));
    }

    #[test]
    fn refuses_what_is_not_an_mlp() {
        for (bytes, needle) in [
            (&b""[..], "no graph"),
            (&b"\x3a\x02\x0a\x00"[..], "graph input"),
            (&b"\x3a\xff"[..], "truncated"),
            (&b"\x3a\x02\x0a\x10"[..], "past the end"),
        ] {
            let e = read_mlp(bytes).unwrap_err().to_string();
            assert!(e.contains(needle), "{e}");
        }
        // A truncated shipped model never panics and never loads.
        let onnx = super::super::EMBEDDED_ONNX;
        for cut in [10, 1000, onnx.len() / 2, onnx.len() - 3] {
            assert!(read_mlp(&onnx[..cut]).is_err(), "cut at {cut}");
        }
    }
}
