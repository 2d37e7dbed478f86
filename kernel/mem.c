/*
 * kernel/mem.c - the page allocator.
 *
 * A bitmap over physical memory, one bit per 4 KiB page (1 = in use), with
 * a next-fit hint, under one spinlock.  Usable regions above 1 MiB minus the
 * image and the bitmap itself start free; everything else (low memory, the
 * AP trampoline page, ACPI, holes) is never handed out.  Allocation scans
 * words, so a mostly-full bitmap costs a word per 64 pages.
 */
#include "mem.h"
#include "bootinfo.h"
#include "exit.h"
#include "spinlock.h"
#include "vm.h"

extern char _kernel_start[], _kernel_end[];

static struct spinlock mem_lock = SPINLOCK_INIT(LOCKRANK_MEM);
static uint64_t *bitmap;	/* mem_lock */
static uint64_t npages;		/* bitmap length in pages; constant */
static uint64_t hint;		/* next word to search from; mem_lock */
static uint64_t nfree;		/* mem_lock (read racily) */
static uint64_t ntotal;		/* constant after mem_init */

static inline bool bit_get(uint64_t pg) { return bitmap[pg / 64] >> (pg % 64) & 1; }
static inline void bit_set(uint64_t pg) { bitmap[pg / 64] |= 1ull << (pg % 64); }
static inline void bit_clr(uint64_t pg) { bitmap[pg / 64] &= ~(1ull << (pg % 64)); }

static void mark(uint64_t lo, uint64_t hi, bool used)
{
	for (uint64_t pg = lo; pg < hi && pg < npages; pg++) {
		if (used && !bit_get(pg)) {
			bit_set(pg);
			nfree--;
		} else if (!used && bit_get(pg)) {
			bit_clr(pg);
			nfree++;
		}
	}
}

/* Below this much free memory rt0 does not start: enough for the kernel's
 * threads and the runtime's first Ms, Ps and goroutines on a few CPUs. */
#define MEM_MIN_FREE_PAGES 512		/* 2 MiB */

static __noreturn void too_little_memory(uint64_t top)
{
	kprintf("rt0: machine: %lu KiB of memory, %lu KiB of it free; rt0 "
		"needs %lu KiB free (boot with more, e.g. -m 16M)\n",
		top >> 10, nfree * PAGE_SZ >> 10, MEM_MIN_FREE_PAGES * PAGE_SZ >> 10);
	kernel_exit(EXIT_MACHINE);
}

void mem_init(void)
{
	uint64_t top = 0;

	for (uint32_t i = 0; i < bootinfo.nmem; i++) {
		const struct mem_region *r = &bootinfo.mem[i];
		if (r->type == MEM_USABLE && r->base + r->len > top)
			top = r->base + r->len;
	}
	npages = top >> PAGE_SHIFT;
	uint64_t words = (npages + 63) / 64;
	uint64_t bytes = ALIGN_UP(words * 8, PAGE_SZ);

	/* The bitmap goes in the first usable spot above the image. */
	uint64_t kend = ALIGN_UP((uint64_t)_kernel_end, PAGE_SZ);
	for (uint32_t i = 0; i < bootinfo.nmem && !bitmap; i++) {
		const struct mem_region *r = &bootinfo.mem[i];
		uint64_t lo = ALIGN_UP(MAX(r->base, kend), PAGE_SZ);
		if (r->type == MEM_USABLE && lo + bytes <= r->base + r->len)
			bitmap = (uint64_t *)lo;
	}
	if (!bitmap)
		too_little_memory(top);
	memset(bitmap, 0xff, bytes);	/* all in use until proven free */
	nfree = 0;

	for (uint32_t i = 0; i < bootinfo.nmem; i++) {
		const struct mem_region *r = &bootinfo.mem[i];
		if (r->type != MEM_USABLE)
			continue;
		uint64_t lo = ALIGN_UP(MAX(r->base, 0x100000ul), PAGE_SZ);
		uint64_t hi = ALIGN_DOWN(r->base + r->len, PAGE_SZ);
		if (lo < hi)
			mark(lo >> PAGE_SHIFT, hi >> PAGE_SHIFT, false);
	}
	/* Memory maps may overlap: reserved wins over usable. */
	for (uint32_t i = 0; i < bootinfo.nmem; i++) {
		const struct mem_region *r = &bootinfo.mem[i];
		if (r->type != MEM_USABLE)
			mark(r->base >> PAGE_SHIFT,
			     ALIGN_UP(r->base + r->len, PAGE_SZ) >> PAGE_SHIFT,
			     true);
	}
	mark((uint64_t)_kernel_start >> PAGE_SHIFT, kend >> PAGE_SHIFT, true);
	mark((uint64_t)bitmap >> PAGE_SHIFT,
	     ((uint64_t)bitmap + bytes) >> PAGE_SHIFT, true);
	ntotal = nfree;
	hint = 0;
	if (nfree < MEM_MIN_FREE_PAGES)
		too_little_memory(top);
}

