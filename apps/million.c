/*
 * apps/million.c - a million goroutines (Go's classic demo): spawn N that
 * each park on one channel, report the memory they hold, then close the
 * channel to release them all and wait for every one to end.
 *
 *   app=million              N = 1,000,000 (give QEMU 8 GiB: make run
 *                            MEM=8G)
 *   app=million arg=100000   N as given
 *
 * Prints the free pages used per parked goroutine (its stack's resident
 * page, its struct g, page tables), the stack figures of go_memstats,
 * and the times; after the release, go_free_os_memory's pages back.
 */
#include "include/rt0.h"

static go_chan *gate;
static go_waitgroup parked, done;

static void waiter(void *arg)
{
	(void)arg;
	go_waitgroup_done(&parked);
	go_chan_recv(gate, NULL);	/* until the close */
	go_waitgroup_done(&done);
}

/* arg=N, or a million. */
static long arg_n(void)
{
	const char *s = go_arg();
	long n = 0;

	if (!*s)
		return 1000000;
	for (; *s >= '0' && *s <= '9'; s++)
		n = n * 10 + (*s - '0');
	return *s ? -1 : n;
}

RT0_APP(million, "spawn N goroutines (arg=N, default 1000000) parked on a "
		 "channel, report memory, release them")
{
	long n = arg_n();
	struct go_memstats before, after;

	if (n <= 0) {
		go_printf("million: arg= must be a positive number\n");
		return 2;
	}
	gate = go_chan_make(0, 0);
	go_memstats(&before);
	go_printf("million: spawning %ld goroutines (gstack=%lu bytes, %lu MiB "
		  "free)\n", n, (unsigned long)before.gstack_bytes,
		  (unsigned long)(before.free_pages * 4096 >> 20));
	int64_t t0 = go_nanotime();
	go_waitgroup_add(&parked, (int)n);
	go_waitgroup_add(&done, (int)n);
	for (long i = 0; i < n; i++)
		go_spawn(waiter, NULL);
	go_waitgroup_wait(&parked);
	go_sleep(10000000);		/* the last ones reach the channel */
	int64_t t1 = go_nanotime();
	go_memstats(&after);
	uint64_t used = (before.free_pages - after.free_pages) * 4096;
	go_printf("million: %ld goroutines parked in %ld ms: %lu bytes "
		  "resident each (%lu MiB in all; stacks %lu MiB in %lu pages)\n",
		  n, (long)((t1 - t0) / 1000000), (unsigned long)(used / n),
		  (unsigned long)(used >> 20),
		  (unsigned long)(after.stack_inuse_bytes >> 20),
		  (unsigned long)after.stack_mapped_pages);
	go_chan_close(gate);
	go_waitgroup_wait(&done);
	int64_t t2 = go_nanotime();
	uint64_t back = go_free_os_memory();
	go_printf("million: released and ended in %ld ms; go_free_os_memory "
		  "gave back %lu pages\n", (long)((t2 - t1) / 1000000),
		  (unsigned long)back);
	return 0;
}
