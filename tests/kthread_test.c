/*
 * tests/kthread_test.c - kernel threads: wait/wake without lost wakeups,
 * fairness, per-thread FS base and FPU state across preemption, exit words,
 * memory returned, timers that never fire early.
 */
#include "kernel/cpu.h"
#include "kernel/mem.h"
#include "kernel/smp.h"
#include "arch/x86_64/cpufeat.h"
#include "arch/x86_64/x86.h"
#include "tests/kt_helpers.h"

#define SEC NSEC_PER_SEC
#define MS NSEC_PER_MSEC

/* ---- ping-pong ---- */

struct pingpong {
	uint32_t word;			/* even: ping's turn, odd: pong's */
	uint32_t rounds;
	uint32_t timeouts;		/* a wait that hit its 10 s deadline */
	bool no_deadline;		/* benchmarks: plain waits */
};

static void pp_side(struct pingpong *pp, uint32_t parity)
{
	for (uint32_t i = 0; i < pp->rounds; i++) {
		uint32_t v;
		while ((v = __atomic_load_n(&pp->word, __ATOMIC_ACQUIRE)) % 2 !=
		       parity)
			if (kwait(&pp->word, v, pp->no_deadline ? 0 :
				  nanotime() + 10 * SEC) == KWAIT_TIMEOUT)
				__atomic_fetch_add(&pp->timeouts, 1,
						   __ATOMIC_RELAXED);
		__atomic_store_n(&pp->word, v + 1, __ATOMIC_RELEASE);
		kwake(&pp->word, 1);
	}
}

static void ping(void *a) { pp_side(a, 0); }
static void pong(void *a) { pp_side(a, 1); }

KTEST_TIMEOUT(kthread_pingpong_two_cpus, 240)
{
	struct pingpong pp = { .rounds = 100000 };
	struct tthread a, b;
	uint64_t ipis = 0, t0 = nanotime();

	for (uint32_t i = 0; i < ncpu; i++)
		ipis += cpus[i].stat.ipi_recv;
	KT_ASSERT(tthread_start(&a, "ping", ping, &pp, 0));
	KT_ASSERT(tthread_start(&b, "pong", pong, &pp, other_cpu(0)));
	KT_ASSERT(tthread_join(&a, 200 * SEC));
	KT_ASSERT(tthread_join(&b, 200 * SEC));
	KT_EQ(pp.timeouts, 0);
	KT_EQ(pp.word, 2 * pp.rounds);
	for (uint32_t i = 0; i < ncpu; i++)
		ipis -= cpus[i].stat.ipi_recv;
	kprintf("# %u round trips in %lu ms, %ld IPIs\n", pp.rounds,
		(nanotime() - t0) / MS, -(int64_t)ipis);
}

/* A token goes around a ring of 1000 threads, each waiting on its word. */
#define RING 1000
struct ring {
	uint32_t word[RING];
	uint32_t laps;
	uint32_t timeouts;
	uint32_t visits[RING];
};

struct ring_arg {
	struct ring *r;
	uint32_t i;
};

static void ring_member(void *p)
{
	struct ring_arg *ra = p;
	struct ring *r = ra->r;
	uint32_t i = ra->i;

	for (uint32_t lap = 0; lap < r->laps; lap++) {
		while (!__atomic_load_n(&r->word[i], __ATOMIC_ACQUIRE))
			if (kwait(&r->word[i], 0, nanotime() + 20 * SEC) ==
			    KWAIT_TIMEOUT)
				__atomic_fetch_add(&r->timeouts, 1,
						   __ATOMIC_RELAXED);
		r->word[i] = 0;
		r->visits[i]++;
		uint32_t n = (i + 1) % RING;
		__atomic_store_n(&r->word[n], 1, __ATOMIC_RELEASE);
		kwake(&r->word[n], 1);
	}
}

