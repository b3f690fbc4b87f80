//! `apiward`: the native CLI over the same engine the filter runs.
//!
//! ```text
//! apiward score FILE.jsonl [--config CFG.json] [--model M.onnx --metadata M.json]
//! apiward eval --in FILE.jsonl [--config ..] [--model .. --metadata ..] [--out RESULTS.jsonl] [--json]
//! apiward featurize --in FILE.jsonl --out ROWS.svm [--rows ROWS.jsonl] [--config CFG.json]
//! apiward schema
//! apiward config-schema
//! ```
//! FILE `-` reads standard input. Exit status: 0 ok, 1 bad input, 2 usage.

use std::collections::BTreeMap;
use std::fs;
use std::io::{self, BufRead, BufWriter, Write};
use std::process::ExitCode;
use std::time::Instant;

use apiward::config::{Config, ModelSource};
use apiward::corpus::RequestRecord;
use apiward::engine::{request_rows, Engine};
use apiward::features::{self, CLASSES, FEATURE_DIM};
use apiward::model::ModelMetadata;
use apiward::policy::{Action, ProbeFinding};

const USAGE: &str = "usage:
  apiward score FILE.jsonl [--config CFG.json] [--model M.onnx --metadata M.json]
  apiward eval --in FILE.jsonl [--config CFG.json] [--model M.onnx --metadata M.json] [--out RESULTS.jsonl] [--json]
  apiward featurize --in FILE.jsonl --out ROWS.svm [--rows ROWS.jsonl] [--config CFG.json]
  apiward schema
  apiward config-schema   (JSON schema of the plugin configuration)
