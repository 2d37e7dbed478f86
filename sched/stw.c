/*
 * sched/stw.c - stopping the world, and GOMAXPROCS at run time (Go's
 * stopTheWorldWithSema, startTheWorldWithSema, gcstopm).
 *
 * Stopping the world brings every P to _Pgcstop, so that no goroutine
 * runs but the caller, which keeps its own P (stopped too) and must not
 * block until it starts the world again.  Go stops the world for its
 * collector; rt0 has none, and stops it to change the number of Ps and
 * to take every goroutine's stack at once.  Go's names are kept
 * (gcwaiting, _Pgcstop, gcstopm).
 *
 * How each kind of P stops.  The stopping M, under sched.lock, counts
 * every P in sched.stopwait and sets sched.gcwaiting, then:
 *  - its own P: _Pgcstop at once;
 *  - a P in a system call (_Psyscall): taken with a CAS, as sysmon's
 *    retake does; the M that comes back from the call finds it gone and
 *    queues its G (exitsyscall0).  An M that enters a call after the stop
 *    began stops its P itself (entersyscall_gcwait);
 *  - an idle P (on sched.pidle): taken off the list;
 *  - a running P: its G is asked to stop (preemptall: the preemption flag
 *    and the kernel signal, asynchronous preemption at the next safe
 *    point), and every scheduling point stops the P before taking
 *    another G: schedule() and findrunnable check gcwaiting and call
 *    gcstopm; the fast paths (Gosched, park, exit, channels) do not test
 *    gcwaiting, but while it is set every P's timer0tsc reads "due"
 *    (timers_stw), which sends them to schedule().  A P handed off
 *    meanwhile (handoffp) stops instead of going idle.
 * Each stop decrements stopwait under sched.lock; the one that reaches 0
 * wakes the stopping M, which sleeps on sched.stopnote and asks the
 * running Gs again every 100 us.
 *
 * Starting the world: procresize (with a new count of Ps, or the same)
 * makes every P idle or, if it has Gs queued, hands it to an idle M (or
 * a new one); gcwaiting is cleared and the timers' real deadlines come
 * back; then wakep and the timer waiter, as after any change of work.
 *
 * Only one stop at a time: worldsema, a semaphore, serializes them.
 */
#include "sched/proc.h"
#include "sched/lock.h"
#include "sched/sema.h"
#include "sched/timers.h"
#include "kernel/time.h"

static uint32_t worldsema = 1;	/* one stopper at a time */
static int64_t stopped_at;	/* when the world last stopped; worldsema */
static int32_t startprocs;	/* the Ps to start with; worldsema */

#define STW_PREEMPT_NS (100 * (int64_t)NSEC_PER_USEC)
#define STW_WARN_NS (1000 * (int64_t)NSEC_PER_MSEC)

/* Ask every running G but ours to stop.  sched.lock held. */
static void preemptall_locked(void)
{
	struct p *mine = getg()->m->p;

	assert_lock_held(&sched.lock);
	for (int32_t i = 0; i < gomaxprocs; i++) {
		struct p *pp = allp[i];
		if (pp != mine && __atomic_load_n(&pp->status, __ATOMIC_ACQUIRE) ==
				  _Prunning)
			preemptone_locked(pp);
	}
}

/* One P stopped: the last one wakes the stopping M.  sched.lock held. */
static void stopwait_done_locked(void)
{
	assert_lock_held(&sched.lock);
	if (--sched.stopwait == 0)
		notewakeup(&sched.stopnote);
	else if (sched.stopwait < 0)
		throw("stopTheWorld: negative stopwait");
}

/**
 * gcstopm - this M's P stops for a stop-the-world, and the M parks until
 * the world starts again (then it holds a P).  On g0, with a P, at a
 * scheduling point, sched.gcwaiting set.
 */
void gcstopm(void)
{
	struct m *mp = getg()->m;

	assert_on_g0();
	assert_has_p();
	if (!__atomic_load_n(&sched.gcwaiting, __ATOMIC_ACQUIRE))
		throw("gcstopm: the world is not stopping");
	if (mp->spinning) {
		mp->spinning = false;
		if (__atomic_sub_fetch(&sched.nmspinning, 1, __ATOMIC_SEQ_CST) < 0)
			throw("gcstopm: negative nmspinning");
	}
	struct p *pp = releasep();
	lock(&sched.lock);
	pp->status = _Pgcstop;
	stopwait_done_locked();
	unlock(&sched.lock);
	stopm();
}

/**
 * handoffp_gcstop - handoffp's case while the world stops: @pp, which
 * lost its M, stops instead of going idle.  sched.lock held.  Returns
 * false (and does nothing) if the world is not stopping.
 */
bool handoffp_gcstop_locked(struct p *pp)
{
	assert_lock_held(&sched.lock);
	if (!__atomic_load_n(&sched.gcwaiting, __ATOMIC_ACQUIRE))
		return false;
	pp->status = _Pgcstop;
	stopwait_done_locked();
	return true;
}

/*
 * entersyscall_gcwait - the M just left its P in _Psyscall while the
 * world stops: the stopper may have counted on it stopping already (it
 * took the _Psyscall Ps it saw when it began), so stop it here.  On g0.
 */
