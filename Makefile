# Portcullis: `make run` serves with embedded defaults; `make test` runs every test.
# Both install the Debian packages they need first (you are root on the build machines).
# zbar-tools and librsvg2-bin (QR decoding) and chromium + chromium-driver (real-browser test) are for the interop tests only.

SWIFT        ?= swift
# Passed to every swift build and swift test below: a target that imports a module it does not
# declare in Package.swift fails the build (instead of compiling by luck of the build order).
SWIFT_BUILD_FLAGS ?= --explicit-target-dependency-import-check=error
BUILD_PACKAGES := libssl-dev libargon2-dev libsqlite3-dev libqrencode-dev pkg-config
# postgresql: the throwaway cluster the tests run the PostgreSQL backend against (scripts/test-postgres.sh);
# haproxy: the load balancer in front of three replicas in the failover test (Tests/interop/test_failover.py).
TEST_PACKAGES  := $(BUILD_PACKAGES) zbar-tools librsvg2-bin chromium chromium-driver sqlite3 postgresql haproxy
# docker-compose validates docker-compose.yml offline (make compose-check). Installed without
# recommends: with them apt also pulls the Docker engine (docker.io, containerd, runc…), which
# nothing here runs; without, it is docker-compose and 15 small python3-* packages.
TEST_PACKAGES_NO_RECOMMENDS := docker-compose
# make bench: the load generator, the baselines (OpenSSL, argon2 CLI, nginx) and the peer (glewlwyd).
BENCH_PACKAGES := $(BUILD_PACKAGES) wrk nginx argon2 openssl glewlwyd
VENV         := .venv-interop
PYTHON       := $(VENV)/bin/python
BIN          := .build/debug/portcullis
POLICY_BENCH := .build/debug/policy-bench

.PHONY: run test deps test-deps build swift-test interop interop-deps compose-check bench bench-build bench-deps soak bench-policy fuzz clean cli-reference

# Installs whichever of the given Debian packages are missing ($(2): extra apt-get install flags).
define install-missing
	@missing=""; for p in $(1); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "install ok installed" || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(2) $$missing; \
	fi
endef

deps:
	$(call install-missing,$(BUILD_PACKAGES))

test-deps:
	$(call install-missing,$(TEST_PACKAGES))
	$(call install-missing,$(TEST_PACKAGES_NO_RECOMMENDS),--no-install-recommends)

build: deps
	$(SWIFT) build $(SWIFT_BUILD_FLAGS) --product portcullis

run: build
	$(BIN) serve

# `swift test` builds the executable too, so the CLI and interop tests reuse its binary.
# scripts/with-test-postgres.sh starts a throwaway PostgreSQL in $(TEST_POSTGRES_DIR), exports
# PORTCULLIS_TEST_POSTGRES to the tests and stops it at the end, also on failure; a caller's own
# PORTCULLIS_TEST_POSTGRES is used instead. With CI=true, a cluster that cannot start fails the run.
TEST_POSTGRES_DIR := .build-postgres
test: test-deps
	PORTCULLIS_TEST_POSTGRES_DIR=$(TEST_POSTGRES_DIR) scripts/with-test-postgres.sh $(MAKE) --no-print-directory swift-test interop compose-check

# Every server the tests build watches its keys directory with one inotify instance; the kernel's
# default of 128 per user runs out when the suites run in parallel, so raise it when we may.
swift-test:
	@[ "$$(cat /proc/sys/fs/inotify/max_user_instances 2>/dev/null || echo 1024)" -ge 1024 ] || \
	  sysctl -q -w fs.inotify.max_user_instances=1024 2>/dev/null || echo "note: cannot raise fs.inotify.max_user_instances"
	$(SWIFT) test $(SWIFT_BUILD_FLAGS)

$(PYTHON): Tests/interop/requirements.txt
	python3 -m venv $(VENV)
	$(PYTHON) -m pip install -q --disable-pip-version-check -r Tests/interop/requirements.txt
	touch $(PYTHON)

interop-deps: $(PYTHON)

interop: interop-deps
	@test -x $(BIN) || $(SWIFT) build $(SWIFT_BUILD_FLAGS) --product portcullis
	@test -x $(POLICY_BENCH) || $(SWIFT) build $(SWIFT_BUILD_FLAGS) --product policy-bench
	PORTCULLIS_BIN=$(abspath $(BIN)) PORTCULLIS_POLICY_BENCH=$(abspath $(POLICY_BENCH)) $(PYTHON) -m pytest -q Tests/interop

