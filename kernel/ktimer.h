/*
 * kernel/ktimer.h - per-CPU kernel timers, run from the tick.
 *
 * A timer is armed on the CPU that arms it and fires from that CPU's timer
 * interrupt once nanotime() >= deadline: never early, late by interrupt
 * latency (the LAPIC timer is armed for the earliest deadline).  The callback runs in interrupt context (interrupts
 * off) and must not block.  The timer's memory belongs to the caller, who
 * must cancel it (or see it fire) before reusing it.
 */
#ifndef RT0_KTIMER_H
#define RT0_KTIMER_H

#include "lib.h"

struct cpu;

struct ktimer {
	uint64_t deadline;		/* nanotime(); constant while armed */
	void (*fn)(struct ktimer *);	/* constant while armed */
	struct ktimer *next, *prev;	/* cpu->timer_lock */
	struct cpu *cpu;		/* armed on; NULL if not queued; timer_lock */
	uint32_t firing;		/* 1 while fn runs; atomic */
};

/* ktimer_arm - queue @t on this CPU.  Interrupts disabled.  Returns. */
void ktimer_arm(struct ktimer *t, uint64_t deadline, void (*fn)(struct ktimer *));

/*
 * ktimer_cancel - unqueue @t if it has not fired; if it is firing, wait
 * until its callback has returned.  Any context.  Returns true if it was
 * cancelled before firing.
 */
bool ktimer_cancel(struct ktimer *t);

/* ktimer_run - fire this CPU's expired timers.  From the tick. */
void ktimer_run(void);

/* ktimer_next - this CPU's earliest deadline, or 0 if none. */
uint64_t ktimer_next(void);

#endif
