#!/usr/bin/env python3
"""The Debian package in a real systemd node: install enables piagent.service and ships the binary, the man
page, the flannel manifest and the image archives' import (piagent-images.service, wanted by piagent.service); remove keeps the node's state; purge removes it and leaves nothing behind."""

import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import Cluster, NodeSpec, log, run_scenario  # noqa: E402

SCRIPT = r"""
set -eu
dpkg -i /root/piagent.deb
test "$(systemctl is-enabled piagent.service)" = enabled
test -x /usr/bin/piagent
dpkg -L piagent | grep -q /usr/share/man/man8/piagent.8.gz  # the node rootfs may exclude man pages from disk
/usr/bin/piagent version
# the offline path: the import script and its unit, wanted by piagent.service and ordered before it
test -x /usr/libexec/piagent/import-images
systemctl show -p Wants --value piagent.service | grep -qw piagent-images.service
systemctl show -p After --value piagent.service | grep -qw piagent-images.service
mkdir -p /var/lib/piagent-images && /usr/libexec/piagent/import-images /var/lib/piagent-images | grep -q 'no image archives'
grep -q '"Network": "@POD_SUBNET@"' /usr/share/piagent/cni/flannel.yaml  # the pod network the initializer applies
mkdir -p /var/lib/piagent && echo '{}' > /var/lib/piagent/state.json
dpkg -r piagent
test ! -e /usr/bin/piagent
test ! -e /usr/share/piagent
test ! -e /usr/libexec/piagent/import-images
test -e /var/lib/piagent/state.json
echo removed-state-kept
dpkg -P piagent
test ! -e /var/lib/piagent
test ! -e /etc/systemd/system/multi-user.target.wants/piagent.service
! dpkg -s piagent 2>/dev/null
echo purged-clean
"""


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--deb", required=True)
    args = ap.parse_args()
    with open(args.deb, "rb") as f:
        deb = f.read()
    with Cluster("package") as c:
        c.prepare()
        n, = c.up([NodeSpec("n1", "worker", files={"/root/piagent.deb": deb, "/root/t.sh": SCRIPT})])
        out = c.exec(n, ["bash", "/root/t.sh"]).stdout
        if "removed-state-kept" not in out or "purged-clean" not in out:
            raise AssertionError(out)
        log("package scenario passed: install enables the unit, remove keeps state, purge removes it")


if __name__ == "__main__":
    run_scenario(main)
