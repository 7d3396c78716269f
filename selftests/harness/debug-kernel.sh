#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# A debug kernel from Debian's own source (lockdep, KASAN, list and RCU
# checks), kvm-fastinval built against it, and our tests in QEMU on it:
# Debian ships no debug kernel.  Opt-in (make debug-test): the build alone
# takes about an hour on 2 cores.
#
#   debug-kernel.sh build      build the kernel in build/debug-kernel/ and
#                              install it into build/images/KVER
#   debug-kernel.sh kver       the kernel release it builds
#   debug-kernel.sh test       build, then our module against it, then in
#                              QEMU: the boot test, our kselftests and the
#                              curated upstream set (TDP and shadow), the
#                              soak; each fails on any report of the debug
#                              options in the kernel log (splats.sh)
#
# DEBUG_SOURCE=   a linux-source tarball (default: the newest
#                 /usr/src/linux-source-6.12.tar.xz, Debian's own)
# SOAK_MINUTES=   the soak's length per MMU (default 10; 0 skips it)
# DEBUG_MODULES=  which kvm.ko the curated set runs on (default "ours"; "stock
#                 ours": the debug kernel's own kvm.ko too)
# JOBS=           make -j (default nproc)
set -euo pipefail

top=$(cd "$(dirname "$0")/../.." && pwd)
work=$top/build/debug-kernel
source_tarball=${DEBUG_SOURCE:-/usr/src/linux-source-6.12.tar.xz}
localversion=-kvm-fastinval-debug
jobs=${JOBS:-$(nproc)}

die() { echo "debug-kernel: $*" >&2; exit 2; }
step() { echo "# debug-kernel: $*"; }

[ -f "$source_tarball" ] ||
	die "no $source_tarball: install linux-source-6.12 (apt-get install linux-source-6.12), or set DEBUG_SOURCE="

# The tree's top directory in the tarball ("linux-source-6.12").
tree_name=$({ tar -tJf "$source_tarball" 2>/dev/null || true; } | head -n 1 | cut -d/ -f1)
tree=$work/$tree_name

makefile_version() {
	awk -F' *= *' '$1 == "VERSION" { v = $2 } $1 == "PATCHLEVEL" { p = $2 }
		       $1 == "SUBLEVEL" { s = $2 } END { print v "." p "." s }'
}

kver_of_tarball() {
	if [ -f "$tree/Makefile" ]; then
		makefile_version <"$tree/Makefile"
	else
		tar -xJOf "$source_tarball" "$tree_name/Makefile" | makefile_version
	fi | sed "s/\$/$localversion/"
}

# What the debug kernel is: x86_64 defconfig, the kvm_guest fragment, KVM
# as modules as in Debian, the distro's preemption model, tracing for our
# events, and the checkers.
config_options=(
	-m KVM -m KVM_AMD -m KVM_INTEL -e VIRTUALIZATION
	-e MODULES -e MODVERSIONS -d MODULE_SIG
	-e PREEMPT_DYNAMIC -e PREEMPT_VOLUNTARY -d PREEMPT_NONE -d PREEMPT
	-e TRANSPARENT_HUGEPAGE -e HUGETLBFS
	-e FTRACE -e FUNCTION_TRACER -e DYNAMIC_FTRACE -e DEBUG_FS
	-e DEBUG_INFO_NONE -d DEBUG_INFO_DWARF5 -d DEBUG_INFO_BTF
	-d LOCALVERSION_AUTO --set-str LOCALVERSION "$localversion"
	-e PROVE_LOCKING -e DEBUG_ATOMIC_SLEEP -e PROVE_RCU -e PROVE_RCU_LIST
	-e KASAN -e KASAN_GENERIC -e KASAN_INLINE
	-e DEBUG_LIST -e DEBUG_VM -e DEBUG_OBJECTS -e DEBUG_OBJECTS_RCU_HEAD
	-e DEBUG_OBJECTS_FREE -e DEBUG_OBJECTS_TIMERS -e DEBUG_OBJECTS_WORK
	-e UBSAN -e UBSAN_BOUNDS -d UBSAN_ALIGNMENT
	-e SOFTLOCKUP_DETECTOR -e DETECT_HUNG_TASK
	# Not needed by a serial-console QEMU guest on an initramfs: time.
	-d DRM -d SOUND -d WIRELESS -d WLAN -d NETDEVICES -d USB_SUPPORT
	-d MEDIA_SUPPORT -d AGP -d HID -d INPUT_MOUSE -d INPUT_JOYSTICK
)

