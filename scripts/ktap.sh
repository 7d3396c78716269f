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

# relay PREFIX SUITE LOG CMD...: run a sub-suite that prints "ok N - ..."
# lines and "SUITE: N passed, N failed" last; each of its results becomes
# one of ours (PREFIX: before its description), its "#" lines pass through,
# all its output goes to LOG; one more result says whether it ran to its
# summary.
relay() {
	local prefix=$1 suite=$2 log=$3 line
	shift 3
	while IFS= read -r line; do
		case $line in
		"ok "[0-9]*) result 0 "$prefix${line#* - }" ;;
		"not ok "[0-9]*) result 1 "$prefix${line#* - }" ;;
		"#"*) echo "$line" ;;
		esac
	done < <("$@" 2>&1 | tee "$log")
	grep -qE "^$suite: [0-9]+ passed, [0-9]+ failed" "$log"
	result $? "$prefix$suite ran to its summary (log: ${log#"$top"/})"
}
