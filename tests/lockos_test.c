/*
 * tests/lockos_test.c - LockOSThread and M teardown (Go's
 * TestLockOSThreadNesting, TestLockOSThreadExit, TestYieldLocked,
 * TestBlockLocked, TestYieldLockedProgress), and the experiment.
 * White-box where it reads M internals.
 */
#include "kernel/ktest.h"
#include "kernel/kthread.h"
#include "kernel/mem.h"
#include "kernel/vm.h"
#include "sched/proc.h"
#include "sched/lock.h"
#include "tests/go_helpers.h"

#define MS 1000000l

struct nest {
	uint32_t e[4], i[4];
	go_waitgroup wg;
};

static void nesting(void *a)
{
	struct nest *n = a;
	struct m *mp = getg()->m;

	n->e[0] = mp->lockedExt, n->i[0] = mp->lockedInt;
	go_lock_os_thread();
	go_lock_os_thread();
	go_unlock_os_thread();
	n->e[1] = mp->lockedExt, n->i[1] = mp->lockedInt;
	bool wired = mp->lockedg == getg() && getg()->lockedm == mp;
	go_unlock_os_thread();
	n->e[2] = mp->lockedExt, n->i[2] = mp->lockedInt;
	go_unlock_os_thread();		/* without a lock: a no-op */
	n->e[3] = mp->lockedExt, n->i[3] = wired && !mp->lockedg;
	go_waitgroup_done(&n->wg);
}

RTEST(lockos_nesting_counts)
{
	static struct nest n;

	n = (struct nest){ 0 };
	go_and_wait(&n.wg, nesting, &n);
	KT_ASSERT(n.e[0] == 0 && n.i[0] == 0);
	KT_ASSERT(n.e[1] == 1 && n.i[1] == 0);
	KT_ASSERT(n.e[2] == 0 && n.i[2] == 0);
	KT_EQ(n.e[3], 0);
	KT_EQ(n.i[3], 1);		/* wired while locked, unwired after */
}

struct ran_on {
	struct m *mp;
	int64_t id;		/* ids are never reused; freed Ms' pages are */
	go_waitgroup wg;
};

static void record_m(void *a)
{
	struct ran_on *r = a;

	r->mp = getg()->m;
	r->id = r->mp->id;
	go_waitgroup_done(&r->wg);
}

/*
 * The main-thread form: a goroutine that exits locked to m0 wedges m0 (as
 * Go parks its main thread rather than exit it); the program goes on on
 * other Ms.  After this m0 never runs Go code again.  The first of the
 * runtime tests (RTEST_FIRST): goroutine 1 still runs on m0, so what it
 * spawns before it parks runs there next.
 */
struct on_m0 {
	uint32_t hit, done;
};

static void exit_locked_if_m0(void *a)
{
	struct on_m0 *o = a;

	if (getg()->m == &m0 && !__atomic_exchange_n(&o->hit, 1, __ATOMIC_ACQ_REL)) {
		go_lock_os_thread();
		__atomic_store_n(&o->done, 1, __ATOMIC_RELEASE);
		return;		/* exit locked: m0 parks for good */
	}
}

RTEST_FIRST(lockos_exit_on_m0_wedges_it)
{
	static struct on_m0 o;

	o = (struct on_m0){ 0 };
	int64_t end = go_nanotime() + 10000 * MS;
	while (!__atomic_load_n(&o.done, __ATOMIC_ACQUIRE) && go_nanotime() < end) {
		for (int i = 0; i < 64; i++)
			go_spawn(exit_locked_if_m0, &o);
		go_sleep(MS);
	}
	KT_ASSERTF(o.done, "no goroutine ever ran on m0");
	go_sleep(20 * MS);
	KT_ASSERT(getg()->m != &m0);
	KT_ASSERT(m0.p == NULL && m0.curg == NULL && m0.blocked);
	KT_EQ(kthread_current() != m0.thread, 1);
	for (int i = 0; i < 20; i++) {
		static struct ran_on r;
		r = (struct ran_on){ 0 };
		go_and_wait(&r.wg, record_m, &r);
		KT_ASSERT(r.mp != &m0);
	}
	/* m0 is counted out (freed), but its kernel thread stays, parked. */
	ktest_leak_expect("kthreads", 1);
}

/* ---- a G that exits locked takes its M down ---- */

