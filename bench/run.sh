#!/usr/bin/env bash
# Tollgate performance benchmark.
#
# Measures, in one run on one machine, a fixed-response upstream (nginx, one worker) reached
# directly and through Tollgate, and reports the latency Tollgate adds at one connection, the
# throughput at 64 connections, the gateway's peak memory, and whether every request that went
# through Tollgate left its inference_table and endpoint_usage rows. Unless BENCH_TRACING=0, a
# second Tollgate with the same configuration plus `tracing: {enabled: false}` is measured the
# same way in the same run, and the report adds what request tracing costs. Unless
# BENCH_GOVERNED=0, the first gateway also serves governed twins of its endpoints (a key, a user
# rate limit that never fires, input and output PII guardrails, fallbacks), measured in the same
# process against the ungoverned ones, and both stream a simulated answer to measure what the
# output guardrail's window adds to the time to first token.
#
# Usage: bench/run.sh
#
# Environment:
#   BENCH_DURATION        length of each measured run (wrk syntax: 10, 10s, 1m)     [10s]
#   BENCH_WARMUP          length of each warm-up run                                [3s]
#   BENCH_CONNECTIONS     connections for the throughput runs                       [64]
#   BENCH_THREADS         wrk threads for the throughput runs                       [2]
#   BENCH_ONLY_DIRECT=1   measure nginx alone; skip Tollgate (no build, no targets)
#   BENCH_TRACING=0       skip the second Tollgate (tracing off) and the tracing comparison
#   BENCH_GOVERNED=0      skip the governed endpoints (a key, a user rate limit that never
#                         fires, input and output PII guardrails, fallbacks on) and their comparison
#   BENCH_PAIRED_ROUNDS   alternating rounds, ungoverned and governed, at 1 connection
#                         and again at the throughput connections                    [6]
#   BENCH_PAIRED_DURATION length of each side of a round (seconds)                  [3]
#   BENCH_STREAM_TOKENS_PER_SECOND  speed of the simulated streamed answer          [200]
#   BENCH_STREAM_REQUESTS streamed requests per gateway for the stream timing       [100]
#   BENCH_BIN             Tollgate binary                          [.build/release/tollgate]
#   BENCH_READY_TIMEOUT   seconds to wait for readiness of each server              [60]
#   BENCH_DRAIN_TIMEOUT   seconds to wait for Tollgate to exit after SIGTERM        [60]
#   BENCH_JSON            if set, also write the results as JSON to this path
#   BENCH_STRICT=1        exit 1 when any target is missed
#   BENCH_KEEP=1          keep the temporary directory (configs, logs, database, wrk output)
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
DURATION="${BENCH_DURATION:-10s}"
WARMUP="${BENCH_WARMUP:-3s}"
CONNECTIONS="${BENCH_CONNECTIONS:-64}"
THREADS="${BENCH_THREADS:-2}"
ONLY_DIRECT="${BENCH_ONLY_DIRECT:-0}"
TRACING="${BENCH_TRACING:-1}"
GOVERNED="${BENCH_GOVERNED:-1}"
PAIRED_ROUNDS="${BENCH_PAIRED_ROUNDS:-6}"
PAIRED_S="${BENCH_PAIRED_DURATION:-3}"
STREAM_TOKENS_PER_SECOND="${BENCH_STREAM_TOKENS_PER_SECOND:-200}"
BIN="${BENCH_BIN:-$ROOT/.build/release/tollgate}"
READY_TIMEOUT="${BENCH_READY_TIMEOUT:-60}"
DRAIN_TIMEOUT="${BENCH_DRAIN_TIMEOUT:-60}"
STRICT="${BENCH_STRICT:-0}"
KEEP="${BENCH_KEEP:-0}"

log() { printf '[bench] %s\n' "$*" >&2; }
die() { printf '[bench] error: %s\n' "$*" >&2; exit 1; }

# Seconds in a wrk duration ("10", "10s", "2m", "1h").
to_seconds() {
  local d="$1"
  if [[ "$d" =~ ^([0-9]+)s?$ ]]; then echo "${BASH_REMATCH[1]}"
  elif [[ "$d" =~ ^([0-9]+)m$ ]]; then echo $(( BASH_REMATCH[1] * 60 ))
  elif [[ "$d" =~ ^([0-9]+)h$ ]]; then echo $(( BASH_REMATCH[1] * 3600 ))
  else die "unsupported duration '$d' (use e.g. 10, 10s, 1m)"
  fi
}
DURATION_S="$(to_seconds "$DURATION")"
WARMUP_S="$(to_seconds "$WARMUP")"
(( DURATION_S > 0 )) || die "BENCH_DURATION must be at least 1 second"
(( WARMUP_S > 0 )) || die "BENCH_WARMUP must be at least 1 second"
[[ "$CONNECTIONS" =~ ^[1-9][0-9]*$ ]] || die "BENCH_CONNECTIONS must be a positive integer"
[[ "$THREADS" =~ ^[1-9][0-9]*$ ]] || die "BENCH_THREADS must be a positive integer"
(( THREADS <= CONNECTIONS )) || die "BENCH_THREADS must not exceed BENCH_CONNECTIONS"
[[ "$READY_TIMEOUT" =~ ^[1-9][0-9]*$ ]] || die "BENCH_READY_TIMEOUT must be a positive integer"
[[ "$DRAIN_TIMEOUT" =~ ^[1-9][0-9]*$ ]] || die "BENCH_DRAIN_TIMEOUT must be a positive integer"
[[ "$TRACING" == 0 || "$TRACING" == 1 ]] || die "BENCH_TRACING must be 0 or 1"
[[ "$GOVERNED" == 0 || "$GOVERNED" == 1 ]] || die "BENCH_GOVERNED must be 0 or 1"
[[ "$PAIRED_ROUNDS" =~ ^[0-9]{1,3}$ ]] || die "BENCH_PAIRED_ROUNDS must be a whole number from 0 to 999"
[[ "$PAIRED_S" =~ ^[1-9][0-9]{0,3}$ ]] || die "BENCH_PAIRED_DURATION must be a whole number of seconds from 1 to 9999"
[[ "$STREAM_TOKENS_PER_SECOND" =~ ^[0-9]+$ ]] || die "BENCH_STREAM_TOKENS_PER_SECOND must be a whole number"
[[ "$ONLY_DIRECT" != 1 ]] || { TRACING=0; GOVERNED=0; }

