/*
 * tests/sync_test.c - Go's sync package and the runtime's semaphores seen
 * from programs: ports of Go's src/sync/{mutex,rwmutex,waitgroup,once,
 * cond}_test.go and src/runtime/sema_test.go, plus the properties those
 * rely on (FIFO per address, one semaphore table shared by colliding
 * addresses, handoff, tickets of the notify list).  Only include/rt0.h
 * and the test framework are used; goroutines are waited for with
 * go_waitgroup.
 *
 * Rules these tests keep:
 *  - State is static (goroutine stacks are 16 KiB) and reset at the start
 *    of each test; every goroutine a test starts has called
 *    go_waitgroup_done as its last act before the test returns (unless an
 *    assertion already failed and the test gave up).
 *  - Goroutines check with KT_CHECK (or ktest_fail); the test body uses
 *    KT_CHECK too while goroutines still depend on it to be released.
 *  - Nothing relies on tight timing: every wait for an event polls with a
 *    bound of seconds.  Where the order of parking matters (FIFO of a
 *    semaphore) or a goroutine must be parked before the next step, the
 *    test waits until it is, with the runtime's test hooks sema_nwait and
 *    notifyList_nwait (white-box, as Go's SemNwait in export_test.go).
 *    Where the API gives a way to know (a ticket, a mutex held across the
 *    announcement, TryRLock failing once a writer waits), the test uses
 *    that instead.
 */
#include "kernel/ktest.h"
#include "include/rt0.h"
#include "sched/sema.h"		/* sema_nwait, notifyList_nwait */

#define US 1000l
#define MS 1000000l
#define SEC 1000000000l

/*
 * WAIT_UNTIL(cond, ns) - re-evaluate @cond, sleeping 20 us between tries,
 * until it holds or @ns have passed; evaluates to whether it holds.
 */
#define WAIT_UNTIL(cond, ns)						\
	({								\
		int64_t end_ = go_nanotime() + (ns);			\
		bool ok_;						\
		while (!(ok_ = (cond)) && go_nanotime() < end_)		\
			go_sleep(20 * US);				\
		ok_;							\
	})

static inline uint32_t ld32(const uint32_t *p)
{
	return __atomic_load_n(p, __ATOMIC_ACQUIRE);
}

static inline void st32(uint32_t *p, uint32_t v)
{
	__atomic_store_n(p, v, __ATOMIC_RELEASE);
}

/* inc32 - atomically add 1; returns the new value. */
static inline uint32_t inc32(uint32_t *p)
{
	return __atomic_add_fetch(p, 1, __ATOMIC_ACQ_REL);
}

/* racy_inc - a read-modify-write that loses updates unless the caller
 * excludes others (the pause widens the window). */
static inline void racy_inc(uint64_t *p)
{
	uint64_t v = __atomic_load_n(p, __ATOMIC_RELAXED);

	__asm__ volatile("pause");
	__atomic_store_n(p, v + 1, __ATOMIC_RELAXED);
}

static inline void spin(int n)
{
	for (int i = 0; i < n; i++)
		__asm__ volatile("pause" ::: "memory");
}

/* Enough goroutines to have some on every P, and several per P. */
static int nworkers(void)
{
	return 2 * go_gomaxprocs() + 8;
}

/* ======================= runtime semaphores ======================= */

/* ---- TestSemaphore: acquire/release hammered from every P ---- */

#define SH_LOOPS 500

static struct {
	uint32_t sema;
	uint32_t inside;	/* holders right now; atomic */
	uint32_t violations;	/* atomic */
	uint64_t count;		/* racy increments under the semaphore */
	go_waitgroup wg;
} sh;

static void sh_worker(void *arg)
{
	uint32_t id = (uint32_t)(uintptr_t)arg;

	for (uint32_t i = 0; i < SH_LOOPS; i++) {
		go_semacquire(&sh.sema);
		if (inc32(&sh.inside) != 1)
			inc32(&sh.violations);
		racy_inc(&sh.count);
		if ((i + id) % 64 == 0)
			go_sched();	/* hold it across a switch */
		__atomic_sub_fetch(&sh.inside, 1, __ATOMIC_ACQ_REL);
		go_semrelease(&sh.sema, (i + id) % 4 == 0);
	}
	go_waitgroup_done(&sh.wg);
}

RTEST_TIMEOUT(sema_hammer, 120)
{
	int n = nworkers();

	memset(&sh, 0, sizeof(sh));
	sh.sema = 1;		/* a binary semaphore: a lock */
	go_waitgroup_add(&sh.wg, n);
	for (int i = 0; i < n; i++)
		go_spawn(sh_worker, (void *)(uintptr_t)i);
	go_waitgroup_wait(&sh.wg);
	KT_EQ(sh.violations, 0);
	KT_EQ(sh.count, (uint64_t)n * SH_LOOPS);
	KT_EQ(sh.sema, 1);	/* every acquire was paired with a release */
}

/* ---- counting: producers and consumers on every P, counts conserved ---- */

#define SC_LOOPS 200

static struct {
	uint32_t sema;
	uint32_t acquired;	/* atomic */
	go_waitgroup wg;
} sc;

static void sc_consumer(void *arg)
{
	for (int i = 0; i < SC_LOOPS; i++) {
		go_semacquire(&sc.sema);
		inc32(&sc.acquired);
	}
	go_waitgroup_done(&sc.wg);
}

/* Releases one more than a consumer takes: the surplus must remain. */
static void sc_producer(void *arg)
{
	uint32_t id = (uint32_t)(uintptr_t)arg;

	for (uint32_t i = 0; i < SC_LOOPS + 1; i++) {
		go_semrelease(&sc.sema, (i + id) % 2 == 0);
		if (i % 16 == 0)
			go_sched();
	}
	go_waitgroup_done(&sc.wg);
}

RTEST_TIMEOUT(sema_counts_conserved, 120)
{
	int n = go_gomaxprocs() < 2 ? 2 : go_gomaxprocs();

	memset(&sc, 0, sizeof(sc));
	go_waitgroup_add(&sc.wg, 2 * n);
	for (int i = 0; i < n; i++)		/* they wait: the count is 0 */
		go_spawn(sc_consumer, NULL);
	for (int i = 0; i < n; i++)
		go_spawn(sc_producer, (void *)(uintptr_t)i);
	go_waitgroup_wait(&sc.wg);		/* a lost wakeup hangs here */
	KT_EQ(sc.acquired, (uint32_t)n * SC_LOOPS);
	KT_EQ(sc.sema, n);
}

/*
 * ---- FIFO per address, and addresses that share a bucket ----
 *
 * Waiters are queued round by round: in round r one waiter per address is
 * started, the test waits until each is parked on its address
 * (sema_nwait).  So on each address the waiter of round r
 * is queued before that of round r+1.  Then the addresses are released
 * one at a time in a fixed mixed order, each release waiting for its
 * wakeup: the k-th release of address a must wake the waiter of round k
 * on a, and nobody else.
 */
#define SQ_MAX 16

struct sq_waiter {
	uint32_t *addr;
	int id;			/* round * naddr + address index */
};

