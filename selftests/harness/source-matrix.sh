#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# source-matrix.sh [--apply-only | --list]: for every linux-source version
# the Debian archive offers (each release, each linux-source-X.Y series),
# apply the patch queue and build kvm.ko (no boot), one version at a time;
# a table of what applied, built and failed, and why.
#
#   source-matrix.sh               apply, build, ABI check (as root: roots)
#   source-matrix.sh --apply-only  only apply the queue: fast, no headers
#   source-matrix.sh --list        only list the versions and their headers
#
# Environment:
#   RELEASES=        Debian releases (default $DEBIAN_RELEASES, else
#                    "bookworm trixie"), each with all its suites
#                    (debian-apt.sh: -updates, -security, -backports)
#   SERIES=          only these series (default: every linux-source-X.Y the
#                    archive has; one without a patch queue, or older than
#                    its queue's minimum-version, is refused with
#                    kvm-source.sh's own message, which is no failure)
#   MAX_PER_SERIES=N only the N newest versions of a series in a release
#   FLAVOURS=        kernel flavours to build for (default $DEBIAN_FLAVOURS,
#                    else amd64; rt-amd64: PREEMPT_RT)
#   JOBS=N           make -jN for a build (default 1); builds run one by one
#   MATRIX_ROOTS=    the build roots (default build/source-matrix/roots)
#
# The queue is applied by kvm-source.sh prepare to the source's KVM files,
# against a stub headers tree of the source's version (the series and
# version checks are all that read it). A build is make abi-check in a root
# of the release that holds the version's linux-headers and linux-image
# (apt, as on a host of that release; the image for the ABI layout check),
# into a build tree of its own (make BUILD=), so that neither two versions
# of one ABI name nor make's own build/KVER collide. A version whose
# headers the archive no longer has is applied, not built.
#
# Output: KTAP-style lines, one per version and flavour, and a Markdown
# table, also in build/source-matrix/table.md; logs in
# build/source-matrix/logs/. Exit 1 if, for any version of a supported
# series, the queue does not apply, kvm.ko does not build or does not match
# the distro kvm.ko's exports and type layouts.
set -euo pipefail

top=$(cd "$(dirname "$0")/../.." && pwd)
out=$top/build/source-matrix
roots=${MATRIX_ROOTS:-$out/roots}
releases=${RELEASES:-${DEBIAN_RELEASES:-bookworm trixie}}
flavours=${FLAVOURS:-${DEBIAN_FLAVOURS:-amd64}}
jobs=${JOBS:-1}
start=$(date +%s)

die() { echo "source-matrix: $*" >&2; exit 1; }
note() { echo "# [$(($(date +%s) - start))s] $*"; }

case ${1:-}:$# in
:0) mode=build ;;
--apply-only:1) mode=apply ;;
--list:1) mode=list ;;
*) die "usage: $0 [--apply-only | --list]  (env: RELEASES= SERIES= MAX_PER_SERIES= FLAVOURS= JOBS=)" ;;
esac
case ${MAX_PER_SERIES:-1}$jobs in
*[!0-9]*) die "MAX_PER_SERIES= and JOBS= take a number" ;;
esac
[ "$mode" != build ] || [ "$(id -u)" -eq 0 ] ||
	die "building in release roots needs root (mmdebstrap, chroot): run as root, or --apply-only"

mkdir -p "$out/logs" "$out/sources"
# One matrix at a time: its roots' apt and dpkg take no second user.
exec 9>"$out/.lock"
flock -n 9 || die "another source-matrix run holds $out/.lock"

# shellcheck source=selftests/harness/ktap.sh
. "$top/selftests/harness/ktap.sh"
n=0 passed=0 failed=0 skipped=0

supported=" $("$top/scripts/kvm-source.sh" series | paste -sd ' ') "

# What kvm-source.sh extracts from a source: the kept tarballs hold only
# that (the distro's are ~150 MB each, and a matrix has dozens). Read from
# its members array until it says them ("kvm-source.sh members").
members=$("$top/scripts/kvm-source.sh" members 2>/dev/null) ||
members=$(awk '/^members=\(/ { f = 1 } f { print; if (/\)/) exit }' "$top/scripts/kvm-source.sh" |
	  sed -e 's/^members=(//' -e 's/)$//' | tr -s ' \t' '\n' | grep .) || true
