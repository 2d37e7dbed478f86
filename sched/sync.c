/*
 * sched/sync.c - Go's sync package: Mutex, RWMutex, WaitGroup, Once and
 * Cond (include/rt0/sync.h), on the runtime's semaphores (sema.c).
 *
 * The uncontended paths are inline atomics in the public header; what is
 * here runs when they lose a race, in runtime text (never preempted
 * asynchronously), on the calling goroutine.
 *
 * Mutex (Go's sync/mutex.go).  state holds mutexLocked, mutexWoken (a
 * waiter has been woken, or a spinner is about to take the lock: Unlock
 * need not wake another), mutexStarving, and the number of waiters above
 * mutexWaiterShift; sema is where waiters sleep.  Two modes:
 *  - normal: waiters queue in FIFO order, but a woken waiter competes
 *    with goroutines that have just arrived (and are running, so they
 *    usually win); a newcomer may spin a few times first, if other Ps are
 *    running (the holder may be one of them) and its own P has nothing
 *    else to do.  Good throughput.
 *  - starvation: a waiter that waited more than 1 ms sets mutexStarving.
 *    Unlock then hands the mutex straight to the first waiter (a
 *    semaphore handoff: it runs next on the unlocker's P), newcomers
 *    queue behind without trying.  The last waiter, or one that waited
 *    less than 1 ms, switches back to normal.  Bounded tail latency.
 * A woken waiter that loses the race in normal mode queues again at the
 * head (LIFO), so it keeps its place.
 */
#include "include/rt0.h"
#include "sched/proc.h"
#include "sched/sema.h"
#include "kernel/time.h"

enum {
	mutexLocked = 1,
	mutexWoken = 2,
	mutexStarving = 4,
	mutexWaiterShift = 3,
};
#define starvationThresholdNs 1000000	/* 1 ms */
#define active_spin 4			/* spins before parking */
#define active_spin_cnt 30		/* pauses per spin */

BUILD_ASSERT(mutexLocked == GO_MUTEX_LOCKED);

/*
 * sync_runtime_canSpin - may a goroutine spin on a Mutex (spin @i so
 * far)?  Only a few times, on a multicore machine, while some other P
 * runs (the holder may be running there, and will unlock soon) and this
 * P's queue is empty (spinning would delay runnable work).
 */
static bool sync_runtime_canSpin(int i)
{
	if (i >= active_spin || ncpu_rt <= 1 ||
	    gomaxprocs <= (int32_t)(__atomic_load_n(&sched.npidle, __ATOMIC_RELAXED) +
				    __atomic_load_n(&sched.nmspinning, __ATOMIC_RELAXED)) + 1)
		return false;
	return runqempty(getg()->m->p);
}

static void sync_runtime_doSpin(void)
{
	for (int i = 0; i < active_spin_cnt; i++)
		cpu_relax();
}

static int32_t mutex_load(go_mutex *m)
{
	return __atomic_load_n(&m->state, __ATOMIC_RELAXED);
}

static bool mutex_cas(go_mutex *m, int32_t old, int32_t new)
{
	return __atomic_compare_exchange_n(&m->state, &old, new, false,
					   __ATOMIC_ACQ_REL, __ATOMIC_RELAXED);
}

