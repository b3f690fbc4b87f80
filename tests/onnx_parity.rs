//! The filter runs the shipped MLP itself ([`MlpScorer`], from the weights build.rs read out of
//! the ONNX file), and natively the same MLP runs as a tract graph with a sparse first layer
//! ([`TractScorer`]). This holds both to the reference: the same ONNX file run as it is by
//! tract's ONNX front end on dense feature rows.
#![allow(clippy::unwrap_used)]

use apiward::features::{self, SparseRow, FEATURE_DIM};
use apiward::model::{
    MlpScorer, ModelMetadata, Scorer, TractScorer, EMBEDDED_METADATA, EMBEDDED_ONNX,
};
use apiward::request::{InspectedValue, Location, LocationKind};
use tract_onnx::prelude::*;

/// Values with every kind of text the filter meets: prose and markup from this repository's own
/// README, source lines full of punctuation, and the attack strings of the keyword families.
fn values() -> Vec<InspectedValue> {
    let texts = [
        include_str!("../README.md"),
        include_str!("../src/features/keywords.rs"),
        include_str!("../src/decode.rs"),
    ];
    let kinds = LocationKind::ALL;
    texts
        .iter()
        .flat_map(|t| t.lines())
        .filter(|l| !l.trim().is_empty())
        .enumerate()
        .map(|(i, line)| InspectedValue {
            location: Location {
                kind: kinds[i % kinds.len()],
                name: "v".into(),
            },
            raw: line.trim().into(),
        })
        .collect()
}

#[test]
fn sparse_tract_graph_matches_the_onnx_file_run_by_tract_onnx() {
    let meta = ModelMetadata::from_json(EMBEDDED_METADATA).unwrap();
    let classes = meta.classes.len();
    let scorers: Vec<(&str, Box<dyn Scorer>)> = vec![
        (
            "tract graph",
            Box::new(TractScorer::load(EMBEDDED_ONNX, meta.clone()).unwrap()),
        ),
        (
            "MLP, embedded",
            Box::new(MlpScorer::embedded(meta.clone()).unwrap()),
        ),
        (
            "MLP, from ONNX",
            Box::new(MlpScorer::load(EMBEDDED_ONNX, meta).unwrap()),
        ),
    ];
    let reference = tract_onnx::onnx()
        .model_for_read(&mut &*EMBEDDED_ONNX)
        .unwrap()
        .with_input_fact(0, f32::fact([1, FEATURE_DIM]).into())
        .unwrap()
        .into_optimized()
        .unwrap()
        .into_runnable()
        .unwrap();

    let values = values();
    assert!(values.len() > 1000, "{} values", values.len());
    let rows: Vec<SparseRow> = values.iter().map(features::extract_sparse).collect();
    let want: Vec<Vec<f32>> = rows
        .iter()
        .map(|row| {
            let mut dense = vec![0f32; FEATURE_DIM];
            row.scatter(&mut dense);
            let out = reference
                .run(tvec!(Tensor::from_shape(&[1, FEATURE_DIM], &dense)
                    .unwrap()
                    .into_tvalue()))
                .unwrap();
            // skl2onnx outputs: label, then probabilities.
            out[1]
                .to_plain_array_view::<f32>()
                .unwrap()
                .iter()
                .copied()
                .collect()
        })
        .collect();
    let risky = want.iter().filter(|w| w[0] < 0.5).count();
    for (name, scorer) in &scorers {
        // One batch of every row (as a request with many values is scored), and rows alone,
        // the batch twice (buffers are reused between runs).
        let batched = scorer.score(&rows).unwrap();
        assert_eq!(scorer.score(&rows).unwrap(), batched, "{name}: second run");
        let mut worst = 0f32;
        for (r, (row, want)) in rows.iter().zip(&want).enumerate() {
            let alone = scorer.score(std::slice::from_ref(row)).unwrap();
            let got = &batched[r * classes..(r + 1) * classes];
            for c in 0..classes {
                worst = worst
                    .max((got[c] - want[c]).abs())
                    .max((alone[c] - want[c]).abs());
            }
        }
        assert!(
            worst < 1e-5,
            "{name}: largest probability difference {worst}"
        );
    }
    assert!(risky > 50, "only {risky} rows scored as attacks");
}

#[test]
fn sparse_rows_are_ascending_and_hold_no_zeros() {
    for v in values() {
        let row = features::extract_sparse(&v);
        assert!(row.idx.windows(2).all(|w| w[0] < w[1]), "{:?}", v.raw);
        assert!(
            row.val.iter().all(|x| *x != 0.0 && x.is_finite()),
            "{:?}",
            v.raw
        );
        assert!(row.idx.iter().all(|&i| (i as usize) < FEATURE_DIM));
    }
}
