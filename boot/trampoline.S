/*
 * boot/trampoline.S - where an AP starts: real mode -> long mode -> ap_main.
 *
 * Linked inside .rodata and copied by smp_boot() to TRAMPOLINE_PA (page 8;
 * SIPI vector 8).  Addresses inside the copy are written T(label).  The
 * boot CPU patches two words before the first SIPI: tramp_cr3 (the kernel's
 * PML4, below 4 GiB) and tramp_efer (EFER.NXE if the CPU has NX).
 *
 * State at entry (SIPI): real mode, CS:IP = 0x0800:0000, interrupts off.
 * State at ap_main(idx): long mode, kernel page tables, CR0.WP, RSP =
 * ap_stacks[idx], RBP = 0, EDI = idx (this CPU's index in cpus[]), from
 * ap_cpu_by_apic[initial APIC id].  ap_main does not return.
 */
#include "boot.h"

#define T(x) (TRAMPOLINE_PA + (x) - trampoline_start)

	.section .trampoline, "a"
	.code16
	.globl trampoline_start
trampoline_start:
	cli
	cld
	xorw %ax, %ax
	movw %ax, %ds
	lgdtl T(tgdt_desc)
	movl %cr0, %eax
	orl $CR0_PE, %eax
	movl %eax, %cr0
	ljmpl $0x08, $T(tramp32)

	.code32
tramp32:
	movl $0x10, %eax
	movl %eax, %ds
	movl %eax, %es
	movl %eax, %ss
	movl %cr4, %eax
	orl $CR4_PAE, %eax
	movl %eax, %cr4
	movl T(tramp_cr3), %eax
	movl %eax, %cr3
	movl $MSR_EFER, %ecx
	rdmsr
	orl $EFER_LME, %eax
	orl T(tramp_efer), %eax
	wrmsr
	movl %cr0, %eax
	orl $(CR0_PG | CR0_WP), %eax
	movl %eax, %cr0
	ljmp $0x18, $T(tramp64)

	.code64
tramp64:
	movl $0x10, %eax
	movl %eax, %ds
	movl %eax, %es
	movl %eax, %ss
	xorl %eax, %eax
	movl %eax, %fs
	movl %eax, %gs
	movl $1, %eax
	cpuid
	shrl $24, %ebx			/* initial APIC id */
	movzbl ap_cpu_by_apic(%rbx), %edi
	movq ap_stacks(,%rdi,8), %rsp
	xorl %ebp, %ebp
	movabsq $ap_main, %rax
	call *%rax
1:	cli
	hlt
	jmp 1b

	.p2align 3
tgdt:
	.quad 0
	.quad 0x00cf9a000000ffff	/* 0x08: 32-bit code */
	.quad 0x00cf92000000ffff	/* 0x10: data */
	.quad 0x00af9a000000ffff	/* 0x18: 64-bit code */
tgdt_desc:
	.short tgdt_desc - tgdt - 1
	.long T(tgdt)
	.globl tramp_cr3, tramp_efer
tramp_cr3:
	.long 0
tramp_efer:
	.long 0
