/*
 * tests/selftest.c - fixtures that prove the harness catches failure.
 *
 * Marked KT_MANUAL: they run only when test= names them exactly, and the
 * host test script runs each expecting the failure it provokes (a failed
 * assertion, a hang caught by the watchdog, an unexpected exception).
 */
#include "kernel/ktest.h"
#include "kernel/cpu.h"
#include "kernel/smp.h"
#include "arch/x86_64/x86.h"
#include "sched/proc.h"
#include "include/rt0.h"

KTEST_MANUAL_TEST(selftest_must_fail, 0)
{
	KT_EQ(1 + 1, 3);
}

KTEST_MANUAL_TEST(selftest_must_hang, 2)
{
	for (;;)
		cpu_relax();
}

static __attribute__((noinline)) void deref(volatile uint64_t *p)
{
	(void)*p;
}

KTEST_MANUAL_TEST(selftest_unexpected_fault, 0)
{
	deref(NULL);
}

static void never_runs(void *arg)
{
	(void)arg;
}

/* The public API from a kernel thread that is no M: a clear panic. */
KTEST_MANUAL_TEST(selftest_spawn_outside_goroutine, 0)
{
	go_spawn(never_runs, NULL);
}

/* A runtime error: an illegal G status change must throw. */
RTEST_MANUAL(selftest_throw, 0)
{
	casgstatus(getg(), _Grunning, _Gidle);
}

/* casgstatus_own from a G not in the old status: the fast paths' check
 * (its throw is called from inline asm) names the G, and the backtrace
 * still shows the caller. */
RTEST_MANUAL(selftest_own_status_wrong, 0)
{
	static struct g fake = { .goid = 424242 };

	fake.atomicstatus = _Gwaiting;
	casgstatus_own(&fake, _Grunning, _Grunnable);
}

/* Yielding on g0 (runtime code, here through systemstack) throws rather
 * than saving g0 as if it were a goroutine. */
static void yield_on_g0(void *arg)
{
	(void)arg;
	go_sched();
}

RTEST_MANUAL(selftest_sched_on_g0, 0)
{
	systemstack(yield_on_g0, NULL);
}

/* Readying a goroutine that is not parked (here: itself) throws. */
RTEST_MANUAL(selftest_ready_not_parked, 0)
{
	go_ready(go_self());
}

/* The runtime-internal lockOSThread, unlocked without a lock: throws. */
RTEST_MANUAL(selftest_bad_unlock, 0)
{
	unlockOSThread();
}

/* Every CPU prints lines at once; the host checks none is torn. */
static void print_lines(void *arg)
{
	uint32_t me = this_cpu_id();

	(void)arg;
	for (int i = 0; i < 40; i++)
		kprintf("# console-line cpu=%02u seq=%02d "
			"abcdefghijklmnopqrstuvwxyz0123456789 end=%02u\n",
			me, i, me);
}

KTEST(console_lines_from_all_cpus)
{
	smp_run_all(print_lines, NULL);
}
