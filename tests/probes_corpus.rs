//! What the restricted-resource probes' defaults (paths, and uploaded files' names) would match
//! on a labelled corpus (JSONL of requests with `uri` and `label`, as `apiward eval` reads them;
//! never committed): requests matched per label, and every benign request matched with its rule.
//! Ignored by default:
//!
//! ```sh
//! APIWARD_PROBE_CORPUS=models/train/.cache/work/bench.jsonl:models/train/.cache/work/test.jsonl \
//!   cargo test --release --test probes_corpus -- --ignored --nocapture
//! ```
//!
//! A `NAME.meta.jsonl` beside `NAME.jsonl` (the training pipeline writes one, line for line)
//! adds each request's `source` (`recorded:…` for recorded API calls).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{BufRead, BufReader};

use apiward::config::Config;
use apiward::corpus::RequestRecord;
use apiward::probes::Probes;

#[test]
#[ignore = "needs APIWARD_PROBE_CORPUS"]
fn probes_on_a_corpus() {
    let files =
        std::env::var("APIWARD_PROBE_CORPUS").expect("APIWARD_PROBE_CORPUS=a.jsonl:b.jsonl");
    let probes = Probes::new(&Config::default().probes);
    for file in files.split(':').filter(|f| !f.is_empty()) {
        let meta = file
            .strip_suffix(".jsonl")
            .map(|stem| format!("{stem}.meta.jsonl"))
            .and_then(|m| File::open(m).ok())
            .map(|f| BufReader::new(f).lines());
        let mut meta = meta.into_iter().flatten();
        let mut totals: BTreeMap<String, (usize, usize)> = BTreeMap::new();
        let mut benign_hits = Vec::new();
        let mut rules: BTreeMap<String, usize> = BTreeMap::new();
        for line in BufReader::new(File::open(file).expect(file)).lines() {
            let line = line.unwrap();
            let source = meta
                .next()
                .and_then(|m| m.ok())
                .and_then(|m| serde_json::from_str::<serde_json::Value>(&m).ok())
                .and_then(|m| m["source"].as_str().map(str::to_string))
                .unwrap_or_default();
            if line.trim().is_empty() {
                continue;
            }
            let rec = RequestRecord::from_json(&line).unwrap();
            let label = rec.label.clone().unwrap_or_else(|| "benign".into());
            let view = rec.to_view(0).unwrap();
            let hit = probes.check(&view.path).or_else(|| {
                view.uploaded_file_names()
                    .into_iter()
                    .find_map(|(_, name)| probes.check_upload(&name))
            });
            let t = totals.entry(label.clone()).or_default();
            t.0 += 1;
            if let Some(m) = hit {
                t.1 += 1;
                *rules
                    .entry(format!("{label} {}:{}", m.category.as_str(), m.rule))
                    .or_default() += 1;
                if label == "benign" {
                    benign_hits.push(format!("  {} {}  [{source}]", m.rule, view.path));
                }
            }
        }
        println!("{file}");
        for (label, (n, hit)) in &totals {
            println!("  {label:<16} {n:>7} requests, {hit:>5} matched");
        }
        for (rule, n) in &rules {
            println!("  rule {rule}: {n}");
        }
        println!("  benign requests matched: {}", benign_hits.len());
        for h in benign_hits.iter().take(50) {
            println!("{h}");
        }
    }
}
