/*
 * kernel/mem.h - physical memory: the page allocator and the small-object
 * allocator.
 *
 * Memory is identity mapped, so a physical address is also a pointer.
 * Every function here may be called from any CPU with interrupts on or off;
 * none blocks.
 */
#ifndef RT0_MEM_H
#define RT0_MEM_H

#include "lib.h"

#define PAGE_SHIFT 12
#define PAGE_SZ 4096ul

/* mem_init - build the allocator from bootinfo's memory map.  Boot CPU. */
void mem_init(void);

/*
 * page_alloc - @n physically contiguous pages, or NULL if none.  Contents
 * undefined.  page_alloc_zeroed clears them.
 */
void *page_alloc(uint64_t n);
void *page_alloc_zeroed(uint64_t n);
bool mem_locked_here(void);

/* page_free - return @n pages from page_alloc.  Panics on a double free. */
void page_free(void *p, uint64_t n);

/* mem_page_in_use - is the page at @pa allocated (or not managed)? */
bool mem_page_in_use(uint64_t pa);
uint64_t mem_free_pages(void);
uint64_t mem_total_pages(void);	/* pages the allocator manages */

/* kmalloc - @size bytes (<= KMALLOC_MAX), 16-byte aligned, zeroed; NULL if
 * out of memory.  kfree(NULL) is a no-op. */
#define KMALLOC_MAX 2048
void *kmalloc(size_t size);
void kfree(void *p);
/* kmalloc_counts - pages its slabs hold and objects allocated, now (the
 * test runner's leak checks).  Any context. */
void kmalloc_counts(uint64_t *pages, uint64_t *objects);

#endif
