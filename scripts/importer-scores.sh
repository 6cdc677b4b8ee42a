#!/usr/bin/env bash
# The importer's score on pages it had not seen: the edits each catalog
# review needed, by field, from docs/catalog-reviews/<product>.md (third line:
# the numbers row), grouped by the importer version the draft came from
# ("importer: vN" in the file; v1 otherwise). Prints a Markdown table with
# edits per final requirement, so products of different sizes compare.
set -euo pipefail
cd "$(dirname "$0")/.."
awk '
  FNR == 3 && /^\| [a-z]/ {
    n = split($0, c, "|")
    v = "v1"
    file = FILENAME
    while ((getline line < file) > 0) if (match(line, /importer: v[0-9]+/)) v = substr(line, RSTART + 10, RLENGTH - 10)
    close(file)
    gsub(/ /, "", c[2])
    printf "%s %s", v, c[2]
    for (i = 3; i <= 12; i++) { gsub(/ /, "", c[i]); printf " %s", c[i] }
    printf "\n"
  }
' docs/catalog-reviews/*.md | sort | awk '
  BEGIN {
    print "| importer | product | ports | protocol | direction | roles | service | conditions | missing | spurious | draft reqs | final reqs | edits per final req |"
    print "|---|---|---|---|---|---|---|---|---|---|---|---|---|"
  }
  {
    edits = 0
    for (i = 3; i <= 10; i++) { edits += $i; tot[$1, i] += $i }
    tot[$1, 11] += $11; tot[$1, 12] += $12; seen[$1] = 1
    printf "| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %.2f |\n", $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, edits / ($12 > 0 ? $12 : 1)
  }
  END {
    n = 0
    for (v in seen) keys[++n] = v
    # Versions in order (v1, v2, v3...): a few keys, a simple sort.
    for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (keys[j] < keys[i]) { t = keys[i]; keys[i] = keys[j]; keys[j] = t }
    for (k = 1; k <= n; k++) {
      v = keys[k]
      edits = 0; line = ""
      for (i = 3; i <= 10; i++) { edits += tot[v, i]; line = line " | " tot[v, i] }
      printf "| %s | **all** %s | %s | %s | %.2f |\n", v, line, tot[v, 11], tot[v, 12], edits / tot[v, 12]
    }
  }
'
