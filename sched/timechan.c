/*
 * sched/timechan.c - timer channels (Go's time.NewTimer, time.After,
 * time.NewTicker) and time.AfterFunc, on the per-P runtime timers.
 *
 * A go_timer holds its channel (capacity 1, int64_t elements, the buffer
 * inline) and a runtime timer.  The channel's lock also guards the timer's
 * state: when is the armed deadline, 0 when stopped or delivered.
 *
 * Firing (timechan_fire, on g0 of whichever M runs the P's timers) takes
 * the lock and delivers only if the timer is still armed for the very
 * deadline this firing was queued for (the timer code passes it): a
 * firing that was already off the heap when Stop or Reset ran finds
 * when == 0, or another deadline, and drops itself.  (Go keeps a
 * sequence number for this; the deadline serves, and unlike a look at
 * the clock it does not depend on the CPUs' clocks agreeing.)  So once
 * Stop or Reset returns, nothing from before can arrive; and they also
 * drop a value still in the buffer (Go 1.23's rule: no stale values).
 * The value goes straight to a waiting receiver if there is one, else
 * into the buffer.  A ticker then arms itself for its next tick on the
 * grid of its period (a tick nobody took is dropped, as Go's).  An
 * AfterFunc timer instead starts a goroutine running its function.
 */
#include "sched/chan.h"
#include "sched/proc.h"
#include "sched/timers.h"
#include "kernel/mem.h"
#include "kernel/time.h"

struct go_timer {
	struct hchan c;		/* Go's t.C */
	int64_t slot;		/* c's one-element buffer */
	struct rtimer t;	/* on a P's heap while armed */
	int64_t when;		/* armed deadline, 0 if none; c.lock */
	int64_t period;		/* a ticker's period, else 0; c.lock */
	void (*fn)(void *);	/* AfterFunc: run in a goroutine; constant */
	void *fnarg;		/* constant */
	uint64_t fnpc;		/* who made the AfterFunc timer; constant */
};

static void timechan_fire(void *arg, int64_t when)
{
	struct go_timer *tm = arg;
	struct hchan *c = &tm->c;
	int64_t now = (int64_t)nanotime();
	int64_t wake = 0;
	struct g *gp = NULL;

	assert_on_g0();
	assert_has_p();
	leaflock(&c->lock);
	if (tm->when != when) {
		leafunlock(&c->lock);		/* stopped or re-armed */
		return;
	}
	tm->when = 0;
	if (tm->fn) {
		/* AfterFunc: fn in a goroutine of its own, "created by" the
		 * caller of go_after_func.  On g0 with a P. */
		leafunlock(&c->lock);
		newproc1_entry((uint64_t)tm->fn, (uint64_t)tm->fnarg, tm->fnpc);
		return;
	}
	struct sudog *sg = waitq_dequeue(&c->recvq);
	if (sg) {
		gp = chan_sendto(c, sg, &now);
	} else if (c->qcount < c->dataqsiz) {
		chan_bufput(c, &now);
	}			/* else a ticker's tick nobody took: dropped */
	if (tm->period) {
		/* The next tick on the ticker's grid, after now (Go's). */
		int64_t next = when + tm->period * (1 + (now - when) / tm->period);
		tm->when = next;
		if (timer_add_nowake(&tm->t, next, timechan_fire, tm))
			wake = next;
	}
	leafunlock(&c->lock);
	if (gp)
		goready_dequeued(gp);
	if (wake)
		timers_wake_waiter(wake);
}

/* Disarm @tm: true if a value was still to come or unreceived.  c.lock
 * held. */
static bool timechan_stop_locked(struct go_timer *tm)
{
	struct hchan *c = &tm->c;
	bool pending = tm->when != 0;

	assert_lock_held(&c->lock);
	tm->when = 0;
	timer_del(&tm->t);	/* if it is firing right now, it drops */
	if (c->qcount) {
		c->qcount = 0;
		c->recvx = c->sendx = 0;
		pending = true;
	}
	return pending;
}

/*
 * Arm @tm for @ns from now (ns <= 0: due at once).  c.lock held.  Returns
 * the deadline if the caller must call timers_wake_waiter with it once it
 * has unlocked (that may start an M: not under a leaf lock), else 0.
 */
