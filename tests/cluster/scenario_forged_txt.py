#!/usr/bin/env python3
"""Forged _piagent._tcp records (issue 3, test 5).

Three agents (lb, master, worker) discover each other. Then services are
published by hand with avahi-publish from the worker node, with the cluster's
real tag (computed here as the agent does, so they pass the tag filter) and
junk in the other fields: a bad role, a duplicate key, a missing id, an
oversized record, too many items, a key with an escape sequence, a
non-numeric version. One more
carries another cluster's tag.

Every agent logs exactly one warning per forged service (none for the foreign
one), even after the forgeries are re-published with other junk; no forged id
becomes a peer; the agents and avahi-daemon keep running (same PIDs)."""

import argparse
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import Cluster, NodeSpec, NotYet, log, run_scenario  # noqa: E402
from discovery_util import (discovery_only, EXCHANGE_PORT, SERVICE_TYPE, agent_pid_and_restarts, cluster_tag,  # noqa: E402
                            cluster_txt, expect, journal, messages, new_secret, node_id, peers_by_id, status)


def forgeries(tag):
    ok = [f"tag={tag}", "phase=discovering"]
    return {
        "forged-role": ["v=2", *ok, "role=king", "id=0277000000f1"],
        "forged-duplicate": ["v=2", *ok, "role=lb", "role=master", "id=0277000000f2"],
        "forged-missing-id": ["v=2", *ok, "role=worker"],
        "forged-oversized": ["v=2", *ok, "role=lb", "id=0277000000f4", *[f"junk{i}=" + "x" * 240 for i in range(5)]],
        "forged-many": ["v=2", *ok, "role=lb", "id=0277000000f7", *[f"k{i}=1" for i in range(20)]],
        "forged-escape": ["v=2", *ok, "role=lb", "id=0277000000f5", "\x1b[31mred=1"],
        "forged-version": ["v=one", *ok, "role=lb", "id=0277000000f6"],
    }


def publish(c, node, unit, name, txt):
    c.exec(node, ["systemd-run", f"--unit={unit}", "--collect", "--quiet", "avahi-publish", "--service", name,
                  SERVICE_TYPE, str(EXCHANGE_PORT), *txt])


def withdraw(c, node, unit):
    c.exec(node, ["systemctl", "stop", unit], check=False)


def warnings_about(c, node, name):
    entries = journal(c, node)
    return [m for e, m in zip(entries, messages(entries))
            if int(e.get("PRIORITY", 6)) <= 4 and f"'{name}'" in m]


def check_warnings(c, agents, names, foreign):
    for n in agents:
        for name in names:
            w = warnings_about(c, n, name)
            if not w:
                raise NotYet(f"{n}: no warning about {name} yet")
            expect(len(w) == 1, f"{n}: {len(w)} warnings about {name}: {w}")
        expect(not warnings_about(c, n, foreign), f"{n} warned about the foreign service")
    return True


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--binary", required=True)
    args = ap.parse_args()

    secret = new_secret()
    tag = cluster_tag(secret)
    specs = [NodeSpec(name, role, cluster_txt=cluster_txt(secret), files=discovery_only())
             for name, role in (("lb1", "lb"), ("master1", "master"), ("worker1", "worker"))]
    with Cluster("forged-txt", binary=args.binary) as c:
        agents = c.up(specs)
        forger = agents[2]

        def all_see_all():
            for n in agents:
                got = peers_by_id(status(c, n))
                if len(got) != 2:
                    raise NotYet(f"{n} lists {sorted(got)}")
            return True

        c.wait_for(all_see_all, timeout=30, what="3 nodes list each other")
        expect(status(c, agents[0])["self"]["tag"] == tag, "the test computes another tag than the agent")
        before = {n.name: agent_pid_and_restarts(c, n) for n in agents}
        avahi_before = {n.name: c.exec(n, ["systemctl", "show", "-p", "MainPID", "--value",
                                           "avahi-daemon.service"]).stdout.strip() for n in agents}

        forged = forgeries(tag)
        for i, (name, txt) in enumerate(forged.items()):
            publish(c, forger, f"forge{i}", name, txt)
        foreign = "foreign-cluster"
        publish(c, forger, "forge-foreign", foreign,
                ["v=2", "tag=0123456789abcdef", "role=lb", "phase=x", "id=0277000000ff"])
        c.wait_for(lambda: check_warnings(c, agents, forged, foreign), timeout=20,
                   what="one warning per forged service on every node")

        # The same names again, with other junk: still one warning each (rate-limited per service).
        for round in range(2):
            for i, name in enumerate(forged):
                withdraw(c, forger, f"forge{i}")
                publish(c, forger, f"forge{i}", name, ["v=2", f"tag={tag}", f"junk{round}", "role=???"])
            time.sleep(3)
        check_warnings(c, agents, forged, foreign)
        log("re-published forgeries twice: still one warning per service and node")

        for n in agents:
            doc = status(c, n)
            ids = set(peers_by_id(doc))
            expect(ids == {node_id(m) for m in agents if m is not n}, f"{n} lists {sorted(ids)}")
            pid, restarts, state = agent_pid_and_restarts(c, n)
            expect((pid, restarts, state) == before[n.name], f"{n}: agent {before[n.name]} -> {(pid, restarts, state)}")
            avahi = c.exec(n, ["systemctl", "show", "-p", "MainPID", "--value", "avahi-daemon.service"]).stdout.strip()
            expect(avahi == avahi_before[n.name], f"{n}: avahi-daemon restarted")
            sample = warnings_about(c, n, "forged-escape")[0]
            expect("\x1b" not in sample, f"{n}: an escape sequence reached the journal: {sample!r}")
        print(f"forged TXT: {len(forged)} forged services, each rejected with one warning on each of "
              f"{len(agents)} nodes; the foreign one ignored; nothing restarted", flush=True)
        for n in agents[:1]:
            for name in forged:
                log(f"{n}: {warnings_about(c, n, name)[0]}")


if __name__ == "__main__":
    run_scenario(main)
