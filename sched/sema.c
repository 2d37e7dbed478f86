/*
 * sched/sema.c - semaphores keyed by address and notify lists (Go's
 * sema.go), the sleeping half of the sync package.
 *
 * A semaphore is a uint32_t counter anywhere in memory.  Acquiring takes
 * one from it, or else parks the G on the address; releasing adds one and
 * readies the first G parked there.  Waiters are kept in a table of 251
 * buckets (semtable), each under its own lock: a bucket holds a treap of
 * sudogs, one per distinct address (ordered by address, balanced by
 * random priorities in sudog.ticket), and each of those heads a FIFO list
 * (waitlink/waittail) of the other waiters on the same address.  Finding
 * an address is O(log n) in the addresses that collide in the bucket;
 * queueing behind it and dequeueing its first waiter are O(1).
 *
 * The sudogs live on the waiting Gs' stacks (see struct sudog).
 *
 * Lock order: a bucket's lock and a notify list's lock are leaves: only
 * goready (which may take sched.lock) is called, after unlocking.
 */
#include "sched/sema.h"
#include "sched/proc.h"
#include "sched/lock.h"
#include "include/rt0.h"

/* A waiting G's sudog is on its own stack, on purpose (struct sudog). */
#pragma GCC diagnostic ignored "-Wdangling-pointer"

#define SEMTABSZ 251		/* prime: no correlation with strides */

struct semaRoot {
	struct mutex lock;
	uint32_t nwait;		/* waiters in this bucket; atomic, read
				 * without the lock (semrelease's easy case) */
	struct sudog *treap;	/* one sudog per waited address; lock */
} __attribute__((aligned(64)));

static struct semaRoot semtable[SEMTABSZ] = {
	[0 ... SEMTABSZ - 1] = { .lock = MUTEX_INIT(LOCKRANK_SEMAROOT) },
};

static struct semaRoot *semroot(uint32_t *addr)
{
	return &semtable[((uint64_t)addr >> 3) % SEMTABSZ];
}

/* Take one from *addr if it is not zero. */
static bool cansemacquire(uint32_t *addr)
{
	uint32_t v = __atomic_load_n(addr, __ATOMIC_ACQUIRE);

	while (v != 0)
		if (__atomic_compare_exchange_n(addr, &v, v - 1, false,
						__ATOMIC_ACQ_REL,
						__ATOMIC_ACQUIRE))
			return true;
	return false;
}

/* ---- the treap (Go's semaRoot.queue/dequeue/rotate*) ---- */

/* (x a (y b c)) -> (y (x a b) c), at x.  root lock held. */
static void rotateLeft(struct semaRoot *root, struct sudog *x)
{
	struct sudog *p = x->parent, *y = x->next, *b = y->prev;

	assert_lock_held(&root->lock);
	y->prev = x;
	x->parent = y;
	x->next = b;
	if (b)
		b->parent = x;
	y->parent = p;
	if (!p)
		root->treap = y;
	else if (p->prev == x)
		p->prev = y;
	else if (p->next == x)
		p->next = y;
	else
		throw("semaRoot rotateLeft");
}

/* (y (x a b) c) -> (x a (y b c)), at y.  root lock held. */
static void rotateRight(struct semaRoot *root, struct sudog *y)
{
	struct sudog *p = y->parent, *x = y->prev, *b = x->next;

	assert_lock_held(&root->lock);
	x->next = y;
	y->parent = x;
	y->prev = b;
	if (b)
		b->parent = y;
	x->parent = p;
	if (!p)
		root->treap = x;
	else if (p->prev == y)
		p->prev = x;
	else if (p->next == y)
		p->next = x;
	else
		throw("semaRoot rotateRight");
}

/* Put @s in @t's place in the treap (same address, same priority). */
static void treap_replace(struct sudog **pt, struct sudog *t, struct sudog *s)
{
	*pt = s;
	s->ticket = t->ticket;
	s->parent = t->parent;
	s->prev = t->prev;
	s->next = t->next;
	if (s->prev)
		s->prev->parent = s;
	if (s->next)
		s->next->parent = s;
}

