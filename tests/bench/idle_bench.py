#!/usr/bin/env python3
"""Idle benchmark (issue 17): what a settled cluster's agents cost when nothing happens.

  sudo python3 tests/bench/idle_bench.py --binary build/piagent [--workers 10] [--window 300] [--strace lb1,m1]

2 lb + 3 master + N worker nodes (default 10: 15 nodes) with the kubeadm double build their cluster; two more
nodes of another cluster without kubeadm (a master `pm1` and a worker `pw1`) stay in preflight. Once every
cluster node is ready and the two report their preflight problem, the bench waits --settle seconds, then for
--window seconds (default 300, the issue's 5 minutes):

- counts each agent's wakeups: the voluntary context switches of its process (every time the loop goes back to
  sleep in epoll_wait costs one), with the involuntary ones, timeslices run (schedstat) and CPU seconds beside;
- captures every mDNS packet on the bridge (tests/bench/mdns_capture.py) and classifies it: packets per node
  per minute, by kind and by sender.

--strace NODE,...: afterwards, trace those agents for --strace-seconds (default 60) and list what each wakeup
did (the syscalls between two epoll_wait calls), to see which timer or socket woke it. Traced wakeups are not
counted in the figures above.

Every figure comes from the host's /proc (the nodes share its kernel). Method and results: docs/performance.md.
"""

import argparse
import collections
import json
import os
import re
import secrets
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "cluster"))
sys.path.insert(0, os.path.join(HERE, "..", "doubles"))
from benchlib import agent_pid, agent_pids, fmt, loadavg, proc_sample  # noqa: E402
from discovery_util import ensure_inotify_instances  # noqa: E402
from harness import Cluster, NodeSpec, NotYet, log  # noqa: E402
from scenario_bootstrap import all_ready, specs_for, status_text  # noqa: E402


MEM = ("Pss", "Private_Dirty", "Private_Clean", "Rss")


def kind_of(n):
    return n.role + ("-preflight" if n.name.startswith("p") else "")


def link_local(mac):
    """The IPv6 link-local address the kernel gives a MAC (EUI-64), as inet_ntop writes it."""
    b = [int(x, 16) for x in mac.split(":")]
    b[0] ^= 0x02
    eui = b[:3] + [0xFF, 0xFE] + b[3:]
    groups = [f"{(eui[i] << 8) | eui[i + 1]:x}" for i in range(0, 8, 2)]
    return "fe80::" + ":".join(groups)


def in_preflight(c, n):
    text = status_text(c, n)
    if "preflight" not in text:
        raise NotYet(f"{n}: {text}")
    return True


