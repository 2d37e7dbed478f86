/*
 * tests/sched_whitebox_test.c - scheduler properties that need a look
 * inside: memory and free Gs after a million goroutines, stack overflow
 * reports, per-M TLS, schedtrace's format.
 */
#include "kernel/ktest.h"
#include "kernel/fault.h"
#include "kernel/mem.h"
#include "kernel/vm.h"
#include "sched/proc.h"
#include "sched/lock.h"
#include "tests/go_helpers.h"

#define MS 1000000l

/* ---- a million spawn/exit cycles ---- */

struct chain {
	uint32_t left;
	go_waitgroup wg;
};

static void chain_link(void *a)
{
	struct chain *c = a;

	if (--c->left)
		go_spawn(chain_link, c);
	else
		go_waitgroup_done(&c->wg);
}

static void run_chain(struct chain *c, uint32_t n)
{
	c->left = n;
	go_waitgroup_add(&c->wg, 1);
	go_spawn(chain_link, c);
	go_waitgroup_wait(&c->wg);
}

/* Free Gs anywhere: every P's cache plus the global list. */
static int64_t free_gs(void)
{
	int64_t n = sched.ngfree;

	for (int32_t i = 0; i < gomaxprocs; i++)
		n += allp[i]->gfreecnt;
	return n;
}

/* Wait until every goroutine but main has exited and been freed. */
static void quiesce(void)
{
	for (int64_t end = go_nanotime() + 5000 * MS;
	     go_numgoroutine() != 1 && go_nanotime() < end;)
		go_sleep(MS);
}

/*
 * The warm-up grows every pool this workload draws on, as a long-running
 * program's would be:
 *  - dead Gs: a chain hopping between Ps takes Gs from one P's cache and
 *    frees them into another's; a P whose cache and the global list are
 *    both empty allocates a new G.  The global list stays empty until some
 *    P caches 64, so with few Gs in all the pool creeps up for a long
 *    time.  With 100 per P alive at once, the global list can never run
 *    dry (each P keeps at most 63).
 *  - Ms: spinning Ms are started whenever work appears and a P is idle;
 *    if every M is busy or between giving up a P and parking, a new one
 *    is made, as in Go.  With 2*gomaxprocs+2 Ms already idle that cannot
 *    happen.
 * After that, a million more cycles must allocate nothing at all.
 */
RTEST_TIMEOUT(sched_million_spawn_exit_cycles_leak_nothing, 600)
{
	static struct chain c;

	run_chain(&c, 1000000);
	grow_free_gs(100 * gomaxprocs);
	grow_idle_ms(2 * gomaxprocs + 2);
	quiesce();
	/* Free pages plus what stacks hold: sysmon's scavenger may give a
	 * free G's pages back meanwhile, and its reuse fault them in. */
	uint64_t pages = mem_free_pages() + vm_demand_pages_held();
	uint32_t gs = allglen;
	int64_t frees = free_gs();
	int64_t threads = mcount();
	int64_t t0 = go_nanotime();
	run_chain(&c, 1000000);
	quiesce();
	kprintf("# 1000000 spawn/exit cycles in %ld ms; %u Gs exist\n",
		(go_nanotime() - t0) / MS, allglen);
	KT_EQ(mcount(), threads);
	KT_EQ(mem_free_pages() + vm_demand_pages_held(), pages);
	KT_EQ(allglen, gs);
	KT_EQ(free_gs(), frees);
}

/* ---- stack overflow ---- */

struct overflow {
	struct fault_catch fc;
	int64_t goid;
	bool faulted;
	go_waitgroup wg;
};

/* Deep on purpose: it ends only in the guard page. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Winfinite-recursion"
static __attribute__((noinline)) uint64_t recurse(uint64_t n)
{
	volatile uint8_t frame[512];

	frame[0] = (uint8_t)n;
	return recurse(n + 1) + frame[0];
}
#pragma GCC diagnostic pop

static void overflower(void *a)
{
	struct overflow *o = a;

	o->goid = go_id();
	/* fault_try's catch is its kernel thread's: locked to its M, the
	 * goroutine stays on that thread if it is preempted on the way
	 * down (64 page faults can outlast the 10 ms slice under load). */
	go_lock_os_thread();
	if (fault_try(&o->fc)) {
		recurse(0);
		fault_untry(&o->fc);
	} else {
		o->faulted = true;
	}
	go_unlock_os_thread();
	go_waitgroup_done(&o->wg);
}

RTEST(sched_stack_overflow_names_the_goroutine)
{
	static struct overflow o;
	char want[64];

	o = (struct overflow){ 0 };
	go_and_wait(&o.wg, overflower, &o);
	KT_ASSERT(o.faulted);
	KT_EQ(o.fc.vector, 14);
	snprintf(want, sizeof(want), "goroutine %ld stack overflow", o.goid);
	KT_ASSERTF(strstr(o.fc.report, want), "report lacks '%s':\n%s", want,
		   o.fc.report);
	KT_ASSERTF(strstr(o.fc.report, "guard page"), "report:\n%s",
		   o.fc.report);
	KT_ASSERTF(strstr(o.fc.report, "<recurse"), "report:\n%s",
		   o.fc.report);
}

/* ---- _Thread_local is per M ---- */

static _Thread_local uint64_t tls_var;
static _Thread_local uint64_t tls_init = 0x1234;