static struct {
	struct sq_waiter w[SQ_MAX];
	uint32_t arrived[SQ_MAX];	/* atomic */
	uint32_t woken;			/* wakeups so far; atomic */
	uint32_t order[SQ_MAX];		/* 1 + id of the k-th woken; atomic */
	go_waitgroup wg;
} sq;

/* 251 buckets keyed by addr >> 3: 251 * 8 bytes apart collide, and the
 * two halves of one 8-byte word are distinct semaphores in one bucket. */
#define SQ_STRIDE (251 * 8 / 4)
static uint32_t sq_arena[2 * SQ_STRIDE + 2] __attribute__((aligned(8)));

static void sq_waiter_fn(void *arg)
{
	struct sq_waiter *w = arg;

	st32(&sq.arrived[w->id], 1);
	go_semacquire(w->addr);
	uint32_t k = __atomic_fetch_add(&sq.woken, 1, __ATOMIC_ACQ_REL);
	if (k < SQ_MAX)
		st32(&sq.order[k], (uint32_t)w->id + 1);
	go_waitgroup_done(&sq.wg);
}

/*
 * @idle, if not NULL, is an address of the same bucket with no waiter:
 * released once everyone is queued, it must wake nobody and keep the
 * count (main takes it back without waiting).
 */
static void sema_queue_run(uint32_t **addrs, int naddr, int rounds,
			   const int *seq, bool handoff, uint32_t *idle)
{
	int n = naddr * rounds;
	int next_round[SQ_MAX] = { 0 };
	int bad = 0;

	memset(&sq, 0, sizeof(sq));
	for (int a = 0; a < naddr; a++)
		*addrs[a] = 0;
	go_waitgroup_add(&sq.wg, n);
	for (int r = 0; r < rounds; r++) {
		for (int a = 0; a < naddr; a++) {
			int id = r * naddr + a;
			sq.w[id] = (struct sq_waiter){ addrs[a], id };
			go_spawn(sq_waiter_fn, &sq.w[id]);
		}
		for (int a = 0; a < naddr; a++) {
			int id = r * naddr + a;
			KT_ASSERTF(WAIT_UNTIL(ld32(&sq.arrived[id]), 10 * SEC),
				   "waiter %d never started", id);
			KT_ASSERTF(WAIT_UNTIL(sema_nwait(addrs[a]) ==
					      (uint32_t)r + 1, 10 * SEC),
				   "waiter %d never parked", id);
		}
		KT_ASSERTF(ld32(&sq.woken) == 0,
			   "a waiter returned from semacquire on a zero count");
	}
	if (idle) {
		*idle = 0;
		go_semrelease(idle, true);
		go_sleep(2 * MS);
		KT_ASSERTF(ld32(&sq.woken) == 0, "a release of an address "
			   "nobody waits on woke a waiter of its bucket");
		KT_EQ(ld32(idle), 1);
		go_semacquire(idle);		/* a count is there: no wait */
		KT_EQ(ld32(idle), 0);
	}
	for (int k = 0; k < n; k++) {
		int a = seq[k];
		int want = next_round[a]++ * naddr + a;

		KT_CHECK(ld32(&sq.woken) == (uint32_t)k);	/* no extra */
		go_semrelease(addrs[a], handoff && (k & 1));
		KT_ASSERTF(WAIT_UNTIL(ld32(&sq.order[k]) != 0, 10 * SEC),
			   "release %d (address %d) woke nobody", k, a);
		int got = (int)ld32(&sq.order[k]) - 1;
		if (got != want && bad++ == 0)
			ktest_fail(__FILE__, __LINE__,
				   "release %d of address %d woke waiter %d "
				   "(address %d, round %d), want round %d",
				   k, a, got, got % naddr, got / naddr,
				   want / naddr);
	}
	go_waitgroup_wait(&sq.wg);
	KT_EQ(sq.woken, n);
	for (int a = 0; a < naddr; a++)
		KT_ASSERTF(*addrs[a] == 0, "address %d has count %u left", a,
			   *addrs[a]);
	KT_EQ(bad, 0);
}

RTEST_TIMEOUT(sema_fifo, 120)
{
	static const int seq[5] = { 0 };
	uint32_t *addr[1] = { &sq_arena[0] };

	sema_queue_run(addr, 1, 5, seq, false, NULL);
	if (ktest_failed())
		return;
	/* Again with every other release handed off. */
	sema_queue_run(addr, 1, 5, seq, true, NULL);
}

RTEST_TIMEOUT(sema_same_bucket, 120)
{
	/* Each of the 5 addresses 3 times, interleaved. */
	static const int seq[15] = {
		2, 0, 4, 4, 1, 3, 0, 2, 1, 4, 3, 0, 1, 2, 3,
	};
	uint32_t *addrs[5] = {
		&sq_arena[0], &sq_arena[1],			/* one word */
		&sq_arena[SQ_STRIDE], &sq_arena[2 * SQ_STRIDE],
		&sq_arena[2 * SQ_STRIDE + 1],
	};

	KT_EQ(((uintptr_t)addrs[2] >> 3) - ((uintptr_t)addrs[0] >> 3), 251);
	sema_queue_run(addrs, 5, 3, seq, true, &sq_arena[SQ_STRIDE + 1]);
}

/*
 * ---- TestSemaHandoff: with handoff the waiter runs before the releaser
 * continues ----
 *
 * The waiter and the releaser both try to CAS res from 0 right after the
 * handoff.  With one P the order is the scheduler's: the waiter is made
 * runnable in the releaser's place and the releaser yields, so the waiter
 * wins (allowing a few losses to a preemption between its wakeup and its
 * CAS).  With one P the waiter has surely parked before the release (the
 * test sleeps, and only the waiter can run meanwhile), so the count must
 * also have gone straight to it: zero right after the release.  With
 * several Ps a spinning P may take the releaser first (Go tolerates a
 * third of these); there the figures are printed, and what is asserted is
 * that the count is conserved.
 */
static struct {
	uint32_t sema;
	uint32_t res;
	uint32_t arrived, checked, stop;
	go_waitgroup wg, loopers;
} sho;

static void sho_waiter(void *arg)
{
	uint32_t zero = 0;

	st32(&sho.arrived, 1);
	go_semacquire(&sho.sema);
	__atomic_compare_exchange_n(&sho.res, &zero, 1, false,
				    __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);
	while (!ld32(&sho.checked))	/* hold the count until main looked */
		go_sleep(20 * US);
	go_semrelease(&sho.sema, true);	/* no waiter: a plain increment */
	go_waitgroup_done(&sho.wg);
}

/* Keeps a P busy, so that no idle P steals the yielding releaser. */
static void sho_looper(void *arg)
{
	while (!ld32(&sho.stop))
		go_sched();
	go_waitgroup_done(&sho.loopers);
}

