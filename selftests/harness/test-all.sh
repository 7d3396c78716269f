#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# test-all.sh [KVER...]: the whole test suite, for every supported Debian
# kernel (or those named): dependencies, checkpatch, build refusals, build,
# no-op rebuild, ABI check, DKMS build in a private tree, test programs, the
# QEMU boot test of the DKMS-built module and the curated upstream KVM
# selftests against the stock kvm.ko with our kvm-fastinval kselftests
# (selftests/harness/upstream-selftests.sh), a kernel's boots beside the next one's
# build; then the packaging tests per Debian release (selftests/harness/pkg-test.sh:
# .deb, .rpm, install flow in a chroot, switch-over). KTAP-style lines, a
# summary, exit 1 on any failure.
# Logs: build/logs/.
set -uo pipefail

top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top" || exit 1
logs=$top/build/logs
mkdir -p "$logs"
start=$(date +%s)
n=0 passed=0 failed=0

note() { echo "# [$(($(date +%s) - start))s] $*"; }

# shellcheck source=selftests/harness/ktap.sh
. "$top/selftests/harness/ktap.sh"

# sub_result LOG PREFIX DESC: one result from a sub-suite's closing line
# "PREFIX N passed, N failed" (PREFIX literal: KVERs hold regex characters).
sub_result() {
	local summary p f
	summary=$(grep -F "$2" "$1" | grep -E ': [0-9]+ passed, [0-9]+ failed$' | tail -n 1)
	p=$(echo "$summary" | sed -nE 's/.* ([0-9]+) passed.*/\1/p')
	f=$(echo "$summary" | sed -nE 's/.* ([0-9]+) failed.*/\1/p')
	[ -n "$summary" ] && [ "${f:-1}" -eq 0 ] && [ "${p:-0}" -gt 0 ]
	result $? "$3 (${p:-0} passed, ${f:-?} failed)"
}

# refused DESC MESSAGE CMD...: CMD must fail, say MESSAGE and compile nothing.
refused() {
	local desc=$1 msg=$2 log=$logs/refused.log rc=0
	shift 2
	"$@" >"$log" 2>&1 && rc=1
	grep -qF -- "$msg" "$log" || rc=1
	grep -qE '^ +(CC|LD) ' "$log" && rc=1
	[ $rc -eq 0 ] || { sed 's/^/#   /' "$log" | tail -n 5; note "expected: $msg"; }
	result $rc "$desc"
}

echo "TAP version 13"
note "kvm-fastinval test suite ($(date -u '+%F %T') UTC)"
check "dependencies installed" "$logs/deps.log" scripts/deps.sh "$@" || {
	sed 's/^/#   /' "$logs/deps.log" | tail -n 20
	echo "kvm-fastinval: $passed passed, $((failed)) failed"
	exit 1
}

