/* kernel/tick.h - the kernel's periodic work, run from every CPU's tick. */
#ifndef RT0_TICK_H
#define RT0_TICK_H

struct trapframe;

/* tick - called by the V_TIMER handler after EOI, interrupts disabled. */
void tick(struct trapframe *tf);

#endif
