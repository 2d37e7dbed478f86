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

static bool demand_reserving;	/* vm_lock: pt_page counts for the region */
static uint64_t demand_pt_pages;	/* the region's page tables; vm_lock */

static void *pt_page(void)
{
	void *p = page_alloc_zeroed(1);

	if (p && demand_reserving)
		demand_pt_pages++;
	return p;
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

/* ---- demand-zero ranges (goroutine stacks) ---- */

#define DCACHE 16		/* zeroed pages a CPU keeps for faults */
#define DCACHE_LOW 4		/* refill below this, when it is safe */
#define RELEASE_BATCH 64

static struct {
	uint64_t page[DCACHE];
	uint32_t n;
} dcache[MAX_CPUS];		/* this CPU's, interrupts off */
static uint64_t demand_mapped;	/* atomic */
static uint64_t demand_shootdowns;	/* atomic */

bool vm_demand_reserve(uint64_t lo, uint64_t hi)
{
	bool ok = true;

	BUG_ON((lo | hi) & (PAGE_SZ - 1));
	BUG_ON(lo - PAGE_SZ < VM_DEMAND_BASE || hi > VM_DEMAND_END || lo >= hi);
	uint64_t f = spin_lock_irqsave(&vm_lock);
	demand_reserving = true;
	ok = pt_set(root, lo - PAGE_SZ, PTE_GUARD);
	for (uint64_t va = lo; ok && va < hi; va += PAGE_SZ)
		ok = pt_set(root, va, PTE_DEMAND);
	demand_reserving = false;
	spin_unlock_irqrestore(&vm_lock, f);
	return ok;
}

/* A zeroed page from this CPU's cache, refilled first if it runs low and
 * the page allocator's lock is not ours.  Interrupts off. */
static uint64_t dcache_take(void)
{
	uint32_t cpu = this_cpu_id();

	if (dcache[cpu].n < DCACHE_LOW) {
		if (mem_locked_here()) {
			if (!dcache[cpu].n)
				panic("vm: a goroutine stack page fault with "
				      "the page allocator's lock held and no "
				      "page cached");
		} else if (!dcache[cpu].n || spin_none_held()) {
			while (dcache[cpu].n < DCACHE) {
				void *p = page_alloc_zeroed(1);
				if (!p)
					break;
				dcache[cpu].page[dcache[cpu].n++] = (uint64_t)p;
			}
		}
	}
	if (!dcache[cpu].n)
		panic("vm: out of memory for a goroutine stack page");
	return dcache[cpu].page[--dcache[cpu].n];
}

bool vm_demand_fault(uint64_t cr2)
{
	uint64_t va = ALIGN_DOWN(cr2, PAGE_SZ);

	assert_irqs_off();
	if (va < VM_DEMAND_BASE || va >= VM_DEMAND_END || !root)
		return false;
	uint64_t e = pt_lookup(root, va, NULL);
	if ((e & PTE_P) || !(e & PTE_DEMAND))
		return false;	/* a guard, or not reserved: a real fault */
	/* The range's owner is the only one touching this entry, and its
	 * page table exists (reserve): no lock, no allocation. */
	pt_set(root, va, dcache_take() | PTE_P | PTE_W | nx | PTE_DEMAND);
	__atomic_fetch_add(&demand_mapped, 1, __ATOMIC_RELAXED);
	return true;
}

static void flush_tlb(void *arg)
{
	(void)arg;
	write_cr3(read_cr3());
}

static void release_batch(uint64_t *pages, uint32_t n)
{
	if (!n)
		return;
	/* Every CPU that ran the range's goroutine may cache its pages:
	 * flush them all before a page can be reused. */
	write_cr3(read_cr3());
	smp_call_others(flush_tlb, NULL);
	__atomic_fetch_add(&demand_shootdowns, 1, __ATOMIC_RELAXED);
	for (uint32_t i = 0; i < n; i++)
		page_free((void *)pages[i], 1);
	__atomic_fetch_sub(&demand_mapped, n, __ATOMIC_RELAXED);
}

uint64_t vm_demand_release(uint64_t lo, uint64_t hi)
{
	uint64_t pages[RELEASE_BATCH], freed = 0;
	uint32_t n = 0;

	BUG_ON(lo < VM_DEMAND_BASE || hi > VM_DEMAND_END);
	for (uint64_t va = ALIGN_DOWN(lo, PAGE_SZ); va < hi; va += PAGE_SZ) {
		uint64_t e = pt_lookup(root, va, NULL);
		if (!(e & PTE_P))
			continue;
		BUG_ON(!(e & PTE_DEMAND));
		pt_set(root, va, PTE_DEMAND);
		pages[n++] = e & PTE_ADDR;
		freed++;
		if (n == RELEASE_BATCH) {
			release_batch(pages, n);
			n = 0;
		}
	}
	release_batch(pages, n);
	return freed;
}

uint64_t vm_demand_mapped(void)
{
	return __atomic_load_n(&demand_mapped, __ATOMIC_RELAXED);
}

uint64_t vm_demand_pages_held(void)
{
	uint64_t n = vm_demand_mapped() + READ_ONCE(demand_pt_pages);

	for (uint32_t i = 0; i < MAX_CPUS; i++)
		n += READ_ONCE(dcache[i].n);
	return n;
}

uint64_t vm_demand_shootdowns(void)
{
	return __atomic_load_n(&demand_shootdowns, __ATOMIC_RELAXED);
}