def strace_wakeups(c, n, seconds, outdir):
    """Trace one agent for a while; [(signature, count)] of what its wakeups did."""
    pid = agent_pid(n)
    out = os.path.join(outdir, f"strace-{n.name}.txt")
    subprocess.run(["timeout", "-s", "INT", str(seconds), "strace", "-f", "-tt", "-o", out, "-p", str(pid)],
                   capture_output=True)
    wakes, cur = [], []
    with open(out, errors="replace") as f:
        for line in f:
            m = re.match(r"(?:\d+\s+)?[\d:.]+\s+(\w+)\((.*)", line)
            if not m:
                continue
            name, rest = m.groups()
            if name.startswith("epoll_wait") or name == "epoll_pwait":
                if cur:
                    wakes.append(tuple(cur))
                cur = []
                continue
            arg = ""
            if name in ("read", "recvmsg", "recvfrom", "sendmsg", "write", "timerfd_settime", "close"):
                arg = rest.split(",", 1)[0]
            cur.append(f"{name}({arg})" if arg else name)
    if cur:
        wakes.append(tuple(cur))
    counts = collections.Counter(" ".join(w[:6]) for w in wakes)
    return len(wakes), counts.most_common(12), out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--binary", required=True)
    ap.add_argument("--workers", type=int, default=10)
    ap.add_argument("--settle", type=float, default=60.0, help="seconds after everything is ready, before counting")
    ap.add_argument("--window", type=float, default=300.0)
    ap.add_argument("--timeout", type=int, default=600)
    ap.add_argument("--strace", default="", help="comma-separated node names to trace after the window")
    ap.add_argument("--strace-seconds", type=int, default=60)
    ap.add_argument("--no-preflight-nodes", action="store_true")
    ap.add_argument("--records", type=int, default=16, help="list this many of the most frequent mDNS records")
    ap.add_argument("--json-out")
    args = ap.parse_args()

    secret = secrets.token_hex(32)
    specs = [s for s in specs_for(secret, workers=args.workers) if s.name != "x1"]
    if not args.no_preflight_nodes:
        other = next(s.cluster_txt for s in specs if s.name == "m1").replace(secret, secrets.token_hex(32))
        specs += [NodeSpec("pm1", "master", cluster_txt=other), NodeSpec("pw1", "worker", cluster_txt=other)]
    with Cluster("bench-idle", binary=args.binary, boot_timeout=300) as c:
        c.prepare()
        ensure_inotify_instances(len(specs), log)
        nodes = c.up(specs)
        members = [n for n in nodes if not n.name.startswith("p")]
        c.wait_for(lambda: all_ready(c, members), timeout=args.timeout, interval=0.5, what="every node ready")
        for n in nodes:
            if n.name.startswith("p"):
                c.wait_for(lambda n=n: in_preflight(c, n), timeout=120, what=f"{n} waits in preflight")
        log(f"settling for {args.settle:.0f} s")
        time.sleep(args.settle)

        cap = subprocess.Popen(["ip", "netns", "exec", c.bridge_ns, sys.executable,
                                os.path.join(HERE, "mdns_capture.py"), "--iface", "br0",
                                "--seconds", str(args.window)], stdout=subprocess.PIPE, text=True)
        # Every process of the agent: the daemon, and the exchange worker where masters run one.
        pids = {(n.name, what): pid for n in nodes for what, pid in agent_pids(n).items()}
        before = {key: proc_sample(pid) for key, pid in pids.items()}
        load_before = loadavg()
        t0 = time.monotonic()
        log(f"counting for {args.window:.0f} s")
        time.sleep(args.window)
        after = {key: proc_sample(pid) for key, pid in pids.items()}
        elapsed = time.monotonic() - t0
        mdns = json.loads(cap.communicate(timeout=60)[0])

        load_after = loadavg()
        result = {"nodes": len(nodes), "window_s": elapsed, "per_node": {}, "per_kind": {}, "mdns": mdns,
                  "load_average": {"window_start": load_before, "window_end": load_after}}
        for n in nodes:
            keys = [k for k in pids if k[0] == n.name]
            for k in keys:
                if before[k]["starttime"] != after[k]["starttime"]:
                    raise AssertionError(f"{n}: the agent ({k[1]}) restarted during the window")

            def total(field, keys=keys):
                return sum(after[k].get(field, 0) - (before[k].get(field, 0) if field not in MEM else 0)
                           for k in keys)
            result["per_node"][n.name] = {
                "kind": kind_of(n), "processes": [k[1] for k in keys], "wakeups": total("voluntary"),
                "wakeups_by_process": {k[1]: after[k]["voluntary"] - before[k]["voluntary"] for k in keys},
                "involuntary": total("nonvoluntary"), "timeslices": total("timeslices"),
                "cpu_s": round(total("cpu_s"), 3), "pss": total("Pss"), "private_dirty": total("Private_Dirty"),
                "uss": total("Private_Dirty") + total("Private_Clean"), "rss": total("Rss"),
                "status": status_text(c, n)}
        per = result["per_node"]
        scale = 300.0 / elapsed
        print(f"\nload average (1, 5, 15 min) at the window's start {load_before}, at its end {load_after}")
        print(f"wakeups per agent in {elapsed:.0f} s (scaled to 5 min: x{scale:.3f}); min / median / max")
        for kind in sorted({p["kind"] for p in per.values()}):
            xs = [p for p in per.values() if p["kind"] == kind]
            result["per_kind"][kind] = {
                "nodes": len(xs), "wakeups_5min": [round(p["wakeups"] * scale, 1) for p in xs],
                "cpu_s": [p["cpu_s"] for p in xs], "pss": [p["pss"] for p in xs], "uss": [p["uss"] for p in xs]}
            print(f"  {kind:18} [{len(xs):2}] wakeups {fmt([p['wakeups'] * scale for p in xs], digits=0)}, "
                  f"involuntary {fmt([p['involuntary'] * scale for p in xs], digits=0)}, "
                  f"CPU {fmt([p['cpu_s'] for p in xs], ' s', 3)}, "
                  f"PSS {fmt([p['pss'] / 2**20 for p in xs], ' MiB')}, "
                  f"USS {fmt([p['uss'] / 2**20 for p in xs], ' MiB')}, "
                  f"private dirty {fmt([p['private_dirty'] / 2**20 for p in xs], ' MiB')}")

        workers = {name: p["wakeups_by_process"]["exchange"] for name, p in per.items()
                   if "exchange" in p["wakeups_by_process"]}
        if workers:
            print(f"  of which the exchange workers (masters' sandboxed HTTP side): {workers}")

        names = {}
        for n in nodes:
            names[n.addr] = n.name
            names[link_local(n.mac)] = n.name + " (v6)"
        minutes = mdns["seconds"] / 60
        print(f"\nmDNS on the bridge in {mdns['seconds']:.0f} s: {mdns['total']} packets, "
              f"{mdns['total'] / len(nodes) / minutes:.2f} per node per minute")
        for k, v in sorted(mdns["kinds"].items()):
            print(f"  {k:18} {v:6}  {v / len(nodes) / minutes:6.2f} per node per minute")
        print("  by sender (packets in the window):")
        for src, kinds in sorted(mdns["by_source"].items(), key=lambda kv: names.get(kv[0], kv[0])):
            print(f"    {names.get(src, src):14} {sum(kinds.values()):5}  {kinds}")
        print("  most frequent records (Q question, K known answer in a query, R in a response):")
        for rec, cnt in list(mdns["records"].items())[:args.records]:
            print(f"    {cnt:5}  {rec}")

        if args.strace:
            outdir = os.path.join(c.artifacts, f"idle-{time.strftime('%Y%m%d-%H%M%S')}")
            os.makedirs(outdir, exist_ok=True)
            result["strace"] = {}
            for name in args.strace.split(","):
                n = c.node(name)
                total, common, path = strace_wakeups(c, n, args.strace_seconds, outdir)
                result["strace"][name] = {"wakeups": total, "common": common, "file": path}
                print(f"\n{name}: {total} wakeups in {args.strace_seconds} s under strace ({path}); most common:")
                for sig, cnt in common:
                    print(f"  {cnt:4}  {sig}")
        if args.json_out:
            with open(args.json_out, "w") as f:
                json.dump(result, f, indent=1)


if __name__ == "__main__":
    main()
