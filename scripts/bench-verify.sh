#!/usr/bin/env bash
# Benchmarks of the verify engine, peers run side by side in the same run,
# on loopback only. Prints medians and ratios; results go to docs/BENCHMARKS.md.
#  1. `portplan probe 127.0.0.1 --ports 1-65535` vs
#     `nmap -sT -p- -T5 --min-rate 20000 -n -Pn 127.0.0.1` (and -T4).
#  2. `portplan verify` of a generated 1,000-flow plan against a local
#     `portplan respond` (target: under 1 s).
# Needs nmap (apt-get install nmap). RUNS=N sets the rounds (default 5).
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${RUNS:-5}
command -v nmap >/dev/null || { echo "bench-verify: nmap is not installed (apt-get install nmap)" >&2; exit 2; }
cargo build --release -q -p portplan
BIN=${CARGO_TARGET_DIR:-target}/release/portplan
WORK=$(mktemp -d)
RESP_PID=
cleanup() { [ -n "$RESP_PID" ] && kill "$RESP_PID" 2>/dev/null; rm -rf "$WORK"; }
trap cleanup EXIT

# Seconds taken by a command (its output discarded; its exit code ignored:
# probe exits 1 when closed ports are found, which is the point of a scan).
secs() {
  local t0=$EPOCHREALTIME
  "$@" >/dev/null 2>&1 || true
  awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.3f", b - a }'
}
median() { printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

echo "== 1. full TCP port scan of 127.0.0.1 ($RUNS rounds, interleaved)"
pp=(); t5=(); t4=()
for _ in $(seq "$RUNS"); do
  pp+=("$(secs "$BIN" probe 127.0.0.1 --ports 1-65535 --timeout 1s)")
  t5+=("$(secs nmap -sT -p- -T5 --min-rate 20000 -n -Pn 127.0.0.1)")
  t4+=("$(secs nmap -sT -p- -T4 -n -Pn 127.0.0.1)")
done
mp=$(median "${pp[@]}"); m5=$(median "${t5[@]}"); m4=$(median "${t4[@]}")
# Both must see the same open ports, or the race means nothing.
open_pp=$("$BIN" probe 127.0.0.1 --ports 1-65535 --timeout 1s -f json 2>/dev/null | grep -c '"state": "open"' || true)
open_nm=$(nmap -sT -p- -T5 --min-rate 20000 -n -Pn 127.0.0.1 | grep -c '/tcp .*open' || true)
printf 'portplan probe 1-65535      median %ss  (runs: %s)\n' "$mp" "${pp[*]}"
printf 'nmap -sT -p- -T5 min-rate   median %ss  (runs: %s)\n' "$m5" "${t5[*]}"
printf 'nmap -sT -p- -T4            median %ss  (runs: %s)\n' "$m4" "${t4[*]}"
printf 'open ports found: portplan %s, nmap %s\n' "$open_pp" "$open_nm"
awk -v p="$mp" -v a="$m5" -v b="$m4" 'BEGIN { printf "ratio nmap-T5/portplan = %.2fx, nmap-T4/portplan = %.2fx\n", a / p, b / p }'

echo "== 2. verify a 1,000-flow plan against a local responder"
# One product, 1000 server roles each on its own 127.0.x.y address and port
# (half TCP, half UDP): no two flows can merge, so the plan has 1000 flows.
N=1000
mkdir -p "$WORK/catalog"
{
  echo "product: benchflows"
  echo "name: Bench Flows"
  echo "vendor: portplan bench"
  echo "sources: [{id: gen, title: generated, file: none.txt}]"
  echo "roles:"
  echo "  - {id: client, name: Client, kind: component}"
  for i in $(seq 0 $((N - 1))); do echo "  - {id: srv-$i, name: Server $i, kind: component}"; done
  echo "requirements:"
  for i in $(seq 0 $((N - 1))); do
    proto=tcp; [ $((i % 2)) = 1 ] && proto=udp
    echo "  - {id: r-$i, service: s$i, from: client, to: srv-$i, protocol: $proto, ports: [$((20000 + i))], source: {doc: gen, line: $((i + 1))}}"
  done
} > "$WORK/catalog/benchflows.yaml"
{
  echo "name: bench-1000"
  echo "hosts: {client-host: 127.0.0.1}"
  echo "products:"
  echo "  - product: benchflows"
  echo "    roles:"
  echo "      client: client-host"
  for i in $(seq 0 $((N - 1))); do echo "      srv-$i: 127.0.$((i / 250 + 1)).$((i % 250 + 1))"; done
} > "$WORK/bench.yaml"
flows=$("$BIN" --catalog "$WORK/catalog" plan "$WORK/bench.yaml" -f json 2>/dev/null | grep -c '"src"' || true)
echo "planned flows: $flows"
export PORTPLAN_SECRET=bench-secret-Kp4Xq9Vm2Lw7Rt
"$BIN" respond --ports "tcp:20000-$((20000 + N - 1))" "udp:20000-$((20000 + N - 1))" --ttl 10m > "$WORK/resp.log" 2>&1 &
RESP_PID=$!
until grep -q "listening on" "$WORK/resp.log"; do sleep 0.1; done
verified=$("$BIN" --catalog "$WORK/catalog" verify "$WORK/bench.yaml" --from client-host -f json 2>/dev/null | grep -c '"state": "verified"' || true)
echo "verified paths: $verified of $N"
vt=()
for _ in $(seq "$RUNS"); do
  vt+=("$(secs "$BIN" --catalog "$WORK/catalog" verify "$WORK/bench.yaml" --from client-host)")
done
mv=$(median "${vt[@]}")
printf 'portplan verify (1000 flows)  median %ss  (runs: %s)\n' "$mv" "${vt[*]}"
awk -v v="$mv" 'BEGIN { printf "ratio target(1 s)/portplan = %.2fx\n", 1 / v }'
