/*
 * sched/select.c - select (Go's select.go, selectgo).
 *
 * go_select(cases, n, block) runs in passes, as Go's:
 *  0. a poll order (the cases in a uniformly random order, from this P's
 *     cheaprand) and a lock order (the cases sorted by channel address,
 *     by heap sort: n log n, no extra memory); cases on NULL channels
 *     are left out of both.  Every channel is locked in lock order, each
 *     once: two selects naming the same channels in opposite orders
 *     cannot deadlock.
 *  1. in poll order, the first case that can proceed now (a waiting
 *     partner, buffer room or an element, a closed channel) is done.
 *  2. none can (and block): a sudog per case goes on each channel's
 *     queue, linked in lock order on g.waiting, and the G parks; the
 *     channels are unlocked on g0 (selparkcommit).  The first waker to
 *     claim the G (CAS g.selectDone in waitq_dequeue) completes its case
 *     and leaves the sudog in g.param.
 *  3. woken, the G locks everything again and takes its other sudogs
 *     off their queues (a waker may have dropped some already).
 *
 * The sudogs and both orders live on the G's stack for up to
 * SELECT_STACK_CASES cases, else in one allocation freed on return.
 */
#include "sched/chan.h"
#include "sched/proc.h"
#include "kernel/mem.h"

#define SELECT_STACK_CASES 8
#define SELECT_MAX_CASES 65536		/* orders are uint16_t */

static uint64_t sortkey(const struct go_select_case *scases, uint16_t i)
{
	return (uint64_t)scases[i].c;
}

/* Lock every channel in lock order, each once (duplicates are adjacent). */
static __always_inline void sellock(const struct go_select_case *scases,
		    const uint16_t *lockorder, int n)
{
	struct hchan *c = NULL;

	for (int i = 0; i < n; i++) {
		struct hchan *c0 = scases[lockorder[i]].c;
		if (c0 != c) {
			c = c0;
			leaflock(&c->lock);
		}
	}
}

/* Unlock them in reverse; nothing of the select is touched after the
 * last unlock (a waker may ready the G at once). */
static __always_inline void selunlock(const struct go_select_case *scases,
		      const uint16_t *lockorder, int n)
{
	for (int i = n - 1; i >= 0; i--) {
		struct hchan *c = scases[lockorder[i]].c;
		if (i > 0 && c == scases[lockorder[i - 1]].c)
			continue;	/* unlocked at its first instance */
		leafunlock(&c->lock);
	}
}

/*
 * park_m's unlockf for a select: unlock each channel once, after its
 * last sudog in g.waiting (lock order, so a channel's sudogs are
 * adjacent).  Once a channel is unlocked, a waker may complete that
 * sudog and ready the G; the G then relocks every channel before it
 * touches its sudogs, and the channels not yet unlocked here keep it
 * waiting, so the sudogs still to be read here stay intact.
 */
static bool selparkcommit(struct g *gp, void *unused)
{
	struct hchan *lastc = NULL;

	assert_on_g0();
	for (struct sudog *sg = gp->waiting; sg; sg = sg->waitlink) {
		if (sg->c != lastc && lastc)
			leafunlock(&lastc->lock);
		lastc = sg->c;
	}
	if (lastc)
		leafunlock(&lastc->lock);
	return true;
}

/*
 * lockorder[0..n) = pollorder sorted by channel address: insertion sort
 * for a few cases (stable: cases on one channel keep their random
 * relative order), Go's heap sort beyond (n log n, no extra memory).
 */
static void sort_lockorder(const struct go_select_case *scases,
			   const uint16_t *pollorder, uint16_t *lockorder,
			   int n)
{
	if (n <= SELECT_STACK_CASES) {
		for (int i = 0; i < n; i++) {
			uint16_t o = pollorder[i];
			uint64_t key = sortkey(scases, o);
			int j = i;
			for (; j > 0 && sortkey(scases, lockorder[j - 1]) > key; j--)
				lockorder[j] = lockorder[j - 1];
			lockorder[j] = o;
		}
		return;
	}
	for (int i = 0; i < n; i++) {
		int j = i;
		/* From the poll order, so cases on one channel permute. */
		uint64_t key = sortkey(scases, pollorder[i]);
		while (j > 0 && sortkey(scases, lockorder[(j - 1) / 2]) < key) {
			int k = (j - 1) / 2;
			lockorder[j] = lockorder[k];
			j = k;
		}
		lockorder[j] = pollorder[i];
	}
	for (int i = n - 1; i >= 0; i--) {
		uint16_t o = lockorder[i];
		uint64_t key = sortkey(scases, o);
		lockorder[i] = lockorder[0];
		int j = 0;
		for (;;) {
			int k = j * 2 + 1;
			if (k >= i)
				break;
			if (k + 1 < i && sortkey(scases, lockorder[k]) <
					 sortkey(scases, lockorder[k + 1]))
				k++;
			if (key < sortkey(scases, lockorder[k])) {
				lockorder[j] = lockorder[k];
				j = k;
				continue;
			}
			break;
		}
		lockorder[j] = o;
	}
}

/**
 * selectgo - the select itself; @pollorder and @lockorder have room for
 * @n entries, @sgs for @n sudogs.  Returns the chosen case, or -1 (not
 * @block and nothing ready).  On a goroutine.
 */
static __always_inline int selectgo(struct go_select_case *scases, int n, bool block,
		    uint16_t *pollorder, uint16_t *lockorder,
		    struct sudog *sgs)
{
	struct p *pp = getg()->m->p;
	int norder = 0;

