#!/bin/sh
# tools/gensyms.sh ELF > ksyms.S
# Emit the image's symbol table (text symbols, sorted by address) as
# assembly for the .ksyms section: ksyms_count, ksyms_addrs[],
# ksyms_name_off[] and the NUL-separated ksyms_names.  With no ELF (the first
# link), emit an empty table with the same symbols.
set -e
elf="$1"
if [ -n "$elf" ]; then
	nm -n --defined-only "$elf" | awk '$2 ~ /^[tTwW]$/ { print $1, $3 }'
fi | awk '
BEGIN { n = 0; off = 0 }
{ addr[n] = $1; name[n] = $2; noff[n] = off; off += length($2) + 1; n++ }
END {
	print "\t.section .ksyms, \"a\""
	print "\t.p2align 3"
	print "\t.globl ksyms_count, ksyms_addrs, ksyms_name_off, ksyms_names"
	print "ksyms_count:\n\t.quad " n
	print "ksyms_addrs:"
	for (i = 0; i < n; i++) print "\t.quad 0x" addr[i]
	print "ksyms_name_off:"
	for (i = 0; i < n; i++) print "\t.long " noff[i]
	print "ksyms_names:"
	for (i = 0; i < n; i++) print "\t.asciz \"" name[i] "\""
}'
