#!/usr/bin/env bash
# Tollgate on PostgreSQL against Tollgate on SQLite, in one run on one machine: the same
# fixed-response upstream (nginx, one worker), one replica on each store, then two PostgreSQL
# replicas together behind nginx as the load balancer. Prints, for each: p50 at one connection
# (and what it adds to the upstream's own), req/s at 64 connections, rows lost; and what the
# shared rate-limit check adds at p50 (an endpoint limit that never fires, against the same
# endpoint without one, on the same PostgreSQL replica).
#
# Usage: bench/postgres.sh
#
# Environment:
#   BENCH_DURATION     seconds of each measured run              [5]
#   BENCH_WARMUP       seconds of each warm-up run               [2]
#   BENCH_CONNECTIONS  connections for the throughput runs       [64]
#   BENCH_BIN          Tollgate binary                           [.build/release/tollgate]
#   BENCH_ROUNDS       alternating rounds per comparison (medians)   [3]
#   BENCH_PAIRED       requests per side of the interleaved one-connection probe   [20000]
#   BENCH_KEEP=1       keep the temporary directory
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
DURATION="${BENCH_DURATION:-5}"
WARMUP="${BENCH_WARMUP:-2}"
CONNECTIONS="${BENCH_CONNECTIONS:-64}"
BIN="${BENCH_BIN:-$ROOT/.build/release/tollgate}"
log() { printf '[bench-pg] %s\n' "$*" >&2; }
die() { printf '[bench-pg] error: %s\n' "$*" >&2; exit 1; }
[[ "$DURATION" =~ ^[1-9][0-9]*$ && "$WARMUP" =~ ^[1-9][0-9]*$ ]] || die "BENCH_DURATION and BENCH_WARMUP are whole seconds"
[[ "$CONNECTIONS" =~ ^[1-9][0-9]*$ ]] || die "BENCH_CONNECTIONS must be a positive integer"

"$ROOT/scripts/ensure-package.sh" nginx nginx
"$ROOT/scripts/ensure-package.sh" wrk wrk
NGINX="$(command -v nginx 2>/dev/null || echo /usr/sbin/nginx)"
if [[ ! -x "$BIN" ]]; then
  log "$BIN is missing; running swift build -c release"
  (cd "$ROOT" && swift build -c release --product tollgate)
fi

TMP="$(mktemp -d "${TMPDIR:-/tmp}/tollgate-bench-pg.XXXXXX")"
# The cluster in a directory of its own, as the test script does (postgres.sh hands it to the
# cluster's owner).
PG_DIR="$(mktemp -d "${TMPDIR:-/tmp}/tollgate-bench-pgdata.XXXXXX")"
PIDS=()
cleanup() {
  local rc=$?
  for pid in "${PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
  "$ROOT/scripts/postgres.sh" stop "$PG_DIR" >/dev/null 2>&1 || true
  rm -rf "$PG_DIR"
  if [[ "${BENCH_KEEP:-0}" == 1 || $rc != 0 ]]; then log "files kept in $TMP"; else rm -rf "$TMP"; fi
  exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }
ready() {  # ready URL PID NAME
  for (( i = 0; i < 300; i++ )); do
    kill -0 "$2" 2>/dev/null || die "$3 exited during start-up (see $TMP)"
    [[ "$(curl -s -o /dev/null -w '%{http_code}' "$1" || true)" == 200 ]] && return 0
    sleep 0.2
  done
  die "$3 not ready at $1"
}

