#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# pkg-test.sh [RELEASE]: the packaging tests. Builds the .deb (lintian) and
# the .rpm, then in a chroot of Debian RELEASE (default: RELEASE= or the
# host's; selftests/harness/pkg-chroot.sh) with kernels A and B (first and last of
# that release's in debian-kernels.sh list):
#   1. apt install ./kvm-fastinval-dkms_*.deb: DKMS builds and signs the
#      module for A; B's source is missing, so B fails with our message and
#      the install still succeeds;
#   2. B removed, then installed again with its source: the kernel's hook
#      builds for B; the distro's kvm.ko of A and B stays in place;
#   3. QEMU boots of the chroot's kernels with the chroot's module (kvm.ko
#      in updates/dkms) and modprobe.d: boot-test (B), kvm-fastinval-switch (A);
#   4. apt remove, purge: module, switch, its /run/modprobe.d rule, DKMS state
#      gone; a boot (B) loads the distro kvm.
# For a release other than the host's, the .deb is still built on the host,
# but linted by that release's lintian in the chroot instead of the host's,
# no .rpm is built, and after 4.:
#   5. dpkg-buildpackage in the chroot (that release's debhelper and
#      dh-dkms) builds the package too: the same files and contents.
# Logs in build/logs/pkg (build/logs/pkg-RELEASE for another release).
# Prints "ok N - ..." lines and "pkg-test: N passed, N failed".
set -uo pipefail

top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top" || exit 1
host=$(scripts/debian-kernels.sh host)
release=${1:-${RELEASE:-$host}}
# The host's release keeps the paths it always had.
sfx=$([ "$release" = "$host" ] || echo "-$release")
logs=$top/build/logs/pkg$sfx
root=$top/build/pkgtest/root$sfx
export RELEASE=$release	# pkg-chroot.sh's
mkdir -p "$logs"
n=0 passed=0 failed=0
start=$SECONDS

note() { echo "# $*"; }
# shellcheck source=selftests/harness/ktap.sh
. "$top/selftests/harness/ktap.sh"
finish() {
	echo "1..$n"
	note "pkg-test took $((SECONDS - start)) s"
	echo "pkg-test: $passed passed, $failed failed"
	[ "$failed" -eq 0 ]
	exit
}
inroot() { selftests/harness/pkg-chroot.sh run "$root" "$@"; }
# Exactly one module file for $1 under the chroot's updates/dkms, or none.
module_of() { find "$root/lib/modules/$1/updates/dkms" -name 'kvm.ko*' 2>/dev/null | head -n 1; }
apt_in() { inroot apt-get install -y -q --no-install-recommends "$@"; }

version=$(sed -n 's/^PACKAGE_VERSION="\(.*\)"/\1/p' dkms.conf)
deb=build/kvm-fastinval-dkms_${version}_all.deb

# -- packages -----------------------------------------------------------------
missing=()
for p in build-essential debhelper dh-dkms lintian rpm mmdebstrap fakeroot; do
	dpkg-query -W -f '${db:Status-Abbrev}' "$p" 2>/dev/null | grep -q '^ii' || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] ||
	DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
		"${missing[@]}" >"$logs/apt.log" 2>&1
check "make deb builds $deb (debhelper, dh-dkms)" "$logs/deb.log" make deb || finish
if [ "$release" = "$host" ]; then
	dname="Debian $(. /etc/os-release && echo "$VERSION_ID")"
	lintian "$deb" >"$logs/lintian.log" 2>&1
	rc=$?
	grep -v "root privileges" "$logs/lintian.log" | sed "s/^/#   /"
	result $rc "lintian reports no errors on the .deb"
	check "make rpm builds a noarch DKMS source rpm (rpmbuild)" "$logs/rpm.log" \
		sh -c 'make rpm && find build/rpm/RPMS -name "kvm-fastinval-*.noarch.rpm" | grep -q .'
else
	dname="Debian $release"
	note "$release: the host's .deb, linted and built again with $release's tools in the chroot (5.)"
fi

