/*
 * sched/proc.h - the scheduler's internal interface (proc.c and friends).
 * Names are Go's; see proc.go for the originals.
 */
#ifndef RT0_PROC_H
#define RT0_PROC_H

#include "sched/runtime2.h"
#include "include/rt0.h"
#include "kernel/kthread.h"

#define MAX_PROCS 256
BUILD_ASSERT(MAX_PROCS <= RANDOM_ORDER_MAX);	/* the steal order's room */
#define G0_STACK_SIZE (32 * 1024)	/* an M's scheduling stack */
/*
 * What an M costs, in pages: one for struct m, its g0 and its TLS block;
 * the g0 stack and its guard page; the kernel thread's struct.
 */
#define M_PAGES (1 + G0_STACK_SIZE / 4096 + 1 + 1)

/* asm_amd64.S */
void gogo(struct gobuf *buf) __noreturn;
void mcall(void (*fn)(struct g *));
void mcall_noresume(void (*fn)(struct g *)) __noreturn;	/* goexit1 */
void gosched_mcall(void);	/* Go's register convention: go_sched */
void gopark_mcall(void);	/* and go_park in include/rt0.h */
void systemstack(void (*fn)(void *), void *arg);
void systemstack3(uint64_t a, uint64_t b, uint64_t c,
		  void (*fn)(uint64_t, uint64_t, uint64_t));	/* fn last */
void goexit(void);
void mstart(void) __noreturn;

/*
 * Cold calls from fast paths.  A __cold_regs function keeps every
 * register it touches (GCC's no_caller_saved_registers) and cold_call()
 * calls it from inline asm, so the compiler sees nothing clobbered: the
 * fast path keeps its values in scratch registers and needs no frame of
 * its own for the rare case.  No arguments; cold_call_ret takes the
 * result from rax.  Runtime text only (-mgeneral-regs-only: no vector
 * state to keep); the callee realigns the stack.
 */
#define __cold_regs __attribute__((no_caller_saved_registers, noinline, \
				   used, force_align_arg_pointer))
#define cold_call(fn) __asm__ volatile("call " #fn ::: "memory", "cc")
#define cold_call_ret(fn, out) \
	__asm__ volatile("call " #fn : "=a"(out) :: "memory", "cc")

/*
 * A fast path's ways out: noreturn_call*(fn, args) calls a __cold_exit
 * function (noreturn, realigns the stack) from inline asm, arguments in
 * rdi, rsi, rdx, rcx.  GCC sees no call, so a fast path whose calls are
 * all cold_call or noreturn_call is a leaf: no frame, no stack alignment
 * for the rare case.  The return address is still pushed, so backtraces
 * show the caller.  The dead "if (0) fn(...)" makes the compiler check
 * the arguments against fn's prototype (the asm passes each as it is, so
 * it must already have its parameter's type).
 */
#define __cold_exit __attribute__((noinline, noreturn, used, cold, \
				   force_align_arg_pointer))
#define noreturn_call1(fn, a) do {					\
	if (0)								\
		fn(a);							\
	__asm__ volatile("call %P0" :: "i"(fn), "D"(a) : "memory");	\
	__builtin_unreachable();					\
} while (0)
#define noreturn_call3(fn, a, b, c) do {				\
	if (0)								\
		fn(a, b, c);						\
	__asm__ volatile("call %P0" :: "i"(fn), "D"(a), "S"(b), "d"(c)	\
			 : "memory");					\
	__builtin_unreachable();					\
} while (0)
#define noreturn_call4(fn, a, b, c, d) do {				\
	if (0)								\
		fn(a, b, c, d);						\
	__asm__ volatile("call %P0" :: "i"(fn), "D"(a), "S"(b), "d"(c),	\
			 "c"(d) : "memory");				\
	__builtin_unreachable();					\
} while (0)