# ---------------------------------------------------------------------------------------------
# Tools
# ---------------------------------------------------------------------------------------------
ensure_package() {
  "$ROOT/scripts/ensure-package.sh" "$1" "$2" || die "cannot install $2"
}
command -v python3 >/dev/null 2>&1 || die "python3 is required"
python3 -c 'import sqlite3' 2>/dev/null || die "python3 lacks the sqlite3 module"
ensure_package nginx nginx
ensure_package wrk wrk
NGINX="$(command -v nginx 2>/dev/null || echo /usr/sbin/nginx)"
WRK="$(command -v wrk)"

if [[ "$ONLY_DIRECT" != 1 && ! -x "$BIN" ]]; then
  if [[ -z "${BENCH_BIN:-}" ]]; then
    log "$BIN is missing; running swift build -c release"
    (cd "$ROOT" && swift build -c release)
  fi
  [[ -x "$BIN" ]] || die "Tollgate binary not found at $BIN"
fi

# ---------------------------------------------------------------------------------------------
# Process bookkeeping: everything started here is stopped on exit, whatever the exit path.
# ---------------------------------------------------------------------------------------------
TMP="$(mktemp -d "${TMPDIR:-/tmp}/tollgate-bench.XXXXXX")"
NGINX_PID=""
TOLLGATE_PID=""
NOTRACE_PID=""
SAMPLER_PID=""
WRK_PID=""
FINISHED=0

alive() {
  local pid="$1" state
  [[ -n "$pid" && -r "/proc/$pid/stat" ]] || return 1
  state="$(sed -E 's/^[0-9]+ \(.*\) (.).*/\1/' "/proc/$pid/stat" 2>/dev/null)" || return 1
  [[ "$state" != Z ]]
}

# stop_process PID SECONDS: SIGTERM, wait up to SECONDS, then SIGKILL. Returns 0 if it exited
# on its own after SIGTERM, 1 if it had to be killed.
stop_process() {
  local pid="$1" grace="$2" i children
  [[ -n "$pid" ]] || return 0
  alive "$pid" || { wait "$pid" 2>/dev/null || true; return 0; }
  children="$(pgrep -P "$pid" 2>/dev/null || true)"
  kill -TERM "$pid" 2>/dev/null || true
  for (( i = 0; i < grace * 10; i++ )); do
    alive "$pid" || break
    sleep 0.1
  done
  if alive "$pid"; then
    kill -KILL "$pid" 2>/dev/null || true
    for c in $children; do kill -KILL "$c" 2>/dev/null || true; done
    wait "$pid" 2>/dev/null || true
    return 1
  fi
  return 0
}

cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  stop_process "$WRK_PID" 5 || true
  stop_process "$SAMPLER_PID" 2 || true
  stop_process "$TOLLGATE_PID" 10 || true
  stop_process "$NOTRACE_PID" 10 || true
  stop_process "$NGINX_PID" 5 || true
  if [[ "$FINISHED" != 1 ]]; then
    for f in "$TMP/nginx/error.log" "$TMP/tollgate.log" "$TMP/tollgate-notrace.log"; do
      if [[ -s "$f" ]]; then log "last lines of $f:"; tail -n 20 "$f" >&2 || true; fi
    done
  fi
  if [[ "$KEEP" == 1 || "$FINISHED" != 1 ]]; then
    log "files kept in $TMP"
  else
    rm -rf "$TMP"
  fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

# other_free_port PORT...: a free loopback port that is none of the given ones.
other_free_port() {
  local i port taken p
  for (( i = 0; i < 20; i++ )); do
    port="$(free_port)"
    taken=0
    for p in "$@"; do [[ "$port" == "$p" ]] && taken=1; done
    (( taken )) || { echo "$port"; return 0; }
  done
  die "no free port found"
}

# HTTP status of a GET to a loopback URL (0 when it cannot connect); proxies are never used.
http_status() {
  python3 - "$1" <<'PY'
import sys, urllib.request, urllib.error
opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
try:
    with opener.open(sys.argv[1], timeout=2) as r:
        print(r.status)
except urllib.error.HTTPError as e:
    print(e.code)
except Exception:
    print(0)
PY
}

# wait_ready NAME PID URL: waits for 200 from URL while PID is alive, at most READY_TIMEOUT s.
wait_ready() {
  local name="$1" pid="$2" url="$3" i status
  for (( i = 0; i < READY_TIMEOUT * 5; i++ )); do
    alive "$pid" || die "$name exited during start-up"
    status="$(http_status "$url")"
    [[ "$status" == 200 ]] && return 0
    sleep 0.2
  done
  die "$name was not ready at $url within ${READY_TIMEOUT}s (last status $status)"
}

# ---------------------------------------------------------------------------------------------
# Upstream: nginx, one worker, fixed chat completion
# ---------------------------------------------------------------------------------------------
RESPONSE_JSON='{"id":"chatcmpl-bench0000000000000000000001","object":"chat.completion","created":1764028800,"model":"fixed","system_fingerprint":"fp_bench","choices":[{"index":0,"message":{"role":"assistant","content":"A proxy sits on every request, so each millisecond it adds is paid by every caller; queueing on a saturated event loop makes it grow."},"logprobs":null,"finish_reason":"stop"}],"usage":{"prompt_tokens":52,"completion_tokens":16,"total_tokens":68}}'
REQUEST_JSON='{"model":"bench","messages":[{"role":"user","content":"Summarise in one sentence why a reverse proxy placed in front of a model server should add as little latency as possible, and name one thing that makes the added time grow under load."}],"max_tokens":16}'
GOVERNED_REQUEST_JSON="${REQUEST_JSON/'"model":"bench"'/'"model":"bench-governed"'}"

NGINX_PORT="$(free_port)"
mkdir -p "$TMP/nginx/temp" "$TMP/results"
cat >"$TMP/nginx/nginx.conf" <<EOF
worker_processes 1;
daemon off;
pid $TMP/nginx/nginx.pid;
error_log $TMP/nginx/error.log warn;
events {
    worker_connections 4096;
}
http {
    access_log off;
    client_body_temp_path $TMP/nginx/temp/client_body;
    proxy_temp_path $TMP/nginx/temp/proxy;
    fastcgi_temp_path $TMP/nginx/temp/fastcgi;
    uwsgi_temp_path $TMP/nginx/temp/uwsgi;
    scgi_temp_path $TMP/nginx/temp/scgi;
    keepalive_timeout 75s;
    keepalive_requests 100000000;
    server {
        listen 127.0.0.1:$NGINX_PORT;
        location /v1/chat/completions {
            default_type application/json;
            return 200 '$RESPONSE_JSON';
        }
        location / {
            return 404;
        }
    }
}
EOF
"$NGINX" -p "$TMP/nginx/" -c "$TMP/nginx/nginx.conf" -e "$TMP/nginx/error.log" -t -q \
  || die "nginx rejected the generated configuration"
