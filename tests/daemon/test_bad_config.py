#!/usr/bin/env python3
"""`piagent run` against a bad boot directory: it must stay up, report the first error through sd_notify
STATUS= and stderr, never touch anything, and move on without a restart once the files are fixed."""

import os
import signal
import socket
import subprocess
import sys
import tempfile
import time

SECRET = "3f1c0a9e8b7d6c5f4e3d2c1b0a99887766554433221100ffeeddccbbaa998877"


def main() -> int:
    binary = sys.argv[1]
    with tempfile.TemporaryDirectory() as tmp:
        boot = os.path.join(tmp, "boot")
        state = os.path.join(tmp, "state")
        os.mkdir(boot)
        with open(os.path.join(boot, "role.txt"), "w") as f:
            f.write("role=lbb\n")
        with open(os.path.join(boot, "cluster.txt"), "w") as f:
            f.write(f"cluster=test\nsecret={SECRET}\n")

        sock_path = os.path.join(tmp, "notify")
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        sock.bind(sock_path)
        sock.settimeout(0.2)

        env = dict(os.environ, NOTIFY_SOCKET=sock_path, PIAGENT_LOG_TARGET="stderr")
        env.pop("WATCHDOG_USEC", None)
        stderr_path = os.path.join(tmp, "stderr")
        with open(stderr_path, "w") as err:
            proc = subprocess.Popen([binary, "run", "--boot-dir", boot, "--state-dir", state],
                                    env=env, stderr=err, stdout=err)
        messages = []

        def wait_for(pred, timeout):
            deadline = time.monotonic() + timeout
            while time.monotonic() < deadline:
                try:
                    messages.extend(sock.recv(4096).decode().split("\n"))
                    continue
                except socket.timeout:
                    pass
                if any(pred(m) for m in messages):
                    return True
                if proc.poll() is not None:
                    return False
            return False

        def fail(msg):
            proc.kill()
            proc.wait()
            print("FAIL:", msg)
            print("notifications:", messages)
            print("stderr:\n" + open(stderr_path).read())
            return 1

        if not wait_for(lambda m: m == "READY=1", 10):
            return fail("no READY=1")
        if not wait_for(lambda m: m.startswith("STATUS=Failed: role.txt:1: unknown role 'lbb' (did you mean 'lb'?)"), 10):
            return fail("no STATUS naming the first error")
        time.sleep(1.0)
        if proc.poll() is not None:
            return fail(f"agent exited with {proc.returncode} on bad input")
        text = open(stderr_path).read()
        if "role.txt:1: unknown role 'lbb'" not in text:
            return fail("error not on stderr")

        # Fix the file the way an editor does: write a temp file and rename it over.
        tmpfile = os.path.join(boot, ".role.txt.swp")
        with open(tmpfile, "w") as f:
            f.write("role=lb\n")
        os.rename(tmpfile, os.path.join(boot, "role.txt"))
        if not wait_for(lambda m: m.startswith("STATUS=lb: configuration valid"), 10):
            return fail("did not move on after the files were fixed")

        # Break it again: the valid configuration stays in use.
        with open(os.path.join(boot, "cluster.txt"), "w") as f:
            f.write("secret=short\n")
        if not wait_for(lambda m: "keeping the configuration in use" in m, 10):
            return fail("did not report a later breakage")

        proc.send_signal(signal.SIGTERM)
        try:
            rc = proc.wait(10)
        except subprocess.TimeoutExpired:
            return fail("did not stop on SIGTERM")
        wait_for(lambda m: m == "STOPPING=1", 1)
        if rc != 0:
            return fail(f"exit status {rc} after SIGTERM")
        if "STOPPING=1" not in messages:
            return fail("no STOPPING=1")
        text = open(stderr_path).read()
        if SECRET in text or any(SECRET in m for m in messages):
            return fail("the secret was printed")
        print("ok: stayed up on bad input, reported it, recovered without restart, stopped cleanly")
        return 0


if __name__ == "__main__":
    sys.exit(main())
