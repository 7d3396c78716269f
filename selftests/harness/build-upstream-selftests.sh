#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Build upstream KVM selftests, statically, from the Debian kernel source
# that matches KVER, plus our own kvm_smoke.
#
#   build-upstream-selftests.sh KVER [OUTDIR]
#
# OUTDIR (default build/selftests/KVER) gets kvm_smoke, upstream/<test> and
# our own kselftests, kvm-fastinval/<test> (selftests/kvm-fastinval, built
# with the same library), and kselftest_install/ (run_kselftest.sh layout).
# Environment:
#   KSRC=       linux-source tarball or extracted tree
#               (default /usr/src/linux-source-X.Y.tar.xz from KVER)
#   TESTS=      test names (basename or path under selftests/kvm), "all" or
#               "none"; default set_sregs_test
#   WORKDIR=    source/objects (default build/selftests/KVER)
#   JOBS=       make -j (default nproc)
#   MARCH=      -march for the tests (default x86-64: runs on any QEMU -cpu)
#   SMOKE=0     skip kvm_smoke
#   OURS=0      skip our kselftests (selftests/kvm-fastinval)
#   ALLOW_FAIL=1  exit 0 even if some tests did not build
# Reruns only redo what changed (stamp files, then make's own dependencies).
set -euo pipefail

top=$(cd "$(dirname "$0")/../.." && pwd)

# A kernel of another Debian release: build with its compiler and libc.
[ "${IN_BUILD_ROOT:-}" = 1 ] || [ $# -lt 1 ] ||
	exec "$top/scripts/build-root.sh" "$1" env KSRC="${KSRC:-}" TESTS="${TESTS:-}" \
		WORKDIR="${WORKDIR:-}" JOBS="${JOBS:-}" MARCH="${MARCH:-}" SMOKE="${SMOKE:-}" \
		OURS="${OURS:-}" ALLOW_FAIL="${ALLOW_FAIL:-}" CC="${CC:-}" \
		"$top/selftests/harness/${0##*/}" "$@"

die() { echo "build-upstream-selftests: $*" >&2; exit 1; }
now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }

