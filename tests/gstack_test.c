/*
 * tests/gstack_test.c - demand-paged goroutine stacks (sched/stack.c,
 * kernel/vm.c's demand-zero region): deep recursion maps pages on the
 * spot, the scavenger gives a dead goroutine's pages back (with a TLB
 * shootdown), stacks touched at once on every CPU keep their contents.
 * (The guard page below a stack: sched_whitebox_test.c's overflow test.)
 */
#include "kernel/ktest.h"
#include "kernel/vm.h"
#include "kernel/mem.h"
#include "tests/go_helpers.h"

#define KIB 1024

/* Recurse through @depth frames of 1 KiB, each filled with a pattern of
 * its own, checked on the way back: returns the frames that matched. */
static __attribute__((noinline)) int deep(int depth, uint8_t seed,
					  uint64_t *mapped_at_bottom)
{
	volatile uint8_t frame[1000];
	int ok;

	for (size_t i = 0; i < sizeof(frame); i++)
		frame[i] = (uint8_t)(seed + i);
	if (depth > 1) {
		ok = deep(depth - 1, (uint8_t)(seed + 1), mapped_at_bottom);
	} else {
		struct go_memstats ms;
		go_memstats(&ms);
		*mapped_at_bottom = ms.stack_mapped_pages;
		ok = 0;
	}
	for (size_t i = 0; i < sizeof(frame); i++)
		if (frame[i] != (uint8_t)(seed + i))
			return ok;
	return ok + 1;
}

struct deeprun {
	int depth, ok;
	uint8_t seed;
	uint64_t mapped_at_bottom;
	go_waitgroup *wg;
};

static void deep_g(void *a)
{
	struct deeprun *r = a;

	r->ok = deep(r->depth, r->seed, &r->mapped_at_bottom);
	go_waitgroup_done(r->wg);
}

RTEST(gstack_200k_of_recursion_maps_pages_on_demand)
{
	static go_waitgroup wg;
	static struct deeprun r;
	struct go_memstats ms;

	go_free_os_memory();	/* free Gs' stacks: their top pages only */
	go_memstats(&ms);
	KT_ASSERTF(ms.gstack_bytes >= 256 * KIB, "gstack=%lu",
		   (unsigned long)ms.gstack_bytes);
	r = (struct deeprun){ .depth = 200, .seed = 7, .wg = &wg };
	go_and_wait(&wg, deep_g, &r);
	KT_EQ(r.ok, 200);
	/* 200 frames of over 1000 bytes: at least 48 more pages mapped
	 * than before, at the bottom of the recursion. */
	KT_ASSERTF(r.mapped_at_bottom >= ms.stack_mapped_pages + 48,
		   "mapped %lu at the bottom, %lu before",
		   (unsigned long)r.mapped_at_bottom,
		   (unsigned long)ms.stack_mapped_pages);
}

RTEST(gstack_scavenger_gives_a_dead_goroutines_pages_back)
{
	static go_waitgroup wg;
	static struct deeprun r;
	struct go_memstats a, b, c;

	go_free_os_memory();		/* from a clean slate */
	r = (struct deeprun){ .depth = 100, .seed = 3, .wg = &wg };
	go_and_wait(&wg, deep_g, &r);	/* 100 KiB touched, then it ends */
	KT_EQ(r.ok, 100);
	for (int i = 0; i < 100 && go_numgoroutine() > 1; i++)
		go_sleep(1000000);	/* it is on a free list */
	go_memstats(&a);
	uint64_t held = mem_free_pages() + vm_demand_pages_held();
	uint64_t back = go_free_os_memory();
	go_memstats(&b);
	/* 100 frames of 1000+ bytes: 24 pages at least below the top two. */
	KT_ASSERTF(back >= 23, "gave back %lu pages", (unsigned long)back);
	KT_EQ(a.stack_mapped_pages - b.stack_mapped_pages, back);
	KT_EQ(b.stack_scavenged_pages - a.stack_scavenged_pages, back);
	KT_ASSERT(b.tlb_shootdowns > a.tlb_shootdowns);
	KT_EQ(mem_free_pages() + vm_demand_pages_held(), held);
	/* Nothing to give back twice; a reused stack faults in afresh. */
	KT_EQ(go_free_os_memory(), 0);
	r = (struct deeprun){ .depth = 100, .seed = 9, .wg = &wg };
	go_and_wait(&wg, deep_g, &r);
	KT_EQ(r.ok, 100);
	go_memstats(&c);
	KT_ASSERT(c.stack_mapped_pages >= b.stack_mapped_pages);
}

