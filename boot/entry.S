/*
 * boot/entry.S - from the boot loader to kernel_main, on the boot CPU.
 *
 * Entry contract (what holds when either entry point runs):
 *   [x] 32-bit protected mode, paging off, flat 4 GiB CS (execute/read)
 *       and flat DS/ES/SS; A20 enabled; interrupts disabled (IF=0).
 *   [x] multiboot2 (GRUB, the ISO): enters mb2_entry, EAX = 0x36d76289,
 *       EBX = physical address of the multiboot2 information structure.
 *   [x] PVH (QEMU -kernel on -M pc and -M microvm): enters pvh_entry,
 *       EBX = physical address of struct hvm_start_info (magic 0x336ec578;
 *       command line at +24, RSDP at +32, memory map at +40/+48).
 *   [ ] nothing else: ESP, the GDT, the IDT and EFLAGS.DF are undefined.
 *       The image is loaded at its link addresses (1 MiB up); .bss may or
 *       may not be zero, so it is cleared here: .bss.boot (page tables,
 *       stack) in 32-bit mode, the rest once in long mode.
 *
 * What this file leaves for kernel_main(kind, info):
 *   [x] 64-bit long mode, CR0.PG|WP|PE, CR4.PAE, EFER.LME (+NXE if the CPU
 *       has NX), the first 4 GiB identity mapped with 2 MiB pages.
 *   [x] RSP = top of boot_stack (BOOT_STACK_SIZE, 64 KiB), RBP = 0 ends
 *       the frame chain.
 *   [x] EDI = BOOT_MB2 or BOOT_PVH, RSI = the loader's information pointer.
 *   [x] interrupts still disabled; no IDT yet (a fault triple-faults, and
 *       -no-reboot turns that into a QEMU exit).
 * Does not return.
 */
#include "boot.h"

	.section .boot.text, "ax"
	.code32
	.globl mb2_entry
mb2_entry:
	cli
	cld
	cmpl $MB2_BOOTLOADER_MAGIC, %eax
	jne bad_loader
	movl $BOOT_MB2, %esi
	jmp common32

	.globl pvh_entry
pvh_entry:
	cli
	cld
	movl $BOOT_PVH, %esi

common32:
	movl %esi, boot_kind
	movl %ebx, boot_info

	/*
	 * Clear .bss.boot (page tables, stack) now and the rest of .bss in
	 * long mode, 8 bytes a store.  Under TCG each iteration of a rep
	 * string op costs the same whatever its width: clearing all 1.7 MB
	 * a byte at a time took 2-5 ms, most of the boot.
	 */
	movl $_bss_start, %edi
	movl $_bss_boot_end, %ecx
	subl %edi, %ecx
	shrl $2, %ecx
	xorl %eax, %eax
	rep stosl
	movl $boot_stack_top, %esp

	/* Long mode is required; NX is used when present. */
	movl $0x80000000, %eax
	cpuid
	cmpl $0x80000001, %eax
	jb no_long_mode
	movl $0x80000001, %eax
	cpuid
	btl $29, %edx
	jnc no_long_mode
	xorl %ebp, %ebp
	btl $20, %edx
	jnc 1f
	movl $EFER_NXE, %ebp
1:
	/* PML4[0] -> PDPT; PDPT[0..3] -> four PDs; 2048 x 2 MiB pages. */
	movl $boot_pdpt, %eax
	orl $(PTE_P | PTE_W), %eax
	movl %eax, boot_pml4
	xorl %ecx, %ecx
2:	movl %ecx, %eax
	shll $12, %eax
	addl $boot_pd, %eax
	orl $(PTE_P | PTE_W), %eax
	movl %eax, boot_pdpt(,%ecx,8)
	incl %ecx
	cmpl $4, %ecx
	jne 2b
	xorl %ecx, %ecx
3:	movl %ecx, %eax
	shll $21, %eax
	orl $(PTE_P | PTE_W | PTE_PS), %eax
	movl %eax, boot_pd(,%ecx,8)	/* high halves stay 0: all < 4 GiB */
	incl %ecx
	cmpl $2048, %ecx
	jne 3b

	lgdt boot_gdt_desc
	movl %cr4, %eax
	orl $CR4_PAE, %eax
	movl %eax, %cr4
	movl $boot_pml4, %eax
	movl %eax, %cr3
	movl $MSR_EFER, %ecx
	rdmsr
	orl $EFER_LME, %eax
	orl %ebp, %eax
	wrmsr
	movl %cr0, %eax
	orl $(CR0_PG | CR0_WP | CR0_PE), %eax
	movl %eax, %cr0
	ljmp $BOOT_CS64, $long_entry

	.code64
long_entry:
	movl $BOOT_DS, %eax
	movl %eax, %ds
	movl %eax, %es
	movl %eax, %ss
	xorl %eax, %eax
	movl %eax, %fs
	movl %eax, %gs
	movq $boot_stack_top, %rsp
	movl $_bss_boot_end, %edi	/* the rest of .bss (all below 4 GiB) */
	movl $_bss_end, %ecx
	subl %edi, %ecx
	shrl $3, %ecx
	xorl %eax, %eax
	rep stosq
	xorl %ebp, %ebp
	movl boot_kind, %edi
	movl boot_info, %esi
	call kernel_main
4:	cli
	hlt
	jmp 4b

	.code32
/* Say why on COM1 (no init needed under QEMU), exit QEMU, else halt. */
bad_loader:
	movl $msg_loader, %esi
	jmp fail32
no_long_mode:
	movl $msg_lm, %esi
fail32:
	movw $0x3f8, %dx
5:	lodsb
	testb %al, %al
	jz 6f
	outb %al, %dx
	jmp 5b
6:	movb $BOOT_FAIL_STATUS, %al
	movw $0xf4, %dx
	outb %al, %dx
7:	hlt
	jmp 7b

	.section .boot.data, "aw"
	.p2align 3
boot_gdt:
	.quad 0
	.quad 0x00af9a000000ffff	/* 0x08: 64-bit code */
	.quad 0x00cf92000000ffff	/* 0x10: data */
boot_gdt_desc:
	.short boot_gdt_desc - boot_gdt - 1
	.long boot_gdt
boot_kind:
	.long 0
boot_info:
	.long 0
msg_loader:
	.asciz "rt0: entered mb2_entry without the multiboot2 magic in EAX\r\n"
msg_lm:
	.asciz "rt0: this CPU has no long mode (x86-64); cannot boot\r\n"

	/* The linker puts .bss.boot first in .bss; see the clear above. */
	.section .bss.boot, "aw", @nobits
	.p2align 12
	.globl boot_pml4
boot_pml4:
	.space 4096
boot_pdpt:
	.space 4096
boot_pd:
	.space 4 * 4096
	.globl boot_stack_guard, boot_stack, boot_stack_top
boot_stack_guard:			/* unmapped by vm_init */
	.space 4096
boot_stack:
	.space BOOT_STACK_SIZE
boot_stack_top:
