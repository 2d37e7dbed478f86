/*
 * sched/testapi.c - include/rt0/test.h (tests for programs) on the
 * kernel's test runner (kernel/ktest.h): the same section, the same
 * record, checked here field by field.
 */
#include <stddef.h>
#include "include/rt0/test.h"
#include "kernel/ktest.h"

#define SAME_FIELD(f)							\
	_Static_assert(offsetof(struct rt0_test, f) ==			\
			       offsetof(struct ktest, f) &&		\
		       sizeof(((struct rt0_test *)0)->f) ==		\
			       sizeof(((struct ktest *)0)->f),		\
		       "include/rt0/test.h: struct rt0_test." #f	\
		       " is not kernel/ktest.h's")
SAME_FIELD(name);
SAME_FIELD(fn);
SAME_FIELD(level);
SAME_FIELD(timeout_s);
SAME_FIELD(flags);
SAME_FIELD(file);
SAME_FIELD(line);
_Static_assert(sizeof(struct rt0_test) == sizeof(struct ktest),
	       "include/rt0/test.h: struct rt0_test's size");
_Static_assert(RT0_TEST_RUNTIME == KTEST_RUNTIME,
	       "include/rt0/test.h: RT0_TEST_RUNTIME");

void go_test_fail(const char *file, int line, const char *fmt, ...)
{
	char msg[192];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	ktest_fail(file, line, "%s", msg);
}

bool go_test_failed(void)
{
	return ktest_failed();
}
