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
	.if \v >= 32
	jmp irq_entry
	.else
	jmp trap_common
	.endif
.endm

.macro VECTOR_ADDR v
	.quad vector_\v
.endm

	.set i, 0
	.rept 256
	VECTOR_ENTRY %i
	.set i, i + 1
	.endr

/*
 * irq_entry - interrupts (vectors 32-255) arrive on this CPU's IST_IRQ
 * stack, and move at once to the interrupted stack, where trap_common
 * then builds the frame as if the CPU had pushed it there.  Why: a
 * goroutine's stack is demand-paged (kernel/vm.c), and an interrupt
 * whose frame the CPU cannot push (the page below RSP not yet mapped)
 * is lost -- the page fault is delivered instead, and the interrupt,
 * already acknowledged, is left in the LAPIC's in-service register,
 * which then blocks every interrupt of its class on that CPU for good.
 * Here the copy's stores may fault instead: the #PF (IST_PF) maps the
 * page and the store is retried.  Interrupts are off (interrupt gates),
 * so IST_IRQ is free again once we leave it; handlers may switch
 * threads, which needs the frame on the thread's own stack anyway.
 *   [in: IST_IRQ: vector, error, then the CPU's rip, cs, rflags, rsp, ss]
 *   [out: the same 7 words at (interrupted rsp & ~15) - 56, rsp there,
 *    every register as it was; jumps to trap_common]
 */
	.p2align 4
irq_entry:
	pushq %rax
	pushq %rcx
	movq 56(%rsp), %rax		/* the interrupted rsp */
	andq $-16, %rax
	subq $56, %rax			/* where the 7 words go */
	movq 64(%rsp), %rcx; movq %rcx, 48(%rax)	/* ss */
	movq 56(%rsp), %rcx; movq %rcx, 40(%rax)	/* rsp */
	movq 48(%rsp), %rcx; movq %rcx, 32(%rax)	/* rflags */
	movq 40(%rsp), %rcx; movq %rcx, 24(%rax)	/* cs */
	movq 32(%rsp), %rcx; movq %rcx, 16(%rax)	/* rip */
	movq 24(%rsp), %rcx; movq %rcx, 8(%rax)	/* error */
	movq 16(%rsp), %rcx; movq %rcx, (%rax)	/* vector */
	movq 8(%rsp), %rcx; movq %rcx, -8(%rax)	/* rax, to pop */
	movq (%rsp), %rcx; movq %rcx, -16(%rax)	/* rcx, to pop */
	leaq -16(%rax), %rsp
	popq %rcx
	popq %rax
	jmp trap_common

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
