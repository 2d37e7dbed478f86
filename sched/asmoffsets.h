/*
 * sched/asmoffsets.h - struct offsets used by the runtime's assembly.
 * Each is checked against offsetof() in asmoffsets.c: a layout change
 * that forgets this file fails the build.
 */
#ifndef RT0_ASMOFFSETS_H
#define RT0_ASMOFFSETS_H

/* struct gobuf */
#define GOBUF_SP	0
#define GOBUF_PC	8
#define GOBUF_G		16
#define GOBUF_CTXT	24
#define GOBUF_BP	32

/* struct g */
#define G_STACK_LO	0
#define G_STACK_HI	8
#define G_SCHED		16
#define G_SCHED_SP	(G_SCHED + GOBUF_SP)
#define G_SCHED_PC	(G_SCHED + GOBUF_PC)
#define G_SCHED_G	(G_SCHED + GOBUF_G)
#define G_SCHED_BP	(G_SCHED + GOBUF_BP)
#define G_M		64

/* struct sudog: chansend_mcall, chanrecv_mcall keep one in their frame,
 * SUDOG_FRAME bytes (16-byte aligned rsp for the C call, see
 * asmoffsets.c). */
#define SUDOG_C		32
#define SUDOG_SUCCESS	69
#define SUDOG_FRAME	88

/* struct hchan: the lock comes first (PARK_CHAN uses c as &c->lock) */
#define HCHAN_LOCK	0
/* chansend_c, chanrecv_c results beside 0 and 1 (done): */
#define CHAN_PARK	2	/* the sudog is queued, the lock held: park */
#define CHAN_CLOSED	3	/* send on a closed channel: panic */

/* struct m */
#define M_G0		0
#define M_CURG		8
#define M_P		16

#endif
