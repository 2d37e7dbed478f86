/*
 * sched/exectrace.c - the execution tracer's buffers, its public calls
 * and the dump at exit (exectrace.h says what it records and where).
 *
 * The dump, little-endian, all integers unsigned:
 *   "RT0TRC1\0", u64 tsc_hz, u32 nbufs, u32 ncpu, u32 nprocs, u32 evsize
 *   per buffer: "BUF\0", u32 kind (0: a P's, 1: a CPU's), u32 id,
 *     u32 nev, u32 0, u64 lost (events overwritten), nev events, oldest
 *     first (the first may be a TEV_TEXT whose event was overwritten)
 *   "STR\0", then per string: u64 kind (0: a function pc, 1: a C string),
 *     u64 value, u32 len, len bytes; a kind of ~0 ends the list
 * On port 0xe9 as it is; on the serial console as lines "TRACE <hex>"
 * between "TRACE begin" and "TRACE end".
 */
#include "sched/exectrace.h"
#include "sched/proc.h"
#include "kernel/cmdline.h"
#include "kernel/console.h"
#include "kernel/cpu.h"
#include "kernel/exit.h"
#include "kernel/ksyms.h"
#include "kernel/mem.h"
#include "kernel/time.h"
#include "arch/x86_64/x86.h"

#define TRACE_DEFAULT_BYTES (256 * 1024)	/* trace=1: 8192 events */
#define TRACE_MIN_BYTES 4096
#define TRACE_MAX_BYTES (64u << 20)
#define DEBUGCON_PORT 0xe9		/* QEMU isa-debugcon; reads 0xe9 */
#define LOG_MAX 93			/* bytes of a go_trace_log text: 3 slots */

static uint32_t trace_bytes;
KPARAM_UINT(trace, trace_bytes, 0, TRACE_MAX_BYTES,
	    "1: record the execution tracer's events (256 KiB per P and "
	    "per CPU), written out at exit; N: N bytes each (4096 at "
	    "least, a power of two)");

bool trace_on;

struct trace_buf {
	struct trace_ev *ev;	/* 2^k slots; NULL until allocated */
	uint64_t pos;		/* events ever written; the writer only */
};

static uint64_t trace_mask;	/* slots per buffer - 1; constant */
static void trace_dump(void);
static struct trace_buf pbuf[MAX_PROCS];	/* written by the P's M */
static struct trace_buf cpubuf[MAX_CPUS];	/* by the CPU, irqs off */
static int32_t pbufs;		/* Ps with a buffer; procresize (STW) */

static struct trace_ev *buf_alloc(const char *what, uint32_t id)
{
	uint64_t bytes = (trace_mask + 1) * sizeof(struct trace_ev);
	struct trace_ev *ev = page_alloc_zeroed(bytes / PAGE_SZ);

	if (!ev) {
		kprintf("rt0: trace=%u: no memory for %s%u's buffer "
			"(%lu bytes): give a smaller trace=BYTES\n",
			trace_bytes, what, id, bytes);
		kernel_exit(EXIT_CMDLINE);
	}
	return ev;
}

/**
 * exectrace_init - read trace= and, if set, allocate the CPUs' buffers,
 * register the dump and point the scheduling points at their traced
 * forms.  @procs: the Ps about to be made.  schedinit, on m0 before any
 * G exists.  A size too small or too large for the memory is made to fit,
 * with a message.
 */
void exectrace_init(int32_t procs)
{
	if (!trace_bytes)
		return;
	uint64_t bytes = trace_bytes == 1 ? TRACE_DEFAULT_BYTES : trace_bytes;
	if (bytes < TRACE_MIN_BYTES) {
		kprintf("rt0: trace=%u: buffers of %u bytes, the least "
			"(trace=1 for the default, %u)\n", trace_bytes,
			TRACE_MIN_BYTES, TRACE_DEFAULT_BYTES);
		bytes = TRACE_MIN_BYTES;
	}
	/* A buffer per CPU and per P in a quarter of the free memory. */
	uint64_t fit = mem_free_pages() * PAGE_SZ / 4 / (uint64_t)(ncpu + procs);
	if (bytes > fit && fit >= TRACE_MIN_BYTES) {
		kprintf("rt0: trace=%u: %lu bytes per buffer, to fit %u "
			"buffers in a quarter of the free memory\n",
			trace_bytes, fit, ncpu + (uint32_t)procs);
		bytes = fit;
	}
	while (bytes & (bytes - 1))	/* down to a power of two */
		bytes &= bytes - 1;
	trace_mask = bytes / sizeof(struct trace_ev) - 1;
	for (uint32_t i = 0; i < ncpu; i++)
		cpubuf[i].ev = buf_alloc("CPU", i);
	kernel_add_exit_hook(trace_dump);
	sched_entries_traced();
	__atomic_store_n(&trace_on, true, __ATOMIC_RELEASE);
}