struct tlsrun {
	uint64_t addr, seen_init;
	int64_t mid;
	bool ok;
	go_waitgroup *wg;
	uint32_t *phase;
};

static void tls_worker(void *a)
{
	struct tlsrun *r = a;

	go_lock_os_thread();		/* stay on one M */
	r->seen_init = tls_init;
	r->mid = getg()->m->id;
	r->addr = (uint64_t)&tls_var;
	tls_var = 0xabc000 + (uint64_t)r->mid;
	/* Let every worker write its value before anyone checks. */
	__atomic_fetch_add(r->phase, 1, __ATOMIC_ACQ_REL);
	while (__atomic_load_n(r->phase, __ATOMIC_ACQUIRE) < 4)
		go_sleep(MS);
	r->ok = tls_var == 0xabc000 + (uint64_t)r->mid;
	go_unlock_os_thread();
	go_waitgroup_done(r->wg);
}

RTEST(sched_thread_local_is_per_m)
{
	static struct tlsrun r[4];
	static go_waitgroup wg;
	static uint32_t phase;

	wg = (go_waitgroup){ 0 };
	phase = 0;
	go_waitgroup_add(&wg, 4);
	for (int i = 0; i < 4; i++) {
		r[i] = (struct tlsrun){ .wg = &wg, .phase = &phase };
		go_spawn(tls_worker, &r[i]);
	}
	go_waitgroup_wait(&wg);
	for (int i = 0; i < 4; i++) {
		KT_ASSERT(r[i].ok);
		KT_EQ(r[i].seen_init, 0x1234);	/* .tdata copied per M */
		for (int j = 0; j < i; j++) {
			KT_ASSERTF(r[i].mid != r[j].mid, "workers %d and %d "
				   "shared M%ld", i, j, r[i].mid);
			KT_ASSERT(r[i].addr != r[j].addr);
		}
	}
}

/* ---- schedtrace speaks Go's words ---- */

struct capture {
	char buf[256 * 1024];
	size_t n;
};

static void cap_put(void *a, const char *s, size_t n)
{
	struct capture *c = a;

	for (size_t i = 0; i < n && c->n + 1 < sizeof(c->buf); i++)
		c->buf[c->n++] = s[i];
	c->buf[c->n] = '\0';
}

/* Expect @word then a decimal number at *p; advance.  */
static bool field(const char **p, const char *word, int64_t *v)
{
	size_t n = strlen(word);
	bool neg = false;

	if (strncmp(*p, word, n))
		return false;
	*p += n;
	if (**p == '-') {
		neg = true;
		(*p)++;
	}
	if (**p < '0' || **p > '9')
		return false;
	for (*v = 0; **p >= '0' && **p <= '9'; (*p)++)
		*v = *v * 10 + (**p - '0');
	if (neg)
		*v = -*v;
	return true;
}

RTEST(sched_schedtrace_matches_go_format)
{
	static struct capture c;
	const char *p;
	int64_t v, procs;

	c.n = 0;
	schedtrace_to(false, cap_put, &c);
	p = c.buf;
	KT_ASSERTF(field(&p, "SCHED ", &v) && field(&p, "ms: gomaxprocs=", &procs) &&
		   field(&p, " idleprocs=", &v) && field(&p, " threads=", &v) &&
		   field(&p, " spinningthreads=", &v) &&
		   field(&p, " needspinning=", &v) &&
		   field(&p, " idlethreads=", &v) && field(&p, " runqueue=", &v),
		   "bad SCHED line at '%.40s' in:\n%s", p, c.buf);
	KT_EQ(procs, go_gomaxprocs());
	for (int64_t i = 0; i < procs; i++)
		KT_ASSERTF(field(&p, i == 0 ? " [" : " ", &v), "run queue %ld "
			   "at '%.20s'", i, p);
	KT_ASSERTF(!strcmp(p, "]\n"), "line ends with '%s'", p);

	c.n = 0;
	schedtrace_to(true, cap_put, &c);
	p = strstr(c.buf, " gcwaiting=false nmidlelocked=");
	KT_ASSERTF(p, "detailed header:\n%s", c.buf);
	for (int64_t i = 0; i < procs; i++) {
		char want[48];
		snprintf(want, sizeof(want), "\n  P%ld: status=", i);
		const char *q = strstr(c.buf, want);
		KT_ASSERTF(q, "no line for P%ld:\n%s", i, c.buf);
		q += strlen(want) - 1 - 6;	/* at "status=" */
		q += 0;
		KT_ASSERTF(strstr(q, " schedtick=") && strstr(q, " syscalltick=") &&
			   strstr(q, " m=") && strstr(q, " runqsize=") &&
			   strstr(q, " gfreecnt=") && strstr(q, " timerslen="),
			   "P%ld line incomplete", i);
	}
	KT_ASSERTF(strstr(c.buf, "\n  M0: p=") && strstr(c.buf, " curg=") &&
		   strstr(c.buf, " spinning=") && strstr(c.buf, " lockedg="),
		   "no M lines:\n%s", c.buf);
	/* Gs are listed in creation order, as Go's allgs: main comes first
	 * however many Gs earlier tests left behind. */
	const char *g = strstr(c.buf, "\n  G");
	KT_ASSERTF(g && !strncmp(g, "\n  G1: status=2() m=", 20),
		   "the first G line is not a running G1: '%.40s'", g ? g : "");
}
