/*
 * tests/trap_test.c - exception reports name the right vector, the
 * registers and a symbolized backtrace.
 */
#include "kernel/ktest.h"
#include "kernel/fault.h"

static volatile int zero;

static __attribute__((noinline)) void do_ud2(void) { __asm__ volatile("ud2"); }
static __attribute__((noinline)) void do_int3(void) { __asm__ volatile("int3"); }
static __attribute__((noinline)) void do_div0(void)
{
	/* In asm: gcc turns a C 1/x into compares, not a division. */
	__asm__ volatile("xorl %%edx, %%edx; movl $1, %%eax; divl %0"
			 : : "r"(zero) : "eax", "edx");
}
static __attribute__((noinline)) void do_gp(void)
{
	/* A non-canonical address: #GP, not #PF. */
	(void)*(volatile uint64_t *)0x8000000000000000ull;
}

static void expect(void (*fn)(void), int vec, const char *name,
		   const char *sym)
{
	struct fault_catch fc;

	if (fault_try(&fc)) {
		fn();
		fault_untry(&fc);
		ktest_fail(__FILE__, __LINE__, "%s did not fault", sym);
		return;
	}
	if (fc.vector != vec) {
		ktest_fail(__FILE__, __LINE__, "%s: vector %d, want %d", sym,
			   fc.vector, vec);
		return;
	}
	char want[64];
	snprintf(want, sizeof(want), "EXCEPTION %s (vector %d)", name, vec);
	if (!strstr(fc.report, want))
		ktest_fail(__FILE__, __LINE__, "report lacks '%s'", want);
	/* The faulting function is named at the RIP and in the backtrace. */
	else if (!strstr(fc.report, sym) || !strstr(fc.report, "backtrace:"))
		ktest_fail(__FILE__, __LINE__, "report does not name %s:\n%s",
			   sym, fc.report);
	else if (!strstr(fc.report, "rax 0x") || !strstr(fc.report, "r15 0x") ||
		 !strstr(fc.report, "cr2 0x") || !strstr(fc.report, "on cpu "))
		ktest_fail(__FILE__, __LINE__, "report lacks registers");
}

KTEST(trap_reports_name_the_vector)
{
	expect(do_ud2, 6, "#UD invalid opcode", "do_ud2");
	expect(do_int3, 3, "#BP breakpoint", "do_int3");
	expect(do_div0, 0, "#DE divide error", "do_div0");
	expect(do_gp, 13, "#GP general protection", "do_gp");
}

KTEST(trap_backtrace_walks_callers)
{
	struct fault_catch fc;

	if (fault_try(&fc)) {
		do_ud2();
		fault_untry(&fc);
		KT_FAIL("no fault");
	}
	/* Frame #0 is do_ud2, frame #1 is this test function. */
	KT_ASSERTF(strstr(fc.report, "#0  0x") && strstr(fc.report, "#1  0x"),
		   "report has no numbered frames:\n%s", fc.report);
	KT_ASSERTF(strstr(fc.report, "trap_backtrace_walks_callers+0x"),
		   "caller not in backtrace:\n%s", fc.report);
}