/* exectrace_procs - buffers for Ps 0..@nprocs-1.  procresize (STW). */
void exectrace_procs(int32_t nprocs)
{
	for (; pbufs < nprocs; pbufs++)
		pbuf[pbufs].ev = buf_alloc("P", (uint32_t)pbufs);
}

static inline struct trace_ev *slot(struct trace_buf *b)
{
	return &b->ev[b->pos++ & trace_mask];
}

/*
 * put - one event and its text: each TEV_TEXT slot holds 31 bytes, at
 * offsets 0-7 and 9-31 (offset 8 is every slot's type byte).
 */
static void put(struct trace_buf *b, uint16_t p, uint32_t m, uint32_t type,
		uint64_t a, uint64_t bb, const char *text, uint32_t len)
{
	struct trace_ev *e = slot(b);
	uint32_t ncont = (len + 30) / 31;

	e->ts = rdtsc();
	e->type = (uint8_t)type;
	e->ncont = (uint8_t)ncont;
	e->p = p;
	e->m = m;
	e->a = a;
	e->b = bb;
	for (uint32_t i = 0, k = 0; i < ncont; i++) {
		uint8_t *c = (uint8_t *)slot(b);
		for (uint32_t j = 0; j < sizeof(*e); j++)
			c[j] = j == 8 ? TEV_TEXT :
			       k < len ? (uint8_t)text[k++] : 0;
	}
}

/* Where this M records: its P's buffer, or (irqs off) its CPU's. */
static void record(uint32_t type, uint64_t a, uint64_t b, const char *text,
		   uint32_t len)
{
	struct m *mp = getg()->m;
	struct p *pp = mp->p;

	if (pp) {
		put(&pbuf[pp->id], (uint16_t)pp->id, (uint32_t)mp->id, type, a,
		    b, text, len);
		return;
	}
	uint64_t f = irq_save();
	put(&cpubuf[this_cpu_id()], TRACE_NOP, (uint32_t)mp->id, type, a, b,
	    text, len);
	irq_restore(f);
}

void trace_event_slow(uint32_t type, uint64_t a, uint64_t b)
{
	record(type, a, b, NULL, 0);
}

/**
 * exectrace_sample - record the counters (idle Ps, spinning Ms, threads,
 * the run queues) at most once a millisecond.  sysmon (no P).
 */
void exectrace_sample(int64_t now)
{
	static int64_t last;	/* sysmon's */

	if (now - last < 1000000)
		return;
	last = now;
	uint64_t a = __atomic_load_n(&sched.npidle, __ATOMIC_RELAXED) |
		     (uint64_t)(uint32_t)__atomic_load_n(&sched.nmspinning,
							 __ATOMIC_RELAXED) << 16 |
		     (uint64_t)mcount() << 32;
	trace_event_slow(TEV_COUNT_GLOBAL, a,
			 __atomic_load_n(&sched.runqsize, __ATOMIC_RELAXED));
	int32_t n = __atomic_load_n(&gomaxprocs, __ATOMIC_ACQUIRE);
	for (int32_t i = 0; i < n; i++)
		trace_event_slow(TEV_COUNT_RUNQ, (uint64_t)i, runqlen(allp[i]));
}

int64_t trace_goid(void)
{
	return getg()->goid;
}

/* ---- the public calls (include/rt0.h) ---- */

bool go_trace_enabled(void)
{
	return trace_on;
}

void go_trace_region_begin(const char *name)
{
	must_be_goroutine("go_trace_region_begin");
	traceev(TEV_REGION_BEGIN, (uint64_t)trace_goid(), (uint64_t)name);
}

void go_trace_region_end(const char *name)
{
	must_be_goroutine("go_trace_region_end");
	traceev(TEV_REGION_END, (uint64_t)trace_goid(), (uint64_t)name);
}

void go_trace_log(const char *category, const char *message)
{
	must_be_goroutine("go_trace_log");
	if (!trace_on)
		return;
	uint32_t len = 0;
	while (len < LOG_MAX && message[len])
		len++;
	record(TEV_LOG, (uint64_t)trace_goid(), (uint64_t)category, message,
	       len);
}

/* ---- the dump ---- */

static bool debugcon;

static struct {
	uint8_t line[48];
	uint32_t n;
} hex;