static int64_t timechan_arm_locked(struct go_timer *tm, int64_t ns)
{
	assert_lock_held(&tm->c.lock);
	int64_t now = (int64_t)nanotime();
	int64_t when = ns > INT64_MAX - now ? INT64_MAX : now + (ns > 0 ? ns : 0);

	tm->when = when ? when : 1;
	return timer_add_nowake(&tm->t, tm->when, timechan_fire, tm) ? tm->when : 0;
}

static void timechan_wake(int64_t when)
{
	if (when)
		timers_wake_waiter(when);
}

/* A new timer, not armed: its channel ready, @period and @fn set. */
static struct go_timer *timechan_alloc(int64_t period, void (*fn)(void *),
				       void *arg, uint64_t fnpc)
{
	BUILD_ASSERT(sizeof(struct go_timer) <= KMALLOC_MAX);
	must_be_goroutine("go_timer_new");
	struct go_timer *tm = kmalloc(sizeof(*tm));

	if (!tm)
		throw("go_timer_new: out of memory");
	lock_init(&tm->c.lock, LOCKRANK_HCHAN);
	tm->c.elemsize = sizeof(int64_t);
	tm->c.dataqsiz = 1;
	tm->c.buf = (uint8_t *)&tm->slot;
	tm->c.timer = tm;
	tm->period = period;
	tm->fn = fn;
	tm->fnarg = arg;
	tm->fnpc = fnpc;
	return tm;
}

/* Arm a new timer @ns from now. */
static struct go_timer *timechan_start(struct go_timer *tm, int64_t ns)
{
	leaflock(&tm->c.lock);
	int64_t wake = timechan_arm_locked(tm, ns);
	leafunlock(&tm->c.lock);
	timechan_wake(wake);
	return tm;
}

go_timer *go_timer_new(int64_t ns)
{
	return timechan_start(timechan_alloc(0, NULL, NULL, 0), ns);
}

go_chan *go_timer_chan(go_timer *tm)
{
	return tm->fn ? NULL : &tm->c;	/* AfterFunc's has none */
}

bool go_timer_stop(go_timer *tm)
{
	must_be_goroutine("go_timer_stop");
	leaflock(&tm->c.lock);
	bool pending = timechan_stop_locked(tm);
	leafunlock(&tm->c.lock);
	return pending;
}

bool go_timer_reset(go_timer *tm, int64_t ns)
{
	must_be_goroutine("go_timer_reset");
	leaflock(&tm->c.lock);
	bool pending = timechan_stop_locked(tm);
	int64_t wake = timechan_arm_locked(tm, ns);
	leafunlock(&tm->c.lock);
	timechan_wake(wake);
	return pending;
}

/* go_chan_free of a timer's channel (its waiters checked already). */
void timechan_free(struct go_timer *tm)
{
	must_be_goroutine("go_chan_free of a timer's channel");
	leaflock(&tm->c.lock);
	tm->when = 0;
	leafunlock(&tm->c.lock);
	/* A firing already off the heap may still be about to take the
	 * lock: wait for it before the memory goes. */
	timer_del_sync(&tm->t);
	kfree(tm);
}

void go_timer_free(go_timer *tm)
{
	if (tm)
		go_chan_free(&tm->c);
}

go_chan *go_after(int64_t ns)
{
	return &go_timer_new(ns)->c;
}

go_timer *go_after_func(int64_t ns, void (*fn)(void *), void *arg)
{
	if (!fn)
		throw("go_after_func: nil func value");
	return timechan_start(timechan_alloc(0, fn, arg,
			      (uint64_t)__builtin_return_address(0)), ns);
}

/* ---- tickers: a timer that arms itself again every period ---- */

go_ticker *go_ticker_new(int64_t period)
{
	if (period <= 0)
		panicplain("non-positive interval for NewTicker");
	return timechan_start(timechan_alloc(period, NULL, NULL, 0), period);
}

go_chan *go_ticker_chan(go_ticker *tk)
{
	return &tk->c;
}

void go_ticker_stop(go_ticker *tk)
{
	go_timer_stop(tk);
}

void go_ticker_reset(go_ticker *tk, int64_t period)
{
	if (period <= 0)
		panicplain("non-positive interval for Ticker.Reset");
	must_be_goroutine("go_ticker_reset");
	leaflock(&tk->c.lock);
	timechan_stop_locked(tk);
	tk->period = period;
	int64_t wake = timechan_arm_locked(tk, period);
	leafunlock(&tk->c.lock);
	timechan_wake(wake);
}

void go_ticker_free(go_ticker *tk)
{
	go_timer_free(tk);
}
