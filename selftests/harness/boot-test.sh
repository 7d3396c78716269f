#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Boot a Debian distro kernel under QEMU TCG with kvm-fastinval installed as
# DKMS would, and check (selftests/harness/guest-init.sh) that it is a drop-in kvm.ko.
#
#   boot-test.sh KVER
#
# Environment:
#   MODULE=        our kvm.ko (default build/KVER/arch/x86/kvm/kvm.ko),
#                  "none" in stock mode
#   SELFTESTS=     test binaries: kvm_smoke, upstream/* (default build/selftests/KVER)
#   BOOT_TIMEOUT=  seconds before a hung guest is killed (default 600)
#   SELFTEST_TIMEOUT=  seconds per test binary in the guest (default 180)
#   IMAGES_DIR=    unpacked linux-image debs (default build/images)
#   BOOT_MODE=     "demo": print a transcript of kvm-fastinval at work instead;
#                  "selftests": run SELFTEST_LIST against stock kvm.ko and ours
#                  (selftests/harness/guest-selftests.sh; the caller parses the .tap)
#   SELFTEST_LIST= selftests mode: "PATH TIMEOUT [ARGS]" lines, PATH under SELFTESTS
#   ST_MODULES=    selftests mode: "stock ours" (default), ST_MODES= "tdp shadow";
#                  "plain" too: the plain rebuild (make plain), PLAIN_MODULE=
#                  (default build/plain/KVER/arch/x86/kvm/kvm.ko)
#   QEMU_MEM=      guest memory (default 2G)
#   QEMU_SMP=      vCPUs (default 2; 1: the VM's vCPU thread and the ioctl
#                  share one guest CPU)
#   BOOT_APPEND=   more kernel command line
#   TCG_THREADS=   1 (default): one TCG thread runs both vCPUs; 2: a thread
#                  per vCPU (multi-threaded TCG, the vCPUs really run at once)
#   QEMU_RELEASE=  boot with the QEMU of this Debian release (e.g. trixie), from
#                  a root selftests/harness/qemu-root.sh makes, not this machine's
#   HOLD_VM=1      selftests mode: a VM (vm_hold) stays open beside the
#                  tests, so that KVM's static keys never flip back
#                  "switch": test kvm-fastinval-switch; "stock": after removal,
#                  the distro kvm loads (selftests/harness/guest-init.sh)
#   MODPROBE_ROOT= take lib/ and etc/modprobe.d/*.conf from this root (a
#                  package install)
#   SWITCH=        kvm-fastinval-switch to put in /usr/sbin (default packaging/)
#   BOOT_NAME=     log name: build/logs/KVER/boot-NAME.log (default: the mode)
#
# Prints TAP; ends with "KVER: N passed, N failed".  Exit 0: all passed,
# 1: a check failed, 2: setup error (missing input, bad usage).
set -euo pipefail

top=$(cd "$(dirname "$0")/../.." && pwd)
die() { echo "boot-test: $*" >&2; exit 2; }
step() { echo "# boot-test: $*"; }

[ $# -eq 1 ] || die "usage: $0 KVER"
kver=$1
# The checking modes print TAP, its version line first.
case ${BOOT_MODE:-test} in test | switch | stock) echo "TAP version 13" ;; esac
image=${IMAGES_DIR:-$top/build/images}/$kver
module=${MODULE:-$top/build/$kver/arch/x86/kvm/kvm.ko}
selftests=${SELFTESTS:-$top/build/selftests/$kver}
boot_timeout=${BOOT_TIMEOUT:-600}
selftest_timeout=${SELFTEST_TIMEOUT:-180}
mode=${BOOT_MODE:-test}
work=$top/build/boot-test
logs=$top/build/logs/$kver
moddir=lib/modules/$kver
case ${TCG_THREADS:-1} in
1) tcg=tcg,thread=single ;;
2) tcg=tcg,thread=multi ;;
*) die "TCG_THREADS=$TCG_THREADS: 1 or 2" ;;
esac
case ${QEMU_SMP:-2} in
1 | 2) ;;
*) die "QEMU_SMP=$QEMU_SMP: 1 or 2" ;;
esac
qemu=(qemu-system-x86_64)
if [ -n "${QEMU_RELEASE:-}" ]; then
	qroot=$("$top/selftests/harness/qemu-root.sh" "$QEMU_RELEASE") || die "no QEMU of $QEMU_RELEASE"
	# This tree at its own path inside, so that every path stays valid.
	qemu=(env CHROOT_BIND="$top" "$top/selftests/harness/pkg-chroot.sh" run "$qroot" qemu-system-x86_64)
