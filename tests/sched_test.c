/*
 * tests/sched_test.c - the scheduler seen from programs (Go's proc_test
 * where it has one).  These use only include/rt0.h and the test helpers,
 * except where a comment says white-box.
 */
#include "kernel/ktest.h"
#include "tests/go_helpers.h"

#define MS 1000000l

/* ---- TestGoroutineParallelism: all Ps run at the same time ---- */

struct par {
	uint32_t x;
	int procs;
	go_waitgroup wg;
};

struct par_arg {
	struct par *pr;
	int p;
};

static void par_worker(void *a)
{
	struct par_arg *pa = a;
	struct par *pr = pa->pr;

	for (int i = 0; i < 3; i++) {
		uint32_t expected = (uint32_t)(pr->procs * i + pa->p);
		while (__atomic_load_n(&pr->x, __ATOMIC_ACQUIRE) != expected)
			__asm__ volatile("pause");
		__atomic_store_n(&pr->x, expected + 1, __ATOMIC_RELEASE);
	}
	go_waitgroup_done(&pr->wg);
}

static void parallelism(int tries)
{
	static struct par pr;
	static struct par_arg args[256];

	for (int try = 0; try < tries; try++) {
		pr = (struct par){ .procs = go_gomaxprocs() };
		go_waitgroup_add(&pr.wg, pr.procs);
		for (int p = 0; p < pr.procs; p++) {
			args[p] = (struct par_arg){ &pr, p };
			go_spawn(par_worker, &args[p]);
		}
		go_waitgroup_wait(&pr.wg);
		KT_EQ(pr.x, 3 * pr.procs);
	}
}

RTEST_TIMEOUT(sched_goroutine_parallelism, 120)
{
	parallelism(10);
}

RTEST_MANUAL(stress_parallelism, 600)
{
	parallelism(20000);
}

/* ---- TestYieldProgress: a Gosched loop never starves main ---- */

struct yielder {
	uint32_t stop, stopped;
	uint64_t loops;
};

static void yield_loop(void *a)
{
	struct yielder *y = a;

	while (!__atomic_load_n(&y->stop, __ATOMIC_ACQUIRE)) {
		y->loops++;
		go_sched();
	}
	__atomic_store_n(&y->stopped, 1, __ATOMIC_RELEASE);
}

RTEST(sched_yield_progress)
{
	static struct yielder y[8];
	int n = go_gomaxprocs() > 8 ? 8 : go_gomaxprocs();

	/* A yielder on every P: main must still get its timer and run. */
	for (int i = 0; i < n; i++) {
		y[i] = (struct yielder){ 0 };
		go_spawn(yield_loop, &y[i]);
	}
	int64_t t0 = go_nanotime();
	go_sleep(10 * MS);
	int64_t slept = go_nanotime() - t0;
	for (int i = 0; i < n; i++)
		__atomic_store_n(&y[i].stop, 1, __ATOMIC_RELEASE);
	for (int i = 0; i < n; i++)
		while (!__atomic_load_n(&y[i].stopped, __ATOMIC_ACQUIRE))
			go_sched();
	uint64_t loops = 0;
	for (int i = 0; i < n; i++)
		loops += y[i].loops;
	kprintf("# main slept %ld us among %d yielders (%lu loops)\n",
		slept / 1000, n, loops);
	KT_CMP(slept, >=, 10 * MS);
	KT_CMP(slept, <, 5000 * MS);
	/* The yielders ran meanwhile (any of them: with more vCPUs than
	 * host cores, one P's vCPU may be descheduled for the whole 10 ms). */
	KT_CMP(loops, >, 0);
}

/* ---- NumGoroutine is exact ---- */

/*
 * These goroutines park through the low-level tier (go_park/go_ready), as
 * a program's own synchronization would: the list they are on is guarded
 * by a spinlock, which unlockf releases on the runtime's stack.
 */
static void gspin_lock(uint32_t *l)
{
	while (__atomic_exchange_n(l, 1, __ATOMIC_ACQUIRE))
		__asm__ volatile("pause");
}

static void gspin_unlock(uint32_t *l)
{
	__atomic_store_n(l, 0, __ATOMIC_RELEASE);
}

struct parked {
	uint32_t lock;
	int n;
	go_g *gs[64];
	go_waitgroup exited;
};

