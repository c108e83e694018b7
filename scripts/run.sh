#!/usr/bin/env bash
# Builds Tollgate (release), starts the local SmolLM2 model server in the background and runs the
# gateway in the foreground with the example config.
#
#   scripts/run.sh
#
# Environment:
#   TOLLGATE_CONFIG       config file (default examples/tollgate.yaml)
#   TOLLGATE_MODEL_PORT   port of the local model server (default 8081); the example config
#                         reads TOLLGATE_LOCAL_MODEL_URL, which is set from it
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
cd "$ROOT"

CONFIG="${TOLLGATE_CONFIG:-examples/tollgate.yaml}"
MODEL_PORT="${TOLLGATE_MODEL_PORT:-8081}"
STATE="$ROOT/.tollgate"
MODEL_LOG="$STATE/model.log"
export TOLLGATE_LOCAL_MODEL_URL="${TOLLGATE_LOCAL_MODEL_URL:-http://127.0.0.1:$MODEL_PORT/v1}"

scripts/setup-python.sh
swift build -c release

mkdir -p "$STATE"
MODEL_PID=""
GATEWAY_PID=""
stop() {
  local pid="$1"
  if [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  fi
}
cleanup() {
  stop "$GATEWAY_PID"
  stop "$MODEL_PID"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

scripts/start-model.sh "$MODEL_PORT" >"$MODEL_LOG" 2>&1 &
MODEL_PID=$!
echo "model server starting on 127.0.0.1:$MODEL_PORT (log: $MODEL_LOG)" >&2

MODEL_URL="http://127.0.0.1:$MODEL_PORT/v1/models"
for _ in $(seq 1 240); do
  if ! kill -0 "$MODEL_PID" 2>/dev/null; then
    echo "model server exited; last lines of $MODEL_LOG:" >&2
    tail -n 40 "$MODEL_LOG" >&2 || true
    exit 1
  fi
  if "$ROOT/.venv/bin/python" -c "import sys, urllib.request; urllib.request.urlopen(sys.argv[1], timeout=2)" "$MODEL_URL" 2>/dev/null; then
    break
  fi
  sleep 0.5
done
if ! "$ROOT/.venv/bin/python" -c "import sys, urllib.request; urllib.request.urlopen(sys.argv[1], timeout=2)" "$MODEL_URL" 2>/dev/null; then
  echo "model server did not answer on $MODEL_URL; last lines of $MODEL_LOG:" >&2
  tail -n 40 "$MODEL_LOG" >&2 || true
  exit 1
fi
echo "model server ready" >&2

# The gateway runs as a child so that INT/TERM sent to this script stop it (it drains its
# recorder on TERM) and then the model server.
.build/release/tollgate serve --config "$CONFIG" &
GATEWAY_PID=$!
status=0
wait "$GATEWAY_PID" || status=$?
GATEWAY_PID=""
exit "$status"
