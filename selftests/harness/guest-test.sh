# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
#
# The default boot: kvm-fastinval as a drop-in kvm.ko, module index to unload.
# Sourced by the guest's /init (selftests/harness/guest-init.sh), whose
# helpers it uses; ends the boot.
# shellcheck disable=SC2154 # guest-init.sh's variables

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
