/*
 * sched/runtime2.h - the runtime's data: g, m, p, the global sched, and
 * the states each may be in (Go's runtime2.go, in C).
 *
 * Access rules.  Beside each field: who may touch it and how.
 *   "owner P"    only the M that holds the P (p->m) touches it
 *   "own M"      only code running on that M (any G or g0 of it)
 *   "sched.lock" under the global scheduler lock
 *   "atomic"     any thread, with the atomics named
 *   "constant"   set before the object is published, then read-only
 */
#ifndef RT0_RUNTIME2_H
#define RT0_RUNTIME2_H

#include "kernel/lib.h"
#include "kernel/lockrank.h"
#include "sched/runq.h"
#include "arch/x86_64/x86.h"

struct g;
struct m;
struct p;
struct kthread;

/*
 * G statuses.  Every change goes through casgstatus() (proc.c), which
 * rejects transitions not listed in its table.
 *
 * _Gidle     just allocated, not yet initialized.  Owned by its allocator.
 * _Grunnable on a run queue (a P's runq/runnext or the global runq) and
 *            not executing.  Its stack is owned by nobody; its gobuf holds
 *            where it resumes.  Whoever dequeues it may run it.
 * _Grunning  executing user code on gp->m, which owns the stack and holds
 *            a P.  On no run queue.  gp->m->curg == gp.
 * _Gsyscall  executing a blocking kernel call on gp->m; it has no P (or
 *            its P is in _Psyscall and may be retaken).  The M owns the
 *            stack.  On no run queue.
 * _Gwaiting  blocked in the runtime (parked): on no run queue, recorded
 *            somewhere that will ready it (a sync object, a timer, a
 *            locked M's wait).  Nobody owns the stack until it is readied.
 * _Gdead     unused: exited or freshly created.  On a free list (P's
 *            gFree or sched.gFree) or being initialized.  It may still own
 *            a stack (kept for reuse).
 * _Gpreempted Go's state for a G suspended by preemption, kept for its
 *            number.  Unused: rt0 has no collector to scan a suspended
 *            G's stack, and an asynchronously preempted G goes straight
 *            from _Grunning to _Grunnable on the global queue
 *            (gopreempt_m), its full register state on its own stack;
 *            casgstatus refuses any move into or out of it.
 */
enum {
	_Gidle = 0,
	_Grunnable = 1,
	_Grunning = 2,
	_Gsyscall = 3,
	_Gwaiting = 4,
	_Gdead = 6,
	_Gpreempted = 9,
};

/*
 * P statuses.
 *
 * _Pidle    not running user code; on sched.pidle (sched.lock) with an
 *           empty run queue (its timers may still be pending).
 * _Prunning owned by an M (p->m) that is running user code or the
 *           scheduler.  Only that M changes the status.
 * _Psyscall not running user code: its M is in a system call.  sysmon (or
 *           the returning M) may take it with a CAS to _Pidle.
 * _Pgcstop  stopped for a stop-the-world (Go's name; rt0 has no
 *           collector): owned by the stopping M, on no list.  Its run
 *           queue and timers stay; startTheWorld makes it idle or gives
 *           it an M.
 * _Pdead    no longer used (go_set_gomaxprocs shrank the Ps): its run
 *           queue, free Gs and timers went to others; the struct is kept
 *           (nothing is freed that a racy reader of allp may still hold)
 *           and used again if the Ps grow.
 */
enum {
	_Pidle = 0,
	_Prunning = 1,
	_Psyscall = 2,
	_Pgcstop = 3,
	_Pdead = 4,
};

/*
 * Where a stopped G resumes.  Offsets are used by asm_amd64.S and checked
 * in asmoffsets.c.  A G switched out by mcall has its callee-saved
 * registers pushed on its own stack at sp and resumes at mcall_resume; one
 * switched out at a scheduling point (gosched_mcall, gopark_mcall: Go's
 * register convention) resumes at its caller's return address; a
 * new G resumes at its function with ctxt (the argument) in RDI and
 * goexit's address as its return address.
 */
struct gobuf {
	uint64_t sp;
	uint64_t pc;
	struct g *g;
	uint64_t ctxt;
	uint64_t bp;
};

struct stack {
	uint64_t lo;		/* lowest usable byte; the guard page is below */
	uint64_t hi;		/* one past the highest byte */
};

