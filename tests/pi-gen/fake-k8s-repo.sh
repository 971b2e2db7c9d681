#!/bin/bash
# A stand-in for the Kubernetes package repository (pkgs.k8s.io), for the pi-gen stage's chroot
# test on machines without internet: a flat APT repository laid out like pkgs.k8s.io's
# (core:/stable:/v1.X/deb/: Release.key, InRelease, Packages), signed with a throw-away key, holding
# DUMMY arm64 packages named kubeadm, kubelet, kubectl, kubernetes-cni and cri-tools (scripts that say
# what they are), with the dependencies of the real ones from 1.32 on (kubernetes/release,
# cmd/krel/templates/latest/metadata.yaml and kubelet/kubelet.spec: kubelet depends on
# kubernetes-cni >= 1.2.0, mount and util-linux; kubeadm on nothing). It proves the stage's
# repository step (key, sources entry, apt update and install, hold) and image/k8s-debs.sh, not
# Kubernetes.
#
# Usage: fake-k8s-repo.sh DIR VERSION      e.g. fake-k8s-repo.sh /tmp/repo 1.36.0
set -euo pipefail
dir=$1 version=$2
mkdir -p "$dir"
dir=$(realpath "$dir")
work=$(mktemp -d)
trap 'gpgconf --homedir "$work/gnupg" --kill all >/dev/null 2>&1 || true; rm -rf "$work"' EXIT

mkdeb() { # mkdeb NAME DEPENDS [VERSION]
	local name=$1 depends=$2 version=${3:-$version} root=$work/$1 minor pause
	minor=${version#*.} minor=${minor%%.*}
	if [ "$minor" -le 30 ]; then pause=3.9; elif [ "$minor" -le 33 ]; then pause=3.10; else pause=3.10.1; fi
	mkdir -p "$root/DEBIAN" "$root/usr/bin"
	# kubeadm answers the two questions the stage asks it (containerd's sandbox_image) in real kubeadm's
	# format (cmd/kubeadm/app/cmd/config.go, images list); its pause follows kubeadm's constants.PauseVersion
	# as far as this stand-in knows it (3.9 up to 1.30, 3.10 for 1.31-1.33, 3.10.1 after); the other images'
	# tags are placeholders. Everything else is refused.
	cat >"$root/usr/bin/$name" <<EOF
#!/bin/sh
if [ "$name" = kubeadm ] && [ "\$*" = "version -o short" ]; then echo "v$version"; exit 0; fi
if [ "$name" = kubeadm ] && [ "\$*" = "config images list --kubernetes-version v$version" ]; then
	for i in kube-apiserver kube-controller-manager kube-scheduler kube-proxy; do echo "registry.k8s.io/\$i:v$version"; done
	printf '%s\\n' registry.k8s.io/coredns/coredns:v1.11.3 registry.k8s.io/pause:$pause registry.k8s.io/etcd:3.5.15-0
	exit 0
fi
echo "$name: a stand-in made by piagent's tests/pi-gen/fake-k8s-repo.sh, not Kubernetes (v$version)" >&2
exit 1
EOF
	chmod 0755 "$root/usr/bin/$name"
	{
		echo "Package: $name"
		echo "Version: $version-1.1"
		echo "Architecture: arm64"
		echo "Maintainer: piagent tests <piagent@example.org>"
		[ -z "$depends" ] || echo "Depends: $depends"
		echo "Section: admin"
		echo "Priority: optional"
		echo "Description: piagent test stand-in for $name (not Kubernetes)"
	} >"$root/DEBIAN/control"
	dpkg-deb --root-owner-group -Zgzip -b "$root" "$dir/${name}_$version-1.1_arm64.deb" >/dev/null
}
mkdeb kubeadm ""
mkdeb kubelet "kubernetes-cni (>= 1.2.0), mount, util-linux"
mkdeb kubectl ""
mkdeb kubernetes-cni "" 1.7.1
mkdeb cri-tools "" "${version%.*}.0"

cd "$dir"
dpkg-scanpackages --arch arm64 --multiversion . /dev/null 2>/dev/null >Packages
gzip -9nc Packages >Packages.gz
{
	echo "Origin: piagent-test"
	echo "Label: piagent test stand-in for pkgs.k8s.io"
	echo "Architectures: arm64"
	echo "Date: $(LC_ALL=C date -u '+%a, %d %b %Y %H:%M:%S UTC')"
	echo "SHA256:"
	for f in Packages Packages.gz; do
		printf ' %s %s %s\n' "$(sha256sum <"$f" | cut -d' ' -f1)" "$(stat -c %s "$f")" "$f"
	done
} >Release

export GNUPGHOME=$work/gnupg
install -d -m 0700 "$GNUPGHOME"
gpg --batch --quiet --passphrase '' --quick-generate-key "piagent test repository <piagent@example.org>" \
	ed25519 sign 1d 2>/dev/null
gpg --batch --quiet --armor --export >Release.key
gpg --batch --quiet --yes --clearsign -o InRelease Release
gpg --batch --quiet --yes --armor --detach-sign -o Release.gpg Release
echo "fake-k8s-repo: $dir:" ./*.deb
