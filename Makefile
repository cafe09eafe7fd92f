# The two commands of the README, and the checks CI runs before them.
# A target directory outside the clone is reused when one exists (cold builds are slow).
export CARGO_TARGET_DIR ?= $(if $(wildcard /work/target),/work/target,$(CURDIR)/target)

.PHONY: run serve test check bench load ui-test installers

## The desktop app in local mode: its own backend in-process, SQLite in the data directory.
run:
	scripts/install-deps
	scripts/ui-build
	cargo run --locked -p schild-desktop

## Only the backend, on 127.0.0.1:8700 with SQLite in the data directory.
serve:
	scripts/install-deps
	cargo run --locked -p schild -- serve

## The whole test suite: SQLite always, and the PostgreSQL at 127.0.0.1:5432 (database `test`);
## then the web UI's checks and its browser run against a real backend.
test:
	scripts/install-deps
	scripts/ui-build
	cargo nextest run --locked --workspace --all-features --no-fail-fast
	scripts/ui-test

## Formatting and lints, as CI runs them.
check:
	scripts/install-deps
	scripts/ui-build
	cargo fmt --all --check
	cargo clippy --locked --workspace --all-targets --all-features -- -D warnings

## Criterion benchmarks (results: BENCHMARKS.md).
bench:
	cargo bench --locked -p schild-core
	cargo bench --locked -p schild-server --bench authorization --bench webauthn

## Load run against a release build of the backend: login and refresh under wrk (figures: BENCHMARKS.md).
load:
	scripts/load

## The web UI's checks: svelte-check, vitest, API drift, build, and Chromium against a real backend.
ui-test:
	scripts/ui-test

## The desktop app's installers for this system (.deb on Linux; see installers/README.md).
installers:
	scripts/build-installers
