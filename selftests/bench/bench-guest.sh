#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Guest side of scripts/bench.sh, run by scripts/guest-selftests.sh (one
# entry of its list) with kvm_amd loaded in one mode, on the stock kvm.ko or
# on kvm-fastinval: runs fastinval_bench with the given arguments. With
# kvm-fastinval, shadow mode, and BENCH_TRACE not 0 (the default), it then
# records a short run with `trace-cmd record -e kvm_fastinval` and a trace
# without our events, and prints both base64-encoded between
# "@@@ FILE name" and "@@@ EOF" lines, for kvm-fastinval-stat on the host.
here=$(cd "$(dirname "$0")" && pwd)
"$here/fastinval_bench" "$@"
rc=$?
npt=$(cat /sys/module/kvm_amd/parameters/npt 2>/dev/null)
if [ "${BENCH_TRACE:-1}" != 0 ] && [ -d /sys/module/kvm_fastinval ] && [ "$npt" = N ] &&
   command -v trace-cmd >/dev/null; then
	echo "# trace-cmd record -e kvm_fastinval: a short run (256 page tables, default and zap_stock=Y)"
	trace-cmd record -q -e kvm_fastinval -o /tmp/fastinval.dat \
		"$here/fastinval_bench" -s 256 -r 1 -w 50 -f 50 -V default,stock >/tmp/traced.out 2>&1 ||
		{ echo "# trace-cmd record failed:"; sed 's/^/#   /' /tmp/traced.out; }
	grep -q '^RESULT' /tmp/traced.out || { echo "# traced run printed no result:"; tail -n 20 /tmp/traced.out | sed 's/^/#   /'; }
	grep '^RESULT' /tmp/traced.out | sed 's/^RESULT/TRACED/'
	trace-cmd record -q -e sched:sched_process_exit -o /tmp/noevents.dat sleep 0.2 >/dev/null 2>&1
	for f in fastinval noevents; do
		[ -f /tmp/$f.dat ] || continue
		echo "@@@ FILE $f.dat"
		base64 -w 76 /tmp/$f.dat
		echo "@@@ EOF"
	done
fi
exit $rc