fi

# Module options the guest checks for: values differ from the defaults in
# both 6.1 and 6.12 (virt/kvm/kvm_main.c, arch/x86/kvm/x86.c; all 0644).
conf_opts="min_timer_period_us=345 halt_poll_ns_shrink=3"
cmdline_opts="halt_poll_ns_grow_start=12345 tsc_tolerance_ppm=321"

# Guest userspace: this machine's Debian binaries (+ their libraries).
guest_bins=(bash dash cat ls mkdir cp readlink timeout head tail wc sort
	    sleep uname cut tr basename dirname ln rm stat env sync stty
	    grep sed mawk mount umount dmesg kmod find id
	    trace-cmd base64 seq dd taskset)

# -- host tools ---------------------------------------------------------------
need=()
for c in qemu-system-x86_64:qemu-system-x86 kmod:kmod cpio:cpio ldd:libc-bin \
	 timeout:coreutils "${guest_bins[@]/%/:}"; do
	cmd=${c%%:*} pkg=${c#*:}
	command -v "$cmd" >/dev/null && continue
	[ -n "$pkg" ] || pkg=$(dpkg -S "*bin/$cmd" 2>/dev/null | head -n 1 | cut -d: -f1)
	need+=("${pkg:-$cmd}")
done
if [ ${#need[@]} -gt 0 ]; then
	step "apt-get install ${need[*]}"
	DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
		"${need[@]}" >/dev/null || die "cannot install ${need[*]}"
fi

# -- inputs -------------------------------------------------------------------
[ -f "$image/boot/vmlinuz-$kver" ] ||
	die "no $image/boot/vmlinuz-$kver (run scripts/debian-kernels.sh fetch $kver)"
[ -d "$image/$moddir/kernel" ] || die "no $image/$moddir/kernel"
[ "$module" = none ] && [ "$mode" = stock ] || [ -f "$module" ] ||
	die "no module $module (set MODULE=)"
switch=${SWITCH:-$top/tools/kvm-fastinval-switch}
[ -d "$selftests" ] || step "warning: no $selftests, test binaries will be reported missing"

mkdir -p "$work/$kver" "$logs"
self_sum=$(cat "$0" "$top"/selftests/harness/guest-*.sh | sha256sum | cut -c1-16)

# Write $1 (cpio) from directory $2, deterministic and owned by root.
mkcpio() {
	(cd "$2" && find . -mindepth 1 -print0 | LC_ALL=C sort -z |
		cpio --null -o -H newc -R 0:0 --quiet) >"$1.tmp"
	mv "$1.tmp" "$1"
}

# Stamp check: rebuild $1 unless $1.stamp holds $2.
fresh() { [ -f "$1" ] && [ -f "$1.stamp" ] && [ "$(cat "$1.stamp")" = "$2" ]; }

# -- base userspace (shared by all kernels) -----------------------------------
base=$work/base.cpio
stamp=$self_sum
for b in "${guest_bins[@]}"; do
	p=$(command -v "$b") || die "no $b on this machine"
	stamp+=" $(stat -L -c '%n:%s:%Y' "$p")"
done
if ! fresh "$base" "$stamp"; then
	step "building guest userspace $base"
	d=$work/base.d.$$	# per process: two kernels may build at once
	rm -rf "$d"
	mkdir -p "$d"/usr/{bin,sbin,lib,lib64} "$d"/{dev,proc,sys,tmp,run,root,etc/modprobe.d}
	for l in bin sbin lib lib64; do ln -s "usr/$l" "$d/$l"; done
	libs=()
	for b in "${guest_bins[@]}"; do
		p=$(command -v "$b")
		cp -L "$p" "$d/usr/bin/$b"
		mapfile -t -O "${#libs[@]}" libs < <(ldd "$p" | awk '$(NF-1) ~ /^\// { print $(NF-1) } $1 ~ /^\// { print $1 }')
	done
	for l in $(printf '%s\n' "${libs[@]}" | sort -u); do
		t=$d/usr${l#/usr}
		mkdir -p "$(dirname "$t")"
		cp -L "$l" "$t"
	done
	ln -s mawk "$d/usr/bin/awk"
	ln -s dash "$d/usr/bin/sh"
	for t in modprobe depmod lsmod insmod rmmod modinfo; do
		ln -s ../bin/kmod "$d/usr/sbin/$t"
	done
	mkcpio "$base" "$d"
	echo "$stamp" >"$base.stamp"
	rm -rf "$d"
fi

# -- distro modules: closure of kvm, kvm_amd, kvm_intel and our module's deps ---
declare -A kofile
while read -r f; do
	n=$(basename "$f"); n=${n%%.ko*}
	kofile[${n//-/_}]=$f
done < <(cd "$image/$moddir" && find kernel -name '*.ko*')
deps=
[ "$module" = none ] || deps=$(modinfo -F depends "$module") || die "modinfo $module failed"
roots="kvm kvm_amd kvm_intel ${deps//,/ }"
mods=$work/$kver/modules.cpio
stamp="$self_sum $(cat "$image/.version" 2>/dev/null || true) $roots"
if ! fresh "$mods" "$stamp"; then
	step "collecting distro modules for $kver"
	queue=() files=()
	for r in $roots; do queue+=("${r//-/_}"); done
	declare -A seen=()
	while [ ${#queue[@]} -gt 0 ]; do
		m=${queue[0]} queue=("${queue[@]:1}")
		[ -z "${seen[$m]:-}" ] || continue
		seen[$m]=1
		f=${kofile[$m]:-}
		if [ -z "$f" ]; then
			# Built in (or not a module): nothing to copy.
			grep -q "/${m//_/[-_]}\.ko" "$image/$moddir/modules.builtin" ||
				die "module $m (needed by kvm closure) not in $image"
			continue
		fi
		files+=("$f")
		for dm in $(modinfo -F depends "$image/$moddir/$f" | tr , ' '); do
			queue+=("${dm//-/_}")
		done
	done
	echo "# modules: ${files[*]}"
	d=$work/$kver/modules.d
	rm -rf "$d"
	mkdir -p "$d/usr/$moddir"
	for f in "${files[@]}"; do
		mkdir -p "$d/usr/$moddir/$(dirname "$f")"
		cp "$image/$moddir/$f" "$d/usr/$moddir/$f"
	done
	for f in modules.order modules.builtin modules.builtin.modinfo; do
		cp "$image/$moddir/$f" "$d/usr/$moddir/"
	done
	mkcpio "$mods" "$d"
	echo "$stamp" >"$mods.stamp"
	rm -rf "$d"
fi

# -- this run: our module, test binaries, init, config (always rebuilt) --------
d=$work/$kver/run.d
rm -rf "$d"
mkdir -p "$d/usr/$moddir/updates/dkms" "$d/etc/modprobe.d" "$d/opt/selftests/upstream"
case $module in
none) ;;
*.ko) cp "$module" "$d/usr/$moddir/updates/dkms/kvm.ko" ;;
*) cp "$module" "$d/usr/$moddir/updates/dkms/kvm.ko.${module##*.ko.}" ;;
esac
if [[ " ${ST_MODULES:-} " == *" plain "* ]]; then
	plain=${PLAIN_MODULE:-$top/build/plain/$kver/arch/x86/kvm/kvm.ko}
	[ -f "$plain" ] || die "no plain rebuild $plain (make plain KVER=$kver, or set PLAIN_MODULE=)"
	install -D -m 0644 "$plain" "$d/opt/plain/kvm.ko"
fi
if [ -n "${MODPROBE_ROOT:-}" ]; then
	mkdir -p "$d/usr/lib/modprobe.d"
	for f in "$MODPROBE_ROOT"/lib/modprobe.d/*.conf; do
		[ ! -f "$f" ] || cp "$f" "$d/usr/lib/modprobe.d/"
	done
	for f in "$MODPROBE_ROOT"/etc/modprobe.d/*.conf; do
		[ ! -f "$f" ] || cp "$f" "$d/etc/modprobe.d/"
	done
fi
# Absent once the package is removed. packaging/'s copy gets the version
# as the package build gives it; an installed one has it already.
version=$(sed -n 's/^PACKAGE_VERSION="\(.*\)"/\1/p' "$top/dkms.conf")
if [ -f "$switch" ]; then
	mkdir -p "$d/usr/sbin"
	sed "s/@VERSION@/$version/" "$switch" >"$d/usr/sbin/kvm-fastinval-switch"
	chmod 0755 "$d/usr/sbin/kvm-fastinval-switch"
fi
echo "options kvm $conf_opts" >"$d/etc/modprobe.d/boot-test.conf"
cat >"$d/etc/boot-test.env" <<EOF
BT_CONF_OPTS="$conf_opts"
BT_CMDLINE_OPTS="$cmdline_opts"
BT_SELFTEST_TIMEOUT=$selftest_timeout
BT_MODE=$mode
BT_VERSION=$version
BT_ST_MODULES="${ST_MODULES:-stock ours}"
BT_ST_MODES="${ST_MODES:-tdp shadow}"
BT_HOLD_VM=${HOLD_VM:-0}
EOF
install -m 0755 "$top/selftests/harness/guest-init.sh" "$d/init"
install -m 0644 "$top/selftests/harness/splats.sh" "$d/opt/splats.sh"
install -m 0644 "$top/selftests/harness/ktap.sh" "$d/opt/ktap.sh"
install -m 0644 "$top/selftests/harness/channel.sh" "$d/opt/channel.sh"
for f in demo switch stock test; do
	install -m 0644 "$top/selftests/harness/guest-$f.sh" "$d/opt/guest-$f.sh"
done
for f in kvm_smoke vm_hold; do
	[ ! -f "$selftests/$f" ] || install -m 0755 "$selftests/$f" "$d/opt/selftests/"
done
if [ "$mode" = selftests ]; then
	[ -f "${SELFTEST_LIST:-}" ] || die "selftests mode needs SELFTEST_LIST="
	install -m 0644 "$SELFTEST_LIST" "$d/etc/selftests.list"
	install -m 0755 "$top/selftests/harness/guest-selftests.sh" "$d/opt/guest-selftests.sh"
	while read -r p _; do
		case $p in '' | '#'*) continue ;; esac
		[ ! -f "$selftests/$p" ] || install -D -m 0755 "$selftests/$p" "$d/opt/selftests/$p"
	done <"$SELFTEST_LIST"
	# All of ours with any of them: one may run another (the soak does).
	if grep -q '^kvm-fastinval/' "$SELFTEST_LIST"; then
		for f in "$selftests"/kvm-fastinval/fastinval_*_test; do
			[ ! -f "$f" ] || install -D -m 0755 "$f" "$d/opt/selftests/kvm-fastinval/${f##*/}"
		done
	fi
else
	for f in "$selftests"/upstream/*; do
		[ ! -f "$f" ] || install -m 0755 "$f" "$d/opt/selftests/upstream/"
	done
fi
mkcpio "$work/$kver/run.cpio" "$d"
rm -rf "$d"
initrd=$work/$kver/initrd.cpio
cat "$base" "$mods" "$work/$kver/run.cpio" >"$initrd"

# -- boot ---------------------------------------------------------------------
name=$mode
[ "$mode" != test ] || name=main
name=${BOOT_NAME:-$name}	# logs of another caller's boots stay apart
log=$logs/boot-$name.log
tap=$logs/boot-$name.tap
append="console=ttyS0 panic=-1 loglevel=7"
for o in $cmdline_opts; do append+=" kvm.$o"; done
rm -f "$tap"
step "booting $kver under QEMU TCG (timeout ${boot_timeout}s), log: $log"
start=$SECONDS
set +e
# KVM on PREEMPT_RT refuses to load without X86_FEATURE_CONSTANT_TSC
# (x86.c), which an AMD guest gets only from CPUID's invariant TSC bit.
# TCG does not offer that bit, but its TSC does run at a constant rate:
# force it, for RT kernels only (their config says so; 7.x keeps it
# beside the modules).
# And RT's threaded 8250 interrupt falls behind the file channel's output
# (ttyS1, the bench's traces): "irq 3: nobody cared", IRQ disabled.
cpu=max
if grep -qsx 'CONFIG_PREEMPT_RT=y' "$image/boot/config-$kver" "$image/$moddir/config"; then
	cpu=max,+invtsc,x-force-features=on
	append+=" noirqdebug"
fi
append+=${BOOT_APPEND:+ $BOOT_APPEND}
# One TCG thread for all vCPUs by default: with a thread per vCPU, Debian
# 12's QEMU 7.2 kills the guest with "Oops: int3" in its own text patching
# (mttcg-probe.sh); QEMU_RELEASE=trixie (QEMU 10.0) does not.
timeout -k 10 "$boot_timeout" "${qemu[@]}" -accel "$tcg" -cpu "$cpu" -smp "${QEMU_SMP:-2}" -m "${QEMU_MEM:-2G}" \
	-nographic -monitor none -no-reboot \
	-kernel "$image/boot/vmlinuz-$kver" -initrd "$initrd" -append "$append" \
	-serial stdio -serial "file:$tap" </dev/null >"$log" 2>&1
qrc=$?
set -e
secs=$((SECONDS - start))
step "guest done in ${secs}s (qemu exit $qrc)"

# -- results ------------------------------------------------------------------
if [ "$mode" = demo ]; then
	tr -d '\r' <"$tap" 2>/dev/null | sed '/^@@@ FILE /,/^@@@ EOF/d'
	grep -q '^# demo: done' "$tap" 2>/dev/null ||
		{ echo "demo: the guest did not finish (qemu exit $qrc), see $log" >&2; exit 1; }
	exit 0
fi

if [ "$mode" = selftests ]; then
	grep -q '@@@ DONE' "$tap" 2>/dev/null ||
		{ echo "boot-test: the guest did not finish its tests (qemu exit $qrc), see $log" >&2; exit 1; }
	exit 0
fi

set +e
passed=0 failed=0 n=0 plan=
note() { step "$@"; }
# shellcheck source=selftests/harness/ktap.sh
. "$top/selftests/harness/ktap.sh"
# shellcheck source=selftests/harness/splats.sh
. "$top/selftests/harness/splats.sh"
while IFS= read -r line; do
	line=${line%$'\r'}
	case $line in
	"ok "[0-9]*) result 0 "${line#* - }" ;;
	"not ok "[0-9]*) result 1 "${line#* - }" ;;
	1..[0-9]*) plan=${line#1..} ;;
	"#"*) echo "$line" ;;
	esac
done < <(cat "$tap" 2>/dev/null)
guest_n=$n

case $mode in switch) min=23 ;; stock) min=4 ;; *) min=25 ;; esac
[ -n "$plan" ] && [ "$plan" -eq "$guest_n" ] && [ "$guest_n" -ge "$min" ]
result $? "guest ran all checks (plan 1..${plan:-none}, got $guest_n results)"
[ "$qrc" -eq 0 ]
result $? "guest powered off within ${boot_timeout}s (qemu exit $qrc; 124 = timeout)"
# Kernel lines only: the guest's TAP and "# " diagnostics quote these words.
bad=$(splats "$log" | head -n 20)
[ -z "$bad" ]
result $? "console log has no WARNING/BUG/Oops/panic/Unknown symbol/debug report"
[ -z "$bad" ] || sed 's/^/# /' <<<"$bad"

echo "1..$n"
echo "# log: $log (${secs}s)"
echo "$kver: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
