/*
 * sched/runq_inline.h - the owner's two hot run queue operations, inline
 * (the scheduler's fast paths call them on every switch).  The protocol is
 * runq.h's; the out-of-line rest is in runq.c.
 *
 * Included once struct p is complete: by runtime2.h in the image, by
 * tests/host/runq_host.h in the host stress program.
 */
#ifndef RT0_RUNQ_INLINE_H
#define RT0_RUNQ_INLINE_H

#include "sched/schedseed.h"

#define RUNQ_LOAD_ACQ(p) __atomic_load_n(p, __ATOMIC_ACQUIRE)
#define RUNQ_STORE_REL(p, v) __atomic_store_n(p, v, __ATOMIC_RELEASE)
/*
 * A ring slot is read racily by thieves: a relaxed atomic access.  The
 * image makes it a volatile one (RUNQ_SLOT_LOAD, RUNQ_SLOT_STORE in
 * runtime2.h: one aligned mov either way, but GCC 12 folds the slot's
 * address into a volatile access and not into an atomic one).
 */
#ifndef RUNQ_SLOT_LOAD
#define RUNQ_SLOT_LOAD(p) __atomic_load_n(p, __ATOMIC_RELAXED)
#endif
#ifndef RUNQ_SLOT_STORE
#define RUNQ_SLOT_STORE(p, v) __atomic_store_n(p, v, __ATOMIC_RELAXED)
#endif

/* The image makes these x86.h's cas32, xchg64 and nonzero64
 * (RUNQ_CAS_U32, RUNQ_XCHG_G, RUNQ_NONZERO_G), the host program
 * (ThreadSanitizer sees only builtins) the builtins they compile like. */
static inline bool runq_cas_u32(uint32_t *p, uint32_t old, uint32_t new)
{
#ifdef RUNQ_CAS_U32
	return RUNQ_CAS_U32(p, old, new);
#else
	return __atomic_compare_exchange_n(p, &old, new, false,
					   __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE);
#endif
}

static inline struct g *runq_xchg_g(struct g **p, struct g *v)
{
#ifdef RUNQ_XCHG_G
	return RUNQ_XCHG_G(p, v);
#else
	return __atomic_exchange_n(p, v, __ATOMIC_ACQ_REL);
#endif
}

/* Whether *@p is not NULL: a relaxed read, only a hint (see
 * runnext_take). */
static inline bool runq_nonnull_g(struct g **p)
{
#ifdef RUNQ_NONZERO_G
	return RUNQ_NONZERO_G(p);
#else
	return __atomic_load_n(p, __ATOMIC_RELAXED) != NULL;
#endif
}

static inline bool runq_cas_g(struct g **p, struct g *old, struct g *new)
{
	return __atomic_compare_exchange_n(p, &old, new, false,
					   __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE);
}

/* runq.c: put @gp at the tail when the ring may be full (moves half of
 * it to the global queue if it is).  Owner only.  The includer may make
 * runqput call it another way (RUNQPUT_FULL). */
void runqput_full(struct p *pp, struct g *gp);
#ifndef RUNQPUT_FULL
#define RUNQPUT_FULL(pp, gp) runqput_full(pp, gp)
#endif

/**
 * runnext_take - take @pp's runnext G, or NULL.  The read first keeps the
 * common empty case free of a locked instruction; the exchange then gets
 * whatever G is still there (thieves only ever clear runnext).  Owner P
 * only.
 */
static inline __attribute__((always_inline)) struct g *
runnext_take(struct p *pp)
{
	if (!runq_nonnull_g(&pp->runnext))
		return NULL;
	return runq_xchg_g(&pp->runnext, NULL);
}

/* runnext_xchg - runnext_take by one exchange, for where runnext is
 * most likely full (after a ready: park, exit). */
static inline __attribute__((always_inline)) struct g *
runnext_xchg(struct p *pp)
{
	return runq_xchg_g(&pp->runnext, NULL);
}

