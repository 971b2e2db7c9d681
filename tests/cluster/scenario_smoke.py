#!/usr/bin/env python3
"""Smoke test of the test bed itself (no agent): N nodes (default 3) boot from
the cached rootfs; all carry the image's hostname `raspberrypi` and distinct
machine ids; they reach each other over the bridge; each publishes a
`_smoke._tcp` service with avahi-publish and every node browses and resolves
the others' services with the right address and TXT; a host name learnt that
way resolves through nss-mdns; a withdrawn service disappears everywhere."""

import argparse
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import Cluster, NodeSpec, log, run_scenario  # noqa: E402


def browse(c, node):
    """{service name: (host, address, port, txt)} resolved over IPv4."""
    p = c.exec(node, ["avahi-browse", "--resolve", "--terminate", "--parsable", "--no-db-lookup", "_smoke._tcp"],
               timeout=20)
    seen = {}
    for line in p.stdout.splitlines():
        f = line.split(";")
        # =;eth0;IPv4;smoke-node1;_smoke._tcp;local;raspberrypi-2.local;10.77.0.10;7001;"node=node1"
        if len(f) >= 10 and f[0] == "=" and f[2] == "IPv4":
            seen[f[3]] = (f[6], f[7], f[8], f[9])
    return seen


def expect(cond, msg):
    if not cond:
        raise AssertionError(msg)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--nodes", type=int, default=3)
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
            for i, x in enumerate(nodes):
                seen = browse(c, x)
                for j, y in enumerate(nodes):
                    if y is x:
                        continue
                    got = seen.get(f"smoke-{y.name}")
                    if got is None:
                        return False
                    host, addr, port, txt = got
                    expect(addr == y.addr, f"{x} resolves smoke-{y.name} to {addr}, expected {y.addr}")
                    expect(port == str(7001 + j), f"{x} sees smoke-{y.name} on port {port}")
                    expect(txt == f'"node={y.name}"', f"{x} sees smoke-{y.name} with TXT {txt}")
            return True

        c.wait_for(all_resolved, timeout=30, what=f"all {n} nodes resolve each other's _smoke._tcp")
        print(f"mdns: every node resolved the other {n - 1} services "
              f"{time.monotonic() - t:.2f} s after publishing started", flush=True)

        # The host names in those records (raspberrypi, raspberrypi-2...: avahi
        # renamed the colliding ones) resolve through nss-mdns.
        seen = browse(c, nodes[0])
        host, addr, _, _ = seen[f"smoke-{nodes[1].name}"]
        got = c.exec(nodes[0], ["getent", "ahostsv4", host]).stdout.split()
        expect(got and got[0] == nodes[1].addr, f"getent {host} on {nodes[0]}: {got}, expected {nodes[1].addr}")
        # Every node started as raspberrypi.local; avahi must have renamed all
        # but one, or the records would point at a shared name.
        hosts = {browse(c, nodes[1])[f"smoke-{nodes[0].name}"][0]} | {v[0] for v in seen.values()}
        expect(len(hosts) == n, f"mDNS host names not distinct: {sorted(hosts)}")

        # A withdrawn service vanishes from every other node.
        last = nodes[-1]
        c.exec(last, ["systemctl", "stop", "smoke-publish.service"])
        c.wait_for(lambda: all(f"smoke-{last.name}" not in browse(c, x) for x in nodes[:-1]),
                   timeout=15, what=f"smoke-{last.name} withdrawn everywhere")

        mem = [c.memory(x) for x in nodes]
        print(f"memory: {sum(mem) / len(mem) / 2**20:.1f} MiB PSS per node (avg), "
              f"max {max(mem) / 2**20:.1f} MiB", flush=True)


if __name__ == "__main__":
    run_scenario(main)
