/*
 * tests/stw_test.c - stopping the world and GOMAXPROCS at run time (Go's
 * stopTheWorld, procresize; TestGoroutineParallelism's GOMAXPROCS(P)
 * setup).  White-box where it calls stopTheWorld and reads P states.
 *
 * Every test puts the number of Ps back as it found it, and waits for
 * every goroutine it started.
 */
#include "kernel/ktest.h"
#include "sched/proc.h"
#include "sched/lock.h"
#include "kernel/time.h"
#include "arch/x86_64/x86.h"
#include "include/rt0.h"

#define MS 1000000l

/* ---- the kinds of P a stop must bring down ---- */

static struct {
	uint32_t stop;			/* atomic */
	uint64_t loops[8];		/* per spinner; atomic */
	uint32_t slept, syscalls;	/* atomic */
	go_waitgroup wg;
} kinds;

static void kinds_spin(void *arg)
{
	uint64_t *n = arg;

	while (!__atomic_load_n(&kinds.stop, __ATOMIC_RELAXED))
		__atomic_add_fetch(n, 1, __ATOMIC_RELAXED);	/* no call */
	go_waitgroup_done(&kinds.wg);
}

static void kinds_locked(void *arg)
{
	go_lock_os_thread();
	kinds_spin(arg);
	go_unlock_os_thread();
}

static void kinds_sleeper(void *arg)
{
	while (!__atomic_load_n(&kinds.stop, __ATOMIC_RELAXED)) {
		go_sleep(MS);
		__atomic_add_fetch(&kinds.slept, 1, __ATOMIC_RELAXED);
	}
	go_waitgroup_done(&kinds.wg);
}

static void kinds_syscall(void *arg)
{
	while (!__atomic_load_n(&kinds.stop, __ATOMIC_RELAXED)) {
		go_syscall_sleep(2 * MS);
		__atomic_add_fetch(&kinds.syscalls, 1, __ATOMIC_RELAXED);
	}
	go_waitgroup_done(&kinds.wg);
}

struct gcount {
	int running, syscall;
};

static void count_running(struct g *gp, void *arg)
{
	struct gcount *c = arg;
	uint32_t s = readgstatus(gp);

	if (gp->goid <= 0)
		return;
	c->running += s == _Grunning;
	c->syscall += s == _Gsyscall;
}

RTEST_TIMEOUT(stw_stops_running_locked_syscall_and_idle_ps, 120)
{
	int procs = go_gomaxprocs();
	int spinners = procs < 6 ? procs : 6;

	memset(&kinds, 0, sizeof(kinds));
	go_waitgroup_add(&kinds.wg, spinners + 3);
	for (int i = 0; i < spinners; i++)
		go_spawn(i == 0 ? kinds_locked : kinds_spin, &kinds.loops[i]);
	go_spawn(kinds_sleeper, NULL);
	go_spawn(kinds_syscall, NULL);
	go_spawn(kinds_syscall, NULL);
	go_sleep(20 * MS);

	for (int round = 0; round < 20; round++) {
		uint64_t before[8];
		stopTheWorld("test");
		/* Nobody runs but us: every P stopped, no G running on one. */
		int notstopped = 0;
		for (int32_t i = 0; i < gomaxprocs; i++)
			notstopped += allp[i]->status != _Pgcstop;
		struct gcount c = { 0, 0 };
		forEachG(count_running, &c);
		for (int i = 0; i < spinners; i++)
			before[i] = __atomic_load_n(&kinds.loops[i],
						    __ATOMIC_RELAXED);
		delay_us(200);
		int moved = 0;
		for (int i = 0; i < spinners; i++)
			moved += __atomic_load_n(&kinds.loops[i],
						 __ATOMIC_RELAXED) != before[i];
		startTheWorld(0);
		KT_EQ(notstopped, 0);
		KT_EQ(c.running, 1);		/* this one */
		KT_EQ(moved, 0);		/* no spinner ran meanwhile */
		go_sleep(2 * MS);
	}
	__atomic_store_n(&kinds.stop, 1, __ATOMIC_RELEASE);
	go_waitgroup_wait(&kinds.wg);
	for (int i = 0; i < spinners; i++)
		KT_CMP(kinds.loops[i], >, 0);
	KT_CMP(kinds.slept, >, 0);
	KT_CMP(kinds.syscalls, >, 0);
	kprintf("# 20 stops: last %ld us, %ld us stopped in all\n",
		sched.stwlast_ns / 1000, sched.stwtotal_ns / 1000);
}

/* ---- GOMAXPROCS under load: nothing lost, nothing run twice ---- */

