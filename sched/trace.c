/*
 * sched/trace.c - what the runtime says about itself: schedtrace (Go's
 * GODEBUG=schedtrace=MS,scheddetail=1, word for word), and throw.
 *
 * schedtrace=MS prints every MS ms, from sysmon:
 *   SCHED 1004ms: gomaxprocs=4 idleprocs=2 threads=6 spinningthreads=0
 *   needspinning=0 idlethreads=2 runqueue=0 [0 0 0 0]
 * (one line).  scheddetail=1 adds the same line with gcwaiting= etc., then
 * a line per P, per M and per G, as Go's.
 */
#include "sched/proc.h"
#include "sched/lock.h"
#include "kernel/cmdline.h"
#include "kernel/exit.h"
#include "kernel/ksyms.h"
#include "kernel/kthread.h"
#include "kernel/kwait.h"
#include "kernel/smp.h"
#include "kernel/time.h"

uint32_t debug_schedtrace;
KPARAM_UINT(schedtrace, debug_schedtrace, 0, 3600000,
	    "print the scheduler's state every MS milliseconds");
bool debug_scheddetail;
KPARAM_BOOL(scheddetail, debug_scheddetail,
	    "with schedtrace: one line per P, M and G too");

static int64_t starttime;	/* the first trace's time (Go's starttime) */

struct out {
	struct linebuf lb;	/* whole lines to the real sink */
};

#define OUT(...) sinkf(linebuf_put, &o->lb, __VA_ARGS__)

static void print_g(struct g *gp, void *arg)
{
	struct out *o = arg;

	if (gp->goid <= 0)
		return;
	struct m *mp = gp->m, *lm = gp->lockedm;
	OUT("  G%ld: status=%u(%s) m=", gp->goid, readgstatus(gp),
		gp->waitreason ? gp->waitreason : "");
	if (mp)
		OUT("%ld", mp->id);
	else
		OUT("nil");
	if (lm)
		OUT(" lockedm=%ld\n", lm->id);
	else
		OUT(" lockedm=nil\n");
}

static void schedtrace_body(bool detailed, fmt_sink sink, void *arg)
{
	struct out out = { .lb = { .sink = sink, .arg = arg } }, *o = &out;
	int64_t now = (int64_t)nanotime();

	if (!starttime)
		starttime = now;
	OUT("SCHED %ldms: gomaxprocs=%d idleprocs=%u threads=%ld "
		"spinningthreads=%d needspinning=%u idlethreads=%d "
		"runqueue=%d", (now - starttime) / 1000000, gomaxprocs,
		__atomic_load_n(&sched.npidle, __ATOMIC_RELAXED), mcount(),
		__atomic_load_n(&sched.nmspinning, __ATOMIC_RELAXED),
		__atomic_load_n(&sched.needspinning, __ATOMIC_RELAXED),
		sched.nmidle, sched.runqsize);
	if (detailed)
		OUT(" gcwaiting=%s nmidlelocked=%d stopwait=%d "
			"sysmonwait=%s stw=%lu stwlast=%ldus stwtotal=%ldus\n",
			__atomic_load_n(&sched.gcwaiting, __ATOMIC_RELAXED)
				? "true" : "false",
			sched.nmidlelocked, sched.stopwait,
			__atomic_load_n(&sched.sysmonwait, __ATOMIC_RELAXED)
				? "true" : "false", sched.stwcount,
			sched.stwlast_ns / 1000, sched.stwtotal_ns / 1000);
	for (int32_t i = 0; i < gomaxprocs; i++) {
		struct p *pp = allp[i];
		struct m *mp = __atomic_load_n(&pp->m, __ATOMIC_RELAXED);
		uint32_t n = runqlen(pp);
		if (detailed) {
			OUT("  P%d: status=%u schedtick=%u syscalltick=%u m=",
				i, pp->status, pp->schedtick, pp->syscalltick);
			if (mp)
				OUT("%ld", mp->id);
			else
				OUT("nil");
			OUT(" runqsize=%u gfreecnt=%d timerslen=%u\n", n,
				pp->gfreecnt, pp->ntimers);
		} else {
			OUT("%s%u%s", i == 0 ? " [" : " ", n,
				i == gomaxprocs - 1 ? "]\n" : "");
		}
	}
	if (!detailed) {
		linebuf_flush(&o->lb);
		return;
	}
	for (struct m *mp = __atomic_load_n(&allm, __ATOMIC_ACQUIRE); mp;
	     mp = mp->alllink) {
		struct p *pp = mp->p;
		OUT("  M%ld: p=", mp->id);
		if (pp)
			OUT("%d", pp->id);
		else
			OUT("nil");
		OUT(" curg=");
		if (mp->curg)
			OUT("%ld", mp->curg->goid);
		else
			OUT("nil");
		OUT(" mallocing=%d throwing=%d preemptoff=%s locks=%d "
			"dying=%d spinning=%s blocked=%s lockedg=", mp->mallocing,
			mp->throwing, mp->preemptoff ? mp->preemptoff : "",
			mp->locks, mp->dying, mp->spinning ? "true" : "false",
			mp->blocked ? "true" : "false");
		if (mp->lockedg)
			OUT("%ld\n", mp->lockedg->goid);
		else
			OUT("nil\n");
	}
	linebuf_flush(&o->lb);
}

