#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# abi-layout.sh DISTRO_KVM_KO OUR_KVM_KO BASE
# abi-layout.sh --kver KVER OUR_KVM_KO
#
# The distro's kvm-amd.ko and kvm-intel.ko were compiled against the
# distro's kvm.ko's types. Without MODVERSIONS (Debian 7.x) every CRC in
# Module.symvers is 0 and abi-check.sh cannot see a layout change, so this
# compares the types themselves, from BTF: every struct, union, enum and
# typedef the distro kvm.ko's BTF defines (and every one of ours that
# redefines a vmlinux type) must have the same size, members, offsets, bit
# fields and member types (by name; anonymous ones spelled out) in ours,
# and every exported function of the distro kvm.ko the same prototype.
# Types only ours has (our own code's) are allowed. The types kvm-amd.ko
# and kvm-intel.ko (found next to DISTRO_KVM_KO) define that ours also
# defines are compared as they see them too.
#
# DISTRO_KVM_KO, OUR_KVM_KO: .ko, .ko.xz, .ko.zst or .ko.gz. The module BTF
# is split BTF on vmlinux's; BASE gives vmlinux's: the distro's vmlinuz, a
# vmlinux with .BTF (the headers' one, since 6.12) or raw BTF
# (/sys/kernel/btf/vmlinux of that very kernel). Our module's own .BTF is
# used (with its distilled .BTF.base, pahole >= 1.28); without one, BTF is
# encoded from its DWARF with pahole against BASE.
#
# --kver KVER finds the distro's kvm.ko and vmlinuz in IMAGES_DIR/KVER (the
# images scripts/debian-kernels.sh fetch unpacks; default build/images),
# else on this host (/lib/modules/KVER/kernel, /boot/vmlinuz-KVER; Debian
# 7.x: /usr/lib/modules/KVER/vmlinuz), else KDIR/vmlinux (default
# /lib/modules/KVER/build) as BASE.
#
# Prints one TAP line and each difference. Exit 0: identical, 1: a layout
# differs, 2: usage or setup error, or BTF that cannot be read or compared
# (then with a "not ok" line: never a vacuous ok).
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
die() { echo "abi-layout: $*" >&2; exit 2; }
usage() { die "usage: $0 DISTRO_KVM_KO OUR_KVM_KO VMLINUZ|VMLINUX|BTF | --kver KVER OUR_KVM_KO"; }

# The first existing file of those given.
first() {
	local f
	for f in "$@"; do [ -f "$f" ] && { echo "$f"; return 0; }; done
	return 1
}

if [ "${1:-}" = --kver ]; then
	[ $# -eq 3 ] || usage
	kver=$2 ours=$3
	images=${IMAGES_DIR:-$top/build/images}
	# The distro kvm.ko and the vmlinuz of the same root if there is one.
	distro='' base=''
	for root in "$images/$kver" ""; do
		ko=$(first "$root"{,/usr}/lib/modules/"$kver"/kernel/arch/x86/kvm/kvm.ko{,.xz,.zst,.gz}) || continue
		[ -n "$distro" ] || distro=$ko
		base=$(first "$root/boot/vmlinuz-$kver" "$root"{/usr,}/lib/modules/"$kver"/vmlinuz) &&
			{ distro=$ko; break; }
	done
	[ -n "$distro" ] ||
		die "no distro kvm.ko of $kver in $images/$kver or /lib/modules/$kver (scripts/debian-kernels.sh fetch $kver)"
	[ -n "$base" ] || base=$(first "${KDIR:-/lib/modules/$kver/build}/vmlinux") ||
		die "no vmlinuz of $kver next to $distro, nor a vmlinux in its headers"
else
	[ $# -eq 3 ] || usage
	distro=$1 ours=$2 base=$3
fi
for f in "$distro" "$ours" "$base"; do
	[ -f "$f" ] || die "no file $f"
	[ -r "$f" ] || die "cannot read $f"
done

# -- host tools: installed only when an input needs them (perl-base and
# coreutils are in every Debian) ----------------------------------------------
need() {
	command -v "$1" >/dev/null && return 0
	[ "$(id -u)" -eq 0 ] || die "$1 is missing: apt-get install $2"
	echo "# abi-layout: apt-get install $2" >&2
	DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "$2" \
		>/dev/null || die "cannot install $2"
}

tmp=$(mktemp -d "${TMPDIR:-/tmp}/abi-layout.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

magic() { od -An -tx1 -N"${2:-6}" -j"${3:-0}" "$1" | tr -d ' \n'; }

# decompress FILE OUT: a module as the kernel stores it.
decompress() {
	case $(magic "$1") in
	fd377a585a00) need xz xz-utils; xz -dc "$1" >"$2" ;;
	28b52ffd*) need zstd zstd; zstd -dcq "$1" >"$2" ;;
	1f8b*) need gzip gzip; gzip -dc "$1" >"$2" ;;
	*) ln -s "$(realpath "$1")" "$2" ;;
	esac || die "cannot decompress $1"
}

