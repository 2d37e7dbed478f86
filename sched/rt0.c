/*
 * sched/rt0.c - starting the runtime (Go's rt0_go, args, osinit,
 * schedinit, runtime.main) and starting each M's thread.
 *
 * TLS.  Each M has a thread-local block laid out as the x86-64 ELF TLS
 * ABI's variant II: the thread pointer (the FS base) points at a word
 * holding its own address, and the TLS segment's image (.tdata, then
 * .tbss zeroed) sits just below it, so C _Thread_local variables compiled
 * with the local-exec model (%fs:-offset) are per-M variables; the current
 * G, g_tls, is one of them.  A thread switch in the kernel reloads FS, so
 * Ms sharing a CPU keep their own.  Before anything uses the slot, each M
 * checks it as rt0_go does: store 0x123 through %fs, read it back through
 * memory.  Beware: a goroutine may move to another M across any call into
 * the runtime, so _Thread_local data belongs to the M, not to the G.
 */
#include "sched/proc.h"
#include "sched/exectrace.h"
#include "sched/lock.h"
#include "include/rt0.h"
#include "kernel/bootinfo.h"
#include "kernel/cmdline.h"
#include "kernel/exit.h"
#include "kernel/ktest.h"
#include "kernel/kthread.h"
#include "kernel/mem.h"
#include "kernel/smp.h"

_Thread_local struct g *g_tls;

#define TLS_CANARY 0x727430746c73ull	/* "rt0tls" */
static _Thread_local uint64_t tls_canary = TLS_CANARY;

extern char _tdata_start[], _tdata_end[], _tls_memsz[], _tls_align[];
extern const struct rt0_app _apps_start[], _apps_end[];

static uint32_t maxprocs;
KPARAM_UINT(maxprocs, maxprocs, 1, MAX_PROCS,
	    "number of Ps (GOMAXPROCS); default: the CPU count");
/* Empty: the image's main program (main_app). */
static char app_name[32];
KPARAM_STR(app, app_name, "the program to run as goroutine 1 (app=? lists "
	   "them; default lockosthread, or an APP= image's first)");

static const char *cmdline;	/* args(): the kernel command line */
static const struct rt0_app *app;

static uint64_t tls_block_size(void)
{
	return ALIGN_UP((uint64_t)_tls_memsz, 16);
}

/* Bytes tls_setup needs: the TLS image, then the thread pointer's word. */
uint64_t tls_size(void)
{
	return tls_block_size() + 16;
}

/* Fill the TLS block at @block (tls_size() bytes, zeroed, 16-aligned). */
void tls_setup(struct m *mp, void *block)
{
	if ((uint64_t)_tls_align > 16)
		throw("TLS alignment above 16 bytes is not supported");
	memcpy(block, _tdata_start, _tdata_end - _tdata_start);
	mp->tls_block = block;
	mp->tls = (uint64_t)block + tls_block_size();
	*(uint64_t *)mp->tls = mp->tls;		/* %fs:0 = the TP itself */
}

/* rt0_go's check, on the M's own thread with FS loaded. */
static void tls_check(struct m *mp)
{
	int64_t off;

	__asm__ volatile("movq $g_tls@tpoff, %0" : "=r"(off));
	__asm__ volatile("movq $0x123, %%fs:g_tls@tpoff" : : : "memory");
	uint64_t seen = *(volatile uint64_t *)(mp->tls + off);
	if (seen != 0x123)
		panic("M%ld: TLS check: 0x123 stored via %%fs read back as "
		      "0x%lx at tp%+ld", mp->id, seen, off);
	if (tls_canary != TLS_CANARY)
		panic("M%ld: TLS template not in place (canary 0x%lx)", mp->id,
		      tls_canary);
	if ((uint64_t)&g_tls != mp->tls + off)
		panic("M%ld: &g_tls = %p, expected tp%+ld", mp->id, &g_tls,
		      off);
}

