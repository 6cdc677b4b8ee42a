#!/usr/bin/env bash
# Benchmark (issue 9 point 6): `portplan audit` of a ruleset of 100,000
# rules against about 100,000 planned flows. The deployment is generated
# (benches/plan/gen_deployment.py, sized to the flow target); the ruleset is
# a Cisco IOS extended ACL, the kind of 100,000-line ACL a core firewall
# carries: portplan's own `cisco-ios` rendering of the unmerged plan (one
# entry per flow and port), cut or padded to exactly N entries
# (trim_rules.py), so some flows are blocked and some rules unused.
#
# Prints: the whole command's wall time and peak memory (median of REPS
# runs, /usr/bin/time -v), the stages on one thread (read, compile, judge,
# reverse checks), and side by side on a sample of the same flows the
# audit with its rule index and the flows x rules scan it replaces (same
# verdicts, checked). Then peak memory at N/4, N/2 and N rules: memory
# should grow with the input, not with flows x rules.
#
# usage: benches/audit/run.sh [RULES] [FLOWS]   (default 100000 100000)
# needs: python3 (with PyYAML, for the ISE part of the generator), /usr/bin/time
set -euo pipefail
cd "$(dirname "$0")/../.."
rules=${1:-100000}
target=${2:-100000}
reps=${REPS:-5}
work=$(mktemp -d /tmp/portplan-bench-audit.XXXXXX)
trap 'rm -rf "$work"' EXIT

cargo build -q --release -p portplan
cargo build -q --release -p portplan-ruleset --example audit_bench
pp=target/release/portplan
bench=target/release/examples/audit_bench

# Size the deployment from a small one. Flows are counted unmerged (one
# per requirement, protocol and pair of role entries) and audited so
# (`--no-merge`): merging folds the sites' flows into a few hundred.
python3 benches/plan/gen_deployment.py 10 "$work/probe.yaml"
"$pp" plan "$work/probe.yaml" -f json --no-merge -o "$work/probe.json" 2>/dev/null
per_site=$(python3 -c "import json,sys; print(len(json.load(open(sys.argv[1]))['flows']) / 10)" "$work/probe.json")
sites=$(python3 -c "import math,sys; print(math.ceil($target / $per_site))")
python3 benches/plan/gen_deployment.py "$sites" "$work/dep.yaml"
"$pp" plan "$work/dep.yaml" -f json --no-merge -o "$work/flows.json" 2>/dev/null
flows=$(python3 -c "import json,sys; print(len(json.load(open(sys.argv[1]))['flows']))" "$work/flows.json")
"$pp" plan "$work/dep.yaml" -f cisco-ios --no-merge -o "$work/full.rules" 2>/dev/null
python3 benches/audit/trim_rules.py "$work/full.rules" "$rules" "$work/rules"
echo "deployment: $sites sites, $flows planned flows (unmerged); ruleset: $rules rules"

measure() { # NAME CMD...: wall seconds and peak KB, one line per run
  local name=$1; shift
  /usr/bin/time -v -o "$work/t" "$@" >/dev/null 2>"$work/err" || true
  grep -q "Exit status: [01]$" "$work/t" || { echo "$name failed:" >&2; cat "$work/err" >&2; exit 1; }
  local wall kb
  wall=$(awk -F': ' '/Elapsed \(wall clock\)/ {n=split($2,a,":"); s=0; for(i=1;i<=n;i++) s=s*60+a[i]; print s}' "$work/t")
  kb=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$work/t")
  echo "$name $wall $kb" >> "$work/results"
}

for _ in $(seq "$reps"); do
  PORTPLAN_TIMINGS=1 measure audit "$pp" audit "$work/dep.yaml" --no-merge --rules "$work/rules" -o "$work/audit.txt"
  grep '^timing:' "$work/err" | sed 's/^timing: //' | paste -sd';' >> "$work/stages"
done
measure plan-only "$pp" plan "$work/dep.yaml" --no-merge -f csv -o "$work/plan.csv"
tail -1 "$work/audit.txt" | sed 's/^/audit says: /'
echo "--- stages of the whole command, each run (PORTPLAN_TIMINGS)"
cat "$work/stages"

echo "--- stages, one thread (audit_bench)"
"$bench" "$work/rules" cisco-ios "$work/flows.json" 10.0.0.0/8 "${SAMPLE:-300}"

echo "--- memory by ruleset size (same plan)"
for frac in 4 2 1; do
  n=$((rules / frac))
  python3 benches/audit/trim_rules.py "$work/full.rules" "$n" "$work/rules.$n" >/dev/null
  measure "mem-$n" "$pp" audit "$work/dep.yaml" --no-merge --rules "$work/rules.$n" -o /dev/null
done

python3 - "$work/results" "$(stat -c %s "$work/rules")" <<'PY'
import statistics, sys
runs = {}
for line in open(sys.argv[1]):
    name, wall, kb = line.split()
    runs.setdefault(name, []).append((float(wall), int(kb)))
a = runs["audit"]
print(f"--- portplan audit (whole command, {len(a)} runs): median wall {statistics.median(w for w, _ in a):.3f}s, "
      f"peak RSS {max(k for _, k in a) / 1024:.0f} MB; ruleset file {int(sys.argv[2]) / 1e6:.1f} MB")
p = runs["plan-only"][0]
print(f"    for scale, `plan --no-merge -f csv` of the same deployment (plans and writes the CSV ticket): {p[0]:.3f}s")
for k in sorted((k for k in runs if k.startswith("mem-")), key=lambda k: int(k[4:])):
    w, kb = runs[k][0]
    print(f"    {k[4:]:>7} rules: {w:.3f}s, peak RSS {kb / 1024:.0f} MB")
PY
