/*
 * sched/proc.c - the goroutine scheduler: Go's G/M/P design on rt0's
 * kernel threads.
 *
 * G, M, P.  A G is a goroutine: a stack, a gobuf saying where it resumes,
 * a status.  An M is a machine thread -- here one kernel thread for its
 * whole life, whose stack is the M's g0 (scheduling) stack.  A P is the
 * right to run Go code: gomaxprocs of them, each with a local run queue, a
 * cache of dead Gs and a batch of goids.  An M must hold a P to run a G;
 * it may exist without one (idle, in a system call, sysmon).
 *
 * Why not simpler.  (1) One global queue and lock: every spawn and every
 * switch would fight over it; per-P queues keep the common case local.
 * (2) Handing a new G straight to a fresh M with a spare P: threads thrash,
 * since the readier may itself be out of work a moment later, and dependent
 * Gs lose their locality.  (3) Waking a thread for every new G while a P
 * is idle: most of them would find nothing and park again.  Instead:
 *
 * Spinning Ms.  When work is submitted (a G readied or spawned) and there
 * is an idle P and no spinning M, wakep() starts one M in the "spinning"
 * state: it owns an idle P and looks for work (its queue, the global
 * queue, stealing from other Ps).  While any M spins, submitters wake no
 * one.  A spinning M that finds work stops spinning and, if it was the
 * last spinner, wakes another (resetspinning): this ramps up to full
 * parallelism without a thundering herd.  One that finds none releases
 * its P and parks.
 *
 * The race that matters is between submitting work and the last spinner
 * giving up.  Each side stores, then loads the other's variable:
 *   submitter: put G on a queue;   StoreLoad;  read sched.nmspinning
 *   spinner:   decrement nmspinning; StoreLoad; re-check every P's queue
 * (the atomics below are sequentially consistent: on x86 a locked
 * instruction, which is the StoreLoad barrier).  At least one side sees
 * the other: either the submitter sees a spinner (who will find the G) or
 * the spinner's re-check finds the G.  If the spinner finds work but no
 * idle P is left, it sets sched.needspinning; an M about to release its P
 * sees that flag and becomes the spinner instead (findrunnable).
 *
 * The schedule loop:  schedule -> findrunnable -> execute -> gogo -> the G
 * runs -> it returns into goexit, which switches to g0 and calls goexit0
 * (Goexit: goexit1's mcall_noresume(goexit0)) -> gfput -> schedule (its
 * common case inline: the next local G).
 * Gosched and gopark switch to g0 as Go's do (mcall: gosched_m, park_m),
 * cheaply, since their callers use Go's register convention; on g0
 * Gosched puts the G at the tail of its P's queue, gopark makes it
 * _Gwaiting and runs its unlockf, and both run the next local G without
 * schedule()'s frame when there is one ("Gosched, park, ready, exit"
 * below).  goready puts a G in the readier's runnext.
 *
 * findrunnable looks, in Go's order: the global queue once every 61
 * schedticks (fairness), the local queue (runnext first), the global
 * queue, then -- if fewer than half the busy Ps have spinners -- stealing:
 * 4 passes over all Ps in random coprime order, half of a victim's queue
 * at a time, runnext only on the last pass.  Then it releases the P and
 * stops the M (a kernel wait on m->park) until startm hands it a P.
 *
 * Lock order: sched.lock before allglock and sched.gflock; a P's
 * timerslock is never held while taking sched.lock (the one table of
 * ranks, checked by debug builds: kernel/lockrank.h).
 */
#include "sched/proc.h"
#include "sched/exectrace.h"
#include "sched/lock.h"
#include "sched/timers.h"
#include "kernel/kthread.h"
#include "kernel/mem.h"
#include "kernel/time.h"
#include "arch/x86_64/x86.h"

struct schedt sched = {
	.lock = MUTEX_INIT(LOCKRANK_SCHED),
	.gflock = MUTEX_INIT(LOCKRANK_GFREE),
};
struct m m0;
struct g g0;
struct p *allp[MAX_PROCS];
int32_t gomaxprocs;
struct m *allm;
int32_t ncpu_rt;
bool mainStarted;

struct mutex allglock = MUTEX_INIT(LOCKRANK_ALLG);
struct g *allgs;		/* allglock to add; read without it */
static struct g *allgtail;	/* allglock */
uint32_t allglen;		/* allglock */

static struct randomOrder stealOrder;	/* procresize, world stopped */
static uint64_t idlepMask[MAX_PROCS / 64];	/* bit per idle P; atomic */

/* ---- G status ---- */

uint32_t readgstatus(struct g *gp)
{
	return __atomic_load_n(&gp->atomicstatus, __ATOMIC_ACQUIRE);
}

void casgstatus_fail(struct g *gp, uint32_t oldval, uint32_t newval,
		     uint32_t cur)
{
	if (!gtrans_ok(oldval, newval))
		throwf("casgstatus: bad transition %u -> %u (goroutine %ld)",
		       oldval, newval, gp->goid);
	if (oldval == _Gwaiting && newval == _Grunnable)	/* goready */
		throwf("ready: goroutine %ld is in status %u, not waiting "
		       "(readied twice, or when it had not parked)",
		       gp->goid, cur);
	throwf("casgstatus: goroutine %ld is in %u, not %u (-> %u)",
	       gp->goid, cur, oldval, newval);
}

/* casgstatus_own's way out: it reads the status here, which keeps that
 * load (and the G in a register for it) out of the fast paths. */
void casgstatus_own_fail(struct g *gp, uint32_t oldval, uint32_t newval)
{
	casgstatus_fail(gp, oldval, newval, readgstatus(gp));
}

/* ---- M pinning (Go's acquirem: no preemption while it matters) ---- */

struct m *acquirem(void)
{
	struct m *mp = getg()->m;

	mp->locks++;
	return mp;
}

void releasem(struct m *mp)
{
	mp->locks--;
}

static uint32_t fastrand(void)
{
	static _Thread_local uint64_t state;

	if (!state)
		state = rdtsc() | 1;
	state ^= state << 13;
	state ^= state >> 7;
	state ^= state << 17;
	return (uint32_t)(state >> 32);
}

/* ---- all Gs ---- */

/*
 * allgs is in creation order, as Go's allgs slice is, so dumps list G1
 * first.  A G is published by one release store (of allgs or of the old
 * tail's alllink) after its own alllink is NULL; a reader walking without
 * the lock sees a prefix of the list.
 */
static void allgadd(struct g *gp)
{
	lock(&allglock);
	gp->alllink = NULL;
	if (allgtail)
		__atomic_store_n(&allgtail->alllink, gp, __ATOMIC_RELEASE);
	else
		__atomic_store_n(&allgs, gp, __ATOMIC_RELEASE);
	allgtail = gp;
	allglen++;
	unlock(&allglock);
}

void forEachG(void (*fn)(struct g *gp, void *arg), void *arg)
{
	for (struct g *gp = __atomic_load_n(&allgs, __ATOMIC_ACQUIRE); gp;
	     gp = __atomic_load_n(&gp->alllink, __ATOMIC_ACQUIRE))
		fn(gp, arg);
}

/* ---- the global run queue (sched.lock) ---- */

static void globrunqputbatch(struct g *head, struct g *tail, int32_t n)
{
	assert_lock_held(&sched.lock);
	tail->schedlink = NULL;
	if (sched.runqtail)
		sched.runqtail->schedlink = head;
	else
		sched.runqhead = head;
	sched.runqtail = tail;
	sched.runqsize += n;
}

void globrunqput(struct g *gp)
{
	assert_lock_held(&sched.lock);
	globrunqputbatch(gp, gp, 1);
}

/* globrunqputhead - @gp at the head of the global queue.  sched.lock. */
static void globrunqputhead(struct g *gp)
{
	assert_lock_held(&sched.lock);
	gp->schedlink = sched.runqhead;
	sched.runqhead = gp;
	if (!sched.runqtail)
		sched.runqtail = gp;
	sched.runqsize++;
}

