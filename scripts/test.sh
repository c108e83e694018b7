#!/usr/bin/env bash
# Runs every test: the Swift unit and integration tests (Swift Testing and XCTest), then the
# end-to-end suite (official openai SDK against the debug binary, a real local model and the
# built-in simulator). This is what CI runs.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
cd "$ROOT"

echo "==> swift build --build-tests"
swift build --build-tests

# The store tests run against both backends: SQLite files, and a throwaway PostgreSQL cluster
# on a free loopback port (Debian's package, installed when missing), stopped on exit.
echo "==> scripts/postgres.sh start (PostgreSQL for the store tests)"
PG_DIR="$(mktemp -d "${TMPDIR:-/tmp}/tollgate-test-pg.XXXXXX")"
stop_postgres() {
  scripts/postgres.sh stop "$PG_DIR" >/dev/null 2>&1 || true
  rm -rf "$PG_DIR"
}
trap stop_postgres EXIT
scripts/postgres.sh start "$PG_DIR" >/dev/null
TOLLGATE_TEST_POSTGRES_URL="$(scripts/postgres.sh url "$PG_DIR")"
export TOLLGATE_TEST_POSTGRES_URL

echo "==> swift test"
swift test

echo "==> fuzz corpus replay (every committed input through each target)"
for target in json sse embedded config; do .build/debug/tollgate-fuzz "$target" "Fuzz/corpus/$target"; done

echo "==> scripts/fuzz.sh (libFuzzer, bounded time per target)"
scripts/fuzz.sh "${TOLLGATE_FUZZ_SECONDS:-30}"

echo "==> scripts/setup-python.sh"
scripts/setup-python.sh

# The replica tests put two gateways behind Debian's nginx.
echo "==> scripts/ensure-package.sh nginx nginx"
scripts/ensure-package.sh nginx nginx

# `swift build --build-tests` above also built .build/debug/tollgate; a plain `swift build`
# here would recompile every module without testing enabled.
test -x .build/debug/tollgate

echo "==> pytest tests/e2e"
TOLLGATE_BIN="$ROOT/.build/debug/tollgate" .venv/bin/python -m pytest -q tests/e2e
