/*
 * kernel/exit.h - ending the machine: exit statuses, stopping the other
 * CPUs, and the hooks that add to a fatal report.
 *
 * The status leaves QEMU through isa-debug-exit as (status << 1) | 1; the
 * host tools (tools/rt0run) turn that back into the status.
 */
#ifndef RT0_EXIT_H
#define RT0_EXIT_H

#include "lib.h"

#define EXIT_OK		0	/* main returned 0 / every test passed */
#define EXIT_FAIL	1	/* a test failed / main returned non-zero */
#define EXIT_CMDLINE	2	/* bad command line */
#define EXIT_PANIC	3	/* panic, fatal exception, runtime throw */
#define EXIT_MACHINE	4	/* the machine lacks what rt0 needs (long
				 * mode, enough memory): one line says what */

/*
 * kernel_exit - stop the other CPUs and leave QEMU with @status.  If there
 * is no isa-debug-exit device, say so and halt.  Any context.  Never returns.
 */
void kernel_exit(uint32_t status) __noreturn;

/* kernel_stop_others - NMI every other started CPU into a halt (once);
 * this CPU takes no interrupt from then on.  Any context. */
void kernel_stop_others(void);

/* kernel_stopping - true once a CPU has begun stopping the machine. */
bool kernel_stopping(void);

/* kernel_stopper_cpu - the CPU stopping the machine, or -1. */
int32_t kernel_stopper_cpu(void);

/*
 * Dump hooks add to fatal reports (the runtime prints its scheddetail
 * dump).  kernel_dump_hooks() lists the kernel threads, then runs the
 * hooks; it runs once per boot.  Hooks are added at boot (up to 4).
 */
void kernel_add_dump_hook(void (*fn)(void));

/*
 * Exit hooks run in kernel_exit, once per boot, after the other CPUs have
 * stopped, with interrupts off, before the exit status is printed (the
 * execution tracer writes its buffers out).  Added at boot (up to 2).
 */
void kernel_add_exit_hook(void (*fn)(void));
void kernel_dump_hooks(void);

#endif