if [ $# -lt 1 ] || [ $# -gt 2 ]; then
	die "usage: $0 KVER [OUTDIR]"
fi
kver=$1
[[ $kver =~ ^([0-9]+)\.([0-9]+) ]] || die "cannot parse version from KVER '$kver'"
series=${BASH_REMATCH[1]}.${BASH_REMATCH[2]}

outdir=${2:-$top/build/selftests/$kver}
mkdir -p "$outdir/upstream"
outdir=$(cd "$outdir" && pwd)
work=${WORKDIR:-$top/build/selftests/$kver}
mkdir -p "$work"
work=$(cd "$work" && pwd)
ksrc=${KSRC:-/usr/src/linux-source-$series.tar.xz}
[ -e "$ksrc" ] || die "no kernel source at $ksrc (apt install linux-source-$series, or set KSRC=)"
ksrc=$(realpath "$ksrc")
tests=${TESTS:-set_sregs_test}
jobs=${JOBS:-$(nproc)}
march=${MARCH:-x86-64}
cc=${CC:-gcc}

src=$work/src
obj=$work/obj
logs=$work/logs
kdir=$src/tools/testing/selftests/kvm
log() { echo "  SELFTEST [$kver] $*"; }

# Enough of the tree for headers_install and tools/: skips ~90% of files.
subdirs=(Makefile scripts include arch/x86 usr tools)

# 1. Source.  Identity of the source in the stamp: a new tarball re-extracts.
if [ -d "$ksrc" ]; then
	src_id="dir $ksrc $(stat -c %Y "$ksrc/Makefile" "$ksrc/tools/testing/selftests/kvm" | tr '\n' ' ')"
else
	src_id="tar $ksrc $(stat -c '%s %Y' "$ksrc")"
fi
if [ "$(cat "$work/.stamp-src" 2>/dev/null)" != "$src_id" ]; then
	t0=$(now)
	log "extracting $ksrc"
	rm -rf "$src" "$obj" "$work/.stamp-src" "$work/.stamp-headers"
	mkdir -p "$src"
	if [ -d "$ksrc" ]; then
		# Copy, so the given tree is never written to.
		(cd "$ksrc" && cp -a --parents "${subdirs[@]}" "$src/")
	else
		name=$(basename "$ksrc")
		name=${name%.tar*}
		tar -xaf "$ksrc" -C "$src" --strip-components=1 --wildcards \
			"${subdirs[@]/#/$name/}"
	fi
	[ -f "$kdir/Makefile" ] || die "$ksrc has no tools/testing/selftests/kvm"
	# Links out of those (7.x's vfio library links drivers/dma/ headers).
	mapfile -t linked < <(cd "$src" && find tools -xtype l -exec realpath -m --relative-to=. {} + | sort -u)
	if [ ${#linked[@]} -gt 0 ]; then
		if [ -d "$ksrc" ]; then
			(cd "$ksrc" && cp -a --parents "${linked[@]}" "$src/")
		else
			tar -xaf "$ksrc" -C "$src" --strip-components=1 "${linked[@]/#/$name/}"
		fi
	fi
	echo "$src_id" >"$work/.stamp-src"
	log "extracted in $(since "$t0") s"
fi

# 2. uapi headers into $src/usr/include, where the selftests look for them.
if [ ! -e "$work/.stamp-headers" ]; then
	t0=$(now)
	log "headers_install"
	make -s -j"$jobs" -C "$src" ARCH=x86 INSTALL_HDR_PATH="$src/usr" \
		headers_install >"$work/headers.log" 2>&1 ||
		{ tail -n 20 "$work/headers.log" >&2; die "headers_install failed (log: $work/headers.log)"; }
	touch "$work/.stamp-headers"
	log "headers in $(since "$t0") s"
fi

# make does not track flags: new flags, fresh objects.
cfg_id="cc=$cc march=$march"
if [ "$(cat "$work/.stamp-cfg" 2>/dev/null)" != "$cfg_id" ]; then
	rm -rf "$obj"
	echo "$cfg_id" >"$work/.stamp-cfg"
fi

# Extra goals read after the selftests Makefile: build only the library,
# list the programs it knows.
mkdir -p "$obj" "$logs"
extra=$work/extra.mk
cat >"$extra.tmp" <<'EOF'
.PHONY: kvm-lib print-progs print-libobjs
kvm-lib: $(LIBKVM_OBJS)
print-progs:
	@echo $(patsubst $(OUTPUT)/%,%,$(TEST_GEN_PROGS) $(TEST_GEN_PROGS_EXTENDED))
print-libobjs:
	@echo $(LIBKVM_OBJS)
EOF
if cmp -s "$extra.tmp" "$extra"; then
	rm -f "$extra.tmp"
else
	mv -f "$extra.tmp" "$extra"
fi

# ARCH=x86 as a native build derives it.  -static via CC so the Makefile's
# own LDFLAGS (-pthread, -no-pie) survive; TARGET_ARCH comes last on every
# compile and link line, so it beats 6.12's -march=x86-64-v2.
kmake() {
	make -C "$kdir" -f Makefile -f "$extra" ARCH=x86 \
		OUTPUT="$obj" CC="$cc -static" TARGET_ARCH="-march=$march" "$@"
}

# 3. Library.
t0=$(now)
log "libkvm"
kmake -j"$jobs" kvm-lib >"$logs/libkvm.log" 2>&1 ||
	{ tail -n 30 "$logs/libkvm.log" >&2; die "libkvm failed (log: $logs/libkvm.log)"; }
log "libkvm in $(since "$t0") s"

# 4. Tests, one make per test so one failure does not stop the others.
read -r -a progs <<<"$(kmake -s print-progs)"
if [ "$tests" = all ]; then
	want=("${progs[@]}")
elif [ "$tests" = none ]; then
	want=()
else
	want=()
	for t in $tests; do
		found=
		for p in "${progs[@]}"; do
			if [ "$p" = "$t" ] || [ "${p##*/}" = "$t" ]; then
				found=$p
				break
			fi
		done
		want+=("${found:-?$t}")
	done
fi

failed=()
built=0
t0=$(now)
for p in "${want[@]}"; do
	name=${p##*/}
	if [ "${p:0:1}" = "?" ]; then
		log "${p:1}: not a KVM selftest in $series"
		failed+=("${p:1}")
		continue
	fi
	t1=$(now)
	if kmake -j"$jobs" "$obj/$p" >"$logs/$name.log" 2>&1; then
		install -C -m 0755 "$obj/$p" "$outdir/upstream/$name"
		built=$((built + 1))
		log "$name in $(since "$t1") s"
	else
		rm -f "$outdir/upstream/$name"
		failed+=("$name")
		log "$name FAILED (log: $logs/$name.log)"
	fi
done
log "tests: $built built in $(since "$t0") s, ${#failed[@]} failed"

# 5. Our own smoke test.
if [ "${SMOKE:-1}" != 0 ]; then
	make -s -C "$top/selftests/smoke" OUTPUT="$outdir" CC="$cc" ||
		die "kvm_smoke failed to build"
	log "kvm_smoke -> $outdir/kvm_smoke"
fi

# 6. Our own kselftests, with the same library objects.
if [ "${OURS:-1}" != 0 ]; then
	t0=$(now)
	rm -rf "$outdir/kselftest_install"
	if make -C "$top/selftests/kvm-fastinval" KVM_DIR="$kdir" \
		LIBKVM_OBJS="$(kmake -s print-libobjs)" OUTPUT="$outdir/kvm-fastinval" \
		CC="$cc" MARCH="$march" KSFT_INSTALL_PATH="$outdir/kselftest_install" \
		ksft_install >"$logs/kvm-fastinval.log" 2>&1; then
		log "kvm-fastinval kselftests in $(since "$t0") s -> $outdir/kvm-fastinval"
	else
		tail -n 30 "$logs/kvm-fastinval.log" >&2
		log "kvm-fastinval kselftests FAILED (log: $logs/kvm-fastinval.log)"
		failed+=(kvm-fastinval)
	fi
fi

if [ ${#failed[@]} -gt 0 ]; then
	echo "build-upstream-selftests: $kver: not built: ${failed[*]}" >&2
	[ "${ALLOW_FAIL:-0}" = 1 ] || exit 1
fi
exit 0
