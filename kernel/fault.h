/*
 * kernel/fault.h - what happens on an exception: a report, and either
 * recovery (a test expected the fault) or a stop with a failure status.
 *
 * The report names the exception and its cause, the error code, RIP, RSP,
 * CR2, every register, the CPU and thread, and a symbolized backtrace.
 * Upper layers add lines through describers (the runtime says "goroutine 7
 * stack overflow").
 *
 * Expecting a fault (tests):
 *	struct fault_catch fc;
 *	if (fault_try(&fc)) {
 *		... code that should fault ...
 *		fault_untry(&fc);	// reached only if it did not fault
 *	} else {
 *		... fc.vector, fc.cr2, fc.report describe the fault ...
 *	}
 * The catch belongs to the calling thread; the code between must not block
 * or switch threads.  A fault with a catch armed resumes at fault_try,
 * which then returns false; the catch is disarmed.
 */
#ifndef RT0_FAULT_H
#define RT0_FAULT_H

#include "lib.h"
#include "../arch/x86_64/jmp.h"
#include "../arch/x86_64/trap.h"

struct fault_catch {
	struct jmpbuf jb;
	int vector;
	uint64_t error, cr2, rip;
	size_t len;
	char report[2048];
};

void fault_arm(struct fault_catch *fc);
void fault_untry(struct fault_catch *fc);
#define fault_try(fc) (fault_arm(fc), arch_setjmp(&(fc)->jb) == 0)

/*
 * A describer adds lines to a report: called with the frame and a sink;
 * returns nothing.  Up to 4 may be added, at boot.
 */
typedef void (*fault_describer)(const struct trapframe *tf, uint64_t cr2,
				fmt_sink sink, void *arg);
void fault_add_describer(fault_describer d);

/* fault_init - install the exception handler for every vector. */
void fault_init(void);

/* fault_report - write the full report for @tf to @sink.  Any context. */
void fault_report(const struct trapframe *tf, fmt_sink sink, void *arg);

#endif
