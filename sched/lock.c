/*
 * sched/lock.c - runtime mutexes and notes (see lock.h).
 *
 * Mutex words: 0 unlocked, 1 locked, 2 locked and someone may sleep in the
 * kernel on it.  unlock() wakes one sleeper only if the word was 2.
 */
#include "sched/lock.h"
#include "kernel/kwait.h"
#include "kernel/time.h"
#include "kernel/spinlock.h"
#include "arch/x86_64/x86.h"
#include "sched/proc.h"

#define MUTEX_UNLOCKED 0
#define MUTEX_LOCKED 1
#define MUTEX_SLEEPING 2
#define ACTIVE_SPIN 4
#define ACTIVE_SPIN_CNT 30

static void procyield(int n)
{
	while (n--)
		cpu_relax();
}

/* Contended: v is what the exchange in lock() found (LOCKED or SLEEPING). */
void lock_slow(struct mutex *l, uint32_t v)
{
	/* Whatever we put back must keep saying SLEEPING if it was, so an
	 * unlock wakes the sleeper. */
	uint32_t wait = v;
	int spin = ncpu_rt > 1 ? ACTIVE_SPIN : 0;

	for (;;) {
		for (int i = 0; i < spin; i++) {
			while (__atomic_load_n(&l->key, __ATOMIC_RELAXED) ==
			       MUTEX_UNLOCKED) {
				uint32_t exp = MUTEX_UNLOCKED;
				if (__atomic_compare_exchange_n(
					    &l->key, &exp, wait, false,
					    __ATOMIC_ACQUIRE, __ATOMIC_RELAXED))
					return;
			}
			procyield(ACTIVE_SPIN_CNT);
			seed_yield();
		}
		v = __atomic_exchange_n(&l->key, MUTEX_SLEEPING,
					__ATOMIC_ACQUIRE);
		if (v == MUTEX_UNLOCKED)
			return;
		wait = MUTEX_SLEEPING;
		kwait(&l->key, MUTEX_SLEEPING, 0);
	}
}

void unlock_slow(struct mutex *l, uint32_t v)
{
	if (v == MUTEX_UNLOCKED)
		throw("unlock of unlocked lock");
	kwake(&l->key, 1);	/* v == MUTEX_SLEEPING */
}

#ifdef RT0_DEBUG
/*
 * Debug builds: the owner and rank checks.  The rank is checked before
 * the lock is taken, against the locks this M holds and, since a runtime
 * lock may sleep, against this CPU holding no spinlock.
 */
void lock_debug_acquire(struct mutex *l)
{
	struct m *mp = getg()->m;

	if (!spin_none_held())
		throwf("lock %s (rank %u) taken holding a spinlock",
		       lockrank_name(l->rank), l->rank);
	if (l->owner == mp)
		throwf("lock %s (rank %u) at %p taken twice by m%ld",
		       lockrank_name(l->rank), l->rank, l, mp->id);
	lockrank_acquire(&mp->locks_held, l->rank, l, throwf);
}

void lock_debug_acquired(struct mutex *l)
{
	l->owner = getg()->m;
}

void lock_debug_release(struct mutex *l)
{
	struct m *mp = getg()->m, *owner = l->owner;

	if (!owner)
		throwf("unlock of unlocked lock %s (rank %u) at %p",
		       lockrank_name(l->rank), l->rank, l);
	if (owner != mp)
		throwf("unlock of lock %s (rank %u) at %p held by m%ld, "
		       "not by m%ld", lockrank_name(l->rank), l->rank, l,
		       owner->id, mp->id);
	l->owner = NULL;
	lockrank_release(&mp->locks_held, l->rank, l, throwf);
}

bool lock_owned(struct mutex *l)
{
	return __atomic_load_n(&l->owner, __ATOMIC_RELAXED) == getg()->m;
}

void lock_not_held(struct mutex *l, const char *func)
{
	struct m *owner = __atomic_load_n(&l->owner, __ATOMIC_RELAXED);

	if (!owner)
		throwf("%s: lock %s (rank %u) not held (by anyone)", func,
		       lockrank_name(l->rank), l->rank);
	throwf("%s: lock %s (rank %u) held by m%ld, not by this M (m%ld)",
	       func, lockrank_name(l->rank), l->rank, owner->id,
	       getg()->m->id);
}

void precondition_failed(const char *func, const char *what)
{
	throwf("%s: %s", func, what);
}

void leaflock_debug(struct mutex *l)
{
	lock_debug_acquire(l);
	uint32_t v = __atomic_exchange_n(&l->key, 1, __ATOMIC_ACQUIRE);
	if (v != 0)
		lock_slow(l, v);
	lock_debug_acquired(l);
}

void leafunlock_debug(struct mutex *l)
{
	lock_debug_release(l);
	uint32_t v = __atomic_exchange_n(&l->key, 0, __ATOMIC_RELEASE);
	if (v != 1)
		unlock_slow(l, v);
}
#endif

/* The leaf locks' slow paths (lock.h): they keep every register. */
LEAF_COLD void lock_slow_cold(struct mutex *l, uint32_t v)
{
	lock_slow(l, v);
}

LEAF_COLD void unlock_slow_cold(struct mutex *l, uint32_t v)
{
	unlock_slow(l, v);
}

bool lock_held(struct mutex *l)
{
	return __atomic_load_n(&l->key, __ATOMIC_RELAXED) != MUTEX_UNLOCKED;
}

void noteclear(struct note *n)
{
	__atomic_store_n(&n->key, 0, __ATOMIC_RELEASE);
}

void notewakeup(struct note *n)
{
	uint32_t old = __atomic_exchange_n(&n->key, 1, __ATOMIC_ACQ_REL);

	if (old != 0)
		throw("notewakeup: double wakeup");
	/* The sleeper may already be running, even gone and its M freed
	 * (an exiting M's park note): kwake only hashes and compares the
	 * address, never reads it, so at worst a waiter at a reused address
	 * wakes spuriously and waits again. */
	kwake(&n->key, 1);
}

void notesleep(struct note *n)
{
	struct g *gp = getg();

	if (gp != gp->m->g0)
		throw("notesleep not on g0");
	gp->m->blocked = true;
	while (__atomic_load_n(&n->key, __ATOMIC_ACQUIRE) == 0)
		kwait(&n->key, 0, 0);
	gp->m->blocked = false;
}

bool notetsleep(struct note *n, int64_t ns)
{
	struct g *gp = getg();

	if (ns < 0) {
		notesleep(n);
		return true;
	}
	uint64_t deadline = nanotime() + (uint64_t)ns;
	gp->m->blocked = true;
	while (__atomic_load_n(&n->key, __ATOMIC_ACQUIRE) == 0) {
		if (kwait(&n->key, 0, deadline) == KWAIT_TIMEOUT)
			break;
	}
	gp->m->blocked = false;
	return __atomic_load_n(&n->key, __ATOMIC_ACQUIRE) != 0;
}

/* The out-of-line forms program text uses (lock.h). */
void lock_call(struct mutex *l)
{
	lock(l);
}

void unlock_call(struct mutex *l)
{
	unlock(l);
}
