#!/usr/bin/env python3
"""Smoke test of the test bed itself (no agent): N nodes (default 3) boot from
the cached rootfs; all carry the image's hostname `raspberrypi` and distinct
machine ids; they reach each other over the bridge; each publishes a
`_smoke._tcp` service with avahi-publish and every node browses and resolves
the others' services with the right address and TXT; a host name learnt that
way resolves through nss-mdns; a withdrawn service disappears everywhere;
stopping a service on one node leaves the others' untouched."""

import argparse
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import Cluster, NodeSpec, NotYet, run_scenario  # noqa: E402


BROWSE = ["avahi-browse", "--resolve", "--terminate", "--parsable", "--no-db-lookup", "_smoke._tcp"]


def parse_browse(text):
    """{service name: {"hosts", "addrs", "ports", "txts"}} from the resolved
    ('=') lines, over both protocols (a service found over IPv4 may resolve
    to an IPv6 address and vice versa)."""
    seen = {}
    for line in text.splitlines():
        f = line.split(";")
        # =;eth0;IPv4;smoke-node1;_smoke._tcp;local;raspberrypi-2.local;10.77.0.10;7001;"node=node1"
        if len(f) >= 10 and f[0] == "=":
            s = seen.setdefault(f[3], {"hosts": set(), "addrs": set(), "ports": set(), "txts": set()})
            s["hosts"].add(f[6])
            s["addrs"].add(f[7])
            s["ports"].add(f[8])
            s["txts"].add(f[9])
    return seen


def browse(c, node):
    return parse_browse(c.exec(node, BROWSE, timeout=60).stdout)


