/*
 * sched/chan.c - channels (Go's chan.go): make, send, receive, close.
 *
 * A channel is a ring buffer of dataqsiz elements (none if unbuffered),
 * two FIFO queues of waiting Gs (sudogs: recvq, sendq) and a lock.
 * Invariants, under the lock:
 *  - at least one of sendq and recvq is empty (except for an unbuffered
 *    channel with one G blocked in a select on both sides of it: its
 *    sudogs are on both queues, and a select never matches itself);
 *  - a buffered channel has waiting receivers only if its buffer is
 *    empty, and waiting senders only if it is full.
 * A send finds, in order: a waiting receiver (the value is copied straight
 * into the receiver's variable, on the receiver's stack -- Go's
 * sendDirect), room in the buffer, or else it queues and parks.  A
 * receive finds a waiting sender (unbuffered: copy straight from the
 * sender's variable; buffered, so the buffer is full: take the head, put
 * the sender's value at the tail -- one step of the ring), an element in
 * the buffer, a closed channel, or else it queues and parks.  The waker
 * completes the waiter's operation entirely; the woken G only reads the
 * outcome from its own sudog (success: false when woken by a close).
 *
 * Sudogs are on the waiting G's stack (struct sudog): channel operations
 * allocate nothing.  Parking releases the channel's lock on g0, in
 * park_m's unlockf (chanparkcommit), once the G is fully switched out.
 *
 * Lock order: a channel's lock before a P's timerslock (go_timer_reset
 * arms a timer under it); several channels only by address (select).
 * goready, and anything that may start an M, after unlocking.
 */
#include "sched/chan.h"
#include "sched/asmoffsets.h"	/* CHAN_PARK, shared with the stubs */
#include "sched/proc.h"
#include "kernel/mem.h"

/* A waiting G's sudog is on its own stack, on purpose (struct sudog). */
#pragma GCC diagnostic ignored "-Wdangling-pointer"

/* ---- wait queues ---- */

/* waitq_enqueue - @sgp (its c set) at the tail of @q.  Channel lock
 * held. */
void waitq_enqueue(struct waitq *q, struct sudog *sgp)
{
	struct sudog *x = q->last;

	assert_lock_held(&sgp->c->lock);
	sgp->next = NULL;
	sgp->prev = x;
	if (x)
		x->next = sgp;
	else
		q->first = sgp;
	q->last = sgp;
}

/**
 * waitq_dequeue - the first waiter that can be completed, or NULL.  A
 * select's sudog counts only if this call is the first to claim its G
 * (CAS of g.selectDone): another channel may have won it already, and
 * then the sudog is dropped here (the G's select removes the rest of its
 * sudogs itself).  Channel lock held.
 */
struct sudog *waitq_dequeue(struct waitq *q)
{
	for (;;) {
		struct sudog *sgp = q->first;
		if (!sgp)
			return NULL;
		assert_lock_held(&sgp->c->lock);
		struct sudog *y = sgp->next;
		if (y) {
			y->prev = NULL;
			q->first = y;
			sgp->next = NULL;
		} else {
			q->first = q->last = NULL;
		}
		if (sgp->isSelect) {
			uint32_t zero = 0;
			if (!__atomic_compare_exchange_n(&sgp->g->selectDone,
							 &zero, 1, false,
							 __ATOMIC_ACQ_REL,
							 __ATOMIC_RELAXED))
				continue;
			sgp->g->param = sgp;	/* the case that won */
		}
		return sgp;
	}
}

/**
 * waitq_remove - take @sgp off @q if it is still there (a select
 * withdrawing its losing cases; a dequeue may have dropped it already).
 * Channel lock held.
 */
void waitq_remove(struct waitq *q, struct sudog *sgp)
{
	struct sudog *x = sgp->prev, *y = sgp->next;

	assert_lock_held(&sgp->c->lock);
	if (x) {
		x->next = y;
		if (y)
			y->prev = x;
		else
			q->last = x;
	} else if (y) {
		y->prev = NULL;
		q->first = y;
	} else if (q->first == sgp) {
		q->first = q->last = NULL;
	}
	/* else: alone and not first -- already dequeued. */
	sgp->next = sgp->prev = NULL;
}

/* ---- making and freeing ---- */

#define HCHAN_SIZE ALIGN_UP(sizeof(struct hchan), 16)