/* Take a fair share (and up to @max, 0: no limit) of the global queue:
 * one to return, the rest into pp's local queue.  sched.lock held. */
struct g *globrunqget(struct p *pp, int32_t max)
{
	assert_lock_held(&sched.lock);
	if (sched.runqsize == 0)
		return NULL;
	int32_t n = sched.runqsize / gomaxprocs + 1;
	if (n > sched.runqsize)
		n = sched.runqsize;
	if (max > 0 && n > max)
		n = max;
	if (n > RUNQ_LEN / 2)
		n = RUNQ_LEN / 2;
	sched.runqsize -= n;
	struct g *gp = sched.runqhead;
	sched.runqhead = gp->schedlink;
	while (--n > 0) {
		struct g *gp1 = sched.runqhead;
		sched.runqhead = gp1->schedlink;
		runqput(pp, gp1, false);
	}
	if (!sched.runqhead)
		sched.runqtail = NULL;
	return gp;
}

/* runq.c's hooks */
void runq_overflow(struct g *head, struct g *tail, int32_t n)
{
	lock(&sched.lock);
	globrunqputbatch(head, tail, n);
	unlock(&sched.lock);
}

void runq_backoff(void)
{
	delay_us(3);	/* Go: usleep(3); the kernel's sleep is per tick */
}

bool runq_p_running(struct p *pp)
{
	return __atomic_load_n(&pp->status, __ATOMIC_RELAXED) == _Prunning;
}

void runq_throw(const char *msg)
{
	throw(msg);
}

/* ---- idle Ps and Ms (sched.lock) ---- */

static void idlep_set(int32_t id, bool idle)
{
	uint64_t bit = 1ull << (id % 64);

	if (idle)
		__atomic_fetch_or(&idlepMask[id / 64], bit, __ATOMIC_SEQ_CST);
	else
		__atomic_fetch_and(&idlepMask[id / 64], ~bit, __ATOMIC_SEQ_CST);
}

static bool idlep_read(int32_t id)
{
	return __atomic_load_n(&idlepMask[id / 64], __ATOMIC_ACQUIRE) >>
	       (id % 64) & 1;
}

void pidleput(struct p *pp)
{
	assert_lock_held(&sched.lock);
	if (!runqempty(pp))
		throw("pidleput: P has non-empty run queue");
	idlep_set(pp->id, true);
	pp->link = sched.pidle;
	sched.pidle = pp;
	__atomic_fetch_add(&sched.npidle, 1, __ATOMIC_SEQ_CST);
}

struct p *pidleget(void)
{
	assert_lock_held(&sched.lock);
	struct p *pp = sched.pidle;

	if (pp) {
		idlep_set(pp->id, false);
		sched.pidle = pp->link;
		__atomic_fetch_sub(&sched.npidle, 1, __ATOMIC_SEQ_CST);
	}
	return pp;
}

/* A spinning M found work: take an idle P, or ask someone to spin. */
static struct p *pidlegetSpinning(void)
{
	assert_lock_held(&sched.lock);
	struct p *pp = pidleget();

	if (!pp)
		__atomic_store_n(&sched.needspinning, 1, __ATOMIC_SEQ_CST);
	return pp;
}

static void mput(struct m *mp)
{
	assert_lock_held(&sched.lock);
	mp->schedlink = sched.midle;
	sched.midle = mp;
	sched.nmidle++;
	checkdead();
}

static struct m *mget(void)
{
	assert_lock_held(&sched.lock);
	struct m *mp = sched.midle;

	if (mp) {
		sched.midle = mp->schedlink;
		sched.nmidle--;
	}
	return mp;
}

int64_t mcount(void)
{
	return sched.mnext - sched.nmfreed;
}

/* ---- P ownership ---- */

void acquirep(struct p *pp)
{
	struct m *mp = getg()->m;

	if (mp->p)
		throw("acquirep: already holding a P");
	if (pp->m || pp->status != _Pidle)
		throwf("acquirep: P%d is in status %u with m=%p", pp->id,
		       pp->status, pp->m);
	mp->p = pp;
	pp->m = mp;
	__atomic_store_n(&pp->status, _Prunning, __ATOMIC_RELEASE);
	traceev(TEV_PROC_START, 0, 0);
}

struct p *releasep(void)
{
	struct m *mp = getg()->m;
	struct p *pp = mp->p;

	if (!pp)
		throw("releasep: no P");
	if (pp->m != mp || pp->status != _Prunning)
		throwf("releasep: P%d has m=%p status %u", pp->id, pp->m,
		       pp->status);
	traceev(TEV_PROC_STOP, 0, 0);
	mp->p = NULL;
	pp->m = NULL;
	__atomic_store_n(&pp->status, _Pidle, __ATOMIC_RELEASE);
	return pp;
}

/* ---- spinning ---- */

static void becomeSpinning(struct m *mp)
{
	mp->spinning = true;
	__atomic_fetch_add(&sched.nmspinning, 1, __ATOMIC_SEQ_CST);
	__atomic_store_n(&sched.needspinning, 0, __ATOMIC_SEQ_CST);
	traceev(TEV_SPIN_START, 0, 0);
}

static void mspinning(void)
{
	/* startm(spinning) already counted us in nmspinning. */
	getg()->m->spinning = true;
	traceev(TEV_SPIN_START, 0, 0);
}

/* The M found work and stops spinning; maybe another should start. */
static void resetspinning(void)
{
	struct m *mp = getg()->m;

	if (!mp->spinning)
		throw("resetspinning: not a spinning M");
	mp->spinning = false;
	traceev(TEV_SPIN_STOP, 0, 0);
	if (__atomic_sub_fetch(&sched.nmspinning, 1, __ATOMIC_SEQ_CST) < 0)
		throw("resetspinning: negative nmspinning");
	wakep();
}

/**
 * wakep - start a spinning M if there is an idle P and no spinning M.
 * Called after submitting work (the StoreLoad pattern above: the work is
 * published before nmspinning is read).  Any M, with or without a P:
 * it uses none of its own, and handoffp calls it without one (a timer
 * on the P it has just made idle: timers_wake_waiter).
 *
 * "No idle P" is found under sched.lock (pidlegetSpinning), not by a
 * racy look at npidle first: then needspinning is raised, and an M that
 * is about to give up its P spins instead.  Skipping that when npidle
 * reads 0 can strand a G behind a busy P while the last other P goes
 * idle (seen in sched_goroutine_parallelism).  With one P there is no
 * other M to wake or warn.
 */
void wakep(void)
{
	if (!wakep_wanted())
		return;
	int32_t zero = 0;
	if (!__atomic_compare_exchange_n(&sched.nmspinning, &zero, 1, false,
					 __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST))
		return;
	struct m *mp = acquirem();
	lock(&sched.lock);
	struct p *pp = pidlegetSpinning();
	if (!pp) {
		if (__atomic_sub_fetch(&sched.nmspinning, 1, __ATOMIC_SEQ_CST) < 0)
			throw("wakep: negative nmspinning");
		unlock(&sched.lock);
		releasem(mp);
		return;
	}
	unlock(&sched.lock);
	startm(pp, true, false);
	releasem(mp);
}

/**
 * startm - give P @pp (or an idle P if NULL) to an idle M, or a new one.
 * @spinning: the caller incremented nmspinning for it (pp must then have
 * an empty queue).  @lockheld: the caller holds sched.lock (kept).
 */
