/*
 * kernel/ksyms.h - the image's own symbol table, for backtraces.
 *
 * The table is generated from the first link (tools/gensyms.sh) and linked
 * into the second in .ksyms, the image's last section, so adding it moves
 * no other symbol.
 */
#ifndef RT0_KSYMS_H
#define RT0_KSYMS_H

#include <stdint.h>

/*
 * ksym_lookup - the name of the function containing @addr and @addr's
 * offset into it (through *off), or NULL if @addr is not in the image's text.
 */
const char *ksym_lookup(uint64_t addr, uint64_t *off);

/* ksym_addr - the address of the function called @name, or 0. */
uint64_t ksym_addr(const char *name);

#include "lib.h"

/*
 * backtrace_write - write "  #n 0x... name+0xoff" lines to @sink for @ret,
 * a return address (the line names the call, ret - 1, as for every frame
 * after it: a call to a noreturn function can be a function's last
 * instruction), then for each frame of the frame-pointer chain starting
 * at @rbp; stops at a zero, misaligned, non-canonical or unmapped frame
 * pointer, at a
 * frame that does not move up the stack, or after 32 frames.  Any
 * context.  Returns.
 */
void backtrace_write(fmt_sink sink, void *arg, uint64_t ret, uint64_t rbp);

/* backtrace_write_from - the same, numbering the frames from @first. */
void backtrace_write_from(fmt_sink sink, void *arg, int first, uint64_t ret,
			  uint64_t rbp);

/* backtrace_write_within - backtrace_write_from, following the chain only
 * while it stays inside the stack [@lo, @hi): for a stack another CPU may
 * be writing meanwhile, whose stale words must not be followed elsewhere. */
void backtrace_write_within(fmt_sink sink, void *arg, int first, uint64_t ret,
			    uint64_t rbp, uint64_t lo, uint64_t hi);

/*
 * backtrace_write_trap - the same for an interrupted context, which may be
 * a function without a frame of its own (see ksyms.c).
 */
void backtrace_write_trap(fmt_sink sink, void *arg, uint64_t pc, uint64_t rsp,
			  uint64_t rbp);

/* backtrace_here - backtrace_write of the caller, to the console. */
void backtrace_here(void);

#endif