# A bzImage (setup header "HdrS") holds vmlinux compressed at payload_offset
# after the setup sectors, followed by its size (4 bytes, little-endian),
# except for gzip, which has its own.
release=
if [ "$(magic "$base" 4 $((0x202)))" = 48647253 ]; then
	u() { od -An -tu"$1" -N"$1" -j"$2" "$base" | tr -d ' '; }
	setup=$(u 1 $((0x1f1)))
	[ "$setup" -ne 0 ] || setup=4
	start=$(((setup + 1) * 512 + $(u 4 $((0x248)))))
	len=$(u 4 $((0x24c)))
	# The banner the header points at: "RELEASE (builder) #1 SMP ...".
	banner=$(u 2 $((0x20e)))
	[ "$banner" -eq 0 ] ||
		release=$(dd if="$base" iflag=skip_bytes,count_bytes skip=$((banner + 0x200)) \
			  count=256 status=none | tr '\0' '\n' | sed -n '1s/ .*//p')
	dd if="$base" of="$tmp/payload" iflag=skip_bytes,count_bytes skip="$start" count="$len" status=none
	size=$(od -An -tu4 -j $((len - 4)) -N4 "$tmp/payload" | tr -d ' ')
	case $(magic "$tmp/payload") in
	1f8b*) need gzip gzip; unz=(gzip -dc) size= ;;
	fd377a585a00) need xz xz-utils; unz=(xz -dc --single-stream) ;;
	5d0000*) need xz xz-utils; unz=(xz -dc --format=lzma) ;;
	28b52ffd*) need zstd zstd; unz=(zstd -dcq) ;;
	425a68*) need bzip2 bzip2; unz=(bzip2 -dc) ;;
	02214c18*) need lz4 lz4; unz=(lz4 -dcq) ;;
	*) die "$base: unknown compression of the kernel ($(magic "$tmp/payload" 4))" ;;
	esac
	[ -z "$size" ] || truncate -s $((len - 4)) "$tmp/payload"
	"${unz[@]}" <"$tmp/payload" >"$tmp/vmlinux" 2>"$tmp/unz.log" ||
		die "cannot decompress the kernel in $base: $(head -n 1 "$tmp/unz.log")"
	rm "$tmp/payload"
	[ -z "$size" ] || [ "$(stat -c %s "$tmp/vmlinux")" = "$size" ] ||
		die "$base: the kernel decompressed to $(stat -c %s "$tmp/vmlinux") bytes, its header says $size"
	base_file=$tmp/vmlinux
else
	base_file=$base
fi

decompress "$distro" "$tmp/distro.ko"
decompress "$ours" "$tmp/ours.ko"
vendors=()
for v in kvm-amd kvm-intel; do
	f=$(first "$(dirname "$distro")/$v.ko"{,.xz,.zst,.gz}) || continue
	decompress "$f" "$tmp/$v.ko"
	vendors+=("$v.ko=$tmp/$v.ko")
done

# -- the comparison, in Perl (a BTF reader: no BTF tool reads every kernel's) --
# Modes: "sections FILE" prints an ELF file's section names; "compare ...",
# see its arguments below.
read -r -d '' prog <<'PERL' || true
use strict;
use warnings;

# Failures that mean "cannot compare", as "not ok" and exit 2.
sub fail { print "not ok - abi layout: cannot compare: $_[0]\n"; exit 2; }

sub slurp {
	my ($path) = @_;
	open(my $fh, '<:raw', $path) or fail("cannot read $path: $!");
	local $/;
	my $d = <$fh>;
	return $d // '';
}