# The upstream, and the load balancer in front of the two PostgreSQL replicas.
UP="$(port)" LB="$(port)" SQ="$(port)" P1="$(port)" P2="$(port)"
mkdir -p "$TMP/nginx/temp"
RESPONSE='{"id":"chatcmpl-bench","object":"chat.completion","created":1764028800,"model":"fixed","choices":[{"index":0,"message":{"role":"assistant","content":"A proxy sits on every request."},"finish_reason":"stop"}],"usage":{"prompt_tokens":52,"completion_tokens":16,"total_tokens":68}}'
cat >"$TMP/nginx/nginx.conf" <<EOF
worker_processes 1;
daemon off;
pid $TMP/nginx/nginx.pid;
error_log $TMP/nginx/error.log warn;
events { worker_connections 4096; }
http {
    access_log off;
    client_body_temp_path $TMP/nginx/temp/body;
    proxy_temp_path $TMP/nginx/temp/proxy;
    fastcgi_temp_path $TMP/nginx/temp/fastcgi;
    uwsgi_temp_path $TMP/nginx/temp/uwsgi;
    scgi_temp_path $TMP/nginx/temp/scgi;
    keepalive_requests 100000000;
    upstream replicas { server 127.0.0.1:$P1; server 127.0.0.1:$P2; keepalive 64; }
    server {
        listen 127.0.0.1:$UP;
        location /v1/chat/completions { default_type application/json; return 200 '$RESPONSE'; }
    }
    server {
        listen 127.0.0.1:$LB;
        location / { proxy_pass http://replicas; proxy_http_version 1.1; proxy_set_header Connection ""; }
    }
}
EOF
"$NGINX" -p "$TMP/nginx/" -c "$TMP/nginx/nginx.conf" -e "$TMP/nginx/error.log" >"$TMP/nginx/out.log" 2>&1 &
PIDS+=($!)

log "starting PostgreSQL"
"$ROOT/scripts/postgres.sh" start "$PG_DIR" >/dev/null
PG="$("$ROOT/scripts/postgres.sh" url "$PG_DIR")"

config() {  # config PORT STORE REPLICA
  cat <<EOF
server: {host: 127.0.0.1, port: $1, replica_id: $3}
store: "$2"
spill_directory: "$TMP"
environment: bench
providers:
  - {name: nginx, kind: openai, base_url: "http://127.0.0.1:$UP/v1"}
endpoints:
  - name: bench
    config: {served_entities: [{name: bench-a, external_model: {provider: nginx, name: fixed}}]}
  - name: bench-limited
    config: {served_entities: [{name: bench-limited-a, external_model: {provider: nginx, name: fixed}}]}
    ai_gateway:
      rate_limits: [{key: endpoint, calls: 1000000000, tokens: 1000000000000}]
EOF
}
config "$SQ" "sqlite:$TMP/bench.db" sqlite >"$TMP/sqlite.yaml"
config "$P1" "$PG" pg-1 >"$TMP/pg1.yaml"
config "$P2" "$PG" pg-2 >"$TMP/pg2.yaml"
for name in sqlite pg1 pg2; do
  "$BIN" serve --config "$TMP/$name.yaml" >"$TMP/$name.log" 2>&1 &
  PIDS+=($!)
  eval "PID_$name=$!"
done
ready "http://127.0.0.1:$SQ/health/ready" "$PID_sqlite" sqlite
ready "http://127.0.0.1:$P1/health/ready" "$PID_pg1" pg-1
ready "http://127.0.0.1:$P2/health/ready" "$PID_pg2" pg-2
ready "http://127.0.0.1:$UP/v1/chat/completions" "${PIDS[0]}" nginx

for model in bench bench-limited; do
  cat >"$TMP/$model.lua" <<EOF
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"model":"$model","messages":[{"role":"user","content":"Why should a proxy add little latency?"}],"max_tokens":16}'
EOF
done

# measure NAME URL MODEL CONNECTIONS: warm-up, then the measured run; prints "p50_ms req_per_s
# requests", the requests of both runs (every one must leave a row)
measure() {
  local threads=$(( $4 > 1 ? 2 : 1 ))
  wrk -t"$threads" -c"$4" -d"${WARMUP}s" -s "$TMP/$3.lua" "$2" >"$TMP/$1-warm.txt" 2>&1
  wrk -t"$threads" -c"$4" -d"${DURATION}s" --latency -s "$TMP/$3.lua" "$2" >"$TMP/$1.txt" 2>&1
  python3 - "$TMP/$1.txt" "$TMP/$1-warm.txt" <<'PY'
import re, sys
text = open(sys.argv[1]).read()
warm = re.search(r"(\d+) requests in", open(sys.argv[2]).read())
def ms(value, unit):
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]
p50 = re.search(r"^\s+50%\s+([\d.]+)(us|ms|s)", text, re.M)
rate = re.search(r"Requests/sec:\s+([\d.]+)", text)
total = re.search(r"(\d+) requests in", text)
errors = re.search(r"Non-2xx or 3xx responses: (\d+)", text)
if not (p50 and rate and total and warm) or errors:
    sys.exit("wrk output unusable or non-2xx answers:\n" + text)