"$NGINX" -p "$TMP/nginx/" -c "$TMP/nginx/nginx.conf" -e "$TMP/nginx/error.log" \
  >"$TMP/nginx/stdout.log" 2>&1 &
NGINX_PID=$!
DIRECT_URL="http://127.0.0.1:$NGINX_PORT/v1/chat/completions"
wait_ready nginx "$NGINX_PID" "$DIRECT_URL"
log "nginx $("$NGINX" -v 2>&1 | sed 's/.*nginx\///') on 127.0.0.1:$NGINX_PORT (pid $NGINX_PID)"

# ---------------------------------------------------------------------------------------------
# Gateway: Tollgate in front of nginx, recording on; unless BENCH_TRACING=0, a second one with
# tracing off, its own port and its own store, the configuration otherwise the same
# ---------------------------------------------------------------------------------------------
# write_config FILE PORT DB [EXTRA_TOP_LEVEL_LINE] [governed]
# Every gateway has `bench` (with a second entity only a fallback would reach) and
# `bench-stream`, a simulated streamed answer (for the stream timing). `governed` adds their
# twins `bench-governed` and `bench-stream-governed`, the same plus a user rate limit that never
# fires, input and output PII guardrails and fallbacks. Authentication stays `none`, so the
# ungoverned endpoints take requests without a key; the governed ones are sent a key, which the
# gateway looks up and records as it does with `auth: keys`.
write_config() {
  local file="$1" port="$2" db="$3" extra="${4:-}" governed="${5:-}"
  local gateway="
      rate_limits: [{key: user, calls: 1000000000, tokens: 1000000000000}]
      guardrails: {input: {pii: {behavior: MASK}}, output: {pii: {behavior: MASK}}}
      fallback_config: {enabled: true}"
  {
    echo "server: {host: 127.0.0.1, port: $port, auth: none}"
    echo "store: sqlite:$db"
    [[ -z "$extra" ]] || echo "$extra"
    cat <<EOF
environment: bench
providers:
  - name: nginx
    kind: openai
    base_url: http://127.0.0.1:$NGINX_PORT/v1
  - name: sim
    kind: simulator
    simulator: {tokens_per_second: $STREAM_TOKENS_PER_SECOND}
endpoints:
EOF
    bench_endpoints "" ""
    [[ -z "$governed" ]] || bench_endpoints "-governed" "$gateway"
  } >"$file"
}

# bench_endpoints SUFFIX AI_GATEWAY_EXTRA: the `bench` and `bench-stream` endpoints of a config.
bench_endpoints() {
  cat <<EOF
  - name: bench$1
    config:
      served_entities:
        - name: fixed
          external_model: {provider: nginx, name: fixed}
        - name: spare
          external_model: {provider: nginx, name: fixed}
      traffic_config:
        routes: [{served_entity_name: fixed, traffic_percentage: 100}, {served_entity_name: spare, traffic_percentage: 0}]
    ai_gateway:
      inference_table_config: {enabled: true}
      usage_tracking_config: {enabled: true}$2
  - name: bench-stream$1
    config:
      served_entities:
        - name: simulated
          external_model: {provider: sim, name: gpt-sim}
    ai_gateway:
      inference_table_config: {enabled: true}$2
EOF
}

TOLLGATE_URL=""
NOTRACE_URL=""
GOVERNED_KEY=""
TOLLGATE_PORT=""
if [[ "$ONLY_DIRECT" != 1 ]]; then
  TOLLGATE_PORT="$(other_free_port "$NGINX_PORT")"
  write_config "$TMP/tollgate.yaml" "$TOLLGATE_PORT" "$TMP/bench.db" "" "$([[ "$GOVERNED" == 1 ]] && echo governed)"
  if [[ "$GOVERNED" == 1 ]]; then
    GOVERNED_KEY="$("$BIN" keys create --owner bench@example.com --group bench --store "sqlite:$TMP/bench.db" 2>/dev/null)"
  fi
  "$BIN" serve --config "$TMP/tollgate.yaml" >"$TMP/tollgate.log" 2>&1 &
  TOLLGATE_PID=$!
  wait_ready tollgate "$TOLLGATE_PID" "http://127.0.0.1:$TOLLGATE_PORT/health/ready"
  TOLLGATE_URL="http://127.0.0.1:$TOLLGATE_PORT/v1/chat/completions"
  log "tollgate on 127.0.0.1:$TOLLGATE_PORT (pid $TOLLGATE_PID)"
fi
if [[ "$TRACING" == 1 ]]; then
  NOTRACE_PORT="$(other_free_port "$NGINX_PORT" "$TOLLGATE_PORT")"
  write_config "$TMP/tollgate-notrace.yaml" "$NOTRACE_PORT" "$TMP/bench-notrace.db" "tracing: {enabled: false}"
  "$BIN" serve --config "$TMP/tollgate-notrace.yaml" >"$TMP/tollgate-notrace.log" 2>&1 &
  NOTRACE_PID=$!
  wait_ready "tollgate (tracing off)" "$NOTRACE_PID" "http://127.0.0.1:$NOTRACE_PORT/health/ready"
  NOTRACE_URL="http://127.0.0.1:$NOTRACE_PORT/v1/chat/completions"
  log "tollgate with tracing off on 127.0.0.1:$NOTRACE_PORT (pid $NOTRACE_PID)"
fi

# The governed endpoints are served by the first gateway: same process, same upstream.
GOVERNED_URL=""
if [[ "$GOVERNED" == 1 ]]; then
  GOVERNED_URL="$TOLLGATE_URL"
  log "governed endpoints bench-governed and bench-stream-governed on the same gateway"
fi

# ---------------------------------------------------------------------------------------------
# Load
# ---------------------------------------------------------------------------------------------
cat >"$TMP/chat.lua" <<EOF
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = [[$REQUEST_JSON]]
EOF
cat >"$TMP/chat-governed.lua" <<EOF
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer $GOVERNED_KEY"
wrk.body = [[$GOVERNED_REQUEST_JSON]]
EOF