/**
 * semaroot_queue - add @s, the current G waiting on @addr, to @root:
 * behind the other waiters on @addr, or in front of them if @lifo.
 * root lock held.
 */
static void semaroot_queue(struct semaRoot *root, uint32_t *addr,
			   struct sudog *s, bool lifo)
{
	struct sudog *last = NULL, **pt = &root->treap, *t;

	assert_lock_held(&root->lock);
	s->g = getg();
	s->elem = addr;
	s->next = s->prev = NULL;
	s->waitlink = s->waittail = NULL;
	for (t = *pt; t; t = *pt) {
		if (t->elem == addr) {
			if (lifo) {
				/* s heads the list, t first behind it. */
				treap_replace(pt, t, s);
				s->waitlink = t;
				s->waittail = t->waittail ? t->waittail : t;
				t->parent = t->prev = t->next = NULL;
				t->waittail = NULL;
			} else {
				if (t->waittail)
					t->waittail->waitlink = s;
				else
					t->waitlink = s;
				t->waittail = s;
			}
			return;
		}
		last = t;
		pt = (uint64_t)addr < (uint64_t)t->elem ? &t->prev : &t->next;
	}
	/*
	 * A new leaf, then rotated up while its priority is smaller than
	 * its parent's: a treap, balanced on average (s->ticket's low bit is
	 * set, since semrelease tests it against zero later).
	 */
	s->ticket = cheaprand(getg()->m->p) | 1;
	s->parent = last;
	*pt = s;
	while (s->parent && s->parent->ticket > s->ticket) {
		if (s->parent->prev == s)
			rotateRight(root, s->parent);
		else if (s->parent->next == s)
			rotateLeft(root, s->parent);
		else
			throw("semaRoot queue");
	}
}

/**
 * semaroot_dequeue - take the first waiter on @addr off @root, or NULL.
 * root lock held.  The sudog's ticket is 0 on return.
 */
static struct sudog *semaroot_dequeue(struct semaRoot *root, uint32_t *addr)
{
	struct sudog **ps = &root->treap, *s;

	assert_lock_held(&root->lock);
	for (s = *ps; s; s = *ps) {
		if (s->elem == addr)
			break;
		ps = (uint64_t)addr < (uint64_t)s->elem ? &s->prev : &s->next;
	}
	if (!s)
		return NULL;
	struct sudog *t = s->waitlink;
	if (t) {
		/* The next waiter on addr takes s's place in the treap. */
		treap_replace(ps, s, t);
		t->waittail = t->waitlink ? s->waittail : NULL;
	} else {
		/* Rotate s down to a leaf, keeping the heap order; cut it. */
		while (s->next || s->prev) {
			if (!s->next || (s->prev && s->prev->ticket < s->next->ticket))
				rotateRight(root, s);
			else
				rotateLeft(root, s);
		}
		if (!s->parent)
			root->treap = NULL;
		else if (s->parent->prev == s)
			s->parent->prev = NULL;
		else
			s->parent->next = NULL;
	}
	s->parent = s->next = s->prev = NULL;
	s->waitlink = s->waittail = NULL;
	s->elem = NULL;
	s->ticket = 0;
	return s;
}

/* ---- acquire and release ---- */

void semacquire1(uint32_t *addr, bool lifo, const char *reason)
{
	must_be_goroutine("semacquire");
	if (cansemacquire(addr))
		return;
	/*
	 * The harder case: count ourselves in nwait (which disables
	 * semrelease's easy case), try once more, then queue and sleep.  A
	 * release after that second try sees nwait and wakes a waiter.
	 */
	struct semaRoot *root = semroot(addr);
	struct sudog s = { .ticket = 0 };	/* 0: no handoff yet */

	for (;;) {
		seed_yield();
		leaflock(&root->lock);
		__atomic_add_fetch(&root->nwait, 1, __ATOMIC_SEQ_CST);
		if (cansemacquire(addr)) {
			__atomic_sub_fetch(&root->nwait, 1, __ATOMIC_SEQ_CST);
			leafunlock(&root->lock);
			return;
		}
		semaroot_queue(root, addr, &s, lifo);
		goparkunlock(&root->lock, reason);
		/* The releaser dequeued s; with handoff it gave us the
		 * count (ticket 1), else we compete for it. */
		if (s.ticket != 0 || cansemacquire(addr))
			return;
	}
}