/* By id: an M's memory may be reused for a new M once it is freed. */
static bool m_in_allm(int64_t id)
{
	bool found = false;

	lock(&sched.lock);
	for (struct m *x = allm; x; x = x->alllink)
		found |= x->id == id;
	unlock(&sched.lock);
	return found;
}

static bool m_freem_state(struct m *mp, uint32_t *freewait)
{
	bool found = false;

	lock(&sched.lock);
	for (struct m *x = sched.freem; x; x = x->freelink)
		if (x == mp) {
			found = true;
			*freewait = __atomic_load_n(&x->freeWait, __ATOMIC_ACQUIRE);
		}
	unlock(&sched.lock);
	return found;
}

struct exiter {
	struct m *mp;
	int64_t id;
	struct kthread *thread;
	uint64_t g0lo;
	uint32_t done;		/* 1: exited locked; 2: ran on m0, did not */
};

static void exit_locked(void *a)
{
	struct exiter *e = a;

	if (getg()->m == &m0) {
		/* m0 is the other test's; here we want an ordinary M. */
		__atomic_store_n(&e->done, 2, __ATOMIC_RELEASE);
		return;
	}
	go_lock_os_thread();
	e->mp = getg()->m;
	e->id = e->mp->id;
	e->thread = e->mp->thread;
	e->g0lo = e->mp->g0->stack.lo;
	__atomic_store_n(&e->done, 1, __ATOMIC_RELEASE);
	/* return locked */
}

RTEST(lockos_exit_takes_the_m_down)
{
	static struct exiter e;
	uint32_t fw = 99;

	/* Enough idle Ms that nothing calls allocm (which would free our
	 * M before we look) while this test runs. */
	grow_idle_ms(2 * go_gomaxprocs() + 2);
	int64_t freed = sched.nmfreed;
	do {
		e = (struct exiter){ 0 };
		go_spawn(exit_locked, &e);
		while (!__atomic_load_n(&e.done, __ATOMIC_ACQUIRE))
			go_sleep(MS);
	} while (e.done == 2);
	/* It leaves allm, goes on freem, and its thread exits. */
	int64_t end = go_nanotime() + 5000 * MS;
	while (go_nanotime() < end &&
	       !(m_freem_state(e.mp, &fw) && fw == freeMStack))
		go_sleep(MS);
	KT_ASSERTF(!m_in_allm(e.id), "M%ld still in allm", e.id);
	KT_ASSERTF(m_freem_state(e.mp, &fw), "M not on sched.freem");
	KT_ASSERTF(fw == freeMStack, "freeWait still %u: thread still on its "
		   "g0 stack", fw);
	KT_CMP(sched.nmfreed, >, freed);	/* threads= counts it out */
	/* A later allocm frees its g0 stack: its guard page is mapped again. */
	KT_ASSERT(vm_is_guard(e.g0lo - 4096));
	freem_reap();
	KT_ASSERT(!m_freem_state(e.mp, &fw));
	KT_ASSERT(!vm_is_guard(e.g0lo - 4096));
	/* The M never runs again: other goroutines run on other Ms. */
	for (int i = 0; i < 20; i++) {
		static struct ran_on r;
		r = (struct ran_on){ 0 };
		go_and_wait(&r.wg, record_m, &r);
		KT_ASSERT(r.id != e.id);
	}
}

/* ---- a locked G keeps its M through Gosched, sleep and blocking ---- */

struct locked_run {
	bool same;
	go_chan *c;
	go_waitgroup wg;
};

static void yield_locked(void *a)
{
	struct locked_run *r = a;

	go_lock_os_thread();
	struct m *mp = getg()->m;
	r->same = true;
	for (int i = 0; i < 10; i++) {
		go_sched();
		r->same &= getg()->m == mp && kthread_current() == mp->thread;
		go_sleep(MS);
		r->same &= getg()->m == mp && kthread_current() == mp->thread;
	}
	go_waitgroup_done(&r->wg);
	/* UnlockOSThread deliberately omitted: this M goes away. */
}

RTEST(lockos_yield_locked)
{
	static struct locked_run r;

	r = (struct locked_run){ 0 };
	go_and_wait(&r.wg, yield_locked, &r);
	KT_ASSERT(r.same);
}