# Python helper: parses wrk text output and prints the final report.
cat >"$TMP/report.py" <<'PY'
import json, os, re, sqlite3, statistics, sys

UNITS = {"us": 1e-3, "ms": 1.0, "s": 1e3, "m": 60e3, "h": 3600e3}

def to_ms(value, unit):
    if unit not in UNITS:
        raise ValueError(f"unknown time unit {unit!r}")
    return float(value) * UNITS[unit]

def parse_wrk(path):
    text = open(path, encoding="utf-8", errors="replace").read()
    out = {"p50_ms": None, "p99_ms": None, "requests": None, "rps": None,
           "connect": 0, "read": 0, "write": 0, "timeout": 0, "non2xx": 0}
    in_dist = False
    for line in text.splitlines():
        s = line.strip()
        if s.startswith("Latency Distribution"):
            in_dist = True
            continue
        if in_dist:
            m = re.match(r"^(\d+(?:\.\d+)?)%\s+([0-9.]+)\s*([a-z]+)$", s)
            if m:
                pct = float(m.group(1))
                if pct == 50:
                    out["p50_ms"] = to_ms(m.group(2), m.group(3))
                elif pct == 99:
                    out["p99_ms"] = to_ms(m.group(2), m.group(3))
                continue
            in_dist = False
        m = re.match(r"^(\d+) requests in ([0-9.]+)\s*([a-z]+),", s)
        if m:
            out["requests"] = int(m.group(1))
            out["elapsed_s"] = to_ms(m.group(2), m.group(3)) / 1e3
            continue
        m = re.match(r"^Requests/sec:\s*([0-9.]+)", s)
        if m:
            out["rps"] = float(m.group(1))
            continue
        m = re.match(r"^Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", s)
        if m:
            out["connect"], out["read"], out["write"], out["timeout"] = map(int, m.groups())
            continue
        m = re.match(r"^Non-2xx or 3xx responses: (\d+)", s)
        if m:
            out["non2xx"] = int(m.group(1))
    missing = [k for k in ("p50_ms", "p99_ms", "requests", "rps") if out[k] is None]
    if missing:
        raise SystemExit(f"could not parse {', '.join(missing)} from {path}")
    if out["requests"] == 0:
        raise SystemExit(f"no requests completed in {path}")
    out["errors"] = out["connect"] + out["read"] + out["write"] + out["timeout"] + out["non2xx"]
    return out

def fmt_ms(v):
    return "-" if v is None else f"{v:.3f}"

def fmt_signed(v):
    return "-" if v is None else f"{v:+.3f}"

def errors_text(r):
    if r is None:
        return "-"
    parts = [f"{r['non2xx']} non-2xx"]
    sock = r["connect"] + r["read"] + r["write"] + r["timeout"]
    parts.append(f"{sock} socket" + (f" (connect {r['connect']}, read {r['read']}, write {r['write']}, timeout {r['timeout']})" if sock else ""))
    return ", ".join(parts)

def count_rows(db, table, endpoint=None):
    """Rows of a table, or only those of one endpoint (`endpoint_name`)."""
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=30)
    try:
        if endpoint is None:
            return con.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0]
        return con.execute(f"SELECT COUNT(*) FROM {table} WHERE endpoint_name = ?", (endpoint,)).fetchone()[0]
    finally:
        con.close()

def read_kb_as_mb(path):
    try:
        return int(open(path).read().strip()) / 1024
    except (OSError, ValueError):
        return None

def count_store(db, tables, endpoint=None):
    rows = {}
    for table in tables:
        try:
            rows[table] = count_rows(db, table, endpoint)
        except sqlite3.Error as e:
            rows[table] = None
            print(f"[bench] cannot count {table} in {db}: {e}", file=sys.stderr)
    return rows

def summary(label, path):
    r = parse_wrk(path)
    print(f"[bench] {label}: p50 {r['p50_ms']:.3f} ms, p99 {r['p99_ms']:.3f} ms, "
          f"{r['rps']:.0f} req/s, {r['requests']} requests, {r['errors']} errors", file=sys.stderr)

