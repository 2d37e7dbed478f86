/*
 * tests/sync_bench.c - benchmarks of channels, select and the sync tier
 * (make bench), in the shapes of Go's own benchmarks so that the figures
 * stand beside Go's (tools/gobench measures Go's under callgrind).
 *
 * bench_*: TSC per operation; make bench runs them with maxprocs=1 under
 * -icount, where the TSC counts guest instructions.  ratio_*: a figure
 * against another taken in the same run (multi-threaded TCG).
 */
#include "kernel/ktest.h"
#include "kernel/smp.h"
#include "kernel/cpu.h"
#include "arch/x86_64/x86.h"
#include "include/rt0.h"

/* ---- chan-pingpong: an unbuffered round trip between two Gs ---- */

struct pingpong {
	go_chan *ping, *pong;
	uint32_t n;
	go_waitgroup wg;
};

static void ponger(void *a)
{
	struct pingpong *pp = a;
	int64_t v;

	for (uint32_t i = 0; i < pp->n; i++) {
		go_chan_recv(pp->ping, &v);
		go_chan_send(pp->pong, &v);
	}
	go_waitgroup_done(&pp->wg);
}

/* main sends on ping and waits for pong, n times; returns TSC per trip. */
static uint64_t chan_round_trips(uint32_t n)
{
	static struct pingpong pp;

	pp = (struct pingpong){ .ping = go_chan_make(8, 0),
				.pong = go_chan_make(8, 0), .n = n };
	go_waitgroup_add(&pp.wg, 1);
	go_spawn(ponger, &pp);
	uint64_t t0 = rdtsc();
	for (int64_t i = 0; i < n; i++) {
		int64_t v;
		go_chan_send(pp.ping, &i);
		go_chan_recv(pp.pong, &v);
	}
	uint64_t t = rdtsc() - t0;
	go_waitgroup_wait(&pp.wg);
	go_chan_free(pp.ping);
	go_chan_free(pp.pong);
	return t / n;
}

RBENCH(bench_chan_pingpong)
{
	uint32_t n = 100000;

	chan_round_trips(1000);		/* warm up */
	bench_print("chan-pingpong", chan_round_trips(n) * n, n);
}

/* ---- chan-sync: Go's BenchmarkChanSync (2 Gs, one channel) ---- */

#define CALLS_PER_SCHED 1000

struct chansync {
	go_chan *myc;
	int32_t n;		/* batches left; atomic */
	go_waitgroup wg;
};

static void chansync_worker(void *a)
{
	struct chansync *s = a;
	int64_t v = 0;

	for (;;) {
		int32_t i = __atomic_sub_fetch(&s->n, 1, __ATOMIC_SEQ_CST);
		if (i < 0)
			break;
		for (int g = 0; g < CALLS_PER_SCHED; g++) {
			if (i % 2 == 0) {
				go_chan_recv(s->myc, &v);
				go_chan_send(s->myc, &v);
			} else {
				go_chan_send(s->myc, &v);
				go_chan_recv(s->myc, &v);
			}
		}
	}
	go_waitgroup_done(&s->wg);
}

RBENCH(bench_chan_sync)
{
	static struct chansync s;
	uint32_t ops = 200000;

	s = (struct chansync){ .myc = go_chan_make(8, 0),
			       .n = (int32_t)(ops / CALLS_PER_SCHED / 2 * 2) };
	go_waitgroup_add(&s.wg, 2);
	uint64_t t0 = rdtsc();
	go_spawn(chansync_worker, &s);
	go_spawn(chansync_worker, &s);
	go_waitgroup_wait(&s.wg);
	uint64_t t = rdtsc() - t0;
	go_chan_free(s.myc);
	bench_print("chan-sync", t, ops);
}

/* ---- chan-prodcons0/100: Go's benchmarkChanProdCons, one pair ---- */

struct prodcons {
	go_chan *myc;
	int32_t n;		/* batches left */
	go_waitgroup wg;
};

static void producer(void *a)
{
	struct prodcons *pc = a;
	int64_t one = 1, zero = 0;

	while (__atomic_sub_fetch(&pc->n, 1, __ATOMIC_SEQ_CST) >= 0)
		for (int g = 0; g < CALLS_PER_SCHED; g++)
			go_chan_send(pc->myc, &one);
	go_chan_send(pc->myc, &zero);
	go_waitgroup_done(&pc->wg);
}

