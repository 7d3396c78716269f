#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# fresh-root-test.sh [--full]: the README's commands as on a fresh Debian 12
# machine, so that a dependency this machine happens to have cannot hide.
# A pristine bookworm minbase root (mmdebstrap, made anew on each run: only
# the bare minbase tarball is cached, for the day) gets this working tree's
# files (committed and not, never build/) in /root/kvm-fastinval and runs
# there, as root: scripts/deps.sh, then for each supported kernel
# `make KVER=<kver> -j1` (one job, as DKMS on a one-CPU host; Debian 13's
# kernels in a trixie root made inside, scripts/build-root.sh),
# selftests/harness/dkms-private.sh and selftests/harness/build-upstream-selftests.sh.
# --full or FRESH_FULL=1: ./selftests/harness/test-all.sh instead.
#
# Environment: KEEP=1 keeps the root (build/fresh/root), FRESH_DIR= moves it
# and the cached tarball, FRESH_TICK= seconds between progress lines (120).
# KTAP-style lines, "fresh-root: N passed, N failed", exit 1 on any failure.
# Logs: build/logs/fresh/.
set -uo pipefail

top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top" || exit 1
logs=$top/build/logs/fresh
fresh=${FRESH_DIR:-$top/build/fresh}
root=$fresh/root
tree=/root/kvm-fastinval
full=${FRESH_FULL:-0}
case ${1:-} in
--full) full=1 ;;
"") ;;
*) echo "usage: $0 [--full]" >&2; exit 2 ;;
esac
start=$(date +%s)
n=0 passed=0 failed=0
tick=

note() { echo "# [$(($(date +%s) - start))s] $*"; }

# shellcheck source=selftests/harness/ktap.sh
. "$top/selftests/harness/ktap.sh"

[ "$(id -u)" -eq 0 ] || { echo "fresh-root: run as root (mmdebstrap, chroot)" >&2; exit 1; }