def report(d):
    env = os.environ
    only_direct = env.get("ONLY_DIRECT") == "1"
    conns = env["CONNECTIONS"]
    res = f"{d}/results"
    load = lambda name: parse_wrk(f"{res}/{name}.txt") if os.path.exists(f"{res}/{name}.txt") else None
    d1, dN, t1, tN = load("direct-c1"), load("direct-cN"), load("tollgate-c1"), load("tollgate-cN")
    tw = load("tollgate-warmup")
    tracing = env.get("TRACING") == "1" and not only_direct
    nw, n1, nN = load("tollgate-notrace-warmup"), load("tollgate-notrace-c1"), load("tollgate-notrace-cN")

    added_p50 = added_p99 = ratio = None
    if t1:
        added_p50 = t1["p50_ms"] - d1["p50_ms"]
        added_p99 = t1["p99_ms"] - d1["p99_ms"]
    if tN:
        ratio = tN["rps"] / dN["rps"] if dN["rps"] else None

    rss_mb = hwm_mb = None
    if not only_direct:
        rss_mb, hwm_mb = read_kb_as_mb(f"{res}/rss_max_kb"), read_kb_as_mb(f"{res}/hwm_kb")

    rows = {}
    total = None
    if not only_direct:
        total = sum(r["requests"] for r in (tw, t1, tN, *paired_runs(res, "ungoverned"), *paired_runs(res, "ungoverned", "pairN")) if r)
        rows = count_store(f"{d}/bench.db", ("inference_table", "endpoint_usage"), "bench")

    print()
    print("Tollgate benchmark")
    print(f"  machine: {os.cpu_count()} cores; {env.get('NGINX_VERSION', '?')}; {env.get('WRK_VERSION', '?')}")
    print(f"  runs: warm-up {env['WARMUP']}, measured {env['DURATION']} each; "
          f"latency at 1 connection (wrk -t1 -c1), throughput at {conns} connections "
          f"(wrk -t{env['THREADS']} -c{conns})")
    print()
    w = 34
    print(f"  {'':<{w}}{'direct':>12}{'tollgate':>12}{'added':>12}")
    print(f"  {'p50 latency, 1 conn (ms)':<{w}}{fmt_ms(d1['p50_ms']):>12}{fmt_ms(t1 and t1['p50_ms']):>12}{fmt_signed(added_p50):>12}")
    print(f"  {'p99 latency, 1 conn (ms)':<{w}}{fmt_ms(d1['p99_ms']):>12}{fmt_ms(t1 and t1['p99_ms']):>12}{fmt_signed(added_p99):>12}")
    ratio_s = "-" if ratio is None else f"x{ratio:.2f}"
    tN_rps = "-" if tN is None else f"{tN['rps']:.0f}"
    rps_label = f"req/s, {conns} conns"
    print(f"  {rps_label:<{w}}{dN['rps']:>12.0f}{tN_rps:>12}{ratio_s:>12}")
    print()
    print(f"  errors, direct:   1 conn: {errors_text(d1)}; {conns} conns: {errors_text(dN)}")
    if not only_direct:
        print(f"  errors, tollgate: 1 conn: {errors_text(t1)}; {conns} conns: {errors_text(tN)}")
        print(f"  tollgate max RSS during the {conns}-connection run: "
              + ("-" if rss_mb is None else f"{rss_mb:.1f} MB")
              + ("" if hwm_mb is None else f" (peak over the process life, VmHWM: {hwm_mb:.1f} MB)"))
        for table, n in rows.items():
            if n is None:
                print(f"  rows {table}: unavailable")
            else:
                lost = max(0, total - n)
                extra = max(0, n - total)
                line = f"  rows {table}: {n} of {total} requests (lost: {lost})"
                if extra:
                    line += f"; {extra} more rows than completed requests (in flight when wrk stopped)"
                print(line)
    print()

    results = {
        "direct": {"c1": d1, "cN": dN},
        "tollgate": {"c1": t1, "cN": tN, "warmup": tw},
        "connections": int(conns),
        "added_p50_ms": added_p50, "added_p99_ms": added_p99, "rps_ratio": ratio,
        "max_rss_mb": rss_mb, "vmhwm_mb": hwm_mb, "rows": rows, "tollgate_requests": total,
    }
    missed = 0
    if only_direct:
        print("targets: not evaluated (BENCH_ONLY_DIRECT=1 measures the upstream alone)")
    else:
        lost_values = [max(0, total - n) for n in rows.values() if n is not None]
        lost = None if len(lost_values) != len(rows) or not rows else max(lost_values)
        targets = [
            ("added p50 <= 0.25 ms", added_p50, lambda v: v <= 0.25, lambda v: f"{v:.3f} ms"),
            ("added p99 <= 1.5 ms", added_p99, lambda v: v <= 1.5, lambda v: f"{v:.3f} ms"),
            (f">= 5000 req/s at {conns} conns", tN and tN["rps"], lambda v: v >= 5000, lambda v: f"{v:.0f} req/s"),
            ("RSS <= 100 MB", rss_mb, lambda v: v <= 100, lambda v: f"{v:.1f} MB"),
            ("0 lost rows", lost, lambda v: v == 0, lambda v: f"{v} lost"),
        ]
        print(f"targets: added p50 \u2264 0.25 ms, added p99 \u2264 1.5 ms, \u2265 5000 req/s at {conns} conns, "
              "RSS \u2264 100 MB, 0 lost rows")
        results["targets"] = {}
        for name, value, ok, show in targets:
            verdict = "MISS" if value is None or not ok(value) else "PASS"
            missed += verdict == "MISS"
            results["targets"][name] = verdict
            print(f"  {name:<30}{('unmeasured' if value is None else show(value)):>16}   {verdict}")
    if tracing:
        missed += tracing_report(d, results, t1, tN, tw, n1, nN, nw, total, rows, conns)
    if env.get("GOVERNED") == "1" and not only_direct:
        missed += governance_report(d, results, t1, tN, conns)
    out = env.get("BENCH_JSON")
    if out:
        with open(out, "w") as f:
            json.dump(results, f, indent=2)
    return missed

def tracing_report(d, results, t1, tN, tw, n1, nN, nw, on_total, on_rows, conns):
    """Tollgate with tracing on (the main run) against the same gateway with tracing off."""
    res = f"{d}/results"
    added_p50 = t1["p50_ms"] - n1["p50_ms"] if t1 and n1 else None
    added_p99 = t1["p99_ms"] - n1["p99_ms"] if t1 and n1 else None
    ratio = tN["rps"] / nN["rps"] if tN and nN and nN["rps"] else None
    rss_mb = read_kb_as_mb(f"{res}/rss_max_kb_notrace")
    hwm_mb = read_kb_as_mb(f"{res}/hwm_kb_notrace")
    total = sum(r["requests"] for r in (nw, n1, nN) if r)
    rows = count_store(f"{d}/bench-notrace.db", ("inference_table", "endpoint_usage"), "bench")
    traces_on = count_store(f"{d}/bench.db", ("traces",)).get("traces")
    traces_off = count_store(f"{d}/bench-notrace.db", ("traces",)).get("traces")

    print()
    print("tracing overhead (same run; tracing on vs tracing: {enabled: false})")
    w = 29
    print(f"  {'':<{w}}{'tracing off':>13}{'tracing on':>13}{'added':>10}")
    print(f"  {'p50 latency, 1 conn (ms)':<{w}}{fmt_ms(n1 and n1['p50_ms']):>13}{fmt_ms(t1 and t1['p50_ms']):>13}{fmt_signed(added_p50):>10}")
    print(f"  {'p99 latency, 1 conn (ms)':<{w}}{fmt_ms(n1 and n1['p99_ms']):>13}{fmt_ms(t1 and t1['p99_ms']):>13}{fmt_signed(added_p99):>10}")
    rps = lambda r: "-" if r is None else f"{r['rps']:.0f}"
    ratio_s = "-" if ratio is None else f"x{ratio:.2f}"
    print(f"  {f'req/s, {conns} conns':<{w}}{rps(nN):>13}{rps(tN):>13}{ratio_s:>10}")
    print(f"  errors, tracing off: 1 conn: {errors_text(n1)}; {conns} conns: {errors_text(nN)}")
    print(f"  tracing off, max RSS during the {conns}-connection run: "
          + ("-" if rss_mb is None else f"{rss_mb:.1f} MB")
          + ("" if hwm_mb is None else f" (VmHWM: {hwm_mb:.1f} MB)"))
    for table, n in rows.items():
        if n is None:
            print(f"  rows {table}, tracing off: unavailable")
        else:
            line = f"  rows {table}, tracing off: {n} of {total} requests (lost: {max(0, total - n)})"
            if n > total:
                line += f"; {n - total} more rows than completed requests (in flight when wrk stopped)"
            print(line)
    show = lambda v: "unavailable" if v is None else str(v)
    print(f"  traces stored: tracing on {show(traces_on)} for {on_total} requests; "
          f"tracing off {show(traces_off)} for {total} requests")

    lost_values = [max(0, total - n) for n in rows.values() if n is not None]
    lost = max(lost_values) if rows and len(lost_values) == len(rows) else None
    targets = [
        ("tracing adds \u2264 0.1 ms p50", "tracing adds <= 0.1 ms p50", added_p50,
         lambda v: v <= 0.1, lambda v: f"{v:+.3f} ms"),
        ("0 lost rows, tracing off", "0 lost rows, tracing off", lost,
         lambda v: v == 0, lambda v: f"{v} lost"),
    ]
    missed = 0
    verdicts = {}
    for label, key, value, ok, fmt in targets:
        verdict = "MISS" if value is None or not ok(value) else "PASS"
        missed += verdict == "MISS"
        verdicts[key] = verdict
        print(f"target: {label:<30}{('unmeasured' if value is None else fmt(value)):>12}   {verdict}")

    results["tollgate_notrace"] = {"c1": n1, "cN": nN, "warmup": nw}
    results["tracing"] = {
        "added_p50_ms": added_p50, "added_p99_ms": added_p99, "rps_ratio": ratio,
        "notrace_max_rss_mb": rss_mb, "notrace_vmhwm_mb": hwm_mb,
        "notrace_rows": rows, "notrace_requests": total,
        "traces": {"tracing_on": traces_on, "tracing_off": traces_off},
        "targets": verdicts,
    }
    return missed

