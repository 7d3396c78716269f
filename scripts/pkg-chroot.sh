#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The Debian 12 userspace the package tests install into, made by mmdebstrap
# and cached as a tarball keyed by its package list (a cold build downloads
# about 600 MB; a warm one only unpacks).
#
#   pkg-chroot.sh base            print the cached tarball, making it if needed
#   pkg-chroot.sh unpack DIR      a fresh root in DIR from that tarball
#   pkg-chroot.sh run DIR CMD...  run CMD in DIR (own mount and pid namespace)
#   pkg-chroot.sh sources         the host's apt source files, for mmdebstrap
#
# The base has, for the first and last supported kernel (debian-kernels.sh
# list) A and B: image, headers and source of A; image and headers of B but
# not its source; the .debs of B's image, headers and source in
# /var/cache/kvm-fastinval-test, to install B again later without network.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
cache=${PKGTEST_CACHE:-$top/build/pkgtest}
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

base() {
	local targets a_s a_k a_v b_s b_k b_v pkgs key tar debs
	local -a mirrors
	targets=$("$top/scripts/debian-kernels.sh" list | awk '$4 == "bookworm"')
	read -r a_s a_k a_v _ < <(head -n 1 <<<"$targets")
	read -r b_s b_k b_v _ < <(tail -n 1 <<<"$targets")
	[ -n "${b_k:-}" ] && [ "$a_k" != "$b_k" ] || die "need two supported kernels, have: $targets"
	# Our package's Depends and what DKMS signing needs, so that installing
	# the .deb needs no network.
	pkgs="dkms make patch xz-utils openssl kmod
	      linux-image-$a_k=$a_v linux-headers-$a_k=$a_v linux-source-$a_s=$a_v
	      linux-image-$b_k=$b_v linux-headers-$b_k=$b_v"
	debs="linux-image-$b_k=$b_v linux-headers-$b_k=$b_v linux-source-$b_s=$b_v"
	key=$(echo "v1 $pkgs $debs" | tr -s ' \n' ' ' | sha256sum | cut -c1-16)
	tar=$cache/base-$key.tar
	if [ ! -f "$tar" ]; then
		command -v mmdebstrap >/dev/null ||
			DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
				mmdebstrap >/dev/null
		mkdir -p "$cache"
		rm -rf "$cache"/base-*.tar "$cache"/tmp-*.tar	# one base at a time: each is ~1.5 GB
		echo "pkg-chroot: making $tar" >&2
		mapfile -t mirrors < <(sources)
		# INITRD=No: the kernels' initramfs-tools hook builds nothing.
		INITRD=No mmdebstrap --variant=apt --format=tar --include="$(echo $pkgs | tr ' ' ,)" \
			--aptopt='APT::Install-Recommends "false"' \
			--customize-hook="mkdir -p \"\$1/var/cache/kvm-fastinval-test\"" \
			--customize-hook="chroot \"\$1\" sh -c 'cd /var/cache/kvm-fastinval-test && apt-get download -q -o APT::Sandbox::User=root $debs'" \
			bookworm "$cache/tmp-$key.tar" "${mirrors[@]}" >&2 ||
			{ rm -f "$cache/tmp-$key.tar"; die "mmdebstrap failed"; }
		mv "$cache/tmp-$key.tar" "$tar"
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
