#!/usr/bin/env bash
# Benchmark (issue 14 point 7): `portplan serve` under concurrent load, on a
# generated catalog of PRODUCTS x REQUIREMENTS (default 100 x 1,000) and a
# generated deployment of three of its products, with SQLite and with a
# throwaway PostgreSQL side by side. For each database, wrk keeps
# CONNECTIONS (default 200) connections busy for DURATION on:
#   search  GET /api/catalog/search?q=...  (queries of the catalog's words and ports)
#   plan    GET /api/deployments/bench-serve/plan  (read from the database, planned)
#   page    GET /  (the page)
#   product GET /api/catalog/products/ID
# and prints requests/s, p50/p99 latency and errors (socket errors and
# non-2xx responses), with the machine's load before and after. First, the
# search index against a scan of every requirement on the same queries.
#
# usage: benches/serve/run.sh [PRODUCTS] [REQUIREMENTS]
# env:   DURATION (20s), CONNECTIONS (200), THREADS (2), CARGO_TARGET_DIR,
#        PORTPLAN (a built binary to use instead of building the release one),
#        PG_URL (use this PostgreSQL instead of starting a throwaway one)
# needs: wrk (`apt-get install -y wrk`), curl, python3, /usr/bin/time; PostgreSQL through
#        scripts/pg-throwaway.sh unless PG_URL is given.
set -euo pipefail
cd "$(dirname "$0")/../.."
products=${1:-100}
reqs=${2:-1000}
duration=${DURATION:-20s}
conns=${CONNECTIONS:-200}
threads=${THREADS:-2}
for tool in wrk curl python3 /usr/bin/time; do
  command -v "$tool" >/dev/null || { echo "$tool not found (apt-get install -y $tool)" >&2; exit 2; }
done

work=$(mktemp -d /tmp/portplan-bench-serve.XXXXXX)
server_pid=
pg_dir=
cleanup() {
  if [ -n "$server_pid" ]; then kill "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; fi
  if [ -n "$pg_dir" ]; then scripts/pg-throwaway.sh stop "$pg_dir" || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

pp=${PORTPLAN:-}
if [ -z "$pp" ]; then
  cargo build -q --release -p portplan
  pp=${CARGO_TARGET_DIR:-target}/release/portplan
fi

python3 benches/serve/gen_catalog.py "$work/gen" "$products" "$reqs"
cat=$work/gen/catalog
"$pp" --catalog "$cat" catalog check "$cat"
"$pp" --catalog "$cat" check "$work/gen/deployment.yaml" 2>/dev/null | tail -1
# Search alone, in one process, on the same queries: the server's index
# (search_top) against scanning every requirement (what `catalog search`
# does for one query), same hits checked.
cargo build -q --release -p portplan-model --example search_bench
"${CARGO_TARGET_DIR:-target}/release/examples/search_bench" "$cat" "$work/gen/paths-search.txt"
printf '/\n' >"$work/paths-page.txt"
printf '/api/deployments/bench-serve/plan\n' >"$work/paths-plan.txt"

# serve DB: starts the server on DB, waits for its URL (the catalog takes a
# few seconds to load), saves the deployment through the API.
serve() {
  : >"$work/url"
  "$pp" --catalog "$cat" serve --listen 127.0.0.1:0 --db "$1" >"$work/url" 2>>"$work/serve.log" &
  server_pid=$!
  for _ in $(seq 600); do
    [ -s "$work/url" ] && break
    kill -0 "$server_pid" 2>/dev/null || { echo "server stopped:" >&2; cat "$work/serve.log" >&2; exit 1; }
    sleep 0.1
  done
  url=$(head -1 "$work/url")
  url=${url%/}
  local csrf
  csrf=$(curl -sf -c "$work/jar" "$url/api/session" | python3 -c 'import json,sys; print(json.load(sys.stdin)["csrf"])')
  python3 -c 'import json,sys; print(json.dumps({"name": "bench-serve", "yaml": open(sys.argv[1]).read(), "message": "load benchmark"}))' \
    "$work/gen/deployment.yaml" >"$work/save.json"
  curl -sf -b "$work/jar" -H "X-CSRF-Token: $csrf" -H 'Content-Type: application/json' \
    --data-binary @"$work/save.json" "$url/api/deployments" >/dev/null
}

# One request of each kind before the load: each must answer 200; the sizes
# and counts say what a request does.
probe() {
  local db=$1 path
  for path in "$(head -1 "$work/gen/paths-search.txt")" /api/deployments/bench-serve/plan / \
    "$(head -1 "$work/gen/paths-products.txt")"; do
    curl -s -o "$work/body" -w '%{http_code} %{size_download} %{time_total}\n' "$url$path" >"$work/probe"
    read -r code size secs <"$work/probe"
    [ "$code" = 200 ] || { echo "$db $path: HTTP $code" >&2; head -c 2000 "$work/body" >&2; exit 1; }
    echo "  $db GET $path: $size bytes, ${secs}s alone"
  done
  python3 - "$url" <<'PY'
import json, sys, urllib.request
get = lambda path: json.load(urllib.request.urlopen(sys.argv[1] + path))
health = get("/api/health")
plan = get("/api/deployments/bench-serve/plan")
print(f"  health: database {health['database']}, {health['products']} products; "
      f"plan: {len(plan['flows'])} flows, {len(plan['diagnostics'])} diagnostics")
PY
}

# The server's CPU time (user + system) so far, in clock ticks: what a
# request costs, whatever else the machine is doing.
cpu_ticks() {
  awk '{print $14 + $15}' "/proc/$server_pid/stat"
}

run_db() {
  local db=$1 dburl=$2 ep
  serve "$dburl"
  echo "$db: $url ($(uptime | sed 's/.*load/load/'))"
  probe "$db"
  echo "$db load-before $(uptime | sed 's/.*load average: //')" >>"$work/loads"
  for ep in search plan page product; do
    case $ep in
      search) paths=$work/gen/paths-search.txt ;;
      product) paths=$work/gen/paths-products.txt ;;
      *) paths=$work/paths-$ep.txt ;;
    esac
    # --timeout 60s: a slow answer is measured, not dropped as a timeout.
    local t0 t1
    t0=$(cpu_ticks)
    # wrk's own CPU too: on a 2-core machine it competes with the server.
    /usr/bin/time -f '%U %S' -o "$work/wrk-time" \
      wrk -t"$threads" -c"$conns" -d"$duration" --timeout 60s --latency \
      -s benches/serve/load.lua "$url" -- "$paths" "$db-$ep" >"$work/wrk-$db-$ep.txt"
    t1=$(cpu_ticks)
    echo "$(grep '^RESULT' "$work/wrk-$db-$ep.txt") server_cpu_ms=$(( (t1 - t0) * 1000 / $(getconf CLK_TCK) ))" \
      "wrk_cpu_s=$(awk '{print $1 + $2}' "$work/wrk-time")" | tee -a "$work/results"
  done
  echo "$db load-after $(uptime | sed 's/.*load average: //')" >>"$work/loads"
  kill "$server_pid"
  wait "$server_pid" 2>/dev/null || true
  server_pid=
}

