#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Run the upstream KVM selftests of a Debian kernel's own source inside that
# kernel (QEMU TCG, nested SVM), against the stock kvm.ko and against
# kvm-fastinval in the same boot, with kvm_amd in TDP (npt=1) and shadow
# (npt=0) mode, and compare.
#
#   upstream-selftests.sh [--all | --soak] KVER
#
# Without --all: the curated set ("ci" in selftests/upstream.list: memslot,
# MMU, dirty-log and paging tests).  --all: every x86 test the source builds.
# Both also run our own kselftests (selftests/kvm-fastinval/ci.list), built
# with the same library; on the stock kvm.ko they skip (shown as n/a), on
# kvm-fastinval they must pass.  --soak: fastinval_soak_test alone,
# SOAK_MINUTES (default 10) in each mode.
# Environment:
#   MODULE=        our module (default build/KVER/arch/x86/kvm/kvm.ko,
#                  built if missing)
#   TESTS=         test names instead of the set (arguments from the lists;
#                  our fastinval_* tests included only if named)
#   TEST_TIMEOUT=  seconds per run of a test not in the list (default 180)
#   TIMEOUT_SCALE= every test's timeout times this (default 1; a debug kernel)
#   ARGS_<test>=   more arguments for one of our tests, after the list's
#                  (ARGS_fastinval_holds_test="-m 150": a debug kernel's unit)
#   ST_MODULES=    "stock ours" (default), ST_MODES= "tdp shadow" (default)
#   QEMU_MEM=      guest memory (default 3G)
#   TCG_THREADS=   2: a host thread per vCPU (boot-test.sh; logs in
#                  selftests-SET-mttcg/), HOLD_VM=1: a VM open all along
#   REPORT_ONLY=1  no build, no boot: the report again from the logs of the
#                  last run of this set (after a change of the rules, or of
#                  selftests/upstream-known-splats)
#
# Prints the table (test, stock, kvm-fastinval, times) per mode, the reasons
# of stock failures and skips, what did not build, then TAP: one line per
# test and mode, not ok when a test passes on stock and not on ours (or
# leaves a kernel splat, or the guest did not run it).  Ends with
# "KVER: upstream selftests (SET): N passed, N failed"; exit 0 if none failed,
# 1 if one did, 2 on a setup error.  In build/logs/KVER/selftests-SET/:
# MODE/MODULE/TEST.log per run (its KTAP/TAP output), MODE-MODULE.ktap per
# mode and module (kselftest runner format), console.log, results.
set -uo pipefail

top=$(cd "$(dirname "$0")/../.." && pwd)
die() { echo "upstream-selftests: $*" >&2; exit 2; }
note() { echo "# $*"; }
# shellcheck source=selftests/harness/ktap.sh
. "$top/selftests/harness/ktap.sh"
# shellcheck source=selftests/harness/splats.sh
. "$top/selftests/harness/splats.sh"

