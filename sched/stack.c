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
 * global free list), after one TLB shootdown per batch.  A parked G's
 * stack shrinks to its live bytes (below: go_free_os_memory, and by
 * itself when memory runs low).  Each G's struct g is in the heap.
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
#include "kernel/time.h"
#include "kernel/vm.h"

#define GSTACK_DEFAULT (256 * 1024)
#define SCAVENGE_KEEP (2 * PAGE_SZ)	/* a free G keeps its top pages */

int64_t stack_pages;

static uint32_t gstack_bytes = GSTACK_DEFAULT;
KPARAM_UINT(gstack, gstack_bytes, 16384, 64u << 20,
	    "bytes of each goroutine's stack (rounded up to whole pages, "
	    "mapped when touched; default 262144)");

uint32_t debug_memtrace;
KPARAM_UINT(memtrace, debug_memtrace, 0, 3600000,
	    "print the goroutine stacks' memory every MS milliseconds");

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
 * SCAVENGE_KEEP bytes, or all of them if @all, into @r (flushed by the
 * caller).  @gp is on a free list whose owner (or lock) the caller holds,
 * or in hand, so nobody runs on the stack meanwhile.  Thread context,
 * interrupts on (the shootdown IPIs).  Returns the pages given back.
 */
static uint64_t stack_scavenge(struct g *gp, struct vm_release *r, bool all)
{
	uint64_t n, top = gp->stack.hi - (all ? 0 : SCAVENGE_KEEP);

	if (!all && gp->scavenged_goid == gp->goid)
		return 0;	/* not run since it was scavenged */
	gp->scavenged_goid = gp->goid;
	n = vm_demand_unmap(r, gp->stack.lo, top);
	__atomic_fetch_add(&scavenged_pages, n, __ATOMIC_RELAXED);
	return n;
}

/* stack_memory_low - free memory under an eighth: dead Gs give back their
 * whole stacks, parked ones shrink (stack_shrink_low). */
bool stack_memory_low(void)
{
	return mem_free_pages() < mem_total_pages() / 8;
}

/**
 * stack_release_dead - give back the whole stacks of the dead Gs on
 * @list (linked by schedlink, in the caller's hands: gfput spilling them
 * while memory is low).  On g0, interrupts on.
 */
void stack_release_dead(struct g *list)
{
	struct vm_release r = { .n = 0 };

	for (struct g *gp = list; gp; gp = gp->schedlink)
		stack_scavenge(gp, &r, true);
	vm_release_flush(&r);
	vm_demand_stash_reclaim();	/* records of stack pages woken since */
}

/**
 * stack_scavenge_global - scavenge up to @max Gs on the global free list
 * that are not yet (sysmon, a few a round; go_free_os_memory, all), or
 * with @all every page of every one (memory low).  Thread context,
 * interrupts on.  Returns the pages freed.
 */
uint64_t stack_scavenge_global(uint32_t max, bool all)
{
	struct vm_release r = { .n = 0 };
	uint64_t n = 0;

	/* Under the lock, across the shootdowns: a P that needs a G waits
	 * (rather than make a new one), and with interrupts on, as
	 * smp_call_others needs.  Gs scavenged already cost a look each. */
	lock(&sched.gflock);
	for (struct g *gp = sched.gfree_stack; gp && max; gp = gp->schedlink)
		if (all || gp->scavenged_goid != gp->goid) {
			n += stack_scavenge(gp, &r, all);
			max--;
		}
	vm_release_flush(&r);
	unlock(&sched.gflock);
	vm_demand_stash_reclaim();	/* records of stack pages woken since */
	return n;
}

/*
 * Shrinking parked goroutines' stacks (Go shrinks stacks at each GC by
 * copying them to smaller ones; a C stack cannot move, but its pages
 * can).  For a G in _Gwaiting, everything below its saved SP is dead:
 * those pages go back outright, and the page holding the SP, whose live
 * part is usually a few hundred bytes of frames (sudogs among them), is
 * stashed: its live bytes move to a heap record and the page goes back.
 * Whoever touches it next (the G when it runs again, or a waker reaching
 * a sudog in it) faults it back in (kernel/vm.h).
 *
 * Nothing is stopped.  The pages are marked, shot down in batches, and
 * given back only if their G is, after the shootdown, still parked with
 * the same SP (then nothing below it is live, and everything above it is
 * in the record); a G that ran meanwhile either touched its page, which
 * put it back, or fails that test, which puts it back too.
 *
 * It runs when memory runs low (free memory under an eighth with stacks
 * holding at least a 32nd more than after the last shrink) from sysmon
 * and from newproc before it makes a new G, and from go_free_os_memory
 * (Go's debug.FreeOSMemory, which shrinks stacks through its GC).  One
 * at a time (shrink_lock).
 */
