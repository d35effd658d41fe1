# partnergate — build, test and lint.
#
#   make run             serve on 127.0.0.1:8080 (embedded defaults, dev mode)
#   make build           bin/partnergate with version/commit stamped in
#   make test            vet + race tests against real PostgreSQL and Redis
#                        (started via .ci/services unless the URLs are set)
#   make test-short      go test ./... with no services (their tests skip)
#   make lint            go mod tidy -diff, gofmt, go vet, staticcheck
#   make fuzz            each fuzz target for FUZZTIME (default 10s)
#   make services-start / services-stop
#
# CI runs `bash .ci/run`, which starts the services itself and calls
# `make test` and `make fuzz`.

SHELL := bash

GO       ?= go
PKG      := ./cmd/partnergate
BIN      := bin/partnergate
FUZZTIME ?= 10s

# staticcheck 2025.1.1 is module version v0.6.1 (the proxy does not resolve
# the "2025.1.1" spelling); `make lint` falls back to @latest if it can't be
# fetched.
STATICCHECK ?= honnef.co/go/tools/cmd/staticcheck@v0.6.1

# Where .ci/services keeps its state (and the env file `make test` sources).
SERVICES_DIR ?= $(or $(PARTNERGATE_SERVICES_DIR),/tmp/partnergate-services-$(shell id -u))
export PARTNERGATE_SERVICES_DIR := $(SERVICES_DIR)

VERSION := $(shell git describe --always --dirty 2>/dev/null || echo dev)
COMMIT  := $(shell git rev-parse --short=12 HEAD 2>/dev/null || echo unknown)
LDFLAGS := -X main.version=$(VERSION) -X main.commit=$(COMMIT)

.PHONY: all run build test test-short lint fuzz services-start services-stop clean bench soak

all: build

run:
	$(GO) run $(PKG) serve --dev

build:
	$(GO) build -ldflags '$(LDFLAGS)' -o $(BIN) $(PKG)

# Services: if both URLs are already in the environment they are used as-is
# and nothing is started or stopped. Otherwise .ci/services starts them (and
# they are stopped afterwards, unless they were already running before).
# A URL left unset means that store's tests skip (or fail, under CI=true).
test:
	@started=0; \
	if [ -z "$${PARTNERGATE_TEST_DATABASE_URL:-}" ] || [ -z "$${PARTNERGATE_TEST_REDIS_URL:-}" ]; then \
		user_db="$${PARTNERGATE_TEST_DATABASE_URL:-}"; user_redis="$${PARTNERGATE_TEST_REDIS_URL:-}"; \
		bash .ci/services status >/dev/null 2>&1 || started=1; \
		if [ $$started = 1 ]; then trap 'bash .ci/services stop' EXIT; trap 'exit 130' INT TERM; fi; \
		bash .ci/services start >/dev/null || exit 1; \
		. "$(SERVICES_DIR)/env"; \
		if [ -n "$$user_db" ]; then export PARTNERGATE_TEST_DATABASE_URL="$$user_db"; fi; \
		if [ -n "$$user_redis" ]; then export PARTNERGATE_TEST_REDIS_URL="$$user_redis"; fi; \
	fi; \
	echo "== test services"; \
	if [ -n "$${PARTNERGATE_TEST_DATABASE_URL:-}" ]; then echo "   PostgreSQL: $$PARTNERGATE_TEST_DATABASE_URL"; \
	else echo "   PostgreSQL: none — Postgres tests will be SKIPPED$${CI:+ (CI=$$CI: they will FAIL)}"; fi; \
	if [ -n "$${PARTNERGATE_TEST_REDIS_URL:-}" ]; then echo "   Redis:      $$PARTNERGATE_TEST_REDIS_URL"; \
	else echo "   Redis:      none — Redis tests will be SKIPPED$${CI:+ (CI=$$CI: they will FAIL)}"; fi; \
	echo "== go vet ./..."; \
	$(GO) vet ./... || exit $$?; \
	echo "== go test -race -count=1 -timeout 12m ./..."; \
	$(GO) test -race -count=1 -timeout 12m ./...

test-short:
	$(GO) test ./...

