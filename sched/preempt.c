/*
 * sched/preempt.c - stopping a goroutine that never calls the runtime
 * (Go's asynchronous preemption, with a kernel "signal" for SIGURG).
 *
 * sysmon marks the G (gp->preempt) and signals its M's kernel thread
 * (kthread_signal: an IPI if it runs now).  When that thread next returns
 * from an interrupt, the kernel calls sigpreempt() with the interrupted
 * frame.  If the G is at an asynchronous safe point, the frame is edited
 * so that the G "calls" asyncPreempt (preempt_amd64.S) at the interrupted
 * instruction: its registers and FPU state go on its own stack, it is
 * put on the global run queue like a Gosched, and when it runs again it
 * resumes exactly where it was.  If it is not at a safe point, the signal
 * stays pending and is retried at the thread's next interrupt (at least
 * every tick) until the G stops running or gets to one.
 *
 * An asynchronous safe point is an interrupted instruction where:
 *  - the thread is an M, the G is its curg, _Grunning, preempt requested,
 *    and the M's TLS says it is running that G (not g0: no runtime work
 *    in progress on the system stack);
 *  - the instruction is in program code (apps/, tests/), never in the
 *    runtime, the kernel or the machine layer: those may hold state that
 *    a switch of G would break, and they do not run long;
 *  - the M holds no runtime lock (m->locks == 0), is not allocating, has
 *    no preemptoff reason, is not dying, holds a running P;
 *  - interrupts were enabled and kernel preemption was not disabled
 *    (no spinlock, no preempt_disable region);
 *  - the G's stack has room for the register and FPU save area.
 */
#include "sched/proc.h"
#include "sched/exectrace.h"
#include "sched/lock.h"
#include "kernel/cmdline.h"
#include "kernel/kthread.h"
#include "arch/x86_64/cpufeat.h"
#include "arch/x86_64/trap.h"
#include "arch/x86_64/x86.h"

#define ASYNC_STACK_NEED 4096	/* 17 registers, FPU area, mcall frames */

extern char _usertext_start[], _usertext_end[];
void asyncPreempt(void);

static bool asyncpreemptoff;
KPARAM_BOOL(asyncpreemptoff, asyncpreemptoff,
	    "1: never stop goroutines asynchronously (GODEBUG asyncpreemptoff)");

uint64_t npreempt;		/* asynchronous preemptions done; atomic */

/* The interrupted RIP, from sigpreempt to asyncPreempt; this M only. */
_Thread_local uint64_t async_pc;

static bool isAsyncSafePoint(struct kthread *t, struct m *mp, struct g *gp,
			     const struct trapframe *tf)
{
	if (readgstatus(gp) != _Grunning || getg() != gp)
		return false;
	if (mp->locks || mp->mallocing || mp->preemptoff || mp->dying ||
	    !mp->p || mp->p->status != _Prunning)
		return false;
	if (!(tf->rflags & RFLAGS_IF) || t->preempt_count)
		return false;
	if (tf->rip < (uint64_t)_usertext_start ||
	    tf->rip >= (uint64_t)_usertext_end)
		return false;
	return tf->rsp >= gp->stack.lo + ASYNC_STACK_NEED &&
	       tf->rsp <= gp->stack.hi;
}

/* The kernel's signal handler for Ms (kthread_set_signal_handler): on
 * the way out of an interrupt, interrupts off. */
static void sigpreempt(struct trapframe *tf)
{
	struct kthread *t = kthread_current();
	struct m *mp = t->user;
	struct g *gp = mp ? mp->curg : NULL;

	assert_irqs_off();
	if (!gp || !__atomic_load_n(&gp->preempt, __ATOMIC_ACQUIRE))
		return;			/* nothing (any more) to do */
	if (!isAsyncSafePoint(t, mp, gp, tf)) {
		/* Not here: try again at the next interrupt. */
		__atomic_store_n(&t->need_signal, 1, __ATOMIC_RELEASE);
		return;
	}
	/*
	 * The interrupt frame itself lies just below the G's RSP (same
	 * stack, ring 0), so the return address cannot be pushed here: it
	 * travels in a TLS slot of this M, and asyncPreempt pushes it once
	 * iretq has consumed the frame.
	 */
	async_pc = tf->rip;
	tf->rip = (uint64_t)asyncPreempt;
}

static void gopreempt_m(struct g *gp)
{
	__atomic_fetch_add(&npreempt, 1, __ATOMIC_RELAXED);
	traceev(TEV_GO_PREEMPT, (uint64_t)gp->goid, 0);
	casgstatus(gp, _Grunning, _Grunnable);
	gp->m->curg = NULL;
	gp->m = NULL;
	lock(&sched.lock);
	globrunqput(gp);
	unlock(&sched.lock);
	wakep();
	schedule();
}

/* Called by asyncPreempt on the G's stack, general registers saved. */
void asyncPreempt2(void)
{
	uint32_t size = cpufeat.fpu_size;
	uint8_t *fpu = __builtin_alloca_with_align(size, 512);

	/* xrstor wants the xsave header's reserved bytes zero. */
	memset(fpu, 0, size);
	fpu_save(fpu);
	getg()->asyncsafe = true;
	mcall(gopreempt_m);
	getg()->asyncsafe = false;
	fpu_restore(fpu);
}

/**
 * preemptone - ask the G running on @pp to stop.  Returns true if a
 * request was made.  sysmon (any M), sched.lock not held.
 *
 * pp->m may be an M on its way out (mexit): its struct m and kernel
 * thread are freed once the thread has exited.  Holding sched.lock keeps
 * both alive: an exiting M clears pp->m (releasep) and then needs
 * sched.lock before it can call kthread_exit, and freem_reap needs it
 * before it can free anything.  So an M read from pp->m under the lock
 * cannot be freed until we unlock.  (Gs are never freed, only reused:
 * gp->preempt on a G that has just moved on costs it at most one early
 * preemption.)
 */
bool preemptone(struct p *pp)
{
	lock(&sched.lock);
	bool done = preemptone_locked(pp);
	unlock(&sched.lock);
	return done;
}

/* preemptone with sched.lock held (stopTheWorld's preemptall). */
bool preemptone_locked(struct p *pp)
{
	struct m *mp = __atomic_load_n(&pp->m, __ATOMIC_ACQUIRE);
	struct g *gp = mp && mp != getg()->m ? mp->curg : NULL;

	assert_lock_held(&sched.lock);
	if (!gp || gp == mp->g0)
		return false;
	__atomic_store_n(&gp->preempt, 1, __ATOMIC_RELEASE);
	traceev(TEV_PREEMPT_REQ, (uint64_t)gp->goid, (uint64_t)pp->id);
	if (!asyncpreemptoff)
		kthread_signal(mp->thread);	/* Go's preemptM */
	return true;
}

void preempt_init(void)
{
	kthread_set_signal_handler(sigpreempt);
}
