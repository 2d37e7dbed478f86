/*
 * arch/x86_64/gdt.c - per-CPU GDT and TSS.
 *
 * Every CPU loads its own GDT so that its TSS descriptor points at its own
 * TSS, whose IST slots point at its own emergency stacks.  Everything runs in
 * ring 0, so the TSS's RSP0 is unused; only the IST matters.
 */
#include "cpu_arch.h"

_Static_assert(sizeof(struct tss) == 104, "TSS layout");

/**
 * gdt_init_cpu - build and load this CPU's GDT and TSS.
 * @a: this CPU's block; a->ist_stack[] must already point at IST_COUNT
 *     stacks of IST_STACK_SIZE bytes each.
 *
 * Reloads CS, DS, ES, SS and TR.  FS and GS are left alone (null selectors
 * from the entry code), so their bases survive.  Interrupts must be disabled.  Returns.
 */
void gdt_init_cpu(struct cpu_arch *a)
{
	uint64_t base = (uint64_t)&a->tss;
	uint64_t limit = sizeof(a->tss) - 1;

	for (int i = 0; i < IST_COUNT; i++)
		a->tss.ist[i] = (uint64_t)(a->ist_stack[i] + IST_STACK_SIZE);
	a->tss.iomap_base = sizeof(a->tss);

	a->gdt[0] = 0;
	a->gdt[1] = 0x00af9a000000ffffull;	/* 64-bit code, DPL 0 */
	a->gdt[2] = 0x00cf92000000ffffull;	/* data, DPL 0 */
	a->gdt[3] = (limit & 0xffff) | ((base & 0xffffff) << 16) |
		    (0x89ull << 40) |		/* present, 64-bit TSS available */
		    (((limit >> 16) & 0xf) << 48) | (((base >> 24) & 0xff) << 56);
	a->gdt[4] = base >> 32;

	struct {
		uint16_t limit;
		uint64_t base;
	} __attribute__((packed)) desc = { sizeof(a->gdt) - 1, (uint64_t)a->gdt };

	__asm__ volatile(
		"lgdt %0\n\t"
		"pushq %1\n\t"
		"leaq 1f(%%rip), %%rax\n\t"
		"pushq %%rax\n\t"
		"lretq\n"
		"1:\n\t"
		"movl %2, %%eax\n\t"
		"movl %%eax, %%ds\n\t"
		"movl %%eax, %%es\n\t"
		"movl %%eax, %%ss\n\t"
		"movw %3, %%ax\n\t"
		"ltr %%ax"
		: : "m"(desc), "i"(SEL_KCODE), "i"(SEL_KDATA), "i"(SEL_TSS)
		: "rax", "memory");
}
