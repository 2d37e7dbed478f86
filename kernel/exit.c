/* kernel/exit.c - see exit.h. */
#include "exit.h"
#include "console.h"
#include "cpu.h"
#include "kthread.h"
#include "ksyms.h"
#include "time.h"
#include "../arch/x86_64/lapic.h"
#include "../arch/x86_64/qemu.h"
#include "../arch/x86_64/trap.h"
#include "../arch/x86_64/x86.h"

static uint32_t stopping;		/* 1 once the machine is going down */
static int32_t stopper = -1;		/* the CPU taking it down; atomic */
static void (*dump_hooks[4])(void);
static void (*exit_hooks[2])(void);
static uint32_t dumping;

bool kernel_stopping(void)
{
	return __atomic_load_n(&stopping, __ATOMIC_ACQUIRE) != 0;
}

/*
 * One CPU takes the machine down.  Another that gets here meanwhile (two
 * fatal errors at once: say, every M out of memory) stops where it is,
 * before it prints anything: the first CPU's NMI would stop it anyway,
 * perhaps holding the console, and one report is what the host reads.
 */
void kernel_stop_others(void)
{
	int32_t me = (int32_t)this_cpu_id(), none = -1;

	/* From here this CPU takes no interrupt: a tick's kernel timers
	 * would wake threads onto other CPUs, whose run queue locks a
	 * stopped CPU may hold for good (a throw's report then turned
	 * into a 20 s spin and a "spinlock held" panic). */
	cli();

	if (!__atomic_compare_exchange_n(&stopper, &none, me, false,
					 __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) {
		if (none == me)
			return;		/* ours already (throw, then exit) */
		for (;;)
			__asm__ volatile("cli; hlt");
	}
	__atomic_store_n(&stopping, 1, __ATOMIC_RELEASE);
	if (ncpu > 1)
		lapic_broadcast_nmi_others();
}

int32_t kernel_stopper_cpu(void)
{
	return __atomic_load_n(&stopper, __ATOMIC_ACQUIRE);
}

/* Put @fn in the first free slot of @hooks[n], or stop: hooks are few
 * and added at boot. */
static void hook_add(void (**hooks)(void), size_t n, void (*fn)(void))
{
	for (size_t i = 0; i < n; i++)
		if (!hooks[i]) {
			hooks[i] = fn;
			return;
		}
	BUG("too many hooks");
}

void kernel_add_dump_hook(void (*fn)(void))
{
	hook_add(dump_hooks, ARRAY_SIZE(dump_hooks), fn);
}

/*
 * Where every other CPU was when the stop NMI took it: a hang shows what
 * each CPU was doing.  A CPU that does not answer within ~50 ms (halted
 * with interrupts off already, or gone) is named as such.
 */
static void cpus_dump(void)
{
	uint32_t me = this_cpu_id();
	uint64_t end = rdtsc() + (tsc_hz ? tsc_hz / 20 : (1ull << 26));

	for (uint32_t i = 0; i < ncpu; i++) {
		struct cpu *c = &cpus[i];
		if (i == me) {
			struct trapframe *tf = c->tick_tf;
			if (!tf)
				continue;
			kprintf("cpu %u (this one): its tick interrupted thread "
				"%u '%s':\n", i, c->cur ? c->cur->id : 0,
				c->cur ? c->cur->name : "?");
			backtrace_write_trap(console_sink, NULL, tf->rip,
					     tf->rsp, tf->rbp);
			continue;
		}
		while (!__atomic_load_n(&c->stopped, __ATOMIC_ACQUIRE) &&
		       rdtsc() < end)
			cpu_relax();
		struct kthread *t = READ_ONCE(c->cur);
		if (!__atomic_load_n(&c->stopped, __ATOMIC_ACQUIRE)) {
			kprintf("cpu %u: did not answer the stop NMI\n", i);
			continue;
		}
		kprintf("cpu %u: stopped in thread %u '%s':\n", i,
			t ? t->id : 0, t ? t->name : "?");
		backtrace_write_trap(console_sink, NULL, c->stopped_rip,
				     c->stopped_rsp, c->stopped_rbp);
	}
}

void kernel_dump_hooks(void)
{
	if (__atomic_exchange_n(&dumping, 1, __ATOMIC_ACQ_REL))
		return;
	if (kernel_stopping())
		cpus_dump();
	kthread_dump();
	for (size_t i = 0; i < ARRAY_SIZE(dump_hooks); i++)
		if (dump_hooks[i])
			dump_hooks[i]();
}

void kernel_add_exit_hook(void (*fn)(void))
{
	hook_add(exit_hooks, ARRAY_SIZE(exit_hooks), fn);
}

void kernel_exit(uint32_t status)
{
	static uint32_t exiting;

	kernel_stop_others();	/* interrupts off from here */
	/* Once: a hook that fails (a fault while writing) exits again. */
	if (!__atomic_exchange_n(&exiting, 1, __ATOMIC_ACQ_REL))
		for (size_t i = 0; i < ARRAY_SIZE(exit_hooks); i++)
			if (exit_hooks[i])
				exit_hooks[i]();
	kthread_exit_report();
	kprintf("rt0: exit status %u\n", status);
	qemu_exit(status);
	kprintf("rt0: no isa-debug-exit device at port 0xf4; halting "
		"(add -device isa-debug-exit,iobase=0xf4,iosize=4)\n");
	for (;;)
		__asm__ volatile("cli; hlt");
}
