/*
 * tests/host/runq_host.h - what sched/runq.c needs, on the host: minimal
 * g and p, for runq_stress.c.
 */
#ifndef RT0_RUNQ_HOST_H
#define RT0_RUNQ_HOST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "sched/runq.h"

struct g {
	struct g *schedlink;
	uint32_t seen;		/* times taken off a queue (atomic) */
	uint32_t id;
};

struct p {
	uint32_t status;
	RUNQ_FIELDS
};

#include "sched/runq_inline.h"

#endif