/*
 * __fastpath: a hot function that keeps no frame (push rbp; mov rsp,rbp
 * is a sixth of a tiny function).  A backtrace from inside a call it
 * makes skips it; the g0 fast paths (gosched_m, park_m, goexit0) start
 * with rbp 0 anyway (MCALL_SWITCH, goexit), where g0's chain ends.
 */
#define __fastpath __attribute__((optimize("omit-frame-pointer")))

/*
 * The API's precondition checks (api.c has the way out).  A kernel
 * thread that is not an M has no G and no TLS: it gets a clear panic
 * rather than a fault on a bogus FS base.
 *
 * must_be_goroutine - on an M's thread, running its curg (not g0).
 * must_be_m - on an M's thread, on a G or g0 (the M holds a P whenever
 * it runs either; a g0 without one, sysmon or an idle M, faults on the
 * NULL P instead of this panic).
 */
void called_outside(const char *what) __cold_exit;

static __always_inline void must_be_goroutine(const char *what)
{
	struct m *mp = kthread_current()->user;

	if (unlikely(!mp || getg() != mp->curg))
		noreturn_call1(called_outside, what);
}

static __always_inline void must_be_m(const char *what)
{
	if (unlikely(!kthread_current()->user))
		noreturn_call1(called_outside, what);
}

/*
 * Debug-build preconditions (make DEBUG=1; nothing in release builds):
 * assert_on_g0 - running on this M's g0 (the system stack);
 * assert_on_curg - running a goroutine, not g0;
 * assert_has_p - this M holds a P;
 * assert_world_stopped - the world is stopped (or stopping: gcwaiting).
 * Each throws naming the function whose precondition failed.
 */
#ifdef RT0_DEBUG
void precondition_failed(const char *func, const char *what) __noreturn;
#define assert_on_g0()							\
	do {								\
		if (getg() != getg()->m->g0)				\
			precondition_failed(__func__, "not on g0");	\
	} while (0)
#define assert_on_curg()						\
	do {								\
		if (getg() == getg()->m->g0)				\
			precondition_failed(__func__, "on g0, not a goroutine"); \
	} while (0)
#define assert_has_p()							\
	do {								\
		if (!getg()->m->p)					\
			precondition_failed(__func__, "the M holds no P"); \
	} while (0)
#define assert_world_stopped()						\
	do {								\
		if (!__atomic_load_n(&sched.gcwaiting, __ATOMIC_ACQUIRE)) \
			precondition_failed(__func__,			\
					    "the world is not stopped");	\
	} while (0)
#else
#define assert_world_stopped() do { } while (0)
#define assert_on_g0() do { } while (0)
#define assert_on_curg() do { } while (0)
#define assert_has_p() do { } while (0)
#endif

/*
 * cheaprand - a fast random number from @pp's own state (wyrand, as Go's
 * cheaprand); cheaprandn - one in [0, n), by multiply and shift
 * (Lemire's method: no division, bias below n / 2^32).  Owner P.
 */
static __always_inline uint32_t cheaprand(struct p *pp)
{
	uint64_t s = pp->cheaprand += 0xa0761d6478bd642full;
	unsigned __int128 r = (unsigned __int128)s * (s ^ 0xe7037ed1a0b428dbull);

	return (uint32_t)((uint64_t)(r >> 64) ^ (uint64_t)r);
}

static __always_inline uint32_t cheaprandn(struct p *pp, uint32_t n)
{
	return (uint32_t)(((uint64_t)cheaprand(pp) * n) >> 32);
}

/* trace.c */
void throw(const char *msg) __noreturn;
void throwf(const char *fmt, ...) __printf(1, 2) __noreturn;
/* panicplain - Go's panic(plainError(msg)) without recover: "panic: msg",
 * then the same report as throw.  Never returns. */
void panicplain(const char *msg) __noreturn;
void schedtrace(bool detailed);
void schedtrace_to(bool detailed, fmt_sink sink, void *arg);
extern uint32_t debug_schedtrace;	/* schedtrace=MS (0: off) */
extern bool debug_scheddetail;
void trace_init(void);

