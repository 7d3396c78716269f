#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Guest side of selftests/bench/bench.sh, run by selftests/harness/guest-selftests.sh (one
# entry of its list) with kvm_amd loaded in one mode, on the stock kvm.ko, the
# plain rebuild or kvm-fastinval: runs fastinval_bench with the given arguments. With
# kvm-fastinval, shadow mode, and BENCH_TRACE not 0 (the default), it then
# traces a short run (once a boot) (`trace-cmd start -e kvm_fastinval`, extract) and a trace
# without our events, and ships both to the host (channel.sh) for
# kvm-fastinval-stat.
here=$(cd "$(dirname "$0")" && pwd)
npt=$(cat /sys/module/kvm_amd/parameters/npt 2>/dev/null)
mmu=tdp
[ "$npt" != N ] || mmu=shadow
profile=
profile_more=
if [ "${1:-}" = --profile ]; then profile=$2; shift 2; fi
if [ "${1:-}" = --profile-fns ]; then profile_more=${2//,/ }; shift 2; fi
# The plain rebuild has no parameters of ours either: its label says which.
label=()
[ "${ST_MODULE:-}" != plain ] || label=(-l plain)
"$here/fastinval_bench" "${label[@]}" "$@"
rc=$?

# --profile SIZES: where the memslot ioctl's time goes, by function: the
# function graph tracer on the memslot path alone (set_ftrace_filter), one
# short run per variant, with and without the time the thread was scheduled
# out (options/sleep-time; Debian has no function profiler). Prints
# "PROFILE ..." lines. The fast zap and its commit are inlined or renamed
# differently in the three modules: the front half holds the zap and the
# commit, the commit is .part.0 (distro) or _bounded (ours).
# --profile-fns F,F,...: more functions (per-page ones cost a trace entry
# per shadow page: use a small size).
T=/sys/kernel/tracing
profile_fns="__kvm_set_memory_region kvm_set_memory_region kvm_set_memslot
	kvm_invalidate_memslot kvm_swap_active_memslots synchronize_srcu_expedited
	synchronize_srcu kvm_arch_flush_shadow_memslot kvm_arch_flush_shadow_all
	kvm_mmu_zap_all_fast kvm_zap_obsolete_pages kvm_mmu_commit_zap_page
	kvm_tdp_mmu_invalidate_all_roots kvm_tdp_mmu_invalidate_roots
	kvm_tdp_mmu_zap_invalidated_roots kvm_arch_commit_memory_region
	kvm_commit_memory_region kvm_fastinval_begin kvm_fastinval_end
	kvm_fastinval_memslot_change kvm_mmu_free_obsolete_roots kvm_mmu_load
	kvm_mmu_free_roots __kvm_mmu_zap_all_fast_front_half
	kvm_mmu_commit_zap_page.part.0 kvm_mmu_commit_zap_page_bounded
	$profile_more"
# Once per module and MMU, in the first of the bench's rounds.
done_mark=/tmp/profiled-${ST_MODULE:-}-$mmu
if [ -n "$profile" ] && grep -qw function_graph $T/available_tracers 2>/dev/null && [ ! -e "$done_mark" ]; then
	: >"$done_mark"
	variants=stock-kvm
	[ ! -e /sys/module/kvm/parameters/fastinval_mode ] || variants="stock-untraced default"
	echo 0 >$T/tracing_on
	: >$T/set_ftrace_filter
	for f in $profile_fns; do
		echo "$f" >>$T/set_ftrace_filter 2>/dev/null
	done
	echo 16384 >$T/buffer_size_kb
	echo 1 >$T/options/funcgraph-tail
	echo function_graph >$T/current_tracer
	for v in $variants; do
		for sleep in 1 0; do
			echo "$sleep" >$T/options/sleep-time
			: >$T/trace
			vopt=()
			[ "$v" = stock-kvm ] || vopt=(-V "$v")
			echo 1 >$T/tracing_on
			"$here/fastinval_bench" "${label[@]}" -s "$profile" -r 1 -w 50 -f 50 -T "${vopt[@]}" >/dev/null 2>&1
			echo 0 >$T/tracing_on
			# "DURATION us | fn();" and "DURATION us | } /* fn */" lines.
			awk -F'|' -v m="${ST_MODULE:-}" -v mmu="$mmu" -v v="$v" -v s="$sleep" -v z="$profile" '
				match($1, /[0-9]+\.[0-9]+ us/) { d = substr($1, RSTART, RLENGTH - 3); c = $2
					# A module function is printed with its module: "fn [kvm]".
					gsub(/^ +| +$/, "", c); gsub(/ \[[A-Za-z0-9_]+\]/, "", c)
					if (c ~ /^[A-Za-z0-9_.]+\(\);$/) f = substr(c, 1, length(c) - 3)
					else if (c ~ /^} \/\* [A-Za-z0-9_.]+ \*\/$/) { f = c; gsub(/^} \/\* | \*\/$/, "", f) }
					else next
					h[f]++; t[f] += d }
				END { for (f in h) printf "PROFILE module=%s mmu=%s variant=%s sizes=%s sleep_time=%s fn=%s hits=%d us=%.1f\n", m, mmu, v, z, s, f, h[f], t[f] }' $T/trace
		done
	done
	echo nop >$T/current_tracer
	: >$T/set_ftrace_filter
	: >$T/trace
	echo 1 >$T/options/sleep-time
	echo 0 >$T/options/funcgraph-tail
	echo 1 >$T/tracing_on
fi

if [ "${BENCH_TRACE:-1}" != 0 ] && [ -e /sys/module/kvm/parameters/fastinval_mode ] && [ "$mmu" = shadow ] &&
   command -v trace-cmd >/dev/null && [ ! -e /tmp/traced.out ]; then
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
