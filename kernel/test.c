/*
 * kernel/test.c - the test runner: selection, KTAP output, the watchdog.
 */
#include "ktest.h"
#include "cmdline.h"
#include "cpu.h"
#include "exit.h"
#include "kthread.h"
#include "kwait.h"
#include "mem.h"
#include "time.h"
#include "../arch/x86_64/x86.h"

extern const struct ktest _ktests_start[], _ktests_end[];

static char test_glob[256];
KPARAM_STR(test, test_glob, "run the in-image tests whose names match GLOB (or GLOB,GLOB,...)");
static char bench_glob[256];
KPARAM_STR(bench, bench_glob, "run the benchmarks whose names match GLOB (or GLOB,GLOB,...)");
static char bench_unit[32] = "cycles/op";
KPARAM_STR(benchunit, bench_unit, "unit printed for TSC-per-op figures");

uint64_t ktest_header_tsc;
static uint32_t plan_n;			/* tests selected, all levels */
static uint32_t next_n = 1;		/* KTAP number of the next test */
static uint32_t npass, nfail;

/* The running test, for failures and the watchdog. */
static const struct ktest *current;
static uint32_t current_n;
static uint64_t deadline_tsc;		/* 0: no test running; atomic */
static struct kthread *current_thread;
static uint32_t fail_count;		/* failures of the running test; atomic */
static struct spinlock diag_lock = SPINLOCK_INIT(LOCKRANK_KTEST_DIAG);
static char diag[256];			/* first failure's message; diag_lock */

#define MAX_TESTS 512
static const struct ktest *order[MAX_TESTS];	/* sorted by file, line */
static uint32_t ntests;

/* KT_FIRST tests first, then file order, then line order. */
static bool before(const struct ktest *a, const struct ktest *b)
{
	bool fa = a->flags & KT_FIRST, fb = b->flags & KT_FIRST;
	int c = strcmp(a->file, b->file);

	if (fa != fb)
		return fa;
	return c < 0 || (c == 0 && a->line < b->line);
}

static void sort_tests(void)
{
	if (ntests)
		return;
	for (const struct ktest *t = _ktests_start; t < _ktests_end; t++) {
		BUG_ON(ntests == MAX_TESTS);
		uint32_t i = ntests++;
		while (i > 0 && before(t, order[i - 1])) {
			order[i] = order[i - 1];
			i--;
		}
		order[i] = t;
	}
}

/* Whether @name matches one of the comma-separated globs in @list. */
static bool match_list(const char *list, const char *name)
{
	char pat[sizeof(test_glob)];

	while (*list) {
		size_t n = 0;
		while (list[n] && list[n] != ',')
			n++;
		memcpy(pat, list, n);
		pat[n] = '\0';
		if (n && glob_match(pat, name))
			return true;
		list += n + (list[n] == ',');
	}
	return false;
}

static bool selected(const struct ktest *t)
{
	if (t->flags & KT_BENCH)
		return bench_glob[0] && match_list(bench_glob, t->name);
	if (!test_glob[0])
		return false;
	if (t->flags & KT_MANUAL)
		return !strcmp(test_glob, t->name);
	return match_list(test_glob, t->name);
}

bool ktest_selected(void)
{
	return test_glob[0] != '\0';
}

bool kbench_selected(void)
{
	return bench_glob[0] != '\0';
}

void bench_print(const char *name, uint64_t tsc, uint64_t ops)
{
	uint64_t x100 = ops ? tsc * 100 / ops : 0;

	kprintf("bench %s %lu.%02lu %s\n", name, x100 / 100, x100 % 100,
		bench_unit);
}

void bench_print_ratio(const char *name, uint64_t num, uint64_t den)
{
	uint64_t x100 = den ? num * 100 / den : 0;

	kprintf("bench %s %lu.%02lu ratio\n", name, x100 / 100, x100 % 100);
}

void ktest_header(void)
{
	ktest_header_tsc = rdtsc();
	kprintf("KTAP version 1\n");
}

/* test= or bench= matched nothing: a command-line error, status 2. */
static __noreturn void refuse(const char *key, const char *glob,
			      const char *what)
{
	kprintf("rt0: command line: %s=%s matches no %s; boot with %s=%s "
		"to run them all\n", key, glob, what, key,
		!strcmp(key, "test") ? "*" : "bench_*");
	kernel_exit(EXIT_CMDLINE);
}

/* Benchmarks bench= selects. */
static uint32_t nbench_selected(void)
{
	uint32_t n = 0;

	for (uint32_t i = 0; i < ntests; i++)
		n += (order[i]->flags & KT_BENCH) && selected(order[i]);
	return n;
}