print(f"{ms(*p50.groups()):.3f} {float(rate.group(1)):.0f} {int(total.group(1)) + int(warm.group(1))}")
PY
}

UPSTREAM_URL="http://127.0.0.1:$UP/v1/chat/completions"
SQLITE_URL="http://127.0.0.1:$SQ/v1/chat/completions"
PG_URL="http://127.0.0.1:$P1/v1/chat/completions"
PAIR_URL="http://127.0.0.1:$LB/v1/chat/completions"
# Runs alternate between the sides compared (ROUNDS rounds each), and each figure is the median
# of its rounds: the machine's noise between two runs is larger than the differences measured.
ROUNDS="${BENCH_ROUNDS:-3}"
[[ "$ROUNDS" =~ ^[1-9]$ ]] || die "BENCH_ROUNDS must be 1 to 9"
median() { python3 -c 'import statistics, sys; print(statistics.median(float(v) for v in sys.argv[1:]))' "$@"; }
declare -A P50S RPSS
run_side() {  # run_side KEY URL MODEL CONNECTIONS ROUND
  local p50 rps _n
  read -r p50 rps _n <<<"$(measure "$1-c$4-r$5" "$2" "$3" "$4")"
  P50S[$1-c$4]+=" $p50"
  RPSS[$1-c$4]+=" $rps"
}
read -r up_p50 _ _ <<<"$(measure upstream-c1 "$UPSTREAM_URL" bench 1)"
for (( round = 1; round <= ROUNDS; round++ )); do
  log "round $round of $ROUNDS"
  run_side sqlite "$SQLITE_URL" bench 1 "$round"
  run_side pg "$PG_URL" bench 1 "$round"
  run_side pg-limited "$PG_URL" bench-limited 1 "$round"
  run_side sqlite "$SQLITE_URL" bench "$CONNECTIONS" "$round"
  run_side pg "$PG_URL" bench "$CONNECTIONS" "$round"
  run_side pair "$PAIR_URL" bench "$CONNECTIONS" "$round"
done
# shellcheck disable=SC2086
{
  p50_sqlite="$(median ${P50S[sqlite-c1]})" p50_pg="$(median ${P50S[pg-c1]})" limited_p50="$(median ${P50S[pg-limited-c1]})"
  rps_sqlite="$(median ${RPSS[sqlite-c$CONNECTIONS]})" rps_pg="$(median ${RPSS[pg-c$CONNECTIONS]})" rps_pair="$(median ${RPSS[pair-c$CONNECTIONS]})"
}

# The p50 comparisons at one connection, paired: bench/paired_latency.py sends to SQLite, to
# PostgreSQL and to PostgreSQL's limited endpoint in turn, one keep-alive connection each, so the
# three see the same moments of the machine; each difference is the median of the per-round ones.
PAIRED="${BENCH_PAIRED:-20000}"
[[ "$PAIRED" =~ ^[1-9][0-9]*$ ]] || die "BENCH_PAIRED must be a positive integer"
for model in bench bench-limited; do
  printf '{"model":"%s","messages":[{"role":"user","content":"Why should a proxy add little latency?"}],"max_tokens":16}' "$model" >"$TMP/$model.json"
done
log "paired one-connection probe: $PAIRED requests per side"
python3 "$ROOT/bench/paired_latency.py" --rounds "$PAIRED" --warmup 1000 \
  "sqlite=$SQLITE_URL=$TMP/bench.json" "pg=$PG_URL=$TMP/bench.json=sqlite" "pg-limited=$PG_URL=$TMP/bench-limited.json=pg" >"$TMP/paired.json"

