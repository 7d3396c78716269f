#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# /init of the boot-test initramfs (built by selftests/harness/boot-test.sh): checks
# that kvm-fastinval works as a drop-in kvm.ko, then powers the guest off.
# TAP goes to /dev/ttyS1 (a clean channel the host parses) and, for the
# log, to the console; command output goes to the console as "# " lines.
# /etc/boot-test.env (written by the host) sets:
#   BT_CONF_OPTS     "p=v ..." put in /etc/modprobe.d as "options kvm ..."
#   BT_CMDLINE_OPTS  "p=v ..." the host put on the kernel command line as kvm.p=v
#   BT_SELFTEST_TIMEOUT  seconds per test binary
#   BT_VERSION       the kvm-fastinval version the module must report
#   BT_MODE          "demo": show kvm-fastinval at work instead of checking;
#                    "selftests": run selftests/harness/guest-selftests.sh instead
#                    "switch", "stock": the package tests' checks (below)

export PATH=/usr/sbin:/usr/bin:/sbin:/bin
export LC_ALL=C

mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
exec </dev/console >/dev/console 2>&1
mount -t debugfs debugfs /sys/kernel/debug
mount -t tracefs tracefs /sys/kernel/tracing 2>/dev/null
mount -t tmpfs tmpfs /tmp

# Whatever happens below, end by powering off (-no-reboot makes QEMU exit).
poweroff() {
	sync
	echo o >/proc/sysrq-trigger
	sleep 30
}
trap poweroff EXIT

BT_CONF_OPTS='' BT_CMDLINE_OPTS='' BT_SELFTEST_TIMEOUT=180 BT_MODE=test BT_VERSION=
# shellcheck disable=SC1091
. /etc/boot-test.env
# shellcheck source=selftests/harness/splats.sh
. /opt/splats.sh

KVER=$(uname -r)
ST=/opt/selftests
n=0

if ! exec 3>/dev/ttyS1; then
	echo "guest-init: no /dev/ttyS1, TAP to console only"
	exec 3>/dev/null
fi
stty -F /dev/ttyS1 raw -echo 2>/dev/null

say() { echo "$*" >&3; echo "$*"; }

diag() { sed 's/^/# /'; }

# Results to the channel and the console: tap OK DESC, OK a status (0 = pass).
# shellcheck disable=SC2034 # ktap.sh's
passed=0 failed=0 ktap_print=say
# shellcheck source=selftests/harness/ktap.sh
. /opt/ktap.sh
# shellcheck source=selftests/harness/channel.sh
. /opt/channel.sh
tap() { result "$@"; }

# Run a command, its output as diagnostics; return its status.
run() {
	local rc
	echo "# \$ $*"
	"$@" 2>&1 | diag
	rc=${PIPESTATUS[0]}
	[ "$rc" -eq 0 ] || echo "# (exit $rc)"
	return "$rc"
}

loaded() { grep -q "^$1 " /proc/modules; }
param() { cat "/sys/module/$1/parameters/$2" 2>/dev/null; }
dmesg_lines() { dmesg | wc -l; }
dmesg_since() { dmesg | tail -n +"$(($1 + 1))"; }

# Only kvm-fastinval's kvm has this parameter.
ours_loaded() { loaded kvm && [ -e /sys/module/kvm/parameters/fastinval_mode ]; }

# Every "p=v" in $2 reads back as v from /sys/module/kvm.
params_are() {
	local kv p v got ok=0
	for kv in $2; do
		p=${kv%%=*} v=${kv#*=}
		got=$(param kvm "$p")
		if [ "$got" != "$v" ]; then
			echo "# $1: kvm.$p is '$got', want '$v'"
			ok=1
		fi
	done
	[ -n "$2" ] || { echo "# $1: no options to check"; ok=1; }
	return $ok
}

# run_test DESC TIMEOUT BINARY: exit 0 passes; a skip (exit 4) fails, since
# every test here must run in this guest.
run_test() {
	local desc=$1 t=$2 bin=$3 rc
	if [ ! -x "$bin" ]; then
		tap 1 "$desc # missing binary ${bin#"$ST"/}"
		return
	fi
	echo "# \$ timeout $t $bin"
	(cd "$(dirname "$bin")" && timeout -k 5 "$t" "$bin") 2>&1 | diag
	rc=${PIPESTATUS[0]}
	case $rc in
	0) tap 0 "$desc" ;;
	4) tap 1 "$desc (exit 4: skipped)" ;;
	124|137) tap 1 "$desc (timed out after ${t}s)" ;;
	*) tap 1 "$desc (exit $rc)" ;;
	esac
}

