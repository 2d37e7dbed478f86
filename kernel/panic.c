/*
 * kernel/panic.c - the end of the line for a broken invariant.
 *
 * panic() stops the other CPUs (NMI), prints its message with the CPU and
 * thread and a backtrace, runs the dump hooks (the runtime's scheddetail),
 * and exits QEMU with EXIT_PANIC.  A panic inside a panic prints one line
 * and exits at once.
 */
#include "lib.h"
#include "console.h"
#include "cpu.h"
#include "exit.h"
#include "kthread.h"
#include "ksyms.h"
#include "../arch/x86_64/qemu.h"
#include "../arch/x86_64/x86.h"

void panic(const char *fmt, ...)
{
	va_list ap;
	int32_t me, none = -1;

	cli();
	me = (int32_t)this_cpu_id();
	if (!__atomic_compare_exchange_n(&panic_cpu, &none, me, false,
					 __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) {
		if (none == me) {
			static const char msg[] = "\nrt0: panic while panicking\n";
			console_write(msg, sizeof(msg) - 1);
			qemu_exit(EXIT_PANIC);
		}
		for (;;)		/* another CPU is panicking */
			__asm__ volatile("hlt");
	}
	kernel_stop_others();

	struct kthread *t = this_cpu()->cur;
	kprintf("\nrt0: PANIC on cpu %d", me);
	if (t)
		kprintf(" in thread %u '%s'", t->id, t->name);
	kprintf(": ");
	va_start(ap, fmt);
	vkprintf(fmt, ap);
	va_end(ap);
	kprintf("\nbacktrace:\n");
	uint64_t *fp = __builtin_frame_address(0);
	backtrace_write(console_sink, NULL, fp[1], fp[0]);
	kernel_dump_hooks();
	kernel_exit(EXIT_PANIC);
}
