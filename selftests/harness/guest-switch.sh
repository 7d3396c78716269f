# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
#
# The "switch" boot of the package tests: kvm-fastinval-switch on a "running host".
# Sourced by the guest's /init (selftests/harness/guest-init.sh), whose
# helpers it uses; ends the boot.
# shellcheck disable=SC2154 # guest-init.sh's variables

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
