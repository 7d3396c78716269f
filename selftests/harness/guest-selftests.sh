#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Guest side of selftests/harness/upstream-selftests.sh, run by the boot-test /init
# (selftests/harness/guest-init.sh) when BT_MODE=selftests: runs a list of KVM test
# binaries against the stock kvm.ko and against kvm-fastinval, with kvm_amd
# in TDP (npt=1) and shadow (npt=0) mode.
#
# Input: /etc/selftests.list, one test a line: "PATH TIMEOUT [ARGS...]", PATH
# relative to /opt/selftests (upstream/<test> now; our own tests later).
# Environment (from /etc/boot-test.env): BT_ST_MODULES ("stock ours"; also
# "plain"),
# BT_ST_MODES ("tdp shadow"), BT_HOLD_VM (1: vm_hold keeps a VM open
# while the tests run, so that the count of VMs never goes back to 0).
#
# Output on fd 3 (ttyS1, parsed by the host), nothing else on that channel:
#   CONFIG MODULE MODE ok|fail REASON
#   @@@ BEGIN MODULE MODE TEST
#   ...the test's output, and any kernel splat it caused...
#   @@@ END MODULE MODE TEST rc=RC secs=SECS splat=0|1
#   @@@ DONE
# MODULE is stock, plain or ours (the tests see it as ST_MODULE); MODE is
# tdp or shadow; RC is the test's exit status (124/137: timed out).

export PATH=/usr/sbin:/usr/bin:/sbin:/bin
export LC_ALL=C

ST=/opt/selftests
LIST=/etc/selftests.list
KVER=$(uname -r)
MODDIR=/lib/modules/$KVER
ASIDE=/opt/aside
BT_ST_MODULES="stock ours" BT_ST_MODES="tdp shadow" BT_HOLD_VM=0
# shellcheck disable=SC1091
. /etc/boot-test.env
# shellcheck source=selftests/harness/splats.sh
. /opt/splats.sh

out() { echo "$*" >&3; }
loaded() { grep -q "^$1 " /proc/modules; }
# Which kvm is loaded: only kvm-fastinval's has this parameter.
ours_loaded() { [ -e /sys/module/kvm/parameters/fastinval_mode ]; }
uptime_s() { cut -d' ' -f1 /proc/uptime; }

# KVM flips static keys (preempt notifiers) when the first VM is created
# and when the last one goes; under multi-threaded TCG such text patching
# is what mttcg-probe.sh looks at.  The holder goes before kvm_amd unloads.
hold_pid=
hold_stop() {
	[ -n "$hold_pid" ] || return 0
	kill "$hold_pid" 2>/dev/null
	wait "$hold_pid" 2>/dev/null
	hold_pid=
}
hold_start() {
	[ "$BT_HOLD_VM" = 1 ] || return 0
	/opt/selftests/vm_hold >/tmp/hold.out 2>&1 &
	hold_pid=$!
	for _ in $(seq 50); do
		grep -q ready /tmp/hold.out 2>/dev/null && return 0
		sleep 0.2
	done
	echo "vm_hold did not start: $(cat /tmp/hold.out)"
	return 1
}

unload() {
	local m
	hold_stop
	for m in kvm_amd kvm_intel kvm; do
		! loaded "$m" || rmmod "$m" || echo "# rmmod $m failed"
	done
}

# use stock|plain|ours: the module index as on a host without our DKMS
# package (the stock kvm.ko is what kvm_amd gets), with the plain rebuild
# of the same source installed (/opt/plain, the benchmark's baseline), or
# with ours.
installed=ours
use() {
	local f
	unload
	mkdir -p "$ASIDE"
	case $installed in
	ours)
		for f in "$MODDIR"/updates/dkms/kvm.ko*; do
			[ ! -e "$f" ] || { cp -a "$f" "$ASIDE/" && rm "$f"; }
		done
		;;
	plain) rm -f "$MODDIR/updates/dkms/kvm.ko" ;;
	esac
	case $1 in
	ours)
		for f in "$ASIDE"/kvm.ko*; do
			[ ! -e "$f" ] || { cp -a "$f" "$MODDIR/updates/dkms/" && rm "$f"; }
		done
		;;
	plain) cp /opt/plain/kvm.ko "$MODDIR/updates/dkms/kvm.ko" ;;
	esac
	installed=$1
	depmod -a "$KVER"
}