void startm(struct p *pp, bool spinning, bool lockheld)
{
	struct m *mp = acquirem();

	if (lockheld)
		assert_lock_held(&sched.lock);
	if (!lockheld)
		lock(&sched.lock);
	if (!pp) {
		if (spinning)
			throw("startm: P required for spinning=true");
		pp = pidleget();
		if (!pp) {
			if (!lockheld)
				unlock(&sched.lock);
			releasem(mp);
			return;
		}
	}
	struct m *nmp = mget();
	if (!nmp) {
		/* Reserve the new M's id now, so it counts as running
		 * before sched.lock drops (checkdead must not misfire). */
		int64_t id = sched.mnext++;
		unlock(&sched.lock);
		newm(spinning ? mspinning : NULL, pp, id);
		if (lockheld)
			lock(&sched.lock);
		releasem(mp);
		return;
	}
	if (!lockheld)
		unlock(&sched.lock);
	if (nmp->spinning)
		throw("startm: M is spinning");
	if (nmp->nextp)
		throw("startm: M has a P");
	if (spinning && !runqempty(pp))
		throw("startm: P has runnable Gs");
	nmp->spinning = spinning;
	nmp->nextp = pp;
	traceev(TEV_M_WAKE, (uint64_t)nmp->id, (uint64_t)pp->id);
	notewakeup(&nmp->park);
	releasem(mp);
}

/* Park the current M until startm hands it a P.  No P, not spinning. */
void stopm(void)
{
	struct m *mp = getg()->m;

	if (mp->locks)
		throw("stopm holding locks");
	if (mp->p)
		throw("stopm holding a P");
	if (mp->spinning)
		throw("stopm spinning");
	traceev(TEV_M_PARK, 0, 0);
	lock(&sched.lock);
	mput(mp);
	unlock(&sched.lock);
	notesleep(&mp->park);
	noteclear(&mp->park);
	acquirep(mp->nextp);
	mp->nextp = NULL;
	if (mp->spinning)	/* startm made us a spinner */
		traceev(TEV_SPIN_START, 0, 0);
}

/**
 * handoffp - P @pp lost its M (a system call, a locked M blocking, an M
 * exiting): start an M for it whenever findrunnable would find a G on it,
 * else make it idle.
 */
void handoffp(struct p *pp)
{
	if (!runqempty(pp) || __atomic_load_n(&sched.runqsize, __ATOMIC_RELAXED)) {
		startm(pp, false, false);
		return;
	}
	/* No local work: help only if nobody is spinning or idle. */
	int32_t zero = 0;
	if (__atomic_load_n(&sched.nmspinning, __ATOMIC_SEQ_CST) +
		    __atomic_load_n(&sched.npidle, __ATOMIC_SEQ_CST) == 0 &&
	    __atomic_compare_exchange_n(&sched.nmspinning, &zero, 1, false,
					__ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST)) {
		__atomic_store_n(&sched.needspinning, 0, __ATOMIC_SEQ_CST);
		startm(pp, true, false);
		return;
	}
	lock(&sched.lock);
	if (handoffp_gcstop_locked(pp)) {	/* the world is stopping */
		unlock(&sched.lock);
		return;
	}
	if (sched.runqsize) {
		unlock(&sched.lock);
		startm(pp, false, false);
		return;
	}
	int64_t when = timers_wakeTime(pp);
	pidleput(pp);
	unlock(&sched.lock);
	if (when)
		timers_wake_waiter(when);
}

/* ---- free Gs and goids ---- */

/* gfput's slow path: move the excess down to GFREE_LOCAL_KEEP, to the
 * global list, for this M's P (a cold call: see cold_call). */
static __cold_regs void gfput_spill_cold(void)
{
	struct p *pp = getg()->m->p;
	struct g *head = NULL, *tail = NULL;
	int32_t n = 0;
	while (pp->gfreecnt >= GFREE_LOCAL_KEEP) {
		struct g *x = pp->gfree;
		pp->gfree = x->schedlink;
		pp->gfreecnt--;
		x->schedlink = head;
		head = x;
		if (!tail)
			tail = x;
		n++;
	}
	if (stack_memory_low())
		stack_release_dead(head);	/* whole stacks back */
	lock(&sched.gflock);
	tail->schedlink = sched.gfree_stack;
	sched.gfree_stack = head;
	sched.ngfree += n;
	unlock(&sched.gflock);
}

/**
 * gfput - put @gp, just made _Gdead by its caller, on @pp's free list;
 * past GFREE_LOCAL_MAX, half go to the global list.  @pp is this M's P.
 */
static __always_inline void gfput(struct p *pp, struct g *gp)
{
	gp->schedlink = pp->gfree;
	pp->gfree = gp;
	if (unlikely(++pp->gfreecnt >= GFREE_LOCAL_MAX))
		cold_call(gfput_spill_cold);	/* pp is this M's P */
}

/* Dead Gs on the free lists, read without locks (a snapshot). */
int64_t gfree_count(void)
{
	int64_t n = READ_ONCE(sched.ngfree);

	for (int i = 0; i < MAX_PROCS; i++) {
		struct p *pp = __atomic_load_n(&allp[i], __ATOMIC_ACQUIRE);
		if (pp)
			n += READ_ONCE(pp->gfreecnt);
	}
	return n;
}

/* gfget's slow path: refill @pp's list from the global one. */
static __attribute__((noinline)) void gfget_refill(struct p *pp)
{
	lock(&sched.gflock);
	while (pp->gfreecnt < GFREE_LOCAL_KEEP && sched.gfree_stack) {
		struct g *x = sched.gfree_stack;
		sched.gfree_stack = x->schedlink;
		sched.ngfree--;
		x->schedlink = pp->gfree;
		pp->gfree = x;
		pp->gfreecnt++;
	}
	unlock(&sched.gflock);
}

/* gfget - a dead G from @pp's free list, or NULL.  Owner P. */
static __always_inline struct g *gfget(struct p *pp)
{
	struct g *gp = pp->gfree;
	if (gp) {
		pp->gfree = gp->schedlink;
		pp->gfreecnt--;
	}
	return gp;
}

/* The next batch of goids for @pp (Go's goidcache refill). */
static void newgoid_batch(struct p *pp)
{
	uint64_t end = __atomic_add_fetch(&sched.goidgen, GOID_CACHE_BATCH,
					  __ATOMIC_RELAXED);
	pp->goidcache = (int64_t)end - GOID_CACHE_BATCH + 1;
	pp->goidcacheend = pp->goidcache + GOID_CACHE_BATCH;
}

/* ---- creating goroutines ---- */

/* A dead G for newproc when the free lists are empty: a new one, stack
 * and guard page included.  On g0. */
static __attribute__((noinline)) struct g *newproc_malg(void)
{
	assert_on_g0();
	stack_shrink_low();	/* memory low: shrink parked stacks first */
	struct g *newg = malg();
	if (!newg)
		throw("newproc: out of memory for a goroutine");
	casgstatus(newg, _Gidle, _Gdead);
	allgadd(newg);
	return newg;
}

/*
 * The cold calls of newproc1: each keeps every register (see cold_call),
 * so the common path needs no frame.
 */
static __cold_regs struct g *newproc_newg_cold(void)
{
	struct p *pp = getg()->m->p;

	if (__atomic_load_n(&sched.gfree_stack, __ATOMIC_RELAXED))
		gfget_refill(pp);
	struct g *gp = gfget(pp);
	return gp ? gp : newproc_malg();
}

static __cold_regs void newgoid_batch_cold(void)
{
	newgoid_batch(getg()->m->p);
}

/**
 * newproc1 - newproc on g0 (with a P): a _Grunnable G that will run
 * fn(arg), returning into goexit, in the P's runnext.  callerpc: where
 * the go statement is.
 */