set=ci
case ${1:-} in
--all | --soak) set=${1#--}; shift ;;
esac
[ $# -eq 1 ] || die "usage: $0 [--all | --soak] KVER"
kver=$1
list=$top/selftests/upstream.list
ours_list=$top/selftests/kvm-fastinval/ci.list
module=${MODULE:-$top/build/$kver/arch/x86/kvm/kvm.ko}
default_timeout=${TEST_TIMEOUT:-180}
timeout_scale=${TIMEOUT_SCALE:-1}
[[ $timeout_scale =~ ^[1-9][0-9]*$ ]] || die "TIMEOUT_SCALE=$timeout_scale: a whole factor, 1 or more"
modules=${ST_MODULES:-stock ours}
modes=${ST_MODES:-tdp shadow}
bins=$top/build/selftests/$kver/$set
logdir=$top/build/logs/$kver/selftests-$set
[ "${TCG_THREADS:-1}" = 1 ] || logdir+=-mttcg
start=$SECONDS

if [ -n "${REPORT_ONLY:-}" ]; then
	[ -s "$logdir/guest.list" ] || die "no earlier run in $logdir"
else
	rm -rf "$logdir"
fi
mkdir -p "$logdir" || die "cannot create $logdir"

# -- inputs: kernel image, our module ------------------------------------------
if [ -n "${REPORT_ONLY:-}" ]; then
	:
elif [ ! -f "${IMAGES_DIR:-$top/build/images}/$kver/boot/vmlinuz-$kver" ]; then
	"$top/scripts/debian-kernels.sh" fetch "$kver" >"$logdir/fetch.log" 2>&1 ||
		die "cannot fetch the $kver image (log: $logdir/fetch.log)"
fi
if [ -z "${MODULE:-}" ] && [ -z "${REPORT_ONLY:-}" ]; then
	make -C "$top" KVER="$kver" -j"$(nproc)" >"$logdir/make.log" 2>&1 ||
		die "building kvm-fastinval's kvm.ko failed (log: $logdir/make.log)"
fi
[ -f "$module" ] || [ -n "${REPORT_ONLY:-}" ] || die "no module $module"

# -- the list: name -> "set timeout args" ---------------------------------------
declare -A entry
order=()
while read -r name tset t args; do
	case $name in '' | '#'*) continue ;; esac
	entry[$name]="$tset $t $args"
	order+=("$name")
done <"$list"

# Ours: name -> "timeout args"; all of them in both sets.
declare -A ours
ours_order=()
while read -r name t args; do
	case $name in '' | '#'*) continue ;; esac
	ours[$name]="$t $args"
	ours_order+=("$name")
done <"$ours_list"
is_ours() { [ -n "${ours[$1]:-}" ]; }

if [ -n "${TESTS:-}" ]; then
	want=() want_ours=()
	for name in $TESTS; do
		if is_ours "$name"; then want_ours+=("$name"); else want+=("$name"); fi
	done
elif [ "$set" = ci ]; then
	want=()
	for name in "${order[@]}"; do
		[ "${entry[$name]%% *}" != ci ] || want+=("$name")
	done
else
	want=(all)
fi
[ -n "${TESTS:-}" ] || want_ours=("${ours_order[@]}")
if [ "$set" = soak ]; then
	# fastinval_soak_test alone, SOAK_MINUTES long in each mode.
	soak=${SOAK_MINUTES:-10}
	[[ $soak =~ ^[1-9][0-9]*$ ]] || die "SOAK_MINUTES=$soak: a number of minutes"
	ours[fastinval_soak_test]="$((soak * 60 + 240)) -d $soak"
	want=() want_ours=(fastinval_soak_test)
fi