void ktest_plan(void)
{
	sort_tests();
	for (uint32_t i = 0; i < ntests; i++)
		if (selected(order[i]) && !(order[i]->flags & KT_BENCH))
			plan_n++;
	if (!test_glob[0]) {
		if (!nbench_selected())
			refuse("bench", bench_glob, "benchmark");
		return;			/* benchmarks only: no KTAP */
	}
	if (!plan_n)
		refuse("test", test_glob, "test");	/* a typo runs nothing */
	kprintf("1..%u\n", plan_n);
}

void ktest_fail(const char *file, int line, const char *fmt, ...)
{
	va_list ap;

	if (__atomic_fetch_add(&fail_count, 1, __ATOMIC_ACQ_REL) == 0) {
		uint64_t f = spin_lock_irqsave(&diag_lock);
		const char *base = file;
		for (const char *p = file; *p; p++)
			if (*p == '/')
				base = p + 1;
		int n = snprintf(diag, sizeof(diag), "%s:%d: ", base, line);
		va_start(ap, fmt);
		if (n < (int)sizeof(diag))
			vsnprintf(diag + n, sizeof(diag) - n, fmt, ap);
		va_end(ap);
		for (char *p = diag; *p; p++)
			if (*p == '\n' || *p == '#')
				*p = ' ';
		spin_unlock_irqrestore(&diag_lock, f);
	}
}

bool ktest_failed(void)
{
	return __atomic_load_n(&fail_count, __ATOMIC_ACQUIRE) != 0;
}

static void run_bench(const struct ktest *t)
{
	current = t;
	current_thread = kthread_current();
	fail_count = 0;
	__atomic_store_n(&deadline_tsc, rdtsc() + tsc_hz * 600,
			 __ATOMIC_RELEASE);
	t->fn();
	__atomic_store_n(&deadline_tsc, 0, __ATOMIC_RELEASE);
	if (ktest_failed()) {
		kprintf("# bench %s failed: %s\n", t->name, diag);
		nfail++;
	}
}

/* ---- leak checks (ktest.h) ---- */

#define MAX_OWNERS 4
#define MAX_BALANCES 8

static int64_t (*owners[KT_OWN_N][MAX_OWNERS])(void);
static uint32_t nowners[KT_OWN_N];

static int64_t owned(enum ktest_owned what)
{
	int64_t n = 0;

	for (uint32_t i = 0; i < nowners[what]; i++)
		n += owners[what][i]();
	return n;
}

static int64_t leak_pages(void)
{
	uint64_t slab, objects;

	kmalloc_counts(&slab, &objects);
	return (int64_t)(mem_total_pages() - mem_free_pages() - slab -
			 kthread_pages()) - owned(KT_OWN_PAGES);
}

static int64_t leak_kthreads(void)
{
	return (int64_t)kthread_count() - owned(KT_OWN_KTHREADS);
}

static int64_t leak_kobjects(void)
{
	uint64_t slab, objects;

	kmalloc_counts(&slab, &objects);
	return (int64_t)objects - owned(KT_OWN_KOBJECTS);
}

static struct {
	const char *name;
	int64_t (*count)(void);
} balances[MAX_BALANCES] = {
	{ "pages", leak_pages },
	{ "kthreads", leak_kthreads },
	{ "kobjects", leak_kobjects },
};
static uint32_t nbalances = 3;

static void nap_kernel(uint64_t ns)
{
	ksleep_until(nanotime() + ns);
}

static void (*leak_nap)(uint64_t ns) = nap_kernel;

void ktest_leak_owned(enum ktest_owned what, int64_t (*count)(void))
{
	BUG_ON((uint32_t)what >= KT_OWN_N || nowners[what] == MAX_OWNERS);
	owners[what][nowners[what]++] = count;
}

void ktest_leak_balance(const char *name, int64_t (*count)(void))
{
	BUG_ON(nbalances == MAX_BALANCES);
	balances[nbalances].name = name;
	balances[nbalances++].count = count;
}

static int64_t leak_expected[MAX_BALANCES];	/* the running test's */

void ktest_leak_expect(const char *name, int64_t delta)
{
	for (uint32_t i = 0; i < nbalances; i++)
		if (!strcmp(balances[i].name, name)) {
			leak_expected[i] += delta;
			return;
		}
	panic("ktest_leak_expect: no balance '%s'", name);
}

void ktest_leak_nap(void (*nap)(uint64_t ns))
{
	leak_nap = nap;
}

static void leak_snapshot(int64_t *v)
{
	for (uint32_t i = 0; i < nbalances; i++)
		v[i] = balances[i].count();
}

