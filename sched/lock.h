/*
 * sched/lock.h - runtime locks and notes (Go's lock_futex.go), on the
 * kernel's kwait/kwake.
 *
 * lock() spins a little, then sleeps in the kernel; while an M holds any
 * runtime lock, m->locks > 0 and its G is not asynchronously preempted.
 * A note is a one-shot event: notesleep blocks until notewakeup; only one
 * M sleeps on a note and it is woken at most once until noteclear.
 */
#ifndef RT0_SCHED_LOCK_H
#define RT0_SCHED_LOCK_H

#include "sched/runtime2.h"

void lock_slow(struct mutex *l, uint32_t v);
void unlock_slow(struct mutex *l, uint32_t v);

/* lock_init - @l unlocked, of rank @r (kernel/lockrank.h).  Before first
 * use, by whoever owns the memory; MUTEX_INIT(r) for static locks. */
static inline void lock_init(struct mutex *l, enum lockrank r)
{
	*l = (struct mutex)MUTEX_INIT(r);
}

/*
 * Debug builds (make DEBUG=1) record each runtime lock's owner and each
 * M's held locks, and check the rank order on every acquire (lock.c).
 * lock_debug_acquire: before taking @l; lock_debug_acquired: after;
 * lock_debug_release: before dropping it.  Release builds: nothing.
 */
#ifdef RT0_DEBUG
void lock_debug_acquire(struct mutex *l);
void lock_debug_acquired(struct mutex *l);
void lock_debug_release(struct mutex *l);
/* lock_owned - held by this M.  Any M. */
bool lock_owned(struct mutex *l);
void lock_not_held(struct mutex *l, const char *func) __noreturn;
/* The precondition "@l held": throws naming the function if this M does
 * not hold it. */
#define assert_lock_held(l)						\
	do {								\
		if (!lock_owned(l))					\
			lock_not_held(l, __func__);			\
	} while (0)
#else
static inline void lock_debug_acquire(struct mutex *l) { }
static inline void lock_debug_acquired(struct mutex *l) { }
static inline void lock_debug_release(struct mutex *l) { }
#define assert_lock_held(l) do { (void)(l); } while (0)
#endif

/*
 * Program text (apps/, tests/; built with RT0_USER_TEXT) may be stopped
 * asynchronously between any two instructions and resumed on another M,
 * so the inline forms below -- read the M, then bump its lock count --
 * must not be compiled into it.  White-box tests that take runtime locks
 * get calls into runtime text instead.
 */
void lock_call(struct mutex *l);
void unlock_call(struct mutex *l);
#ifdef RT0_USER_TEXT
#define lock(l) lock_call(l)
#define unlock(l) unlock_call(l)
#else
/* lock - take @l; m->locks counts it.  Any M. */
static inline void lock(struct mutex *l)
{
	getg()->m->locks++;
	lock_debug_acquire(l);
	uint32_t v = __atomic_exchange_n(&l->key, 1, __ATOMIC_ACQUIRE);
	if (unlikely(v != 0))
		lock_slow(l, v);
	lock_debug_acquired(l);
}

/* unlock - release @l, waking a sleeper if one may wait.  Any M. */
static inline void unlock(struct mutex *l)
{
	lock_debug_release(l);
	uint32_t v = __atomic_exchange_n(&l->key, 0, __ATOMIC_RELEASE);
	if (unlikely(v != 1))
		unlock_slow(l, v);
	getg()->m->locks--;
}
#endif
bool lock_held(struct mutex *l);	/* held by someone (checks only) */

/*
 * Leaf locks: the locks of channels, semaphore buckets and notify lists.
 * The same word and protocol as lock() (spin a little, then sleep in the
 * kernel), but they do not count in m->locks: they are taken only by
 * runtime text, which is never preempted asynchronously (all that
 * m->locks would prevent), and held for a few steps with no call that
 * may schedule -- a G parks holding one only through goparkunlock, which
 * releases it on g0 once the G is switched out.  While one is held, only
 * other leaf locks (of channels, in address order) and a P's timerslock
 * (timer_add_nowake, timer_del) may be taken; goready, and whatever may
 * start an M, come after unlocking.  Runtime text only.
 */
/* lock_slow and unlock_slow that keep every register (lock.c). */
#define LEAF_COLD __attribute__((no_caller_saved_registers, noinline, used, \
				 force_align_arg_pointer))
LEAF_COLD void lock_slow_cold(struct mutex *l, uint32_t v);
LEAF_COLD void unlock_slow_cold(struct mutex *l, uint32_t v);

#ifdef RT0_DEBUG
/* Debug builds: plain calls that record and check as lock() does. */
void leaflock_debug(struct mutex *l);
void leafunlock_debug(struct mutex *l);
#define leaflock(l) leaflock_debug(l)
#define leafunlock(l) leafunlock_debug(l)
#else
static __always_inline void leaflock(struct mutex *l)
{
	uint32_t v = __atomic_exchange_n(&l->key, 1, __ATOMIC_ACQUIRE);

	/* The contended case is a call that keeps every register, so a
	 * fast path that takes a leaf lock needs no frame for it. */
	if (unlikely(v != 0))
		__asm__ volatile("call lock_slow_cold"
				 :: "D"(l), "S"(v) : "memory", "cc");
}

static __always_inline void leafunlock(struct mutex *l)
{
	uint32_t v = __atomic_exchange_n(&l->key, 0, __ATOMIC_RELEASE);

	if (unlikely(v != 1))
		__asm__ volatile("call unlock_slow_cold"
				 :: "D"(l), "S"(v) : "memory", "cc");
}
#endif

void noteclear(struct note *n);
void notewakeup(struct note *n);
void notesleep(struct note *n);
/* notetsleep - sleep until woken or @ns nanoseconds pass (ns < 0: no
 * limit).  Returns true if woken. */
bool notetsleep(struct note *n, int64_t ns);

#endif