no_kvm_left() {
	! loaded kvm && ! loaded kvm_amd && ! loaded kvm_intel && [ ! -e /sys/module/kvm ]
}

# The module index, made by the real depmod as on a DKMS install.
run depmod -a "$KVER"

# -- selftests mode: test lists against stock kvm.ko and ours, for the host's
# selftests/harness/upstream-selftests.sh.
if [ "$BT_MODE" = selftests ]; then
	bash /opt/guest-selftests.sh
	exit 0
fi

# -- demo mode: a transcript on ttyS1 for selftests/harness/demo.sh ----------------------
if [ "$BT_MODE" = demo ]; then
	rc=0
	show() {
		echo "\$ $*" >&3
		bash -c "$*" >&3 2>&1 || { rc=1; echo "(failed)" >&3; }
	}
	show uname -r
	show modprobe kvm_amd
	show "lsmod | grep -E '^(kvm|irqbypass|ccp)'"
	show "modinfo kvm | grep -E '^(filename|kvm_fastinval|version|depends|vermagic):'"
	show cat /sys/module/kvm/version
	show "grep -H . /sys/module/kvm/parameters/{halt_poll_ns,tdp_mmu,enable_pmu}"
	show "grep -H . /sys/module/kvm/parameters/fastinval_*"
	show "$ST/kvm_smoke"
	show "modprobe -r kvm_amd && modprobe kvm_amd npt=0 && cat /sys/module/kvm_amd/parameters/npt"
	show "$ST/kvm_smoke | tail -n 3"
	# Its memslot delete, then its teardown, as trace-cmd users see them.
	show "trace-cmd record -q -e kvm_fastinval -o /tmp/trace.dat $ST/kvm_smoke >/dev/null"
	show "trace-cmd report -i /tmp/trace.dat 2>/dev/null | grep -m 1 -B 100 kvm_fastinval_end"
	# The trace goes to the host too, for kvm-fastinval-stat (demo.sh).
	ship /tmp/trace.dat >&3
	show "dmesg | grep -iE 'kvm|svm' | tail -n 5"
	show modprobe -r kvm_amd kvm
	show "grep kvm /proc/modules || echo 'no kvm module loaded'"
	[ $rc -ne 0 ] || echo "# demo: done" >&3
	exit 0
fi

echo "# boot-test guest: $KVER, cmdline: $(cat /proc/cmdline)"
say "TAP version 13"

kernel_log_clean() {
	local bad
	bad=$(dmesg | splats)
	[ -z "$bad" ] || echo "$bad" | diag
	[ -z "$bad" ]
}

