#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# build-root.sh KVER CMD...: run CMD for a Debian kernel of another release
# than the host's in a build root of that release, as DKMS on a host of that
# release would. Trixie's kbuild tools need trixie's glibc and its kernels
# were built with its gcc, so a Debian 12 host cannot build them natively.
#
# The root (build/roots/RELEASE, made by mmdebstrap, kept) gets the kernel's
# linux-headers and linux-source of the kernel's exact version; this tree
# is bound at its own path inside, so CMD reads and writes build/ as on the
# host. A kernel of the host's release (or one apt does not know) runs CMD
# natively.
#
#   build-root.sh KVER make KVER=KVER -j2
#   build-root.sh --where KVER     "native" or the root's path
#
# CMD runs with IN_BUILD_ROOT=1 (natively too) and, in a root, with a clean
# environment: pass what it needs as "env VAR=value CMD". A script that
# builds for a KVER starts with (see build-upstream-selftests.sh):
#   [ "${IN_BUILD_ROOT:-}" = 1 ] || exec build-root.sh KVER env ... "$0" "$@"
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
die() { echo "build-root: $*" >&2; exit 1; }

where=0
[ "${1:-}" = --where ] && { where=1; shift; }
[ $# -ge $((2 - where)) ] || die "usage: $0 KVER CMD... | --where KVER"
kver=$1
shift

host=$("$top/scripts/debian-kernels.sh" host)
line=$("$top/scripts/debian-kernels.sh" line "$kver" 2>/dev/null) || true
read -r series _ version release <<<"${line:-- - - $host}"
if [ "$release" = "$host" ] || [ "${IN_BUILD_ROOT:-}" = 1 ]; then
	[ $where = 1 ] && { echo native; exit 0; }
	IN_BUILD_ROOT=1 exec "$@"
fi
root=${BUILD_ROOTS:-$top/build/roots}/$release
[ $where = 1 ] && { echo "$root"; exit 0; }
[ "$(id -u)" -eq 0 ] || die "building for $kver ($release) needs a $release root: run as root (mmdebstrap, chroot)"

# What kbuild, our scripts, DKMS and the selftests (7.x: libuuid) use;
# binutils explicitly (minbase). A package added later is installed into
# an existing root.
packages="build-essential binutils make patch xz-utils zstd bc kmod libelf-dev
	  dkms dpkg-dev flex bison rsync cpio file uuid-dev"
packages=$(echo "$packages" | tr -s ' \n\t' '  ')
# shellcheck disable=SC2086 # one package per word
"$top/scripts/debian-root.sh" "$release" "$root" $packages
# One package step at a time per root (test-all builds one kernel while
# another's boots build in the same root); CMD itself runs unlocked.
exec 9>"$root.lock"
flock 9

inroot() {
	CHROOT_BIND=$top "$top/selftests/harness/pkg-chroot.sh" run "$root" "$@"
}

# shellcheck disable=SC2086 # one package per word
if ! inroot dpkg-query -W $packages >/dev/null 2>&1; then
	echo "  APT     $packages (in the $release root)" >&2
	inroot sh -c "apt-get update -q >/dev/null && apt-get install -y -q --no-install-recommends $packages" \
		>"$root.log" 2>&1 || { tail -n 20 "$root.log" >&2; die "cannot install packages in the $release root"; }
fi

# The kernel's headers and source, of its exact version.
if ! inroot sh -c "dpkg-query -W -f '\${Version}\n' linux-headers-$kver linux-source-$series 2>/dev/null |
		   grep -cxF '$version' | grep -qx 2"; then
	echo "  APT     linux-headers-$kver linux-source-$series ($version, in the $release root)" >&2
	inroot sh -c "apt-get update -q >/dev/null && apt-get install -y -q --no-install-recommends \
		linux-headers-$kver=$version linux-source-$series=$version >/dev/null" ||
		die "cannot install linux-headers-$kver and linux-source-$series $version in the $release root"
fi

exec 9>&-
cd "$top"
exec env CHROOT_BIND="$top" "$top/selftests/harness/pkg-chroot.sh" run "$root" \
	sh -c 'cd "$1" 2>/dev/null || cd "$2"; shift 2; exec env IN_BUILD_ROOT=1 "$@"' sh "$PWD" "$top" "$@"
