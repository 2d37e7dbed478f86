/*
 * kernel/smp.c - per-CPU setup, AP bring-up and cross-CPU calls.
 *
 * AP start: the trampoline (boot/trampoline.S) is copied to TRAMPOLINE_PA
 * and patched with the kernel's CR3.  Each AP is sent INIT, then (after
 * the 10 ms the MP spec asks for) SIPI with vector TRAMPOLINE_PA >> 12, and
 * a second SIPI if it has not answered after 200 us.  In 64-bit mode the
 * trampoline reads the CPU's initial APIC id, finds its index in
 * ap_cpu_by_apic[] and its stack in ap_stacks[], and calls ap_main().
 */
#include "smp.h"
#include "acpi.h"
#include "exit.h"
#include "kthread.h"
#include "mem.h"
#include "time.h"
#include "tick.h"
#include "vm.h"
#include "cmdline.h"
#include "../arch/x86_64/cpufeat.h"
#include "../arch/x86_64/lapic.h"
#include "../arch/x86_64/trap.h"
#include "../arch/x86_64/x86.h"
#include "../boot/boot.h"

BUILD_ASSERT(__builtin_offsetof(struct cpu, self) == 0);
BUILD_ASSERT(__builtin_offsetof(struct cpu, cur) == 8);

struct cpu cpus[MAX_CPUS];
uint32_t ncpu = 1;
uint32_t maxcpus;
KPARAM_UINT(maxcpus, maxcpus, 1, MAX_CPUS, "start at most N CPUs");

/* Read by the trampoline's 64-bit code. */
uint8_t ap_cpu_by_apic[256];
uint64_t ap_stacks[MAX_CPUS];
#define AP_STACK_SIZE 16384

extern char _trampoline_start[], _trampoline_end[];
extern char tramp_cr3[], tramp_efer[];

static uint8_t bsp_ist[IST_COUNT][IST_STACK_SIZE] __attribute__((aligned(16)));

/*
 * The FS-base check, as rt0_go does it: point FS at a two-word block,
 * store 0x123 through %fs:-8, read it back through the block's address.
 */
static void fs_check(struct cpu *c)
{
	uint64_t block[2] = { 0, 0 };
	uint64_t saved = fsbase_read();

	fsbase_write((uint64_t)&block[1]);
	__asm__ volatile("movq $0x123, %%fs:-8" : : : "memory");
	c->fs_check = READ_ONCE(block[0]);
	fsbase_write(saved);
	if (c->fs_check != 0x123)
		panic("cpu %u: FS-relative store of 0x123 read back as 0x%lx "
		      "(FS base via %s)", c->id, c->fs_check,
		      cpufeat.fsgsbase ? "wrfsbase" : "MSR");
}

static void cpu_block_init(struct cpu *c, uint32_t id)
{
	c->self = c;
	c->id = id;
	c->rq_lock = (struct spinlock)SPINLOCK_INIT(LOCKRANK_RUNQUEUE);
	c->timer_lock = (struct spinlock)SPINLOCK_INIT(LOCKRANK_KTIMER);
}

void cpu_early_init(void)
{
	struct cpu *c = &cpus[0];

	cpu_block_init(c, 0);
	for (int i = 0; i < IST_COUNT; i++)
		c->arch.ist_stack[i] = bsp_ist[i];
	gsbase_write((uint64_t)c);
}

void cpu_setup(struct cpu *c)
{
	assert_irqs_off();
	gdt_init_cpu(&c->arch);
	idt_load();
	cpu_enable_features();
	lapic_init_cpu(V_SPURIOUS);
	c->apic_id = lapic_id();
	c->bringup_count++;
	fs_check(c);
}

/* First C code on an AP, on ap_stacks[idx], interrupts disabled. */
void ap_main(uint32_t idx) __noreturn;
void ap_main(uint32_t idx)
{
	struct cpu *c = &cpus[idx];

	gsbase_write((uint64_t)c);
	cpu_setup(c);
	kthread_ap_init();
	tick_start_cpu();
	__atomic_store_n(&c->started, 1, __ATOMIC_RELEASE);
	kthread_idle_loop();
}

static void wake_handler(struct trapframe *tf)
{
	(void)tf;
	this_cpu()->stat.ipi_recv++;
	lapic_eoi();
}

static void call_handler(struct trapframe *tf);

