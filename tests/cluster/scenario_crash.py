#!/usr/bin/env python3
"""kill -9 of the agent at every phase boundary of every role (issue 6, test 4).

2 lb + 3 master + 2 worker started together. A watcher follows each node's agent journal; the first time the
agent announces a phase it has not been killed in yet (`Phase: <name>`), the watcher SIGKILLs the agent's main
process at once (systemd then stops the rest of the unit, kubeadm included, and restarts it after RestartSec).
So every node dies once at each phase it goes through — preflight, waiting-for-endpoint, electing,
initializing, joining, cleanup, backoff, waiting-for-master, ready, the LB's configuring — and comes back from
its persisted state. --seed picks, per node, a few phases that are spared instead (a different campaign per
seed; the default spares none).

Asserts: every node converges to `ready`; exactly one successful `kubeadm init` in the cluster and no second
cluster (one etcd cluster id, 3 voting members); every join went through the VIP; each interrupted kubeadm run
was cleaned up with `kubeadm reset -f` before the next attempt; the kills really happened (a list per node).

--kubeadm-version makes the double another kubeadm release; --late-master then adds a fourth master once every agent
was killed at ready and came back: its control-plane join takes material from a master that is ready only from its
persisted state (issue 13, point 1).
"""

import argparse
import json
import os
import random
import signal
import subprocess
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "doubles"))
from harness import NODE_ENV, Cluster, NotYet, log, run_scenario  # noqa: E402
import testbed  # noqa: E402
from scenario_bootstrap import VIP, all_ready, check_api_versions, expect, late_master, specs_for  # noqa: E402