KTEST_TIMEOUT(kthread_ring_of_1000, 300)
{
	static struct ring r;
	static struct ring_arg args[RING];
	static struct tthread th[RING];
	uint64_t before = mem_free_pages();
	uint32_t live = kthread_count();

	memset(&r, 0, sizeof(r));
	r.laps = 10;
	for (uint32_t i = 0; i < RING; i++) {
		args[i] = (struct ring_arg){ &r, i };
		KT_ASSERT(tthread_start(&th[i], "ring", ring_member, &args[i], -1));
	}
	KT_EQ(kthread_count(), live + RING);
	__atomic_store_n(&r.word[0], 1, __ATOMIC_RELEASE);
	kwake(&r.word[0], 1);
	for (uint32_t i = 0; i < RING; i++)
		KT_ASSERTF(tthread_join(&th[i], 240 * SEC), "member %u stuck", i);
	KT_EQ(r.timeouts, 0);
	for (uint32_t i = 0; i < RING; i++)
		KT_EQ(r.visits[i], r.laps);
	KT_EQ(kthread_count(), live);
	KT_EQ(mem_free_pages(), before);
}

/* ---- fairness ---- */

/*
 * A CPU-bound thread that measures how long it actually ran: the sum of
 * the short steps between its clock reads (a step over 500 us means it was
 * off the CPU).  Run time, not loop counts, is what the scheduler hands
 * out: loop counts also depend on how the host runs each vCPU.
 */
struct hog {
	uint64_t end;
	uint64_t work;			/* ns of CPU time it got */
} __attribute__((aligned(64)));

static void hog(void *p)
{
	struct hog *h = p;
	uint64_t last = nanotime();

	for (;;) {
		uint64_t now = nanotime();
		if (now >= h->end)
			break;
		if (now - last < 500000)
			h->work += now - last;
		last = now;
		for (volatile int i = 0; i < 100; i++)
			;
	}
}

KTEST_TIMEOUT(kthread_n_plus_one_hogs_all_progress, 60)
{
	uint32_t n = ncpu + 1;
	static struct hog h[MAX_CPUS + 1];
	static struct tthread th[MAX_CPUS + 1];
	uint64_t preempt = 0;

	for (uint32_t i = 0; i < ncpu; i++)
		preempt += cpus[i].stat.preemptions;
	uint64_t end = nanotime() + SEC;
	for (uint32_t i = 0; i < n; i++) {
		h[i] = (struct hog){ .end = end };
		KT_ASSERT(tthread_start(&th[i], "hog", hog, &h[i], -1));
	}
	for (uint32_t i = 0; i < n; i++)
		KT_ASSERT(tthread_join(&th[i], 30 * SEC));
	uint64_t total = 0;
	for (uint32_t i = 0; i < n; i++)
		total += h[i].work;
	for (uint32_t i = 0; i < ncpu; i++)
		preempt -= cpus[i].stat.preemptions;
	/* Fair share is total/n of the CPU time handed out; each must get
	 * a fifth of it (a starved one gets none; at -smp 8 on two host
	 * cores, the host's own scheduling of the vCPUs has given one hog a
	 * quarter). */
	for (uint32_t i = 0; i < n; i++)
		kprintf("# hog %u: ran %lu ms, %lu%% of its fair share\n", i,
			h[i].work / MS, h[i].work * n * 100 / total);
	for (uint32_t i = 0; i < n; i++) {
		KT_ASSERTF(h[i].work * n * 5 >= total,
			   "hog %u ran %lu ms of %lu ms (fair share %lu ms)", i,
			   h[i].work / MS, total / MS, total / n / MS);
	}
	KT_CMP(-(int64_t)preempt, >, 0);	/* the tick did slice them */
}

/* ---- per-thread FS base and FPU state under preemption ---- */

struct tls_check {
	uint64_t block[2];		/* [1] is the thread pointer */
	uint64_t end;
	uint64_t rounds, bad;
};

static void tls_worker(void *p)
{
	struct tls_check *tc = p;
	uint64_t tp = (uint64_t)&tc->block[1];

	kthread_set_fsbase(tp);
	for (uint64_t i = 1; nanotime() < tc->end; i++) {
		uint64_t mark = tp ^ (i << 1), got;
		__asm__ volatile("movq %0, %%fs:-8" : : "r"(mark) : "memory");
		for (volatile int k = 0; k < 200; k++)
			;
		__asm__ volatile("movq %%fs:-8, %0" : "=r"(got) : : "memory");
		if (got != mark || fsbase_read() != tp)
			tc->bad++;
		tc->rounds++;
	}
}

