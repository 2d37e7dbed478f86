/*
 * sched/timers.c - per-P timer heaps, the timer-waiting M, sleeping.
 *
 * Heap order is a 4-ary min-heap on when (Go's choice: shallower than a
 * binary heap, cheap sift-down).  pp->timer0when mirrors heap[0]->when so
 * others can peek without the lock; it is 0 when the heap is empty.
 */
#include "sched/timers.h"
#include "sched/exectrace.h"
#include "sched/lock.h"
#include "sched/proc.h"
#include "kernel/kwait.h"
#include "kernel/mem.h"
#include "kernel/time.h"

/*
 * set_timer0 - mirror the earliest deadline into timer0when and, as a TSC
 * value, timer0tsc.  timer0tsc is also the fast paths' one test for "go
 * to schedule()": while the world is stopping (sched.gcwaiting) it reads
 * 1, a timer due since boot, so no P takes another G without passing
 * schedule()'s stop check.  timerslock held (timers_stw for every P).
 */
static void set_timer0(struct p *pp)
{
	int64_t when = pp->ntimers ? pp->timers[0]->when : 0;
	uint64_t tsc = !when ? 0 : when < 0 ? 1 : ns_to_tsc((uint64_t)when) | 1;

	assert_lock_held(&pp->timerslock);
	/* A timer at or before 0 (due at once) still reads as pending. */
	if (__atomic_load_n(&sched.gcwaiting, __ATOMIC_SEQ_CST))
		tsc = 1;
	__atomic_store_n(&pp->timer0tsc, tsc, __ATOMIC_RELAXED);
	__atomic_store_n(&pp->timer0when, when, __ATOMIC_RELEASE);
}

void timers_stw(void)
{
	for (int32_t i = 0; i < gomaxprocs; i++) {
		struct p *pp = allp[i];
		lock(&pp->timerslock);
		set_timer0(pp);
		unlock(&pp->timerslock);
	}
}

static void place(struct p *pp, uint32_t i, struct rtimer *t)
{
	pp->timers[i] = t;
	t->idx = i;
}

static void siftup(struct p *pp, uint32_t i)
{
	struct rtimer *t = pp->timers[i];

	while (i > 0) {
		uint32_t parent = (i - 1) / 4;
		if (pp->timers[parent]->when <= t->when)
			break;
		place(pp, i, pp->timers[parent]);
		i = parent;
	}
	place(pp, i, t);
}

static void siftdown(struct p *pp, uint32_t i)
{
	struct rtimer *t = pp->timers[i];
	uint32_t n = pp->ntimers;

	for (;;) {
		uint32_t c = 4 * i + 1;
		if (c >= n)
			break;
		uint32_t best = c;
		for (uint32_t k = c + 1; k < c + 4 && k < n; k++)
			if (pp->timers[k]->when < pp->timers[best]->when)
				best = k;
		if (pp->timers[best]->when >= t->when)
			break;
		place(pp, i, pp->timers[best]);
		i = best;
	}
	place(pp, i, t);
}

/* Remove heap[i].  timerslock held. */
static void heap_remove(struct p *pp, uint32_t i)
{
	assert_lock_held(&pp->timerslock);
	struct rtimer *t = pp->timers[i];
	uint32_t last = --pp->ntimers;

	if (i != last) {
		place(pp, i, pp->timers[last]);
		if (i > 0 && pp->timers[(i - 1) / 4]->when > pp->timers[i]->when)
			siftup(pp, i);
		else
			siftdown(pp, i);
	}
	pp->timers[last] = NULL;
	__atomic_store_n(&t->pp, NULL, __ATOMIC_RELEASE);
}

/* Queue @t (when, f, arg set) on @pp's heap; true if it is the
 * earliest there. */
