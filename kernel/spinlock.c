/* kernel/spinlock.c - see spinlock.h for the rules. */
#include "spinlock.h"
#include "cpu.h"
#include "time.h"
#include "../arch/x86_64/x86.h"

static __attribute__((noinline, cold)) void spin_stuck(struct spinlock *l)
{
	panic("spinlock '%s' held for %d s by cpu %d (waiter cpu %u)",
	      lockrank_name(l->rank), SPIN_TIMEOUT_S, READ_ONCE(l->cpu),
	      this_cpu_id());
}

/* Out of line, so spin_lock's fast path keeps no register for it. */
static __attribute__((noinline, cold)) void spin_twice(struct spinlock *l)
{
	panic("spinlock '%s' taken twice by cpu %u", lockrank_name(l->rank),
	      this_cpu_id());
}

/* Debug builds: each CPU's list of spinlocks held, checked by rank. */
#ifdef RT0_DEBUG
static void rank_acquire(struct spinlock *l)
{
	lockrank_acquire(&this_cpu()->locks_held, l->rank, l, panic);
}

static void rank_release(struct spinlock *l)
{
	lockrank_release(&this_cpu()->locks_held, l->rank, l, panic);
}
#else
static inline void rank_acquire(struct spinlock *l) { }
static inline void rank_release(struct spinlock *l) { }
#endif

bool spin_none_held(void)
{
#ifdef RT0_DEBUG
	uint64_t f = irq_save();
	bool none = this_cpu()->locks_held.n == 0;
	irq_restore(f);
	return none;
#else
	return true;
#endif
}

bool spin_owned(const struct spinlock *l)
{
	return spin_held(l) && READ_ONCE(l->cpu) == (int)this_cpu_id();
}

void spin_lock(struct spinlock *l)
{
	int me = this_cpu_id();

	BUG_ON(irq_enabled());
	if (unlikely(READ_ONCE(l->cpu) == me && spin_held(l)))
		spin_twice(l);
	rank_acquire(l);
	if (likely(!__atomic_exchange_n(&l->locked, 1, __ATOMIC_ACQUIRE)))
		goto got;

	uint64_t start = rdtsc();
	uint64_t limit = tsc_hz ? tsc_hz * SPIN_TIMEOUT_S : (1ull << 40);
	for (;;) {
		for (int i = 0; i < 1024; i++) {
			if (!READ_ONCE(l->locked) &&
			    !__atomic_exchange_n(&l->locked, 1, __ATOMIC_ACQUIRE))
				goto got;
			cpu_relax();
		}
		if (rdtsc() - start > limit)
			spin_stuck(l);
	}
got:
	l->cpu = me;
}

bool spin_trylock(struct spinlock *l)
{
	BUG_ON(irq_enabled());
	if (READ_ONCE(l->locked) ||
	    __atomic_exchange_n(&l->locked, 1, __ATOMIC_ACQUIRE))
		return false;
	rank_acquire(l);
	l->cpu = this_cpu_id();
	return true;
}

void spin_unlock(struct spinlock *l)
{
	DEBUG_ASSERT(l->locked && l->cpu == (int)this_cpu_id());
	rank_release(l);
	l->cpu = -1;
	__atomic_store_n(&l->locked, 0, __ATOMIC_RELEASE);
}

uint64_t spin_lock_irqsave(struct spinlock *l)
{
	uint64_t f = irq_save();
	spin_lock(l);
	return f;
}

void spin_unlock_irqrestore(struct spinlock *l, uint64_t flags)
{
	spin_unlock(l);
	irq_restore(flags);
}
