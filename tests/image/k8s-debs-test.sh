#!/bin/bash
# image/k8s-debs: image/k8s-debs.sh against a local stand-in of pkgs.k8s.io (label unit, seconds).
# The stand-in (tests/pi-gen/fake-k8s-repo.sh) is a repository laid out like pkgs.k8s.io's, signed with a
# throw-away key, with dummy arm64 packages that have the real ones' dependencies; served on 127.0.0.1.
# Checks: the five arm64 packages downloaded (kubeadm, kubelet, kubectl, kubernetes-cni that kubelet depends
# on, cri-tools), and nothing of this machine's apt and dpkg configuration changed (sources, keys,
# architectures, package index); a repository whose key does not match is refused.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
work=$(mktemp -d)
http_pid=""
trap '[ -z "$http_pid" ] || kill "$http_pid" 2>/dev/null; rm -rf "$work"' EXIT
fails=0
ok() { echo "ok    $*"; }
bad() { echo "FAIL  $*"; fails=$((fails + 1)); }

"$repo/tests/pi-gen/fake-k8s-repo.sh" "$work/repo" 1.36.2 >/dev/null
"$repo/tests/pi-gen/fake-k8s-repo.sh" "$work/other" 1.36.2 >/dev/null # signed with another key
python3 -c '
import functools, http.server, os, sys
class Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args): pass
s = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Quiet, directory=sys.argv[1]))
with open(sys.argv[2] + ".tmp", "w") as f: f.write(str(s.server_address[1]))
os.rename(sys.argv[2] + ".tmp", sys.argv[2])
s.serve_forever()' "$work" "$work/port" </dev/null &
http_pid=$!
for _ in $(seq 50); do [ -s "$work/port" ] && break; sleep 0.2; done
[ -s "$work/port" ] || { bad "the stand-in repository's HTTP server did not start"; exit 1; }
url=http://127.0.0.1:$(cat "$work/port")

state() { # what of this machine the script must not change
	{
		dpkg --print-architecture
		dpkg --print-foreign-architectures
		find /etc/apt /var/lib/apt/lists -maxdepth 2 -type f -printf '%p %s %T@\n' 2>/dev/null | sort
	} | sha256sum
}
before=$(state)
if out=$("$repo/image/k8s-debs.sh" --minor v1.36 --repo "$url/repo/" "$work/debs" 2>&1); then
	ok "image/k8s-debs.sh --minor v1.36 --repo (the stand-in) DIR"
else
	bad "image/k8s-debs.sh failed: $out"
fi
for p in kubeadm:1.36.2-1.1 kubelet:1.36.2-1.1 kubectl:1.36.2-1.1 kubernetes-cni:1.7.1-1.1 cri-tools:1.36.0-1.1; do
	f=$work/debs/${p%%:*}_${p#*:}_arm64.deb
	if [ -f "$f" ] && [ "$(dpkg-deb -f "$f" Architecture)" = arm64 ]; then ok "downloaded ${f##*/} (arm64)"; else bad "no ${f##*/}"; fi
done
case "$(dpkg-deb -f "$work/debs/kubelet_1.36.2-1.1_arm64.deb" Depends 2>/dev/null)" in
*kubernetes-cni*) ok "kubelet depends on kubernetes-cni, and it is there" ;;
*) bad "the stand-in's kubelet does not depend on kubernetes-cni" ;;
esac
if [ "$(state)" = "$before" ]; then ok "this machine's apt sources, keys, index and dpkg architectures unchanged"; else bad "the script changed this machine's apt or dpkg configuration"; fi
if out=$("$repo/image/k8s-debs.sh" --repo "$url/repo/" --key-url "$url/other/Release.key" "$work/bad" 2>&1); then
	bad "a repository signed with another key was accepted"
else
	ok "a repository signed with another key than --key-url's is refused"
fi
if out=$("$repo/image/k8s-debs.sh" --minor 1.36 "$work/x" 2>&1); then bad "--minor 1.36 accepted"; else
	case "$out" in *"write v1.<minor>"*) ok "--minor 1.36 refused: $out" ;; *) bad "--minor 1.36: $out" ;; esac
fi
echo "---- k8s-debs: $fails failed"
[ "$fails" -eq 0 ]
