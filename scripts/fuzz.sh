#!/usr/bin/env bash
# Runs each fuzz target (JSON, SSE, embedded JSON / Python literals, config loading) under
# libFuzzer for a bounded time, starting from the committed corpus in Fuzz/corpus/<target>.
#   scripts/fuzz.sh [SECONDS_PER_TARGET] [TARGET…]     (default: 20 s, every target)
# New inputs libFuzzer finds go to .build-fuzz/corpus/<target>; a crash leaves its input in
# .build-fuzz/crashes and fails the script.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
cd "$ROOT"
SECONDS_PER_TARGET="${1:-20}"
shift || true
TARGETS=("$@")
if [[ ${#TARGETS[@]} -eq 0 ]]; then TARGETS=(json sse embedded config); fi

echo "==> swift build (tollgate-fuzz, -sanitize=fuzzer)"
swift build --scratch-path .build-fuzz --product tollgate-fuzz \
  -Xswiftc -sanitize=fuzzer -Xswiftc -parse-as-library -Xswiftc -DTOLLGATE_FUZZING -Xswiftc -use-ld=lld
BIN="$(swift build --scratch-path .build-fuzz --show-bin-path -Xswiftc -sanitize=fuzzer)/tollgate-fuzz"

mkdir -p .build-fuzz/crashes
for target in "${TARGETS[@]}"; do
  mkdir -p ".build-fuzz/corpus/$target"
  echo "==> fuzz $target for ${SECONDS_PER_TARGET}s"
  # Swift's own crash reporter would take the signal before libFuzzer saves the input.
  status=0
  SWIFT_BACKTRACE=enable=no TOLLGATE_FUZZ_TARGET="$target" "$BIN" -max_total_time="$SECONDS_PER_TARGET" -max_len=65536 -timeout=10 \
    -rss_limit_mb=2048 -artifact_prefix=".build-fuzz/crashes/$target-" -print_final_stats=1 \
    ".build-fuzz/corpus/$target" "Fuzz/corpus/$target" > ".build-fuzz/$target.log" 2>&1 || status=$?
  grep -E "^(Done|stat::number_of_executed_units|SUMMARY)" ".build-fuzz/$target.log" || true
  if [[ $status -ne 0 ]]; then
    tail -30 ".build-fuzz/$target.log" >&2
    echo "fuzz $target: libFuzzer exited with $status; the input is in .build-fuzz/crashes" >&2
    exit 1
  fi
  if compgen -G ".build-fuzz/crashes/$target-*" > /dev/null; then
    echo "fuzz $target: crash inputs in .build-fuzz/crashes" >&2
    exit 1
  fi
done
echo "fuzz: ${#TARGETS[@]} targets ran ${SECONDS_PER_TARGET}s each without a crash"
