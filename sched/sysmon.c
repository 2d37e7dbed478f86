/*
 * sched/sysmon.c - the system monitor (Go's sysmon): an M of its own,
 * without a P, that wakes every 20 us at first, doubling its sleep after
 * 50 idle rounds up to 10 ms, and
 *  - retakes Ps from Ms stuck in system calls when there is other work
 *    (or after 10 ms regardless), handing them to other Ms;
 *  - asks goroutines that have run for 10 ms on the same schedtick to
 *    stop (preemptone: asynchronous preemption, preempt.c);
 *  - starts an M when a timer is overdue (a busy P may not get to it);
 *  - when memory runs low, shrinks parked goroutines' stacks (stack.c);
 *  - prints schedtrace and memtrace.
 * With every P idle (and no schedtrace or memtrace) it sleeps until the
 * next timer, or until a goroutine entering or leaving a system call
 * wakes it.
 */
#include "sched/proc.h"
#include "sched/exectrace.h"
#include "kernel/cmdline.h"
#include "sched/lock.h"
#include "sched/timers.h"
#include "kernel/kwait.h"
#include "kernel/console.h"
#include "kernel/time.h"

#define FORCE_PREEMPT_NS (10 * (int64_t)NSEC_PER_MSEC)	/* Go's */
#define SYSCALL_RETAKE_NS (10 * (int64_t)NSEC_PER_MSEC)
#define SCAVENGE_PERIOD_NS (1 * (int64_t)NSEC_PER_SEC)
#define SCAVENGE_PER_ROUND 16	/* Gs: a bounded slice of sysmon's time */

/*
 * preemptus=N: ask a goroutine to stop once it has run N us on its P
 * (Go's forcePreemptNS, 10 ms).  Tests set it low to preempt often;
 * sysmon then wakes at least every N/2 us.
 */
static uint32_t preempt_us = FORCE_PREEMPT_NS / 1000;
KPARAM_UINT(preemptus, preempt_us, 50, 10000000,
	    "ask a goroutine to stop after it ran N us (default 10000)");
/* Go sleeps up to forcegcperiod / 2 (60 s); rt0 looks at the console
 * for Ctrl-\ at least every second. */
#define DEEP_SLEEP_MAX_NS (1 * (int64_t)NSEC_PER_SEC)

static void usleep(uint32_t us)
{
	ksleep_until(nanotime() + (uint64_t)us * NSEC_PER_USEC);
}

/* Take back Ps blocked in syscalls; preempt long-running Gs. */
static uint32_t retake(int64_t now)
{
	uint32_t n = 0;

	for (int32_t i = 0; i < gomaxprocs; i++) {
		struct p *pp = allp[i];
		uint32_t s = __atomic_load_n(&pp->status, __ATOMIC_ACQUIRE);
		bool sysretake = false;

		if (s == _Prunning || s == _Psyscall) {
			/* Same schedtick for 10 ms: one G (or a runnext chain
			 * sharing its slice) has had the P too long. */
			uint32_t t = __atomic_load_n(&pp->schedtick, __ATOMIC_RELAXED);
			if (pp->sysmontick_schedtick != t) {
				pp->sysmontick_schedtick = t;
				pp->sysmontick_when = now;
			} else if (pp->sysmontick_when +
				   (int64_t)preempt_us * 1000 <= now) {
				preemptone(pp);
				sysretake = true;	/* in a syscall: no M */
			} else if (s == _Prunning && SEEDED(SEED_PREEMPT)) {
				preemptone(pp);	/* schedseed: any time */
			}
		}
		if (s != _Psyscall)
			continue;
		/* In a syscall for more than one sysmon round (20 us+)? */
		uint32_t t = __atomic_load_n(&pp->syscalltick, __ATOMIC_RELAXED);
		if (!sysretake && pp->sysmontick_syscalltick != t) {
			pp->sysmontick_syscalltick = t;
			pp->sysmontick_syscallwhen = now;
			continue;
		}
		/* No other work and someone could take it: leave it, for a
		 * while (10 ms), so short calls keep their P. */
		if (runqempty(pp) &&
		    __atomic_load_n(&sched.nmspinning, __ATOMIC_SEQ_CST) +
				    (int32_t)__atomic_load_n(&sched.npidle,
							     __ATOMIC_SEQ_CST) > 0 &&
		    pp->sysmontick_syscallwhen + SYSCALL_RETAKE_NS > now)
			continue;
		/* Count one more running M before the CAS, so the M we take
		 * from cannot exit its call, park and report a deadlock. */
		lock(&sched.lock);
		sched.nmidlelocked--;
		unlock(&sched.lock);
		uint32_t old = _Psyscall;
		if (__atomic_compare_exchange_n(&pp->status, &old, _Pidle, false,
						__ATOMIC_ACQ_REL,
						__ATOMIC_ACQUIRE)) {
			n++;
			pp->syscalltick++;
			traceev(TEV_RETAKE, (uint64_t)pp->id, 0);
			handoffp(pp);
		}
		/* The M we did not take from may have gone idle meanwhile,
		 * its own check counting us as running: check again. */
		lock(&sched.lock);
		sched.nmidlelocked++;
		checkdead();
		unlock(&sched.lock);
	}
	return n;
}

