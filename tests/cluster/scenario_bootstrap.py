#!/usr/bin/env python3
"""A whole cluster from power-on, with the real agent on every node and the kubeadm double (real etcd, TLS
apiservers, token and CA-hash checks) as the only stand-in: 2 lb + 3 master + N workers started at once.

Asserts: every node reaches `ready`; exactly one `kubeadm init` in the cluster; real etcd has 3 voting members
and one cluster id; every join went through VIP:9000 (HAProxy and keepalived configured by the agents); no
cluster secret, bootstrap token or certificate key in any node's journal; the agents' journals tell the story
(election, init, joins). --order shuffles the start order with delays (issue 6, test 2).
"""

import argparse
import os
import random
import re
import secrets
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "doubles"))
from harness import Cluster, NodeSpec, NotYet, log, run_scenario  # noqa: E402
import testbed  # noqa: E402

VIP = "10.77.0.240"
# What a bare container cannot offer (memory cgroup, containerd, kubelet, writable /proc/sys): the kubeadm
# double does not need them; the agent's preflight is unit-tested on fake /proc and /sys trees.
PREFLIGHT = ("[Service]\nEnvironment=PIAGENT_PREFLIGHT_IGNORE=memory-cgroup,swap,br_netfilter,ip_forward,"
             "bridge-nf-call-iptables,container-runtime,kubelet\n")
TOKEN_RE = re.compile(r"\b[a-z0-9]{6}\.[a-z0-9]{16}\b")
KEY_RE = re.compile(r"(?<![0-9a-f:])[0-9a-f]{64}(?![0-9a-f])")


def expect(cond, msg):
    if not cond:
        raise AssertionError(msg)


def status_text(c, n):
    return c.exec(n, ["systemctl", "show", "-p", "StatusText", "--value", "piagent.service"]).stdout.strip()


def journal(c, n, unit="piagent.service"):
    return c.exec(n, ["journalctl", "-u", unit, "-b", "--no-pager", "-o", "cat"], check=False).stdout


def specs_for(secret, workers):
    cluster = f"cluster=boot\nsecret={secret}\nvip={VIP}/24\napi_port=9000\nmasters=3\ncni=none\n"
    node_files = testbed.node_files(settings={"key-algorithm": "ECDSA-P256"})
    node_files["/etc/systemd/system/piagent.service.d/preflight.conf"] = PREFLIGHT
    out = [NodeSpec("lb1", "lb", cluster_txt=cluster), NodeSpec("lb2", "lb", cluster_txt=cluster)]
    out += [NodeSpec(f"m{i}", "master", cluster_txt=cluster, files=node_files) for i in (1, 2, 3)]
    out += [NodeSpec(f"w{i}", "worker", cluster_txt=cluster, files=node_files) for i in range(1, workers + 1)]
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--binary", required=True)
    ap.add_argument("--workers", type=int, default=3)
    ap.add_argument("--order", choices=("together", "random"), default="together")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--timeout", type=int, default=300)
    args = ap.parse_args()

    secret = secrets.token_hex(32)
    specs = specs_for(secret, args.workers)
    with Cluster("bootstrap", binary=args.binary) as c:
        c.prepare()
        if args.order == "together":
            nodes = c.up(specs)
        else:
            rng = random.Random(args.seed)
            rng.shuffle(specs)
            log("start order: " + " ".join(s.name for s in specs))
            nodes = []
            for s in specs:
                nodes += c.up([s])
                time.sleep(rng.uniform(0, 4))
        t_last = time.monotonic()
        by = {n.name: n for n in nodes}
        lbs = [by["lb1"], by["lb2"]]
        masters = [by[f"m{i}"] for i in (1, 2, 3)]
        workers = [by[f"w{i}"] for i in range(1, args.workers + 1)]

        def all_ready():
            waiting = [f"{n}: {status_text(c, n)}" for n in nodes if ": ready" not in status_text(c, n)]
            if waiting:
                raise NotYet("; ".join(waiting))
            return True
        c.wait_for(all_ready, timeout=args.timeout, what="every node ready")
        log(f"all {len(nodes)} nodes ready {time.monotonic() - t_last:.1f} s after the last node started")

        runs = {m.name: testbed.invocations(c, m) for m in masters + workers}
        inits = [(name, r) for name, rs in runs.items() for r in rs if r.get("command") == "init"]
        expect(len(inits) == 1, f"kubeadm init ran {len(inits)} times: {inits}")
        log(f"the one kubeadm init ran on {inits[0][0]}")
        joins = [(name, r) for name, rs in runs.items() for r in rs if r.get("command") == "join"]
        expect(all(r.get("endpoint") == f"{VIP}:9000" for _, r in joins),
               f"a join did not go through the VIP: {[(n, r.get('endpoint')) for n, r in joins]}")
        joined = {name for name, r in joins if r.get("exit_code", r.get("rc", r.get("exit"))) == 0}
        expect(joined == {m.name for m in masters} - {inits[0][0]} | {w.name for w in workers},
               f"joined: {sorted(joined)}")

        members = testbed.etcd_members(c, masters[0])
        expect(len(members) == 3 and not any(m.get("isLearner") for m in members), f"etcd members: {members}")
        ids = {testbed.etcd_cluster_id(c, m) for m in masters}
        expect(len(ids) == 1, f"etcd cluster ids: {ids}")

        for n in nodes:
            text = journal(c, n)
            expect(secret not in text, f"{n}: the cluster secret is in the journal")
            for pattern, what in ((TOKEN_RE, "a bootstrap token"), (KEY_RE, "a certificate key")):
                hit = pattern.search(text)
                expect(not hit, f"{n}: {what} in the journal: {hit and hit.group(0)}")
        init_master = by[inits[0][0]]
        story = journal(c, init_master)
        expect("Election: won" in story and "kubeadm init completed" in story, f"{init_master}: no election story")
        for w in workers:
            expect("kubeadm join completed" in journal(c, w), f"{w}: no join in the journal")
        log("bootstrap scenario passed")


if __name__ == "__main__":
    run_scenario(main)
