/*
 * arch/x86_64/x86.h - single instructions as inline functions.
 *
 * Nothing here has state; each function is one instruction (or a fixed
 * pair) with the constraints that make the compiler respect its effects.
 */
#ifndef RT0_X86_H
#define RT0_X86_H

#include <stdbool.h>
#include <stdint.h>

#define MSR_EFER		0xc0000080
#define MSR_FS_BASE		0xc0000100
#define MSR_GS_BASE		0xc0000101
#define MSR_KERNEL_GS_BASE	0xc0000102
#define MSR_APIC_BASE		0x0000001b

#define EFER_NXE		(1u << 11)

#define CR0_MP			(1ul << 1)
#define CR0_EM			(1ul << 2)
#define CR0_TS			(1ul << 3)
#define CR0_NE			(1ul << 5)
#define CR0_WP			(1ul << 16)
#define CR4_PAE			(1ul << 5)
#define CR4_PGE			(1ul << 7)
#define CR4_OSFXSR		(1ul << 9)
#define CR4_OSXMMEXCPT		(1ul << 10)
#define CR4_FSGSBASE		(1ul << 16)
#define CR4_OSXSAVE		(1ul << 18)

#define RFLAGS_IF		(1ul << 9)

static inline void outb(uint16_t port, uint8_t v)
{
	__asm__ volatile("outb %0, %1" : : "a"(v), "Nd"(port));
}

static inline uint8_t inb(uint16_t port)
{
	uint8_t v;
	__asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}

static inline void outw(uint16_t port, uint16_t v)
{
	__asm__ volatile("outw %0, %1" : : "a"(v), "Nd"(port));
}

static inline uint64_t rdmsr(uint32_t msr)
{
	uint32_t lo, hi;
	__asm__ volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msr));
	return ((uint64_t)hi << 32) | lo;
}

static inline void wrmsr(uint32_t msr, uint64_t v)
{
	__asm__ volatile("wrmsr" : : "c"(msr), "a"((uint32_t)v),
			 "d"((uint32_t)(v >> 32)) : "memory");
}

static inline void cpuid(uint32_t leaf, uint32_t sub, uint32_t *a, uint32_t *b,
			 uint32_t *c, uint32_t *d)
{
	__asm__ volatile("cpuid" : "=a"(*a), "=b"(*b), "=c"(*c), "=d"(*d)
			 : "a"(leaf), "c"(sub));
}

static inline uint64_t rdtsc(void)
{
	uint32_t lo, hi;
	__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return ((uint64_t)hi << 32) | lo;
}

/*
 * nonzero32/64 - whether *@p != 0, by one relaxed atomic read that is
 * also the compare: the scheduler's per-switch checks.  (GCC does not
 * fold an __atomic_load_n into the cmp: a load and a test.)
 */
static inline bool nonzero32(const uint32_t *p)
{
	bool r;

	__asm__ volatile("cmpl $0, %1" : "=@ccne"(r) : "m"(*p));
	return r;
}

static inline bool nonzero64(const uint64_t *p)
{
	bool r;

	__asm__ volatile("cmpq $0, %1" : "=@ccne"(r) : "m"(*p));
	return r;
}

/*
 * cas32 - lock cmpxchg: *@p = @new if it was @old; a full barrier.  As
 * __atomic_compare_exchange_n(..., ACQ_REL, ACQUIRE) compiles, but with
 * the operand's address folded into the instruction (GCC 12 first moves
 * it to a register).
 */
static inline bool cas32(uint32_t *p, uint32_t old, uint32_t new)
{
	bool ok;

	__asm__ volatile("lock cmpxchgl %3, %1"
			 : "=@ccz"(ok), "+m"(*p), "+a"(old)
			 : "r"(new) : "memory");
	return ok;
}

/* xchg64 - swap *@p and @v, return the old *@p; a full barrier.  (As
 * cas32: the address folded into the instruction.) */
static inline uint64_t xchg64(uint64_t *p, uint64_t v)
{
	__asm__ volatile("xchgq %0, %1" : "+r"(v), "+m"(*p) :: "memory");
	return v;
}

static inline void cpu_relax(void)
{
	__asm__ volatile("pause" ::: "memory");
}

static inline void cli(void) { __asm__ volatile("cli" ::: "memory"); }
static inline void sti(void) { __asm__ volatile("sti" ::: "memory"); }
static inline void hlt(void) { __asm__ volatile("hlt" ::: "memory"); }

/* sti; hlt: the STI shadow makes the pair atomic, so an interrupt that is
 * already pending wakes the hlt instead of being taken before it. */
static inline void sti_hlt(void) { __asm__ volatile("sti; hlt" ::: "memory"); }

static inline uint64_t read_rflags(void)
{
	uint64_t f;
	__asm__ volatile("pushfq; popq %0" : "=r"(f) : : "memory");
	return f;
}

/* irq_save - disable interrupts and return the previous RFLAGS. */
static inline uint64_t irq_save(void)
{
	uint64_t f = read_rflags();
	cli();
	return f;
}

/* irq_restore - re-enable interrupts if they were enabled in @f. */
static inline void irq_restore(uint64_t f)
{
	if (f & RFLAGS_IF)
		sti();
}

static inline int irq_enabled(void) { return (read_rflags() & RFLAGS_IF) != 0; }

#define DEFINE_CR(n)							\
	static inline uint64_t read_cr##n(void)				\
	{								\
		uint64_t v;						\
		__asm__ volatile("mov %%cr" #n ", %0" : "=r"(v));	\
		return v;						\
	}								\
	static inline void write_cr##n(uint64_t v)			\
	{								\
		__asm__ volatile("mov %0, %%cr" #n : : "r"(v) : "memory"); \
	}
DEFINE_CR(0)
DEFINE_CR(2)
DEFINE_CR(3)
DEFINE_CR(4)
#undef DEFINE_CR

static inline void invlpg(uintptr_t va)
{
	__asm__ volatile("invlpg (%0)" : : "r"(va) : "memory");
}

static inline uint64_t read_rbp(void)
{
	uint64_t v;
	__asm__ volatile("mov %%rbp, %0" : "=r"(v));
	return v;
}

static inline uint64_t read_rsp(void)
{
	uint64_t v;
	__asm__ volatile("mov %%rsp, %0" : "=r"(v));
	return v;
}

static inline uint64_t xgetbv(uint32_t idx)
{
	uint32_t lo, hi;
	__asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(idx));
	return ((uint64_t)hi << 32) | lo;
}

static inline void xsetbv(uint32_t idx, uint64_t v)
{
	__asm__ volatile("xsetbv" : : "c"(idx), "a"((uint32_t)v),
			 "d"((uint32_t)(v >> 32)));
}

#endif
