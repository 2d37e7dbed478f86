/*
 * kernel/fault.c - exception reports and recovery (see fault.h).
 *
 * Exceptions that run on IST stacks (#DF, NMI, #MC, #PF) must never fault
 * again into the same stack: trap_depth counts nesting per CPU, and a fault
 * while a report is being made prints one fixed line and exits at once.
 */
#include "fault.h"
#include "console.h"
#include "cpu.h"
#include "exit.h"
#include "kthread.h"
#include "ksyms.h"
#include "vm.h"
#include "../arch/x86_64/lapic.h"
#include "../arch/x86_64/qemu.h"
#include "../arch/x86_64/x86.h"

extern char _text_start[], _text_end[], _rodata_start[], _rodata_end[];

static fault_describer describers[4];

void fault_add_describer(fault_describer d)
{
	for (size_t i = 0; i < ARRAY_SIZE(describers); i++)
		if (!describers[i]) {
			describers[i] = d;
			return;
		}
	BUG("too many fault describers");
}

void fault_arm(struct fault_catch *fc)
{
	fc->vector = -1;
	fc->len = 0;
	fc->report[0] = '\0';
	kthread_current()->fault_catch = fc;
}

void fault_untry(struct fault_catch *fc)
{
	struct kthread *t = kthread_current();

	if (t->fault_catch == fc)
		t->fault_catch = NULL;
}

static void pf_cause(const struct trapframe *tf, uint64_t cr2, fmt_sink sink,
		     void *arg)
{
	uint64_t e = tf->error;
	const char *what = (e & 16) ? "instruction fetch" : (e & 2) ? "write"
								   : "read";

	sinkf(sink, arg, "  cause: ");
	if (vm_is_guard(ALIGN_DOWN(cr2, 4096)))
		sinkf(sink, arg, "%s of a guard page at 0x%lx: stack overflow\n",
		      what, cr2);
	else if (!(e & 1) && cr2 < 4096)
		sinkf(sink, arg, "NULL pointer dereference (%s of 0x%lx)\n",
		      what, cr2);
	else if (!(e & 1))
		sinkf(sink, arg, "%s of unmapped address 0x%lx\n", what, cr2);
	else if (e & 16)
		sinkf(sink, arg, "instruction fetch from no-execute page "
		      "0x%lx\n", cr2);
	else if (e & 2)
		sinkf(sink, arg, "write to read-only page 0x%lx%s\n", cr2,
		      cr2 >= (uint64_t)_text_start && cr2 < (uint64_t)_text_end
			      ? " (kernel text)"
		      : cr2 >= (uint64_t)_rodata_start &&
				      cr2 < (uint64_t)_rodata_end
			      ? " (read-only data)" : "");
	else
		sinkf(sink, arg, "protection violation (%s of 0x%lx)\n", what,
		      cr2);
}

void fault_report(const struct trapframe *tf, fmt_sink sink, void *arg)
{
	struct cpu *c = this_cpu();
	struct kthread *t = c->cur;
	uint64_t cr2 = read_cr2();
	uint64_t off = 0;
	const char *fn = ksym_lookup(tf->rip, &off);

	sinkf(sink, arg, "rt0: EXCEPTION %s (vector %lu) on cpu %u\n",
	      trap_name((int)tf->vector), tf->vector, c->id);
	if (tf->vector == T_PF)
		pf_cause(tf, cr2, sink, arg);
	for (size_t i = 0; i < ARRAY_SIZE(describers); i++)
		if (describers[i])
			describers[i](tf, cr2, sink, arg);
	if (t)
		sinkf(sink, arg, "  thread %u '%s'\n", t->id, t->name);
	sinkf(sink, arg, "  error 0x%lx  rip 0x%016lx <%s+0x%lx>\n", tf->error,
	      tf->rip, fn ? fn : "?", off);
	sinkf(sink, arg, "  rsp 0x%016lx  cr2 0x%016lx  rflags 0x%lx\n",
	      tf->rsp, cr2, tf->rflags);
	sinkf(sink, arg, "  rax 0x%016lx rbx 0x%016lx rcx 0x%016lx\n",
	      tf->rax, tf->rbx, tf->rcx);
	sinkf(sink, arg, "  rdx 0x%016lx rsi 0x%016lx rdi 0x%016lx\n",
	      tf->rdx, tf->rsi, tf->rdi);
	sinkf(sink, arg, "  rbp 0x%016lx r8  0x%016lx r9  0x%016lx\n",
	      tf->rbp, tf->r8, tf->r9);
	sinkf(sink, arg, "  r10 0x%016lx r11 0x%016lx r12 0x%016lx\n",
	      tf->r10, tf->r11, tf->r12);
	sinkf(sink, arg, "  r13 0x%016lx r14 0x%016lx r15 0x%016lx\n",
	      tf->r13, tf->r14, tf->r15);
	sinkf(sink, arg, "backtrace:\n");
	backtrace_write_trap(sink, arg, tf->rip, tf->rsp, tf->rbp);
}

