"""The images kubeadm needs (`kubeadm config images list`; the ImagePull preflight check of `kubeadm init` and
of a control-plane `kubeadm join`) and the node's image store, as the container runtime's ImageExists and
PullImage see it. There is no container runtime in the test bed: the store is a file of image references
(IMAGES), and a pull succeeds or fails by /etc/kubeadm-double/registry."""

import os

from . import node
from .gotypes import parse_version

REPOSITORY = "registry.k8s.io"
IMAGES = os.environ.get("KUBEADM_DOUBLE_IMAGES", "/var/lib/kubeadm-double-images")

# The pause image and CoreDNS come with the kubeadm binary (constants.PauseVersion, constants.CoreDNSVersion);
# etcd follows the Kubernetes version deployed (constants.SupportedEtcdVersion). Values as of the x.y.0
# releases (docs/kubeadm-double.md names the sources); patch releases have moved etcd and CoreDNS since. The
# agent asks kubeadm for the list instead of keeping a table of its own.
PAUSE = {22: "3.5", 23: "3.6", 24: "3.7", 25: "3.8", 26: "3.9", 27: "3.9", 28: "3.9", 29: "3.9", 30: "3.9",
         31: "3.10", 32: "3.10", 33: "3.10", 34: "3.10.1", 35: "3.10.1", 36: "3.10.2"}
COREDNS = {22: "v1.8.4", 23: "v1.8.6", 24: "v1.8.6", 25: "v1.9.3", 26: "v1.9.3", 27: "v1.10.1", 28: "v1.10.1",
           29: "v1.11.1", 30: "v1.11.1", 31: "v1.11.3", 32: "v1.11.3", 33: "v1.12.0", 34: "v1.12.1", 35: "v1.12.1",
           36: "v1.12.1"}
ETCD = {22: "3.5.0-0", 23: "3.5.1-0", 24: "3.5.3-0", 25: "3.5.4-0", 26: "3.5.6-0", 27: "3.5.7-0", 28: "3.5.9-0",
        29: "3.5.10-0", 30: "3.5.12-0", 31: "3.5.15-0", 32: "3.5.16-0", 33: "3.5.21-0", 34: "3.6.4-0", 35: "3.6.4-0",
        36: "3.6.4-0"}


def _nearest(table, minor):
    return table[min(max(minor, min(table)), max(table))]


def control_plane_images(cluster, kubeadm_version):
    """images.GetControlPlaneImages: the order `kubeadm config images list` prints."""
    repo = cluster.get("imageRepository") or REPOSITORY
    kv = cluster["kubernetesVersion"]
    _, kminor, _ = parse_version(kv)
    _, aminor, _ = parse_version(kubeadm_version)
    out = [f"{repo}/{c}:{kv}" for c in ("kube-apiserver", "kube-controller-manager", "kube-scheduler")]
    if not (cluster.get("proxy") or {}).get("disabled"):
        out.append(f"{repo}/kube-proxy:{kv}")
    if not (cluster.get("dns") or {}).get("disabled"):
        coredns = (cluster.get("dns") or {}).get("imageTag") or _nearest(COREDNS, aminor)
        out.append(f"{(cluster.get('dns') or {}).get('imageRepository') or repo}/coredns/coredns:{coredns}")
    out.append(f"{repo}/pause:{_nearest(PAUSE, aminor)}")
    local = (cluster.get("etcd") or {}).get("local")
    if local is not None:
        tag = local.get("imageTag") or _nearest(ETCD, kminor)
        out.append(f"{local.get('imageRepository') or repo}/etcd:{tag}")
    return out


def present():
    try:
        with open(IMAGES) as f:
            return {line.strip() for line in f if line.strip() and not line.startswith("#")}
    except FileNotFoundError:
        return set()


def _record(image):
    os.makedirs(os.path.dirname(IMAGES) or "/", exist_ok=True)
    with open(IMAGES, "a") as f:
        f.write(image + "\n")


def registry_reachable():
    """/etc/kubeadm-double/registry: `unreachable` makes every pull fail as on a LAN without internet."""
    v = (node.read_setting("registry") or "reachable").lower()
    if v not in ("reachable", "unreachable"):
        from .gotypes import KubeadmError

        raise KubeadmError(f"{node.ETC}/registry: {v!r} is neither 'reachable' nor 'unreachable'")
    return v == "reachable"


def pull(image):
    """None, or the error crictl's pull would give."""
    if not registry_reachable():
        host = image.split("/", 1)[0]
        return (f"failed to pull image {image}: rpc error: code = Unknown desc = failed to pull and unpack image "
                f'"{image}": failed to resolve reference "{image}": failed to do request: Head "https://{host}/v2/'
                f'{image.split("/", 1)[1].rsplit(":", 1)[0]}/manifests/{image.rsplit(":", 1)[1]}": dial tcp: lookup '
                f"{host}: no such host")
    _record(image)
    return None


def pull_check(images, policy):
    """ImagePullCheck.Check (cmd/kubeadm/app/preflight/checks.go): errors, one per image that could not be had."""
    if policy == "Never":
        return []
    have = present()
    errors = []
    for image in images:
        if policy != "Always" and image in have:
            continue
        err = pull(image)
        if err:
            errors.append(err)
    return errors
