/*
 * sched/runq.h - a P's local run queue: a lock-free 256-entry ring plus
 * the runnext slot (Go's runqput/runqget/runqgrab/runqsteal).
 *
 * runq.c is built into the image and, with -DRUNQ_ENV naming the header
 * that defines its g and p, into a host program stressed with real
 * threads under ThreadSanitizer (tests/host/runq_stress.c).  So it uses
 * only what this header names.
 */
#ifndef RT0_RUNQ_H
#define RT0_RUNQ_H

#include <stdint.h>
#include <stdbool.h>

#define RUNQ_LEN 256

/*
 * The fields every struct p has, in this order.  runqhead: consumers
 * (owner and thieves) advance it with a CAS, release; runqtail: only the
 * owner writes it, release; runq[]: slots written by the owner before the
 * tail store publishes them, read by consumers before their head CAS
 * commits (a consumer whose CAS fails discards what it read); runnext: the
 * owner swaps a G in, the owner or a thief CASes it out.
 */
#define RUNQ_FIELDS			\
	uint32_t runqhead;		\
	uint32_t runqtail;		\
	struct g *runq[RUNQ_LEN];	\
	struct g *runnext;

struct g;
struct p;

/* runqput and runqget, the owner's hot operations, are inline:
 * sched/runq_inline.h. */

/* Any P: half of pp's queue (rounded up) into batch[batchHead...] (a ring
 * of RUNQ_LEN); runnext too if stealRunNextG and the queue is empty. */
uint32_t runqgrab(struct p *pp, struct g **batch, uint32_t batchHead,
		  bool stealRunNextG);

/* pp steals half of p2's queue into its own; returns one G to run, or
 * NULL.  Owner of pp only. */
struct g *runqsteal(struct p *pp, struct p *p2, bool stealRunNextG);

/* True if pp has no local work; never wrongly true (see runq.c).  Any P. */
bool runqempty(struct p *pp);

/* Racy length of the ring (for schedtrace). */
uint32_t runqlen(struct p *pp);

/*
 * Provided by the user of runq.c:
 * runq_overflow - put the linked batch head..tail (n Gs, linked through
 *	schedlink) on the global queue, under its lock.
 * runq_backoff - the short wait before stealing a running P's runnext.
 * runq_p_running - whether pp is running (its status is _Prunning).
 * runq_throw - a fatal error.
 */
void runq_overflow(struct g *head, struct g *tail, int32_t n);
void runq_backoff(void);
bool runq_p_running(struct p *pp);
void runq_throw(const char *msg) __attribute__((noreturn));

/*
 * The steal order: every P once, starting at a random one and stepping
 * by a random increment coprime with the count (Go's randomOrder).
 */
#define RANDOM_ORDER_MAX 256	/* the most Ps (proc.h checks MAX_PROCS) */

struct randomOrder {
	uint32_t count;			/* 1..RANDOM_ORDER_MAX */
	uint32_t ncoprimes;
	uint32_t coprimes[RANDOM_ORDER_MAX];	/* at most count of them */
};

struct randomEnum {
	uint32_t i, count, pos, inc;
};

void randomOrder_reset(struct randomOrder *ord, uint32_t count);
struct randomEnum randomOrder_start(const struct randomOrder *ord, uint32_t i);
static inline bool randomEnum_done(const struct randomEnum *e)
{
	return e->i == e->count;
}
static inline void randomEnum_next(struct randomEnum *e)
{
	e->i++;
	e->pos = (e->pos + e->inc) % e->count;
}

#endif
