#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The Debian userspace the package tests install into, made by mmdebstrap
# and cached as a tarball per release, keyed by its package list (a cold
# build downloads about 600 MB for Debian 12, 1 GB for Debian 13; a warm
# one only unpacks).
#
#   pkg-chroot.sh base            print the cached tarball, making it if needed
#   pkg-chroot.sh unpack DIR      a fresh root in DIR from that tarball
#   pkg-chroot.sh run DIR CMD...  run CMD in DIR (own mount and pid namespace)
#   pkg-chroot.sh sources         the host's apt source files, for mmdebstrap
#
# RELEASE= the root's Debian release (default bookworm). The base has, for
# the first and last of that release's supported kernels (debian-kernels.sh
# list) A and B: image, headers and source of A; image and headers of B but
# not its source; the .debs of B's image (and of the linux-binary-,
# linux-modules- and linux-base- packages a 7.x image depends on), headers
# and source in /var/cache/kvm-fastinval-test, to install B again later
# without network. A release other than the host's comes from debian-apt.sh's
# sources and also has the .debs of its packaging tools (lintian, debhelper,
# dh-dkms, build-essential) in /var/cache/kvm-fastinval-test/tools, to lint
# and build the package with them without network: dpkg -i tools/*.deb.
set -euo pipefail

top=$(cd "$(dirname "$0")/../.." && pwd)
cache=${PKGTEST_CACHE:-$top/build/pkgtest}
release=${RELEASE:-bookworm}
die() { echo "pkg-chroot: $*" >&2; exit 1; }

