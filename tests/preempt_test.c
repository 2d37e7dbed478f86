/*
 * tests/preempt_test.c - asynchronous preemption: tight loops do not
 * starve anyone (Go's TestPreemption, TestPingPongHog), and a preempted
 * goroutine resumes with every register intact.
 */
#include "kernel/ktest.h"
#include "sched/proc.h"
#include "tests/go_helpers.h"

#define MS 1000000l

/* ---- hogs on every P; main and a light pair still progress ---- */

struct hogs {
	uint32_t stop;
	uint32_t running;
};

static void tight_loop(void *a)
{
	struct hogs *h = a;

	__atomic_fetch_add(&h->running, 1, __ATOMIC_RELAXED);
	while (!__atomic_load_n(&h->stop, __ATOMIC_RELAXED))
		;			/* no call, no yield */
	__atomic_fetch_sub(&h->running, 1, __ATOMIC_RELEASE);
}

/*
 * A pair of goroutines passing a ball on an unbuffered channel, counting
 * to @limit each time they hold it, until @done is closed (Go's
 * TestPingPongHog's run).  pair_stop closes done and takes the ball in
 * flight, then waits for both to return.
 */
struct pair {
	go_chan *wake, *done;
	uint32_t limit;
	uint64_t count;
	go_waitgroup wg;
};

static void pair_run(void *a)
{
	struct pair *p = a;
	bool ball;

	for (;;) {
		struct go_select_case cs[2] = { GO_RECV(p->done, NULL),
						GO_RECV(p->wake, &ball) };
		if (go_select(cs, 2, true) == 0)
			break;
		for (uint32_t i = 0; i < p->limit; i++)
			WRITE_ONCE(p->count, p->count + 1);
		go_chan_send(p->wake, &ball);
	}
	go_waitgroup_done(&p->wg);
}

static void pair_start(struct pair *p, uint32_t limit)
{
	bool ball = true;

	*p = (struct pair){ .wake = go_chan_make(sizeof(bool), 0),
			    .done = go_chan_make(0, 0), .limit = limit };
	go_waitgroup_add(&p->wg, 2);
	go_spawn(pair_run, p);
	go_spawn(pair_run, p);
	go_chan_send(p->wake, &ball);
}

static void pair_stop(struct pair *p)
{
	go_chan_close(p->done);
	go_chan_recv(p->wake, NULL);
	go_waitgroup_wait(&p->wg);
	go_chan_free(p->wake);
	go_chan_free(p->done);
}

static uint64_t light_rounds(int64_t ns)
{
	static struct pair l;

	pair_start(&l, 1);
	go_sleep(ns);
	pair_stop(&l);
	return l.count;
}

RTEST_TIMEOUT(preempt_hogs_do_not_starve_main_or_light_pair, 120)
{
	static struct hogs h;
	int procs = go_gomaxprocs();
	uint64_t p0 = npreempt;

	uint64_t alone = light_rounds(100 * MS);
	h = (struct hogs){ 0 };
	for (int i = 0; i < procs; i++)
		go_spawn(tight_loop, &h);
	while (__atomic_load_n(&h.running, __ATOMIC_ACQUIRE) < (uint32_t)procs)
		go_sleep(MS);
	/* main: each 1 ms sleep must end, with every P looping. */
	int64_t worst = 0;
	for (int i = 0; i < 20; i++) {
		int64_t t0 = go_nanotime();
		go_sleep(MS);
		int64_t d = go_nanotime() - t0;
		worst = d > worst ? d : worst;
	}
	uint64_t shared = light_rounds(100 * MS);
	__atomic_store_n(&h.stop, 1, __ATOMIC_RELEASE);
	while (__atomic_load_n(&h.running, __ATOMIC_ACQUIRE))
		go_sleep(MS);
	/* The pair competes with procs hogs for procs Ps: its fair share of
	 * its solo rate is procs/(procs+1). */
	uint64_t fair = alone * (uint64_t)procs / (uint64_t)(procs + 1);
	kprintf("# light pair: %lu rounds alone, %lu among %d hogs (fair %lu); "
		"main's worst 1 ms sleep %ld us; %lu preemptions\n", alone,
		shared, procs, fair, worst / 1000, npreempt - p0);
	KT_CMP(worst, <, 1000 * MS);
	KT_CMP(shared * 20, >=, fair);
	KT_CMP(npreempt - p0, >, 0);
}

/* ---- TestPingPongHog: two pairs share a P fairly ---- */

RTEST_TIMEOUT(preempt_ping_pong_hog, 120)
{
	static struct pair hog, light;

	pair_start(&hog, 1000000);
	pair_start(&light, 1000);
	go_sleep(100 * MS);
	pair_stop(&hog);
	pair_stop(&light);
	kprintf("# hog count %lu, light count %lu (%d Ps)\n", hog.count,
		light.count, go_gomaxprocs());
	/* Within a factor of 20: both pairs got the P within a slice. */
	KT_ASSERTF(hog.count / 20 <= light.count && light.count / 20 <= hog.count,
		   "hog %lu light %lu", hog.count, light.count);
}

/* ---- registers survive preemption ---- */

