#!/usr/bin/env python3
"""Two nodes given the same host name in role.txt (hostname=twin): both publish
the service name "twin"; one of them is renamed on the LAN ("twin #2", with a
warning in its journal), and both still list each other by node id. A third
node with a name of its own lists both."""

import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import Cluster, NodeSpec, NotYet, run_scenario  # noqa: E402
from discovery_util import discovery_only, cluster_txt, expect, journal, messages, new_secret, node_id, peers_by_id, status  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--binary", required=True)
    args = ap.parse_args()

    secret = new_secret()
    specs = [NodeSpec("twin1", "worker", role_txt="role=worker\nhostname=twin\n", cluster_txt=cluster_txt(secret), files=discovery_only()),
             NodeSpec("twin2", "worker", role_txt="role=worker\nhostname=twin\n", cluster_txt=cluster_txt(secret), files=discovery_only()),
             NodeSpec("master1", "master", cluster_txt=cluster_txt(secret), files=discovery_only())]
    with Cluster("name-collision", binary=args.binary) as c:
        nodes = c.up(specs)

        def all_listed():
            for n in nodes:
                got = peers_by_id(status(c, n))
                missing = [m.name for m in nodes if m is not n and node_id(m) not in got]
                if missing:
                    raise NotYet(f"{n} does not list {missing}")
            return True

        c.wait_for(all_listed, timeout=30, what="every node lists the other two")
        published = {n.name: status(c, n)["self"]["service"] for n in nodes[:2]}
        expect(sorted(published.values()) == ["twin", "twin #2"], f"services published as {published}")
        renamed = next(n for n in nodes[:2] if published[n.name] == "twin #2")
        text = messages(journal(c, renamed))
        expect(any("mDNS service name 'twin' is taken on the LAN; publishing as 'twin #2'" in m for m in text),
               f"{renamed}: no collision warning")
        services = sorted(p["service"] for p in status(c, nodes[2])["peers"])
        expect(services == ["twin", "twin #2"], f"master1 sees {services}")
        print(f"name collision: {renamed.name} published as 'twin #2'; every node lists both twins", flush=True)


if __name__ == "__main__":
    run_scenario(main)