grep -qx arch/x86/kvm <<<"$members" ||
	die "cannot read the source members from scripts/kvm-source.sh"

apt_r() { "$top/scripts/debian-apt.sh" "$@"; }

# rows RELEASE: "RELEASE SERIES VERSION SUITES FLAVOUR ABI" for each
# linux-source version of RELEASE (newest first, apt's order) and flavour;
# ABI "-" when the archive has no linux-headers-*-FLAVOUR of that version.
rows() {
	local r=$1 s f series names headers vers ver suites abi
	series=$(apt_r "$r" apt-cache pkgnames linux-source- | grep -E '^linux-source-[0-9]+\.[0-9]+$' |
		 sed 's/^linux-source-//' | sort -V) || true
	[ -n "$series" ] || die "apt knows no linux-source-X.Y in $r (its lists: build/apt/$r)"
	for s in $series; do
		if [ -n "${SERIES:-}" ] && ! tr -s ' ' '\n' <<<"$SERIES" | grep -qxF "$s"; then
			continue
		fi
		vers=$(apt_r "$r" apt-cache madison "linux-source-$s" |
		       awk -F'|' -v p="linux-source-$s" -v max="${MAX_PER_SERIES:-0}" '
			{ for (i = 1; i <= 3; i++) gsub(/^ +| +$/, "", $i) }
			$1 != p { next }
			{ split($3, w, " "); suite = w[2]; sub(/\/.*/, "", suite)
			  if (!($2 in s)) { order[++n] = $2; s[$2] = suite }
			  else if (index("," s[$2] ",", "," suite ",") == 0) s[$2] = s[$2] "," suite }
			END { for (i = 1; i <= n && (max == 0 || i <= max); i++) print order[i], s[order[i]] }')
		# The flavours' kbuild trees, not the metapackages.
		names=$(apt_r "$r" apt-cache pkgnames linux-headers- |
			grep -E "^linux-headers-${s//./\\.}[.-][^ ]*-amd64$" || true)
		headers=
		# shellcheck disable=SC2086 # one package per word
		[ -z "$names" ] || headers=$(apt_r "$r" apt-cache show $names 2>/dev/null |
			awk '/^Package:/ { p = $2 } /^Version:/ { print $2, p }' | sort -u)
		while read -r ver suites; do
			for f in $flavours; do
				# "amd64" is neither rt- nor cloud-.
				abi=$(awk -v v="$ver" '$1 == v { sub(/^linux-headers-/, "", $2); print $2 }' \
				      <<<"$headers" | grep -E -- "-$f$" | grep -vE -- "-(rt|cloud)-$f$" |
				      sort -V | tail -n 1) || true
				echo "$r $s $ver $suites $f ${abi:--}"
			done
		done <<<"$vers"
	done
}

# "6.12.95" from "6.12.95-1~bpo12+1"; X.Y releases are X.Y.0.
upstream() {
	local v=${1#*:}
	v=${v%%-*}
	v=${v%%~*}
	case $v in *.*.*) ;; *) v=$v.0 ;; esac
	echo "$v"
}

# stub DIR VERSION: a headers tree as far as kvm-source.sh's checks read it.
stub() {
	local v
	v=$(upstream "$2")
	rm -rf "$1" && mkdir -p "$1/include/config"
	printf 'VERSION = %s\nPATCHLEVEL = %s\nSUBLEVEL = %s\n' \
		"${v%%.*}" "$(echo "$v" | cut -d. -f2)" "${v##*.}" >"$1/Makefile"
	printf 'CONFIG_X86_64=y\nCONFIG_KVM=m\n' >"$1/include/config/auto.conf"
}