static bool timer_add_to(struct p *pp, struct rtimer *t)
{
	lock(&pp->timerslock);
	if (pp->ntimers == pp->timerscap) {
		uint32_t cap = pp->timerscap ? pp->timerscap * 2 : 64;
		uint64_t pages = ALIGN_UP(cap * sizeof(void *), PAGE_SZ) / PAGE_SZ;
		struct rtimer **h = page_alloc(pages);
		if (!h)
			throw("timer_add: out of memory for the timer heap");
		for (uint32_t i = 0; i < pp->ntimers; i++)
			h[i] = pp->timers[i];
		if (pp->timers)
			page_free(pp->timers,
				  ALIGN_UP(pp->timerscap * sizeof(void *),
					   PAGE_SZ) / PAGE_SZ);
		pp->timers = h;
		pp->timerscap = cap;
	}
	t->pp = pp;
	place(pp, pp->ntimers++, t);
	siftup(pp, t->idx);
	bool first = pp->timers[0] == t;
	set_timer0(pp);
	unlock(&pp->timerslock);
	return first;
}

bool timer_add_nowake(struct rtimer *t, int64_t when, rtimer_func f,
		      void *arg)
{
	struct m *mp = acquirem();
	struct p *pp = mp->p;

	if (!pp)
		throw("timer_add: no P");
	if (t->pp)
		throw("timer_add: timer already queued");
	t->when = when;
	t->f = f;
	t->arg = arg;
	bool first = timer_add_to(pp, t);
	releasem(mp);
	return first;
}

void timer_add(struct rtimer *t, int64_t when, rtimer_func f, void *arg)
{
	/* Our P is running and will look at its timers when it next
	 * schedules, but it may be busy for long: an idle M must be ready
	 * to run this timer on time. */
	if (timer_add_nowake(t, when, f, arg))
		timers_wake_waiter(when);
}

bool timer_del(struct rtimer *t)
{
	struct p *pp = __atomic_load_n(&t->pp, __ATOMIC_ACQUIRE);

	if (!pp)
		return false;
	lock(&pp->timerslock);
	bool queued = t->pp == pp;
	if (queued) {
		heap_remove(pp, t->idx);
		set_timer0(pp);
	}
	unlock(&pp->timerslock);
	return queued;
}

bool timer_del_sync(struct rtimer *t)
{
	assert_on_curg();
	bool queued = timer_del(t);

	/* A firing popped before our look at t->pp, or from an earlier
	 * queueing while this one waited on the heap, may still run: wait
	 * for it whatever timer_del found. */
	while (__atomic_load_n(&t->running, __ATOMIC_ACQUIRE))
		gosched();
	return queued;
}

bool timers_check_slow(struct p *pp, int64_t now, int64_t *next)
{
	int64_t first = timers_wakeTime(pp);
	bool ran = false;

	assert_on_g0();
	assert_has_p();
	if (!first)
		return false;
	if (!now)
		now = (int64_t)nanotime();
	if (first > now) {
		if (!*next || first < *next)
			*next = first;
		return false;
	}
	lock(&pp->timerslock);
	while (pp->ntimers && pp->timers[0]->when <= now) {
		struct rtimer *t = pp->timers[0];
		/* Read while t is still queued: once heap_remove clears
		 * t->pp, a Reset on another CPU may re-arm t (timer_add
		 * writes t->when before it takes any heap lock), and this
		 * firing would pass the new deadline to f, which then
		 * delivered early (chan_timer_stop_with_waiters_and_races
		 * saw a value 0.9 ms before its deadline). */
		rtimer_func f = t->f;
		void *arg = t->arg;
		int64_t when = t->when;
		/* Counted running before it is seen unqueued (t->pp is
		 * cleared by a release store): timer_del_sync relies on it. */
		__atomic_add_fetch(&t->running, 1, __ATOMIC_SEQ_CST);
		heap_remove(pp, 0);
		set_timer0(pp);
		unlock(&pp->timerslock);
#ifdef RT0_DEBUG
		if ((int64_t)nanotime() < when)
			throwf("timer fired %ld ns before its deadline",
			       when - (int64_t)nanotime());
#endif
		traceev(TEV_TIMER_FIRE, (uint64_t)f, 0);
		f(arg, when);		/* may re-add t */
		__atomic_sub_fetch(&t->running, 1, __ATOMIC_RELEASE);
		ran = true;
		lock(&pp->timerslock);
	}
	int64_t w = pp->ntimers ? pp->timers[0]->when : 0;
	unlock(&pp->timerslock);
	if (w && (!*next || w < *next))
		*next = w;
	return ran;
}