# The root's mounts live in pkg-chroot.sh's own mount namespace; never
# delete through one that is visible here all the same.
remove_root() {
	[ -e "$root" ] || return 0
	if grep -qF " $root/" /proc/self/mountinfo; then
		note "something is mounted under $root: not removed"
		return 1
	fi
	rm -rf --one-file-system "$root"
}
# shellcheck disable=SC2317 # run by the trap
cleanup() {
	[ -z "$tick" ] || kill "$tick" 2>/dev/null
	if [ "${KEEP:-0}" = 1 ] && [ -d "$root" ]; then
		note "kept the root: $root (selftests/harness/pkg-chroot.sh run $root bash)"
	else
		remove_root
	fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

finish() {
	[ -d "$root$tree/build/logs" ] && rm -rf "$logs/root-logs" &&
		cp -a "$root$tree/build/logs" "$logs/root-logs"
	echo "1..$n"
	note "took $(($(date +%s) - start)) s"
	echo "fresh-root: $passed passed, $failed failed"
	[ "$failed" -eq 0 ] && [ "$n" -gt 0 ]
	exit
}

# step DESC LOG CMD...: check, with a progress line every FRESH_TICK
# seconds (the log's last line) and the wall time after.
step() {
	local desc=$1 log=$2 t0=$SECONDS rc
	note "$desc ..."
	while sleep "${FRESH_TICK:-120}"; do
		note "  ... $(tail -n 1 "$log" 2>/dev/null | cut -c1-100)"
	done &
	tick=$!
	check "$@"
	rc=$?
	kill "$tick" 2>/dev/null
	wait "$tick" 2>/dev/null
	tick=
	note "  $((SECONDS - t0)) s: $desc"
	return $rc
}

# inroot CMD...: CMD in the fresh root's copy of the tree (pkg-chroot.sh's
# mounts: /dev, /proc, /sys; a clean environment).
inroot() {
	selftests/harness/pkg-chroot.sh run "$root" /bin/sh -c "cd $tree && exec \"\$@\"" sh "$@"
}

# A bare Debian 12 minbase root, made by mmdebstrap from the host's apt
# sources; the tarball is cached for the day, nothing is ever added to it.
# shellcheck disable=SC2317 # run by step
make_root() {
	local key tar
	local -a sources
	mapfile -t sources < <("$top/selftests/harness/pkg-chroot.sh" sources)
	[ ${#sources[@]} -gt 0 ] || return 1
	echo "sources: ${sources[*]}"
	command -v mmdebstrap >/dev/null || {
		echo "installing mmdebstrap on the host"
		DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
			mmdebstrap || return 1
	}
	key=$(cat "${sources[@]}" | sha256sum | cut -c1-12)
	tar=$fresh/minbase-$(date -u +%Y%m%d)-$key.tar
	mkdir -p "$fresh"
	if [ ! -f "$tar" ]; then
		rm -f "$fresh"/minbase-*.tar "$fresh"/tmp-minbase.tar
		mmdebstrap --variant=minbase --format=tar bookworm "$fresh/tmp-minbase.tar" \
			"${sources[@]}" </dev/null || { rm -f "$fresh/tmp-minbase.tar"; return 1; }
		mv "$fresh/tmp-minbase.tar" "$tar"
	fi
	echo "unpacking $tar"
	tar -C "$root" -xf "$tar" || return 1
	# A fresh machine has its network configured.
	[ -s "$root/etc/resolv.conf" ] || cp /etc/resolv.conf "$root/etc/resolv.conf"
	echo "$(chroot "$root" dpkg-query -W | wc -l) packages"
}

# This tree's files, committed or not (deleted ones aside), never build/.
# shellcheck disable=SC2317 # run by step
copy_tree() {
	mkdir -p "$root$tree" &&
	git ls-files -z -co --exclude-standard --deduplicate |
		while IFS= read -r -d '' f; do
			case $f in build/*) continue ;; esac
			if [ -e "$f" ] || [ -L "$f" ]; then
				printf '%s\0' "$f"
			fi
		done |
		tar --null -T - -cf - | tar -C "$root$tree" -xf - &&
	echo "$(find "$root$tree" -type f | wc -l) files"
}

mkdir -p "$logs"
rm -f "$logs"/*.log
rm -rf "$logs/root-logs"
note "kvm-fastinval on a fresh Debian 12 ($(date -u '+%F %T') UTC), mode: $([ "$full" = 1 ] && echo full || echo build)"
remove_root || exit 1
mkdir -p "$root"
step "pristine Debian 12 minbase root (mmdebstrap)" "$logs/root.log" make_root || finish
step "working tree copied to $tree (no build/)" "$logs/copy.log" copy_tree || finish

if [ "$full" = 1 ]; then
	note "./selftests/harness/test-all.sh in the root (hours; logs: build/logs/fresh/test-all.log)"
	t0=$SECONDS
	relay "test-all: " kvm-fastinval "$logs/test-all.log" inroot ./selftests/harness/test-all.sh
	note "  $((SECONDS - t0)) s: ./selftests/harness/test-all.sh"
	finish
fi

step "scripts/deps.sh installs what the build needs" "$logs/deps.log" inroot scripts/deps.sh ||
	finish
inroot scripts/debian-kernels.sh list >"$logs/kernels.log" 2>&1
# SERIES KVER VERSION RELEASE; a kernel of another release builds in its root.
kvers=$(awk 'NF == 4 { print $2 }' "$logs/kernels.log")
if [ -n "$kvers" ]; then
	result 0 "supported kernels: $(echo "$kvers" | tr '\n' ' ')"
else
	result 1 "supported kernels listed (scripts/debian-kernels.sh list)"
	sed 's/^/#   /' "$logs/kernels.log"
	finish
fi

for kver in $kvers; do
	note "--- $kver"
	step "$kver: make KVER=$kver -j1 (one job, fresh tree)" "$logs/$kver-make.log" \
		inroot make KVER="$kver" -j1
	step "$kver: selftests/harness/dkms-private.sh $kver" "$logs/$kver-dkms.log" \
		inroot selftests/harness/dkms-private.sh "$kver"
	step "$kver: selftests/harness/build-upstream-selftests.sh $kver build/selftests/$kver" \
		"$logs/$kver-selftests.log" \
		inroot selftests/harness/build-upstream-selftests.sh "$kver" "build/selftests/$kver"
done
finish