go_chan *go_chan_make(size_t elemsize, size_t cap)
{
	if (elemsize >= 1 << 16)
		throw("makechan: invalid channel element type");
	if (cap > INT32_MAX || elemsize * cap > (1ull << 40))
		panicplain("makechan: size out of range");
	uint64_t size = HCHAN_SIZE + elemsize * cap;
	uint64_t pages = 0;
	struct hchan *c;

	if (size <= KMALLOC_MAX) {
		c = kmalloc(size);
	} else {
		pages = ALIGN_UP(size, PAGE_SZ) / PAGE_SZ;
		c = page_alloc_zeroed(pages);
	}
	if (!c)
		throwf("makechan: out of memory (%lu bytes)", size);
	lock_init(&c->lock, LOCKRANK_HCHAN);
	c->buf = (uint8_t *)c + HCHAN_SIZE;
	c->elemsize = (uint32_t)elemsize;
	c->dataqsiz = (uint32_t)cap;
	c->pages = (uint32_t)pages;
	return c;
}

void go_chan_free(go_chan *c)
{
	if (!c)
		return;
	must_be_m("go_chan_free");
	leaflock(&c->lock);
	bool waiters = c->recvq.first || c->sendq.first;
	leafunlock(&c->lock);
	if (waiters)
		throw("go_chan_free: goroutines are blocked on the channel");
	if (c->timer) {
		timechan_free(c->timer);
	} else if (c->pages) {
		page_free(c, c->pages);
	} else {
		kfree(c);
	}
}

int go_chan_len(go_chan *c)
{
	return c ? (int)__atomic_load_n(&c->qcount, __ATOMIC_RELAXED) : 0;
}

int go_chan_cap(go_chan *c)
{
	return c ? (int)c->dataqsiz : 0;
}

/*
 * Whether a non-blocking operation would block, read without the lock
 * (Go's full and empty).  A single racy word each: if it says "would
 * block", the operation behaves as if it looked at that moment.
 */
static bool chan_full(struct hchan *c)
{
	if (c->dataqsiz == 0)
		return __atomic_load_n(&c->recvq.first, __ATOMIC_ACQUIRE) == NULL;
	return __atomic_load_n(&c->qcount, __ATOMIC_ACQUIRE) == c->dataqsiz;
}

static bool chan_empty(struct hchan *c)
{
	if (c->dataqsiz == 0)
		return __atomic_load_n(&c->sendq.first, __ATOMIC_ACQUIRE) == NULL;
	return __atomic_load_n(&c->qcount, __ATOMIC_ACQUIRE) == 0;
}

/* Take the head @sg off @q (the fast paths' dequeue of a plain waiter). */
static __always_inline void waitq_pop(struct waitq *q, struct sudog *sg)
{
	struct sudog *y = sg->next;

	if (y) {
		y->prev = NULL;
		q->first = y;
	} else {
		q->first = q->last = NULL;
	}
}

/* ---- send ---- */

/*
 * The blocking operations are entered through chansend_mcall and
 * chanrecv_mcall (asm_amd64.S), in Go's register convention: the stub
 * keeps a sudog in its frame on the G's stack and calls chansend_c or
 * chanrecv_c; when they have queued that sudog (with the channel's lock
 * still held) the stub parks the G as goparkunlock does -- with nothing
 * to save, since the caller expects every register clobbered -- and,
 * once woken, reads the outcome from the sudog.
 */
const char chan_send_reason[] = waitReasonChanSend;
const char chan_recv_reason[] = waitReasonChanReceive;

/* Queue @sg, the current G's, to wait on @q of @c for a partner. */
static __always_inline void chan_queue(struct waitq *q, struct hchan *c,
				       void *ep, struct sudog *sg)
{
	sudog_init_chan(sg, getg(), c, ep, false);
	waitq_enqueue(q, sg);
}

/**
 * chansend_locked - send *@ep on @c, whose lock the caller holds: to a
 * waiting receiver, into the buffer, or else -- if @sg -- queue @sg to
 * wait for a receiver (return CHAN_PARK with the lock still held).
 * Otherwise the lock is released.  Returns whether it sent.  Panics on
 * a closed channel.  On a goroutine.
 */
static __attribute__((noinline)) uint64_t
chansend_locked(struct hchan *c, const void *ep, struct sudog *sg_wait)
{
	assert_lock_held(&c->lock);
	assert_on_curg();
	if (c->closed) {
		leafunlock(&c->lock);
		panicplain("send on closed channel");
	}
	struct sudog *sg = waitq_dequeue(&c->recvq);
	if (sg) {
		struct g *gp = chan_sendto(c, sg, ep);
		leafunlock(&c->lock);
		goready_dequeued(gp);
		return true;
	}
	if (c->qcount < c->dataqsiz) {
		chan_bufput(c, ep);
		leafunlock(&c->lock);
		return true;
	}
	if (!sg_wait) {
		leafunlock(&c->lock);
		return false;
	}
	chan_queue(&c->sendq, c, (void *)ep, sg_wait);
	return CHAN_PARK;
}

