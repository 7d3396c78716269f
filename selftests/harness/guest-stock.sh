# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
#
# The "stock" boot of the package tests: kvm-fastinval removed, the distro kvm loads.
# Sourced by the guest's /init (selftests/harness/guest-init.sh), whose
# helpers it uses; ends the boot.
# shellcheck disable=SC2154 # guest-init.sh's variables

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