static __always_inline void
newproc1_body(uint64_t fn, uint64_t arg, uint64_t callerpc, bool traced)
{
	assert_on_g0();
	assert_has_p();
	struct p *pp = getg()->m->p;
	struct g *newg = gfget(pp);

	if (unlikely(!newg))
		cold_call_ret(newproc_newg_cold, newg);
	/* Set up as Go's gostartcallfn: fn "called" by goexit. */
	uint64_t sp = newg->stack.hi - 8;
	*(uint64_t *)sp = (uint64_t)goexit + 1;
	newg->sched.sp = sp;
	newg->sched.pc = fn;
	newg->sched.ctxt = arg;
	newg->sched.bp = 0;
	newg->startfn = (void (*)(void *))fn;
	newg->startarg = (void *)arg;
	newg->gopc = callerpc;
	/* waitreason: NULL, as in every G not _Gwaiting.  preempt:
	 * cleared when the G first runs (execute_prep). */
	if (unlikely(pp->goidcache == pp->goidcacheend))
		cold_call(newgoid_batch_cold);
	newg->goid = pp->goidcache++;
	__atomic_fetch_add(&sched.ngoroutines, 1, __ATOMIC_RELAXED);
	casgstatus(newg, _Gdead, _Grunnable);
	if (traced)	/* before anyone can start it */
		traceev(TEV_GO_CREATE, (uint64_t)newg->goid, fn);
	runqput(pp, newg, true);
	if (wakep_wanted() && mainStarted)
		wakep();
}

void newproc1(uint64_t fn, uint64_t arg, uint64_t callerpc)
{
	newproc1_body(fn, arg, callerpc, false);
}

static void newproc1_trace(uint64_t fn, uint64_t arg, uint64_t callerpc)
{
	newproc1_body(fn, arg, callerpc, true);
}

/* ---- running ---- */

/* dropg - the M's curg @gp stops running on @mp. */
static __always_inline void dropg(struct m *mp, struct g *gp)
{
	gp->m = NULL;
	mp->curg = NULL;
}

/*
 * execute_prep - everything execute does but the jump: @gp (dequeued by
 * this M from its P @pp) becomes the M's curg, _Grunning.  inheritTime:
 * it shares the current time slice (it came from runnext), so schedtick
 * does not advance.  On this M, any stack.
 */
static __always_inline void
execute_prep(struct m *mp, struct p *pp, struct g *gp, bool inheritTime)
{
	mp->curg = gp;
	gp->m = mp;
	casgstatus_own(gp, _Grunnable, _Grunning);
	__atomic_store_n(&gp->preempt, 0, __ATOMIC_RELAXED);
	if (!inheritTime)
		pp->schedtick++;
}

/**
 * execute - run @gp on this M (see execute_prep).  On g0.  Never returns.
 */
void execute(struct g *gp, bool inheritTime)
{
	struct m *mp = getg()->m;

	assert_on_g0();
	execute_prep(mp, mp->p, gp, inheritTime);
	traceev(TEV_GO_START, (uint64_t)gp->goid, 0);
	gogo(&gp->sched);
}

/* No timer due on @pp and not the global queue's turn. */
static __always_inline bool local_turn(struct p *pp)
{
	return !timers_due(pp) &&
	       !(unlikely(nonzero32((const uint32_t *)&sched.runqsize)) &&
		 pp->schedtick % 61 == 0);
}

/*
 * runqget_sched - schedule()'s common case, findrunnable's first steps
 * without its frame: not spinning, no timer due, not the global queue's turn
 * (every 61 schedticks): a G from the local queue, or NULL (then
 * findrunnable decides).  On this M, any stack.
 */
static __always_inline struct g *
runqget_sched(struct m *mp, struct p *pp, bool *inheritTime)
{
	if (mp->spinning || !local_turn(pp))
		return NULL;
	return runqget(pp, inheritTime);
}

/* Steal from other Ps: 4 passes in random order, runnext on the last. */
static struct g *stealWork(int64_t now, bool *newWork, int64_t *pollUntil)
{
	struct p *pp = getg()->m->p;

	*newWork = false;
	for (int i = 0; i < 4; i++) {
		bool last = i == 3;
		uint32_t start = SEEDED_ON() ?
			seed_pick(SEED_STEAL_ORDER, UINT32_MAX) : fastrand();
		for (struct randomEnum e = randomOrder_start(&stealOrder, start);
		     !randomEnum_done(&e); randomEnum_next(&e)) {
			if (gcwaiting()) {
				*newWork = true;	/* stop first */
				return NULL;
			}
			struct p *p2 = allp[e.pos];
			if (p2 == pp)
				continue;
			if (last && timers_pending(p2)) {
				int64_t w = 0;
				if (timers_check(p2, now, &w)) {
					bool inherit;
					struct g *gp = runqget(pp, &inherit);
					if (gp)
						return gp;
					*newWork = true;
				}
				if (w && (!*pollUntil || w < *pollUntil))
					*pollUntil = w;
			}
			if (!idlep_read(p2->id)) {
				struct g *gp = runqsteal(pp, p2, last);
				if (gp) {
					traceev(TEV_PROC_STEAL, (uint64_t)p2->id,
						runqlen(pp) + 1);
					return gp;
				}
			}
		}
	}
	return NULL;
}

/* A P that is not idle and has work, with an idle P to run it on. */
static struct p *checkRunqsNoP(void)
{
	for (int32_t i = 0; i < gomaxprocs; i++) {
		if (!idlep_read(i) && !runqempty(allp[i])) {
			lock(&sched.lock);
			struct p *pp = pidlegetSpinning();
			unlock(&sched.lock);
			return pp;
		}
	}
	return NULL;
}

/**
 * findrunnable - a G to run, blocking (the M parks) until there is one.
 * On g0 with a P; returns with a P (maybe another one).
 */
static __attribute__((noinline)) struct g *findrunnable(bool *inheritTime)
{
	struct m *mp = getg()->m;
	struct g *gp;

	assert_on_g0();
	assert_has_p();
top:;
	if (gcwaiting()) {
		gcstopm();	/* back with a P once the world starts */
		goto top;
	}
	struct p *pp = mp->p;
	int64_t pollUntil = 0;
	int64_t now = timers_check(pp, 0, &pollUntil) ? nanotime() : 0;

	/* Fairness: now and then the global queue goes first. */
	if (pp->schedtick % 61 == 0 &&
	    __atomic_load_n(&sched.runqsize, __ATOMIC_RELAXED) > 0) {
		lock(&sched.lock);
		gp = globrunqget(pp, 1);
		unlock(&sched.lock);
		if (gp) {
			*inheritTime = false;
			return gp;
		}
	}
	if ((gp = runqget(pp, inheritTime)))
		return gp;
	if (__atomic_load_n(&sched.runqsize, __ATOMIC_RELAXED)) {
		lock(&sched.lock);
		gp = globrunqget(pp, 0);
		unlock(&sched.lock);
		if (gp) {
			*inheritTime = false;
			return gp;
		}
	}

	/* Steal, unless half the busy Ps already have spinners. */
	if (mp->spinning ||
	    2 * __atomic_load_n(&sched.nmspinning, __ATOMIC_SEQ_CST) <
		    gomaxprocs - (int32_t)__atomic_load_n(&sched.npidle,
							  __ATOMIC_SEQ_CST)) {
		if (!mp->spinning)
			becomeSpinning(mp);
		bool newWork;
		if (!now)
			now = nanotime();
		seed_spin_delay();
		gp = stealWork(now, &newWork, &pollUntil);
		if (gp) {
			*inheritTime = false;
			return gp;
		}
		if (newWork)
			goto top;
	}

	/* Nothing: give up the P. */
	lock(&sched.lock);
	if (gcwaiting()) {
		unlock(&sched.lock);
		goto top;	/* stop it instead */
	}
	if (sched.runqsize) {
		gp = globrunqget(pp, 0);
		unlock(&sched.lock);
		*inheritTime = false;
		return gp;
	}
	if (!mp->spinning &&
	    __atomic_load_n(&sched.needspinning, __ATOMIC_SEQ_CST) == 1) {
		/* A spinner found work it had no P for: spin in its place. */
		becomeSpinning(mp);
		unlock(&sched.lock);
		goto top;
	}
	if (releasep() != pp)
		throw("findrunnable: wrong P");
	pidleput(pp);
	unlock(&sched.lock);

	/*
	 * The delicate dance: drop nmspinning first, then (after the
	 * StoreLoad of the atomic) look at every queue again; the other
	 * order could miss work submitted in between, which nobody would
	 * then wake an M for.
	 */
	if (mp->spinning) {
		mp->spinning = false;
		traceev(TEV_SPIN_STOP, 0, 0);
		if (__atomic_sub_fetch(&sched.nmspinning, 1, __ATOMIC_SEQ_CST) < 0)
			throw("findrunnable: negative nmspinning");
		lock(&sched.lock);
		if (sched.runqsize) {
			struct p *p2 = pidlegetSpinning();
			if (p2) {
				gp = globrunqget(p2, 0);
				unlock(&sched.lock);
				acquirep(p2);
				becomeSpinning(mp);
				*inheritTime = false;
				return gp;
			}
		}
		unlock(&sched.lock);
		struct p *p2 = checkRunqsNoP();
		if (p2) {
			acquirep(p2);
			becomeSpinning(mp);
			goto top;
		}
		pollUntil = timers_checkNoP(pollUntil);
	}

	/* Sleep until a P is handed to us -- or, if we are the M that
	 * waits for timers, until the next one is due. */
	if (pollUntil && timers_wait_until(pollUntil))
		goto top;
	stopm();
	goto top;
}