# source_of RELEASE SERIES VERSION LOG: print the kept tarball of that
# linux-source version's KVM files, made on first use and again when
# kvm-source.sh takes other files.
source_of() {
	local r=$1 s=$2 ver=$3 log=$4 dir tar tmp inner topdir m
	local -a names=()
	dir=$out/sources/${ver//:/_}
	tar=$dir/linux-source-$s.tar.gz
	if [ ! -s "$tar" ] || [ "$(cat "$dir/members" 2>/dev/null)" != "$members" ]; then
		tmp=$dir.tmp
		rm -rf "$tmp" && mkdir -p "$tmp/x"
		if ! (cd "$tmp" && apt_r "$r" apt-get download -q -o APT::Sandbox::User=root \
			"linux-source-$s=$ver") >>"$log" 2>&1 ||
		   ! dpkg-deb --fsys-tarfile "$tmp"/*.deb |
			tar -xf - -C "$tmp" --wildcards './usr/src/linux-source-*.tar.*' 2>>"$log"; then
			rm -rf "$tmp"
			return 1
		fi
		rm -f "$tmp"/*.deb
		inner=$(echo "$tmp"/usr/src/linux-source-*.tar.*)
		topdir=$(tar -tf "$inner" 2>/dev/null | head -n 1) || true
		topdir=${topdir%%/*}
		for m in $members; do
			names+=("$topdir/$m")
		done
		if [ -z "$topdir" ] || ! tar -xf "$inner" -C "$tmp/x" "${names[@]}" >>"$log" 2>&1 ||
		   ! tar -czf "$tmp/t.tar.gz" -C "$tmp/x" "$topdir"; then
			echo "cannot extract $(echo "$members" | paste -sd ' ') from $inner" >>"$log"
			rm -rf "$tmp"
			return 1
		fi
		mkdir -p "$dir"
		mv "$tmp/t.tar.gz" "$tar"
		echo "$members" >"$dir/members"
		rm -rf "$tmp"
	fi
	echo "$tar"
}

# Why the queue did not apply, from kvm-source.sh's log: the patch and the
# files whose hunks failed.
apply_reason() {
	local log=$1 why files
	why=$(grep '^kvm-fastinval: ' "$log" | tail -n 1 | sed -e 's/^kvm-fastinval: //' \
		-e "s|$top/src/patches/||g" -e 's| to the [^ ]* source (.*)$||') || true
	files=$(sed -nE -e 's/^([0-9]+) out of ([0-9]+) hunks? FAILED -- saving rejects to file (.*)\.rej$/\3: \1 of \2 hunks failed/p' \
		    -e "s/^can't find file to patch.*/a file to patch is missing/p" \
		    -e 's/^Reversed \(or previously applied\) patch detected.*/already applied/p' "$log" |
		sort -u | paste -sd '\t' | sed 's/\t/; /g')
	echo "${why:-$(tail -n 1 "$log")}${files:+ ($files)}"
}

