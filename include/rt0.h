/*
 * include/rt0.h - the API for rt0 programs.
 *
 * A program is a function registered with RT0_APP(name, help); the
 * runtime runs the one selected by app=NAME as goroutine 1 (main), and
 * when it returns the machine exits with its return value as the status.
 *
 * High-level routines: use these most of the time.  Goroutines talk
 * through channels and select, and synchronize with Go's sync package:
 * both are included at the end (include/rt0/chan.h, include/rt0/sync.h).
 * A program's own tests: include/rt0/test.h (docs/programs.md).
 */
#ifndef RT0_H
#define RT0_H

#include <stdbool.h>
#include <stdint.h>

/* go_spawn - start a goroutine running fn(arg) (Go's "go fn(arg)").  A
 * NULL fn is a fatal error ("go of nil func value"). */
void go_spawn(void (*fn)(void *arg), void *arg);

/*
 * The scheduling points, go_sched and go_park, are calls in Go's register
 * convention rather than C's: they clobber every register but rsp and
 * rbp, so switching goroutines saves three registers, not nine.  They are
 * inline asm calls that tell the compiler so; it keeps what it needs
 * across them on the stack, as Go's compiler does.
 */
#ifdef __AVX512F__
#define RT0_VREGS_HI_ , "xmm16", "xmm17", "xmm18", "xmm19", "xmm20",	\
	"xmm21", "xmm22", "xmm23", "xmm24", "xmm25", "xmm26", "xmm27",	\
	"xmm28", "xmm29", "xmm30", "xmm31", "k1", "k2", "k3", "k4",	\
	"k5", "k6", "k7"
#else
#define RT0_VREGS_HI_
#endif
#ifdef __SSE__
#define RT0_VREGS_ , "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5",	\
	"xmm6", "xmm7", "xmm8", "xmm9", "xmm10", "xmm11", "xmm12",	\
	"xmm13", "xmm14", "xmm15", "st", "st(1)", "st(2)", "st(3)",	\
	"st(4)", "st(5)", "st(6)", "st(7)" RT0_VREGS_HI_
#else
#define RT0_VREGS_
#endif
#define RT0_SWITCH_CLOBBERS_BUT_RAX_ "rbx", "r8", "r9", "r10",	\
	"r11", "r12", "r13", "r14", "r15", "memory", "cc" RT0_VREGS_
#define RT0_SWITCH_CLOBBERS_ "rax", RT0_SWITCH_CLOBBERS_BUT_RAX_

/* go_sched - yield the processor; the goroutine stays runnable
 * (runtime.Gosched), at the back of its P's run queue: the next
 * goroutine there runs first. */
static inline void go_sched(void)
{
	__asm__ volatile("call gosched_mcall"
			 ::: "rcx", "rdx", "rsi", "rdi", RT0_SWITCH_CLOBBERS_);
}

/* go_exit - end the calling goroutine (runtime.Goexit).  No return. */
void go_exit(void) __attribute__((noreturn));

/*
 * go_exit_program - end the program at once with @status (0..127; os.Exit),
 * from any goroutine, or the runtime's own stack: other goroutines do not
 * run on.  A line being printed on the console is finished first.
 */
void go_exit_program(int status) __attribute__((noreturn));

/*
 * go_stack - the calling goroutine's stack as text (runtime.Stack), and
 * with @all every other goroutine's after it (the world is stopped
 * meanwhile, as Go does), into @buf: at most @len bytes, not
 * NUL-terminated.  Returns the bytes written.  Each goroutine: "goroutine
 * N [status or wait reason]:", its frames, "created by ...".  Typing
 * Ctrl-\ on the console prints the same for every goroutine, with the
 * scheduler's state, while the program goes on.
 */
int go_stack(char *buf, int len, bool all);

/* go_id - the calling goroutine's id (goid); main is 1. */
int64_t go_id(void);

/* go_numgoroutine - goroutines that exist (runtime.NumGoroutine). */
int go_numgoroutine(void);

/* go_gomaxprocs - the number of Ps (maxprocs=, default: the CPU count). */
int go_gomaxprocs(void);

/*
 * go_set_gomaxprocs - set the number of Ps to @n (runtime.GOMAXPROCS) and
 * return the previous number; n <= 0 only reads it, n above 256 means
 * 256.  It stops the world meanwhile: goroutines of the Ps that go away
 * move to the others, with their timers; none is lost, whether running,
 * locked to its thread, in a system call or asleep.
 */
int go_set_gomaxprocs(int n);

/* go_arg - the word arg=WORD on the command line gave the program, or
 * "" (a program's one argument: app=million arg=100000). */
const char *go_arg(void);

/* go_numcpu - CPUs the machine started (runtime.NumCPU). */
int go_numcpu(void);

/*
 * Threads (Ms).  go_num_threads - Ms that exist (schedtrace's threads=).
 * go_thread_id - the id of the M running the caller (a snapshot, but a
 * goroutine locked to its thread keeps it).  go_set_max_threads - the
 * most Ms the program may have (debug.SetMaxThreads; default 10,000):
 * needing more, or setting it below the count, is a fatal error ("thread
 * exhaustion").  Returns the previous limit.
 */
int go_num_threads(void);
int64_t go_thread_id(void);
int go_set_max_threads(int n);

/* go_current_p - the id (0..gomaxprocs-1) of the P running the caller.
 * A snapshot: the goroutine may be moved to another P at once. */
int go_current_p(void);

