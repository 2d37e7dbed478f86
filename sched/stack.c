/*
 * sched/stack.c - goroutine stacks: large, demand-paged, with a guard page
 * below; and the scavenger that gives free goroutines' pages back.
 *
 * C cannot grow a stack by copying it, as Go's compiler does, so each G
 * gets a large virtual stack (gstack=, default 256 KiB) in the kernel's
 * demand-zero region (kernel/vm.h), of which only the pages it touches
 * are ever backed by memory: the top page at creation, the rest when a
 * fault maps a zeroed page on the spot.  The page below each stack is a
 * guard: running off the end faults on it, and the describer below names
 * the goroutine.  Dead Gs keep their stacks for reuse (gfput/gfget), as
 * Go's do; the scavenger gives back a free G's pages below its top
 * SCAVENGE_KEEP (go_free_os_memory, and sysmon for Gs that wait on the
 * global free list), after one TLB shootdown per batch.
 *
 * An M's g0 stack (G0_STACK_SIZE) is a kernel thread's: page-allocated,
 * resident, guarded (stackalloc).
 */
#include "sched/proc.h"
#include "sched/lock.h"
#include "kernel/cmdline.h"
#include "kernel/fault.h"
#include "kernel/kthread.h"
#include "kernel/mem.h"
#include "kernel/vm.h"

#define GSTACK_DEFAULT (256 * 1024)
#define SCAVENGE_KEEP (2 * PAGE_SZ)	/* a free G keeps its top pages */

int64_t stack_pages;

static uint32_t gstack_bytes = GSTACK_DEFAULT;
KPARAM_UINT(gstack, gstack_bytes, 16384, 64u << 20,
	    "bytes of each goroutine's stack (rounded up to whole pages, "
	    "mapped when touched; default 262144)");

static uint64_t gstack_next = VM_DEMAND_BASE;	/* next slot; atomic */
static uint64_t scavenged_pages;		/* atomic */

bool stackalloc(struct stack *s, uint64_t size)
{
	uint64_t pages = ALIGN_UP(size, PAGE_SZ) / PAGE_SZ + 1;
	uint8_t *base = page_alloc(pages);

	if (!base)
		return false;
	__atomic_fetch_add(&stack_pages, pages, __ATOMIC_RELAXED);
	vm_guard((uint64_t)base);
	s->lo = (uint64_t)base + PAGE_SZ;
	s->hi = (uint64_t)base + pages * PAGE_SZ;
	return true;
}

void stackfree(struct stack *s)
{
	uint64_t base = s->lo - PAGE_SZ;

	vm_unguard(base);
	__atomic_fetch_sub(&stack_pages, (s->hi - base) / PAGE_SZ,
			   __ATOMIC_RELAXED);
	page_free((void *)base, (s->hi - base) / PAGE_SZ);
	s->lo = s->hi = 0;
}

/* A G's stack: a slot of the demand-zero region (its guard page, then
 * gstack bytes), its top page mapped.  False if out of room. */
static bool gstackalloc(struct stack *s)
{
	uint64_t slot = gstack_bytes + PAGE_SZ;
	uint64_t base = __atomic_fetch_add(&gstack_next, slot, __ATOMIC_RELAXED);

	if (base + slot > VM_DEMAND_END)
		return false;
	s->lo = base + PAGE_SZ;
	s->hi = s->lo + gstack_bytes;
	if (!vm_demand_reserve(s->lo, s->hi))
		return false;
	*(volatile uint64_t *)(s->hi - 8) = 0;	/* the top page, now */
	return true;
}

/* A new G (status _Gidle) with a stack, or NULL if out of memory. */
struct g *malg(void)
{
	struct g *gp = kmalloc(sizeof(struct g));

	if (!gp)
		return NULL;
	memset(gp, 0, sizeof(*gp));
	if (!gstackalloc(&gp->stack)) {
		kfree(gp);
		return NULL;
	}
	gp->atomicstatus = _Gidle;
	gp->sched.g = gp;	/* for good: gogo reads it */
	return gp;
}

/*
 * stack_scavenge - give back the pages of dead @gp's stack below its top
 * SCAVENGE_KEEP bytes.  @gp is on a free list whose owner (or lock) the
 * caller holds, so nobody runs on the stack meanwhile.  Thread context,
 * interrupts on (the shootdown IPIs).  Returns the pages given back.
 */