RTEST_TIMEOUT(sema_handoff, 120)
{
	int procs = go_gomaxprocs();
	int iters = procs == 1 ? 100 : 20;
	int direct = 0, handed = 0, ran = 0;

	memset(&sho, 0, sizeof(sho));
	if (procs > 1) {
		go_waitgroup_add(&sho.loopers, procs);
		for (int i = 0; i < procs; i++)
			go_spawn(sho_looper, NULL);
	}
	for (int i = 0; i < iters; i++) {
		uint32_t zero = 0;

		sho.sema = 0;
		sho.res = 0;
		st32(&sho.arrived, 0);
		st32(&sho.checked, 0);
		go_waitgroup_add(&sho.wg, 1);
		go_spawn(sho_waiter, NULL);
		if (!WAIT_UNTIL(ld32(&sho.arrived), 10 * SEC)) {
			ktest_fail(__FILE__, __LINE__,
				   "iteration %d: the waiter never started", i);
			break;
		}
		go_sleep(procs == 1 ? MS : 2 * MS);
		go_semrelease(&sho.sema, true);
		__atomic_compare_exchange_n(&sho.res, &zero, 2, false,
					    __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);
		uint32_t left = ld32(&sho.sema);
		st32(&sho.checked, 1);
		go_waitgroup_wait(&sho.wg);
		ran++;
		direct += sho.res == 1;
		handed += left == 0;
		KT_CHECK(sho.res != 0);
		KT_CHECK(sho.sema == 1);	/* the waiter's release */
	}
	st32(&sho.stop, 1);
	if (procs > 1)
		go_waitgroup_wait(&sho.loopers);
	kprintf("# handoff at %d P: the waiter ran first %d of %d times, "
		"took the count %d times\n", procs, direct, ran, handed);
	KT_EQ(ran, iters);
	if (procs == 1) {
		KT_EQ(handed, iters);
		KT_ASSERTF(direct * 10 >= iters * 8,
			   "the waiter ran first only %d of %d times", direct,
			   iters);
	}
}

/* ============================ Mutex ============================ */

/* ---- TestMutex: a counter incremented under the lock from every P ---- */

#define MH_LOOPS 500

static struct {
	go_mutex mu;
	uint32_t inside, violations;	/* atomic */
	uint64_t count;
	go_waitgroup wg;
} mh;

static void mh_worker(void *arg)
{
	uint32_t id = (uint32_t)(uintptr_t)arg;

	for (uint32_t i = 0; i < MH_LOOPS; i++) {
		go_mutex_lock(&mh.mu);
		if (__atomic_exchange_n(&mh.inside, 1, __ATOMIC_ACQ_REL))
			inc32(&mh.violations);
		racy_inc(&mh.count);
		if ((i + id) % 50 == 0)
			go_sched();	/* others pile up on the lock */
		st32(&mh.inside, 0);
		go_mutex_unlock(&mh.mu);
	}
	go_waitgroup_done(&mh.wg);
}

RTEST_TIMEOUT(sync_mutex, 120)
{
	int n = nworkers();

	memset(&mh, 0, sizeof(mh));	/* a zero mutex is unlocked */
	go_waitgroup_add(&mh.wg, n);
	for (int i = 0; i < n; i++)
		go_spawn(mh_worker, (void *)(uintptr_t)i);
	go_waitgroup_wait(&mh.wg);
	KT_EQ(mh.violations, 0);
	KT_EQ(mh.count, (uint64_t)n * MH_LOOPS);
	/* Quiescent: unlocked, no waiters, not starving, no stray count. */
	KT_EQ(mh.mu.state, 0);
	KT_EQ(mh.mu.sema, 0);
	KT_ASSERT(go_mutex_trylock(&mh.mu));
	go_mutex_unlock(&mh.mu);
}

/* ---- TryLock; a waiter; unlocking from another goroutine ---- */

static struct {
	go_mutex mu;
	uint32_t tried;		/* 1: trylock failed, 2: it succeeded */
	uint32_t got, release;
	go_waitgroup wg;
} tl;

static void tl_try(void *arg)
{
	st32(&tl.tried, go_mutex_trylock(&tl.mu) ? 2 : 1);
	go_waitgroup_done(&tl.wg);
}

static void tl_locker(void *arg)
{
	go_mutex_lock(&tl.mu);
	st32(&tl.got, 1);
	while (!ld32(&tl.release))
		go_sleep(20 * US);
	go_mutex_unlock(&tl.mu);
	go_waitgroup_done(&tl.wg);
}

static void tl_lock_and_leave(void *arg)
{
	go_mutex_lock(&tl.mu);
	st32(&tl.got, 1);
	go_waitgroup_done(&tl.wg);	/* exits holding it */
}

static void tl_unlock(void *arg)
{
	go_mutex_unlock(&tl.mu);
	go_waitgroup_done(&tl.wg);
}

RTEST(sync_mutex_trylock)
{
	memset(&tl, 0, sizeof(tl));

	/* Uncontended: on a zero mutex, then on a locked one. */
	KT_ASSERT(go_mutex_trylock(&tl.mu));
	KT_ASSERT(!go_mutex_trylock(&tl.mu));
	go_waitgroup_add(&tl.wg, 1);
	go_spawn(tl_try, NULL);			/* from another goroutine */
	go_waitgroup_wait(&tl.wg);
	KT_EQ(tl.tried, 1);
	go_mutex_unlock(&tl.mu);
	KT_EQ(tl.mu.state, 0);
	go_waitgroup_add(&tl.wg, 1);
	go_spawn(tl_try, NULL);
	go_waitgroup_wait(&tl.wg);
	KT_EQ(tl.tried, 2);			/* it holds it now */
	KT_ASSERT(!go_mutex_trylock(&tl.mu));
	go_mutex_unlock(&tl.mu);		/* any goroutine may unlock */

	/* Held with a waiter: trylock fails; unlock hands it to the waiter. */
	go_mutex_lock(&tl.mu);
	go_waitgroup_add(&tl.wg, 1);
	go_spawn(tl_locker, NULL);
	KT_CHECK(WAIT_UNTIL(sema_nwait(&tl.mu.sema) == 1, 10 * SEC));
	KT_CHECK(ld32(&tl.got) == 0);		/* it must wait for us */
	KT_CHECK(!go_mutex_trylock(&tl.mu));
	go_mutex_unlock(&tl.mu);
	KT_CHECK(WAIT_UNTIL(ld32(&tl.got), 10 * SEC));
	KT_CHECK(!go_mutex_trylock(&tl.mu));	/* the waiter holds it */
	st32(&tl.release, 1);
	go_waitgroup_wait(&tl.wg);
	KT_ASSERT(go_mutex_trylock(&tl.mu));
	go_mutex_unlock(&tl.mu);

	/* Locked by a goroutine that has exited: main unlocks it. */
	st32(&tl.got, 0);
	go_waitgroup_add(&tl.wg, 1);
	go_spawn(tl_lock_and_leave, NULL);
	go_waitgroup_wait(&tl.wg);
	KT_EQ(tl.got, 1);
	KT_ASSERT(!go_mutex_trylock(&tl.mu));
	go_mutex_unlock(&tl.mu);
	KT_ASSERT(go_mutex_trylock(&tl.mu));

	/* Locked by main, unlocked by another goroutine. */
	go_waitgroup_add(&tl.wg, 1);
	go_spawn(tl_unlock, NULL);
	go_waitgroup_wait(&tl.wg);
	KT_ASSERT(go_mutex_trylock(&tl.mu));
	go_mutex_unlock(&tl.mu);
	KT_EQ(tl.mu.state, 0);
}