static void hex_flush(void)
{
	static const char digits[] = "0123456789abcdef";
	char s[2 * sizeof(hex.line) + 1];

	if (!hex.n)
		return;
	for (uint32_t i = 0; i < hex.n; i++) {
		s[2 * i] = digits[hex.line[i] >> 4];
		s[2 * i + 1] = digits[hex.line[i] & 15];
	}
	s[2 * hex.n] = 0;
	kprintf("TRACE %s\n", s);
	hex.n = 0;
}

static void out(const void *p, size_t n)
{
	const uint8_t *c = p;

	if (debugcon) {
		__asm__ volatile("rep outsb"
				 : "+S"(c), "+c"(n)
				 : "d"((uint16_t)DEBUGCON_PORT)
				 : "memory");
		return;
	}
	while (n--) {
		hex.line[hex.n++] = *c++;
		if (hex.n == sizeof(hex.line))
			hex_flush();
	}
}

static void out32(uint32_t v) { out(&v, 4); }
static void out64(uint64_t v) { out(&v, 8); }

/* Strings written once each: a small open-addressed set of values. */
#define SEEN_SLOTS 4096
static uint64_t seen[SEEN_SLOTS];

static bool seen_before(uint64_t kind, uint64_t v)
{
	uint64_t key = v ^ kind;

	if (!key)
		return true;
	for (uint64_t i = (key * 0x9e3779b97f4a7c15ull) >> 52, n = 0;
	     n < 16; i = (i + 1) % SEEN_SLOTS, n++) {
		if (seen[i] == key)
			return true;
		if (!seen[i]) {
			seen[i] = key;
			return false;
		}
	}
	return false;		/* full: written again, which is harmless */
}

static void out_string(uint64_t kind, uint64_t v)
{
	const char *s;
	uint64_t off;

	if (!v || seen_before(kind, v))
		return;
	s = kind == 0 ? ksym_lookup(v, &off) : (const char *)v;
	if (!s)
		s = "?";
	uint32_t len = 0;
	while (len < 64 && s[len])
		len++;
	out64(kind);
	out64(v);
	out32(len);
	out(s, len);
}

static uint64_t buf_first(const struct trace_buf *b)
{
	return b->pos > trace_mask + 1 ? b->pos - (trace_mask + 1) : 0;
}

static void out_buf(const struct trace_buf *b, uint32_t kind, uint32_t id)
{
	uint64_t first = buf_first(b);

	out("BUF", 4);
	out32(kind);
	out32(id);
	out32((uint32_t)(b->pos - first));
	out32(0);
	out64(first);
	for (uint64_t i = first; i < b->pos; i++)
		out(&b->ev[i & trace_mask], sizeof(struct trace_ev));
}

static void strings_of(const struct trace_buf *b)
{
	for (uint64_t i = buf_first(b); i < b->pos; i++) {
		const struct trace_ev *e = &b->ev[i & trace_mask];
		switch (e->type) {
		case TEV_GO_CREATE:
			out_string(0, e->b);
			break;
		case TEV_TIMER_FIRE:
			out_string(0, e->a);
			break;
		case TEV_GO_BLOCK:
		case TEV_REGION_BEGIN:
		case TEV_REGION_END:
		case TEV_LOG:
			out_string(1, e->b);
			break;
		}
	}
}

/*
 * trace_dump - write every buffer out (the format above).  An exit hook:
 * the other CPUs are stopped and interrupts are off, so no buffer moves.
 */
static void trace_dump(void)
{
	uint32_t nbufs = (uint32_t)pbufs + ncpu;

	debugcon = inb(DEBUGCON_PORT) == DEBUGCON_PORT;
	kprintf("rt0: trace: writing %u buffers to %s\n", nbufs,
		debugcon ? "the debug console (port 0xe9)" :
			   "this console (TRACE lines; no isa-debugcon at 0xe9)");
	if (!debugcon)
		kprintf("TRACE begin\n");
	out("RT0TRC1", 8);
	out64(tsc_hz);
	out32(nbufs);
	out32(ncpu);
	out32((uint32_t)gomaxprocs);
	out32(sizeof(struct trace_ev));
	for (int32_t i = 0; i < pbufs; i++)
		out_buf(&pbuf[i], 0, (uint32_t)i);
	for (uint32_t i = 0; i < ncpu; i++)
		out_buf(&cpubuf[i], 1, i);
	out("STR", 4);
	for (int32_t i = 0; i < pbufs; i++)
		strings_of(&pbuf[i]);
	for (uint32_t i = 0; i < ncpu; i++)
		strings_of(&cpubuf[i]);
	out64(~0ull);
	if (!debugcon) {
		hex_flush();
		kprintf("TRACE end\n");
	}
}
