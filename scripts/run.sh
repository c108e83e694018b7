#!/usr/bin/env bash
# Builds Tollgate (release) and runs the gateway in the foreground with the example config. The
# config's `smollm2` endpoint serves the SmolLM2 GGUF as a local model: the gateway starts its
# llama.cpp server on the first request, stops it when idle, and stops it on exit.
#
#   scripts/run.sh
#
# Environment:
#   TOLLGATE_CONFIG   config file (default examples/tollgate.yaml)
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
cd "$ROOT"

CONFIG="${TOLLGATE_CONFIG:-examples/tollgate.yaml}"

scripts/setup-python.sh
swift build -c release

# Read by the example config (`${TOLLGATE_SMOLLM2_GGUF}`, `${TOLLGATE_PYTHON}`).
export TOLLGATE_SMOLLM2_GGUF="${TOLLGATE_SMOLLM2_GGUF:-$(scripts/model-path.sh)}"
export TOLLGATE_PYTHON="${TOLLGATE_PYTHON:-$ROOT/.venv/bin/python}"

# exec: INT/TERM reach the gateway, which drains its recorder and stops the model process.
exec .build/release/tollgate serve --config "$CONFIG"
