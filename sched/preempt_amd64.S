/*
 * sched/preempt_amd64.S - asyncPreempt, the call the runtime injects into
 * a goroutine stopped at an asynchronous safe point (preempt.c).
 *
 * void asyncPreempt(void)
 *	Entered by iretq in place of the interrupted instruction, with every
 *	register as it was; the interrupted RIP is in the M's TLS slot
 *	async_pc.  Pushing it first makes this look like a call from that
 *	instruction (nothing could be pushed before iretq: the interrupt
 *	frame occupied the stack right there).  Saves RFLAGS and every
 *	general register on the goroutine's own stack, aligns the stack and
 *	calls asyncPreempt2() (C), which saves the FPU/SSE state beside them,
 *	parks the goroutine on the run queue (mcall) and, once it is
 *	scheduled again -- on this M or another -- restores the FPU state and
 *	returns.  Then everything is popped and ret resumes the interrupted
 *	instruction with the registers it had.  Clobbers nothing.
 */
	.text
	.globl asyncPreempt
asyncPreempt:
	pushq %fs:async_pc@tpoff		/* the return address */
	pushq %rbp
	movq %rsp, %rbp			/* a frame: backtraces go through */
	pushfq
	cld
	pushq %rax
	pushq %rbx
	pushq %rcx
	pushq %rdx
	pushq %rsi
	pushq %rdi
	pushq %r8
	pushq %r9
	pushq %r10
	pushq %r11
	pushq %r12
	pushq %r13
	pushq %r14
	pushq %r15
	movq %rsp, %rbx
	andq $-16, %rsp
	call asyncPreempt2
	movq %rbx, %rsp
	popq %r15
	popq %r14
	popq %r13
	popq %r12
	popq %r11
	popq %r10
	popq %r9
	popq %r8
	popq %rdi
	popq %rsi
	popq %rdx
	popq %rcx
	popq %rbx
	popq %rax
	popfq
	popq %rbp
	ret
