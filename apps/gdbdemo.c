/*
 * apps/gdbdemo.c - goroutines stopped in known places, for gdb and
 * tools/rt0-gdb.py (tools/gdbtest.sh drives it; by hand:
 * make gdb CMDLINE=app=gdbdemo, then "break gdbdemo_ready", "continue",
 * "info goroutines").
 *
 * main starts one goroutine per way of being stopped:
 *   gdbdemo_receiver  chan receive on a channel nobody sends to
 *   gdbdemo_locker    sync.Mutex.Lock on a mutex main holds
 *   gdbdemo_waiter    sync.WaitGroup.Wait on a count nobody lowers
 *   gdbdemo_sleeper   sleep (an hour)
 *   gdbdemo_syscaller a blocking kernel call (go_syscall_sleep)
 *   gdbdemo_locked    locked to its thread, then chan receive
 *   gdbdemo_spinner   runs forever in gdbdemo_spin_loop (preempted by
 *                     sysmon now and then)
 * waits until a dump of every goroutine (go_stack) shows each waiting
 * where it should, then calls gdbdemo_ready() -- the place for a
 * breakpoint -- and again every 200 ms, sleeping in between, forever.
 */
#include "include/rt0.h"

#define MS 1000000ll

static go_chan *never;			/* nobody sends on it */
static go_mutex held;			/* main holds it for good */
static go_waitgroup pending;		/* its count never reaches 0 */
static volatile uint64_t spins;		/* gdbdemo_spin_loop's work */
static volatile uint32_t ready_calls;	/* times gdbdemo_ready ran */
static volatile uint32_t woken;		/* goroutines that went on (none
					 * should); also keeps each wait out
					 * of tail position, so that its
					 * function stays in backtraces */
static char dump[32768];		/* go_stack of every goroutine */

static void gdbdemo_receiver(void *arg)
{
	int v;

	go_chan_recv(never, &v);
	woken++;
}

static void gdbdemo_locker(void *arg)
{
	go_mutex_lock(&held);
	woken++;
}

static void gdbdemo_waiter(void *arg)
{
	go_waitgroup_wait(&pending);
	woken++;
}

static void gdbdemo_sleeper(void *arg)
{
	for (;;)
		go_sleep(3600 * 1000 * MS);
}

static void gdbdemo_syscaller(void *arg)
{
	for (;;)
		go_syscall_sleep(3600 * 1000 * MS);
}

static void gdbdemo_locked(void *arg)
{
	int v;

	go_lock_os_thread();
	go_chan_recv(never, &v);
	woken++;
}

/* The spinner's loop, a function of its own so that backtraces name it. */
static __attribute__((noinline)) void gdbdemo_spin_loop(void)
{
	for (;;)
		spins++;
}

static void gdbdemo_spinner(void *arg)
{
	gdbdemo_spin_loop();
}

/**
 * gdbdemo_ready - called once every goroutine above is in place, then
 * every 200 ms: the breakpoint for gdb.  Does nothing else.
 */
__attribute__((noinline, used)) void gdbdemo_ready(void)
{
	ready_calls++;
	__asm__ volatile("" ::: "memory");
}

/* Whether @s contains @sub (programs have no libc). */
static bool contains(const char *s, const char *sub)
{
	for (; *s; s++) {
		const char *a = s, *b = sub;
		while (*b && *a == *b)
			a++, b++;
		if (!*b)
			return true;
	}
	return false;
}

/* Whether a dump of every goroutine shows each wait it should. */
static bool all_in_place(void)
{
	static const char *const want[] = {
		"[chan receive]", "[sync.Mutex.Lock]", "[sync.WaitGroup.Wait]",
		"[sleep]", "[syscall]",
	};
	int n = go_stack(dump, sizeof(dump) - 1, true);

	dump[n] = '\0';
	for (unsigned i = 0; i < sizeof(want) / sizeof(want[0]); i++)
		if (!contains(dump, want[i]))
			return false;
	return true;
}

RT0_APP(gdbdemo, "goroutines stopped in known places, for gdb (rt0-gdb.py)")
{
	never = go_chan_make(sizeof(int), 0);
	go_mutex_lock(&held);
	go_waitgroup_add(&pending, 1);

	go_spawn(gdbdemo_receiver, NULL);
	go_spawn(gdbdemo_locker, NULL);
	go_spawn(gdbdemo_waiter, NULL);
	go_spawn(gdbdemo_sleeper, NULL);
	go_spawn(gdbdemo_syscaller, NULL);
	go_spawn(gdbdemo_locked, NULL);
	go_spawn(gdbdemo_spinner, NULL);

	while (!all_in_place())
		go_sleep(10 * MS);
	go_printf("gdbdemo: every goroutine in place; gdbdemo_ready() "
		  "every 200 ms\n");
	for (;;) {
		gdbdemo_ready();
		go_sleep(200 * MS);
	}
	return 0;
}