void semrelease1(uint32_t *addr, bool handoff)
{
	struct semaRoot *root = semroot(addr);

	assert_has_p();
	seed_yield();
	__atomic_add_fetch(addr, 1, __ATOMIC_SEQ_CST);
	/* After the add (a full barrier): see the semacquire loop. */
	if (__atomic_load_n(&root->nwait, __ATOMIC_SEQ_CST) == 0)
		return;
	leaflock(&root->lock);
	if (__atomic_load_n(&root->nwait, __ATOMIC_SEQ_CST) == 0) {
		/* Someone took the count already: nobody to wake. */
		leafunlock(&root->lock);
		return;
	}
	struct sudog *s = semaroot_dequeue(root, addr);
	if (s)
		__atomic_sub_fetch(&root->nwait, 1, __ATOMIC_SEQ_CST);
	leafunlock(&root->lock);
	if (!s)
		return;
	if (s->ticket != 0)
		throw("corrupted semaphore ticket");
	bool handed = handoff && cansemacquire(addr);
	struct g *gp = s->g;
	if (handed)
		s->ticket = 1;
	/* gp in a callee-saved register: GCC 12 otherwise copies it for
	 * runnext's exchange (one instruction more per handoff). */
	__asm__("" : "+b"(gp));
	goready_dequeued(gp);		/* s may be gone from here on */
	struct m *mp = getg()->m;
	if (handed && mp->locks == 0 && getg() == mp->curg) {
		/*
		 * Direct handoff: gp is in this P's runnext; Gosched puts us
		 * at the tail of the local queue, so gp runs now, in our
		 * time slice (Go's goyield).  Only with handoff: otherwise a
		 * newcomer may take the count while we yield, for nothing.
		 * (On g0 -- an unlockf, a timer function -- there is nothing
		 * to yield: gp simply runs next.)
		 */
		gosched();
	}
}

/* ---- notify lists (sync.Cond) ---- */

BUILD_ASSERT(sizeof(struct notifyList) == sizeof(go_notify_list));
BUILD_ASSERT(__builtin_offsetof(struct notifyList, wait) ==
	     __builtin_offsetof(go_notify_list, wait));
BUILD_ASSERT(__builtin_offsetof(struct notifyList, notify) ==
	     __builtin_offsetof(go_notify_list, notify));
BUILD_ASSERT(__builtin_offsetof(struct notifyList, lock) ==
	     __builtin_offsetof(go_notify_list, lock));
BUILD_ASSERT(__builtin_offsetof(struct notifyList, head) ==
	     __builtin_offsetof(go_notify_list, head));
BUILD_ASSERT(__builtin_offsetof(struct notifyList, tail) ==
	     __builtin_offsetof(go_notify_list, tail));

/* a < b for ticket counters that wrap (their distance is below 2^31). */
static bool less(uint32_t a, uint32_t b)
{
	return (int32_t)(a - b) < 0;
}

/** notifyListAdd - a ticket for the caller to wait on.  Any G, no lock. */
uint32_t notifyListAdd(struct notifyList *l)
{
	return __atomic_fetch_add(&l->wait, 1, __ATOMIC_SEQ_CST);
}

/**
 * notifyListWait - park until ticket @t is notified; return at once if it
 * was already.  On a goroutine.
 */
void notifyListWait(struct notifyList *l, uint32_t t)
{
	must_be_goroutine("notifyListWait");
	leaflock(&l->lock);
	if (less(t, l->notify)) {
		leafunlock(&l->lock);
		return;
	}
	struct sudog s = { .g = getg(), .ticket = t };
	if (l->tail)
		l->tail->next = &s;
	else
		l->head = &s;
	l->tail = &s;
	goparkunlock(&l->lock, waitReasonSyncCondWait);
}