/*
 * ---- A contended unlock from the runtime's stack ----
 *
 * go_park's unlockf runs on g0, and may release a Mutex another
 * goroutine waits for: the unlock must wake it (without the handoff's
 * yield, which needs a goroutine).
 */
static struct {
	go_mutex mu;
	go_g *parked;
	uint32_t got;
	go_waitgroup wg;
} ug;

static bool ug_unlock(go_g *self, void *arg)
{
	ug.parked = self;
	go_mutex_unlock(&ug.mu);	/* on g0, with a waiter */
	return true;
}

static void ug_waiter(void *arg)
{
	go_mutex_lock(&ug.mu);
	st32(&ug.got, 1);
	go_mutex_unlock(&ug.mu);
	go_waitgroup_done(&ug.wg);
}

static void ug_holder(void *arg)
{
	go_mutex_lock(&ug.mu);
	go_waitgroup_add(&ug.wg, 1);
	go_spawn(ug_waiter, NULL);
	KT_CHECK(WAIT_UNTIL(sema_nwait(&ug.mu.sema) == 1, 10 * SEC));
	go_park(ug_unlock, NULL, "test park");	/* main readies us */
	go_waitgroup_done(&ug.wg);
}

RTEST(sync_mutex_unlock_on_g0_wakes_the_waiter)
{
	memset(&ug, 0, sizeof(ug));
	go_waitgroup_add(&ug.wg, 1);
	go_spawn(ug_holder, NULL);
	KT_CHECK(WAIT_UNTIL(ld32(&ug.got), 10 * SEC));
	while (!__atomic_load_n(&ug.parked, __ATOMIC_ACQUIRE))
		go_sleep(MS);
	go_ready(ug.parked);
	go_waitgroup_wait(&ug.wg);
	KT_EQ(ug.got, 1);
	KT_EQ(ug.mu.state, 0);
}

/*
 * ---- TestMutexFairness: a hog that holds the lock almost always, and
 * unlocks and relocks at once, cannot keep another goroutine out: after
 * 1 ms of waiting the mutex turns to starvation mode and hands over ----
 */
static struct {
	go_mutex mu;
	uint32_t stop, done;
	go_waitgroup wg;
} mf;

static void mf_hog(void *arg)
{
	while (!ld32(&mf.stop)) {
		go_mutex_lock(&mf.mu);
		go_sleep(100 * US);
		go_mutex_unlock(&mf.mu);
	}
	go_waitgroup_done(&mf.wg);
}

static void mf_contender(void *arg)
{
	for (int i = 0; i < 10; i++) {
		go_sleep(100 * US);
		go_mutex_lock(&mf.mu);
		go_mutex_unlock(&mf.mu);
	}
	st32(&mf.done, 1);
	go_waitgroup_done(&mf.wg);
}

RTEST_TIMEOUT(sync_mutex_fairness, 60)
{
	memset(&mf, 0, sizeof(mf));
	go_waitgroup_add(&mf.wg, 2);
	go_spawn(mf_hog, NULL);
	go_spawn(mf_contender, NULL);
	int64_t t0 = go_nanotime();
	bool ok = WAIT_UNTIL(ld32(&mf.done), 5 * SEC);
	int64_t took = go_nanotime() - t0;
	st32(&mf.stop, 1);		/* the contender gets it then anyway */
	go_waitgroup_wait(&mf.wg);
	kprintf("# mutex fairness: 10 locks beside a hog took %ld us\n",
		took / US);
	KT_ASSERTF(ok, "can't acquire the mutex 10 times in 5 s");
	KT_EQ(mf.mu.state, 0);
}

/* =========================== RWMutex =========================== */

/* ---- TestParallelReaders: N readers hold the read lock at once ---- */

static struct {
	go_rwmutex rw;
	uint32_t locked, release;
	go_waitgroup wg;
} prd;

static void prd_reader(void *arg)
{
	go_rwmutex_rlock(&prd.rw);
	inc32(&prd.locked);
	while (!ld32(&prd.release))
		go_sleep(20 * US);
	go_rwmutex_runlock(&prd.rw);
	go_waitgroup_done(&prd.wg);
}

static void parallel_readers(int n)
{
	memset(&prd, 0, sizeof(prd));
	go_waitgroup_add(&prd.wg, n);
	for (int i = 0; i < n; i++)
		go_spawn(prd_reader, NULL);
	KT_ASSERTF(WAIT_UNTIL(ld32(&prd.locked) == (uint32_t)n, 10 * SEC),
		   "only %u of %d readers hold the read lock",
		   ld32(&prd.locked), n);
	KT_CHECK(!go_rwmutex_trylock(&prd.rw));	/* readers keep writers out */
	bool r = go_rwmutex_tryrlock(&prd.rw);	/* and let readers in */
	KT_CHECK(r);
	if (r)
		go_rwmutex_runlock(&prd.rw);
	st32(&prd.release, 1);
	go_waitgroup_wait(&prd.wg);
	KT_EQ(prd.rw.readerCount, 0);
	KT_ASSERT(go_rwmutex_trylock(&prd.rw));
	go_rwmutex_unlock(&prd.rw);
}

RTEST(sync_rwmutex_parallel_readers)
{
	parallel_readers(1);
	if (ktest_failed())
		return;
	parallel_readers(3);
	if (ktest_failed())
		return;
	parallel_readers(4);
	if (ktest_failed())
		return;
	parallel_readers(go_gomaxprocs() + 2);
}

/*
 * ---- TestRWMutex (HammerRWMutex): activity = readers inside + 10000 *
 * writers inside; a writer must see exactly 10000, a reader 1..9999 ----
 */
#define RH_LOOPS 200

static struct {
	go_rwmutex rw;
	int32_t activity;	/* atomic */
	go_waitgroup wg;
} rh;

static void rh_reader(void *arg)
{
	for (int i = 0; i < RH_LOOPS; i++) {
		go_rwmutex_rlock(&rh.rw);
		int32_t n = __atomic_add_fetch(&rh.activity, 1,
					       __ATOMIC_ACQ_REL);
		if (n < 1 || n >= 10000)
			ktest_fail(__FILE__, __LINE__,
				   "reader sees activity %d (writer inside)",
				   n);
		spin(100);
		if (i % 16 == 0)
			go_sched();
		__atomic_sub_fetch(&rh.activity, 1, __ATOMIC_ACQ_REL);
		go_rwmutex_runlock(&rh.rw);
	}
	go_waitgroup_done(&rh.wg);
}

static void rh_writer(void *arg)
{
	for (int i = 0; i < RH_LOOPS; i++) {
		go_rwmutex_lock(&rh.rw);
		int32_t n = __atomic_add_fetch(&rh.activity, 10000,
					       __ATOMIC_ACQ_REL);
		if (n != 10000)
			ktest_fail(__FILE__, __LINE__,
				   "writer sees activity %d (others inside)",
				   n);
		spin(100);
		if (i % 16 == 0)
			go_sched();
		__atomic_sub_fetch(&rh.activity, 10000, __ATOMIC_ACQ_REL);
		go_rwmutex_unlock(&rh.rw);
	}
	go_waitgroup_done(&rh.wg);
}

