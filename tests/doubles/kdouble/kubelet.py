"""The double's kubelet: posts this node's status (a heartbeat) every 10 s
with the client certificate in /etc/kubernetes/kubelet.conf, through the
server named there (the control-plane endpoint). A node whose heartbeats stop
turns NotReady after the grace period (40 s), as in Kubernetes; that is what
lets a reset node join again under the same name."""

import argparse
import sys
import time

from . import api, pki
from . import node as nodemod
from .gotypes import KubeadmError


def heartbeat(kc, name, address, version):
    c = api.from_kubeconfig(kc, timeout=5.0)
    return c.put(f"/api/v1/nodes/{name}/status", {"address": address, "kubeletVersion": version})


def main(argv=None):
    ap = argparse.ArgumentParser(prog="kubelet-double")
    ap.add_argument("--kubeconfig", default="/etc/kubernetes/kubelet.conf")
    ap.add_argument("--node-name", required=True)
    ap.add_argument("--node-ip", default="")
    ap.add_argument("--interval", type=float, default=10.0)
    args = ap.parse_args(argv)
    nodemod.sd_notify("READY=1")
    last_err, last_report = None, 0.0
    while True:
        try:
            kc = pki.Kubeconfig.load(args.kubeconfig)
            heartbeat(kc, args.node_name, args.node_ip, nodemod.version())
            if last_err:
                print("node status posted again", file=sys.stderr, flush=True)
            last_err = None
        except (OSError, api.ApiError, KubeadmError, ValueError) as e:
            msg = f"{type(e).__name__}: {e}"
            if msg != last_err or time.monotonic() - last_report > 60:
                print(f"failed to post node status: {msg}", file=sys.stderr, flush=True)
                last_report = time.monotonic()
            last_err = msg
        time.sleep(args.interval)


if __name__ == "__main__":
    sys.exit(main())
