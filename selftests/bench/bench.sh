#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Benchmark of "invalidate all shadow pages": the stock kvm.ko, the plain
# rebuild (the same source unpatched, built like ours: make plain) and
# kvm-fastinval (defaults, and fastinval_mode=stock) in one QEMU boot of a Debian
# kernel (selftests/bench/fastinval_bench, run by selftests/harness/guest-selftests.sh
# through selftests/bench/bench-guest.sh), then the table of ratios, the
# kvm-fastinval-stat summary of a trace recorded in the guest, and a PNG.
#
#   bench.sh [--smoke] KVER
#
# --smoke: kvm-fastinval only, shadow mode, one tiny size: checks that the
# benchmark runs (-h too), that the trace recorded in the guest gives one
# kvm-fastinval-stat line per invalidation and that a bad file is refused.
# Prints TAP, ends with "KVER: bench smoke: N passed, N failed". Never
# asserts a speed.
# Environment (full run): BENCH_SIZES (default 1024,8192,32768,131072),
# BENCH_ROUNDS (5) of BENCH_REPS (1) each, BENCH_MODES ("shadow tdp"),
# BENCH_MODULES ("stock plain ours": the order they run in, in every round),
# BENCH_ARGS (more fastinval_bench options, e.g. -T: no
# tracing), BENCH_PROFILE (sizes, e.g. 1024: also a function graph trace
# of the memslot path per module and variant, summed: profile.txt, report),
# BENCH_PROFILE_FNS (more functions for it, comma-separated),
# QEMU_MEM (4G), BENCH_TIMEOUT
# (seconds per module and mode, default 1500), TCG_THREADS (1; 2: a host
# thread per vCPU, results in build/bench/KVER/mttcg/), QEMU_SMP (2; 1: one
# guest CPU, results in build/bench/KVER/smp1/).
# Output: build/bench/KVER/: results.txt (RESULT lines), table.txt, trace
# files and stat output, KVER.png; logs in build/logs/KVER/boot-bench*.
set -uo pipefail

top=$(cd "$(dirname "$0")/../.." && pwd)
die() { echo "bench: $*" >&2; exit 2; }
smoke=0
if [ "${1:-}" = --smoke ]; then smoke=1; shift; fi
[ $# -eq 1 ] || die "usage: $0 [--smoke] KVER"
kver=$1
out=$top/build/bench/$kver
[ "${TCG_THREADS:-1}" = 1 ] || out=$out/mttcg
[ "${QEMU_SMP:-2}" = 2 ] || out=$out/smp${QEMU_SMP}
[ $smoke = 0 ] || out=$out/smoke
mkdir -p "$out"
stat=$top/build/stat/kvm-fastinval-stat

[ -f "${IMAGES_DIR:-$top/build/images}/$kver/boot/vmlinuz-$kver" ] ||
	"$top/scripts/debian-kernels.sh" fetch "$kver" >"$out/fetch.log" 2>&1 || die "cannot fetch $kver"
# MODULE= names a kvm.ko built already (the DKMS one in the test suite).
[ -n "${MODULE:-}" ] ||
	make -C "$top" KVER="$kver" -j"$(nproc)" >"$out/make.log" 2>&1 || die "module build failed ($out/make.log)"
mods=${BENCH_MODULES:-stock plain ours}
if [ $smoke = 0 ] && [[ " $mods " == *" plain "* ]] && [ -z "${PLAIN_MODULE:-}" ]; then
	make -C "$top" KVER="$kver" -j"$(nproc)" plain >"$out/make-plain.log" 2>&1 ||
		die "plain rebuild failed ($out/make-plain.log)"
fi
"$top/scripts/build-root.sh" "$kver" make -C "$top/selftests/bench" KVER="$kver" >"$out/bench-build.log" 2>&1 ||
	die "fastinval_bench build failed ($out/bench-build.log)"
make -C "$top" stat >"$out/stat-build.log" 2>&1 ||
	die "kvm-fastinval-stat build failed ($out/stat-build.log)"

st=$out/guest
rm -rf "$st" && mkdir -p "$st/bench"
install -m 0755 "$top/build/bench/$kver/bin/fastinval_bench" "$top/selftests/bench/bench-guest.sh" "$st/bench/"
list=$out/guest.list
if [ $smoke = 1 ]; then
	mods=ours modes=shadow timeout=240
	printf '%s\n' "bench/fastinval_bench 30 -h" \
		"bench/bench-guest.sh $timeout -s 64 -r 1 -w 20 -f 20 -V default" >"$list"
else
	modes=${BENCH_MODES:-shadow tdp} timeout=${BENCH_TIMEOUT:-1500}
	# The guest's clock is the host's: whatever else the host runs makes
	# every time longer, and that load drifts. The modules take turns, a
	# round each, so that drift falls on all of them alike.
	rounds=${BENCH_ROUNDS:-5}
	case $rounds in '' | *[!0-9]* | 0) die "BENCH_ROUNDS must be a positive number" ;; esac
	mods=$(for _ in $(seq "$rounds"); do echo "$mods"; done | tr '\n' ' ')
	mods=${mods% }
	# The -h run is cheap and makes the guest get the binary.
	printf '%s\n' "bench/fastinval_bench 30 -h" \
		"bench/bench-guest.sh $timeout ${BENCH_PROFILE:+--profile $BENCH_PROFILE }${BENCH_PROFILE_FNS:+--profile-fns $BENCH_PROFILE_FNS }-s ${BENCH_SIZES:-1024,8192,32768,131072} -r ${BENCH_REPS:-1} ${BENCH_ARGS:-}" >"$list"
