#!/usr/bin/env bash
# Benchmark (issue 3 point 6): plan + render a generated deployment of about
# 20,000 planned flows to cisco-ios, junos and iptables with portplan, and
# render the equivalent policy of one term per flow with Aerleon, side by
# side in the same run. portplan runs twice over: three separate runs (one
# format each) and one run writing the three formats, as Aerleon does.
# Prints wall time, peak memory (/usr/bin/time -v), rule counts and ratios.
#
# usage: benches/plan/run.sh [TARGET_FLOWS]   (default 20000)
# needs: python3, /usr/bin/time, Aerleon (`pip install aerleon`; the script
# uses $AERLEON_VENV/bin/aclgen if set, else `aclgen` on PATH).
set -euo pipefail
cd "$(dirname "$0")/../.."
target=${1:-20000}
work=$(mktemp -d /tmp/portplan-bench-plan.XXXXXX)
trap 'rm -rf "$work"' EXIT
aclgen=${AERLEON_VENV:+$AERLEON_VENV/bin/}aclgen
command -v "$aclgen" >/dev/null || { echo "aclgen not found: pip install aerleon" >&2; exit 2; }

cargo build -q --release -p portplan
pp=target/release/portplan

# Size the deployment: measure flows per site on a small one, then scale.
python3 benches/plan/gen_deployment.py 10 "$work/probe.yaml"
"$pp" plan "$work/probe.yaml" -f json --no-merge -o "$work/probe.json"
per_site=$(python3 -c "import json,sys; print(len(json.load(open(sys.argv[1]))['flows']) // 10)" "$work/probe.json")
sites=$(( (target + per_site - 1) / per_site ))
python3 benches/plan/gen_deployment.py "$sites" "$work/dep.yaml"
"$pp" check "$work/dep.yaml"
"$pp" plan "$work/dep.yaml" -f json --no-merge -o "$work/flows.json"
planned=$(python3 -c "import json,sys; print(len(json.load(open(sys.argv[1]))['flows']))" "$work/flows.json")
hosts=$(grep -cE '^  [a-z0-9-]+: [0-9]' "$work/dep.yaml")
echo "deployment: $sites sites, $hosts named hosts and networks, $planned planned flows (unmerged)"
python3 benches/plan/gen_aerleon.py "$work/flows.json" "$work/aerleon"

# measure NAME REPS CMD...: runs CMD REPS times under /usr/bin/time -v and
# records each run's seconds and peak KB (the report takes medians: a 0.1 s
# run is near /usr/bin/time's 10 ms resolution and moves with the load).
measure() {
  local name=$1 reps=$2; shift 2
  for _ in $(seq "$reps"); do
    /usr/bin/time -v -o "$work/$name.time" "$@" >/dev/null 2>"$work/$name.err" || {
      echo "$name failed:" >&2; cat "$work/$name.err" >&2; exit 1; }
    local wall cpu kb
    wall=$(awk -F': ' '/Elapsed \(wall clock\)/ {n=split($2,a,":"); s=0; for(i=1;i<=n;i++) s=s*60+a[i]; print s}' "$work/$name.time")
    cpu=$(awk -F': ' '/User time|System time/ {s+=$2} END {print s}' "$work/$name.time")
    kb=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$work/$name.time")
    echo "$name $wall $cpu $kb" >> "$work/results"
  done
}

reps=${REPS:-7}
measure portplan-cisco-ios "$reps" "$pp" plan "$work/dep.yaml" -f cisco-ios -o "$work/pp.ios"
measure portplan-junos "$reps" "$pp" plan "$work/dep.yaml" -f junos -o "$work/pp.junos"
# A host firewall is written for one host; `all-sites` (10.0.0.0/8) holds
# every host of the deployment, so this renders every flow.
measure portplan-iptables "$reps" "$pp" plan "$work/dep.yaml" -f iptables --for-host all-sites -o "$work/pp.ipt"
# As Aerleon does: one run, one plan, three targets (`--for-host all-sites`
# keeps every flow for the device formats too; the files are checked equal
# to the separate runs' below).
measure portplan-one-run "$reps" "$pp" plan "$work/dep.yaml" -f cisco-ios,junos,iptables \
  --for-host all-sites -o "$work/pp-one"