	/* Random poll order (inside-out Fisher-Yates), nil cases left out. */
	for (int i = 0; i < n; i++) {
		if (!scases[i].c)
			continue;
		if (scases[i].dir != GO_SELECT_RECV &&
		    scases[i].dir != GO_SELECT_SEND)
			throwf("select: case %d has direction %d", i,
			       scases[i].dir);
		uint32_t j = cheaprandn(pp, (uint32_t)norder + 1);
		pollorder[norder] = pollorder[j];
		pollorder[j] = (uint16_t)i;
		norder++;
	}
	sort_lockorder(scases, pollorder, lockorder, norder);
	seed_yield();
	sellock(scases, lockorder, norder);

	/* Pass 1: a case that can proceed now. */
	for (int k = 0; k < norder; k++) {
		int casi = pollorder[k];
		struct go_select_case *cas = &scases[casi];
		struct hchan *c = cas->c;
		struct sudog *sg;

		if (cas->dir == GO_SELECT_RECV) {
			if (c->sendq.first && (sg = waitq_dequeue(&c->sendq))) {
				struct g *gp = chan_recvfrom(c, sg, cas->elem);
				selunlock(scases, lockorder, norder);
				goready_dequeued(gp);
				cas->ok = true;
				return casi;
			}
			if (c->qcount > 0) {
				chan_bufget(c, cas->elem);
				selunlock(scases, lockorder, norder);
				cas->ok = true;
				return casi;
			}
			if (c->closed) {
				selunlock(scases, lockorder, norder);
				if (cas->elem)
					elemclr(cas->elem, c->elemsize);
				cas->ok = false;
				return casi;
			}
		} else {
			if (c->closed) {
				selunlock(scases, lockorder, norder);
				panicplain("send on closed channel");
			}
			if (c->recvq.first && (sg = waitq_dequeue(&c->recvq))) {
				struct g *gp = chan_sendto(c, sg, cas->elem);
				selunlock(scases, lockorder, norder);
				goready_dequeued(gp);
				return casi;
			}
			if (c->qcount < c->dataqsiz) {
				chan_bufput(c, cas->elem);
				selunlock(scases, lockorder, norder);
				return casi;
			}
		}
	}
	if (!block) {
		selunlock(scases, lockorder, norder);
		return -1;
	}

	/* Pass 2: wait on every channel. */
	struct g *gp = getg();
	struct sudog **nextp = &gp->waiting;

	if (gp->waiting)
		throw("select: g.waiting is not empty");
	for (int k = 0; k < norder; k++) {
		struct go_select_case *cas = &scases[lockorder[k]];
		struct sudog *sg = &sgs[k];

		sudog_init_chan(sg, gp, cas->c, cas->elem, true);
		*nextp = sg;
		nextp = &sg->waitlink;
		waitq_enqueue(cas->dir == GO_SELECT_SEND ? &cas->c->sendq
							  : &cas->c->recvq, sg);
	}
	*nextp = NULL;
	gp->param = NULL;
	gopark(selparkcommit, NULL, waitReasonSelect);

	/* Pass 3: the winner is in g.param; withdraw the others. */
	sellock(scases, lockorder, norder);
	__atomic_store_n(&gp->selectDone, 0, __ATOMIC_RELAXED);
	struct sudog *won = gp->param;
	gp->param = NULL;
	gp->waiting = NULL;
	int casi = -1;
	for (int k = 0; k < norder; k++) {
		struct go_select_case *cas = &scases[lockorder[k]];
		struct sudog *sg = &sgs[k];

		if (sg == won)
			casi = lockorder[k];	/* dequeued by its waker */
		else
			waitq_remove(cas->dir == GO_SELECT_SEND ? &cas->c->sendq
								 : &cas->c->recvq, sg);
	}
	if (casi < 0)
		throw("selectgo: bad wakeup");
	struct go_select_case *cas = &scases[casi];
	bool success = won->success;
	selunlock(scases, lockorder, norder);
	if (cas->dir == GO_SELECT_SEND) {
		if (!success)
			panicplain("send on closed channel");
	} else {
		cas->ok = success;
	}
	return casi;
}

int go_select(struct go_select_case *cases, int n, bool block)
{
	must_be_goroutine("go_select");
	if (n < 0 || n > SELECT_MAX_CASES)
		throwf("select: %d cases (0..%d)", n, SELECT_MAX_CASES);
	if (n == 0) {
		if (!block)
			return -1;
		gopark(NULL, NULL, waitReasonSelectNoCases);	/* for ever */
		throw("unreachable");
	}
	/* Up to SELECT_STACK_CASES on this stack, else one allocation for
	 * both orders and the sudogs (freed on return). */
	uint16_t order_s[2 * SELECT_STACK_CASES];
	struct sudog sgs_s[SELECT_STACK_CASES];
	uint16_t *order = order_s;
	struct sudog *sgs = sgs_s;
	void *mem = NULL;
	uint64_t size = 0, pages = 0;

	if (unlikely(n > SELECT_STACK_CASES)) {
		size = (uint64_t)n * (sizeof(struct sudog) + 2 * sizeof(uint16_t));
		pages = ALIGN_UP(size, PAGE_SZ) / PAGE_SZ;
		mem = size <= KMALLOC_MAX ? kmalloc(size) : page_alloc(pages);
		if (!mem)
			throwf("select: out of memory for %d cases", n);
		sgs = mem;
		order = (uint16_t *)(sgs + n);
	}
	int casi = selectgo(cases, n, block, order, order + n, sgs);
	if (unlikely(mem)) {
		if (size <= KMALLOC_MAX)
			kfree(mem);
		else
			page_free(mem, pages);
	}
	return casi;
}
