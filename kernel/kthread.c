/*
 * kernel/kthread.c - kernel threads and their scheduler.
 *
 * Run queues.  Each CPU has a FIFO of runnable threads under its rq_lock;
 * the running thread and the idle thread are never on it.  A CPU holds its
 * own rq_lock across a switch (taken in kthread_schedule(), dropped by the
 * next thread in finish_switch()), so a thread that was just queued (a
 * yield or a preemption) cannot be stolen and run elsewhere before its
 * context has been saved.
 *
 * Placement.  A new or woken thread goes to an idle CPU if there is one (it
 * is claimed by clearing its idle flag, then sent a V_WAKE IPI), else to
 * the CPU with the least work.  An idle CPU, whenever it wakes, steals one
 * queued thread from the busiest CPU.  Threads may be pinned to one CPU.
 *
 * Idle and wakeups.  The idle loop sets cpu->idle, then (after a full
 * fence) looks at its queue once more with interrupts disabled, then runs
 * sti;hlt, which takes any interrupt that arrived meanwhile.  An enqueuer
 * links the thread, then (after a full fence) reads idle and sends V_WAKE
 * if set: of the two fenced store-then-load pairs at least one sees the
 * other's store, so no wakeup is lost.
 *
 * Time slicing.  The tick marks need_resched when the current thread has
 * run a whole slice (slice=, default 10 ms) while others wait; the thread
 * is then preempted from the interrupt unless its preempt_count is raised,
 * in which case preempt_enable() yields.  A preempted thread's full FPU/SSE
 * state is saved around the switch; a voluntary switch keeps only what the
 * C ABI makes callee-saved (kswitch, arch/x86_64/switch.S).
 *
 * Blocking is the state machine in kthread.h: the thread marks itself
 * KT_BLOCKING while still on its wait queue's lock, then switches; a waker
 * CASes KT_BLOCKING->KT_WOKEN or KT_BLOCKED->KT_RUNNABLE; finish_switch
 * CASes KT_BLOCKING->KT_BLOCKED and, if that fails, queues the thread.
 */
#include "kthread.h"
#include "../arch/x86_64/switch.h"
#include "cmdline.h"
#include "ktimer.h"
#include "ksyms.h"
#include "kwait.h"
#include "mem.h"
#include "smp.h"
#include "time.h"
#include "vm.h"
#include "../arch/x86_64/cpufeat.h"
#include "../arch/x86_64/lapic.h"
#include "../arch/x86_64/trap.h"
#include "../arch/x86_64/x86.h"

static uint32_t slice_ms = 10;
KPARAM_UINT(slice, slice_ms, 1, 1000, "kernel thread time slice, in ms");
static bool kstat;
KPARAM_BOOL(kstat, kstat, "print per-CPU scheduler counters at exit");
/*
 * idlepoll=1: CPU 0 waits for work by polling instead of halting, so some
 * vCPU always runs.  For replays under single-threaded TCG with -icount
 * (make stress): when every vCPU halts, QEMU 7.2's main loop can move the
 * clock on at a moment that depends on the host, and the same seed then
 * takes other choices.  Idle time costs host time instead.
 */
static bool idle_poll;
KPARAM_BOOL(idlepoll, idle_poll,
	    "CPU 0 polls for work instead of halting (deterministic -icount runs)");

static struct spinlock all_lock = SPINLOCK_INIT(LOCKRANK_ALLTHREADS);
static struct kthread *all_threads;	/* all_lock */
static uint32_t nlive = 1;		/* kmain + created - reaped; atomic */
static uint64_t npages;			/* their pages (kmain's excluded); atomic */

/* A created thread's pages: its struct, and its own stack and guard. */
static uint64_t thread_pages(const struct kthread *t)
{
	return 1 + (t->own_stack ? (t->stack_hi - t->stack_lo) / PAGE_SZ + 1
				 : 0);
}
static uint32_t next_id = 1;		/* atomic */
static uint64_t slice_tsc;		/* constant after kthread_init */
static void (*signal_handler)(struct trapframe *tf);