# Build the tests from the distro source: sets built, not_built,
# ours_not_built, boot_timeout; writes the guest's list.
build_tests() {
	echo "# upstream KVM selftests ($set) for $kver: building from the distro source"
	rm -rf "$bins/upstream" "$bins/kvm-fastinval"
	TESTS="${want[*]:-none}" ALLOW_FAIL=1 SMOKE=0 \
		"$top/selftests/harness/build-upstream-selftests.sh" "$kver" "$bins" >"$logdir/build.log" 2>&1 ||
		die "building the selftests failed (log: $logdir/build.log)"
	read -r -a not_built <<<"$(sed -n 's/^build-upstream-selftests: .*: not built: //p' "$logdir/build.log")"
	built=()
	[ ${#want[@]} -eq 0 ] || mapfile -t built < <(ls "$bins/upstream" 2>/dev/null)
	if [ "$set" != all ] || [ -n "${TESTS:-}" ]; then
		# List order, not alphabetical.
		ordered=()
		for name in "${want[@]}"; do
			[ ! -x "$bins/upstream/$name" ] || ordered+=("$name")
		done
		built=("${ordered[@]}")
	fi
	ours_not_built=()
	for name in "${want_ours[@]}"; do
		if [ -x "$bins/kvm-fastinval/$name" ]; then
			built+=("$name")
		else
			ours_not_built+=("$name")
		fi
	done
	[ ${#built[@]} -gt 0 ] || die "no test built (log: $logdir/build.log)"

	boot_timeout=300
	nconf=$(($(wc -w <<<"$modules") * $(wc -w <<<"$modes")))
	for name in "${built[@]}"; do
		if is_ours "$name"; then
			read -r t args <<<"${ours[$name]}"
			t=$((t * timeout_scale))
			more=ARGS_$name
			args="${args:-} ${!more:-}"
			echo "kvm-fastinval/$name $t ${args:-}"
		else
			read -r _ t args <<<"${entry[$name]:--}"
			t=$((${t:-$default_timeout} * timeout_scale))
			echo "upstream/$name $t ${args:-}"
		fi
		boot_timeout=$((boot_timeout + (t + 10) * nconf))
	done >"$guest_list"
	echo "# ${#built[@]} tests built, not built: ${not_built[*]:-none} ${ours_not_built[*]:-}; $modules x $modes"
}

# Boot with the tests, run them, split the channel into per-run logs: sets
# boot_rc, boot_secs.
boot_and_run() {
	echo "# booting $kver (QEMU TCG, nested SVM), timeout ${boot_timeout}s"
	t0=$SECONDS
	BOOT_MODE=selftests SELFTESTS=$bins SELFTEST_LIST=$guest_list MODULE=$module \
		ST_MODULES=$modules ST_MODES=$modes QEMU_MEM=${QEMU_MEM:-3G} \
		BOOT_TIMEOUT=$boot_timeout "$top/selftests/harness/boot-test.sh" "$kver" >"$logdir/boot.log" 2>&1
	boot_rc=$?
	boot_secs=$((SECONDS - t0))
	echo "$boot_rc $boot_secs" >"$logdir/boot.status"
	cp "$top/build/logs/$kver/boot-selftests.log" "$logdir/console.log" 2>/dev/null
	tr -d '\r' <"$top/build/logs/$kver/boot-selftests.tap" >"$logdir/channel.log" 2>/dev/null

	# Split the channel: per-run logs, CONFIG lines, results.
	for mode in $modes; do
		for m in $modules; do mkdir -p "$logdir/$mode/$m"; done
	done
	awk -v dir="$logdir" '
	/^CONFIG / { print substr($0, 8) > (dir "/configs"); next }
	/^@@@ BEGIN / { f = dir "/" $4 "/" $3 "/" $5 ".log"; printf "" > f; next }
	/@@@ END / {
		i = index($0, "@@@ END ")
		if (f != "" && i > 1) print substr($0, 1, i - 1) > f
		if (f != "") close(f)
		f = ""
		print substr($0, i + 8) > (dir "/results")
		next
	}
	/^@@@ DONE/ { next }
	f != "" { print > f }
	' "$logdir/channel.log"
	touch "$logdir/configs" "$logdir/results"
}

guest_list=$logdir/guest.list
echo "TAP version 13"
if [ -n "${REPORT_ONLY:-}" ]; then
	mapfile -t built < <(awk '{ n = $1; sub(/^.*\//, "", n); print n }' "$guest_list")
	read -r -a not_built <<<"$(sed -n 's/^build-upstream-selftests: .*: not built: //p' "$logdir/build.log")"
	ours_not_built=()
	read -r boot_rc boot_secs <"$logdir/boot.status" 2>/dev/null || { boot_rc=0 boot_secs="?"; }
	echo "# upstream KVM selftests ($set) for $kver: the report again, from $logdir"
else
	build_tests
	boot_and_run
fi

# -- results ------------------------------------------------------------------------
declare -A rc secs splat conf
while read -r m mode name r s p; do
	rc[$m/$mode/$name]=${r#rc=}
	secs[$m/$mode/$name]=${s#secs=}
	splat[$m/$mode/$name]=${p#splat=}
done <"$logdir/results"
while read -r m mode ok why; do
	conf[$m/$mode]="$ok $why"
done <"$logdir/configs"

# status MODULE/MODE/TEST: pass, skip, fail(RC), timeout, splat, missing,
# not run (NOSPLAT=1: what the test's exit code says, splat or not)
status() {
	local r=${rc[$1]:-}
	if [ -z "$r" ]; then echo "not-run"
	elif [ "${splat[$1]}" = 1 ] && [ -z "${NOSPLAT:-}" ]; then echo "splat"
	else
		case $r in
		0) echo pass ;;
		4) echo skip ;;
		124 | 137) echo timeout ;;
		127) echo missing ;;
		*) echo "fail($r)" ;;
		esac
	fi
}

# reason LOG STATUS: a line on why a run failed or skipped.
reason() {
	local l
	if [ ! -s "$1" ]; then echo "no output"; return; fi
	case $2 in
	splat) l="kernel splat: $(signatures "$1" | paste -sd ';')" ;;
	skip) l=$(grep -iE 'skip' "$1" | tail -n 2) ;;
	timeout) l="timed out; last output: $(grep -v '^[[:space:]]*$' "$1" | tail -n 1)" ;;
	*) l=$(grep -iE 'assert|fail|error|==== ' "$1" | grep -v '^# \$' | tail -n 3) ;;
	esac
	[ -n "$l" ] || l=$(grep -v '^[[:space:]]*$' "$1" | tail -n 3)
	echo "$l" | tr -s ' \t\n' ' ' | cut -c1-300
}

