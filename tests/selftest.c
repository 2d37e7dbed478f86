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

/* go of a nil function: a fatal error at the call, naming the caller. */
RTEST_MANUAL(selftest_spawn_nil, 0)
{
	go_spawn(NULL, NULL);
	KT_FAIL("spawned a nil function");
}

/* Exit from a goroutine that is not main, with status 7 (os.Exit(7)). */
static void exit_seven(void *arg)
{
	(void)arg;
	go_printf("# exit_seven: goroutine %ld exits the program\n", go_id());
	go_exit_program(7);
}

RTEST_MANUAL(selftest_exit_from_goroutine, 0)
{
	go_spawn(exit_seven, NULL);
	go_sleep(5000 * 1000000ll);
	KT_FAIL("the program did not end");
}

/*
 * Thread exhaustion (debug.SetMaxThreads): with the limit a few Ms above
 * the count, goroutines that each lock a thread and sleep need more.
 */
static void lock_and_nap(void *arg)
{
	(void)arg;
	go_lock_os_thread();
	go_sleep(100 * 1000000ll);
}

RTEST_MANUAL(selftest_thread_exhaustion, 0)
{
	int limit = go_num_threads() + 3;

	KT_EQ(go_set_max_threads(limit), 10000);
	for (int i = 0; i < 10; i++)
		go_spawn(lock_and_nap, NULL);
	go_sleep(2000 * 1000000ll);
	KT_FAIL("%d threads under a limit of %d", go_num_threads(), limit);
}

/*
 * Ctrl-\ on the console (the host types it once it sees the ready line):
 * every goroutine's stack is printed and the program goes on.
 */
static go_chan *quit_c;

static void quit_waiter(void *arg)
{
	(void)arg;
	go_chan_recv(quit_c, NULL);	/* [chan receive] in the dump */
}

RTEST_MANUAL(selftest_ctrl_backslash_dump, 0)
{
	quit_c = go_chan_make(0, 0);
	go_spawn(quit_waiter, NULL);
	go_sleep(1000000);
	kprintf("# ready for ^\\\n");
	for (int i = 0; i < 300; i++)		/* the dump comes within a */
		go_sleep(10 * 1000000ll);	/* round of sysmon's */
	go_chan_close(quit_c);
	go_chan_free(quit_c);
	kprintf("# still running after the dump\n");
}