fi
nrun=$(($(wc -w <<<"$mods") * $(wc -w <<<"$modes")))
name=bench$([ "${TCG_THREADS:-1}" = 1 ] || echo -mttcg)$([ "${QEMU_SMP:-2}" = 2 ] || echo "-smp$QEMU_SMP")$([ $smoke = 1 ] && echo -smoke)
echo "# bench: $kver, modules: $mods, modes: $modes, TCG threads: ${TCG_THREADS:-1}, vCPUs: ${QEMU_SMP:-2}, list: $(tr '\n' ';' <"$list")"
t0=$SECONDS
BOOT_MODE=selftests BOOT_NAME=$name SELFTESTS=$st SELFTEST_LIST=$list \
	ST_MODULES=$mods ST_MODES=$modes QEMU_MEM=${QEMU_MEM:-4G} \
	BOOT_TIMEOUT=$((300 + (timeout + 30) * nrun * $(grep -c . "$list"))) \
	"$top/selftests/harness/boot-test.sh" "$kver" >"$out/boot.log" 2>&1
boot_rc=$?
echo "# bench: guest done in $((SECONDS - t0)) s (rc $boot_rc)"
chan=$out/channel.log
tr -d '\r' <"$top/build/logs/$kver/boot-$name.tap" >"$chan" 2>/dev/null
grep '^RESULT ' "$chan" | sed "s/^RESULT /RESULT kernel=$kver /" >"$out/results.txt"
grep '^PROFILE ' "$chan" | sed "s/^PROFILE /PROFILE kernel=$kver /" >"$out/profile.txt"
# shellcheck source=selftests/harness/channel.sh
. "$top/selftests/harness/channel.sh"
unship "$chan" "$out"	# the guest's trace files
if [ -f "$out/fastinval.dat" ]; then
	"$stat" "$out/fastinval.dat" >"$out/stat.txt" 2>&1
	echo "# kvm-fastinval-stat of a trace recorded in the guest ($out/fastinval.dat):"
	sed 's/^/#   /' "$out/stat.txt"
fi

