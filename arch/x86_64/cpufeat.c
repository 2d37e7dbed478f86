/*
 * arch/x86_64/cpufeat.c - feature probing, control-register setup, FS/GS
 * base access and the FPU save format.
 *
 * The boot CPU probes once; every CPU then enables the same features, so a
 * thread's FPU area and FS base mean the same thing on whichever CPU runs
 * it.  FS base: wrfsbase when CPUID.7:EBX[0] says the instructions exist
 * (CR4.FSGSBASE is then set), else the IA32_FS_BASE MSR.
 */
#include "cpufeat.h"
#include "x86.h"

struct cpufeat cpufeat;

static uint8_t fpu_initial[4096] __attribute__((aligned(64)));

/** cpufeat_probe - read CPUID once, on the boot CPU.  Returns. */
void cpufeat_probe(void)
{
	uint32_t a, b, c, d, max, maxext;

	cpuid(0, 0, &max, &b, &c, &d);
	for (int i = 0; i < 4; i++) {
		cpufeat.vendor[i] = (char)(b >> (8 * i));
		cpufeat.vendor[4 + i] = (char)(d >> (8 * i));
		cpufeat.vendor[8 + i] = (char)(c >> (8 * i));
	}
	cpuid(1, 0, &a, &b, &c, &d);
	cpufeat.xsave = (c >> 26) & 1;
	cpufeat.pge = (d >> 13) & 1;
	if (max >= 7) {
		cpuid(7, 0, &a, &b, &c, &d);
		cpufeat.fsgsbase = b & 1;
	}
	cpuid(0x80000000, 0, &maxext, &b, &c, &d);
	if (maxext >= 0x80000001) {
		cpuid(0x80000001, 0, &a, &b, &c, &d);
		cpufeat.nx = (d >> 20) & 1;
	}
	if (maxext >= 0x80000004) {
		uint32_t *w = (uint32_t *)cpufeat.brand;
		for (uint32_t l = 0; l < 3; l++)
			cpuid(0x80000002 + l, 0, &w[4 * l], &w[4 * l + 1],
			      &w[4 * l + 2], &w[4 * l + 3]);
	}
	if (cpufeat.xsave) {
		cpuid(0xd, 0, &a, &b, &c, &d);
		/* x87 | SSE | AVX, whichever the CPU offers. */
		cpufeat.xcr0 = a & 0x7;
	}
}

/**
 * cpu_enable_features - set this CPU's CR0/CR4/XCR0 for SSE, xsave,
 * fsgsbase and global pages.  Interrupts disabled; after cpufeat_probe().
 * The first call (boot CPU) also records the initial FPU state.  Returns.
 */
void cpu_enable_features(void)
{
	uint64_t cr0 = read_cr0();
	cr0 &= ~(CR0_EM | CR0_TS);
	cr0 |= CR0_MP | CR0_NE | CR0_WP;
	write_cr0(cr0);

	uint64_t cr4 = read_cr4() | CR4_OSFXSR | CR4_OSXMMEXCPT;
	if (cpufeat.fsgsbase)
		cr4 |= CR4_FSGSBASE;
	if (cpufeat.xsave)
		cr4 |= CR4_OSXSAVE;
	if (cpufeat.pge)
		cr4 |= CR4_PGE;
	write_cr4(cr4);

	if (cpufeat.xsave) {
		xsetbv(0, cpufeat.xcr0);
		uint32_t a, b, c, d;
		cpuid(0xd, 0, &a, &b, &c, &d);
		if (!cpufeat.fpu_size)
			cpufeat.fpu_size = b;	/* size for the enabled XCR0 */
	} else if (!cpufeat.fpu_size) {
		cpufeat.fpu_size = 512;		/* fxsave */
	}
	if (cpufeat.nx)
		wrmsr(MSR_EFER, rdmsr(MSR_EFER) | EFER_NXE);

	static bool captured;
	if (!captured) {
		uint32_t mxcsr = 0x1f80;	/* all exceptions masked */
		__asm__ volatile("fninit; ldmxcsr %0" : : "m"(mxcsr));
		if (cpufeat.fpu_size <= sizeof(fpu_initial)) {
			for (uint32_t i = 0; i < sizeof(fpu_initial); i++)
				fpu_initial[i] = 0;
			fpu_save(fpu_initial);
			captured = true;
		}
	}
}

void fsbase_write(uint64_t v)
{
	if (cpufeat.fsgsbase)
		__asm__ volatile("wrfsbase %0" : : "r"(v) : "memory");
	else
		wrmsr(MSR_FS_BASE, v);
}

uint64_t fsbase_read(void)
{
	uint64_t v;

	if (!cpufeat.fsgsbase)
		return rdmsr(MSR_FS_BASE);
	__asm__ volatile("rdfsbase %0" : "=r"(v));
	return v;
}

void gsbase_write(uint64_t v)
{
	wrmsr(MSR_GS_BASE, v);
}

void fpu_save(void *area)
{
	if (cpufeat.xsave)
		__asm__ volatile("xsave64 (%0)" : : "r"(area),
				 "a"((uint32_t)cpufeat.xcr0), "d"(0) : "memory");
	else
		__asm__ volatile("fxsave64 (%0)" : : "r"(area) : "memory");
}

void fpu_restore(const void *area)
{
	if (cpufeat.xsave)
		__asm__ volatile("xrstor64 (%0)" : : "r"(area),
				 "a"((uint32_t)cpufeat.xcr0), "d"(0) : "memory");
	else
		__asm__ volatile("fxrstor64 (%0)" : : "r"(area) : "memory");
}

/** fpu_init_area - fill @area with the state a new thread starts with. */
void fpu_init_area(void *area)
{
	uint8_t *d = area;

	for (uint32_t i = 0; i < cpufeat.fpu_size; i++)
		d[i] = fpu_initial[i];
}
