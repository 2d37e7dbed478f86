/*
 * kernel/acpi.h - the ACPI tables rt0 reads: RSDP -> RSDT/XSDT -> MADT.
 */
#ifndef RT0_ACPI_H
#define RT0_ACPI_H

#include "lib.h"
#include "cpu.h"

struct acpi_info {
	uint64_t rsdp;			/* where the RSDP was found */
	const char *rsdp_from;		/* "loader", "EBDA" or "BIOS area" */
	int revision;			/* RSDP revision (0: ACPI 1.0) */
	const char *root_kind;		/* "XSDT" or "RSDT" */
	char oem[7];
	uint64_t lapic_pa;		/* from the MADT (and its override) */
	uint32_t napic;			/* enabled CPUs in the MADT */
	uint32_t apic_ids[MAX_CPUS];	/* their LAPIC ids, MADT order */
	uint32_t nskipped;		/* CPUs beyond MAX_CPUS */
};

extern struct acpi_info acpi;

/*
 * acpi_init - find the RSDP (bootinfo, then the EBDA, then 0xe0000-0xfffff),
 * walk the XSDT (or RSDT) to the MADT and record the LAPIC address and the
 * enabled CPUs' LAPIC ids.  Checksums are verified.  Panics with a clear
 * message if there is no usable MADT.  Boot CPU, early identity map.
 */
void acpi_init(void);

#endif
