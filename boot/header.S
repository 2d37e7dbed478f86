/*
 * boot/header.S - how boot loaders find rt0.
 *
 * Two records, one image:
 *  - a multiboot2 header (GRUB, for the ISO): must sit 8-byte aligned in the
 *    first 32 KiB of the file; linker.ld puts .multiboot2 first.  GRUB loads
 *    the ELF segments at their physical addresses and enters mb2_entry (the
 *    ELF entry point) in 32-bit protected mode.
 *  - a Xen PVH note, XEN_ELFNOTE_PHYS32_ENTRY (type 18), naming pvh_entry.
 *    QEMU's -kernel tries multiboot1 (absent, on purpose: QEMU refuses 64-bit
 *    multiboot1 ELFs), then boots through this note on both -M pc and
 *    -M microvm.  The descriptor is an 8-byte .quad in a 4-byte-aligned note.
 */
#define MB2_MAGIC 0xe85250d6
#define MB2_ARCH_I386 0

	.section .multiboot2, "a"
	.p2align 3
mb2_header:
	.long MB2_MAGIC
	.long MB2_ARCH_I386
	.long mb2_header_end - mb2_header
	.long -(MB2_MAGIC + MB2_ARCH_I386 + (mb2_header_end - mb2_header))
	/* end tag: type 0, flags 0, size 8 */
	.short 0
	.short 0
	.long 8
mb2_header_end:

	.section .note.Xen, "a", @note
	.p2align 2
	.long 4				/* namesz: "Xen\0" */
	.long 8				/* descsz */
	.long 18			/* XEN_ELFNOTE_PHYS32_ENTRY */
	.asciz "Xen"
	.p2align 2
	.quad pvh_entry
	.p2align 2
