/*
 * kernel/bootinfo.c - reading the PVH start info or the multiboot2
 * information structure.
 *
 * Both live in memory the page allocator will later hand out, so everything
 * needed is copied into the static bootinfo here, first thing.
 */
#include "bootinfo.h"
#include "../boot/boot.h"

struct bootinfo bootinfo;

/* struct hvm_start_info (Xen's arch-x86/hvm/start_info.h), version 1. */
struct hvm_start_info {
	uint32_t magic;
	uint32_t version;
	uint32_t flags;
	uint32_t nr_modules;
	uint64_t modlist_paddr;
	uint64_t cmdline_paddr;		/* +24 */
	uint64_t rsdp_paddr;		/* +32 */
	uint64_t memmap_paddr;		/* +40 */
	uint32_t memmap_entries;	/* +48 */
	uint32_t reserved;
};
BUILD_ASSERT(__builtin_offsetof(struct hvm_start_info, cmdline_paddr) == 24);
BUILD_ASSERT(__builtin_offsetof(struct hvm_start_info, rsdp_paddr) == 32);
BUILD_ASSERT(__builtin_offsetof(struct hvm_start_info, memmap_entries) == 48);

struct hvm_memmap_entry {
	uint64_t addr;
	uint64_t size;
	uint32_t type;
	uint32_t reserved;
};

#define MB2_TAG_END	0
#define MB2_TAG_CMDLINE	1
#define MB2_TAG_MMAP	6
#define MB2_TAG_ACPI1	14
#define MB2_TAG_ACPI2	15

struct mb2_tag {
	uint32_t type;
	uint32_t size;
};

static void copy_cmdline(const char *s)
{
	size_t i = 0;

	if (s)
		for (; s[i] && i + 1 < sizeof(bootinfo.cmdline); i++)
			bootinfo.cmdline[i] = s[i];
	bootinfo.cmdline[i] = '\0';
	/* Never a silently cut line (a cut "hz=1000" would read hz=10). */
	bootinfo.cmdline_too_long = s && s[i];
}

static void add_region(uint64_t base, uint64_t len, uint32_t type)
{
	if (bootinfo.nmem < BOOT_MAX_REGIONS && len)
		bootinfo.mem[bootinfo.nmem++] =
			(struct mem_region){ base, len, type };
}

static void parse_pvh(const struct hvm_start_info *si)
{
	if (si->magic != PVH_START_MAGIC)
		panic("PVH start info at %p has magic 0x%x, not 0x%x", si,
		      si->magic, PVH_START_MAGIC);
	bootinfo.loader = "pvh";
	copy_cmdline((const char *)si->cmdline_paddr);
	bootinfo.rsdp = si->rsdp_paddr;
	if (si->version >= 1 && si->memmap_paddr) {
		const struct hvm_memmap_entry *e =
			(const void *)si->memmap_paddr;
		for (uint32_t i = 0; i < si->memmap_entries; i++)
			add_region(e[i].addr, e[i].size, e[i].type);
	}
}

static void parse_mb2(const uint8_t *mbi)
{
	uint32_t total = *(const uint32_t *)mbi;
	const uint8_t *p = mbi + 8;

	bootinfo.loader = "multiboot2";
	while (p < mbi + total) {
		const struct mb2_tag *t = (const void *)p;
		if (t->type == MB2_TAG_END)
			break;
		switch (t->type) {
		case MB2_TAG_CMDLINE:
			copy_cmdline((const char *)(p + 8));
			break;
		case MB2_TAG_MMAP: {
			uint32_t esize = *(const uint32_t *)(p + 8);
			for (const uint8_t *e = p + 16; e + esize <= p + t->size;
			     e += esize)
				add_region(*(const uint64_t *)e,
					   *(const uint64_t *)(e + 8),
					   *(const uint32_t *)(e + 16));
			break;
		}
		case MB2_TAG_ACPI1:
		case MB2_TAG_ACPI2: {
			/* A copy of the RSDP; prefer the 2.0 one (tag 15). */
			uint32_t n = t->size - 8;
			if (n > sizeof(bootinfo.rsdp_copy))
				n = sizeof(bootinfo.rsdp_copy);
			if (t->type == MB2_TAG_ACPI2 || !bootinfo.rsdp) {
				memcpy(bootinfo.rsdp_copy, p + 8, n);
				bootinfo.rsdp = (uint64_t)bootinfo.rsdp_copy;
			}
			break;
		}
		}
		p += ALIGN_UP(t->size, 8);
	}
	/* GRUB may pass the kernel's path as the first word: drop it. */
	if (bootinfo.cmdline[0] == '/') {
		char *sp = strchr(bootinfo.cmdline, ' ');
		size_t skip = sp ? (size_t)(sp - bootinfo.cmdline) + 1
				 : strlen(bootinfo.cmdline);
		memmove(bootinfo.cmdline, bootinfo.cmdline + skip,
			strlen(bootinfo.cmdline + skip) + 1);
	}
}

void bootinfo_parse(uint32_t kind, uint64_t info)
{
	if (kind == BOOT_PVH)
		parse_pvh((const struct hvm_start_info *)info);
	else if (kind == BOOT_MB2)
		parse_mb2((const uint8_t *)info);
	else
		panic("unknown boot kind %u", kind);
	if (!bootinfo.nmem)
		panic("the %s loader gave no memory map", bootinfo.loader);
}
