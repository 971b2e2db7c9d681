#!/usr/bin/env python3
"""The pod network (cni= in cluster.txt) with the real agent and the kubeadm/kubectl doubles: 1 lb + 1 master.

flannel: the package's manifest (installed where the .deb puts it) is rendered with cluster.txt's pod_subnet into
/run/piagent/kubeadm/cni-flannel.yaml (0600) and applied exactly once by the initializing master, through the
VIP: the double's registry holds the DaemonSet kube-flannel-ds and the ConfigMap whose net-conf.json Network is
the pod_subnet given; the master is ready; after an agent restart nothing is applied again.

calico (not shipped): the master initializes once, is `ready` with the problem in its status, says at err level,
once, which files to provide, keeps retrying, and a worker still joins; no kubeadm init or reset runs again. Then
a manifest is copied onto the boot partition (a stand-in with the @POD_SUBNET@ placeholder; a different one in
/etc/piagent/cni/ loses to it): it is applied once, with the pod subnet, and the problem clears.
"""

import argparse
import json
import os
import secrets
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "doubles"))
from harness import Cluster, NodeSpec, NotYet, log, run_scenario  # noqa: E402
import testbed  # noqa: E402

VIP = "10.77.0.240"
ADMIN = ["kubectl", "--kubeconfig", "/etc/kubernetes/admin.conf"]
# What a bare container cannot offer; the kubeadm double does not need it (as in scenario_bootstrap.py).
PREFLIGHT = ("[Service]\nEnvironment=PIAGENT_PREFLIGHT_IGNORE=memory-cgroup,swap,br_netfilter,ip_forward,"
             "bridge-nf-call-iptables,container-runtime,kubelet\n")
SHIPPED = "/usr/share/piagent/cni/flannel.yaml"
PROBLEM = "Applying the pod network failed"

# Stand-ins for a user's Calico manifest: small, but where Calico's own would carry the pool CIDR.
CALICO_BOOT = """\
apiVersion: v1
kind: ConfigMap
metadata:
  name: calico-config
  namespace: kube-system
data:
  ipv4_pool_cidr: "@POD_SUBNET@"
---
apiVersion: apps/v1
kind: DaemonSet
metadata:
  name: calico-node
  namespace: kube-system
spec:
  selector:
    matchLabels:
      k8s-app: calico-node
  template:
    metadata:
      labels:
        k8s-app: calico-node
    spec:
      hostNetwork: true
      containers:
        - name: calico-node
          image: docker.io/calico/node:v3.27.0
"""
CALICO_ETC = """\
apiVersion: v1
kind: ConfigMap
metadata:
  name: calico-from-etc
  namespace: kube-system
data:
  ipv4_pool_cidr: "@POD_SUBNET@"
"""


def expect(cond, msg):
    if not cond:
        raise AssertionError(msg)


def status_text(c, n):
    return c.exec(n, ["systemctl", "show", "-p", "StatusText", "--value", "piagent.service"]).stdout.strip()


def journal(c, n, priority=None):
    argv = ["journalctl", "-u", "piagent.service", "-b", "--no-pager", "-o", "cat"]
    if priority:
        argv += ["-p", priority]
    return c.exec(n, argv, check=False).stdout


def cluster_txt(secret, cni, pod_subnet):
    return (f"cluster=cni\nsecret={secret}\nvip={VIP}/24\napi_port=9000\nmasters=1\npod_subnet={pod_subnet}\n"
            f"cni={cni}\n")


def node_files(extra=None):
    files = testbed.node_files(settings={"key-algorithm": "ECDSA-P256"})
    files["/etc/systemd/system/piagent.service.d/preflight.conf"] = PREFLIGHT
    files.update(extra or {})
    return files


def applied(c, n):
    """{(kind, namespace, name): the object} from the double's registry of `kubectl apply`."""
    items = json.loads(c.exec(n, ADMIN + ["get", "--raw", "/double/v1/applied"]).stdout)["items"]
    return {(i["kind"], i["metadata"].get("namespace"), i["metadata"]["name"]): i for i in items}


def applies(c, n):
    """The agent's `kubectl apply` runs on n, from the double's log."""
    return [r for r in testbed.invocations(c, n, tool="kubectl") if r.get("command") == "kubectl-apply"]


def ready(c, n, contains=None, lacks=None):
    """The node's StatusText once it is ready (and contains / lacks the given text)."""
    text = status_text(c, n)
    if ": ready" not in text or (contains and contains not in text) or (lacks and lacks in text):
        raise NotYet(f"{n}: {text}")
    return text


