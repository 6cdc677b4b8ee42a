#!/usr/bin/env python3
"""Writes a generated catalog for the serve load benchmark: N products of M
requirements each (one YAML file per product, valid for `portplan catalog
check`), a deployment that uses a few of them, and the request paths the
load generator picks from (search queries built from the catalog's own
words and ports, product ids).

Everything comes from one seeded random generator: the same arguments give
the same files. Names, services and descriptions are drawn from word lists
so a search has real text to scan and hits of every size (a common word
matches thousands of requirements, a rare pair a handful).

usage: gen_catalog.py OUT_DIR [PRODUCTS] [REQUIREMENTS] [SEED]
writes: OUT_DIR/catalog/*.yaml, OUT_DIR/deployment.yaml,
        OUT_DIR/paths-search.txt, OUT_DIR/paths-products.txt
"""
import json
import os
import random
import sys
import urllib.parse

VENDORS = [
    "Northwind", "Contoso", "Fabrikam", "Tailspin", "Woodgrove", "Litware", "Adatum",
    "Proseware", "Lucerne", "Wingtip", "Coho", "Humongous", "Alpine", "Bluefin",
    "Granite", "Silverline", "Redwood", "Kestrel", "Orbital", "Quarry",
]
NOUNS = [
    "Telemetry Hub", "Backup Server", "Identity Broker", "Message Queue", "Log Collector",
    "Patch Manager", "Print Gateway", "VPN Concentrator", "Object Store", "Search Cluster",
    "Config Vault", "Ticket Desk", "Build Farm", "Media Server", "Directory Sync",
    "Network Monitor", "File Gateway", "Mail Relay", "Time Service", "License Server",
    "Remote Console", "Asset Inventory", "Metrics Store", "Session Broker", "Cache Grid",
]
# (id, name, kind): a product takes 8 of these.
ROLES = [
    ("server", "Application server", "component"),
    ("worker", "Worker node", "component"),
    ("database", "Database node", "component"),
    ("proxy", "Reverse proxy", "component"),
    ("agent", "Host agent", "component"),
    ("scheduler", "Job scheduler", "component"),
    ("collector", "Collector", "component"),
    ("replica", "Replica node", "component"),
    ("admin-console", "Administration console", "client"),
    ("user-client", "End-user client", "client"),
    ("operator", "Operator workstation", "client"),
    ("directory", "Directory service (LDAP)", "service"),
    ("syslog", "Syslog server", "service"),
    ("dns", "DNS resolver", "service"),
    ("managed-host", "Managed host", "target"),
    ("switch", "Network switch", "device"),
]
SERVICE_WORDS = [
    "HTTPS", "REST API", "gRPC", "replication", "heartbeat", "metrics", "syslog", "LDAP",
    "LDAPS", "Kerberos", "RADIUS", "SNMP", "SNMP trap", "NTP", "DNS", "SMTP", "IMAP",
    "web console", "cluster bus", "gossip", "election", "backup stream", "restore",
    "file transfer", "SSH", "RDP", "VNC", "WinRM", "SMB", "NFS", "iSCSI", "AMQP", "MQTT",
    "Kafka", "PostgreSQL", "MySQL", "Redis", "license check", "update download",
    "telemetry upload", "event stream", "audit export", "session relay", "health probe",
    "discovery", "multicast announce", "certificate enrollment", "OCSP", "key exchange",
    "tunnel", "agent check-in", "inventory scan", "patch push", "print spool",
]
QUALIFIERS = [
    "primary", "secondary", "internal", "external", "legacy", "encrypted", "plain",
    "bulk", "control", "data", "admin", "peer", "edge", "regional", "standby",
]
DESC_WORDS = [
    "nodes", "exchange", "state", "every", "minute", "clients", "open", "connections",
    "to", "the", "listener", "for", "failover", "sync", "catalog", "records", "pushes",
    "pulls", "policy", "updates", "alerts", "counters", "snapshots", "journal", "keys",
    "tokens", "certificates", "leases", "locks", "queues", "topics", "shards", "indexes",
    "quorum", "leader", "follower", "warm", "cold", "cache", "schema", "migration",
    "rollout", "canary", "throttled", "batched", "compressed", "signed", "mirrored",
]
SECTIONS = [
    "Ports and protocols", "Firewall requirements", "Network ports", "Communication matrix",
    "Cluster communication", "Client access", "Integration ports", "Monitoring",
    "High availability", "Installation prerequisites",
]
WELL_KNOWN = [
    22, 25, 53, 80, 88, 110, 123, 135, 137, 139, 143, 161, 162, 389, 443, 445, 464,
    500, 514, 587, 636, 993, 1433, 1521, 1812, 1813, 2049, 2181, 2379, 2380, 3260,
    3268, 3306, 3389, 4505, 4506, 5000, 5044, 5432, 5601, 5671, 5672, 5900, 5985,
    5986, 6379, 6443, 7000, 8000, 8080, 8086, 8200, 8300, 8443, 8500, 9000, 9090,
    9092, 9100, 9200, 9300, 10050, 10051, 11211, 15672, 27017,
]


