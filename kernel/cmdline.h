/*
 * kernel/cmdline.h - the kernel command line: key=value words.
 *
 * Any file declares its own keys with KPARAM_*; they are collected in the
 * .kparams section.  cmdline_parse() accepts only declared keys and
 * well-formed values: an unknown key or a malformed value is an error that
 * names the key and the accepted form (the boot path prints it and exits
 * with status 2).  A bad command line never runs silently with defaults.
 */
#ifndef RT0_CMDLINE_H
#define RT0_CMDLINE_H

#include "lib.h"

enum kparam_type { KP_UINT, KP_BOOL, KP_STR };

struct kparam {
	const char *name;
	enum kparam_type type;
	void *var;
	uint32_t size;		/* sizeof(var): 4 or 8 for KP_UINT, buffer for KP_STR */
	uint64_t min, max;	/* KP_UINT range, inclusive */
	const char *help;
};

#define KPARAM_(n, t, v, lo, hi, h)					\
	static const struct kparam __kparam_##n				\
	__attribute__((section(".kparams"), used, aligned(8))) = {	\
		.name = #n, .type = t, .var = &(v), .size = sizeof(v),	\
		.min = lo, .max = hi, .help = h }

/* Unsigned integer (decimal or 0x hex) within [lo, hi]; var is u32 or u64. */
#define KPARAM_UINT(n, v, lo, hi, h) KPARAM_(n, KP_UINT, v, lo, hi, h)
/* 0 or 1; var is bool. */
#define KPARAM_BOOL(n, v, h) KPARAM_(n, KP_BOOL, v, 0, 1, h)
/* Text up to sizeof(v) - 1 characters; var is a char array. */
#define KPARAM_STR(n, v, h) KPARAM_(n, KP_STR, v, 0, 0, h)

#define CMDLINE_EXIT_STATUS 2

/*
 * cmdline_parse - check every word of @line and, if @apply, store the
 * values.  Returns 0, or -1 with a one-line explanation in @err.  With
 * !@apply nothing is changed (used by tests).  Any context.
 */
int cmdline_parse(const char *line, bool apply, char *err, size_t errlen);

/* cmdline_print_help - list every key, its form and what it does. */
void cmdline_print_help(void);

#endif
