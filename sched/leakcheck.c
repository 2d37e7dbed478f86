/*
 * sched/leakcheck.c - what the runtime keeps, for the test runner's leak
 * checks (kernel/ktest.h).
 *
 * As in Go, the runtime keeps for reuse what a program grew: idle Ms (with
 * their pages, g0 stacks and kernel threads), dead Gs (with their structs,
 * stacks and sleep timers), and the Ps with their timer heaps.  A test
 * that grows them has leaked nothing, so they are reported to the runner
 * as owned.  One balance is the runtime's own: goroutines (Gs that are
 * not dead: allglen less the free Gs).  Ms are not a balance of their
 * own: how many are busy at an instant moves with the schedule, and an M
 * that is lost leaves its kernel thread (kthreads) or pages behind.
 * Every count is read without locks: the runner polls until they settle.
 */
#include "sched/proc.h"
#include "kernel/ktest.h"
#include "kernel/mem.h"
#include "kernel/vm.h"

static int64_t own_pages(void)
{
	int64_t n = __atomic_load_n(&stack_pages, __ATOMIC_RELAXED) +
		    __atomic_load_n(&m_pages, __ATOMIC_RELAXED) +
		    (int64_t)vm_demand_pages_held();

	for (int i = 0; i < MAX_PROCS; i++) {
		struct p *pp = __atomic_load_n(&allp[i], __ATOMIC_ACQUIRE);
		if (pp)
			n += 1 + ALIGN_UP(READ_ONCE(pp->timerscap) *
					  sizeof(void *), PAGE_SZ) / PAGE_SZ;
	}
	return n;
}

/* Each M runs on a kernel thread of its own. */
static int64_t own_kthreads(void)
{
	return mcount();
}

/* struct g, the sleep timer a G keeps once it slept (timers.c), and the
 * records of shrunk stacks' pages (stack.c). */
static int64_t own_kobjects(void)
{
	uint32_t n = __atomic_load_n(&allglen, __ATOMIC_ACQUIRE);
	uint64_t pages, bytes, stash;

	vm_demand_stash_counts(&pages, &bytes, &stash);
	int64_t objects = n + (int64_t)stash;
	struct g *gp = __atomic_load_n(&allgs, __ATOMIC_ACQUIRE);

	for (uint32_t i = 0; i < n && gp; i++, gp = READ_ONCE(gp->alllink))
		objects += READ_ONCE(gp->timer) != NULL;
	return objects;
}

static int64_t live_goroutines(void)
{
	return (int64_t)__atomic_load_n(&allglen, __ATOMIC_ACQUIRE) -
	       gfree_count();
}

static void nap(uint64_t ns)
{
	go_sleep((int64_t)ns);
}

/**
 * leakcheck_init - tell the test runner what the runtime owns and how to
 * wait.  Goroutine 1, before the runtime-level tests.
 */
void leakcheck_init(void)
{
	ktest_leak_owned(KT_OWN_PAGES, own_pages);
	ktest_leak_owned(KT_OWN_KTHREADS, own_kthreads);
	ktest_leak_owned(KT_OWN_KOBJECTS, own_kobjects);
	ktest_leak_balance("goroutines", live_goroutines);
	ktest_leak_nap(nap);
}
