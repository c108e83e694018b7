#!/usr/bin/env bash
# Tollgate pipeline benchmark.
#
# Generates bronze rows of mixed shapes (bench/pipeline_data.py) into a Tollgate SQLite store and,
# identically, into a DuckDB database; then, in the same run, times `tollgate pipeline run`
# (bronze → silver → gold in SQLite) and the same extraction written as DuckDB SQL
# (bench/pipeline_duckdb.sql), each as its own process under /usr/bin/time -v, and reports rows/s
# and peak memory for both, the targets, and a side-by-side sanity check of what both produced.
#
# Usage: bench/pipeline.sh
#
# Environment:
#   BENCH_PIPELINE_ROWS   bronze rows to generate                                   [1000000]
#   BENCH_PIPELINE_SEED   generator seed                                            [20261125]
#   BENCH_PIPELINE_DIFF   1: compare every gold value of both systems row by row    [1]
#   BENCH_BIN             Tollgate binary                          [.build/release/tollgate]
#   BENCH_STRICT=1        exit 1 when a target is missed or the systems disagree
#   BENCH_KEEP=1          keep the temporary directory (store, DuckDB file, /usr/bin/time output)
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
ROWS="${BENCH_PIPELINE_ROWS:-1000000}"
SEED="${BENCH_PIPELINE_SEED:-20261125}"
DIFF="${BENCH_PIPELINE_DIFF:-1}"
BIN="${BENCH_BIN:-$ROOT/.build/release/tollgate}"
STRICT="${BENCH_STRICT:-0}"
KEEP="${BENCH_KEEP:-0}"
PY="$ROOT/.venv/bin/python"
MEMORY_TARGET_MB=500

log() { printf '[pipeline-bench] %s\n' "$*" >&2; }
die() { printf '[pipeline-bench] error: %s\n' "$*" >&2; exit 1; }

[[ "$ROWS" =~ ^[1-9][0-9]*$ ]] || die "BENCH_PIPELINE_ROWS must be a positive integer"
[[ "$SEED" =~ ^[0-9]+$ ]] || die "BENCH_PIPELINE_SEED must be a non-negative integer"
[[ "$DIFF" == 0 || "$DIFF" == 1 ]] || die "BENCH_PIPELINE_DIFF must be 0 or 1"

# ---------------------------------------------------------------------------------------------
# Tools
# ---------------------------------------------------------------------------------------------
if [[ ! -x /usr/bin/time ]]; then
  [[ "$(id -u)" == 0 ]] || die "/usr/bin/time is missing; install the Debian package 'time' (needs root)"
  command -v apt-get >/dev/null 2>&1 || die "/usr/bin/time is missing and apt-get is not available"
  log "apt-get install time"
  DEBIAN_FRONTEND=noninteractive apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq time >/dev/null
fi
if [[ ! -x "$PY" ]]; then
  log "creating the project virtualenv (scripts/setup-python.sh)"
  "$ROOT/scripts/setup-python.sh"
fi
if ! "$PY" -c 'import duckdb' 2>/dev/null; then
  log "pip install duckdb"
  "$ROOT/.venv/bin/pip" install --quiet duckdb
fi
"$PY" -c "import duckdb; duckdb.connect().execute(\"SELECT json_transform('{\\\"a\\\": 1}', '{\\\"a\\\": \\\"BIGINT\\\"}')\")" \
  || die "DuckDB's built-in json functions do not work"
