#!/bin/bash
# One-command demo: 2 lb + 3 master + 3 worker nodes, each a systemd-nspawn
# container running the agent as its real unit, all sharing one cluster.txt
# (fresh secret); waits, prints `piagent status` from a master, tears down.
#
#   sudo tests/cluster/demo.sh [AGENT_BINARY] [harness run options, e.g. --hold]
#
# AGENT_BINARY defaults to $PIAGENT_BINARY, then <repo>/build/piagent.
# PIAGENT_DEMO_SETTLE: seconds to let the agents discover each other (15).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
binary=${PIAGENT_BINARY:-$repo/build/piagent}
if (($#)) && [[ $1 != -* ]]; then
	binary=$1
	shift
fi
settle=${PIAGENT_DEMO_SETTLE:-15}

if ((EUID != 0)); then
	echo "demo.sh: needs root (network namespaces, overlay mounts, systemd-nspawn)" >&2
	exit 1
fi
if [[ ! -x $binary ]]; then
	echo "demo.sh: no agent binary at $binary (build it: cmake -B build && cmake --build build)" >&2
	exit 1
fi
binary=$(readlink -f "$binary")

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# The agent makes secrets itself when it can; openssl otherwise.
secret_line=$(timeout 5 "$binary" secret 2>/dev/null | grep -E '^secret=[0-9a-f]{32,}$' | head -n1) || true
if [[ -z $secret_line ]]; then
	secret_line="secret=$(openssl rand -hex 24)"
fi
cat >"$tmp/cluster.txt" <<-EOF_CLUSTER
	cluster=demo
	$secret_line
	vip=10.77.0.240/24
	api_port=9000
	masters=3
EOF_CLUSTER

nodes=()
for n in lb1:lb lb2:lb master1:master master2:master master3:master worker1:worker worker2:worker worker3:worker; do
	nodes+=(--node "$n")
done

python3 "$here/harness.py" run \
	--binary "$binary" \
	--cluster-txt "$tmp/cluster.txt" \
	"${nodes[@]}" \
	--settle "$settle" \
	--exec 'master1:piagent status' \
	--exec 'master1:systemctl status --no-pager --lines=0 piagent.service' \
	--exec 'master1:journalctl -u piagent.service --no-pager -o short-monotonic -n 20' \
	"$@"