/* proc.c */
uint32_t readgstatus(struct g *gp);

/*
 * The legal G status transitions: bit n of gtrans_mask[old] allows
 * old -> n.  Everything else is a runtime bug.
 */
#define GT(s) (1u << (s))
static const uint16_t gtrans_mask[10] = {
	[_Gidle] = GT(_Gdead),
	[_Gdead] = GT(_Grunnable),
	[_Grunnable] = GT(_Grunning),
	[_Grunning] = GT(_Grunnable) |	/* Gosched, preemption */
		      GT(_Gwaiting) |	/* park */
		      GT(_Gsyscall) |
		      GT(_Gdead),	/* exit */
	[_Gsyscall] = GT(_Grunning) |	/* exitsyscall with a P */
		      GT(_Grunnable),	/* exitsyscall without one */
	[_Gwaiting] = GT(_Grunnable),	/* ready */
};
#undef GT

/* Whether gtrans_mask allows @oldval -> @newval. */
static __always_inline bool gtrans_ok(uint32_t oldval, uint32_t newval)
{
	return oldval < 10 && newval < 10 &&
	       (gtrans_mask[oldval] >> newval & 1);
}

void casgstatus_fail(struct g *gp, uint32_t oldval, uint32_t newval,
		     uint32_t cur) __cold_exit;
void casgstatus_own_fail(struct g *gp, uint32_t oldval, uint32_t newval)
	__cold_exit;
/* casgstatus_own's call of casgstatus_own_fail: the G's register is left
 * to the compiler (moved to rdi inside the asm, which never returns), so
 * the fast path keeps it wherever suits it best. */
#define casgstatus_own_failed(gp, oldval, newval) do {			\
	__asm__ volatile("movq %0, %%rdi\n\tcall casgstatus_own_fail"	\
			 :: "r"(gp), "S"(oldval), "d"(newval) : "memory");	\
	__builtin_unreachable();					\
} while (0)

/**
 * casgstatus - move @gp from @oldval to @newval: with casgstatus_own
 * below, the only way a G's status changes.  Throws on a transition
 * gtrans_mask does not allow or if the G is not in @oldval.  Any M.
 * (Inline: with constant arguments the table check folds away and only
 * the CAS remains.)
 */
static __always_inline void
casgstatus(struct g *gp, uint32_t oldval, uint32_t newval)
{
	uint32_t cur = oldval;

	if (unlikely(!gtrans_ok(oldval, newval)) ||
	    unlikely(!__atomic_compare_exchange_n(&gp->atomicstatus, &cur,
						  newval, false,
						  __ATOMIC_ACQ_REL,
						  __ATOMIC_ACQUIRE)))
		casgstatus_fail(gp, oldval, newval, cur);
}

/**
 * casgstatus_own - casgstatus for a G whose status no other M can change
 * meanwhile: this M's running G, or a G it has just taken off a run
 * queue.  The same checks, then a release store instead of the CAS.
 */
static __always_inline void
casgstatus_own(struct g *gp, uint32_t oldval, uint32_t newval)
{
	if (unlikely(!gtrans_ok(oldval, newval)) ||
	    unlikely(gp->atomicstatus != oldval))	/* only we write it */
		casgstatus_own_failed(gp, oldval, newval);
	__atomic_store_n(&gp->atomicstatus, newval, __ATOMIC_RELEASE);
}

void newproc1(uint64_t fn, uint64_t arg, uint64_t callerpc);

/* The scheduling points' g0 halves as the switches reach them: the fast
 * forms, or the tracer's (proc.c). */
extern void (*newproc1_entry)(uint64_t fn, uint64_t arg, uint64_t callerpc);
extern void (*goexit0_entry)(struct g *gp);
void sched_entries_traced(void);

