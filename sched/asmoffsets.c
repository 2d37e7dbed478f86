/* sched/asmoffsets.c - compile-time checks of asmoffsets.h. */
#include "sched/runtime2.h"
#include "sched/asmoffsets.h"
#include "sched/chan.h"

#define CHECK(s, f, off) BUILD_ASSERT(__builtin_offsetof(struct s, f) == (off))

CHECK(gobuf, sp, GOBUF_SP);
CHECK(gobuf, pc, GOBUF_PC);
CHECK(gobuf, g, GOBUF_G);
CHECK(gobuf, ctxt, GOBUF_CTXT);
CHECK(gobuf, bp, GOBUF_BP);
CHECK(g, stack.lo, G_STACK_LO);
CHECK(g, stack.hi, G_STACK_HI);
CHECK(g, sched, G_SCHED);
CHECK(g, m, G_M);
CHECK(m, g0, M_G0);
CHECK(m, curg, M_CURG);
CHECK(m, p, M_P);
CHECK(sudog, c, SUDOG_C);
CHECK(sudog, success, SUDOG_SUCCESS);
CHECK(hchan, lock, HCHAN_LOCK);
/* The frame holds a sudog and, entered with rsp = 8 mod 16, leaves rsp
 * 16-byte aligned. */
BUILD_ASSERT(SUDOG_FRAME >= sizeof(struct sudog) && SUDOG_FRAME % 16 == 8);
