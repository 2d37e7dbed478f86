/*
 * sched/asm_amd64.S - switching goroutines: gogo, mcall (and
 * mcall_noresume), the scheduling points gosched_mcall and gopark_mcall,
 * systemstack, the save routine, goexit, and the start of every M
 * (mstart).
 *
 * The current G lives in the M's TLS: g_tls@tpoff(%fs).  Offsets come from
 * asmoffsets.h (checked against offsetof).  Every routine runs with
 * interrupts enabled; the kernel may preempt the M's thread anywhere, which
 * is harmless: a thread switch keeps FS and all registers.
 *
 * C callee-saved registers (rbx, rbp, r12-r15) must survive mcall from the
 * caller's point of view even though the G may resume on another M: mcall
 * pushes them on the G's own stack and records mcall_resume as the G's pc,
 * so gogo resumes through a pop sequence.  The scheduling points need not:
 * their callers follow Go's convention, where a call clobbers them.
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
 * SAVE_SCHED g, tmp, pc - the save routine: record in g->sched the
 * label pc and the current sp and bp.  Clobbers tmp.  systemstack uses
 * it as Go's gosave_systemstack_switch, to record where the G is while
 * it runs something on g0, for reading (dumps, backtraces), not for
 * gogo; mstart records g0's resume point with it.
 */
.macro SAVE_SCHED g, tmp, pc
	leaq \pc(%rip), \tmp
	movq \tmp, G_SCHED_PC(\g)
	movq %rsp, G_SCHED_SP(\g)
	movq %rbp, G_SCHED_BP(\g)
.endm

/*
 * TO_G0 g0 - the switch to g0: g = g0, rsp = the top of g0's stack,
 * rbp = 0 (g0's frame chain ends here).
 */
.macro TO_G0 g0
	movq \g0, %fs:g_tls@tpoff
	movq G_SCHED_SP(\g0), %rsp
	xorl %ebp, %ebp
.endm

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
 * Scheduling points in Go's register convention.  gosched_mcall and
 * gopark_mcall are called only from the inline asm of go_sched and
 * go_park (include/rt0.h), which declares every register but rsp and rbp
 * clobbered, as every call is in Go's ABI.  So a G saved here needs only
 * sp, pc (the return address, popped) and bp in g->sched, and gogo
 * resumes it as if the call had returned.  Each is mcall(fn) for that
 * convention, fn being Go's gosched_m or park_m: save the G, set g = g0,
 * call fn on the top of g0's stack.  fn never returns: it ends in gogo or
 * schedule.  Each fn is called through its pointer (gosched_m_entry and
 * the others, proc.c), which the execution tracer may point at a traced
 * form; an indirect call costs what a direct one does.
 *
 * MCALL_SWITCH fn, gp, mp: [in: gp = g, mp = g->m, and fn's other
 * arguments, each in its argument register]  Throws (mcall_not_curg) if
 * the caller is not the M's curg: on g0, nothing may park or yield.
 * Clobbers rax, r11.
 */
.macro MCALL_SWITCH fn, gp, mp
	cmpq M_CURG(\mp), \gp
	jne mcall_not_curg
	popq %r11
	SWITCH_AT \fn, \gp, \mp, %r11
.endm

/*
 * SWITCH_AT fn, gp, mp, pc - the rest of the switch: gp resumes at pc
 * with the current sp and bp; g = g0; call fn on g0's stack.  Clobbers
 * rax.
 */
.macro SWITCH_AT fn, gp, mp, pc
	movq \pc, G_SCHED_PC(\gp)
	movq %rsp, G_SCHED_SP(\gp)
	movq %rbp, G_SCHED_BP(\gp)
	movq M_G0(\mp), %rax		/* rax = g0 */
	TO_G0 %rax
	call \fn
	ud2
.endm

/* void gosched_mcall(void)			[Go's convention: see above]
 * Calls gosched_m(pp, -, -, -, gp, mp): pp = mp->p in rdi, gp in r8, mp
 * in r9 (see gosched_m for why there). */
	.globl gosched_mcall
gosched_mcall:
	movq %fs:g_tls@tpoff, %r8
	movq G_M(%r8), %r9
	movq M_P(%r9), %rdi
	MCALL_SWITCH *gosched_m_entry(%rip), %r8, %r9

/* void gopark_mcall(unlockf, lock, reason)	[rcx, rsi, rdx; Go's convention]
 * Calls park_m(gp, lock, reason, unlockf, mp): gp and lock are where
 * unlockf(gp, lock) takes them. */
	.globl gopark_mcall
gopark_mcall:
	movq %fs:g_tls@tpoff, %rdi
	movq G_M(%rdi), %r8
	MCALL_SWITCH *park_m_entry(%rip), %rdi, %r8

/* void goparkunlock_mcall(lock, reason)	[rsi, rdx; Go's convention]
 * Calls parkunlock_m(gp, lock, reason, -, mp): park_m's layout, with the
 * leaf lock to release in place of unlockf's argument. */
	.globl goparkunlock_mcall
goparkunlock_mcall:
	movq %fs:g_tls@tpoff, %rdi
	movq G_M(%rdi), %r8
	MCALL_SWITCH *parkunlock_m_entry(%rip), %rdi, %r8

