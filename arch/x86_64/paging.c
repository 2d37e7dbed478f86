/*
 * arch/x86_64/paging.c - building and editing 4-level page tables.
 *
 * Tables are reached through the identity map, so a table's physical
 * address is also a pointer to it.  Callers serialize edits of one tree.
 * Splitting a 2 MiB page keeps its translation and attributes, so a CPU
 * that still caches the large page sees the same mapping either way.
 */
#include "paging.h"
#include "x86.h"

static void *(*alloc_table)(void);

void pt_init(void *(*alloc_zeroed_page)(void))
{
	alloc_table = alloc_zeroed_page;
}

uint64_t *pt_new_root(void)
{
	return alloc_table();
}

static inline int idx(uint64_t va, int level)
{
	return (va >> (12 + 9 * level)) & 511;
}

/* The table below entry *e, allocating it if absent.  Not for large pages. */
static uint64_t *next_table(uint64_t *e)
{
	if (!(*e & PTE_P)) {
		uint64_t *t = alloc_table();
		if (!t)
			return 0;
		*e = (uint64_t)t | PTE_P | PTE_W;
	}
	return (uint64_t *)(*e & PTE_ADDR);
}

/* Replace the 2 MiB page at PD entry *e with a table of 512 4 KiB pages. */
static uint64_t *split_large(uint64_t *e)
{
	uint64_t *t = alloc_table();
	if (!t)
		return 0;
	uint64_t base = *e & PTE_ADDR & ~(LARGE_SIZE - 1);
	uint64_t attr = *e & ~PTE_ADDR & ~PTE_PS;
	for (int i = 0; i < 512; i++)
		t[i] = (base + i * PAGE_SIZE) | attr;
	__atomic_store_n(e, (uint64_t)t | PTE_P | PTE_W, __ATOMIC_RELEASE);
	return t;
}

/* The page directory covering va (allocating PDPT/PD as needed). */
static uint64_t *pd_for(uint64_t *root, uint64_t va)
{
	uint64_t *pdpt = next_table(&root[idx(va, 3)]);
	if (!pdpt)
		return 0;
	return next_table(&pdpt[idx(va, 2)]);
}

static uint64_t *pte_for(uint64_t *root, uint64_t va)
{
	uint64_t *pd = pd_for(root, va);
	if (!pd)
		return 0;
	uint64_t *e = &pd[idx(va, 1)];
	uint64_t *pt = (*e & PTE_PS) ? split_large(e) : next_table(e);
	if (!pt)
		return 0;
	return &pt[idx(va, 0)];
}

bool pt_map(uint64_t *root, uint64_t va, uint64_t pa, uint64_t size,
	    uint64_t flags, bool allow_large)
{
	uint64_t end = va + size;

	while (va < end) {
		if (allow_large && !(va & (LARGE_SIZE - 1)) &&
		    !(pa & (LARGE_SIZE - 1)) && end - va >= LARGE_SIZE) {
			uint64_t *pd = pd_for(root, va);
			if (!pd)
				return false;
			pd[idx(va, 1)] = pa | flags | PTE_P | PTE_PS;
			va += LARGE_SIZE;
			pa += LARGE_SIZE;
			continue;
		}
		uint64_t *e = pte_for(root, va);
		if (!e)
			return false;
		*e = pa | flags | PTE_P;
		va += PAGE_SIZE;
		pa += PAGE_SIZE;
	}
	return true;
}

bool pt_set(uint64_t *root, uint64_t va, uint64_t pte)
{
	uint64_t *e = pte_for(root, va);

	if (!e)
		return false;
	__atomic_store_n(e, pte, __ATOMIC_RELEASE);
	return true;
}

uint64_t pt_lookup(const uint64_t *root, uint64_t va, uint64_t *size)
{
	const uint64_t *t = root;

	for (int level = 3; level >= 0; level--) {
		uint64_t e = t[idx(va, level)];
		if (level == 0 || (level == 1 && (e & PTE_PS))) {
			if (size)
				*size = level ? LARGE_SIZE : PAGE_SIZE;
			return e;
		}
		if (!(e & PTE_P))
			return 0;
		t = (const uint64_t *)(e & PTE_ADDR);
	}
	return 0;
}

uint64_t *pt_leaf(const uint64_t *root, uint64_t va)
{
	const uint64_t *t = root;

	for (int level = 3; level >= 1; level--) {
		uint64_t e = t[idx(va, level)];
		if (!(e & PTE_P) || (level == 1 && (e & PTE_PS)))
			return 0;
		t = (const uint64_t *)(e & PTE_ADDR);
	}
	return (uint64_t *)&t[idx(va, 0)];
}

void pt_activate(uint64_t *root)
{
	write_cr3((uint64_t)root);
}
