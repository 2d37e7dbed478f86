/*
 * kernel/vm.h - the kernel's page tables: one identity-mapped address
 * space shared by every CPU.
 *
 * Layout (built by vm_init): RAM 4 KiB-mapped read/write/no-execute; the
 * image's text read+execute, rodata and ksyms read-only; page 0 unmapped so
 * a NULL dereference faults; the AP trampoline page executable; the LAPIC
 * page uncached.  Guard pages are PTEs that are not present and carry the
 * software bit PTE_GUARD; faults on them are reported as such.
 */
#ifndef RT0_VM_H
#define RT0_VM_H

#include "lib.h"

void vm_init(void);		/* boot CPU, before the APs start */
uint64_t vm_root(void);		/* CR3 value for APs */

/* vm_readable - true if every byte of [va, va+len) is mapped. */
bool vm_readable(uint64_t va, uint64_t len);
/* vm_writable - true if every byte of [va, va+len) is mapped writable. */
bool vm_writable(uint64_t va, uint64_t len);

/*
 * vm_guard - make the page at @va a guard page (any access faults): at
 * once on this CPU, on each other CPU before it next switches threads and
 * within a tick (lazy shootdown, see vm.c).  Any context.  Returns.
 */
void vm_guard(uint64_t va);

/* vm_tlb_sync - catch this CPU up with guards made elsewhere.  Called at
 * every thread switch and tick; interrupts disabled. */
void vm_tlb_sync(void);

/* vm_unguard - map the guard page at @va back (read/write, no execute). */
void vm_unguard(uint64_t va);

bool vm_is_guard(uint64_t va);

/*
 * Demand-zero memory, for goroutine stacks: the region [VM_DEMAND_BASE,
 * VM_DEMAND_END) of the address space (above all RAM) holds ranges whose
 * pages are mapped only when first touched, each with a guard page below.
 * The caller (sched/stack.c) hands out the addresses and guarantees that
 * no two parties touch one range's pages at once: the CPU running the
 * goroutine that owns it faults pages in; its releaser (the goroutine
 * dead) gives them back.  A stashed page (below) is the exception: any
 * CPU may touch it, and the first to do so brings it back.
 *
 * vm_demand_reserve - make [lo, hi) demand-zero and the page below lo a
 *	guard (page-table pages allocated now).  Thread context.  False if
 *	out of memory for page tables.
 * vm_demand_fault - the page fault handler's first step (@error: its
 *	error code): if @cr2 is in a demand-zero page not yet mapped, map a
 *	zeroed page there (from this CPU's cache of zeroed pages, refilled
 *	without a lock the faulting code could hold: a fault with the page
 *	allocator's lock held and an empty cache panics), or make a stashed
 *	or shrinking page again (below), and return true.  Exception
 *	context.
 * vm_demand_release - unmap the pages of [lo, hi) that are mapped, make
 *	them demand-zero again, shoot their TLB entries down on every CPU
 *	(one IPI round per batch of up to 64 pages) and free them.  Thread
 *	context, interrupts on, nobody touching the range.  Returns the pages
 *	freed.
 * vm_demand_mapped - demand-zero pages mapped now (all ranges).
 * vm_demand_shootdowns - IPI rounds vm_demand_release has made.
 */
#define VM_DEMAND_BASE 0x0000100000000000ull	/* 16 TiB */
#define VM_DEMAND_END  0x0000200000000000ull	/* 32 TiB */
bool vm_demand_reserve(uint64_t lo, uint64_t hi);
bool vm_demand_fault(uint64_t cr2, uint64_t error);
uint64_t vm_demand_release(uint64_t lo, uint64_t hi);

/*
 * Giving pages back in batches: vm_demand_unmap gathers the pages it
 * unmaps in a struct vm_release, and vm_release_flush shoots them down
 * on every CPU (one IPI round, also when the batch fills) and frees them.
 * Thread context, interrupts on.  Until the flush returns, a CPU may
 * still reach an unmapped page through its TLB: nobody may touch those
 * ranges meanwhile.
 */
#define VM_RELEASE_BATCH 64
struct vm_release {
	uint32_t n;
	uint64_t page[VM_RELEASE_BATCH];
};
void vm_release_flush(struct vm_release *r);
uint64_t vm_demand_unmap(struct vm_release *r, uint64_t lo, uint64_t hi);

/*
 * Shrinking pages that others may touch at any time (a parked
 * goroutine's stack: its wakers reach its sudogs), with nothing stopped:
 * vm_shrink_mark - start on the mapped page at @va: from now on a touch
 *	puts it back untouched.  @off >= 0: its bytes [off, PAGE_SZ) are
 *	live and will go to a heap record (PAGE_SZ - off <= VM_STASH_MAX);
 *	-1: none are.  False if not mapped or the batch is full.
 * vm_shrink_shootdown - one IPI round: no CPU reaches a marked page
 *	through its TLB any more.
 * vm_shrink_finish - after the shootdown, for marks [from, to): if @keep,
 *	give back each page nobody touched since its mark (its live bytes
 *	copied to a record first: the page is then "stashed", and the first
 *	touch, by any CPU, makes it again: vm_demand_fault); otherwise, or if
 *	it was touched, it stays as it was.  Returns the pages given back.
 *	The caller decides @keep after the shootdown, from what it knows of
 *	the owner (say, the goroutine still parked where it was).
 * All thread context, interrupts on; reset b->n to reuse the batch.
 * vm_demand_stash_reclaim - free the records of pages made again since
 *	(the fault handler cannot call kfree).  Thread context.
 * vm_demand_stash_counts - pages stashed now, their live bytes, and the
 *	records held (stashed or waiting for reclaim).
 */
#define VM_SHRINK_BATCH 64
#define VM_STASH_MAX (2048 - 16)
struct vm_shrink {
	uint32_t n;
	struct vm_shrink_page {
		uint64_t *pte;
		uint64_t marked;	/* the UNMAPPING entry */
		int32_t off;
	} page[VM_SHRINK_BATCH];
};
bool vm_shrink_mark(struct vm_shrink *b, uint64_t va, int32_t off);
void vm_shrink_shootdown(struct vm_shrink *b);
uint64_t vm_shrink_finish(struct vm_shrink *b, uint32_t from, uint32_t to,
			  bool keep);
void vm_demand_stash_reclaim(void);
void vm_demand_stash_counts(uint64_t *pages, uint64_t *bytes,
			    uint64_t *objects);
uint64_t vm_demand_mapped(void);
uint64_t vm_demand_shootdowns(void);
/* vm_demand_pages_held - pages the region holds: mapped, its page tables,
 * and the CPUs' caches of zeroed pages (the leak checker's figure). */
uint64_t vm_demand_pages_held(void);


#endif