/**
 * schedule - one round of the scheduler: find a G and run it.  On g0;
 * never returns.
 */
void schedule(void)
{
	struct m *mp = getg()->m;

	if (mp->locks)
		throw("schedule: holding locks");
	if (getg() != mp->g0)
		throw("schedule: not on g0");
	if (mp->lockedg) {
		stoplockedm();
		execute(mp->lockedg, false);	/* never returns */
	}
top:;
	if (gcwaiting()) {
		gcstopm();
		goto top;
	}
	struct p *pp = mp->p;
	if (mp->spinning && !runqempty(pp))
		throw("schedule: spinning with local work");
	bool inheritTime;
	struct g *gp = runqget_sched(mp, pp, &inheritTime);
	if (!gp)
		gp = findrunnable(&inheritTime);
	/* We will run a G: if we were spinning, maybe start another. */
	if (mp->spinning)
		resetspinning();
	if (gp->lockedm) {
		/* Hand our P to the G's own M, wait for another. */
		startlockedm(gp);
		goto top;
	}
	execute(gp, inheritTime);
}

/* ---- Gosched, park, ready, exit ---- */

/*
 * Gosched and park switch through g0 as Go's do -- mcall(gosched_m),
 * mcall(park_m) -- and cheaply: the caller follows Go's register
 * convention (go_sched and go_park in include/rt0.h), so saving the G is
 * three stores (gosched_mcall, gopark_mcall in asm_amd64.S).  Once on
 * g0 the G is fully saved: it may be queued, stolen or readied at once.
 * gosched_m and park_m then do schedule()'s common case themselves,
 * without its frame: no locked G on either side, no timer due, not the
 * global queue's turn (every 61 schedticks), a G on the local queue.
 * Anything else goes to schedule().  (A timer that is pending but not
 * due costs one rdtsc: Go's checkTimers also returns early before
 * timer0When.)  goexit0 does the same after a G exits.
 */

/*
 * gogo(&gp->sched) inline, the fast paths' last step: g = gp, rsp, rbp
 * and rdi (ctxt) from gp->sched, jump to its pc.  (rdi is clobbered so
 * that gp is not in it.)
 */
static __always_inline __noreturn void gogo_inline(struct g *gp)
{
	__asm__ volatile("movq %0, %%fs:g_tls@tpoff\n\t"
			 "movq %c1(%0), %%rsp\n\t"
			 "movq %c2(%0), %%rbp\n\t"
			 "movq %c3(%0), %%rdi\n\t"
			 "jmp *%c4(%0)"
			 :: "r"(gp),
			    "i"(__builtin_offsetof(struct g, sched.sp)),
			    "i"(__builtin_offsetof(struct g, sched.bp)),
			    "i"(__builtin_offsetof(struct g, sched.ctxt)),
			    "i"(__builtin_offsetof(struct g, sched.pc))
			 : "rdi", "memory");
	__builtin_unreachable();
}

/* The fast paths' way to schedule(): this M's G has stopped. */
static __cold_exit void schedule_dropg(struct m *mp)
{
	mp->curg = NULL;
	schedule();
}

/* execute_fast's @next is locked to another M: schedule() hands it over.
 * (Its stopped G is queued or waiting already: dropg first, as Go's.) */
static __cold_exit void
execute_locked(struct p *pp, struct g *next, struct m *mp)
{
	mp->curg = NULL;
	runqput(pp, next, true);
	schedule();
}

/* execute(@next) from a fast path: @next was taken from @pp's queue. */
static __always_inline __noreturn void
execute_fast(struct m *mp, struct p *pp, struct g *next, bool inheritTime)
{
	if (unlikely(next->lockedm))
		noreturn_call3(execute_locked, pp, next, mp);
	execute_prep(mp, pp, next, inheritTime);
	gogo_inline(next);
}

/*
 * schedule_local - schedule()'s common case, for an M whose G has just
 * stopped (park, exit): if no locked G, no due timer and not the global
 * queue's turn, the local queue's next G -- runnext first, taken with one
 * exchange since a ready or a spawn has most likely just filled it --
 * else schedule().  Never returns.
 */
static __always_inline __noreturn void
schedule_local(struct m *mp, struct p *pp)
{
	struct g *next;

	if (unlikely(mp->lockedg) || !local_turn(pp) ||
	    SEEDED(SEED_RUNNEXT_SKIP))
		goto slow;
	if (likely((next = runnext_xchg(pp)) != NULL))
		execute_fast(mp, pp, next, true);
	if (likely((next = runqget_ring(pp)) != NULL))
		execute_fast(mp, pp, next, false);
slow:
	noreturn_call1(schedule_dropg, mp);
}

static void runqput_full_sys(uint64_t pp, uint64_t gp, uint64_t unused)
{
	(void)unused;
	runqput_full((struct p *)pp, (struct g *)gp);
}

/*
 * runqput's spill of a full ring (RUNQPUT_FULL in runtime2.h): on g0,
 * since it puts a 1 KiB batch on the stack and runqput may be called on
 * a G (goready).
 */
__cold_regs void runqput_full_cold(struct p *pp, struct g *gp);
__cold_regs void runqput_full_cold(struct p *pp, struct g *gp)
{
	systemstack3((uint64_t)pp, (uint64_t)gp, 0, runqput_full_sys);
}

/* wakep from a fast path (see cold_call). */
static __cold_regs void wakep_cold(void)
{
	wakep();
}

/* gosched_m's last step: @gp is queued, so maybe wake a P; run @next. */
static __always_inline __noreturn void
gosched_run(struct m *mp, struct p *pp, struct g *next, bool inheritTime)
{
	if (wakep_wanted())	/* gp is queued: StoreLoad, see above */
		cold_call(wakep_cold);
	execute_fast(mp, pp, next, inheritTime);
}

/* gosched_m's way out: @gp goes to the tail of the queue, schedule(). */
static __cold_exit void gosched_slow(struct p *pp, struct g *gp, struct m *mp)
{
	/* Nothing else to run here: a G that yields in a loop is spinning,
	 * and a spin must pause (single-threaded TCG leaves a vCPU only
	 * then, or at a timer deadline: without it the others starve). */
	if (runqempty(pp) && !__atomic_load_n(&sched.runqsize, __ATOMIC_RELAXED))
		cpu_relax();
	mp->curg = NULL;	/* dropg before @gp is queued, as Go's */
	runqput(pp, gp, false);
	wakep();
	schedule();
}

