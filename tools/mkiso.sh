#!/bin/sh
# tools/mkiso.sh ELF ISO "CMDLINE" - a GRUB (multiboot2) CD image booting
# ELF with CMDLINE.  GRUB's own output goes to the VGA console only, so
# COM1 carries nothing but rt0's.
set -e
elf="$1"; iso="$2"; cmdline="$3"
dir="${iso%.iso}.d"
rm -rf "$dir"
mkdir -p "$dir/boot/grub"
cp "$elf" "$dir/boot/rt0.elf"
cat > "$dir/boot/grub/grub.cfg" <<CFG
set timeout=0
set default=0
menuentry "rt0" {
	multiboot2 /boot/rt0.elf $cmdline
	boot
}
CFG
grub-mkrescue -o "$iso" "$dir" >/dev/null 2>&1 || {
	echo "mkiso: grub-mkrescue failed (needs grub-pc-bin, xorriso, mtools)"
	grub-mkrescue -o "$iso" "$dir"
	exit 1
}
