"""CI check of the shipped model (`make model-check`).

1. models/apiward.onnx matches the sha256 in models/apiward.json;
2. `apiward eval` loads it through tract (the CLI refuses a model whose checksum, schema version,
   width or classes disagree with the metadata) and scores a smoke corpus generated fresh from
   registry packages the model never trained on (`pipeline.py --smoke-corpus`);
3. recall and false-positive rate stay within bounds that a broken model (wrong weights, shifted
   features, swapped classes, a threshold of 1.0) cannot meet, while leaving room for the noise of
   a few hundred requests.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import subprocess
import sys
import tempfile

# Bounds for 1,200 requests (50 per attack class); the shipped model's figures on the full test split are in MODEL_CARD.md.
MIN_ATTACK_RECALL = 0.90
MIN_CLASS_RECALL = 0.75      # every class with at least 10 smoke examples
MAX_BENIGN_FPR = 0.02
MIN_CLASS_ACCURACY = 0.60    # detected and named with the right class


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--cli", required=True)
    ap.add_argument("--corpus", required=True)
    ap.add_argument("--models", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
    args = ap.parse_args()

    with open(os.path.join(args.models, "apiward.json")) as f:
        meta = json.load(f)
    with open(os.path.join(args.models, "apiward.onnx"), "rb") as f:
        sha = hashlib.sha256(f.read()).hexdigest()
    problems = []
    if sha != meta.get("onnx_sha256"):
        problems.append(f"models/apiward.onnx sha256 {sha} != apiward.json onnx_sha256 {meta.get('onnx_sha256')}")

    onnx, meta_path = os.path.join(args.models, "apiward.onnx"), os.path.join(args.models, "apiward.json")
    # the model alone: the restricted-resource probes (rules beside it) off
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as cfg:
        json.dump({"probes": {"enabled": False}}, cfg)
    p = subprocess.run([args.cli, "eval", "--in", args.corpus, "--model", onnx, "--metadata", meta_path, "--config", cfg.name, "--json"],
                       capture_output=True, text=True)
    os.unlink(cfg.name)
    if p.returncode != 0:
        print(p.stderr, file=sys.stderr)
        problems.append("apiward eval could not load or run the shipped model")
        return report(problems, None)
    summary = json.loads(p.stdout.strip().splitlines()[-1])
    if summary.get("model_sha256") != meta.get("onnx_sha256"):
        problems.append(f"tract loaded a model with sha256 {summary.get('model_sha256')}")
    recall = summary["attacks"]["recall"]
    fpr = summary["benign"]["fpr_deny"]
    if recall < MIN_ATTACK_RECALL:
        problems.append(f"attack recall {recall:.1%} < {MIN_ATTACK_RECALL:.0%}")
    if fpr > MAX_BENIGN_FPR:
        problems.append(f"benign FPR {fpr:.2%} > {MAX_BENIGN_FPR:.0%}")
    for cls, v in summary["per_class"].items():
        if v["n"] >= 10 and v["recall"] < MIN_CLASS_RECALL:
            problems.append(f"{cls}: recall {v['recall']:.1%} < {MIN_CLASS_RECALL:.0%} (n = {v['n']})")
        if v["n"] >= 10 and v["class_accuracy"] < MIN_CLASS_ACCURACY:
            problems.append(f"{cls}: class accuracy {v['class_accuracy']:.1%} < {MIN_CLASS_ACCURACY:.0%} (n = {v['n']})")
    return report(problems, summary)


def report(problems: list[str], summary: dict | None) -> int:
    if summary:
        print(f"model {summary['model_sha256'][:16]}…: {summary['requests']} requests, "
              f"attack recall {summary['attacks']['recall']:.1%} (n = {summary['attacks']['n']}), "
              f"benign FPR {summary['benign']['fpr_deny']:.2%} (n = {summary['benign']['n']}), "
              f"p50 {summary['micros']['p50']} µs")
        for cls, v in sorted(summary["per_class"].items()):
            print(f"  {cls:16} n={v['n']:4}  recall {v['recall']:.1%}  class accuracy {v['class_accuracy']:.1%}")
    for p in problems:
        print(f"FAIL: {p}", file=sys.stderr)
    if not problems:
        print("model check: ok")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
