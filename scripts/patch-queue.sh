#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# patch-queue.sh: work on the patch queues as git branches.
#
#   patch-queue.sh tree KVER DEST [SERIES]
#       a git tree in DEST of KVER's KVM source, exactly as the build
#       extracts it, one commit "base", then the queue of SERIES (default:
#       KVER's own) applied with git am -3 as commits. To carry the queue to
#       a new series: SERIES = the previous one, mend what does not apply.
#   patch-queue.sh refresh SERIES GITDIR [BASE]
#       write src/patches/SERIES/ from GITDIR's commits BASE..HEAD (default
#       BASE: the commit "base"), one patch a commit, named from its subject.
#       A commit whose patch is the one in src/patches/common/ of the same
#       name (up to line numbers and blob ids) is left to common/.
#
# Environment: KDIR=, KSRC= as for make.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
patches=$top/src/patches
die() { echo "patch-queue: $*" >&2; exit 1; }
usage() { die "usage: $0 tree KVER DEST [SERIES] | refresh SERIES GITDIR [BASE]"; }
git_() { git -c user.name="kvm-fastinval developers" -c user.email=kvm-fastinval@localhost "$@"; }

# A patch without what changes when only its context moves or it is made
# again: date, series numbering (and the subject's folding), blob ids, hunk
# line numbers.
body() {
	awk 'hdr && /^ / { line = line $0; next }
	     { if (NR > 1) print line; line = $0 } /^$/ { hdr = 0 } NR == 1 { hdr = 1 }
	     END { print line }' "$1" |
	sed -e '/^Date: /d' -e 's/^Subject: \[PATCH[^]]*\] */Subject: /' \
	    -e '/^index [0-9a-f]*\.\.[0-9a-f]*/d' -e 's/^@@ -[0-9,]* +[0-9,]* @@/@@/'
}

tree() {
	local kver=$1 dest=$2 series=${3:-} kdir=${KDIR:-/lib/modules/$1/build}
	[ ! -e "$dest" ] || die "$dest exists"
	[ -n "$series" ] || series=$("$top/scripts/kvm-source.sh" check "$kver" "$kdir")
	"$top/scripts/kvm-source.sh" extract "$kver" "$kdir" "$dest"
	git_ -C "$dest" init -q
	git_ -C "$dest" add -A
	git_ -C "$dest" commit -q -m base
	git_ -C "$dest" tag base
	mapfile -t queue < <("$top/scripts/kvm-source.sh" queue "$series")
	[ ${#queue[@]} -gt 0 ] || die "no patch queue for series $series"
	if ! git_ -C "$dest" am -q -3 "${queue[@]}"; then
		echo "patch-queue: a patch does not apply: mend it in $dest (git am --continue), then: $0 refresh SERIES $dest" >&2
		exit 1
	fi
	echo "$dest: base + ${#queue[@]} patches of series $series"
}

refresh() {
	local series=$1 gitdir=$2 base=${3:-base} p name n=0 common=0
	git -C "$gitdir" rev-parse -q --verify "$base^{commit}" >/dev/null ||
		die "$gitdir has no commit '$base'"
	tmp=$(mktemp -d)
	trap 'rm -rf "$tmp"' EXIT	# global: the trap runs after refresh returns
	git -C "$gitdir" format-patch -q --zero-commit --no-signature --abbrev=7 \
		--filename-max-length=120 -o "$tmp" "$base..HEAD"
	mkdir -p "$patches/$series"
	rm -f "$patches/$series"/*.patch
	for p in "$tmp"/*.patch; do
		[ -f "$p" ] || die "no commits after '$base' in $gitdir"
		name=${p##*/}
		if [ -f "$patches/common/$name" ] &&
		   cmp -s <(body "$p") <(body "$patches/common/$name"); then
			common=$((common + 1))
			continue
		fi
		cp "$p" "$patches/$series/$name"
		n=$((n + 1))
	done
	echo "src/patches/$series: $n patches written, $common left to common/"
}

case ${1:-} in
tree | refresh) ;;
*) usage ;;
esac
case $# in 3 | 4) ;; *) usage ;; esac
"$1" "$2" "$3" "${4:-}"
