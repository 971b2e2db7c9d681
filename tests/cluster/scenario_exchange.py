#!/usr/bin/env python3
"""The token exchange across the bridge, between real nodes: a master serves
(tests/tools/exchange-test-server, the real server with the test provider,
test-only code that the piagent binary does not contain), a worker of the same cluster gets join material, a second
control-plane join is refused while the first holds the ticket, a node of
another cluster (other secret) gets nothing and the server keeps serving;
neither the cluster secret nor a handed-out token reaches the server's
journal."""

import argparse
import os
import re
import secrets
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import Cluster, NodeSpec, log, run_scenario  # noqa: E402

PORT = "9555"  # not the agent's own exchange port: the agent runs beside this test server


def expect(cond, msg):
    if not cond:
        raise AssertionError(msg)


def cluster_txt(secret):
    return f"cluster=demo\nsecret={secret}\n"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--binary", required=True, help="the piagent binary to install on the nodes")
    ap.add_argument("--test-server", required=True, help="tests/tools/exchange-test-server, installed on m1")
    args = ap.parse_args()
    with open(args.test_server, "rb") as f:
        test_server = f.read()

    ours, theirs = secrets.token_hex(32), secrets.token_hex(32)
    specs = [
        NodeSpec("m1", role_txt="role=master\n", cluster_txt=cluster_txt(ours),
                 files={"/usr/local/bin/exchange-test-server": test_server}),
        NodeSpec("w1", role_txt="role=worker\n", cluster_txt=cluster_txt(ours)),
        NodeSpec("x1", role_txt="role=worker\n", cluster_txt=cluster_txt(theirs)),
    ]
    with Cluster("exchange", binary=args.binary) as c:
        c.prepare()
        m1, w1, x1 = c.up(specs)
        ex = ["piagent", "exchange"]

        c.exec(m1, ["systemd-run", "--unit=exchange-serve", "--collect", "--quiet", "--setenv=PIAGENT_LOG_LEVEL=debug",
                    "exchange-test-server", "--node", "master-1", "--port", PORT])
        status = c.wait_for(lambda: c.exec(w1, ex + ["status", m1.addr, "--port", PORT]).stdout, timeout=20,
                            what="the exchange server answers /v1/status across the bridge")
        expect("node: master-1" in status and "role: master" in status, f"status: {status!r}")

        # A worker of the cluster joins: material arrives, authenticated and decrypted.
        t = time.monotonic()
        p = c.exec(w1, ex + ["request", m1.addr, "join", "--port", PORT, "--node", "worker-1", "--show-secrets"])
        log(f"join across the bridge: {1000 * (time.monotonic() - t):.0f} ms (including nsenter)")
        token = re.search(r"^token: ([a-z0-9]{6}\.[a-z0-9]{16})$", p.stdout, re.M)
        expect(token and "endpoint: " in p.stdout and "ca_cert_hash: sha256:" in p.stdout,
               f"join answer: {p.stdout!r}")
        token = token.group(1)

        # Control-plane joins are serialised by the ticket.
        c.exec(w1, ex + ["request", m1.addr, "join", "--role", "control-plane", "--port", PORT, "--node", "master-2"])
        p = c.exec(w1, ex + ["request", m1.addr, "join", "--role", "control-plane", "--port", PORT,
                             "--node", "master-3"], check=False)
        expect(p.returncode == 1 and "another node is joining" in p.stderr, f"second ticket: {p.stderr!r}")
        c.exec(w1, ex + ["request", m1.addr, "joined", "--role", "control-plane", "--port", PORT, "--node", "master-2"])
        c.exec(w1, ex + ["request", m1.addr, "join", "--role", "control-plane", "--port", PORT, "--node", "master-3"])

        # Another cluster's node gets nothing but the public status.
        p = c.exec(x1, ex + ["request", m1.addr, "join", "--port", PORT, "--node", "stranger"], check=False)
        expect(p.returncode == 1 and "did not accept our proof" in p.stderr, f"stranger's join: {p.stderr!r}")
        expect("token" not in p.stdout, f"stranger got material: {p.stdout!r}")
        c.exec(x1, ex + ["status", m1.addr, "--port", PORT])
        # And the server did not stop serving.
        c.exec(w1, ex + ["request", m1.addr, "ca", "--port", PORT, "--node", "lb-1"])

        journal = c.exec(m1, ["journalctl", "--no-pager", "-o", "cat", "-u", "exchange-serve"]).stdout
        expect("Exchange server with the test provider" in journal, f"server journal: {journal[-2000:]!r}")
        for secret, what in ((ours, "the cluster secret"), (theirs, "the other cluster's secret"), (token, "a token")):
            expect(secret not in journal, f"{what} is in the server's journal")
        log(f"server journal: {len(journal.splitlines())} lines, no secret, no token")


if __name__ == "__main__":
    run_scenario(main)
