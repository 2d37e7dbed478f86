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

/*
 * Shrinking (vm.h): a page is given back in three steps, with nobody
 * stopped.  vm_shrink_mark turns its entry from present to UNMAPPING
 * (not present; the page, untouched, still named in it); one shootdown
 * round makes every CPU fault on it from then on; vm_shrink_finish then
 * copies the live bytes out of the page (through the identity map) and
 * replaces UNMAPPING by STASH (or by plain demand-zero) with one CAS.
 * Any touch in between finds UNMAPPING and puts the page back as it was
 * (a CAS too), so the finishing CAS fails and the page stays: whoever
 * touches a page always sees its bytes, and a CPU never waits on the
 * shrinker (which waits for every CPU in the shootdown).
 *
 * A stashed page's record holds the live tail of the page, from off to
 * its end.  Its entry holds the record's address (16-byte aligned, below
 * 16 TiB) shifted into the address bits, with PTE_DEMAND | PTE_STASH.
 */
struct vm_stash {
	struct vm_stash *next;	/* on stash_freed, once restored */
	uint32_t off;		/* the live bytes start here */
	uint32_t len;		/* PAGE_SZ - off */
	uint8_t data[];
};

static struct vm_stash *stash_freed;	/* restored records; atomic */
static uint64_t stash_pages;		/* stashed now; atomic */
static uint64_t stash_bytes;		/* their live bytes; atomic */
static uint64_t stash_objects;		/* records, stashed or freed; atomic */

static uint64_t stash_pte(struct vm_stash *s)
{
	BUG_ON((uint64_t)s & 15 || (uint64_t)s >> 44);
	return (((uint64_t)s >> 4) << 12) | PTE_DEMAND | PTE_STASH;
}

static struct vm_stash *stash_of(uint64_t e)
{
	return (struct vm_stash *)(((e & PTE_ADDR) >> 12) << 4);
}

/* @s no longer stands for a page: uncount it and queue it for
 * vm_demand_stash_reclaim (any context: a lock-free push; the reclaimer
 * takes the whole list at once, so no ABA). */
static void stash_retire(struct vm_stash *s)
{
	__atomic_fetch_sub(&stash_pages, 1, __ATOMIC_RELAXED);
	__atomic_fetch_sub(&stash_bytes, s->len, __ATOMIC_RELAXED);
	s->next = __atomic_load_n(&stash_freed, __ATOMIC_RELAXED);
	while (!__atomic_compare_exchange_n(&stash_freed, &s->next, s, true,
					    __ATOMIC_RELEASE, __ATOMIC_RELAXED))
		;
}

static uint64_t present(uint64_t page)
{
	return page | PTE_P | PTE_W | nx | PTE_DEMAND;
}

/*
 * The first touch of a stashed page, from whatever CPU: the one that
 * marks the entry busy makes the page again (a zeroed page from its
 * cache, the live tail copied in) and queues the record to be freed in
 * thread context; any other waits for the entry to stop being busy,
 * which takes a bounded copy and waits on nothing.  Interrupts off.
 */
