/* sched/asmoffsets.c - compile-time checks of asmoffsets.h. */
#include "sched/runtime2.h"
#include "sched/asmoffsets.h"

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