/* Go's TestBlockLocked: a locked goroutine blocks on a channel send. */
static void block_locked(void *a)
{
	struct locked_run *r = a;
	bool v = true;

	go_lock_os_thread();
	struct m *mp = getg()->m;
	r->same = true;
	for (int i = 0; i < 10; i++) {
		go_chan_send(r->c, &v);		/* blocks until main receives */
		r->same &= getg()->m == mp && kthread_current() == mp->thread;
	}
	go_unlock_os_thread();
	go_waitgroup_done(&r->wg);
}

RTEST(lockos_block_locked)
{
	static struct locked_run r;
	bool v;

	r = (struct locked_run){ .c = go_chan_make(sizeof(bool), 0) };
	go_waitgroup_add(&r.wg, 1);
	go_spawn(block_locked, &r);
	for (int i = 0; i < 10; i++) {
		go_sleep(MS);
		KT_ASSERT(go_chan_recv(r.c, &v) && v);
	}
	go_waitgroup_wait(&r.wg);
	go_chan_free(r.c);
	KT_ASSERT(r.same);
}

struct yp {
	uint32_t stop, acked;
};

static void locked_yielder(void *a)
{
	struct yp *y = a;

	go_lock_os_thread();
	while (!__atomic_load_n(&y->stop, __ATOMIC_ACQUIRE))
		go_sched();
	__atomic_store_n(&y->acked, 1, __ATOMIC_RELEASE);
	go_unlock_os_thread();
}

RTEST(lockos_yield_locked_progress)
{
	static struct yp y;

	y = (struct yp){ 0 };
	go_spawn(locked_yielder, &y);
	int64_t t0 = go_nanotime();
	go_sleep(10 * MS);		/* must not starve behind the yielder */
	KT_CMP(go_nanotime() - t0, <, 5000 * MS);
	__atomic_store_n(&y.stop, 1, __ATOMIC_RELEASE);
	while (!__atomic_load_n(&y.acked, __ATOMIC_ACQUIRE))
		go_sleep(MS);
}

/* ---- 1000 Ms created and torn down return all memory ---- */

static void exit_locked_now(void *a)
{
	go_lock_os_thread();
	__atomic_fetch_add((uint32_t *)a, 1, __ATOMIC_RELEASE);
}

static void reap_all(void)
{
	int64_t end = go_nanotime() + 5000 * MS;

	for (;;) {
		freem_reap();
		lock(&sched.lock);
		bool empty = sched.freem == NULL;
		unlock(&sched.lock);
		if (empty || go_nanotime() > end)
			return;
		go_sleep(MS);
	}
}

/*
 * Wait (bounded) until no M is on its way in or out: free pages, kernel
 * threads and Ms the same over 2 ms.  An M counts (mcount) from before
 * its kernel thread starts, and stops counting before its thread is
 * gone, so a snapshot taken mid-way pairs them wrong.
 */
/* Free pages plus what goroutine stacks hold: a reused G faults pages in
 * from its CPU's cache, which refills from the free pages, and sysmon's
 * scavenger gives pages back; neither is an M's. */
static int64_t free_or_stacks(void)
{
	return (int64_t)(mem_free_pages() + vm_demand_pages_held());
}

static void quiesce(void)
{
	int64_t end = go_nanotime() + 5000 * MS;
	int64_t pages, kthreads, threads;

	do {
		reap_all();
		pages = free_or_stacks();
		kthreads = kthread_count();
		threads = mcount();
		go_sleep(2 * MS);
		reap_all();
	} while ((pages != free_or_stacks() || kthreads != kthread_count() ||
		  threads != mcount()) && go_nanotime() < end);
}

RTEST_TIMEOUT(lockos_1000_m_cycles_return_memory, 300)
{
	static uint32_t done;

	/* Warm-up: the pools Ms and Gs draw on. */
	grow_free_gs(100 * go_gomaxprocs());
	done = 0;
	for (int i = 0; i < 20; i++)
		go_spawn(exit_locked_now, &done);
	while (__atomic_load_n(&done, __ATOMIC_ACQUIRE) < 20)
		go_sleep(MS);
	quiesce();
	int64_t pages = free_or_stacks();
	int64_t threads = mcount(), freed = sched.nmfreed;
	int64_t kthreads = kthread_count();
	uint32_t gs = allglen;

	done = 0;
	for (int i = 0; i < 1000; i++) {
		go_spawn(exit_locked_now, &done);
		while (__atomic_load_n(&done, __ATOMIC_ACQUIRE) < (uint32_t)i + 1)
			go_sched();
	}
	quiesce();	/* the last Ms may still be on their way out */
	/*
	 * Idle Ms are kept (as Go keeps idle threads), so the pool may end a
	 * few Ms bigger or smaller than it started; every M costs exactly
	 * M_PAGES.  Everything else must be back.
	 */
	int64_t dm = mcount() - threads;
	kprintf("# %ld Ms torn down; the idle pool changed by %ld\n",
		sched.nmfreed - freed, dm);
	KT_CMP(sched.nmfreed - freed, >=, 1000);
	KT_EQ((int64_t)kthread_count() - kthreads, dm);
	KT_EQ(allglen, gs);
	KT_EQ(pages - free_or_stacks(), dm * M_PAGES);
}

