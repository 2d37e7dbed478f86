/*
 * kernel/main.c - the boot checklist: from the loader to the tests or the
 * program.  Runs on the boot CPU, on boot_stack, interrupts disabled until
 * every CPU is up.
 */
#include "lib.h"
#include "acpi.h"
#include "bootinfo.h"
#include "cmdline.h"
#include "cpu.h"
#include "exit.h"
#include "fault.h"
#include "ktest.h"
#include "kthread.h"
#include "mem.h"
#include "smp.h"
#include "time.h"
#include "vm.h"
#include "../arch/x86_64/cpufeat.h"
#include "../arch/x86_64/lapic.h"
#include "../arch/x86_64/pic.h"
#include "../arch/x86_64/trap.h"
#include "../arch/x86_64/uart.h"
#include "../arch/x86_64/x86.h"

extern void (*const _kmain_start[])(void), (*const _kmain_end[])(void);

static bool show_help;
KPARAM_BOOL(help, show_help, "list the command-line keys and stop");

void kernel_main(uint32_t kind, uint64_t info) __noreturn;

static void parse_cmdline(void)
{
	char err[256];

	if (bootinfo.cmdline_too_long) {
		kprintf("rt0: command line: longer than %d bytes\n",
			BOOT_CMDLINE_MAX - 1);
		kernel_exit(EXIT_CMDLINE);
	}
	if (cmdline_parse(bootinfo.cmdline, true, err, sizeof(err))) {
		kprintf("rt0: command line: %s\n", err);
		kernel_exit(EXIT_CMDLINE);
	}
	if (show_help) {
		cmdline_print_help();
		kernel_exit(EXIT_OK);
	}
}

void kernel_main(uint32_t kind, uint64_t info)
{
	cpu_early_init();		/* boot CPU's GS block */
	uart_init();			/* COM1: kprintf works from here */
	cpufeat_probe();		/* CPUID: NX, FSGSBASE, XSAVE */
	idt_init();			/* the 256 vectors */
	fault_init();			/* exception reports */
	cpu_setup(&cpus[0]);		/* GDT/TSS/IST, IDT, CR4, LAPIC, FS check */
	kthread_init_boot();		/* this context becomes thread "kmain" */
	bootinfo_parse(kind, info);	/* cmdline, memory map, RSDP: copied */
	parse_cmdline();		/* bad line: one message, status 2 */
	if (ktest_selected())
		ktest_header();		/* first KTAP line, as early as possible */
	acpi_init();			/* MADT: LAPIC address, CPU list */
	lapic_set_base(acpi.lapic_pa);
	mem_init();			/* page allocator from the memory map */
	vm_init();			/* kernel page tables: W^X, NULL unmapped */
	pic_disable();			/* 8259 remapped and masked */
	lapic_init_cpu(V_SPURIOUS);	/* again, at the MADT's address */
	time_init();			/* TSC and LAPIC timer vs PIT ch0 */
	kthread_init();			/* idle thread, time slice */
	tick_start_cpu();		/* periodic tick on this CPU */
	smp_boot();			/* INIT-SIPI-SIPI every other CPU */
	sti();				/* interrupts on */

	kprintf("# rt0: booted by %s on %s (%s), %u cpus, %lu MiB free, "
		"tsc %lu MHz, tick %u Hz\n", bootinfo.loader, cpufeat.vendor,
		cpufeat.fsgsbase ? "wrfsbase" : "FS base via MSR", ncpu,
		mem_free_pages() * PAGE_SZ >> 20, tsc_hz / 1000000, tick_hz);
	if (ktest_header_tsc) {
		uint64_t us = tsc_to_ns(ktest_header_tsc) / 1000;
		kprintf("# boot: first KTAP line at %lu.%03lu ms of guest time\n",
			us / 1000, us % 1000);
	}
	smp_print_inventory();

	if (ktest_selected() || kbench_selected()) {
		ktest_plan();
		ktest_run_level(KTEST_KERNEL);	/* the rest run in goroutine 1 */
	}
	if (_kmain_end - _kmain_start != 1)
		panic("%ld KERNEL_MAIN entries in the image; one expected",
		      (long)(_kmain_end - _kmain_start));
	_kmain_start[0]();		/* the runtime: this thread becomes
					 * m0 (rt0_go); no return */
	panic("the KERNEL_MAIN function returned");
}