extern char boot_stack[], boot_stack_top[];
static uint8_t boot_fpu[4096] __attribute__((aligned(64)));
static struct kthread boot_thread = {
	.state = KT_RUNNING, .name = "kmain", .pin_cpu = -1, .fpu = boot_fpu,
};

static void kthread_start(void *prev) __noreturn;

static void finish_switch(struct kthread *prev);

/* ---- run queues (cpu->rq_lock held) ---- */

static void rq_push(struct cpu *c, struct kthread *t)
{
	assert_spin_owned(&c->rq_lock);
	t->rq_next = NULL;
	if (c->rq_tail)
		c->rq_tail->rq_next = t;
	else
		c->rq_head = t;
	c->rq_tail = t;
	WRITE_ONCE(c->nr_queued, c->nr_queued + 1);
}

/* Pop the first thread, or with @movable_only the first not pinned. */
static struct kthread *rq_pop(struct cpu *c, bool movable_only)
{
	struct kthread **pp = &c->rq_head, *prev = NULL;

	assert_spin_owned(&c->rq_lock);
	while (*pp && movable_only && (*pp)->pin_cpu >= 0) {
		prev = *pp;
		pp = &(*pp)->rq_next;
	}
	struct kthread *t = *pp;
	if (!t)
		return NULL;
	*pp = t->rq_next;
	if (c->rq_tail == t)
		c->rq_tail = prev;
	t->rq_next = NULL;
	WRITE_ONCE(c->nr_queued, c->nr_queued - 1);
	return t;
}

/* ---- placement ---- */

static struct cpu *select_cpu(struct kthread *t, bool *claimed)
{
	uint32_t n = __atomic_load_n(&ncpu, __ATOMIC_ACQUIRE);
	struct cpu *prefer = t->cpu ? t->cpu : this_cpu();

	*claimed = false;
	if (t->pin_cpu >= 0)
		return &cpus[t->pin_cpu];
	for (uint32_t i = 0; i < n; i++) {
		struct cpu *c = &cpus[(prefer->id + i) % n];
		uint32_t one = 1;
		if (READ_ONCE(c->idle) && !READ_ONCE(c->nr_queued) &&
		    __atomic_compare_exchange_n(&c->idle, &one, 0, false,
						__ATOMIC_ACQ_REL,
						__ATOMIC_RELAXED)) {
			*claimed = true;
			return c;
		}
	}
	struct cpu *best = prefer;
	uint32_t best_load = ~0u;
	for (uint32_t i = 0; i < n; i++) {
		struct cpu *c = &cpus[(prefer->id + i) % n];
		uint32_t load = READ_ONCE(c->nr_queued) +
				(READ_ONCE(c->cur) != c->idle_thread);
		if (load < best_load) {
			best = c;
			best_load = load;
		}
	}
	return best;
}

/* Make runnable thread @t (state already KT_RUNNABLE) run somewhere. */
static void enqueue(struct kthread *t)
{
	bool claimed;
	struct cpu *c = select_cpu(t, &claimed);
	struct cpu *me = this_cpu();

	uint64_t f = spin_lock_irqsave(&c->rq_lock);
	t->cpu = c;
	rq_push(c, t);
	spin_unlock(&c->rq_lock);
	me->stat.wakeups++;
	__atomic_thread_fence(__ATOMIC_SEQ_CST);	/* vs the idle loop */
	if (c != me && (claimed || READ_ONCE(c->idle)))
		smp_send_wake(c);
	irq_restore(f);
}

/* ---- switching ---- */

static void switch_to(struct cpu *c, struct kthread *prev, struct kthread *next)
{
	next->state = KT_RUNNING;
	next->cpu = c;
	next->slice_start = rdtsc();
	c->cur = next;
	c->stat.switches++;
	vm_tlb_sync();
	if (next->fs_base != prev->fs_base)
		fsbase_write(next->fs_base);
	prev = kswitch(&prev->rsp, next->rsp, prev);
	finish_switch(prev);
}

/*
 * kthread_schedule - give this CPU to the next thread.  The caller has set its
 * own state: KT_RUNNING (yield/preempt: it is queued again), KT_BLOCKING
 * (block), KT_WOKEN (already woken: keep running) or KT_DEAD.  Interrupts
 * disabled; returns (with them disabled) when the caller runs again.
 */