/* A send or receive on a nil channel: park for ever. */
static __cold_exit void chan_nil_block(const char *reason)
{
	gopark(NULL, NULL, reason);
	throw("unreachable");
}

/**
 * chansend_c - go_chan_send, called by chansend_mcall with a sudog @sg
 * in its frame: returns 0 or 1 once the value is sent, CHAN_PARK if @sg is
 * queued on c's sendq (c's lock held; the stub parks), CHAN_CLOSED if c
 * is closed: the stub panics.  The common
 * cases -- a plain receiver waiting, room in the buffer, nothing there
 * (queue) -- are done here without a frame (leaf locks and
 * goready_inline make only cold calls).  On a goroutine.
 */
uint64_t chansend_c(struct hchan *c, const void *ep, struct sudog *sg_wait);
__fastpath
uint64_t chansend_c(struct hchan *c, const void *ep, struct sudog *sg_wait)
{
	must_be_m("go_chan_send");
	assert_on_curg();
	if (unlikely(!c))
		noreturn_call1(chan_nil_block, waitReasonChanSendNilChan);
	seed_yield();
	leaflock(&c->lock);
	struct sudog *sg = c->recvq.first;
	if (sg) {
		/* A receiver waits, so c is not closed (close takes them
		 * all, and nobody waits on a closed channel). */
		if (unlikely(sg->isSelect))
			return chansend_locked(c, ep, sg_wait);
		waitq_pop(&c->recvq, sg);
		struct g *gp = chan_sendto(c, sg, ep);
		leafunlock(&c->lock);
		goready_dequeued(gp);	/* sg is gp's: no more access */
		return 0;
	}
	if (unlikely(c->closed)) {
		/* The stub panics, from a frame that shows our caller. */
		leafunlock(&c->lock);
		return CHAN_CLOSED;
	}
	if (c->qcount < c->dataqsiz) {
		chan_bufput(c, ep);
		leafunlock(&c->lock);
		return 0;
	}
	chan_queue(&c->sendq, c, (void *)ep, sg_wait);
	return CHAN_PARK;
}

/*
 * chansend_mcall's way out: the channel was closed before the send, or
 * while it waited (only a close wakes a sender without success).  The
 * channel is not read again: once closed and without waiters it may
 * already be freed.
 */
void chansend_closed(void) __noreturn;
void chansend_closed(void)
{
	panicplain("send on closed channel");
}

bool go_chan_trysend(go_chan *c, const void *ep)
{
	must_be_m("go_chan_trysend");
	if (!c)
		return false;		/* a nil channel is never ready */
	/*
	 * A non-blocking send that would block fails without the lock:
	 * not closed (read first; a channel never reopens), then full.  If
	 * both held at some moment between the reads, failing is what a
	 * send at that moment would do.
	 */
	if (!__atomic_load_n(&c->closed, __ATOMIC_ACQUIRE) && chan_full(c))
		return false;
	leaflock(&c->lock);
	return chansend_locked(c, ep, NULL);
}

/* ---- receive ---- */

/**
 * chanrecv_locked - receive from @c, whose lock the caller holds, into
 * @ep (NULL: drop it): from a waiting sender, the buffer, a closed
 * channel, or else -- if @sg -- queue @sg to wait (return CHAN_PARK with
 * the lock still held).  Otherwise the lock is released and the result
 * is RECV_NONE (nothing, not blocking), RECV_CLOSED (closed and drained,
 * *ep zeroed) or RECV_VALUE.  On a goroutine.
 */
enum { RECV_CLOSED = 0, RECV_VALUE = 1, RECV_NONE = 4 };
BUILD_ASSERT(CHAN_PARK > RECV_VALUE && CHAN_CLOSED > RECV_VALUE &&
	     RECV_NONE != CHAN_PARK && RECV_NONE != CHAN_CLOSED);

static __attribute__((noinline)) uint64_t
chanrecv_locked(struct hchan *c, void *ep, struct sudog *sg_wait)
{
	assert_lock_held(&c->lock);
	assert_on_curg();
	if (c->closed) {
		if (c->qcount == 0) {
			leafunlock(&c->lock);
			if (ep)
				elemclr(ep, c->elemsize);
			return RECV_CLOSED;
		}
		/* Closed with values left: receive them first. */
	} else {
		struct sudog *sg = waitq_dequeue(&c->sendq);
		if (sg) {
			struct g *gp = chan_recvfrom(c, sg, ep);
			leafunlock(&c->lock);
			goready_dequeued(gp);
			return RECV_VALUE;
		}
	}
	if (c->qcount > 0) {
		chan_bufget(c, ep);
		leafunlock(&c->lock);
		return RECV_VALUE;
	}
	if (!sg_wait) {
		leafunlock(&c->lock);
		return RECV_NONE;
	}
	/* A sender will copy into ep, or a close zero it. */
	chan_queue(&c->recvq, c, ep, sg_wait);
	return CHAN_PARK;
}

