/*
 * tests/check_selftest.c - fixtures that prove the checks catch what they
 * are for: the runner's leak checks (any build) and, on the debug image
 * (make DEBUG=1), lock ranks, lock owners and stated preconditions.
 *
 * KT_MANUAL: each runs only when test= names it, and tools/test.sh runs
 * it expecting the failure it provokes.  On a release image the lock
 * fixtures take their locks out of order and nothing stops them; only
 * the debug image is asked to catch them.
 */
#include "kernel/ktest.h"
#include "kernel/mem.h"
#include "kernel/spinlock.h"
#include "tests/kt_helpers.h"
#include "sched/proc.h"
#include "sched/lock.h"
#include "include/rt0.h"

/* ---- leaks: the runner names what did not come back ---- */

KTEST_MANUAL_TEST(selftest_leak_pages, 0)
{
	KT_ASSERT(page_alloc(3));	/* kept: 3 pages leak */
}

static void sleep_forever(void *arg)
{
	(void)arg;
	for (;;)
		ksleep_until(UINT64_MAX);
}

KTEST_MANUAL_TEST(selftest_leak_kthread, 0)
{
	static struct tthread t;

	KT_ASSERT(tthread_start(&t, "leaked", sleep_forever, NULL, -1));
}

static void receive_forever(void *c)
{
	go_chan_recv(c, NULL);
}

RTEST_MANUAL(selftest_leak_goroutine, 0)
{
	go_spawn(receive_forever, go_chan_make(0, 0));
}

/* ---- lock ranks, owners, preconditions (debug image) ---- */

/* A P's timerslock ranks above sched.lock: never sched.lock under it. */
RTEST_MANUAL(selftest_lock_order, 0)
{
	static struct mutex timers_like = MUTEX_INIT(LOCKRANK_TIMERS);

	lock(&timers_like);
	lock(&sched.lock);
	unlock(&sched.lock);
	unlock(&timers_like);
}

/* kwait's bucket locks rank below the page allocator's lock. */
KTEST_MANUAL_TEST(selftest_spinlock_order, 0)
{
	static struct spinlock mem_like = SPINLOCK_INIT(LOCKRANK_MEM);
	static struct spinlock kwait_like = SPINLOCK_INIT(LOCKRANK_KWAIT);
	uint64_t f = spin_lock_irqsave(&mem_like);

	spin_lock(&kwait_like);
	spin_unlock(&kwait_like);
	spin_unlock_irqrestore(&mem_like, f);
}

/* A runtime lock may sleep: never under a spinlock. */
RTEST_MANUAL(selftest_lock_under_spinlock, 0)
{
	static struct spinlock s = SPINLOCK_INIT(LOCKRANK_SPIN_LEAF);
	static struct mutex m = MUTEX_INIT(LOCKRANK_LEAF);
	uint64_t f = spin_lock_irqsave(&s);

	lock(&m);
	unlock(&m);
	spin_unlock_irqrestore(&s, f);
}

/* Unlocking a lock another M holds. */
static struct mutex held_elsewhere = MUTEX_INIT(LOCKRANK_LEAF);
static uint32_t holder_ready;

static void hold_and_nap(void *arg)
{
	(void)arg;
	go_lock_os_thread();		/* keep this M */
	lock(&held_elsewhere);
	__atomic_store_n(&holder_ready, 1, __ATOMIC_RELEASE);
	for (;;)
		go_syscall_sleep(1000000000);
}

RTEST_MANUAL(selftest_unlock_by_other_m, 0)
{
	go_spawn(hold_and_nap, NULL);
	while (!__atomic_load_n(&holder_ready, __ATOMIC_ACQUIRE))
		go_sleep(1000000);
	unlock(&held_elsewhere);
}

/* checkmcount's precondition: sched.lock held. */
RTEST_MANUAL(selftest_lock_not_held, 0)
{
	checkmcount();
}
