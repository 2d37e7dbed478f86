/*
 * include/rt0/chan.h - channels, select and timer channels (Go's chan.go,
 * select.go and time.NewTimer), for rt0 programs.  Included by
 * include/rt0.h; do not include it alone.
 *
 * Semantics are Go's.  A channel carries elements of one size, copied in
 * and out by value (as Go copies a value of the channel's element type);
 * capacity 0 makes it unbuffered: a send completes only when a receiver
 * takes the value, which is copied straight from the sender's variable
 * into the receiver's.  Waiting senders and receivers are served in FIFO
 * order.  Every call that may block blocks only the calling goroutine
 * (it parks; its P runs other goroutines) and must be made on a
 * goroutine.  A goroutine blocked here forever, with nothing else able to
 * run, ends the program with "all goroutines are asleep - deadlock!".
 *
 * A NULL channel is Go's nil channel: sending or receiving blocks forever,
 * in select its case is never ready, closing it panics.
 *
 * Memory: there is no garbage collector.  go_chan_make allocates; free a
 * channel with go_chan_free once no goroutine can use it any more.
 */
#ifndef RT0_CHAN_H
#define RT0_CHAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct hchan go_chan;

/* ---- High-level routines: use these most of the time ---- */

/*
 * go_chan_make - a channel of elements of @elemsize bytes (0..65535; 0
 * is Go's struct{}) holding up to @cap of them (0: unbuffered).  A size
 * out of range is a fatal error ("makechan: size out of range"), as is
 * running out of memory.
 */
go_chan *go_chan_make(size_t elemsize, size_t cap);

/*
 * go_chan_send - send the element at @elem (c <- v): into the buffer if
 * there is room, straight to a waiting receiver, or else block until a
 * receiver takes it.  Sending on a closed channel (or on one closed while
 * the sender waits) panics: "send on closed channel".
 *
 * go_chan_send and go_chan_recv are scheduling points, and like go_sched
 * (include/rt0.h) they are calls in Go's register convention: they
 * clobber every register but rsp and rbp, so a goroutine that blocks in
 * one is switched out with nothing to save.
 */
static inline void go_chan_send(go_chan *c, const void *elem)
{
	__asm__ volatile("call chansend_mcall"
			 : "+D"(c), "+S"(elem)
			 :: "rcx", "rdx", RT0_SWITCH_CLOBBERS_);
}

/*
 * go_chan_recv - receive an element into @elem (v, ok := <-c; @elem may
 * be NULL to discard it).  Blocks until a value is there or the channel
 * is closed.  Returns true with a sent value; false if the channel is
 * closed and drained, with @elem zeroed (Go's zero value).
 */
static inline bool go_chan_recv(go_chan *c, void *elem)
{
	uint64_t ok;

	__asm__ volatile("call chanrecv_mcall"
			 : "=a"(ok), "+D"(c), "+S"(elem)
			 :: "rcx", "rdx", RT0_SWITCH_CLOBBERS_BUT_RAX_);
	return ok;
}

/*
 * go_chan_close - close @c: no more sends; receivers drain the buffer,
 * then get zero values and false.  Every waiting receiver wakes with
 * false and every waiting sender panics.  Closing a closed channel
 * panics ("close of closed channel"), closing NULL too ("close of nil
 * channel").
 */
void go_chan_close(go_chan *c);

/* go_chan_len, go_chan_cap - elements buffered now (a snapshot), and the
 * capacity (Go's len(c), cap(c)); 0 for NULL. */
int go_chan_len(go_chan *c);
int go_chan_cap(go_chan *c);

/*
 * go_chan_trysend, go_chan_tryrecv - the non-blocking forms (a select
 * with one case and a default).  trysend returns whether it sent (it
 * panics on a closed channel, as a send would).  tryrecv returns whether
 * it received (a value, or a closed channel's zero value); *@ok (may be
 * NULL) then says which, as go_chan_recv's result.  @elem may be NULL to
 * discard the value.  When they return false, nothing was written.
 */
bool go_chan_trysend(go_chan *c, const void *elem);
bool go_chan_tryrecv(go_chan *c, void *elem, bool *ok);

/*
 * go_chan_free - free a channel made by go_chan_make or go_after (which
 * also stops its timer).  No goroutine may be blocked on it or use it
 * afterwards; freeing one with a goroutine waiting is a fatal error.
 * NULL: no-op.
 */
