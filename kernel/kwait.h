/*
 * kernel/kwait.h - blocking, futex-style: the one primitive everything
 * that blocks is built on (runtime notes and locks, idle Ms, sleeps).
 */
#ifndef RT0_KWAIT_H
#define RT0_KWAIT_H

#include "lib.h"

#define KWAIT_WOKEN	0	/* kwake() woke us */
#define KWAIT_TIMEOUT	1	/* the deadline passed */
#define KWAIT_AGAIN	2	/* *addr != expected when we looked */

/*
 * kwait - block while *@addr == @expected, until kwake(@addr) or, if
 * @deadline (nanotime) is not 0, until the deadline passes.  The check and
 * the enqueue are atomic with respect to kwake on the same address: a
 * waker that changes *addr and then calls kwake cannot be missed.
 * Thread context, preemption enabled.  Returns KWAIT_*.
 */
int kwait(uint32_t *addr, uint32_t expected, uint64_t deadline);

/* kwake - wake up to @n threads waiting on @addr.  Any context.  Returns
 * how many were woken. */
int kwake(uint32_t *addr, int n);

/* ksleep_until - block until nanotime() >= @deadline.  Thread context. */
void ksleep_until(uint64_t deadline);

#endif
