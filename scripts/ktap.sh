# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
#
# Result lines for the test scripts (sourced). The caller sets n=0 passed=0
# failed=0 and defines note().

# result STATUS DESC: one "ok N - DESC" (STATUS 0) or "not ok N - DESC".
result() {
	n=$((n + 1))
	if [ "$1" -eq 0 ]; then
		passed=$((passed + 1))
		echo "ok $n - $2"
	else
		failed=$((failed + 1))
		echo "not ok $n - $2"
	fi
}

# check DESC LOG CMD...: run CMD with its output in LOG, one result line.
check() {
	local desc=$1 log=$2 rc
	shift 2
	"$@" >"$log" 2>&1
	rc=$?
	[ $rc -eq 0 ] || { sed 's/^/#   /' "$log" | tail -n 15; note "log: $log"; }
	result $rc "$desc"
	return $rc
}
