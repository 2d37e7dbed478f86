/*
 * tests/sched_bench.c - the runtime's benchmarks (make bench).
 *
 * bench_*: TSC per operation; make bench runs them with maxprocs=1 under
 * -icount (the TSC counts instructions) and under multi-threaded TCG.
 * ratio_*: figures that only mean something against another taken in the
 * same run (multi-threaded TCG, 2 CPUs).
 */
#include "kernel/ktest.h"
#include "kernel/cpu.h"
#include "kernel/smp.h"
#include "arch/x86_64/x86.h"
#include "tests/go_helpers.h"

/* ---- spawn chain: each G spawns the next and exits ---- */

struct chain {
	uint32_t left;
	uint64_t t0, t1;
	go_waitgroup wg;
};

static void link_fn(void *a)
{
	struct chain *c = a;

	if (--c->left) {
		go_spawn(link_fn, c);
		return;
	}
	c->t1 = rdtsc();
	go_waitgroup_done(&c->wg);
}

RBENCH(bench_spawn_chain)
{
	static struct chain c;
	uint32_t n = 200000;

	c = (struct chain){ .left = 20000 };	/* warm the G cache */
	go_and_wait(&c.wg, link_fn, &c);
	c = (struct chain){ .left = n };
	go_waitgroup_add(&c.wg, 1);
	c.t0 = rdtsc();
	go_spawn(link_fn, &c);
	go_waitgroup_wait(&c.wg);
	bench_print("spawn-chain", c.t1 - c.t0, n);
}

/* ---- Gosched between two Gs ---- */

struct yielders {
	uint32_t n;
	uint64_t t0, t1;
	go_waitgroup wg;
};

static void yielder(void *a)
{
	struct yielders *y = a;

	for (uint32_t i = y->n; i; i--)
		go_sched();
	y->t1 = rdtsc();
	go_waitgroup_done(&y->wg);
}

/* Two yielders, n rounds each: both loops interleave, 2n switches. */
static void yield_pair(const char *name)
{
	static struct yielders y;

	y = (struct yielders){ .n = 100000 };
	go_waitgroup_add(&y.wg, 2);
	y.t0 = rdtsc();
	go_spawn(yielder, &y);
	go_spawn(yielder, &y);
	go_waitgroup_wait(&y.wg);
	bench_print(name, y.t1 - y.t0, 2ull * y.n);
}

RBENCH(bench_gosched)
{
	yield_pair("gosched");
}

/*
 * The same with a goroutine asleep meanwhile (a timer pending on the P,
 * due after the loop ends), as in most real programs.
 */
static void sleeper_500ms(void *a)
{
	go_sleep(500 * 1000000ll);
	go_waitgroup_done(a);
}

RBENCH(bench_gosched_timer_pending)
{
	static go_waitgroup slept;

	go_waitgroup_add(&slept, 1);
	go_spawn(sleeper_500ms, &slept);
	go_sched();			/* it runs and sleeps */
	yield_pair("gosched-timer-pending");
	go_waitgroup_wait(&slept);		/* no timer left for the next bench */
}

/* ---- park/ready ping-pong (one P: strict alternation) ---- */

/*
 * A side's state: RUNNING, PARKED (its G is parked and needs a ready), or
 * BALL (the ball arrived before it parked: it must not park).  The
 * protocol does not assume the other side is already parked: sysmon may
 * preempt a side between its ready and its park (a ready/park chain shares
 * one time slice, so after 10 ms it is asked to stop).
 */
enum { RUNNING, PARKED, BALL };

struct pingpong {
	go_g *g[2];
	uint32_t state[2];
	uint32_t n;
	uint64_t t0, t1;
	go_waitgroup wg;
};

static bool pp_park(go_g *self, void *arg)
{
	uint32_t running = RUNNING;

	(void)self;
	return __atomic_compare_exchange_n((uint32_t *)arg, &running, PARKED,
					   false, __ATOMIC_ACQ_REL,
					   __ATOMIC_ACQUIRE);
}

static void pp_wait(struct pingpong *pp, int me)
{
	go_park(pp_park, &pp->state[me], "ping-pong");
	__atomic_store_n(&pp->state[me], RUNNING, __ATOMIC_RELAXED);
}

static void pp_give(struct pingpong *pp, int other)
{
	if (__atomic_exchange_n(&pp->state[other], BALL, __ATOMIC_ACQ_REL) ==
	    PARKED)
		go_ready(pp->g[other]);
}

static void pp_side(struct pingpong *pp, int me)
{
	pp->g[me] = go_self();		/* before the other can need it */
	if (me == 1)
		pp_wait(pp, me);		/* wait for the first ball */
	for (uint32_t i = 0; i < pp->n; i++) {
		pp_give(pp, 1 - me);
		pp_wait(pp, me);
	}
	if (me == 0)
		pp_give(pp, 1);
	else
		pp->t1 = rdtsc();
	go_waitgroup_done(&pp->wg);
}

