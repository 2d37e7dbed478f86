/* tests/kt_helpers.h - starting and joining kernel threads in tests. */
#ifndef RT0_TESTS_KT_HELPERS_H
#define RT0_TESTS_KT_HELPERS_H

#include "kernel/kthread.h"
#include "kernel/kwait.h"
#include "kernel/ktest.h"
#include "kernel/time.h"

struct tthread {
	uint32_t alive;			/* cleared by the kernel after exit */
	void (*fn)(void *);
	void *arg;
	struct kthread *t;
};

static void tthread_body(void *p)
{
	struct tthread *tt = p;

	tt->fn(tt->arg);
	kthread_exit(&tt->alive);
}

/* Start fn(arg) on a kernel-allocated 16 KiB stack; cpu -1 = any. */
static inline bool tthread_start(struct tthread *tt, const char *name,
				 void (*fn)(void *), void *arg, int cpu)
{
	tt->alive = 1;
	tt->fn = fn;
	tt->arg = arg;
	tt->t = kthread_create(name, tthread_body, tt, NULL, 16384, cpu);
	return tt->t != NULL;
}

/* Wait until the thread has exited and left its stack; false on timeout. */
static inline bool tthread_join(struct tthread *tt, uint64_t timeout_ns)
{
	uint64_t deadline = nanotime() + timeout_ns;

	while (__atomic_load_n(&tt->alive, __ATOMIC_ACQUIRE))
		if (kwait(&tt->alive, 1, deadline) == KWAIT_TIMEOUT)
			return !__atomic_load_n(&tt->alive, __ATOMIC_ACQUIRE);
	return true;
}

/* A CPU to use as "another CPU" (itself on a 1-CPU machine). */
static inline int other_cpu(int c)
{
	return ncpu > 1 ? (c + 1) % (int)ncpu : c;
}

#endif