# signatures FILE...: one line per kernel splat in kernel log text, without
# what differs between runs and builds (time, CPU, PID, source directory, line,
# offsets, module name), so that the same distro WARN on the stock kvm.ko and
# on kvm-fastinval compare equal.  A "Call Trace:" right after a splat header
# belongs to it; one on its own (e.g. a hung task) is a splat of its own.
signatures() {
	awk -v re="$splat_re" '
	FNR == 1 { head = 0 }
	{ sub(/^.*\[ *[0-9]+\.[0-9]+\] /, "") }
	$0 ~ re && !/Call Trace/ {
		head = FNR
		if (match($0, /WARNING: .* at [^ ]+ [^ +]+/)) {
			n = split(substr($0, RSTART, RLENGTH), w, " ")
			file = w[n - 1]; sub(/^.*\//, "", file); sub(/:[0-9]+$/, "", file)
			print "WARNING: " file " " w[n]
		} else {
			gsub(/0x[0-9a-f]+|[0-9]+/, "N"); gsub(/ \[[a-z_]+\]/, "")
			print
		}
		next
	}
	/Call Trace:/ && (head == 0 || FNR - head > 40) { print "Call Trace (no header)" }
	' "$@" 2>/dev/null | sort -u
}

# Splats of the distro's own code: those the stock kvm.ko left in this boot,
# and those it is known to leave now and then (selftests/upstream-known-splats,
# for this series).
series=$(cut -d. -f1,2 <<<"$kver")
stock_splats=$({
	for f in "$logdir"/*/stock/*.log; do
		[ -f "$f" ] && grep -q '^# kernel log during the test:' "$f" && signatures "$f"
	done
	awk -v s="$series" '$1 == s { sub(/^[^ ]+ +/, ""); sub(/ +#.*/, ""); print }' \
		"$top/selftests/upstream-known-splats"
} | sort -u)
# stock_has FILE: every splat in FILE is one of those.
stock_has() {
	local s
	s=$(signatures "$1")
	[ -n "$s" ] && [ -z "$(comm -23 <(echo "$s") <(echo "$stock_splats"))" ]
}

modname() { [ "$1" = stock ] && echo "stock kvm.ko" || echo "kvm-fastinval"; }
modeline() { [ "$1" = tdp ] && echo "TDP, kvm_amd npt=1" || echo "shadow paging, kvm_amd npt=0"; }