DUCKDB_VERSION="$("$PY" -c 'import duckdb; print(duckdb.__version__)')"
DUCKDB_THREADS="$("$PY" -c "import duckdb; print(duckdb.connect().execute(\"SELECT current_setting('threads')\").fetchone()[0])")"
if [[ ! -x "$BIN" ]]; then
  log "$BIN not found: swift build -c release"
  (cd "$ROOT" && swift build -c release)
  [[ -x "$BIN" ]] || die "no binary at $BIN after the build"
fi

TMP="$(mktemp -d "${TMPDIR:-/tmp}/tollgate-pipeline-bench.XXXXXX")"
SUCCESS=0
cleanup() {
  if [[ "$KEEP" == 1 || "$SUCCESS" != 1 ]]; then
    log "temporary directory kept: $TMP"
  else
    rm -rf "$TMP"
  fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

STORE="$TMP/store.db"
DUCK="$TMP/bronze.duckdb"

# ---------------------------------------------------------------------------------------------
# Data
# ---------------------------------------------------------------------------------------------
"$BIN" pipeline status --store "sqlite:$STORE" >/dev/null   # creates the store (migrations)
log "generating $ROWS bronze rows"
DATA_START=$(date +%s)
"$PY" "$ROOT/bench/pipeline_data.py" --rows "$ROWS" --seed "$SEED" --store "$STORE" --duckdb "$DUCK" | tee "$TMP/data.out" >&2
DATA_SECONDS=$(( $(date +%s) - DATA_START ))
AVG_BYTES="$(sed -n 's/^average bytes per bronze row: \([0-9]*\).*/\1/p' "$TMP/data.out")"
AVG_PAYLOAD="$(sed -n 's/.*(request + response: \([0-9]*\)).*/\1/p' "$TMP/data.out")"
sync

# ---------------------------------------------------------------------------------------------
# Runs
# ---------------------------------------------------------------------------------------------
# Seconds from GNU time's "Elapsed (wall clock) time (h:mm:ss or m:ss): 1:02.03".
wall_seconds() {
  sed -n 's/^\s*Elapsed (wall clock) time (h:mm:ss or m:ss): //p' "$1" \
    | awk -F: '{ s = 0; for (i = 1; i <= NF; i++) s = s * 60 + $i; printf "%.2f", s }'
}
rss_mb() { sed -n 's/^\s*Maximum resident set size (kbytes): //p' "$1" | awk '{ printf "%.1f", $1 / 1024 }'; }
cpu_seconds() {
  awk -F': ' '/User time \(seconds\)/ { u = $2 } /System time \(seconds\)/ { s = $2 } END { printf "%.1f", u + s }' "$1"
}

log "tollgate pipeline run"
if ! /usr/bin/time -v -o "$TMP/tollgate.time" "$BIN" pipeline run --store "sqlite:$STORE" >"$TMP/tollgate.out" 2>"$TMP/tollgate.err"; then
  cat "$TMP/tollgate.err" >&2
  die "tollgate pipeline run failed (exit status in $TMP/tollgate.time)"
fi
log "duckdb extraction"
if ! /usr/bin/time -v -o "$TMP/duckdb.time" "$PY" "$ROOT/bench/pipeline_duckdb.py" run "$DUCK" >"$TMP/duckdb.out" 2>"$TMP/duckdb.err"; then
  cat "$TMP/duckdb.err" >&2
  die "the DuckDB extraction failed"
fi

T_SEC="$(wall_seconds "$TMP/tollgate.time")"
D_SEC="$(wall_seconds "$TMP/duckdb.time")"
T_RSS="$(rss_mb "$TMP/tollgate.time")"
D_RSS="$(rss_mb "$TMP/duckdb.time")"
T_CPU="$(cpu_seconds "$TMP/tollgate.time")"
D_CPU="$(cpu_seconds "$TMP/duckdb.time")"
D_SQL="$(sed -n 's/^duckdb_sql_seconds=//p' "$TMP/duckdb.out")"
T_ROWS="$(sed -n 's/^update [^:]*: \([0-9]*\) bronze row(s) in.*/\1/p' "$TMP/tollgate.out")"
D_ROWS="$(sed -n 's/^duckdb_gold_rows=//p' "$TMP/duckdb.out")"
T_RPS="$(awk -v r="$T_ROWS" -v s="$T_SEC" 'BEGIN { printf "%.0f", (s > 0 ? r / s : 0) }')"
D_RPS="$(awk -v r="$D_ROWS" -v s="$D_SEC" 'BEGIN { printf "%.0f", (s > 0 ? r / s : 0) }')"
RATIO="$(awk -v a="$T_RPS" -v b="$D_RPS" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }')"
RATE_OK="$(awk -v a="$T_RPS" -v b="$D_RPS" 'BEGIN { print (a >= b ? "PASS" : "MISS") }')"
MEM_OK="$(awk -v m="$T_RSS" -v t="$MEMORY_TARGET_MB" 'BEGIN { print (m < t ? "PASS" : "MISS") }')"
fmt() { printf '%s' "$1" | sed ':a;s/\B[0-9]\{3\}\>/,&/;ta'; }

# ---------------------------------------------------------------------------------------------
# Report
# ---------------------------------------------------------------------------------------------
echo
echo "Tollgate pipeline benchmark: $(fmt "$ROWS") bronze rows, ${AVG_BYTES} bytes per row on average (request + response ${AVG_PAYLOAD}), seed $SEED"
echo "data generated in ${DATA_SECONDS} s; $(nproc) cores; DuckDB $DUCKDB_VERSION with $DUCKDB_THREADS threads; timings are wall clock and may be noisy on a shared machine"
echo
printf '%-24s %12s %10s %12s %14s %14s\n' "" "rows" "seconds" "rows/s" "CPU s (u+s)" "peak RSS (MB)"
printf '%-24s %12s %10s %12s %14s %14s\n' "tollgate pipeline run" "$(fmt "$T_ROWS")" "$T_SEC" "$(fmt "$T_RPS")" "$T_CPU" "$T_RSS"
printf '%-24s %12s %10s %12s %14s %14s\n' "duckdb SQL (process)" "$(fmt "$D_ROWS")" "$D_SEC" "$(fmt "$D_RPS")" "$D_CPU" "$D_RSS"
echo "  (DuckDB's SQL alone, without interpreter start-up: ${D_SQL} s)"
echo
echo "rows/s, tollgate / duckdb: x${RATIO}"
printf '%-52s %s\n' "target: Tollgate rows/s >= DuckDB rows/s" "$RATE_OK ($(fmt "$T_RPS") vs $(fmt "$D_RPS"))"
printf '%-52s %s\n' "target: Tollgate peak memory < ${MEMORY_TARGET_MB} MB" "$MEM_OK (${T_RSS} MB)"
echo
echo "tollgate pipeline run printed:"
sed 's/^/  /' "$TMP/tollgate.out"
echo

SANITY=0
DIFF_FLAG=()
[[ "$DIFF" == 1 ]] || DIFF_FLAG=(--no-diff)
"$PY" "$ROOT/bench/pipeline_duckdb.py" compare --store "$STORE" --duckdb "$DUCK" "${DIFF_FLAG[@]}" || SANITY=1

SUCCESS=1
if [[ "$STRICT" == 1 ]] && [[ "$RATE_OK" != PASS || "$MEM_OK" != PASS || "$SANITY" != 0 ]]; then
  exit 1
fi
exit 0
