#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# qemu-root.sh RELEASE: print the path of a Debian RELEASE root that holds
# that release's QEMU (build/roots/qemu-RELEASE, made by mmdebstrap on first
# use, ~1.5 min, kept), for boot-test.sh's QEMU_RELEASE=.  Debian 12's QEMU
# 7.2 runs the kernel's text patching wrong under multi-threaded TCG
# (mttcg-probe.sh); Debian 13's QEMU 10.0 does not.
set -euo pipefail

top=$(cd "$(dirname "$0")/../.." && pwd)
die() { echo "qemu-root: $*" >&2; exit 2; }
[ $# -eq 1 ] || die "usage: $0 RELEASE"
release=$1
case $release in *[!a-z]* | "") die "not a Debian codename: '$release'" ;; esac
root=${BUILD_ROOTS:-$top/build/roots}/qemu-$release
key="v1 qemu-system-x86 qemu-system-data seabios ipxe-qemu"

mkdir -p "${root%/*}"
exec 9>"$root.lock"
flock 9
if [ "$(cat "$root/.kvm-fastinval-root" 2>/dev/null)" != "$key" ]; then
	[ "$(id -u)" -eq 0 ] || die "making $root needs root (mmdebstrap)"
	command -v mmdebstrap >/dev/null ||
		DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
			mmdebstrap >/dev/null
	echo "  ROOT    $release with QEMU (mmdebstrap, ${root#"$top"/})" >&2
	rm -rf --one-file-system "$root"
	pkgs=${key#v1 }
	mmdebstrap --variant=minbase --include="${pkgs// /,}" \
		--aptopt='APT::Install-Recommends "false"' \
		"$release" "$root" "$("$top/scripts/debian-apt.sh" "$release" sources)" \
		>"$root.log" 2>&1 || { tail -n 20 "$root.log" >&2; rm -rf "$root"; die "mmdebstrap $release failed"; }
	echo "$key" >"$root/.kvm-fastinval-root"
fi
echo "$root"