# The results go to a file, printed after the tables.
n=0 passed=0 failed=0
results=$logdir/results.tap
: >"$results"

for mode in $modes; do
	echo "#"
	echo "# == $kver, $(modeline "$mode"): upstream KVM selftests ($set)"
	for m in $modules; do
		read -r ok why <<<"${conf[$m/$mode]:-fail the guest never set this up}"
		[ "$ok" = ok ] || echo "# $(modname "$m"): setup failed: $why"
		result "$([ "$ok" = ok ] && echo 0 || echo 1)" "$mode: $(modname "$m") loaded (${why:-})" >>"$results"
	done
	printf '# %-36s %-11s %-14s %s\n' test "stock" "kvm-fastinval" "time s (stock/ours)"
	declare -A count=()
	notes=()
	for name in "${built[@]}"; do
		s=$(status "stock/$mode/$name") o=$(status "ours/$mode/$name")
		if is_ours "$name"; then
			# Ours skip on the stock kvm.ko (exit 4): n/a there.
			if [ "$s" = skip ] || [ "$s" = not-run ]; then s=n/a; fi
			count[stock/$s]=$((${count[stock/$s]:-0} + 1))
			printf '# %-36s %-11s %-14s %s/%s\n' "$name" "$s" "$o" \
				"${secs[stock/$mode/$name]:--}" "${secs[ours/$mode/$name]:--}"
			count[ours/${o%%"("*}]=$((${count[ours/${o%%"("*}]:-0} + 1))
			[ "$o" = pass ] ||
				notes+=("$name: kvm-fastinval $o: $(reason "$logdir/$mode/ours/$name.log" "$o")")
			if [ "$s" != n/a ]; then
				result 1 "$mode: $name: $s on stock kvm.ko, must skip there (log: $logdir/$mode/stock/$name.log)" >>"$results"
			fi
			if [ "$o" = pass ]; then
				result 0 "$mode: $name (kvm-fastinval kselftest)" >>"$results"
			else
				result 1 "$mode: $name: $o on kvm-fastinval (log: $logdir/$mode/ours/$name.log)" >>"$results"
			fi
			continue
		fi
		printf '# %-36s %-11s %-14s %s/%s\n' "$name" "$s" "$o" \
			"${secs[stock/$mode/$name]:--}" "${secs[ours/$mode/$name]:--}"
		sk=${s%%"("*} ok_=${o%%"("*}
		count[stock/$sk]=$((${count[stock/$sk]:-0} + 1))
		count[ours/$ok_]=$((${count[ours/$ok_]:-0} + 1))
		[ "$s" = pass ] ||
			notes+=("$name: stock $s: $(reason "$logdir/$mode/stock/$name.log" "$s")")
		[ "$o" = pass ] || [ "$o" = "$s" ] ||
			notes+=("$name: kvm-fastinval $o: $(reason "$logdir/$mode/ours/$name.log" "$o")")
		sb=$(NOSPLAT=1 status "stock/$mode/$name") ob=$(NOSPLAT=1 status "ours/$mode/$name")
		if [ "$o" = splat ] && stock_has "$logdir/$mode/ours/$name.log" &&
		   { [ "$sb" != pass ] || [ "$ob" = pass ]; }; then
			todo 1 "$mode: $name" "$ob on kvm-fastinval with a splat of the distro's code that the stock kvm.ko leaves too (this boot or selftests/upstream-known-splats): $(signatures "$logdir/$mode/ours/$name.log" | paste -sd ';')" >>"$results"
		elif [ "$s" = pass ] && [ "$o" != pass ]; then
			result 1 "$mode: $name passes on stock kvm.ko, $o on kvm-fastinval (log: $logdir/$mode/ours/$name.log)" >>"$results"
		elif [ "$o" = splat ] || [ "$o" = not-run ]; then
			result 1 "$mode: $name: $o on kvm-fastinval (log: $logdir/$mode/ours/$name.log)" >>"$results"
		elif [ "$o" = pass ]; then
			result 0 "$mode: $name" >>"$results"
		elif [ "$o" = skip ]; then
			result 0 "$mode: $name # SKIP on kvm-fastinval, $s on stock kvm.ko" >>"$results"
		else
			todo 1 "$mode: $name" "$o on kvm-fastinval, $s on stock kvm.ko too" >>"$results"
		fi
	done
	for m in $modules; do
		sum=""
		for k in pass fail timeout skip splat missing not-run n/a; do
			[ -z "${count[$m/$k]:-}" ] || sum+="${sum:+, }${count[$m/$k]} $k"
		done
		echo "# $kver $mode $(modname "$m"): ${sum:-nothing run}"
	done
	unset count
	if [ ${#notes[@]} -gt 0 ]; then
		echo "# not passing in this environment ($mode):"
		printf '#   %s\n' "${notes[@]}"
	fi
done

# KTAP per mode and module, as the kselftest runner prints it.
for mode in $modes; do
	for m in $modules; do
		k=0 np=0 nf=0 ns=0
		{
			echo "KTAP version 1"
			echo "# upstream KVM selftests ($set) on $kver, $(modeline "$mode"), $(modname "$m")"
			echo "1..${#built[@]}"
			for name in "${built[@]}"; do
				k=$((k + 1))
				st=$(status "$m/$mode/$name")
				c=kvm
				! is_ours "$name" || c=kvm-fastinval
				echo "# selftests: $c: $name"
				sed 's/^/# /' "$logdir/$mode/$m/$name.log" 2>/dev/null
				case $st in
				pass) np=$((np + 1)); echo "ok $k selftests: $c: $name # ${secs[$m/$mode/$name]} s" ;;
				skip) ns=$((ns + 1)); echo "ok $k selftests: $c: $name # SKIP" ;;
				*) nf=$((nf + 1)); echo "not ok $k selftests: $c: $name # $st" ;;
				esac
			done
			echo "# Totals: pass:$np fail:$nf xfail:0 xpass:0 skip:$ns error:0"
		} >"$logdir/$mode-$m.ktap"
	done
