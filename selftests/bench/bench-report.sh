#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# bench-report.sh RESULTS OUTDIR | --profile PROFILE: tables and plots from fastinval_bench
# RESULT lines (selftests/bench/bench.sh): per kernel, MMU mode, size and variant,
# the median [min-max] over all invalidations (deletes and moves, all
# repetitions), the ratios between the stock kvm.ko, the plain rebuild and
# kvm-fastinval's variants, the targets, and a gnuplot PNG
# per kernel (OUTDIR/bench-KVER.png) of the attributable guest stall and the
# invalidation time (memslot ioctl) against the shadow pages zapped. Prints the tables
# (markdown); writes OUTDIR/summary.dat (one line per group).
set -euo pipefail

# --profile PROFILE: the function profile of the memslot ioctl
# (bench-guest.sh --profile) as a table per kernel and MMU.
if [ "${1:-}" = --profile ]; then
	echo
	echo "Function profile of one short run per module (BENCH_PROFILE sizes, delete + move), total ms over all"
	echo "calls: wall / on CPU (function graph tracer, sleep-time on / off: two runs), calls."
	awk '{ for (i = 2; i <= NF; i++) { n = index($i, "="); v[substr($i, 1, n - 1)] = substr($i, n + 1) }
		g = v["kernel"] " " v["mmu"] " " v["sizes"]
		c = v["module"] == "stock" ? "stock kvm.ko" : v["module"] == "plain" ? "plain rebuild" : \
			v["variant"] == "default" ? "kvm-fastinval" : "kvm-fastinval stock mode untraced"
		if (!(g in seen)) { seen[g] = 1; gs[++ng] = g }
		if (!((g, c) in cseen)) { cseen[g, c] = 1; cs[g, ++nc[g]] = c }
		if (!((g, v["fn"]) in fseen)) { fseen[g, v["fn"]] = 1; fs[g, ++nf[g]] = v["fn"] }
		t[g, c, v["fn"], v["sleep_time"]] = v["us"] / 1e3; h[g, c, v["fn"]] = v["hits"] }
	END { for (i = 1; i <= ng; i++) { g = gs[i]; split(g, p, " ")
		printf "\n%s, %s MMU, size %s:\n\n| function |", p[1], p[2], p[3]
		for (j = 1; j <= nc[g]; j++) printf " %s |", cs[g, j]
		printf "\n| --- |"; for (j = 1; j <= nc[g]; j++) printf " ---: |"; printf "\n"
		for (k = 1; k <= nf[g]; k++) { f = fs[g, k]; printf "| %s |", f
			for (j = 1; j <= nc[g]; j++) { c = cs[g, j]
				if ((g, c, f, 1) in t) printf " %.1f / %.1f (%d) |", t[g, c, f, 1], t[g, c, f, 0], h[g, c, f]
				else printf " - |" }
			printf "\n" } } }' "$2"
	exit 0
fi
res=$1 outdir=$2
mkdir -p "$outdir"
sum=$outdir/summary.dat

# key=value -> columns; median/min/max per group.
awk '
function get(k,   i, n, kv) { for (i = 2; i <= NF; i++) { n = index($i, "="); if (substr($i, 1, n - 1) == k) return substr($i, n + 1) } return "" }
function med(arr, n,   i, j, t, a) { for (i = 1; i <= n; i++) a[i] = arr[i]
	for (i = 2; i <= n; i++) { t = a[i]; for (j = i - 1; j >= 1 && a[j] > t; j--) a[j + 1] = a[j]; a[j + 1] = t }
	lo = a[1]; hi = a[n]; return (n % 2) ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2 }
