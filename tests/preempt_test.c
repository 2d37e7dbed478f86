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

struct light {
	struct gsem ball[2];
	uint64_t rounds;
	uint32_t stop, stopped;
};

static void light_side(struct light *l, int me)
{
	for (;;) {
		gsem_acquire(&l->ball[me]);
		if (__atomic_load_n(&l->stop, __ATOMIC_ACQUIRE)) {
			gsem_release(&l->ball[1 - me]);
			break;
		}
		if (me == 0)
			l->rounds++;
		gsem_release(&l->ball[1 - me]);
	}
	__atomic_fetch_add(&l->stopped, 1, __ATOMIC_RELEASE);
}

static void light0(void *a) { light_side(a, 0); }
static void light1(void *a) { light_side(a, 1); }

static uint64_t light_rounds(int64_t ns)
{
	static struct light l;

	l = (struct light){ 0 };
	go_spawn(light0, &l);
	go_spawn(light1, &l);
	gsem_release(&l.ball[0]);
	go_sleep(ns);
	__atomic_store_n(&l.stop, 1, __ATOMIC_RELEASE);
	while (__atomic_load_n(&l.stopped, __ATOMIC_ACQUIRE) < 2)
		go_sleep(MS);
	return l.rounds;
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

struct pair {
	struct gsem ball[2];
	uint32_t limit;
	uint64_t count;
	uint32_t stop, stopped;
};

static void pair_side(struct pair *p, int me)
{
	for (;;) {
		gsem_acquire(&p->ball[me]);
		if (__atomic_load_n(&p->stop, __ATOMIC_ACQUIRE)) {
			gsem_release(&p->ball[1 - me]);
			break;
		}
		for (uint32_t i = 0; i < p->limit; i++)
			WRITE_ONCE(p->count, p->count + 1);
		gsem_release(&p->ball[1 - me]);
	}
	__atomic_fetch_add(&p->stopped, 1, __ATOMIC_RELEASE);
}

static void pair0(void *a) { pair_side(a, 0); }
static void pair1(void *a) { pair_side(a, 1); }

RTEST_TIMEOUT(preempt_ping_pong_hog, 120)
{
	static struct pair hog, light;

	hog = (struct pair){ .limit = 1000000 };
	light = (struct pair){ .limit = 1000 };
	go_spawn(pair0, &hog);
	go_spawn(pair1, &hog);
	go_spawn(pair0, &light);
	go_spawn(pair1, &light);
	gsem_release(&hog.ball[0]);
	gsem_release(&light.ball[0]);
	go_sleep(100 * MS);
	__atomic_store_n(&hog.stop, 1, __ATOMIC_RELEASE);
	__atomic_store_n(&light.stop, 1, __ATOMIC_RELEASE);
	while (__atomic_load_n(&hog.stopped, __ATOMIC_ACQUIRE) < 2 ||
	       __atomic_load_n(&light.stopped, __ATOMIC_ACQUIRE) < 2)
		go_sleep(MS);
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
	struct gwait *wg;
};

static void regs_runner(void *a)
{
	struct regs_run *r = a;

	r->bad = regs_hold(400000000);	/* a few hundred ms of TCG */
	gwait_done(r->wg);
}

RTEST_TIMEOUT(preempt_registers_and_vectors_intact, 120)
{
	static struct regs_run r[8];
	int n = go_gomaxprocs() + 1;	/* more than the Ps: they must rotate */
	uint64_t p0 = npreempt;

	if (n > 8)
		n = 8;
	static struct gwait wg;
	wg = (struct gwait){ 0 };
	gwait_add(&wg, n);
	for (int i = 0; i < n; i++) {
		r[i] = (struct regs_run){ .wg = &wg };
		go_spawn(regs_runner, &r[i]);
	}
	gwait_wait(&wg);
	kprintf("# %lu asynchronous preemptions during the loops\n",
		npreempt - p0);
	KT_CMP(npreempt - p0, >=, (uint64_t)n);
	for (int i = 0; i < n; i++)
		KT_ASSERTF(r[i].bad == 0, "runner %d: registers changed: mask "
			   "0x%lx", i, r[i].bad);
}
