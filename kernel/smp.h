/*
 * kernel/smp.h - bringing up CPUs and talking to them.
 */
#ifndef RT0_SMP_H
#define RT0_SMP_H

#include "lib.h"
#include "cpu.h"

extern uint32_t maxcpus;	/* maxcpus= (0: all the MADT lists) */

/* cpu_early_init - the boot CPU's block and GS base, with static IST
 * stacks; first thing in kernel_main.  Returns. */
void cpu_early_init(void);

/*
 * cpu_setup - per-CPU machine setup, run by each CPU on itself: GDT/TSS,
 * IDT, control registers, LAPIC, the FS-base check.  Interrupts disabled.
 */
void cpu_setup(struct cpu *c);

/*
 * smp_boot - start every CPU the MADT lists (up to maxcpus) with
 * INIT-SIPI-SIPI through the real-mode trampoline and wait until each is up
 * (each loads its own GDT/TSS/IDT, runs on its own stack and reaches its
 * block through GS) or 1 s has passed; a CPU that does not answer is
 * reported and left out.  Boot CPU, after vm_init, time_init and
 * kthread_init.  Returns with ncpu set.
 */
void smp_boot(void);

/* smp_send_wake - IPI @c with V_WAKE (wakes it from hlt).  Any context. */
void smp_send_wake(struct cpu *c);

/*
 * smp_call_cpu / smp_call_others - run fn(arg) in interrupt context on CPU
 * @c / on every other started CPU, and wait until it has run everywhere.
 * Calls are serialized machine-wide.  The caller must have interrupts
 * enabled (it waits for other CPUs that may be calling it; smp_call_cpu
 * may IPI its own CPU), except smp_call_others with one CPU up, which does
 * nothing.  Returns after the last fn returned.
 */
void smp_call_cpu(struct cpu *c, void (*fn)(void *), void *arg);
void smp_call_others(void (*fn)(void *), void *arg);

/*
 * smp_run_all - run fn(arg) on every started CPU at once: on the others in
 * interrupt context (interrupts off), on this one in the caller's context.
 * Same rules as smp_call_others.  Returns when all have returned.
 */
void smp_run_all(void (*fn)(void *), void *arg);

/* smp_print_inventory - one line per CPU: id, LAPIC id, checks. */
void smp_print_inventory(void);

#endif