struct g {
	struct stack stack;	/* own M while running; constant otherwise */
	struct gobuf sched;	/* written by the M switching it out */
	uint64_t syscallsp;	/* in a syscall: the frame (rbp) of the
				 * function that entered it; own M */
	struct m *m;		/* the M running it, or NULL; own M */
	uint32_t atomicstatus;	/* _G*; atomic, only via casgstatus(_own) */
	int32_t preempt;	/* preemption requested; atomic; cleared
				 * when an M starts running it (execute) */
	int64_t goid;		/* constant while alive */
	int64_t scavenged_goid;	/* goid when its stack was last scavenged
				 * (stack.c): the free list's owner */
	struct g *schedlink;	/* link on a queue or free list; that
				 * queue's owner */
	const char *waitreason;	/* why it is _Gwaiting, NULL in any other
				 * status; own M, or the readier */
	struct m *lockedm;	/* M it is locked to (LockOSThread); own M */
	void (*startfn)(void *);/* what it runs; constant while alive */
	void *startarg;
	uint64_t gopc;		/* who created it; constant while alive */
	struct g *alllink;	/* next in allgs (creation order); written
				 * once under allglock, read without it */
	uint32_t sig;		/* for tests (Go's proc_test uses it) */
	bool asyncsafe;		/* stopped at an async safe point; own M */
	struct rtimer *timer;	/* its sleep timer, made on first use */

	/* Channels and select (chan.c, select.c). */
	struct sudog *param;	/* a select's winning sudog: written by the
				 * waker that claimed it (waitq_dequeue),
				 * read by the G once readied */
	uint32_t selectDone;	/* a waker claimed the select this G waits
				 * in: CAS 0 -> 1 under that channel's lock;
				 * reset by the G under all its channels'
				 * locks */
	struct sudog *waiting;	/* the sudogs of the select it parks in, in
				 * lock order; own M (selparkcommit reads it
				 * on that M's g0) */
	uint64_t syscallpc;	/* in a syscall: where in the function of
				 * syscallsp (entersyscall's return address);
				 * tracebacks start there.  own M */
};

/*
 * A sudog is a G waiting on a channel or a semaphore (Go's sudog): one G
 * may wait on several channels at once (select), and many Gs on one
 * object.  rt0's stacks never move, so a sudog lives on its G's own stack,
 * in the frame of the call that waits: nothing is allocated for a wait.
 * Whoever dequeues a sudog (under the object's lock) owns it until it
 * readies the G, and must not touch it after goready: from then on the G
 * may return and reuse that stack.
 */
struct sudog {
	struct g *g;		/* the waiting G; constant while queued */
	struct sudog *next;	/* waitq: next waiter; sema treap: right */
	struct sudog *prev;	/* waitq: previous waiter; sema treap: left */
	void *elem;		/* channel: the value's address (the
				 * sender's source or the receiver's
				 * destination); sema: the address waited on */
	struct hchan *c;	/* channel waited on; select's parkcommit */
	struct sudog *waitlink;	/* g.waiting list (select), or the other
				 * waiters on a sema address */
	struct sudog *waittail;	/* sema: last of the waitlink list */
	struct sudog *parent;	/* sema treap */
	uint32_t ticket;	/* sema: treap priority while queued, then 1
				 * if the count was handed off; notify list:
				 * the G's ticket */
	bool isSelect;		/* g waits in a select: the first waker to
				 * CAS g.selectDone wins */
	bool success;		/* channel: woken by a value (true) or by a
				 * close (false) */
};

/* A one-shot sleep/wakeup event for an M (Go's note), on kwait/kwake. */
struct note {
	uint32_t key;		/* 0: not signalled, 1: signalled; atomic */
};

/*
 * A runtime lock (Go's mutex): spins briefly, then sleeps in the kernel.
 * Set its rank with lock_init or MUTEX_INIT (sched/lock.h) before first
 * use; a zeroed one ranks as a leaf (kernel/lockrank.h).
 */
struct mutex {
	uint32_t key;		/* 0 unlocked, 1 locked, 2 locked with sleepers */
	uint32_t rank;		/* enum lockrank; constant after init */
#ifdef RT0_DEBUG
	struct m *owner;	/* the M holding it, or NULL; written by the
				 * holder (debug builds only) */
#endif
};
#define MUTEX_INIT(r) { .key = 0, .rank = (r) }

