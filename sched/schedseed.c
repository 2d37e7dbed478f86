/*
 * sched/schedseed.c - the seeded generator behind schedseed=N (see
 * schedseed.h), its trace, and the yields it puts in slow paths.
 *
 * One generator for the whole machine: the k-th question asked, from any
 * CPU, gets mix(seed, k).  Under a deterministic machine the k-th
 * question is always the same one, so the answers, and the schedule they
 * make, repeat.  The trace adds mix(k, site, answer) over all questions:
 * the sum does not depend on which CPU adds first, only on which question
 * was k-th and what it got.
 */
#include "sched/schedseed.h"
#include "sched/proc.h"
#include "kernel/cmdline.h"
#include "kernel/exit.h"
#include "kernel/kthread.h"

uint64_t schedseed;
KPARAM_UINT(schedseed, schedseed, 0, UINT32_MAX,
	    "N: random but reproducible scheduling choices from seed N "
	    "(debug image: make DEBUG=1); 0: off");

#ifdef RT0_DEBUG
/* Each site's odds: one in @odds asks say yes. */
static const uint32_t odds[SEED_NSITES] = {
	[SEED_READY_TAIL]	= 2,	/* as Go's randomizeScheduler */
	[SEED_RUNNEXT_SKIP]	= 4,
	[SEED_STEAL_ORDER]	= 1,	/* (a pick, not a roll) */
	[SEED_PREEMPT]		= 4,	/* per running P, per sysmon round */
	[SEED_YIELD]		= 8,
	[SEED_SPIN_DELAY]	= 4,
};

static uint64_t asked;		/* questions so far; atomic */
static uint64_t trace;		/* the sum described above; atomic */

/* splitmix64's finalizer: every input bit moves every output bit. */
static uint64_t mix(uint64_t x)
{
	x ^= x >> 30;
	x *= 0xbf58476d1ce4e5b9ull;
	x ^= x >> 27;
	x *= 0x94d049bb133111ebull;
	return x ^ (x >> 31);
}

/* The next question's number and its raw answer. */
static uint64_t draw(uint64_t *k)
{
	*k = __atomic_fetch_add(&asked, 1, __ATOMIC_RELAXED);
	return mix(schedseed * 0x9e3779b97f4a7c15ull + *k);
}

static void record(uint64_t k, enum seedsite site, uint64_t answer)
{
	__atomic_fetch_add(&trace, mix(k ^ (uint64_t)site << 56 ^
				       answer * 0xff51afd7ed558ccdull),
			   __ATOMIC_RELAXED);
}

bool seed_roll(enum seedsite site)
{
	uint64_t k, r = draw(&k);
	bool yes = (uint32_t)r % odds[site] == 0;

	record(k, site, yes);
	return yes;
}

uint32_t seed_pick(enum seedsite site, uint32_t n)
{
	uint64_t k, r = draw(&k);
	uint32_t v = (uint32_t)(((r >> 32) * (uint64_t)n) >> 32);

	record(k, site, v);
	return v;
}

/*
 * A yield where the runtime could have been slow anyway: a goroutine
 * holding no runtime lock gives up its P (go_sched); anything else (g0,
 * a lock held) gives up its CPU to other kernel threads, as the tick
 * could have.
 */
void seed_yield_at(void)
{
	if (!seed_roll(SEED_YIELD))
		return;
	struct g *gp = getg();
	struct m *mp = gp->m;

	if (gp != mp->g0 && mp->locks == 0 && mp->locks_held.n == 0 &&
	    mp->p && !mp->preemptoff)
		gosched();
	else
		kthread_yield();
}

/* A spinning M dawdles: up to ~2000 pauses, sometimes off the CPU. */
void seed_spin_delay_at(void)
{
	if (!seed_roll(SEED_SPIN_DELAY))
		return;
	for (uint32_t n = seed_pick(SEED_SPIN_DELAY, 2000); n; n--)
		cpu_relax();
	if (seed_roll(SEED_SPIN_DELAY))
		kthread_yield();
}
#endif

void schedseed_init(void)
{
#ifndef RT0_DEBUG
	if (schedseed) {
		kprintf("rt0: command line: schedseed=%lu needs the debug image "
			"(make DEBUG=1 ...; make stress runs it)\n", schedseed);
		kernel_exit(EXIT_CMDLINE);
	}
#endif
}

void schedseed_report(void)
{
#ifdef RT0_DEBUG
	if (schedseed)
		kprintf("rt0: schedseed=%lu: %lu choices, trace 0x%016lx\n",
			schedseed, __atomic_load_n(&asked, __ATOMIC_RELAXED),
			__atomic_load_n(&trace, __ATOMIC_RELAXED));
#endif
}
