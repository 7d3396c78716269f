#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Boot a Debian kernel BOOTS times under multi-threaded TCG (a host thread per
# vCPU) while the guest patches its own text under both vCPUs
# (selftests/harness/guest-textpoke.sh), and count how each boot ended:
# clean, "Oops: int3" (a CPU ran the int3 of a finished text patch), or
# something else.  Each module of PROBE_MODULES runs the workload in turn,
# in the same boot (TDP).
#
#   mttcg-probe.sh KVER
#
# Environment:
#   BOOTS=          boots (default 10)
#   WORKLOAD=       tracepoint (no KVM), vms or both (default), guest-textpoke.sh
#   COUNT=          flips per module (default 200)
#   PROBE_MODULES=  "stock ours" (default), "stock" or "ours"
#   HOLD_VM=1       a VM stays open all along (KVM's keys never flip back)
#   TCG_THREADS=    2 (default) or 1, as boot-test.sh
#   MODULE=         our kvm.ko, as boot-test.sh
#   QEMU_RELEASE=   the QEMU of this Debian release, as boot-test.sh
#
# TAP, one line per boot; "KVER: mttcg-probe: N passed, N failed" last, where
# a failed boot is one that did not end clean.  Console logs of every boot:
# build/logs/KVER/mttcg-probe/WORKLOAD-holdH-tT-qemuV-N.log.  Exit 0 if all boots
# were clean, 1 if not, 2 on bad usage.
set -uo pipefail

top=$(cd "$(dirname "$0")/../.." && pwd)
die() { echo "mttcg-probe: $*" >&2; exit 2; }

[ $# -eq 1 ] || die "usage: $0 KVER"
kver=$1
boots=${BOOTS:-10} workload=${WORKLOAD:-both} count=${COUNT:-200}
modules=${PROBE_MODULES:-stock ours} hold=${HOLD_VM:-0} threads=${TCG_THREADS:-2}
[[ $boots =~ ^[1-9][0-9]*$ ]] || die "BOOTS=$boots: a number, 1 or more"
[[ $count =~ ^[1-9][0-9]*$ ]] || die "COUNT=$count: a number, 1 or more"
case $workload in tracepoint | vms | both) ;; *) die "WORKLOAD=$workload: tracepoint, vms or both" ;; esac
case $hold in 0 | 1) ;; *) die "HOLD_VM=$hold: 0 or 1" ;; esac
case $threads in 1 | 2) ;; *) die "TCG_THREADS=$threads: 1 or 2" ;; esac
for m in $modules; do
	case $m in stock | ours) ;; *) die "PROBE_MODULES: stock and/or ours, not $m" ;; esac
done
built=$top/build/selftests/$kver
for f in kvm_smoke vm_hold; do
	[ -x "$built/$f" ] ||
		die "no $built/$f (run selftests/harness/build-upstream-selftests.sh $kver)"
done

# shellcheck source=selftests/harness/splats.sh
. "$top/selftests/harness/splats.sh"
# shellcheck source=selftests/harness/ktap.sh
. "$top/selftests/harness/ktap.sh"
n=0 passed=0 failed=0
note() { echo "# $*"; }

work=$top/build/mttcg-probe/$kver
logs=$top/build/logs/$kver/mttcg-probe
rm -rf "$work"
mkdir -p "$work/probe" "$logs"
cp "$built/kvm_smoke" "$built/vm_hold" "$work/"
install -m 0755 "$top/selftests/harness/guest-textpoke.sh" "$work/probe/textpoke"
# Per module: 1-3 s a round under TCG, and slack.
echo "probe/textpoke $((count * 10 + 120)) $workload $count" >"$work/list"
timeout=$((300 + (count * 10 + 130) * $(wc -w <<<"$modules")))
if [ -n "${QEMU_RELEASE:-}" ]; then
	qroot=$("$top/selftests/harness/qemu-root.sh" "$QEMU_RELEASE") || exit 2
	qv=$(chroot "$qroot" qemu-system-x86_64 --version) || die "no QEMU in $qroot"
else
	qv=$(qemu-system-x86_64 --version)
fi
qv=$(sed -n '1s/.*version \([^ ]*\).*/\1/p' <<<"$qv")
tag=$workload-hold$hold-t$threads-qemu$qv

echo "TAP version 13"
note "$kver: $boots boots, QEMU $qv, TCG threads $threads, workload $workload x $count on: $modules; VM held open: $hold"
declare -A ends=()
for ((b = 1; b <= boots; b++)); do
	t0=$SECONDS
	SELFTESTS=$work SELFTEST_LIST=$work/list BOOT_MODE=selftests \
		ST_MODULES=$modules ST_MODES=tdp TCG_THREADS=$threads HOLD_VM=$hold \
		BOOT_NAME=mttcg-probe BOOT_TIMEOUT=$timeout \
		"$top/selftests/harness/boot-test.sh" "$kver" >"$work/boot.out" 2>&1
	console=$top/build/logs/$kver/boot-mttcg-probe.log
	tap=$top/build/logs/$kver/boot-mttcg-probe.tap
	cp "$console" "$logs/$tag-$b.log" 2>/dev/null
	cp "$tap" "$logs/$tag-$b.tap" 2>/dev/null
	# Where the guest was: the last module it began the workload on.
	at=$(tr -d '\r' <"$tap" 2>/dev/null | sed -n 's/^@@@ BEGIN \([a-z]*\) .*/\1/p' | tail -n 1)
	flips=$(tr -d '\r' <"$tap" 2>/dev/null | sed -n 's/^ok 1 [a-z]*: \([0-9]*\) rounds.*/\1/p' | paste -sd/ -)
	if grep -aq 'Oops: int3' "$console"; then
		rip=$(grep -a -m1 'RIP: 0010:' "$console" | sed 's/.*RIP: 0010://; s/\r//')
		end="int3"
		desc="Oops: int3 at $rip, in the workload on ${at:-no} module"
	elif ! tr -d '\r' <"$tap" 2>/dev/null | grep -q '^@@@ DONE'; then
		end="unfinished"
		desc="the guest did not finish (last on ${at:-no} module; $(tail -n 1 "$work/boot.out"))"
	elif tr -d '\r' <"$tap" | grep -q '^@@@ END .* rc=[1-9]' || [ -n "$(splats "$console")" ]; then
		end="failed"
		desc="a workload failed or the kernel log has a splat"
	else
		end="clean"
		desc="clean, rounds per module ${flips:-none}"
	fi
	ends[$end]=$((${ends[$end]:-0} + 1))
	[ "$end" = clean ]
	result $? "boot $b: $desc ($((SECONDS - t0)) s; log: ${logs#"$top"/}/$tag-$b.log)"
done
echo "1..$n"
note "$kver: $tag: $boots boots: clean ${ends[clean]:-0}, int3 ${ends[int3]:-0}, unfinished ${ends[unfinished]:-0}, failed ${ends[failed]:-0}"
echo "$kver: mttcg-probe: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
