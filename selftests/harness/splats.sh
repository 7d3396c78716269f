# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
#
# The one list of what a kernel log must not hold: a WARN, BUG or oops, a
# module that does not bind, and the reports of the debug options (lockdep,
# KASAN, UBSAN, list and RCU checks, lockup and hung-task detectors).
# Sourced by the host's test scripts and, in the guest, by /init.

# An ERE. Not "lockdep": a lockdep kernel says "RCU lockdep checking is
# enabled" at boot; its reports come with a WARNING: or BUG: line.
splat_re='WARNING:|BUG:|Oops|Call Trace|general protection fault|Kernel panic'
splat_re+='|Unknown symbol|disagrees about version'
splat_re+='|possible circular locking|turning off the locking correctness validator'
splat_re+='|KASAN|UBSAN|refcount_t:|list_add corruption|list_del corruption'
splat_re+='|suspicious RCU usage|detected stall|blocked for more than|hard LOCKUP'

# splats [FILE...]: the lines of FILE (or stdin) that match, but not the
# test harness's own TAP and diagnostics, which quote these words.
splats() {
	grep -avE '^(ok |not ok |#)' "$@" | grep -aE "$splat_re"
}
