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
#include "lockrank.h"
#include "../arch/x86_64/x86.h"

#define SPIN_TIMEOUT_S 20

struct spinlock {
	uint32_t locked;	/* 0 free, 1 held: xchg to take, release to drop */
	int32_t cpu;		/* holder's CPU id, -1 if free; written by the
				 * holder, read by reports and checks */
	uint32_t rank;		/* its lockrank.h rank, which names it;
				 * constant */
};

#define SPINLOCK_INIT(r) { .locked = 0, .cpu = -1, .rank = (r) }

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

/* spin_owned - held by this CPU.  Interrupts off, or the answer is only
 * a guess. */
bool spin_owned(const struct spinlock *l);

/* Debug-build preconditions (make DEBUG=1): @l held by this CPU;
 * interrupts off; no spinlock held by this CPU. */
#ifdef RT0_DEBUG
#define assert_spin_owned(l)						\
	do {								\
		if (!spin_owned(l))					\
			panic("%s: spinlock %s not held by this CPU",	\
			      __func__, lockrank_name((l)->rank));	\
	} while (0)
#define assert_irqs_off()						\
	do {								\
		if (irq_enabled())					\
			panic("%s: interrupts on", __func__);		\
	} while (0)
#else
#define assert_spin_owned(l) do { (void)(l); } while (0)
#define assert_irqs_off() do { } while (0)
#endif
/* spin_none_held - this CPU holds no spinlock (debug builds; true in
 * release builds).  Any context. */
bool spin_none_held(void);

#endif