# The chroot's release: its kernels.
targets=$(scripts/debian-kernels.sh list | awk -v r="$release" '$4 == r')
read -r _ ka _ _ < <(head -n 1 <<<"$targets")
read -r sb kb vb _ < <(tail -n 1 <<<"$targets")
note "chroot kernels: A=$ka (with source), B=$kb (source installed later)"

# -- 1. install the package ---------------------------------------------------
check "$dname chroot with both kernels (mmdebstrap, cached)" "$logs/chroot.log" \
	selftests/harness/pkg-chroot.sh unpack "$root" || finish
note "chroot: Debian $(cat "$root/etc/debian_version"), $(inroot dpkg-query -W -f "\${Package} \${Version}" dkms)"
cp "$deb" "$root/tmp/"
check "apt install ./$(basename "$deb") succeeds" "$logs/install.log" \
	apt_in "/tmp/$(basename "$deb")"
sed -n 's/^kvm-fastinval: /#   &/p' "$logs/install.log"
ko_a=$(module_of "$ka")
[ -n "$ko_a" ] && inroot dkms status kvm-fastinval -k "$ka" | grep -q ': installed'
result $? "DKMS built and installed kvm-fastinval for $ka (${ko_a#"$root"})"
signer=$( [ -z "$ko_a" ] || inroot modinfo -F signer "${ko_a#"$root"}")
[ "$signer" = "DKMS module signing key" ] && [ -f "$root/var/lib/dkms/mok.pub" ]
result $? "the module is signed with DKMS's MOK key (signer: '$signer')"
[ -z "$(module_of "$kb")" ] &&
	grep -qF "kvm-fastinval: the KVM source for $kb is missing: install it with 'apt-get install linux-source-$sb=$vb'" "$logs/install.log"
result $? "$kb without its source: DKMS build fails with the missing-source message"
dep=$(grep '^kernel/arch/x86/kvm/kvm-amd.ko' "$root/lib/modules/$ka/modules.dep")
case " ${dep#*:} " in
*" kernel/arch/x86/kvm/kvm.ko"*) false ;;
*" updates/dkms/kvm.ko"*) true ;;
*) false ;;
esac
result $? "$ka modules.dep: kvm-amd depends on updates/dkms/kvm.ko, not the distro's kvm.ko"
# modinfo resolves kvm as modprobe does: to updates/dkms/kvm.ko.
info=$(inroot modinfo -k "$ka" kvm 2>&1)
grep -E '^(filename|version|kvm_fastinval):' <<<"$info" | sed 's/^/#   /'
grep -q "^filename: *${ko_a#"$root"}$" <<<"$info" && grep -q "^version: *$version$" <<<"$info" &&
	grep -q "^kvm_fastinval: *kvm-fastinval $version built from linux-source-" <<<"$info"
result $? "modinfo -k $ka kvm: updates/dkms/kvm.ko, version $version, kvm_fastinval tag"
conf=$(find "$root/lib/modprobe.d" "$root/etc/modprobe.d" "$root/usr/lib/modprobe.d" -name '*fastinval*' 2>/dev/null)
sw=$(inroot kvm-fastinval-switch --version 2>&1)
[ -z "$conf" ] && [ ! -e "$root/lib/modprobe.d/kvm-fastinval.conf" ] &&
	[ -x "$root/usr/sbin/kvm-fastinval-switch" ] && [ "$sw" = "kvm-fastinval-switch $version" ] &&
	[ -f "$root/usr/share/man/man8/kvm-fastinval-switch.8.gz" ]
result $? "no modprobe.d file${conf:+ ($conf)}; kvm-fastinval-switch ('$sw') and its man page installed"

# -- 2. another kernel installed afterwards -------------------------------------
# B's cached .debs but its source: image and headers (from 7.x also the
# image's linux-binary-, linux-modules- and linux-base- packages).
c=/var/cache/kvm-fastinval-test
b_debs="" b_pkgs=""
for f in "$root$c"/*.deb; do
	case ${f##*/} in linux-source-*) continue ;; esac
	b_debs+=" ${f#"$root"}"
	b_pkgs+=" $(dpkg-deb -f "$f" Package)"
