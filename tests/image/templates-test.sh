#!/bin/bash
# image/templates: the files a person edits on the card are valid as written (label unit, seconds).
# With the built piagent (piagent check, the agent's own parser), for the image's boot files
# (image/bootfiles/) and the pi-gen stage's (pi-gen-stage/stage-piagent/04-boot-files/files/):
#  - role.txt as shipped chooses no role: piagent check says so;
#  - each '#role=X' line uncommented alone gives a valid pair of files;
#  - each other example line of role.txt ('#key=value') uncommented, with role=master (the role every
#    optional key applies to), is valid; each example line of cluster.txt, with role=worker, too;
#  - the man page's example that gives cluster.txt a fresh secret (the EXAMPLES line that runs
#    'piagent secret'), run as written on a copy of cluster.txt, leaves a valid file with a new secret.
# Usage: templates-test.sh PIAGENT
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
piagent=$(realpath "${1:?usage: templates-test.sh PIAGENT}")
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fails=0 passes=0
ok() { echo "ok    $*"; passes=$((passes + 1)); }
bad() { echo "FAIL  $*"; fails=$((fails + 1)); }
secret=$(od -An -tx1 -N24 /dev/urandom | tr -d ' \n')

# check_pair WHAT ROLE-TXT CLUSTER-TXT: piagent check must accept the pair
check_pair() {
	rm -rf "$work/b" && mkdir "$work/b"
	cp "$2" "$work/b/role.txt"
	cp "$3" "$work/b/cluster.txt"
	if out=$("$piagent" check --boot-dir "$work/b" 2>&1); then
		ok "$1"
	else
		bad "$1: piagent check: $out"
	fi
}
# uncomment FILE LINE...: FILE with the given '#key=value' lines uncommented
uncomment() {
	local f=$1 l
	shift
	cp "$f" "$work/u"
	for l in "$@"; do
		grep -qxF "#$l" "$work/u" || { bad "$f has no line '#$l'"; return 1; }
		awk -v l="#$l" '$0 == l { print substr($0, 2); next } { print }' "$work/u" >"$work/u2" && mv "$work/u2" "$work/u"
	done
	cat "$work/u"
}

for dir in image/bootfiles pi-gen-stage/stage-piagent/04-boot-files/files; do
	role=$repo/$dir/role.txt
	sed -e "s/@SECRET@/$secret/" "$repo/$dir/cluster.txt.in" >"$work/cluster.txt"
	mkdir -p "$work/s" && cp "$role" "$work/cluster.txt" "$work/s/"
	if out=$("$piagent" check --boot-dir "$work/s" 2>&1); then
		bad "$dir/role.txt as shipped: piagent check accepts it, but it must choose no role"
	else
		case "$out" in *"no role set"*) ok "$dir/role.txt as shipped chooses no role, and piagent check says so" ;;
		*) bad "$dir/role.txt as shipped: piagent check: $out" ;; esac
	fi
	mapfile -t roles < <(sed -n 's/^#\(role=[a-z]*\)$/\1/p' "$role")
	[ "${#roles[@]}" -eq 3 ] || bad "$dir/role.txt: ${#roles[@]} '#role=' lines, want 3 (lb, master, worker)"
	for r in "${roles[@]}"; do
		uncomment "$role" "$r" >"$work/role.txt" && check_pair "$dir/role.txt: '$r' uncommented" "$work/role.txt" "$work/cluster.txt"
	done
	mapfile -t opts < <(grep -E '^#[a-z_]+=' "$role" | grep -v '^#role=' | cut -c2-)
	[ "${#opts[@]}" -ge 3 ] || bad "$dir/role.txt: ${#opts[@]} optional example lines, want hostname=, interface=, init="
	for o in "${opts[@]}"; do
		uncomment "$role" role=master "$o" >"$work/role.txt" &&
			check_pair "$dir/role.txt: '$o' uncommented (with role=master)" "$work/role.txt" "$work/cluster.txt"
	done
	uncomment "$role" role=worker >"$work/worker.txt"
	mapfile -t copts < <(grep -E '^#[a-z_]+=' "$work/cluster.txt" | cut -c2-)
	for o in "${copts[@]}"; do
		uncomment "$work/cluster.txt" "$o" >"$work/c2.txt" &&
			check_pair "$dir/cluster.txt: '$o' uncommented" "$work/worker.txt" "$work/c2.txt"
	done
done

# the man page's example for a fresh secret, as written, with this piagent first on PATH
example=$(sed -n '/^\.SH EXAMPLES/,/^\.SH/p' "$repo/docs/piagent.8" | grep 'piagent secret' | sed -e 's/\\-/-/g')
if [ -z "$example" ]; then
	bad "docs/piagent.8: no example that runs 'piagent secret'"
else
	mkdir -p "$work/bin" "$work/m"
	ln -sf "$piagent" "$work/bin/piagent"
	sed -e "s/@SECRET@/$secret/" "$repo/image/bootfiles/cluster.txt.in" >"$work/m/cluster.txt"
	uncomment "$repo/image/bootfiles/role.txt" role=lb >"$work/m/role.txt"
	if (cd "$work/m" && PATH=$work/bin:$PATH bash -euc "$example") && "$piagent" check --boot-dir "$work/m" >/dev/null 2>&1; then
		if grep -q "^secret=$secret$" "$work/m/cluster.txt"; then
			bad "docs/piagent.8: '$example' left the old secret"
		else
			ok "docs/piagent.8: '$example' gives cluster.txt a fresh secret, and piagent check accepts it"
		fi
	else
		bad "docs/piagent.8: '$example' on the shipped cluster.txt: $("$piagent" check --boot-dir "$work/m" 2>&1 | head -3)"
	fi
fi
echo "---- templates: $passes passed, $fails failed"
[ "$fails" -eq 0 ]
