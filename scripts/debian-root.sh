#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# debian-root.sh RELEASE ROOT PACKAGES...: make ROOT a minbase Debian
# RELEASE root (mmdebstrap) with PACKAGES, unless it is one already with
# exactly these packages; kept for the next caller. One maker at a time per
# root (ROOT.lock); the log is ROOT.log. The build roots (build-root.sh), the
# QEMU roots (qemu-root.sh) and the source matrix's roots are made here.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
die() { echo "debian-root: $*" >&2; exit 1; }

[ $# -ge 3 ] || die "usage: $0 RELEASE ROOT PACKAGES..."
release=$1 root=$2
shift 2
case $release in *[!a-z]* | "") die "not a Debian codename: '$release'" ;; esac
key="v1 $*"

mkdir -p "${root%/*}"
exec 9>"$root.lock"
flock 9
[ "$(cat "$root/.kvm-fastinval-root" 2>/dev/null)" != "$key" ] || exit 0
[ "$(id -u)" -eq 0 ] || die "making $root needs root (mmdebstrap)"
command -v mmdebstrap >/dev/null ||
	DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
		mmdebstrap >/dev/null
echo "  ROOT    $release (mmdebstrap, ${root#"$top"/}): $*" >&2
rm -rf --one-file-system "$root"
pkgs="$*"
mmdebstrap --variant=minbase --include="${pkgs// /,}" \
	--aptopt='APT::Install-Recommends "false"' \
	"$release" "$root" "$("$top/scripts/debian-apt.sh" "$release" sources)" \
	>"$root.log" 2>&1 || { tail -n 20 "$root.log" >&2; rm -rf "$root"; die "mmdebstrap $release failed"; }
echo "$key" >"$root/.kvm-fastinval-root"