/* scheddetail's G lines: forEachG needs no lock, so they are printed
 * after sched.lock is dropped (there may be thousands). */
static void schedtrace_gs(fmt_sink sink, void *arg)
{
	struct out out = { .lb = { .sink = sink, .arg = arg } };

	forEachG(print_g, &out);
	linebuf_flush(&out.lb);
}

/**
 * schedtrace - print the state (Go's format).  Takes sched.lock for the
 * summary, the Ps and the Ms (not for the Gs: the program goes on while
 * they print), so it needs an M (g0 or a G); the dump on a fatal error
 * reads without it.
 */
void schedtrace(bool detailed)
{
	schedtrace_to(detailed, console_sink, NULL);
}

void schedtrace_to(bool detailed, fmt_sink sink, void *arg)
{
	lock(&sched.lock);
	schedtrace_body(detailed, sink, arg);
	unlock(&sched.lock);
	if (detailed)
		schedtrace_gs(sink, arg);
}

/* The scheddetail dump and every other goroutine's stack on fatal
 * errors (a kernel dump hook; the other CPUs are stopped). */
static void dump(void)
{
	if (!gomaxprocs)
		return;		/* before schedinit */
	kprintf("runtime: scheduler state:\n");
	schedtrace_body(true, console_sink, NULL);
	schedtrace_gs(console_sink, NULL);
	struct m *mp = kthread_current()->user;
	kprintf("runtime: goroutines:\n");
	tracebackothers(console_sink, NULL, mp ? mp->curg : NULL);
}

void trace_init(void)
{
	kernel_add_dump_hook(dump);
}

/* The CPU, M and G, and a backtrace from @pc (in the frame @fp). */
static void fatal_header(uint64_t pc, uint64_t fp)
{
	struct kthread *t = kthread_current();
	struct m *mp = t->user;
	struct g *gp = mp ? mp->curg : NULL;

	kprintf("runtime: cpu %u, M%ld, goroutine %ld%s\n", this_cpu_id(),
		mp ? mp->id : -1, gp ? gp->goid : 0,
		mp && getg() == mp->g0 ? " (on g0)" : "");
	kprintf("backtrace:\n");
	backtrace_write(console_sink, NULL, pc, fp);
}

/*
 * fatal - the report of throw and panicplain: "@prefix: message", the
 * CPU, M and G, a backtrace from the caller of the entry point whose
 * frame is @entryfp, the scheddetail dump; exit with EXIT_PANIC.
 */
static __noreturn void fatal(const uint64_t *entryfp, const char *prefix,
			     const char *fmt, va_list ap)
{
	struct m *mp = kthread_current()->user;

	if (mp && mp->throwing++ > 0) {
		kprintf("runtime: throw while throwing\n");
		kernel_exit(EXIT_PANIC);
	}
	if (mp)
		mp->dying = 1;
	kernel_stop_others();
	kprintf("%s: ", prefix);
	vkprintf(fmt, ap);
	kprintf("\n\n");
	fatal_header(entryfp[1], entryfp[0]);
	kernel_dump_hooks();
	kernel_exit(EXIT_PANIC);
}

/**
 * throw - a fatal runtime error: print it, the CPU/M/G, a backtrace and
 * the scheddetail dump, and exit with EXIT_PANIC.  Never returns.
 */
void throw(const char *msg)
{
	throwf("%s", msg);
}

void throwf(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fatal(__builtin_frame_address(0), "fatal error", fmt, ap);
}

/**
 * panicplain - a Go panic with a plain message (send on a closed
 * channel, a negative WaitGroup counter): rt0 has no recover, so it ends
 * the program as an unrecovered panic does, with throw's report.  Never
 * returns.
 */
static __noreturn void panicf(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fatal(__builtin_frame_address(0), "panic", fmt, ap);
}

void panicplain(const char *msg)
{
	panicf("%s", msg);
}
