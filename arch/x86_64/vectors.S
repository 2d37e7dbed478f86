/*
 * arch/x86_64/vectors.S - the 256 interrupt entry points and their
 * common path.
 *
 * Each entry point pushes a zero error code when the CPU does not push
 * one, then its vector number, and jumps to trap_common, which saves
 * every general register, building struct trapframe (trap.h), and calls
 *	void trap_dispatch(struct trapframe *tf);	(rdi = tf)
 * with DF clear and RSP 16-byte aligned (the CPU aligned it before pushing
 * its 5-word frame; 17 more words keep it aligned).  On return the
 * registers are reloaded from the (possibly edited) frame and iretq resumes
 * wherever tf->rip/rsp now say.  No segment registers are touched: all code
 * is ring 0, GS base is always this CPU's block.
 */
	.text
	.altmacro

.macro VECTOR_ENTRY v
	.p2align 4
vector_\v:
	.if (\v == 8) || ((\v >= 10) && (\v <= 14)) || (\v == 17) || (\v == 21) || (\v == 29) || (\v == 30)
	.else
	pushq $0
	.endif
	pushq $\v
	jmp trap_common
.endm

.macro VECTOR_ADDR v
	.quad vector_\v
.endm

	.set i, 0
	.rept 256
	VECTOR_ENTRY %i
	.set i, i + 1
	.endr

	.p2align 4
	.globl trap_common
trap_common:
	cld
	pushq %rax
	pushq %rbx
	pushq %rcx
	pushq %rdx
	pushq %rsi
	pushq %rdi
	pushq %rbp
	pushq %r8
	pushq %r9
	pushq %r10
	pushq %r11
	pushq %r12
	pushq %r13
	pushq %r14
	pushq %r15
	movq %rsp, %rdi
	call trap_dispatch
	.globl trap_return
trap_return:
	popq %r15
	popq %r14
	popq %r13
	popq %r12
	popq %r11
	popq %r10
	popq %r9
	popq %r8
	popq %rbp
	popq %rdi
	popq %rsi
	popq %rdx
	popq %rcx
	popq %rbx
	popq %rax
	addq $16, %rsp			/* vector, error */
	iretq

	.section .rodata
	.p2align 3
	.globl trap_entries
trap_entries:
	.set i, 0
	.rept 256
	VECTOR_ADDR %i
	.set i, i + 1
	.endr