static void kthread_schedule(void)
{
	struct cpu *c = this_cpu();
	struct kthread *prev = c->cur;

	BUG_ON(irq_enabled());
	spin_lock(&c->rq_lock);
	uint32_t st = __atomic_load_n(&prev->state, __ATOMIC_ACQUIRE);
	if (st == KT_WOKEN) {
		/* Woken before we switched away: only we leave KT_WOKEN now. */
		__atomic_store_n(&prev->state, KT_RUNNING, __ATOMIC_RELAXED);
		spin_unlock(&c->rq_lock);
		return;
	}
	struct kthread *next = rq_pop(c, false);
	if (st == KT_RUNNING) {
		if (!next) {
			spin_unlock(&c->rq_lock);
			return;
		}
		if (prev != c->idle_thread) {
			prev->state = KT_RUNNABLE;
			rq_push(c, prev);
		}
	}
	if (!next)
		next = c->idle_thread;
	/*
	 * finish_switch acts on what prev was doing now, not on its state
	 * later: once our rq_lock drops, a yielding prev may already run on
	 * another CPU and be blocking there.
	 */
	c->prev_state = st;
	switch_to(c, prev, next);
}

static void reap(struct kthread *t)
{
	uint64_t f = spin_lock_irqsave(&all_lock);
	*t->all_pprev = t->all_next;
	if (t->all_next)
		t->all_next->all_pprev = t->all_pprev;
	spin_unlock_irqrestore(&all_lock, f);

	uint32_t *w = t->exit_word;
	__atomic_fetch_sub(&npages, thread_pages(t), __ATOMIC_RELAXED);
	if (t->own_stack) {
		uint64_t base = t->stack_lo - PAGE_SZ;
		vm_unguard(base);
		page_free((void *)base, (t->stack_hi - base) / PAGE_SZ);
	}
	page_free(t, 1);
	__atomic_fetch_sub(&nlive, 1, __ATOMIC_RELEASE);
	if (w) {
		__atomic_store_n(w, 0, __ATOMIC_RELEASE);
		kwake(w, 1 << 30);
	}
}

/* On the new thread, right after kswitch: this CPU's rq_lock is held. */
static void finish_switch(struct kthread *prev)
{
	struct cpu *c = this_cpu();
	uint32_t st = c->prev_state;

	assert_spin_owned(&c->rq_lock);
	spin_unlock(&c->rq_lock);
	if (st == KT_BLOCKING) {
		uint32_t exp = KT_BLOCKING;
		if (!__atomic_compare_exchange_n(&prev->state, &exp, KT_BLOCKED,
						 false, __ATOMIC_ACQ_REL,
						 __ATOMIC_ACQUIRE)) {
			/* A waker got there first (KT_WOKEN): queue it. */
			BUG_ON_CMP(exp, !=, KT_WOKEN);
			prev->state = KT_RUNNABLE;
			enqueue(prev);
		}
	} else if (st == KT_DEAD) {
		reap(prev);
	}
}

/* A new thread's first code (kswitch_stack_init): @prev is the thread
 * this CPU switched from. */
static void kthread_start(void *prev)
{
	struct kthread *t = kthread_current();

	finish_switch(prev);
	sti();
	t->fn(t->arg);
	kthread_exit(NULL);
}

void kthread_block(void)
{
	struct kthread *t = kthread_current();

	BUG_ON(irq_enabled());
	BUG_ON(t->preempt_count);
	kthread_schedule();
}

void kthread_wake(struct kthread *t)
{
	uint32_t s = __atomic_load_n(&t->state, __ATOMIC_ACQUIRE);

	for (;;) {
		if (s == KT_BLOCKING) {
			if (__atomic_compare_exchange_n(&t->state, &s, KT_WOKEN,
							false, __ATOMIC_ACQ_REL,
							__ATOMIC_ACQUIRE))
				return;
		} else if (s == KT_BLOCKED) {
			if (__atomic_compare_exchange_n(&t->state, &s,
							KT_RUNNABLE, false,
							__ATOMIC_ACQ_REL,
							__ATOMIC_ACQUIRE)) {
				enqueue(t);
				return;
			}
		} else {
			return;		/* running, queued or already woken */
		}
	}
}