# -- switch mode: kvm-fastinval-switch on a "running host" --------------------
if [ "$BT_MODE" = switch ]; then
	SW=kvm-fastinval-switch
	RULE=/run/modprobe.d/kvm-fastinval-off.conf
	hold_pid=
	# Start vm_hold; succeed once its VM exists.
	hold_vm() {
		"$ST/vm_hold" >/tmp/hold.out 2>&1 &
		hold_pid=$!
		local i
		for ((i = 0; i < 100; i++)); do
			grep -q ready /tmp/hold.out && return 0
			kill -0 "$hold_pid" 2>/dev/null || break
			sleep 0.2
		done
		diag </tmp/hold.out
		return 1
	}
	release_vm() { kill "$hold_pid" 2>/dev/null; wait "$hold_pid" 2>/dev/null; }
	# The distro's kvm has neither fastinval_mode nor a version file.
	stock_up() { loaded kvm && loaded kvm_amd && ! ours_loaded && [ ! -e /sys/module/kvm/version ]; }
	ours_up() {
		ours_loaded && loaded kvm_amd && [ "$(cat /sys/module/kvm/version 2>/dev/null)" = "$BT_VERSION" ]
	}
	kvm_options_reach() {
		params_are "options kvm" "$BT_CONF_OPTS" && params_are "kvm.<p>= cmdline" "$BT_CMDLINE_OPTS"
	}
	# sw ARG...: run the switch, its output in $out (and the log), status in $rc.
	sw() {
		echo "# \$ $SW $*"
		out=$($SW "$@" 2>&1)
		rc=$?
		echo "$out" | diag
		echo "# (exit $rc)"
	}
	# has TEXT...: each TEXT is in $out.
	has() {
		local t
		for t in "$@"; do
			echo "$out" | grep -qF -- "$t" || { echo "# not in the output: $t"; return 1; }
		done
	}
	installed_line="installed for $KVER: kvm-fastinval $BT_VERSION built from "

	sw status
	[ "$rc" -eq 0 ] && has "none: no kvm module is loaded" "$installed_line" \
		"off rule: none: modprobe kvm loads kvm-fastinval's kvm"
	tap $? "switch status, no kvm loaded: none, kvm-fastinval $BT_VERSION installed, no off rule"

	sw off
	[ "$rc" -eq 0 ] && stock_up && [ -f "$RULE" ]
	tap $? "switch off with nothing loaded: the distro's kvm (no fastinval_mode, no version) and kvm_amd, off rule in $RULE"
	[ ! -f "$RULE" ] || diag <"$RULE"
	kvm_options_reach
	tap $? "switch off: options kvm from modprobe.d and the kernel command line reach the distro's kvm"
	sw status
	[ "$rc" -eq 0 ] && has "off: the distro's kvm is loaded, with kvm_amd" "loaded: the distro's kvm" \
		"$installed_line" "off rule: $RULE: modprobe kvm loads the distro's kvm"
	tap $? "switch status after off: off, the distro's kvm, off rule in force"
	run_test "kvm_smoke on the distro's kvm" "$BT_SELFTEST_TIMEOUT" "$ST/kvm_smoke"

	# The off rule: kvm as a dependency of kvm_amd, and modprobe kvm itself.
	run rmmod kvm_amd kvm && run modprobe kvm_amd
	rc=$?
	run cat /proc/modules
	stock_up && kvm_options_reach
	tap $((rc | $?)) "off rule: rmmod kvm_amd kvm; modprobe kvm_amd loads the distro's kvm, with modprobe.d and cmdline options"
	run rmmod kvm_amd kvm && run modprobe kvm halt_poll_ns=4321 && run modprobe kvm_amd
	rc=$?
	stock_up && [ "$(param kvm halt_poll_ns)" = 4321 ] && params_are "options kvm" "$BT_CONF_OPTS"
	tap $((rc | $?)) "off rule: modprobe kvm halt_poll_ns=4321 loads the distro's kvm with that and the modprobe.d options"

	# A value a shell would split and glob reaches the kernel whole: kvm's
	# nx_huge_pages takes a string (off, force, auto, never or a boolean) and
	# the kernel refuses this one naming what it got. Split, the word '*"'
	# would glob to the file 'g"' in the working directory, and the two
	# spaces would become one.
	mkdir -p /tmp/glob && : >'/tmp/glob/g"'
	quote_conf='options kvm nx_huge_pages="x  *"'
	refusal="kvm: \`x  *' invalid for parameter \`nx_huge_pages'"
	echo "$quote_conf" >/etc/modprobe.d/zz-quote.conf
	run rmmod kvm_amd kvm
	mark=$(dmesg_lines)
	(cd /tmp/glob && run modprobe kvm_amd)
	rc=$?
	log=$(dmesg_since "$mark")
	echo "$log" | diag
	rm -f /etc/modprobe.d/zz-quote.conf
	[ "$rc" -ne 0 ] && ! loaded kvm && echo "$log" | grep -qF -- "$refusal"
	tap $? "off rule: '$quote_conf' reaches the distro's kvm as one value (the kernel refuses 'x  *')"
	run modprobe kvm_amd

	hold_vm
	tap $? "vm_hold keeps a VM open"
	sw on
	[ "$rc" -eq 3 ] && stock_up && [ -f "$RULE" ] && kill -0 "$hold_pid" 2>/dev/null &&
		has "refusing to switch: KVM is in use" "nothing was changed"
	tap $? "switch on refuses while a VM exists (exit 3), says so, changes nothing"
	release_vm

	sw on
	[ "$rc" -eq 0 ] && ours_up && [ ! -e "$RULE" ]
	tap $? "switch on (no VM): kvm-fastinval's kvm $BT_VERSION under kvm_amd, off rule gone"
	kvm_options_reach
	tap $? "switch on: options kvm from modprobe.d and the kernel command line reach kvm-fastinval's kvm"
	sw status
	[ "$rc" -eq 0 ] && has "on: kvm-fastinval's kvm is loaded, with kvm_amd" \
		"loaded: kvm-fastinval $BT_VERSION built from " "$installed_line" \
		"off rule: none: modprobe kvm loads kvm-fastinval's kvm"
	tap $? "switch status after on: on, kvm-fastinval $BT_VERSION and its build, no off rule"
	run_test "kvm_smoke after switch on" "$BT_SELFTEST_TIMEOUT" "$ST/kvm_smoke"
	run rmmod kvm_amd kvm && run modprobe kvm_amd
	rc=$?
	ours_up
	tap $((rc | $?)) "after switch on: rmmod kvm_amd kvm; modprobe kvm_amd loads kvm-fastinval's kvm"

	hold_vm
	sw off
	[ "$rc" -eq 3 ] && ours_up && [ ! -e "$RULE" ] && kill -0 "$hold_pid" 2>/dev/null &&
		has "refusing to switch"
	tap $? "switch off refuses while a VM exists (exit 3), changes nothing"
	release_vm

	# A step of off fails: the distro's kvm refuses an option; the switch
	# passed it whole (insmod, one argument) and loads it without options.
	echo "$quote_conf" >/etc/modprobe.d/zz-quote.conf
	mark=$(dmesg_lines)
	sw off
	log=$(dmesg_since "$mark")
	rm -f /etc/modprobe.d/zz-quote.conf
	echo "$log" | grep -F "invalid for parameter" | diag
	[ "$rc" -eq 1 ] && stock_up && [ -f "$RULE" ] && echo "$log" | grep -qF -- "$refusal" &&
		has "loading the distro's kvm failed" "the distro's kvm is loaded again with kvm_amd" "which it refused"
	tap $? "switch off failing midway ('$quote_conf' refused whole): exit 1, the distro's kvm without options, says so"

	sw on
	[ "$rc" -eq 0 ] && ours_up
	sw off
	[ "$rc" -eq 0 ] && stock_up && [ -f "$RULE" ] && kvm_options_reach
	tap $? "switch on, switch off (no VM): the distro's kvm again, with its options, off rule in force"
	run_test "kvm_smoke after switch off" "$BT_SELFTEST_TIMEOUT" "$ST/kvm_smoke"

	# A step of on fails: kvm-fastinval refuses a bad option.
	echo "options kvm halt_poll_ns=bogus" >/etc/modprobe.d/zz-broken.conf
	sw on
	rm -f /etc/modprobe.d/zz-broken.conf
	[ "$rc" -eq 1 ] && stock_up && [ -f "$RULE" ] &&
		has "loading kvm-fastinval's kvm failed" "the distro's kvm is loaded again"
	tap $? "switch on failing midway: exit 1, the distro's kvm and the off rule again, says what happened"
	run_test "kvm_smoke after the failed switch" "$BT_SELFTEST_TIMEOUT" "$ST/kvm_smoke"

	sw bogus
	r1=$rc
	sw --version
	[ "$r1" -eq 2 ] && [ "$rc" -eq 0 ] && [ "$out" = "$SW $BT_VERSION" ]
	tap $? "switch: a bad command exits 2; --version says $BT_VERSION"

	kernel_log_clean
	tap $? "kernel log has no WARN/BUG/Oops/Unknown symbol"
	say "1..$n"
	exit 0