def expect(cond, msg):
    if not cond:
        raise AssertionError(msg)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--nodes", type=int, default=3)
    ap.add_argument("--mdns-timeout", type=float, default=30.0)
    ap.add_argument("--binary", help="ignored: the smoke test boots without the agent")
    args = ap.parse_args()
    n = args.nodes

    with Cluster("smoke", binary=None) as c:
        c.prepare()  # rootfs, bridge: not part of the boot time
        t = time.monotonic()
        nodes = c.up([NodeSpec(f"node{i + 1}") for i in range(n)])
        boot = time.monotonic() - t
        print(f"boot: {n} nodes running in {boot:.2f} s "
              f"(slowest node {max(x.boot_seconds for x in nodes):.2f} s)", flush=True)

        ids = set()
        for x in nodes:
            host = c.exec(x, ["hostname"]).stdout.strip()
            expect(host == "raspberrypi", f"{x}: hostname {host!r}, expected the image's 'raspberrypi'")
            mid = c.exec(x, ["cat", "/etc/machine-id"]).stdout.strip()
            expect(len(mid) == 32, f"{x}: bad machine-id {mid!r}")
            ids.add(mid)
            c.exec(x, ["systemctl", "is-active", "--quiet", "avahi-daemon.service"])
            resolv = c.exec(x, ["cat", "/etc/resolv.conf"]).stdout
            expect("nameserver" not in resolv, f"{x}: /etc/resolv.conf names a DNS server: {resolv!r}")
            role = c.exec(x, ["ls", "/boot/firmware"]).stdout.split()
            expect(role == [], f"{x}: /boot/firmware should be the empty per-node directory, has {role}")
            for svc in ("keepalived.service", "haproxy.service", "etcd.service"):
                st = c.exec(x, ["systemctl", "is-active", svc], check=False).stdout.strip()
                expect(st == "inactive", f"{x}: {svc} is {st!r}; the agent must be the one to start it")
        expect(len(ids) == n, f"machine ids not unique: {ids}")

        for x in nodes:
            for y in nodes:
                if x is not y:
                    c.exec(x, ["ping", "-c1", "-W2", y.addr])
        # Nothing outside the test LAN is reachable: no default route.
        routes = c.exec(nodes[0], ["ip", "route", "show", "default"]).stdout.strip()
        expect(routes == "", f"{nodes[0]}: unexpected default route {routes!r}")

        t = time.monotonic()
        for i, x in enumerate(nodes):
            c.exec(x, ["systemd-run", "--unit=smoke-publish", "--collect", "--quiet",
                       "avahi-publish", "--service", f"smoke-{x.name}", "_smoke._tcp", str(7001 + i),
                       f"node={x.name}"])

        def all_resolved():
            # Conditions that settle (avahi renames hosts and re-announces):
            # anything still wrong when the time is up is the failure.
            out = c.exec_all(nodes, BROWSE, timeout=60)
            wrong = []
            for x in nodes:
                seen = parse_browse(out[x.name].stdout)
                for j, y in enumerate(nodes):
                    if y is x:
                        continue
                    got = seen.get(f"smoke-{y.name}")
                    v4 = {a for a in got["addrs"] if ":" not in a} if got else set()
                    if got is None:
                        wrong.append(f"{x} does not see smoke-{y.name}")
                    elif v4 != {y.addr}:
                        wrong.append(f"{x} resolves smoke-{y.name} to {sorted(v4)}, not {y.addr}")
                    elif got["ports"] != {str(7001 + j)} or got["txts"] != {f'"node={y.name}"'}:
                        wrong.append(f"{x} sees smoke-{y.name} with port {got['ports']} TXT {got['txts']}")
            if wrong:
                raise NotYet(f"{len(wrong)} wrong: " + "; ".join(wrong[:8]))
            return True

        c.wait_for(all_resolved, timeout=args.mdns_timeout, what=f"all {n} nodes resolve each other's _smoke._tcp")
        print(f"mdns: every node resolved the other {n - 1} services "
              f"{time.monotonic() - t:.2f} s after publishing started", flush=True)

        def hosts_distinct():
            # Every node started as raspberrypi.local: avahi must have renamed
            # all but one (raspberrypi-2...), and those names resolve through
            # nss-mdns to the right node.
            a, b = nodes[0], nodes[1]
            seen = browse(c, a)
            hosts = set().union(*(v["hosts"] for v in seen.values()))
            hosts |= browse(c, b)[f"smoke-{a.name}"]["hosts"]
            if len(hosts) != n:
                raise NotYet(f"mDNS host names not distinct: {sorted(hosts)}")
            (host,) = seen[f"smoke-{b.name}"]["hosts"]
            got = c.exec(a, ["getent", "ahostsv4", host]).stdout.split()
            if not got or got[0] != b.addr:
                raise NotYet(f"getent ahostsv4 {host} on {a}: {got[:1]}, expected {b.addr}")
            return True

        c.wait_for(hosts_distinct, timeout=15, what="host names distinct and resolvable through nss-mdns")

        # A withdrawn service vanishes from every other node.
        last = nodes[-1]
        c.exec(last, ["systemctl", "stop", "smoke-publish.service"])
        def withdrawn():
            out = c.exec_all(nodes[:-1], BROWSE, timeout=60)
            still = [x for x, p in out.items() if f"smoke-{last.name}" in parse_browse(p.stdout)]
            if still:
                raise NotYet(f"still seen by {' '.join(still)}")
            return True

        c.wait_for(withdrawn, timeout=max(15, 2 * n), what=f"smoke-{last.name} withdrawn everywhere")

        # Nodes are isolated from each other: stopping a service on one (its
        # systemd kills the unit's cgroup) leaves the others' alone.
        def avahi_pids(x):
            return c.exec(x, ["systemctl", "show", "-P", "MainPID", "avahi-daemon.service"]).stdout.strip()

        cgroups = set()
        for x in nodes:
            with open(f"/proc/{x.leader}/cgroup") as f:
                cgroups.add(next(line for line in f if line.startswith("0::")).strip())
        expect(len(cgroups) == n, f"nodes share cgroups (init of each node in): {sorted(cgroups)}")
        before = {x.name: avahi_pids(x) for x in nodes[1:]}
        c.exec(nodes[0], ["systemctl", "stop", "avahi-daemon.socket", "avahi-daemon.service"])
        after = {x.name: avahi_pids(x) for x in nodes[1:]}
        expect(before == after and "0" not in after.values(),
               f"stopping avahi on {nodes[0]} changed the others: {before} -> {after}")

        mem = [c.memory(x) for x in nodes]
        print(f"memory: {sum(mem) / len(mem) / 2**20:.1f} MiB PSS per node (avg), "
              f"max {max(mem) / 2**20:.1f} MiB", flush=True)


if __name__ == "__main__":
    run_scenario(main)