void kthread_yield(void)
{
	uint64_t f = irq_save();

	BUG_ON(kthread_current()->preempt_count);
	this_cpu()->need_resched = 0;
	kthread_schedule();
	irq_restore(f);
}

void kthread_exit(uint32_t *exit_word)
{
	struct kthread *t = kthread_current();

	cli();
	BUG_ON(t == &boot_thread || t == this_cpu()->idle_thread);
	BUG_ON(t->preempt_count);
	t->exit_word = exit_word;
	__atomic_store_n(&t->state, KT_DEAD, __ATOMIC_RELEASE);
	kthread_schedule();
	BUG("a dead thread ran again");
}

void preempt_disable(void)
{
	kthread_current()->preempt_count++;
	barrier();
}

void preempt_enable(void)
{
	struct kthread *t = kthread_current();

	barrier();
	BUG_ON(t->preempt_count <= 0);
	if (--t->preempt_count == 0 && READ_ONCE(this_cpu()->need_resched) &&
	    irq_enabled())
		kthread_yield();
}

void kthread_set_fsbase(uint64_t base)
{
	uint64_t f = irq_save();

	kthread_current()->fs_base = base;
	fsbase_write(base);
	irq_restore(f);
}

uint32_t kthread_set_slice_ms(uint32_t ms)
{
	uint32_t old = slice_ms;

	slice_ms = ms;
	__atomic_store_n(&slice_tsc, ns_to_tsc((uint64_t)ms * NSEC_PER_MSEC),
			 __ATOMIC_RELEASE);
	return old;
}

uint32_t kthread_count(void)
{
	return __atomic_load_n(&nlive, __ATOMIC_ACQUIRE);
}

uint64_t kthread_pages(void)
{
	return __atomic_load_n(&npages, __ATOMIC_RELAXED);
}

/* ---- creation ---- */

/* The stack of a thread that has never run: a kswitch to it starts it
 * in kthread_start. */
static void kthread_stack_init(struct kthread *t)
{
	t->rsp = kswitch_stack_init(t->stack_hi, kthread_start);
}

static struct kthread *alloc_thread(const char *name)
{
	BUILD_ASSERT(sizeof(struct kthread) <= 512);
	BUG_ON_CMP(512 + cpufeat.fpu_size, >, PAGE_SZ);
	struct kthread *t = page_alloc_zeroed(1);

	if (!t)
		return NULL;
	t->fpu = (uint8_t *)t + 512;
	fpu_init_area(t->fpu);
	t->id = __atomic_fetch_add(&next_id, 1, __ATOMIC_RELAXED);
	t->pin_cpu = -1;
	size_t i = 0;
	for (; name[i] && i + 1 < sizeof(t->name); i++)
		t->name[i] = name[i];
	return t;
}

static void all_add(struct kthread *t)
{
	uint64_t f = spin_lock_irqsave(&all_lock);
	t->all_next = all_threads;
	t->all_pprev = &all_threads;
	if (all_threads)
		all_threads->all_pprev = &t->all_next;
	all_threads = t;
	spin_unlock_irqrestore(&all_lock, f);
}

struct kthread *kthread_create(const char *name, kthread_fn fn, void *arg,
			       void *stack, size_t size, int cpu)
{
	BUG_ON(cpu >= (int)ncpu);
	struct kthread *t = alloc_thread(name);

	if (!t)
		return NULL;
	if (stack) {
		t->stack_lo = (uint64_t)stack;
		t->stack_hi = (uint64_t)stack + size;
	} else {
		uint64_t pages = ALIGN_UP(size, PAGE_SZ) / PAGE_SZ + 1;
		uint8_t *base = page_alloc(pages);
		if (!base) {
			page_free(t, 1);
			return NULL;
		}
		vm_guard((uint64_t)base);
		t->own_stack = true;
		t->stack_lo = (uint64_t)base + PAGE_SZ;
		t->stack_hi = (uint64_t)base + pages * PAGE_SZ;
	}
	t->fn = fn;
	t->arg = arg;
	t->pin_cpu = cpu;
	kthread_stack_init(t);
	all_add(t);
	__atomic_fetch_add(&npages, thread_pages(t), __ATOMIC_RELAXED);
	__atomic_fetch_add(&nlive, 1, __ATOMIC_RELAXED);
	t->state = KT_RUNNABLE;
	enqueue(t);
	return t;
}

