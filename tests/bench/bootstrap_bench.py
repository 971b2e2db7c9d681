#!/usr/bin/env python3
"""Bootstrap benchmark (issue 6's figure): 2 lb + 3 master + N worker nodes (default 10) with the real agent,
the kubeadm double (no artificial delay; ECDSA keys) on each master and worker, started together; measures how
long after the last node's agent started every node is `ready`, and prints each node's phase timeline (from the
`Phase: ...` lines of its journal, CLOCK_REALTIME, shared by every container) so the slow steps are visible.

  sudo python3 tests/bench/bootstrap_bench.py --binary build/piagent [--workers 10] [--reps 3] [--json-out F]

"The last node starts" is the latest `piagent.service` start (its journal's first agent line) among the nodes.
Method and figures: docs/bootstrap-measurements.md.
"""

import argparse
import json
import os
import statistics
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "cluster"))
sys.path.insert(0, os.path.join(HERE, "..", "doubles"))
from harness import Cluster, log  # noqa: E402
from scenario_bootstrap import all_ready, specs_for  # noqa: E402
import testbed  # noqa: E402


def merged_length(intervals, lo, hi):
    """Total length of the union of [a, b] intervals clipped to [lo, hi]."""
    total, end = 0.0, lo
    for a, b in sorted((max(a, lo), min(b, hi)) for a, b in intervals):
        if b <= a:
            continue
        if a < end:
            a = end
        if b > a:
            total += b - a
            end = b
    return total


def timeline(c, n):
    """[(realtime seconds, message)] of the agent's current run: its start, phases, kubeadm milestones."""
    p = c.exec(n, ["journalctl", "-b", "-o", "json", "--no-pager", "--output-fields=MESSAGE,_SYSTEMD_UNIT,UNIT",
                   "_SYSTEMD_UNIT=piagent.service", "+", "UNIT=piagent.service"], check=False)
    out = []
    for line in p.stdout.splitlines():
        try:
            e = json.loads(line)
        except ValueError:
            continue
        msg = e.get("MESSAGE")
        if not isinstance(msg, str):
            continue
        t = int(e["__REALTIME_TIMESTAMP"]) / 1e6
        if e.get("UNIT") == "piagent.service" and msg.startswith("Start"):
            out.append((t, "unit: " + msg))
        elif msg.startswith(("Phase: ", "Election: won", "kubeadm init completed", "kubeadm join completed",
                             "Handing", "Endpoint", "Configured", "keepalived", "VIP")):
            out.append((t, msg))
    return out


def one_run(args, rep):
    specs = [s for s in specs_for(os.urandom(32).hex(), workers=args.workers) if s.name != "x1"]
    with Cluster(f"bench-bootstrap-{rep}", binary=args.binary) as c:
        nodes = c.up(specs)

        c.wait_for(lambda: all_ready(c, nodes), timeout=args.timeout, interval=0.1, what="every node ready")
        lines = {n.name: timeline(c, n) for n in nodes}
        starts = {name: next((t for t, m in tl if m.startswith("Phase: ")), None) for name, tl in lines.items()}
        readies = {name: max((t for t, m in tl if m == "Phase: ready"), default=None) for name, tl in lines.items()}
        t_last = max(starts.values())
        t_ready = max(readies.values())
        # Time during which kubeadm (the double) ran somewhere in the cluster: the rest of the wall time is what
        # the agents' protocol itself costs (discovery, endpoint gate, election, announcing, asking, waiting).
        runs = [r for n in nodes if n.role != "lb" for r in testbed.invocations(c, n)
                if r.get("command") not in ("version", None)]
        busy = merged_length([(r["t"], r["t"] + r.get("duration_s", 0)) for r in runs if "t" in r], t_last, t_ready)
        by_cmd = {}
        for r in runs:
            by_cmd.setdefault(r["command"], []).append(r.get("duration_s", 0))
        result = {"nodes": len(nodes), "last_start_to_all_ready": t_ready - t_last,
                  "kubeadm_busy": busy, "protocol": t_ready - t_last - busy,
                  "kubeadm_runs": {k: {"n": len(v), "max_s": max(v), "sum_s": round(sum(v), 2)}
                                   for k, v in by_cmd.items()},
                  "first_start_to_all_ready": max(readies.values()) - min(starts.values()),
                  "start_spread": t_last - min(starts.values()), "per_node": {}}
        for name, tl in sorted(lines.items()):
            result["per_node"][name] = [(round(t - t_last, 3), m) for t, m in tl]
        log(f"run {rep}: {len(nodes)} nodes, agents started within {result['start_spread']:.2f} s; all ready "
            f"{result['last_start_to_all_ready']:.2f} s after the last start; kubeadm running somewhere for "
            f"{busy:.2f} s of it, the protocol alone {result['protocol']:.2f} s; runs: {result['kubeadm_runs']}")
        if args.verbose or rep == 0:
            for name, tl in result["per_node"].items():
                print(f"--- {name}")
                for t, m in tl:
                    print(f"  {t:8.2f}  {m}")
        return result


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--binary", required=True)
    ap.add_argument("--workers", type=int, default=10)
    ap.add_argument("--reps", type=int, default=1)
    ap.add_argument("--timeout", type=int, default=600)
    ap.add_argument("--json-out")
    ap.add_argument("--verbose", action="store_true", help="print every run's timeline, not only the first")
    args = ap.parse_args()
    results = []
    for rep in range(args.reps):
        results.append(one_run(args, rep))
        time.sleep(2)
    for key, what in (("last_start_to_all_ready", "all ready after the last agent start"),
                      ("protocol", "of which no kubeadm was running anywhere (the protocol alone)")):
        xs = [r[key] for r in results]
        print(f"{what}: min {min(xs):.2f} s, median {statistics.median(xs):.2f} s, max {max(xs):.2f} s "
              f"({len(xs)} runs, {results[0]['nodes']} nodes)")
    if args.json_out:
        with open(args.json_out, "w") as f:
            json.dump(results, f, indent=1)


if __name__ == "__main__":
    main()