# ELF64 little-endian sections by name (undef: not such an ELF file).
sub elf_sections {
	my ($path, $d) = @_;
	return undef unless substr($d, 0, 6) eq "\x7fELF\x02\x01";
	my $shoff = unpack('Q<', substr($d, 0x28, 8));
	my ($shentsize, $shnum, $shstrndx) = unpack('v3', substr($d, 0x3a, 6));
	$shnum && $shstrndx < $shnum && $shoff + $shnum * $shentsize <= length $d
		or fail("$path: truncated ELF file");
	my @sh = map { [unpack('V V Q< Q< Q< Q<', substr($d, $shoff + $_ * $shentsize, 40))] } 0 .. $shnum - 1;
	my $strs = substr($d, $sh[$shstrndx][4], $sh[$shstrndx][5]);
	my %sec;
	for my $s (@sh) {
		my ($name, $type, undef, undef, $off, $size) = @$s;
		$name = unpack('Z*', substr($strs, $name));
		next if $type == 8;    # SHT_NOBITS
		$off + $size <= length $d or fail("$path: section $name beyond the end of the file");
		$sec{$name} = substr($d, $off, $size);
	}
	return \%sec;
}

if ($ARGV[0] eq 'sections') {
	my $sec = elf_sections($ARGV[1], slurp($ARGV[1])) // fail("$ARGV[1] is not an ELF64 little-endian file");
	print "$_\n" for sort keys %$sec;
	exit 0;
}

# -- BTF (include/uapi/linux/btf.h) --
my %kinds = (1 => 'INT', 2 => 'PTR', 3 => 'ARRAY', 4 => 'STRUCT', 5 => 'UNION',
	6 => 'ENUM', 7 => 'FWD', 8 => 'TYPEDEF', 9 => 'VOLATILE', 10 => 'CONST',
	11 => 'RESTRICT', 12 => 'FUNC', 13 => 'FUNC_PROTO', 14 => 'VAR',
	15 => 'DATASEC', 16 => 'FLOAT', 17 => 'DECL_TAG', 18 => 'TYPE_TAG',
	19 => 'ENUM64');

# Split BTF continues its base's type ids and string offsets.
sub parse_btf {
	my ($what, $d, $base) = @_;
	length $d >= 24 or fail("$what: BTF of " . length($d) . " bytes");
	my ($magic, $ver, undef, $hlen, $toff, $tlen, $soff, $slen) = unpack('v C C V5', $d);
	$magic == 0xeb9f or fail(sprintf('%s: not little-endian BTF (magic %#x)', $what, $magic));
	$ver == 1 or fail("$what: BTF version $ver; this script reads version 1");
	$hlen + $toff + $tlen <= length $d && $hlen + $soff + $slen <= length $d
		or fail("$what: BTF sections beyond its end");
	my $t = substr($d, $hlen + $toff, $tlen);
	my $btf = { what => $what, base => $base, strs => substr($d, $hlen + $soff, $slen),
		start => $base ? $base->{start} + @{$base->{types}} : 1,
		str_start => $base ? $base->{str_start} + length $base->{strs} : 0 };
	my @types;
	my $p = 0;
	while ($p < $tlen) {
		$p + 12 <= $tlen or fail("$what: truncated BTF type");
		my ($name, $info, $st) = unpack('V3', substr($t, $p, 12));
		$p += 12;
		my ($kind, $vlen) = (($info >> 24) & 0x1f, $info & 0xffff);
		my $ty = { kind => $kind, name => $name, kflag => $info >> 31, size => $st, type => $st };
		# Kind-specific data after the common part.
		my %extra = (1 => 4, 3 => 12, 4 => 12 * $vlen, 5 => 12 * $vlen, 6 => 8 * $vlen,
			     13 => 8 * $vlen, 14 => 4, 15 => 12 * $vlen, 17 => 4, 19 => 12 * $vlen);
		my $n = $extra{$kind} // 0;
		exists $kinds{$kind} or fail(sprintf(
			'%s: BTF kind %d (type %d) is newer than this script knows (kinds up to ENUM64): extend it',
			$what, $kind, $btf->{start} + @types));
		$p + $n <= $tlen or fail("$what: truncated BTF type");
		my @x = unpack('V*', substr($t, $p, $n));
		$p += $n;
		if ($kind == 1) {
			$ty->{bits} = $x[0] & 0xff;
		} elsif ($kind == 3) {
			@$ty{qw(type nelems)} = @x[0, 2];
		} elsif ($kind == 4 || $kind == 5) {
			# kflag: bit field size in the offset's top byte.
			$ty->{members} = [map { [@x[3 * $_, 3 * $_ + 1],
				$ty->{kflag} ? ($x[3 * $_ + 2] & 0xffffff, $x[3 * $_ + 2] >> 24) : ($x[3 * $_ + 2], 0)] }
				0 .. $vlen - 1];
		} elsif ($kind == 6) {
			$ty->{values} = [map { [$x[2 * $_], unpack('l<', pack('V', $x[2 * $_ + 1]))] } 0 .. $vlen - 1];
		} elsif ($kind == 19) {
			$ty->{values} = [map { [$x[3 * $_], ($x[3 * $_ + 2] << 32) | $x[3 * $_ + 1]] } 0 .. $vlen - 1];
		} elsif ($kind == 13) {
			$ty->{params} = [map { [@x[2 * $_, 2 * $_ + 1]] } 0 .. $vlen - 1];
		}
		push @types, $ty;
	}
	$btf->{types} = \@types;
	return $btf;
}

