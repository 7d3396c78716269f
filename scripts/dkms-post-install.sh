#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# dkms-post-install.sh KVER DIR: DKMS's POST_INSTALL (dkms.conf), DIR being
# the module's DKMS directory (/var/lib/dkms/kvm-fastinval).
#
# dkms 3.1 and later (Debian 13's) move the kernel's own kvm.ko into
# DIR/original_module/KVER/ARCH when they install ours, and back when they
# remove it; Debian 12's dkms 3.0 leaves it in place. It must stay where
# the kernel package put it: kvm-fastinval-switch loads it from there and
# dpkg owns it. Put a copy back: depmod still prefers ours (updates/), and
# the removal still moves the archived one over the copy.
set -eu

kver=$1
dir=$2
for origin in "$dir/original_module/$kver"/*/kvm.ko*.origin; do
	[ -f "$origin" ] || continue
	dest=$(head -n 1 "$origin")
	case $dest in
	*/modules/"$kver"/kernel/*) ;;
	*) continue ;;
	esac
	[ -e "$dest" ] || cp -p "${origin%.origin}" "$dest"
done
