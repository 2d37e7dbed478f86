/*
 * sched/exectrace.h - the execution tracer (Go's runtime/trace): what
 * every P, M and G did, with the TSC, for tools/rt0trace.py to turn into
 * a Perfetto / chrome://tracing view.
 *
 * trace=1 (or trace=BYTES, each buffer's size) on the command line turns
 * it on at boot.  Each P has a buffer written only by the M holding the
 * P, with no lock and no atomic; events of an M without a P (sysmon, an
 * M parking or starting, a spinning M's stop) go to the buffer of the
 * CPU it runs on, written with interrupts off.  Every buffer is a ring:
 * when full it keeps the newest events (a flight recorder).  The buffers
 * are written out when the image exits -- after the other CPUs have
 * stopped, so nothing moves -- on a fatal error too: to the debug
 * console (port 0xe9, QEMU's isa-debugcon) if there is one, else as hex
 * lines on the serial console (docs/trace.md has the format).
 *
 * Off, the tracer costs the fast paths nothing: the scheduling points
 * reach their g0 halves through pointers (gosched_m_entry and the others
 * below), which exectrace_init points at traced forms that take the slow
 * paths, where each event site is one predictable branch; goready's
 * record shares the test of gomaxprocs it already made (ready_flags).
 */
#ifndef RT0_EXECTRACE_H
#define RT0_EXECTRACE_H

#include "kernel/lib.h"

/* Event types; a and b of struct trace_ev as each says. */
enum {
	TEV_NONE,
	TEV_TEXT,		/* bytes of the event before it (log text) */
	TEV_GO_CREATE,		/* a = new goid, b = its function's pc */
	TEV_GO_START,		/* a = goid */
	TEV_GO_END,		/* a = goid */
	TEV_GO_SCHED,		/* a = goid: Gosched */
	TEV_GO_PREEMPT,		/* a = goid: stopped asynchronously */
	TEV_GO_BLOCK,		/* a = goid, b = wait reason (char *) */
	TEV_GO_UNBLOCK,		/* a = goid readied, b = readier's goid (0:
				 * none, a timer or the runtime on g0) */
	TEV_GO_SYSCALL,		/* a = goid */
	TEV_GO_SYSEXIT,		/* a = goid */
	TEV_PROC_START,		/* P (event's p) taken by the event's M */
	TEV_PROC_STOP,		/* P released */
	TEV_PROC_STEAL,		/* a = victim P, b = Gs taken */
	TEV_M_CREATE,		/* a = new M's id */
	TEV_M_PARK,		/* this M stops (stopm) */
	TEV_M_WAKE,		/* a = M woken, b = P given to it */
	TEV_M_EXIT,		/* this M exits */
	TEV_SPIN_START,		/* this M spins, looking for work */
	TEV_SPIN_STOP,
	TEV_TIMER_FIRE,		/* a = the timer's function's pc */
	TEV_RETAKE,		/* sysmon took P a from a syscall */
	TEV_PREEMPT_REQ,	/* a = goid asked to stop, b = its P */
	TEV_REGION_BEGIN,	/* a = goid, b = name (char *) */
	TEV_REGION_END,		/* a = goid, b = name (char *) */
	TEV_LOG,		/* a = goid, b = category (char *); text in
				 * the TEV_TEXT slots after it */
	TEV_COUNT_GLOBAL,	/* sysmon: a = idle Ps | spinning Ms << 16 |
				 * threads << 32, b = global run queue */
	TEV_COUNT_RUNQ,		/* sysmon: a = P id, b = its run queue */
	TEV_NTYPES
};

/* One event: 32 bytes.  m, p: the M and P that recorded it (p 0xffff: no
 * P).  ncont: TEV_TEXT slots that follow. */
struct trace_ev {
	uint64_t ts;		/* rdtsc */
	uint8_t type;
	uint8_t ncont;
	uint16_t p;
	uint32_t m;
	uint64_t a, b;
};
BUILD_ASSERT(sizeof(struct trace_ev) == 32);

#define TRACE_NOP 0xffff

extern bool trace_on;		/* constant after exectrace_init */

void exectrace_init(int32_t procs);	/* schedinit; before any G runs */
void exectrace_procs(int32_t nprocs);	/* procresize: the Ps' buffers */
void trace_event_slow(uint32_t type, uint64_t a, uint64_t b);
void exectrace_sample(int64_t now);	/* sysmon: the counters */

/**
 * traceev - record an event on this M (its P's buffer, or its CPU's).
 * One predictable branch when the tracer is off.  On an M, any stack,
 * interrupts on or off; not from an interrupt handler.
 */
static inline __attribute__((always_inline)) void
traceev(uint32_t type, uint64_t a, uint64_t b)
{
	if (__builtin_expect(trace_on, 0))
		trace_event_slow(type, a, b);
}

/* The current G's goid, or 0 on g0. */
int64_t trace_goid(void);

#endif