#define UNITS 6000

static struct {
	go_chan *work;
	uint32_t done[UNITS];		/* atomic */
	uint32_t slept;			/* sleepers that woke; atomic */
	uint32_t stop;
	go_waitgroup wg;
} rl;

static void rl_worker(void *arg)
{
	int32_t id;

	while (go_chan_recv(rl.work, &id)) {
		for (volatile int i = 0; i < (id % 7) * 200; i++)
			;
		__atomic_add_fetch(&rl.done[id], 1, __ATOMIC_RELAXED);
		if (id % 50 == 0)
			go_sched();
	}
	go_waitgroup_done(&rl.wg);
}

static void rl_locked_worker(void *arg)
{
	go_lock_os_thread();
	rl_worker(arg);
	go_unlock_os_thread();
}

static void rl_sleeper(void *arg)
{
	go_sleep((int64_t)(uintptr_t)arg * MS);
	__atomic_add_fetch(&rl.slept, 1, __ATOMIC_RELAXED);
	go_waitgroup_done(&rl.wg);
}

static void rl_syscaller(void *arg)
{
	while (!__atomic_load_n(&rl.stop, __ATOMIC_RELAXED))
		go_syscall_sleep(MS);
	go_waitgroup_done(&rl.wg);
}

RTEST_TIMEOUT(gomaxprocs_resize_under_load_loses_nothing, 240)
{
	static const int sizes[] = { 1, 8, 3, 1, 5, 2, 7, 4, 6, 1 };
	int orig = go_gomaxprocs();
	int workers = 12, sleepers = 40;

	memset(&rl, 0, sizeof(rl));
	rl.work = go_chan_make(sizeof(int32_t), 64);
	go_waitgroup_add(&rl.wg, workers + sleepers + 2);
	for (int i = 0; i < workers; i++)
		go_spawn(i < 2 ? rl_locked_worker : rl_worker, NULL);
	for (int i = 0; i < sleepers; i++)
		go_spawn(rl_sleeper, (void *)(uintptr_t)(5 + i % 30));
	go_spawn(rl_syscaller, NULL);
	go_spawn(rl_syscaller, NULL);

	/* 100 resizes while the units flow. */
	int resizes = 0;
	for (int32_t id = 0; id < UNITS; id++) {
		go_chan_send(rl.work, &id);
		if (id % (UNITS / 100) == 0) {
			int want = sizes[resizes % 10];
			int before = go_gomaxprocs();
			int old = go_set_gomaxprocs(want);
			KT_CHECK(old == before);
			KT_CHECK(go_gomaxprocs() == want);
			resizes++;
		}
	}
	go_chan_close(rl.work);
	__atomic_store_n(&rl.stop, 1, __ATOMIC_RELEASE);
	go_waitgroup_wait(&rl.wg);
	KT_EQ(go_set_gomaxprocs(orig), sizes[(resizes - 1) % 10]);
	go_chan_free(rl.work);

	int missing = 0, twice = 0;
	for (int i = 0; i < UNITS; i++) {
		missing += rl.done[i] == 0;
		twice += rl.done[i] > 1;
	}
	kprintf("# %d resizes; %ld us stopped in all\n", resizes,
		sched.stwtotal_ns / 1000);
	KT_EQ(resizes, 100);
	KT_EQ(missing, 0);
	KT_EQ(twice, 0);
	KT_EQ(rl.slept, (uint32_t)sleepers);
	KT_EQ(go_gomaxprocs(), orig);
}

/* ---- reading it, bounds, and schedtrace's [..] ---- */

struct tracebuf {
	char s[512];
	size_t n;
};

static void tb_put(void *arg, const char *s, size_t n)
{
	struct tracebuf *tb = arg;

	while (n-- && tb->n < sizeof(tb->s) - 1)
		tb->s[tb->n++] = *s++;
	tb->s[tb->n] = '\0';
}

/* Entries between the brackets of a SCHED line. */
static int trace_entries(void)
{
	static struct tracebuf tb;

	tb.n = 0;
	schedtrace_to(false, tb_put, &tb);
	char *b = strchr(tb.s, '[');
	if (!b || !strchr(b, ']'))
		return -1;
	int n = 0;
	for (char *p = b + 1; *p && *p != ']'; p++)
		n += (*p != ' ' && (p[-1] == ' ' || p[-1] == '['));
	return n;
}