if [ $# -gt 0 ]; then
	# Named kernels may be of any flavour (rt-amd64: PREEMPT_RT).
	targets=$(DEBIAN_FLAVOURS="amd64 rt-amd64" scripts/debian-kernels.sh list |
		  awk -v want=" $* " 'index(want, " " $2 " ")')
else
	targets=$(scripts/debian-kernels.sh list)
fi
[ -n "$targets" ] || { note "no supported kernel to test"; exit 1; }
note "kernels: $(echo "$targets" | awk '{ printf "%s%s (%s %s)", sep, $2, $4, $3; sep = ", " }')"

# The package tests' chroot bases (mmdebstrap: mostly download and unpack,
# ~1.5 GB each when not cached) are made in the background meanwhile; the
# package tests wait for them.
pkg=${PKG_TEST:-$([ $# -eq 0 ] && echo 1)}
host=$(scripts/debian-kernels.sh host)
releases="$host $(echo "$targets" | awk -v h="$host" '$4 != h { print $4 }' | sort -u)"
bases=
if [ "$pkg" = 1 ]; then
	for r in $releases; do
		RELEASE=$r selftests/harness/pkg-chroot.sh base >"$logs/pkg-base-$r.log" 2>&1 || true
	done </dev/null &
	bases=$!
fi

# Bad build input is refused before anything is compiled.
first=$(echo "$targets" | awk 'NR == 1 { print $2 }')
fake=$top/build/tmp/fake-kdir
rm -rf "$fake"
mkdir -p "$fake/include/config"
printf 'VERSION = 5\nPATCHLEVEL = 10\nSUBLEVEL = 0\n' >"$fake/Makefile"
printf 'CONFIG_X86_64=y\nCONFIG_KVM=m\n' >"$fake/include/config/auto.conf"
refused "refuses a kernel without headers" "install linux-headers-0.0.0-none" \
	make KVER=0.0.0-none
refused "refuses an unsupported kernel series" "kernel series 5.10 (5.10.0-fake) is not supported" \
	make KVER=5.10.0-fake KDIR="$fake"
printf 'VERSION = 6\nPATCHLEVEL = 12\nSUBLEVEL = 95\n' >"$fake/Makefile"
refused "refuses a point release older than its queue's minimum" "older than 6.12.117, the oldest the 6.12 patch queue applies to" \
	make KVER=6.12.95-fake KDIR="$fake"
printf 'VERSION = 5\nPATCHLEVEL = 10\nSUBLEVEL = 0\n' >"$fake/Makefile"
printf 'CONFIG_ARM64=y\nCONFIG_KVM=m\n' >"$fake/include/config/auto.conf"
refused "refuses a non-x86_64 kernel" "is not an x86_64 kernel" \
	make KVER=5.10.0-fake KDIR="$fake"
mkdir -p "$fake/ksrc/arch/x86/kvm" "$fake/ksrc/virt/kvm"
printf 'VERSION = 6\nPATCHLEVEL = 1\nSUBLEVEL = 1\n' >"$fake/ksrc/Makefile"
refused "refuses a KSRC= of another version" "use a source of exactly" \
	scripts/build-root.sh "$first" make KVER="$first" KSRC="$fake/ksrc"
# A dpkg-query that reports linux-source as FAKE_SOURCE says (or absent).
# These run where the first kernel builds: its release's root, maybe.
mkdir -p "$fake/bin"
cat >"$fake/bin/dpkg-query" <<'EOF'
#!/bin/sh
case "$*" in
*linux-source-*) [ -n "$FAKE_SOURCE" ] && echo "$FAKE_SOURCE" ;;
*) exec /usr/bin/dpkg-query "$@" ;;
esac
EOF
chmod +x "$fake/bin/dpkg-query"
series=$(echo "$targets" | awk 'NR == 1 { print $1 }')
refused "refuses a linux-source package of another version" "install the matching source with 'apt-get install linux-source-$series=" \
	scripts/build-root.sh "$first" env PATH="$fake/bin:$PATH" FAKE_SOURCE="ii 0.0-fake" make KVER="$first"
refused "refuses to build without the linux-source package" "is missing: install it with 'apt-get install linux-source-$series=" \
	scripts/build-root.sh "$first" env PATH="$fake/bin:$PATH" FAKE_SOURCE= make KVER="$first"
[ ! -e build/0.0.0-none ] && [ ! -e build/5.10.0-fake ] && [ ! -e build/6.12.95-fake ]
result $? "refused builds leave no build tree behind"
# dkms.conf's BUILD_EXCLUSIVE_KERNEL admits exactly the series with a queue.
re=$(sed -n 's/^BUILD_EXCLUSIVE_KERNEL="\(.*\)"/\1/p' dkms.conf)
bad=
supported=$(scripts/kvm-source.sh series)
for s in $supported common 5.10 6.10 6.13 7.1; do
	k=$s.0-1-amd64
	if grep -qxF "$s" <<<"$supported"; then
		grep -qE "$re" <<<"$k" || bad+=" $s(skipped)"
	else
		! grep -qE "$re" <<<"$k" || bad+=" $s(built)"
	fi
done
[ -n "$re" ] && [ -z "$bad" ]
result $? "dkms.conf BUILD_EXCLUSIVE_KERNEL '$re' admits exactly the series with a queue${bad:+ (wrong:$bad)}"
# Called from another make (make bench, DKMS wrappers), make prints
# "Entering directory" lines: the version must still be read right.
got=$(scripts/build-root.sh "$first" env MAKEFLAGS=w MAKELEVEL=1 \
	scripts/kvm-source.sh check "$first" "/lib/modules/$first/build" 2>&1)
[ "$got" = "$series" ]
result $? "the kernel series is read right under a recursive make (got '$got')"

# boots KVER KO: the QEMU boots of one kernel (one TCG thread, one core),
# logs only: they run in the background while the next kernel builds.
boots() {
	local kver=$1 ko=$2 log=$logs/$1
	MODULE=$ko SELFTESTS=build/selftests/$kver selftests/harness/boot-test.sh "$kver" >"$log/boot-test.log" 2>&1
	MODULE=$ko selftests/harness/upstream-selftests.sh "$kver" >"$log/upstream-selftests.log" 2>&1
	MODULE=$ko selftests/bench/bench.sh --smoke "$kver" >"$log/bench-smoke.log" 2>&1
}

# report: wait for the kernel's boots started last, then their results.
pending=
report() {
	local kver pid t0 log
	[ -n "$pending" ] || return 0
	read -r kver pid t0 <<<"$pending"
	pending=
	log=$logs/$kver
	wait "$pid"
	note "--- $kver: boots done in $(($(date +%s) - t0)) s"
	sections+="$kver boots $(($(date +%s) - t0)) s, "

	note "boot test of the DKMS-built module (QEMU TCG, nested SVM)"
	sed 's/^/    /' "$log/boot-test.log"
	sub_result "$log/boot-test.log" "$kver: " "$kver: boot test"
	tap_valid "$log/boot-test.log"
	result $? "$kver: the boot test's TAP is valid (TAP::Parser)"

	note "upstream KVM selftests, stock kvm.ko vs kvm-fastinval, TDP and shadow (curated set), and our kselftests"
	grep -E '^(#|not ok )' "$log/upstream-selftests.log" | sed 's/^/    /'
	sub_result "$log/upstream-selftests.log" "$kver: upstream selftests (ci): " \
		"$kver: upstream KVM selftests on kvm-fastinval as on stock kvm.ko; kvm-fastinval kselftests pass"
	tap_valid "$log/upstream-selftests.log"
	result $? "$kver: the upstream selftest report's TAP is valid (TAP::Parser)"

	note "benchmark smoke run and kvm-fastinval-stat on a trace recorded in the guest (no timing asserted)"
	grep -E '^not ok ' "$log/bench-smoke.log" | sed 's/^/    /'
	sub_result "$log/bench-smoke.log" "$kver: bench smoke: " \
		"$kver: fastinval_bench smoke run, kvm-fastinval-stat on a guest trace"
}

# Per kernel: the builds, then its boots in the background while the next
# kernel builds (QEMU runs one TCG thread: the other core builds).
sections=
while read -r series kver version release; do
	t0=$(date +%s)
	note "--- $kver (Debian $release, $version, series $series$([ "$(scripts/build-root.sh --where "$kver")" = native ] || echo ", built in a $release root"))"
	log=$logs/$kver
	mkdir -p "$log"
	# The first kernel from a clean tree with one job, as DKMS on a
	# one-CPU host builds: make then runs the rules in their written order.
	jobs=$(nproc)
	if [ "$kver" = "$first" ]; then
		jobs=1
		make KVER="$kver" clean >/dev/null
	fi
	note "building kvm.ko"
	check "$kver: make -j$jobs builds kvm.ko" "$log/make.log" make KVER="$kver" -j"$jobs" || continue
	make KVER="$kver" >"$log/make-again.log" 2>&1 &&
		! grep -qE '^ +(CC|LD|EXTRACT|PATCH) ' "$log/make-again.log"
	result $? "$kver: make again with nothing changed compiles nothing"
	check "$kver: ABI identical to the distro kvm.ko" "$log/abi.log" make KVER="$kver" abi-check
	sed 's/^/#   /' "$log/abi.log" | grep -E '^#   (not )?ok' || true
	# The newest series' checkpatch.pl: the current rules.
	[ "$series" = "$(echo "$targets" | awk 'END { print $1 }')" ] &&
		check "checkpatch --strict on our kernel C and patches" "$logs/checkpatch.log" \
			make KVER="$kver" checkpatch

	note "building with DKMS in a private tree"
	check "$kver: dkms add, build, install" "$log/dkms.log" selftests/harness/dkms-private.sh "$kver" || continue
	ko=$(tail -n 1 "$log/dkms.log")

	note "building the test programs"
	check "$kver: test programs build" "$log/selftests.log" \
		selftests/harness/build-upstream-selftests.sh "$kver" "build/selftests/$kver"
	sections+="$kver build $(($(date +%s) - t0)) s, "

	report
	note "$kver: boot test, upstream selftests and bench smoke started (QEMU, in the background)"
	boots "$kver" "$ko" </dev/null &
	pending="$kver $! $(date +%s)"
done <<<"$targets"

# Packaging (selftests/harness/pkg-test.sh), per Debian release of the kernels: with
# the full suite, or PKG_TEST=1. The host's release first, beside the last
# kernel's boots; a release's package test boots that release's kernels, so
# it waits for their boots.
if [ "$pkg" = 1 ]; then
	wait "$bases"
	for r in $releases; do
		[ "$(echo "$targets" | awk -v k="${pending%% *}" '$2 == k { print $4 }')" != "$r" ] || report
		# CI allows 60 minutes: another release's package test (about 12
		# of them) is skipped, visibly, if it would end past TEST_BUDGET.
		if [ "$r" != "$host" ] && [ $(($(date +%s) - start + 720)) -gt "${TEST_BUDGET:-3600}" ]; then
			skip "pkg $r: package tests" "would end past TEST_BUDGET=${TEST_BUDGET:-3600} s (selftests/harness/pkg-test.sh $r runs them)"
			continue
		fi
		note "--- packaging, Debian $r: .deb$([ "$r" = "$host" ] && echo ", .rpm"), install flow in a chroot, kernel hook, switch-over"
		t0=$(date +%s)
		relay "pkg $r: " pkg-test "$logs/pkg-test-$r.log" selftests/harness/pkg-test.sh "$r"
		sections+="packaging $r $(($(date +%s) - t0)) s, "
	done
else
	note "packaging tests skipped (kernels named; PKG_TEST=1 runs them)"
fi
report

echo "1..$n"
note "took $(($(date +%s) - start)) s (${sections%, })"
echo "kvm-fastinval: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