def slug(text):
    out = "".join(c if c.isalnum() else "-" for c in text.lower())
    return "-".join(p for p in out.split("-") if p)


def q(text):
    """A YAML double-quoted scalar (JSON strings are valid YAML)."""
    return json.dumps(text)


def port(rng):
    return rng.choice(WELL_KNOWN) if rng.random() < 0.6 else rng.randint(1024, 49151)


def product(rng, idx, nreq):
    vendor = rng.choice(VENDORS)
    noun = NOUNS[idx % len(NOUNS)]
    pid = f"{slug(noun)}-{idx:03d}"
    roles = rng.sample(ROLES, 8)
    role_ids = [r[0] for r in roles]
    features = [(f"{slug(w)}-{k}", w) for k, w in enumerate(rng.sample(SERVICE_WORDS, 12))]
    params = [(f"port_{k}", port(rng)) for k in range(15)]
    lines = [
        f"# Generated by benches/serve/gen_catalog.py (product {idx}): not a real product.",
        f"product: {pid}",
        f"name: {q(vendor + ' ' + noun + ' ' + str(idx))}",
        f"vendor: {q(vendor)}",
        f"version: {q(str(rng.randint(1, 12)) + '.' + str(rng.randint(0, 9)))}",
        "sources:",
    ]
    docs = []
    for k in range(3):
        doc = f"guide-{k}"
        docs.append(doc)
        lines += [
            f"  - id: {doc}",
            f"    title: {q(vendor + ' ' + noun + ' ' + rng.choice(SECTIONS) + ' guide')}",
            f"    url: https://docs.example.com/{slug(vendor)}/{pid}/v{rng.randint(1, 9)}/guide-{k}.html",
            "    read: 2026-12-01",
        ]
    lines.append("roles:")
    for rid, name, kind in roles:
        lines += [
            f"  - id: {rid}",
            f"    name: {q(name)}",
            f"    kind: {kind}",
            f"    description: {q(' '.join(rng.choices(DESC_WORDS, k=8)))}",
        ]
    lines.append("features:")
    for fid, word in features:
        lines += [f"  - id: {fid}", f"    name: {q(word + ' support')}"]
        if rng.random() < 0.5:
            lines.append("    default: true")
    lines += [
        "choices:",
        "  - id: storage",
        "    name: Storage backend",
        "    default: local",
        "    options:",
        "      - { id: local, name: Local disk }",
        "      - { id: shared, name: Shared storage }",
        "parameters:",
    ]
    for pname, default in params:
        lines += [f"  - id: {pname}", f"    name: {q('Configurable port ' + pname)}",
                  f"    default: {default}"]
    lines += ["  - id: dynamic_ports", "    name: Dynamic port range", "    kind: range",
              "    default: 49152-65535"]
    lines.append("requirements:")
    for j in range(nreq):
        word = rng.choice(SERVICE_WORDS)
        service = f"{word} ({rng.choice(QUALIFIERS)})"
        rid = f"{slug(word)}-{j:04d}"
        roll = rng.random()
        lines += [
            f"  - id: {rid}",
            f"    service: {q(service)}",
            f"    description: {q(' '.join(rng.choices(DESC_WORDS, k=rng.randint(6, 16))))}",
        ]
        if roll < 0.03:
            # loopback: a listener reached only from its own host
            r = rng.choice(role_ids)
            lines += [f"    from: {r}", f"    to: {r}", "    protocol: tcp",
                      f"    ports: [{port(rng)}]", "    scope: loopback"]
        elif roll < 0.06:
            lines += [f"    from: {rng.choice(role_ids)}", f"    to: {rng.choice(role_ids)}",
                      "    protocol: icmp", "    icmp_type: echo-request"]
        else:
            frm = rng.sample(role_ids, rng.choice([1, 1, 1, 2]))
            to = rng.sample(role_ids, rng.choice([1, 1, 2]))
            proto = rng.choice(["tcp", "tcp", "tcp", "udp", "[tcp, udp]"])
            if roll < 0.20:
                ports = [f"{{ param: {rng.choice(params)[0]} }}"]
            elif roll < 0.23:
                ports = ["{ param: dynamic_ports }"]
            elif roll < 0.28:
                low = rng.randint(1024, 60000)
                ports = [q(f"{low}-{low + rng.randint(1, 500)}")]
            else:
                ports = [str(p) for p in sorted({port(rng) for _ in range(rng.choice([1, 1, 2, 3]))})]
            lines += [f"    from: {q(frm[0]) if len(frm) == 1 else '[' + ', '.join(frm) + ']'}",
                      f"    to: {q(to[0]) if len(to) == 1 else '[' + ', '.join(to) + ']'}",
                      f"    protocol: {proto}", f"    ports: [{', '.join(ports)}]"]
            if len(ports) > 1 and rng.random() < 0.2:
                lines.append("    alternatives: true")
        if rng.random() < 0.35:
            lines.append(f"    feature: {rng.choice(features)[0]}")
        if rng.random() < 0.05:
            lines.append(f"    when: {{ choice: {{ storage: {rng.choice(['local', 'shared'])} }} }}")
        if rng.random() < 0.1:
            lines.append("    required: false")
        if rng.random() < 0.1:
            lines.append(f"    notes: [{q(' '.join(rng.choices(DESC_WORDS, k=10)))}]")
        line = rng.randint(1, 3000)
        end = f", end_line: {line + rng.randint(1, 20)}" if rng.random() < 0.3 else ""
        lines.append(f"    source: {{ doc: {rng.choice(docs)}, line: {line}{end}, "
                     f"section: {q(rng.choice(SECTIONS))} }}")
    return pid, roles, [f for f, _ in features], "\n".join(lines) + "\n"


