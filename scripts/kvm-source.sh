#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Prepare the KVM source kvm-fastinval is built from: check that it matches
# the target kernel exactly, extract arch/x86/kvm and virt/kvm into the build
# directory and apply the patch queue of the kernel's series.
#
#   kvm-source.sh check   KVER KDIR        only the checks, print the series
#   kvm-source.sh prepare KVER KDIR DEST   checks, extraction, patches
#   kvm-source.sh extract KVER KDIR DEST   checks, extraction, no patches
#   kvm-source.sh series                   the supported series
#   kvm-source.sh queue SERIES             the patch files of SERIES, in order
#
# The queue of a series: src/patches/common/*.patch, which every series
# shares, and src/patches/<series>/*.patch; a series patch of the same file
# name as a common one replaces it. Applied in file name order.
# src/patches/<series>/minimum-version: the oldest point release it
# applies to, if not the first (older ones are refused).
#
# KSRC=<tree or tarball> names the source; without it the Debian package
# linux-source-<series> (/usr/src/linux-source-<series>.tar.xz) is used and
# its version must equal the one of linux-headers-<KVER>.
# KVM_FASTINVAL_VERSION= (prepare): the version the module reports.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
patches=$top/src/patches
ksrc=${KSRC:-}

# What the build takes from the source: KVM itself, and checkpatch.
members=(Makefile arch/x86/kvm virt/kvm scripts/checkpatch.pl
	 scripts/spelling.txt scripts/const_structs.checkpatch)

die() {
	echo "kvm-fastinval: $*" >&2
	exit 1
}

usage() { die "usage: $0 check KVER KDIR | prepare|extract KVER KDIR DEST | series | queue SERIES"; }

series_list() {
	local d
	for d in "$patches"/*/; do
		d=${d%/}
		d=${d##*/}
		[ "$d" = common ] || echo "$d"
	done | sort -V
}

queue() {
	local p
	local -A q=()
	for p in "$patches"/common/*.patch "$patches/$1"/*.patch; do
		[ -f "$p" ] && q[${p##*/}]=$p
	done
	for p in $(printf '%s\n' "${!q[@]}" | sort); do
		echo "${q[$p]}"
	done
}

# "6.12.117" from a top-level kernel Makefile on stdin.
makefile_version() {
	awk -F' *= *' '$1 == "VERSION" { v = $2 } $1 == "PATCHLEVEL" { p = $2 }
		       $1 == "SUBLEVEL" { s = $2 } END { if (v != "") print v "." p "." s }'
}

check_target() {
	local kver=$1 kdir=$2 min

	[ -f "$kdir/Makefile" ] ||
		die "no kernel headers for $kver in $kdir: install linux-headers-$kver, or set KDIR="
	[ -f "$kdir/include/config/auto.conf" ] ||
		die "$kdir is not a configured kernel build tree (no include/config/auto.conf)"
	grep -qx 'CONFIG_X86_64=y' "$kdir/include/config/auto.conf" ||
		die "$kver is not an x86_64 kernel: kvm-fastinval replaces x86 kvm.ko only"
	grep -qx 'CONFIG_KVM=m' "$kdir/include/config/auto.conf" ||
		die "$kver does not build KVM as a module (CONFIG_KVM=m): nothing to replace"

	kernel_version=$(makefile_version <"$kdir/Makefile")
	if [ -z "$kernel_version" ]; then
		# Debian's per-flavour headers Makefile only includes the common one.
		kernel_version=$(env -u MAKEFLAGS -u MAKELEVEL \
				 make -s --no-print-directory -C "$kdir" kernelversion 2>/dev/null) ||
			die "cannot read the kernel version of $kdir"
	fi
	series=${kernel_version%.*}
	if [ "$series" = common ] || [ ! -d "$patches/$series" ]; then
		die "kernel series $series ($kver) is not supported; supported: $(series_list | paste -sd ' ')"
	fi
	# A queue may need a point release of its series or later.
	min=$(grep -v '^#' "$patches/$series/minimum-version" 2>/dev/null || true)
	if [ -n "$min" ] && [ "$(printf '%s\n' "$min" "$kernel_version" | sort -V | head -n 1)" != "$min" ]; then
		die "$kver is Linux $kernel_version, older than $min, the oldest the $series patch queue applies to: install a newer $series kernel (the newest your distribution offers)"
	fi
}