struct catch_sink {
	struct fault_catch *fc;
};

static void catch_put(void *arg, const char *s, size_t n)
{
	struct fault_catch *fc = arg;

	for (size_t i = 0; i < n && fc->len + 1 < sizeof(fc->report); i++)
		fc->report[fc->len++] = s[i];
	fc->report[fc->len] = '\0';
}

/* Resume at the catch's fault_try, which now returns false. */
static void recover(struct trapframe *tf, struct fault_catch *fc)
{
	fc->vector = (int)tf->vector;
	fc->error = tf->error;
	fc->cr2 = read_cr2();
	fc->rip = tf->rip;
	fault_report(tf, catch_put, fc);
	tf->rbx = fc->jb.rbx;
	tf->rbp = fc->jb.rbp;
	tf->r12 = fc->jb.r12;
	tf->r13 = fc->jb.r13;
	tf->r14 = fc->jb.r14;
	tf->r15 = fc->jb.r15;
	tf->rsp = fc->jb.rsp;
	tf->rip = fc->jb.rip;
	tf->rax = 1;
}

static __noreturn void halt_forever(void)
{
	for (;;)
		__asm__ volatile("cli; hlt");
}

static void exception(struct trapframe *tf)
{
	struct cpu *c = this_cpu();
	int v = (int)tf->vector;

	if (v == V_SPURIOUS)
		return;			/* no EOI for spurious interrupts */
	if (v == T_PF && vm_demand_fault(read_cr2(), tf->error))
		return;			/* a goroutine stack page, mapped */
	if (v >= 32) {
		kprintf("rt0: unexpected interrupt vector %d on cpu %u\n", v,
			c->id);
		lapic_eoi();
		return;
	}
	if (v == T_NMI && kernel_stopping()) {
		/* Another CPU is panicking or exiting: leave where we were
		 * for its report (cpus_dump), then stop. */
		c->stopped_rip = tf->rip;
		c->stopped_rsp = tf->rsp;
		c->stopped_rbp = tf->rbp;
		__atomic_store_n(&c->stopped, 1, __ATOMIC_RELEASE);
		halt_forever();
	}

	if (++c->trap_depth > 1) {
		/* A fault while reporting one: say so in one line and stop. */
		static const char msg[] = "\nrt0: nested exception while "
					  "handling an exception; stopping\n";
		if (c->trap_depth == 2)
			console_write(msg, sizeof(msg) - 1);
		qemu_exit(EXIT_PANIC);
		halt_forever();
	}

	struct kthread *t = c->cur;
	struct fault_catch *fc = t ? t->fault_catch : NULL;
	if (fc && v != T_NMI && v != T_MC && v != T_DF) {
		t->fault_catch = NULL;
		recover(tf, fc);
		c->trap_depth--;
		return;
	}

	kernel_stop_others();
	fault_report(tf, console_sink, NULL);
	kernel_dump_hooks();
	kernel_exit(EXIT_PANIC);
}

void fault_init(void)
{
	trap_set_default(exception);
}
