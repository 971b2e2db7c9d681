#!/usr/bin/env python3
"""Bootstrap benchmark (issues 6 and 17): 2 lb + 3 master + N worker nodes (default 10; 45 for the fifty-node
figure) with the real agent, the kubeadm double (no artificial delay; ECDSA keys) on each master and worker,
started together; measures how long after the last node's agent started every node is `ready`, and prints each
node's phase timeline (from the `Phase: ...` lines of its journal, CLOCK_REALTIME, shared by every container) so
the slow steps are visible.

  sudo python3 tests/bench/bootstrap_bench.py --binary build/piagent [--workers 10] [--reps 3] [--json-out F]

"The last node starts" is the latest `piagent.service` start (its journal's first agent line) among the nodes.
Also measured, per run: the wall time with no kubeadm running anywhere (the protocol alone); how often each LB
started or reloaded HAProxy against how often the set of masters it saw changed; each agent's CPU seconds
(user + system of the daemon itself, not of kubeadm) from its start until every node was ready; the agents'
and the nodes' memory. Method and figures: docs/performance.md.
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
from benchlib import agent_pid, cgroup_cpu_s, fmt, loadavg, proc_sample, status_doc, summary  # noqa: E402
from discovery_util import ensure_inotify_instances  # noqa: E402
from harness import Cluster, NotYet, log  # noqa: E402
from scenario_bootstrap import specs_for, status_text  # noqa: E402
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


def journal_json(c, n, *match):
    p = c.exec(n, ["journalctl", "-b", "-o", "json", "--no-pager", "--output-fields=MESSAGE,_PID,UNIT"] + list(match),
               check=False)
    out = []
    for line in p.stdout.splitlines():
        try:
            e = json.loads(line)
        except ValueError:
            continue
        if isinstance(e.get("MESSAGE"), str):
            out.append(e)
    return out


def haproxy_story(c, lb, t_end):
    """What an LB did to HAProxy until t_end (realtime seconds): systemd's starts and reloads of haproxy.service,
    against the changes of the master set the agent saw (masters appearing or leaving) and the CA's arrival
    (which switches the checks to verified TLS: one more legitimate reload)."""
    units = [e for e in journal_json(c, lb, "_PID=1", "UNIT=haproxy.service")
             if int(e["__REALTIME_TIMESTAMP"]) / 1e6 <= t_end]
    starts = sum(1 for e in units if e["MESSAGE"].startswith("Started "))
    reloads = sum(1 for e in units if e["MESSAGE"].startswith("Reloaded "))
    agent = [e for e in journal_json(c, lb, "_SYSTEMD_UNIT=piagent.service")
             if int(e["__REALTIME_TIMESTAMP"]) / 1e6 <= t_end]
    master_changes = sum(1 for e in agent if e["MESSAGE"].startswith("Peer ")
                         and ((" appeared: " in e["MESSAGE"] and ", master at " in e["MESSAGE"])
                              or (" left: " in e["MESSAGE"] and ", master at " in e["MESSAGE"])))
    ca = sum(1 for e in agent if e["MESSAGE"].startswith("Got the cluster CA"))
    applied = sum(1 for e in agent if e["MESSAGE"] == "Applied the haproxy configuration")
    return {"starts": starts, "reloads": reloads, "applied": applied, "master_set_changes": master_changes,
            "ca": ca}


def is_ready(c, n):
    try:
        return status_doc(n)["self"]["phase"] == "ready"
    except (OSError, ValueError, KeyError, TypeError):
        return False


def wait_all_ready(c, nodes, timeout):
    """Polls the nodes not ready yet, through their status sockets from the host (starting a process in each of
    fifty nodes once a second would cost the machine more than the agents do)."""
    pending = list(nodes)
    deadline = time.monotonic() + timeout
    while pending:
        pending = [n for n in pending if not is_ready(c, n)]
        if not pending:
            break
        if time.monotonic() > deadline:
            raise NotYet("not ready: " + ", ".join(f"{n}: {status_text(c, n)}" for n in pending[:8]))
        time.sleep(0.5)


def one_run(args, rep):
    specs = [s for s in specs_for(os.urandom(32).hex(), workers=args.workers) if s.name != "x1"]
    with Cluster(f"bench-bootstrap-{rep}", binary=args.binary, boot_timeout=600) as c:
        c.prepare()
        ensure_inotify_instances(len(specs), log)
        mem_before = meminfo_available()
        load_start = loadavg()
        nodes = c.up(specs)

        wait_all_ready(c, nodes, args.timeout)
        load_ready = loadavg()
        cpu = {n.name: proc_sample(agent_pid(n)) for n in nodes}
        node_pss = {n.name: c.memory(n) for n in nodes}
        node_cpu = {n.name: cgroup_cpu_s(n) for n in nodes}
        mem_after = meminfo_available()
        lines = {n.name: timeline(c, n) for n in nodes}
        starts = {name: next((t for t, m in tl if m.startswith("Phase: ")), None) for name, tl in lines.items()}
        readies = {name: max((t for t, m in tl if m == "Phase: ready"), default=None) for name, tl in lines.items()}
        t_last = max(starts.values())
        t_ready = max(readies.values())
        # Time during which kubeadm (the double) ran somewhere in the cluster: the rest of the wall time is what
        # the agents' protocol itself costs (discovery, endpoint gate, election, announcing, asking, waiting).
        runs_by = {n.name: [r for r in testbed.invocations(c, n) if r.get("command") not in ("version", None)]
                   for n in nodes if n.role != "lb"}
        runs = [r for rs in runs_by.values() for r in rs]
        # How soon the waiting nodes acted on the initializing master's "ready": from its Phase: ready line to each
        # other master's and worker's first Phase: joining after it.
        init = next((name for name, rs in runs_by.items()
                     if any(r["command"] == "init" and r.get("exit") == 0 for r in rs)), None)
        reacts = {}
        if init:
            t_init_ready = min(t for t, m in lines[init] if m == "Phase: ready")
            for name in runs_by:
                if name == init:
                    continue
                t = next((t for t, m in lines[name] if m == "Phase: joining" and t >= t_init_ready - 0.05), None)
                if t is not None:
                    reacts[name] = t - t_init_ready
        busy = merged_length([(r["t"], r["t"] + r.get("duration_s", 0)) for r in runs if "t" in r], t_last, t_ready)
        by_cmd, failed = {}, {}
        for r in runs:
            by_cmd.setdefault(r["command"], []).append(r.get("duration_s", 0))
            if r.get("exit") not in (0, None):
                why = str(r.get("error") or r.get("exit"))[:120]
                failed[f"{r['command']}: {why}"] = failed.get(f"{r['command']}: {why}", 0) + 1
        result = {"nodes": len(nodes), "last_start_to_all_ready": t_ready - t_last,
                  "kubeadm_busy": busy, "protocol": t_ready - t_last - busy,
                  "kubeadm_runs": {k: {"n": len(v), "max_s": max(v), "sum_s": round(sum(v), 2)}
                                   for k, v in by_cmd.items()},
                  "first_start_to_all_ready": max(readies.values()) - min(starts.values()),
                  "start_spread": t_last - min(starts.values()), "per_node": {},
                  "haproxy": {n.name: haproxy_story(c, n, t_ready + 1) for n in nodes if n.role == "lb"},
                  "agent_cpu_s": {name: s["cpu_s"] for name, s in cpu.items()},
                  "agent_pss": {name: s.get("Pss") for name, s in cpu.items()},
                  "node_cpu_s": node_cpu,
                  "node_pss": node_pss, "host_mem_used": mem_before - mem_after,
                  "init_master": init, "act_after_ready": reacts, "kubeadm_failures": failed,
                  "load_average": {"start": load_start, "all_ready": load_ready}}
        for name, tl in sorted(lines.items()):
            result["per_node"][name] = [(round(t - t_last, 3), m) for t, m in tl]
        log(f"run {rep}: {len(nodes)} nodes, agents started within {result['start_spread']:.2f} s; all ready "
            f"{result['last_start_to_all_ready']:.2f} s after the last start; kubeadm running somewhere for "
            f"{busy:.2f} s of it, the protocol alone {result['protocol']:.2f} s; runs: {result['kubeadm_runs']}")
        log(f"  load average (1, 5, 15 min) before the nodes started {load_start}, when all were ready {load_ready}")
        if failed:
            log(f"  kubeadm runs that failed: {failed}")
        if reacts:
            log(f"  nodes acting on {init}'s ready (its Phase: ready to their Phase: joining): "
                f"{fmt(reacts.values(), ' s', 3)} (min / median / max of {len(reacts)})")
        for name, h in result["haproxy"].items():
            log(f"  {name}: HAProxy started {h['starts']}, reloaded {h['reloads']} times (agent applied "
                f"{h['applied']} files); the master set changed {h['master_set_changes']} times, CA {h['ca']}")
        for role in ("lb", "master", "worker"):
            names = [n.name for n in nodes if n.role == role]
            log(f"  {role}: agent CPU {fmt([result['agent_cpu_s'][x] for x in names], ' s', 3)}, "
                f"agent PSS {fmt([result['agent_pss'][x] / 2**20 for x in names], ' MiB')}, "
                f"node PSS {fmt([node_pss[x] / 2**20 for x in names], ' MiB', 0)}, node CPU from boot "
                f"{fmt([node_cpu[x] or 0 for x in names], ' s', 1)} (min / median / max)")
        log(f"  host memory in use by the bed: {result['host_mem_used'] / 2**30:.2f} GiB")
        if args.verbose or rep == 0:
            for name, tl in result["per_node"].items():
                print(f"--- {name}")
                for t, m in tl:
                    print(f"  {t:8.2f}  {m}")
        return result


def meminfo_available():
    with open("/proc/meminfo") as f:
        for line in f:
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) * 1024
    return 0


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
                      ("protocol", "of which no kubeadm was running anywhere (the protocol alone)"),
                      ("start_spread", "agents' starts spread over")):
        xs = [r[key] for r in results]
        print(f"{what}: min {min(xs):.2f} s, median {statistics.median(xs):.2f} s, max {max(xs):.2f} s "
              f"({len(xs)} runs, {results[0]['nodes']} nodes)")
    acts = [v for r in results for v in r["act_after_ready"].values()]
    if acts:
        print(f"waiting nodes acted on the initializing master's ready after: {fmt(acts, ' s', 3)} "
              f"(min / median / max, {len(acts)} nodes in all runs)")
    print(f"load average (1 min) when all were ready: {[r['load_average']['all_ready'][0] for r in results]}")
    reloads = [h["starts"] + h["reloads"] for r in results for h in r["haproxy"].values()]
    changes = [h["master_set_changes"] + h["ca"] for r in results for h in r["haproxy"].values()]
    print(f"HAProxy starts + reloads per LB: {summary(reloads)}; master set changes + CA per LB: {summary(changes)}")
    for role in ("lb", "master", "worker"):
        xs = [v for r in results for name, v in r["agent_cpu_s"].items()
              if name.rstrip("0123456789") == {"lb": "lb", "master": "m", "worker": "w"}[role]]
        print(f"agent CPU seconds per {role} until all ready: {fmt(xs, ' s', 3)} (min / median / max, all runs)")
    if args.json_out:
        with open(args.json_out, "w") as f:
            json.dump(results, f, indent=1)


if __name__ == "__main__":
    main()