/*
 * Loads a pattern into every general register but rsp/rbp and into both
 * halves of xmm0-15 (SSE2 only: pc runs the baseline qemu64 CPU), spins
 * @iters times, then checks them all.  Returns a bit mask
 * of registers that changed (bit 31: RFLAGS.DF).
 */
uint64_t regs_hold(uint64_t iters);
__asm__(
	".text\n"
	".globl regs_hold\n"
	"regs_hold:\n"
	"	pushq %rbp\n	movq %rsp, %rbp\n"
	"	pushq %rbx\n	pushq %r12\n	pushq %r13\n	pushq %r14\n	pushq %r15\n"
	"	movq %rdi, %rax\n"
	"	movabsq $0x1111111111111111, %rbx\n"
	"	movabsq $0x2222222222222222, %rcx\n"
	"	movabsq $0x3333333333333333, %rdx\n"
	"	movabsq $0x4444444444444444, %rsi\n"
	"	movabsq $0x5555555555555555, %rdi\n"
	"	movabsq $0x8888888888888888, %r8\n"
	"	movabsq $0x9999999999999999, %r9\n"
	"	movabsq $0xaaaaaaaaaaaaaaaa, %r10\n"
	"	movabsq $0xbbbbbbbbbbbbbbbb, %r11\n"
	"	movabsq $0xcccccccccccccccc, %r12\n"
	"	movabsq $0xdddddddddddddddd, %r13\n"
	"	movabsq $0xeeeeeeeeeeeeeeee, %r14\n"
	"	movabsq $0xffffffffffffffff, %r15\n"
	"	.irp n,0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15\n"
	"	pushq $(0x2000 + \\n)\n	pushq $(0x1000 + \\n)\n"
	"	movdqu (%rsp), %xmm\\n\n	addq $16, %rsp\n"
	"	.endr\n"
	"	movabsq $0xbbbbbbbbbbbbbbbb, %r11\n"
	"1:	decq %rax\n	jnz 1b\n"
	"	xorl %eax, %eax\n"
	"	movabsq $0x1111111111111111, %r11\n	cmpq %r11, %rbx\n	je 2f\n	orq $1, %rax\n2:\n"
	"	movabsq $0x2222222222222222, %r11\n	cmpq %r11, %rcx\n	je 2f\n	orq $2, %rax\n2:\n"
	"	movabsq $0x3333333333333333, %r11\n	cmpq %r11, %rdx\n	je 2f\n	orq $4, %rax\n2:\n"
	"	movabsq $0x4444444444444444, %r11\n	cmpq %r11, %rsi\n	je 2f\n	orq $8, %rax\n2:\n"
	"	movabsq $0x5555555555555555, %r11\n	cmpq %r11, %rdi\n	je 2f\n	orq $16, %rax\n2:\n"
	"	movabsq $0x8888888888888888, %r11\n	cmpq %r11, %r8\n	je 2f\n	orq $32, %rax\n2:\n"
	"	movabsq $0x9999999999999999, %r11\n	cmpq %r11, %r9\n	je 2f\n	orq $64, %rax\n2:\n"
	"	movabsq $0xaaaaaaaaaaaaaaaa, %r11\n	cmpq %r11, %r10\n	je 2f\n	orq $128, %rax\n2:\n"
	"	movabsq $0xcccccccccccccccc, %r11\n	cmpq %r11, %r12\n	je 2f\n	orq $256, %rax\n2:\n"
	"	movabsq $0xdddddddddddddddd, %r11\n	cmpq %r11, %r13\n	je 2f\n	orq $512, %rax\n2:\n"
	"	movabsq $0xeeeeeeeeeeeeeeee, %r11\n	cmpq %r11, %r14\n	je 2f\n	orq $1024, %rax\n2:\n"
	"	movabsq $0xffffffffffffffff, %r11\n	cmpq %r11, %r15\n	je 2f\n	orq $2048, %rax\n2:\n"
	"	.irp n,0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15\n"
	"	subq $16, %rsp\n	movdqu %xmm\\n, (%rsp)\n	popq %r11\n	popq %r10\n"
	"	cmpq $(0x1000 + \\n), %r11\n	jne 3f\n"
	"	cmpq $(0x2000 + \\n), %r10\n	je 4f\n"
	"3:	btsq $(16 + \\n), %rax\n4:\n"
	"	.endr\n"
	"	pushfq\n	popq %r11\n	btq $10, %r11\n	jnc 5f\n	btsq $31, %rax\n5:\n"
	"	popq %r15\n	popq %r14\n	popq %r13\n	popq %r12\n	popq %rbx\n"
	"	popq %rbp\n	ret\n");

struct regs_run {
	uint64_t bad;
	go_waitgroup *wg;
};

static void regs_runner(void *a)
{
	struct regs_run *r = a;

	r->bad = regs_hold(400000000);	/* a few hundred ms of TCG */
	go_waitgroup_done(r->wg);
}

