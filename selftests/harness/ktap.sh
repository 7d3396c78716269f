# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
#
# Result lines for the test scripts and the guest's /init (sourced). The
# caller sets n=0 passed=0 failed=0 and defines note(); it may set
# ktap_print to the command that prints a line (default echo).

# result STATUS DESC: one "ok N - DESC" (STATUS 0) or "not ok N - DESC".
result() {
	n=$((n + 1))
	if [ "$1" -eq 0 ]; then
		passed=$((passed + 1))
		${ktap_print:-echo} "ok $n - $2"
	else
		failed=$((failed + 1))
		${ktap_print:-echo} "not ok $n - $2"
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

# skip DESC WHY: a result not run, for WHY: "ok N - DESC # SKIP WHY".
skip() {
	n=$((n + 1))
	passed=$((passed + 1))
	${ktap_print:-echo} "ok $n - $1 # SKIP $2"
}

# todo STATUS DESC WHY: a result known to fail, for a reason not ours:
# "not ok N - DESC # TODO WHY" (or "ok ..." should it pass after all). TAP
# counts it as no failure, and so does the summary.
todo() {
	n=$((n + 1))
	passed=$((passed + 1))
	if [ "$1" -eq 0 ]; then
		${ktap_print:-echo} "ok $n - $2 # TODO $3"
	else
		${ktap_print:-echo} "not ok $n - $2 # TODO $3"
	fi
}

# tap_valid LOG: whether LOG is TAP that a strict consumer (Perl's
# TAP::Parser, as prove) reads without an error: version line first, one
# plan at either end, tests numbered in order. Prints its complaints.
tap_valid() {
	perl -MTAP::Parser -e '
		open(my $f, "<", $ARGV[0]) or die "$ARGV[0]: $!\n";
		my $p = TAP::Parser->new({ tap => do { local $/; <$f> } });
		1 while $p->next;
		my @e = $p->parse_errors;
		push @e, "no plan" unless $p->plan;
		print "# TAP::Parser: $_\n" for @e;
		exit(@e ? 1 : 0);' "$1"
}