done

echo "#"
if [ ${#not_built[@]} -gt 0 ]; then
	echo "# not built from the $kver source (logs: build/selftests/$kver/logs/):"
	for name in "${not_built[@]}"; do
		l=build/selftests/$kver/logs/$name.log
		why=$(grep -m 1 -E 'undefined reference|error:' "$top/$l" 2>/dev/null | cut -c1-200)
		echo "#   $name: ${why:-not a KVM selftest of this series}"
	done
fi
for name in "${ours_not_built[@]}"; do
	result 1 "$name (kvm-fastinval kselftest) did not build (log: build/selftests/$kver/logs/kvm-fastinval.log)" >>"$results"
done
[ "$boot_rc" -eq 0 ]
result $? "guest ran every test and powered off (${boot_secs}s; log: $logdir/boot.log)" >>"$results"
# Every splat in the console must be one the stock kvm.ko left too (listed
# above per test); any other, during a test or outside one, fails.
bad=$(comm -23 <(grep -avE '^(ok |not ok |#)' "$logdir/console.log" 2>/dev/null | signatures) \
	<(echo "$stock_splats") | head -n 10)
[ -z "$bad" ]
result $? "console log has no WARNING/BUG/Oops/panic other than the distro's own${stock_splats:+ ($(paste -sd ';' <<<"$stock_splats"))}" >>"$results"
[ -z "$bad" ] || sed 's/^/# /' <<<"$bad"

cat "$results"
echo "1..$n"
echo "# logs: $logdir (per run: MODE/MODULE/TEST.log; KTAP: MODE-MODULE.ktap); took $((SECONDS - start))s"
echo "$kver: upstream selftests ($set): $passed passed, $failed failed"
[ "$failed" -eq 0 ]