# Why a build failed, from its log: for no kvm.ko our refusal, the
# compiler's first error, the linker's or make's; else the ABI check's.
build_reason() {
	local log=$1 b=$2 built=$3 why
	if [ "$built" = no ]; then
		why=$(grep -m 1 '^kvm-fastinval: ' "$log" | sed 's/^kvm-fastinval: //') ||
		why=$(grep -m 1 -E '(error|ERROR):' "$log") ||
		why=$(grep -m 1 -E 'undefined reference|No rule to make target' "$log") ||
		why=$(tail -n 1 "$log")
	else
		# Each failed check, and the first difference it names.
		why=$( { grep -E '^not ok - abi' "$log" | sed 's/^not ok - //'
			 awk '/^#   (missing|differs|extra) / { d = $0; getline; if (/^#      /) d = d " " $0
			      gsub(/^# +|#/, "", d); gsub(/ +/, " ", d); print d; exit }' "$log"; } |
		      paste -sd '\t' | sed 's/\t/; /g')
		[ -n "$why" ] || why=$(grep -m 1 -E '^abi-(check|layout): ' "$log") || why=$(tail -n 1 "$log")
	fi
	echo "$why" | sed -e "s|$b/||g" -e "s|$top/||g" | cut -c1-300
}

# Build roots, one per release, the host's too (its kernels' headers are
# the host's business), made by debian-root.sh as build-root.sh's: what
# kbuild and the ABI checks use.
root_packages="build-essential binutils make patch xz-utils zstd bc kmod libelf-dev
	       dkms dpkg-dev flex bison rsync cpio file"
declare -A root_updated=()
inroot() {
	CHROOT_BIND=$top "$top/selftests/harness/pkg-chroot.sh" run "$roots/$1" "${@:2}"
}
ensure_root() {
	# shellcheck disable=SC2086 # the list, one package per word
	"$top/scripts/debian-root.sh" "$1" "$roots/$1" $root_packages
}

# kernel RELEASE SUITES ABI VERSION LOG: linux-headers-ABI and, if the
# archive still has it, linux-image-ABI of VERSION in the root (apt: -common,
# kbuild and compiler come along), a backports kernel as Debian says to
# install one (-t: its linux-base is newer than the release's). The root's
# lists are fetched once a run (mmdebstrap leaves none).
kernel() {
	local r=$1 suites=$2 abi=$3 ver=$4 log=$5 p
	local -a pkgs=("linux-headers-$abi") target=()
	case ,$suites, in *,$r-backports,*) target=(-t "$r-backports") ;; esac
	# shellcheck disable=SC2016 # dpkg-query's format
	local fmt='${db:Status-Abbrev}${Version}\n'
	if [ -z "${root_updated[$r]:-}" ]; then
		inroot "$r" apt-get update -q >>"$log" 2>&1 || return 1
		root_updated[$r]=1
	fi
	for p in "linux-image-$abi" "linux-image-$abi-unsigned"; do
		if inroot "$r" apt-cache show "$p=$ver" >/dev/null 2>&1; then
			pkgs+=("$p")
			break
		fi
	done
	[ "$(inroot "$r" dpkg-query -W -f "$fmt" "${pkgs[@]}" 2>/dev/null | grep -cxF "ii $ver")" != ${#pkgs[@]} ] ||
		return 0
	inroot "$r" apt-get install -y -q --no-install-recommends "${target[@]}" "${pkgs[@]/%/=$ver}" \
		>>"$log" 2>&1
}

# verdict WHAT LOG: yes/no/? from the ABI check's "ok - WHAT: " line.
verdict() {
	if grep -q "^ok - $1: " "$2"; then
		echo yes
	elif grep -q "^not ok - $1: cannot compare" "$2" || ! grep -q "^not ok - $1: " "$2"; then
		echo '?'
	else
		echo no
	fi
}

# md CELL: a Markdown table cell.
md() { local c=${1//|/\\|}; echo "${c:--}"; }

rowsfile=$out/rows.txt
for r in $releases; do
	apt_r "$r" update || die "apt-get update for $r failed"
done
for r in $releases; do
	rows "$r"
done >"$rowsfile"
total=$(wc -l <"$rowsfile")
[ "$total" -gt 0 ] || die "no linux-source version in $releases${SERIES:+ for series $SERIES}"
if [ "$mode" = list ]; then
	awk 'BEGIN { print "# release series version suites flavour abi" } 1' "$rowsfile"
	exit 0
fi

table=$out/table.md.tmp
rev=$(git -C "$top" describe --always --dirty 2>/dev/null || echo '?')
echo "TAP version 13"
what="$([ "$mode" = build ] && echo "apply, build (make -j$jobs), ABI check" || echo "apply only")"
note "source matrix ($what): $total rows, linux-source of $releases${SERIES:+, series $SERIES}${MAX_PER_SERIES:+, newest $MAX_PER_SERIES per series}, flavours $flavours; tree at $rev"
{
	echo "Source matrix of $(date -u +%F) ($what), tree at $rev:"
	echo
	if [ "$mode" = build ]; then
		echo "| series | suite | source version | headers (ABI) | queue applied | kvm.ko built | exports = distro's | type layouts = distro's | build time | reason |"
		echo "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"
	else
		echo "| series | suite | source version | headers (ABI) | queue applied | reason |"
		echo "| --- | --- | --- | --- | --- | --- |"
	fi
} >"$table"
i=0
while read -r r s ver suites f abi <&3; do
	i=$((i + 1))
	suite=${suites//,/, }
	kver=$abi
	[ "$abi" != - ] || kver=linux-$ver-$f
	desc="$s $ver ($suite, ${abi/#-/no $f headers})"
	tag=${r}_${ver//:/_}_$f
	applied=- built=- exports=- layouts=- secs=- why='' failed0=$failed
	log=$out/logs/$tag.apply.log
	: >"$log"
	note "[$i/$total] $desc"

	# kvm-source.sh's own refusal (a series without a queue, a point
	# release older than its queue's minimum), from a stub of that version.
	stub "$out/stub" "$ver"
	if ! KSRC=/dev/null "$top/scripts/kvm-source.sh" check "$kver" "$out/stub" >"$log" 2>&1; then
		applied=refused why=$(tail -n 1 "$log")
		skip "$desc" "refused: $why"
		passed=$((passed - 1)) skipped=$((skipped + 1))	# counted apart
	elif [[ $supported != *" $s "* ]]; then
		applied=no why="kvm-source.sh accepts series $s, which has no queue"
		result 1 "$desc: $why"
	elif ! tar=$(source_of "$r" "$s" "$ver" "$log"); then
		applied=no why="cannot fetch linux-source-$s=$ver: $(tail -n 1 "$log")"
		result 1 "$desc: $why"
	else
		stub "$out/stub" "$ver"
		rm -rf "$out/$r/$ver/applied"
		if ! KSRC=$tar KVM_FASTINVAL_VERSION=source-matrix \
		     "$top/scripts/kvm-source.sh" prepare "$kver" "$out/stub" "$out/$r/$ver/applied" >>"$log" 2>&1; then
			applied=no why=$(apply_reason "$log")
			result 1 "$desc: the queue does not apply: $why"
		elif [ "$mode" = apply ]; then
			applied=yes why="$(grep -c '^  PATCH ' "$log") patches"
			result 0 "$desc: queue applied ($why)"
		elif [ "$abi" = - ]; then
			applied=yes why="no linux-headers-*-$f of $ver in the archive: applied, not built"
			result 0 "$desc: queue applied; not built: no $f headers of this version in the archive"
		else
			applied=yes
			log=$out/logs/$tag.build.log
			b=$out/$r/$ver/$abi
			: >"$log"
			t0=$(date +%s)
			if ! ensure_root "$r"; then
				why="cannot make the $r build root (${roots#"$top"/}/$r.log)"
				result 1 "$desc: $why"
			elif ! kernel "$r" "$suites" "$abi" "$ver" "$log"; then
				why="cannot install linux-headers-$abi=$ver in the $r root: $(grep -m 1 '^E: ' "$log" || tail -n 1 "$log")"
				result 1 "$desc: $why"
			else
				note "[$i/$total] building kvm.ko for $abi (make -j$jobs, in the $r root; root, headers and image ready in $(($(date +%s) - t0)) s)"
				rm -rf "$b"
				t0=$(date +%s)
				rc=0
				# IMAGES_DIR: the ABI check takes the distro kvm.ko of
				# this very version, the root's, not a fetched one.
				inroot "$r" make -C "$top" --no-print-directory KVER="$abi" \
					KDIR="/usr/src/linux-headers-$abi" KSRC="$tar" BUILD="$b" \
					IMAGES_DIR="$out/no-images" -j"$jobs" abi-check >>"$log" 2>&1 || rc=$?
				secs="$(($(date +%s) - t0)) s"
				built=no
				if [ -f "$b/arch/x86/kvm/kvm.ko" ]; then
					built=yes
					# yes, no, or "?": not compared (abi-layout.sh exit 2).
					exports=$(verdict 'abi' "$log")
					layouts=$(verdict 'abi layout' "$log")
				fi
				if [ $rc -eq 0 ] && [ "$exports" = yes ] && [ "$layouts" = yes ]; then
					why=$(grep -E '^ok - abi( layout)?: ' "$log" |
					      sed -E 's/^ok - abi( layout)?: all //; s/ kvm.ko / /; s/ identical \((.*)\)$/ identical (\1)/' |
					      sed -E '2s/ \(.*//' | paste -sd '\t' | sed 's/\t/; /g')
					result 0 "$desc: queue applied, kvm.ko built in $secs, exports and type layouts identical"
				else
					why=$(build_reason "$log" "$b" "$built")
					result 1 "$desc: $([ "$built" = yes ] && echo "kvm.ko built, ABI check failed" ||
						echo "kvm.ko not built"): $why"
				fi
			fi
		fi
	fi
	[ "$failed" -eq "$failed0" ] || echo "#   log: ${log#"$top"/}"
	if [ "$mode" = build ]; then
		echo "| $s | $(md "$suite") | $ver | $(md "${abi/#-/none ($f)}") | $applied | $built | $exports | $layouts | $secs | $(md "$why") |"
	else
		echo "| $s | $(md "$suite") | $ver | $(md "${abi/#-/none ($f)}") | $applied | $(md "$why") |"
	fi >>"$table"
done 3<"$rowsfile"

echo "1..$n"
note "took $(($(date +%s) - start)) s"
mv "$table" "$out/table.md"
echo
cat "$out/table.md"
echo
echo "source-matrix: $passed passed, $failed failed, $skipped refused (table: ${out#"$top"/}/table.md)"
[ "$failed" -eq 0 ]
