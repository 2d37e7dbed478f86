/*
 * kernel/tick.c - what every CPU does on every tick, in order: catch up
 * with guard pages made elsewhere, the test watchdog, expired kernel
 * timers, time slicing, signals.
 */
#include "tick.h"
#include "ktest.h"
#include "kthread.h"
#include "vm.h"

void tick(struct trapframe *tf)
{
	vm_tlb_sync();
	ktest_watchdog();
	kthread_tick(tf);
}
