/*
 * kernel/tick.c - what every CPU does on every tick, in order: catch up
 * with guard pages made elsewhere, the test watchdog, time slicing,
 * signals.  (Expired kernel timers run on every timer interrupt, tick or
 * not: see time.c.)
 */
#include "tick.h"
#include "../arch/x86_64/trap.h"
#include "ktest.h"
#include "kthread.h"
#include "vm.h"

void tick(struct trapframe *tf, bool is_tick)
{
	assert_irqs_off();
	if (is_tick) {
		vm_tlb_sync();
		/* The watchdog's report shows what the tick interrupted. */
		this_cpu()->tick_tf = tf;
		ktest_watchdog();
		this_cpu()->tick_tf = NULL;
	}
	kthread_tick(tf, is_tick);
}