# Rows: every request a gateway counted (tollgate_requests_total, at enqueue) is a row once the
# record writers have drained.
requests() {
  curl -s "http://127.0.0.1:$1/metrics" | awk '/^tollgate_requests_total\{/ && /endpoint="bench/ {sum += $NF} END {printf "%d\n", sum}'
}
sent_sqlite="$(requests "$SQ")"
sent_pg=$(( $(requests "$P1") + $(requests "$P2") ))
log "stopping the gateways (the record writers drain)"
for pid in "$PID_sqlite" "$PID_pg1" "$PID_pg2"; do kill -TERM "$pid"; done
for pid in "$PID_sqlite" "$PID_pg1" "$PID_pg2"; do wait "$pid" 2>/dev/null || true; done
PIDS=("${PIDS[0]}")
count() { "$BIN" sql --store "$1" --csv "SELECT count(*) AS n FROM inference_table WHERE endpoint_name LIKE 'bench%'" | tail -n 1; }
rows_sqlite="$(count "sqlite:$TMP/bench.db")"
rows_pg="$(count "$PG")"

python3 - "$up_p50" "$p50_sqlite" "$p50_pg" "$limited_p50" "$rps_sqlite" "$rps_pg" "$rps_pair" \
  "$rows_sqlite" "$rows_pg" "$sent_sqlite" "$sent_pg" "$CONNECTIONS" "$ROUNDS" "$TMP/paired.json" <<'PY'
import json, sys
up, p50_sqlite, p50_pg, p50_limited, rps_sqlite, rps_pg, rps_pair, rows_sqlite, rows_pg, sent_sqlite, sent_pg, conns, rounds, paired = sys.argv[1:]
paired = json.load(open(paired))
print(f"medians of {rounds} alternating rounds")
up, p50_sqlite, p50_pg, p50_limited = map(float, (up, p50_sqlite, p50_pg, p50_limited))
rps_sqlite, rps_pg, rps_pair = map(float, (rps_sqlite, rps_pg, rps_pair))
rows_sqlite, rows_pg, sent_sqlite, sent_pg = map(int, (rows_sqlite, rows_pg, sent_sqlite, sent_pg))
print(f"| store | p50 at 1 conn | added to upstream ({up:.3f} ms) | req/s at {conns} conns |")
print("|---|---|---|---|")
print(f"| SQLite, one replica | {p50_sqlite:.3f} ms | +{p50_sqlite - up:.3f} ms | {rps_sqlite:,.0f} |")
print(f"| PostgreSQL, one replica | {p50_pg:.3f} ms | +{p50_pg - up:.3f} ms | {rps_pg:,.0f} |")
print(f"| PostgreSQL, two replicas behind nginx | | | {rps_pair:,.0f} |")
lost_sqlite, lost_pg = sent_sqlite - rows_sqlite, sent_pg - rows_pg
print(f"rows: SQLite {rows_sqlite:,} of {sent_sqlite:,} requests; PostgreSQL {rows_pg:,} of {sent_pg:,} requests")
sides, pairs = paired["sides"], paired["paired"]
print(f"paired probe, {paired['rounds']:,} requests per side in turn (client included): p50 SQLite {sides['sqlite']['p50_ms']:.3f} ms,"
      f" PostgreSQL {sides['pg']['p50_ms']:.3f} ms, PostgreSQL with the limit {sides['pg-limited']['p50_ms']:.3f} ms")
pg_added, limit_added = pairs["pg"]["median_diff_ms"], pairs["pg-limited"]["median_diff_ms"]
checks = [
    (f"PostgreSQL throughput >= 0.80 x SQLite: x{rps_pg / rps_sqlite:.2f}", rps_pg >= 0.8 * rps_sqlite),
    (f"PostgreSQL p50 at most 0.05 ms above SQLite's (paired): {pg_added:+.3f} ms (wrk medians {p50_pg - p50_sqlite:+.3f})", pg_added <= 0.05),
    (f"shared rate-limit check adds <= 0.1 ms at p50 (paired): {limit_added:+.3f} ms (wrk medians {p50_limited - p50_pg:+.3f})", limit_added <= 0.1),
    (f"every request left one row: {lost_sqlite} and {lost_pg} missing", lost_sqlite == 0 and lost_pg == 0 and sent_sqlite > 0),
]
for text, ok in checks:
    print(f"target {'met' if ok else 'MISSED'}: {text}")
PY
