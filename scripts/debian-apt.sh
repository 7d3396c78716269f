#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# apt for one Debian release in a private configuration under
# build/apt/RELEASE, so that the host's apt state is never touched: what
# another release offers can be listed and downloaded from any host.
#
#   debian-apt.sh RELEASE update          fetch the release's package lists
#                                         (again only when older than a day)
#   debian-apt.sh RELEASE apt-get ARGS... apt-get/apt-cache with the private
#   debian-apt.sh RELEASE apt-cache ARGS...  configuration (after update)
#   debian-apt.sh RELEASE sources         the deb822 sources file, for
#                                         mmdebstrap and build roots
#
# RELEASE: a Debian codename (bookworm, trixie); its suites are RELEASE,
# RELEASE-updates, RELEASE-security and RELEASE-backports.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
die() { echo "debian-apt: $*" >&2; exit 1; }

[ $# -ge 2 ] || die "usage: $0 RELEASE update | sources | apt-get ARGS... | apt-cache ARGS..."
release=$1
cmd=$2
shift 2
case $release in
*[!a-z]* | "") die "not a Debian codename: '$release'" ;;
esac
dir=${DEBIAN_APT_DIR:-$top/build/apt}/$release
mirror=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
security=${DEBIAN_SECURITY_MIRROR:-http://deb.debian.org/debian-security}
keyring=/usr/share/keyrings/debian-archive-keyring.gpg

opts=(-o "Dir::Etc::SourceList=$dir/sources.list"
      -o "Dir::Etc::SourceParts=$dir/sources.list.d"
      -o "Dir::Etc::Preferences=$dir/preferences"
      -o "Dir::Etc::PreferencesParts=$dir/preferences.d"
      -o "Dir::State=$dir/state" -o "Dir::State::Lists=$dir/lists"
      -o "Dir::State::status=$dir/status"
      -o "Dir::Cache=$dir/cache"
      -o "APT::Get::List-Cleanup=false"
      -o "APT::Sandbox::User=root"
      -o "Debug::NoLocking=true")

setup() {
	mkdir -p "$dir/sources.list.d" "$dir/preferences.d" "$dir/state" \
		 "$dir/lists/partial" "$dir/cache/archives/partial"
	: >"$dir/sources.list"
	: >"$dir/preferences"
	touch "$dir/status"
	cat >"$dir/sources.list.d/debian.sources.new" <<EOF
Types: deb
URIs: $mirror
Suites: $release $release-updates $release-backports
Components: main
Signed-By: $keyring

Types: deb
URIs: $security
Suites: $release-security
Components: main
Signed-By: $keyring
EOF
	mv "$dir/sources.list.d/debian.sources.new" "$dir/sources.list.d/debian.sources"
}

update() {
	local stamp=$dir/updated
	setup
	if [ -f "$stamp" ] && [ -z "$(find "$stamp" -mmin +1440)" ] && [ "${1:-}" != --force ]; then
		return 0
	fi
	[ -f "$keyring" ] || die "no $keyring: apt-get install debian-archive-keyring"
	echo "  APT     update ($release, private lists in ${dir#"$top"/})" >&2
	apt-get "${opts[@]}" -q update >"$dir/update.log" 2>&1 ||
		{ tail -n 5 "$dir/update.log" >&2; die "apt-get update for $release failed"; }
	touch "$stamp"
}

case $cmd in
update) update "$@" ;;
sources) setup; echo "$dir/sources.list.d/debian.sources" ;;
apt-get | apt-cache)
	[ -f "$dir/updated" ] || update
	exec "$cmd" "${opts[@]}" "$@"
	;;
*) die "unknown command '$cmd'" ;;
esac
