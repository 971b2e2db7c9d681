#!/usr/bin/env python3
"""The load-balancer role with real keepalived and HAProxy, configured by the agent: two LBs, masters that are
fake apiservers (HTTPS /readyz on 6443), a client behind the VIP.

1. Both LBs reach `ready`; exactly one holds the VIP; the client reaches every master through VIP:9000
   (round robin observed); the rendered files name the other LB and every master.
2. keepalived stopped on the VIP holder: the other LB takes the VIP; started again: still one holder.
3. keepalived killed with SIGKILL on the holder: the VIP moves, and is not left behind as a duplicate.
4. A dead and a hung master leave the rotation; both come back after recovery.
5. A third master appears later: it enters the backend; a connection established before survives the reload.
6. A configuration the checker rejects (test hook) is never installed; the agent says why.
"""

import argparse
import json
import os
import re
import secrets
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import Cluster, NodeSpec, NotYet, log, run_scenario  # noqa: E402

VIP = "10.77.0.240"
HERE = os.path.dirname(os.path.abspath(__file__))
FAKE = "/usr/local/lib/piagent-test/fake_apiserver.py"
QUIET = "[Service]\nEnvironment=PIAGENT_ROLES=no\n"  # masters and the client only need to be discovered


def expect(cond, msg):
    if not cond:
        raise AssertionError(msg)


def vip_holders(c, lbs):
    return [n for n in lbs if f"inet {VIP}/32" in c.exec(n, ["ip", "-4", "addr", "show"]).stdout]


def agent_status(c, node):
    return c.exec(node, ["systemctl", "show", "-p", "StatusText", "--value", "piagent.service"]).stdout.strip()


def fetch(c, client, timeout=2):
    """Which master answers through the VIP, or None."""
    p = c.exec(client, ["curl", "-sk", "--max-time", str(timeout), f"https://{VIP}:9000/"], check=False)
    return p.stdout.strip() if p.returncode == 0 else None


def answering(c, client, n=8):
    return {fetch(c, client) for _ in range(n)} - {None}


def check(cond, what):
    """For wait_for predicates: True, or raise NotYet(what) so that the timeout message says what was seen."""
    if not cond:
        raise NotYet(what)
    return True


def start_fake(c, node):
    c.exec(node, ["systemd-run", "--unit=fake-apiserver", "--property=Type=notify", "--property=NotifyAccess=main",
                  "--quiet", "python3", FAKE, "--name", node.name])


