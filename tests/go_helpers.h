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

#endif