KTEST_TIMEOUT(kthread_fs_base_per_thread, 60)
{
	static struct tls_check tc[2];
	struct tthread a, b;
	uint32_t old = kthread_set_slice_ms(1);
	uint64_t p0 = cpus[0].stat.preemptions;
	uint64_t end = nanotime() + 300 * MS;

	memset(tc, 0, sizeof(tc));
	tc[0].end = tc[1].end = end;
	KT_ASSERT(tthread_start(&a, "tls-a", tls_worker, &tc[0], 0));
	KT_ASSERT(tthread_start(&b, "tls-b", tls_worker, &tc[1], 0));
	KT_ASSERT(tthread_join(&a, 30 * SEC));
	KT_ASSERT(tthread_join(&b, 30 * SEC));
	kthread_set_slice_ms(old);
	uint64_t preempted = cpus[0].stat.preemptions - p0;
	kprintf("# %lu + %lu rounds, %lu preemptions on cpu 0\n",
		tc[0].rounds, tc[1].rounds, preempted);
	KT_EQ(tc[0].bad, 0);
	KT_EQ(tc[1].bad, 0);
	KT_CMP(preempted, >=, 20);
}

struct fp_work {
	double seed;
	double result;
	long double xresult;
	uint64_t end;			/* 0: a fixed number of steps */
	uint32_t steps;
};

static __attribute__((noinline)) void fp_compute(struct fp_work *w)
{
	double x = w->seed, y = 1.0 / w->seed;
	long double z = w->seed;

	for (uint32_t i = 0; i < w->steps; i++) {
		x = x * 1.0000001 + y * 0.4999999;
		y = y - x * 1e-9 + (double)(i & 7) * 0.125;
		z = z * 1.00000001L + (long double)y;
		if (x > 1e6) x *= 1e-6;
		if (z > 1e12L) z *= 1e-12L;
	}
	w->result = x + y;
	w->xresult = z;
}

static void fp_worker(void *p)
{
	fp_compute(p);
}

KTEST_TIMEOUT(kthread_fpu_state_survives_preemption, 120)
{
	static struct fp_work ref[2], run[2];
	struct tthread a, b;
	uint32_t old = kthread_set_slice_ms(1);

	for (int i = 0; i < 2; i++) {
		ref[i] = (struct fp_work){ .seed = 1.5 + i, .steps = 3000000 };
		fp_compute(&ref[i]);	/* alone, as the reference */
		run[i] = (struct fp_work){ .seed = 1.5 + i, .steps = 3000000 };
	}
	uint64_t p0 = cpus[0].stat.preemptions;
	KT_ASSERT(tthread_start(&a, "fp-a", fp_worker, &run[0], 0));
	KT_ASSERT(tthread_start(&b, "fp-b", fp_worker, &run[1], 0));
	KT_ASSERT(tthread_join(&a, 100 * SEC));
	KT_ASSERT(tthread_join(&b, 100 * SEC));
	kthread_set_slice_ms(old);
	uint64_t preempted = cpus[0].stat.preemptions - p0;
	kprintf("# %lu preemptions during the FP work\n", preempted);
	KT_CMP(preempted, >=, 4);
	for (int i = 0; i < 2; i++) {
		KT_ASSERTF(!memcmp(&ref[i].result, &run[i].result, 8),
			   "worker %d: SSE result differs after preemption", i);
		KT_ASSERTF(!memcmp(&ref[i].xresult, &run[i].xresult, 10),
			   "worker %d: x87 result differs after preemption", i);
	}
}

/* ---- exit words ---- */

struct exiter {
	uint32_t alive;
	uint32_t depth;
};

static __attribute__((noinline)) uint32_t burn(uint32_t d)
{
	volatile uint8_t pad[256];

	pad[0] = (uint8_t)d;
	return d ? burn(d - 1) + pad[0] : 0;
}

static void exiter(void *p)
{
	struct exiter *e = p;

	burn(e->depth);
	kthread_exit(&e->alive);
}

/* Load: always runnable, yielding every ~50 us so exits interleave. */
static void spinner(void *p)
{
	while (nanotime() < READ_ONCE(*(uint64_t *)p)) {
		uint64_t t0 = nanotime();
		while (nanotime() - t0 < 50000)
			cpu_relax();
		kthread_yield();
	}
}

