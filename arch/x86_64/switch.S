/*
 * arch/x86_64/switch.S - the kernel-thread context switch.
 *
 * struct kthread *kswitch(struct kthread *prev, struct kthread *next);
 *	rdi = prev (the running thread), rsi = next.
 *	Pushes what the C ABI makes callee-saved: rbp, rbx, r12-r15, and the
 *	control words MXCSR and x87 FCW; stores RSP in prev->rsp; loads
 *	next->rsp; pops next's saved registers and returns on next's stack,
 *	with RAX = prev as seen by next (the thread it was switched from).
 *	Vector registers are caller-saved, so a voluntary switch leaves them
 *	(a preempted thread's full FPU state is saved by kernel/kthread.c).
 *	Interrupts must be disabled.
 *
 * kthread_entry: where a new thread's first kswitch returns (see
 *	kthread_stack_init in kernel/kthread.c): calls kthread_start(prev)
 *	with RAX from kswitch as the argument.  kthread_start never returns.
 *
 * KT_OFF_RSP comes from kernel/kthread.h (checked there with offsetof).
 */
#include "kthread.h"

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
	movq %rsp, KT_OFF_RSP(%rdi)
	movq KT_OFF_RSP(%rsi), %rsp
	ldmxcsr (%rsp)
	fldcw 4(%rsp)
	addq $8, %rsp
	popq %r15
	popq %r14
	popq %r13
	popq %r12
	popq %rbx
	popq %rbp
	movq %rdi, %rax
	ret

	.globl kthread_entry
kthread_entry:
	xorl %ebp, %ebp
	movq %rax, %rdi
	call kthread_start
	ud2