/**
 * chanrecv_c - go_chan_recv, called by chanrecv_mcall with a sudog @sg
 * in its frame: returns 1 once a value is received, 0 if c is closed and
 * drained (*ep zeroed), CHAN_PARK if @sg is queued on c's recvq (c's
 * lock held; the stub parks and then returns sg.success).  The common
 * cases are done here without a frame.  On a goroutine.
 */
uint64_t chanrecv_c(struct hchan *c, void *ep, struct sudog *sg_wait);
__fastpath
uint64_t chanrecv_c(struct hchan *c, void *ep, struct sudog *sg_wait)
{
	must_be_m("go_chan_recv");
	assert_on_curg();
	if (unlikely(!c))
		noreturn_call1(chan_nil_block, waitReasonChanReceiveNilChan);
	seed_yield();
	leaflock(&c->lock);
	struct sudog *sg = c->sendq.first;
	if (sg) {
		/* A sender waits, so c is not closed. */
		if (unlikely(sg->isSelect))
			return chanrecv_locked(c, ep, sg_wait);
		waitq_pop(&c->sendq, sg);
		struct g *gp = chan_recvfrom(c, sg, ep);
		leafunlock(&c->lock);
		goready_dequeued(gp);	/* sg is gp's: no more access */
		return RECV_VALUE;
	}
	if (c->qcount > 0) {
		chan_bufget(c, ep);
		leafunlock(&c->lock);
		return RECV_VALUE;
	}
	if (unlikely(c->closed))
		return chanrecv_locked(c, ep, sg_wait);
	chan_queue(&c->recvq, c, ep, sg_wait);
	return CHAN_PARK;
}

bool go_chan_tryrecv(go_chan *c, void *ep, bool *ok)
{
	must_be_m("go_chan_tryrecv");
	if (!c)
		return false;
	if (chan_empty(c)) {
		/*
		 * Empty, then not closed: we may report "would block" as of
		 * the first read.  Closed: irreversible, but a value may
		 * have come in between, so look again (Go's order).
		 */
		if (!__atomic_load_n(&c->closed, __ATOMIC_ACQUIRE))
			return false;
		if (chan_empty(c)) {
			if (ep)
				elemclr(ep, c->elemsize);
			if (ok)
				*ok = false;
			return true;
		}
	}
	leaflock(&c->lock);
	uint64_t r = chanrecv_locked(c, ep, NULL);
	if (r == RECV_NONE)
		return false;
	if (ok)
		*ok = r == RECV_VALUE;
	return true;
}

/* ---- close ---- */

void go_chan_close(go_chan *c)
{
	if (!c)
		panicplain("close of nil channel");
	must_be_m("go_chan_close");
	if (c->timer)
		throw("close of a timer's channel");
	leaflock(&c->lock);
	if (c->closed) {
		leafunlock(&c->lock);
		panicplain("close of closed channel");
	}
	__atomic_store_n(&c->closed, 1, __ATOMIC_RELEASE);
	/*
	 * Every waiter is completed under the lock (receivers get zero
	 * values, senders will panic), its G collected on a list through
	 * schedlink (free while it waits), and readied once we unlock.
	 */
	struct g *glist = NULL;
	struct sudog *sg;
	while ((sg = waitq_dequeue(&c->recvq))) {
		if (sg->elem)
			elemclr(sg->elem, c->elemsize);
		sg->success = false;
		sg->g->schedlink = glist;
		glist = sg->g;
	}
	while ((sg = waitq_dequeue(&c->sendq))) {
		sg->success = false;
		sg->g->schedlink = glist;
		glist = sg->g;
	}
	leafunlock(&c->lock);
	while (glist) {
		struct g *gp = glist;
		glist = gp->schedlink;
		gp->schedlink = NULL;
		goready(gp);
	}
}

int chan_nwait(struct hchan *c, bool send)
{
	int n = 0;

	leaflock(&c->lock);
	for (struct sudog *sg = send ? c->sendq.first : c->recvq.first; sg;
	     sg = sg->next)
		n++;
	leafunlock(&c->lock);
	return n;
}
