#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Guest side of selftests/bench/bench.sh, run by selftests/harness/guest-selftests.sh (one
# entry of its list) with kvm_amd loaded in one mode, on the stock kvm.ko or
# on kvm-fastinval: runs fastinval_bench with the given arguments. With
# kvm-fastinval, shadow mode, and BENCH_TRACE not 0 (the default), it then
# traces a short run (`trace-cmd start -e kvm_fastinval`, extract) and a trace
# without our events, and ships both to the host (channel.sh) for
# kvm-fastinval-stat.
here=$(cd "$(dirname "$0")" && pwd)
"$here/fastinval_bench" "$@"
rc=$?
npt=$(cat /sys/module/kvm_amd/parameters/npt 2>/dev/null)
if [ "${BENCH_TRACE:-1}" != 0 ] && [ -e /sys/module/kvm/parameters/fastinval_mode ] && [ "$npt" = N ] &&
   command -v trace-cmd >/dev/null; then
	# start/stop/extract rather than record: record stops its readers when
	# the command ends and may leave each CPU's last, partly filled buffer
	# page unread (seen on 6.1 under load: all 58 events of a short run).
	echo "# trace-cmd start -e kvm_fastinval, extract: a short run (256 page tables, default and fastinval_mode=stock)"
	trace-cmd start -e kvm_fastinval -b 4096 >/dev/null 2>&1 || echo "# trace-cmd start failed"
	"$here/fastinval_bench" -s 256 -r 1 -w 50 -f 50 -V default,stock >/tmp/traced.out 2>&1
	trace-cmd stop >/dev/null 2>&1
	trace-cmd extract -o /tmp/fastinval.dat >/tmp/extract.out 2>&1 ||
		{ echo "# trace-cmd extract failed:"; sed 's/^/#   /' /tmp/extract.out; }
	trace-cmd reset >/dev/null 2>&1
	grep -q '^RESULT' /tmp/traced.out || { echo "# traced run printed no result:"; tail -n 20 /tmp/traced.out | sed 's/^/#   /'; }
	grep '^RESULT' /tmp/traced.out | sed 's/^RESULT/TRACED/'
	trace-cmd record -q -e sched:sched_process_exit -o /tmp/noevents.dat sleep 0.2 >/dev/null 2>&1
	# shellcheck source=selftests/harness/channel.sh
	. /opt/channel.sh
	for f in fastinval noevents; do
		[ ! -f /tmp/$f.dat ] || ship /tmp/$f.dat
	done
fi
exit $rc