RTEST(gomaxprocs_reads_caps_and_shows_in_schedtrace)
{
	int orig = go_gomaxprocs();

	KT_EQ(go_set_gomaxprocs(0), orig);	/* reads only */
	KT_EQ(go_set_gomaxprocs(-3), orig);
	KT_EQ(trace_entries(), orig);
	KT_EQ(go_set_gomaxprocs(3), orig);
	KT_EQ(go_gomaxprocs(), 3);
	KT_EQ(trace_entries(), 3);
	KT_EQ(go_set_gomaxprocs(1000), 3);	/* capped */
	KT_EQ(go_gomaxprocs(), MAX_PROCS);
	KT_EQ(trace_entries(), -1);		/* too long for the buffer */
	KT_EQ(go_set_gomaxprocs(1), MAX_PROCS);
	KT_EQ(trace_entries(), 1);
	KT_EQ(go_set_gomaxprocs(orig), 1);
	KT_EQ(trace_entries(), orig);
}

/* ---- TestGoroutineParallelism with GOMAXPROCS(P) ---- */

static struct {
	uint32_t x;
	int procs;
	go_waitgroup wg;
} gp_par;

static void par_worker(void *arg)
{
	int p = (int)(uintptr_t)arg;

	for (int i = 0; i < 3; i++) {
		uint32_t expected = (uint32_t)(gp_par.procs * i + p);
		while (__atomic_load_n(&gp_par.x, __ATOMIC_ACQUIRE) != expected)
			__asm__ volatile("pause");
		__atomic_store_n(&gp_par.x, expected + 1, __ATOMIC_RELEASE);
	}
	go_waitgroup_done(&gp_par.wg);
}

RTEST_TIMEOUT(gomaxprocs_goroutine_parallelism, 120)
{
	int orig = go_gomaxprocs();
	int P = go_numcpu() < 4 ? go_numcpu() : 4;

	/* From one P up to P: every one of them must run at once. */
	go_set_gomaxprocs(1);
	KT_EQ(go_set_gomaxprocs(P), 1);
	for (int try = 0; try < 10; try++) {
		gp_par.x = 0;
		gp_par.procs = P;
		go_waitgroup_add(&gp_par.wg, P);
		for (int p = 0; p < P; p++)
			go_spawn(par_worker, (void *)(uintptr_t)p);
		go_waitgroup_wait(&gp_par.wg);
		KT_EQ(gp_par.x, 3 * P);
	}
	go_set_gomaxprocs(orig);
}

/* ---- bench: how long a stop takes with every P busy ---- */

static uint32_t lat_stop;

static void lat_spin(void *arg)
{
	go_waitgroup *wg = arg;

	/* No calls: only asynchronous preemption stops it.  The pause now
	 * and then lets single-threaded TCG switch vCPUs (it would not for
	 * 100 ms); at every turn it would spend the run on switching. */
	while (!__atomic_load_n(&lat_stop, __ATOMIC_RELAXED)) {
		for (volatile int i = 0; i < 500; i++)
			;
		__asm__ volatile("pause");
	}
	go_waitgroup_done(wg);
}

static void sort_u64(uint64_t *v, int n)
{
	for (int i = 1; i < n; i++)
		for (int j = i; j > 0 && v[j] < v[j - 1]; j--) {
			uint64_t t = v[j]; v[j] = v[j - 1]; v[j - 1] = t;
		}
}

/*
 * stw-latency-Np: the median, over 21 stops, of the TSC from
 * stopTheWorld's call to its return, with a goroutine spinning (no
 * calls: only asynchronous preemption stops it) on every other P.
 */
RBENCH(bench_stw_latency)
{
	static const int procs[] = { 1, 2, 4, 8 };
	static go_waitgroup wg;
	int orig = go_gomaxprocs();
	uint64_t t[21];

	for (unsigned k = 0; k < ARRAY_SIZE(procs); k++) {
		int P = procs[k];
		go_set_gomaxprocs(P);
		lat_stop = 0;
		go_waitgroup_add(&wg, P - 1);
		for (int i = 0; i < P - 1; i++)
			go_spawn(lat_spin, &wg);
		go_sleep(2 * MS);		/* they run */
		for (int r = 0; r < 21; r++) {
			uint64_t t0 = rdtsc();
			stopTheWorld("bench");
			t[r] = rdtsc() - t0;
			startTheWorld(0);
			go_sleep(MS);
		}
		__atomic_store_n(&lat_stop, 1, __ATOMIC_RELEASE);
		go_waitgroup_wait(&wg);
		sort_u64(t, 21);
		char name[32];
		snprintf(name, sizeof(name), "stw-latency-%dp", P);
		bench_print(name, t[10], 1);
	}
	go_set_gomaxprocs(orig);
}
