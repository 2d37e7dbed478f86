/*
 * kernel/ksyms.c - symbol lookup and frame-pointer backtraces.
 *
 * Every file is compiled with frame pointers, so each frame starts with
 * [rbp] = caller's rbp, [rbp+8] = return address.  The walk checks each
 * frame pointer against the page tables before reading it, so a corrupt
 * chain ends the backtrace instead of faulting inside a fault report.
 */
#include "lib.h"
#include "ksyms.h"
#include "vm.h"

/* Generated (tools/gensyms.sh), sorted by address. */
extern const uint64_t ksyms_count;
extern const uint64_t ksyms_addrs[];
extern const uint32_t ksyms_name_off[];
extern const char ksyms_names[];
extern char _text_start[], _text_end[];

const char *ksym_lookup(uint64_t addr, uint64_t *off)
{
	uint64_t lo = 0, hi = ksyms_count;

	if (addr < (uint64_t)_text_start || addr >= (uint64_t)_text_end ||
	    !hi || addr < ksyms_addrs[0])
		return NULL;
	while (hi - lo > 1) {		/* last entry with addr <= @addr */
		uint64_t mid = (lo + hi) / 2;
		if (ksyms_addrs[mid] <= addr)
			lo = mid;
		else
			hi = mid;
	}
	if (off)
		*off = addr - ksyms_addrs[lo];
	return ksyms_names + ksyms_name_off[lo];
}

uint64_t ksym_addr(const char *name)
{
	for (uint64_t i = 0; i < ksyms_count; i++)
		if (!strcmp(ksyms_names + ksyms_name_off[i], name))
			return ksyms_addrs[i];
	return 0;
}

static void write_frame(fmt_sink sink, void *arg, int n, uint64_t pc)
{
	uint64_t off;
	const char *name = ksym_lookup(pc, &off);

	if (name)
		sinkf(sink, arg, "  #%-2d 0x%016lx %s+0x%lx\n", n, pc, name, off);
	else
		sinkf(sink, arg, "  #%-2d 0x%016lx ?\n", n, pc);
}

/* A canonical address: bits 63..47 all equal.  The page tables see only
 * bits 47..12, so vm_readable alone passes some that fault (#GP). */
static bool canonical(uint64_t va)
{
	return (uint64_t)((int64_t)(va << 16) >> 16) == va;
}

/* The frame-pointer chain from @rbp, only while it stays in [lo, hi). */
static void walk(fmt_sink sink, void *arg, int n, uint64_t rbp, uint64_t lo,
		 uint64_t hi)
{
	while (n < 32 && rbp && !(rbp & 7) && canonical(rbp) && rbp >= lo &&
	       rbp <= hi - 16 && vm_readable(rbp, 16)) {
		uint64_t *fp = (uint64_t *)rbp;
		uint64_t ret = fp[1];
		if (!ret)
			break;
		/* A return address points just past the call: name the call. */
		write_frame(sink, arg, n++, ret - 1);
		if (fp[0] <= rbp)	/* the chain must move up the stack */
			break;
		rbp = fp[0];
	}
}

void backtrace_write(fmt_sink sink, void *arg, uint64_t ret, uint64_t rbp)
{
	backtrace_write_from(sink, arg, 0, ret, rbp);
}

void backtrace_write_from(fmt_sink sink, void *arg, int first, uint64_t ret,
			  uint64_t rbp)
{
	write_frame(sink, arg, first, ret - 1);
	walk(sink, arg, first + 1, rbp, 0, UINT64_MAX);
}

void backtrace_write_within(fmt_sink sink, void *arg, int first, uint64_t ret,
			    uint64_t rbp, uint64_t lo, uint64_t hi)
{
	write_frame(sink, arg, first, ret - 1);
	walk(sink, arg, first + 1, rbp, lo, hi);
}

/*
 * At an exception the interrupted function may not have its own frame:
 * gcc omits it in leaf functions that need no stack, and a fault can hit
 * before the prologue ran.  Then its return address is still on top of the
 * stack ([rsp], or [rsp+8] just after "push %rbp"), and RBP is the caller's
 * frame.  Prologues are "push %rbp; mov %rsp,%rbp" (55 48 89 e5) at the
 * function's start (the image is built with -fno-shrink-wrap).
 */
void backtrace_write_trap(fmt_sink sink, void *arg, uint64_t pc, uint64_t rsp,
			  uint64_t rbp)
{
	static const uint8_t prologue[4] = { 0x55, 0x48, 0x89, 0xe5 };
	uint64_t off;
	int n = 1;

	write_frame(sink, arg, 0, pc);
	if (ksym_lookup(pc, &off)) {
		const uint8_t *start = (const uint8_t *)(pc - off);
		uint64_t ret_at = 0;
		if (memcmp(start, prologue, 4) || off == 0)
			ret_at = rsp;
		else if (off == 1)
			ret_at = rsp + 8;
		if (ret_at && vm_readable(ret_at, 8)) {
			uint64_t ret = *(uint64_t *)ret_at;
			if (ksym_lookup(ret - 1, NULL))
				write_frame(sink, arg, n++, ret - 1);
		}
	}
	walk(sink, arg, n, rbp, 0, UINT64_MAX);
}

void backtrace_here(void)
{
	uint64_t *fp = __builtin_frame_address(0);

	backtrace_write(console_sink, NULL, fp[1], fp[0]);
}
