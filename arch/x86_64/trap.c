/*
 * arch/x86_64/trap.c - the IDT and the dispatch of vectors to handlers.
 *
 * The IDT is shared by all CPUs.  Four exceptions run on IST stacks (see
 * cpu_arch.h): #DF, NMI and #MC because the interrupted stack cannot be
 * trusted, #PF because a stack overflow faults with RSP in a guard page.
 * Policy (reports, recovery, preemption) lives in the kernel, which installs
 * handlers here; this file only routes.
 */
#include "cpu_arch.h"
#include "trap.h"

struct idt_gate {
	uint16_t off_lo;
	uint16_t sel;
	uint8_t ist;
	uint8_t type;		/* 0x8e: present, DPL 0, 64-bit interrupt gate */
	uint16_t off_mid;
	uint32_t off_hi;
	uint32_t zero;
} __attribute__((packed));
_Static_assert(sizeof(struct idt_gate) == 16, "IDT gate layout");

static struct idt_gate idt[256] __attribute__((aligned(16)));
static trap_handler_t handlers[256];	/* written at init, read by all */
static trap_handler_t default_handler;

extern const uint64_t trap_entries[256];

static const char *const exc_names[32] = {
	[T_DE] = "#DE divide error",
	[T_DB] = "#DB debug",
	[T_NMI] = "NMI non-maskable interrupt",
	[T_BP] = "#BP breakpoint",
	[T_OF] = "#OF overflow",
	[T_BR] = "#BR bound range exceeded",
	[T_UD] = "#UD invalid opcode",
	[T_NM] = "#NM device not available",
	[T_DF] = "#DF double fault",
	[9] = "coprocessor segment overrun",
	[T_TS] = "#TS invalid TSS",
	[T_NP] = "#NP segment not present",
	[T_SS] = "#SS stack-segment fault",
	[T_GP] = "#GP general protection",
	[T_PF] = "#PF page fault",
	[15] = "reserved vector 15",
	[T_MF] = "#MF x87 floating-point error",
	[T_AC] = "#AC alignment check",
	[T_MC] = "#MC machine check",
	[T_XM] = "#XM SIMD floating-point error",
	[20] = "#VE virtualization exception",
	[21] = "#CP control protection",
	[22] = "reserved vector 22",
	[23] = "reserved vector 23",
	[24] = "reserved vector 24",
	[25] = "reserved vector 25",
	[26] = "reserved vector 26",
	[27] = "reserved vector 27",
	[28] = "#HV hypervisor injection",
	[29] = "#VC VMM communication",
	[30] = "#SX security exception",
	[31] = "reserved vector 31",
};

/**
 * trap_name - a printable name for @vector ("#PF page fault", "interrupt").
 */
const char *trap_name(int vector)
{
	if (vector >= 0 && vector < 32)
		return exc_names[vector];
	return "interrupt";
}

static void set_gate(int v, uint64_t addr, int ist)
{
	idt[v] = (struct idt_gate){
		.off_lo = addr & 0xffff,
		.sel = SEL_KCODE,
		.ist = ist,
		.type = 0x8e,
		.off_mid = (addr >> 16) & 0xffff,
		.off_hi = addr >> 32,
	};
}

/**
 * idt_init - fill the shared IDT.  Called once on the boot CPU before any
 * CPU loads it.  Returns.
 */
void idt_init(void)
{
	for (int v = 0; v < 256; v++)
		set_gate(v, trap_entries[v], 0);
	set_gate(T_DF, trap_entries[T_DF], IST_DF);
	set_gate(T_NMI, trap_entries[T_NMI], IST_NMI);
	set_gate(T_MC, trap_entries[T_MC], IST_MC);
	set_gate(T_PF, trap_entries[T_PF], IST_PF);
	for (int v = 32; v < 256; v++)	/* see irq_entry in vectors.S */
		set_gate(v, trap_entries[v], IST_IRQ);
}

/** idt_load - load the shared IDT on this CPU.  Returns. */
void idt_load(void)
{
	struct {
		uint16_t limit;
		uint64_t base;
	} __attribute__((packed)) desc = { sizeof(idt) - 1, (uint64_t)idt };

	__asm__ volatile("lidt %0" : : "m"(desc));
}

/**
 * trap_set_handler - route @vector to @h.  Set during boot, before the
 * vector can fire; handlers run with interrupts disabled.
 */
void trap_set_handler(int vector, trap_handler_t h)
{
	handlers[vector] = h;
}

/** trap_set_default - the handler for every vector without its own. */
void trap_set_default(trap_handler_t h)
{
	default_handler = h;
}

/* Called from trap_common (vectors.S) with interrupts disabled. */
void trap_dispatch(struct trapframe *tf)
{
	trap_handler_t h = handlers[tf->vector];

	if (!h)
		h = default_handler;
	if (h) {
		h(tf);
		return;
	}
	/* Nothing installed yet: stop here rather than loop on the fault. */
	for (;;)
		__asm__ volatile("cli; hlt");
}
