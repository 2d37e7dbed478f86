/*
 * kernel/bootinfo.h - what the boot loader handed over, copied out of the
 * loader's structures before any memory is allocated.
 */
#ifndef RT0_BOOTINFO_H
#define RT0_BOOTINFO_H

#include "lib.h"

#define MEM_USABLE	1
#define MEM_RESERVED	2
#define MEM_ACPI	3
#define MEM_NVS		4
#define MEM_BAD		5

#define BOOT_MAX_REGIONS 64
#define BOOT_CMDLINE_MAX 1024

struct mem_region {
	uint64_t base;
	uint64_t len;
	uint32_t type;		/* MEM_* (the E820 numbering) */
};

struct bootinfo {
	const char *loader;		/* "pvh" or "multiboot2" */
	char cmdline[BOOT_CMDLINE_MAX];	/* NUL-terminated */
	bool cmdline_too_long;		/* the loader's did not fit */
	uint64_t rsdp;			/* physical address, 0 if not given */
	uint8_t rsdp_copy[36];		/* multiboot2 hands a copy, not a pointer */
	struct mem_region mem[BOOT_MAX_REGIONS];
	uint32_t nmem;
};

extern struct bootinfo bootinfo;	/* filled once by bootinfo_parse() */

/*
 * bootinfo_parse - copy the command line, memory map and RSDP location
 * from the loader's structure at @info (@kind: BOOT_MB2 or BOOT_PVH) into
 * bootinfo.  Panics with a clear message if there is no memory map.
 */
void bootinfo_parse(uint32_t kind, uint64_t info);

#endif
