/*
 * sched/traceback.c - goroutine stacks as text (Go's traceback.go, in
 * short): runtime.Stack (go_stack), the goroutines of a fatal report, and
 * the console's Ctrl-\ dump.  All three print each goroutine the same
 * way:
 *
 *	goroutine 7 [chan receive]:
 *	  #0  0x...  chanrecv_mcall+0x2a
 *	  #1  0x...  consumer+0x41
 *	  #2  0x...  goexit+0x0
 *	created by 0x... main_loop+0x8c
 *
 * A goroutine's frames come from where it stopped: the gobuf a switch
 * saved (pc, sp, bp), or for one in a system call the frame it entered
 * the call from; then the frame-pointer chain.  A goroutine running on
 * another CPU has no stack to show; with the world stopped (go_stack of
 * all goroutines) only the caller runs.
 */
#include "sched/proc.h"
#include "sched/asmoffsets.h"
#include "kernel/ksyms.h"

static const char *gstatus_str(struct g *gp, uint32_t s)
{
	switch (s) {
	case _Gidle: return "idle";
	case _Grunnable: return "runnable";
	case _Grunning: return "running";
	case _Gsyscall: return "syscall";
	case _Gwaiting: return gp->waitreason ? gp->waitreason : "waiting";
	case _Gdead: return "dead";
	case _Gpreempted: return "preempted";
	default: return "?";
	}
}

/* Where gogo resumes a G that mcall switched out, and what mcall pushed
 * on the G's stack first (rbp, rbx, r12-r15: sched/asm_amd64.S). */
extern char mcall_resume[];
#define MCALL_PUSHED (6 * 8)

/* Whether @pc (a return address) is in one of the channel stubs, which
 * park with their caller's return address above their sudog. */
static bool in_chan_stub(uint64_t pc)
{
	const char *name = ksym_lookup(pc - 1, NULL);

	return name && (!strcmp(name, "chansend_mcall") ||
			!strcmp(name, "chanrecv_mcall"));
}

/*
 * The frames of @gp, stopped in status @s (not running).  The walk stays
 * on gp's own stack, which is never freed or made a guard (a page of it
 * given back reads as zeros, and a stashed one faults back in: stack.c):
 * if gp runs again meanwhile and overwrites its frames, the words read
 * may be nonsense, but nothing outside that stack is followed.
 */
static void g_frames(fmt_sink sink, void *arg, struct g *gp, uint32_t s)
{
	uint64_t pc = gp->sched.pc, sp = gp->sched.sp, bp = gp->sched.bp;
	uint64_t lo = gp->stack.lo, hi = gp->stack.hi;

	if (s == _Gsyscall) {
		/* entersyscall recorded where it was called from. */
		if (gp->syscallsp < lo || gp->syscallsp >= hi)
			return;
		backtrace_write_within(sink, arg, 0, gp->syscallpc,
				       gp->syscallsp, lo, hi);
		return;
	}
	if (pc == (uint64_t)gp->startfn && sp == hi - 8) {
		/* Never ran: it starts at its function. */
		backtrace_write_within(sink, arg, 0, pc + 1, 0, lo, hi);
		return;
	}
	/* Stopped in mcall or a channel stub: the caller's return address
	 * is above what that pushed (six registers, or the sudog), and its
	 * frame is bp. */
	uint64_t above = pc == (uint64_t)mcall_resume ? MCALL_PUSHED :
			 in_chan_stub(pc) ? SUDOG_FRAME : 0;
	if (above && sp >= lo && sp + above + 8 <= hi) {
		backtrace_write_within(sink, arg, 0, pc, 0, lo, hi);
		backtrace_write_within(sink, arg, 1, *(uint64_t *)(sp + above),
				       bp, lo, hi);
		return;
	}
	backtrace_write_within(sink, arg, 0, pc, bp, lo, hi);
}

static void created_by(fmt_sink sink, void *arg, struct g *gp)
{
	uint64_t off;
	const char *name = gp->gopc ? ksym_lookup(gp->gopc - 1, &off) : NULL;

	if (name)
		sinkf(sink, arg, "created by 0x%016lx %s+0x%lx\n", gp->gopc - 1,
		      name, off);
}

/**
 * traceback_g - print @gp's header and, unless it is running, its
 * frames.  Any M; @gp should not start running meanwhile (the world
 * stopped, or the machine stopping); if it does, the walk still reads
 * only inside its stack (g_frames) and may print nonsense frames.
 */
void traceback_g(fmt_sink sink, void *arg, struct g *gp)
{
	uint32_t s = readgstatus(gp);

	sinkf(sink, arg, "goroutine %ld [%s]:\n", gp->goid, gstatus_str(gp, s));
	if (s == _Grunning)
		sinkf(sink, arg, "  (running on another CPU: no stack here)\n");
	else
		g_frames(sink, arg, gp, s);
	created_by(sink, arg, gp);
}

struct others {
	fmt_sink sink;
	void *arg;
	struct g *self;
};

static void traceback_other(struct g *gp, void *arg)
{
	struct others *o = arg;

	if (gp == o->self || gp->goid <= 0 || readgstatus(gp) == _Gdead)
		return;
	sinkf(o->sink, o->arg, "\n");
	traceback_g(o->sink, o->arg, gp);
}

/** tracebackothers - traceback_g of every goroutine but @self. */
void tracebackothers(fmt_sink sink, void *arg, struct g *self)
{
	struct others o = { sink, arg, self };

	forEachG(traceback_other, &o);
}

/* go_stack's sink: the buffer, truncated at its end. */
struct bufsink {
	char *buf;
	int len, n;
};

static void buf_put(void *arg, const char *s, size_t n)
{
	struct bufsink *b = arg;

	while (n-- && b->n < b->len)
		b->buf[b->n++] = *s++;
}

int go_stack(char *buf, int len, bool all)
{
	struct bufsink b = { buf, len > 0 ? len : 0, 0 };
	uint64_t *fp = __builtin_frame_address(0);

	must_be_goroutine("go_stack");
	struct g *self = getg();
	if (all)
		stopTheWorld("go_stack");
	sinkf(buf_put, &b, "goroutine %ld [running]:\n", self->goid);
	backtrace_write(buf_put, &b, fp[1], fp[0]);	/* from our caller */
	created_by(buf_put, &b, self);
	if (all) {
		tracebackothers(buf_put, &b, self);
		startTheWorld(0);
	}
	return b.n;
}

/* ---- the console's Ctrl-\ ---- */

/**
 * quit_dump - what Go prints on SIGQUIT, but the program goes on: the
 * scheddetail dump and every goroutine's stack.  The world is not
 * stopped: running goroutines show no frames, and one that starts
 * running while it is printed may show stale ones.  sysmon, on seeing
 * Ctrl-\ typed on the console.
 */
void quit_dump(void)
{
	kprintf("rt0: ^\\ on the console: goroutines and scheduler state "
		"(the program goes on)\n");
	schedtrace(true);
	tracebackothers(console_sink, NULL, NULL);
	kprintf("rt0: end of the ^\\ dump\n");
}
