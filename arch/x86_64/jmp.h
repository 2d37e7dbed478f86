/* arch/x86_64/jmp.h - setjmp/longjmp for the kernel (fault recovery). */
#ifndef RT0_JMP_H
#define RT0_JMP_H

/* Offsets of struct jmpbuf, used by jmp.S and checked below. */
#define JB_RBX 0
#define JB_RBP 8
#define JB_R12 16
#define JB_R13 24
#define JB_R14 32
#define JB_R15 40
#define JB_RSP 48
#define JB_RIP 56

#ifndef __ASSEMBLER__
#include <stdint.h>

/* Callee-saved state of the point that called arch_setjmp. */
struct jmpbuf {
	uint64_t rbx, rbp, r12, r13, r14, r15, rsp, rip;
};
_Static_assert(__builtin_offsetof(struct jmpbuf, rbx) == JB_RBX, "jmpbuf");
_Static_assert(__builtin_offsetof(struct jmpbuf, rbp) == JB_RBP, "jmpbuf");
_Static_assert(__builtin_offsetof(struct jmpbuf, r12) == JB_R12, "jmpbuf");
_Static_assert(__builtin_offsetof(struct jmpbuf, r13) == JB_R13, "jmpbuf");
_Static_assert(__builtin_offsetof(struct jmpbuf, r14) == JB_R14, "jmpbuf");
_Static_assert(__builtin_offsetof(struct jmpbuf, r15) == JB_R15, "jmpbuf");
_Static_assert(__builtin_offsetof(struct jmpbuf, rsp) == JB_RSP, "jmpbuf");
_Static_assert(__builtin_offsetof(struct jmpbuf, rip) == JB_RIP, "jmpbuf");

/* Returns 0 when called, v (never 0) when resumed by arch_longjmp. */
int arch_setjmp(struct jmpbuf *jb) __attribute__((returns_twice));
void arch_longjmp(struct jmpbuf *jb, int v) __attribute__((noreturn));
#endif

#endif