/* Every CPU at once, each goroutine yielding (and maybe moving) while
 * its frames stay put. */
static __attribute__((noinline)) int deep_yield(int depth, uint8_t seed)
{
	volatile uint8_t frame[2000];
	int ok;

	for (size_t i = 0; i < sizeof(frame); i++)
		frame[i] = (uint8_t)(seed ^ i);
	if (depth % 8 == 0)
		go_sched();
	ok = depth > 1 ? deep_yield(depth - 1, (uint8_t)(seed + 3)) : 0;
	for (size_t i = 0; i < sizeof(frame); i++)
		if (frame[i] != (uint8_t)(seed ^ i))
			return ok;
	return ok + 1;
}

static struct {
	int ok[64];
	go_waitgroup wg;
} conc;

static void conc_g(void *a)
{
	uint64_t i = (uint64_t)a;

	conc.ok[i] = deep_yield(75, (uint8_t)i);	/* ~150 KiB */
	go_waitgroup_done(&conc.wg);
}

RTEST(gstack_touched_concurrently_on_every_cpu)
{
	int n = 4 * go_gomaxprocs();

	if (n > 64)
		n = 64;
	go_free_os_memory();	/* the reused stacks fault in again too */
	go_waitgroup_add(&conc.wg, n);
	for (int i = 0; i < n; i++)
		go_spawn(conc_g, (void *)(uint64_t)i);
	go_waitgroup_wait(&conc.wg);
	for (int i = 0; i < n; i++)
		KT_ASSERTF(conc.ok[i] == 75, "goroutine %d: %d of 75 frames "
			   "intact", i, conc.ok[i]);
}

/*
 * Shrinking parked goroutines' stacks (stack.c, vm.h's shrink): the page
 * holding a parked G's SP goes to a record of its live bytes and comes
 * back, intact, when anyone touches it.
 */
static struct {
	go_chan *c[2];
	go_waitgroup wg;
	int ok;
	uint64_t got[2];
} shr;

static __attribute__((noinline)) void park_with_frame(void)
{
	volatile uint8_t frame[600];

	for (size_t i = 0; i < sizeof(frame); i++)
		frame[i] = (uint8_t)(i * 7 + 1);
	go_chan_recv(shr.c[0], NULL);		/* parked, stashed */
	shr.ok = 1;
	for (size_t i = 0; i < sizeof(frame); i++)
		if (frame[i] != (uint8_t)(i * 7 + 1))
			shr.ok = 0;
}

static void park_with_frame_g(void *a)
{
	(void)a;
	park_with_frame();
	go_waitgroup_done(&shr.wg);
}

/* go_free_os_memory until a page is stashed (the G may not be parked
 * yet); false after a second of trying. */
static bool shrink_until_stashed(struct go_memstats *ms, uint64_t want)
{
	for (int i = 0; i < 1000; i++) {
		go_free_os_memory();
		go_memstats(ms);
		if (ms->stack_stashed_pages >= want)
			return true;
		go_sleep(1000000);
	}
	return false;
}

RTEST(gstack_parked_goroutine_shrinks_and_comes_back_intact)
{
	struct go_memstats a, b;

	shr.c[0] = go_chan_make(0, 0);
	go_memstats(&a);
	go_waitgroup_add(&shr.wg, 1);
	go_spawn(park_with_frame_g, NULL);
	KT_ASSERT(shrink_until_stashed(&b, a.stack_stashed_pages + 1));
	/* Its live bytes: the frame and what is above it. */
	KT_ASSERTF(b.stack_stashed_bytes >= a.stack_stashed_bytes + 600,
		   "%lu live bytes stashed",
		   (unsigned long)(b.stack_stashed_bytes -
				   a.stack_stashed_bytes));
	KT_ASSERT(b.stack_shrinks > a.stack_shrinks);
	go_chan_send(shr.c[0], NULL);		/* the waker touches it */
	go_waitgroup_wait(&shr.wg);
	KT_EQ(shr.ok, 1);
	go_memstats(&b);
	KT_ASSERT(b.stack_stashed_pages <= a.stack_stashed_pages);
	go_chan_free(shr.c[0]);
}