static uint64_t stack_scavenge(struct g *gp)
{
	uint64_t n;

	if (gp->scavenged_goid == gp->goid)
		return 0;	/* not run since it was scavenged */
	gp->scavenged_goid = gp->goid;
	n = vm_demand_release(gp->stack.lo, gp->stack.hi - SCAVENGE_KEEP);
	__atomic_fetch_add(&scavenged_pages, n, __ATOMIC_RELAXED);
	return n;
}

/**
 * stack_scavenge_global - scavenge up to @max Gs on the global free list
 * that are not yet (sysmon, a few a round; go_free_os_memory, all).
 * Thread context, interrupts on.  Returns the pages freed.
 */
uint64_t stack_scavenge_global(uint32_t max)
{
	uint64_t n = 0;

	/* Under the lock, across the shootdowns: a P that needs a G waits
	 * (rather than make a new one), and with interrupts on, as
	 * smp_call_others needs.  Gs scavenged already cost a look each. */
	lock(&sched.gflock);
	for (struct g *gp = sched.gfree_stack; gp && max; gp = gp->schedlink)
		if (gp->scavenged_goid != gp->goid) {
			n += stack_scavenge(gp);
			max--;
		}
	unlock(&sched.gflock);
	return n;
}

/* go_free_os_memory - Go's debug.FreeOSMemory for stacks: with the world
 * stopped (every P's free list still), scavenge them all and the global
 * list.  On a goroutine.  Returns the pages given back. */
uint64_t go_free_os_memory(void)
{
	uint64_t n = 0;

	must_be_goroutine("go_free_os_memory");
	stopTheWorld("FreeOSMemory");
	for (int32_t i = 0; i < gomaxprocs; i++)
		for (struct g *gp = allp[i]->gfree; gp; gp = gp->schedlink)
			n += stack_scavenge(gp);
	n += stack_scavenge_global(UINT32_MAX);
	startTheWorld(0);
	return n;
}

void go_memstats(struct go_memstats *ms)
{
	ms->stack_mapped_pages = vm_demand_mapped();
	ms->stack_inuse_bytes = ms->stack_mapped_pages * PAGE_SZ;
	ms->stack_reserved_bytes = gstack_next - VM_DEMAND_BASE;
	ms->stack_scavenged_pages = __atomic_load_n(&scavenged_pages,
						    __ATOMIC_RELAXED);
	ms->tlb_shootdowns = vm_demand_shootdowns();
	ms->free_pages = mem_free_pages();
	ms->total_pages = mem_total_pages();
	ms->gstack_bytes = gstack_bytes;
}

static bool in_guard(const struct stack *s, uint64_t addr)
{
	return s->lo && addr >= s->lo - PAGE_SZ && addr < s->lo;
}

/*
 * Fault describer: a fault in the guard page of the current M's G (or
 * g0) is that goroutine's stack overflow.  Reads only the M (from the
 * kernel thread), never TLS, which may not be set up on a non-M thread.
 */
static void describe_overflow(const struct trapframe *tf, uint64_t cr2,
			      fmt_sink sink, void *arg)
{
	struct kthread *t = kthread_current();
	struct m *mp = t ? t->user : NULL;

	(void)tf;
	if (!mp)
		return;
	if (mp->curg && in_guard(&mp->curg->stack, cr2))
		sinkf(sink, arg, "  runtime: goroutine %ld stack overflow "
		      "(stack [0x%lx, 0x%lx), %lu bytes)\n", mp->curg->goid,
		      mp->curg->stack.lo, mp->curg->stack.hi,
		      mp->curg->stack.hi - mp->curg->stack.lo);
	else if (mp->g0 && in_guard(&mp->g0->stack, cr2))
		sinkf(sink, arg, "  runtime: M%ld g0 stack overflow\n", mp->id);
	if (mp->curg)
		sinkf(sink, arg, "  runtime: on M%ld, goroutine %ld\n", mp->id,
		      mp->curg->goid);
}

void stack_init(void)
{
	gstack_bytes = ALIGN_UP(gstack_bytes, PAGE_SZ);	/* whole pages */
	fault_add_describer(describe_overflow);
}