/* m->freeWait values (Go's freeMStack etc.). */
enum {
	freeMStack = 0,		/* M is done: free its g0 stack */
	freeMWait = 1,		/* M is still on its g0 stack */
};

struct m {
	struct g *g0;		/* scheduling stack; constant */
	struct g *curg;		/* running user G; own M (sysmon reads it
				 * under sched.lock: preemptone) */
	struct p *p;		/* attached P, or NULL; own M */
	struct p *nextp;	/* P handed to it while parked; set by the
				 * waker before notewakeup, read after */
	struct p *oldp;		/* P it held before a syscall; own M */
	int64_t id;		/* constant */
	bool spinning;		/* looking for work (sched.nmspinning
				 * counts it); own M, or set by startm
				 * before it wakes the M */
	bool blocked;		/* parked on a note; own M */
	struct note park;	/* park/unpark; atomic */
	struct m *alllink;	/* on allm; sched.lock to change, read
				 * without a lock by schedtrace */
	struct m *schedlink;	/* on sched.midle; sched.lock */
	struct m *freelink;	/* on sched.freem; sched.lock */
	uint32_t freeWait;	/* freeMWait until its thread left its g0
				 * stack; cleared by the kernel (atomic) */
	struct g *lockedg;	/* G locked to it; own M */
	uint32_t lockedExt;	/* LockOSThread nesting; own M */
	uint32_t lockedInt;	/* runtime-internal lockOSThread; own M */
	int32_t locks;		/* runtime locks held: no async preemption;
				 * own M */
	int32_t dying;		/* throwing or exiting; own M */
	int32_t throwing;	/* in throw; own M */
	const char *preemptoff;	/* if set, never preempt (reason) */
	int32_t mallocing;	/* in an allocator; own M */
	void (*mstartfn)(void);	/* run at mstart before schedule; constant */
	struct kthread *thread;	/* the kernel thread under it: set by that
				 * thread at its start, constant after */
	uint64_t tls;		/* TLS thread pointer (FS base); constant */
	void *tls_block;	/* its allocation; constant */
	uint64_t syscalltick;	/* own M */
	bool sysmon;		/* this M runs sysmon, without a P; constant */
	uint64_t fastrand;	/* steal order seed; own M */
#ifdef RT0_DEBUG
	struct lockrank_held locks_held; /* runtime locks held; own M */
#endif
};

#define RUNQ_SIZE 256

struct p {
	int32_t id;		/* constant */
	uint32_t status;	/* _P*; owner M, or CAS from _Psyscall */
	struct p *link;		/* on sched.pidle; sched.lock */
	uint32_t schedtick;	/* incremented on every scheduler call; owner */
	uint32_t syscalltick;	/* incremented on every syscall; owner */
	struct m *m;		/* back-link to its M (NULL if idle); owner */

	/* The run queue: lock-free ring, see runq.c.  runqhead: atomic
	 * (consumers CAS it), runqtail: written by the owner only,
	 * runnext: owner CASes in, any thief CASes out. */
	RUNQ_FIELDS

	/* Free Gs (status _Gdead), owner P only. */
	struct g *gfree;
	int32_t gfreecnt;

	/* goids handed out in batches: [goidcache, goidcacheend). owner. */
	int64_t goidcache;
	int64_t goidcacheend;

	uint32_t sysmontick_schedtick;	/* sysmon's view; sysmon only */
	int64_t sysmontick_when;
	uint32_t sysmontick_syscalltick;
	int64_t sysmontick_syscallwhen;

	/* Runtime timers (timers.c): the heap and its lock. */
	struct mutex timerslock;
	struct rtimer **timers;	/* 4-ary min-heap by when; timerslock */
	uint32_t ntimers;	/* timerslock; read racily */
	uint32_t timerscap;	/* timerslock */
	int64_t timer0when;	/* earliest when, 0 if none; atomic */
	uint64_t timer0tsc;	/* timer0when as a TSC value (0 if none):
				 * the fast paths' due check; atomic */

	uint64_t cheaprand;	/* select's poll order, treap priorities
				 * (wyrand state, cheaprand in proc.h); owner */
} __attribute__((aligned(64)));

/* runqput's rare spill keeps every register (a cold call, see proc.h):
 * the scheduler's fast paths inline runqput and need no frame for it. */
#define RUNQPUT_FULL(pp, gp)						\
	__asm__ volatile("call runqput_full_cold"			\
			 :: "D"(pp), "S"(gp) : "memory", "cc")
