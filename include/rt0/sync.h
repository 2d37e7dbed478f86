/*
 * include/rt0/sync.h - Go's sync package (Mutex, RWMutex, WaitGroup, Once,
 * Cond) and, below them, the runtime's semaphores, for rt0 programs.
 * Included by include/rt0.h; do not include it alone.
 *
 * Semantics are Go's.  A zero-filled object is ready to use (a static or a
 * memset one), except a go_cond, whose L must be set.  Waiting blocks only
 * the calling goroutine (it parks; its P runs other goroutines), so every
 * call that may wait must be made on a goroutine.  The uncontended paths
 * are inline atomics; a goroutine may be preempted between any two of
 * them without harm.  Misuse is fatal, with Go's message ("fatal error:
 * sync: unlock of unlocked mutex", "panic: sync: negative WaitGroup
 * counter", ...).  Objects must not be copied once used.
 */
#ifndef RT0_SYNC_H
#define RT0_SYNC_H

#include <stdbool.h>
#include <stdint.h>

/* ---- High-level routines: use these most of the time ---- */

/*
 * go_mutex - Go's sync.Mutex: normal mode (a woken waiter competes with
 * newcomers, which may spin a little while other Ps run) and starvation
 * mode (a waiter that waited more than 1 ms switches it: ownership is
 * handed straight to the oldest waiter until the queue drains).
 * Unlocking an unlocked mutex is fatal.  Any goroutine may unlock it.
 */
typedef struct go_mutex {
	int32_t state;		/* locked, woken, starving bits; waiters << 3 */
	uint32_t sema;		/* the waiters' semaphore */
} go_mutex;

#define GO_MUTEX_LOCKED 1

void go_mutex_lock_slow(go_mutex *m);
void go_mutex_unlock_slow(go_mutex *m, int32_t state);

static inline void go_mutex_lock(go_mutex *m)
{
	int32_t unlocked = 0;

	if (!__atomic_compare_exchange_n(&m->state, &unlocked, GO_MUTEX_LOCKED,
					 false, __ATOMIC_ACQUIRE,
					 __ATOMIC_RELAXED))
		go_mutex_lock_slow(m);
}

/* go_mutex_trylock - lock @m if that needs no wait (Go's TryLock). */
bool go_mutex_trylock(go_mutex *m);

static inline void go_mutex_unlock(go_mutex *m)
{
	int32_t state = __atomic_sub_fetch(&m->state, GO_MUTEX_LOCKED,
					   __ATOMIC_RELEASE);

	if (state != 0)
		go_mutex_unlock_slow(m, state);
}

/*
 * go_rwmutex - Go's sync.RWMutex: many readers or one writer; a writer
 * waiting in go_rwmutex_lock keeps new readers out (go_rwmutex_rlock
 * waits, go_rwmutex_tryrlock fails), so writers are not starved.  Any
 * goroutine may unlock.  Unlocking what is not locked is fatal.
 */
typedef struct go_rwmutex {
	go_mutex w;		/* held by the writer */
	uint32_t writerSem;	/* the writer waits for departing readers */
	uint32_t readerSem;	/* readers wait for the writer */
	int32_t readerCount;	/* readers; minus 1 << 30 while a writer
				 * holds or waits */
	int32_t readerWait;	/* readers the waiting writer waits for */
} go_rwmutex;

void go_rwmutex_rlock_slow(go_rwmutex *rw);
void go_rwmutex_runlock_slow(go_rwmutex *rw, int32_t r);

static inline void go_rwmutex_rlock(go_rwmutex *rw)
{
	if (__atomic_add_fetch(&rw->readerCount, 1, __ATOMIC_ACQUIRE) < 0)
		go_rwmutex_rlock_slow(rw);
}

static inline void go_rwmutex_runlock(go_rwmutex *rw)
{
	int32_t r = __atomic_sub_fetch(&rw->readerCount, 1, __ATOMIC_RELEASE);

	if (r < 0)
		go_rwmutex_runlock_slow(rw, r);
}

void go_rwmutex_lock(go_rwmutex *rw);
void go_rwmutex_unlock(go_rwmutex *rw);
bool go_rwmutex_trylock(go_rwmutex *rw);
bool go_rwmutex_tryrlock(go_rwmutex *rw);

/*
 * go_waitgroup - Go's sync.WaitGroup: add(n) before starting work, done()
 * as each piece ends, wait() until the count is zero.  A negative count
 * panics ("sync: negative WaitGroup counter"); so do an add racing a
 * wait on a zero count, and reuse before the last wait has returned
 * ("sync: WaitGroup is reused before previous Wait has returned").
 */