/**
 * newproc - start a goroutine running fn(arg): a dead G from the P's
 * cache (or a new one), its stack set up so that fn returns into goexit,
 * put in the caller's P's runnext; an idle P gets a spinning M.  On a G
 * or g0 with a P; runs on the system stack (newproc1), as Go's does.
 * Inline, so the recorded caller is the go statement's function.
 */
static __always_inline void newproc(void (*fn)(void *), void *arg)
{
	systemstack3((uint64_t)fn, (uint64_t)arg,
		     (uint64_t)__builtin_return_address(0), newproc1_entry);
}
void schedule(void) __noreturn;
void execute(struct g *gp, bool inheritTime) __noreturn;
void goexit1(void) __noreturn;
/* gosched and gopark, for the runtime: include/rt0.h's go_sched, go_park. */
static inline void gosched(void)
{
	go_sched();
}

static inline void gopark(bool (*unlockf)(struct g *, void *), void *lock,
			  const char *reason)
{
	go_park(unlockf, lock, reason);
}
/*
 * goparkunlock - gopark whose unlockf releases the leaf lock @l (Go's
 * goparkunlock): the G becomes _Gwaiting with @reason, @l is released on
 * g0 once the G is switched out, and the next G runs.  Whoever readies
 * the G must have found it under @l.  On a goroutine, holding @l (a
 * leafunlock'able lock, see lock.h) and no other lock.  In Go's register
 * convention, as go_park.
 */
void goparkunlock_mcall(void);
static inline void goparkunlock(struct mutex *l, const char *reason)
{
	__asm__ volatile("call goparkunlock_mcall"
			 : "+S"(l), "+d"(reason)
			 :: "rcx", "rdi", RT0_SWITCH_CLOBBERS_);
}
void goready(struct g *gp);

/* wakep's first test, cheap enough for the fast paths to make inline. */
static __always_inline bool wakep_wanted(void)
{
	return gomaxprocs > 1 &&
	       __atomic_load_n(&sched.nmspinning, __ATOMIC_SEQ_CST) == 0;
}

/*
 * ready_flags: READY_PROCS while gomaxprocs > 1 (procresize, world
 * stopped), READY_TRACE with the tracer on (schedinit).  goready tests
 * the word where it used to test gomaxprocs > 1, so recording costs the
 * untraced path nothing.
 */
#define READY_PROCS 1u
#define READY_TRACE 2u
extern uint32_t ready_flags;
__cold_regs void ready_cold(void);

/* goready's last step, its G queued in runnext: wake a P if
 * wakep_wanted, and record the unblock if tracing (ready_cold). */
static __always_inline void ready_tail(void)
{
	if (nonzero32(&ready_flags) &&
	    (__atomic_load_n(&ready_flags, __ATOMIC_RELAXED) != READY_PROCS ||
	     __atomic_load_n(&sched.nmspinning, __ATOMIC_SEQ_CST) == 0))
		cold_call(ready_cold);	/* StoreLoad: see proc.c */
}

/**
 * goready_inline - make parked @gp runnable, next on this P (goready is
 * the same out of line).  On an M with a P, on a G or g0.  Unlike Go's,
 * it stays on the caller's stack (the common path is shallow, and
 * runtime code is never preempted asynchronously), which saves the ~30
 * instructions of a systemstack round trip; spilling a full run queue
 * (runqput_full_cold) and starting an M go to g0, through cold calls, so
 * a fast path that inlines it needs no frame.  Throws if @gp is not
 * parked.
 */
static __always_inline void goready_inline(struct g *gp)
{
	uint32_t cur = _Gwaiting;

	assert_has_p();
	if (unlikely(!__atomic_compare_exchange_n(&gp->atomicstatus, &cur,
						  _Grunnable, false,
						  __ATOMIC_ACQ_REL,
						  __ATOMIC_ACQUIRE)))
		noreturn_call4(casgstatus_fail, gp, (uint32_t)_Gwaiting,
			       (uint32_t)_Grunnable, cur);
	gp->waitreason = NULL;
	runqput(getg()->m->p, gp, true);
	ready_tail();
}

