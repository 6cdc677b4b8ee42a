#!/usr/bin/env bash
# Benchmark of `portplan import` on large pages made from the seed pages.
# Builds pages of 1, 2.5, 5 and 10 MB by concatenating the seeds (and the
# extra test pages) with small mutations (ports shifted, protocol words
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
for d in (seeds, "tests/import-pages/pages"):
    for f in sorted(os.listdir(d)):
        if f.endswith((".txt", ".md", ".html")) and f != "README.md":
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

now() { date +%s.%N; }
printf '%-14s %10s %8s %10s %10s %12s\n' page bytes import_s MB_per_s grep_s import/grep
first_per_mb=""
for f in "$WORK"/page-1MB.txt "$WORK"/page-2.5MB.txt "$WORK"/page-5MB.txt "$WORK"/page-10MB.txt; do
  bytes=$(stat -c %s "$f")
  t0=$(now); "$BIN" import "$f" --format csv -o "$WORK/out.csv" 2>/dev/null; t1=$(now)
  grep -oE '[0-9]+' "$f" > "$WORK/grep.out"; t2=$(now)
  python3 - "$f" "$bytes" "$t0" "$t1" "$t2" <<'PY'
import os, sys
f, b, t0, t1, t2 = sys.argv[1], int(sys.argv[2]), *map(float, sys.argv[3:])
imp, grep = t1 - t0, t2 - t1
mb = b / 1048576
print(f"{os.path.basename(f):<14} {b:>10} {imp:>8.3f} {mb/imp:>10.1f} {grep:>10.3f} {imp/max(grep,1e-9):>12.1f}   ({imp/mb*1000:.1f} ms/MB)")
PY
done
echo "rows in the 10 MB draft: $(($(wc -l < "$WORK/out.csv") - 1))"
