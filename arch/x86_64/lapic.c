/*
 * arch/x86_64/lapic.c - local APIC registers, timer and IPIs (xAPIC).
 *
 * The register page is per CPU at the same physical address, so one pointer
 * serves every CPU.  ICR writes: the high word (destination) first, then the
 * low word, which sends; then poll the delivery-status bit.  An interrupt on
 * this CPU between the two writes could send its own IPI and clobber the
 * destination, so senders disable interrupts around the pair.
 */
#include "lapic.h"
#include "x86.h"

#define REG_ID		0x020
#define REG_TPR		0x080
#define REG_EOI		0x0b0
#define REG_SVR		0x0f0
#define REG_ESR		0x280
#define REG_ICR_LO	0x300
#define REG_ICR_HI	0x310
#define REG_LVT_TIMER	0x320
#define REG_LVT_LINT0	0x350
#define REG_LVT_LINT1	0x360
#define REG_LVT_ERROR	0x370
#define REG_TIMER_INIT	0x380
#define REG_TIMER_CUR	0x390
#define REG_TIMER_DIV	0x3e0

#define SVR_ENABLE	0x100
#define LVT_MASKED	0x10000
#define LVT_PERIODIC	0x20000
#define ICR_PENDING	0x1000
#define ICR_FIXED	0x000
#define ICR_NMI		0x400
#define ICR_INIT	0x500
#define ICR_STARTUP	0x600
#define ICR_ASSERT	0x4000
#define ICR_LEVEL	0x8000
#define ICR_ALL_BUT_SELF 0xc0000

static volatile uint32_t *lapic = (volatile uint32_t *)LAPIC_DEFAULT_PA;

static inline uint32_t rd(uint32_t reg) { return lapic[reg / 4]; }
static inline void wr(uint32_t reg, uint32_t v) { lapic[reg / 4] = v; }

/** lapic_set_base - use the register page at @pa (identity mapped, UC). */
void lapic_set_base(uint64_t pa)
{
	lapic = (volatile uint32_t *)pa;
}

uint64_t lapic_base(void)
{
	return (uint64_t)lapic;
}

/**
 * lapic_init_cpu - enable this CPU's LAPIC: software-enable with
 * @spurious_vector, accept all priorities, mask LINT0/1 and the error LVT,
 * stop the timer.  Interrupts must be disabled.  Returns.
 */
void lapic_init_cpu(uint8_t spurious_vector)
{
	uint64_t msr = rdmsr(MSR_APIC_BASE);
	wrmsr(MSR_APIC_BASE, msr | (1u << 11));	/* global enable */
	wr(REG_SVR, SVR_ENABLE | spurious_vector);
	wr(REG_TPR, 0);
	wr(REG_LVT_LINT0, LVT_MASKED);
	wr(REG_LVT_LINT1, LVT_MASKED);
	wr(REG_LVT_ERROR, LVT_MASKED);
	wr(REG_LVT_TIMER, LVT_MASKED);
	wr(REG_TIMER_INIT, 0);
	wr(REG_ESR, 0);
	wr(REG_EOI, 0);
}

uint32_t lapic_id(void)
{
	return rd(REG_ID) >> 24;
}

void lapic_eoi(void)
{
	wr(REG_EOI, 0);
}

void lapic_timer_periodic(uint8_t vector, uint32_t count)
{
	wr(REG_TIMER_DIV, 0x3);		/* divide by 16 */
	wr(REG_LVT_TIMER, LVT_PERIODIC | vector);
	wr(REG_TIMER_INIT, count);
}

/* Fire @vector once, after @count ticks of the divided clock. */
void lapic_timer_oneshot(uint8_t vector, uint32_t count)
{
	wr(REG_TIMER_DIV, 0x3);
	wr(REG_LVT_TIMER, vector);
	wr(REG_TIMER_INIT, count);
}

/* A masked one-shot count, for calibration: it counts but never fires. */
void lapic_timer_oneshot_masked(uint32_t count)
{
	wr(REG_TIMER_DIV, 0x3);
	wr(REG_LVT_TIMER, LVT_MASKED);
	wr(REG_TIMER_INIT, count);
}

uint32_t lapic_timer_current(void)
{
	return rd(REG_TIMER_CUR);
}

void lapic_timer_stop(void)
{
	wr(REG_LVT_TIMER, LVT_MASKED);
	wr(REG_TIMER_INIT, 0);
}

static void icr_send(uint32_t apic_id, uint32_t lo)
{
	uint64_t f = irq_save();
	wr(REG_ICR_HI, apic_id << 24);
	wr(REG_ICR_LO, lo);
	while (rd(REG_ICR_LO) & ICR_PENDING)
		cpu_relax();
	irq_restore(f);
}

void lapic_send_ipi(uint32_t apic_id, uint8_t vector)
{
	icr_send(apic_id, ICR_FIXED | vector);
}

void lapic_send_nmi(uint32_t apic_id)
{
	icr_send(apic_id, ICR_NMI);
}

void lapic_send_init(uint32_t apic_id)
{
	icr_send(apic_id, ICR_INIT | ICR_ASSERT | ICR_LEVEL);
}

void lapic_send_sipi(uint32_t apic_id, uint8_t page)
{
	icr_send(apic_id, ICR_STARTUP | page);
}

void lapic_broadcast_nmi_others(void)
{
	icr_send(0, ICR_NMI | ICR_ALL_BUT_SELF);
}