static void hammer_rwmutex(int readers)
{
	int i;

	memset(&rh, 0, sizeof(rh));
	go_waitgroup_add(&rh.wg, readers + 2);
	go_spawn(rh_writer, NULL);
	for (i = 0; i < readers / 2; i++)
		go_spawn(rh_reader, NULL);
	go_spawn(rh_writer, NULL);
	for (; i < readers; i++)
		go_spawn(rh_reader, NULL);
	go_waitgroup_wait(&rh.wg);
	KT_EQ(rh.activity, 0);
	KT_EQ(rh.rw.readerCount, 0);
	KT_ASSERT(go_rwmutex_trylock(&rh.rw));
	go_rwmutex_unlock(&rh.rw);
}

RTEST_TIMEOUT(sync_rwmutex_hammer, 180)
{
	static const int readers[] = { 1, 3, 10 };

	for (unsigned k = 0; k < sizeof(readers) / sizeof(readers[0]); k++) {
		hammer_rwmutex(readers[k]);
		if (ktest_failed())
			return;
	}
	hammer_rwmutex(2 * go_gomaxprocs() + 1);
}

/* ---- TryLock / TryRLock ---- */

static struct {
	go_rwmutex rw;
	uint32_t res;		/* 1: failed, 2: succeeded */
	go_waitgroup wg;
} rt;

static void rt_tryrlock(void *arg)
{
	bool ok = go_rwmutex_tryrlock(&rt.rw);

	st32(&rt.res, ok ? 2 : 1);
	if (ok)
		go_rwmutex_runlock(&rt.rw);
	go_waitgroup_done(&rt.wg);
}

RTEST(sync_rwmutex_trylock)
{
	memset(&rt, 0, sizeof(rt));
	KT_ASSERT(go_rwmutex_tryrlock(&rt.rw));		/* zero: unlocked */
	KT_ASSERT(go_rwmutex_tryrlock(&rt.rw));		/* two readers */
	KT_ASSERT(!go_rwmutex_trylock(&rt.rw));
	go_rwmutex_runlock(&rt.rw);
	KT_ASSERT(!go_rwmutex_trylock(&rt.rw));		/* one is left */
	go_rwmutex_runlock(&rt.rw);
	KT_EQ(rt.rw.readerCount, 0);
	KT_ASSERT(go_rwmutex_trylock(&rt.rw));
	KT_ASSERT(!go_rwmutex_tryrlock(&rt.rw));
	KT_ASSERT(!go_rwmutex_trylock(&rt.rw));
	go_waitgroup_add(&rt.wg, 1);
	go_spawn(rt_tryrlock, NULL);
	go_waitgroup_wait(&rt.wg);
	KT_EQ(rt.res, 1);				/* nor from elsewhere */
	go_rwmutex_unlock(&rt.rw);
	go_waitgroup_add(&rt.wg, 1);
	go_spawn(rt_tryrlock, NULL);
	go_waitgroup_wait(&rt.wg);
	KT_EQ(rt.res, 2);
	go_rwmutex_rlock(&rt.rw);
	go_rwmutex_runlock(&rt.rw);
	go_rwmutex_lock(&rt.rw);
	go_rwmutex_unlock(&rt.rw);
	KT_EQ(rt.rw.readerCount, 0);
	KT_EQ(rt.rw.w.state, 0);
}

/*
 * ---- A waiting writer keeps new readers out ----
 *
 * main reads; a writer queues (seen without timing: TryRLock starts
 * failing once the writer has announced itself to readers); a new reader
 * must then wait behind the writer: after main's RUnlock the writer gets
 * the lock first, the reader after it.
 */
static struct {
	go_rwmutex rw;
	uint32_t seq, wgot, rgot;
	go_waitgroup wg;
} wp;

static void wp_writer(void *arg)
{
	go_rwmutex_lock(&wp.rw);
	st32(&wp.wgot, inc32(&wp.seq));
	go_sleep(MS);
	go_rwmutex_unlock(&wp.rw);
	go_waitgroup_done(&wp.wg);
}

static void wp_reader(void *arg)
{
	go_rwmutex_rlock(&wp.rw);
	st32(&wp.rgot, inc32(&wp.seq));
	go_rwmutex_runlock(&wp.rw);
	go_waitgroup_done(&wp.wg);
}

static bool wp_readers_kept_out(void)
{
	if (!go_rwmutex_tryrlock(&wp.rw))
		return true;
	go_rwmutex_runlock(&wp.rw);
	return false;
}

RTEST(sync_rwmutex_writer_preference)
{
	memset(&wp, 0, sizeof(wp));
	go_rwmutex_rlock(&wp.rw);
	go_waitgroup_add(&wp.wg, 1);
	go_spawn(wp_writer, NULL);
	bool pending = WAIT_UNTIL(wp_readers_kept_out(), 10 * SEC);
	KT_CHECK(pending);		/* a waiting writer keeps readers out */
	KT_CHECK(ld32(&wp.wgot) == 0);	/* and cannot have the lock */
	if (pending) {
		go_waitgroup_add(&wp.wg, 1);
		go_spawn(wp_reader, NULL);
		KT_CHECK(WAIT_UNTIL(sema_nwait(&wp.rw.readerSem) == 1,
				    10 * SEC));
		KT_CHECK(ld32(&wp.rgot) == 0);	/* RLock waits too */
		KT_CHECK(!go_rwmutex_trylock(&wp.rw));
	}
	go_rwmutex_runlock(&wp.rw);
	go_waitgroup_wait(&wp.wg);
	KT_EQ(wp.wgot, 1);
	if (pending)
		KT_EQ(wp.rgot, 2);
	KT_EQ(wp.rw.readerCount, 0);
}

/*
 * ---- TestRLocker: read locks and write locks belong to no goroutine ----
 *
 * A goroutine read-locks twice, then asks for the write lock; main drops
 * the two read locks for it (the write lock must wait for both), and
 * later drops the goroutine's write lock (its next read lock must wait
 * for that).
 */
#define RL_ITERS 10

static struct {
	go_rwmutex rw;
	uint32_t rlocked, wlocked;	/* iterations that got so far */
	go_waitgroup wg;
} rl;

static void rl_goroutine(void *arg)
{
	for (int i = 0; i < RL_ITERS; i++) {
		go_rwmutex_rlock(&rl.rw);
		go_rwmutex_rlock(&rl.rw);
		inc32(&rl.rlocked);
		go_rwmutex_lock(&rl.rw);
		inc32(&rl.wlocked);
	}
	go_waitgroup_done(&rl.wg);
}