static void sysmon(void)
{
	/* schedtrace=, memtrace= or the tracer's counters: constant from
	 * here.  The two traces keep sysmon from its deep sleep. */
	bool sysmon_reports = debug_schedtrace || debug_memtrace || trace_on;
	bool traces = debug_schedtrace || debug_memtrace;
	int64_t lasttrace = 0, lastmemtrace = 0, lastscavenge = 0;
	int idle = 0;		/* rounds in a row that woke nobody */
	uint32_t delay = 0;	/* us */

	lock(&sched.lock);
	sched.nmsys++;
	checkdead();
	unlock(&sched.lock);
	for (;;) {
		if (idle == 0)
			delay = 20;
		else if (idle > 50)
			delay *= 2;
		if (delay > 10000)
			delay = 10000;
		if (delay > preempt_us / 2)
			delay = preempt_us / 2 > 20 ? preempt_us / 2 : 20;
		if (SEEDED_ON() && delay > 200)
			delay = 200;	/* schedseed: preempt often */
		usleep(delay);

		int64_t now = (int64_t)nanotime();
		if (!traces &&
		    __atomic_load_n(&sched.npidle, __ATOMIC_SEQ_CST) ==
			    (uint32_t)gomaxprocs) {
			lock(&sched.lock);
			if (__atomic_load_n(&sched.npidle, __ATOMIC_SEQ_CST) ==
			    (uint32_t)gomaxprocs) {
				bool syscallWake = false;
				int64_t next = timers_checkNoP(0);
				if (!next || next > now) {
					int64_t sleep = DEEP_SLEEP_MAX_NS;
					if (next && next - now < sleep)
						sleep = next - now;
					__atomic_store_n(&sched.sysmonwait, 1,
							 __ATOMIC_RELEASE);
					unlock(&sched.lock);
					syscallWake = notetsleep(&sched.sysmonnote,
								 sleep);
					lock(&sched.lock);
					__atomic_store_n(&sched.sysmonwait, 0,
							 __ATOMIC_RELEASE);
					noteclear(&sched.sysmonnote);
				}
				if (syscallWake) {
					idle = 0;
					delay = 20;
				}
			}
			unlock(&sched.lock);
		}
		/* Ctrl-\ typed on the console: print every goroutine. */
		console_poll();
		if (console_take_quit())
			quit_dump();
		now = (int64_t)nanotime();
		/* An overdue timer: a busy P has not got to it.  Any M with
		 * a P runs every P's timers while it looks for work. */
		int64_t next = timers_checkNoP(0);
		if (next && next < now)
			startm(NULL, false, false);
		if (retake(now))
			idle = 0;
		else
			idle++;
		/* Memory low with parked stacks holding it (stack.c). */
		if (stack_shrink_low())
			idle = 0;
		/* Free Gs beyond the Ps' caches: their stacks' pages back. */
		if (now - lastscavenge >= SCAVENGE_PERIOD_NS) {
			lastscavenge = now;
			stack_scavenge_global(SCAVENGE_PER_ROUND, false);
		}
		/* One test for both periodic reports (sysmon_reports). */
		if (sysmon_reports) {
			if (trace_on)
				exectrace_sample(now);
			if (debug_schedtrace &&
			    lasttrace + (int64_t)debug_schedtrace * 1000000 <= now) {
				lasttrace = now;
				schedtrace(debug_scheddetail);
			}
			if (debug_memtrace &&
			    lastmemtrace + (int64_t)debug_memtrace * 1000000 <= now) {
				lastmemtrace = now;
				memtrace(now);
			}
		}
	}
}

/** sysmon_start - start sysmon's M (from runtime.main). */
void sysmon_start(void)
{
	newm(sysmon, NULL, -1);
}