/** mstart_thread - a new M's kernel thread starts here (newm). */
void mstart_thread(void *arg)
{
	struct m *mp = arg;

	/* Before this M can hold a P (and so be seen by sysmon). */
	mp->thread = kthread_current();
	kthread_current()->user = mp;
	kthread_set_fsbase(mp->tls);
	tls_check(mp);
	g_tls = mp->g0;
	mstart();
}

static void args(void)
{
	cmdline = bootinfo.cmdline;
}

static void osinit(void)
{
	ncpu_rt = (int32_t)ncpu;
}

static const struct rt0_app *find_app(const char *name)
{
	for (const struct rt0_app *a = _apps_start; a < _apps_end; a++)
		if (!strcmp(a->name, name))
			return a;
	return NULL;
}

/*
 * The program goroutine 1 runs: app=NAME; without it, lockosthread (the
 * experiment of make run), or in an image built with APP=dir, which has
 * only that directory's programs, its first (files in name order, then
 * source order).  NULL if there is no such program.
 */
static const struct rt0_app *main_app(void)
{
	if (app_name[0])
		return find_app(app_name);
	const struct rt0_app *a = find_app("lockosthread");
	if (!a && (uintptr_t)_apps_start < (uintptr_t)_apps_end)
		a = _apps_start;
	return a;
}

static void schedinit(void)
{
	sched.maxmcount = 10000;
	schedseed_init();
	mcommoninit(&m0, -1);
	stack_init();
	trace_init();
	int32_t procs = maxprocs ? (int32_t)maxprocs : ncpu_rt;
	exectrace_init(procs);	/* before the Ps: their buffers */
	preempt_init();
	lock(&sched.lock);
	procresize(procs);	/* m0 gets P0; the others go idle */
	unlock(&sched.lock);
	/* An unknown app= is refused even when tests run instead. */
	app = main_app();
	if (!app && !app_name[0]) {
		/* Tests may still run (runtime_main never calls it then). */
		if (!ktest_selected() && !kbench_selected()) {
			kprintf("rt0: this image has no program (RT0_APP); "
				"test=GLOB runs its tests\n");
			kernel_exit(EXIT_CMDLINE);
		}
	} else if (!app) {
		kprintf("rt0: command line: unknown app '%s'; apps:", app_name);
		for (const struct rt0_app *a = _apps_start; a < _apps_end; a++)
			kprintf(" %s", a->name);
		kprintf("\n");
		kernel_exit(EXIT_CMDLINE);
	}
}

/* Goroutine 1: runtime.main. */
static void runtime_main(void *arg)
{
	(void)arg;
	mainStarted = true;
	sysmon_start();
	if (ktest_selected() || kbench_selected()) {
		leakcheck_init();
		ktest_run_level(KTEST_RUNTIME);
		schedseed_report();
		ktest_finish();
	}
	int status = app->main();
	schedseed_report();
	kernel_exit((uint32_t)status);
}

/**
 * rt0_go - turn the calling kernel thread (kmain) into m0 running g0 and
 * start the scheduler: TLS, args, osinit, schedinit, newproc(main),
 * mstart.  Never returns.
 */
void rt0_go(void)
{
	struct kthread *t = kthread_current();

	/* m0's g0 stack is this thread's stack. */
	g0.stack.lo = t->stack_lo;
	g0.stack.hi = t->stack_hi;
	g0.atomicstatus = _Grunning;
	g0.m = &m0;
	m0.g0 = &g0;
	m0.thread = t;
	t->user = &m0;
	void *tls = kmalloc(tls_size());
	if (!tls)
		panic("rt0_go: no memory for m0's TLS");
	tls_setup(&m0, tls);
	kthread_set_fsbase(m0.tls);
	tls_check(&m0);
	g_tls = &g0;

	args();
	osinit();
	schedinit();
	newproc(runtime_main, NULL);
	mstart();
}
KERNEL_MAIN(rt0_go);

static char app_arg[64];
KPARAM_STR(arg, app_arg, "one word for the program (go_arg), e.g. a count");

/* For programs: arg= from the command line ("" if none). */
const char *go_arg(void)
{
	return app_arg;
}

/* For programs: the kernel command line. */
const char *go_cmdline(void)
{
	return cmdline;
}