def set_mode(c, node, mode):
    c.exec(node, ["python3", FAKE, "set-mode", mode])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--binary", required=True)
    args = ap.parse_args()

    secret = secrets.token_hex(32)
    cluster = f"cluster=lbtest\nsecret={secret}\nvip={VIP}/24\napi_port=9000\n"
    with open(os.path.join(HERE, "fake_apiserver.py")) as f:
        fake = f.read()
    quiet = {"/etc/systemd/system/piagent.service.d/test.conf": QUIET, FAKE: fake}
    specs = [NodeSpec("lb1", role="lb", cluster_txt=cluster), NodeSpec("lb2", role="lb", cluster_txt=cluster),
             NodeSpec("m1", role="master", cluster_txt=cluster, files=quiet),
             NodeSpec("m2", role="master", cluster_txt=cluster, files=quiet),
             NodeSpec("c1", role="worker", cluster_txt=cluster, files=quiet)]

    with Cluster("lb", binary=args.binary) as c:
        c.prepare()
        lb1, lb2, m1, m2, c1 = c.up(specs)
        lbs = [lb1, lb2]
        for m in (m1, m2):
            start_fake(c, m)

        # 1. Steady state.
        def ready():
            for n in lbs:
                s = agent_status(c, n)
                if ": ready" not in s:
                    raise NotYet(f"{n}: {s}")
            h = vip_holders(c, lbs)
            if len(h) != 1:
                raise NotYet(f"VIP holders: {[str(x) for x in h]}")
            return h[0]
        t0 = time.monotonic()
        holder = c.wait_for(ready, timeout=60, what="both LBs ready, one VIP holder")
        log(f"LBs ready with {holder} holding the VIP {time.monotonic() - t0:.1f} s after boot")
        c.wait_for(lambda: check(answering(c, c1) == {"m1", "m2"}, answering(c, c1)), timeout=30,
                   what="both masters answer through the VIP (round robin)")
        # An LB is ready as soon as its files run; the other LB and the masters enter them as mDNS reports them.
        def rendered(n):
            other = lb2 if n is lb1 else lb1
            k = c.exec(n, ["cat", "/etc/keepalived/keepalived.conf"]).stdout
            h = c.exec(n, ["cat", "/etc/haproxy/haproxy.cfg"]).stdout
            check(f"unicast_peer {{\n        {other.addr}" in k, f"{n}: keepalived.conf without the other LB")
            for m in (m1, m2):
                check(re.search(rf"server \S+ {re.escape(m.addr)}:6443", h), f"{n}: haproxy.cfg without {m}")
            expect("verify none" in h, f"{n}: no CA yet, checks must not verify")
            return True
        for n in lbs:
            c.wait_for(lambda n=n: rendered(n), timeout=15, what=f"{n}: the other LB and both masters rendered")
        # keepalived reloaded with the other LB as a peer starts over in BACKUP: the VIP may have moved meanwhile.
        def settled_holder():
            h = vip_holders(c, lbs)
            check(len(h) == 1, f"VIP holders: {[str(x) for x in h]}")
            check("holds the VIP" in agent_status(c, h[0]), f"{h[0]}: STATUS= does not say it holds the VIP")
            return h[0]
        holder = c.wait_for(settled_holder, timeout=10, what="one VIP holder, and its STATUS= says so")

        def txt_vip():
            rows = c.exec(c1, ["avahi-browse", "-rtp", "_piagent._tcp"]).stdout.splitlines()
            vip = {m.group(1) for r in rows if r.startswith("=") and '"vip=1"' in r
                   for m in [re.search(r'"id=([0-9a-f]+)"', r)] if m}
            check(vip == {holder_id}, f"node ids with vip=1: {vip}, holder {holder_id}")
            return True
        holder_id = json.loads(c.exec(holder, ["piagent", "status", "--json"]).stdout)["self"]["id"]
        c.wait_for(txt_vip, timeout=10, what="only the holder publishes vip=1 in its TXT record")

        # 2. keepalived stopped on the holder.
        other = lb2 if holder is lb1 else lb1
        c.exec(holder, ["systemctl", "stop", "keepalived"])
        c.wait_for(lambda: check(vip_holders(c, lbs) == [other], vip_holders(c, lbs)), timeout=10,
                   what="the other LB takes the VIP")
        expect(fetch(c, c1) in ("m1", "m2"), "API through the VIP after the failover")
        c.exec(holder, ["systemctl", "start", "keepalived"])
        time.sleep(3)
        expect(vip_holders(c, lbs) == [other], f"after restart: holders {vip_holders(c, lbs)} (nopreempt)")
        holder, other = other, holder

        # 3. SIGKILL: no duplicate VIP.
        c.exec(holder, ["systemctl", "kill", "--signal=SIGKILL", "keepalived"])
        c.wait_for(lambda: check(vip_holders(c, lbs) == [other], vip_holders(c, lbs)), timeout=10,
                   what="VIP moved after SIGKILL, and not left on the killed LB")
        c.wait_for(lambda: check(c.exec(holder, ["systemctl", "is-active", "keepalived"], check=False).stdout.strip()
                                 == "active", "keepalived not restarted"), timeout=15, what="keepalived restarted")
        time.sleep(2)
        expect(vip_holders(c, lbs) == [other], f"after the restart: holders {vip_holders(c, lbs)}")

        # 4. Dead and hung masters leave the rotation and come back.
        set_mode(c, m1, "dead")
        set_mode(c, m2, "hang")
        time.sleep(4)
        got = [fetch(c, c1, timeout=1) for _ in range(4)]
        expect(all(g is None for g in got), f"answers with every master down: {got}")
        set_mode(c, m1, "ok")
        c.wait_for(lambda: check(answering(c, c1, 4) == {"m1"}, answering(c, c1, 4)), timeout=10,
                   what="the recovered master back in rotation, the hung one out")
        set_mode(c, m2, "ok")
        c.wait_for(lambda: check(answering(c, c1) == {"m1", "m2"}, answering(c, c1)), timeout=10,
                   what="the hung master back after recovery")

        # 5. A master appears later; an established connection survives the reload.
        c.exec(c1, ["systemd-run", "--unit=longconn", "--quiet", "python3", "-c", LONG_CONN])
        c.wait_for(lambda: check(c.exec(c1, ["cat", "/run/longconn"], check=False).stdout.startswith("first "),
                                 "no first answer"), timeout=10, what="long-lived connection established")
        m3, = c.up([NodeSpec("m3", role="master", cluster_txt=cluster, files=quiet)])
        start_fake(c, m3)
        c.wait_for(lambda: check(all(m3.addr in c.exec(n, ["cat", "/etc/haproxy/haproxy.cfg"]).stdout for n in lbs),
                                 "m3 not in haproxy.cfg"), timeout=20, what="the new master in every haproxy.cfg")
        c.wait_for(lambda: check("m3" in answering(c, c1), answering(c, c1)), timeout=10,
                   what="the new master answers through the VIP")
        c.exec(c1, ["touch", "/run/longconn.go"])

        def second():
            out = c.exec(c1, ["cat", "/run/longconn"]).stdout
            check("second " in out or "error " in out, out)
            return out
        res = c.wait_for(second, timeout=10, what="the long-lived connection's second request")
        expect("second m" in res, f"connection across the reload: {res!r}")

        # 6. A rejected configuration is never installed.
        good = c.exec(lb1, ["sha256sum", "/etc/haproxy/haproxy.cfg"]).stdout.split()[0]
        c.exec(lb1, ["sh", "-c", "mkdir -p /run/systemd/system/piagent.service.d && printf "
                     "'[Service]\\nEnvironment=PIAGENT_TEST_BREAK=haproxy\\n' > "
                     "/run/systemd/system/piagent.service.d/break.conf && systemctl daemon-reload && "
                     "systemctl restart piagent"])
        c.wait_for(lambda: check("rejected the new haproxy configuration" in agent_status(c, lb1),
                                 agent_status(c, lb1)), timeout=20, what="the agent reports the rejected file")
        now = c.exec(lb1, ["sha256sum", "/etc/haproxy/haproxy.cfg"]).stdout.split()[0]
        expect(now == good, "a rejected haproxy.cfg was installed")
        j = c.exec(lb1, ["journalctl", "-u", "piagent", "-b", "--no-pager", "-o", "cat"]).stdout
        expect("haproxy -c rejected the new haproxy configuration" in j and "unknown keyword" in j,
               "the journal does not say why")
        expect(fetch(c, c1) is not None, "the API stays reachable")
        log("lb scenario passed")


# A client that keeps one TLS connection through the VIP open across HAProxy reloads.
LONG_CONN = r"""
import os, socket, ssl, time
ctx = ssl.create_default_context(); ctx.check_hostname = False; ctx.verify_mode = ssl.CERT_NONE
s = ctx.wrap_socket(socket.create_connection(("10.77.0.240", 9000), timeout=10))
def get():
    s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
    data = b""
    while b"\r\n\r\n" not in data:
        data += s.recv(4096)
    head, body = data.split(b"\r\n\r\n", 1)
    n = int([l.split(b":")[1] for l in head.split(b"\r\n") if l.lower().startswith(b"content-length")][0])
    while len(body) < n:
        body += s.recv(4096)
    return body.decode().strip()
open("/run/longconn", "w").write("first " + get() + "\n")
while not os.path.exists("/run/longconn.go"):
    time.sleep(0.1)
try:
    open("/run/longconn", "a").write("second " + get() + "\n")
except Exception as e:
    open("/run/longconn", "a").write("error " + repr(e) + "\n")
"""


if __name__ == "__main__":
    run_scenario(main)