static struct mutex shrink_lock = MUTEX_INIT(LOCKRANK_STACKSHRINK);
static struct vm_shrink shrink_batch;		/* shrink_lock */
static struct shrink_g {
	struct g *gp;
	uint64_t sp;		/* its saved SP when marked */
	uint32_t first;		/* its first mark in shrink_batch */
} shrink_gs[VM_SHRINK_BATCH];			/* shrink_lock */
static uint32_t shrink_ngs;			/* shrink_lock */
static bool shrinking;		/* one is running; written under shrink_lock */
static uint64_t shrink_mapped_after;	/* demand pages after the last one */
static uint64_t shrinks;		/* shrinks done; atomic */

/* Shoot the batch down and give back what is still parked as marked. */
static uint64_t shrink_flush(void)
{
	struct vm_shrink *b = &shrink_batch;
	uint64_t n = 0;

	vm_shrink_shootdown(b);
	for (uint32_t i = 0; i < shrink_ngs; i++) {
		struct shrink_g *x = &shrink_gs[i];
		uint32_t to = i + 1 < shrink_ngs ? shrink_gs[i + 1].first : b->n;
		bool keep = readgstatus(x->gp) == _Gwaiting &&
			    READ_ONCE(x->gp->sched.sp) == x->sp;
		n += vm_shrink_finish(b, x->first, to, keep);
	}
	b->n = 0;
	shrink_ngs = 0;
	return n;
}

/* Mark one page of @gp's, if mapped (*@mapped), opening @gp's group at
 * its first mark in the batch.  Returns the pages a full batch gave
 * back first. */
static uint64_t shrink_mark(struct g *gp, uint64_t sp, uint64_t va,
			    int32_t off, bool *mapped)
{
	uint64_t n = 0;

	if (shrink_batch.n == VM_SHRINK_BATCH)
		n = shrink_flush();
	uint32_t first = shrink_batch.n;
	*mapped = vm_shrink_mark(&shrink_batch, va, off);
	if (*mapped && (!shrink_ngs || shrink_gs[shrink_ngs - 1].gp != gp))
		shrink_gs[shrink_ngs++] = (struct shrink_g){
			.gp = gp, .sp = sp, .first = first };
	return n;
}

/* Stacks have mapped at least a 32nd of memory since the last shrink. */
static bool shrink_may_pay(void)
{
	return vm_demand_mapped() >=
	       READ_ONCE(shrink_mapped_after) + mem_total_pages() / 32;
}

/* With shrink_lock held. */
static uint64_t stack_shrink_parked_locked(void)
{
	uint64_t n = 0;
	bool mapped;

	WRITE_ONCE(shrinking, true);
	uint32_t len = __atomic_load_n(&allglen, __ATOMIC_ACQUIRE);
	struct g *gp = __atomic_load_n(&allgs, __ATOMIC_ACQUIRE);
	for (uint32_t i = 0; i < len && gp; i++, gp = READ_ONCE(gp->alllink)) {
		if (readgstatus(gp) != _Gwaiting)
			continue;
		/* Read racily: checked again after the shootdown. */
		uint64_t sp = READ_ONCE(gp->sched.sp);
		uint64_t page = ALIGN_DOWN(sp, PAGE_SZ);
		if (sp < gp->stack.lo || sp >= gp->stack.hi)
			continue;
		if (PAGE_SZ - (sp - page) <= VM_STASH_MAX)
			n += shrink_mark(gp, sp, page, (int32_t)(sp - page),
					 &mapped);
		/* The pages below, down to the first not mapped: a stack's
		 * mapped pages are one run below its top, but for pages a
		 * big frame skipped (those below stay until the G dies). */
		for (uint64_t va = page - PAGE_SZ; va >= gp->stack.lo;
		     va -= PAGE_SZ) {
			n += shrink_mark(gp, sp, va, -1, &mapped);
			if (!mapped)
				break;
		}
	}
	n += shrink_flush();
	vm_demand_stash_reclaim();
	shrink_mapped_after = vm_demand_mapped();
	__atomic_fetch_add(&shrinks, 1, __ATOMIC_RELAXED);
	WRITE_ONCE(shrinking, false);
	return n;
}