echo "catalog: $products products x $reqs requirements; wrk -t$threads -c$conns -d$duration; $(nproc) cores"
echo "start: $(date -u +%FT%TZ), $(uptime)"
run_db sqlite "sqlite:$work/bench.db"
pg_url=${PG_URL:-}
if [ -z "$pg_url" ]; then
  pg_dir=$work/pg
  pg_url=$(scripts/pg-throwaway.sh start "$pg_dir")
fi
run_db postgres "$pg_url"
echo "end: $(date -u +%FT%TZ), $(uptime)"
cat "$work/loads"
if grep -qiE 'error|panic' "$work/serve.log"; then
  echo "server log (errors):"
  grep -iE 'error|panic' "$work/serve.log" | sort | uniq -c | head -20
fi

python3 - "$work/results" <<'PY'
import sys
rows = []
for line in open(sys.argv[1]):
    kv = dict(x.split("=", 1) for x in line.split()[1:])
    db, ep = kv["label"].split("-", 1)
    rows.append((ep, db, kv))
order = {"search": 0, "plan": 1, "page": 2, "product": 3}
rows.sort(key=lambda r: (order.get(r[0], 9), r[1] != "sqlite"))
print()
print("| endpoint | database | requests/s | p50 ms | p99 ms | max ms | server CPU ms/request | server, wrk CPU s | socket errors | non-2xx |")
print("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|")
for ep, db, kv in rows:
    sock = sum(int(kv[k]) for k in ("connect", "read", "write", "timeout"))
    n = int(kv["requests"])
    cpu = f"{int(kv['server_cpu_ms']) / n:.2f}" if n else "-"
    print(f"| {ep} | {db} | {float(kv['rps']):,.0f} | {kv['p50_ms']} | {kv['p99_ms']} | "
          f"{kv['max_ms']} | {cpu} | {int(kv['server_cpu_ms']) / 1000:.1f}, {float(kv['wrk_cpu_s']):.1f} | "
          f"{sock} | {kv['non2xx']} |")
PY