done
check "$kb removed, then installed again with its source" "$logs/kernel-b.log" sh -c "
	selftests/harness/pkg-chroot.sh run '$root' apt-get purge -y -q$b_pkgs &&
	selftests/harness/pkg-chroot.sh run '$root' sh -c 'apt-get install -y -q --no-install-recommends $c/linux-source-${sb}_*.deb &&
		apt-get install -y -q --no-install-recommends$b_debs'"
ko_b=$(module_of "$kb")
[ -n "$ko_b" ] && [ "$(module_of "$ka")" = "$ko_a" ] && grep -q 'dkms' "$logs/kernel-b.log"
result $? "installing $kb built kvm-fastinval for it through the kernel hook; $ka untouched"
# Which hooks ran (Debian 13's dkms prints nothing when it finds ours built).
sed -nE 's|^(/etc/kernel/[a-z_]+\.d/dkms):\r?$|#   hook: \1|p' "$logs/kernel-b.log"
signer=$( [ -z "$ko_b" ] || inroot modinfo -F signer "${ko_b#"$root"}")
[ "$signer" = "DKMS module signing key" ]
result $? "$kb module signed too (signer: '$signer')"
# dkms 3.1+ (Debian 13's) moves the distro's kvm.ko away while ours is
# installed, unless dkms.conf's POST_INSTALL puts it back: switch off and
# the boots below load it.
bad=""
for k in "$ka" "$kb"; do
	p=$(inroot dpkg -S "modules/$k/kernel/arch/x86/kvm/kvm.ko" 2>/dev/null | cut -d: -f1)
	if [ -z "$p" ] || inroot dpkg -V "$p" | grep -q '/kvm/kvm\.ko'; then
		bad+=" $k"
	fi
done
[ -z "$bad" ]
result $? "the distro's kvm.ko stays in place beside ours, unchanged (dpkg -V)${bad:+; not for:$bad}"

# -- 3. boots -------------------------------------------------------------------
mkdir -p build/pkgtest/images
for k in "$ka" "$kb"; do
	ln -sfn "../${root##*/}" "build/pkgtest/images/$k"
	# Built by test-all's per-kernel loop already, unless run alone.
	[ -x "build/selftests/$k/vm_hold" ] && [ -n "$(ls "build/selftests/$k/upstream" 2>/dev/null)" ] ||
		selftests/harness/build-upstream-selftests.sh "$k" "build/selftests/$k" >"$logs/selftests-$k.log" 2>&1
done
# boot NAME KVER MODE MODULE: a boot-test of the chroot's kernel, one result.
boot() {
	local name=$1 k=$2 log=$logs/boot-$1.log s
	# Collect the chroot's distro modules anew: boot-test's cached set may
	# be of another root (a fresh one each run) and hide a kvm.ko gone.
	rm -f "build/boot-test/$k/modules.cpio.stamp"
	IMAGES_DIR=build/pkgtest/images MODULE=$4 BOOT_MODE=$3 BOOT_NAME=pkg-$name \
		MODPROBE_ROOT=$root SWITCH=$root/usr/sbin/kvm-fastinval-switch \
		SELFTESTS=build/selftests/$k selftests/harness/boot-test.sh "$k" >"$log" 2>&1
	sed -nE 's/^(not )?ok /#   &/p' "$log"
	s=$(grep -F "$k: " "$log" | grep -E ' [0-9]+ passed, 0 failed$')
	[ -n "$s" ]
	result $? "boot $name: $k (${s:-see $log})"
}
[ -z "$ko_b" ] || boot installed "$kb" test "$ko_b"
[ -z "$ko_a" ] || boot switch "$ka" switch "$ko_a"