build() {
	local kver=$1 image=$top/build/images/$1 stamp
	stamp="$(printf '%s\n' "${config_options[@]}" | sha256sum | cut -c1-16) $(stat -c '%n:%s:%Y' "$source_tarball")"
	if [ -f "$tree/.kvm-fastinval-stamp" ] && [ "$(cat "$tree/.kvm-fastinval-stamp")" = "$stamp" ] &&
	   [ -f "$image/boot/vmlinuz-$kver" ]; then
		step "$kver is built ($image)"
		return
	fi
	mkdir -p "$work"
	if [ ! -f "$tree/Makefile" ]; then
		step "extracting $source_tarball"
		tar -xJf "$source_tarball" -C "$work"
	fi
	step "configuring $kver"
	(cd "$tree" &&
		make -s defconfig &&
		make -s kvm_guest.config &&
		scripts/config --file .config "${config_options[@]}" &&
		make -s olddefconfig) >"$work/config.log" 2>&1 || die "configuring failed (log: $work/config.log)"
	# olddefconfig drops what it cannot satisfy: say so rather than
	# build another kernel than the one described above.
	local o want
	for o in PROVE_LOCKING DEBUG_ATOMIC_SLEEP PROVE_RCU KASAN DEBUG_LIST KVM_AMD; do
		want=y
		[ $o != KVM_AMD ] || want=m
		grep -qx "CONFIG_$o=$want" "$tree/.config" || die "CONFIG_$o=$want did not stick in $tree/.config"
	done
	step "building $kver with -j$jobs (about an hour on 2 cores), log: $work/build.log"
	local t0=$SECONDS
	make -C "$tree" -j"$jobs" bzImage modules >"$work/build.log" 2>&1 ||
		{ tail -n 20 "$work/build.log" >&2; die "kernel build failed (log: $work/build.log)"; }
	[ "$(make -s -C "$tree" kernelrelease)" = "$kver" ] || die "kernel release is not $kver"
	rm -rf "$image"
	mkdir -p "$image/boot"
	make -C "$tree" -s INSTALL_MOD_PATH="$image" INSTALL_MOD_STRIP=1 modules_install >>"$work/build.log" 2>&1 ||
		die "modules_install failed (log: $work/build.log)"
	cp "$tree/arch/x86/boot/bzImage" "$image/boot/vmlinuz-$kver"
	cp "$tree/.config" "$image/boot/config-$kver"
	echo "$stamp" >"$tree/.kvm-fastinval-stamp"
	step "built $kver in $((SECONDS - t0)) s"
}

# The tests of test-all.sh for one kernel, on this one; TAP, a summary.
run_tests() {
	local kver=$1 logs=$top/build/logs/$1 ko=$top/build/$1/arch/x86/kvm/kvm.ko
	local soak=${SOAK_MINUTES:-10} modules=${DEBUG_MODULES:-ours} t0=$SECONDS
	# shellcheck disable=SC2034 # ktap.sh's counters
	n=0 passed=0 failed=0
	# shellcheck disable=SC2317 # ktap.sh's check() calls it
	note() { echo "# [$((SECONDS - t0))s] $*"; }
	# shellcheck source=selftests/harness/ktap.sh
	. "$top/selftests/harness/ktap.sh"
	mkdir -p "$logs"
	note "debug kernel $kver: $(grep -cE '^CONFIG_(PROVE_LOCKING|DEBUG_ATOMIC_SLEEP|PROVE_RCU|KASAN|DEBUG_LIST|DEBUG_OBJECTS|UBSAN)=y' "$tree/.config") checkers on"
	check "$kver: kvm-fastinval's kvm.ko builds against it" "$logs/make.log" \
		make -C "$top" KVER="$kver" KDIR="$tree" KSRC="$tree" -j"$jobs"
	check "$kver: exports and CRCs equal its own kvm.ko's" "$logs/abi.log" \
		"$top/scripts/abi-check.sh" "$tree/Module.symvers" "${ko%/*}/Module.symvers"
	check "$kver: test programs build" "$logs/selftests.log" \
		"$top/selftests/harness/build-upstream-selftests.sh" "$kver" "$top/build/selftests/$kver"
	# Slower than a distro kernel under TCG: KASAN and lockdep on every access
	# and lock; the guest needs KASAN's shadow too. With 5-level paging
	# (-cpu max has LA57) KASAN reports a wild access in an interrupt at
	# 0.02 s, in swapper before any module, and turns lockdep off: 4 levels.
	export BOOT_APPEND=${BOOT_APPEND-no5lvl}
	note "boot test"
	BOOT_TIMEOUT=1800 SELFTEST_TIMEOUT=600 QEMU_MEM=3G \
		relay "boot: " "$kver" "$logs/debug-boot.log" "$top/selftests/harness/boot-test.sh" "$kver"
	note "kvm-fastinval kselftests and the curated upstream set ($modules), TDP and shadow"
	# The holds test's unit, 10 shadow pages, took up to 71 ms here (under
	# 1 ms each on the distro kernels): the margin for one unit, x2.
	ARGS_fastinval_holds_test=${ARGS_fastinval_holds_test--m 150} \
	MODULE=$ko QEMU_MEM=4G TIMEOUT_SCALE=3 ST_MODULES=$modules relay "selftests: " "$kver: upstream selftests \\(ci\\)" \
		"$logs/debug-selftests.log" "$top/selftests/harness/upstream-selftests.sh" "$kver"
	if [ "$soak" != 0 ]; then
		note "soak, $soak minutes per MMU"
		MODULE=$ko QEMU_MEM=4G TIMEOUT_SCALE=3 SOAK_MINUTES=$soak relay "soak: " "$kver: upstream selftests \\(soak\\)" \
			"$logs/debug-soak.log" "$top/selftests/harness/upstream-selftests.sh" --soak "$kver"
	fi
	echo "1..$n"
	echo "$kver: debug kernel: $passed passed, $failed failed"
	[ "$failed" -eq 0 ]
}

case ${1:-} in
kver) kver_of_tarball ;;
build) build "$(kver_of_tarball)" ;;
test)
	kver=$(kver_of_tarball)
	echo "TAP version 13"
	build "$kver"
	run_tests "$kver"
	;;
*) die "usage: $0 build | kver | test" ;;
esac