static void consumer(void *a)
{
	struct prodcons *pc = a;
	int64_t v;

	do
		go_chan_recv(pc->myc, &v);
	while (v != 0);
	go_waitgroup_done(&pc->wg);
}

static void prodcons(const char *name, uint32_t size)
{
	static struct prodcons pc;
	uint32_t ops = 200000;

	pc = (struct prodcons){ .myc = go_chan_make(8, size),
				.n = (int32_t)(ops / CALLS_PER_SCHED) };
	go_waitgroup_add(&pc.wg, 2);
	uint64_t t0 = rdtsc();
	go_spawn(producer, &pc);
	go_spawn(consumer, &pc);
	go_waitgroup_wait(&pc.wg);
	uint64_t t = rdtsc() - t0;
	go_chan_free(pc.myc);
	bench_print(name, t, ops);
}

RBENCH(bench_chan_prodcons0)
{
	prodcons("chan-prodcons0", 0);
}

RBENCH(bench_chan_prodcons100)
{
	prodcons("chan-prodcons100", 100);
}

/* ---- select-uncontended: Go's BenchmarkSelectUncontended, one G ---- */

RBENCH(bench_select_uncontended)
{
	go_chan *myc1 = go_chan_make(8, 1), *myc2 = go_chan_make(8, 1);
	int64_t v = 0, zero = 0;
	uint32_t n = 100000;
	struct go_select_case cases[2];

	go_chan_send(myc1, &zero);
	uint64_t t0 = rdtsc();
	for (uint32_t i = 0; i < n; i++) {
		cases[0] = GO_RECV(myc1, &v);
		cases[1] = GO_RECV(myc2, &v);
		if (go_select(cases, 2, true) == 0)
			go_chan_send(myc2, &zero);
		else
			go_chan_send(myc1, &zero);
	}
	uint64_t t = rdtsc() - t0;
	go_chan_free(myc1);
	go_chan_free(myc2);
	bench_print("select-uncontended", t, n);
}

/* ---- chan-nonblocking: Go's BenchmarkChanNonblocking, one G ---- */

RBENCH(bench_chan_nonblocking)
{
	go_chan *myc = go_chan_make(8, 0);
	int64_t v;
	uint32_t n = 200000, got = 0;

	uint64_t t0 = rdtsc();
	for (uint32_t i = 0; i < n; i++)
		got += go_chan_tryrecv(myc, &v, NULL);
	uint64_t t = rdtsc() - t0;
	go_chan_free(myc);
	if (got)
		KT_FAIL("received %u values from a channel nobody sends on", got);
	bench_print("chan-nonblocking", t, n);
}

/* ---- mutex-uncontended, waitgroup-uncontended ---- */

RBENCH(bench_mutex_uncontended)
{
	static go_mutex mu;
	uint32_t n = 200000;

	uint64_t t0 = rdtsc();
	for (uint32_t i = 0; i < n; i++) {
		go_mutex_lock(&mu);
		go_mutex_unlock(&mu);
	}
	uint64_t t = rdtsc() - t0;
	bench_print("mutex-uncontended", t, n);
}

RBENCH(bench_waitgroup_uncontended)
{
	static go_waitgroup wg;
	uint32_t n = 200000;

	uint64_t t0 = rdtsc();
	for (uint32_t i = 0; i < n; i++) {
		go_waitgroup_add(&wg, 1);
		go_waitgroup_done(&wg);
		go_waitgroup_wait(&wg);
	}
	uint64_t t = rdtsc() - t0;
	bench_print("waitgroup-uncontended", t, n);
}

/* ---- sema-handoff: a round trip of handing semaphores over ---- */

struct handoff {
	uint32_t s1, s2;
	uint32_t n;
	go_waitgroup wg;
};

static void handoff_b(void *a)
{
	struct handoff *h = a;

	for (uint32_t i = 0; i < h->n; i++) {
		go_semacquire(&h->s1);
		go_semrelease(&h->s2, true);
	}
	go_waitgroup_done(&h->wg);
}