fi

# -- stock mode: kvm-fastinval removed, the distro kvm loads ------------------
if [ "$BT_MODE" = stock ]; then
	left=$(find /lib/modules/"$KVER" /lib/modprobe.d /etc/modprobe.d /run/modprobe.d /usr/sbin \
		\( -name '*fastinval*' -o -path '*/updates/dkms/kvm.ko*' \) 2>/dev/null)
	[ -z "$left" ] || echo "$left" | diag
	[ -z "$left" ]
	tap $? "nothing of kvm-fastinval left: no updates/dkms/kvm.ko*, no modprobe.d or /run/modprobe.d file, no switch"
	run modprobe kvm_amd
	rc=$?
	run cat /proc/modules
	loaded kvm && loaded kvm_amd && ! ours_loaded && [ ! -e /sys/module/kvm/version ]
	tap $((rc | $?)) "modprobe kvm_amd loads the distro's kvm (no fastinval_mode parameter, no version)"
	run_test "kvm_smoke on the distro kvm" "$BT_SELFTEST_TIMEOUT" "$ST/kvm_smoke"
	run modprobe -r kvm_amd kvm && run modprobe kvm
	rc=$?
	loaded kvm && ! ours_loaded
	tap $((rc | $?)) "modprobe kvm loads the distro's kvm"
	kernel_log_clean
	tap $? "kernel log has no WARN/BUG/Oops/Unknown symbol"
	say "1..$n"
	exit 0
