/*
 * kernel/tick.c - what every CPU does on every tick, in order:
 * the test watchdog, expired kernel timers, then time-slicing.
 */
#include "tick.h"
#include "ktest.h"
#include "kthread.h"

void tick(struct trapframe *tf)
{
	(void)tf;
	ktest_watchdog();
}