static bool parked_unlock(go_g *self, void *arg)
{
	(void)self;
	gspin_unlock(&((struct parked *)arg)->lock);
	return true;
}

static void park_forever(void *a)
{
	struct parked *pk = a;

	gspin_lock(&pk->lock);
	pk->gs[pk->n++] = go_self();
	go_park(parked_unlock, pk, "test park");
	go_waitgroup_done(&pk->exited);
}

RTEST(sched_numgoroutine_is_exact)
{
	static struct parked pk;
	int base = go_numgoroutine();

	/* Goroutines of an earlier test may still be on their way out: wait
	 * until the count holds still for 20 ms (at most 5 s). */
	for (int64_t still = go_nanotime(), end = still + 5000 * MS;
	     go_nanotime() - still < 20 * MS && go_nanotime() < end;) {
		go_sleep(MS);
		if (go_numgoroutine() != base) {
			base = go_numgoroutine();
			still = go_nanotime();
		}
	}

	KT_CMP(base, >=, 1);		/* main */
	pk = (struct parked){ 0 };
	for (int k = 1; k <= 40; k++) {
		go_spawn(park_forever, &pk);
		KT_EQ(go_numgoroutine(), base + k);
	}
	go_waitgroup_add(&pk.exited, 40);
	while (__atomic_load_n(&pk.n, __ATOMIC_ACQUIRE) < 40)
		go_sched();
	KT_EQ(go_numgoroutine(), base + 40);
	gspin_lock(&pk.lock);
	int n = pk.n;
	gspin_unlock(&pk.lock);
	for (int i = 0; i < n; i++)
		go_ready(pk.gs[i]);
	go_waitgroup_wait(&pk.exited);
	/* Each done() runs just before its goroutine exits: give them time. */
	for (int64_t end = go_nanotime() + 5000 * MS;
	     go_numgoroutine() != base && go_nanotime() < end;)
		go_sleep(MS);
	KT_EQ(go_numgoroutine(), base);
}

/* ---- park: an unlockf that says no; a ready that races the switch ---- */

static int decline_calls, decline_badargs;
static go_g *decline_parker;

/* unlockf runs on the runtime's stack (go_self() is not the parker):
 * self is how it knows who parks. */
static bool decline_unlock(go_g *self, void *arg)
{
	decline_calls++;
	if (self != decline_parker || self == go_self() ||
	    arg != &decline_calls)
		decline_badargs++;
	return false;
}

static void note_ran(void *a)
{
	go_waitgroup_done(a);
}

RTEST(sched_park_unlockf_false_resumes_at_once)
{
	static go_waitgroup wg;
	int64_t goid = go_id();

	/* A G waits in runnext: declining must not lose or run it early. */
	wg = (go_waitgroup){ 0 };
	go_waitgroup_add(&wg, 1);
	go_spawn(note_ran, &wg);
	decline_calls = decline_badargs = 0;
	decline_parker = go_self();
	for (int i = 0; i < 1000; i++)
		go_park(decline_unlock, &decline_calls, "declined");
	KT_EQ(decline_calls, 1000);
	KT_EQ(decline_badargs, 0);
	KT_EQ(go_id(), goid);
	go_waitgroup_wait(&wg);		/* it still runs */
}

/*
 * Ping-pong between two Gs on different Ps (when there are several): each
 * readies the other from inside its unlockf, i.e. the moment it is
 * _Gwaiting, while its M is still switching it out.  The other side's M
 * may then dequeue and run it at once: that is safe only because its
 * registers were saved before its status changed (gopark_mcall); a G
 * run twice or too early corrupts the counts.
 */
struct relay {
	go_g *g[2];
	uint32_t parked1;	/* side 1 is _Gwaiting for the first time */
	uint32_t n[2];
	uint32_t rounds;
	go_waitgroup done;
};

static struct relay relay;

/* unlockf: this side is _Gwaiting now; hand the ball to the other. */
static bool relay_handoff(go_g *self, void *arg)
{
	(void)self;
	go_ready(relay.g[(uintptr_t)arg]);
	return true;
}

static bool relay_first_park(go_g *self, void *arg)
{
	(void)self;
	(void)arg;
	__atomic_store_n(&relay.parked1, 1, __ATOMIC_RELEASE);
	return true;
}