RBENCH(bench_sema_handoff)
{
	static struct handoff h;
	uint32_t n = 100000;

	h = (struct handoff){ .n = n };
	go_waitgroup_add(&h.wg, 1);
	go_spawn(handoff_b, &h);
	go_sched();			/* b runs and waits on s1 */
	uint64_t t0 = rdtsc();
	for (uint32_t i = 0; i < n; i++) {
		go_semrelease(&h.s1, true);
		go_semacquire(&h.s2);
	}
	uint64_t t = rdtsc() - t0;
	go_waitgroup_wait(&h.wg);
	bench_print("sema-handoff", t, n);
}

/* ---- cross-CPU: a channel round trip against a bare IPI round trip ---- */

/*
 * A channel round trip between two CPUs: main sends on ping and then
 * polls pong with go_chan_tryrecv, never parking, so its P stays busy and
 * the partner -- readied into main's runnext -- must be taken by another
 * P, on another CPU, woken for it.  The partner receives and sends on
 * pong, where it waits for main's poll to take the value.
 */
struct xcpu {
	go_chan *ping, *pong;
	uint32_t n;
	go_waitgroup wg;
};

static void xcpu_partner(void *a)
{
	struct xcpu *x = a;
	int64_t v;

	for (uint32_t i = 0; i < x->n; i++) {
		go_chan_recv(x->ping, &v);
		go_chan_send(x->pong, &v);
	}
	go_waitgroup_done(&x->wg);
}

static void ipi_back(void *a)
{
	__atomic_store_n((uint64_t *)a, rdtsc(), __ATOMIC_RELEASE);
}

static void sort_u64(uint64_t *v, int n)
{
	for (int i = 1; i < n; i++)
		for (int j = i; j > 0 && v[j] < v[j - 1]; j--) {
			uint64_t t = v[j]; v[j] = v[j - 1]; v[j - 1] = t;
		}
}

#define ROUNDS 101
RBENCH(ratio_chan_vs_ipi)
{
	static uint64_t chan_rt[ROUNDS], ipi_rt[ROUNDS];
	static struct xcpu x;

	if (go_gomaxprocs() < 2 || ncpu < 2)
		KT_FAIL("needs 2 CPUs and 2 Ps");
	x = (struct xcpu){ .ping = go_chan_make(8, 0),
			   .pong = go_chan_make(8, 0), .n = ROUNDS + 10 };
	go_waitgroup_add(&x.wg, 1);
	go_spawn(xcpu_partner, &x);
	for (int r = -10; r < ROUNDS; r++) {	/* 10 to warm up */
		int64_t v = r, got;
		go_sleep(1000000);	/* the other CPU goes idle meanwhile */
		uint64_t t0 = rdtsc();
		go_chan_send(x.ping, &v);
		while (!go_chan_tryrecv(x.pong, &got, NULL))
			cpu_relax();
		uint64_t t = rdtsc() - t0;
		if (got != v)
			KT_FAIL("round %d: sent %ld, got back %ld", r, v, got);
		if (r < 0)
			continue;
		chan_rt[r] = t;
		/* A bare IPI round trip: smp_call_cpu IPIs another CPU and
		 * returns once its handler has run there. */
		struct cpu *other = &cpus[(this_cpu()->id + 1) % ncpu];
		uint64_t mark = 0;
		go_sleep(1000000);
		t0 = rdtsc();
		smp_call_cpu(other, ipi_back, &mark);
		ipi_rt[r] = rdtsc() - t0;
		if (!mark)
			KT_FAIL("the IPI handler did not run");
	}
	go_waitgroup_wait(&x.wg);
	go_chan_free(x.ping);
	go_chan_free(x.pong);
	sort_u64(chan_rt, ROUNDS);
	sort_u64(ipi_rt, ROUNDS);
	kprintf("# median channel round trip across CPUs %lu cycles, IPI round "
		"trip %lu cycles\n", chan_rt[ROUNDS / 2], ipi_rt[ROUNDS / 2]);
	bench_print_ratio("chan-vs-ipi", chan_rt[ROUNDS / 2], ipi_rt[ROUNDS / 2]);
}
