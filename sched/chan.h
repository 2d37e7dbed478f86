/*
 * sched/chan.h - channels inside the runtime (Go's hchan), shared by
 * chan.c, select.c and the timer channels (timechan.c).
 */
#ifndef RT0_CHAN_H_INTERNAL
#define RT0_CHAN_H_INTERNAL

#include "sched/runtime2.h"
#include "sched/lock.h"

/* A FIFO of sudogs waiting on a channel (Go's waitq). */
struct waitq {
	struct sudog *first;
	struct sudog *last;
};

struct go_timer;

/*
 * hchan - a channel.  Everything but the constants is under lock; qcount,
 * closed and the queues' first pointers are also read without it by the
 * non-blocking fast paths (chan.c says why that is sound).
 */
struct hchan {
	struct mutex lock;	/* first: its address is the channel's */
	uint32_t qcount;	/* elements in buf; lock (racy reads) */
	uint32_t dataqsiz;	/* capacity; constant */
	uint8_t *buf;		/* dataqsiz slots of elemsize; constant */
	uint32_t elemsize;	/* constant, < 1 << 16 */
	uint32_t closed;	/* set once under lock; racy reads */
	uint32_t sendx;		/* slot the next send fills; lock */
	uint32_t recvx;		/* slot the next receive takes; lock */
	struct waitq recvq;	/* blocked receivers; lock */
	struct waitq sendq;	/* blocked senders; lock */
	uint32_t pages;		/* allocated as pages (0: kmalloc); constant */
	struct go_timer *timer;	/* the timer that feeds it (its own struct
				 * holds it), or NULL; constant */
};

/* Go's wait reasons for channels, shown in dumps. */
#define waitReasonChanReceive "chan receive"
#define waitReasonChanSend "chan send"
#define waitReasonChanReceiveNilChan "chan receive (nil chan)"
#define waitReasonChanSendNilChan "chan send (nil chan)"
#define waitReasonSelect "select"
#define waitReasonSelectNoCases "select (no cases)"

/* The address of slot @i of @c's buffer. */
static inline void *chanbuf(struct hchan *c, uint32_t i)
{
	return c->buf + (uint64_t)i * c->elemsize;
}

/*
 * elemmove - copy one element of @size bytes; the sizes programs send
 * most are single moves, the rest is rep movsb.  The two never overlap
 * (a slot, a G's variable, another G's variable).
 */
static __always_inline void elemmove(void *dst, const void *src, uint32_t size)
{
	if (likely(size == 8)) {	/* a word: int64_t, a pointer */
		*(uint64_t *)dst = *(const uint64_t *)src;
		return;
	}
	switch (size) {
	case 0:
		return;
	case 1:
		*(uint8_t *)dst = *(const uint8_t *)src;
		return;
	case 2:
		*(uint16_t *)dst = *(const uint16_t *)src;
		return;
	case 4:
		*(uint32_t *)dst = *(const uint32_t *)src;
		return;
	case 8:
		*(uint64_t *)dst = *(const uint64_t *)src;
		return;
	default: {	/* memcpy, inline: a fast path makes no call */
		uint64_t n = size;
		__asm__ volatile("rep movsb"
				 : "+D"(dst), "+S"(src), "+c"(n) :: "memory");
	}
	}
}

static __always_inline void elemclr(void *dst, uint32_t size)
{
	if (size == 8) {
		*(uint64_t *)dst = 0;
		return;
	}
	uint64_t n = size;
	__asm__ volatile("rep stosb"
			 : "+D"(dst), "+c"(n) : "a"(0) : "memory");
}

void waitq_enqueue(struct waitq *q, struct sudog *sgp);
struct sudog *waitq_dequeue(struct waitq *q);
void waitq_remove(struct waitq *q, struct sudog *sgp);

/* chan_bufput - copy *@ep to the tail of @c's buffer (there is room). */
static __always_inline void chan_bufput(struct hchan *c, const void *ep)
{
	elemmove(chanbuf(c, c->sendx), ep, c->elemsize);
	if (++c->sendx == c->dataqsiz)
		c->sendx = 0;
	c->qcount++;
}

/*
 * chan_bufget - take the head of @c's buffer (not empty) into @ep (NULL:
 * drop it).  The slot is not cleared: there is no collector to keep from
 * retaining what it points to.
 */
static __always_inline void chan_bufget(struct hchan *c, void *ep)
{
	if (ep)
		elemmove(ep, chanbuf(c, c->recvx), c->elemsize);
	if (++c->recvx == c->dataqsiz)
		c->recvx = 0;
	c->qcount--;
}

/*
 * chan_sendto, chan_recvfrom - complete a transfer with a waiter @sg just
 * dequeued from @c (c's lock held): copy the element, mark @sg
 * successful, and return its G, which the caller readies once it has
 * unlocked (and must not touch @sg after that).  Receiving from a
 * waiting sender on a buffered channel (full, then) takes the head of
 * the buffer and puts the sender's value at the tail: one step of the
 * ring.
 */
static __always_inline struct g *chan_sendto(struct hchan *c, struct sudog *sg,
					     const void *ep)
{
	assert_lock_held(&c->lock);
	if (sg->elem)
		elemmove(sg->elem, ep, c->elemsize);	/* sendDirect */
	sg->success = true;
	return sg->g;
}

static __always_inline struct g *chan_recvfrom(struct hchan *c,
					       struct sudog *sg, void *ep)
{
	assert_lock_held(&c->lock);
	if (c->dataqsiz == 0) {
		if (ep)
			elemmove(ep, sg->elem, c->elemsize);	/* recvDirect */
	} else {
		void *qp = chanbuf(c, c->recvx);
		if (ep)
			elemmove(ep, qp, c->elemsize);
		elemmove(qp, sg->elem, c->elemsize);
		if (++c->recvx == c->dataqsiz)
			c->recvx = 0;
		c->sendx = c->recvx;
	}
	sg->success = true;
	return sg->g;
}

/* Sudog fields of a channel waiter, set before it is queued. */
static __always_inline void sudog_init_chan(struct sudog *sg, struct g *gp,
					    struct hchan *c, void *elem,
					    bool isSelect)
{
	sg->g = gp;
	sg->c = c;
	sg->elem = elem;
	/* ticket, isSelect and success share a word: one store. */
	BUILD_ASSERT(__builtin_offsetof(struct sudog, success) + 1 -
		     __builtin_offsetof(struct sudog, ticket) <= 8);
	__builtin_memset(&sg->ticket, 0, 8);
	if (isSelect)
		sg->isSelect = true;
}

/* Test hooks (Go's export_test.go): goroutines parked on @c's send
 * (@send) or receive queue, counted under its lock.  Runtime text. */
int chan_nwait(struct hchan *c, bool send);

/* timechan.c: go_chan_free of a timer's channel frees the timer. */
void timechan_free(struct go_timer *t);

#endif
