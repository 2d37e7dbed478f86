/*
 * kernel/cpu.h - per-CPU blocks, reached through the GS base.
 *
 * Each started CPU owns one struct cpu; its GS base points at it for the
 * CPU's whole life (nothing in rt0 changes GS), and %gs:0 holds the block's
 * own address.  The block is found with this_cpu().
 *
 * Warning: the answer of this_cpu() is only stable while the caller cannot
 * migrate, i.e. with interrupts or preemption disabled.  A preemptible
 * thread that reads it may be running on another CPU a moment later.
 */
#ifndef RT0_CPU_H
#define RT0_CPU_H

#include "lib.h"
#include "spinlock.h"
#include "../arch/x86_64/cpu_arch.h"

#define MAX_CPUS 64

struct kthread;
struct ktimer;
struct trapframe;

struct cpu {
	struct cpu *self;		/* %gs:0; constant */
	struct kthread *cur;		/* %gs:8; running thread; this CPU, irqs off */
	uint32_t id;			/* index in cpus[]; constant */
	uint32_t apic_id;		/* constant */
	int started;			/* set once by this CPU when it is up */
	int trap_depth;			/* exception nesting; this CPU only */

	struct cpu_arch arch;		/* GDT, TSS, IST stacks; this CPU only */

	/* Checks done by the CPU itself at bring-up (read by tests). */
	uint64_t fs_check;		/* value read back through %fs (0x123) */
	uint32_t bringup_count;		/* times this CPU ran its bring-up */

	/* Tick, written by this CPU's timer interrupt only. */
	uint64_t ticks;			/* tick interrupts taken */
	uint64_t ticks_merged;		/* ticks folded into a later one:
					 * the interrupt came over a period
					 * late (the host descheduled the
					 * vCPU) */
	uint64_t next_tick;		/* TSC of the next tick; this CPU */
	uint64_t armed;			/* TSC the LAPIC timer fires at; this CPU */
	uint64_t tlb_gen;		/* guards this TLB has seen; this CPU */

	/* Kernel-thread scheduling: see kernel/kthread.c. */
	struct spinlock rq_lock;
	struct kthread *rq_head;	/* runnable threads, FIFO; rq_lock */
	struct kthread *rq_tail;	/* rq_lock */
	uint32_t nr_queued;		/* threads on rq; rq_lock (read racily) */
	uint32_t idle;			/* 1 while in the idle loop; atomic */
	uint32_t need_resched;		/* set by tick/wakeups; this CPU */
	struct kthread *idle_thread;	/* constant after bring-up */
	uint32_t prev_state;		/* state the last thread switched away
					 * with, for finish_switch; this CPU */

	/* Per-CPU kernel timers: kernel/ktimer.c. */
	struct spinlock timer_lock;
	struct ktimer *timers;		/* sorted by deadline; timer_lock */

	/* Counters: incremented by this CPU only, read racily by anyone. */
	struct {
		uint64_t switches;	/* context switches into another thread */
		uint64_t preemptions;	/* of which forced by the tick */
		uint64_t wakeups;	/* threads made runnable by this CPU */
		uint64_t ipi_sent;
		uint64_t ipi_recv;
		uint64_t idle_ns;	/* time spent halted */
	} stat;
	/* Where the stop NMI found this CPU (kernel_stop_others): set by
	 * it, read by the stopping CPU's report once stopped is 1. */
	uint32_t stopped;
	uint64_t stopped_rip, stopped_rsp, stopped_rbp;
	struct trapframe *tick_tf;	/* what the tick interrupted, while
					 * the watchdog runs; this CPU */
#ifdef RT0_DEBUG
	struct lockrank_held locks_held; /* spinlocks held; this CPU */
#endif
} __attribute__((aligned(64)));

extern struct cpu cpus[MAX_CPUS];
extern uint32_t ncpu;			/* CPUs started; constant after SMP boot */

static inline struct cpu *this_cpu(void)
{
	struct cpu *c;
	__asm__ volatile("movq %%gs:0, %0" : "=r"(c));
	return c;
}

static inline uint32_t this_cpu_id(void)
{
	return this_cpu()->id;
}

#endif
