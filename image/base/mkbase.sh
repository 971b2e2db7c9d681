#!/bin/bash
# Builds the cached base rootfs of the piagent image: Debian arm64 through qemu-user binfmt.
# Usage: mkbase.sh OUTPUT.tar.zst DEB_CACHE_DIR
# Writes OUTPUT only when complete (temp file in the same directory, then rename).
# Env: PIAGENT_MIRROR (optional: a Debian mirror URL; default: mmdebstrap's default mirrors for
# the suite, updates and security included).
set -euo pipefail
out=$1
debcache=$2
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=image/base/config.sh
. "$here/config.sh"

packages=$(sed -e 's/#.*//' "$here/packages.txt" | xargs | tr ' ' ,)
mkdir -p "$debcache" "$(dirname "$out")"
work=$(mktemp -d "$(dirname "$out")/.base-build.XXXXXX")
trap 'rm -rf "$work"' EXIT

export PIAGENT_BASE_DIR=$here
# the hooks' "$1" and $PIAGENT_BASE_DIR are for mmdebstrap's shell to expand, not ours
# shellcheck disable=SC2016
args=(
	--mode=root --variant=minbase --architectures=arm64 --format=directory
	--components="${PIAGENT_COMPONENTS// /,}"
	--include="$packages"
	--aptopt='Acquire::Retries "3"'
	# no man pages, docs (copyright files kept) or translations on the card
	--dpkgopt='path-exclude=/usr/share/man/*'
	--dpkgopt='path-exclude=/usr/share/locale/*'
	--dpkgopt='path-include=/usr/share/locale/locale.alias'
	--dpkgopt='path-exclude=/usr/share/doc/*'
	--dpkgopt='path-include=/usr/share/doc/*/copyright'
	--dpkgopt='path-exclude=/usr/share/info/*'
	--dpkgopt='path-exclude=/usr/share/lintian/*'
	# downloaded .debs are kept between base builds (a changed package list downloads only the new)
	--skip=download/empty --skip=essential/unlink
	--setup-hook='mkdir -p "$1"/var/cache/apt/archives/'
	--setup-hook="sync-in '$debcache' /var/cache/apt/archives/"
	--essential-hook='"$PIAGENT_BASE_DIR"/hooks/essential.sh "$1"'
	--customize-hook="sync-out /var/cache/apt/archives '$debcache'"
	--customize-hook='"$PIAGENT_BASE_DIR"/hooks/customize.sh "$1"'
	"$PIAGENT_SUITE" "$work/rootfs"
)
[ -n "${PIAGENT_MIRROR:-}" ] && args+=("deb $PIAGENT_MIRROR $PIAGENT_SUITE $PIAGENT_COMPONENTS")
mmdebstrap "${args[@]}"

echo "mkbase: packing $(du -sh "$work/rootfs" | cut -f1) into $(basename "$out")"
tar -C "$work/rootfs" --xattrs --xattrs-include='*' --acls --numeric-owner \
	-I 'zstd -T0 -3 -q' -cf "$work/base.tar.zst" .
mv -f "$work/base.tar.zst" "$out"
