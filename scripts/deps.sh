#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# deps.sh [KVER...]: install the Debian packages kvm-fastinval's build, demo
# and tests need, then the headers, source and image of each Debian kernel
# named (default: every supported one, see debian-kernels.sh). Installs only
# what is missing.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)

packages=(make gcc libc6-dev patch xz-utils zstd cpio kmod dkms
	  qemu-system-x86 bc flex bison libelf-dev libssl-dev file
	  trace-cmd libtracecmd-dev libtraceevent-dev libtracefs-dev pkg-config
	  gnuplot-nox rsync mmdebstrap debian-archive-keyring uuid-dev)

missing=()
for p in "${packages[@]}"; do
	dpkg-query -W -f '${db:Status-Abbrev}' "$p" 2>/dev/null | grep -q '^ii' ||
		missing+=("$p")
done

[ "$(id -u)" -eq 0 ] || [ ${#missing[@]} -eq 0 ] ||
	{ echo "deps: run as root to install: ${missing[*]}" >&2; exit 1; }

# Kernel image postinst hooks would build an initramfs nobody boots.
export DEBIAN_FRONTEND=noninteractive INITRD=No

echo "  APT     update"
apt-get update -q >/dev/null
if [ ${#missing[@]} -gt 0 ]; then
	echo "  APT     ${missing[*]}"
	apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
fi

if [ $# -eq 0 ]; then
	mapfile -t kvers < <("$top/scripts/debian-kernels.sh" list | awk '{ print $2 }')
	[ ${#kvers[@]} -gt 0 ] || { echo "deps: apt offers no supported Debian kernel" >&2; exit 1; }
else
	kvers=("$@")
fi
for k in "${kvers[@]}"; do
	"$top/scripts/debian-kernels.sh" fetch "$k"
done
