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

#define RUNQ_LOAD_ACQ(p) __atomic_load_n(p, __ATOMIC_ACQUIRE)
#define RUNQ_STORE_REL(p, v) __atomic_store_n(p, v, __ATOMIC_RELEASE)
#define RUNQ_SLOT_LOAD(p) __atomic_load_n(p, __ATOMIC_RELAXED)
#define RUNQ_SLOT_STORE(p, v) __atomic_store_n(p, v, __ATOMIC_RELAXED)

static inline bool runq_cas_u32(uint32_t *p, uint32_t old, uint32_t new)
{
	return __atomic_compare_exchange_n(p, &old, new, false,
					   __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE);
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
 * runqput - put @gp on @pp's queue: into runnext if @next (the old
 * runnext is kicked to the tail), else at the tail.  Owner P only.
 */
static inline __attribute__((always_inline)) void
runqput(struct p *pp, struct g *gp, bool next)
{
	if (next) {
		gp = __atomic_exchange_n(&pp->runnext, gp, __ATOMIC_ACQ_REL);
		if (!gp)
			return;
		/* kick the old runnext to the tail */
	}
	uint32_t h = RUNQ_LOAD_ACQ(&pp->runqhead);	/* vs consumers */
	uint32_t t = pp->runqtail;
	if (__builtin_expect(t - h < RUNQ_LEN, 1)) {
		RUNQ_SLOT_STORE(&pp->runq[t % RUNQ_LEN], gp);
		RUNQ_STORE_REL(&pp->runqtail, t + 1);	/* publish */
		return;
	}
	RUNQPUT_FULL(pp, gp);
}

/**
 * runqget - the next G of @pp's queue (runnext first), or NULL.
 * *inheritTime: it came from runnext and shares the current time slice.
 * Owner P only.
 */
static inline __attribute__((always_inline)) struct g *
runqget(struct p *pp, bool *inheritTime)
{
	struct g *next = RUNQ_LOAD_ACQ(&pp->runnext);
	if (next && runq_cas_g(&pp->runnext, next, NULL)) {
		*inheritTime = true;
		return next;
	}
	*inheritTime = false;
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

#endif
