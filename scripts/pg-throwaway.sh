#!/usr/bin/env bash
# A throwaway PostgreSQL cluster in a folder, for the serve API tests
# (crates/cli/tests/serve_api.rs reads PORTPLAN_TEST_POSTGRES).
#
#   scripts/pg-throwaway.sh start DIR   # prints postgres://postgres@127.0.0.1:PORT/portplan
#   scripts/pg-throwaway.sh stop DIR    # stops it (DIR can then be removed)
#
# Trust authentication on 127.0.0.1 only, no TCP listener elsewhere, the
# socket inside DIR. As root the server runs as the `postgres` system user
# (PostgreSQL refuses to run as root); the Debian package `postgresql` is
# installed when no server binary is found and we are root.
set -euo pipefail

usage() {
  echo "usage: $0 start DIR | stop DIR" >&2
  exit 2
}
[ "$#" -eq 2 ] || usage
cmd=$1
dir=$2

# The newest server binaries under Debian's layout, else on PATH.
find_bin() {
  local b
  b=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
  if [ -n "$b" ] && [ -x "$b/initdb" ] && [ -x "$b/pg_ctl" ]; then
    echo "$b"
  elif command -v initdb >/dev/null 2>&1 && command -v pg_ctl >/dev/null 2>&1; then
    dirname "$(command -v initdb)"
  fi
}

# Runs a server tool as the cluster's owner.
as_owner() {
  if [ "$(id -u)" = 0 ]; then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

# A port nobody listens on now (the kernel picks it).
free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

start() {
  local bin port
  bin=$(find_bin)
  if [ -z "$bin" ]; then
    if [ "$(id -u)" != 0 ]; then
      echo "pg-throwaway: no PostgreSQL server (initdb, pg_ctl) and not root to install it" >&2
      exit 1
    fi
    echo "pg-throwaway: installing postgresql" >&2
    DEBIAN_FRONTEND=noninteractive apt-get update -qq </dev/null >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql </dev/null >/dev/null
    bin=$(find_bin)
    [ -n "$bin" ] || { echo "pg-throwaway: postgresql installed but no initdb found" >&2; exit 1; }
  fi
  mkdir -p "$dir"
  dir=$(cd "$dir" && pwd)
  if [ "$(id -u)" = 0 ]; then
    id postgres >/dev/null 2>&1 || { echo "pg-throwaway: no \`postgres\` system user" >&2; exit 1; }
    chown postgres: "$dir"
    # The owner must reach DIR through its parents (mktemp folders are 0700).
    chmod a+x "$(dirname "$dir")" 2>/dev/null || true
  fi
  as_owner "$bin/initdb" -D "$dir/data" -U postgres --auth=trust \
    --no-sync -E UTF8 --locale=C >"$dir/initdb.log" 2>&1 ||
    { cat "$dir/initdb.log" >&2; exit 1; }
  # Loopback only; trust is then for this machine's users, for a test.
  cat >"$dir/data/pg_hba.conf" <<'EOF'
local all all trust
host  all all 127.0.0.1/32 trust
EOF
  port=$(free_port)
  echo "$port" >"$dir/port"
  as_owner "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
    -o "-c listen_addresses=127.0.0.1 -p $port -k '$dir' -c fsync=off -c max_connections=300" \
    start >/dev/null || { cat "$dir/server.log" >&2; exit 1; }
  # pg_ctl -w waited for start-up; pg_isready says it takes connections.
  local i
  for i in $(seq 1 60); do
    if pg_ready "$bin" "$port"; then
      break
    fi
    [ "$i" = 60 ] && { echo "pg-throwaway: server not ready" >&2; cat "$dir/server.log" >&2; exit 1; }
    sleep 1
  done
  as_owner "$bin/createdb" -h 127.0.0.1 -p "$port" -U postgres portplan
  echo "postgres://postgres@127.0.0.1:$port/portplan"
}

pg_ready() {
  local ready
  ready=$1/pg_isready
  [ -x "$ready" ] || ready=pg_isready
  "$ready" -q -h 127.0.0.1 -p "$2" -U postgres
}

stop() {
  local bin
  [ -d "$dir/data" ] || return 0
  bin=$(find_bin)
  [ -n "$bin" ] || { echo "pg-throwaway: no pg_ctl to stop $dir" >&2; exit 1; }
  as_owner "$bin/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null
}

case "$cmd" in
  start) start ;;
  stop) stop ;;
  *) usage ;;
esac
