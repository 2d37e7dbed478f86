/* kernel/tick.h - the kernel's periodic work, run from every CPU's tick. */
#ifndef RT0_TICK_H
#define RT0_TICK_H

#include <stdbool.h>

struct trapframe;

/*
 * tick - called by the V_TIMER handler after EOI, expired kernel timers
 * and re-arming, interrupts disabled.  @is_tick: this interrupt is the
 * periodic tick (not only a timer deadline).
 */
void tick(struct trapframe *tf, bool is_tick);

#endif
