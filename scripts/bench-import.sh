#!/usr/bin/env bash
# Benchmark of `portplan import` on large pages made from the seed pages.
# Builds pages of 1, 2.5, 5 and 10 MB by concatenating the seeds (and the
# text extra test pages) with small mutations (ports shifted, protocol words
# swapped), then times the importer on each, side by side with a naive peer
# (`grep -oE` of every number, the least any extractor must do) on the same
# file. Prints seconds, MB/s, the ratio to the peer, and time per MB across
# sizes (flat = linear). Usage: scripts/bench-import.sh [SEEDS_DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
SEEDS="${1:-../shared/seeds}"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT

cargo build --release -q -p portplan
BIN=target/release/portplan

python3 - "$SEEDS" "$WORK" <<'PY'
import os, random, re, sys
seeds, work = sys.argv[1], sys.argv[2]
texts = []
# One page is one format: the text seeds and the text extra pages (an HTML
# document glued into a text page would turn the whole page into HTML).
for d in (seeds, "tests/import-pages/pages"):
    for f in sorted(os.listdir(d)):
        if f.endswith((".txt", ".md")) and f != "README.md":
            texts.append(open(os.path.join(d, f), encoding="utf-8").read())
rng = random.Random(7)
def mutate(t):
    t = re.sub(r"\b(\d{2,5})\b", lambda m: str(min(65535, int(m.group(1)) + rng.choice([0, 0, 1, 10]))), t)
    return t.replace("TCP", rng.choice(["TCP", "UDP", "TCP"]))
for mb in (1, 2.5, 5, 10):
    target = int(mb * 1024 * 1024)
    out, size = [], 0
    while size < target:
        t = mutate(rng.choice(texts))
        out.append(t); size += len(t.encode())
    open(os.path.join(work, f"page-{mb}MB.txt"), "w", encoding="utf-8").write("\n".join(out))
PY

# Times are wall seconds and CPU (user+sys) seconds of the child: on a busy
# machine CPU time is the steadier figure; both are printed.
python3 - "$BIN" "$WORK" <<'PY'
import os, resource, subprocess, sys, time
bin_, work = sys.argv[1], sys.argv[2]
REPS = int(os.environ.get("REPS", "3"))
def run(cmd, out):
    r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    with open(out, "wb") as o:
        subprocess.run(cmd, stdout=o, stderr=subprocess.DEVNULL, check=False)
    wall = time.perf_counter() - t0
    r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (r1.ru_utime - r0.ru_utime) + (r1.ru_stime - r0.ru_stime)
print(f"load average: {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs; median of {REPS} runs each")
print(f"{'page':<16}{'MB':>6}{'import wall':>13}{'import cpu':>12}{'wall ms/MB':>11}{'grep cpu':>10}{'import/grep':>13}")
worst = 0.0
for name in ("page-1MB.txt", "page-2.5MB.txt", "page-5MB.txt", "page-10MB.txt"):
    f = os.path.join(work, name)
    mb = os.path.getsize(f) / 1048576
    for fmt in ("csv", "yaml"):
        runs = sorted(run([bin_, "import", f, "--format", fmt], os.path.join(work, "out." + fmt)) for _ in range(REPS))
        wall, cpu = runs[len(runs) // 2]
        _, gcpu = run(["grep", "-oE", "[0-9]+", f], os.path.join(work, "grep.out"))
        print(f"{name + ' ' + fmt:<16}{mb:>6.1f}{wall:>12.3f}s{cpu:>11.3f}s{wall / mb * 1000:>11.0f}{gcpu:>9.3f}s{cpu / max(gcpu, 1e-3):>13.1f}")
        if name == "page-10MB.txt":
            worst = max(worst, wall)
print(f"10 MB page, slower of csv and yaml: {worst:.3f} s wall (target: under 1 s): {'met' if worst < 1 else 'NOT met'}")
rows = sum(1 for _ in open(os.path.join(work, "out.csv"))) - 1
print(f"rows in the 10 MB draft (csv): {rows}")
PY
