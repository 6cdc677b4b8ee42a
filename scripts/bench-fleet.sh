#!/usr/bin/env bash
# Benchmark of a fleet proof: `portplan fleet` + `ansible-playbook` over N
# network-namespace hosts (default 24), each a real sshd, every host both a
# client and a service of the test product `fleetcheck` (all to all: N×(N-1)
# flows of 3 ports). Prints the whole run's wall time and how it splits:
# portplan probing (from the first verify's start to the last one's end, as
# the results say), portplan merging (the report runs, timed apart), and the
# rest: Ansible and SSH (connections, copying, module runs, waiting).
# Runs once with Ansible's default 5 forks and once with forks = N.
#
# Needs root, iproute2, sshd, ssh-keygen and ansible-core (`.ci/run` puts
# it in /opt/portplan-ci-venv). Usage: scripts/bench-fleet.sh [N]
# PORTPLAN_BIN=path uses that binary instead of building a release one.
set -euo pipefail
cd "$(dirname "$0")/.."
N="${1:-24}"
[ "$N" -ge 2 ] && [ "$N" -le 200 ] || { echo "N must be 2..200" >&2; exit 2; }
[ "$(id -u)" = 0 ] || { echo "bench-fleet: needs root (network namespaces)" >&2; exit 2; }
PLAYBOOK=/opt/portplan-ci-venv/bin/ansible-playbook
[ -x "$PLAYBOOK" ] || PLAYBOOK="$(command -v ansible-playbook)" || { echo "no ansible-playbook" >&2; exit 2; }

if [ -z "${PORTPLAN_BIN:-}" ]; then
  cargo build --release -q -p portplan
  PORTPLAN_BIN=target/release/portplan
fi
WORK="$(mktemp -d)"
TAG="ppbf$$"
TAG="${TAG:0:9}"
SECRET="bench-fleet-secret-$(head -c 18 /dev/urandom | base64 | tr -d '/+=')"
cp "$PORTPLAN_BIN" "$WORK/portplan"
strip "$WORK/portplan" 2>/dev/null || true
BIN="$WORK/portplan"
CATALOG=crates/cli/tests/fixtures/fleet/catalog

cleanup() {
  for ns in $(ip netns list | awk '{print $1}' | grep "^$TAG-" || true); do
    for pid in $(ip netns pids "$ns" 2>/dev/null); do kill -9 "$pid" 2>/dev/null || true; done
    ip netns del "$ns" 2>/dev/null || true
  done
  rm -rf "$WORK"
}
trap cleanup EXIT

addr() { echo "10.215.$(( $1 / 200 )).$(( $1 % 200 + 10 ))"; }

# The bed: a bridge in its own namespace, the control node (index 0) and N hosts.
ip netns add "$TAG-sw"
ip -n "$TAG-sw" link add br0 type bridge
ip -n "$TAG-sw" link set br0 up
mkdir -p /run/sshd
ssh-keygen -q -t ed25519 -N '' -f "$WORK/id"
ssh-keygen -q -t ed25519 -N '' -f "$WORK/hostkey"
cp "$WORK/id.pub" "$WORK/authorized_keys"
{
  echo "name: bench-fleet"
  echo "hosts:"
  for i in $(seq 1 "$N"); do printf '  h%03d: %s\n' "$i" "$(addr "$i")"; done
  echo "products:"
  echo "  - product: fleetcheck"
  echo "    roles:"
  printf '      client: ['; for i in $(seq 1 "$N"); do printf 'h%03d%s' "$i" "$([ "$i" -lt "$N" ] && echo ', ')"; done; echo ']'
  printf '      service: ['; for i in $(seq 1 "$N"); do printf 'h%03d%s' "$i" "$([ "$i" -lt "$N" ] && echo ', ')"; done; echo ']'
} > "$WORK/fleet.yaml"
{
  echo "all:"
  echo "  vars:"
  echo "    ansible_user: root"
  echo "    ansible_python_interpreter: /usr/bin/python3"
  echo "    ansible_ssh_private_key_file: $WORK/id"
  echo "    ansible_ssh_common_args: -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null"
  echo "  hosts:"
  for i in $(seq 1 "$N"); do printf '    h%03d: { ansible_host: %s }\n' "$i" "$(addr "$i")"; done
} > "$WORK/inventory.yml"