void timers_take(struct p *dst, struct p *src)
{
	assert_world_stopped();
	lock(&src->timerslock);
	while (src->ntimers) {
		struct rtimer *t = src->timers[src->ntimers - 1];
		heap_remove(src, src->ntimers - 1);
		unlock(&src->timerslock);
		/* Unqueued for a moment: nobody can look, the world stopped. */
		timer_add_to(dst, t);
		lock(&src->timerslock);
	}
	set_timer0(src);
	unlock(&src->timerslock);
}

int64_t timers_checkNoP(int64_t pollUntil)
{
	for (int32_t i = 0; i < gomaxprocs; i++) {
		int64_t w = timers_wakeTime(allp[i]);
		if (w && (!pollUntil || w < pollUntil))
			pollUntil = w;
	}
	return pollUntil;
}

static void twnote_wake(void)
{
	/* Several Ms may ask at once: only the first wakes the sleeper. */
	uint32_t zero = 0;
	if (__atomic_compare_exchange_n(&sched.twnote.key, &zero, 1, false,
					__ATOMIC_ACQ_REL, __ATOMIC_RELAXED))
		kwake(&sched.twnote.key, 1);
}

bool timers_wait_until(int64_t when)
{
	struct m *mp = getg()->m;
	uint32_t zero = 0;

	if (mp->p || mp->spinning)
		throw("timers_wait_until: holding a P or spinning");
	if (!__atomic_compare_exchange_n(&sched.twaiting, &zero, 1, false,
					 __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST)) {
		/* Another M waits: make sure it waits for this deadline. */
		int64_t pu = __atomic_load_n(&sched.pollUntil, __ATOMIC_SEQ_CST);
		if (!pu || pu > when)
			twnote_wake();
		return false;
	}
	__atomic_store_n(&sched.pollUntil, when, __ATOMIC_SEQ_CST);
	/* Re-check after publishing pollUntil: an earlier timer added
	 * meanwhile saw twaiting == 1 and may have decided not to wake us. */
	int64_t w = timers_checkNoP(when);
	int64_t delay = w - (int64_t)nanotime();
	if (delay > 0)
		notetsleep(&sched.twnote, delay);
	else
		cpu_relax();	/* due already: findrunnable comes straight
				 * back, a spin loop (it must pause) */
	noteclear(&sched.twnote);
	__atomic_store_n(&sched.pollUntil, 0, __ATOMIC_SEQ_CST);
	__atomic_store_n(&sched.twaiting, 0, __ATOMIC_SEQ_CST);
	lock(&sched.lock);
	struct p *pp = pidleget();
	unlock(&sched.lock);
	if (!pp)
		return false;	/* every P is busy: they run the timers */
	acquirep(pp);
	return true;
}

void timers_wake_waiter(int64_t when)
{
	if (__atomic_load_n(&sched.twaiting, __ATOMIC_SEQ_CST)) {
		int64_t pu = __atomic_load_n(&sched.pollUntil, __ATOMIC_SEQ_CST);
		if (!pu || pu > when)
			twnote_wake();
	} else {
		wakep();	/* get an M looking (and, idle, waiting) */
	}
}

/* ---- sleeping ---- */

static void sleep_fire(void *arg, int64_t when)
{
	goready(arg);
}

static bool sleep_arm(struct g *gp, void *arg)
{
	/* Armed only once gp is parked, so it cannot be readied before. */
	(void)arg;
	timer_add(gp->timer, gp->timer->when, sleep_fire, gp);
	return true;
}

void timeSleep(int64_t ns)
{
	struct g *gp = getg();

	if (ns <= 0) {
		gosched();
		return;
	}
	if (!gp->timer) {
		gp->timer = kmalloc(sizeof(struct rtimer));
		if (!gp->timer)
			throw("timeSleep: out of memory");
	}
	int64_t now = (int64_t)nanotime();
	/* Saturates: a sleep past the end of time is forever, not a wrap. */
	gp->timer->when = ns > INT64_MAX - now ? INT64_MAX : now + ns;
	gopark(sleep_arm, NULL, "sleep");
}
