#!/bin/bash
# Host side: adds the Kubernetes project's package repository (pkgs.k8s.io, one repository per minor
# version) to the image, with its signing key fetched now (pi-gen builds with internet access).
# kubeadm, kubelet and kubectl are not in Debian or Raspberry Pi OS. 01-run-chroot.sh installs them.
#
#   PIAGENT_K8S_MINOR    v1.<minor> (default v1.36, supported upstream until 2027-06-28: kubernetes.io/
#                        releases lists the supported ones): the Kubernetes minor version
#   PIAGENT_K8S_REPO     repository URL (default https://pkgs.k8s.io/core:/stable:/<minor>/deb/)
#   PIAGENT_K8S_KEY_URL  its signing key (default <repository>Release.key)
#   PIAGENT_K8S_SKIP=1   no repository and no Kubernetes packages (offline builds, tests)
set -euo pipefail
die() { echo "stage-piagent: error: $*" >&2; exit 1; }
[ -d "${ROOTFS_DIR:-}" ] || die "ROOTFS_DIR is not set or not a directory (this runs inside pi-gen)"

if [ "${PIAGENT_K8S_SKIP:-0}" = 1 ]; then
	log "stage-piagent: PIAGENT_K8S_SKIP=1: no Kubernetes repository and no kubeadm, kubelet, kubectl" \
		"in this image (load balancers work; masters and workers will report that kubeadm is missing)"
	exit 0
fi

# the same default as the piagent image's image/k8s-debs.sh (tests/pi-gen/structure-test.py checks it)
minor=${PIAGENT_K8S_MINOR:-v1.36}
[[ $minor =~ ^v1\.([0-9]+)$ ]] || die "PIAGENT_K8S_MINOR=$minor: write v1.<minor>, e.g. v1.36"
[ "${BASH_REMATCH[1]}" -ge 28 ] || die "PIAGENT_K8S_MINOR=$minor: piagent needs Kubernetes v1.28 or newer"
repo=${PIAGENT_K8S_REPO:-https://pkgs.k8s.io/core:/stable:/$minor/deb/}
case "$repo" in */) ;; *) repo=$repo/ ;; esac
key_url=${PIAGENT_K8S_KEY_URL:-${repo}Release.key}

keyring=/etc/apt/keyrings/kubernetes-apt-keyring.asc
tmp=$(mktemp)
trap 'rm -f "$tmp"' EXIT
log "stage-piagent: Kubernetes $minor: fetching the repository's signing key $key_url"
curl -fsSL --retry 3 -o "$tmp" "$key_url" ||
	die "cannot fetch $key_url (the build needs internet here; PIAGENT_K8S_SKIP=1 builds without Kubernetes)"
grep -q -- '-----BEGIN PGP PUBLIC KEY BLOCK-----' "$tmp" || die "$key_url is not an ASCII-armored OpenPGP key"
# apt reads ASCII-armored keys from files named *.asc (apt >= 1.4): no gpg --dearmor needed
install -D -m 0644 "$tmp" "$ROOTFS_DIR$keyring"
printf 'deb [signed-by=%s] %s /\n' "$keyring" "$repo" >"$ROOTFS_DIR/etc/apt/sources.list.d/kubernetes.list"
chmod 0644 "$ROOTFS_DIR/etc/apt/sources.list.d/kubernetes.list"
log "stage-piagent: /etc/apt/sources.list.d/kubernetes.list: $repo"
