/*
 * arch/x86_64/switch.S - switching stacks: the core of the kernel's
 * thread switch, in the terms of the machine (stack pointers, the
 * callee-saved registers, the FPU control words), not of threads.
 *
 * void *kswitch(uint64_t *save_rsp, uint64_t load_rsp, void *ret);
 *	rdi = where to store this stack's RSP, rsi = the RSP to resume,
 *	rdx = the value kswitch returns on the resumed stack.
 *	Pushes what the C ABI makes callee-saved: rbp, rbx, r12-r15, and the
 *	control words MXCSR and x87 FCW; stores RSP in *save_rsp; loads
 *	load_rsp; pops the resumed stack's saved registers and returns there
 *	with RAX = ret.  Vector registers are caller-saved, so a voluntary
 *	switch leaves them.  Interrupts must be disabled.  Keeps nothing but
 *	RSP and the registers above; clobbers rax.
 *
 * kswitch_first: the return address a new stack starts with (see
 *	switch.h, kswitch_stack_init): pops the function stored above it and
 *	calls fn(ret), RBP 0 ending the frame chain.  fn must not return.
 */
	.text
	.globl kswitch
kswitch:
	pushq %rbp
	pushq %rbx
	pushq %r12
	pushq %r13
	pushq %r14
	pushq %r15
	subq $8, %rsp
	stmxcsr (%rsp)
	fnstcw 4(%rsp)
	movq %rsp, (%rdi)
	movq %rsi, %rsp
	ldmxcsr (%rsp)
	fldcw 4(%rsp)
	addq $8, %rsp
	popq %r15
	popq %r14
	popq %r13
	popq %r12
	popq %rbx
	popq %rbp
	movq %rdx, %rax
	ret

	.globl kswitch_first
kswitch_first:
	popq %rcx			/* fn */
	xorl %ebp, %ebp
	movq %rax, %rdi			/* ret, kswitch's result */
	call *%rcx
	ud2
