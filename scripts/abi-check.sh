#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# abi-check.sh KERNEL_SYMVERS MODULE_SYMVERS
#
# The distro's kvm-amd.ko and kvm-intel.ko bind to kvm-fastinval only if it
# exports exactly what the distro's kvm.ko exports: every symbol with the
# same CRC, export type and namespace, and nothing else. Prints one TAP line
# and each difference; exits 1 on any.
set -euo pipefail

[ $# -eq 2 ] || { echo "usage: $0 KERNEL_SYMVERS MODULE_SYMVERS" >&2; exit 2; }
kernel=$1 module=$2
for f in "$kernel" "$module"; do
	[ -r "$f" ] || { echo "abi-check: cannot read $f" >&2; exit 2; }
done

# Module.symvers: crc <TAB> symbol <TAB> module <TAB> export type <TAB> namespace
awk -F'\t' -v kernel="$kernel" -v module="$module" '
FILENAME == kernel && $3 == "arch/x86/kvm/kvm" { want[$2] = $1 " " $4 " " $5; n++; if ($1 ~ /^0x0+$/) z++ }
FILENAME == module { have[$2] = $1 " " $4 " " $5; m++ }
END {
	if (n == 0) {
		print "not ok - abi: no arch/x86/kvm/kvm symbols in " kernel
		exit 1
	}
	for (s in want) {
		if (!(s in have))
			diffs[++d] = "missing  " s " (" want[s] ")"
		else if (have[s] != want[s])
			diffs[++d] = "differs  " s ": distro " want[s] ", ours " have[s]
	}
	for (s in have)
		if (!(s in want))
			diffs[++d] = "extra    " s " (" have[s] ")"
	if (d) {
		print "not ok - abi: " d " of " n " kvm.ko exports differ"
		for (i = 1; i <= d; i++)
			print "#   " diffs[i]
		exit 1
	}
	# Without MODVERSIONS (Debian 7.x) every CRC is 0: abi-layout.sh
	# compares the types instead.
	print "ok - abi: all " n " kvm.ko exports identical (symbol, " \
		(z == n ? "type, namespace; no CRCs: MODVERSIONS off" : "CRC, type, namespace") ")"
}' "$kernel" "$module"
