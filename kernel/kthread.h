/*
 * kernel/kthread.h - kernel threads: what the runtime's Ms run on.
 *
 * A kernel thread is a stack, a saved context, an FS base and an FPU/SSE
 * save area.  The kernel schedules threads on CPUs: each CPU has a FIFO run
 * queue, a periodic tick time-slices when a CPU has more runnable threads
 * than one, an idle CPU halts until an IPI says there is work.  Blocking is
 * futex-style (kwait/kwake).  Threads know nothing of goroutines.
 *
 * States (t->state, changed only by CAS or under the rules beside each):
 *   KT_RUNNING   on a CPU: t == t->cpu->cur.  Only t itself leaves it.
 *   KT_RUNNABLE  on the run queue of t->cpu (rq_lock).  The CPU that pops
 *                it makes it RUNNING.
 *   KT_BLOCKING  t has decided to block (it is on a wait queue or has a
 *                timer) but is still on its CPU until the switch completes.
 *                A waker CASes it to KT_WOKEN; the switch's finish CASes it
 *                to KT_BLOCKED.  Whoever wins decides.
 *   KT_WOKEN     woken while still KT_BLOCKING: either t notices before
 *                switching and keeps running, or the CPU that switched away
 *                from it puts it on a run queue once its context is saved.
 *   KT_BLOCKED   off CPU, on no run queue, context saved.  The waker that
 *                CASes it to KT_RUNNABLE enqueues it.
 *   KT_DEAD      t called kthread_exit; once switched away from, its exit
 *                word is cleared and its struct freed.  Never leaves.
 */
#ifndef RT0_KTHREAD_H
#define RT0_KTHREAD_H

#include "lib.h"
#include "cpu.h"

enum kthread_state {
	KT_RUNNING = 1,
	KT_RUNNABLE,
	KT_BLOCKING,
	KT_WOKEN,
	KT_BLOCKED,
	KT_DEAD,
};

struct fault_catch;
struct kwaiter;
struct trapframe;

typedef void (*kthread_fn)(void *arg);

struct kthread {
	uint64_t rsp;			/* saved RSP while off CPU; switch.S */
	uint32_t state;			/* enum kthread_state; see above */
	int32_t preempt_count;		/* >0: tick must not preempt; owner only */
	struct cpu *cpu;		/* CPU it runs / is queued on / last ran
					 * on; written by the CPU that queues it
					 * under that CPU's rq_lock */
	struct kthread *rq_next;	/* run queue link; cpu->rq_lock */
	uint64_t fs_base;		/* loaded on every switch in; owner only */
	void *fpu;			/* save area for preempted state; owner */
	uint32_t fpu_saved;		/* fpu holds live state to restore; owner */
	uint32_t id;			/* constant */
	char name[24];			/* constant (for reports) */
	int32_t pin_cpu;		/* -1 or the only CPU it may run on */
	uint32_t need_signal;		/* deliver signal_hook on next irq return; atomic */

	kthread_fn fn;			/* entry and argument; constant */
	void *arg;
	uint64_t stack_lo, stack_hi;	/* constant */
	bool own_stack;			/* kernel allocated (and frees) the stack */
	uint32_t *exit_word;		/* cleared after the last switch away */

	uint64_t slice_start;		/* TSC when it last got its CPU; its CPU */
	struct kwaiter *waiter;		/* the wait it is blocked in; owner */
	struct fault_catch *fault_catch; /* armed fault recovery; owner */
	void *user;			/* upper layer's pointer (the runtime: M) */

	struct kthread *all_next;	/* allthreads list; all_lock */
	struct kthread **all_pprev;	/* all_lock */
};

/* Current thread.  Stable: a thread is always itself, wherever it runs. */
static inline struct kthread *kthread_current(void)
{
	struct kthread *t;
	__asm__ volatile("movq %%gs:8, %0" : "=r"(t));
	return t;
}

/*
 * kthread_init_boot - make the calling boot context thread 0 ("kmain") of
 * the boot CPU.  First thing after the GS block exists.  Returns.
 */
void kthread_init_boot(void);

/*
 * kthread_init - give the boot CPU its idle thread and set the slice.
 * Boot CPU, after mem_init and time_init, interrupts disabled.  Returns.
 */
void kthread_init(void);

/* kthread_tick - the tick's thread work: timers, time slicing, signals. */
void kthread_tick(struct trapframe *tf, bool is_tick);

/* kthread_dump - list every thread and its state (fatal reports). */
void kthread_dump(void);

/* kthread_exit_report - print the counters at exit if kstat=1. */
void kthread_exit_report(void);

/* kthread_ap_init - on an AP: its boot context becomes its idle thread. */
void kthread_ap_init(void);

/* kthread_idle_loop - the idle thread's body; never returns. */
void kthread_idle_loop(void) __noreturn;

/*
 * kthread_create - a new thread running fn(arg) on @stack (size bytes,
 * caller-owned, 16-byte aligned) or, if @stack is NULL, on a stack of
 * @size bytes the kernel allocates with a guard page below and frees after
 * exit.  @cpu: -1 for any CPU (placed on a CPU with little work), or a CPU
 * id to pin it to.  Returns the thread (already runnable) or NULL if out of
 * memory.  The thread may run, exit and be freed before this returns: the
 * pointer is only good while the caller knows the thread lives, and
 * neither it nor @arg's memory may be touched afterwards unless the
 * thread's lifetime says so.  Any thread context.
 */
struct kthread *kthread_create(const char *name, kthread_fn fn, void *arg,
			       void *stack, size_t size, int cpu);

/*
 * kthread_exit - end the calling thread.  If @exit_word is not NULL, the
 * kernel stores 0 to it (release) once the thread's stack is no longer in
 * use, so its owner may free the stack.  Never returns.  Returning from a
 * thread's fn is kthread_exit(NULL).
 */
void kthread_exit(uint32_t *exit_word) __noreturn;

/* kthread_yield - give the CPU to another runnable thread, if any. */
void kthread_yield(void);

/* kthread_set_slice_ms - change the time slice (tests); returns the old. */
uint32_t kthread_set_slice_ms(uint32_t ms);

/* kthread_count - live threads (created minus fully exited), idle excluded. */
uint32_t kthread_count(void);
/* kthread_pages - pages held by live threads (structs and own stacks). */
uint64_t kthread_pages(void);

/* Preemption control: a count, as Linux's preempt_count. */
void preempt_disable(void);
void preempt_enable(void);

/* kthread_set_fsbase - set the calling thread's FS base (kept across
 * switches).  Returns. */
void kthread_set_fsbase(uint64_t base);

/* kthread_wake - make a KT_BLOCKED/KT_BLOCKING thread runnable (no-op if it
 * is not blocked).  Any context.  Used by kwait/kwake and timers. */
void kthread_wake(struct kthread *t);

/*
 * kthread_block - switch away from the calling thread, which has set its
 * own state to KT_BLOCKING and arranged for a wake.  Returns when woken.
 * Interrupts must be disabled; they are disabled on return.
 */
void kthread_block(void);

/*
 * Signals: the bare-metal form of a Unix signal to a thread, used by the
 * runtime to preempt an M asynchronously.  kthread_signal(t) marks t; the
 * next time t returns from an interrupt (at once, by IPI, if t is running)
 * the handler set with kthread_set_signal_handler is called with t's
 * interrupt frame, which it may edit.  Any context.
 */
void kthread_signal(struct kthread *t);
void kthread_set_signal_handler(void (*h)(struct trapframe *tf));

/* Per-CPU counters, printed by kstat=1 and read by tests. */
void kthread_print_stats(void);

#endif