static void leak_begin(int64_t *before)
{
	memset(leak_expected, 0, sizeof(leak_expected));
	leak_snapshot(before);
}

/*
 * After test @t: wait for every balance to come back to @before (or
 * below: what an earlier test left behind may be reclaimed meanwhile),
 * all at one reading, then fail @t naming each that never did.  Some
 * balances move while the runtime works (an M spins a moment, busy), so
 * a balance that came back at any reading is not named.
 */
static void leak_check(const struct ktest *t, const int64_t *before)
{
	int64_t now[MAX_BALANCES], least[MAX_BALANCES];
	uint64_t end = nanotime() + KTEST_SETTLE_MS * NSEC_PER_MSEC;

	for (uint32_t i = 0; i < nbalances; i++)
		least[i] = INT64_MAX;
	for (;;) {
		bool settled = true;
		leak_snapshot(now);
		for (uint32_t i = 0; i < nbalances; i++) {
			int64_t over = now[i] - before[i] - leak_expected[i];
			settled &= over <= 0;
			if (over < least[i])
				least[i] = over;
		}
		if (settled)
			return;
		if (nanotime() >= end)
			break;
		leak_nap(NSEC_PER_MSEC);
	}
	char msg[160];
	int n = 0;
	for (uint32_t i = 0; i < nbalances && n < (int)sizeof(msg); i++)
		if (least[i] > 0)
			n += snprintf(msg + n, sizeof(msg) - n, " %s +%ld",
				      balances[i].name, least[i]);
	if (!n)
		snprintf(msg, sizeof(msg), " each came back, never all at once");
	ktest_fail(t->file, t->line, "leak after %d ms:%s", KTEST_SETTLE_MS,
		   msg);
}

static void run_one(const struct ktest *t)
{
	if (t->flags & KT_BENCH) {
		run_bench(t);
		return;
	}
	uint32_t tmo = t->timeout_s ? t->timeout_s : KTEST_DEFAULT_TIMEOUT_S;
	int64_t before[MAX_BALANCES];

	leak_begin(before);
	current = t;
	current_n = next_n++;
	current_thread = kthread_current();
	fail_count = 0;
	diag[0] = '\0';
	uint64_t start = nanotime();
	__atomic_store_n(&deadline_tsc, rdtsc() + tsc_hz * tmo,
			 __ATOMIC_RELEASE);
	t->fn();
	if (!ktest_failed())
		leak_check(t, before);
	uint64_t zero_expected = __atomic_exchange_n(&deadline_tsc, 0,
						     __ATOMIC_ACQ_REL);
	if (!zero_expected) {
		/* The watchdog fired meanwhile and is ending the run. */
		for (;;)
			cpu_relax();
	}
	uint64_t ms = (nanotime() - start) / NSEC_PER_MSEC;
	if (ktest_failed()) {
		nfail++;
		kprintf("not ok %u %s # %s\n", current_n, t->name, diag);
	} else {
		npass++;
		kprintf("ok %u %s # %lu ms\n", current_n, t->name, ms);
	}
}

void ktest_run_level(enum ktest_level level)
{
	sort_tests();
	for (uint32_t i = 0; i < ntests; i++)
		if (order[i]->level == (uint32_t)level && selected(order[i]))
			run_one(order[i]);
}

void ktest_finish(void)
{
	if (!test_glob[0])
		kernel_exit(nfail ? EXIT_FAIL : EXIT_OK);
	kprintf("# totals: %u passed, %u failed, %u not run\n", npass, nfail,
		plan_n - npass - nfail);
	kernel_exit(nfail || npass != plan_n ? EXIT_FAIL : EXIT_OK);
}

void ktest_watchdog(void)
{
	uint64_t d = __atomic_load_n(&deadline_tsc, __ATOMIC_ACQUIRE);

	if (!d || rdtsc() < d)
		return;
	if (!__atomic_compare_exchange_n(&deadline_tsc, &d, 0, false,
					 __ATOMIC_ACQ_REL, __ATOMIC_RELAXED))
		return;			/* the test finished, or another CPU won */
	kernel_stop_others();
	uint32_t tmo = current->timeout_s ? current->timeout_s
					  : KTEST_DEFAULT_TIMEOUT_S;
	kprintf("not ok %u %s # TIMEOUT after %u s (watchdog on cpu %u; "
		"test thread %u '%s')\n", current_n, current->name, tmo,
		this_cpu_id(), current_thread ? current_thread->id : 0,
		current_thread ? current_thread->name : "?");
	kernel_dump_hooks();
	kprintf("# totals: %u passed, %u failed, %u not run\n", npass,
		nfail + 1, plan_n - npass - nfail - 1);
	kernel_exit(EXIT_FAIL);
}