void entersyscall_gcwait(void *unused)
{
	struct p *pp = getg()->m->oldp;
	uint32_t s = _Psyscall;

	assert_on_g0();
	lock(&sched.lock);
	if (sched.stopwait > 0 &&
	    __atomic_compare_exchange_n(&pp->status, &s, _Pgcstop, false,
					__ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) {
		pp->syscalltick++;
		stopwait_done_locked();
	}
	unlock(&sched.lock);
}

/* The stop itself, on g0 (Go's stopTheWorldWithSema). */
static void stopTheWorldWithSema(void *unused)
{
	struct m *mp = getg()->m;
	struct p *mine = mp->p;
	int64_t t0 = (int64_t)nanotime();

	assert_on_g0();
	lock(&sched.lock);
	sched.stopwait = gomaxprocs;
	__atomic_store_n(&sched.gcwaiting, 1, __ATOMIC_SEQ_CST);
	timers_stw();
	preemptall_locked();
	mine->status = _Pgcstop;
	sched.stopwait--;
	for (int32_t i = 0; i < gomaxprocs; i++) {
		struct p *pp = allp[i];
		uint32_t s = _Psyscall;
		if (__atomic_compare_exchange_n(&pp->status, &s, _Pgcstop, false,
						__ATOMIC_ACQ_REL,
						__ATOMIC_ACQUIRE)) {
			pp->syscalltick++;
			sched.stopwait--;
		}
	}
	for (struct p *pp; (pp = pidleget()) != NULL;) {
		pp->status = _Pgcstop;
		sched.stopwait--;
	}
	bool wait = sched.stopwait > 0;
	unlock(&sched.lock);

	/* The running Ps stop at their next scheduling point; ask their
	 * Gs again every 100 us in case one missed the first request. */
	bool warned = false;
	while (wait) {
		if (notetsleep(&sched.stopnote, STW_PREEMPT_NS)) {
			noteclear(&sched.stopnote);
			break;
		}
		lock(&sched.lock);
		preemptall_locked();
		unlock(&sched.lock);
		if (!warned && (int64_t)nanotime() - t0 > STW_WARN_NS) {
			/* A G that never reaches a safe point (a loop with
			 * asyncpreemptoff=1) would stop the world for good. */
			kprintf("runtime: stopping the world for %ld ms: %d Ps "
				"still running\n",
				((int64_t)nanotime() - t0) / 1000000,
				sched.stopwait);
			warned = true;
		}
	}

	lock(&sched.lock);
	if (sched.stopwait != 0)
		throwf("stopTheWorld: stopwait %d", sched.stopwait);
	for (int32_t i = 0; i < gomaxprocs; i++)
		if (allp[i]->status != _Pgcstop)
			throwf("stopTheWorld: P%d not stopped (status %u)", i,
			       allp[i]->status);
	stopped_at = (int64_t)nanotime();
	sched.stwcount++;
	sched.stwlast_ns = stopped_at - t0;
	unlock(&sched.lock);
}

/* Start it again (Go's startTheWorldWithSema), on g0. */
static void startTheWorldWithSema(void *unused)
{
	assert_on_g0();
	lock(&sched.lock);
	struct p *runnable = procresize(startprocs);
	__atomic_store_n(&sched.gcwaiting, 0, __ATOMIC_SEQ_CST);
	timers_stw();
	sched.stwtotal_ns += (int64_t)nanotime() - stopped_at;
	wake_sysmon_locked();
	unlock(&sched.lock);

	/* Ps with Gs queued get an M: the idle one procresize chose, or a
	 * new one. */
	while (runnable) {
		struct p *pp = runnable;
		struct m *mp = pp->m;
		runnable = pp->link;
		if (mp) {
			pp->m = NULL;
			if (mp->nextp)
				throw("startTheWorld: M has a P");
			mp->nextp = pp;
			notewakeup(&mp->park);
		} else {
			newm(NULL, pp, -1);
		}
	}
	/* More Gs than the Ps that got an M (the global queue), and the
	 * timers of idle Ps: as after any new work. */
	wakep();
	int64_t next = timers_checkNoP(0);
	if (next)
		timers_wake_waiter(next);
}

/**
 * stopTheWorld - stop every P but the caller's (see above) and return
 * with the world stopped.  The caller must not block, park or yield
 * until startTheWorld.  @reason is shown in scheddetail's M line.  On a
 * goroutine; waits for another stopper to finish first.
 */
void stopTheWorld(const char *reason)
{
	must_be_goroutine("stopTheWorld");
	semacquire1(&worldsema, false, "stop the world");
	struct m *mp = acquirem();
	mp->preemptoff = reason;
	systemstack(stopTheWorldWithSema, NULL);
}

/**
 * startTheWorld - start the world stopped by this goroutine's
 * stopTheWorld, with @procs Ps (0: as many as before).
 */
void startTheWorld(int32_t procs)
{
	struct m *mp = getg()->m;

	startprocs = procs ? procs : gomaxprocs;
	systemstack(startTheWorldWithSema, NULL);
	mp->preemptoff = NULL;
	releasem(mp);
	semrelease1(&worldsema, false);
}

int go_set_gomaxprocs(int n)
{
	must_be_goroutine("go_set_gomaxprocs");
	int old = __atomic_load_n(&gomaxprocs, __ATOMIC_ACQUIRE);

	if (n <= 0 || n == old)
		return old;
	if (n > MAX_PROCS)
		n = MAX_PROCS;
	stopTheWorld("GOMAXPROCS");
	startTheWorld(n);
	return old;
}
