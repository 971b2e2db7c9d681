# shellcheck shell=bash
# In the image (pi-gen's on_chroot feeds this to bash on stdin: every command that could read stdin
# gets </dev/null, or it would eat the rest of this script): installs kubeadm, kubelet and kubectl
# from the repository 00-run.sh added, and holds them (kubernetes.io: upgrade a cluster with
# kubeadm upgrade, one minor version at a time, not with apt).
set -euo pipefail
if [ "${PIAGENT_K8S_SKIP:-0}" = 1 ]; then
	echo "stage-piagent: PIAGENT_K8S_SKIP=1: Kubernetes packages not installed"
	exit 0
fi
export DEBIAN_FRONTEND=noninteractive
list=/etc/apt/sources.list.d/kubernetes.list
[ -f "$list" ] || { echo "stage-piagent: error: $list is missing (01-kubernetes/00-run.sh)" >&2; exit 1; }
# only this repository's index: the others are fresh from pi-gen's earlier stages; any failure is an error
apt-get -o Acquire::Retries=3 -o Dir::Etc::SourceList="$list" -o Dir::Etc::SourceParts=- \
	-o APT::Get::List-Cleanup=0 --error-on=any update </dev/null
apt-get -o Acquire::Retries=3 install -y kubeadm kubelet kubectl </dev/null
apt-mark hold kubeadm kubelet kubectl </dev/null
echo "stage-piagent: installed and held: $(dpkg-query -W -f='${Package} ${Version}  ' kubeadm kubelet kubectl)"