/^RESULT / {
	g = get("kernel") " " get("mmu") " " get("size") " " get("label")
	if (!(g in cnt)) order[++ng] = g
	c = ++cnt[g]
	nk = split("stall_us attrib_us p99_us floor_us ioctl_us zap_us hold_max_us zapped batches used_pages sp_created zap_hold_max_us commit_hold_max_us rel_contention rel_resched rel_budget holds hold_mean_us", ks, " ")
	for (k = 1; k <= nk; k++) v[g, ks[k], c] = get(ks[k]) + 0
	# The mean time between two holds: the hand-off of the lock and back.
	h = v[g, "holds", c]
	v[g, "gap_us", c] = h > 1 ? (v[g, "zap_us", c] - h * v[g, "hold_mean_us", c]) / (h - 1) : 0
}
END {
	nk = split("stall_us attrib_us p99_us floor_us ioctl_us zap_us hold_max_us zapped batches used_pages sp_created zap_hold_max_us commit_hold_max_us rel_contention rel_resched rel_budget holds hold_mean_us gap_us", ks, " ")
	for (i = 1; i <= ng; i++) {
		g = order[i]; line = g " " cnt[g]
		for (k = 1; k <= nk; k++) { for (c = 1; c <= cnt[g]; c++) a[c] = v[g, ks[k], c]
			m = med(a, cnt[g]); line = line " " m " " lo " " hi }
		print line
	}
}' "$res" >"$sum"
# columns: 1 kernel 2 mmu 3 size 4 label 5 n, then per metric med,min,max from 6:
# stall 6-8, attrib 9-11, p99 12-14, floor 15-17, ioctl 18-20, zap 21-23,
# hold_max 24-26, zapped 27-29, batches 30-32, used_pages 33-35, sp_created 36-38,
# zap_hold_max 39-41, commit_hold_max 42-44, releases for contention 45-47,
# resched 48-50, budget 51-53, holds 54-56, mean hold 57-59, gap between
# holds 60-62

echo "Per size, median [min-max] over all invalidations (memslot delete and move, all repetitions); ms."
echo "stall: longest gap between two guest touches in the invalidation window (raw); attrib.: stall minus the idle"
echo "window's longest gap in the same VM (floor); p99: 99th percentile of the gaps between the touches made while the"
echo "ioctl ran; ioctl: KVM_SET_USER_MEMORY_REGION; zap: start-to-end of the invalidation (end event duration_ns);"
echo "hold: longest mmu_lock hold (end event longest_hold_ns). '-': the stock kvm.ko has no tracepoints."
echo
echo "| kernel | MMU | page tables | shadow pages zapped | module | n | stall | attrib. stall | p99 stall | floor | ioctl | zap | longest hold | batches |"
echo "| --- | --- | ---: | ---: | --- | ---: | --- | --- | --- | ---: | --- | ---: | ---: | ---: |"
awk '{ tr = ($4 == "ours" || $4 == "ours-stock-mode")
	name = $4 == "stock" ? "stock kvm.ko" : $4 == "plain" ? "plain rebuild" : $4 == "ours" ? "kvm-fastinval" : \
		$4 == "ours-stock-mode" ? "kvm-fastinval fastinval_mode=stock" : "kvm-fastinval fastinval_mode=stock, untraced"
	printf "| %s | %s | %d | %d | %s | %d | %.1f [%.1f-%.1f] | %.1f [%.1f-%.1f] | %.1f [%.1f-%.1f] | %.1f | %.1f [%.1f-%.1f] | %s | %s | %s |\n",
	$1, $2, $3, $27, name, $5,
	$6/1e3, $7/1e3, $8/1e3, $9/1e3, $10/1e3, $11/1e3, $12/1e3, $13/1e3, $14/1e3, $15/1e3, $18/1e3, $19/1e3, $20/1e3,
	tr ? sprintf("%.1f", $21/1e3) : "-", tr ? sprintf("%.2f [%.2f-%.2f]", $24/1e3, $25/1e3, $26/1e3) : "-", tr ? $30 : "-" }' "$sum"

# How kvm-fastinval's holds ended, and what a release cost.
echo
echo "Holds of kvm-fastinval (defaults), medians per invalidation: releases by reason (end event), mean hold, and"
echo "the mean time between two holds (zap duration minus the holds, per release: the lock's hand-off and back)."
echo
echo "| kernel | MMU | page tables | holds | contention | resched | budget | mean hold ms | between holds ms |"
echo "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
awk '$4 == "ours" { printf "| %s | %s | %d | %s | %s | %s | %s | %.2f | %.2f |\n", $1, $2, $3, $54, $45, $48, $51, $57/1e3, $60/1e3 }' "$sum"

