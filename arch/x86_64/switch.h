/*
 * arch/x86_64/switch.h - switching stacks (switch.S): what a thread
 * switch needs from the machine.
 */
#ifndef RT0_SWITCH_H
#define RT0_SWITCH_H

#include <stdint.h>

/*
 * kswitch - save this stack's callee-saved registers and FPU control
 * words on it, store its RSP in *@save_rsp, resume the stack at @load_rsp
 * (saved by kswitch, or built by kswitch_stack_init) and return @ret
 * there.  Interrupts disabled.  Returns, on the resumed stack, when
 * another kswitch resumes this one.
 */
void *kswitch(uint64_t *save_rsp, uint64_t load_rsp, void *ret);

/*
 * kswitch_stack_init - lay out a new stack whose top is @top so that a
 * kswitch to the returned RSP calls fn(ret) on it, with the default
 * FPU control words.  fn must not return.
 */
static inline uint64_t kswitch_stack_init(uint64_t top, void (*fn)(void *))
{
	extern char kswitch_first[];
	uint64_t *sp = (uint64_t *)(top & ~15ull);

	*--sp = 0;			/* end of the frame chain */
	*--sp = (uint64_t)fn;		/* kswitch_first pops it */
	*--sp = (uint64_t)kswitch_first;	/* kswitch's ret */
	for (int i = 0; i < 6; i++)
		*--sp = 0;		/* rbp rbx r12 r13 r14 r15 */
	*--sp = 0x037f00001f80ull;	/* FCW (high dword) | MXCSR */
	return (uint64_t)sp;
}

#endif