# setup MODULE MODE: load kvm_amd in MODE; prints the reason on failure.
setup() {
	local npt want=Y got err
	case $2 in
	tdp) npt=1 ;;
	shadow) npt=0 want=N ;;
	*) echo "unknown mode $2"; return 1 ;;
	esac
	! loaded kvm_amd || rmmod kvm_amd
	if ! err=$(modprobe kvm_amd npt=$npt 2>&1); then
		echo "modprobe kvm_amd npt=$npt failed: $err"
		return 1
	fi
	got=$(cat /sys/module/kvm_amd/parameters/npt 2>/dev/null)
	[ "$got" = "$want" ] || { echo "kvm_amd npt is '$got', want '$want'"; return 1; }
	# The distro's kvm.ko is signed and in tree: no taint; a rebuild is
	# out of tree (O).
	case $1 in
	stock) loaded kvm && ! ours_loaded && ! grep -q O /sys/module/kvm/taint ||
		{ echo "stock kvm.ko is not the one loaded"; return 1; } ;;
	plain) loaded kvm && ! ours_loaded && grep -q O /sys/module/kvm/taint ||
		{ echo "the plain rebuild is not the one loaded"; return 1; } ;;
	*) loaded kvm && ours_loaded || { echo "kvm-fastinval's kvm is not the one loaded"; return 1; } ;;
	esac
	[ -c /dev/kvm ] || { echo "no /dev/kvm"; return 1; }
}

# run_one MODULE MODE PATH TIMEOUT ARGS...
run_one() {
	local module=$1 mode=$2 path=$3 t=$4 name rc t0 t1 mark bad splat=0
	shift 4
	name=${path##*/}
	out "@@@ BEGIN $module $mode $name"
	mark=$(dmesg | wc -l)
	t0=$(uptime_s)
	if [ -x "$ST/$path" ]; then
		echo "# \$ timeout $t $path $*" >&3
		(cd "$(dirname "$ST/$path")" && ST_MODULE=$module exec timeout -k 5 "$t" "$ST/$path" "$@") </dev/null >&3 2>&1
		rc=$?
	else
		echo "missing binary $path" >&3
		rc=127
	fi
	t1=$(uptime_s)
	bad=$(dmesg | tail -n +"$((mark + 1))" | splats)
	if [ -n "$bad" ]; then
		splat=1
		echo "# kernel log during the test:" >&3
		# The first 60 lines, and every splat line after them, so that the
		# host can attribute each splat in the console log to a test.
		dmesg | tail -n +"$((mark + 1))" | awk -v re="$splat_re" 'NR <= 60 || $0 ~ re' >&3
	fi
	# A test may end without a newline: END is matched anywhere in a line.
	out "@@@ END $module $mode $name rc=$rc secs=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }') splat=$splat"
	echo "# $module $mode $name: rc=$rc"
}

echo "# guest-selftests: modules '$BT_ST_MODULES', modes '$BT_ST_MODES', $(grep -c . "$LIST") tests"
for module in $BT_ST_MODULES; do
	use "$module"
	for mode in $BT_ST_MODES; do
		hold_stop
		if ! why=$(setup "$module" "$mode" 2>&1); then
			out "CONFIG $module $mode fail ${why//$'\n'/ }"
			continue
		fi
		# Not in $(...): the holder is this shell's child.
		if ! hold_start >/tmp/hold.err 2>&1; then
			out "CONFIG $module $mode fail $(tr '\n' ' ' </tmp/hold.err)"
			continue
		fi
		out "CONFIG $module $mode ok $(grep -E '^(kvm|kvm_amd) ' /proc/modules | cut -d' ' -f1 | tr '\n' ' ')$(! ours_loaded || echo "(kvm-fastinval $(cat /sys/module/kvm/version))")${hold_pid:+ (a VM held open)}"
		while read -r path t args; do
			case $path in '' | '#'*) continue ;; esac
			# shellcheck disable=SC2086 # ARGS are words
			run_one "$module" "$mode" "$path" "$t" $args
		done <"$LIST"
	done
done
unload
out "@@@ DONE"