void smp_boot(void)
{
	uint32_t want = acpi.napic;
	uint32_t bsp_apic = cpus[0].apic_id;

	trap_set_handler(V_WAKE, wake_handler);
	trap_set_handler(V_CALL, call_handler);
	if (maxcpus && want > maxcpus)
		want = maxcpus;

	memcpy((void *)TRAMPOLINE_PA, _trampoline_start,
	       _trampoline_end - _trampoline_start);
	*(uint32_t *)(TRAMPOLINE_PA + (tramp_cr3 - _trampoline_start)) =
		(uint32_t)vm_root();
	*(uint32_t *)(TRAMPOLINE_PA + (tramp_efer - _trampoline_start)) =
		cpufeat.nx ? (1u << 11) : 0;

	memset(ap_cpu_by_apic, 0xff, sizeof(ap_cpu_by_apic));
	uint32_t n = 1;
	for (uint32_t i = 0; i < acpi.napic && n < want; i++) {
		uint32_t id = acpi.apic_ids[i];
		if (id == bsp_apic)
			continue;
		if (id > 254) {
			kprintf("smp: LAPIC id %u needs x2APIC; cpu skipped\n",
				id);
			continue;
		}
		struct cpu *c = &cpus[n];
		/* The idle stack, with a guard page below it. */
		uint8_t *stack = page_alloc(AP_STACK_SIZE / PAGE_SZ + 1);
		uint8_t *ist = page_alloc(IST_COUNT * IST_STACK_SIZE / PAGE_SZ);
		if (!stack || !ist)
			panic("smp: out of memory for cpu %u's stacks", n);
		vm_guard((uint64_t)stack);
		stack += PAGE_SZ;
		cpu_block_init(c, n);
		c->apic_id = id;
		for (int k = 0; k < IST_COUNT; k++)
			c->arch.ist_stack[k] = ist + k * IST_STACK_SIZE;
		ap_stacks[n] = (uint64_t)stack + AP_STACK_SIZE;
		ap_cpu_by_apic[id] = (uint8_t)n;
		n++;
	}

	for (uint32_t i = 1; i < n; i++)
		lapic_send_init(cpus[i].apic_id);
	delay_us(10000);
	for (uint32_t i = 1; i < n; i++)
		lapic_send_sipi(cpus[i].apic_id, TRAMPOLINE_PA >> 12);
	delay_us(200);
	for (uint32_t i = 1; i < n; i++)
		if (!__atomic_load_n(&cpus[i].started, __ATOMIC_ACQUIRE))
			lapic_send_sipi(cpus[i].apic_id, TRAMPOLINE_PA >> 12);

	uint64_t deadline = nanotime() + NSEC_PER_SEC;
	uint32_t up;
	do {
		up = 1;
		for (uint32_t i = 1; i < n; i++)
			up += __atomic_load_n(&cpus[i].started, __ATOMIC_ACQUIRE);
		cpu_relax();
	} while (up < n && nanotime() < deadline);

	/* Keep the started CPUs dense: ids 0..ncpu-1. */
	if (up < n) {
		for (uint32_t i = 1; i < n; i++)
			if (!cpus[i].started)
				panic("smp: cpu %u (LAPIC id %u) did not start "
				      "within 1 s of INIT-SIPI-SIPI", i,
				      cpus[i].apic_id);
	}
	__atomic_store_n(&ncpu, n, __ATOMIC_RELEASE);
}

void smp_send_wake(struct cpu *c)
{
	this_cpu()->stat.ipi_sent++;
	lapic_send_ipi(c->apic_id, V_WAKE);
}

/* Cross calls: one at a time machine-wide (call_lock). */
static uint32_t call_lock;		/* 0 free, 1 held; spun with irqs on */
static void (*call_fn)(void *);		/* call_lock */
static void *call_arg;			/* call_lock */
static uint32_t call_pending;		/* CPUs yet to run it; atomic */

static void call_handler(struct trapframe *tf)
{
	(void)tf;
	struct cpu *c = this_cpu();

	c->stat.ipi_recv++;
	call_fn(call_arg);
	__atomic_fetch_sub(&call_pending, 1, __ATOMIC_RELEASE);
	lapic_eoi();
}

static void call_lock_take(void)
{
	BUG_ON(!irq_enabled() && ncpu > 1);
	preempt_disable();
	while (__atomic_exchange_n(&call_lock, 1, __ATOMIC_ACQUIRE))
		cpu_relax();
}

static void call_wait_release(void)
{
	uint64_t start = rdtsc();

	while (__atomic_load_n(&call_pending, __ATOMIC_ACQUIRE)) {
		cpu_relax();
		if (rdtsc() - start > tsc_hz * 10)
			panic("smp_call: %u CPUs did not answer in 10 s",
			      call_pending);
	}
	__atomic_store_n(&call_lock, 0, __ATOMIC_RELEASE);
	preempt_enable();
}

void smp_call_cpu(struct cpu *c, void (*fn)(void *), void *arg)
{
	BUG_ON(!irq_enabled());		/* even a self-IPI needs them on */
	call_lock_take();
	call_fn = fn;
	call_arg = arg;
	__atomic_store_n(&call_pending, 1, __ATOMIC_RELEASE);
	this_cpu()->stat.ipi_sent++;
	lapic_send_ipi(c->apic_id, V_CALL);
	call_wait_release();
}

static void call_others(void (*fn)(void *), void *arg, bool self)
{
	uint32_t n = __atomic_load_n(&ncpu, __ATOMIC_ACQUIRE);

	if (n <= 1) {
		if (self)
			fn(arg);
		return;
	}
	call_lock_take();
	struct cpu *me = this_cpu();
	call_fn = fn;
	call_arg = arg;
	__atomic_store_n(&call_pending, n - 1, __ATOMIC_RELEASE);
	for (uint32_t i = 0; i < n; i++)
		if (&cpus[i] != me) {
			me->stat.ipi_sent++;
			lapic_send_ipi(cpus[i].apic_id, V_CALL);
		}
	if (self)
		fn(arg);
	call_wait_release();
}

void smp_call_others(void (*fn)(void *), void *arg)
{
	call_others(fn, arg, false);
}

void smp_run_all(void (*fn)(void *), void *arg)
{
	call_others(fn, arg, true);
}

void smp_print_inventory(void)
{
	if (acpi.nskipped)
		kprintf("rt0: machine: the MADT lists %u CPUs; rt0 supports %d, "
			"the other %u stay off\n", acpi.napic + acpi.nskipped,
			MAX_CPUS, acpi.nskipped);
	kprintf("# cpus: %u started of %u in the MADT (%s via %s, RSDP from "
		"%s, OEM '%s')\n", ncpu, acpi.napic, acpi.root_kind,
		acpi.revision >= 2 ? "ACPI 2+" : "ACPI 1.0", acpi.rsdp_from,
		acpi.oem);
	for (uint32_t i = 0; i < ncpu; i++)
		kprintf("# cpu %u: lapic id %u, gs block %p, fs check 0x%lx, "
			"%s\n", i, cpus[i].apic_id, &cpus[i], cpus[i].fs_check,
			i == 0 ? "boot cpu" : "started by INIT-SIPI-SIPI");
}
