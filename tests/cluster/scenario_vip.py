#!/usr/bin/env python3
"""A virtual IP that does not fit the LAN (issue 13, point 7), cheaply in one run of 1 lb + 1 master:

1. Every card carries the image's default vip=192.168.3.240/24 while the LAN is 10.77.0.0/24: the load balancer
   and the master each say so at once, in the journal (err, once) and in the status line, with the fix; the LB
   configures nothing and holds no address.
2. cluster.txt is fixed to 10.77.0.240 while another host of the LAN (the test bed's bridge) already holds that
   address: the LB's ARP probe hears it, and the LB refuses to claim the VIP with an error naming that host's MAC.
3. The other host lets the address go: the LB claims the VIP by itself (it keeps probing), and says so.
"""

import argparse
import os
import secrets
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from harness import Cluster, NodeSpec, NotYet, log, run_scenario  # noqa: E402
from scenario_bootstrap import PREFLIGHT, expect, journal, status_text  # noqa: E402

BAD, GOOD = "192.168.3.240", "10.77.0.240"


def cluster_txt(secret, vip):
    return f"cluster=vip\nsecret={secret}\nvip={vip}/24\napi_port=9000\nmasters=1\ncni=none\n"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--binary", required=True)
    args = ap.parse_args()

    secret = secrets.token_hex(32)
    files = {"/etc/systemd/system/piagent.service.d/preflight.conf": PREFLIGHT}
    specs = [NodeSpec("lb1", "lb", cluster_txt=cluster_txt(secret, BAD)),
             NodeSpec("m1", "master", cluster_txt=cluster_txt(secret, BAD), files=files)]
    with Cluster("vip", binary=args.binary) as c:
        lb1, m1 = c.up(specs)
        fix = "Set vip= in cluster.txt on every card to a free address of 10.77.0.0/24"

        def reported():
            for n in (lb1, m1):
                text = status_text(c, n)
                if f"vip={BAD} in cluster.txt is not on this LAN" not in text or fix not in text:
                    raise NotYet(f"{n}: {text}")
            return True
        c.wait_for(reported, timeout=30, what="both nodes report the VIP of another LAN in their status")
        for n in (lb1, m1):
            errors = c.exec(n, ["journalctl", "-u", "piagent", "-b", "-p", "err", "--no-pager", "-o", "cat"]).stdout
            expect(errors.count("is not on this LAN") == 1, f"{n}: said {errors.count('is not on this LAN')} times "
                                                            f"at err level: {errors!r}")
        expect(c.exec(lb1, ["test", "-e", "/etc/keepalived/keepalived.conf"], check=False).returncode != 0,
               "the LB wrote a keepalived configuration for a VIP of another LAN")
        for ip in (BAD, GOOD):
            expect(ip not in c.exec(lb1, ["ip", "-4", "-o", "addr"]).stdout, f"the LB holds {ip}")
        log("nothing claimed; the problem said once at err level, in the status all the time")

        # Another host takes the (fixed) VIP first: the bridge, the test bed's own address on the LAN.
        c.host(["ip", "addr", "add", f"{GOOD}/24", "dev", "br0"])
        mac = c.host(["cat", "/sys/class/net/br0/address"]).stdout.strip()
        for n in (lb1, m1):
            with open(os.path.join(n.boot, "cluster.txt"), "w") as f:
                f.write(cluster_txt(secret, GOOD))

        def refused():
            text = status_text(c, lb1)
            if f"Another host (MAC {mac}) answers for the virtual IP {GOOD}" not in text:
                raise NotYet(f"lb1: {text}")
            return True
        c.wait_for(refused, timeout=30, what="the LB refuses the VIP another host holds, naming its MAC")
        expect(GOOD not in c.exec(lb1, ["ip", "-4", "-o", "addr"]).stdout, "the LB claimed a VIP another host holds")
        log(f"the LB refuses {GOOD}: {mac} answers for it")

        c.host(["ip", "addr", "del", f"{GOOD}/24", "dev", "br0"])
        c.wait_for(lambda: GOOD in c.exec(lb1, ["ip", "-4", "-o", "addr"]).stdout, timeout=30,
                   what="the LB holds the VIP once the other host let it go")
        expect("No other host answers for the virtual IP any more" in journal(c, lb1),
               "lb1: the journal does not say it claims the VIP now")
        def goes_on(n):
            text = status_text(c, n)
            if "not on this LAN" in text:
                raise NotYet(f"{n}: {text}")
            return True
        for n in (lb1, m1):
            c.wait_for(lambda n=n: goes_on(n), timeout=30, what=f"{n} goes on")
            expect("The virtual IP fits this LAN now" in journal(c, n), f"{n}: the journal does not say it fits now")
        log("vip scenario passed")


if __name__ == "__main__":
    run_scenario(main)