/**
 * gosched_m - Gosched, on g0 (gosched_mcall saved @gp, the curg of this
 * M @mp, which holds @pp): @gp goes to the tail of @pp's run queue and
 * the next local G runs.  That is Go's goyield; Go's Gosched uses the
 * global queue (a lock round trip per yield), where any P may pick the G
 * up -- here an idle P steals it.  Never returns.
 *
 * On the fast path m.curg stays @gp until the next G is chosen (one store
 * fewer; park_m does the same): meanwhile a dump shows @gp as this M's
 * curg though it is queued, and sysmon's preemptone may flag it, which
 * costs it at most one spurious preemption.  The slow path drops it
 * first, as Go's dropg.
 *
 * Called only by gosched_mcall, which puts the arguments where this body
 * keeps them: pp in rdi, gp in r8, mp in r9 (rsi, rdx and rcx carry
 * nothing).  GCC 12 takes those three for scratch (the ring's indexes,
 * rdtsc, the schedtick division): given gp and mp in rsi and rdx, the
 * fast path started by moving both.  A leaf (every call it makes is a
 * cold_call or a noreturn_call), it needs no stack alignment either.
 */
void gosched_m(struct p *pp, long rsi, long rdx, long rcx,
	       struct g *gp, struct m *mp) __noreturn;
__fastpath
void gosched_m(struct p *pp, long rsi, long rdx, long rcx,
	       struct g *gp, struct m *mp)
{
	struct g *next;

	casgstatus_own(gp, _Grunning, _Grunnable);
	gp->m = NULL;
	if (unlikely(mp->lockedg) || !local_turn(pp))
		goto slow;
	if (unlikely((next = runnext_take(pp)) != NULL)) {
		runqput(pp, gp, false);
		gosched_run(mp, pp, next, true);
	}
	if (likely(runqrotate(pp, gp, &next)))
		gosched_run(mp, pp, next, false);
slow:
	noreturn_call3(gosched_slow, pp, gp, mp);
}

/* gosched_m with the tracer on: its slow path, recorded. */
static __noreturn void gosched_m_trace(struct p *pp, long rsi, long rdx,
				       long rcx, struct g *gp, struct m *mp)
{
	traceev(TEV_GO_SCHED, (uint64_t)gp->goid, 0);
	casgstatus_own(gp, _Grunning, _Grunnable);
	gp->m = NULL;
	gosched_slow(pp, gp, mp);
}

/* park_m when unlockf said no: @gp goes on running at once. */
static __attribute__((noinline)) __noreturn void park_cancel(struct g *gp)
{
	traceev(TEV_GO_UNBLOCK, (uint64_t)gp->goid, 0);
	casgstatus(gp, _Gwaiting, _Grunnable);
	gp->waitreason = NULL;
	execute(gp, true);
}

/**
 * park_m - gopark, on g0 (gopark_mcall saved @gp, the curg of this M
 * @mp): @gp becomes _Gwaiting, then unlockf(gp, lock) runs, if given; if
 * it returns false gp goes on running at once (and nobody may have
 * readied it).  Otherwise anyone may ready gp from the moment unlockf
 * runs, and the next local G runs.  unlockf runs on g0, as Go's does: it
 * must not park or yield.  Never returns.
 */
void park_m(struct g *gp, void *lock, const char *reason,
	    bool (*unlockf)(struct g *, void *), struct m *mp) __noreturn;
static __always_inline __noreturn void
park_m_body(struct g *gp, void *lock, const char *reason,
	    bool (*unlockf)(struct g *, void *), struct m *mp, bool traced)
{
	gp->waitreason = reason;
	if (traced)	/* before unlockf lets anyone ready it */
		traceev(TEV_GO_BLOCK, (uint64_t)gp->goid, (uint64_t)reason);
	casgstatus_own(gp, _Grunning, _Gwaiting);
	gp->m = NULL;
	/*
	 * m.curg stays gp until the next G is chosen (dropg's other half):
	 * it is where gp is found again after the call, which keeps gp out
	 * of a callee-saved register and this function free of a frame.
	 * unlockf runs on g0, so it is not preempted asynchronously.
	 */
	if (unlockf && !unlockf(gp, lock))
		park_cancel(getg()->m->curg);
	mp = getg()->m;
	if (traced)
		schedule_dropg(mp);
	schedule_local(mp, mp->p);
}

__fastpath
void park_m(struct g *gp, void *lock, const char *reason,
	    bool (*unlockf)(struct g *, void *), struct m *mp)
{
	park_m_body(gp, lock, reason, unlockf, mp, false);
}

static __noreturn void park_m_trace(struct g *gp, void *lock,
				    const char *reason,
				    bool (*unlockf)(struct g *, void *),
				    struct m *mp)
{
	park_m_body(gp, lock, reason, unlockf, mp, true);
}

/**
 * parkunlock_m - goparkunlock, on g0 (goparkunlock_mcall saved @gp, the
 * curg of this M @mp): park_m with the unlockf that releases the leaf
 * lock @l, written out (no indirect call, and a leaf: the contended
 * unlock is a cold call).  Never returns.
 */
void parkunlock_m(struct g *gp, struct mutex *l, const char *reason,
		  long rcx, struct m *mp) __noreturn;
static __always_inline __noreturn void
parkunlock_m_body(struct g *gp, struct mutex *l, const char *reason,
		  struct m *mp, bool traced)
{
	gp->waitreason = reason;
	if (traced)	/* before the unlock lets anyone ready it */
		traceev(TEV_GO_BLOCK, (uint64_t)gp->goid, (uint64_t)reason);
	casgstatus_own(gp, _Grunning, _Gwaiting);
	gp->m = NULL;
	leafunlock(l);		/* from here gp may be readied */
	if (traced)
		schedule_dropg(mp);
	schedule_local(mp, mp->p);
}

__fastpath
void parkunlock_m(struct g *gp, struct mutex *l, const char *reason,
		  long rcx, struct m *mp)
{
	parkunlock_m_body(gp, l, reason, mp, false);
}

static __noreturn void parkunlock_m_trace(struct g *gp, struct mutex *l,
					  const char *reason, long rcx,
					  struct m *mp)
{
	parkunlock_m_body(gp, l, reason, mp, true);
}

static void wakep_sys(void *unused)
{
	(void)unused;
	wakep();
}

/* goready, out of line (goready_inline in proc.h). */
__fastpath
void goready(struct g *gp)
{
	goready_inline(gp);
}

/* Called from goexit (asm) when a G's function returns, or by Goexit. */
void goexit1(void)
{
	mcall_noresume(goexit0_entry);
	__builtin_unreachable();
}

/* goexit0 for a G locked to its M (LockOSThread): the M goes too. */
static __attribute__((noinline)) __noreturn void goexit0_locked(struct g *gp)
{
	struct m *mp = getg()->m;

	gp->lockedm = NULL;
	mp->lockedg = NULL;
	if (mp->lockedInt)
		throw("exited a goroutine internally locked to the OS thread");
	gfput(mp->p, gp);
	__atomic_fetch_sub(&sched.ngoroutines, 1, __ATOMIC_RELEASE);
	/*
	 * The G may have left its M's thread in an unusual state: do not
	 * reuse the M.  Return to the end of mstart, which releases the P
	 * and exits the thread.
	 */
	mp->lockedExt = 0;
	gogo(&mp->g0->sched);
}

/* gdestroy + schedule, on g0.  Never returns. */
static __always_inline __noreturn void goexit0_body(struct g *gp, bool traced)
{
	struct m *mp = gp->m;	/* this M: gp was its curg until now */
	struct p *pp = mp->p;

	if (traced)
		traceev(TEV_GO_END, (uint64_t)gp->goid, 0);
	casgstatus_own(gp, _Grunning, _Gdead);
	dropg(mp, gp);
	if (unlikely(gp->lockedm))
		goexit0_locked(gp);
	gfput(pp, gp);
	/* Counted out only once it is on a free list: NumGoroutine going
	 * down means the G is fully gone. */
	__atomic_fetch_sub(&sched.ngoroutines, 1, __ATOMIC_RELEASE);
	if (traced)
		schedule();
	schedule_local(mp, pp);
}