/* runqput_ring - put @gp at the tail of the ring if it has room; else
 * false, with the head and tail it saw in *@h and *@t.  Owner P only. */
static inline __attribute__((always_inline)) bool
runqput_ring(struct p *pp, struct g *gp, uint32_t *h, uint32_t *t)
{
	*h = RUNQ_LOAD_ACQ(&pp->runqhead);	/* vs consumers */
	*t = pp->runqtail;
	if (__builtin_expect(*t - *h >= RUNQ_LEN, 0))
		return false;
	RUNQ_SLOT_STORE(&pp->runq[*t % RUNQ_LEN], gp);
	RUNQ_STORE_REL(&pp->runqtail, *t + 1);	/* publish */
	return true;
}

/**
 * runqput - put @gp on @pp's queue: into runnext if @next (the old
 * runnext is kicked to the tail), else at the tail (or, with schedseed,
 * perhaps at the tail anyway).  Owner P only.
 */
static inline __attribute__((always_inline)) void
runqput(struct p *pp, struct g *gp, bool next)
{
	if (next && SEEDED(SEED_READY_TAIL))
		next = false;
	if (next) {
		gp = runq_xchg_g(&pp->runnext, gp);
		if (!gp)
			return;
		/* kick the old runnext to the tail */
	}
	uint32_t h, t;
	if (!runqput_ring(pp, gp, &h, &t))
		RUNQPUT_FULL(pp, gp);
}

/* runqget_ring - the next G of @pp's ring (not runnext), or NULL.  Owner
 * P only. */
static inline __attribute__((always_inline)) struct g *
runqget_ring(struct p *pp)
{
	for (;;) {
		uint32_t h = RUNQ_LOAD_ACQ(&pp->runqhead);
		uint32_t t = pp->runqtail;
		if (t == h)
			return NULL;
		struct g *gp = RUNQ_SLOT_LOAD(&pp->runq[h % RUNQ_LEN]);
		if (runq_cas_u32(&pp->runqhead, h, h + 1))	/* commit */
			return gp;
	}
}

/**
 * runqget - the next G of @pp's queue (runnext first, but with schedseed
 * perhaps the ring first), or NULL.  *inheritTime: it came from runnext
 * and shares the current time slice.  Owner P only.
 */
static inline __attribute__((always_inline)) struct g *
runqget(struct p *pp, bool *inheritTime)
{
	if (SEEDED(SEED_RUNNEXT_SKIP)) {
		struct g *gp = runqget_ring(pp);
		if (gp) {
			*inheritTime = false;
			return gp;
		}
	}
	struct g *next = runnext_take(pp);
	if (next) {
		*inheritTime = true;
		return next;
	}
	*inheritTime = false;
	return runqget_ring(pp);
}

/**
 * runqrotate - runqget from the ring (not runnext) and runqput(@gp) at
 * its tail in one step, Gosched's exchange: true with the G taken from
 * the head in *@next and @gp queued at the tail; false, @gp not queued,
 * if the ring was empty or a thief took its head meanwhile (the caller's
 * slow path sorts that out: no retry loop here).  The put needs no full
 * check: the get has just freed a slot, and only the owner fills slots.
 * Owner P only.
 */
static inline __attribute__((always_inline)) bool
runqrotate(struct p *pp, struct g *gp, struct g **next)
{
	uint32_t h = RUNQ_LOAD_ACQ(&pp->runqhead);
	uint32_t t = pp->runqtail;

	if (t == h)
		return false;
	*next = RUNQ_SLOT_LOAD(&pp->runq[h % RUNQ_LEN]);
	if (!runq_cas_u32(&pp->runqhead, h, h + 1))
		return false;
	RUNQ_SLOT_STORE(&pp->runq[t % RUNQ_LEN], gp);
	RUNQ_STORE_REL(&pp->runqtail, t + 1);
	return true;
}

#endif
