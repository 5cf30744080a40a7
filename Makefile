# Two commands set up a fresh machine: `make demo` and `make test`. Both install what they need.
SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := help

NODE_STAMP := node_modules/.install-stamp
KAFKA := deploy/local/kafka.sh
export KAFKA_PORT ?= 19092
export KAFKA_BROKERS ?= 127.0.0.1:$(KAFKA_PORT)
export KAFKAJS_NO_PARTITIONER_WARNING := 1

.PHONY: help install build demo test test-unit kafka-up kafka-down kafka-status bench bench-parse bench-quality bench-memory clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed -E 's/:.*## /\t/' | expand -t 16

$(NODE_STAMP): package.json package-lock.json
	@# npm ci refuses this lock file: chdb names per-platform optional packages the registry does not serve,
	@# so npm install (which honours the lock file for everything it can resolve) is used instead.
	npm install --no-audit --no-fund --loglevel=error
	@touch $@

install: $(NODE_STAMP) ## install npm dependencies (npm ci)

build: $(NODE_STAMP) ## compile TypeScript into dist/
	rm -rf dist
	npx tsc -p tsconfig.json

kafka-up: ## start the local single-node Kafka broker (fetched from Maven Central on first use)
	$(KAFKA) start

kafka-down: ## stop the local Kafka broker
	$(KAFKA) stop

kafka-status:
	$(KAFKA) status

# The demo starts the broker if it is not running, and stops it afterwards only if it started it.
demo: build ## replay a generated scenario through every service and show the page arriving
	@if $(KAFKA) status >/dev/null 2>&1; then started=0; else $(KAFKA) start; started=1; fi; \
	rc=0; SW_LOCAL_SECRETS=1 bin/sessionwatch demo || rc=$$?; \
	if [ "$$started" = 1 ]; then $(KAFKA) stop; fi; exit $$rc

test-unit: build ## unit tests only (no Kafka, no ClickHouse)
	node --test --test-timeout=120000 dist/services dist/detectors

# Unit, integration and end-to-end tests in one run of node's test runner, against the real local broker
# and the embedded ClickHouse. A broker already running is used as it is; otherwise this target starts one on a
# data directory of its own, emptied before and after the run (a run creates a few thousand test partitions, and a
# broker that kept them run after run would run out of heap), and stops it afterwards (and first, if an
# interrupted run left it running).
TEST_KAFKA_DATA := $(CURDIR)/.cache/kafka/test-data-$(KAFKA_PORT)
test: build ## every test: unit, integration (real Kafka + ClickHouse) and end-to-end
	@if $(KAFKA) status >/dev/null 2>&1; then started=0; else \
	  KAFKA_DATA_DIR=$(TEST_KAFKA_DATA) $(KAFKA) stop 2>/dev/null; rm -rf $(TEST_KAFKA_DATA); \
	  KAFKA_DATA_DIR=$(TEST_KAFKA_DATA) $(KAFKA) start; started=1; fi; \
	rc=0; node --test --test-timeout=300000 dist/services dist/detectors dist/test || rc=$$?; \
	if [ "$$started" = 1 ]; then KAFKA_DATA_DIR=$(TEST_KAFKA_DATA) $(KAFKA) stop; rm -rf $(TEST_KAFKA_DATA); fi; exit $$rc

bench: build ## backtest throughput over a generated file of 200k+ events (median of 5 runs)
	node dist/bench/backtest-bench.js --runs 5

bench-quality: build ## detection quality on labeled traffic: recall, false positives per 10k sessions, time to detect
	node dist/bench/quality-bench.js

bench-memory: build ## detector state for a million active tokens (heap after GC), and read back from its checkpoint: a user per token, then OIDC sign-ins of three tokens; frozen bytes on disk (the default), then in memory
	for frozen in disk memory; do \
	  node --expose-gc --max-old-space-size=12288 dist/bench/memory-bench.js --frozen $$frozen --revisits 100000 --restore && \
	  node --expose-gc --max-old-space-size=12288 dist/bench/memory-bench.js --frozen $$frozen --profile oidc --revisits 100000 --restore || exit 1; \
	done

bench-parse: build ## collector throughput (parse, normalise, Avro) for Okta and Envoy lines (median of 5 runs)
	node dist/bench/parse-bench.js --runs 5

bench-alert: build ## alert decision + enqueue latency per detection (p50/p99, median of 5 runs)
	node dist/bench/alert-bench.js --runs 5

clean: ## remove build output, local data and the Kafka cache
	rm -rf dist data .cache
