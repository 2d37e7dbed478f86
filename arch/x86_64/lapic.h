/*
 * arch/x86_64/lapic.h - the local APIC in xAPIC (MMIO) mode.
 *
 * TCG has no x2APIC, so rt0 uses the MMIO page (0xfee00000 unless ACPI or
 * the APIC base MSR say otherwise), which must be mapped uncached.
 */
#ifndef RT0_LAPIC_H
#define RT0_LAPIC_H

#include <stdint.h>
#include <stdbool.h>

#define LAPIC_DEFAULT_PA 0xfee00000ull

void lapic_set_base(uint64_t pa);
uint64_t lapic_base(void);
void lapic_init_cpu(uint8_t spurious_vector);
uint32_t lapic_id(void);
void lapic_eoi(void);

/* Timer (divide by 16). */
void lapic_timer_periodic(uint8_t vector, uint32_t count);
void lapic_timer_oneshot(uint8_t vector, uint32_t count);
void lapic_timer_oneshot_masked(uint32_t count);
uint32_t lapic_timer_current(void);
void lapic_timer_stop(void);

/* Inter-processor interrupts. Each waits until the ICR accepted it. */
void lapic_send_ipi(uint32_t apic_id, uint8_t vector);
void lapic_send_nmi(uint32_t apic_id);
void lapic_send_init(uint32_t apic_id);
void lapic_send_sipi(uint32_t apic_id, uint8_t page);
void lapic_broadcast_nmi_others(void);

#endif
