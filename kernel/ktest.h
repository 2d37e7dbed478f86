/*
 * kernel/ktest.h - the in-image test suite.
 *
 * A test is a function registered into the .ktests section:
 *
 *	KTEST(mem_alloc_all) { ... KT_ASSERT(x == y); ... }
 *
 * With test=GLOB on the command line the image runs every test whose name
 * matches and prints KTAP version 1 on COM1, then exits QEMU with EXIT_OK
 * if all passed, else EXIT_FAIL.  Kernel-level tests (KTEST) run on the
 * boot CPU's main thread once every CPU is up; runtime-level tests
 * (declared in sched/) run later in the main goroutine; each level in
 * file order, then line order, KT_FIRST tests before the rest.  A per-test
 * watchdog turns a test that outlives its timeout into
 * "not ok N name # TIMEOUT" and a failed run.
 *
 * Assertions record the first failure of the running test (from any CPU)
 * and, in the test function itself, return from it.
 */
#ifndef RT0_KTEST_H
#define RT0_KTEST_H

#include "lib.h"

enum ktest_level { KTEST_KERNEL = 1, KTEST_RUNTIME = 2 };

#define KT_MANUAL 1	/* runs only when test= names it exactly */
#define KT_BENCH 2	/* a benchmark: selected by bench=GLOB, not test= */
#define KT_FIRST 4	/* runs before the other tests of its level: it
			 * needs the state the level starts in */

struct ktest {
	const char *name;
	void (*fn)(void);
	uint32_t level;
	uint32_t timeout_s;	/* watchdog; 0: the default */
	uint32_t flags;
	const char *file;	/* tests run in file order, then line order
				 * (KT_FIRST ones first) */
	uint32_t line;
};

#define KTEST_DEFAULT_TIMEOUT_S 60

#define KTEST_REGISTER(n, lvl, tmo, fl)					\
	static void n(void);						\
	static const struct ktest __ktest_##n				\
	__attribute__((section(".ktests"), used, aligned(8))) = {	\
		.name = #n, .fn = n, .level = lvl, .timeout_s = tmo,	\
		.flags = fl, .file = __FILE__, .line = __LINE__ };			\
	static void n(void)

#define KTEST(n) KTEST_REGISTER(n, KTEST_KERNEL, 0, 0)
#define KTEST_TIMEOUT(n, s) KTEST_REGISTER(n, KTEST_KERNEL, s, 0)
#define KTEST_MANUAL_TEST(n, s) KTEST_REGISTER(n, KTEST_KERNEL, s, KT_MANUAL)
#define KBENCH(n) KTEST_REGISTER(n, KTEST_KERNEL, 0, KT_BENCH)
/* Runtime-level: run in goroutine 1 once the scheduler is up. */
#define RTEST(n) KTEST_REGISTER(n, KTEST_RUNTIME, 0, 0)
#define RTEST_TIMEOUT(n, s) KTEST_REGISTER(n, KTEST_RUNTIME, s, 0)
#define RTEST_MANUAL(n, s) KTEST_REGISTER(n, KTEST_RUNTIME, s, KT_MANUAL)
#define RBENCH(n) KTEST_REGISTER(n, KTEST_RUNTIME, 0, KT_BENCH)
#define RTEST_FIRST(n) KTEST_REGISTER(n, KTEST_RUNTIME, 0, KT_FIRST)

/*
 * bench_print - print "bench <name> <value> <unit>" for a figure measured
 * in TSC ticks per operation; the unit is benchunit= (default cycles/op;
 * under -icount the TSC counts instructions and make bench says instr/op).
 */
void bench_print(const char *name, uint64_t tsc, uint64_t ops);
void bench_print_ratio(const char *name, uint64_t num, uint64_t den);

void ktest_fail(const char *file, int line, const char *fmt, ...) __printf(3, 4);
bool ktest_failed(void);

#define KT_FAIL(...)							\
	do {								\
		ktest_fail(__FILE__, __LINE__, __VA_ARGS__);		\
		return;							\
	} while (0)
#define KT_ASSERT(c)							\
	do {								\
		if (!(c))						\
			KT_FAIL("assertion failed: %s", #c);		\
	} while (0)
#define KT_ASSERTF(c, ...)						\
	do {								\
		if (!(c))						\
			KT_FAIL(__VA_ARGS__);				\
	} while (0)
#define KT_CMP(a, op, b)						\
	do {								\
		int64_t _a = (int64_t)(a), _b = (int64_t)(b);		\
		if (!(_a op _b))					\
			KT_FAIL("expected %s %s %s, got %ld %s %ld",	\
				#a, #op, #b, _a, #op, _b);		\
	} while (0)
#define KT_EQ(a, b) KT_CMP(a, ==, b)
/* Record without returning: for helpers and other CPUs. */
#define KT_CHECK(c)							\
	do {								\
		if (!(c))						\
			ktest_fail(__FILE__, __LINE__,			\
				   "check failed: %s", #c);		\
	} while (0)

/*
 * ktest_begin - if test= was given: print "KTAP version 1" and the plan
 * for every matching test of every level.  Returns true if tests run.
 */
bool ktest_selected(void);
bool kbench_selected(void);
void ktest_header(void);
void ktest_plan(void);

/* ktest_run_level - run the matching tests of @level, in file order and
 * source order within a file, KT_FIRST ones first. */
void ktest_run_level(enum ktest_level level);

/* ktest_finish - print the totals and exit with EXIT_OK or EXIT_FAIL. */
void ktest_finish(void) __noreturn;

/*
 * Leak checks.  Around every test (not benchmarks) the runner reads a set
 * of balances and, once the test returns, waits up to KTEST_SETTLE_MS for
 * each to come back to where it was (goroutines finish exiting, kernel
 * threads are reaped); a balance that does not fails the test, named with
 * its change.  The kernel's balances count what nothing owns:
 *   pages     pages in use, less those of kmalloc's slabs, of kernel
 *             threads, and those the layers above say they own;
 *   kthreads  live kernel threads, less those the layers above own;
 *   kobjects  kmalloc objects, less those the layers above own.
 * Caches that may grow (idle Ms, free Gs) are owned, not leaked; the layer
 * keeping them says so through ktest_leak_owned, and adds balances of its
 * own (goroutines) with ktest_leak_balance.  Both: before tests run.
 */
#define KTEST_SETTLE_MS 2000
enum ktest_owned { KT_OWN_PAGES, KT_OWN_KTHREADS, KT_OWN_KOBJECTS, KT_OWN_N };
void ktest_leak_owned(enum ktest_owned what, int64_t (*count)(void));
void ktest_leak_balance(const char *name, int64_t (*count)(void));
/* ktest_leak_expect - the running test keeps @delta of balance @name for
 * good, by design (it says why); the check expects it. */
void ktest_leak_expect(const char *name, int64_t delta);
/* ktest_leak_nap - how the runner waits while a balance settles (the
 * runtime's level: a goroutine sleep).  Default: a kernel sleep. */
void ktest_leak_nap(void (*nap)(uint64_t ns));

/* ktest_watchdog - called from every CPU's tick. */
void ktest_watchdog(void);

/* ktest_header_tsc - TSC when "KTAP version 1" was printed (0: never). */
extern uint64_t ktest_header_tsc;

#endif