typedef struct go_waitgroup {
	uint64_t state;		/* counter << 32 | waiters */
	uint32_t sema;
} go_waitgroup;

void go_waitgroup_add_slow(go_waitgroup *wg, int delta, uint64_t state);
void go_waitgroup_wait_slow(go_waitgroup *wg);

static inline void go_waitgroup_add(go_waitgroup *wg, int delta)
{
	uint64_t state = __atomic_add_fetch(&wg->state,
					    (uint64_t)(int64_t)delta << 32,
					    __ATOMIC_ACQ_REL);

	/* Waiters to wake (or misuse to report), or a negative count. */
	if ((uint32_t)state != 0 || (int64_t)state < 0)
		go_waitgroup_add_slow(wg, delta, state);
}

static inline void go_waitgroup_done(go_waitgroup *wg)
{
	go_waitgroup_add(wg, -1);
}

static inline void go_waitgroup_wait(go_waitgroup *wg)
{
	if (__atomic_load_n(&wg->state, __ATOMIC_ACQUIRE) >> 32 != 0)
		go_waitgroup_wait_slow(wg);
}

/*
 * go_once - Go's sync.Once: go_once_do(o, fn, arg) calls fn(arg) only the
 * first time it is called for @o; every call returns after fn has
 * returned.
 */
typedef struct go_once {
	uint32_t done;
	go_mutex m;
} go_once;

void go_once_do_slow(go_once *o, void (*fn)(void *), void *arg);

static inline void go_once_do(go_once *o, void (*fn)(void *), void *arg)
{
	if (!__atomic_load_n(&o->done, __ATOMIC_ACQUIRE))
		go_once_do_slow(o, fn, arg);
}

/*
 * go_notify_list - the runtime's ticket-ordered list of waiters behind
 * go_cond (Go's notifyList).  Its fields are the runtime's.
 */
typedef struct go_notify_list {
	uint32_t wait;		/* next ticket to hand out; atomic */
	uint32_t notify;	/* next ticket to notify */
	uint32_t lock[4];	/* the runtime's lock (with room for its
				 * debug-build owner) */
	void *head, *tail;	/* the parked waiters */
} go_notify_list;

/*
 * go_cond - Go's sync.Cond.  Set .L to the mutex that guards the
 * condition (Go's sync.NewCond(l)) before first use.
 * go_cond_wait - unlock L, wait for a signal, lock L again; the caller
 *	holds L.  As in Go, check the condition in a loop around it.
 * go_cond_signal - wake the longest waiting goroutine, if any.
 * go_cond_broadcast - wake them all.
 * Signal and broadcast need not hold L.
 */
typedef struct go_cond {
	go_mutex *L;
	go_notify_list notify;
} go_cond;

void go_cond_wait(go_cond *c);
void go_cond_signal(go_cond *c);
void go_cond_broadcast(go_cond *c);

/* ---- Low-level primitives: the base of the above ---- */

/*
 * Semaphores keyed by address (Go's runtime_Semacquire/Semrelease).
 * go_semacquire - wait until *addr > 0, then decrement it.  Waiters on
 *	one address are served in FIFO order.
 * go_semrelease - increment *addr and wake the first waiter.  With
 *	@handoff, the count goes straight to that waiter, which is put next
 *	on this P and the caller yields to it (with other Ps idle, one of
 *	them may take either first: only the count is promised).
 * A goroutine waiting in go_semacquire shows "semacquire" in dumps.
 */
void go_semacquire(uint32_t *addr);
void go_semrelease(uint32_t *addr, bool handoff);

/*
 * The notify list under go_cond (Go's notifyListAdd/Wait/NotifyOne/All):
 * take a ticket with go_notify_list_add (they count up from 0 on a zero
 * list, wrapping), release what the notifier needs, then
 * go_notify_list_wait(l, ticket) returns at once if the ticket was
 * notified meanwhile, or parks until it is.  Tickets are notified in
 * order; notify_one wakes the oldest, notify_all every ticket taken.  A
 * notify with no ticket outstanding is not saved for later.
 */
uint32_t go_notify_list_add(go_notify_list *l);
void go_notify_list_wait(go_notify_list *l, uint32_t ticket);
void go_notify_list_notify_one(go_notify_list *l);
void go_notify_list_notify_all(go_notify_list *l);

#endif
