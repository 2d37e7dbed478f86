/*
 * sched/schedseed.h - seeded random scheduling (schedseed=N, debug
 * builds), for finding rare interleavings and replaying them.
 *
 * Go's scheduler leaves itself freedom in places: a readied G may go to
 * runnext or to the tail, a thief may visit the Ps in any order, a G may
 * be preempted at any safe point, a spinning M may be slow.  With
 * schedseed=N every such place asks the seeded generator instead of
 * taking its usual choice; each answer is folded into a trace (a count
 * and a hash) printed at exit:
 *
 *	rt0: schedseed=N: C choices, trace 0x...
 *
 * The machine under single-threaded TCG with -icount (shift=N,sleep=off)
 * and idlepoll=1 (so that some vCPU always runs: HACKING.md says why) is
 * deterministic, so the same seed at the same CPU count takes the same
 * choices again (the same trace) and a failure found with seed N comes
 * back with seed N.  Go keeps the like (randomizeScheduler) to its race
 * builds; rt0 keeps it to the debug image (make DEBUG=1), so a release
 * build's fast paths carry no test for it: there SEEDED() is false at
 * compile time and schedseed=N (N != 0) is refused.
 */
#ifndef RT0_SCHEDSEED_H
#define RT0_SCHEDSEED_H

#include <stdbool.h>
#include <stdint.h>

/* The places that ask.  Each has its own odds (schedseed.c). */
enum seedsite {
	SEED_READY_TAIL,	/* runqput: a readied G to the tail, not runnext */
	SEED_RUNNEXT_SKIP,	/* runqget: the ring before runnext */
	SEED_STEAL_ORDER,	/* stealWork: where the random order starts */
	SEED_PREEMPT,		/* sysmon: preempt a running G now */
	SEED_YIELD,		/* a runtime slow path: yield here */
	SEED_SPIN_DELAY,	/* findrunnable: a spinning M dawdles */
	SEED_NSITES,
};

#ifdef RT0_DEBUG
extern uint64_t schedseed;	/* 0: off; constant after boot */

/* seed_roll - true with @site's odds, drawn from the seeded generator,
 * the answer folded into the trace.  Any context. */
bool seed_roll(enum seedsite site);
/* seed_pick - a number in [0, @n) for @site, folded into the trace. */
uint32_t seed_pick(enum seedsite site, uint32_t n);
#define SEEDED_ON() (__builtin_expect(schedseed != 0, 0))
#define SEEDED(site) (SEEDED_ON() && seed_roll(site))
void seed_yield_at(void);
void seed_spin_delay_at(void);
/* seed_yield - in a runtime slow path, perhaps yield (SEED_YIELD): the
 * P if on a goroutine holding no lock, else the CPU.  Any M. */
#define seed_yield()							\
	do {								\
		if (SEEDED_ON())					\
			seed_yield_at();				\
	} while (0)
/* seed_spin_delay - a spinning M perhaps dawdles (SEED_SPIN_DELAY). */
#define seed_spin_delay()						\
	do {								\
		if (SEEDED_ON())					\
			seed_spin_delay_at();				\
	} while (0)
#else
#define SEEDED_ON() false
#define SEEDED(site) false
static inline uint32_t seed_pick(enum seedsite site, uint32_t n)
{
	(void)site;
	(void)n;
	return 0;
}
#define seed_yield() do { } while (0)
#define seed_spin_delay() do { } while (0)
#endif

/* schedseed_init - refuse schedseed=N in a release build (status 2).
 * schedseed_report - print the trace line (schedseed=N only).  Both on
 * an M, once: at schedinit, at the end of the tests or the program. */
void schedseed_init(void);
void schedseed_report(void);

#endif