# Set $source (tree or tarball) and check its version against the target.
find_source() {
	local kver=$1 hdr_pkg hdr_ver src_pkg src_ver

	if [ -n "$ksrc" ]; then
		[ -e "$ksrc" ] || die "KSRC=$ksrc does not exist"
		source=$(realpath "$ksrc")
		source_name="KSRC=$source (Linux $kernel_version)"
		if [ -d "$source" ]; then
			[ -d "$source/arch/x86/kvm" ] && [ -d "$source/virt/kvm" ] ||
				die "KSRC=$ksrc is not a kernel tree (no arch/x86/kvm, virt/kvm)"
			source_version=$(makefile_version <"$source/Makefile")
			check_source_version "KSRC=$ksrc"
		fi
		# A tarball's version is checked once its Makefile is extracted.
		return
	fi

	command -v dpkg-query >/dev/null ||
		die "no KSRC= given and no dpkg to find the distro source: set KSRC=<kernel tree or tarball> of version $kernel_version"
	hdr_pkg=linux-headers-$kver
	hdr_ver=$(dpkg-query -W -f '${Version}' "$hdr_pkg" 2>/dev/null) ||
		die "$hdr_pkg is not installed, so the distro source version cannot be matched: install it, or set KSRC="
	src_pkg=linux-source-$series
	source=/usr/src/$src_pkg.tar.xz
	src_ver=$(dpkg-query -W -f '${db:Status-Abbrev} ${Version}' "$src_pkg" 2>/dev/null |
		  awk '$1 == "ii" { print $2 }') || true
	if [ -z "$src_ver" ] || [ ! -f "$source" ]; then
		die "the KVM source for $kver is missing: install it with 'apt-get install $src_pkg=$hdr_ver', or set KSRC="
	fi
	[ "$src_ver" = "$hdr_ver" ] ||
		die "$src_pkg is $src_ver but $hdr_pkg is $hdr_ver: install the matching source with 'apt-get install $src_pkg=$hdr_ver'"
	source_version=
	source_name="$src_pkg $src_ver"
}

check_source_version() {
	[ "$source_version" = "$kernel_version" ] ||
		die "$1 is Linux ${source_version:-of unknown version} but $kver is Linux $kernel_version: use a source of exactly $kernel_version"
}

extract() {
	local dest=$1 topdir m
	local -a names=()

	rm -rf "$dest.tmp"
	mkdir -p "$dest.tmp"
	if [ -d "$source" ]; then
		for m in "${members[@]}"; do
			[ -e "$source/$m" ] || continue
			mkdir -p "$dest.tmp/$(dirname "$m")"
			cp -a "$source/$m" "$dest.tmp/$m"
		done
	else
		echo "  EXTRACT ${members[*]:0:3} from $source"
		topdir=$(tar -tf "$source" 2>/dev/null | head -n 1) || true
		topdir=${topdir%%/*}
		[ -n "$topdir" ] || die "$source is not a readable kernel source tarball"
		for m in "${members[@]}"; do
			names+=("$topdir/$m")
		done
		tar -xf "$source" -C "$dest.tmp" --strip-components=1 "${names[@]}" ||
			die "cannot extract ${members[*]:0:3} from $source"
		source_version=$(makefile_version <"$dest.tmp/Makefile")
		check_source_version "${ksrc:+KSRC=}$source"
	fi
}

apply_patches() {
	local dest=$1 p
	local -a queue

	mapfile -t queue < <(queue "$series")
	for p in "${queue[@]}"; do
		echo "  PATCH   $series/$(basename "$p")"
		patch -d "$dest.tmp" -p1 --batch --forward --quiet <"$p" ||
			die "patch $p does not apply to the $series source ($source)"
	done
	patch_count=${#queue[@]}
}

# What modinfo and /sys/module/kvm/version say the module is.
write_build_header() {
	local h=$1/arch/x86/kvm/kvm_fastinval_build.h from

	from="$source_name, patch queue $series ($patch_count patches)"
	from=${from//\\/\\\\}
	from=${from//\"/\\\"}
	cat >"$h" <<-EOF
	/* Generated by scripts/kvm-source.sh. */
	#define KVM_FASTINVAL_VERSION "${KVM_FASTINVAL_VERSION:?}"
	#define KVM_FASTINVAL_SOURCE "$from"
	EOF
}

case ${1:-} in
series) [ $# -eq 1 ] || usage; series_list; exit ;;
queue) [ $# -eq 2 ] || usage; queue "$2"; exit ;;
esac
[ $# -ge 3 ] || usage
cmd=$1 kver=$2 kdir=$3
case "$cmd" in
check)
	[ $# -eq 3 ] || usage
	check_target "$kver" "$kdir"
	find_source "$kver"
	echo "$series"
	;;
prepare|extract)
	[ $# -eq 4 ] || usage
	dest=$4
	# On failure, leave no trace of this attempt.
	trap 'rm -rf "$dest.tmp"; rmdir "$dest" 2>/dev/null || true' EXIT
	check_target "$kver" "$kdir"
	find_source "$kver"
	extract "$dest"
	if [ "$cmd" = prepare ]; then
		apply_patches "$dest"
		write_build_header "$dest.tmp"
	fi
	# Replace only what was extracted: the build tree holds our files too
	# (copied before or after this, as make orders it).
	mkdir -p "$dest"
	for m in "$dest.tmp"/*; do
		rm -rf "${dest:?}/${m##*/}"
		mv "$m" "$dest/"
	done
	rmdir "$dest.tmp"
	;;
*)
	usage
	;;
esac