/* go_nanotime - monotonic nanoseconds since the machine started. */
int64_t go_nanotime(void);

/* go_sleep - park the goroutine for at least ns nanoseconds (time.Sleep). */
void go_sleep(int64_t ns);

/* go_lock_os_thread / go_unlock_os_thread - wire the goroutine to its M
 * (runtime.LockOSThread); nesting counts; unlock without lock: no-op. */
void go_lock_os_thread(void);
void go_unlock_os_thread(void);

/*
 * Blocking kernel calls.  They block only the calling goroutine's M: its
 * P goes on running other goroutines (Go's system calls).
 * go_syscall_sleep - sleep in the kernel for ns nanoseconds.
 * go_read_console - read up to n bytes typed on the console, waiting until
 *	at least one arrives or timeout_ns passes (<0: no limit); returns
 *	how many (0 on timeout).
 */
void go_syscall_sleep(int64_t ns);
int go_read_console(char *buf, int n, int64_t timeout_ns);

/* Scheduler figures, as schedtrace prints them. */
struct go_sched_stats {
	int gomaxprocs, idleprocs, threads, spinningthreads, idlethreads;
	int runqueue;
};
void go_sched_stats(struct go_sched_stats *st);

/*
 * Memory: goroutine stacks are large (gstack=, default 256 KiB) and
 * demand-paged: only the pages a goroutine touched are resident.
 * go_memstats - the figures now.
 * go_free_os_memory - give back now the pages of dead goroutines' stacks
 *	kept for reuse, all but each one's top 8 KiB (sysmon does it for a
 *	few Gs of the global free list every second), and shrink parked
 *	goroutines' stacks: pages below the saved stack pointer go back,
 *	and the page holding it keeps only its live bytes, off the page,
 *	until the goroutine (or a waker) touches it again (done by itself
 *	too when memory runs low).  Go's debug.FreeOSMemory.  Stops the
 *	world.  On a goroutine.  Returns the pages given back.
 */
struct go_memstats {
	uint64_t stack_inuse_bytes;	/* resident stack pages, in bytes */
	uint64_t stack_mapped_pages;	/* the same, in pages */
	uint64_t stack_reserved_bytes;	/* address space given to stacks */
	uint64_t stack_scavenged_pages;	/* given back so far */
	uint64_t tlb_shootdowns;	/* IPI rounds that gave them back */
	uint64_t free_pages, total_pages;	/* the machine's memory */
	uint64_t gstack_bytes;		/* each goroutine's stack */
	uint64_t stack_stashed_pages;	/* parked Gs' pages shrunk to */
	uint64_t stack_stashed_bytes;	/*   records of these live bytes */
	uint64_t stack_shrinks;		/* shrinks of parked Gs' stacks */
};
void go_memstats(struct go_memstats *ms);
uint64_t go_free_os_memory(void);

/* Formatted output to the console (whole calls never interleave). */
void go_printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/*
 * The execution tracer's annotations (Go's runtime/trace), recorded when
 * the image runs with trace=1 (docs/trace.md); otherwise they cost a
 * test.  On a goroutine.
 * go_trace_region_begin / go_trace_region_end - a span of the calling
 *	goroutine's work, shown on its track; name must outlive the
 *	program (a string literal), and each end names its begin.
 * go_trace_log - a message (up to 93 bytes, copied) under category (a
 *	literal), shown at this moment on the goroutine's track.
 * go_trace_enabled - whether the tracer records.
 */
void go_trace_region_begin(const char *name);
void go_trace_region_end(const char *name);
void go_trace_log(const char *category, const char *message);
bool go_trace_enabled(void);

/*
 * Low-level primitives: the base for synchronization (semaphores,
 * channels).  Use with care: a parked goroutine that nobody readies
 * sleeps forever (the runtime reports a whole-program deadlock).
 */
typedef struct g go_g;

/* go_self - the calling goroutine. */
go_g *go_self(void);

/*
 * go_park - block the calling goroutine.  Once it is parked (waiting),
 * before it is switched out, unlockf(self, arg) runs (if not NULL) on the
 * runtime's stack (the M's g0, as in Go); if it returns false the
 * goroutine resumes at once, and no one may have readied it.  Otherwise
 * anyone may go_ready it from the moment unlockf runs (even from inside
 * unlockf): it runs once its switch is over.  unlockf is the place to
 * release the lock that protects the wait queue the goroutine was put
 * on; it must not park or yield.  reason is shown in dumps.
 */
static inline void go_park(bool (*unlockf)(go_g *self, void *arg),
			   void *arg, const char *reason)
{
	__asm__ volatile("call gopark_mcall"
			 : "+c"(unlockf), "+S"(arg), "+d"(reason)
			 :: "rdi", RT0_SWITCH_CLOBBERS_);
}

/* go_ready - make a parked goroutine runnable (it runs next on this P).
 * Readying one that is not parked is a fatal runtime error. */
void go_ready(go_g *gp);

/* Register a program: RT0_APP(name, "what it does") { ... return status; }
 * (app=name runs it; app=? lists the programs with their help). */
struct rt0_app {
	const char *name;
	int (*main)(void);
	const char *help;
};
#define RT0_APP(n, h)							\
	static int n(void);						\
	static const struct rt0_app __rt0_app_##n			\
	__attribute__((section(".apps"), used, aligned(8))) = {	\
		.name = #n, .main = n, .help = h };			\
	static int n(void)

#include "rt0/chan.h"
#include "rt0/sync.h"

#endif
