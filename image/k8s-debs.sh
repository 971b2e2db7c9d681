#!/bin/bash
# Downloads the Kubernetes packages for the image (arm64) from the Kubernetes project's package
# repository, pkgs.k8s.io, into a directory for image/build.sh --k8s-debs DIR. See docs/image.md.
#
#   image/k8s-debs.sh [--minor v1.X] [--repo URL] [--key-url URL] DIR
#
#   --minor    the Kubernetes minor version (default below: one the Kubernetes project supports; see
#              kubernetes.io/releases for the supported ones and their end-of-life dates). pkgs.k8s.io
#              has one repository per minor version; the newest patch release of it is downloaded.
#   --repo     the repository (default https://pkgs.k8s.io/core:/stable:/<minor>/deb/; a mirror)
#   --key-url  its signing key (default <repository>Release.key; a file:// URL works)
#
# What it downloads: kubeadm, kubelet, kubectl, kubernetes-cni (kubelet depends on it) and cri-tools
# (crictl, to look at containers on a node), all for arm64, whatever this machine's architecture is.
# It uses apt with a configuration of its own in a temporary directory: nothing on this machine changes
# (no apt source, no key, no dpkg architecture, no package index).
set -euo pipefail
# The default minor version. pi-gen-stage/stage-piagent/01-kubernetes/00-run.sh has the same default
# (tests/pi-gen/structure-test.py checks that they agree).
default_minor=v1.36
die() { printf 'k8s-debs: error: %s\n' "$*" >&2; exit 1; }

minor=$default_minor repo="" key_url="" dir=""
while [ $# -gt 0 ]; do
	case "$1" in
	--minor) minor=$2; shift 2 ;;
	--repo) repo=$2; shift 2 ;;
	--key-url) key_url=$2; shift 2 ;;
	-h | --help) sed -n '2,17s/^# \{0,1\}//p' "$0"; exit 0 ;;
	-*) die "unknown option $1 (--help)" ;;
	*) [ -z "$dir" ] || die "one directory only"; dir=$1; shift ;;
	esac
done
[ -n "$dir" ] || die "usage: image/k8s-debs.sh [--minor v1.X] [--repo URL] [--key-url URL] DIR"
[[ $minor =~ ^v1\.([0-9]+)$ ]] || die "--minor $minor: write v1.<minor>, e.g. $default_minor"
[ "${BASH_REMATCH[1]}" -ge 28 ] || die "--minor $minor: piagent needs Kubernetes v1.28 or newer"
repo=${repo:-https://pkgs.k8s.io/core:/stable:/$minor/deb/}
case "$repo" in */) ;; *) repo=$repo/ ;; esac
key_url=${key_url:-${repo}Release.key}
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/sources.list.d" "$tmp/preferences.d" "$tmp/lists/partial" "$tmp/archives/partial"
: >"$tmp/status"
echo "k8s-debs: Kubernetes $minor: the repository's signing key $key_url" >&2
curl -fsSL --retry 3 -o "$tmp/kubernetes.asc" "$key_url" || die "cannot fetch $key_url"
grep -q -- '-----BEGIN PGP PUBLIC KEY BLOCK-----' "$tmp/kubernetes.asc" || die "$key_url is not an ASCII-armored OpenPGP key"
echo "deb [arch=arm64 signed-by=$tmp/kubernetes.asc] $repo /" >"$tmp/sources.list"
apt=(apt-get -q -o "Dir::Etc::SourceList=$tmp/sources.list" -o "Dir::Etc::SourceParts=$tmp/sources.list.d"
	-o "Dir::Etc::Preferences=$tmp/preferences" -o "Dir::Etc::PreferencesParts=$tmp/preferences.d"
	-o "Dir::State::Lists=$tmp/lists" -o "Dir::State::Status=$tmp/status" -o "Dir::Cache=$tmp"
	-o "Dir::Cache::Archives=$tmp/archives" -o APT::Architecture=arm64 -o APT::Architectures::=arm64
	-o Debug::NoLocking=1 -o APT::Sandbox::User=root -o Acquire::Retries=3)
"${apt[@]}" --error-on=any update >&2 || die "apt-get update of $repo failed"
(cd "$dir" && "${apt[@]}" download kubeadm kubelet kubectl kubernetes-cni cri-tools >&2) ||
	die "apt-get download from $repo failed"
echo "k8s-debs: in $dir:" >&2
for p in kubeadm kubelet kubectl kubernetes-cni cri-tools; do
	f=$(find "$dir" -maxdepth 1 -name "${p}_*_arm64.deb" | sort -V | tail -1)
	[ -n "$f" ] || die "no ${p}_*_arm64.deb was downloaded"
	echo "  $(basename "$f")" >&2
done
echo "k8s-debs: next: image/build.sh --k8s-debs $dir ... (or tools/build-image --k8s-debs $dir)" >&2