def paired_runs(res, side, prefix="pair"):
    """The alternating rounds of one side, in round order (empty without rounds): `pair` at one
    connection, `pairN` at the throughput connections."""
    runs, n = [], 1
    while os.path.exists(f"{res}/{prefix}-{side}-{n}.txt"):
        runs.append(parse_wrk(f"{res}/{prefix}-{side}-{n}.txt"))
        n += 1
    return runs

def governance_report(d, results, t1, tN, conns):
    """The governed endpoints (key, rate limit, PII guardrails both ways, fallbacks) against the
    ungoverned ones of the same gateway process (the main run), and the streams' time to first token."""
    res = f"{d}/results"
    load = lambda name: parse_wrk(f"{res}/{name}.txt") if os.path.exists(f"{res}/{name}.txt") else None
    gw, g1, gN = load("tollgate-governed-warmup"), load("tollgate-governed-c1"), load("tollgate-governed-cN")
    added_p50 = g1["p50_ms"] - t1["p50_ms"] if g1 and t1 else None
    added_p99 = g1["p99_ms"] - t1["p99_ms"] if g1 and t1 else None
    ratio = gN["rps"] / tN["rps"] if gN and tN and tN["rps"] else None
    pairs_u, pairs_g = paired_runs(res, "ungoverned"), paired_runs(res, "governed")
    pairsN_u, pairsN_g = paired_runs(res, "ungoverned", "pairN"), paired_runs(res, "governed", "pairN")
    total = sum(r["requests"] for r in (gw, g1, gN, *pairs_g, *pairsN_g) if r)
    # Throughput too: the median of the rounds' ratios, when there are rounds.
    ratios = [g["rps"] / u["rps"] for u, g in zip(pairsN_u, pairsN_g) if u["rps"]]
    paired_ratio = statistics.median(ratios) if ratios else None
    # The median of the rounds' differences, when there are rounds; else the single runs'.
    diffs = [g["p50_ms"] - u["p50_ms"] for u, g in zip(pairs_u, pairs_g)]
    paired_p50 = statistics.median(diffs) if diffs else None
    rows = count_store(f"{d}/bench.db", ("inference_table", "endpoint_usage"), "bench-governed")
    streams = {}
    for name in ("ungoverned", "governed"):
        try:
            streams[name] = json.load(open(f"{res}/stream-{name}.json"))
        except (OSError, ValueError):
            streams[name] = None
    print()
    print("governance overhead (same process; a key, a user rate limit that never fires, input and output PII guardrails, fallbacks)")
    w = 29
    print(f"  {'':<{w}}{'ungoverned':>13}{'governed':>13}{'added':>10}")
    print(f"  {'p50 latency, 1 conn (ms)':<{w}}{fmt_ms(t1 and t1['p50_ms']):>13}{fmt_ms(g1 and g1['p50_ms']):>13}{fmt_signed(added_p50):>10}")
    print(f"  {'p99 latency, 1 conn (ms)':<{w}}{fmt_ms(t1 and t1['p99_ms']):>13}{fmt_ms(g1 and g1['p99_ms']):>13}{fmt_signed(added_p99):>10}")
    rps = lambda r: "-" if r is None else f"{r['rps']:.0f}"
    ratio_s = "-" if ratio is None else f"x{ratio:.2f}"
    print(f"  {f'req/s, {conns} conns':<{w}}{rps(tN):>13}{rps(gN):>13}{ratio_s:>10}")
    su, sg = streams.get("ungoverned"), streams.get("governed")
    ttft = lambda s, k: "-" if not s else f"{s[k]:.3f}"
    ttft_added = sg["ttft_p50_ms"] - su["ttft_p50_ms"] if su and sg else None
    print(f"  {'stream TTFT p50 (ms)':<{w}}{ttft(su, 'ttft_p50_ms'):>13}{ttft(sg, 'ttft_p50_ms'):>13}{fmt_signed(ttft_added):>10}")
    print(f"  {'stream total p50 (ms)':<{w}}{ttft(su, 'total_p50_ms'):>13}{ttft(sg, 'total_p50_ms'):>13}")
    if sg:
        print(f"  streams: {sg['requests']} sequential requests each, a simulated answer at {sg['tokens_per_second']:.0f} tokens/s; "
              "the governed one holds back the output guardrail's window (stream_window_chars, 64, plus 32 of context)")
    if diffs:
        rounds = ", ".join(f"{g['p50_ms']:.3f}/{u['p50_ms']:.3f}" for u, g in zip(pairs_u, pairs_g))
        print(f"  {'p50 added, paired rounds':<{w}}{'':>26}{fmt_signed(paired_p50):>10}")
        print(f"  paired rounds (governed/ungoverned p50 ms, alternating order): {rounds}; median difference {paired_p50:+.3f} ms")
    if ratios:
        rounds = ", ".join(f"{g['rps']:.0f}/{u['rps']:.0f}" for u, g in zip(pairsN_u, pairsN_g))
        print(f"  {f'req/s ratio, paired rounds':<{w}}{'':>26}{f'x{paired_ratio:.2f}':>10}")
        print(f"  paired rounds (governed/ungoverned req/s at {conns} connections, alternating order): {rounds}; median ratio x{paired_ratio:.2f}")
    print(f"  errors, governed: 1 conn: {errors_text(g1)}; {conns} conns: {errors_text(gN)}")
    lost = None
    for table, n in rows.items():
        if n is None:
            print(f"  rows {table}, governed: unavailable")
        else:
            lost = max(lost or 0, max(0, total - n))
            print(f"  rows {table}, governed: {n} of {total} requests (lost: {max(0, total - n)})")
    targets = [
        ("governance adds <= 0.05 ms p50", paired_p50 if paired_p50 is not None else added_p50, lambda v: v <= 0.05, lambda v: f"{v:+.3f} ms"),
        ("governed keeps >= 85% of req/s", paired_ratio if paired_ratio is not None else ratio, lambda v: v >= 0.85, lambda v: f"x{v:.2f}"),
        ("0 lost rows, governed", lost, lambda v: v == 0, lambda v: f"{v} lost"),
    ]
    missed = 0
    verdicts = {}
    for label, value, ok, show in targets:
        verdict = "MISS" if value is None or not ok(value) else "PASS"
        missed += verdict == "MISS"
        verdicts[label] = verdict
        print(f"target: {label:<34}{('unmeasured' if value is None else show(value)):>12}   {verdict}")
    results["tollgate_governed"] = {"c1": g1, "cN": gN, "warmup": gw}
    results["governance"] = {
        "added_p50_ms": added_p50, "paired_added_p50_ms": paired_p50, "paired_rounds": len(diffs), "added_p99_ms": added_p99, "rps_ratio": ratio, "paired_rps_ratio": paired_ratio, "rows": rows, "requests": total,
        "streams": streams, "stream_ttft_added_ms": ttft_added, "targets": verdicts,
    }
    return missed