/*
 * Channel send and receive (include/rt0/chan.h), in Go's convention:
 *
 * void chansend_mcall(c, ep)			[rdi, rsi]
 * bool chanrecv_mcall(c, ep)			[rdi, rsi; result in rax]
 * Each keeps a sudog in its frame (SUDOG_FRAME bytes on the G's stack)
 * and calls chansend_c / chanrecv_c(c, ep, sudog).  A result below
 * CHAN_PARK is the outcome: return it.  CHAN_CLOSED (send only): panic.
 * CHAN_PARK: the sudog is queued on
 * c with c's lock held, so park as goparkunlock_mcall does -- the G
 * resumes at the label below, sp at the sudog -- and parkunlock_m
 * releases the lock on g0.  The waker completes the operation and sets
 * sudog.success (0: woken by a close).  The C calls run on the G's stack
 * with rsp 16-byte aligned if the caller's was (runtime text is built
 * without vector instructions, so nothing depends on it).
 *
 * PARK_CHAN reason - the park: lock = &sudog.c->lock, the reason string;
 * resumes at 1f.  Clobbers rax, rdx, rsi, rdi, r8, r11.
 */
.macro PARK_CHAN reason
	movq SUDOG_C(%rsp), %rsi	/* rsi = c = &c->lock (HCHAN_LOCK 0) */
	leaq \reason(%rip), %rdx	/* rdx = reason */
	movq %fs:g_tls@tpoff, %rdi	/* rdi = g */
	movq G_M(%rdi), %r8		/* r8 = m */
	cmpq M_CURG(%r8), %rdi
	jne mcall_not_curg
	leaq 1f(%rip), %r11
	SWITCH_AT *parkunlock_m_entry(%rip), %rdi, %r8, %r11
.endm

	.globl chansend_mcall, chanrecv_mcall
chansend_mcall:
	subq $SUDOG_FRAME, %rsp
	movq %rsp, %rdx
	call chansend_c
	cmpl $CHAN_PARK, %eax
	jae 2f				/* park or closed */
	addq $SUDOG_FRAME, %rsp
	ret
2:	jne 3f				/* CHAN_CLOSED */
	PARK_CHAN chan_send_reason
1:	cmpb $0, SUDOG_SUCCESS(%rsp)
	je 3f				/* woken by close */
	addq $SUDOG_FRAME, %rsp
	ret
/* Send on a closed channel: drop the sudog and make a frame, so that the
 * panic's backtrace names the caller, then chansend_closed panics. */
3:	addq $SUDOG_FRAME, %rsp
	pushq %rbp
	movq %rsp, %rbp
	call chansend_closed
	ud2

chanrecv_mcall:
	subq $SUDOG_FRAME, %rsp
	movq %rsp, %rdx
	call chanrecv_c
	cmpl $CHAN_PARK, %eax
	jae 2f
	addq $SUDOG_FRAME, %rsp
	ret
2:	PARK_CHAN chan_recv_reason
1:	movzbl SUDOG_SUCCESS(%rsp), %eax
	addq $SUDOG_FRAME, %rsp
	ret

/*
 * void systemstack(void (*fn)(void *), void *arg)	[rdi = fn, rsi = arg]
 * void systemstack3(u64 a, u64 b, u64 c, void (*fn)(u64, u64, u64))
 *					[rdi, rsi, rdx = arguments, rcx = fn]
 * Runs fn(arguments) on the M's g0 stack and returns.  On g0 already, a
 * plain call.  systemstack3 takes fn last so that its arguments are in
 * place already; systemstack moves its two into that order.  The G stays
 * _Grunning meanwhile (it is the M's curg); the save routine
 * (SAVE_SCHED) records where it is so dumps and tracebacks can
 * find it.  Keeps rbx, rbp (callee-saved).
 */
	.globl systemstack, systemstack3
systemstack:
	movq %rdi, %rcx
	movq %rsi, %rdi
systemstack3:
	movq %fs:g_tls@tpoff, %rax
	movq G_M(%rax), %r8
	movq M_G0(%r8), %r8		/* r8 = g0 */
	cmpq %r8, %rax
	je 2f
	pushq %rbp
	movq %rsp, %rbp
	pushq %rbx
	movq %rax, %rbx			/* rbx = g */
	SAVE_SCHED %rax, %r9, 1f
	movq %r8, %fs:g_tls@tpoff
	movq G_SCHED_SP(%r8), %rsp
	call *%rcx
1:	movq %rbx, %fs:g_tls@tpoff
	leaq -8(%rbp), %rsp		/* back on g's stack */
	popq %rbx
	popq %rbp
	ret
2:	jmp *%rcx

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
	TO_G0 %rcx
	movq %rdi, %r11
	movq %rax, %rdi
	call *%r11
	call mcall_returned		/* throws */
1:	call mcall_on_g0		/* throws */

/*
 * goexit - the return address of every G's function (newproc puts
 * goexit+1 there, so the address is inside goexit).  Returning from the
 * function does what goexit1() does, without its frame: switch to g0 and
 * call goexit0(g), as mcall_noresume(goexit0) would, less its g0 check:
 * only a G's own function returns here.  Does not return.
 */
	.globl goexit
goexit:
	nop
	movq %fs:g_tls@tpoff, %rdi	/* rdi = g, goexit0's argument */
	movq G_M(%rdi), %rax
	movq M_G0(%rax), %rax		/* rax = g0 */
	TO_G0 %rax
	call *goexit0_entry(%rip)
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
	SAVE_SCHED %rax, %rcx, 1f
	movq %rax, G_SCHED_G(%rax)
	call mstart1			/* schedule(): never returns */
1:	call mexit_g0			/* after gogo(&g0->sched) */
	ud2
