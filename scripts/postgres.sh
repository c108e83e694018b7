#!/usr/bin/env bash
# A throwaway PostgreSQL server on loopback, for the tests and the benchmark.
#
#   scripts/postgres.sh start DIR   installs Debian's `postgresql` package when `initdb` is
#                                   missing, creates a cluster in DIR on a free 127.0.0.1 port
#                                   with password authentication, starts it and prints its URL
#                                   (postgres://tollgate:PASSWORD@127.0.0.1:PORT/tollgate)
#   scripts/postgres.sh url DIR     prints the URL of the cluster in DIR again
#   scripts/postgres.sh stop DIR    stops it (DIR is left for the caller to remove)
#
# The server only listens on 127.0.0.1; the password is random per cluster and kept in DIR/url.
# PostgreSQL refuses to run as root, so as root the cluster belongs to the `postgres` user that
# the Debian package creates.
set -euo pipefail

die() { printf 'postgres.sh: %s\n' "$*" >&2; exit 1; }

(( $# == 2 )) || die "usage: scripts/postgres.sh start|url|stop DIR"
command="$1"
dir="$2"

pg_bin() {
  local found
  found="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)"
  [[ -n "$found" && -x "$found/initdb" ]] && { echo "$found"; return 0; }
  return 1
}

ensure_installed() {
  pg_bin >/dev/null && return 0
  command -v apt-get >/dev/null || die "PostgreSQL is not installed and apt-get is not available"
  echo "postgres.sh: installing Debian's postgresql package" >&2
  if (( EUID == 0 )); then
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q postgresql >/dev/null \
      || { apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -q postgresql >/dev/null; }
  else
    sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -q postgresql >/dev/null
  fi
  pg_bin >/dev/null || die "initdb is still missing after installing postgresql"
}

# as_owner CMD...: runs CMD as the cluster's owner (the `postgres` user when we are root).
as_owner() {
  if (( EUID == 0 )); then runuser -u postgres -- "$@"; else "$@"; fi
}

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

start() {
  ensure_installed
  local bin port password
  bin="$(pg_bin)"
  mkdir -p "$dir"
  dir="$(cd "$dir" && pwd)"
  [[ ! -e "$dir/data" ]] || die "$dir/data exists already"
  port="$(free_port)"
  password="$(python3 -c 'import secrets; print(secrets.token_urlsafe(18))')"
  mkdir -p "$dir/data" "$dir/socket"
  printf '%s\n' "$password" >"$dir/password"
  if (( EUID == 0 )); then
    chown -R postgres "$dir"
    as_owner test -w "$dir/data" || die "the postgres user cannot reach $dir: make its parent directories traversable (chmod o+x)"
  fi
  as_owner "$bin/initdb" -D "$dir/data" -U tollgate --pwfile="$dir/password" --auth=scram-sha-256 \
    -E UTF8 --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 || { cat "$dir/initdb.log" >&2; die "initdb failed"; }
  rm -f "$dir/password"
  as_owner "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
    -o "-c listen_addresses=127.0.0.1 -p $port -k $dir/socket -c max_connections=200 -c fsync=off" start >/dev/null \
    || { tail -n 20 "$dir/server.log" >&2; die "the server did not start"; }
  PGPASSWORD="$password" "$bin/createdb" -h 127.0.0.1 -p "$port" -U tollgate tollgate \
    || die "createdb failed"
  printf 'postgres://tollgate:%s@127.0.0.1:%s/tollgate\n' "$password" "$port" >"$dir/url"
  cat "$dir/url"
}

stop() {
  local bin
  [[ -d "$dir/data" ]] || return 0
  bin="$(pg_bin)" || die "PostgreSQL is not installed"
  as_owner "$bin/pg_ctl" -D "$dir/data" -m fast -w -t 60 stop >/dev/null 2>&1 || true
}

case "$command" in
  start) start ;;
  url) [[ -r "$dir/url" ]] || die "no cluster in $dir"; cat "$dir/url" ;;
  stop) stop ;;
  *) die "usage: scripts/postgres.sh start|url|stop DIR" ;;
esac
