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


#endif