# libFuzzer over the JWS/JWK parsers, the policy parser, the request decoders and the hot routes'
# strict JSON reader, FUZZ_SECONDS each (FUZZ_TARGETS=json runs one).
# Works on a copy of Fuzz/corpus in .build-fuzz; a crash input lands in .build-fuzz/crashes/TARGET/:
# copy it to Fuzz/crashes/TARGET/ so `make test` replays it from then on (FuzzCorpusTests).
# SWIFT_BACKTRACE=enable=no: Swift's own crash handler otherwise ends the process before libFuzzer
# writes the crash input; a fuzzer that exits non-zero fails the run even without one.
FUZZ_TARGETS ?= jws policy request json webauthn
FUZZ_SECONDS ?= 60
fuzz: deps
	@for t in $(FUZZ_TARGETS); do \
	  $(SWIFT) build $(SWIFT_BUILD_FLAGS) --build-path .build-fuzz -Xswiftc -sanitize=fuzzer -Xswiftc -DFUZZING --product fuzz-$$t || exit 1; \
	done
	@status=0; for t in $(FUZZ_TARGETS); do \
	  mkdir -p .build-fuzz/corpus/$$t .build-fuzz/crashes/$$t; cp Fuzz/corpus/$$t/* .build-fuzz/corpus/$$t/; \
	  echo "== fuzz-$$t for $(FUZZ_SECONDS) s"; \
	  SWIFT_BACKTRACE=enable=no .build-fuzz/debug/fuzz-$$t -max_total_time=$(FUZZ_SECONDS) -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
	    -artifact_prefix=.build-fuzz/crashes/$$t/ .build-fuzz/corpus/$$t >.build-fuzz/fuzz-$$t.log 2>&1; rc=$$?; \
	  grep -E "^(#[0-9]+[[:space:]]+DONE|==|stat::number_of_executed_units|SUMMARY|artifact_prefix|Test unit written|.*(Fatal error|Precondition failed))" .build-fuzz/fuzz-$$t.log; \
	  if [ $$rc -ne 0 ]; then echo "fuzz-$$t exited with $$rc (log: .build-fuzz/fuzz-$$t.log)"; status=1; fi; \
	  if ls .build-fuzz/crashes/$$t/* >/dev/null 2>&1; then echo "fuzz-$$t found crashes: $$(ls .build-fuzz/crashes/$$t)"; status=1; fi; \
	done; exit $$status

# Every benchmark of BENCHMARKS.md in one run (release build, 10 to 15 minutes): writes
# BENCHMARKS.md, bench/results.json and bench/verify-latency.png, and fails (exit 1, after writing
# them) on a regression against the last committed bench/results.json — a ratio to a same-run
# baseline more than 20 % worse, a raw figure more than 40 % (bench/checks.py) — on wrong answers,
# or on a degraded host (the argon2 CLI 1.3x slower than in that run); BENCH_WARN_ONLY=1 only reports it. Missed targets are listed and fail the run only with
# BENCH_REQUIRE_TARGETS=1. BENCH_SECONDS sets each load's length.
BENCH_VENV := .venv-bench
$(BENCH_VENV)/bin/python: bench/requirements.txt
	python3 -m venv $(BENCH_VENV)
	$(BENCH_VENV)/bin/pip install -q --disable-pip-version-check -r bench/requirements.txt
	touch $(BENCH_VENV)/bin/python

bench-deps: $(BENCH_VENV)/bin/python
	$(call install-missing,$(BENCH_PACKAGES))

bench-build: bench-deps
	$(SWIFT) build $(SWIFT_BUILD_FLAGS) -c release --product portcullis
	$(SWIFT) build $(SWIFT_BUILD_FLAGS) -c release --product token-mint
	$(SWIFT) build $(SWIFT_BUILD_FLAGS) -c release --product policy-bench
	$(SWIFT) build $(SWIFT_BUILD_FLAGS) -c release --product nio-healthz
	$(SWIFT) build $(SWIFT_BUILD_FLAGS) -c release --product nio-verify

bench: bench-build
	$(BENCH_VENV)/bin/python -m bench.run

# Ten minutes of verify load at half the peak rate, sampling the server's RSS (bench/soak.json).
soak: bench-build
	$(BENCH_VENV)/bin/python -m bench.soak

# One in-process decision on a generated policy of 1,000 roles and 10,000 rules (release build).
bench-policy: deps
	$(SWIFT) build $(SWIFT_BUILD_FLAGS) -c release --product policy-bench
	.build/release/policy-bench

# docs/CLI.md is generated from the binary's --help; the interop tests fail when it is stale.
cli-reference:
	@test -x $(BIN) || $(SWIFT) build $(SWIFT_BUILD_FLAGS) --product portcullis
	python3 scripts/cli_reference.py --binary $(BIN) --write docs/CLI.md

# docker-compose 1.29 validates the file offline; no Docker engine runs here. `make test`
# installs it (test-deps); run alone without it, this check is skipped with a message.
compose-check:
	@if command -v docker-compose >/dev/null 2>&1; then \
	  docker-compose -f docker-compose.yml config -q && echo "docker-compose.yml is valid" && \
	  PORTCULLIS_SECRETS_KEY=check docker-compose -f deploy/replicas/docker-compose.yml config -q && \
	  echo "deploy/replicas/docker-compose.yml is valid"; \
	else \
	  echo "compose-check skipped: docker-compose is not installed (apt-get install --no-install-recommends docker-compose)"; \
	fi

# Every build tree and venv the targets above make, and the Python caches the tests and bench leave.
# Not data/ nor Keys/: `make run` keeps its database and signing keys there.
clean:
	-@test ! -e $(TEST_POSTGRES_DIR) || scripts/test-postgres.sh stop $(TEST_POSTGRES_DIR)
	rm -rf .build .build-* .build_* .swiftpm $(VENV) $(BENCH_VENV) .pytest_cache .hypothesis .schemathesis test-output
	find . -name __pycache__ -type d -prune -not -path './.git/*' -exec rm -rf {} +
