/*
 * tests/stack_test.c - the rest of package runtime: go_stack
 * (runtime.Stack) of one or every goroutine, thread ids and counts, and
 * the thread limit's reading.  The fatal ends (a nil spawn, thread
 * exhaustion, exit from a goroutine, the console's Ctrl-\ dump) are
 * harness checks (tests/selftest.c).
 */
#include "kernel/ktest.h"
#include "include/rt0.h"

#define MS 1000000l

static char stk[32768];		/* go_stack's output */

/* Whether @s occurs in the first @n bytes of stk. */
static bool stk_has(int n, const char *s)
{
	size_t l = strlen(s);

	for (int i = 0; i + (int)l <= n; i++)
		if (!memcmp(stk + i, s, l))
			return true;
	return false;
}

/* The text of goroutine @goid's entry (up to the next one), or NULL. */
static const char *stk_entry(int n, int64_t goid, int *len)
{
	char head[48];
	int hl = snprintf(head, sizeof(head), "goroutine %ld [", goid);

	for (int i = 0; i + hl <= n; i++) {
		if ((i && stk[i - 1] != '\n') || memcmp(stk + i, head, hl))
			continue;
		int j = i + hl;
		while (j < n && !(stk[j] == '\n' && j + 1 < n &&
				  stk[j + 1] == '\n'))
			j++;
		*len = j - i;
		return stk + i;
	}
	return NULL;
}

static bool entry_has(const char *e, int len, const char *s)
{
	size_t l = strlen(s);

	for (int i = 0; i + (int)l <= len; i++)
		if (!memcmp(e + i, s, l))
			return true;
	return false;
}

/* Goroutines blocked in known places. */
static struct {
	go_chan *c;
	go_mutex mu;
	go_waitgroup started, wg;
	int64_t ids[4];
} bl;

static void stk_chan_waiter(void *arg)
{
	bl.ids[0] = go_id();
	go_waitgroup_done(&bl.started);
	go_chan_recv(bl.c, NULL);
	go_waitgroup_done(&bl.wg);
}

static void stk_mutex_waiter(void *arg)
{
	bl.ids[1] = go_id();
	go_waitgroup_done(&bl.started);
	go_mutex_lock(&bl.mu);
	go_mutex_unlock(&bl.mu);
	go_waitgroup_done(&bl.wg);
}

static void stk_sleeper(void *arg)
{
	bl.ids[2] = go_id();
	go_waitgroup_done(&bl.started);
	go_sleep(300 * MS);
	go_waitgroup_done(&bl.wg);
}

static void stk_syscaller(void *arg)
{
	bl.ids[3] = go_id();
	go_waitgroup_done(&bl.started);
	go_syscall_sleep(300 * MS);
	go_waitgroup_done(&bl.wg);
}

RTEST_TIMEOUT(stack_lists_every_goroutine_and_where_it_waits, 60)
{
	static const char *const fn[4] = { "stk_chan_waiter", "stk_mutex_waiter",
					   "stk_sleeper", "stk_syscaller" };
	static const char *const why[4] = { "[chan receive]:", "[sync.Mutex.Lock]:",
					    "[sleep]:", "[syscall]:" };

	memset(&bl, 0, sizeof(bl));
	bl.c = go_chan_make(0, 0);
	go_mutex_lock(&bl.mu);
	go_waitgroup_add(&bl.started, 4);
	go_waitgroup_add(&bl.wg, 4);
	go_spawn(stk_chan_waiter, NULL);
	go_spawn(stk_mutex_waiter, NULL);
	go_spawn(stk_sleeper, NULL);
	go_spawn(stk_syscaller, NULL);
	go_waitgroup_wait(&bl.started);
	go_sleep(50 * MS);			/* they block */

	int n = go_stack(stk, sizeof(stk), true);
	char head[48];
	snprintf(head, sizeof(head), "goroutine %ld [running]:", go_id());
	bool self_first = n > 0 && !memcmp(stk, head, strlen(head));
	bool self_frame = stk_has(n, "stack_lists_every_goroutine");
	int found = 0, placed = 0, created = 0;
	for (int i = 0; i < 4; i++) {
		int len;
		const char *e = stk_entry(n, bl.ids[i], &len);
		if (!e) {
			kprintf("# goroutine %ld not listed\n", bl.ids[i]);
			continue;
		}
		found++;
		if (entry_has(e, len, why[i]) && entry_has(e, len, fn[i]))
			placed++;
		else
			kprintf("# goroutine %ld: expected %s in %s:\n%.*s\n",
				bl.ids[i], why[i], fn[i], len, e);
		created += entry_has(e, len, "created by") &&
			   entry_has(e, len, "stack_lists_every_goroutine");
	}
	/* One goroutine alone: just ourselves. */
	int n1 = go_stack(stk + n, (int)sizeof(stk) - n, false);
	bool alone = n1 > 0 && !memcmp(stk + n, head, strlen(head));
	int others = 0;
	for (int i = n; i + 10 < n + n1; i++)
		others += !memcmp(stk + i, "goroutine ", 10);

	go_chan_close(bl.c);
	go_mutex_unlock(&bl.mu);
	go_waitgroup_wait(&bl.wg);
	go_chan_free(bl.c);
	KT_ASSERT(self_first);
	KT_ASSERT(self_frame);
	KT_EQ(found, 4);
	KT_EQ(placed, 4);
	KT_EQ(created, 4);
	KT_ASSERT(alone);
	KT_EQ(others, 1);
}

