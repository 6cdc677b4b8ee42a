#!/usr/bin/env python3
"""Writes the Aerleon equivalent of a portplan plan: one hand-written-style
term per planned flow (portplan's `--no-merge` JSON), with the network and
service definitions those terms name (.pol/.net/.svc).

Flows Aerleon cannot express as address-based terms (DNS names, loopback,
broadcast) are left out and counted; portplan's renderers list the same
flows as not expressed, so both sides hold the same rules.

usage: gen_aerleon.py FLOWS.json OUTDIR
"""
import json
import os
import sys


def main():
    flows = json.load(open(sys.argv[1]))["flows"]
    out = sys.argv[2]
    os.makedirs(os.path.join(out, "policies", "pol"), exist_ok=True)
    os.makedirs(os.path.join(out, "def"), exist_ok=True)
    nets, svcs, terms = {}, {}, []
    skipped = 0

    def net(addrs):
        key = tuple(addrs)
        if key not in nets:
            nets[key] = f"NET_{len(nets)}"
        return nets[key]

    def svc(proto, ports):
        key = (proto, tuple(ports))
        if key not in svcs:
            svcs[key] = f"SVC_{len(svcs)}"
        return svcs[key]

    for i, f in enumerate(flows):
        addrs = f["src"]["addrs"] + f["dst"]["addrs"]
        if f["scope"] != "network" or any(not a[0].isdigit() for a in addrs):
            skipped += 1
            continue
        reasons = ", ".join(f"{b['product']}/{b['requirement']}" for b in f["because"])
        lines = [
            f"term t{i} {{",
            f'  comment:: "{reasons}"',
            f"  source-address:: {net(f['src']['addrs'])}",
            f"  destination-address:: {net(f['dst']['addrs'])}",
            f"  protocol:: {f['protocol']}",
        ]
        if f["protocol"] != "icmp":
            lines.append(f"  destination-port:: {svc(f['protocol'], f['ports'])}")
        lines += ["  action:: accept", "}", ""]
        terms.append("\n".join(lines))

    with open(os.path.join(out, "def", "NETWORK.net"), "w") as w:
        for addrs, name in nets.items():
            w.write(f"{name} = " + "\n    ".join(a if "/" in a else a + "/32" for a in addrs) + "\n")
    with open(os.path.join(out, "def", "SERVICES.svc"), "w") as w:
        for (proto, ports), name in svcs.items():
            w.write(f"{name} = " + "\n    ".join(f"{p}/{proto}" for p in ports) + "\n")
    with open(os.path.join(out, "policies", "pol", "bench.pol"), "w") as w:
        w.write(
            "header {\n"
            "  target:: cisco PORTPLAN-BENCH extended\n"
            "  target:: juniper portplan-bench inet\n"
            "  target:: iptables FORWARD DROP\n"
            "}\n\n"
        )
        w.writelines(terms)
    print(f"{len(terms)} terms, {len(nets)} networks, {len(svcs)} services; "
          f"{skipped} flows left out (DNS names, loopback, broadcast)")


if __name__ == "__main__":
    main()
