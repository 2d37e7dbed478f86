/*
 * arch/x86_64/paging.h - 4-level page tables.
 *
 * rt0 runs in one address space, identity mapped (virtual == physical).
 * This file builds and edits page tables; the kernel (kernel/vm.c) decides
 * what to map, serializes edits and shoots down other CPUs' TLBs.
 */
#ifndef RT0_PAGING_H
#define RT0_PAGING_H

#include <stdint.h>
#include <stdbool.h>

#define PAGE_SIZE	4096ull
#define LARGE_SIZE	(2ull << 20)

#define PTE_P		(1ull << 0)	/* present */
#define PTE_W		(1ull << 1)	/* writable */
#define PTE_PWT		(1ull << 3)
#define PTE_PCD		(1ull << 4)	/* cache disable */
#define PTE_PS		(1ull << 7)	/* 2 MiB page (in a PD entry) */
#define PTE_G		(1ull << 8)	/* global */
#define PTE_GUARD	(1ull << 9)	/* software: a not-present guard page */
#define PTE_DEMAND	(1ull << 10)	/* software: a demand-zero page (vm.c) */
#define PTE_STASH	(1ull << 11)	/* software: a stashed demand page (vm.c) */
#define PTE_BUSY	(1ull << 52)	/* software: being restored (vm.c) */
#define PTE_UNMAPPING	(1ull << 53)	/* software: being shrunk (vm.c) */
#define PF_ERR_P	(1ull << 0)	/* #PF error code: page was present */
#define PTE_NX		(1ull << 63)	/* no execute */
#define PTE_ADDR	0x000ffffffffff000ull

#define PTE_UC		(PTE_PCD | PTE_PWT)

/*
 * pt_init - give the page-table code its source of zeroed 4 KiB pages
 * (below 4 GiB, so an AP's 32-bit trampoline can load CR3).  Returns.
 */
void pt_init(void *(*alloc_zeroed_page)(void));

uint64_t *pt_new_root(void);

/*
 * pt_map - map [va, va+size) to [pa, pa+size) with @flags (PTE_P implied).
 * Uses 2 MiB pages where both sides are aligned and @allow_large, else
 * 4 KiB pages, splitting any 2 MiB page in the way.  Returns false if a
 * page table could not be allocated.
 */
bool pt_map(uint64_t *root, uint64_t va, uint64_t pa, uint64_t size,
	    uint64_t flags, bool allow_large);

/*
 * pt_set - set the 4 KiB entry for @va to @pte (which may be not present,
 * e.g. PTE_GUARD), splitting a 2 MiB page if needed.  Does not flush any
 * TLB.  Returns false if a page table could not be allocated.
 */
bool pt_set(uint64_t *root, uint64_t va, uint64_t pte);

/*
 * pt_lookup - the leaf entry that maps @va (0 if none) and its size
 * (PAGE_SIZE or LARGE_SIZE, through *size if non-NULL).  Reads only.
 */
uint64_t pt_lookup(const uint64_t *root, uint64_t va, uint64_t *size);

/*
 * pt_leaf - the address of the 4 KiB entry that maps @va, or NULL if its
 * page table does not exist (or @va is in a 2 MiB page).  Allocates
 * nothing, so callable in any context; the caller serializes writes.
 */
uint64_t *pt_leaf(const uint64_t *root, uint64_t va);

void pt_activate(uint64_t *root);

#endif
