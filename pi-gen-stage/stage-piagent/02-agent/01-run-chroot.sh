# shellcheck shell=bash
# In the image (fed to bash on stdin by pi-gen's on_chroot: commands get </dev/null): installs the
# agent's package with apt (which brings any missing dependency), enables piagent.service, and
# writes /etc/piagent-image-release like the piagent image build does.
set -euo pipefail
fail() { echo "stage-piagent: error: $*" >&2; exit 1; }
export DEBIAN_FRONTEND=noninteractive
dir=/var/cache/piagent-stage
shopt -s nullglob
debs=("$dir"/piagent_*.deb)
shopt -u nullglob
[ ${#debs[@]} -eq 1 ] || fail "expected one piagent .deb in $dir (02-agent/00-run.sh), found ${#debs[@]}"
apt-get -o Acquire::Retries=3 install -y "${debs[0]}" </dev/null
rm -rf "$dir"
[ -x /usr/bin/piagent ] || fail "the piagent package did not install /usr/bin/piagent"
# the package's postinst enables it already; this makes sure, whatever the package does
systemctl enable piagent.service </dev/null
[ "$(systemctl is-enabled piagent.service </dev/null)" = enabled ] || fail "piagent.service is not enabled"

agent=$(dpkg-query -W -f='${Version}' piagent)
kubernetes=none
if [ "$(dpkg-query -W -f='${db:Status-Status}' kubeadm 2>/dev/null || true)" = installed ]; then
	kubernetes=$(dpkg-query -W -f='${Version}' kubeadm)
fi
githash=${GIT_HASH:-unknown}
cat >/etc/piagent-image-release <<RELEASE
PIAGENT_IMAGE_VERSION=$agent
PIAGENT_IMAGE_BASE=raspios-${RELEASE:-unknown}-pi-gen-${githash:0:12}
PIAGENT_IMAGE_AGENT=$agent
PIAGENT_IMAGE_KUBERNETES=$kubernetes
PIAGENT_IMAGE_BUILT=$(date -u +%Y-%m-%dT%H:%M:%SZ)
RELEASE
chmod 0644 /etc/piagent-image-release
echo "stage-piagent: piagent $agent installed, piagent.service enabled; Kubernetes: $kubernetes"
