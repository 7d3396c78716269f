#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# dkms-private.sh KVER: dkms add, build and install kvm-fastinval for KVER
# in a private DKMS tree under build/dkms, so that tests never touch the
# host's /usr/src, /var/lib/dkms or /lib/modules. Prints the path of the
# installed module last. DKMS_ROOT= moves the private tree.
set -euo pipefail

top=$(cd "$(dirname "$0")/../.." && pwd)
kver=${1:?usage: $0 KVER}
# A kernel of another Debian release: that release's DKMS, in its root.
[ "${IN_BUILD_ROOT:-}" = 1 ] ||
	exec "$top/scripts/build-root.sh" "$kver" env DKMS_ROOT="${DKMS_ROOT:-}" KDIR="${KDIR:-}" \
		"$top/selftests/harness/${0##*/}" "$@"
root=${DKMS_ROOT:-$top/build/dkms}
name=$(sed -n 's/^PACKAGE_NAME="\(.*\)"/\1/p' "$top/dkms.conf")
version=$(sed -n 's/^PACKAGE_VERSION="\(.*\)"/\1/p' "$top/dkms.conf")
kdir=${KDIR:-/lib/modules/$kver/build}

command -v dkms >/dev/null || { echo "dkms-private: dkms is not installed (apt-get install dkms)" >&2; exit 1; }

src=$root/source/$name-$version
make -s -C "$top" dkms-source DEST="$src"
dkms_args=(--dkmstree "$root/tree" --sourcetree "$root/source"
	   --installtree "$root/install" --kernelsourcedir "$kdir" --no-depmod)

mkdir -p "$root/tree"
# A stale registration of the same version would make "add" fail.
dkms remove "$name/$version" -k "$kver" "${dkms_args[@]}" >/dev/null 2>&1 || true
rm -rf "${root:?}/tree/$name"
# And an earlier install for KVER: dkms 3.0 will not replace a module of the
# same version it does not know, keeps it and still succeeds.
rm -rf "${root:?}/install/$kver"

mkdir -p "$root/install/$kver"
echo "  DKMS    add $name/$version"
dkms add "$name/$version" "${dkms_args[@]}" >"$root/add.log" 2>&1 ||
	{ cat "$root/add.log" >&2; exit 1; }
echo "  DKMS    build -k $kver"
if ! dkms build "$name/$version" -k "$kver" "${dkms_args[@]}" >"$root/build-$kver.log" 2>&1; then
	cat "$root/build-$kver.log" >&2
	find "$root/tree/$name/$version/build" -maxdepth 1 -name make.log -exec tail -n 30 {} + >&2 || true
	exit 1
fi
echo "  DKMS    install -k $kver"
dkms install "$name/$version" -k "$kver" "${dkms_args[@]}" >"$root/install-$kver.log" 2>&1 ||
	{ cat "$root/install-$kver.log" >&2; exit 1; }

# The module kvm-fastinval builds is kvm.ko.
ko=$(find "$root/install/$kver" -name "kvm.ko*" | head -n 1)
[ -n "$ko" ] || { echo "dkms-private: dkms install left no kvm.ko under $root/install/$kver" >&2; exit 1; }
echo "$ko"
