/*
 * kernel/spinlock.h - the kernel's only lock: a test-and-test-and-set
 * spinlock held with interrupts disabled.
 *
 * Holding a spinlock means: interrupts are off on this CPU (so no tick can
 * preempt the holder and no handler on this CPU can deadlock on the same
 * lock), and the holder does not block.  Waiting spins with `pause` (which
 * also lets single-threaded TCG switch vCPUs).  A lock that stays held for
 * SPIN_TIMEOUT_S seconds panics naming the lock and its holder: nothing hangs
 * silently.  Taking a lock this CPU already holds panics at once.
 */
#ifndef RT0_SPINLOCK_H
#define RT0_SPINLOCK_H

#include "lib.h"

#define SPIN_TIMEOUT_S 20

struct spinlock {
	uint32_t locked;	/* 0 free, 1 held: xchg to take, release to drop */
	int32_t cpu;		/* holder's CPU id, -1 if free; for reports only */
	const char *name;	/* constant */
};

#define SPINLOCK_INIT(n) { .locked = 0, .cpu = -1, .name = (n) }

/* spin_lock - interrupts must already be disabled.  Returns holding @l. */
void spin_lock(struct spinlock *l);
void spin_unlock(struct spinlock *l);
bool spin_trylock(struct spinlock *l);

/* The usual form: disables interrupts, returns the flags to restore. */
uint64_t spin_lock_irqsave(struct spinlock *l);
void spin_unlock_irqrestore(struct spinlock *l, uint64_t flags);

static inline bool spin_held(const struct spinlock *l)
{
	return READ_ONCE(l->locked) != 0;
}

#endif