/*
 * A G parked in a select on two channels, its stack stashed, and two
 * senders on two CPUs released at once: both touch its sudogs on the
 * stashed page at the same moment (one restores it, the other waits for
 * it), exactly one case wins, and the other value is received after.
 */
static uint32_t shr_go;		/* atomic: the senders' start */

static void shr_sender(void *a)
{
	uint64_t i = (uint64_t)a, v = 1000 + i;

	while (!__atomic_load_n(&shr_go, __ATOMIC_ACQUIRE))
		__builtin_ia32_pause();
	go_chan_send(shr.c[i], &v);
	go_waitgroup_done(&shr.wg);
}

static void shr_selector(void *a)
{
	uint64_t v[2] = { 0, 0 };
	struct go_select_case cases[2] = { GO_RECV(shr.c[0], &v[0]),
					   GO_RECV(shr.c[1], &v[1]) };

	(void)a;
	int won = go_select(cases, 2, true);
	go_chan_recv(shr.c[1 - won], &v[1 - won]);
	shr.got[0] = v[0];
	shr.got[1] = v[1];
	go_waitgroup_done(&shr.wg);
}

RTEST_TIMEOUT(gstack_shrunk_select_woken_from_two_cpus_at_once, 60)
{
	struct go_memstats ms;

	shr.c[0] = go_chan_make(sizeof(uint64_t), 0);
	shr.c[1] = go_chan_make(sizeof(uint64_t), 0);
	for (int round = 0; round < 30; round++) {
		go_memstats(&ms);
		__atomic_store_n(&shr_go, 0, __ATOMIC_RELEASE);
		go_waitgroup_add(&shr.wg, 3);
		go_spawn(shr_selector, NULL);
		KT_ASSERT(shrink_until_stashed(&ms, ms.stack_stashed_pages + 1));
		go_spawn(shr_sender, (void *)0);
		go_spawn(shr_sender, (void *)1);
		go_sleep(200000);		/* both spinning, if 3 CPUs */
		__atomic_store_n(&shr_go, 1, __ATOMIC_RELEASE);
		go_waitgroup_wait(&shr.wg);
		KT_EQ(shr.got[0], 1000);
		KT_EQ(shr.got[1], 1001);
	}
	go_chan_free(shr.c[0]);
	go_chan_free(shr.c[1]);
}

/*
 * Shrinks racing goroutines that park, wake and run on every CPU: pages
 * are marked while their Gs wake up, run and park again with other SPs;
 * a G's frames must stay intact through all of it.
 */
static struct {
	go_chan *ring[16];
	int ok[16];
	uint32_t finished;	/* atomic */
	go_waitgroup wg;
} churn;

static __attribute__((noinline)) int churn_round(int i, int round)
{
	volatile uint8_t frame[300 + 64 * (round % 8)];
	uint64_t token;

	for (size_t j = 0; j < sizeof(frame); j++)
		frame[j] = (uint8_t)(i ^ round ^ j);
	go_chan_recv(churn.ring[i], &token);
	go_chan_send(churn.ring[(i + 1) % 16], &token);
	for (size_t j = 0; j < sizeof(frame); j++)
		if (frame[j] != (uint8_t)(i ^ round ^ j))
			return 0;
	return 1;
}

static void churn_g(void *a)
{
	int i = (int)(uint64_t)a, ok = 1;

	for (int round = 0; round < 1000; round++)
		ok &= churn_round(i, round);
	churn.ok[i] = ok;
	__atomic_fetch_add(&churn.finished, 1, __ATOMIC_RELEASE);
	go_waitgroup_done(&churn.wg);
}