static void ping(void *a) { pp_side(a, 0); }
static void pong(void *a) { pp_side(a, 1); }

RBENCH(bench_park_ready)
{
	static struct pingpong pp;

	if (go_gomaxprocs() != 1)
		KT_FAIL("needs maxprocs=1 (strict alternation)");
	pp = (struct pingpong){ .n = 100000 };
	go_waitgroup_add(&pp.wg, 2);
	go_spawn(pong, &pp);
	go_sleep(1000000);		/* pong parks first */
	pp.t0 = rdtsc();
	go_spawn(ping, &pp);
	go_waitgroup_wait(&pp.wg);
	/* A round trip: ping readies pong and parks, pong does the same. */
	bench_print("park-ready", pp.t1 - pp.t0, pp.n);
}

/* ---- cross-CPU wake latency against a bare IPI ---- */

struct wake {
	go_g *sleeper;
	uint64_t sent, woke;
	uint32_t ready;
};

static void wake_sleeper(void *a)
{
	struct wake *w = a;

	w->sleeper = go_self();
	__atomic_store_n(&w->ready, 1, __ATOMIC_RELEASE);
	go_park(NULL, NULL, "wake bench");
	__atomic_store_n(&w->woke, rdtsc(), __ATOMIC_RELEASE);
}

static void ipi_mark(void *a)
{
	*(uint64_t *)a = rdtsc();
}

static void sort_u64(uint64_t *v, int n)
{
	for (int i = 1; i < n; i++)
		for (int j = i; j > 0 && v[j] < v[j - 1]; j--) {
			uint64_t t = v[j]; v[j] = v[j - 1]; v[j - 1] = t;
		}
}

#define ROUNDS 101
RBENCH(ratio_wake_vs_ipi)
{
	static struct wake w;
	static uint64_t wake_lat[ROUNDS], ipi_lat[ROUNDS];

	if (go_gomaxprocs() < 2 || ncpu < 2)
		KT_FAIL("needs 2 CPUs and 2 Ps");
	for (int r = 0; r < ROUNDS; r++) {
		w = (struct wake){ 0 };
		go_spawn(wake_sleeper, &w);
		while (!__atomic_load_n(&w.ready, __ATOMIC_ACQUIRE))
			go_sched();
		go_sleep(2000000);	/* every other CPU is idle and halted */
		w.sent = rdtsc();
		go_ready(w.sleeper);	/* our P keeps running us: another
					 * CPU must take it */
		while (!__atomic_load_n(&w.woke, __ATOMIC_ACQUIRE))
			cpu_relax();
		wake_lat[r] = w.woke - w.sent;

		/* The bare IPI: to a halted CPU that is not ours. */
		struct cpu *me = this_cpu();
		struct cpu *other = &cpus[(me->id + 1) % ncpu];
		uint64_t mark = 0;
		go_sleep(2000000);
		uint64_t t0 = rdtsc();
		smp_call_cpu(other, ipi_mark, &mark);
		ipi_lat[r] = mark - t0;
	}
	sort_u64(wake_lat, ROUNDS);
	sort_u64(ipi_lat, ROUNDS);
	kprintf("# median wake %lu cycles, bare IPI %lu cycles\n",
		wake_lat[ROUNDS / 2], ipi_lat[ROUNDS / 2]);
	bench_print_ratio("wake-vs-ipi", wake_lat[ROUNDS / 2],
			  ipi_lat[ROUNDS / 2]);
}

/* ---- spawn throughput (make bench divides the 2-P by the 1-P figure) */

struct spawners {
	uint32_t per;
	go_waitgroup wg;
};

static void small_work(void *a)
{
	struct spawners *s = a;
	volatile uint64_t x = 0;

	for (int i = 0; i < 2000; i++)
		x += i;
	go_waitgroup_done(&s->wg);
}

static void spawner(void *a)
{
	struct spawners *s = a;

	for (uint32_t i = 0; i < s->per; i++) {
		go_spawn(small_work, s);
		if (i % 128 == 127)
			go_sched();	/* let them run: bounded live set */
	}
	go_waitgroup_done(&s->wg);
}

RBENCH(ratio_spawn_throughput)
{
	static struct spawners s;
	int procs = go_gomaxprocs();

	s = (struct spawners){ .per = 100000 / (uint32_t)procs };
	uint32_t total = s.per * (uint32_t)procs;
	go_waitgroup_add(&s.wg, (int32_t)(total + (uint32_t)procs));
	int64_t t0 = go_nanotime();
	for (int p = 0; p < procs; p++)
		go_spawn(spawner, &s);
	go_waitgroup_wait(&s.wg);
	int64_t ns = go_nanotime() - t0;
	kprintf("bench spawn-throughput-%dp %ld goroutines/s\n", procs,
		(int64_t)total * 1000000000 / ns);
}
