/*
 * include/rt0/test.h - tests for programs, run by the image's KTAP runner
 * (`make test APP=dir`, or test=GLOB on the command line).
 *
 *	#include <rt0/test.h>
 *
 *	GO_TEST(sum_of_squares_is_exact)
 *	{
 *		GO_CHECK(sumsq(3) == 14);
 *		GO_CHECK_EQ(sumsq(0), 0);
 *	}
 *
 * A test is a function run in goroutine 1 (runtime.main's) once the
 * scheduler is up, after rt0's own tests of that level; it may spawn
 * goroutines, block and sleep.  Tests run in file order, then line order.
 * A check that fails records the first failure of the test ("not ok N
 * name # file:line: ...") and returns from the test function; go_test_fail
 * records one from anywhere (another goroutine, a helper) and goes on.
 * Every test is watched: one that outlives its timeout (60 s, or the
 * GO_TEST_TIMEOUT given) fails the run as a TIMEOUT, and the runner
 * checks each test for leaks (goroutines, memory, kernel threads) after
 * it returns.  The image exits with status 0 only if every test passed.
 */
#ifndef RT0_TEST_H
#define RT0_TEST_H

#include <stdbool.h>
#include <stdint.h>

/* One test, in the image's .ktests section (sched/api.c checks that this
 * layout is the runner's own). */
struct rt0_test {
	const char *name;
	void (*fn)(void);
	uint32_t level;		/* RT0_TEST_RUNTIME */
	uint32_t timeout_s;	/* 0: the default, 60 s */
	uint32_t flags;		/* 0 */
	const char *file;
	uint32_t line;
};
#define RT0_TEST_RUNTIME 2

#define GO_TEST_TIMEOUT(n, secs)					\
	static void n(void);						\
	static const struct rt0_test __rt0_test_##n			\
	__attribute__((section(".ktests"), used, aligned(8))) = {	\
		.name = #n, .fn = n, .level = RT0_TEST_RUNTIME,		\
		.timeout_s = (secs), .flags = 0, .file = __FILE__,	\
		.line = __LINE__ };					\
	static void n(void)
#define GO_TEST(n) GO_TEST_TIMEOUT(n, 0)

/* go_test_fail - record a failure of the running test (the first one is
 * reported) and return.  Any goroutine. */
void go_test_fail(const char *file, int line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* go_test_failed - whether the running test has failed yet. */
bool go_test_failed(void);

/* In the test function itself: fail and return from it. */
#define GO_FAIL(...)							\
	do {								\
		go_test_fail(__FILE__, __LINE__, __VA_ARGS__);		\
		return;							\
	} while (0)
#define GO_CHECK(c)							\
	do {								\
		if (!(c))						\
			GO_FAIL("check failed: %s", #c);		\
	} while (0)
#define GO_CHECK_EQ(a, b)						\
	do {								\
		int64_t _a = (int64_t)(a), _b = (int64_t)(b);		\
		if (_a != _b)						\
			GO_FAIL("expected %s == %s, got %ld != %ld",	\
				#a, #b, (long)_a, (long)_b);		\
	} while (0)

#endif