RTEST(sync_rwmutex_unlock_by_other)
{
	memset(&rl, 0, sizeof(rl));
	go_waitgroup_add(&rl.wg, 1);
	go_spawn(rl_goroutine, NULL);
	for (uint32_t i = 0; i < RL_ITERS; i++) {
		KT_ASSERTF(WAIT_UNTIL(ld32(&rl.rlocked) == i + 1, 10 * SEC),
			   "iteration %u: no read locks", i);
		go_rwmutex_runlock(&rl.rw);
		go_sleep(2 * MS);
		KT_CHECK(ld32(&rl.wlocked) == i);	/* one reader is left */
		go_rwmutex_runlock(&rl.rw);
		KT_ASSERTF(WAIT_UNTIL(ld32(&rl.wlocked) == i + 1, 10 * SEC),
			   "iteration %u: no write lock after the readers left",
			   i);
		go_sleep(2 * MS);
		KT_CHECK(ld32(&rl.rlocked) == i + 1);	/* the writer holds */
		go_rwmutex_unlock(&rl.rw);
	}
	go_waitgroup_wait(&rl.wg);
	KT_EQ(rl.rw.readerCount, 0);
}

/* ========================== WaitGroup ========================== */

/* ---- TestWaitGroup: two groups as barriers, eight times over ---- */

#define WG_N 16

static struct {
	go_waitgroup wg1, wg2, all;
	uint32_t exited;
} wgt;

static void wgt_worker(void *arg)
{
	go_waitgroup_done(&wgt.wg1);
	go_waitgroup_wait(&wgt.wg2);
	inc32(&wgt.exited);
	go_waitgroup_done(&wgt.all);
}

RTEST(sync_waitgroup)
{
	memset(&wgt, 0, sizeof(wgt));
	/* The same groups each round: they must be back in a proper state. */
	for (int round = 0; round < 8; round++) {
		st32(&wgt.exited, 0);
		go_waitgroup_add(&wgt.wg1, WG_N);
		go_waitgroup_add(&wgt.wg2, WG_N);
		go_waitgroup_add(&wgt.all, WG_N);
		for (int i = 0; i < WG_N; i++)
			go_spawn(wgt_worker, NULL);
		go_waitgroup_wait(&wgt.wg1);
		for (int i = 0; i < WG_N; i++) {
			/* Nobody may pass wg2 before its last Done. */
			KT_CHECK(ld32(&wgt.exited) == 0);
			go_waitgroup_done(&wgt.wg2);
		}
		go_waitgroup_wait(&wgt.all);	/* hangs if one was left */
		KT_EQ(wgt.exited, WG_N);
		KT_EQ(wgt.wg1.state, 0);
		KT_EQ(wgt.wg2.state, 0);
	}
}

/*
 * ---- TestWaitGroupRace, and reuse: one group through hundreds of
 * Add/Done/Wait cycles, with 0 to 2 more waiters besides main ----
 */
#define WR_ROUNDS 300

static struct {
	go_waitgroup wg, waiters;
	uint32_t n, k;
} wr;

static void wr_worker(void *arg)
{
	inc32(&wr.n);
	go_waitgroup_done(&wr.wg);
}

static void wr_waiter(void *arg)
{
	go_waitgroup_wait(&wr.wg);
	KT_CHECK(ld32(&wr.n) == ld32(&wr.k));	/* no spurious wakeup */
	go_waitgroup_done(&wr.waiters);
}

RTEST_TIMEOUT(sync_waitgroup_reuse, 120)
{
	memset(&wr, 0, sizeof(wr));
	for (uint32_t r = 0; r < WR_ROUNDS; r++) {
		uint32_t k = 1 + r % 4, nw = r % 3;

		st32(&wr.n, 0);
		st32(&wr.k, k);
		go_waitgroup_add(&wr.wg, (int)k);
		go_waitgroup_add(&wr.waiters, (int)nw);	/* 0: a no-op */
		for (uint32_t i = 0; i < nw; i++)
			go_spawn(wr_waiter, NULL);
		for (uint32_t i = 0; i < k; i++)
			go_spawn(wr_worker, NULL);
		go_waitgroup_wait(&wr.wg);
		KT_ASSERTF(ld32(&wr.n) == k, "round %u: woken with %u of %u "
			   "done", r, ld32(&wr.n), k);
		/* Reuse only once every Wait has returned (Go's rule). */
		go_waitgroup_wait(&wr.waiters);
	}
	KT_EQ(wr.wg.state, 0);
	KT_EQ(wr.waiters.state, 0);
}

/* ---- Wait on a zero count returns at once ---- */

RTEST(sync_waitgroup_zero)
{
	static go_waitgroup wg;

	memset(&wg, 0, sizeof(wg));
	int64_t t0 = go_nanotime();
	go_waitgroup_wait(&wg);			/* never used */
	go_waitgroup_add(&wg, 3);
	go_waitgroup_add(&wg, -2);
	go_waitgroup_done(&wg);
	go_waitgroup_wait(&wg);			/* back to zero */
	go_waitgroup_wait(&wg);
	int64_t took = go_nanotime() - t0;
	KT_EQ(wg.state, 0);
	KT_CMP(took, <, 1 * SEC);
}

/* ============================= Once ============================= */

/*
 * ---- TestOnce: many goroutines call Do at the same moment (a WaitGroup
 * as the starting gate); the function runs once, and sleeps, so that the
 * others must wait for it: each returns only after it has finished ----
 */
static struct {
	go_once once;
	uint32_t calls, finished, other;
	go_waitgroup gate, wg;
} on;

static void on_fn(void *arg)
{
	KT_CHECK(arg == &on);
	inc32(&on.calls);
	go_sleep(2 * MS);
	st32(&on.finished, 1);
}

static void on_other(void *arg)
{
	inc32(&on.other);
}

static void on_caller(void *arg)
{
	go_waitgroup_done(&on.gate);
	go_waitgroup_wait(&on.gate);
	go_once_do(&on.once, on_fn, &on);
	KT_CHECK(ld32(&on.finished) == 1);
	KT_CHECK(ld32(&on.calls) == 1);
	go_waitgroup_done(&on.wg);
}

RTEST(sync_once)
{
	int n = nworkers();

	memset(&on, 0, sizeof(on));
	go_waitgroup_add(&on.gate, n);
	go_waitgroup_add(&on.wg, n);
	for (int i = 0; i < n; i++)
		go_spawn(on_caller, NULL);
	go_waitgroup_wait(&on.wg);
	KT_EQ(on.calls, 1);
	KT_EQ(on.finished, 1);
	go_once_do(&on.once, on_other, NULL);	/* done: nothing runs */
	KT_EQ(on.other, 0);
	KT_EQ(on.calls, 1);
}

/* ============================= Cond ============================= */

/*
 * In each of these a waiter announces itself while holding L and then
 * waits; once main has locked L after seeing the announcement, the waiter
 * has taken its ticket (Wait releases L only after that), so a Signal
 * from then on is its to receive, parked yet or not.
 */

/*
 * ---- TestCondSignal: one Signal wakes exactly one waiter, and (as the
 * API promises beyond Go's test) the longest waiting one: a waiter's rank
 * in running, counted under L just before Wait, is its ticket order ----
 */
#define CS_N 4

static struct {
	go_mutex m;
	go_cond c;
	uint32_t running, awake;
	go_waitgroup wg;
} cs;