Each input line is a request: {\"method\",\"uri\",\"headers\",\"body\"} (+ \"label\" for eval).";

struct Args {
    positional: Vec<String>,
    options: BTreeMap<String, String>,
    flags: Vec<String>,
}

fn parse_args(raw: &[String]) -> Result<Args, String> {
    const FLAGS: &[&str] = &["--json"];
    let mut args = Args {
        positional: Vec::new(),
        options: BTreeMap::new(),
        flags: Vec::new(),
    };
    let mut it = raw.iter();
    while let Some(a) = it.next() {
        if FLAGS.contains(&a.as_str()) {
            args.flags.push(a.clone());
        } else if let Some(name) = a.strip_prefix("--") {
            let value = it.next().ok_or_else(|| format!("--{name} needs a value"))?;
            args.options.insert(name.to_string(), value.clone());
        } else {
            args.positional.push(a.clone());
        }
    }
    Ok(args)
}

fn read_input(path: &str) -> Result<Box<dyn BufRead>, String> {
    if path == "-" {
        Ok(Box::new(io::BufReader::new(io::stdin())))
    } else {
        let f = fs::File::open(path).map_err(|e| format!("{path}: {e}"))?;
        Ok(Box::new(io::BufReader::new(f)))
    }
}

fn load_config(args: &Args) -> Result<Config, String> {
    let mut config = match args.options.get("config") {
        Some(path) => {
            let bytes = fs::read(path).map_err(|e| format!("{path}: {e}"))?;
            Config::from_json(&bytes).map_err(|e| format!("{path}: invalid configuration: {e}"))?
        }
        None => Config::default(),
    };
    match (args.options.get("model"), args.options.get("metadata")) {
        (Some(m), Some(j)) => {
            let onnx = fs::read(m).map_err(|e| format!("{m}: {e}"))?;
            let json = fs::read_to_string(j).map_err(|e| format!("{j}: {e}"))?;
            let metadata = ModelMetadata::from_json(&json).map_err(|e| format!("{j}: {e}"))?;
            config.model = ModelSource::Inline {
                onnx,
                metadata: Box::new(metadata),
            };
        }
        (None, None) => {}
        _ => return Err("--model and --metadata go together".into()),
    }
    Ok(config)
}

fn engine(args: &Args) -> Result<Engine, String> {
    Engine::new(load_config(args)?).map_err(|e| format!("cannot load: {e}"))
}

/// Iterates over non-empty lines as records, with 1-based line numbers.
fn records(
    input: Box<dyn BufRead>,
) -> impl Iterator<Item = Result<(usize, RequestRecord), String>> {
    input.lines().enumerate().filter_map(|(i, line)| {
        let line = match line {
            Ok(l) => l,
            Err(e) => return Some(Err(format!("line {}: {e}", i + 1))),
        };
        if line.trim().is_empty() {
            return None;
        }
        Some(
            RequestRecord::from_json(&line)
                .map(|r| (i + 1, r))
                .map_err(|e| format!("line {}: {e}", i + 1)),
        )
    })
}

fn cmd_score(args: &Args) -> Result<(), String> {
    let path = args
        .positional
        .first()
        .or(args.options.get("in"))
        .ok_or("score needs FILE.jsonl")?;
    let engine = engine(args)?;
    let out = io::stdout();
    let mut out = BufWriter::new(out.lock());
    for rec in records(read_input(path)?) {
        let (line, rec) = rec?;
        let view = rec
            .to_view(engine.config().max_body_bytes)
            .map_err(|e| format!("line {line}: {e}"))?;
        let policy = engine.route(&view.path);
        let started = Instant::now();
        let result = if policy.skip {
            serde_json::json!({"line": line, "action": "skip"})
        } else {
            let ev = engine
                .evaluate(&view, &policy)
                .map_err(|e| format!("line {line}: {e}"))?;
            let d = &ev.decision;
            let mut result = serde_json::json!({
                "line": line,
                "action": d.action.as_str(),
                "enforced": d.blocks(),
                "mode": d.mode.as_str(),
                "class": d.class,
                "score": (f64::from(d.risk) * 1000.0).round() / 1000.0,
                "reasons": d.reasons,
                "values_scored": ev.rows,
                "micros": started.elapsed().as_micros() as u64,
            });
            if let Some(p) = &d.probe {
                result["probe"] = probe_json(p);
            }
            result
        };
        writeln!(out, "{result}").map_err(|e| e.to_string())?;
    }
    Ok(())
}

/// `{"category": "metadata", "rule": ".git"}`.
fn probe_json(p: &ProbeFinding) -> serde_json::Value {
    serde_json::json!({"category": p.category, "rule": p.rule, "location": p.location})
}

#[derive(Default)]
struct ClassStats {
    total: usize,
    denied: usize,
    annotated: usize,
    class_correct: usize,
}

fn percentile(sorted: &[u64], p: f64) -> u64 {
    if sorted.is_empty() {
        return 0;
    }
    let idx = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[idx.min(sorted.len() - 1)]
}

fn cmd_eval(args: &Args) -> Result<(), String> {
    let path = args
        .options
        .get("in")
        .or(args.positional.first())
        .ok_or("eval needs --in FILE.jsonl")?;
    let engine = engine(args)?;
    let mut results = match args.options.get("out") {
        Some(p) => Some(BufWriter::new(
            fs::File::create(p).map_err(|e| format!("{p}: {e}"))?,
        )),
        None => None,
    };
    let mut stats: BTreeMap<String, ClassStats> = BTreeMap::new();
    // confusion[label][predicted] at the deny threshold (predicted = benign below it).
    let mut confusion: BTreeMap<String, BTreeMap<String, usize>> = BTreeMap::new();
    let mut micros = Vec::new();
    // Requests whose path asked for a restricted resource: per label, and per rule.
    let mut probed: BTreeMap<String, usize> = BTreeMap::new();
    let mut probe_rules: BTreeMap<String, usize> = BTreeMap::new();
    for rec in records(read_input(path)?) {
        let (line, rec) = rec?;
        let label = rec
            .label
            .clone()
            .ok_or_else(|| format!("line {line}: eval needs \"label\""))?;
        let view = rec
            .to_view(engine.config().max_body_bytes)
            .map_err(|e| format!("line {line}: {e}"))?;
        let mut policy = engine.route(&view.path);
        policy.skip = false;
        let started = Instant::now();
        let ev = engine
            .evaluate(&view, &policy)
            .map_err(|e| format!("line {line}: {e}"))?;
        micros.push(started.elapsed().as_micros() as u64);
        let d = &ev.decision;
        let predicted = if d.action == Action::Deny {
            d.class.clone()
        } else {
            "benign".to_string()
        };
        let s = stats.entry(label.clone()).or_default();
        s.total += 1;
        s.denied += usize::from(d.action == Action::Deny);
        s.annotated += usize::from(d.action >= Action::Annotate);
        s.class_correct += usize::from(predicted == label);
        *confusion
            .entry(label.clone())
            .or_default()
            .entry(predicted.clone())
            .or_default() += 1;
        if let Some(p) = &d.probe {
            *probed.entry(label.clone()).or_default() += 1;
            *probe_rules
                .entry(format!("{}:{}", p.category, p.rule))
                .or_default() += 1;
        }
        if let Some(w) = results.as_mut() {
            let mut row = serde_json::json!({
                "line": line, "label": label, "action": d.action.as_str(), "class": d.class,
                "score": d.risk, "reasons": d.reasons,
            });
            if let Some(p) = &d.probe {
                row["probe"] = probe_json(p);
            }
            writeln!(w, "{row}").map_err(|e| e.to_string())?;
        }
    }
    micros.sort_unstable();
    let benign = stats.get("benign");
    let fpr = benign.map(|b| b.denied as f64 / b.total.max(1) as f64);
    let fpr_annotate = benign.map(|b| b.annotated as f64 / b.total.max(1) as f64);
    let attack_total: usize = stats
        .iter()
        .filter(|(k, _)| *k != "benign")
        .map(|(_, s)| s.total)
        .sum();
    let attack_denied: usize = stats
        .iter()
        .filter(|(k, _)| *k != "benign")
        .map(|(_, s)| s.denied)
        .sum();
    let per_class: BTreeMap<&String, serde_json::Value> = stats
        .iter()
        .filter(|(k, _)| *k != "benign")
        .map(|(k, s)| {
            let predicted_as_k: usize = confusion.values().filter_map(|row| row.get(k)).sum();
            (k, serde_json::json!({
                "n": s.total,
                "recall": s.denied as f64 / s.total.max(1) as f64,
                "class_accuracy": s.class_correct as f64 / s.total.max(1) as f64,
                "precision": if predicted_as_k == 0 { serde_json::Value::Null } else {
                    serde_json::json!(confusion.get(k).and_then(|r| r.get(k)).copied().unwrap_or(0) as f64 / predicted_as_k as f64)
                },
            }))
        })
        .collect();
    let summary = serde_json::json!({
        "requests": micros.len(),
        "model_sha256": engine.model_sha256(),
        "benign": {"n": benign.map(|b| b.total).unwrap_or(0), "fpr_deny": fpr, "fpr_annotate": fpr_annotate},
        "attacks": {"n": attack_total, "recall": attack_denied as f64 / attack_total.max(1) as f64},
        "per_class": per_class,
        "confusion": confusion,
        "probes": {"by_label": probed, "by_rule": probe_rules},
        "micros": {"p50": percentile(&micros, 0.5), "p99": percentile(&micros, 0.99)},
    });
    if args.flags.iter().any(|f| f == "--json") {
        println!("{summary}");
        return Ok(());
    }
    println!(
        "requests: {}   model sha256: {}",
        micros.len(),
        engine.model_sha256()
    );
    if let Some(b) = benign {
        println!(
            "benign: n={}  FPR(deny)={:.4}%  FPR(annotate)={:.4}%",
            b.total,
            fpr.unwrap_or(0.0) * 100.0,
            fpr_annotate.unwrap_or(0.0) * 100.0
        );
    }
    println!(
        "{:<16} {:>7} {:>8} {:>10} {:>10}",
        "class", "n", "recall", "precision", "class-acc"
    );
    for (k, v) in &per_class {
        println!(
            "{:<16} {:>7} {:>7.2}% {:>10} {:>9.2}%",
            k,
            v["n"],
            v["recall"].as_f64().unwrap_or(0.0) * 100.0,
            v["precision"]
                .as_f64()
                .map(|p| format!("{:.2}%", p * 100.0))
                .unwrap_or_else(|| "-".into()),
            v["class_accuracy"].as_f64().unwrap_or(0.0) * 100.0
        );
    }
    println!(
        "attacks overall: n={attack_total} recall={:.2}%",
        attack_denied as f64 / attack_total.max(1) as f64 * 100.0
    );
    let probed_total: usize = probed.values().sum();
    let probed_benign = probed.get("benign").copied().unwrap_or(0);
    println!(
        "restricted-resource probes: {probed_total} requests ({probed_benign} labelled benign){}",
        if probe_rules.is_empty() {
            String::new()
        } else {
            let rules: Vec<String> = probe_rules
                .iter()
                .map(|(r, n)| format!("{r}={n}"))
                .collect();
            format!(": {}", rules.join(" "))
        }
    );
    let labels: Vec<&String> = confusion.keys().collect();
    let mut predicted: Vec<String> = confusion.values().flat_map(|r| r.keys().cloned()).collect();
    predicted.sort();
    predicted.dedup();
    println!("confusion (rows: label, columns: predicted at the deny threshold)");
    print!("{:<16}", "");
    for p in &predicted {
        print!(" {:>8.8}", p);
    }
    println!();
    for l in labels {
        print!("{:<16}", l);
        for p in &predicted {
            print!(" {:>8}", confusion[l].get(p).copied().unwrap_or(0));
        }
        println!();
    }
    println!(
        "scoring time per request: p50={}us p99={}us",
        percentile(&micros, 0.5),
        percentile(&micros, 0.99)
    );
    Ok(())
}

fn cmd_featurize(args: &Args) -> Result<(), String> {
    let input = args
        .options
        .get("in")
        .ok_or("featurize needs --in FILE.jsonl")?;
    let output = args
        .options
        .get("out")
        .ok_or("featurize needs --out ROWS.svm")?;
    let config = load_config(args)?;
    let opts = apiward::request::InspectOptions {
        headers: &config.inspect_headers,
        other_headers: config.other_headers(),
        max_values: config.max_inspected_values,
        // Training sees every value; only serving skips the inert ones.
        skip_inert: false,
    };
    let mut out = BufWriter::new(fs::File::create(output).map_err(|e| format!("{output}: {e}"))?);
    let mut meta = match args.options.get("rows") {
        Some(p) => Some(BufWriter::new(
            fs::File::create(p).map_err(|e| format!("{p}: {e}"))?,
        )),
        None => None,
    };
    let (mut requests, mut rows, mut unmatched) = (0usize, 0usize, 0usize);
    for rec in records(read_input(input)?) {
        let (line, rec) = rec?;
        let label_name = rec.label.as_deref().unwrap_or("benign");
        let label = features::class_index(label_name).ok_or_else(|| {
            format!(
                "line {line}: unknown label {label_name:?}; known: {}",
                CLASSES.join(", ")
            )
        })?;
        let view = rec
            .to_view(config.max_body_bytes)
            .map_err(|e| format!("line {line}: {e}"))?;
        let r = request_rows(&view, &opts);
        let payload = rec
            .payload
            .as_deref()
            .map(|p| apiward::decode::normalize(p).text);
        let mut matched = false;
        for (value, row) in r.values.iter().zip(&r.rows) {
            let loc = value.location.to_string();
            // The value holds the injected payload (normalised as the features read it).
            let carries_payload = || {
                payload.as_ref().is_some_and(|p| {
                    apiward::decode::normalize(&value.raw)
                        .text
                        .contains(p.as_str())
                })
            };
            let is_target = label != 0
                && match (&rec.target, &payload) {
                    // The injected value, or a part of it (leaves of an injected JSON object,
                    // and of a JSON document inside the injected value: `json:$.meta>$.a`,
                    // `json:query:filter>$.a` for target `query:filter`).
                    (Some(t), _) => {
                        loc == *t
                            || loc
                                .strip_prefix(t.as_str())
                                .is_some_and(|rest| rest.starts_with(['.', '[', '#', '>']))
                            || loc
                                .strip_prefix("json:")
                                .and_then(|l| l.strip_prefix(t.as_str()))
                                .is_some_and(|rest| rest.starts_with('>'))
                    }
                    (None, Some(_)) => carries_payload(),
                    (None, None) => true,
                };
            // A text node or attribute of an XML document injected whole (`body` target): the
            // leaf that carries the payload is the attack; the others are pieces of it (a
            // gadget's class and method names, an XXE's element names), neither the attack nor
            // benign, so they are written with label -1 and left out of training (train.py),
            // while the request's risk is still their maximum.
            let piece = label != 0
                && value.location.kind == apiward::request::LocationKind::Xml
                && rec.target.as_deref() == Some("body");
            let is_target = is_target || (piece && carries_payload());
            matched |= is_target;
            let row_label: i64 = match (is_target, piece) {
                (true, _) => label as i64,
                (false, true) => -1,
                (false, false) => 0,
            };
            let mut line_out = row_label.to_string();
            for (i, x) in row.idx.iter().zip(&row.val) {
                line_out.push_str(&format!(" {i}:{x:.6}"));
            }
            writeln!(out, "{line_out}").map_err(|e| e.to_string())?;
            if let Some(m) = meta.as_mut() {
                let name = usize::try_from(row_label)
                    .ok()
                    .and_then(|l| CLASSES.get(l))
                    .copied()
                    .unwrap_or("excluded");
                let j = serde_json::json!({"line": line, "loc": loc, "label": name});
                writeln!(m, "{j}").map_err(|e| e.to_string())?;
            }
            rows += 1;
        }
        if label != 0 && !matched {
            unmatched += 1;
        }
        requests += 1;
    }
    out.flush().map_err(|e| e.to_string())?;
    eprintln!(
        "featurize: {requests} requests -> {rows} rows of {FEATURE_DIM} features; {unmatched} attack requests had no row matching their target/payload"
    );
    Ok(())
}

fn cmd_schema() -> Result<(), String> {
    let schema = serde_json::json!({
        "schema_version": features::SCHEMA_VERSION,
        "feature_dim": FEATURE_DIM,
        "classes": CLASSES,
        "feature_names": features::feature_names(),
    });
    println!("{schema}");
    Ok(())
}

#[cfg(feature = "schema")]
fn cmd_config_schema() -> Result<(), String> {
    let schema = apiward::config::json_schema();
    let text = serde_json::to_string_pretty(&schema).map_err(|e| e.to_string())?;
    println!("{text}");
    Ok(())
}

#[cfg(not(feature = "schema"))]
fn cmd_config_schema() -> Result<(), String> {
    Err(
        "built without the `schema` feature: cargo build --release --bin apiward --features schema"
            .into(),
    )
}

fn main() -> ExitCode {
    let raw: Vec<String> = std::env::args().skip(1).collect();
    let Some((command, rest)) = raw.split_first() else {
        eprintln!("{USAGE}");
        return ExitCode::from(2);
    };
    let args = match parse_args(rest) {
        Ok(a) => a,
        Err(e) => {
            eprintln!("apiward: {e}\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    let result = match command.as_str() {
        "score" => cmd_score(&args),
        "eval" => cmd_eval(&args),
        "featurize" => cmd_featurize(&args),
        "schema" => cmd_schema(),
        "config-schema" => cmd_config_schema(),
        "-h" | "--help" | "help" => {
            println!("{USAGE}");
            Ok(())
        }
        other => {
            eprintln!("apiward: unknown command {other:?}\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("apiward: {e}");
            ExitCode::from(1)
        }
    }
}