/*
 * A goroutine stopped by asynchronous preemption is switched out by
 * mcall (from asyncPreempt2): its trace shows mcall's caller, then the
 * interrupted function.  It spins in a function of its own; go_stack of
 * every goroutine stops the world, which stops it there.
 */
static volatile uint32_t spin_stop, spin_started;

static __attribute__((noinline)) void stk_spin_loop(void)
{
	spin_started = 1;
	while (!spin_stop)
		__builtin_ia32_pause();	/* lets single-threaded TCG switch */
}

static void stk_spinner(void *arg)
{
	stk_spin_loop();
	go_waitgroup_done(&bl.wg);
}

RTEST_TIMEOUT(stack_of_a_preempted_goroutine_shows_mcalls_caller, 60)
{
	memset(&bl, 0, sizeof(bl));
	spin_stop = 0;
	spin_started = 0;
	go_waitgroup_add(&bl.wg, 1);
	go_spawn(stk_spinner, NULL);
	while (!spin_started)
		go_sleep(MS);
	go_sleep(20 * MS);		/* preempted at least once, by now */

	int n = go_stack(stk, sizeof(stk), true);
	spin_stop = 1;
	go_waitgroup_wait(&bl.wg);
	/* Its entry: the one (between blank lines) that names
	 * stk_spin_loop. */
	const char *e = NULL;
	int len = 0;
	for (int i = 0; i < n && !e; ) {
		int j = i;
		while (j < n && !(stk[j] == '\n' && j + 1 < n &&
				  stk[j + 1] == '\n'))
			j++;
		if (entry_has(stk + i, j - i, "stk_spin_loop")) {
			e = stk + i;
			len = j - i;
		}
		i = j + 2;
	}
	KT_ASSERTF(e, "no goroutine in stk_spin_loop:\n%.*s", n > 2000 ? 2000 : n, stk);
	/* (Not stk_spinner: stk_spin_loop is a leaf without a frame of its
	 * own, so the frame chain goes on from its caller's frame.) */
	KT_ASSERTF(entry_has(e, len, " mcall+") &&
		   entry_has(e, len, "asyncPreempt2+"),
		   "expected mcall, asyncPreempt2, stk_spin_loop:\n%.*s",
		   len, e);
}

RTEST(stack_truncates_at_the_buffer)
{
	static char small[40];

	memset(small, 'x', sizeof(small));
	int n = go_stack(small, 32, true);
	KT_EQ(n, 32);
	KT_EQ(small[32], 'x');			/* nothing past len */
	KT_ASSERT(!memcmp(small, "goroutine ", 10));
	KT_EQ(go_stack(small, 0, false), 0);
}

/* ---- threads ---- */

static int64_t locked_ids[2];

static void thread_id_locked(void *arg)
{
	go_waitgroup *wg = arg;

	go_lock_os_thread();
	locked_ids[0] = go_thread_id();
	go_sleep(2 * MS);
	go_sched();
	locked_ids[1] = go_thread_id();	/* the same M: it is locked */
	go_unlock_os_thread();
	go_waitgroup_done(wg);
}