static uint64_t stack_shrink_parked(void)
{
	lock(&shrink_lock);
	uint64_t n = stack_shrink_parked_locked();
	unlock(&shrink_lock);
	return n;
}

/**
 * stack_shrink_low - if free memory is under an eighth and stacks have
 * mapped at least a 32nd of memory since the last shrink, give back every
 * page of the global free list's stacks and shrink parked stacks now.
 * sysmon's test and action each round, and newproc's before it makes a
 * new G (an assist, as Go's allocating goroutines assist its GC: a
 * goroutine spawning faster than sysmon looks would run out first).  On
 * g0 or sysmon, interrupts on.  Returns the pages given back.
 */
uint64_t stack_shrink_low(void)
{
	uint64_t n = 0;

	/* One running (it takes a while): it is giving memory back, and
	 * sysmon should not wait for it. */
	if (!stack_memory_low() || !shrink_may_pay() || READ_ONCE(shrinking))
		return 0;
	lock(&shrink_lock);
	if (shrink_may_pay())	/* nobody did it meanwhile */
		n = stack_scavenge_global(UINT32_MAX, true) +
		    stack_shrink_parked_locked();
	unlock(&shrink_lock);
	return n;
}

/* go_free_os_memory - Go's debug.FreeOSMemory for stacks: with the world
 * stopped (every P's free list still), scavenge every free G's stack;
 * then shrink every parked G's.  On a goroutine.  Returns the pages given
 * back. */
uint64_t go_free_os_memory(void)
{
	struct vm_release r = { .n = 0 };
	uint64_t n = 0;

	must_be_goroutine("go_free_os_memory");
	stopTheWorld("FreeOSMemory");
	for (int32_t i = 0; i < gomaxprocs; i++)
		for (struct g *gp = allp[i]->gfree; gp; gp = gp->schedlink)
			n += stack_scavenge(gp, &r, false);
	vm_release_flush(&r);
	n += stack_scavenge_global(UINT32_MAX, false);
	startTheWorld(0);
	return n + stack_shrink_parked();
}

void go_memstats(struct go_memstats *ms)
{
	uint64_t objects;

	ms->stack_mapped_pages = vm_demand_mapped();
	ms->stack_inuse_bytes = ms->stack_mapped_pages * PAGE_SZ;
	ms->stack_reserved_bytes = gstack_next - VM_DEMAND_BASE;
	ms->stack_scavenged_pages = __atomic_load_n(&scavenged_pages,
						    __ATOMIC_RELAXED);
	ms->tlb_shootdowns = vm_demand_shootdowns();
	ms->free_pages = mem_free_pages();
	ms->total_pages = mem_total_pages();
	ms->gstack_bytes = gstack_bytes;
	vm_demand_stash_counts(&ms->stack_stashed_pages,
			       &ms->stack_stashed_bytes, &objects);
	ms->stack_shrinks = __atomic_load_n(&shrinks, __ATOMIC_RELAXED);
}

/*
 * memtrace - the memory line (memtrace=MS), from sysmon, in the shape of
 * schedtrace's (key=value after the time since boot):
 *   MEM 1004ms: stackinuse=390MiB stackpages=100001 stackreserved=25600MiB
 *   gstack=262144 scavenged=0 stashed=0 stashbytes=0 shrinks=0
 *   shootdowns=0 gs=100002 freegs=0 free=578MiB total=1023MiB
 * (one line).  Every figure is read without locks: a snapshot.
 */
void memtrace(int64_t now)
{
	struct go_memstats ms;

	go_memstats(&ms);
	kprintf("MEM %ldms: stackinuse=%luMiB stackpages=%lu "
		"stackreserved=%luMiB gstack=%lu scavenged=%lu stashed=%lu "
		"stashbytes=%lu shrinks=%lu shootdowns=%lu gs=%u freegs=%ld "
		"free=%luMiB total=%luMiB\n", now / 1000000,
		ms.stack_inuse_bytes >> 20, ms.stack_mapped_pages,
		ms.stack_reserved_bytes >> 20, ms.gstack_bytes,
		ms.stack_scavenged_pages, ms.stack_stashed_pages,
		ms.stack_stashed_bytes, ms.stack_shrinks, ms.tlb_shootdowns,
		__atomic_load_n(&allglen, __ATOMIC_ACQUIRE), gfree_count(),
		ms.free_pages * PAGE_SZ >> 20, ms.total_pages * PAGE_SZ >> 20);
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
