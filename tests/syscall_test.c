/*
 * tests/syscall_test.c - blocking kernel calls block only their M
 * (Go's TestPreemptionAfterSyscall and friends).
 */
#include "kernel/ktest.h"
#include "tests/go_helpers.h"

#define MS 1000000l
#define US 1000l

struct sysloop {
	int64_t d;
	int iters;
	go_waitgroup wg;
};

static void syscall_looper(void *a)
{
	struct sysloop *s = a;

	for (int i = 0; i < s->iters; i++)
		go_syscall_sleep(s->d);
	go_waitgroup_done(&s->wg);
}

/* 8 goroutines looping in and out of system calls all finish. */
RTEST_TIMEOUT(syscall_preemption_after_syscall, 120)
{
	static struct sysloop s;
	static const int64_t ds[] = { 10 * US, 100 * US, 1000 * US };

	for (unsigned k = 0; k < 3; k++) {
		s = (struct sysloop){ .d = ds[k], .iters = 100 };
		int64_t t0 = go_nanotime();
		go_waitgroup_add(&s.wg, 8);
		for (int i = 0; i < 8; i++)
			go_spawn(syscall_looper, &s);
		go_waitgroup_wait(&s.wg);
		int64_t took = go_nanotime() - t0;
		kprintf("# 8 x 100 syscalls of %ld us: %ld ms\n", ds[k] / US,
			took / MS);
		KT_CMP(took, >=, 100 * ds[k]);
		KT_CMP(took, <, 30000 * MS);
	}
}

struct busy {
	uint32_t stop;
	uint64_t count;
};

static void counter(void *a)
{
	struct busy *b = a;

	while (!__atomic_load_n(&b->stop, __ATOMIC_ACQUIRE)) {
		b->count++;
		go_sched();
	}
}

struct blocked {
	int64_t d;
	uint64_t seen_before, seen_after;
	struct busy *b;
	go_waitgroup wg;
	int got;
};

static void in_syscall(void *a)
{
	struct blocked *x = a;

	x->seen_before = READ_ONCE(x->b->count);
	go_syscall_sleep(x->d);
	x->seen_after = READ_ONCE(x->b->count);
	go_waitgroup_done(&x->wg);
}

static void in_console_read(void *a)
{
	struct blocked *x = a;
	char buf[8];

	x->seen_before = READ_ONCE(x->b->count);
	x->got = go_read_console(buf, sizeof(buf), x->d);
	x->seen_after = READ_ONCE(x->b->count);
	go_waitgroup_done(&x->wg);
}

/* While one goroutine is in a long kernel call, the others keep running
 * (its P is retaken by sysmon or handed off at once). */
static void only_the_m_blocks(void (*fn)(void *), const char *what)
{
	static struct busy b;
	static struct blocked x;

	b = (struct busy){ 0 };
	go_spawn(counter, &b);
	x = (struct blocked){ .d = 100 * MS, .b = &b };
	go_waitgroup_add(&x.wg, 1);
	int64_t t0 = go_nanotime();
	go_spawn(fn, &x);
	go_waitgroup_wait(&x.wg);
	int64_t took = go_nanotime() - t0;
	__atomic_store_n(&b.stop, 1, __ATOMIC_RELEASE);
	kprintf("# %s: the counter ran %lu times during the 100 ms call\n",
		what, x.seen_after - x.seen_before);
	if (took < 100 * MS)
		ktest_fail(__FILE__, __LINE__, "%s returned after %ld us", what,
			   took / 1000);
	if (x.seen_after - x.seen_before < 100)
		ktest_fail(__FILE__, __LINE__, "%s blocked the others: %lu",
			   what, x.seen_after - x.seen_before);
	go_sleep(2 * MS);		/* let the counter exit */
}

RTEST(syscall_sleep_blocks_only_its_m)
{
	only_the_m_blocks(in_syscall, "go_syscall_sleep");
}

RTEST(syscall_console_read_times_out_blocking_only_its_m)
{
	only_the_m_blocks(in_console_read, "go_read_console");
}