void go_chan_free(go_chan *c);

/*
 * select.  go_select(cases, n, block) waits until one of the @n cases can
 * proceed and does it:
 *   GO_SELECT_SEND: sends the element at .elem on .c;
 *   GO_SELECT_RECV: receives into .elem (NULL: discard) from .c and sets
 *                   .ok as go_chan_recv's result.
 * If several are ready, one is chosen uniformly at random.  A case whose
 * channel is NULL is never ready.  Returns the index of the case done.
 * With @block false, returns -1 at once if none is ready (Go's default
 * case).  With n == 0 (@cases may be NULL) and block true it blocks
 * forever (Go's select {}).  A send case chosen on a closed channel
 * panics, as a send does.  The same channel may appear in several cases,
 * in either direction.  Only the chosen case's .elem and .ok are written.
 * Up to 65536 cases; up to 8 need no allocation.
 */
enum { GO_SELECT_RECV = 1, GO_SELECT_SEND = 2 };

struct go_select_case {
	go_chan *c;
	int dir;		/* GO_SELECT_RECV or GO_SELECT_SEND */
	void *elem;		/* the value to send / where to receive */
	bool ok;		/* RECV, when chosen: a value (not a close) */
};

#define GO_RECV(ch, p) \
	((struct go_select_case){ .c = (ch), .dir = GO_SELECT_RECV, .elem = (p) })
#define GO_SEND(ch, p) \
	((struct go_select_case){ .c = (ch), .dir = GO_SELECT_SEND, \
				  .elem = (void *)(p) })

int go_select(struct go_select_case *cases, int n, bool block);

/*
 * Timer channels (Go's time.NewTimer, time.After), on the runtime's per-P
 * timers.  A timer's channel has capacity 1 (Go before 1.23; its len is
 * 1 while a fired value waits unreceived); when the timer fires it
 * receives go_nanotime() of that moment (an int64_t), handed straight to
 * a waiting receiver if there is one.  As in Go 1.23, once go_timer_stop
 * or go_timer_reset returns, no value from before the call can be
 * received.  Closing a timer's channel is a fatal error.
 *
 * go_timer_new - a timer that fires once, @ns nanoseconds from now
 *	(ns <= 0: at once).
 * go_timer_chan - its channel (Go's t.C); valid until go_timer_free.
 * go_timer_stop - stop it.  Returns true if that prevented a value from
 *	being received (the timer had not fired, or its value was still
 *	unreceived and is now dropped); false if it had already been
 *	received or the timer was stopped.
 * go_timer_reset - stop it as go_timer_stop (returning the same) and
 *	start it again to fire @ns from now.
 * go_timer_free - stop it and free it with its channel.  No goroutine may
 *	be blocked on its channel.
 * go_after - a timer's channel, the timer itself hidden (time.After);
 *	free it with go_chan_free when done, which stops the timer.
 * All of these may be called from any goroutine, concurrently.
 */
typedef struct go_timer go_timer;

go_timer *go_timer_new(int64_t ns);
go_chan *go_timer_chan(go_timer *t);
bool go_timer_stop(go_timer *t);
bool go_timer_reset(go_timer *t, int64_t ns);
void go_timer_free(go_timer *t);
go_chan *go_after(int64_t ns);

/*
 * go_after_func - a timer that, @ns from now, starts a goroutine running
 * fn(arg) (time.AfterFunc).  go_timer_stop, go_timer_reset and
 * go_timer_free apply; stop returns true if that kept fn from being
 * started.  It has no channel (go_timer_chan returns NULL).
 */
go_timer *go_after_func(int64_t ns, void (*fn)(void *), void *arg);

/*
 * Tickers (time.NewTicker): a channel of capacity 1 that receives
 * go_nanotime() every @period nanoseconds (> 0, or a panic: Go's
 * "non-positive interval for NewTicker"), on the grid of the period; a
 * tick the receiver is not ready for is dropped.  Stop and Reset (a new
 * period, from now) leave no stale tick behind.  Free with go_ticker_free.
 */
typedef struct go_timer go_ticker;

go_ticker *go_ticker_new(int64_t period);
go_chan *go_ticker_chan(go_ticker *t);
void go_ticker_stop(go_ticker *t);
void go_ticker_reset(go_ticker *t, int64_t period);
void go_ticker_free(go_ticker *t);

#endif
