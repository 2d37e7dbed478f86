/*
 * sched/timers.h - runtime timers: a 4-ary min-heap per P (Go's time.go,
 * without channels).
 *
 * A timer lives on the heap of the P that added it until it fires or is
 * deleted; it never moves.  Any M may run a P's due timers under that P's
 * timerslock (its own P in findrunnable, other Ps' while stealing, sysmon
 * through an M it starts).  Callbacks run on g0 without the lock and must
 * not block: they ready Gs (onto the running M's P).
 */
#ifndef RT0_TIMERS_H
#define RT0_TIMERS_H

#include "arch/x86_64/x86.h"
#include "sched/runtime2.h"

struct rtimer {
	int64_t when;			/* nanotime; written by whoever queues
					 * it before it is queued, read under
					 * pp's timerslock while queued (once
					 * off the heap, it may be re-armed) */
	void (*f)(void *arg, int64_t when);	/* constant while queued */
	void *arg;
	struct p *pp;			/* heap it is on, or NULL; written
					 * under timerslock, read atomically */
	uint32_t idx;			/* position in pp's heap */
	uint32_t running;		/* Ms running f now; atomic */
};

/*
 * timer_add - queue @t (not queued) on the current P to fire at @when:
 * then some M calls f(arg, when) on g0, without locks (@when tells a
 * firing that was already off the heap apart from a newer queueing).  f
 * may queue @t again, so a firing may still be running when @t is
 * queued anew; @t must stay allocated while queued or running
 * (timer_del_sync).  If @t is now the P's earliest timer, makes sure an
 * M will be awake for it, which may start an M.
 */
typedef void (*rtimer_func)(void *arg, int64_t when);
void timer_add(struct rtimer *t, int64_t when, rtimer_func f, void *arg);

/* timer_add_nowake - timer_add without the wake-up: returns whether @t
 * is the P's earliest timer, and then the caller must call
 * timers_wake_waiter(when) (it may do so after releasing its locks). */
bool timer_add_nowake(struct rtimer *t, int64_t when, rtimer_func f,
		      void *arg);

/* timer_del - unqueue @t if still queued; true if it was (will not fire
 * for that queueing).  An earlier firing may still be running. */
bool timer_del(struct rtimer *t);

/*
 * timer_del_sync - timer_del, then wait until no M runs @t's f any more
 * (from any queueing), so that @t may be freed.  Not from @t's own f.
 * On a goroutine.
 */
bool timer_del_sync(struct rtimer *t);

/*
 * timers_check - run @pp's due timers (now == 0: read the clock only if
 * some timer exists).  Returns true if any ran.  *next gets the earliest
 * remaining when if it is earlier than *next (or *next is 0).  On g0 with
 * a P (callbacks ready Gs onto it).
 */
bool timers_check_slow(struct p *pp, int64_t now, int64_t *next);

static inline bool timers_pending(struct p *pp)
{
	return __atomic_load_n(&pp->timer0when, __ATOMIC_ACQUIRE) != 0;
}

/*
 * timers_due - whether @pp's earliest timer is due, by the TSC: never
 * later than by nanotime(), and early by at most the conversions'
 * rounding (microseconds after a day up), after which timers_check
 * decides.  The fast paths call it on every switch: an empty heap costs
 * a load, a pending one an rdtsc, and a timer that is not due yet does
 * not send them to g0.
 */
static __always_inline bool timers_due(struct p *pp)
{
	return unlikely(nonzero64(&pp->timer0tsc)) &&
	       rdtsc() >= __atomic_load_n(&pp->timer0tsc, __ATOMIC_RELAXED);
}

/* The scheduler calls this on every round: an empty heap costs a load. */
static inline bool timers_check(struct p *pp, int64_t now, int64_t *next)
{
	return timers_pending(pp) && timers_check_slow(pp, now, next);
}

static inline int64_t timers_wakeTime(struct p *pp)
{
	return __atomic_load_n(&pp->timer0when, __ATOMIC_ACQUIRE);
}

/* timers_stw - after sched.gcwaiting changed: every P's timer0tsc says
 * "due" while it is set (the fast paths then stop), and its real value
 * after.  sched.lock may be held. */
void timers_stw(void);

/* timers_take - move every timer of @src to @dst (procresize retiring
 * @src).  World stopped. */
void timers_take(struct p *dst, struct p *src);

/* timers_checkNoP - the earliest timer of any P, or of @pollUntil. */
int64_t timers_checkNoP(int64_t pollUntil);

/*
 * timers_wait_until - in findrunnable, without a P: become the M that
 * sleeps until @when (unless another does) and, when it wakes, take an
 * idle P.  Returns true holding a P (look for work again), false if the
 * caller should stopm().
 */
bool timers_wait_until(int64_t when);

/* timers_wake_waiter - a timer at @when was added: make sure an M will
 * be awake by then (Go's wakeNetPoller). */
void timers_wake_waiter(int64_t when);

/* go_sleep's engine: park the current G for @ns nanoseconds. */
void timeSleep(int64_t ns);

#endif
