#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# checkpatch.sh CHECKPATCH_PL: the kernel's checkpatch.pl --strict on our
# kernel C (src/, include/) and on every patch of every series.
set -uo pipefail

cp=${1:?usage: $0 path/to/checkpatch.pl}
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top" || exit 1
[ -r "$cp" ] || { echo "checkpatch: $cp not found (run make first)" >&2; exit 2; }

mapfile -t files < <(git ls-files 'src/*.c' 'include/*.h' 2>/dev/null || ls src/*.c include/*.h)
mapfile -t patches < <(find src/patches -name '*.patch' | sort)
fail=0
perl "$cp" --strict --no-tree --quiet --show-types -f "${files[@]}" || fail=1
# checkpatch reads a file that git tracks as source, not as a patch (it
# would flag every context line): hide the repository from it for patches.
GIT_DIR=/nonexistent perl "$cp" --strict --no-tree --quiet --show-types "${patches[@]}" || fail=1
if [ $fail -eq 0 ]; then
	echo "ok - checkpatch --strict: ${#files[@]} files and ${#patches[@]} patches clean"
else
	echo "not ok - checkpatch --strict found problems"
fi
exit $fail
