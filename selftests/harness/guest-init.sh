#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# /init of the boot-test initramfs (built by selftests/harness/boot-test.sh):
# mounts, the channel, the helpers every mode uses, then the boot's mode
# (guest-<mode>.sh, guest-selftests.sh), then powers the guest off.
# TAP goes to /dev/ttyS1 (a clean channel the host parses) and, for the
# log, to the console; command output goes to the console as "# " lines.
# /etc/boot-test.env (written by the host) sets:
#   BT_CONF_OPTS     "p=v ..." put in /etc/modprobe.d as "options kvm ..."
#   BT_CMDLINE_OPTS  "p=v ..." the host put on the kernel command line as kvm.p=v
#   BT_SELFTEST_TIMEOUT  seconds per test binary
#   BT_VERSION       the kvm-fastinval version the module must report
#   BT_MODE          "test" (guest-test.sh): kvm-fastinval as a drop-in kvm.ko;
#                    "demo": show it at work; "selftests": test lists for
#                    upstream-selftests.sh; "switch", "stock": the package
#                    tests' checks

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

# -- the other modes, each in its own file -------------------------------------
case $BT_MODE in
demo | switch | stock | test) ;;
*) echo "guest-init: unknown BT_MODE $BT_MODE"; exit 1 ;;
esac
if [ "$BT_MODE" = demo ]; then
	# shellcheck source=selftests/harness/guest-demo.sh
	. /opt/guest-demo.sh
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

# shellcheck source=selftests/harness/guest-test.sh
. "/opt/guest-$BT_MODE.sh"
