/*
 * sched/syscall.c - goroutines in blocking kernel calls (Go's
 * entersyscall / exitsyscall).
 *
 * A kernel call that may block blocks the M's kernel thread, so the M must
 * not keep its P from the other goroutines:
 *  - entersyscall leaves the P in _Psyscall, still pointing at it (oldp):
 *    a short call gets it back at once (exitsyscall's fast path, a CAS
 *    _Psyscall -> _Pidle, then acquire); a long one loses it to sysmon's
 *    retake, which hands it off to another M;
 *  - entersyscallblock hands the P off at once (for calls known to block
 *    long, like waiting for console input);
 *  - exitsyscall without the old P tries any idle P; failing that the G
 *    goes to the global queue and the M stops (exitsyscall0).
 * The G is _Gsyscall meanwhile; it is still the M's curg.
 */
#include "sched/proc.h"
#include "sched/exectrace.h"
#include "sched/lock.h"
#include "kernel/console.h"
#include "kernel/kwait.h"
#include "kernel/time.h"
#include "include/rt0.h"

/* Wake sysmon from its deep sleep, if it sleeps.  sched.lock held. */
void wake_sysmon_locked(void)
{
	assert_lock_held(&sched.lock);
	if (__atomic_load_n(&sched.sysmonwait, __ATOMIC_ACQUIRE)) {
		__atomic_store_n(&sched.sysmonwait, 0, __ATOMIC_RELEASE);
		notewakeup(&sched.sysmonnote);
	}
}

static void entersyscall_sysmon(void *arg)
{
	(void)arg;
	lock(&sched.lock);
	wake_sysmon_locked();
	unlock(&sched.lock);
}

/* @pc, @fp: where the call is entered from (the caller of entersyscall:
 * its frame stays live while the call blocks). */
static void reentersyscall(uint64_t pc, uint64_t fp)
{
	struct g *gp = getg();
	struct m *mp = gp->m;

	gp->syscallpc = pc;
	gp->syscallsp = fp;
	traceev(TEV_GO_SYSCALL, (uint64_t)gp->goid, 0);
	casgstatus(gp, _Grunning, _Gsyscall);
	/* sysmon may be in a deep sleep: it must watch this P now. */
	if (__atomic_load_n(&sched.sysmonwait, __ATOMIC_ACQUIRE))
		systemstack(entersyscall_sysmon, NULL);
	mp->syscalltick = mp->p->syscalltick;
}

/** entersyscall - the G is about to block in the kernel.  On a user G. */
void entersyscall(void)
{
	struct g *gp = getg();
	struct m *mp = gp->m;

	assert_on_curg();
	mp->locks++;		/* no preemption while the state is mixed */
	reentersyscall((uint64_t)__builtin_return_address(0),
		       *(uint64_t *)__builtin_frame_address(0));
	struct p *pp = mp->p;
	pp->m = NULL;
	mp->oldp = pp;
	mp->p = NULL;
	__atomic_store_n(&pp->status, _Psyscall, __ATOMIC_SEQ_CST);
	/* The world stopping may have missed this P (it took the _Psyscall
	 * Ps it saw when it began): stop it here (StoreLoad: the status is
	 * published before gcwaiting is read). */
	if (unlikely(__atomic_load_n(&sched.gcwaiting, __ATOMIC_SEQ_CST)))
		systemstack(entersyscall_gcwait, NULL);
	mp->locks--;
}

static void entersyscallblock_handoff(void *arg)
{
	(void)arg;
	handoffp(releasep());
}

/** entersyscallblock - like entersyscall, handing the P off at once. */
void entersyscallblock(void)
{
	struct g *gp = getg();
	struct m *mp = gp->m;

	mp->locks++;
	reentersyscall((uint64_t)__builtin_return_address(0),
		       *(uint64_t *)__builtin_frame_address(0));
	mp->p->syscalltick++;
	systemstack(entersyscallblock_handoff, NULL);
	mp->locks--;
}

/* Any idle P for us?  Under sched.lock; wakes sysmon if it sleeps. */
static bool exitsyscallfast_pidle(void)
{
	lock(&sched.lock);
	struct p *pp = pidleget();
	if (pp)
		wake_sysmon_locked();
	unlock(&sched.lock);
	if (!pp)
		return false;
	acquirep(pp);
	return true;
}

static bool exitsyscallfast(struct m *mp, struct p *oldp)
{
	/* The old P, if nobody retook it. */
	uint32_t s = _Psyscall;
	if (oldp && __atomic_load_n(&oldp->status, __ATOMIC_ACQUIRE) == _Psyscall &&
	    __atomic_compare_exchange_n(&oldp->status, &s, _Pidle, false,
					__ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) {
		acquirep(oldp);
		if (mp->syscalltick != oldp->syscalltick)
			oldp->syscalltick++;	/* retaken and given back */
		return true;
	}
	if (__atomic_load_n(&sched.pidle, __ATOMIC_ACQUIRE))
		return exitsyscallfast_pidle();
	return false;
}

/* No P for us: queue the G and stop the M.  On g0. */
static void exitsyscall0(struct g *gp)
{
	assert_on_g0();
	traceev(TEV_GO_SYSEXIT, (uint64_t)gp->goid, 0);	/* no P: CPU's */
	casgstatus(gp, _Gsyscall, _Grunnable);
	gp->m->curg = NULL;
	gp->m = NULL;
	lock(&sched.lock);
	struct p *pp = pidleget();
	bool locked = false;
	if (!pp) {
		globrunqput(gp);
		/* Read before unlocking: once queued, another M owns gp. */
		locked = gp->lockedm != NULL;
	} else {
		wake_sysmon_locked();
	}
	unlock(&sched.lock);
	if (pp) {
		acquirep(pp);
		execute(gp, false);
	}
	if (locked) {
		/* gp is locked to this M: wait until it is scheduled here. */
		stoplockedm();
		execute(gp, false);
	}
	stopm();
	schedule();
}

/** exitsyscall - the G is back from the kernel; get a P to go on. */
void exitsyscall(void)
{
	struct g *gp = getg();
	struct m *mp = gp->m;

	mp->locks++;
	struct p *oldp = mp->oldp;
	mp->oldp = NULL;
	if (exitsyscallfast(mp, oldp)) {
		mp->p->syscalltick++;
		traceev(TEV_GO_SYSEXIT, (uint64_t)gp->goid, 0);
		casgstatus(gp, _Gsyscall, _Grunning);
		gp->syscallsp = 0;
		mp->locks--;
		return;
	}
	mp->locks--;
	mcall(exitsyscall0);
	/* Scheduled again, with a P, maybe on another M. */
	gp->syscallsp = 0;
	getg()->m->p->syscalltick++;
}

/* ---- the public blocking calls ---- */

void go_syscall_sleep(int64_t ns)
{
	entersyscall();
	ksleep_until(nanotime() + (uint64_t)(ns > 0 ? ns : 0));
	exitsyscall();
}

int go_read_console(char *buf, int n, int64_t timeout_ns)
{
	entersyscallblock();
	int got = console_read(buf, n,
			       timeout_ns < 0 ? 0 : nanotime() + (uint64_t)timeout_ns);
	exitsyscall();
	return got;
}