__fastpath
void goexit0(struct g *gp)
{
	goexit0_body(gp, false);
}

static __noreturn void goexit0_trace(struct g *gp)
{
	goexit0_body(gp, true);
}

/*
 * The scheduling points' g0 halves, as asm_amd64.S and newproc reach
 * them: one indirect call costs what the direct one did, and lets the
 * tracer swap in forms that record and take the slow paths (the fast
 * ones record nothing).  Written once, in schedinit, before any G runs.
 */
void (*gosched_m_entry)(struct p *, long, long, long, struct g *,
			struct m *) = gosched_m;
void (*park_m_entry)(struct g *, void *, const char *,
		     bool (*)(struct g *, void *), struct m *) = park_m;
void (*parkunlock_m_entry)(struct g *, struct mutex *, const char *, long,
			   struct m *) = parkunlock_m;
void (*goexit0_entry)(struct g *) = goexit0;
void (*newproc1_entry)(uint64_t, uint64_t, uint64_t) = newproc1;
uint32_t ready_flags;

/* sched_entries_traced - the tracer's forms (exectrace_init). */
void sched_entries_traced(void)
{
	gosched_m_entry = gosched_m_trace;
	park_m_entry = park_m_trace;
	parkunlock_m_entry = parkunlock_m_trace;
	goexit0_entry = goexit0_trace;
	newproc1_entry = newproc1_trace;
	__atomic_fetch_or(&ready_flags, READY_TRACE, __ATOMIC_RELAXED);
}

/*
 * ready_cold - goready's slow half (ready_tail): record the unblock, then
 * maybe wake a P.  The readied G is the one goready just put in this P's
 * runnext: passing it would keep it in a register through the fast path
 * (one more instruction per ready).  A thief may have taken it since,
 * which leaves NULL there (only the owner puts a G in runnext): then the
 * record says goid 0, and tools/rt0trace.py gives it to the G the thief
 * starts.
 */
__cold_regs void ready_cold(void)
{
	if (trace_on) {
		struct g *gp = __atomic_load_n(&getg()->m->p->runnext,
					       __ATOMIC_RELAXED);
		traceev(TEV_GO_UNBLOCK, gp ? (uint64_t)gp->goid : 0,
			(uint64_t)trace_goid());
	}
	if (wakep_wanted())
		systemstack(wakep_sys, NULL);
}

/* mcall's fn returned, or mcall was called on g0: runtime bugs. */
void mcall_returned(void) __noreturn;
void mcall_returned(void)
{
	throw("mcall: function returned");
}

void mcall_on_g0(void) __noreturn;
void mcall_on_g0(void)
{
	throw("mcall called on g0");
}

/* gosched_mcall, gopark_mcall: the caller is not the M's curg. */
void mcall_not_curg(void) __noreturn;
void mcall_not_curg(void)
{
	throw("go_sched or go_park called on g0, not on a goroutine");
}

/* ---- Ms ---- */

int64_t m_pages;

/* Free the g0 stacks of exited Ms whose threads left them (allocm). */
void freem_reap(void)
{
	if (!__atomic_load_n(&sched.freem, __ATOMIC_ACQUIRE))
		return;
	lock(&sched.lock);
	struct m *keep = NULL, *done = NULL;
	for (struct m *mp = sched.freem, *next; mp; mp = next) {
		next = mp->freelink;
		if (__atomic_load_n(&mp->freeWait, __ATOMIC_ACQUIRE) ==
		    freeMWait) {
			mp->freelink = keep;
			keep = mp;
		} else {
			mp->freelink = done;
			done = mp;
		}
	}
	sched.freem = keep;
	unlock(&sched.lock);
	for (struct m *mp = done, *next; mp; mp = next) {
		next = mp->freelink;
		stackfree(&mp->g0->stack);
		page_free(mp, 1);	/* m, g0 and TLS share one page */
		__atomic_fetch_sub(&m_pages, 1, __ATOMIC_RELAXED);
	}
}

/**
 * checkmcount - the thread limit (Go's; go_set_max_threads changes it):
 * more Ms than sched.maxmcount is a fatal error.  sched.lock held.
 */
void checkmcount(void)
{
	assert_lock_held(&sched.lock);
	if (mcount() > sched.maxmcount) {
		kprintf("runtime: program exceeds %d-thread limit\n",
			sched.maxmcount);
		throw("thread exhaustion");
	}
}

void mcommoninit(struct m *mp, int64_t id)
{
	lock(&sched.lock);
	mp->id = id >= 0 ? id : sched.mnext++;
	checkmcount();
	mp->alllink = allm;
	__atomic_store_n(&allm, mp, __ATOMIC_RELEASE);
	unlock(&sched.lock);
}

static struct m *allocm(void (*fn)(void), int64_t id)
{
	struct m *mp0 = acquirem();

	freem_reap();
	/* One page: struct m, then its g0, then its TLS block. */
	uint64_t g0off = ALIGN_UP(sizeof(struct m), 64);
	uint64_t tlsoff = ALIGN_UP(g0off + sizeof(struct g), 64);
	if (tlsoff + tls_size() > PAGE_SZ)
		throw("allocm: M, g0 and TLS do not fit in a page");
	struct m *mp = page_alloc_zeroed(1);
	if (!mp)
		throw("allocm: out of memory");
	__atomic_fetch_add(&m_pages, 1, __ATOMIC_RELAXED);
	mp->mstartfn = fn;
	mp->g0 = (struct g *)((uint8_t *)mp + g0off);
	if (!stackalloc(&mp->g0->stack, G0_STACK_SIZE))
		throw("allocm: out of memory for a g0 stack");
	tls_setup(mp, (uint8_t *)mp + tlsoff);
	mp->g0->m = mp;
	mp->g0->goid = -1;
	__atomic_store_n(&mp->g0->atomicstatus, _Grunning, __ATOMIC_RELAXED);
	mcommoninit(mp, id);
	releasem(mp0);
	return mp;
}

/**
 * newm - a new M (kernel thread) that runs fn at its start, then
 * schedules with P @pp.  @id: reserved by the caller, or -1.
 */
void newm(void (*fn)(void), struct p *pp, int64_t id)
{
	struct m *mp = allocm(fn, id);
	char name[24];

	traceev(TEV_M_CREATE, (uint64_t)mp->id, 0);
	mp->nextp = pp;
	snprintf(name, sizeof(name), "m%ld", mp->id);
	/*
	 * Hands off: once created, the thread may run at once on another
	 * CPU -- and its M may even exit and be freed by someone else's
	 * allocm -- before kthread_create returns here.  So this thread
	 * must not touch *mp again; the new thread records mp->thread
	 * itself (mstart_thread), as Go's new thread sets its own procid.
	 */
	if (!kthread_create(name, mstart_thread, mp, (void *)mp->g0->stack.lo,
			    mp->g0->stack.hi - mp->g0->stack.lo, -1))
		throw("newm: out of memory for a kernel thread");
}

/* After mstart set up g0's resume point: run, then schedule. */
void mstart1(void)
{
	struct g *gp = getg();

	if (gp != gp->m->g0)
		throw("mstart1: not on g0");
	if (gp->m->mstartfn)
		gp->m->mstartfn();
	if (gp->m != &m0) {
		acquirep(gp->m->nextp);
		gp->m->nextp = NULL;
	}
	schedule();
}

/**
 * mexit - the M's G exited while locked to it: take the M down.  It
 * leaves allm, goes on sched.freem with freeWait set, hands off its P,
 * and its kernel thread exits; the kernel clears freeWait once the thread
 * is off the g0 stack, and a later allocm frees it.  m0 parks instead.
 * On g0 (mstart's landing); never returns.
 */
