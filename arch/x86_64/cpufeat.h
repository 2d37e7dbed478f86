/*
 * arch/x86_64/cpufeat.h - CPU features rt0 cares about, the FS/GS bases,
 * and the FPU/SSE state.
 */
#ifndef RT0_CPUFEAT_H
#define RT0_CPUFEAT_H

#include <stdint.h>
#include <stdbool.h>

struct cpufeat {
	bool nx;		/* EFER.NXE usable: no-execute pages */
	bool fsgsbase;		/* rdfsbase/wrfsbase usable (CR4.FSGSBASE set) */
	bool xsave;		/* xsave/xrstor usable (CR4.OSXSAVE set) */
	bool pge;		/* global pages */
	uint64_t xcr0;		/* state components saved by xsave */
	uint32_t fpu_size;	/* bytes of the FPU save area */
	char vendor[13];
	char brand[49];
};

extern struct cpufeat cpufeat;	/* filled by cpufeat_probe(), then constant */

void cpufeat_probe(void);
void cpu_enable_features(void);	/* per CPU: CR0/CR4/XCR0/EFER bits */

void fsbase_write(uint64_t v);
uint64_t fsbase_read(void);
void gsbase_write(uint64_t v);

/* FPU/SSE state: area is cpufeat.fpu_size bytes, 64-byte aligned. */
void fpu_save(void *area);
void fpu_restore(const void *area);
void fpu_init_area(void *area);	/* the state of a fresh thread */

#endif
