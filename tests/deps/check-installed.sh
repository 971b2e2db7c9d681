#!/bin/bash
# check-installed.sh [--quiet] GROUP...: on this system, every item that tools/deps.txt names on the
# lines of these groups is there, and comes from the package of its line (or a package that one depends
# on: python3 -> python3-minimal): a command on PATH, a /file, a py:module that /usr/bin/python3
# imports. Shell and awk only (it runs on a fresh machine before python3 is installed). Exit 0 when all
# are there, 1 otherwise (each missing one named).
set -euo pipefail
deps=$(cd "$(dirname "$0")/../.." && pwd)/tools/deps.txt
quiet=0
[ "${1:-}" != --quiet ] || { quiet=1; shift; }
[ $# -gt 0 ] || { echo "usage: check-installed.sh [--quiet] image|test..." >&2; exit 2; }
groups=" $* "
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
say() { [ "$quiet" = 1 ] || echo "$@"; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# 1. each item: where it is (and the paths it may be listed under by dpkg: the file itself, what it
# resolves to, their /bin and /sbin aliases on a merged-/usr system); the packages that may ship it
bad=0 n=0
: >"$tmp/queries"
while read -r pkg group items; do
	case "$groups" in *" $group "*) ;; *) continue ;; esac
	n=$((n + 1))
	if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed'; then
		say "MISSING package $pkg ($group)"
		bad=$((bad + 1))
		continue
	fi
	pkgs=$({ printf '%s,' "${pkg%%:*}"; dpkg-query -W -f='${Pre-Depends},${Depends}' "$pkg"; } | tr ',|' '\n' |
		sed -e 's/([^)]*)//g; s/:any//; s/ //g' | grep . | paste -sd' ')
	for it in $items; do
		case "$it" in
		/*) path=$it; [ -e "$path" ] || path="" ;;
		py:*) path=$(/usr/bin/python3 -c "import ${it#py:} as m; print(m.__file__)" 2>/dev/null || true) ;;
		*) path=$(command -v "$it" || true) ;;
		esac
		if [ -z "$path" ]; then
			say "MISSING $it ($pkg, $group)"
			bad=$((bad + 1))
			continue
		fi
		cands=""
		for p in "$path" "$(readlink -f "$path")"; do
			cands="$cands $p ${p/#\/usr\/bin\//\/bin\/} ${p/#\/usr\/sbin\//\/sbin\/}"
		done
		printf '%s\t%s\t%s\t%s\n' "$it" "$pkg" "$pkgs" "$cands" >>"$tmp/queries"
	done
done < <(sed -e 's/#.*//' "$deps" | awk 'NF >= 2')

# 2. one pass over dpkg's file lists (a dpkg-query -S per item takes seconds on a busy machine)
wrong=$(awk -F'\t' '
	FNR == NR { q[FNR] = $0; nq = FNR; next }
	FNR == 1 { p = FILENAME; sub(/.*\//, "", p); sub(/\.list$/, "", p); sub(/:.*/, "", p) }
	{ owner[$0] = owner[$0] " " p }
	END {
		for (i = 1; i <= nq; i++) {
			split(q[i], f, "\t"); ok = 0; seen = ""
			nc = split(f[4], c, " "); np = split(f[3], want, " ")
			for (j = 1; j <= nc; j++) {
				if (!(c[j] in owner)) continue
				seen = seen owner[c[j]]
				for (k = 1; k <= np; k++) if (index(owner[c[j]] " ", " " want[k] " ")) ok = 1
			}
			if (!ok) printf "WRONG PACKAGE %s: %s is not from %s (dpkg:%s)\n", f[1], c[1], f[2], seen == "" ? " no package" : seen
		}
	}' "$tmp/queries" /var/lib/dpkg/info/*.list)
if [ -n "$wrong" ]; then
	say "$wrong"
	bad=$((bad + $(printf '%s\n' "$wrong" | wc -l)))
fi
say "check-installed ($*): $n packages, $bad problem(s)"
[ "$bad" -eq 0 ]
