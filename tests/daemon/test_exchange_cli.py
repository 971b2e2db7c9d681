#!/usr/bin/env python3
"""`piagent exchange status|request` against tests/tools/exchange-test-server on loopback, and the test provider
only in the test tool: the daemon binary has none of its symbols or strings.

usage: test_exchange_cli.py PIAGENT_BINARY EXCHANGE_TEST_SERVER"""

import os
import re
import socket
import subprocess
import sys
import tempfile
import time

SECRET = "3f1c0a9e8b7d6c5f4e3d2c1b0a99887766554433221100ffeeddccbbaa998877"


def symbols(binary: str) -> str:
    return subprocess.run(["nm", binary], capture_output=True, text=True, check=True).stdout


def strings(binary: str) -> str:
    return subprocess.run(["strings", binary], capture_output=True, text=True, check=True).stdout


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main() -> int:
    piagent, server = sys.argv[1], sys.argv[2]
    problems = []

    # The grep must find the provider where it is, else finding nothing in the daemon proves nothing.
    if "exchange_test_provider_ops" not in symbols(server):
        problems.append("the test server has no exchange_test_provider_ops: the check below would prove nothing")
    if re.search(r"exchange_test_|test_provider", symbols(piagent)):
        problems.append("the daemon binary contains test provider symbols")
    if re.search(r"(?i)test[ -]provider|exchange_test_", strings(piagent)):
        problems.append("the daemon binary contains test provider strings")

    with tempfile.TemporaryDirectory() as boot:
        with open(os.path.join(boot, "role.txt"), "w") as f:
            f.write("role=master\n")
        with open(os.path.join(boot, "cluster.txt"), "w") as f:
            f.write(f"cluster=test\nsecret={SECRET}\n")
        port = str(free_port())
        env = dict(os.environ, PIAGENT_LOG_TARGET="stderr")
        proc = subprocess.Popen([server, "--boot-dir", boot, "--port", port, "--address", "127.0.0.1",
                                 "--node", "master-test"], env=env, stderr=subprocess.PIPE, text=True)
        try:
            out = None
            for _ in range(50):  # the server binds within milliseconds; allow a loaded machine 5 s
                r = subprocess.run([piagent, "exchange", "status", "127.0.0.1", "--boot-dir", boot, "--port", port],
                                   capture_output=True, text=True, timeout=10, env=env)
                if r.returncode == 0:
                    out = r.stdout
                    break
                time.sleep(0.1)
            if out is None or "node: master-test" not in out or "role: master" not in out:
                problems.append(f"exchange status: {out!r}")
            r = subprocess.run([piagent, "exchange", "request", "127.0.0.1", "join", "--boot-dir", boot, "--port",
                                port, "--node", "worker-test"], capture_output=True, text=True, timeout=10, env=env)
            if r.returncode != 0 or "server: master-test" not in r.stdout or "token: (fingerprint" not in r.stdout:
                problems.append(f"exchange request join: rc {r.returncode}: {r.stdout!r} {r.stderr!r}")
        finally:
            proc.terminate()
            proc.wait(timeout=10)

    for p in problems:
        print(p, file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