/**
 * goready_dequeued - goready_inline for a G whose sudog the caller took
 * off a wait queue under that queue's lock: the G parked before the
 * lock was released (parkunlock_m), and only the one who dequeued it
 * may ready it, so its status is changed as casgstatus_own does -- a
 * checked store, no CAS.  (go_ready's callers have no such guarantee:
 * it keeps the CAS, which catches a double ready.)
 */
static __always_inline void goready_dequeued(struct g *gp)
{
	assert_has_p();
	casgstatus_own(gp, _Gwaiting, _Grunnable);
	gp->waitreason = NULL;
	runqput(getg()->m->p, gp, true);
	ready_tail();
}
void wakep(void);
void startm(struct p *pp, bool spinning, bool lockheld);
void stopm(void);
void handoffp(struct p *pp);
void acquirep(struct p *pp);
struct p *releasep(void);
void globrunqput(struct g *gp);
struct g *globrunqget(struct p *pp, int32_t max);
void pidleput(struct p *pp);
struct p *pidleget(void);
int64_t mcount(void);
extern int64_t m_pages;		/* pages of struct m (g0, TLS) not yet
				 * freed, on allm or sched.freem; atomic */
void checkmcount(void);
struct m *acquirem(void);
void releasem(struct m *mp);
struct p *procresize(int32_t nprocs);
void mcommoninit(struct m *mp, int64_t id);
void newm(void (*fn)(void), struct p *pp, int64_t id);
void checkdead(void);
void goexit0(struct g *gp);
void forEachG(void (*fn)(struct g *gp, void *arg), void *arg);
extern struct mutex allglock;
extern struct g *allgs;
extern uint32_t allglen;
int64_t gfree_count(void);	/* dead Gs on the free lists (snapshot) */

/* leakcheck.c */
void leakcheck_init(void);

/* lockosthread.c */
void LockOSThread(void);
void UnlockOSThread(void);
void lockOSThread(void);
void unlockOSThread(void);
void stoplockedm(void);
void startlockedm(struct g *gp);

/* The world is stopping, or stopped: stop this M's P (gcstopm). */
static __always_inline bool gcwaiting(void)
{
	return unlikely(__atomic_load_n(&sched.gcwaiting, __ATOMIC_ACQUIRE));
}

/* traceback.c */
void traceback_g(fmt_sink sink, void *arg, struct g *gp);
void tracebackothers(fmt_sink sink, void *arg, struct g *self);
void quit_dump(void);

/* stw.c */
void stopTheWorld(const char *reason);
void startTheWorld(int32_t procs);
void gcstopm(void);
bool handoffp_gcstop_locked(struct p *pp);
void entersyscall_gcwait(void *unused);

/* syscall.c */
void wake_sysmon_locked(void);
void entersyscall(void);
void entersyscallblock(void);
void exitsyscall(void);

/* sysmon.c, preempt.c */
void sysmon_start(void);
bool preemptone(struct p *pp);
bool preemptone_locked(struct p *pp);
void preempt_init(void);

/* stack.c */
bool stackalloc(struct stack *s, uint64_t size);
void stackfree(struct stack *s);
extern int64_t stack_pages;	/* pages of g0 stacks (and guards); atomic */
struct g *malg(void);
uint64_t stack_scavenge_global(uint32_t max, bool all);
bool stack_memory_low(void);
void stack_release_dead(struct g *list);
uint64_t stack_shrink_low(void);
extern uint32_t debug_memtrace;	/* memtrace=MS (0: off) */
void memtrace(int64_t now);
void stack_init(void);

/* rt0.c */
void rt0_go(void) __noreturn;
void mstart_thread(void *arg);
uint64_t tls_size(void);
void tls_setup(struct m *mp, void *block);

/* Test hooks (Go's export_test.go): drive internals on bare structs. */
void freem_reap(void);		/* what allocm does first */
extern uint64_t npreempt;	/* asynchronous preemptions (preempt.c) */

#endif