for i in $(seq 0 "$N"); do
  ns="$TAG-$i"
  ip netns add "$ns"
  ip link add "${TAG}s$i" type veth peer name "${TAG}h$i"
  ip link set "${TAG}s$i" netns "$TAG-sw"
  ip link set "${TAG}h$i" netns "$ns"
  ip -n "$TAG-sw" link set "${TAG}s$i" master br0 up
  ip -n "$ns" addr add "$(addr "$i")/16" dev "${TAG}h$i"
  ip -n "$ns" link set "${TAG}h$i" up
  ip -n "$ns" link set lo up
  if [ "$i" -gt 0 ]; then
    cat > "$WORK/sshd-$i.conf" <<EOF
ListenAddress $(addr "$i")
HostKey $WORK/hostkey
PidFile $WORK/sshd-$i.pid
AuthorizedKeysFile $WORK/authorized_keys
PermitRootLogin prohibit-password
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
StrictModes no
MaxStartups 100
Subsystem sftp internal-sftp
EOF
    ip netns exec "$ns" /usr/sbin/sshd -f "$WORK/sshd-$i.conf"
  fi
done
for i in $(seq 1 "$N"); do
  for _ in $(seq 1 50); do
    ip netns exec "$TAG-0" bash -c "exec 3<>/dev/tcp/$(addr "$i")/22" 2>/dev/null && break
    sleep 0.1
  done
done

ms() { date +%s%3N; }
run() { # forks
  local forks="$1" proj="$WORK/proj-$1"
  "$BIN" --catalog "$CATALOG" fleet "$WORK/fleet.yaml" -o "$proj" --inventory "$WORK/inventory.yml" \
    --binary "$BIN" --probe-timeout 1s >/dev/null
  local t0 t1 code=0
  t0=$(ms)
  ip netns exec "$TAG-0" env PORTPLAN_SECRET="$SECRET" LC_ALL=C.UTF-8 ANSIBLE_FORKS="$forks" \
    ANSIBLE_SSH_ARGS="-o ControlMaster=auto -o ControlPersist=60s" ANSIBLE_HOME="$WORK/ansible-home" \
    ANSIBLE_NOCOLOR=1 "$PLAYBOOK" -i "$proj/inventory.yml" "$proj/verify.yml" >"$WORK/ansible-$forks.log" 2>&1 || code=$?
  t1=$(ms)
  local r0 r1
  r0=$(ms)
  "$BIN" --catalog "$CATALOG" report "$proj/results" --deployment "$WORK/fleet.yaml" -f json -o "$WORK/r.json" 2>/dev/null || true
  r1=$(ms)
  python3 - "$proj" "$t0" "$t1" "$((r1 - r0))" "$forks" "$code" <<'PY'
import glob, json, sys
proj, t0, t1, report_ms, forks, code = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), sys.argv[5], sys.argv[6]
runs = [json.load(open(f))["run"] for f in glob.glob(proj + "/results/*.verify.json")]
rep = json.load(open(proj + "/report.json"))
s = rep["summary"]
span = max(r["finished_unix_ms"] for r in runs) - min(r["started_unix_ms"] for r in runs)
mean = sum(r["finished_unix_ms"] - r["started_unix_ms"] for r in runs) / len(runs)
total = t1 - t0
merge = 4 * report_ms  # the playbook runs `portplan report` four times
rest = total - span - merge
print(f"| {forks} | {len(runs)} | {s['paths']} | {s['passed']} | {total/1000:.1f} s | {span/1000:.2f} s ({100*span/total:.1f} %) "
      f"| {mean/1000:.2f} s | {merge/1000:.2f} s ({100*merge/total:.1f} %) | {rest/1000:.1f} s ({100*rest/total:.1f} %) | {code} |")
PY
}

echo "bench-fleet: $N hosts, $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg), $(date -u +%Y-%m-%dT%H:%MZ)"
echo "| forks | hosts verified | paths | passed | ansible-playbook wall | portplan probing (span) | verify per host (mean) | portplan report | Ansible + SSH | exit |"
echo "|---|---|---|---|---|---|---|---|---|---|"
run 5
run "$N"