/** go_mutex_lock_slow - go_mutex_lock when the first CAS failed. */
void go_mutex_lock_slow(go_mutex *m)
{
	int64_t waitStartTime = 0;
	bool starving = false, awoke = false;
	int iter = 0;
	int32_t old = mutex_load(m);

	must_be_goroutine("go_mutex_lock");
	for (;;) {
		seed_yield();
		/* Spin only in normal mode: in starvation mode the mutex is
		 * handed to a waiter, never taken by a spinner. */
		if ((old & (mutexLocked | mutexStarving)) == mutexLocked &&
		    sync_runtime_canSpin(iter)) {
			/* Tell Unlock not to wake a waiter: we will take it. */
			if (!awoke && !(old & mutexWoken) &&
			    (old >> mutexWaiterShift) != 0 &&
			    mutex_cas(m, old, old | mutexWoken))
				awoke = true;
			sync_runtime_doSpin();
			iter++;
			old = mutex_load(m);
			continue;
		}
		int32_t new = old;
		if (!(old & mutexStarving))
			new |= mutexLocked;	/* newcomers queue when starving */
		if (old & (mutexLocked | mutexStarving))
			new += 1 << mutexWaiterShift;
		/* Switch to starvation mode, unless it is unlocked now
		 * (Unlock expects a starving mutex to have waiters). */
		if (starving && (old & mutexLocked))
			new |= mutexStarving;
		if (awoke) {
			if (!(new & mutexWoken))
				throw("sync: inconsistent mutex state");
			new &= ~mutexWoken;
		}
		if (!mutex_cas(m, old, new)) {
			old = mutex_load(m);
			continue;
		}
		if (!(old & (mutexLocked | mutexStarving)))
			return;			/* locked it */
		/* Waited before: back at the head of the queue. */
		bool queueLifo = waitStartTime != 0;
		if (!waitStartTime)
			waitStartTime = (int64_t)nanotime();
		semacquire1(&m->sema, queueLifo, waitReasonSyncMutexLock);
		starving = starving ||
			   (int64_t)nanotime() - waitStartTime > starvationThresholdNs;
		old = mutex_load(m);
		if (old & mutexStarving) {
			/*
			 * Handed to us: mutexLocked is not set yet and we
			 * still count as a waiter.  Fix both; leave
			 * starvation mode if we are the last waiter or did
			 * not wait long (two goroutines could otherwise go
			 * lock-step in it for ever).
			 */
			if ((old & (mutexLocked | mutexWoken)) ||
			    (old >> mutexWaiterShift) == 0)
				throw("sync: inconsistent mutex state");
			int32_t delta = mutexLocked - (1 << mutexWaiterShift);
			if (!starving || (old >> mutexWaiterShift) == 1)
				delta -= mutexStarving;
			__atomic_add_fetch(&m->state, delta, __ATOMIC_ACQ_REL);
			return;
		}
		awoke = true;
		iter = 0;
	}
}

bool go_mutex_trylock(go_mutex *m)
{
	int32_t old = mutex_load(m);

	if (old & (mutexLocked | mutexStarving))
		return false;
	/* A waiter may be about to wake: we are running, we may take it. */
	return mutex_cas(m, old, old | mutexLocked);
}

/**
 * go_mutex_unlock_slow - go_mutex_unlock left @new (not 0) in the state:
 * there are waiters to wake, or the mutex was not locked.
 */
void go_mutex_unlock_slow(go_mutex *m, int32_t new)
{
	if (!((new + mutexLocked) & mutexLocked))
		throw("sync: unlock of unlocked mutex");
	must_be_m("go_mutex_unlock");
	seed_yield();
	if (new & mutexStarving) {
		/* Hand the mutex to the first waiter and yield to it; it
		 * sets mutexLocked itself.  Newcomers see mutexStarving
		 * and stay out meanwhile. */
		semrelease1(&m->sema, true);
		return;
	}
	for (int32_t old = new;; old = mutex_load(m)) {
		/* No waiters, or one woken already, or the mutex taken
		 * again, or starving (then not ours to hand over): done. */
		if ((old >> mutexWaiterShift) == 0 ||
		    (old & (mutexLocked | mutexWoken | mutexStarving)))
			return;
		/* Take the right to wake one. */
		if (mutex_cas(m, old, (old - (1 << mutexWaiterShift)) | mutexWoken)) {
			semrelease1(&m->sema, false);
			return;
		}
	}
}

/* ---- RWMutex (Go's sync/rwmutex.go) ---- */

#define rwmutexMaxReaders (1 << 30)

void go_rwmutex_rlock_slow(go_rwmutex *rw)
{
	/* A writer holds or waits: wait for its Unlock. */
	seed_yield();
	semacquire1(&rw->readerSem, false, waitReasonSyncRWMutexRLock);
}

bool go_rwmutex_tryrlock(go_rwmutex *rw)
{
	int32_t c = __atomic_load_n(&rw->readerCount, __ATOMIC_RELAXED);

	while (c >= 0)
		if (__atomic_compare_exchange_n(&rw->readerCount, &c, c + 1, false,
						__ATOMIC_ACQUIRE, __ATOMIC_RELAXED))
			return true;
	return false;
}

/* go_rwmutex_runlock left @r < 0: unlocked, or a writer is waiting. */
void go_rwmutex_runlock_slow(go_rwmutex *rw, int32_t r)
{
	if (r + 1 == 0 || r + 1 == -rwmutexMaxReaders)
		throw("sync: RUnlock of unlocked RWMutex");
	/* The last reader the writer waits for wakes it. */
	if (__atomic_sub_fetch(&rw->readerWait, 1, __ATOMIC_ACQ_REL) == 0)
		semrelease1(&rw->writerSem, false);
}

