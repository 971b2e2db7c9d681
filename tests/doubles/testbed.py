"""Putting the kubeadm/kubectl doubles into cluster-tier nodes, and reading
what they did. For scenarios built on tests/cluster/harness.py:

    sys.path.insert(0, "<repo>/tests/doubles")
    import testbed
    spec = NodeSpec("m1", "master", files=testbed.node_files())
    ...
    runs = testbed.invocations(c, m1)             # the log, parsed
    [r for r in runs if r["command"] == "init"]   # count inits
    testbed.set_clock_offset(c, masters, 7200)    # tokens age 2 h
    testbed.etcd_members(c, m1)                   # real etcd's member list

Files installed: /usr/bin/kubeadm, /usr/bin/kubectl, the kdouble package in
/usr/lib/kubeadm-double, and /etc/kubeadm-double/* settings when asked for.
"""

import json
import os
import shlex
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from kdouble import config as _config, node as _node  # noqa: E402

DEFAULT_VERSION = _node.DEFAULT_VERSION  # what the double is without /etc/kubeadm-double/version
LIBDIR = "/usr/lib/kubeadm-double"
LOG = "/var/log/kubeadm-double.log"
ETC = "/etc/kubeadm-double"


def node_files(version=None, fail=None, delay_ms=None, clock_offset_s=None, settings=None):
    """{path in node: bytes} for NodeSpec.files. fail / delay_ms: the
    contents of /etc/kubeadm-double/fail and delay-ms (e.g. "init=1");
    settings: any other /etc/kubeadm-double/<name> (e.g. {"key-algorithm":
    "ECDSA-P256"} for benchmarks: RSA key generation dominates otherwise)."""
    files = {}
    for tool in ("kubeadm", "kubectl"):
        with open(os.path.join(HERE, tool), "rb") as f:
            files[f"/usr/bin/{tool}"] = f.read()
    pkg = os.path.join(HERE, "kdouble")
    for name in sorted(os.listdir(pkg)):
        if name.endswith(".py"):
            with open(os.path.join(pkg, name), "rb") as f:
                files[f"{LIBDIR}/kdouble/{name}"] = f.read()
    extra = dict(settings or {})
    if version:
        extra["version"] = version
    if fail:
        extra["fail"] = fail
    if delay_ms is not None:
        extra["delay-ms"] = str(delay_ms)
    if clock_offset_s is not None:
        extra["clock-offset-s"] = str(clock_offset_s)
    for k, v in extra.items():
        files[f"{ETC}/{k}"] = (v if v.endswith("\n") else v + "\n").encode()
    return files


def preferred_api(kubeadm_version):
    """The configuration API a kubeadm release prefers (kdouble/config.py: v1beta4 from 1.31, else v1beta3)."""
    return _config.preferred_version(kubeadm_version)


def set_setting(c, nodes, name, value):
    """Write (or with value None remove) /etc/kubeadm-double/<name> on nodes."""
    for n in nodes:
        if value is None:
            c.exec(n, ["rm", "-f", f"{ETC}/{name}"])
        else:
            c.sh(n, f"mkdir -p {ETC} && printf '%s\\n' {shlex.quote(str(value))} > {ETC}/{name}")


def set_clock_offset(c, nodes, seconds):
    """Shift the double's clock on nodes (all masters, for a consistent
    cluster): token/upload-certs expiry and node heartbeats follow it."""
    set_setting(c, nodes, "clock-offset-s", None if seconds is None else seconds)


def invocations(c, node, tool="kubeadm"):
    """The node's invocation log as a list of dicts (oldest first)."""
    p = c.exec(node, ["cat", LOG], check=False)
    out = []
    for line in p.stdout.splitlines():
        try:
            r = json.loads(line)
        except ValueError:
            continue
        if tool is None or r.get("tool") == tool:
            out.append(r)
    return out


def etcdctl(c, node, *args, check=True):
    """etcdctl (v3 API) against the node's local etcd, with the client
    certificate kubeadm's layout provides."""
    pki = "/etc/kubernetes/pki"
    argv = ["env", "ETCDCTL_API=3", "etcdctl", "--endpoints=https://127.0.0.1:2379", f"--cacert={pki}/etcd/ca.crt",
            f"--cert={pki}/etcd/healthcheck-client.crt", f"--key={pki}/etcd/healthcheck-client.key",
            "--command-timeout=5s", *args]
    return c.exec(node, argv, check=check)


def etcd_members(c, node):
    """[{name, ID, peerURLs, clientURLs, isLearner}] from the real etcd."""
    p = etcdctl(c, node, "member", "list", "-w", "json")
    members = json.loads(p.stdout).get("members") or []
    for m in members:
        m.setdefault("isLearner", False)
        m.setdefault("name", "")
    return members


def etcd_cluster_id(c, node):
    p = etcdctl(c, node, "endpoint", "status", "-w", "json")
    return json.loads(p.stdout)[0]["Status"]["header"]["cluster_id"]


def ca_cert_hash(c, node):
    """sha256 of the CA's DER SubjectPublicKeyInfo, computed with openssl in
    the node (independently of the double's own code)."""
    p = c.sh(node, "openssl x509 -pubkey -noout -in /etc/kubernetes/pki/ca.crt | openssl pkey -pubin -outform der "
                   "| sha256sum")
    return "sha256:" + p.stdout.split()[0]


def nodes(c, node, kubeconfig="/etc/kubernetes/admin.conf"):
    """{name: (ready bool, roles list)} through the kubectl double."""
    p = c.exec(node, ["kubectl", "--kubeconfig", kubeconfig, "get", "nodes", "-o", "json"])
    out = {}
    for n in json.loads(p.stdout)["items"]:
        ready = any(x.get("type") == "Ready" and x.get("status") == "True" for x in n["status"]["conditions"])
        roles = sorted(k.split("/", 1)[1] for k in n["metadata"].get("labels", {})
                       if k.startswith("node-role.kubernetes.io/"))
        out[n["metadata"]["name"]] = (ready, roles)
    return out
