/*
 * sched/api.c - include/rt0.h on top of the runtime.
 *
 * Entry points that need a goroutine check they run on one: a kernel
 * thread that is not an M has no G (and no TLS), and gets a clear panic
 * rather than a fault on a bogus FS base.  go_spawn and go_ready only
 * need an M (the runtime's own g0 may call them too), which is cheaper
 * to check.
 */
#include "include/rt0.h"
#include "sched/proc.h"
#include "sched/timers.h"
#include "sched/lock.h"
#include "kernel/kthread.h"
#include "kernel/smp.h"
#include "kernel/time.h"
#include "kernel/console.h"
#include "kernel/exit.h"

/* The checks' way out (must_be_goroutine, must_be_m in proc.h). */
void called_outside(const char *what)
{
	panic("%s called outside a goroutine", what);
}

/* go_spawn's nil check: reached by a jump, so the return address on top
 * of the stack is go_spawn's caller's, whom the backtrace then names. */
static __attribute__((noinline, used, noreturn, force_align_arg_pointer))
void spawn_nil(void)
{
	throw("go of nil func value");
}

/* Frameless: newproc reads its return address off the stack. */
__fastpath
void go_spawn(void (*fn)(void *arg), void *arg)
{
	must_be_m("go_spawn");
	if (unlikely(!fn)) {
		__asm__ volatile("jmp spawn_nil");
		__builtin_unreachable();
	}
	newproc(fn, arg);
}

void go_exit_program(int status)
{
	if (status < 0 || status > 127)
		throwf("go_exit_program: status %d out of range (0..127)", status);
	console_hold();		/* a line being printed ends first */
	kernel_exit((uint32_t)status);
}

int go_set_max_threads(int n)
{
	must_be_m("go_set_max_threads");
	if (n < 1)
		throwf("go_set_max_threads: %d threads", n);
	lock(&sched.lock);
	int old = sched.maxmcount;
	sched.maxmcount = n;
	checkmcount();
	unlock(&sched.lock);
	return old;
}

int go_num_threads(void)
{
	return (int)(__atomic_load_n(&sched.mnext, __ATOMIC_RELAXED) -
		     __atomic_load_n(&sched.nmfreed, __ATOMIC_RELAXED));
}

int64_t go_thread_id(void)
{
	must_be_goroutine("go_thread_id");
	return getg()->m->id;	/* runtime text: not preempted here */
}

void go_exit(void)
{
	goexit1();
}

int64_t go_id(void)
{
	return getg()->goid;
}

int go_numgoroutine(void)
{
	return __atomic_load_n(&sched.ngoroutines, __ATOMIC_ACQUIRE);
}

int go_gomaxprocs(void)
{
	return gomaxprocs;
}

int go_numcpu(void)
{
	return (int)ncpu;
}

int go_current_p(void)
{
	must_be_goroutine("go_current_p");
	return getg()->m->p->id;	/* runtime text: not preempted here */
}

int64_t go_nanotime(void)
{
	return (int64_t)nanotime();
}

void go_sleep(int64_t ns)
{
	must_be_goroutine("go_sleep");
	timeSleep(ns);
}

void go_lock_os_thread(void)
{
	LockOSThread();
}

void go_unlock_os_thread(void)
{
	UnlockOSThread();
}

void go_printf(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vkprintf(fmt, ap);
	va_end(ap);
}

void go_sched_stats(struct go_sched_stats *st)
{
	lock(&sched.lock);
	st->gomaxprocs = gomaxprocs;
	st->idleprocs = (int)sched.npidle;
	st->threads = (int)mcount();
	st->spinningthreads = sched.nmspinning;
	st->idlethreads = sched.nmidle;
	st->runqueue = sched.runqsize;
	unlock(&sched.lock);
}

go_g *go_self(void)
{
	return getg();
}

__fastpath
void go_ready(go_g *gp)
{
	must_be_m("go_ready");
	goready(gp);
}
