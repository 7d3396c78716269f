#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Find and fetch the Debian kernels kvm-fastinval is tested on: for each
# Debian release and each series that has a patch queue, the newest version
# for which apt offers linux-image, linux-headers and linux-source of the
# very same version. The host's own release is read with the host's apt;
# another release with a private apt configuration (debian-apt.sh).
#
#   debian-kernels.sh list          "SERIES KVER VERSION RELEASE" per kernel
#   debian-kernels.sh line KVER     KVER's line (any flavour), if supported
#   debian-kernels.sh release KVER  the release KVER comes from, if supported
#   debian-kernels.sh host          the host's release (Debian codename)
#   debian-kernels.sh apt RELEASE apt-get|apt-cache ARGS...
#                                   that release's apt: the host's own, or
#                                   debian-apt.sh's private one
#   debian-kernels.sh fetch KVER    unpack the image (with its modules) into
#                                   build/images/KVER for QEMU boots; for a
#                                   kernel of the host's release also install
#                                   its headers and source
#
# DEBIAN_RELEASES= the releases to look in (default: Debian 12 and 13).
# DEBIAN_FLAVOURS= the image flavours list prints (default amd64; also
# rt-amd64, the PREEMPT_RT kernels). line, release and fetch know all.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
images=${IMAGES_DIR:-$top/build/images}
releases=${DEBIAN_RELEASES:-bookworm trixie}
flavours=${DEBIAN_FLAVOURS:-amd64}
all_flavours="amd64 rt-amd64"

die() { echo "debian-kernels: $*" >&2; exit 1; }

host_release() {
	(. /etc/os-release 2>/dev/null && echo "${VERSION_CODENAME:-}")
}
# Read once: apt_of asks for every apt call.
host=$(host_release)

# apt_of RELEASE apt-get|apt-cache ARGS...
apt_of() {
	local release=$1
	shift
	if [ "$release" = "$host" ]; then
		"$@"
	else
		"$top/scripts/debian-apt.sh" "$release" "$@"
	fi
}

# Print "package version" for every installable version of the given packages.
versions() {
	local release=$1
	shift
	apt_of "$release" apt-cache show "$@" 2>/dev/null |
		awk '/^Package:/ { p = $2 } /^Version:/ { print p, $2 }'
}

