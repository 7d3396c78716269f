#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Where the shadow zap's hottest call sits in kvm.ko builds, by 4 KiB page:
# QEMU TCG chains translation blocks directly only within one guest page, so
# a call or branch to another page costs a TB lookup. mmu_page_zap_pte() is
# called for each of the 512 SPTEs of every shadow page zapped, from
# __kvm_mmu_prepare_zap_page(); whether the two share a page moves the
# shadow zap's time under TCG by up to ~1.4x with the same code (none on
# real CPUs). .text is a module's first executable section, page-aligned
# when loaded, so its offsets give the pages at run time.
#
#   tcg-layout.sh NAME=KO [NAME=KO ...]     (KO may be .ko.xz)
# Prints a Markdown table.
set -uo pipefail
[ $# -gt 0 ] || { echo "usage: $0 NAME=KO ..." >&2; exit 2; }
tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT
echo "| module | mmu_page_zap_pte (.text) | __kvm_mmu_prepare_zap_page | one page |"
echo "| --- | --- | --- | --- |"
for arg in "$@"; do
	name=${arg%%=*} ko=${arg#*=}
	case $ko in
	*.xz) xz -dc "$ko" >"$tmp/m.ko" || continue; ko=$tmp/m.ko ;;
	esac
	[ -f "$ko" ] || { echo "| $name | (no $ko) | | |"; continue; }
	read -r z zs < <(nm -S "$ko" | awk '$3 ~ /^[tT]$/ && $4 == "mmu_page_zap_pte" { print $1, $2; exit }')
	read -r p < <(nm "$ko" | awk '$2 ~ /^[tT]$/ && $3 == "__kvm_mmu_prepare_zap_page" { print $1; exit }')
	if [ -z "${zs:-}" ] || [ -z "${p:-}" ]; then
		echo "| $name | (not found) | | |"
		continue
	fi
	ze=$((16#$z + 16#$zs - 1))
	z=$((16#$z)) p=$((16#$p))
	pages=$(printf '0x%x' $((z / 4096)))
	[ $((ze / 4096)) -eq $((z / 4096)) ] || pages+=$(printf -- '-0x%x' $((ze / 4096)))
	one=no
	[ $((z / 4096)) -ne $((p / 4096)) ] || [ $((ze / 4096)) -ne $((p / 4096)) ] || one=yes
	printf '| %s | 0x%x-0x%x (page %s) | 0x%x (page 0x%x) | %s |\n' "$name" $z $ze "$pages" $p $((p / 4096)) $one
	z='' zs='' p=''
done
