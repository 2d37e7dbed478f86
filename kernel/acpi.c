/*
 * kernel/acpi.c - finding CPUs through ACPI.
 *
 * Runs under the boot page tables (the first 4 GiB identity mapped), where
 * every ACPI table QEMU or a PC firmware places is reachable.
 */
#include "acpi.h"
#include "bootinfo.h"
#include "../arch/x86_64/lapic.h"

struct acpi_info acpi;

struct rsdp {
	char sig[8];			/* "RSD PTR " */
	uint8_t checksum;		/* first 20 bytes */
	char oem[6];
	uint8_t revision;
	uint32_t rsdt;
	uint32_t length;		/* revision >= 2 from here */
	uint64_t xsdt;
	uint8_t xchecksum;		/* whole structure */
	uint8_t reserved[3];
} __attribute__((packed));

struct sdt {
	char sig[4];
	uint32_t length;
	uint8_t revision;
	uint8_t checksum;
	char oem[6];
	char oem_table[8];
	uint32_t oem_rev;
	uint32_t creator;
	uint32_t creator_rev;
} __attribute__((packed));
BUILD_ASSERT(sizeof(struct sdt) == 36);

struct madt {
	struct sdt h;
	uint32_t lapic_addr;
	uint32_t flags;
	uint8_t entries[];
} __attribute__((packed));

#define MADT_LAPIC		0
#define MADT_LAPIC_OVERRIDE	5
#define MADT_X2APIC		9
#define MADT_ENABLED		1
#define MADT_ONLINE_CAPABLE	2

static bool sum_ok(const void *p, uint32_t len)
{
	const uint8_t *b = p;
	uint8_t s = 0;

	for (uint32_t i = 0; i < len; i++)
		s += b[i];
	return s == 0;
}

static const struct rsdp *rsdp_check(uint64_t pa)
{
	const struct rsdp *r = (const struct rsdp *)pa;

	if (memcmp(r->sig, "RSD PTR ", 8) || !sum_ok(r, 20))
		return NULL;
	if (r->revision >= 2 && !sum_ok(r, sizeof(*r)))
		return NULL;
	return r;
}

static const struct rsdp *rsdp_scan(uint64_t lo, uint64_t hi)
{
	for (uint64_t p = lo; p + sizeof(struct rsdp) <= hi; p += 16) {
		const struct rsdp *r = rsdp_check(p);
		if (r)
			return r;
	}
	return NULL;
}

static const struct rsdp *rsdp_find(void)
{
	const struct rsdp *r;

	if (bootinfo.rsdp && (r = rsdp_check(bootinfo.rsdp))) {
		acpi.rsdp_from = "loader";
		return r;
	}
	uint64_t ebda = (uint64_t)*(const uint16_t *)0x40e << 4;
	if (ebda >= 0x80000 && ebda < 0xa0000 &&
	    (r = rsdp_scan(ebda, ebda + 1024))) {
		acpi.rsdp_from = "EBDA";
		return r;
	}
	if ((r = rsdp_scan(0xe0000, 0x100000))) {
		acpi.rsdp_from = "BIOS area";
		return r;
	}
	return NULL;
}

static const struct sdt *table(uint64_t pa, const char *sig)
{
	const struct sdt *t = (const struct sdt *)pa;

	if (!pa || memcmp(t->sig, sig, 4))
		return NULL;
	if (!sum_ok(t, t->length)) {
		kprintf("acpi: %.4s at 0x%lx has a bad checksum; ignored\n",
			sig, pa);
		return NULL;
	}
	return t;
}

static const struct madt *madt_find(const struct rsdp *r)
{
	const struct sdt *root = NULL;
	bool x = false;

	if (r->revision >= 2 && r->xsdt && (root = table(r->xsdt, "XSDT")))
		x = true;
	else if (!(root = table(r->rsdt, "RSDT")))
		panic("acpi: neither XSDT nor RSDT is valid (RSDP at %p)", r);
	acpi.root_kind = x ? "XSDT" : "RSDT";
	memcpy(acpi.oem, root->oem, 6);

	uint32_t n = (root->length - sizeof(*root)) / (x ? 8 : 4);
	const uint8_t *ents = (const uint8_t *)(root + 1);
	for (uint32_t i = 0; i < n; i++) {
		uint64_t pa = x ? ((const uint64_t *)ents)[i]
				: ((const uint32_t *)ents)[i];
		if (pa && !memcmp(((const struct sdt *)pa)->sig, "APIC", 4))
			return (const struct madt *)table(pa, "APIC");
	}
	return NULL;
}

static void add_cpu(uint32_t apic_id)
{
	for (uint32_t i = 0; i < acpi.napic; i++)
		if (acpi.apic_ids[i] == apic_id)
			return;		/* listed twice (LAPIC and x2APIC) */
	if (acpi.napic < MAX_CPUS)
		acpi.apic_ids[acpi.napic++] = apic_id;
	else
		acpi.nskipped++;
}

void acpi_init(void)
{
	const struct rsdp *r = rsdp_find();

	if (!r)
		panic("acpi: no RSDP (loader gave none; EBDA and BIOS area "
		      "scanned)");
	acpi.rsdp = (uint64_t)r;
	acpi.revision = r->revision;
	const struct madt *m = madt_find(r);
	if (!m)
		panic("acpi: the %s has no valid MADT (\"APIC\"); cannot find "
		      "CPUs", acpi.root_kind);

	acpi.lapic_pa = m->lapic_addr;
	const uint8_t *p = m->entries, *end = (const uint8_t *)m + m->h.length;
	while (p + 2 <= end && p[1] >= 2) {
		switch (p[0]) {
		case MADT_LAPIC:
			if (*(const uint32_t *)(p + 4) &
			    (MADT_ENABLED | MADT_ONLINE_CAPABLE))
				add_cpu(p[3]);
			break;
		case MADT_X2APIC:
			if (*(const uint32_t *)(p + 8) &
			    (MADT_ENABLED | MADT_ONLINE_CAPABLE))
				add_cpu(*(const uint32_t *)(p + 4));
			break;
		case MADT_LAPIC_OVERRIDE:
			acpi.lapic_pa = *(const uint64_t *)(p + 4);
			break;
		}
		p += p[1];
	}
	if (!acpi.napic)
		panic("acpi: the MADT lists no enabled CPU");
}