class Killer(threading.Thread):
    """Follows one node's piagent journal and kills the agent at each new phase."""

    def __init__(self, c, node, spared):
        super().__init__(daemon=True, name=f"killer-{node.name}")
        self.c, self.node, self.spared = c, node, set(spared)
        self.killed = []  # phases, in order
        self.pids = set()  # the agents killed
        self.stop = threading.Event()
        self.proc = None
        self.error = None

    def run(self):
        argv = ["nsenter", "--target", str(self.node.leader), "--all", "--root", "--wd", "--",
                "journalctl", "-f", "-n", "all", "-o", "json", "-u", "piagent.service",
                "--output-fields=MESSAGE,_PID"]
        try:
            # A session of its own: nsenter forks journalctl into the node's PID namespace, and finish() ends both.
            self.proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stdin=subprocess.DEVNULL,
                                         stderr=subprocess.DEVNULL, text=True, env=NODE_ENV, start_new_session=True)
            for line in self.proc.stdout:
                if self.stop.is_set():
                    break
                try:
                    e = json.loads(line)
                except ValueError:
                    continue
                msg = e.get("MESSAGE")
                if not isinstance(msg, str) or not msg.startswith("Phase: "):
                    continue
                phase = msg[len("Phase: "):].strip()
                if phase in self.spared or phase in self.killed or str(e.get("_PID")) in self.pids:
                    continue  # (lines an agent logged before the kill reached it: not this phase's kill)
                # Only the process that logged it: an old line of an agent already dead is no target.
                p = subprocess.run(["nsenter", "--target", str(self.node.leader), "--all", "--root", "--", "kill",
                                    "-9", e.get("_PID", "0")], capture_output=True, env=NODE_ENV)
                if p.returncode == 0:
                    self.killed.append(phase)
                    self.pids.add(str(e.get("_PID")))
                    log(f"{self.node}: killed the agent (pid {e.get('_PID')}) at phase {phase}")
        except Exception as ex:  # reported by the scenario
            self.error = ex

    def finish(self, wait=True):
        self.stop.set()
        if self.proc:
            try:
                os.killpg(self.proc.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
        if wait:
            self.join(5)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--binary", required=True)
    ap.add_argument("--seed", type=int, default=None,
                    help="spare a random few phases per node (fixed seed); default: kill at every phase")
    ap.add_argument("--timeout", type=int, default=600)
    ap.add_argument("--kubeadm-version", default=None, help="what the kubeadm double is (e.g. v1.33.5)")
    ap.add_argument("--late-master", action="store_true",
                    help="then add a fourth master: it joins with material from a master restarted at ready")
    args = ap.parse_args()

    specs = [s for s in specs_for(os.urandom(32).hex(), workers=2, kubeadm_version=args.kubeadm_version)
             if s.name != "x1"]
    phases = {"lb": ["configuring", "ready"],
              "master": ["preflight", "waiting-for-endpoint", "electing", "initializing", "waiting-for-master",
                         "joining", "cleanup", "backoff", "ready"],
              "worker": ["preflight", "waiting-for-master", "joining", "cleanup", "backoff", "ready"]}
    rng = random.Random(args.seed)
    with Cluster("crash", binary=args.binary) as c:
        nodes = c.up(specs)
        by = {n.name: n for n in nodes}
        killers = []
        for n in nodes:
            spared = rng.sample(phases[n.role], k=len(phases[n.role]) // 3) if args.seed is not None else []
            if spared:
                log(f"{n}: spared phases {', '.join(spared)}")
            k = Killer(c, n, spared)
            k.start()
            killers.append(k)
        t0 = time.monotonic()

        def converged():
            for k in killers:
                if k.error:
                    raise RuntimeError(f"{k.node}: watcher failed: {k.error!r}")
            # Killed at ready (else that kill is still to come), and ready.
            waiting = [f"{k.node}: not yet killed at ready" for k in killers
                       if "ready" not in k.killed and "ready" not in k.spared]
            if waiting:
                raise NotYet("; ".join(waiting))
            return all_ready(c, nodes)
        c.wait_for(converged, timeout=args.timeout, interval=1.0, what="every node ready after the kills")
        # The agent killed at ready must come back to ready too.
        time.sleep(1)

        def all_back():
            waiting = []
            for k in killers:
                pid, text = c.exec(k.node, ["systemctl", "show", "-p", "MainPID", "-p", "StatusText", "--value",
                                            "piagent.service"]).stdout.split("\n", 1)
                if pid in k.pids or pid == "0" or ": ready" not in text:
                    waiting.append(f"{k.node}: pid {pid}: {text.strip()}")
            if waiting:
                raise NotYet("; ".join(waiting))
            return True
        c.wait_for(all_back, timeout=120, what="every agent back after the last kill")
        log(f"converged {time.monotonic() - t0:.1f} s after the start")
        for k in killers:
            k.finish(wait=False)
        for k in killers:
            k.finish()
        for k in killers:
            log(f"{k.node}: killed at {', '.join(k.killed) or 'nothing'}")

        masters = [by[f"m{i}"] for i in (1, 2, 3)]
        workers = [by["w1"], by["w2"]]
        runs = {n.name: testbed.invocations(c, n) for n in masters + workers}
        ok_inits = [(name, r) for name, rs in runs.items() for r in rs if r.get("command") == "init" and
                    r.get("exit") == 0]
        expect(len(ok_inits) == 1, f"successful kubeadm init runs: {ok_inits}")
        inits = [(name, r) for name, rs in runs.items() for r in rs if r.get("command") == "init"]
        expect({name for name, _ in inits} == {ok_inits[0][0]}, f"kubeadm init ran on several masters: {inits}")
        log(f"kubeadm init: {len(inits)} run(s), all on {ok_inits[0][0]}, one succeeded")
        for name, rs in runs.items():
            # Every init/join that was started and did not succeed is followed by a reset before the next one.
            pending = False
            for r in rs:
                cmd = r.get("command")
                if cmd in ("init", "join"):
                    expect(not pending, f"{name}: kubeadm {cmd} without a reset after an unfinished run: {rs}")
                    pending = r.get("exit") != 0
                elif cmd == "reset":
                    pending = False
            # A join killed before it read its configuration names no endpoint; every other one used the VIP.
            joins = [r for r in rs if r.get("command") == "join" and (r.get("endpoint") or r.get("exit") == 0)]
            bad = [r for r in joins if r.get("endpoint") != f"{VIP}:9000"]
            expect(not bad, f"{name}: a join not through the VIP: {bad}")
        for n in masters + workers:
            expect(n.name == ok_inits[0][0] or any(r.get("command") == "join" and r.get("exit") == 0
                                                   for r in runs[n.name]), f"{n}: never joined")
        etcd = testbed.etcd_members(c, masters[0])
        expect(len(etcd) == 3 and not any(m.get("isLearner") for m in etcd), f"etcd members: {etcd}")
        ids = {testbed.etcd_cluster_id(c, m) for m in masters}
        expect(len(ids) == 1, f"etcd cluster ids: {ids}")
        total = sum(len(k.killed) for k in killers)
        expect(all(k.killed for k in killers), "a node was never killed")
        if args.late_master:
            masters.append(late_master(c, next(s for s in specs if s.name == "m1"), masters))
        check_api_versions(c, masters + workers, args.kubeadm_version or testbed.DEFAULT_VERSION)
        log(f"crash scenario passed: {total} kills")


if __name__ == "__main__":
    run_scenario(main)