/* First run of n free pages at or after word w0; npages if none. */
static uint64_t find_run(uint64_t w0, uint64_t n)
{
	uint64_t words = (npages + 63) / 64;

	for (uint64_t w = w0; w < words; w++) {
		if (bitmap[w] == ~0ull)
			continue;
		if (n == 1) {
			uint64_t pg = w * 64 + __builtin_ctzll(~bitmap[w]);
			return pg < npages ? pg : npages;
		}
		for (uint64_t pg = w * 64; pg < (w + 1) * 64 && pg < npages; pg++) {
			uint64_t k = 0;
			while (k < n && pg + k < npages && !bit_get(pg + k))
				k++;
			if (k == n)
				return pg;
			pg += k;	/* skip past the used page */
		}
	}
	return npages;
}

void *page_alloc(uint64_t n)
{
	if (!n)
		return NULL;
	uint64_t f = spin_lock_irqsave(&mem_lock);
	uint64_t pg = find_run(hint, n);
	if (pg == npages)
		pg = find_run(0, n);
	if (pg == npages) {
		spin_unlock_irqrestore(&mem_lock, f);
		return NULL;
	}
	for (uint64_t i = 0; i < n; i++)
		bit_set(pg + i);
	nfree -= n;
	hint = (pg + n) / 64;
	spin_unlock_irqrestore(&mem_lock, f);
	return (void *)(pg << PAGE_SHIFT);
}

void *page_alloc_zeroed(uint64_t n)
{
	void *p = page_alloc(n);

	if (p)
		memset(p, 0, n * PAGE_SZ);
	return p;
}

/* mem_locked_here - whether this CPU holds the page allocator's lock
 * (a page fault that would allocate must not: vm_demand_fault). */
bool mem_locked_here(void)
{
	return spin_owned(&mem_lock);
}

void page_free(void *p, uint64_t n)
{
	uint64_t pg = (uint64_t)p >> PAGE_SHIFT;

	BUG_ON((uint64_t)p & (PAGE_SZ - 1));
	BUG_ON_CMP(pg + n, >, npages);
	/* A guard page goes back only after vm_unguard: freeing one means
	 * the caller frees memory it no longer owns. */
	for (uint64_t i = 0; i < n; i++)
		if (vm_is_guard((pg + i) << PAGE_SHIFT))
			panic("page_free: page 0x%lx is still a guard page",
			      (pg + i) << PAGE_SHIFT);
	uint64_t f = spin_lock_irqsave(&mem_lock);
	for (uint64_t i = 0; i < n; i++) {
		if (!bit_get(pg + i))
			panic("page_free: page 0x%lx is already free",
			      (pg + i) << PAGE_SHIFT);
		bit_clr(pg + i);
	}
	nfree += n;
	if (pg / 64 < hint)
		hint = pg / 64;
	spin_unlock_irqrestore(&mem_lock, f);
}

bool mem_page_in_use(uint64_t pa)
{
	uint64_t pg = pa >> PAGE_SHIFT;

	return pg >= npages || READ_ONCE(bitmap[pg / 64]) >> (pg % 64) & 1;
}

uint64_t mem_free_pages(void)
{
	return READ_ONCE(nfree);
}

uint64_t mem_total_pages(void)
{
	return ntotal;
}
