/* kernel/lockrank.c - the lock rank table's names and checks (lockrank.h). */
#include "lockrank.h"

static const char *const names[LOCKRANK_N] = {
	[LOCKRANK_UNRANKED]	= "unranked",
	[LOCKRANK_STACKSHRINK]	= "stackshrink",
	[LOCKRANK_SCHED]	= "sched",
	[LOCKRANK_ALLG]		= "allg",
	[LOCKRANK_GFREE]	= "gfree",
	[LOCKRANK_HCHAN]	= "hchan",
	[LOCKRANK_SEMAROOT]	= "semaroot",
	[LOCKRANK_NOTIFYLIST]	= "notifyList",
	[LOCKRANK_TIMERS]	= "timers",
	[LOCKRANK_LEAF]		= "leaf",
	[LOCKRANK_ALLTHREADS]	= "allthreads",
	[LOCKRANK_KWAIT]	= "kwait",
	[LOCKRANK_KTIMER]	= "ktimer",
	[LOCKRANK_RUNQUEUE]	= "runqueue",
	[LOCKRANK_KMALLOC]	= "kmalloc",
	[LOCKRANK_VM]		= "vm",
	[LOCKRANK_MEM]		= "mem",
	[LOCKRANK_CONSOLE_IN]	= "console-in",
	[LOCKRANK_KTEST_DIAG]	= "ktest-diag",
	[LOCKRANK_SPIN_LEAF]	= "spin-leaf",
};

/* Every rank has a name. */
BUILD_ASSERT(sizeof(names) / sizeof(names[0]) == LOCKRANK_N);

/* Ranks whose locks may be held several at once, taken in address order. */
static bool in_address_order(uint32_t r)
{
	return r == LOCKRANK_HCHAN;
}

const char *lockrank_name(uint32_t r)
{
	return r < LOCKRANK_N && names[r] ? names[r] : "?";
}

static uint32_t effective(uint32_t r)
{
	return r == LOCKRANK_UNRANKED ? LOCKRANK_LEAF : r;
}

void lockrank_acquire(struct lockrank_held *h, uint32_t r, const void *addr,
		      lockrank_fail_fn fail)
{
	uint32_t er = effective(r);

	if (er >= LOCKRANK_N)
		fail("lock %p has no rank (%u)", addr, r);
	for (uint32_t i = 0; i < h->n; i++) {
		uint32_t hr = h->e[i].rank;
		if (hr == er && h->e[i].addr == addr)
			fail("lock %s (rank %u) at %p taken twice",
			     lockrank_name(er), er, addr);
		if (hr < er)
			continue;
		if (hr == er && in_address_order(er) &&
		    (uintptr_t)h->e[i].addr < (uintptr_t)addr) {
			h->e[i].count++;
			h->e[i].addr = addr;
			return;
		}
		fail("lock order: taking %s (rank %u) at %p while holding "
		     "%s (rank %u) at %p", lockrank_name(er), er, addr,
		     lockrank_name(hr), hr, h->e[i].addr);
	}
	if (h->n == LOCKRANK_MAXHELD)
		fail("lock %s (rank %u): more than %d locks held",
		     lockrank_name(er), er, LOCKRANK_MAXHELD);
	h->e[h->n].rank = er;
	h->e[h->n].count = 1;
	h->e[h->n].addr = addr;
	h->n++;
}

void lockrank_release(struct lockrank_held *h, uint32_t r, const void *addr,
		      lockrank_fail_fn fail)
{
	uint32_t er = effective(r);

	for (uint32_t i = 0; i < h->n; i++) {
		if (h->e[i].rank != er ||
		    (h->e[i].addr != addr && !in_address_order(er)))
			continue;
		if (--h->e[i].count > 0)
			return;
		for (uint32_t j = i + 1; j < h->n; j++)
			h->e[j - 1] = h->e[j];
		h->n--;
		return;
	}
	fail("unlock of lock %s (rank %u) at %p, which is not held here",
	     lockrank_name(er), er, addr);
}

bool lockrank_holds(const struct lockrank_held *h, uint32_t r,
		    const void *addr)
{
	uint32_t er = effective(r);

	for (uint32_t i = 0; i < h->n; i++)
		if (h->e[i].rank == er &&
		    (h->e[i].addr == addr || in_address_order(er)))
			return true;
	return false;
}
