/*
 * kernel/time.h - time: the TSC as the clock, the LAPIC timer as the tick.
 */
#ifndef RT0_TIME_H
#define RT0_TIME_H

#include "lib.h"

extern uint64_t tsc_hz;		/* TSC ticks per second; constant after time_init */
extern uint64_t lapic_hz;	/* LAPIC timer ticks per second (divide by 16) */
extern uint32_t tick_hz;	/* periodic tick rate (hz=, default 1000) */

/* time_init - calibrate the TSC and LAPIC timer against PIT channel 0. */
void time_init(void);

/*
 * lapic_read_bracketed - this CPU's LAPIC timer count, turned to grow as
 * the timer counts down (0xffffffff - count: the difference of two reads
 * of one arming is the counts between them), with the TSC of the read
 * (the midpoint of rdtsc just before and after).  False if the read took
 * over 10 us (a host stall): take it again.  Any context, after
 * time_init.
 */
bool lapic_read_bracketed(uint64_t *elapsed, uint64_t *tsc);

/* tick_start_cpu - start this CPU's periodic tick.  Interrupts disabled. */
void tick_start_cpu(void);

/* timer_program - re-arm this CPU's LAPIC timer for its next event;
 * timer_program_if_earlier - only if @ns comes before what is armed.
 * Interrupts disabled. */
void timer_program(void);
void timer_program_if_earlier(uint64_t ns);

/* nanotime - nanoseconds since the machine started (TSC based, monotonic,
 * consistent across CPUs).  Any context. */
uint64_t nanotime(void);

/* tsc_to_ns / ns_to_tsc - conversions at the calibrated rate (both round
 * down; ns_to_tsc saturates at UINT64_MAX). */
uint64_t tsc_to_ns(uint64_t tsc);
uint64_t ns_to_tsc(uint64_t ns);

/* delay_us - busy-wait @us microseconds (pause loop).  Any context. */
void delay_us(uint64_t us);

#define NSEC_PER_SEC 1000000000ul
#define NSEC_PER_MSEC 1000000ul
#define NSEC_PER_USEC 1000ul

#endif
