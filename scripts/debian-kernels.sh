#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Find and fetch the Debian kernels kvm-fastinval is tested on: for each
# series that has a patch queue, the newest version for which apt offers
# linux-image, linux-headers and linux-source of the very same version.
#
#   debian-kernels.sh list          "SERIES KVER VERSION" per supported series
#   debian-kernels.sh fetch KVER    install headers+source, unpack the image
#                                   into build/images/KVER (for QEMU boots)
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
images=${IMAGES_DIR:-$top/build/images}

die() { echo "debian-kernels: $*" >&2; exit 1; }

series_list() {
	"$top/scripts/kvm-source.sh" series
}

# Print "package version" for every installable version of the given packages.
versions() {
	apt-cache show "$@" 2>/dev/null |
		awk '/^Package:/ { p = $2 } /^Version:/ { print p, $2 }'
}

list() {
	local s ver images_of kver
	for s in $(series_list); do
		ver=$(apt-cache policy "linux-source-$s" 2>/dev/null |
		      awk '/Candidate:/ { print $2 }')
		if [ -z "$ver" ] || [ "$ver" = "(none)" ]; then
			echo "debian-kernels: no linux-source-$s in apt (run apt-get update)" >&2
			continue
		fi
		# Signed amd64 images of this series, matched on the exact version.
		images_of=$(apt-cache pkgnames linux-image- |
			    grep -E "^linux-image-${s//./\\.}[.-][^ ]*-amd64$" |
			    grep -vE -- "-(rt|cloud)-amd64$" || true)
		kver=$(versions $images_of | awk -v v="$ver" '$2 == v { print $1 }' |
		       sed 's/^linux-image-//' | sort -V | tail -n 1)
		if [ -z "$kver" ]; then
			echo "debian-kernels: no linux-image of version $ver for series $s" >&2
			continue
		fi
		if ! versions "linux-headers-$kver" | grep -qxF "linux-headers-$kver $ver"; then
			echo "debian-kernels: no linux-headers-$kver of version $ver" >&2
			continue
		fi
		echo "$s $kver $ver"
	done
}

fetch() {
	local kver=$1 line s ver dir deb
	line=$(list | awk -v k="$kver" '$2 == k') ||
		die "$kver is not a supported Debian kernel (see: $0 list)"
	[ -n "$line" ] || die "$kver is not a supported Debian kernel (see: $0 list)"
	read -r s kver ver <<<"$line"

	if [ "$(dpkg-query -W -f '${Version}' "linux-headers-$kver" 2>/dev/null)" != "$ver" ] ||
	   [ "$(dpkg-query -W -f '${Version}' "linux-source-$s" 2>/dev/null)" != "$ver" ]; then
		echo "  APT     linux-headers-$kver linux-source-$s ($ver)"
		DEBIAN_FRONTEND=noninteractive INITRD=No apt-get install -y -q --no-install-recommends \
			"linux-headers-$kver=$ver" "linux-source-$s=$ver" >/dev/null
	fi

	dir=$images/$kver
	if [ ! -f "$dir/.version" ] || [ "$(cat "$dir/.version")" != "$ver" ]; then
		echo "  FETCH   linux-image-$kver ($ver)"
		rm -rf "$dir" "$images/.deb-$kver"
		mkdir -p "$images/.deb-$kver"
		(cd "$images/.deb-$kver" && apt-get download -q -o APT::Sandbox::User=root "linux-image-$kver=$ver" >/dev/null)
		deb=$(ls "$images/.deb-$kver"/*.deb)
		mkdir -p "$dir"
		dpkg-deb -x "$deb" "$dir"
		rm -rf "$images/.deb-$kver"
		echo "$ver" >"$dir/.version"
	fi
}

case "${1:-}" in
list) list ;;
fetch) [ $# -eq 2 ] || die "usage: $0 fetch KVER"; fetch "$2" ;;
*) die "usage: $0 list | fetch KVER" ;;
esac