# Costs as ratios of medians: stock kvm.ko vs the plain rebuild is the
# build, the plain rebuild vs stock mode untraced the hooks, stock mode
# traced vs untraced the tracing, stock mode vs ours the algorithm.
echo
echo "Ratios of medians. ioctl: >1 means the first is slower; "'"~"'": the two min-max ranges overlap (within the noise)."
echo "attrib. stall: stock (or plain) / kvm-fastinval, >1 means ours stalls less."
echo
echo "| kernel | MMU | page tables | ioctl stock/plain (build) | ioctl stock mode untraced/plain (hooks) | ioctl stock mode traced/untraced (tracing) | ioctl ours/stock mode (algorithm) | ioctl ours/plain (total) | attrib. stall stock/ours | attrib. stall plain/ours |"
echo "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
awk '{ k = $1 " " $2 " " $3; at[k, $4] = $9; io[k, $4] = $18; lo[k, $4] = $19; hi[k, $4] = $20
	if (!(k in seen)) { seen[k] = 1; o[++n] = k } }
function r(a, b) { return ((k, a) in io && (k, b) in io && io[k, b] > 0) ? \
	sprintf("%.2f%s", io[k, a] / io[k, b], (lo[k, a] <= hi[k, b] && lo[k, b] <= hi[k, a]) ? " ~" : "") : "-" }
function s(a, b) { return ((k, a) in at && (k, b) in at) ? (at[k, b] > 0 ? sprintf("%.2f", at[k, a] / at[k, b]) : "inf") : "-" }
END { for (i = 1; i <= n; i++) { k = o[i]; split(k, p, " ")
	printf "| %s | %s | %d | %s | %s | %s | %s | %s | %s | %s |\n", p[1], p[2], p[3],
		r("stock", "plain"), r("ours-stock-mode-untraced", "plain"), r("ours-stock-mode", "ours-stock-mode-untraced"),
		r("ours", "ours-stock-mode"), r("ours", "plain"), s("stock", "ours"), s("plain", "ours") } }' "$sum"

# The targets, on the medians of this run (reported, never asserted).
echo
echo "Targets (medians of this run; stock stalls where its attributable stall is over 100 ms):"
echo
awk '{ k = $1 " " $2; key = k " " $3; at[key, $4] = $9; io[key, $4] = $18; lo[key, $4] = $19; hi[key, $4] = $20
	fl[key, $4] = $15; sz[k, $3] = 1; if (!(k in seen)) { seen[k] = 1; ks[++nk] = k } }
function has(q, l) { return (q, l) in io }
END {
	for (i = 1; i <= nk; i++) {
		k = ks[i]; split(k, kp, " "); n = 0; delete s
		for (x in sz) { split(x, p, SUBSEP); if (p[1] == k) s[++n] = p[2] + 0 }
		for (a = 2; a <= n; a++) { t = s[a]; for (b = a - 1; b >= 1 && s[b] > t; b--) s[b + 1] = s[b]; s[b + 1] = t }
		lim = kp[2] == "tdp" ? 1.1 : 1.2
		for (a = 1; a <= n; a++) {
			q = k " " s[a]
			if (has(q, "ours") && has(q, "plain") && io[q, "plain"] > 0) {
				t = io[q, "ours"] / io[q, "plain"]
				printf "- %s %s, %d: ioctl ours/plain %.2f (target <= %.1f): %s\n", kp[1], kp[2], s[a], t, lim,
					(t <= lim ? "met" : sprintf("missed by %.0f%%", (t / lim - 1) * 100))
			}
			if (has(q, "ours-stock-mode-untraced") && has(q, "plain") && io[q, "plain"] > 0)
				printf "- %s %s, %d: hooks, ioctl stock mode untraced/plain %.2f: %s\n", kp[1], kp[2], s[a],
					io[q, "ours-stock-mode-untraced"] / io[q, "plain"],
					(lo[q, "ours-stock-mode-untraced"] <= hi[q, "plain"] && lo[q, "plain"] <= hi[q, "ours-stock-mode-untraced"]) ? \
					"within the noise (ranges overlap)" : "outside the noise"
			if (has(q, "ours") && has(q, "stock")) {
				if (at[q, "stock"] > 100e3) {
					t = at[q, "ours"] > 0 ? at[q, "stock"] / at[q, "ours"] : 1e9
					printf "- %s %s, %d: stock stalls %.1f ms; attributable stall stock/ours %s (target >= 50): %s\n",
						kp[1], kp[2], s[a], at[q, "stock"] / 1e3, (t >= 1e9 ? "inf" : sprintf("%.1f", t)),
						(t >= 50 ? "met" : sprintf("missed by %.1fx", 50 / t))
				} else {
					f = fl[q, "stock"] > fl[q, "ours"] ? fl[q, "stock"] : fl[q, "ours"]
					printf "- %s %s, %d: attributable stall ours %.1f ms, stock %.1f ms, floor %.1f ms (target: not worse than stock beyond the floor): %s\n",
						kp[1], kp[2], s[a], at[q, "ours"] / 1e3, at[q, "stock"] / 1e3, f / 1e3,
						(at[q, "ours"] <= at[q, "stock"] + f ? "met" : "missed")
				}
			}
		}
		# Flat from 8192 to the largest size, where stock stalls.
		q = k " 8192"; big = k " " s[n]
		if (s[n] > 8192 && has(q, "ours") && has(big, "ours") && has(big, "stock") && at[big, "stock"] > 100e3) {
			t = at[q, "ours"] > 0 ? at[big, "ours"] / at[q, "ours"] : 1e9
			printf "- %s %s, 8192 -> %d: attributable stall of ours x%.2f (%.1f -> %.1f ms; target <= 2): %s\n",
				kp[1], kp[2], s[n], t, at[q, "ours"] / 1e3, at[big, "ours"] / 1e3, (t <= 2 ? "met" : "missed")
		}
	}
}' "$sum"