static void relay0(void *a)
{
	(void)a;
	relay.g[0] = go_self();
	while (!__atomic_load_n(&relay.parked1, __ATOMIC_ACQUIRE))
		go_sleep(MS / 10);
	for (uint32_t i = 0; i < relay.rounds; i++) {
		relay.n[0]++;
		go_park(relay_handoff, (void *)1, "relay");
	}
	go_waitgroup_done(&relay.done);
}

static void relay1(void *a)
{
	(void)a;
	relay.g[1] = go_self();
	go_park(relay_first_park, NULL, "relay start");
	for (uint32_t i = 0; i < relay.rounds; i++) {
		relay.n[1]++;
		if (i + 1 < relay.rounds)
			go_park(relay_handoff, (void *)0, "relay");
		else
			go_ready(relay.g[0]);	/* the last ball: no park */
	}
	go_waitgroup_done(&relay.done);
}

RTEST_TIMEOUT(sched_ready_during_switch_runs_once, 120)
{
	relay = (struct relay){ .rounds = 20000 };
	go_waitgroup_add(&relay.done, 2);
	go_spawn(relay1, NULL);
	go_spawn(relay0, NULL);
	go_waitgroup_wait(&relay.done);
	KT_EQ(relay.n[0], relay.rounds);
	KT_EQ(relay.n[1], relay.rounds);
}

/* ---- 100,000 goroutines, from every P, each run once, unique goids ---- */

#define MANY 100000
struct many {
	uint8_t ran[MANY];
	int64_t goid[MANY];
	go_waitgroup wg;
	int spawners;
};

struct many_spawner {
	struct many *mg;
	int lo, hi;
};

static struct many *the_many;

static void many_run(void *a)
{
	uint32_t idx = (uint32_t)(uint64_t)a;

	__atomic_fetch_add(&the_many->ran[idx], 1, __ATOMIC_RELAXED);
	the_many->goid[idx] = go_id();
	go_waitgroup_done(&the_many->wg);
}

static void many_spawn(void *a)
{
	struct many_spawner *s = a;

	for (int i = s->lo; i < s->hi; i++) {
		go_spawn(many_run, (void *)(uint64_t)i);
		if (i % 256 == 255)
			go_sched();	/* keep the live set bounded */
	}
	go_waitgroup_done(&s->mg->wg);
}

static int cmp_goid(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
	return (x > y) - (x < y);
}

static void sort64(int64_t *v, int n)
{
	/* Heap sort: no libc qsort here. */
	for (int start = n / 2 - 1, end = n;;) {
		int root;
		if (start >= 0) {
			root = start--;
		} else {
			if (--end <= 0)
				return;
			int64_t t = v[0]; v[0] = v[end]; v[end] = t;
			root = 0;
		}
		for (;;) {
			int c = 2 * root + 1;
			if (c >= end)
				break;
			if (c + 1 < end && cmp_goid(&v[c], &v[c + 1]) < 0)
				c++;
			if (cmp_goid(&v[root], &v[c]) >= 0)
				break;
			int64_t t = v[root]; v[root] = v[c]; v[c] = t;
			root = c;
		}
	}
}

RTEST_TIMEOUT(sched_100000_goroutines_each_once, 300)
{
	static struct many mg;
	static struct many_spawner sp[256];
	int procs = go_gomaxprocs();

	memset(&mg, 0, sizeof(mg));
	the_many = &mg;
	go_waitgroup_add(&mg.wg, MANY + procs);
	for (int p = 0; p < procs; p++) {
		sp[p] = (struct many_spawner){ &mg, MANY / procs * p,
					       p == procs - 1 ? MANY
						: MANY / procs * (p + 1) };
		go_spawn(many_spawn, &sp[p]);
	}
	go_waitgroup_wait(&mg.wg);
	for (int i = 0; i < MANY; i++)
		KT_ASSERTF(mg.ran[i] == 1, "goroutine %d ran %u times", i,
			   mg.ran[i]);
	sort64(mg.goid, MANY);
	for (int i = 1; i < MANY; i++)
		KT_ASSERTF(mg.goid[i] != mg.goid[i - 1], "goid %ld twice",
			   mg.goid[i]);
	KT_CMP(mg.goid[0], >, 1);	/* main is 1 */
}
