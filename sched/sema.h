/*
 * sched/sema.h - the runtime's semaphores and notify lists (Go's sema.go):
 * sleep and wakeup for the sync package, keyed by the address of a
 * counter.  Not semaphores to count things with: each wait pairs with one
 * release, even when the release comes first.
 */
#ifndef RT0_SEMA_H
#define RT0_SEMA_H

#include "sched/runtime2.h"

/* Go's wait reasons for the sync package, shown in dumps. */
#define waitReasonSemacquire "semacquire"
#define waitReasonSyncMutexLock "sync.Mutex.Lock"
#define waitReasonSyncRWMutexRLock "sync.RWMutex.RLock"
#define waitReasonSyncRWMutexLock "sync.RWMutex.Lock"
#define waitReasonSyncWaitGroupWait "sync.WaitGroup.Wait"
#define waitReasonSyncCondWait "sync.Cond.Wait"

/**
 * semacquire1 - wait until *@addr > 0 and decrement it.  @lifo: queue at
 * the head of @addr's waiters (a Mutex waiter that already waited once).
 * @reason: the wait reason while parked.  On a goroutine (throws on g0);
 * returns once it has the count.
 */
void semacquire1(uint32_t *addr, bool lifo, const char *reason);

/**
 * semrelease1 - increment *@addr and ready the first waiter on it.
 * @handoff: if the count can be taken at once, give it to that waiter
 * and, on a goroutine holding no runtime lock, yield to it (it runs next
 * on this P).  On an M with a P (a G or g0).
 */
void semrelease1(uint32_t *addr, bool handoff);

/*
 * notifyList (Go's): a ticket-ordered list of parked Gs behind
 * sync.Cond.  Laid out as include/rt0/sync.h's go_notify_list (checked in
 * sema.c).
 */
struct notifyList {
	uint32_t wait;		/* next ticket to hand out; atomic add */
	uint32_t notify;	/* next ticket to notify; written under lock,
				 * read without it */
	struct mutex lock;	/* zeroed: ranks as a leaf */
#ifndef RT0_DEBUG
	uint64_t pad_;		/* room for struct mutex's debug owner */
#endif
	struct sudog *head;	/* parked waiters, by arrival; lock */
	struct sudog *tail;	/* lock */
};

uint32_t notifyListAdd(struct notifyList *l);
void notifyListWait(struct notifyList *l, uint32_t t);
void notifyListNotifyOne(struct notifyList *l);
void notifyListNotifyAll(struct notifyList *l);

/* Test hooks (Go's export_test.go, SemNwait): goroutines parked on
 * @addr, and parked in notify list @l, counted under their locks. */
uint32_t sema_nwait(uint32_t *addr);
uint32_t notifyList_nwait(struct notifyList *l);

#endif