lint:
	@echo "== go mod tidy -diff"; \
	$(GO) mod tidy -diff || { echo "go.mod/go.sum are not tidy: run go mod tidy"; exit 1; }
	@echo "== gofmt -l ."; \
	out=$$(gofmt -l .); \
	if [ -n "$$out" ]; then echo "gofmt: these files need formatting:"; echo "$$out"; exit 1; fi
	@echo "== go vet ./..."
	@$(GO) vet ./...
	@sc='$(STATICCHECK)'; \
	if ! $(GO) run "$$sc" -version >/dev/null 2>&1; then \
		echo "!! $$sc is not fetchable; falling back to @latest"; \
		sc="$${sc%@*}@latest"; \
	fi; \
	echo "== staticcheck ($$($(GO) run "$$sc" -version)) ./..."; \
	$(GO) run "$$sc" ./...

# One target at a time: -fuzz must match exactly one function per package.
fuzz:
	@set -o pipefail; \
	mod=$$($(GO) list -m) || exit 1; \
	list=$$($(GO) test -list '^Fuzz' ./... | awk '/^Fuzz/ { names[n++] = $$1; next } \
		/^ok / { for (i = 0; i < n; i++) print $$2, names[i]; n = 0 }') || { echo "fuzz: listing fuzz targets failed"; exit 1; }; \
	if [ -z "$$list" ]; then echo "fuzz: no fuzz targets"; exit 0; fi; \
	while read -r pkg name; do \
		dir="./$${pkg#$$mod/}"; [ "$$pkg" = "$$mod" ] && dir=.; \
		echo "== fuzz $$name in $$dir for $(FUZZTIME)"; \
		$(GO) test -run '^$$' -fuzz "^$$name$$" -fuzztime $(FUZZTIME) "$$dir" || exit $$?; \
	done <<< "$$list"

services-start:
	@bash .ci/services start

services-stop:
	@bash .ci/services stop

clean:
	rm -rf bin

# Speed, measured (never asserted by `make test`): cmd/pgbench builds the real
# binary, serves it against PostgreSQL and Redis when .ci/services can start
# them (the embedded default otherwise) and prints one table of ratios.
# BENCHFLAGS, e.g. -quick (a short smoke run) or -o bench.md; see
# docs/benchmarks.md.
BENCHFLAGS ?=
bench:
	@started=0; \
	if [ -z "$${PARTNERGATE_TEST_DATABASE_URL:-}" ] || [ -z "$${PARTNERGATE_TEST_REDIS_URL:-}" ]; then \
		bash .ci/services status >/dev/null 2>&1 || started=1; \
		if [ $$started = 1 ]; then trap 'bash .ci/services stop' EXIT; trap 'exit 130' INT TERM; fi; \
		if bash .ci/services start >/dev/null; then . "$(SERVICES_DIR)/env"; \
		else echo "== services did not start: the bench runs embedded"; fi; \
	fi; \
	$(GO) run ./cmd/pgbench $(BENCHFLAGS)

# Soak: the real binary on PostgreSQL and Redis under a mixed workload
# (registrations, logins, session checks, settings, batches, bad input),
# first as fast as it goes to measure capacity, then at half of it for
# SOAK_DURATION; reports calls, outcomes by code, p50/p99, and the gateway's
# RSS and goroutines over the run, and fails on any -32603 or a leak. Starts
# the services like `make test` (they are required here).
SOAK_DURATION ?= 5m
soak:
	@started=0; \
	if [ -z "$${PARTNERGATE_TEST_DATABASE_URL:-}" ] || [ -z "$${PARTNERGATE_TEST_REDIS_URL:-}" ]; then \
		bash .ci/services status >/dev/null 2>&1 || started=1; \
		if [ $$started = 1 ]; then trap 'bash .ci/services stop' EXIT; trap 'exit 130' INT TERM; fi; \
		bash .ci/services start --require >/dev/null || exit 1; \
		. "$(SERVICES_DIR)/env"; \
	fi; \
	PARTNERGATE_SOAK=1 PARTNERGATE_SOAK_DURATION=$(SOAK_DURATION) \
		$(GO) test -run '^TestSoak$$' -count=1 -v -timeout 60m $(PKG)
