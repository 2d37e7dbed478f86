/*
 * sched/runq.c - the per-P run queue (see runq.h for the protocol).
 *
 * The owner produces at runqtail and consumes at runqhead; thieves consume
 * at runqhead too.  Every consumer reads the slots it wants, then commits
 * with a CAS on runqhead (release); the owner publishes a slot with a
 * store-release of runqtail after writing it, and reads runqhead with a
 * load-acquire before reusing a slot.  Slots are read and written with
 * single racy accesses (RUNQ_SLOT_LOAD/STORE: relaxed atomics in the host
 * program, so ThreadSanitizer sees no plain data race; volatile in the
 * image; on x86 both are ordinary moves): a thief may read a slot the
 * owner is rewriting, but then its CAS fails and it discards the value.
 */
/*
 * The struct g and struct p the queue works on: the runtime's, or those
 * of a program that tests the queue alone (the host stress program builds
 * this file with -DRUNQ_ENV='"its header"').
 */
#ifdef RUNQ_ENV
#include RUNQ_ENV
#else
#include "sched/runtime2.h"
#endif

/* Move half the (full) ring plus gp to the global queue.  Owner only.
 * False if a thief got in first (the ring is no longer full). */
static bool runqputslow(struct p *pp, struct g *gp, uint32_t h, uint32_t t)
{
	struct g *batch[RUNQ_LEN / 2 + 1];
	uint32_t n = (t - h) / 2;

	if (n != RUNQ_LEN / 2)
		runq_throw("runqputslow: queue is not full");
	for (uint32_t i = 0; i < n; i++)
		batch[i] = RUNQ_SLOT_LOAD(&pp->runq[(h + i) % RUNQ_LEN]);
	if (!runq_cas_u32(&pp->runqhead, h, h + n))
		return false;
	batch[n] = gp;
	for (uint32_t i = 0; i < n; i++)
		batch[i]->schedlink = batch[i + 1];
	batch[n]->schedlink = NULL;
	runq_overflow(batch[0], batch[n], (int32_t)(n + 1));
	return true;
}

void runqput_full(struct p *pp, struct g *gp)
{
	for (;;) {
		uint32_t h, t;
		if (runqput_ring(pp, gp, &h, &t))	/* a thief made room */
			return;
		if (runqputslow(pp, gp, h, t))
			return;
	}
}

uint32_t runqgrab(struct p *pp, struct g **batch, uint32_t batchHead,
		  bool stealRunNextG)
{
	for (;;) {
		/* head vs consumers, tail vs the producer */
		uint32_t h = RUNQ_LOAD_ACQ(&pp->runqhead);
		uint32_t t = RUNQ_LOAD_ACQ(&pp->runqtail);
		uint32_t n = t - h;
		n = n - n / 2;
		if (n == 0) {
			if (!stealRunNextG)
				return 0;
			struct g *next = RUNQ_LOAD_ACQ(&pp->runnext);
			if (!next)
				return 0;
			/*
			 * If pp is running, its G may have just readied next
			 * and be about to block: give pp a moment to run next
			 * itself rather than bouncing it between Ps.
			 */
			if (runq_p_running(pp))
				runq_backoff();
			if (!runq_cas_g(&pp->runnext, next, NULL))
				continue;
			RUNQ_SLOT_STORE(&batch[batchHead % RUNQ_LEN], next);
			return 1;
		}
		if (n > RUNQ_LEN / 2)
			continue;	/* read an inconsistent h and t */
		for (uint32_t i = 0; i < n; i++)
			RUNQ_SLOT_STORE(&batch[(batchHead + i) % RUNQ_LEN],
					RUNQ_SLOT_LOAD(&pp->runq[(h + i) %
								 RUNQ_LEN]));
		if (runq_cas_u32(&pp->runqhead, h, h + n))	/* commit */
			return n;
	}
}

struct g *runqsteal(struct p *pp, struct p *p2, bool stealRunNextG)
{
	uint32_t t = pp->runqtail;
	uint32_t n = runqgrab(p2, pp->runq, t, stealRunNextG);

	if (n == 0)
		return NULL;
	n--;
	struct g *gp = RUNQ_SLOT_LOAD(&pp->runq[(t + n) % RUNQ_LEN]);
	if (n == 0)
		return gp;
	uint32_t h = RUNQ_LOAD_ACQ(&pp->runqhead);
	if (t - h + n >= RUNQ_LEN)
		runq_throw("runqsteal: runq overflow");
	RUNQ_STORE_REL(&pp->runqtail, t + n);	/* publish the stolen Gs */
	return gp;
}

/*
 * Not simply head == tail && runnext == NULL: with G1 in runnext and the
 * ring empty, a runqput may kick G1 into the ring while a runqget takes
 * the new runnext, so the two loads could each see "empty" at different
 * moments.  Re-reading tail until it is stable closes that window.
 */
bool runqempty(struct p *pp)
{
	for (;;) {
		uint32_t head = RUNQ_LOAD_ACQ(&pp->runqhead);
		uint32_t tail = RUNQ_LOAD_ACQ(&pp->runqtail);
		struct g *runnext = RUNQ_LOAD_ACQ(&pp->runnext);
		if (tail == RUNQ_LOAD_ACQ(&pp->runqtail))
			return head == tail && runnext == NULL;
	}
}

uint32_t runqlen(struct p *pp)
{
	return RUNQ_LOAD_ACQ(&pp->runqtail) - RUNQ_LOAD_ACQ(&pp->runqhead);
}

static uint32_t gcd(uint32_t a, uint32_t b)
{
	while (b) {
		uint32_t t = a % b;
		a = b;
		b = t;
	}
	return a;
}

void randomOrder_reset(struct randomOrder *ord, uint32_t count)
{
	if (count < 1 || count > RANDOM_ORDER_MAX)
		runq_throw("randomOrder_reset: count out of range");
	ord->count = count;
	ord->ncoprimes = 0;
	for (uint32_t i = 1; i <= count; i++)
		if (gcd(i, count) == 1)
			ord->coprimes[ord->ncoprimes++] = i;
}

struct randomEnum randomOrder_start(const struct randomOrder *ord, uint32_t i)
{
	return (struct randomEnum){
		.count = ord->count,
		.pos = i % ord->count,
		.inc = ord->coprimes[i / ord->count % ord->ncoprimes],
	};
}
