#!/usr/bin/env python3
"""The masters partitioned {A} | {B, C} during the election (issue 6, test 5).

2 lb + 3 master + 1 worker. Before any node boots, the bridge drops every frame between m1 (A: the lowest node
id, the natural candidate) and m2/m3; the LBs and the worker still reach everyone. Asserts: the side with two
masters elects one of them and it runs the only `kubeadm init`; A stays without a majority (its journal says
so) and runs no kubeadm while cut off; once the partition heals, A joins as a control-plane node through the VIP;
one etcd cluster of 3 voting members; still exactly one init.
"""

import argparse
import os
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "doubles"))
from harness import Cluster, NotYet, log, run_scenario  # noqa: E402
import testbed  # noqa: E402
from scenario_bootstrap import VIP, all_ready, expect, journal, specs_for, status_text  # noqa: E402


def kubeadm_runs(c, n, *commands):
    return [r for r in testbed.invocations(c, n) if r.get("command") in commands]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--binary", required=True)
    ap.add_argument("--hold", type=float, default=15.0,
                    help="seconds the partition stays after the cluster formed on the majority side")
    args = ap.parse_args()

    specs = [s for s in specs_for(os.urandom(32).hex(), workers=1) if s.name != "x1"]
    with Cluster("partition", binary=args.binary) as c:
        nodes = c.up(specs, wait=False)
        by = {n.name: n for n in nodes}
        a, b, cc = by["m1"], by["m2"], by["m3"]
        c.partition([a], [b, cc])
        c.wait_booted(nodes)
        others = [n for n in nodes if n is not a]

        c.wait_for(lambda: all_ready(c, others), timeout=300, what="every node but the cut-off master ready")

        inits = [(n.name, r) for n in (a, b, cc) for r in kubeadm_runs(c, n, "init")]
        expect(len(inits) == 1 and inits[0][0] in ("m2", "m3") and inits[0][1].get("exit") == 0,
               f"kubeadm init runs: {inits}")
        log(f"the majority side elected {inits[0][0]}, which initialized the cluster")

        def a_waits_for_majority():
            if "Election: 1 of 3 votes" not in journal(c, a):
                raise NotYet(f"{a}: {status_text(c, a)}")
            return True
        c.wait_for(a_waits_for_majority, timeout=60, what=f"{a} reports it has no majority")
        time.sleep(args.hold)
        expect(not kubeadm_runs(c, a, "init", "join", "reset"), f"{a} ran kubeadm while cut off: "
               f"{kubeadm_runs(c, a, 'init', 'join', 'reset')}")
        expect(": ready" not in status_text(c, a), f"{a}: {status_text(c, a)}")
        log(f"{a} while cut off: {status_text(c, a)}")

        c.heal()
        t = time.monotonic()

        c.wait_for(lambda: all_ready(c, [a]), timeout=300, what=f"{a} joined after the partition healed")
        log(f"{a} ready {time.monotonic() - t:.1f} s after the partition healed")

        runs = kubeadm_runs(c, a, "init", "join")
        expect(len(runs) == 1 and runs[0]["command"] == "join" and runs[0].get("exit") == 0 and
               runs[0].get("endpoint") == f"{VIP}:9000", f"{a} kubeadm runs: {runs}")
        inits = [r for n in (a, b, cc) for r in kubeadm_runs(c, n, "init")]
        expect(len(inits) == 1, f"kubeadm init ran {len(inits)} times")
        etcd = testbed.etcd_members(c, b)
        expect(len(etcd) == 3 and not any(m.get("isLearner") for m in etcd), f"etcd members: {etcd}")
        ids = {testbed.etcd_cluster_id(c, m) for m in (a, b, cc)}
        expect(len(ids) == 1, f"etcd cluster ids: {ids}")
        log("partition scenario passed")


if __name__ == "__main__":
    run_scenario(main)