def flannel(args, binary):
    subnet = "10.123.0.0/16"
    with open(os.path.join(ROOT, "cni", "flannel.yaml"), "rb") as f:
        manifest = f.read()
    cluster = cluster_txt(secrets.token_hex(32), "flannel", subnet)
    with Cluster("cni-flannel", binary=binary) as c:
        c.prepare()
        lb1, m1 = c.up([NodeSpec("lb1", "lb", cluster_txt=cluster),
                        NodeSpec("m1", "master", cluster_txt=cluster, files=node_files({SHIPPED: manifest}))])
        c.wait_for(lambda: ready(c, m1, lacks=PROBLEM), timeout=args.timeout, what="m1 ready with flannel applied")

        runs = applies(c, m1)
        expect(len(runs) == 1 and runs[0]["exit"] == 0, f"kubectl apply runs on m1: {runs}")
        rendered = "/run/piagent/kubeadm/cni-flannel.yaml"
        expect(runs[0]["argv"][-2:] == ["-f", rendered], f"applied: {runs[0]['argv']}")
        mode = c.exec(m1, ["stat", "-c", "%a", rendered]).stdout.strip()
        expect(mode == "600", f"{rendered} has mode {mode}")

        objs = applied(c, m1)
        kinds = sorted(k[0] for k in objs)
        expect(kinds == ["ClusterRole", "ClusterRoleBinding", "ConfigMap", "DaemonSet", "Namespace",
                         "ServiceAccount"], f"applied objects: {sorted(objs)}")
        ds = objs.get(("DaemonSet", "kube-flannel", "kube-flannel-ds"))
        expect(ds and ds["file"] == rendered, f"kube-flannel-ds not applied from {rendered}: {ds}")
        cm = objs[("ConfigMap", "kube-flannel", "kube-flannel-cfg")]["object"]
        net = json.loads(cm["data"]["net-conf.json"])
        expect(net["Network"] == subnet, f"net-conf.json Network {net['Network']}, pod_subnet {subnet}")
        story = journal(c, m1)
        expect(f"Pod network cni=flannel: {SHIPPED} with pod_subnet={subnet}" in story, "no render line in the "
               "journal")
        log(f"flannel: applied once from {SHIPPED}, Network {net['Network']}; {len(objs)} objects")

        c.exec(m1, ["systemctl", "restart", "piagent.service"])
        c.wait_for(lambda: ready(c, m1, lacks=PROBLEM), timeout=60, what="m1 ready again after an agent restart")
        expect(len(applies(c, m1)) == 1, f"applied again after a restart: {applies(c, m1)}")
        inits = [r for r in testbed.invocations(c, m1) if r.get("command") == "init"]
        expect(len(inits) == 1, f"kubeadm init runs: {len(inits)}")


def calico(args, binary):
    subnet = "10.124.0.0/16"
    cluster = cluster_txt(secrets.token_hex(32), "calico", subnet)
    with Cluster("cni-calico", binary=binary) as c:
        c.prepare()
        lb1, m1, w1 = c.up([NodeSpec("lb1", "lb", cluster_txt=cluster),
                            NodeSpec("m1", "master", cluster_txt=cluster, files=node_files()),
                            NodeSpec("w1", "worker", cluster_txt=cluster, files=node_files())])
        missing = PROBLEM + " (no manifest for cni=calico"
        text = c.wait_for(lambda: ready(c, m1, contains=missing), timeout=args.timeout,
                          what="m1 ready, saying the calico manifest is missing")
        log(f"m1: {text}")
        c.wait_for(lambda: ready(c, w1), timeout=args.timeout, what="w1 joined meanwhile")

        # Retried (every 10 s), told at err level once, with the files and the fix.
        c.wait_for(lambda: journal(c, m1).count(missing) >= 2 or None, timeout=40, what="a retry")
        errs = [line for line in journal(c, m1, "err").splitlines() if "no manifest for cni=calico" in line]
        expect(len(errs) == 1, f"err lines: {errs}")
        for want in ("/boot/firmware/calico.yaml", "/etc/piagent/cni/calico.yaml", "flannel only"):
            expect(want in errs[0], f"'{want}' not in: {errs[0]}")
        runs = testbed.invocations(c, m1)
        expect([r["command"] for r in runs if r.get("command") in ("init", "reset")] == ["init"],
               f"kubeadm on m1: {[(r.get('command'), r.get('exit')) for r in runs]}")
        expect(applies(c, m1) == [], "kubectl apply ran without a manifest")

        # The user copies a manifest onto the card (boot partition); one in /etc loses to it.
        c.exec(m1, ["sh", "-c", "cat > /boot/firmware/calico.yaml"], input=CALICO_BOOT)
        c.exec(m1, ["sh", "-c", "mkdir -p /etc/piagent/cni && cat > /etc/piagent/cni/calico.yaml"], input=CALICO_ETC)
        c.wait_for(lambda: ready(c, m1, lacks=PROBLEM), timeout=40, what="m1 applied the calico manifest")
        runs = applies(c, m1)
        expect(len(runs) == 1 and runs[0]["exit"] == 0, f"kubectl apply runs on m1: {runs}")
        objs = applied(c, m1)
        expect(sorted(objs) == [("ConfigMap", "kube-system", "calico-config"),
                                ("DaemonSet", "kube-system", "calico-node")], f"applied: {sorted(objs)}")
        cidr = objs[("ConfigMap", "kube-system", "calico-config")]["object"]["data"]["ipv4_pool_cidr"]
        expect(cidr == subnet, f"pool CIDR {cidr}, pod_subnet {subnet}")
        expect("ready: the pod network is applied" in journal(c, m1), "no 'pod network is applied' in the journal")
        log(f"calico: missing manifest reported once, then the card's manifest applied once with {cidr}")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--binary", required=True)
    ap.add_argument("--timeout", type=int, default=240)
    ap.add_argument("--only", choices=("flannel", "calico"), help="run one half")
    args = ap.parse_args()
    if args.only != "calico":
        flannel(args, args.binary)
    if args.only != "flannel":
        calico(args, args.binary)


if __name__ == "__main__":
    run_scenario(main)