RTEST(threads_ids_counts_and_limit)
{
	static go_waitgroup wg;
	struct go_sched_stats st;

	go_sched_stats(&st);
	KT_EQ(go_num_threads(), st.threads);
	KT_CMP(go_thread_id(), >=, 0);
	go_waitgroup_add(&wg, 1);
	go_spawn(thread_id_locked, &wg);
	go_waitgroup_wait(&wg);
	KT_EQ(locked_ids[0], locked_ids[1]);
	int old = go_set_max_threads(5000);
	KT_EQ(old, 10000);
	KT_EQ(go_set_max_threads(old), 5000);
}

/* ---- frame walks that must not fault ---- */

#include "kernel/ksyms.h"
#include "kernel/vm.h"
#include "sched/proc.h"

static char walk_out[1024];
static size_t walk_len;

static void walk_sink(void *arg, const char *s, size_t n)
{
	(void)arg;
	for (size_t i = 0; i < n && walk_len + 1 < sizeof(walk_out); i++)
		walk_out[walk_len++] = s[i];
	walk_out[walk_len] = '\0';
}

static int walk_lines(void)
{
	int n = 0;

	for (size_t i = 0; i < walk_len; i++)
		n += walk_out[i] == '\n';
	return n;
}

/*
 * A saved frame pointer that is not canonical, but whose bits 47..12
 * name a mapped page, looks readable to the page tables: following it
 * took a #GP.  The walk stops there instead.
 */
RTEST(backtrace_stops_at_a_noncanonical_frame_pointer)
{
	static uint64_t frame[2] __attribute__((aligned(16)));
	uint64_t ret = ksym_addr("backtrace_write") + 1;

	frame[0] = 0x0001000000000000ull | (uint64_t)(uintptr_t)&frame[1];
	frame[1] = ret;
	KT_ASSERT(vm_readable(frame[0] & 0xffffffffffffull, 16));
	walk_len = 0;
	backtrace_write(walk_sink, NULL, ret, (uint64_t)(uintptr_t)frame);
	KT_EQ(walk_lines(), 2);		/* the return address, frame[1] */
}

/*
 * What the Ctrl-\ dump does without stopping the world: walk goroutines
 * that may run meanwhile and fill their stacks with words that look like
 * frame pointers (non-canonical aliases of mapped pages).  The walk must
 * stay on each goroutine's own stack and never fault.
 */
static go_chan *walk_c;
static uint32_t walk_stop;

static void __attribute__((noinline)) walk_poison(void)
{
	volatile uint64_t a[256];

	for (int i = 0; i < 256; i++)
		a[i] = 0x0001000000100000ull;
	__asm__ volatile("" :: "r"(a[0]) : "memory");
}

static void __attribute__((noinline)) walk_deep_recv(int d)
{
	volatile char pad[64];

	pad[0] = 0;
	if (d > 0)
		walk_deep_recv(d - 1);
	else
		go_chan_recv(walk_c, NULL);
	(void)pad[0];
}

static void walk_victim(void *wg)
{
	while (!__atomic_load_n(&walk_stop, __ATOMIC_RELAXED)) {
		walk_deep_recv(6);
		for (int i = 0; i < 50; i++)
			walk_poison();
	}
	go_waitgroup_done(wg);
}

RTEST_TIMEOUT(traceback_of_goroutines_that_run_meanwhile_never_faults, 120)
{
	static go_waitgroup wg;

	walk_c = go_chan_make(0, 0);
	walk_stop = 0;
	go_waitgroup_add(&wg, 3);
	for (int i = 0; i < 3; i++)
		go_spawn(walk_victim, &wg);
	for (int k = 0; k < 20000; k++) {
		go_chan_send(walk_c, NULL);
		walk_len = 0;
		tracebackothers(walk_sink, NULL, NULL);
	}
	__atomic_store_n(&walk_stop, 1, __ATOMIC_RELAXED);
	go_chan_close(walk_c);		/* receivers return at once now */
	go_waitgroup_wait(&wg);
	go_chan_free(walk_c);
}
