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