static void mexit(struct m *mp)
{
	assert_on_g0();
	if (mp == &m0) {
		/* Like Go's main thread: wedge it rather than exit. */
		handoffp(releasep());
		lock(&sched.lock);
		sched.nmfreed++;
		checkdead();
		unlock(&sched.lock);
		notesleep(&mp->park);
		throw("locked m0 woke up");
	}
	lock(&sched.lock);
	struct m **pp = &allm;
	while (*pp && *pp != mp)
		pp = &(*pp)->alllink;
	if (!*pp)
		throw("mexit: M not found in allm");
	*pp = mp->alllink;
	__atomic_store_n(&mp->freeWait, freeMWait, __ATOMIC_RELEASE);
	mp->freelink = sched.freem;
	sched.freem = mp;
	unlock(&sched.lock);

	handoffp(releasep());
	traceev(TEV_M_EXIT, 0, 0);
	/* Taking sched.lock after releasep and before the thread exits is
	 * what lets preemptone use an M it read from pp->m under the lock. */
	lock(&sched.lock);
	sched.nmfreed++;
	checkdead();
	unlock(&sched.lock);
	kthread_exit(&mp->freeWait);
}

void mexit_g0(void) __noreturn;
void mexit_g0(void)
{
	mexit(getg()->m);
	__builtin_unreachable();
}

/* ---- deadlock detection (Go's checkdead), sched.lock held ---- */

struct deadcount {
	int waiting;
	struct g *bad;
};

static void count_g(struct g *gp, void *arg)
{
	struct deadcount *d = arg;
	uint32_t s = readgstatus(gp);

	if (gp->goid <= 0)
		return;		/* g0s */
	if (s == _Gwaiting)
		d->waiting++;
	else if (s == _Grunnable || s == _Grunning || s == _Gsyscall)
		d->bad = gp;
}

/**
 * checkdead - throw if no M is running and no G can ever run again.
 * sched.lock held.
 */
void checkdead(void)
{
	assert_lock_held(&sched.lock);
	int64_t run = mcount() - sched.nmidle - sched.nmidlelocked - sched.nmsys;

	if (run > 0 || !mainStarted)
		return;
	if (run < 0)
		throwf("checkdead: inconsistent counts: mcount=%ld nmidle=%d "
		       "nmidlelocked=%d nmsys=%d", mcount(), sched.nmidle,
		       sched.nmidlelocked, sched.nmsys);
	struct deadcount d = { 0, NULL };
	forEachG(count_g, &d);
	if (d.bad)
		throwf("checkdead: runnable goroutine %ld (status %u) but no M "
		       "running", d.bad->goid, readgstatus(d.bad));
	if (d.waiting == 0)
		throw("no goroutines (main called go_exit) - deadlock!");
	for (int32_t i = 0; i < gomaxprocs; i++)
		if (allp[i]->ntimers)
			return;
	throw("all goroutines are asleep - deadlock!");
}

/* ---- Ps ---- */

/* A new P, id @id, _Pgcstop (procresize makes it idle or gives it). */
static struct p *p_make(int32_t id)
{
	BUILD_ASSERT(sizeof(struct p) <= 4096);
	struct p *pp = page_alloc_zeroed(1);

	if (!pp)
		throw("procresize: out of memory for a P");
	pp->id = id;
	pp->status = _Pgcstop;
	lock_init(&pp->timerslock, LOCKRANK_TIMERS);
	pp->cheaprand = rdtsc() * 0x9e3779b97f4a7c15ull + (uint64_t)id;
	/* The timer heap's first page now, not at the first sleep. */
	pp->timers = page_alloc(1);
	pp->timerscap = PAGE_SZ / sizeof(struct rtimer *);
	if (!pp->timers)
		throw("procresize: out of memory for a P's timers");
	return pp;
}

/*
 * p_destroy - retire @pp (Go's destroy): its runnable Gs go to the head
 * of the global queue, in order, its timers to this M's P, its free Gs
 * to the global free list; then it is _Pdead.  World stopped, sched.lock
 * held, this M holds another P.
 */
static void p_destroy(struct p *pp)
{
	struct p *mine = getg()->m->p;
	struct g *gs[RUNQ_LEN + 1];
	int n = 0;
	bool inherit;

	assert_lock_held(&sched.lock);
	assert_has_p();
	assert_world_stopped();
	for (struct g *gp; (gp = runqget(pp, &inherit)) != NULL;)
		gs[n++] = gp;		/* runnext first, then the ring */
	while (n > 0)
		globrunqputhead(gs[--n]);
	timers_take(mine, pp);
	lock(&sched.gflock);
	while (pp->gfree) {
		struct g *x = pp->gfree;
		pp->gfree = x->schedlink;
		pp->gfreecnt--;
		x->schedlink = sched.gfree_stack;
		sched.gfree_stack = x;
		sched.ngfree++;
	}
	unlock(&sched.gflock);
	pp->m = NULL;
	pp->status = _Pdead;
}

/**
 * procresize - make the Ps allp[0..nprocs): at schedinit (the world not
 * yet running) and from startTheWorld (stopped; Go's procresize).  New
 * Ps are made, or old ones revived; Ps beyond nprocs are retired.  The
 * calling M keeps its P if it survives, else takes P0.  Of the other Ps,
 * those with nothing queued go idle; the rest are returned, linked on
 * ->link, each with an idle M in ->m (or none: the caller starts one).
 * sched.lock held.
 */
struct p *procresize(int32_t nprocs)
{
	int32_t old = gomaxprocs;
	struct m *mp = getg()->m;
	struct p *runnable = NULL;

	assert_lock_held(&sched.lock);
	if (nprocs < 1 || nprocs > MAX_PROCS)
		throwf("procresize: %d Ps (1..%d)", nprocs, MAX_PROCS);
	if (trace_on)
		exectrace_procs(nprocs);
	if (nprocs > 1)
		__atomic_fetch_or(&ready_flags, READY_PROCS, __ATOMIC_RELAXED);
	else
		__atomic_fetch_and(&ready_flags, ~READY_PROCS, __ATOMIC_RELAXED);
	for (int32_t i = old; i < nprocs; i++) {
		struct p *pp = allp[i];
		if (!pp) {
			pp = p_make(i);
			__atomic_store_n(&allp[i], pp, __ATOMIC_RELEASE);
		} else {
			/* Revived: sysmon's view starts now, rather than
			 * preempt the first G for the P's old ticks.  (sysmon
			 * looks only below gomaxprocs: not here yet.) */
			int64_t now = (int64_t)nanotime();
			pp->sysmontick_schedtick = pp->schedtick;
			pp->sysmontick_when = now;
			pp->sysmontick_syscalltick = pp->syscalltick;
			pp->sysmontick_syscallwhen = now;
		}
		pp->status = _Pgcstop;
	}
	/* Our own P: kept if it survives, else P0 (retired ones' work goes
	 * to it). */
	if (mp->p && mp->p->id < nprocs) {
		mp->p->status = _Prunning;
	} else {
		if (mp->p) {
			mp->p->m = NULL;
			mp->p = NULL;
		}
		allp[0]->m = NULL;
		allp[0]->status = _Pidle;
		acquirep(allp[0]);
	}
	for (int32_t i = nprocs; i < old; i++)
		p_destroy(allp[i]);
	/* Readers without STW see the new Ps before the count that covers
	 * them.  One still reading the old, larger count may look at a
	 * retired P: it is _Pdead (never acquired, skipped by retake and by
	 * every CAS, which needs _Psyscall), its queue and timers gone, and
	 * its struct kept (Ps are never freed). */
	__atomic_store_n(&gomaxprocs, nprocs, __ATOMIC_RELEASE);
	randomOrder_reset(&stealOrder, (uint32_t)nprocs);
	for (int32_t i = nprocs - 1; i >= 0; i--) {
		struct p *pp = allp[i];
		if (pp == mp->p)
			continue;
		pp->status = _Pidle;
		if (runqempty(pp)) {
			pidleput(pp);
		} else {
			pp->m = mget();
			pp->link = runnable;
			runnable = pp;
		}
	}
	return runnable;
}
