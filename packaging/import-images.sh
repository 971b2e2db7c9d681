#!/bin/bash
# Imports container image archives into containerd's k8s.io namespace, where kubelet and kubeadm look
# (piagent-images.service runs it at boot, before piagent.service; docs/image.md, "Offline").
#
#   import-images DIR
#
# Every *.tar in DIR (an OCI image layout or a docker-archive, as `docker save`, `podman save`, `skopeo copy
# ... oci-archive:` or `ctr images export` write them) is imported with `ctr -n k8s.io images import`; one that
# imported moves to DIR/imported/ (a reboot imports nothing twice), one that failed stays for the next boot and
# its error is said with the file's name. CONTAINERD_ADDRESS (ctr's own variable) names another containerd
# socket (tests). Exit status: 0 when every archive imported, 1 otherwise (the unit fails: systemctl --failed
# shows it; piagent still starts, and kubeadm pulls what is missing if the registry is reachable).
set -uo pipefail

dir=${1:?usage: import-images DIR}
ctr=${CTR:-ctr}
say() { echo "import-images: $*"; }

[ -d "$dir" ] || { say "$dir: no such directory"; exit 1; }
shopt -s nullglob
archives=("$dir"/*.tar)
shopt -u nullglob
if [ ${#archives[@]} -eq 0 ]; then
	say "no image archives (*.tar) in $dir"
	exit 0
fi
command -v "$ctr" >/dev/null || { say "$ctr (containerd's client) is not installed: nothing imported"; exit 1; }
mkdir -p "$dir/imported" || exit 1
failed=0
for a in "${archives[@]}"; do
	name=${a##*/}
	start=$SECONDS
	# This machine's platform only (no --all-platforms), unpacked for containerd's default snapshotter.
	if out=$("$ctr" -n k8s.io images import "$a" 2>&1); then
		mv -f "$a" "$dir/imported/$name" || failed=1
		say "$name imported in $((SECONDS - start)) s:"
		printf '%s\n' "$out" | sed 's/^/  /'
	else
		failed=1
		say "$name: import failed, kept for the next boot: $(printf '%s' "$out" | tail -n 3 | tr '\n' ' ')"
	fi
done
exit "$failed"