# -- 4. remove, purge -------------------------------------------------------------
# As "kvm-fastinval-switch off" leaves it (not run here: it loads modules).
mkdir -p "$root/run/modprobe.d"
echo "install kvm /usr/sbin/kvm-fastinval-switch load-stock '\$CMDLINE_OPTS'" \
	>"$root/run/modprobe.d/kvm-fastinval-off.conf"
check "apt remove kvm-fastinval-dkms" "$logs/remove.log" inroot apt-get remove -y -q kvm-fastinval-dkms
left=$(find "$root"/lib/modules/*/updates "$root/lib/modprobe.d" "$root/run/modprobe.d" "$root/usr/sbin" \
	"$root/usr/share/man" \( -name '*fastinval*' -o -name 'kvm.ko*' \) 2>/dev/null)
[ -z "$left" ] && [ ! -e "$root/var/lib/dkms/kvm-fastinval" ]
result $? "remove: no kvm.ko in updates, off rule in /run/modprobe.d, switch, man page or DKMS state left${left:+ ($left)}"
for k in "$ka" "$kb"; do
	grep '^kernel/arch/x86/kvm/kvm-amd.ko' "$root/lib/modules/$k/modules.dep" | grep -q ' kernel/arch/x86/kvm/kvm.ko'
	result $? "remove: $k modules.dep points kvm-amd at the distro kvm.ko again"
done
# No conffiles: remove already leaves nothing, purge only forgets the package.
check "dpkg --purge kvm-fastinval-dkms" "$logs/purge.log" inroot dpkg --purge kvm-fastinval-dkms
st=$(inroot dpkg-query -W -f '${db:Status-Abbrev}' kvm-fastinval-dkms 2>/dev/null)
[ -z "$(find "$root/usr/src" "$root/etc" -name '*fastinval*')" ] && [ "${st# }" != rc ] && [ "${st:0:2}" != ii ]
result $? "purge: nothing of the package left (status '${st}')"
boot removed "$kb" stock none

# -- 5. the release's own lintian, debhelper and dh-dkms ------------------------
[ "$release" != "$host" ] || finish
check "$release's lintian, debhelper, dh-dkms, build-essential installed in the chroot (cached .debs)" \
	"$logs/tools.log" inroot sh -c "dpkg -i $c/tools/*.deb" || finish
tools=$(inroot dpkg-query -W -f "\${Package} \${Version}, " lintian debhelper dh-dkms)
note "${tools%, }"
inroot lintian "/tmp/$(basename "$deb")" >"$logs/lintian.log" 2>&1
rc=$?
grep -v "root privileges" "$logs/lintian.log" | sed "s/^/#   /"
result $rc "$release's lintian reports no errors on the host's .deb"
# As make deb does it, in the chroot.
src=/tmp/build/kvm-fastinval-$version
rm -rf "$root/tmp/build"
make -s package-source DEST="$root$src" && cp -a packaging/debian "$root$src/debian"
check "dpkg-buildpackage in the chroot builds the .deb ($release's debhelper, dh-dkms)" "$logs/deb-build.log" \
	inroot sh -c "cd $src && dpkg-buildpackage -b -us -uc"
rdeb=$root/tmp/build/$(basename "$deb")
# files FILE.deb: each file's mode, owner and path, and its md5sum.
files() {
	dpkg-deb --fsys-tarfile "$1" | tar -tv | awk '{ print $1, $2, $6 }' | sort
	dpkg-deb --ctrl-tarfile "$1" | tar -xO ./md5sums | sort
}
diff <(files "$deb") <(files "$rdeb") >"$logs/deb-diff.log" 2>&1
rc=$?
sed 's/^/#   /' "$logs/deb-diff.log" | head -n 20
result $rc "the $release-built .deb has the host's files: paths, modes, owners, md5sums"
# What debhelper and dh-dkms generate may differ (their versions in
# comments, the Depends they add): shown, not a failure.
for f in control postinst prerm postrm; do
	diff <(dpkg-deb -I "$deb" "$f" 2>/dev/null) <(dpkg-deb -I "$rdeb" "$f" 2>/dev/null) |
		sed -n "s/^[<>] /#   $f: &/p"
done

finish