KTEST_TIMEOUT(kthread_exit_word_after_stack_is_free, 240)
{
	uint64_t before = mem_free_pages();
	uint64_t load_end = nanotime() + 120 * SEC;
	struct tthread load[2];
	bool loaded = ncpu > 1;

	/* Load on the machine, so exits race with other work. */
	if (loaded)
		for (int i = 0; i < 2; i++)
			KT_ASSERT(tthread_start(&load[i], "load", spinner,
						&load_end, -1));
	for (uint32_t i = 0; i < 2000; i++) {
		struct exiter e = { .alive = 1, .depth = i % 16 };
		uint8_t *stack = page_alloc(4);
		KT_ASSERT(stack);
		KT_ASSERT(kthread_create("exiter", exiter, &e, stack, 4 * 4096,
					 -1));
		while (__atomic_load_n(&e.alive, __ATOMIC_ACQUIRE))
			kwait(&e.alive, 1, nanotime() + 10 * SEC);
		/* The word is clear: the stack must be dead.  Poison, free. */
		memset(stack, 0xdd, 4 * 4096);
		page_free(stack, 4);
	}
	load_end = 0;
	if (loaded)
		for (int i = 0; i < 2; i++)
			KT_ASSERT(tthread_join(&load[i], 30 * SEC));
	KT_EQ(mem_free_pages(), before);
}

static void nothing(void *p)
{
	(void)p;
}

KTEST_TIMEOUT(kthread_10000_cycles_return_memory, 240)
{
	static struct tthread th[100];
	uint32_t live = kthread_count();
	uint64_t before = mem_free_pages();

	for (int batch = 0; batch < 100; batch++) {
		for (int i = 0; i < 100; i++)
			KT_ASSERT(tthread_start(&th[i], "cycle", nothing, NULL,
						-1));
		for (int i = 0; i < 100; i++)
			KT_ASSERT(tthread_join(&th[i], 30 * SEC));
	}
	KT_EQ(kthread_count(), live);
	KT_EQ(mem_free_pages(), before);
}

/* ---- sleeping and timed waits ---- */

struct sleeper {
	uint64_t dur;
	int64_t late;			/* ns after the deadline; <0: early */
};

static void sleeper(void *p)
{
	struct sleeper *s = p;
	uint64_t t0 = nanotime();

	ksleep_until(t0 + s->dur);
	s->late = (int64_t)(nanotime() - (t0 + s->dur));
}

KTEST_TIMEOUT(kthread_sleep_never_early, 60)
{
	static struct sleeper s[64];
	static struct tthread th[64];
	int64_t worst = 0, tick_ns = NSEC_PER_SEC / tick_hz;

	for (int i = 0; i < 64; i++) {
		s[i] = (struct sleeper){ .dur = 500000 + (uint64_t)i * 317000 };
		KT_ASSERT(tthread_start(&th[i], "sleeper", sleeper, &s[i], -1));
	}
	for (int i = 0; i < 64; i++)
		KT_ASSERT(tthread_join(&th[i], 30 * SEC));
	for (int i = 0; i < 64; i++) {
		KT_ASSERTF(s[i].late >= 0, "sleeper %d woke %ld ns early", i,
			   -s[i].late);
		worst = MAX(worst, s[i].late);
	}
	kprintf("# worst lateness %ld us (tick %ld us)\n", worst / 1000,
		tick_ns / 1000);
	/*
	 * One tick, plus scheduling delay: generous, since TCG shares host
	 * CPUs and a loaded host deschedules vCPUs for tens of ms (seen: 75
	 * ms).  A lost wakeup would be seconds late, or never.
	 */
	KT_CMP(worst, <=, tick_ns + 250 * (int64_t)MS);
}

struct waker {
	uint32_t *word;
	uint64_t after;
};

static void waker(void *p)
{
	struct waker *w = p;

	ksleep_until(nanotime() + w->after);
	__atomic_store_n(w->word, 1, __ATOMIC_RELEASE);
	kwake(w->word, 1);
}

