/*
 * arch/x86_64/cpu_arch.h - the machine part of a per-CPU block: this CPU's
 * GDT, TSS and interrupt-stack-table stacks.  Embedded in struct cpu.
 */
#ifndef RT0_CPU_ARCH_H
#define RT0_CPU_ARCH_H

#include <stdint.h>

/* GDT selectors (same layout on every CPU; each CPU has its own TSS). */
#define SEL_KCODE	0x08
#define SEL_KDATA	0x10
#define SEL_TSS		0x18

/* IST slots (1-based, as the IDT gate encodes them). */
#define IST_DF		1	/* double fault */
#define IST_NMI		2
#define IST_MC		3	/* machine check */
#define IST_PF		4	/* page fault: a stack overflow must not fault again */
#define IST_IRQ		5	/* interrupts: entered here, moved at once (vectors.S) */
#define IST_COUNT	5
#define IST_STACK_SIZE	16384

struct tss {
	uint32_t reserved0;
	uint64_t rsp[3];
	uint64_t reserved1;
	uint64_t ist[7];
	uint64_t reserved2;
	uint16_t reserved3;
	uint16_t iomap_base;
} __attribute__((packed));

struct cpu_arch {
	uint64_t gdt[5];		/* null, code, data, TSS (2 slots) */
	struct tss tss;
	uint8_t *ist_stack[IST_COUNT];	/* bottoms; tops are + IST_STACK_SIZE */
};

/* gdt.c */
void gdt_init_cpu(struct cpu_arch *a);

#endif