def deployment(used):
    """One deployment: each product on its own hosts, clients in networks,
    every feature on (the plan page plans every requirement)."""
    hosts, networks, uses = [], [], []
    for n, (pid, roles, features) in enumerate(used):
        placed = []
        for k, (rid, _, kind) in enumerate(roles):
            if kind in ("client", "device"):
                name = f"{pid}-{rid}-net"
                networks.append(f"  {name}: 10.{100 + n}.{k}.0/24")
                placed.append(f"      {rid}: [{name}]")
            else:
                names = [f"{pid}-{rid}-{i}" for i in (1, 2)]
                for i, h in enumerate(names):
                    hosts.append(f"  {h}: 10.{n}.{k}.{10 + i}")
                placed.append(f"      {rid}: [{', '.join(names)}]")
        uses += [f"  - product: {pid}", f"    features: [{', '.join(features)}]",
                 "    roles:"] + placed
    networks.append("  admins: 10.99.0.0/26")
    return "\n".join(
        ["# Generated by benches/serve/gen_catalog.py.", "name: bench-serve",
         f"description: {len(used)} generated products, every feature on.", "hosts:"]
        + hosts + ["networks:"] + networks + ["management:", "  from: [admins]", "products:"]
        + uses) + "\n"


def queries(rng, n):
    """Search queries as a user types them: a word, two words, a port, a
    port with its protocol, a word and a port, a requirement id."""
    out = []
    for _ in range(n):
        kind = rng.randrange(6)
        if kind == 0:
            qy = rng.choice(SERVICE_WORDS).split()[0].lower()
        elif kind == 1:
            qy = f"{rng.choice(SERVICE_WORDS).split()[0].lower()} {rng.choice(QUALIFIERS)}"
        elif kind == 2:
            qy = str(rng.choice(WELL_KNOWN))
        elif kind == 3:
            qy = f"{rng.choice(WELL_KNOWN)}/{rng.choice(['tcp', 'udp'])}"
        elif kind == 4:
            qy = f"{rng.choice(DESC_WORDS)} {rng.choice(WELL_KNOWN)}"
        else:
            qy = f"{slug(rng.choice(SERVICE_WORDS))}-{rng.randrange(1000):04d}"
        out.append("/api/catalog/search?q=" + urllib.parse.quote(qy))
    return out


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    out = sys.argv[1]
    nprod = int(sys.argv[2]) if len(sys.argv) > 2 else 100
    nreq = int(sys.argv[3]) if len(sys.argv) > 3 else 1000
    seed = int(sys.argv[4]) if len(sys.argv) > 4 else 14
    rng = random.Random(seed)
    os.makedirs(os.path.join(out, "catalog"), exist_ok=True)
    made = []
    for i in range(nprod):
        pid, roles, features, text = product(rng, i, nreq)
        with open(os.path.join(out, "catalog", pid + ".yaml"), "w") as f:
            f.write(text)
        made.append((pid, roles, features))
    with open(os.path.join(out, "deployment.yaml"), "w") as f:
        f.write(deployment(made[:3]))
    with open(os.path.join(out, "paths-search.txt"), "w") as f:
        f.write("\n".join(queries(rng, 500)) + "\n")
    with open(os.path.join(out, "paths-products.txt"), "w") as f:
        f.write("\n".join(f"/api/catalog/products/{pid}" for pid, _, _ in made) + "\n")


if __name__ == "__main__":
    main()
