/*
 * arch/x86_64/trap.h - interrupt and exception entry: the frame every vector
 * builds, the vector numbers rt0 uses, and how handlers are installed.
 */
#ifndef RT0_TRAP_H
#define RT0_TRAP_H

#include <stdint.h>

/*
 * The frame vectors.S builds on the interrupted stack (or on an IST stack),
 * lowest address first.  Handlers may change it: iretq loads rip/rsp/rflags
 * and the general registers from here.
 */
struct trapframe {
	uint64_t r15, r14, r13, r12, r11, r10, r9, r8;
	uint64_t rbp, rdi, rsi, rdx, rcx, rbx, rax;
	uint64_t vector;
	uint64_t error;		/* CPU error code, or 0 */
	uint64_t rip, cs, rflags, rsp, ss;	/* pushed by the CPU */
};
_Static_assert(sizeof(struct trapframe) == 22 * 8, "trapframe layout");
_Static_assert(sizeof(struct trapframe) % 16 == 0, "trapframe keeps alignment");

/* Exception vectors. */
#define T_DE	0
#define T_DB	1
#define T_NMI	2
#define T_BP	3
#define T_OF	4
#define T_BR	5
#define T_UD	6
#define T_NM	7
#define T_DF	8
#define T_TS	10
#define T_NP	11
#define T_SS	12
#define T_GP	13
#define T_PF	14
#define T_MF	16
#define T_AC	17
#define T_MC	18
#define T_XM	19

/* Interrupt vectors rt0 uses. */
#define V_TIMER		0x20	/* LAPIC periodic tick */
#define V_PIC_BASE	0x30	/* 8259 remapped here, then masked */
#define V_WAKE		0xf0	/* IPI: there is work for you (wakes hlt) */
#define V_CALL		0xf1	/* IPI: run a function (TLB shootdown, tests) */
#define V_SIGNAL	0xf2	/* IPI: a thread on this CPU has a signal */
#define V_SPURIOUS	0xff

typedef void (*trap_handler_t)(struct trapframe *tf);

void idt_init(void);
void idt_load(void);
void trap_set_handler(int vector, trap_handler_t h);
void trap_set_default(trap_handler_t h);
const char *trap_name(int vector);
void trap_dispatch(struct trapframe *tf);

#endif