/** notifyListNotifyAll - notify every ticket taken so far.  Any G. */
void notifyListNotifyAll(struct notifyList *l)
{
	/* Nothing new since the last notify: no lock needed. */
	if (__atomic_load_n(&l->wait, __ATOMIC_SEQ_CST) ==
	    __atomic_load_n(&l->notify, __ATOMIC_SEQ_CST))
		return;
	leaflock(&l->lock);
	struct sudog *s = l->head;
	l->head = l->tail = NULL;
	__atomic_store_n(&l->notify, __atomic_load_n(&l->wait, __ATOMIC_SEQ_CST),
			 __ATOMIC_SEQ_CST);
	leafunlock(&l->lock);
	while (s) {
		struct sudog *next = s->next;	/* before s's G may run */
		goready_dequeued(s->g);
		s = next;
	}
}

/**
 * notifyListNotifyOne - notify the oldest ticket not yet notified (if a
 * ticket was taken since): ready its G if it is parked already, else its
 * wait will return at once.  Any G.
 */
void notifyListNotifyOne(struct notifyList *l)
{
	if (__atomic_load_n(&l->wait, __ATOMIC_SEQ_CST) ==
	    __atomic_load_n(&l->notify, __ATOMIC_SEQ_CST))
		return;
	leaflock(&l->lock);
	uint32_t t = l->notify;
	if (t == __atomic_load_n(&l->wait, __ATOMIC_SEQ_CST)) {
		leafunlock(&l->lock);
		return;
	}
	__atomic_store_n(&l->notify, t + 1, __ATOMIC_SEQ_CST);
	/*
	 * Ticket t's G may not be in the list yet (between Add and Wait,
	 * where it will see notify > t and not park), and tickets may be
	 * out of order (Adds race, Waits lock in another order): search.
	 */
	for (struct sudog *p = NULL, *s = l->head; s; p = s, s = s->next) {
		if (s->ticket != t)
			continue;
		struct sudog *n = s->next;
		if (p)
			p->next = n;
		else
			l->head = n;
		if (l->tail == s)
			l->tail = p;
		leafunlock(&l->lock);
		goready_dequeued(s->g);
		return;
	}
	leafunlock(&l->lock);
}

/* ---- test hooks ---- */

uint32_t sema_nwait(uint32_t *addr)
{
	struct semaRoot *root = semroot(addr);
	uint32_t n = 0;

	leaflock(&root->lock);
	struct sudog *s = root->treap;
	while (s && s->elem != addr)
		s = (uint64_t)addr < (uint64_t)s->elem ? s->prev : s->next;
	for (; s; s = s->waitlink)
		n++;
	leafunlock(&root->lock);
	return n;
}

uint32_t notifyList_nwait(struct notifyList *l)
{
	uint32_t n = 0;

	leaflock(&l->lock);
	for (struct sudog *s = l->head; s; s = s->next)
		n++;
	leafunlock(&l->lock);
	return n;
}

/* ---- the public low-level tier (include/rt0/sync.h) ---- */

void go_semacquire(uint32_t *addr)
{
	semacquire1(addr, false, waitReasonSemacquire);
}

void go_semrelease(uint32_t *addr, bool handoff)
{
	must_be_m("go_semrelease");
	semrelease1(addr, handoff);
}

uint32_t go_notify_list_add(go_notify_list *l)
{
	return notifyListAdd((struct notifyList *)l);
}

void go_notify_list_wait(go_notify_list *l, uint32_t ticket)
{
	notifyListWait((struct notifyList *)l, ticket);
}

void go_notify_list_notify_one(go_notify_list *l)
{
	must_be_m("go_notify_list_notify_one");
	notifyListNotifyOne((struct notifyList *)l);
}

void go_notify_list_notify_all(go_notify_list *l)
{
	must_be_m("go_notify_list_notify_all");
	notifyListNotifyAll((struct notifyList *)l);
}
