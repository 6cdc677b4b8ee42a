#!/usr/bin/env python3
"""Makes an iptables-restore ruleset of exactly N rules from portplan's
rendering of a large plan: accept rules are dropped at random (those flows
become the audit's `blocked`) or rules for addresses outside the plan are
added (they become `unused`), in a fixed pseudo-random order.

usage: trim_rules.py IN.rules N OUT.rules
"""
import random
import sys

src, n, out = sys.argv[1], int(sys.argv[2]), sys.argv[3]
lines = open(src).read().splitlines()
rules = [i for i, l in enumerate(lines) if l.startswith("-A ") and l.endswith("-j ACCEPT") and "comment" in l]
fixed = sum(1 for l in lines if l.startswith("-A ")) - len(rules)
want = n - fixed
rng = random.Random(7)
drop = set()
extra = []
if len(rules) > want:
    drop = set(rng.sample(rules, len(rules) - want))
else:
    for k in range(want - len(rules)):
        chain = "INPUT" if k % 2 else "OUTPUT"
        flag = "-s" if chain == "INPUT" else "-d"
        addr = f"172.{16 + (k >> 16) % 16}.{(k >> 8) & 255}.{k & 255}/32"
        extra.append(f"-A {chain} {flag} {addr} -p tcp --dport {1024 + k % 60000} -m comment --comment \"filler {k}\" -j ACCEPT")
with open(out, "w") as f:
    for i, l in enumerate(lines):
        if i in drop:
            continue
        if l == "COMMIT":
            for e in extra:
                f.write(e + "\n")
        f.write(l + "\n")
print(f"{n} rules: {len(rules) - len(drop)} of portplan's {len(rules)} kept, {len(extra)} added, {fixed} fixed")