# list, cached until an apt list or the set of series changes: it asks apt
# a few hundred questions, and every script here starts by listing.
list() {
	local key cache
	key=$( { echo "$releases $all_flavours"; "$top/scripts/kvm-source.sh" series
		 stat -c '%n %Y' /var/lib/apt/lists "$top"/build/apt/*/updated 2>/dev/null || true; } |
	       sha256sum | cut -c1-16)
	cache=$top/build/apt/kernels-$key.list
	if [ ! -s "$cache" ]; then
		mkdir -p "${cache%/*}"
		rm -f "${cache%/*}"/kernels-*.list
		list_apt >"$cache.tmp" || { rm -f "$cache.tmp"; return 1; }
		mv "$cache.tmp" "$cache"
	fi
	awk -v want=" ${1:-$flavours} " 'index(want, " " $5 " ") { print $1, $2, $3, $4 }' "$cache"
}

list_apt() {
	local r s f ver vers names images_of images kver
	local -A seen=()
	for r in $releases; do
		names=$(apt_of "$r" apt-cache pkgnames linux-image-)
		for s in $("$top/scripts/kvm-source.sh" series); do
			# Every version of the source, newest first: a new one is
			# often published before its signed image.
			vers=$(versions "$r" "linux-source-$s" | awk '{ print $2 }' | sort -Vr -u)
			[ -n "$vers" ] || continue
			for f in $all_flavours; do
				# Signed images of this series and flavour, matched on
				# the exact version; "amd64" is neither rt- nor cloud-.
				images_of=$(grep -E "^linux-image-${s//./\\.}[.-][^ ]*-$f$" <<<"$names" |
					    grep -vE -- "-(rt|cloud)-$f$" || true)
				[ -n "$images_of" ] || continue
				# shellcheck disable=SC2086 # one package per word
				images=$(versions "$r" $images_of)
				kver=
				for ver in $vers; do
					kver=$(awk -v v="$ver" '$2 == v { print $1 }' <<<"$images" |
					       sed 's/^linux-image-//' | sort -V | tail -n 1)
					if [ -z "$kver" ]; then
						echo "debian-kernels: $r: no linux-image of version $ver for series $s ($f) yet" >&2
						continue
					fi
					versions "$r" "linux-headers-$kver" | grep -qxF "linux-headers-$kver $ver" && break
					echo "debian-kernels: $r: no linux-headers-$kver of version $ver" >&2
					kver=
				done
				[ -n "$kver" ] || continue
				seen[$s]=1
				echo "$s $kver $ver $r $f"
			done
		done
	done
	for s in $("$top/scripts/kvm-source.sh" series); do
		[ -n "${seen[$s]:-}" ] ||
			echo "debian-kernels: no release ($releases) offers series $s (apt-get update?)" >&2
	done
	[ ${#seen[@]} -gt 0 ]
}

# The line of list for KVER, or die.
line_of() {
	local line
	line=$(list "$all_flavours" | awk -v k="$1" '$2 == k') || true
	[ -n "$line" ] || die "$1 is not a supported Debian kernel (see: $0 list)"
	echo "$line"
}

fetch() {
	local s kver ver r dir deb pkgs
	read -r s kver ver r <<<"$(line_of "$1")"

	if [ "$r" = "$host" ] &&
	   { [ "$(dpkg-query -W -f '${Version}' "linux-headers-$kver" 2>/dev/null)" != "$ver" ] ||
	     [ "$(dpkg-query -W -f '${Version}' "linux-source-$s" 2>/dev/null)" != "$ver" ]; }; then
		echo "  APT     linux-headers-$kver linux-source-$s ($ver)"
		DEBIAN_FRONTEND=noninteractive INITRD=No apt-get install -y -q --no-install-recommends \
			"linux-headers-$kver=$ver" "linux-source-$s=$ver" >/dev/null
	fi

	dir=$images/$kver
	if [ ! -f "$dir/.version" ] || [ "$(cat "$dir/.version")" != "$ver" ]; then
		# From 7.x the image package only depends on linux-binary-,
		# linux-modules- and linux-base- packages of the same version.
		pkgs=$(apt_of "$r" apt-cache show "linux-image-$kver=$ver" |
		       sed -n 's/^Depends: //p' | tr ',' '\n' |
		       awk -v k="$kver" -v v="$ver" '$1 == "linux-binary-" k || $1 == "linux-modules-" k ||
						    $1 == "linux-base-" k { print $1 "=" v }' | sort -u)
		echo "  FETCH   $(echo "linux-image-$kver" $pkgs | sed 's/=[^ ]*//g') ($ver, $r)"
		rm -rf "$dir" "$images/.deb-$kver"
		mkdir -p "$images/.deb-$kver"
		# shellcheck disable=SC2086 # one package per word
		(cd "$images/.deb-$kver" &&
		 apt_of "$r" apt-get download -q -o APT::Sandbox::User=root "linux-image-$kver=$ver" $pkgs >/dev/null)
		mkdir -p "$dir"
		for deb in "$images/.deb-$kver"/*.deb; do
			dpkg-deb -x "$deb" "$dir"
		done
		rm -rf "$images/.deb-$kver"
		# One layout for the boot scripts, whether the packages ship
		# /lib or /usr/lib (merged /usr) and /boot/vmlinuz or not.
		if [ ! -d "$dir/lib/modules" ] && [ -d "$dir/usr/lib/modules" ]; then
			mkdir -p "$dir/lib"
			ln -s ../usr/lib/modules "$dir/lib/modules"
		fi
		if [ ! -f "$dir/boot/vmlinuz-$kver" ] && [ -f "$dir/lib/modules/$kver/vmlinuz" ]; then
			mkdir -p "$dir/boot"
			ln -s "../lib/modules/$kver/vmlinuz" "$dir/boot/vmlinuz-$kver"
		fi
		[ -f "$dir/boot/vmlinuz-$kver" ] && [ -d "$dir/lib/modules/$kver/kernel" ] ||
			die "the packages of $kver ($ver) hold no vmlinuz or modules"
		echo "$ver" >"$dir/.version"
	fi
}

case "${1:-}" in
list) [ $# -eq 1 ] || die "usage: $0 list"; list ;;
line) [ $# -eq 2 ] || die "usage: $0 line KVER"; line_of "$2" ;;
release) [ $# -eq 2 ] || die "usage: $0 release KVER"; line_of "$2" | awk '{ print $4 }' ;;
host) echo "$host" ;;
apt)
	[ $# -ge 3 ] && { [ "$3" = apt-get ] || [ "$3" = apt-cache ]; } ||
		die "usage: $0 apt RELEASE apt-get|apt-cache ARGS..."
	shift
	apt_of "$@"
	;;
fetch) [ $# -eq 2 ] || die "usage: $0 fetch KVER"; fetch "$2" ;;
*) die "usage: $0 list | line KVER | release KVER | host | apt RELEASE CMD... | fetch KVER" ;;
esac