if __name__ == "__main__":
    if sys.argv[1] == "summary":
        summary(sys.argv[2], sys.argv[3])
    elif sys.argv[1] == "report":
        missed = report(sys.argv[2])
        sys.exit(3 if missed else 0)
PY

# cpu_ticks PID: user + system CPU time of PID in clock ticks (0 once it is gone).
cpu_ticks() {
  local stat rest
  stat="$(cat "/proc/$1/stat" 2>/dev/null)" || { echo 0; return 0; }
  rest="${stat##*) }"
  awk '{print $12 + $13}' <<<"$rest"
}

# Waits, at most 30 s, until every Tollgate still running is idle (at most 5 CPU ticks in one
# second each), so that a background writer still busy with one run does not load the next.
settle() {
  local pids=() pid i busy waited=0
  local -A before=()
  for pid in "$TOLLGATE_PID" "$NOTRACE_PID"; do [[ -n "$pid" ]] && pids+=("$pid"); done
  (( ${#pids[@]} > 0 )) || return 0
  for (( i = 0; i < 30; i++ )); do
    for pid in "${pids[@]}"; do before[$pid]="$(cpu_ticks "$pid")"; done
    sleep 1
    busy=0
    for pid in "${pids[@]}"; do
      (( $(cpu_ticks "$pid") - before[$pid] > 5 )) && busy=1
    done
    (( busy )) || { (( waited == 0 )) || log "tollgate idle again after ${waited}s more"; return 0; }
    waited=$(( waited + 1 ))
  done
  log "warning: tollgate still busy after 30s; measuring anyway"
}

# run_wrk NAME URL THREADS CONNECTIONS DURATION_SECONDS [LUA_SCRIPT]
run_wrk() {
  local name="$1" url="$2" threads="$3" conns="$4" secs="$5" script="${6:-$TMP/chat.lua}"
  local out="$TMP/results/$name.txt" rc=0
  settle
  # In the background so that an interrupt is handled at once rather than after the run.
  timeout -k 5 $(( secs + 30 )) \
    "$WRK" -t"$threads" -c"$conns" -d"${secs}s" --latency -s "$script" "$url" >"$out" 2>&1 &
  WRK_PID=$!
  wait "$WRK_PID" || rc=$?
  WRK_PID=""
  (( rc == 0 )) || { cat "$out" >&2; die "wrk failed for $name (status $rc)"; }
  python3 "$TMP/report.py" summary "$name" "$out"
}

# Samples VmRSS of PID every 0.5 s for at most SECONDS, keeping the maximum (kB) in FILE.
sample_rss() {
  local pid="$1" secs="$2" file="$3" max=0 i key value rest
  echo 0 >"$file"
  for (( i = 0; i < secs * 2; i++ )); do
    [[ -r "/proc/$pid/status" ]] || break
    while read -r key value rest; do
      if [[ "$key" == VmRSS: ]]; then
        if (( value > max )); then max=$value; echo "$max" >"$file"; fi
        break
      fi
    done <"/proc/$pid/status" || true
    sleep 0.5
  done
}

# run_cN NAME URL PID SUFFIX [LUA_SCRIPT]: the throughput run, with the memory of PID sampled meanwhile.
run_cN() {
  local name="$1" url="$2" pid="$3" suffix="$4" script="${5:-$TMP/chat.lua}"
  sample_rss "$pid" $(( DURATION_S + 10 )) "$TMP/results/rss_max_kb$suffix" &
  SAMPLER_PID=$!
  run_wrk "$name" "$url" "$THREADS" "$CONNECTIONS" "$DURATION_S" "$script"
  stop_process "$SAMPLER_PID" 2 || true
  SAMPLER_PID=""
  awk '/^VmHWM:/ {print $2}' "/proc/$pid/status" >"$TMP/results/hwm_kb$suffix" 2>/dev/null || true
}

# drain NAME PID: SIGTERM, then up to DRAIN_TIMEOUT s for the record writer to drain and exit.
drain() {
  local name="$1" pid="$2" rc=0
  log "stopping $name (SIGTERM) and waiting up to ${DRAIN_TIMEOUT}s for the record writer to drain"
  if ! stop_process "$pid" "$DRAIN_TIMEOUT"; then
    log "warning: $name did not exit within ${DRAIN_TIMEOUT}s and was killed; unwritten rows count as lost"
  else
    wait "$pid" 2>/dev/null || rc=$?
    (( rc == 0 )) || log "warning: $name exited with status $rc after SIGTERM"
  fi
}

# Each comparison runs back to back: direct, tollgate (tracing on), tollgate (tracing off). The
# warm-ups take the two gateways in the other order, so that neither is always warmed last.
log "warm-up: ${WARMUP_S}s each at $CONNECTIONS connections"
run_wrk direct-warmup "$DIRECT_URL" "$THREADS" "$CONNECTIONS" "$WARMUP_S"
if [[ "$TRACING" == 1 ]]; then
  run_wrk tollgate-notrace-warmup "$NOTRACE_URL" "$THREADS" "$CONNECTIONS" "$WARMUP_S"
fi
if [[ "$ONLY_DIRECT" != 1 ]]; then
  run_wrk tollgate-warmup "$TOLLGATE_URL" "$THREADS" "$CONNECTIONS" "$WARMUP_S"
fi
if [[ "$GOVERNED" == 1 ]]; then
  run_wrk tollgate-governed-warmup "$GOVERNED_URL" "$THREADS" "$CONNECTIONS" "$WARMUP_S" "$TMP/chat-governed.lua"
fi

log "latency: ${DURATION_S}s each at 1 connection"
run_wrk direct-c1 "$DIRECT_URL" 1 1 "$DURATION_S"
if [[ "$ONLY_DIRECT" != 1 ]]; then
  run_wrk tollgate-c1 "$TOLLGATE_URL" 1 1 "$DURATION_S"
fi
if [[ "$TRACING" == 1 ]]; then
  run_wrk tollgate-notrace-c1 "$NOTRACE_URL" 1 1 "$DURATION_S"
fi
if [[ "$GOVERNED" == 1 ]]; then
  run_wrk tollgate-governed-c1 "$GOVERNED_URL" 1 1 "$DURATION_S" "$TMP/chat-governed.lua"
fi

# The governance comparison at one connection, in alternating rounds: p50 at one connection
# moves by more than the difference being measured between two runs of one build on a busy
# machine, so each round measures both sides back to back (the order alternates) and the report
# takes the median of the rounds' differences.
if [[ "$GOVERNED" == 1 ]] && (( PAIRED_ROUNDS > 0 )); then
  log "governance at 1 connection: $PAIRED_ROUNDS alternating rounds of ${PAIRED_S}s each side"
  for (( round = 1; round <= PAIRED_ROUNDS; round++ )); do
    if (( round % 2 )); then
      run_wrk "pair-ungoverned-$round" "$TOLLGATE_URL" 1 1 "$PAIRED_S"
      run_wrk "pair-governed-$round" "$GOVERNED_URL" 1 1 "$PAIRED_S" "$TMP/chat-governed.lua"
    else
      run_wrk "pair-governed-$round" "$GOVERNED_URL" 1 1 "$PAIRED_S" "$TMP/chat-governed.lua"
      run_wrk "pair-ungoverned-$round" "$TOLLGATE_URL" 1 1 "$PAIRED_S"
    fi
  done
fi

log "throughput: ${DURATION_S}s each at $CONNECTIONS connections"
run_wrk direct-cN "$DIRECT_URL" "$THREADS" "$CONNECTIONS" "$DURATION_S"
if [[ "$ONLY_DIRECT" != 1 ]]; then
  run_cN tollgate-cN "$TOLLGATE_URL" "$TOLLGATE_PID" ""
fi
if [[ "$TRACING" == 1 ]]; then
  run_cN tollgate-notrace-cN "$NOTRACE_URL" "$NOTRACE_PID" "_notrace"
fi
if [[ "$GOVERNED" == 1 ]]; then
  run_cN tollgate-governed-cN "$GOVERNED_URL" "$TOLLGATE_PID" "_governed" "$TMP/chat-governed.lua"
  # Throughput in alternating rounds as well: the store grows and the machine drifts during a
  # run, so whichever side went second would carry that drift.
  if (( PAIRED_ROUNDS > 0 )); then
    log "governance at $CONNECTIONS connections: $PAIRED_ROUNDS alternating rounds of ${PAIRED_S}s each side"
    for (( round = 1; round <= PAIRED_ROUNDS; round++ )); do
      if (( round % 2 )); then
        run_wrk "pairN-ungoverned-$round" "$TOLLGATE_URL" "$THREADS" "$CONNECTIONS" "$PAIRED_S"
        run_wrk "pairN-governed-$round" "$GOVERNED_URL" "$THREADS" "$CONNECTIONS" "$PAIRED_S" "$TMP/chat-governed.lua"
      else
        run_wrk "pairN-governed-$round" "$GOVERNED_URL" "$THREADS" "$CONNECTIONS" "$PAIRED_S" "$TMP/chat-governed.lua"
        run_wrk "pairN-ungoverned-$round" "$TOLLGATE_URL" "$THREADS" "$CONNECTIONS" "$PAIRED_S"
      fi
    done
  fi
  log "streams: time to first token through tollgate, ungoverned and governed (output PII window)"
  settle
  export BENCH_STREAM_TOKENS_PER_SECOND="$STREAM_TOKENS_PER_SECOND"
  python3 "$ROOT/bench/stream_ttft.py" "http://127.0.0.1:$TOLLGATE_PORT" "" bench-stream >"$TMP/results/stream-ungoverned.json"
  python3 "$ROOT/bench/stream_ttft.py" "http://127.0.0.1:$TOLLGATE_PORT" "$GOVERNED_KEY" bench-stream-governed >"$TMP/results/stream-governed.json"
fi

if [[ "$ONLY_DIRECT" != 1 ]]; then
  drain tollgate "$TOLLGATE_PID"
  TOLLGATE_PID=""
fi
if [[ "$TRACING" == 1 ]]; then
  drain "tollgate (tracing off)" "$NOTRACE_PID"
  NOTRACE_PID=""
fi

export ONLY_DIRECT TRACING GOVERNED CONNECTIONS THREADS
export DURATION="${DURATION_S}s" WARMUP="${WARMUP_S}s"
export NGINX_VERSION="$("$NGINX" -v 2>&1 | sed 's/^nginx version: //')"
export WRK_VERSION="$("$WRK" -v 2>&1 | head -n 1 | awk '{print $1 " " $2}')"
report_rc=0
python3 "$TMP/report.py" report "$TMP" || report_rc=$?
(( report_rc == 0 || report_rc == 3 )) || die "report failed"
FINISHED=1
if (( report_rc == 3 )) && [[ "$STRICT" == 1 ]]; then exit 1; fi
exit 0
