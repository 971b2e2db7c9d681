#!/usr/bin/env python3
"""Memory of a lone agent (issue 17): one node at a time, so that the agent shares its libraries' pages with the
node's own daemons only, as on a Pi (in a bed of many nodes every agent maps the same library files, and its PSS
divides their pages among all of them).

  sudo python3 tests/bench/memory_bench.py --binary build/piagent [--roles lb,master,worker] [--settle 30]

For each role: one node of its own cluster (an LB reaches `ready` alone: keepalived and HAProxy run; a master
waits for the control-plane endpoint, a worker for a master), then --settle seconds, then the agent's PSS, USS
(private clean + dirty: what it alone holds), private dirty, RSS and the heap's share, from the host's /proc.
Method and results: docs/performance.md.
"""

import argparse
import json
import os
import secrets
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "cluster"))
sys.path.insert(0, os.path.join(HERE, "..", "doubles"))
from benchlib import agent_pid, agent_pids, loadavg, proc_sample  # noqa: E402
from harness import Cluster, NodeSpec, NotYet, log  # noqa: E402
from scenario_bootstrap import PREFLIGHT, VIP, status_text  # noqa: E402
import testbed  # noqa: E402

SETTLED = {"lb": ": ready", "master": "waiting-for-endpoint", "worker": "waiting-for-master"}


def heap_kib(pid):
    """Private dirty KiB of the [heap] mapping."""
    cur, total = None, 0
    with open(f"/proc/{pid}/smaps") as f:
        for line in f:
            if "-" in line.split(" ", 1)[0]:
                cur = line.split()[-1] if len(line.split()) >= 6 else ""
            elif line.startswith("Private_Dirty:") and cur == "[heap]":
                total += int(line.split()[1])
    return total


def one(args, role):
    cluster = (f"cluster=mem\nsecret={secrets.token_hex(32)}\nvip={VIP}/24\napi_port=9000\nmasters=3\ncni=none\n")
    files = {}
    if role != "lb":
        files = testbed.node_files(settings={"key-algorithm": "ECDSA-P256"})
        files["/etc/systemd/system/piagent.service.d/preflight.conf"] = PREFLIGHT
    with Cluster(f"bench-memory-{role}", binary=args.binary) as c:
        n, = c.up([NodeSpec(f"{role}1", role, cluster_txt=cluster, files=files)])

        def settled():
            text = status_text(c, n)
            if SETTLED[role] not in text:
                raise NotYet(text)
            return True
        c.wait_for(settled, timeout=120, what=f"{n} settled")
        time.sleep(args.settle)
        pid = agent_pid(n)
        s = proc_sample(pid)
        s["uss"] = s.get("Private_Clean", 0) + s.get("Private_Dirty", 0)
        s["heap_dirty"] = heap_kib(pid) * 1024
        s["status"] = status_text(c, n)
        s["load_average"] = loadavg()
        # A master's sandboxed exchange worker is a second process of the agent: its figures apart.
        worker = agent_pids(n).get("exchange")
        if worker:
            w = proc_sample(worker)
            s["exchange_worker"] = {"Pss": w.get("Pss", 0), "uss": w.get("Private_Clean", 0) + w.get("Private_Dirty", 0),
                                    "Private_Dirty": w.get("Private_Dirty", 0), "Rss": w.get("Rss", 0)}
            log(f"{role}: its exchange worker: PSS {w.get('Pss', 0) / 2**20:.2f} MiB, USS "
                f"{s['exchange_worker']['uss'] / 2**20:.2f} MiB, private dirty {w.get('Private_Dirty', 0) / 2**20:.2f} MiB")
        log(f"{role}: PSS {s['Pss'] / 2**20:.2f} MiB, USS {s['uss'] / 2**20:.2f} MiB, private dirty "
            f"{s['Private_Dirty'] / 2**20:.2f} MiB (heap {s['heap_dirty'] / 2**20:.2f}), RSS {s['Rss'] / 2**20:.2f} MiB"
            f" ({s['status']}; load average {s['load_average']})")
        return s


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--binary", required=True)
    ap.add_argument("--roles", default="lb,master,worker")
    ap.add_argument("--settle", type=float, default=30.0)
    ap.add_argument("--json-out")
    args = ap.parse_args()
    out = {role: one(args, role) for role in args.roles.split(",")}
    print("\nrole     PSS MiB  USS MiB  private dirty MiB  heap MiB  RSS MiB")
    for role, s in out.items():
        print(f"{role:8} {s['Pss'] / 2**20:7.2f}  {s['uss'] / 2**20:7.2f}  {s['Private_Dirty'] / 2**20:17.2f}  "
              f"{s['heap_dirty'] / 2**20:8.2f}  {s['Rss'] / 2**20:7.2f}")
    if args.json_out:
        with open(args.json_out, "w") as f:
            json.dump(out, f, indent=1)


if __name__ == "__main__":
    main()