fi

# -- module index -----------------------------------------------------------
dep=$(grep '^kernel/arch/x86/kvm/kvm-amd\.ko[^:]*:' "/lib/modules/$KVER/modules.dep")
echo "# modules.dep: $dep"
case " ${dep#*:} " in
*" kernel/arch/x86/kvm/kvm.ko"*) tap 1 "modules.dep: kvm_amd depends on updates/dkms/kvm.ko (the distro's kvm.ko listed)" ;;
*" updates/dkms/kvm.ko"*) tap 0 "modules.dep: kvm_amd depends on updates/dkms/kvm.ko" ;;
*) tap 1 "modules.dep: kvm_amd depends on updates/dkms/kvm.ko" ;;
esac

# -- what it is ----------------------------------------------------------------
info=$(modinfo kvm 2>&1)
echo "$info" | grep -E '^(filename|version|kvm_fastinval):|^parm: *fastinval_' | diag
file=$(echo "$info" | sed -n 's/^filename: *//p')
version=$(echo "$info" | sed -n 's/^version: *//p')
case $file in
*/updates/dkms/kvm.ko*) [ "$version" = "$BT_VERSION" ] &&
	echo "$info" | grep -q "^kvm_fastinval: *kvm-fastinval $BT_VERSION built from .*patch queue" ;;
*) false ;;
esac
tap $? "modinfo kvm: updates/dkms/kvm.ko, version $BT_VERSION, says what it was built from"
types=$(echo "$info" | sed -n 's/^parm: *\(fastinval_[a-z_]*\):.*(\([a-z]*\))$/\1=\2/p' | sort | tr '\n' ' ')
[ "$types" = "fastinval_batch_pages=uint fastinval_hold_budget_us=uint fastinval_mode=string " ]
tap $? "modinfo kvm: each fastinval_ parameter with its type ($types)"

# -- load through kvm_amd ----------------------------------------------------
run modprobe kvm_amd npt=1
rc=$?
run cat /proc/modules
ours_loaded && loaded kvm_amd && [ "$(cat /sys/module/kvm/version 2>/dev/null)" = "$BT_VERSION" ]
tap $((rc | $?)) "modprobe kvm_amd loads kvm-fastinval's kvm (/sys/module/kvm/version $BT_VERSION)"

users=$(lsmod | awk '$1 == "kvm" { print $4 }')
echo "# lsmod: kvm used by '$users'"
case ",$users," in *,kvm_amd,*) ok=0 ;; *) ok=1 ;; esac
tap $ok "lsmod: kvm used by kvm_amd"

got=$(for p in mode batch_pages hold_budget_us; do param kvm "fastinval_$p"; done | tr '\n' ' ')
[ "$got" = "bounded 10 5000 " ]
tap $? "fastinval_mode, _batch_pages, _hold_budget_us in /sys/module/kvm/parameters: defaults ($got)"

params_are "options kvm" "$BT_CONF_OPTS"
tap $? "'options kvm $BT_CONF_OPTS' in modprobe.d reaches kvm (loaded as dependency)"
params_are "kvm.<p>= cmdline" "$BT_CMDLINE_OPTS"
tap $? "kvm.<p>= on kernel cmdline ($BT_CMDLINE_OPTS) reaches kvm (loaded as dependency)"

# -- run guests --------------------------------------------------------------
npt=$(param kvm_amd npt)
[ "$npt" = Y ]
tap $? "kvm_amd npt=1: /sys/module/kvm_amd/parameters/npt is '$npt'"
[ -e /dev/kvm ] || echo "# no /dev/kvm"
run_test "kvm_smoke with kvm_amd npt=1" "$BT_SELFTEST_TIMEOUT" "$ST/kvm_smoke"

ups=$(ls "$ST/upstream" 2>/dev/null)
if [ -z "$ups" ]; then
	tap 1 "upstream selftests # missing binary (empty $ST/upstream)"
fi
for t in $ups; do
	run_test "upstream selftest $t" "$BT_SELFTEST_TIMEOUT" "$ST/upstream/$t"
done

run modprobe -r kvm_amd &&
	run modprobe kvm_amd npt=0
