#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Guest side of selftests/harness/mttcg-probe.sh, run as a test from the
# selftests list: patches the kernel's text while both vCPUs execute it.
#
#   textpoke WORKLOAD COUNT
#
#   tracepoint  enables and disables sched:sched_switch COUNT times: each
#               flips a static key in __schedule(), no KVM involved
#   vms         runs kvm_smoke COUNT times one after another: with no other
#               VM, each VM's creation and destruction flips KVM's preempt
#               notifier key, also in __schedule()
#   both        each round, one of each
#
# All along, two pipes keep both CPUs switching tasks.  TAP on stdout.
set -u

workload=${1:-}
count=${2:-}
case $workload in tracepoint | vms | both) ;; *) echo "usage: $0 tracepoint|vms|both COUNT" >&2; exit 2 ;; esac
[[ $count =~ ^[1-9][0-9]*$ ]] || { echo "COUNT: a number, 1 or more" >&2; exit 2; }

echo "TAP version 13"
echo "1..1"
load=()
for cpu in 0 1; do
	taskset -c "$cpu" bash -c 'while :; do dd if=/dev/zero bs=1 count=20000 2>/dev/null | cat >/dev/null; done' &
	load+=($!)
done

done_n=0 rc=0
ev=/sys/kernel/tracing/events/sched/sched_switch/enable
for ((i = 1; i <= count; i++)); do
	if [ "$workload" != vms ]; then
		{ echo 1 >"$ev" && echo 0 >"$ev"; } || { rc=1; break; }
	fi
	if [ "$workload" != tracepoint ]; then
		/opt/selftests/kvm_smoke >/tmp/textpoke.out 2>&1 ||
			{ rc=1; cat /tmp/textpoke.out; break; }
	fi
	done_n=$i
	[ $((i % 10)) -ne 0 ] || echo "# $i of $count"
done
kill "${load[@]}" 2>/dev/null
wait 2>/dev/null
if [ "$rc" -eq 0 ]; then
	echo "ok 1 $workload: $done_n rounds"
else
	echo "not ok 1 $workload: failed after $done_n"
fi
exit "$rc"
