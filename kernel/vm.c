/*
 * kernel/vm.c - building the kernel page tables and editing them at run
 * time (guard pages).
 *
 * All RAM is mapped with 4 KiB pages from the start, so turning a page into
 * a guard never needs a page-table allocation.  Edits take vm_lock.
 *
 * TLB shootdown is lazy.  A guard flushes this CPU's entry at once and
 * bumps guard_gen; every other CPU flushes its whole TLB (a CR3 reload:
 * rt0 uses no global pages) when it next switches threads or takes a tick
 * and finds its tlb_gen behind.  So a thread created after a guard never
 * runs on a CPU that still caches the page as present, and every CPU has
 * caught up within a tick -- without an IPI round per stack, which made
 * creating threads cost a machine-wide cross call each.  A stale entry
 * could only matter to code touching a freshly guarded page on another CPU
 * within that tick, i.e. an overflow of a stack nobody runs on yet.
 * Un-guarding needs no flush: CPUs do not cache not-present entries.
 */
#include "vm.h"
#include "bootinfo.h"
#include "cpu.h"
#include "mem.h"
#include "smp.h"
#include "../arch/x86_64/paging.h"
#include "../arch/x86_64/lapic.h"
#include "../arch/x86_64/cpufeat.h"
#include "../arch/x86_64/x86.h"
#include "../boot/boot.h"

extern char _kernel_start[], _text_start[], _text_end[], _rodata_start[],
	_rodata_end[], _data_start[], _data_end[], _ksyms_start[],
	_kernel_end[], boot_stack_guard[];

static struct spinlock vm_lock = SPINLOCK_INIT(LOCKRANK_VM);
static uint64_t *root;		/* constant after vm_init; tables: vm_lock */
static uint64_t nx;		/* PTE_NX if the CPU has it */
static uint64_t guard_gen;	/* bumped by every vm_guard; atomic */

static void *pt_page(void)
{
	return page_alloc_zeroed(1);
}

static void map(uint64_t lo, uint64_t hi, uint64_t flags, bool large)
{
	lo = ALIGN_DOWN(lo, PAGE_SZ);
	hi = ALIGN_UP(hi, PAGE_SZ);
	if (lo < hi && !pt_map(root, lo, lo, hi - lo, flags, large))
		panic("vm: out of memory mapping [0x%lx, 0x%lx)", lo, hi);
}

/**
 * vm_init - build the kernel page tables and switch to them.  Boot CPU,
 * after mem_init and acpi_init (the LAPIC address is known), interrupts
 * disabled.  Returns.
 */
void vm_init(void)
{
	assert_irqs_off();
	nx = cpufeat.nx ? PTE_NX : 0;
	pt_init(pt_page);
	root = pt_new_root();
	if (!root || (uint64_t)root >= (1ull << 32))
		panic("vm: no page below 4 GiB for the root table");

	/*
	 * Firmware regions (ACPI, reserved) first, in 2 MiB pages; then RAM
	 * in 4 KiB pages, which splits any large page it shares a 2 MiB
	 * region with.
	 */
	for (uint32_t i = 0; i < bootinfo.nmem; i++) {
		const struct mem_region *r = &bootinfo.mem[i];
		if (r->type != MEM_USABLE && r->type != MEM_BAD &&
		    r->base >= LARGE_SIZE)
			map(ALIGN_DOWN(r->base, LARGE_SIZE),
			    ALIGN_UP(r->base + r->len, LARGE_SIZE),
			    PTE_W | nx, true);
	}
	for (uint32_t i = 0; i < bootinfo.nmem; i++) {
		const struct mem_region *r = &bootinfo.mem[i];
		if (r->type == MEM_USABLE)
			map(r->base, r->base + r->len, PTE_W | nx, false);
	}

	/* Low 2 MiB in 4 KiB pages; page 0 left out so NULL faults. */
	map(PAGE_SZ, LARGE_SIZE, PTE_W | nx, false);
	map(TRAMPOLINE_PA, TRAMPOLINE_PA + PAGE_SZ, PTE_W, false);
	pt_set(root, 0, 0);

	/* The image, section by section. */
	map((uint64_t)_kernel_start, (uint64_t)_text_start, nx, false);
	map((uint64_t)_text_start, (uint64_t)_text_end, 0, false);
	map((uint64_t)_rodata_start, (uint64_t)_rodata_end, nx, false);
	map((uint64_t)_data_start, (uint64_t)_data_end, PTE_W | nx, false);
	map((uint64_t)_ksyms_start, (uint64_t)_kernel_end, nx, false);

	/* kmain's stack overflows into a guard page, not into the tables. */
	pt_set(root, (uint64_t)boot_stack_guard, (uint64_t)boot_stack_guard |
	       PTE_GUARD);

	/* The LAPIC's registers: uncached, never global-cached as RAM. */
	map(lapic_base(), lapic_base() + PAGE_SZ, PTE_W | PTE_UC | nx, false);

	pt_activate(root);
}

uint64_t vm_root(void)
{
	return (uint64_t)root;
}

static bool range_ok(uint64_t va, uint64_t len, uint64_t need)
{
	uint64_t end = va + len;

	if (end < va)
		return false;
	for (uint64_t p = ALIGN_DOWN(va, PAGE_SZ); p < end;) {
		uint64_t size;
		uint64_t e = pt_lookup(root, p, &size);
		if ((e & need) != need)
			return false;
		p = ALIGN_DOWN(p, size) + size;
	}
	return true;
}

bool vm_readable(uint64_t va, uint64_t len)
{
	return root ? range_ok(va, len, PTE_P) : true;
}

bool vm_writable(uint64_t va, uint64_t len)
{
	return root ? range_ok(va, len, PTE_P | PTE_W) : true;
}

void vm_tlb_sync(void)
{
	struct cpu *c = this_cpu();
	uint64_t g = __atomic_load_n(&guard_gen, __ATOMIC_ACQUIRE);

	assert_irqs_off();
	if (c->tlb_gen != g) {
		c->tlb_gen = g;
		write_cr3(read_cr3());
	}
}

void vm_guard(uint64_t va)
{
	BUG_ON(va & (PAGE_SZ - 1));
	if (!mem_page_in_use(va))
		panic("vm_guard: page 0x%lx is free", va);
	uint64_t f = spin_lock_irqsave(&vm_lock);
	uint64_t e = pt_lookup(root, va, NULL);
	BUG_ON(!(e & PTE_P));
	pt_set(root, va, (e & PTE_ADDR) | PTE_GUARD);
	invlpg(va);
	__atomic_fetch_add(&guard_gen, 1, __ATOMIC_RELEASE);
	spin_unlock_irqrestore(&vm_lock, f);
}

void vm_unguard(uint64_t va)
{
	uint64_t f = spin_lock_irqsave(&vm_lock);
	uint64_t e = pt_lookup(root, va, NULL);
	BUG_ON(!(e & PTE_GUARD));
	pt_set(root, va, (e & PTE_ADDR) | PTE_P | PTE_W | nx);
	invlpg(va);
	spin_unlock_irqrestore(&vm_lock, f);
}

bool vm_is_guard(uint64_t va)
{
	uint64_t e = root ? pt_lookup(root, va, NULL) : 0;

	return !(e & PTE_P) && (e & PTE_GUARD);
}