sub type_of {
	my ($btf, $id) = @_;
	return undef if $id == 0;
	my $b = $btf;
	$b = $b->{base} while $b->{base} && $id < $b->{start};
	return $b->{types}[$id - $b->{start}] //
		fail("$btf->{what}: type id $id out of range: BTF read against the wrong base?");
}

sub str_of {
	my ($btf, $off) = @_;
	my $b = $btf;
	$b = $b->{base} while $b->{base} && $off < $b->{str_start};
	my $o = $off - $b->{str_start};
	my $e = $o < length $b->{strs} ? index($b->{strs}, "\0", $o) : -1;
	# Names start strings: one that does not is read against the wrong base.
	$e >= 0 && ($o == 0 || substr($b->{strs}, $o - 1, 1) eq "\0") or
		fail("$btf->{what}: string offset $off is not a name: BTF read against the wrong base?");
	return substr($b->{strs}, $o, $e - $o);
}

# Every type id and name a BTF refers to must exist.
sub check_refs {
	my ($btf) = @_;
	for my $ty (@{$btf->{types}}) {
		my $k = $ty->{kind};
		type_of($btf, $ty->{type}) if $k == 2 || $k == 3 || ($k >= 8 && $k <= 14) || $k == 17 || $k == 18;
		str_of($btf, $ty->{name});
		for my $m (@{$ty->{members} // []}, @{$ty->{params} // []}) {
			type_of($btf, $m->[1]);
			str_of($btf, $m->[0]);
		}
		str_of($btf, $_->[0]) for @{$ty->{values} // []};
	}
}

# -- layouts: text that reads the same in any BTF, whatever its type ids --
sub skip_tags {
	my ($btf, $t) = @_;
	$t = type_of($btf, $t->{type}) while $t && $t->{kind} == 18;
	return $t;
}

sub anon_aggregate {
	my ($btf, $t) = @_;
	return $t && ($t->{kind} == 4 || $t->{kind} == 5) && str_of($btf, $t->{name}) eq '';
}

# A type: named ones by name, anonymous ones spelled out; type tags
# (__rcu, __user) are no layout.
my %qualifiers = (9 => 'volatile ', 10 => 'const ', 11 => 'restrict ');
sub desc {
	my ($btf, $id, $depth) = @_;
	my $ty = type_of($btf, $id) // return 'void';
	my $k = $ty->{kind};
	my $name = str_of($btf, $ty->{name});
	return '...' if $depth > 16;
	return $ty->{bits} != 8 * $ty->{size} ? "$name:$ty->{bits}" : $name if $k == 1;
	return $name if $k == 8 || $k == 16;
	if ($k == 4 || $k == 5 || $k == 7) {
		my $tag = $k == 5 || ($k == 7 && $ty->{kflag}) ? 'union' : 'struct';
		return "$tag $name" if $name ne '';
		return "$tag { " . join('; ', members($btf, $ty, 0, '', $depth + 1)) . " } size $ty->{size}";
	}
	if ($k == 6 || $k == 19) {
		return "enum $name" if $name ne '';
		return 'enum { ' . join(', ', enumerators($ty, $btf)) . " } size $ty->{size}";
	}
	if ($k == 2) {
		my $t = skip_tags($btf, type_of($btf, $ty->{type}));
		return proto($btf, $t, '(*)', $depth + 1) if $t && $t->{kind} == 13;
		return desc($btf, $ty->{type}, $depth + 1) . ' *';
	}
	if ($k == 3) {
		my $dims = '';
		for (my $t = $ty; $t && $t->{kind} == 3; $t = type_of($btf, $id)) {
			$dims .= "[$t->{nelems}]";
			$id = $t->{type};
		}
		return desc($btf, $id, $depth + 1) . $dims;
	}
	return $qualifiers{$k} . desc($btf, $ty->{type}, $depth + 1) if $qualifiers{$k};
	return desc($btf, $ty->{type}, $depth) if $k == 18;
	return proto($btf, $ty, '', $depth + 1) if $k == 13;
	return "$kinds{$k} $name";
}

sub proto {
	my ($btf, $ty, $inner, $depth) = @_;
	my @p = map { $_->[1] ? desc($btf, $_->[1], $depth) : '...' } @{$ty->{params}};
	return desc($btf, $ty->{type}, $depth) . " $inner(" . join(', ', @p) . ')';
}

sub enumerators {
	my ($ty, $btf) = @_;
	my $mask = $ty->{size} >= 8 ? ~0 : (1 << (8 * $ty->{size})) - 1;
	return map { str_of($btf, $_->[0]) . ' = ' . ($_->[1] & $mask) } @{$ty->{values}};
}

# Members as "OFFSET NAME: TYPE" (OFFSET in bytes, BIT_OFFSET:BITS for bit
# fields); an anonymous struct or union gets a line and its members follow
# at their offsets in the outer type, so that their path is their name.
sub members {
	my ($btf, $ty, $off, $path, $depth) = @_;
	my @l;
	for my $m (@{$ty->{members}}) {
		my ($n, $mt, $bo, $bits) = @$m;
		$n = str_of($btf, $n);
		$bo += $off;
		my $at = $bits || $bo % 8 ? "$bo:$bits" : $bo / 8;
		my $t = skip_tags($btf, type_of($btf, $mt));
		if (anon_aggregate($btf, $t) && $depth < 16) {
			my $tag = $t->{kind} == 5 ? 'union' : 'struct';
			push @l, "$at $path" . ($n eq '' ? "<anonymous $tag>" : $n) . ": $tag size $t->{size}",
				members($btf, $t, $bo, $n eq '' ? $path : "$path$n.", $depth + 1);
		} else {
			push @l, "$at $path$n: " . desc($btf, $mt, $depth);
		}
	}
	return @l;
}

# A typedef by what it finally names: BTF may hold "u8 = __u8" and
# "u8 = unsigned char" as two definitions of one type (seen on 6.12).
sub typedef_target {
	my ($btf, $id) = @_;
	for (my $i = 0; $id && $i < 32; $i++) {
		my $t = type_of($btf, $id);
		last unless $t && ($t->{kind} == 8 || $t->{kind} == 18);
		$id = $t->{type};
	}
	return $id;
}

sub layout {
	my ($btf, $ty) = @_;
	my $k = $ty->{kind};
	return join "\n", "size $ty->{size}", members($btf, $ty, 0, '', 0) if $k == 4 || $k == 5;
	return join "\n", "size $ty->{size}", enumerators($ty, $btf) if $k == 6 || $k == 19;
	return '= ' . desc($btf, typedef_target($btf, $ty->{type}), 0) if $k == 8;
	return desc($btf, $ty->{type}, 0);    # FUNC: its prototype
}

# What a layout is compared by: "struct NAME" and so on; an anonymous enum
# by its first enumerator. Forward declarations have no layout.
my %keyed = (4 => 'struct', 5 => 'union', 8 => 'typedef', 12 => 'function');
sub key_of {
	my ($btf, $ty) = @_;
	my $k = $ty->{kind};
	my $name = str_of($btf, $ty->{name});
	if ($k == 6 || $k == 19) {
		return undef unless @{$ty->{values}};    # enum NAME; (declaration)
		return $name ne '' ? "enum $name" : 'enum <' . str_of($btf, $ty->{values}[0][0]) . '>';
	}
	return $name ne '' && $keyed{$k} ? "$keyed{$k} $name" : undef;
}

# -- the modules --
# compare RELEASE HOW INPUTS base=FILE distro=FILE ours=FILE ours-btf=[FILE]
# VENDOR=FILE... (RELEASE: the vmlinuz's, or ""; HOW: where our BTF comes
# from; INPUTS: the files, as given.)
my (undef, $release, $how, $inputs) = splice(@ARGV, 0, 4);
my @args = map { [/^([^=]*)=(.*)$/s] } @ARGV;
my ($base_arg, $distro_arg, $ours_arg, $ours_btf_arg, @vendor_args) = @args;

# BTF from an ELF file's section, or a raw BTF file.
sub btf_file {
	my ($label, $path, $section) = @_;
	my $d = slurp($path);
	my $sec = elf_sections($label, $d);
	return ($d, {}) unless $sec;
	defined $sec->{$section} or fail("$label has no $section section");
	return ($sec->{$section}, $sec);
}

my ($base_btf, $base_sec) = btf_file(@$base_arg, '.BTF');
fail("$base_arg->[0] is a module, not vmlinux") if defined $base_sec->{'.modinfo'};
my $base = parse_btf("$base_arg->[0] BTF", $base_btf, undef);
check_refs($base);
@{$base->{types}} >= 1000 or fail("$base_arg->[0] BTF has " . @{$base->{types}} . ' types: not vmlinux BTF');
my %base_idx;
for my $ty (@{$base->{types}}) {
	next if $ty->{kind} == 12;
	my $k = key_of($base, $ty) // next;
	push @{$base_idx{$k}}, $ty;
}

# A module's BTF, for the kernel of the distro kvm.ko (vermagic).
my $want = $release;
sub module {
	my ($label, $path, $btf_path) = @_;
	my $d = slurp($path);
	my $sec = elf_sections($label, $d) // fail("$label is not an ELF64 little-endian file");
	my $vermagic = ($sec->{'.modinfo'} // '') =~ /(?:^|\0)vermagic=(\S+)/ ? $1 : '';
	$vermagic ne '' or fail("$label has no vermagic: not a kernel module");
	$want ne '' && $vermagic ne $want and
		fail("$label is for $vermagic, " . ($release ? "the kernel for $release" : "the distro kvm.ko for $want"));
	$want = $vermagic;
	my ($bd, undef) = btf_file($label, $btf_path // $path, '.BTF');
	my $b = $base;
	if (!$btf_path && defined $sec->{'.BTF.base'}) {
		# Distilled base (out-of-tree modules, pahole >= 1.28): the named
		# types it holds stand for the real base's of the same name.
		$b = parse_btf("$label distilled base BTF", $sec->{'.BTF.base'}, undef);
		check_refs($b);
	}
	my $btf = parse_btf("$label BTF", $bd, $b);
	check_refs($btf);
	my (%defs, %exports);
	for my $ty (@{$btf->{types}}) {
		my $k = key_of($btf, $ty) // next;
		push @{$defs{$k}}, layout($btf, $ty);
	}
	grep { /^(struct|union) / } keys %defs or fail("$label BTF defines no struct or union");
	# Exports: the symbols __ksymtab_NAME; functions: STT_FUNC symbols.
	my ($sym, $str) = ($sec->{'.symtab'} // '', $sec->{'.strtab'} // '');
	my %funcs;
	for (my $p = 0; $p + 24 <= length $sym; $p += 24) {
		my ($n, $info) = unpack('V C', substr($sym, $p, 5));
		next if $n >= length $str;
		my $s = substr($str, $n, index($str, "\0", $n) - $n);
		$exports{$1} = 1 if $s =~ /^__ksymtab_(.+)/;
		$funcs{$s} = 1 if ($info & 0xf) == 2;
	}
	my @unseen = grep { $funcs{$_} && !$defs{"function $_"} } keys %exports;
	return { label => $label, defs => \%defs, exports => \%exports, unseen => scalar @unseen,
		 distilled => $b != $base };
}

my $distro = module(@$distro_arg);
my $ours = module(@$ours_arg, $ours_btf_arg->[1] || undef);
my @vendors = map { module(@$_) } @vendor_args;
$how .= ' with a distilled base (.BTF.base)' if $ours->{distilled};
%{$distro->{exports}} or fail("$distro->{label} exports nothing (no __ksymtab_ symbols)");

# What a module sees under a name: its own definitions, else the base's.
my %base_view;
sub view {
	my ($m, $k) = @_;
	my @l = @{$m->{defs}{$k} // []};
	@l = @{$base_view{$k} //= [map { layout($base, $_) } @{$base_idx{$k} // []}]}
		if !@l && $k !~ /^function /;
	my %u = map { $_ => 1 } @l;
	return @l ? join("\n\n", sort keys %u) : undef;
}

# What differs between two layouts, by member (or enumerator): size,
# added, removed, type, then moved (an insertion moves all that follow).
sub layout_diff {
	my ($x, $y, $label) = @_;
	my @side;
	for my $text ($x, $y) {
		my (%e, @order, %n);
		for (grep { $_ ne '' } split /\n/, $text) {
			# size N, OFFSET PATH: TYPE, ENUMERATOR = VALUE; else a
			# typedef or a prototype, compared whole.
			my ($k, $at, $t) = $text !~ /^size / ? ($_, '', '') : /^(size) (\d+)$/ ? ($1, $2, '')
				: /^(\d+(?::\d+)?) (.*?): (.*)$/ ? ($2, $1, $3) : /^(.*) = (\d+)$/ ? ($1, $2, '') : ($_, '', '');
			$k .= '#' . $n{$k} if $n{$k}++;    # several anonymous unions
			$e{$k} = [$at, $t];
			push @order, $k;
		}
		push @side, \%e, \@order;
	}
	my ($d, $dorder, $o, $oorder) = @side;
	my (@out, @moved);
	my ($nd, $no) = map { scalar(() = /\n\n/g) + 1 } $x, $y;
	push @out, "$label has $nd definitions, ours $no" if $nd != $no;
	for my $k (@$dorder) {
		my ($at, $t) = @{$d->{$k}};
		my ($oat, $ot) = @{$o->{$k} // ['', '']};
		(my $name = $k) =~ s/#\d+$//;
		if (!$o->{$k}) {
			push @out, $at eq '' ? "$label: $name" : $t eq '' ? "removed $name = $at" : "removed $at $name: $t";
		} elsif ($ot ne $t) {
			push @out, "type    $name: $t -> $ot (at $at" . ($oat ne $at ? " -> $oat)" : ')');
		} elsif ($oat ne $at && $t eq '') {
			push @out, "$name: $at -> $oat";
		} elsif ($oat ne $at && (($at =~ /:(\d+)$/)[0] // '') ne (($oat =~ /:(\d+)$/)[0] // '')) {
			push @out, "bits    $name: $at -> $oat";    # BIT_OFFSET:BITS
		} elsif ($oat ne $at) {
			push @moved, "moved   $name: $at -> $oat";
		}
	}
	for my $k (grep { !$d->{$_} } @$oorder) {
		my ($at, $t) = @{$o->{$k}};
		(my $name = $k) =~ s/#\d+$//;
		push @out, $at eq '' ? "ours: $name" : $t eq '' ? "added   $name = $at" : "added   $at $name: $t";
	}
	push @out, @moved > 4 ? (@moved[0 .. 2], '(and ' . (@moved - 3) . ' more members moved)') : @moved;
	if (!@out) {
		# Same members, another order: the first line that differs.
		my @a = split /\n/, $x;
		my @b = split /\n/, $y;
		my $i = 0;
		$i++ while $a[$i] eq $b[$i];
		push @out, "order:  $label: $a[$i]", "order:  ours: $b[$i]";
	}
	return @out > 16 ? (@out[0 .. 14], '(' . (@out - 15) . ' more)') : @out;
}

# The names compared: the distro kvm.ko's own types, ours that redefine a
# vmlinux type, the exported functions.
my %keys = map { $_ => 1 } grep { !/^function / } keys %{$distro->{defs}};
$keys{$_} = 1 for grep { !/^function / && $base_idx{$_} } keys %{$ours->{defs}};
$keys{$_} = 1 for grep { /^function (.*)/ && $distro->{exports}{$1} } keys %{$distro->{defs}};

my (@diffs, %same, @notes);
my ($ndiff, $nvdiff) = (0, 0);
for my $k (sort keys %keys) {
	my ($d, $o) = (view($distro, $k), view($ours, $k));
	if (!defined $o) {
		push @diffs, "missing  $k: the distro kvm.ko has it, ours not";
	} elsif ($d ne $o) {
		push @diffs, "differs  $k:", map { "    $_" } layout_diff($d, $o, 'distro');
	} else {
		$same{$k =~ /^(struct|union) / ? 'structs/unions' : $k =~ /^function / ?
		      'exported function prototypes' : $k =~ /^enum / ? 'enums' : 'typedefs'}++;
		next;
	}
	$ndiff++;
}
# The vendor modules' own copies of the types ours defines (the distro
# kvm.ko may lack some).
my @seen;
for my $v (@vendors) {
	my $n = 0;
	for my $k (sort grep { !/^function / && $ours->{defs}{$_} } keys %{$v->{defs}}) {
		my ($vv, $o, $d) = (view($v, $k), view($ours, $k), view($distro, $k));
		if (defined $d && $d ne $vv) {
			push @notes, "$k: the distro's kvm.ko and $v->{label} differ: not compared";
			next;
		}
		$n++;
		next if $vv eq $o;
		push @diffs, "differs  $k as $v->{label} sees it:", map { "    $_" } layout_diff($vv, $o, $v->{label});
		$nvdiff++;
	}
	push @seen, "$n of $v->{label}'s";
}
my $total = keys %keys;
$total or fail('no types to compare');
push @notes, @seen ? 'compared too: the types ours shares with the vendor modules (' . join(', ', @seen) . ')'
	: 'no kvm-amd.ko or kvm-intel.ko beside the distro kvm.ko: their own copies not compared';
push @notes, "$distro->{unseen} exported functions have no prototype in the distro kvm.ko's BTF: not compared"
	if $distro->{unseen};
push @notes, $how, $inputs;
if ($ndiff || $nvdiff) {
	print "not ok - abi layout: $ndiff of $total kvm.ko type layouts differ",
		$nvdiff ? ", $nvdiff as the vendor modules see them\n" : "\n";
	print "#   $_\n" for @diffs, @notes;
	exit 1;
}
print "ok - abi layout: all $total kvm.ko type layouts identical (", join(', ', map { ($same{$_} // 0) . " $_" }
	'structs/unions', 'enums', 'typedefs', 'exported function prototypes'), ")\n";
print "#   $_\n" for @notes;
PERL

# Our module's BTF: its own, else encoded from its DWARF against the base.
sections=$(perl -e "$prog" sections "$tmp/ours.ko") ||
	{ echo "${sections:-not ok - abi layout: cannot compare: cannot read the sections of $ours}"; exit 2; }
ours_btf=
if ! grep -qx .BTF <<<"$sections"; then
	grep -qx .debug_info <<<"$sections" ||
		die "$ours has neither BTF nor DWARF (.debug_info): give the unstripped module of a CONFIG_DEBUG_INFO kernel"
	need pahole pahole
	ver=$(pahole --version | tr -dc 0-9)
	# The BTF features kbuild asks of this pahole (scripts/Makefile.btf).
	if [ "$ver" -ge 126 ]; then
		flags=("--btf_features=encode_force,var,float,enum64,decl_tag,type_tag,optimized_func,consistent_func")
	else
		flags=(--btf_gen_floats)
		[ "$ver" -lt 125 ] || flags+=(--skip_encoding_btf_inconsistent_proto --btf_gen_optimized)
	fi
	[ "$ver" -lt 124 ] || flags+=(--lang_exclude=rust)
	if ! pahole -J "${flags[@]}" --btf_base "$base_file" --btf_encode_detached="$tmp/ours.btf" \
		"$tmp/ours.ko" >"$tmp/pahole.log" 2>&1 || [ ! -s "$tmp/ours.btf" ]; then
		echo "not ok - abi layout: cannot compare: pahole $(pahole --version) cannot encode $ours's BTF against $base"
		sed -n 's/^/#   /; 1,5p' "$tmp/pahole.log"
		exit 2
	fi
	ours_btf=$tmp/ours.btf
	how="ours: BTF encoded from its DWARF by pahole $(pahole --version)"
else
	how="ours: its own .BTF"
fi

# 0: identical, 1: a difference, 2: cannot compare; anything else (a Perl
# error) must not pass either.
rc=0
perl -e "$prog" compare "$release" "$how" "distro: $distro; base: $base${release:+ ($release)}" \
	"${base##*/}=$base_file" "distro kvm.ko=$tmp/distro.ko" "our kvm.ko=$tmp/ours.ko" \
	"our BTF=$ours_btf" "${vendors[@]}" || rc=$?
case $rc in
0 | 1 | 2) exit $rc ;;
*) echo "not ok - abi layout: cannot compare: the comparison failed (perl exit $rc)"; exit 2 ;;
esac