for f in cisco-ios.cfg:pp.ios junos.conf:pp.junos iptables.rules:pp.ipt; do
  cmp -s "$work/pp-one/${f%%:*}" "$work/${f##*:}" || { echo "one-run ${f%%:*} differs from its separate run" >&2; exit 1; }
done
mkdir -p "$work/aerleon/out"
measure aerleon-all-three 1 "$aclgen" --base_directory="$work/aerleon/policies" \
  --definitions_directory="$work/aerleon/def" --output_directory="$work/aerleon/out"

rules_pp_ios=$(grep -cE '^ (permit|deny) ' "$work/pp.ios" || true)
rules_pp_junos=$(grep -cE 'then (permit|accept)' "$work/pp.junos" || true)
rules_pp_ipt=$(grep -cE '^-A .* -j ACCEPT' "$work/pp.ipt" || true)
rules_ae_ios=$(grep -cE '^ (permit|deny) ' "$work/aerleon/out/bench.acl" || true)
rules_ae_junos=$(grep -cE '^ +term ' "$work/aerleon/out/bench.jcl" || true)
rules_ae_ipt=$(grep -cE '^-A .* -j ACCEPT' "$work/aerleon/out/bench" || true)

python3 - "$work/results" <<PY
import statistics, sys
runs = {}
for line in open(sys.argv[1]):
    name, wall, cpu, kb = line.split()
    runs.setdefault(name, []).append((float(wall), float(cpu), int(kb)))
# median wall and CPU, peak memory over the repetitions
r = {k: (statistics.median(x[0] for x in v), statistics.median(x[1] for x in v), max(x[2] for x in v), len(v))
     for k, v in runs.items()}
sep = [r[k] for k in ("portplan-cisco-ios", "portplan-junos", "portplan-iptables")]
sep_wall, sep_cpu, sep_mem = sum(v[0] for v in sep), sum(v[1] for v in sep), max(v[2] for v in sep)
one_wall, one_cpu, one_mem, _ = r["portplan-one-run"]
ae_wall, ae_cpu, ae_mem, _ = r["aerleon-all-three"]
print(f"{'run':26} {'wall':>8} {'cpu':>8} {'peak RSS':>10}  (median of n runs)")
for k, (w, c, m, n) in r.items():
    print(f"{k:26} {w:7.3f}s {c:7.3f}s {m / 1024:8.1f}MB  n={n}")
print(f"{'portplan, 3 separate runs':26} {sep_wall:7.3f}s {sep_cpu:7.3f}s {sep_mem / 1024:8.1f}MB  (sum of times, peak of memory)")
print(f"ratio aerleon/portplan, one run (like aerleon): wall {ae_wall / one_wall:.1f}x, cpu {ae_cpu / one_cpu:.1f}x, memory {ae_mem / one_mem:.1f}x")
print(f"ratio aerleon/portplan, 3 separate runs:        wall {ae_wall / sep_wall:.1f}x, cpu {ae_cpu / sep_cpu:.1f}x, memory {ae_mem / sep_mem:.1f}x")
print("rules, portplan vs aerleon:")
print(f"  cisco-ios  {$rules_pp_ios:7} vs {$rules_ae_ios:7}")
print(f"  junos      {$rules_pp_junos:7} vs {$rules_ae_junos:7} (portplan: SRX policies; aerleon: filter terms)")
print(f"  iptables   {$rules_pp_ipt:7} vs {$rules_ae_ipt:7} (portplan: INPUT+OUTPUT of 10.0.0.0/8; aerleon: FORWARD)")
PY