/* ---- idle, tick, signals ---- */

static bool steal(struct cpu *me)
{
	struct cpu *victim = NULL;
	uint32_t most = 0;

	for (uint32_t i = 0; i < ncpu; i++) {
		uint32_t q = READ_ONCE(cpus[i].nr_queued);
		if (&cpus[i] != me && q > most) {
			most = q;
			victim = &cpus[i];
		}
	}
	if (!victim)
		return false;
	spin_lock(&victim->rq_lock);
	struct kthread *t = rq_pop(victim, true);
	spin_unlock(&victim->rq_lock);
	if (!t)
		return false;
	spin_lock(&me->rq_lock);
	t->cpu = me;
	rq_push(me, t);
	spin_unlock(&me->rq_lock);
	return true;
}

void kthread_idle_loop(void)
{
	struct cpu *c = this_cpu();

	for (;;) {
		cli();
		if (READ_ONCE(c->nr_queued) || steal(c)) {
			kthread_schedule();
			continue;
		}
		__atomic_store_n(&c->idle, 1, __ATOMIC_RELAXED);
		__atomic_thread_fence(__ATOMIC_SEQ_CST);	/* vs enqueue() */
		if (READ_ONCE(c->nr_queued)) {
			__atomic_store_n(&c->idle, 0, __ATOMIC_RELAXED);
			continue;
		}
		uint64_t t0 = rdtsc();
		if (idle_poll && c->id == 0) {
			/* Interrupts on across the loop's branches, where
			 * TCG takes them.  A pause every 256 rounds lets the
			 * other vCPUs run: under single-threaded TCG each
			 * pause of theirs lets this loop run on to its next
			 * one, so a longer stretch would stretch their spins
			 * in guest time (at 4096 rounds, a spinning M's 2000
			 * pauses took 100 ms).  Back to the checks above (and
			 * a steal) after 64 Ki rounds, so their cost stays
			 * out of the idle time only a little. */
			sti();
			for (uint32_t i = 0; i < 65536 && !READ_ONCE(c->nr_queued); i++)
				if ((i & 255) == 255)
					cpu_relax();
		} else {
			sti_hlt();
		}
		cli();
		c->stat.idle_ns += tsc_to_ns(rdtsc() - t0);
		__atomic_store_n(&c->idle, 0, __ATOMIC_RELAXED);
	}
}

static void deliver_signal(struct trapframe *tf)
{
	struct kthread *t = kthread_current();

	if (READ_ONCE(t->need_signal) && signal_handler &&
	    __atomic_exchange_n(&t->need_signal, 0, __ATOMIC_ACQ_REL))
		signal_handler(tf);
}

/* kthread_tick - from the timer interrupt: time slicing, then signals. */
void kthread_tick(struct trapframe *tf, bool is_tick)
{
	struct cpu *c = this_cpu();
	struct kthread *t = c->cur;

	if (t == c->idle_thread)
		return;
	if (is_tick && READ_ONCE(c->nr_queued) &&
	    rdtsc() - t->slice_start >= slice_tsc)
		c->need_resched = 1;
	if (c->need_resched && t->preempt_count == 0) {
		c->need_resched = 0;
		c->stat.preemptions++;
		fpu_save(t->fpu);
		kthread_schedule();
		fpu_restore(t->fpu);
	}
	deliver_signal(tf);
}

static void signal_ipi(struct trapframe *tf)
{
	this_cpu()->stat.ipi_recv++;
	lapic_eoi();
	deliver_signal(tf);
}

void kthread_signal(struct kthread *t)
{
	__atomic_store_n(&t->need_signal, 1, __ATOMIC_RELEASE);
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	struct cpu *c = READ_ONCE(t->cpu);
	if (c && READ_ONCE(c->cur) == t) {
		this_cpu()->stat.ipi_sent++;
		lapic_send_ipi(c->apic_id, V_SIGNAL);
	}
}

void kthread_set_signal_handler(void (*h)(struct trapframe *tf))
{
	signal_handler = h;
}