static void cs_waiter(void *arg)
{
	go_mutex_lock(&cs.m);
	uint32_t rank = inc32(&cs.running);
	go_cond_wait(&cs.c);
	KT_CHECK(!go_mutex_trylock(&cs.m));	/* Wait came back holding L */
	uint32_t k = inc32(&cs.awake);
	if (k != rank)
		ktest_fail(__FILE__, __LINE__, "signal %u woke waiter %u "
			   "in line, not the longest waiting", k, rank);
	go_mutex_unlock(&cs.m);
	go_waitgroup_done(&cs.wg);
}

RTEST(sync_cond_signal)
{
	memset(&cs, 0, sizeof(cs));
	cs.c.L = &cs.m;
	go_waitgroup_add(&cs.wg, CS_N);
	for (int i = 0; i < CS_N; i++)
		go_spawn(cs_waiter, NULL);
	KT_ASSERT(WAIT_UNTIL(ld32(&cs.running) == CS_N, 10 * SEC));
	for (uint32_t k = 0; k < CS_N; k++) {
		KT_CHECK(ld32(&cs.awake) == k);		/* not asleep */
		go_mutex_lock(&cs.m);
		go_cond_signal(&cs.c);
		go_mutex_unlock(&cs.m);
		KT_ASSERTF(WAIT_UNTIL(ld32(&cs.awake) >= k + 1, 10 * SEC),
			   "signal %u woke no one", k);
		go_sleep(2 * MS);
		KT_CHECK(ld32(&cs.awake) == k + 1);	/* too many awake */
	}
	go_cond_signal(&cs.c);		/* nobody waits: a no-op */
	go_cond_broadcast(&cs.c);	/* (frees any left if a check failed) */
	go_waitgroup_wait(&cs.wg);
	KT_EQ(cs.awake, CS_N);
}

/* ---- TestCondSignalGenerations: Signal wakes the longest waiter ---- */

#define CG_N 40

static struct {
	go_mutex m;
	go_cond c;
	uint32_t running;
	uint32_t nawake;	/* under m; read atomically */
	int awake[CG_N];	/* under m */
	go_waitgroup wg;
} cg;

static void cg_waiter(void *arg)
{
	int i = (int)(uintptr_t)arg;

	go_mutex_lock(&cg.m);
	inc32(&cg.running);
	go_cond_wait(&cg.c);
	uint32_t k = ld32(&cg.nawake);
	if (k < CG_N)
		cg.awake[k] = i;
	st32(&cg.nawake, k + 1);
	go_mutex_unlock(&cg.m);
	go_waitgroup_done(&cg.wg);
}

RTEST_TIMEOUT(sync_cond_signal_generations, 120)
{
	int bad = 0;

	memset(&cg, 0, sizeof(cg));
	cg.c.L = &cg.m;
	go_waitgroup_add(&cg.wg, CG_N);
	for (uint32_t i = 0; i < CG_N; i++) {
		go_spawn(cg_waiter, (void *)(uintptr_t)i);
		if (i > 0) {
			KT_ASSERTF(WAIT_UNTIL(ld32(&cg.nawake) >= i, 10 * SEC),
				   "signal %u woke no one", i - 1);
			go_mutex_lock(&cg.m);
			int a = cg.awake[i - 1];
			uint32_t n = cg.nawake;
			go_mutex_unlock(&cg.m);
			if ((a != (int)i - 1 || n != i) && bad++ == 0)
				ktest_fail(__FILE__, __LINE__,
					   "wakeup %u: goroutine %d (%u "
					   "awake), want %u", i - 1, a, n,
					   i - 1);
		}
		KT_ASSERT(WAIT_UNTIL(ld32(&cg.running) == i + 1, 10 * SEC));
		go_mutex_lock(&cg.m);
		go_cond_signal(&cg.c);
		go_mutex_unlock(&cg.m);
	}
	KT_ASSERT(WAIT_UNTIL(ld32(&cg.nawake) >= CG_N, 10 * SEC));
	go_cond_broadcast(&cg.c);	/* nobody is left; frees them if so */
	go_waitgroup_wait(&cg.wg);
	KT_EQ(cg.nawake, CG_N);
	KT_EQ(cg.awake[CG_N - 1], CG_N - 1);
	KT_EQ(bad, 0);
}

/* ---- TestCondBroadcast: every waiter, each once, round after round ---- */

#define CB_N 16
#define CB_ROUNDS 8

static struct {
	go_mutex m;
	go_cond c;
	bool exit;			/* m */
	uint32_t running, awake;	/* atomic */
	uint32_t wakes[CB_N];		/* m */
	go_waitgroup wg;
} cb;

static void cb_waiter(void *arg)
{
	int g = (int)(uintptr_t)arg;

	go_mutex_lock(&cb.m);
	while (!cb.exit) {
		inc32(&cb.running);
		go_cond_wait(&cb.c);
		cb.wakes[g]++;
		inc32(&cb.awake);
	}
	go_mutex_unlock(&cb.m);
	go_waitgroup_done(&cb.wg);
}

RTEST_TIMEOUT(sync_cond_broadcast, 120)
{
	memset(&cb, 0, sizeof(cb));
	cb.c.L = &cb.m;
	go_waitgroup_add(&cb.wg, CB_N);
	for (int g = 0; g < CB_N; g++)
		go_spawn(cb_waiter, (void *)(uintptr_t)g);
	for (uint32_t r = 0; r < CB_ROUNDS; r++) {
		KT_ASSERTF(WAIT_UNTIL(ld32(&cb.running) >= CB_N * (r + 1),
				      10 * SEC),
			   "round %u: %u waiting of %u", r,
			   ld32(&cb.running) - CB_N * r, CB_N);
		go_mutex_lock(&cb.m);
		KT_CHECK(ld32(&cb.running) == CB_N * (r + 1));
		KT_CHECK(ld32(&cb.awake) == CB_N * r);	/* not asleep */
		if (r == CB_ROUNDS - 1)
			cb.exit = true;
		go_cond_broadcast(&cb.c);
		go_mutex_unlock(&cb.m);
		KT_ASSERTF(WAIT_UNTIL(ld32(&cb.awake) >= CB_N * (r + 1),
				      10 * SEC),
			   "round %u: %u woke of %u", r,
			   ld32(&cb.awake) - CB_N * r, CB_N);
		go_mutex_lock(&cb.m);
		for (int g = 0; g < CB_N; g++)
			KT_CHECK(cb.wakes[g] == r + 1);	/* each once */
		go_mutex_unlock(&cb.m);
		if (ktest_failed() && r < CB_ROUNDS - 1) {
			go_mutex_lock(&cb.m);		/* let them all go */
			cb.exit = true;
			go_cond_broadcast(&cb.c);
			go_mutex_unlock(&cb.m);
			break;
		}
	}
	go_waitgroup_wait(&cb.wg);
	/* All exited; none went back to waiting. */
	KT_EQ(cb.running, CB_N * CB_ROUNDS);
	KT_EQ(cb.awake, CB_N * CB_ROUNDS);
}

/* ---- TestRace: three goroutines pass x = 1, 2, 3 through one cond ---- */

static struct {
	go_mutex m;
	go_cond c;
	int x;			/* m */
	go_waitgroup wg;
} cr;

