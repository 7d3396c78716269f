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
"$top/scripts/debian-root.sh" "$release" "$root" qemu-system-x86 qemu-system-data seabios ipxe-qemu ||
	die "cannot make the $release QEMU root"
echo "$root"
