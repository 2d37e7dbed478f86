/*
 * kernel/kwait.c - wait queues keyed by address (futex-style).
 *
 * 256 buckets, each a spinlock and a list of waiters; a waiter lives on the
 * blocked thread's stack.  A waiter leaves its bucket exactly once, under
 * the bucket lock, either by kwake (woken) or by its timer (timed out);
 * whoever unlinks it wakes the thread.  The thread itself only reads the
 * verdict after it runs again, then cancels the timer (waiting for a
 * callback in flight) before its stack frame goes away.
 */
#include "kwait.h"
#include "kthread.h"
#include "ktimer.h"
#include "spinlock.h"
#include "time.h"
#include "../arch/x86_64/x86.h"

struct kwaiter {
	uint32_t *addr;
	struct kthread *t;
	struct kwaiter *next, **pprev;	/* bucket lock */
	uint32_t result;		/* KWAIT_*; set by whoever unlinks */
	struct ktimer timer;
	struct wbucket *b;
};

struct wbucket {
	struct spinlock lock;
	struct kwaiter *head;		/* lock */
} __attribute__((aligned(64)));

#define NBUCKET 256
static struct wbucket buckets[NBUCKET] = {
	[0 ... NBUCKET - 1] = { .lock = SPINLOCK_INIT(LOCKRANK_KWAIT) },
};

static struct wbucket *bucket(uint32_t *addr)
{
	uint64_t h = (uint64_t)addr * 0x9e3779b97f4a7c15ull;

	return &buckets[h >> 56];
}

static void unlink(struct kwaiter *w)
{
	*w->pprev = w->next;
	if (w->next)
		w->next->pprev = w->pprev;
	w->pprev = NULL;
}

static void timeout(struct ktimer *tm)
{
	struct kwaiter *w = container_of(tm, struct kwaiter, timer);
	struct wbucket *b = w->b;

	spin_lock(&b->lock);
	if (w->pprev) {
		unlink(w);
		w->result = KWAIT_TIMEOUT;
		kthread_wake(w->t);
	}
	spin_unlock(&b->lock);
}

int kwait(uint32_t *addr, uint32_t expected, uint64_t deadline)
{
	struct kthread *t = kthread_current();
	struct kwaiter w = { .addr = addr, .t = t, .result = KWAIT_WOKEN };
	struct wbucket *b = bucket(addr);

	BUG_ON(t->preempt_count);
	uint64_t f = spin_lock_irqsave(&b->lock);
	if (__atomic_load_n(addr, __ATOMIC_ACQUIRE) != expected) {
		spin_unlock_irqrestore(&b->lock, f);
		return KWAIT_AGAIN;
	}
	if (deadline && nanotime() >= deadline) {
		spin_unlock_irqrestore(&b->lock, f);
		return KWAIT_TIMEOUT;
	}
	w.b = b;
	w.next = b->head;
	w.pprev = &b->head;
	if (b->head)
		b->head->pprev = &w.next;
	b->head = &w;
	t->waiter = &w;
	__atomic_store_n(&t->state, KT_BLOCKING, __ATOMIC_RELEASE);
	if (deadline)
		ktimer_arm(&w.timer, deadline, timeout);
	spin_unlock(&b->lock);

	kthread_block();

	t->waiter = NULL;
	irq_restore(f);
	if (deadline)
		ktimer_cancel(&w.timer);
	return (int)__atomic_load_n(&w.result, __ATOMIC_ACQUIRE);
}

int kwake(uint32_t *addr, int n)
{
	struct wbucket *b = bucket(addr);
	int woken = 0;

	uint64_t f = spin_lock_irqsave(&b->lock);
	struct kwaiter *w = b->head;
	while (w && woken < n) {
		struct kwaiter *next = w->next;
		if (w->addr == addr) {
			unlink(w);
			w->result = KWAIT_WOKEN;
			kthread_wake(w->t);
			woken++;
		}
		w = next;
	}
	spin_unlock_irqrestore(&b->lock, f);
	return woken;
}

void ksleep_until(uint64_t deadline)
{
	uint32_t never = 0;

	while (nanotime() < deadline)
		kwait(&never, 0, deadline);
}
