/*
 * tests/vm_test.c - page permissions: each forbidden access faults, and
 * the report says what happened.
 */
#include "kernel/ktest.h"
#include "kernel/fault.h"
#include "kernel/mem.h"
#include "kernel/vm.h"

extern char _text_start[];

/* Run @fn(arg), which must fault with #PF; the report must contain @want. */
static void expect_pf(void (*fn)(void *), void *arg, const char *want,
		      uint64_t want_cr2)
{
	struct fault_catch fc;

	if (fault_try(&fc)) {
		fn(arg);
		fault_untry(&fc);
		ktest_fail(__FILE__, __LINE__, "no fault (wanted '%s')", want);
		return;
	}
	if (fc.vector != 14)
		ktest_fail(__FILE__, __LINE__, "vector %d, wanted 14", fc.vector);
	else if (fc.cr2 != want_cr2)
		ktest_fail(__FILE__, __LINE__, "cr2 0x%lx, wanted 0x%lx",
			   fc.cr2, want_cr2);
	else if (!strstr(fc.report, want) || !strstr(fc.report, "#PF page fault"))
		ktest_fail(__FILE__, __LINE__, "report lacks '%s':\n%s", want,
			   fc.report);
}

static void read_at(void *p)
{
	(void)*(volatile uint64_t *)p;
}

static void write_at(void *p)
{
	*(volatile uint8_t *)p = 0xcc;
}

static void call_at(void *p)
{
	((void (*)(void))p)();
}

KTEST(vm_null_read_faults)
{
	expect_pf(read_at, (void *)0, "NULL pointer dereference (read of 0x0)", 0);
	expect_pf(read_at, (void *)0x18, "NULL pointer dereference", 0x18);
}

KTEST(vm_write_to_text_faults)
{
	void *target = (void *)read_at;

	expect_pf(write_at, target, "write to read-only page", (uint64_t)target);
	expect_pf(write_at, _text_start, "(kernel text)", (uint64_t)_text_start);
}

KTEST(vm_write_to_rodata_faults)
{
	static const char ro[] = "constant";

	expect_pf(write_at, (void *)ro, "(read-only data)", (uint64_t)ro);
}

KTEST(vm_exec_data_faults)
{
	static uint8_t code[16] = { 0xc3 };	/* ret, in .data */
	uint8_t *heap = page_alloc(1);

	KT_ASSERT(heap);
	heap[0] = 0xc3;
	expect_pf(call_at, code, "instruction fetch from no-execute page",
		  (uint64_t)code);
	expect_pf(call_at, heap, "instruction fetch from no-execute page",
		  (uint64_t)heap);
	page_free(heap, 1);
}

KTEST(vm_guard_page_faults)
{
	uint8_t *p = page_alloc(2);

	KT_ASSERT(p);
	vm_guard((uint64_t)p);
	KT_ASSERT(vm_is_guard((uint64_t)p));
	KT_ASSERT(!vm_readable((uint64_t)p, 1));
	KT_ASSERT(vm_readable((uint64_t)p + 4096, 4096));
	expect_pf(write_at, p + 4000, "guard page", (uint64_t)(p + 4000));
	expect_pf(read_at, p + 8, "stack overflow", (uint64_t)(p + 8));
	vm_unguard((uint64_t)p);
	KT_ASSERT(!vm_is_guard((uint64_t)p));
	p[0] = 1;			/* writable again */
	page_free(p, 2);
}
