/*
 * arch/x86_64/jmp.S - setjmp/longjmp.
 *
 * int arch_setjmp(struct jmpbuf *jb);		rdi = jb
 *	Saves rbx, rbp, r12-r15, the caller's rsp and return rip; returns 0.
 * void arch_longjmp(struct jmpbuf *jb, int v);	rdi = jb, esi = v
 *	Reloads them and returns from arch_setjmp again with v.  No return.
 * The fault handler resumes a jmpbuf without arch_longjmp, by writing the
 * same registers into the trap frame (kernel/fault.c).
 * Offsets: JB_* in jmp.h, checked there with _Static_assert.
 */
#include "jmp.h"

	.text
	.globl arch_setjmp
arch_setjmp:
	movq %rbx, JB_RBX(%rdi)
	movq %rbp, JB_RBP(%rdi)
	movq %r12, JB_R12(%rdi)
	movq %r13, JB_R13(%rdi)
	movq %r14, JB_R14(%rdi)
	movq %r15, JB_R15(%rdi)
	leaq 8(%rsp), %rax		/* rsp after our return */
	movq %rax, JB_RSP(%rdi)
	movq (%rsp), %rax
	movq %rax, JB_RIP(%rdi)
	xorl %eax, %eax
	ret

	.globl arch_longjmp
arch_longjmp:
	movq JB_RBX(%rdi), %rbx
	movq JB_RBP(%rdi), %rbp
	movq JB_R12(%rdi), %r12
	movq JB_R13(%rdi), %r13
	movq JB_R14(%rdi), %r14
	movq JB_R15(%rdi), %r15
	movq JB_RSP(%rdi), %rsp
	movl %esi, %eax
	jmp *JB_RIP(%rdi)
