# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
#
# Files out of the QEMU guest on its serial channel, base64 between
# "@@@ FILE name" and "@@@ EOF" lines (sourced: by the host's scripts, and
# in the guest as /opt/channel.sh).

# ship FILE [NAME]: print FILE framed, named NAME (default: its base name).
ship() {
	echo "@@@ FILE ${2:-${1##*/}}"
	base64 -w 76 "$1"
	echo "@@@ EOF"
}

# unship CHANNEL DIR: write each file shipped in the channel log CHANNEL to
# DIR; one that does not decode (a cut-off boot) is left out.
unship() {
	local b
	tr -d '\r' <"$1" | awk -v dir="$2" '
		/^@@@ FILE / { f = dir "/" $3 ".b64"; printf "" > f; next }
		/^@@@ EOF/ { close(f); f = ""; next }
		f != "" { print > f }'
	for b in "$2"/*.b64; do
		[ -f "$b" ] || continue
		base64 -d "$b" >"${b%.b64}" 2>/dev/null || rm -f "${b%.b64}"
		rm -f "$b"
	done
}