if [ $smoke = 1 ]; then
	n=0 passed=0 failed=0
	# shellcheck disable=SC2317 # ktap.sh's check() calls it
	note() { echo "# $*"; }
	# shellcheck source=selftests/harness/ktap.sh
	. "$top/selftests/harness/ktap.sh"
	# shellcheck source=selftests/harness/splats.sh
	. "$top/selftests/harness/splats.sh"
	grep -q '^@@@ END ours shadow fastinval_bench rc=0' "$chan"
	result $? "fastinval_bench -h"
	grep -q '^@@@ END ours shadow bench-guest.sh rc=0' "$chan" && [ -s "$out/results.txt" ]
	result $? "fastinval_bench runs a tiny size ($(wc -l <"$out/results.txt") invalidations)"
	nres=$(grep -c '^TRACED ' "$chan")
	nline=$(grep -cE '^[0-9]+ +[^ ]+ +memslot_(delete|move) ' "$out/stat.txt" 2>/dev/null)
	nend=$(trace-cmd report -i "$out/fastinval.dat" 2>/dev/null | grep -c 'kvm_fastinval_end:')
	nstat=$(grep -cE '^[0-9]+ ' "$out/stat.txt" 2>/dev/null)
	[ -s "$out/fastinval.dat" ] && [ "$nend" -gt 0 ] && [ "$nstat" -eq "$nend" ] && [ "$nline" -ge "$nres" ]
	result $? "kvm-fastinval-stat: one line per invalidation ($nstat lines, $nend end events, $nline memslot ones for $nres benchmarked)"
	"$stat" /etc/os-release >"$out/bad1.txt" 2>&1; rc1=$?
	grep -q 'not a trace-cmd trace.dat' "$out/bad1.txt" && [ $rc1 = 1 ]
	result $? "kvm-fastinval-stat refuses a file that is not a trace ($(head -n 1 "$out/bad1.txt"))"
	"$stat" "$out/noevents.dat" >"$out/bad2.txt" 2>&1; rc2=$?
	[ -f "$out/noevents.dat" ] && grep -q 'no kvm_fastinval events' "$out/bad2.txt" && [ $rc2 = 1 ]
	result $? "kvm-fastinval-stat refuses a trace without kvm_fastinval events ($(head -n 1 "$out/bad2.txt"))"
	# Its filters and trace-cmd's way of naming input: -i FILE, default trace.dat.
	nmove=$(grep -cE '^[0-9]+ +[^ ]+ +memslot_move ' "$out/stat.txt")
	vm=$(awk '$3 == "memslot_move" { print $2; exit }' "$out/stat.txt")
	got=$(cd "$out" && cp fastinval.dat trace.dat && "$stat" --reason memslot_move && rm trace.dat)
	nr=$(grep -cE '^[0-9]+ ' <<<"$got")
	nv=$("$stat" --vm "${vm:-none}" -i "$out/fastinval.dat" -i "$out/fastinval.dat" | grep -cE '^[0-9]+ ')
	nvall=$(awk -v vm="$vm" '$2 == vm' "$out/stat.txt" | wc -l)
	"$stat" --bogus >/dev/null 2>&1; rc3=$?
	help=$("$stat" --help) ver=$("$stat" --version)
	[ "$nmove" -gt 0 ] && [ "$nr" -eq "$nmove" ] && [ "$nv" -eq $((2 * nvall)) ] && [ $rc3 = 2 ] &&
		grep -q -- '--reason' <<<"$help" && grep -q "^kvm-fastinval-stat [0-9]" <<<"$ver"
	result $? "kvm-fastinval-stat: --reason ($nr of $nmove), --vm on two -i files ($nv = 2 x $nvall), default trace.dat, --help, --version ($ver), bad option exit $rc3"
	bad=$(splats "$top/build/logs/$kver/boot-$name.log" | head -n 5)
	[ -z "$bad" ]
	result $? "console log has no WARNING/BUG/Oops"
	echo "1..$n"
	echo "$kver: bench smoke: $passed passed, $failed failed"
	[ $failed -eq 0 ]
	exit
fi

[ -s "$out/results.txt" ] || die "no results (logs: $out/boot.log, $chan)"
"$top/selftests/bench/bench-report.sh" "$out/results.txt" "$out" | tee "$out/table.txt"
[ ! -s "$out/profile.txt" ] || "$top/selftests/bench/bench-report.sh" --profile "$out/profile.txt" | tee -a "$out/table.txt"
# Under TCG the same code runs up to ~1.4x slower in shadow mode when its
# hottest call crosses a 4 KiB page: say where it sits in each module.
kos=()
[[ " $mods " != *" stock "* ]] ||
	kos+=("stock kvm.ko=$(find "${IMAGES_DIR:-$top/build/images}/$kver" -path '*/kernel/arch/x86/kvm/kvm.ko*' 2>/dev/null | head -n 1)")
[[ " $mods " != *" plain "* ]] || kos+=("plain rebuild=${PLAIN_MODULE:-$top/build/plain/$kver/arch/x86/kvm/kvm.ko}")
[[ " $mods " != *" ours "* ]] || kos+=("kvm-fastinval=${MODULE:-$top/build/$kver/arch/x86/kvm/kvm.ko}")
{
	echo
	echo "Layout of the shadow zap's hottest call (selftests/bench/tcg-layout.sh):"
	echo
	"$top/selftests/bench/tcg-layout.sh" "${kos[@]}"
} | tee -a "$out/table.txt"
[ $boot_rc -eq 0 ] || echo "# bench: the guest did not finish everything (rc $boot_rc), see $out/boot.log"