rc=$?
npt=$(param kvm_amd npt)
[ "$rc" -eq 0 ] && [ "$npt" = N ]
tap $? "modprobe -r kvm_amd; modprobe kvm_amd npt=0: npt is '$npt'"
run_test "kvm_smoke with kvm_amd npt=0" "$BT_SELFTEST_TIMEOUT" "$ST/kvm_smoke"

# -- unload ------------------------------------------------------------------
run modprobe -r kvm_amd kvm
rc=$?
run cat /proc/modules
no_kvm_left
tap $((rc | $?)) "modprobe -r kvm_amd kvm unloads both, /sys/module/kvm is gone"

# -- "modprobe kvm" and its options ------------------------------------------
run modprobe kvm
rc=$?
ours_loaded
tap $((rc | $?)) "modprobe kvm (nothing loaded) loads kvm-fastinval's kvm"
params_are "options kvm" "$BT_CONF_OPTS" &&
	params_are "kvm.<p>= cmdline" "$BT_CMDLINE_OPTS"
tap $? "modprobe.d and cmdline kvm options reach kvm (modprobe kvm)"

# A bare mode name is "bounded", as a bare boolean would be "on".
run modprobe -r kvm && run modprobe kvm fastinval_mode
rc=$?
[ "$(param kvm fastinval_mode)" = bounded ]
tap $((rc | $?)) "modprobe kvm fastinval_mode (no value) loads, mode bounded"
run modprobe -r kvm && run modprobe kvm fastinval_mode=stock fastinval_hold_budget_us=777
rc=$?
[ "$(param kvm fastinval_mode) $(param kvm fastinval_hold_budget_us)" = "stock 777" ]
tap $((rc | $?)) "modprobe kvm fastinval_mode=stock fastinval_hold_budget_us=777: both set"
# A bad value refuses the load, as for any of kvm's parameters, and says why.
run modprobe -r kvm
mark=$(dmesg_lines)
run modprobe kvm fastinval_mode=fast
rc=$?
log=$(dmesg_since "$mark")
echo "$log" | diag
[ "$rc" -ne 0 ] && ! loaded kvm &&
	echo "$log" | grep -q "fastinval_mode: invalid value 'fast', must be bounded or stock"
tap $? "modprobe kvm fastinval_mode=fast is refused with a log line naming the value"
run modprobe kvm
ours_loaded
tap $? "modprobe kvm after the refusal loads it"

# The distro's kvm.ko can never load beside it: same name.
stock=$(ls "/lib/modules/$KVER"/kernel/arch/x86/kvm/kvm.ko* 2>/dev/null | head -n 1)
if [ -z "$stock" ]; then
	tap 1 "insmod the distro's kvm.ko fails beside ours # missing stock kvm.ko"
else
	mark=$(dmesg_lines)
	err=$(insmod "$stock" 2>&1)
	rc=$?
	echo "# insmod ${stock#/lib/modules/"$KVER"/}: $err (exit $rc)"
	dmesg_since "$mark" | diag
	[ "$rc" -ne 0 ] && echo "$err" | grep -q "File exists" && ours_loaded
	tap $? "insmod ${stock#/lib/modules/"$KVER"/} fails beside ours (File exists), ours stays"
fi

# -- kvm_intel binds, fails only for lack of VMX -------------------------------
mark=$(dmesg_lines)
run modprobe kvm_intel
rc=$?
log=$(dmesg_since "$mark")
echo "$log" | diag
[ "$rc" -ne 0 ] && ! loaded kvm_intel
tap $? "modprobe kvm_intel fails (TCG has no VMX)"
! echo "$log" | grep -Eq "Unknown symbol|disagrees about version|Invalid module format|Unknown rela"
tap $? "kvm_intel binds to kvm-fastinval's kvm: no Unknown symbol / version disagreement"
echo "$log" | grep -Eq "kvm_intel: VMX not supported by CPU|no hardware support for 'kvm_intel'"
tap $? "kvm_intel fails with the no-VMX message"

run modprobe -r kvm
rc=$?
no_kvm_left
tap $((rc | $?)) "modprobe -r kvm unloads it, /sys/module/kvm is gone"

# -- whole boot kernel log -------------------------------------------------------
bad=$(dmesg | splats)
[ -z "$bad" ]
tap $? "kernel log has no WARN/BUG/Oops/Unknown symbol/version disagreement"
[ -z "$bad" ] || echo "$bad" | diag

say "1..$n"
