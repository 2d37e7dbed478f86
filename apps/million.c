/*
 * apps/million.c - a million goroutines (Go's classic demo): spawn N that
 * each park on one channel, report the memory they hold, then close the
 * channel to release them all and wait for every one to end.
 *
 *   app=million              N = 1,000,000 (give QEMU 8 GiB: make run
 *                            MEM=8G)
 *   app=million arg=100000   N as given
 *   app=million arg=max      as many as the memory holds (make bench):
 *                            spawn in batches while the free memory
 *                            (after go_free_os_memory when it runs
 *                            short) holds another batch and a
 *                            sixteenth; report and return, the
 *                            goroutines still parked
 *
 * The release is a close, or, when the waiters' stack pages would not all
 * fit at once (a close readies them all, and reading each one's sudog
 * brings its stashed page back), a send per goroutine, 10,000 at a time.
 *
 * Prints the free pages used per parked goroutine (its stack's resident
 * page, its struct g, page tables), then the same after
 * go_free_os_memory has shrunk the parked stacks (a stashed page keeps
 * only its live bytes), the stack figures of go_memstats, and the times;
 * after the release, go_free_os_memory's pages back.
 */
#include "include/rt0.h"

#define BATCH 10000
#define UNSHRUNK 4900	/* bytes a parked goroutine holds before its stack
			 * shrinks (4,890 measured: a page, its struct g,
			 * its page-table share) */

static go_chan *gate;
static go_waitgroup parked, done, batch;
static bool batched;		/* released by sends: count them in batch */

static void waiter(void *arg)
{
	(void)arg;
	go_waitgroup_done(&parked);
	go_chan_recv(gate, NULL);	/* until the close, or a send */
	if (batched)	/* written before the send that woke us */
		go_waitgroup_done(&batch);
	go_waitgroup_done(&done);
}

/* arg=N, or a million; arg=max: 0. */
static long arg_n(void)
{
	const char *s = go_arg();
	long n = 0;

	if (!*s)
		return 1000000;
	if (s[0] == 'm' && s[1] == 'a' && s[2] == 'x' && !s[3])
		return 0;
	for (; *s >= '0' && *s <= '9'; s++)
		n = n * 10 + (*s - '0');
	return *s ? -1 : n;
}

static void spawn(long n)
{
	go_waitgroup_add(&parked, (int)n);
	go_waitgroup_add(&done, (int)n);
	for (long i = 0; i < n; i++)
		go_spawn(waiter, NULL);
	go_waitgroup_wait(&parked);
}

static uint64_t free_bytes(void)
{
	struct go_memstats ms;

	go_memstats(&ms);
	return ms.free_pages * 4096;
}

/*
 * As many batches as fit: each needs UNSHRUNK bytes per goroutine while
 * its goroutines start, before any shrink, and a sixteenth of the memory
 * stays free for the runtime.
 */
static long spawn_max(uint64_t total)
{
	long n = 0;

	for (;;) {
		uint64_t need = BATCH * (uint64_t)UNSHRUNK + total / 16;
		if (free_bytes() < need) {
			go_free_os_memory();
			if (free_bytes() < need)
				return n;
		}
		spawn(BATCH);
		n += BATCH;
	}
}

/* What the goroutines hold now, against @before. */
struct held {
	unsigned long each, mib, stack_mib, pages, stashed, live;
};

static struct held held(long n, const struct go_memstats *before)
{
	struct go_memstats ms;

	go_memstats(&ms);
	uint64_t used = (before->free_pages - ms.free_pages) * 4096;
	return (struct held){
		.each = (unsigned long)(used / n),
		.mib = (unsigned long)(used >> 20),
		.stack_mib = (unsigned long)(ms.stack_inuse_bytes >> 20),
		.pages = (unsigned long)ms.stack_mapped_pages,
		.stashed = (unsigned long)ms.stack_stashed_pages,
		.live = (unsigned long)(ms.stack_stashed_pages ?
			ms.stack_stashed_bytes / ms.stack_stashed_pages : 0),
	};
}

#define HELD_FMT "%lu bytes resident each (%lu MiB in all; stacks %lu MiB " \
		 "in %lu pages, %lu pages stashed with %lu live bytes each)"
#define HELD_ARGS(h) (h).each, (h).mib, (h).stack_mib, (h).pages, \
		     (h).stashed, (h).live

RT0_APP(million, "spawn N goroutines (arg=N, default 1000000; arg=max: "
		 "as many as fit) parked on a channel, report memory, "
		 "release them")
{
	long n = arg_n();
	struct go_memstats before;

	if (n < 0 || (n == 0 && go_arg()[0] != 'm')) {
		go_printf("million: arg= must be a positive number or max\n");
		return 2;
	}
	gate = go_chan_make(0, 0);
	go_memstats(&before);
	if (n)
		go_printf("million: spawning %ld goroutines", n);
	else
		go_printf("million: spawning as many goroutines as fit");
	go_printf(" (gstack=%lu bytes, %lu MiB free of %lu)\n",
		  (unsigned long)before.gstack_bytes,
		  (unsigned long)(before.free_pages * 4096 >> 20),
		  (unsigned long)(before.total_pages * 4096 >> 20));
	int64_t t0 = go_nanotime();
	bool max = !n;

	if (n)
		spawn(n);
	else
		n = spawn_max(before.total_pages * 4096);
	go_sleep(10000000);		/* the last ones reach the channel */
	int64_t t1 = go_nanotime();
	struct held h = held(n, &before);
	go_printf("million: %ld goroutines parked in %ld ms: " HELD_FMT "\n",
		  n, (long)((t1 - t0) / 1000000), HELD_ARGS(h));
	/* Go's debug.FreeOSMemory: parked stacks shrink to their live
	 * bytes (sysmon does it by itself when memory runs low). */
	struct go_memstats ms0, ms1;
	go_memstats(&ms0);
	int64_t f0 = go_nanotime();
	uint64_t back = go_free_os_memory();
	int64_t f1 = go_nanotime();
	go_memstats(&ms1);
	h = held(n, &before);
	go_printf("million: after go_free_os_memory (%lu pages back in %ld "
		  "ms, %lu TLB shootdowns): " HELD_FMT "\n",
		  (unsigned long)back, (long)((f1 - f0) / 1000000),
		  (unsigned long)(ms1.tlb_shootdowns - ms0.tlb_shootdowns),
		  HELD_ARGS(h));
	if (max)	/* the count was the point: main returns, and */
		return 0;	/* the program ends with them parked, as Go's */
	/* A close readies every waiter at once, and reading each one's
	 * sudog brings its stashed stack page back: if those pages do not
	 * fit, wake a batch at a time instead, each ended before the next. */
	const char *how = "a close";
	if ((uint64_t)n * UNSHRUNK < free_bytes() / 4 * 3) {
		go_chan_close(gate);
	} else {
		how = "sends, 10000 at a time";
		batched = true;
		for (long i = 0; i < n; i += BATCH) {
			long k = n - i < BATCH ? n - i : BATCH;
			go_waitgroup_add(&batch, (int)k);
			for (long j = 0; j < k; j++)
				go_chan_send(gate, NULL);
			go_waitgroup_wait(&batch);
		}
	}
	go_waitgroup_wait(&done);
	int64_t t2 = go_nanotime();
	back = go_free_os_memory();
	go_printf("million: released (by %s) and ended in %ld ms; "
		  "go_free_os_memory gave back %lu pages\n", how,
		  (long)((t2 - t1) / 1000000), (unsigned long)back);
	return 0;
}
