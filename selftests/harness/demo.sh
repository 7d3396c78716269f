#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# demo.sh [KVER]: build kvm-fastinval for a Debian kernel (default: the
# newest kernel of the newest Debian release, backports aside: Debian 13's
# 6.12 today), boot that kernel in QEMU, load the module through modprobe
# and show it working. Installs what it needs.
set -euo pipefail

top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top"

echo "# demo: finding the supported Debian kernels"
scripts/deps.sh ${1:+"$1"} >/dev/null
kver=${1:-$(scripts/debian-kernels.sh list |
	    awk '$3 !~ /~bpo/ { r = $4; k[r] = k[r] $2 "\n" } END { printf "%s", k[r] }' |
	    sort -V | tail -n 1)}
[ -n "$kver" ] || { echo "demo: apt offers no supported Debian kernel" >&2; exit 1; }

echo "# demo: building kvm-fastinval's kvm.ko for $kver"
make -s KVER="$kver" -j"$(nproc)" >build/demo-make.log 2>&1 ||
	{ tail -n 30 build/demo-make.log >&2; exit 1; }
make -s KVER="$kver" abi-check
make -s -C selftests/smoke OUTPUT="$top/build/selftests/$kver" >/dev/null

echo "# demo: booting Debian's $kver in QEMU with the module in updates/dkms"
BOOT_MODE=demo selftests/harness/boot-test.sh "$kver"

echo "# demo: the guest's trace.dat, read by kvm-fastinval-stat on this machine"
stat=$(make -s stat | tail -n 1)
files=build/logs/$kver/demo-files
trace=$files/trace.dat
# shellcheck source=selftests/harness/channel.sh
. selftests/harness/channel.sh
rm -rf "$files" && mkdir -p "$files"
unship "build/logs/$kver/boot-demo.tap" "$files"
echo "\$ kvm-fastinval-stat $trace"
"$stat" "$trace"