void go_rwmutex_lock(go_rwmutex *rw)
{
	/* First keep other writers out, then announce ourselves to readers
	 * (readerCount goes negative) and wait for the active ones. */
	go_mutex_lock(&rw->w);
	int32_t r = __atomic_add_fetch(&rw->readerCount, -rwmutexMaxReaders,
				       __ATOMIC_ACQ_REL) + rwmutexMaxReaders;
	if (r != 0 &&
	    __atomic_add_fetch(&rw->readerWait, r, __ATOMIC_ACQ_REL) != 0)
		semacquire1(&rw->writerSem, false, waitReasonSyncRWMutexLock);
}

bool go_rwmutex_trylock(go_rwmutex *rw)
{
	if (!go_mutex_trylock(&rw->w))
		return false;
	int32_t zero = 0;
	if (!__atomic_compare_exchange_n(&rw->readerCount, &zero,
					 -rwmutexMaxReaders, false,
					 __ATOMIC_ACQ_REL, __ATOMIC_RELAXED)) {
		go_mutex_unlock(&rw->w);
		return false;
	}
	return true;
}

void go_rwmutex_unlock(go_rwmutex *rw)
{
	/* Tell readers no writer is active; wake those that queued. */
	int32_t r = __atomic_add_fetch(&rw->readerCount, rwmutexMaxReaders,
				       __ATOMIC_ACQ_REL);
	if (r >= rwmutexMaxReaders)
		throw("sync: Unlock of unlocked RWMutex");
	for (int32_t i = 0; i < r; i++)
		semrelease1(&rw->readerSem, false);
	go_mutex_unlock(&rw->w);
}

/* ---- WaitGroup (Go's sync/waitgroup.go) ---- */

/* go_waitgroup_add left @state (the inline add is done): it has waiters,
 * or its counter is negative. */
void go_waitgroup_add_slow(go_waitgroup *wg, int delta, uint64_t state)
{
	int32_t v = (int32_t)(state >> 32);
	uint32_t w = (uint32_t)state;

	if (v < 0)
		panicplain("sync: negative WaitGroup counter");
	if (w != 0 && delta > 0 && v == delta)
		panicplain("sync: WaitGroup misuse: Add called concurrently with Wait");
	if (v > 0 || w == 0)
		return;
	/*
	 * The counter is 0 with waiters: nothing else may change the state
	 * now (an Add must not race a Wait; a Wait that sees 0 does not
	 * count itself).  A cheap check for misuse, then wake them all.
	 */
	if (__atomic_load_n(&wg->state, __ATOMIC_ACQUIRE) != state)
		panicplain("sync: WaitGroup misuse: Add called concurrently with Wait");
	__atomic_store_n(&wg->state, 0, __ATOMIC_RELEASE);
	for (; w != 0; w--)
		semrelease1(&wg->sema, false);
}

/* go_waitgroup_wait saw a count: wait for it to drop to zero. */
void go_waitgroup_wait_slow(go_waitgroup *wg)
{
	for (;;) {
		uint64_t state = __atomic_load_n(&wg->state, __ATOMIC_ACQUIRE);
		if ((int32_t)(state >> 32) == 0)
			return;
		/* Count ourselves as a waiter, then sleep. */
		if (__atomic_compare_exchange_n(&wg->state, &state, state + 1,
						false, __ATOMIC_ACQ_REL,
						__ATOMIC_RELAXED)) {
			semacquire1(&wg->sema, false, waitReasonSyncWaitGroupWait);
			if (__atomic_load_n(&wg->state, __ATOMIC_ACQUIRE) != 0)
				panicplain("sync: WaitGroup is reused before "
					   "previous Wait has returned");
			return;
		}
	}
}

/* ---- Once, Cond ---- */

void go_once_do_slow(go_once *o, void (*fn)(void *), void *arg)
{
	go_mutex_lock(&o->m);
	if (!__atomic_load_n(&o->done, __ATOMIC_RELAXED)) {
		fn(arg);
		__atomic_store_n(&o->done, 1, __ATOMIC_RELEASE);
	}
	go_mutex_unlock(&o->m);
}

void go_cond_wait(go_cond *c)
{
	if (!c->L)
		throw("sync: go_cond_wait on a go_cond with no L");
	uint32_t t = notifyListAdd((struct notifyList *)&c->notify);
	go_mutex_unlock(c->L);
	notifyListWait((struct notifyList *)&c->notify, t);
	go_mutex_lock(c->L);
}

void go_cond_signal(go_cond *c)
{
	must_be_m("go_cond_signal");
	notifyListNotifyOne((struct notifyList *)&c->notify);
}

void go_cond_broadcast(go_cond *c)
{
	must_be_m("go_cond_broadcast");
	notifyListNotifyAll((struct notifyList *)&c->notify);
}