KTEST(kthread_timed_wait_reports_correctly)
{
	uint32_t word = 0;
	uint64_t t0 = nanotime();

	/* Nobody wakes: a timeout, not before the deadline. */
	KT_EQ(kwait(&word, 0, t0 + 5 * MS), KWAIT_TIMEOUT);
	KT_CMP(nanotime(), >=, t0 + 5 * MS);
	/* The value already differs: no wait at all. */
	KT_EQ(kwait(&word, 7, nanotime() + SEC), KWAIT_AGAIN);
	/* A deadline in the past: an immediate timeout. */
	KT_EQ(kwait(&word, 0, nanotime() - 1), KWAIT_TIMEOUT);
	/* Woken well before the deadline: woken, and early. */
	struct waker w = { &word, 5 * MS };
	struct tthread th;
	t0 = nanotime();
	KT_ASSERT(tthread_start(&th, "waker", waker, &w, other_cpu(0)));
	int r = KWAIT_AGAIN;
	while (!__atomic_load_n(&word, __ATOMIC_ACQUIRE))
		r = kwait(&word, 0, t0 + 10 * SEC);
	KT_ASSERT(r == KWAIT_WOKEN || r == KWAIT_AGAIN);
	KT_CMP(nanotime(), <, t0 + 5 * SEC);
	KT_ASSERT(tthread_join(&th, 10 * SEC));
	/* kwake with no waiter wakes nobody. */
	KT_EQ(kwake(&word, 1), 0);
}

KTEST(kthread_preempt_count_blocks_slicing)
{
	struct hog h = { .end = nanotime() + 100 * MS };
	struct tthread th;
	uint32_t old = kthread_set_slice_ms(1);
	uint64_t p0 = cpus[0].stat.preemptions;

	/* A hog on our CPU wants the CPU; with preemption off we keep it. */
	preempt_disable();
	struct cpu *me = this_cpu();
	p0 = me->stat.preemptions;
	if (!tthread_start(&th, "hog", hog, &h, (int)me->id)) {
		preempt_enable();
		KT_FAIL("no thread");
	}
	uint64_t t0 = nanotime();
	while (nanotime() - t0 < 50 * MS)
		cpu_relax();
	uint64_t during = me->stat.preemptions - p0;
	bool stayed = kthread_current()->cpu == me;
	preempt_enable();		/* need_resched: yields here */
	KT_ASSERT(tthread_join(&th, 10 * SEC));
	kthread_set_slice_ms(old);
	KT_EQ(during, 0);
	KT_ASSERT(stayed);
	KT_CMP(h.work, >, 0);
}

/* ---- benchmarks (make bench) ---- */

struct yielder {
	uint32_t n;
	uint64_t tsc;
};

static void yielder(void *p)
{
	struct yielder *y = p;
	uint64_t t0 = rdtsc();

	for (uint32_t i = 0; i < y->n; i++)
		kthread_yield();
	y->tsc = rdtsc() - t0;
}

KBENCH(bench_kthread_switch)
{
	struct yielder y[2] = { { .n = 100000 }, { .n = 100000 } };
	struct tthread a, b;

	KT_ASSERT(tthread_start(&a, "yield-a", yielder, &y[0], 0));
	KT_ASSERT(tthread_start(&b, "yield-b", yielder, &y[1], 0));
	KT_ASSERT(tthread_join(&a, 60 * SEC));
	KT_ASSERT(tthread_join(&b, 60 * SEC));
	/* Each yield is one switch; both loops overlap in time. */
	bench_print("kthread-switch", MAX(y[0].tsc, y[1].tsc), 2ull * y[0].n);
}

static void pp_bench(int cpu_b, const char *name)
{
	struct pingpong pp = { .rounds = 50000, .no_deadline = true };
	struct tthread a, b;

	uint64_t t0 = rdtsc();
	if (!tthread_start(&a, "ping", ping, &pp, 0) ||
	    !tthread_start(&b, "pong", pong, &pp, cpu_b))
		KT_FAIL("no threads");
	if (!tthread_join(&a, 120 * SEC) || !tthread_join(&b, 120 * SEC))
		KT_FAIL("ping-pong stuck");
	/* Each side hands over once per round: rounds round trips. */
	bench_print(name, rdtsc() - t0, pp.rounds);
}

KBENCH(bench_kwait_wake_1cpu)
{
	pp_bench(0, "kwait-wake-1cpu");
}

KBENCH(bench_kwait_wake_2cpu)
{
	if (ncpu < 2)
		KT_FAIL("needs 2 CPUs");
	pp_bench(1, "kwait-wake-2cpu");
}