#define RUNQ_CAS_U32(p, old, new) cas32(p, old, new)
#define RUNQ_XCHG_G(p, v) ((struct g *)xchg64((uint64_t *)(p), (uint64_t)(v)))
#define RUNQ_NONZERO_G(p) nonzero64((const uint64_t *)(p))
#define RUNQ_SLOT_LOAD(p) (*(struct g *volatile *)(p))
#define RUNQ_SLOT_STORE(p, v) (*(struct g *volatile *)(p) = (v))
#include "sched/runq_inline.h"

/* The global scheduler (Go's schedt). */
struct schedt {
	uint64_t goidgen;	/* atomic: next goid batch */
	int64_t lastpoll;	/* unused without a netpoller; kept 0 */

	struct mutex lock;

	struct m *midle;	/* idle Ms; sched.lock */
	int32_t nmidle;		/* sched.lock */
	int32_t nmidlelocked;	/* locked Ms waiting for their G; sched.lock */
	int64_t mnext;		/* Ms created, next id; sched.lock */
	int32_t maxmcount;	/* sched.lock */
	int32_t nmsys;		/* system Ms (sysmon) not counted as
				 * running; sched.lock */
	int64_t nmfreed;	/* Ms freed; sched.lock */

	struct p *pidle;	/* idle Ps; sched.lock */
	uint32_t npidle;	/* atomic (written under sched.lock) */
	int32_t nmspinning;	/* spinning Ms; atomic */
	uint32_t needspinning;	/* a spinning M found work without a P;
				 * atomic */

	/* Global runnable queue. sched.lock. */
	struct g *runqhead;
	struct g *runqtail;
	int32_t runqsize;

	/* Global cache of dead Gs. gflock. */
	struct mutex gflock;
	struct g *gfree_stack;	/* with stacks */
	struct g *gfree_nostack;
	int32_t ngfree;

	struct m *freem;	/* exited Ms waiting to be freed; sched.lock */

	uint32_t sysmonwait;	/* sysmon sleeping on sysmonnote; atomic */
	struct note sysmonnote;

	int32_t ngsys;		/* system goroutines; atomic */
	int32_t ngoroutines;	/* live user + system Gs; atomic */

	/*
	 * Stopping the world (stw.c).  gcwaiting (Go's name): set while a
	 * stop is in progress or the world is stopped; every M stops its P
	 * at its next scheduling point.  stopwait: Ps still to stop
	 * (sched.lock); the stopping M sleeps on stopnote until it is 0.
	 */
	uint32_t gcwaiting;	/* atomic */
	int32_t stopwait;	/* sched.lock */
	struct note stopnote;
	uint64_t stwcount;	/* stops so far; sched.lock */
	int64_t stwlast_ns;	/* the last stop's latency (until every P
				 * stopped); sched.lock */
	int64_t stwtotal_ns;	/* time the world spent stopped; sched.lock */

	/*
	 * The timer-waiting M (Go's M blocked in netpoll): at most one M
	 * with nothing to do sleeps on twnote until the earliest timer;
	 * a new earlier timer wakes it.  twaiting: 1 while it sleeps;
	 * pollUntil: its deadline.  Both atomic.
	 */
	uint32_t twaiting;
	int64_t pollUntil;
	struct note twnote;
};

extern struct schedt sched;
extern struct m m0;
extern struct g g0;
/*
 * The Ps: allp[0..gomaxprocs).  gomaxprocs changes only with the world
 * stopped (procresize); a P, once made, is never freed, and a new one is
 * stored in allp before gomaxprocs grows to cover it, so code that reads
 * them without the world stopped (sysmon, an M without a P, schedtrace)
 * sees at worst a P that is being retired (_Pdead, nothing queued).
 */
extern struct p *allp[];	/* MAX_PROCS slots */
extern int32_t gomaxprocs;	/* read atomically outside STW */
extern struct m *allm;		/* sched.lock to add/remove */
extern int32_t ncpu_rt;		/* osinit's CPU count */
extern bool mainStarted;

/* The G running on this M, from the M's TLS (%fs). */
extern _Thread_local struct g *g_tls;
static inline struct g *getg(void)
{
	return g_tls;
}

#define GOID_CACHE_BATCH 16
#define GFREE_LOCAL_MAX 64
#define GFREE_LOCAL_KEEP 32

#endif