RTEST_TIMEOUT(preempt_registers_and_vectors_intact, 120)
{
	static struct regs_run r[8];
	int n = go_gomaxprocs() + 1;	/* more than the Ps: they must rotate */
	uint64_t p0 = npreempt;

	if (n > 8)
		n = 8;
	static go_waitgroup wg;
	wg = (go_waitgroup){ 0 };
	go_waitgroup_add(&wg, n);
	for (int i = 0; i < n; i++) {
		r[i] = (struct regs_run){ .wg = &wg };
		go_spawn(regs_runner, &r[i]);
	}
	go_waitgroup_wait(&wg);
	kprintf("# %lu asynchronous preemptions during the loops\n",
		npreempt - p0);
	KT_CMP(npreempt - p0, >=, (uint64_t)n);
	for (int i = 0; i < n; i++)
		KT_ASSERTF(r[i].bad == 0, "runner %d: registers changed: mask "
			   "0x%lx", i, r[i].bad);
}

/* ---- preempted around channel and sync operations: nothing lost ---- */

/*
 * Producers on every P send through an unbuffered and a buffered
 * channel, spinning (no calls: only asynchronous preemption stops them)
 * between sends and, now and then, for longer than sysmon lets a
 * goroutine run, while holding a mutex that others then park on.
 * Consumers receive in a select over both channels until a close.
 * Everything sent is received once, the mutex-guarded count is exact,
 * and goroutines were preempted meanwhile.
 */
#define PC_MSGS 300

struct preempt_chans {
	go_chan *unbuf, *buf, *done;
	go_mutex mu;
	uint64_t guarded;	/* mu */
	uint64_t sent_sum;	/* atomic */
	uint64_t sum;		/* atomic */
	uint32_t received;	/* atomic */
	go_waitgroup producers, consumers;
};

/*
 * No calls, so only an asynchronous preemption stops it; a `pause` every
 * 1024 rounds (an instruction, not a safe point) lets single-threaded TCG
 * under -icount (make stress) run the other vCPUs.  Without it, QEMU 7.2
 * there left a halted vCPU's timer interrupt undelivered for 600 ms while
 * the spinners ran: sysmon, asleep on that CPU, never preempted anyone.
 */
static void spin(uint64_t n)
{
	for (volatile uint64_t i = 0; i < n; i++)
		if ((i & 1023) == 1023)
			cpu_relax();
}

static void pc_producer(void *a)
{
	struct preempt_chans *pc = a;
	int64_t base = go_id() * 1000;

	for (int64_t i = 1; i <= PC_MSGS; i++) {
		int64_t v = base + i;
		spin((uint64_t)(v * 7919) % 3000);
		__atomic_fetch_add(&pc->sent_sum, (uint64_t)v, __ATOMIC_RELAXED);
		go_chan_send(i & 1 ? pc->unbuf : pc->buf, &v);
		go_mutex_lock(&pc->mu);
		pc->guarded++;
		if (i % 100 == 0)
			spin(8000000);	/* over sysmon's 10 ms under TCG */
		go_mutex_unlock(&pc->mu);
	}
	go_waitgroup_done(&pc->producers);
}

static void pc_consumer(void *a)
{
	struct preempt_chans *pc = a;
	int64_t v;

	for (;;) {
		struct go_select_case cs[3] = { GO_RECV(pc->unbuf, &v),
						GO_RECV(pc->buf, &v),
						GO_RECV(pc->done, NULL) };
		if (go_select(cs, 3, true) == 2)
			break;
		__atomic_fetch_add(&pc->sum, (uint64_t)v, __ATOMIC_RELAXED);
		__atomic_fetch_add(&pc->received, 1, __ATOMIC_RELAXED);
		spin((uint64_t)v % 2000);
	}
	go_waitgroup_done(&pc->consumers);
}

RTEST_TIMEOUT(preempt_around_channels_and_mutexes_loses_nothing, 120)
{
	static struct preempt_chans pc;
	int n = go_gomaxprocs() > 8 ? 8 : go_gomaxprocs();
	uint64_t p0 = npreempt;

	pc = (struct preempt_chans){ .unbuf = go_chan_make(8, 0),
				     .buf = go_chan_make(8, 5),
				     .done = go_chan_make(0, 0) };
	go_waitgroup_add(&pc.producers, n);
	go_waitgroup_add(&pc.consumers, n);
	for (int i = 0; i < n; i++) {
		go_spawn(pc_producer, &pc);
		go_spawn(pc_consumer, &pc);
	}
	go_waitgroup_wait(&pc.producers);
	/* Every value is sent; the buffered ones may still be queued: the
	 * consumers drain both channels before they see done (a closed
	 * channel is always ready, so drain first, then close). */
	while (go_chan_len(pc.buf) > 0)
		go_sleep(MS);
	go_chan_close(pc.done);
	go_waitgroup_wait(&pc.consumers);
	kprintf("# %u messages, %lu asynchronous preemptions\n", pc.received,
		npreempt - p0);
	KT_EQ(pc.received, (uint32_t)n * PC_MSGS);
	KT_EQ(pc.sum, pc.sent_sum);
	KT_EQ(pc.guarded, (uint64_t)n * PC_MSGS);
	KT_CMP(npreempt - p0, >, 0);
	go_chan_free(pc.unbuf);
	go_chan_free(pc.buf);
	go_chan_free(pc.done);
}
