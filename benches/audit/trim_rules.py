#!/usr/bin/env python3
"""Makes a Cisco IOS ACL configuration of exactly N access-control entries
from portplan's rendering of a large plan (`plan -f cisco-ios`): permit
entries for tcp/udp ports are dropped at random (those flows become the
audit's `blocked`), or entries for addresses outside the plan are added
before the closing deny (they become `unused`), in a fixed pseudo-random
order. Remarks are kept with the file; the other entries (ICMP, the closing
denies) stay as they are and count towards N.

usage: trim_rules.py IN.ios N OUT.ios
"""
import random
import re
import sys

src, n, out = sys.argv[1], int(sys.argv[2]), sys.argv[3]
lines = open(src).read().splitlines()
entry = re.compile(r"^ (permit|deny) ")
ported = re.compile(r"^ permit (tcp|udp) .* (eq|range) ")
rules = [i for i, l in enumerate(lines) if ported.match(l)]
fixed = sum(1 for l in lines if entry.match(l)) - len(rules)
want = n - fixed
if want < 0:
    sys.exit(f"trim_rules: {n} is fewer than the {fixed} entries that are kept as they are")
rng = random.Random(7)
drop = set()
extra = []
if len(rules) > want:
    drop = set(rng.sample(rules, len(rules) - want))
else:
    for k in range(want - len(rules)):
        proto = "tcp" if k % 2 else "udp"
        a = f"172.{16 + (k >> 16) % 16}.{(k >> 8) & 255}.{k & 255}"
        extra.append(f" permit {proto} host {a} host 192.0.2.{k % 250 + 1} eq {1024 + k % 60000}")
closing = next((i for i, l in enumerate(lines) if l == " deny ip any any log"), None)
if extra and closing is None:
    sys.exit("trim_rules: no ` deny ip any any log` to add entries before")
with open(out, "w") as f:
    for i, l in enumerate(lines):
        if i in drop:
            continue
        if i == closing:
            for e in extra:
                f.write(e + "\n")
        f.write(l + "\n")
print(f"{n} entries: {len(rules) - len(drop)} of portplan's {len(rules)} port entries kept, {len(extra)} added, {fixed} kept as they are")