static void stash_fault(uint64_t *pte, uint64_t e)
{
	if (!(e & PTE_BUSY) &&
	    __atomic_compare_exchange_n(pte, &e, e | PTE_BUSY, false,
					__ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) {
		struct vm_stash *s = stash_of(e);
		uint64_t page = dcache_take();
		memcpy((void *)(page + s->off), s->data, s->len);
		__atomic_store_n(pte, present(page), __ATOMIC_RELEASE);
		__atomic_fetch_add(&demand_mapped, 1, __ATOMIC_RELAXED);
		stash_retire(s);
		return;
	}
	while (__atomic_load_n(pte, __ATOMIC_ACQUIRE) & PTE_BUSY)
		cpu_relax();
}

/* A stashed page nobody will read again: the entry back to demand-zero,
 * the record to be freed.  Thread context. */
static void stash_drop(uint64_t *pte, uint64_t e)
{
	while (e & PTE_BUSY) {	/* someone restores it after all */
		cpu_relax();
		e = __atomic_load_n(pte, __ATOMIC_ACQUIRE);
	}
	if (!(e & PTE_STASH) ||
	    !__atomic_compare_exchange_n(pte, &e, PTE_DEMAND, false,
					 __ATOMIC_ACQ_REL, __ATOMIC_RELAXED))
		return;		/* restored meanwhile: mapped */
	stash_retire(stash_of(e));
}

/* Give back a page dcache_take gave and that was not used (still zero).
 * Interrupts off. */
static void dcache_put(uint64_t page)
{
	uint32_t cpu = this_cpu_id();

	BUG_ON(dcache[cpu].n == DCACHE);	/* dcache_take made room */
	dcache[cpu].page[dcache[cpu].n++] = page;
}

bool vm_demand_fault(uint64_t cr2, uint64_t error)
{
	uint64_t va = ALIGN_DOWN(cr2, PAGE_SZ);

	assert_irqs_off();
	if (va < VM_DEMAND_BASE || va >= VM_DEMAND_END || !root)
		return false;
	uint64_t *pte = pt_leaf(root, va);
	if (!pte)
		return false;
	for (;;) {
		uint64_t e = __atomic_load_n(pte, __ATOMIC_ACQUIRE);
		if (e & PTE_P)	/* put back since we faulted, or a real fault */
			return !(error & PF_ERR_P);
		if (!(e & PTE_DEMAND))
			return false;	/* a guard, or not reserved */
		if (e & PTE_UNMAPPING) {
			/* Being shrunk: take it back, untouched. */
			if (__atomic_compare_exchange_n(pte, &e,
							present(e & PTE_ADDR),
							false, __ATOMIC_ACQ_REL,
							__ATOMIC_ACQUIRE))
				return true;
			continue;
		}
		if (e & PTE_STASH) {
			stash_fault(pte, e);
			return true;
		}
		/* Never touched (or released): its page table exists
		 * (reserve), so no lock and no allocation.  Mostly its
		 * owner touches it (a goroutine on its own stack), but a
		 * backtrace may read it too: one CAS wins, and a loser puts
		 * its page back in the cache. */
		uint64_t page = dcache_take();
		if (__atomic_compare_exchange_n(pte, &e, present(page), false,
						__ATOMIC_ACQ_REL,
						__ATOMIC_ACQUIRE)) {
			__atomic_fetch_add(&demand_mapped, 1, __ATOMIC_RELAXED);
			return true;
		}
		dcache_put(page);
	}
}

static void flush_tlb(void *arg)
{
	(void)arg;
	write_cr3(read_cr3());
}

/* Every CPU that ran a range's goroutine may cache its pages: flush them
 * all, this one too (smp_run_all: with preemption off, so that this is
 * the CPU the others' round leaves out). */
static void shootdown(void)
{
	smp_run_all(flush_tlb, NULL);
	__atomic_fetch_add(&demand_shootdowns, 1, __ATOMIC_RELAXED);
}

void vm_release_flush(struct vm_release *r)
{
	if (!r->n)
		return;
	shootdown();		/* before a page can be reused */
	for (uint32_t i = 0; i < r->n; i++)
		page_free((void *)r->page[i], 1);
	__atomic_fetch_sub(&demand_mapped, r->n, __ATOMIC_RELAXED);
	r->n = 0;
}

static void release_add(struct vm_release *r, uint64_t page)
{
	r->page[r->n++] = page;
	if (r->n == VM_RELEASE_BATCH)
		vm_release_flush(r);
}

uint64_t vm_demand_unmap(struct vm_release *r, uint64_t lo, uint64_t hi)
{
	uint64_t freed = 0;

	BUG_ON(lo < VM_DEMAND_BASE || hi > VM_DEMAND_END);
	for (uint64_t va = ALIGN_DOWN(lo, PAGE_SZ); va < hi; va += PAGE_SZ) {
		uint64_t *pte = pt_leaf(root, va);
		uint64_t e = pte ? __atomic_load_n(pte, __ATOMIC_ACQUIRE) : 0;
		/* A dead G's stack.  A shrink that marked a page before it
		 * died puts it back (or finds this CAS's result), so neither
		 * frees it twice.  A page stashed and never touched again
		 * (the G returned above it and ended) is dropped. */
		if (e & PTE_STASH) {
			stash_drop(pte, e);
			continue;
		}
		if (!(e & PTE_P))
			continue;
		BUG_ON(!(e & PTE_DEMAND));
		if (!__atomic_compare_exchange_n(pte, &e, PTE_DEMAND, false,
						 __ATOMIC_ACQ_REL,
						 __ATOMIC_RELAXED))
			continue;	/* marked by a shrink just now */
		release_add(r, e & PTE_ADDR);
		freed++;
	}
	return freed;
}

uint64_t vm_demand_release(uint64_t lo, uint64_t hi)
{
	struct vm_release r = { .n = 0 };
	uint64_t freed = vm_demand_unmap(&r, lo, hi);

	vm_release_flush(&r);
	return freed;
}

bool vm_shrink_mark(struct vm_shrink *b, uint64_t va, int32_t off)
{
	BUG_ON(va & (PAGE_SZ - 1) || off >= (int32_t)PAGE_SZ || off < -1);
	BUG_ON(off >= 0 && PAGE_SZ - (uint32_t)off > VM_STASH_MAX);
	BUG_ON(va < VM_DEMAND_BASE || va >= VM_DEMAND_END);
	uint64_t *pte = pt_leaf(root, va);
	uint64_t e = pte ? __atomic_load_n(pte, __ATOMIC_ACQUIRE) : 0;

	if (b->n == VM_SHRINK_BATCH || !(e & PTE_P))
		return false;
	BUG_ON(!(e & PTE_DEMAND));
	uint64_t m = (e & PTE_ADDR) | PTE_DEMAND | PTE_UNMAPPING;
	if (!__atomic_compare_exchange_n(pte, &e, m, false, __ATOMIC_ACQ_REL,
					 __ATOMIC_RELAXED))
		return false;	/* cannot change while present: be safe */
	b->page[b->n].pte = pte;
	b->page[b->n].marked = m;
	b->page[b->n].off = off;
	b->n++;
	return true;
}

void vm_shrink_shootdown(struct vm_shrink *b)
{
	if (b->n)
		shootdown();
}

uint64_t vm_shrink_finish(struct vm_shrink *b, uint32_t from, uint32_t to,
			  bool keep)
{
	uint64_t freed = 0;

	for (uint32_t i = from; i < to; i++) {
		struct vm_shrink_page *sp = &b->page[i];
		uint64_t m = sp->marked, page = m & PTE_ADDR, to_e = PTE_DEMAND;
		struct vm_stash *s = NULL;
		if (keep && sp->off >= 0) {
			uint32_t len = PAGE_SZ - (uint32_t)sp->off;
			s = kmalloc(sizeof(*s) + len);
			if (s) {
				s->off = (uint32_t)sp->off;
				s->len = len;
				memcpy(s->data, (void *)(page + s->off), len);
				to_e = stash_pte(s);
			}
		}
		if (keep && (s || sp->off < 0) &&
		    __atomic_compare_exchange_n(sp->pte, &m, to_e, false,
						__ATOMIC_ACQ_REL,
						__ATOMIC_RELAXED)) {
			/* Not present since the shootdown: in no TLB. */
			page_free((void *)page, 1);
			__atomic_fetch_sub(&demand_mapped, 1, __ATOMIC_RELAXED);
			freed++;
			if (s) {
				__atomic_fetch_add(&stash_pages, 1,
						   __ATOMIC_RELAXED);
				__atomic_fetch_add(&stash_bytes, s->len,
						   __ATOMIC_RELAXED);
				__atomic_fetch_add(&stash_objects, 1,
						   __ATOMIC_RELAXED);
			}
			continue;
		}
		kfree(s);	/* touched meanwhile (or not wanted): as it was */
		__atomic_compare_exchange_n(sp->pte, &m, present(page), false,
					    __ATOMIC_ACQ_REL, __ATOMIC_RELAXED);
	}
	return freed;
}

void vm_demand_stash_reclaim(void)
{
	struct vm_stash *s = __atomic_exchange_n(&stash_freed, NULL,
						 __ATOMIC_ACQUIRE);

	while (s) {
		struct vm_stash *next = s->next;
		kfree(s);
		__atomic_fetch_sub(&stash_objects, 1, __ATOMIC_RELAXED);
		s = next;
	}
}

void vm_demand_stash_counts(uint64_t *pages, uint64_t *bytes,
			    uint64_t *objects)
{
	*pages = __atomic_load_n(&stash_pages, __ATOMIC_RELAXED);
	*bytes = __atomic_load_n(&stash_bytes, __ATOMIC_RELAXED);
	*objects = __atomic_load_n(&stash_objects, __ATOMIC_RELAXED);
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