# This machine's apt sources, wherever they are: sources.list (a Debian 12
# install), sources.list.d/*.sources or *.list (cloud images, mmdebstrap).
sources() {
	local f found=
	for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.sources /etc/apt/sources.list.d/*.list; do
		if [ -s "$f" ] && grep -qE '^[[:space:]]*(deb|Types:)' "$f"; then
			echo "$f"
		else
			continue
		fi
		found=1
	done
	[ -n "$found" ] || die "no apt sources in /etc/apt"
}

# Run "$@" in root $1 with /dev, /proc and /sys; the mounts die with it.
# The root is bound onto itself so that it is a mount point in the chroot,
# as / is on a machine: unshare --propagation there (a nested run) needs it.
# CHROOT_BIND= a directory of the host to bind at the same path inside.
run_in() {
	local root=$1
	shift
	unshare --mount --pid --fork --propagation private -- /bin/sh -c '
		r=$1; b=$2; shift 2
		mount --bind "$r" "$r" &&
		mount --rbind /dev "$r/dev" && mount -t proc proc "$r/proc" &&
			mount --rbind /sys "$r/sys" || exit 125
		if [ -n "$b" ]; then
			mkdir -p "$r$b" && mount --bind "$b" "$r$b" || exit 125
		fi
		exec chroot "$r" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin \
			HOME=/root LC_ALL=C.UTF-8 DEBIAN_FRONTEND=noninteractive INITRD=No "$@"
	' sh "$root" "${CHROOT_BIND:-}" "$@"
}

# apt-cache of the root's release: the host's own, or a private one.
apt_cache() { "$top/scripts/debian-kernels.sh" apt "$release" apt-cache "$@"; }

base() {
	local host targets a_s a_k a_v b_s b_k b_v b_in pkgs key tar debs extra tools="" c=/var/cache/kvm-fastinval-test
	local -a mirrors hooks
	case $release in
	*[!a-z]* | "") die "not a Debian codename: RELEASE='$release'" ;;
	esac
	host=$("$top/scripts/debian-kernels.sh" host)
	targets=$("$top/scripts/debian-kernels.sh" list | awk -v r="$release" '$4 == r')
	read -r a_s a_k a_v _ < <(head -n 1 <<<"$targets")
	read -r b_s b_k b_v _ < <(tail -n 1 <<<"$targets")
	[ -n "${b_k:-}" ] && [ "$a_k" != "$b_k" ] || die "need two supported $release kernels, have: $targets"
	# B from a suite apt does not prefer (backports: pin 100) is installed
	# as PKG/SUITE, so that apt takes the newer dependencies it needs (as
	# linux-base) from that suite too; a hook checks the version.
	b_in=$(apt_cache policy "linux-image-$b_k" | awk -v v="$b_v" '
		$1 == v || ($1 == "***" && $2 == v) { p = $NF; f = 1; next }
		f { split($3, s, "/"); print (p < 500 ? "/" s[1] : "=" v); exit }')
	[ -n "$b_in" ] || b_in="=$b_v"
	# Our package's Depends and what DKMS signing needs, so that installing
	# the .deb needs no network.
	pkgs="dkms make patch xz-utils openssl kmod
	      linux-image-$a_k=$a_v linux-headers-$a_k=$a_v linux-source-$a_s=$a_v
	      linux-image-$b_k$b_in linux-headers-$b_k$b_in"
	# From 7.x the image package holds no files: they are in the packages
	# of the same version it depends on, which B's removal removes too.
	extra=$(apt_cache show "linux-image-$b_k=$b_v" | sed -n 's/^Depends: //p' | tr ',' '\n' |
		awk -v k="$b_k" -v v="$b_v" '$1 == "linux-binary-" k || $1 == "linux-modules-" k ||
		    $1 == "linux-base-" k { print $1 "=" v }' | sort -u | paste -sd ' ') ||
		die "apt-cache show linux-image-$b_k=$b_v failed"
	debs="linux-image-$b_k=$b_v${extra:+ $extra} linux-headers-$b_k=$b_v linux-source-$b_s=$b_v"
	[ "$release" = "$host" ] || tools="lintian debhelper dh-dkms build-essential"
	key=$(echo "v1 $pkgs $debs${tools:+ tools: $tools}" | tr -s ' \n' ' ' | sha256sum | cut -c1-16)
	tar=$cache/base-$release-$key.tar
	if [ ! -f "$tar" ]; then
		command -v mmdebstrap >/dev/null ||
			DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
				mmdebstrap >/dev/null
		mkdir -p "$cache"
		# One base per release: each is 1.5-2 GB. base-KEY.tar: from
		# before there was one per release.
		rm -f "$cache/base-$release-"*.tar "$cache/tmp-$release-"*.tar "$cache"/base-????????????????.tar
		echo "pkg-chroot: making $tar" >&2
		if [ "$release" = "$host" ]; then
			mapfile -t mirrors < <(sources)
		else
			mirrors=("$("$top/scripts/debian-apt.sh" "$release" sources)")
		fi
		hooks=(--customize-hook="mkdir -p \"\$1$c\""
		       --customize-hook="chroot \"\$1\" sh -c 'cd $c && apt-get download -q -o APT::Sandbox::User=root $debs'")
		[ "$b_in" = "=$b_v" ] ||
			hooks+=(--customize-hook="test \"\$(chroot \"\$1\" dpkg-query -W -f '\${Version}\\n' linux-image-$b_k linux-headers-$b_k | sort -u)\" = '$b_v'")
		# Everything the tools need that the base lacks, not installed.
		[ -z "$tools" ] ||
			hooks+=(--customize-hook="mkdir -p \"\$1$c/tools/partial\" && chroot \"\$1\" apt-get install -q -y --download-only -o Dir::Cache::archives=$c/tools/ -o APT::Sandbox::User=root $tools && rmdir \"\$1$c/tools/partial\"")
		# INITRD=No: the kernels' initramfs-tools hook builds nothing.
		INITRD=No mmdebstrap --variant=apt --format=tar --include="$(echo $pkgs | tr ' ' ,)" \
			--aptopt='APT::Install-Recommends "false"' "${hooks[@]}" \
			"$release" "$cache/tmp-$release-$key.tar" "${mirrors[@]}" >&2 ||
			{ rm -f "$cache/tmp-$release-$key.tar"; die "mmdebstrap failed"; }
		mv "$cache/tmp-$release-$key.tar" "$tar"
	fi
	echo "$tar"
}

case ${1:-} in
base) base ;;
sources) sources ;;
unpack)
	[ $# -eq 2 ] || die "usage: $0 unpack DIR"
	tar=$(base)
	rm -rf "$2" && mkdir -p "$2"
	tar -C "$2" -xf "$tar"
	;;
run)
	[ $# -ge 3 ] || die "usage: $0 run DIR CMD..."
	root=$2
	shift 2
	run_in "$root" "$@"
	;;
*) die "usage: $0 base | unpack DIR | run DIR CMD... | sources" ;;
esac
