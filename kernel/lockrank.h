/*
 * kernel/lockrank.h - the rank of every lock in rt0 (Go's lockrank.go),
 * declared once, and the debug-build check made on every acquire.
 *
 * The rule: a CPU or an M may take a lock only while every lock it holds
 * has a lower rank.  Locks of a rank marked "in address order" may also
 * be taken while holding others of the same rank, each at a higher
 * address than the last (select locks its channels so).  Taking a lock
 * held already, or out of order, is a fatal error naming both locks and
 * their ranks -- reported when the order is first broken, not when two
 * threads at last deadlock on it.
 *
 * Two kinds of lock share the table.  Runtime locks (sched/lock.h: lock,
 * leaflock) may sleep, are counted per M, and all rank below the kernel's
 * spinlocks (kernel/spinlock.h), which are held with interrupts off and
 * counted per CPU: an M holding a runtime lock may enter the kernel and
 * take spinlocks (kwait does), never the other way round.  A runtime lock
 * whose rank was never set (0: the zeroed notify list of a go_cond) ranks
 * as LOCKRANK_LEAF: nothing else of the runtime's may be taken under it.
 *
 * Release builds keep the ranks (spinlock reports name them) but check
 * nothing; `make DEBUG=1` checks every acquire and release.
 */
#ifndef RT0_LOCKRANK_H
#define RT0_LOCKRANK_H

#include "lib.h"

enum lockrank {
	LOCKRANK_UNRANKED = 0,	/* a zeroed runtime lock: as LOCKRANK_LEAF */

	/* The runtime's locks, lowest first. */
	LOCKRANK_STACKSHRINK,	/* stack.c: one shrink of parked stacks at a time */
	LOCKRANK_SCHED,		/* sched.lock */
	LOCKRANK_ALLG,		/* allglock */
	LOCKRANK_GFREE,		/* sched.gflock: the global free Gs */
	LOCKRANK_HCHAN,		/* a channel's lock; in address order */
	LOCKRANK_SEMAROOT,	/* a semaphore bucket's treap (sema.c) */
	LOCKRANK_NOTIFYLIST,	/* a go_cond's notify list (sema.c) */
	LOCKRANK_TIMERS,	/* a P's timerslock (timers.c) */
	LOCKRANK_LEAF,		/* the last runtime rank: tests' own locks */

	/* The kernel's spinlocks, lowest first; above every runtime lock. */
	LOCKRANK_ALLTHREADS,	/* the list of all kernel threads */
	LOCKRANK_KWAIT,		/* a kwait hash bucket */
	LOCKRANK_KTIMER,	/* a CPU's kernel timers */
	LOCKRANK_RUNQUEUE,	/* a CPU's kernel-thread run queue */
	LOCKRANK_KMALLOC,	/* a kmalloc size class */
	LOCKRANK_VM,		/* the page tables */
	LOCKRANK_MEM,		/* the page allocator */
	LOCKRANK_CONSOLE_IN,	/* the console's input ring */
	LOCKRANK_KTEST_DIAG,	/* the test runner's failure text */
	LOCKRANK_SPIN_LEAF,	/* tests' own spinlocks */

	LOCKRANK_N,
	LOCKRANK_FIRST_SPIN = LOCKRANK_ALLTHREADS,
};

/* lockrank_name - the table's name for rank @r ("?" if out of range). */
const char *lockrank_name(uint32_t r);

/*
 * The locks one CPU (spinlocks) or one M (runtime locks) holds, in the
 * order taken.  Locks taken in address order share one entry: @count of
 * them, the last at @addr.
 */
#define LOCKRANK_MAXHELD 16

struct lockrank_held {
	uint32_t n;
	struct {
		uint32_t rank;
		uint32_t count;
		const void *addr;
	} e[LOCKRANK_MAXHELD];
};

/* How the caller reports a broken rule: panic (kernel) or throwf
 * (runtime).  Never returns. */
typedef void (*lockrank_fail_fn)(const char *fmt, ...) __noreturn;

/**
 * lockrank_acquire - check that the owner of @h may take the lock at
 * @addr of rank @r now, and record it as held.  Called just before the
 * lock is taken (a wait for it shows as held).  The owner's own list:
 * its CPU with interrupts off, or its M.  Returns, or calls @fail.
 */
void lockrank_acquire(struct lockrank_held *h, uint32_t r, const void *addr,
		      lockrank_fail_fn fail);

/**
 * lockrank_release - forget the lock at @addr of rank @r, held by the
 * owner of @h.  Locks may be released in any order.  Returns, or calls
 * @fail if @h does not hold it.
 */
void lockrank_release(struct lockrank_held *h, uint32_t r, const void *addr,
		      lockrank_fail_fn fail);

/* lockrank_holds - does @h hold a lock of rank @r (at @addr, unless the
 * rank is taken in address order)?  For assertions. */
bool lockrank_holds(const struct lockrank_held *h, uint32_t r,
		    const void *addr);

#endif