# Plots: shadow MMU, per kernel that has shadow results (BENCH_MODES=tdp: none).
command -v gnuplot >/dev/null || { echo "# no gnuplot (apt-get install gnuplot-nox): no plot"; exit 0; }
# bench.sh's TCG_THREADS, if the caller passes it on.
tcg="one TCG thread"
[ "${TCG_THREADS:-1}" = 1 ] || tcg="a TCG thread per vCPU"
for kver in $(awk '$2 == "shadow" { print $1 }' "$sum" | sort -u); do
	d=$outdir/plot-$kver
	mkdir -p "$d"
	for l in stock plain ours ours-stock-mode; do
		awk -v k="$kver" -v l="$l" '$1 == k && $2 == "shadow" && $4 == l { print $27, $9/1e3, $10/1e3, $11/1e3, $18/1e3, $19/1e3, $20/1e3 }' "$sum" | sort -n >"$d/$l.dat"
	done
	png=$outdir/bench-$kver.png
	gnuplot <<GP || echo "# gnuplot failed for $kver"
set terminal pngcairo size 900,380 font ",9"
set output "$png"
set multiplot layout 1,2 title "$kver, kvm\\\\_amd npt=0 (shadow MMU), QEMU TCG, $tcg (emulated timing): median, bars min-max"
set logscale xy
set autoscale xfix
set offsets graph 0.05, graph 0.05, 0, 0
set xlabel "shadow pages zapped per invalidation"
set key bottom right
set ylabel "attributable guest stall (ms)"
set yrange [0.1:*]
plot "$d/stock.dat" u 1:2:3:4 w yerrorlines t "stock kvm.ko", \
     "$d/plain.dat" u 1:2:3:4 w yerrorlines t "plain rebuild", \
     "$d/ours-stock-mode.dat" u 1:2:3:4 w yerrorlines t "kvm-fastinval fastinval\\\\_mode=stock", \
     "$d/ours.dat" u 1:2:3:4 w yerrorlines t "kvm-fastinval"
set ylabel "invalidation time: memslot ioctl (ms)"
set key top left
set yrange [*:*]
plot "$d/stock.dat" u 1:5:6:7 w yerrorlines t "stock kvm.ko", \
     "$d/plain.dat" u 1:5:6:7 w yerrorlines t "plain rebuild", \
     "$d/ours-stock-mode.dat" u 1:5:6:7 w yerrorlines t "kvm-fastinval fastinval\\\\_mode=stock", \
     "$d/ours.dat" u 1:5:6:7 w yerrorlines t "kvm-fastinval"
unset multiplot
GP
	echo "# plot: $png"
done