RTEST_TIMEOUT(gstack_shrinks_race_goroutines_waking_on_every_cpu, 120)
{
	uint64_t token = 7;
	struct go_memstats a, b;
	int shrinks = 0;

	go_memstats(&a);
	churn.finished = 0;
	for (int i = 0; i < 16; i++)
		churn.ring[i] = go_chan_make(sizeof(uint64_t), 1);
	go_waitgroup_add(&churn.wg, 16);
	for (int i = 0; i < 16; i++)
		go_spawn(churn_g, (void *)(uint64_t)i);
	/* Four tokens go round the ring of 16 (each G passes one on
	 * and waits for the next), while this G shrinks. */
	for (int t = 0; t < 4; t++)
		go_chan_send(churn.ring[t * 4], &token);
	while (__atomic_load_n(&churn.finished, __ATOMIC_ACQUIRE) < 16) {
		go_free_os_memory();
		shrinks++;
	}
	/* Each G took 1000 tokens; drain the 4 left in the ring. */
	go_waitgroup_wait(&churn.wg);
	for (int i = 0; i < 16; i++)
		while (go_chan_len(churn.ring[i]))
			go_chan_recv(churn.ring[i], &token);
	for (int i = 0; i < 16; i++) {
		KT_ASSERTF(churn.ok[i], "goroutine %d: a frame changed", i);
		go_chan_free(churn.ring[i]);
	}
	go_memstats(&b);
	KT_ASSERTF(shrinks >= 3, "only %d shrinks while they ran", shrinks);
	KT_ASSERT(b.stack_shrinks >= a.stack_shrinks + (uint64_t)shrinks);
}

/*
 * Goroutines parked with their SP at every 16-byte place of a page (an
 * alloca before the park), shrunk, woken, ended, and scavenged whole:
 * whatever page each left stashed or touched, the stash counts come back
 * to where they were and nothing is lost (a G whose stashed page holds
 * only the bytes just above its SP may return above it and end without
 * touching it again: vm_demand_unmap drops that record).
 */
static struct {
	go_chan *c;
	go_waitgroup parked, done;
} pad;

static __attribute__((noinline)) void pad_park(void)
{
	go_waitgroup_done(&pad.parked);
	go_chan_recv(pad.c, NULL);
}

static void pad_g(void *a)
{
	volatile uint8_t *p = __builtin_alloca((uint64_t)a);

	if ((uint64_t)a)
		p[0] = 1;
	pad_park();
	go_waitgroup_done(&pad.done);
}

RTEST_TIMEOUT(gstack_parked_at_every_offset_shrunk_woken_and_scavenged, 120)
{
	struct go_memstats a, b;

	go_free_os_memory();
	go_memstats(&a);
	pad.c = go_chan_make(0, 0);
	go_waitgroup_add(&pad.parked, 256);
	go_waitgroup_add(&pad.done, 256);
	for (uint64_t i = 0; i < 256; i++)
		go_spawn(pad_g, (void *)(4096 + 16 * i));
	go_waitgroup_wait(&pad.parked);
	go_sleep(2000000);		/* the last ones reach the channel */
	go_free_os_memory();
	go_memstats(&b);
	/* The half whose SP is in the top half of its page (live bytes
	 * within VM_STASH_MAX). */
	KT_ASSERTF(b.stack_stashed_pages >= a.stack_stashed_pages + 120,
		   "%lu of 256 stashed", (unsigned long)(b.stack_stashed_pages -
							 a.stack_stashed_pages));
	go_chan_close(pad.c);
	go_waitgroup_wait(&pad.done);
	for (int i = 0; i < 100 && go_numgoroutine() > 1; i++)
		go_sleep(1000000);	/* on the free lists */
	/* Scavenged whole (memory low does that; here: every page below
	 * the top 8 KiB, where the parks were, 4 KiB and more down). */
	go_free_os_memory();
	go_memstats(&b);
	KT_EQ(b.stack_stashed_pages, a.stack_stashed_pages);
	KT_EQ(b.stack_stashed_bytes, a.stack_stashed_bytes);
	go_chan_free(pad.c);
}
