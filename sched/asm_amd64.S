/*
 * sched/asm_amd64.S - switching goroutines: gogo, mcall (and
 * mcall_noresume), systemstack, the save routine, goexit, and the start
 * of every M (mstart).
 *
 * The current G lives in the M's TLS: g_tls@tpoff(%fs).  Offsets come from
 * asmoffsets.h (checked against offsetof).  Every routine runs with
 * interrupts enabled; the kernel may preempt the M's thread anywhere, which
 * is harmless: a thread switch keeps FS and all registers.
 *
 * C callee-saved registers (rbx, rbp, r12-r15) must survive mcall from the
 * caller's point of view even though the G may resume on another M: mcall
 * pushes them on the G's own stack and records mcall_resume as the G's pc,
 * so gogo resumes through a pop sequence.
 */
#include "sched/asmoffsets.h"

	.text

/*
 * void gogo(struct gobuf *buf) - resume buf->g.			[rdi = buf]
 * Sets g = buf->g, RSP = buf->sp, RBP = buf->bp, RDI = buf->ctxt (a new
 * G's argument) and jumps to buf->pc.  Does not return.
 */
	.globl gogo
gogo:
	movq GOBUF_G(%rdi), %rax
	movq %rax, %fs:g_tls@tpoff
	movq GOBUF_SP(%rdi), %rsp
	movq GOBUF_BP(%rdi), %rbp
	movq GOBUF_PC(%rdi), %rcx
	movq GOBUF_CTXT(%rdi), %rdi
	jmp *%rcx

/*
 * void mcall(void (*fn)(struct g *)) - switch to g0 and run fn(g).	[rdi = fn]
 * Saves the caller's callee-saved registers on its stack and its resume
 * point (mcall_resume) in g->sched, sets g = m->g0, moves to the top of
 * g0's stack (g0->sched.sp) and calls fn(old g).  fn must not return; it
 * ends in schedule() or gogo().  Called on a user G only (throws on g0).
 * From the caller's view mcall returns, when gogo resumes the G.
 */
	.globl mcall
mcall:
	movq %fs:g_tls@tpoff, %rax	/* rax = g */
	pushq %rbp
	pushq %rbx
	pushq %r12
	pushq %r13
	pushq %r14
	pushq %r15
	movq %rsp, G_SCHED_SP(%rax)
	leaq mcall_resume(%rip), %rcx
	movq %rcx, G_SCHED_PC(%rax)
	movq %rbp, G_SCHED_BP(%rax)
	movq %rax, G_SCHED_G(%rax)
	jmp mcall_noresume		/* the switch itself */

/* Where gogo resumes a G that mcall switched out. */
	.globl mcall_resume
mcall_resume:
	popq %r15
	popq %r14
	popq %r13
	popq %r12
	popq %rbx
	popq %rbp
	ret

/*
 * void systemstack(void (*fn)(void *), void *arg)		[rdi = fn, rsi = arg]
 * Runs fn(arg) on the M's g0 stack and returns.  On g0 already (or a G
 * without an M yet: never), a plain call.  The G stays _Grunning meanwhile
 * (it is the M's curg); gosave_systemstack_switch records where it is so
 * dumps and tracebacks can find it.  Keeps rbx, rbp, r12 (callee-saved).
 */
	.globl systemstack
systemstack:
	movq %fs:g_tls@tpoff, %rax
	movq G_M(%rax), %rcx
	movq M_G0(%rcx), %rdx		/* rdx = g0 */
	cmpq %rdx, %rax
	je 2f
	pushq %rbp
	movq %rsp, %rbp
	pushq %rbx
	pushq %r12
	movq %rax, %rbx			/* rbx = g */
	movq %rsp, %r12			/* r12 = g's rsp */
	call gosave_systemstack_switch
	movq %rdx, %fs:g_tls@tpoff
	movq G_SCHED_SP(%rdx), %rsp
	movq %rdi, %rax
	movq %rsi, %rdi
	call *%rax
	movq %rbx, %fs:g_tls@tpoff
	movq %r12, %rsp
	popq %r12
	popq %rbx
	popq %rbp
	ret
2:	movq %rdi, %rax
	movq %rsi, %rdi
	jmp *%rax

/*
 * gosave_systemstack_switch - the save routine: record the G's current
 * position (sp, bp, pc of the systemstack call site) in g->sched.
 * [rax = g, rbp = systemstack's frame]  Clobbers rcx only.  Returns.
 * The record is for reading (dumps, backtraces), not for gogo.
 */
gosave_systemstack_switch:
	leaq 16(%rbp), %rcx		/* the caller's sp before systemstack */
	movq %rcx, G_SCHED_SP(%rax)
	movq 8(%rbp), %rcx		/* systemstack's return address */
	movq %rcx, G_SCHED_PC(%rax)
	movq (%rbp), %rcx
	movq %rcx, G_SCHED_BP(%rax)
	movq %rax, G_SCHED_G(%rax)
	ret

/*
 * void mcall_noresume(void (*fn)(struct g *)) - mcall for a G that will
 * never run again from here (goexit1: the G is dying).	[rdi = fn]
 * Like mcall but saves nothing: no callee-saved registers, no resume
 * point (g->sched keeps whatever it held).  Does not return.  mcall ends
 * here once it has saved the G.
 */
	.globl mcall_noresume
mcall_noresume:
	movq %fs:g_tls@tpoff, %rax	/* rax = g */
	movq G_M(%rax), %rcx
	movq M_G0(%rcx), %rcx		/* rcx = g0 */
	cmpq %rcx, %rax
	je 1f
	movq %rcx, %fs:g_tls@tpoff
	movq G_SCHED_SP(%rcx), %rsp
	xorl %ebp, %ebp
	movq %rdi, %r11
	movq %rax, %rdi
	call *%r11
	call mcall_returned		/* throws */
1:	call mcall_on_g0		/* throws */

/*
 * goexit - the return address of every G's function (newproc puts
 * goexit+1 there, so the address is inside goexit).  Returning from the
 * function runs goexit1(), which mcalls goexit0.  Does not return.
 */
	.globl goexit
goexit:
	nop
	call goexit1
	ud2

/*
 * void mstart(void) - the first code of an M on its g0 stack, called by
 * mstart_thread (rt0.c) once TLS is set (g = m->g0).  Records g0's resume
 * point -- right here, after the call to mstart1 -- in g0->sched: mcall
 * runs its functions from that sp, and gogo(&m->g0->sched) from goexit0
 * (a G exited while locked to this M) returns here, where mexit_g0 ends
 * the M.  Does not return.
 */
	.globl mstart
mstart:
	pushq %rbp
	movq %rsp, %rbp
	movq %fs:g_tls@tpoff, %rax	/* g0 */
	leaq 1f(%rip), %rcx
	movq %rcx, G_SCHED_PC(%rax)
	movq %rsp, G_SCHED_SP(%rax)
	movq %rbp, G_SCHED_BP(%rax)
	movq %rax, G_SCHED_G(%rax)
	call mstart1			/* schedule(): never returns */
1:	call mexit_g0			/* after gogo(&g0->sched) */
	ud2
