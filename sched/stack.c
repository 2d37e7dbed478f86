/*
 * sched/stack.c - goroutine stacks: fixed size, with a guard page below.
 *
 * rt0 compiles C, which cannot grow stacks as Go's compiler does, so every
 * G gets G_STACK_SIZE (16 KiB) and an M's g0 G0_STACK_SIZE (32 KiB).  The
 * page under each stack is a guard (kernel vm_guard): running off the end
 * faults on it, and the describer below names the goroutine.  Dead Gs keep
 * their stacks for reuse (gfput/gfget), as Go's do.
 */
#include "sched/proc.h"
#include "kernel/fault.h"
#include "kernel/kthread.h"
#include "kernel/mem.h"
#include "kernel/vm.h"

int64_t stack_pages;

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

/* A new G (status _Gidle) with a stack, or NULL if out of memory. */
struct g *malg(uint64_t stacksize)
{
	struct g *gp = kmalloc(sizeof(struct g));

	if (!gp)
		return NULL;
	if (!stackalloc(&gp->stack, stacksize)) {
		kfree(gp);
		return NULL;
	}
	gp->atomicstatus = _Gidle;
	gp->sched.g = gp;	/* for good: gogo reads it */
	return gp;
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
	fault_add_describer(describe_overflow);
}
