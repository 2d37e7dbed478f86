/*
 * tests/go_helpers.h - waiting for goroutines in tests, built only on the
 * public API's low-level tier (go_park / go_ready), as a program's own
 * synchronization would be.
 */
#ifndef RT0_TESTS_GO_HELPERS_H
#define RT0_TESTS_GO_HELPERS_H

#include "include/rt0.h"

/* A tiny spinlock for goroutines: held only for a few instructions. */
static inline void gspin_lock(uint32_t *l)
{
	while (__atomic_exchange_n(l, 1, __ATOMIC_ACQUIRE))
		__asm__ volatile("pause");
}

static inline void gspin_unlock(uint32_t *l)
{
	__atomic_store_n(l, 0, __ATOMIC_RELEASE);
}

/*
 * A countdown (Go's sync.WaitGroup, for one waiter): gwait_add(n) before
 * starting n goroutines, gwait_done() in each, gwait_wait() parks the
 * waiter until the count reaches zero.
 */
struct gwait {
	uint32_t lock;
	int32_t count;		/* lock */
	go_g *waiter;		/* lock */
};

static inline void gwait_add(struct gwait *w, int32_t n)
{
	gspin_lock(&w->lock);
	w->count += n;
	gspin_unlock(&w->lock);
}

static inline void gwait_done(struct gwait *w)
{
	go_g *wake = 0;

	gspin_lock(&w->lock);
	if (--w->count == 0 && w->waiter) {
		wake = w->waiter;
		w->waiter = 0;
	}
	gspin_unlock(&w->lock);
	if (wake)
		go_ready(wake);
}

static inline bool gwait_unlock(go_g *self, void *arg)
{
	(void)self;
	gspin_unlock(&((struct gwait *)arg)->lock);
	return true;
}

static inline void gwait_wait(struct gwait *w)
{
	gspin_lock(&w->lock);
	if (w->count == 0) {
		gspin_unlock(&w->lock);
		return;
	}
	w->waiter = go_self();
	go_park(gwait_unlock, w, "test wait");
}

/* gwait_go - run fn(arg) in a new goroutine and wait until it calls
 * gwait_done(w) once. */
static inline void gwait_go(struct gwait *w, void (*fn)(void *), void *arg)
{
	gwait_add(w, 1);
	go_spawn(fn, arg);
	gwait_wait(w);
}

/* gwait_go_n - run @n goroutines of fn(w) and wait until each has called
 * gwait_done(w).  @w is reset first. */
static inline void gwait_go_n(struct gwait *w, int n, void (*fn)(void *))
{
	*w = (struct gwait){ 0 };
	gwait_add(w, n);
	for (int i = 0; i < n; i++)
		go_spawn(fn, w);
	gwait_wait(w);
}

/*
 * grow_idle_ms - make sure at least n Ms exist beside the busy ones: n
 * goroutines lock their threads and nap at once (each needs its own M),
 * then unlock, leaving their Ms idle.  Tests that count Ms or memory use
 * it so the runtime need not start a new M in the middle.
 */
static inline void grow_nap(void *a)
{
	go_lock_os_thread();
	go_sleep(5000000);
	go_unlock_os_thread();
	gwait_done(a);
}

static inline void grow_idle_ms(int n)
{
	static struct gwait wg;

	gwait_go_n(&wg, n, grow_nap);
}

/*
 * grow_free_gs - make n goroutines exist at once, then let them exit: the
 * dead-G caches (per P and global) fill, so later spawns need not
 * allocate.
 */
static inline void grow_gnap(void *a)
{
	go_sleep(5000000);
	gwait_done(a);
}

static inline void grow_free_gs(int n)
{
	static struct gwait wg;

	gwait_go_n(&wg, n, grow_gnap);
}

/*
 * A semaphore that hands its token straight to a waiter (like an
 * unbuffered channel's send): release readies the oldest waiter, which
 * then owns the token; nobody can barge in between.
 */
#define GSEM_WAITERS 16
struct gsem {
	uint32_t lock;
	int32_t count;				/* lock */
	go_g *q[GSEM_WAITERS];			/* FIFO of waiters; lock */
	uint32_t head, n;			/* lock */
};

static inline bool gsem_unlock(go_g *self, void *arg)
{
	(void)self;
	gspin_unlock(&((struct gsem *)arg)->lock);
	return true;
}

static inline void gsem_acquire(struct gsem *s)
{
	gspin_lock(&s->lock);
	if (s->count > 0) {
		s->count--;
		gspin_unlock(&s->lock);
		return;
	}
	s->q[(s->head + s->n++) % GSEM_WAITERS] = go_self();
	go_park(gsem_unlock, s, "semacquire");	/* woken owning the token */
}

static inline void gsem_release(struct gsem *s)
{
	go_g *w = 0;

	gspin_lock(&s->lock);
	if (s->n) {
		w = s->q[s->head];
		s->head = (s->head + 1) % GSEM_WAITERS;
		s->n--;
	} else {
		s->count++;
	}
	gspin_unlock(&s->lock);
	if (w)
		go_ready(w);
}

#endif