static void cr_first(void *arg)
{
	go_mutex_lock(&cr.m);
	cr.x = 1;
	go_cond_wait(&cr.c);
	KT_CHECK(cr.x == 2);
	cr.x = 3;
	go_cond_signal(&cr.c);
	go_mutex_unlock(&cr.m);
	go_waitgroup_done(&cr.wg);
}

static void cr_second(void *arg)
{
	go_mutex_lock(&cr.m);
	while (cr.x != 1) {
		go_mutex_unlock(&cr.m);
		go_sched();
		go_mutex_lock(&cr.m);
	}
	cr.x = 2;
	go_cond_signal(&cr.c);
	go_mutex_unlock(&cr.m);
	go_waitgroup_done(&cr.wg);
}

static void cr_third(void *arg)
{
	go_mutex_lock(&cr.m);
	for (;;) {
		if (cr.x == 2) {
			go_cond_wait(&cr.c);
			KT_CHECK(cr.x == 3);
			break;
		}
		if (cr.x == 3)
			break;
		go_mutex_unlock(&cr.m);
		go_sched();
		go_mutex_lock(&cr.m);
	}
	go_mutex_unlock(&cr.m);
	go_waitgroup_done(&cr.wg);
}

RTEST(sync_cond_race)
{
	for (int i = 0; i < 20; i++) {
		memset(&cr, 0, sizeof(cr));
		cr.c.L = &cr.m;
		go_waitgroup_add(&cr.wg, 3);
		go_spawn(cr_first, NULL);
		go_spawn(cr_second, NULL);
		go_spawn(cr_third, NULL);
		go_waitgroup_wait(&cr.wg);	/* a lost signal hangs here */
		KT_EQ(cr.x, 3);
		if (ktest_failed())
			return;
	}
}

/*
 * ---- TestCondSignalStealing: a Broadcast racing a new Wait must still
 * wake the waiter that was there before it ----
 */
static struct {
	go_mutex m;
	go_cond c;
	bool done;			/* m */
	uint32_t first_in, first_woke;
	go_waitgroup wg;
} css;

static void css_first(void *arg)
{
	go_mutex_lock(&css.m);
	st32(&css.first_in, 1);
	go_cond_wait(&css.c);
	go_mutex_unlock(&css.m);
	st32(&css.first_woke, 1);
	go_waitgroup_done(&css.wg);
}

static void css_broadcaster(void *arg)
{
	go_cond_broadcast(&css.c);
	go_waitgroup_done(&css.wg);
}

static void css_second(void *arg)
{
	go_mutex_lock(&css.m);
	while (!css.done)
		go_cond_wait(&css.c);
	go_mutex_unlock(&css.m);
	go_waitgroup_done(&css.wg);
}

RTEST_TIMEOUT(sync_cond_signal_stealing, 120)
{
	for (int it = 0; it < 50; it++) {
		memset(&css, 0, sizeof(css));
		css.c.L = &css.m;
		go_waitgroup_add(&css.wg, 3);
		go_spawn(css_first, NULL);
		KT_ASSERT(WAIT_UNTIL(ld32(&css.first_in), 10 * SEC));
		go_mutex_lock(&css.m);		/* now it is in Wait */
		go_mutex_unlock(&css.m);
		go_spawn(css_broadcaster, NULL);
		go_spawn(css_second, NULL);
		bool woke = WAIT_UNTIL(ld32(&css.first_woke), 5 * SEC);
		go_mutex_lock(&css.m);
		css.done = true;
		go_mutex_unlock(&css.m);
		go_cond_broadcast(&css.c);
		go_waitgroup_wait(&css.wg);
		KT_ASSERTF(woke, "iteration %d: the first waiter missed the "
			   "broadcast", it);
	}
}

/*
 * ---- The notify list itself: tickets, not parking order, decide ----
 *
 * main takes the tickets, so their order is known without timing, and
 * hands them to goroutines started in a shuffled order.
 */
#define NL_N 6

static struct {
	go_notify_list l;
	uint32_t ticket[NL_N];
	int idx[NL_N];
	uint32_t woken;			/* atomic */
	uint32_t order[NL_N];		/* 1 + index of the k-th woken */
	go_waitgroup wg;
} nl;

static void nl_waiter(void *arg)
{
	int i = *(int *)arg;

	go_notify_list_wait(&nl.l, nl.ticket[i]);
	uint32_t k = __atomic_fetch_add(&nl.woken, 1, __ATOMIC_ACQ_REL);
	if (k < NL_N)
		st32(&nl.order[k], (uint32_t)i + 1);
	go_waitgroup_done(&nl.wg);
}

RTEST(sync_notify_list)
{
	static const int perm[NL_N] = { 3, 0, 5, 1, 4, 2 };
	int bad = 0;

	memset(&nl, 0, sizeof(nl));

	/* A ticket notified before its wait: the wait returns at once (if
	 * it parked, main would sleep forever: a deadlock). */
	uint32_t t = go_notify_list_add(&nl.l);
	KT_EQ(t, 0);
	go_notify_list_notify_one(&nl.l);
	go_notify_list_wait(&nl.l, t);

	/* notify_all covers every ticket taken, waited on yet or not. */
	uint32_t t1 = go_notify_list_add(&nl.l);
	uint32_t t2 = go_notify_list_add(&nl.l);
	KT_EQ(t1, 1);
	KT_EQ(t2, 2);
	go_notify_list_notify_all(&nl.l);
	go_notify_list_wait(&nl.l, t2);
	go_notify_list_wait(&nl.l, t1);

	/* With no ticket outstanding a notify is lost, not kept for the
	 * next ticket (checked below: ticket 3 must not return early). */
	go_notify_list_notify_one(&nl.l);
	go_notify_list_notify_all(&nl.l);

	for (int i = 0; i < NL_N; i++) {
		nl.ticket[i] = go_notify_list_add(&nl.l);
		KT_EQ(nl.ticket[i], 3 + i);
	}
	go_waitgroup_add(&nl.wg, NL_N);
	for (int j = 0; j < NL_N; j++) {
		nl.idx[perm[j]] = perm[j];
		go_spawn(nl_waiter, &nl.idx[perm[j]]);
	}
	KT_CHECK(WAIT_UNTIL(notifyList_nwait((struct notifyList *)&nl.l) ==
			    NL_N, 10 * SEC));	/* all parked */
	KT_CHECK(ld32(&nl.woken) == 0);
	for (uint32_t k = 0; k < NL_N; k++) {
		go_notify_list_notify_one(&nl.l);
		KT_ASSERTF(WAIT_UNTIL(ld32(&nl.order[k]) != 0, 10 * SEC),
			   "notify %u woke no one", k);
		uint32_t got = ld32(&nl.order[k]) - 1;
		if (got != k && bad++ == 0)
			ktest_fail(__FILE__, __LINE__,
				   "notify %u woke ticket %u, want %u", k,
				   nl.ticket[got], nl.ticket[k]);
		if (k + 1 < NL_N) {
			go_sleep(MS);
			KT_CHECK(ld32(&nl.woken) == k + 1);	/* only one */
		}
	}
	go_waitgroup_wait(&nl.wg);
	KT_EQ(nl.woken, NL_N);
	KT_EQ(bad, 0);
}