/* ---- the experiment make run shows (apps/lockexp.c), shortened ---- */

/* Ms made and Ms freed so far. */
static void m_counts(int64_t *made, int64_t *freed)
{
	lock(&sched.lock);
	*made = sched.mnext;
	*freed = sched.nmfreed;
	unlock(&sched.lock);
}

struct exp_result {
	int baseline, peak, final, final_idle;
};

static struct {
	int64_t ns;
	bool unlock;
	go_waitgroup wg;
} exp;

static void exp_sleeper(void *a)
{
	go_lock_os_thread();
	go_sleep(exp.ns);
	if (exp.unlock)
		go_unlock_os_thread();
	go_waitgroup_done(&exp.wg);	/* returning locked ends the M */
}

/* @n goroutines lock their thread and sleep @ns, unlocking before they
 * return if @unlock; main samples the thread count until they are done. */
static void experiment(int n, int64_t ns, bool unlock, struct exp_result *r)
{
	struct go_sched_stats st;

	exp.ns = ns;
	exp.unlock = unlock;
	go_sched_stats(&st);
	*r = (struct exp_result){ .baseline = st.threads };
	go_waitgroup_add(&exp.wg, n);
	for (int i = 0; i < n; i++)
		go_spawn(exp_sleeper, NULL);
	for (int64_t end = go_nanotime() + ns + 200 * MS; go_nanotime() < end;) {
		go_sleep(ns / 20);
		go_sched_stats(&st);
		r->peak = st.threads > r->peak ? st.threads : r->peak;
	}
	go_waitgroup_wait(&exp.wg);
	go_sched_stats(&st);
	r->final = st.threads;
	r->final_idle = st.idlethreads;
}

RTEST_TIMEOUT(lockos_experiment_thread_counts, 120)
{
	struct exp_result a, b;

	experiment(100, 300 * MS, true, &a);
	kprintf("# unlocked: baseline %d, peak %d, final threads=%d "
		"idlethreads=%d\n", a.baseline, a.peak, a.final, a.final_idle);
	int64_t made0, freed0, made, freed;
	m_counts(&made0, &freed0);
	experiment(100, 300 * MS, false, &b);
	/* On a slow host the last Ms may still be on their way out. */
	for (int64_t end = go_nanotime() + 5000 * MS;; go_sleep(MS)) {
		m_counts(&made, &freed);
		if (freed - freed0 >= 100 || go_nanotime() > end)
			break;
	}
	made -= made0;
	freed -= freed0;
	struct go_sched_stats st;
	go_sched_stats(&st);
	b.final = st.threads;
	b.final_idle = st.idlethreads;
	kprintf("# locked:   baseline %d, peak %d, final threads=%d "
		"idlethreads=%d (%ld Ms made, %ld torn down)\n", b.baseline,
		b.peak, b.final, b.final_idle, made, freed);
	/*
	 * Unlocked: an M per sleeper (idle Ms from before are reused), all
	 * parked afterwards, none destroyed.
	 */
	KT_CMP(a.peak, >=, 100);
	KT_CMP(a.final, >=, 100);
	KT_CMP(a.final_idle, >=, 100 - 4);
	/*
	 * Locked: every sleeper's M is torn down, and no other.  While the
	 * 100 sleep, new Ms may be made to run the Ps (more on a slow host,
	 * when more Ps are busy at once); those stay, as in Go.  So the count
	 * falls back to a handful, not to exactly the baseline - 100.
	 */
	KT_EQ(freed, 100);
	KT_CMP(made, <=, 2 * go_gomaxprocs());
	KT_CMP(b.final, <=, b.baseline - 100 + 2 * go_gomaxprocs());
	KT_CMP(b.final_idle, <=, 4 + 2 * go_gomaxprocs());
}
