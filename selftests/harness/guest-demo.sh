# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
#
# The "demo" boot: a transcript on the channel for selftests/harness/demo.sh.
# Sourced by the guest's /init (selftests/harness/guest-init.sh), whose
# helpers it uses; ends the boot.
# shellcheck disable=SC2154 # guest-init.sh's variables

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