/* ---- boot ---- */

void kthread_init_boot(void)
{
	struct cpu *c = this_cpu();

	boot_thread.cpu = c;
	boot_thread.stack_lo = (uint64_t)boot_stack;
	boot_thread.stack_hi = (uint64_t)boot_stack_top;
	c->cur = &boot_thread;
	all_add(&boot_thread);
}

static void idle_entry(void *arg)
{
	(void)arg;
	kthread_idle_loop();
}

void kthread_init(void)
{
	struct cpu *c = this_cpu();

	assert_irqs_off();
	slice_tsc = ns_to_tsc((uint64_t)slice_ms * NSEC_PER_MSEC);
	trap_set_handler(V_SIGNAL, signal_ipi);
	struct kthread *idle = alloc_thread("idle0");
	uint8_t *stack = page_alloc(4);
	BUG_ON(!idle || !stack);
	idle->stack_lo = (uint64_t)stack;
	idle->stack_hi = (uint64_t)stack + 4 * PAGE_SZ;
	idle->fn = idle_entry;
	idle->pin_cpu = 0;
	idle->cpu = c;
	idle->state = KT_RUNNABLE;
	kthread_stack_init(idle);
	c->idle_thread = idle;
	c->prev_state = KT_RUNNABLE;
	boot_thread.slice_start = rdtsc();
}

void kthread_ap_init(void)
{
	struct cpu *c = this_cpu();
	struct kthread *t = alloc_thread("idle");

	if (!t)
		panic("no memory for cpu %u's idle thread", c->id);
	snprintf(t->name, sizeof(t->name), "idle%u", c->id);
	t->state = KT_RUNNING;
	t->cpu = c;
	t->pin_cpu = (int)c->id;
	c->cur = t;
	c->idle_thread = t;
}

static const char *state_name(uint32_t s)
{
	static const char *const n[] = { "?", "running", "runnable",
					 "blocking", "woken", "blocked", "dead" };
	return s < ARRAY_SIZE(n) ? n[s] : "?";
}

void kthread_print_stats(void)
{
	kprintf("# kstat: cpu switches preemptions wakeups ipi_sent ipi_recv "
		"idle_ms\n");
	for (uint32_t i = 0; i < ncpu; i++) {
		struct cpu *c = &cpus[i];
		kprintf("# kstat: %3u %8lu %11lu %7lu %8lu %8lu %7lu\n", i,
			c->stat.switches, c->stat.preemptions, c->stat.wakeups,
			c->stat.ipi_sent, c->stat.ipi_recv,
			c->stat.idle_ns / NSEC_PER_MSEC);
	}
}

void kthread_exit_report(void)
{
	if (kstat)
		kthread_print_stats();
}

/* kthread_dump - every thread and its state, and each CPU's run queue
 * (for fatal reports, the other CPUs stopped: read without rq_lock). */
void kthread_dump(void)
{
	kprintf("kernel threads (%u live):\n", kthread_count());
	for (struct kthread *t = all_threads; t; t = t->all_next) {
		bool on = t->cpu && t->cpu->cur == t;
		kprintf("  thread %u '%s' %s cpu %d%s\n", t->id, t->name,
			state_name(t->state), t->cpu ? (int)t->cpu->id : -1,
			on ? " (on cpu)" : "");
		/* Off CPU: where kswitch left it (its frame: the control
		 * words, r15-r12, rbx, rbp, then the return address). */
		const uint64_t *f = (const uint64_t *)t->rsp;
		if (!on && t->state != KT_DEAD && t->rsp &&
		    vm_readable(t->rsp, 8 * 8))
			backtrace_write_within(console_sink, NULL, 0, f[7], f[6],
					       t->stack_lo, t->stack_hi);
	}
	for (uint32_t i = 0; i < ncpu; i++) {
		struct cpu *c = &cpus[i];
		kprintf("  cpu %u: running thread %u, %u queued:", i,
			c->cur ? c->cur->id : 0, READ_ONCE(c->nr_queued));
		for (struct kthread *t = c->rq_head; t; t = t->rq_next)
			kprintf(" %u", t->id);
		kprintf("\n");
	}
}
