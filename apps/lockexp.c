/*
 * apps/lockexp.c - what LockOSThread does to threads (the image's main job).
 *
 * 100 goroutines each lock their thread and sleep 3 seconds while main
 * sleeps 5; run once with UnlockOSThread before each goroutine returns,
 * once without.  Unlocked, the 100 Ms survive as idle threads (parked,
 * not destroyed); still locked, each goroutine's exit takes its M down and
 * the thread count falls back to the baseline.  Boot with schedtrace=500
 * (make run does) to watch threads= and idlethreads= move.
 */
#include "include/rt0.h"

struct lockexp_result {
	int baseline;			/* threads before the run */
	int peak, peak_idle;		/* highest threads= / idlethreads= seen */
	int final, final_idle;		/* at the end of the run */
};

#define MS 1000000ll

struct sleeper {
	int64_t ns;
	bool unlock;
	go_waitgroup *done;
};

static void locked_sleeper(void *arg)
{
	struct sleeper *s = arg;

	go_lock_os_thread();
	go_sleep(s->ns);
	if (s->unlock)
		go_unlock_os_thread();
	go_waitgroup_done(s->done);
	/* Returning while locked ends this goroutine's M. */
}

/*
 * lockexp_run - n goroutines each LockOSThread and sleep for @sleep_ns,
 * unlocking before they return if @unlock; main samples the thread counts
 * for @main_ns.  Go's answer for n=100 (3 s / 5 s): threads=104
 * idlethreads=101 with the unlock, threads=7 idlethreads=4 without.
 */
static void lockexp_run(int n, int64_t sleep_ns, int64_t main_ns, bool unlock,
			struct lockexp_result *r)
{
	static struct sleeper s;
	static go_waitgroup done;
	struct go_sched_stats st;

	s = (struct sleeper){ sleep_ns, unlock, &done };
	go_sched_stats(&st);
	*r = (struct lockexp_result){ .baseline = st.threads };
	go_waitgroup_add(&done, n);
	for (int i = 0; i < n; i++)
		go_spawn(locked_sleeper, &s);
	int64_t end = go_nanotime() + main_ns;
	while (go_nanotime() < end) {
		go_sleep(main_ns / 100);
		go_sched_stats(&st);
		if (st.threads > r->peak)
			r->peak = st.threads;
		if (st.idlethreads > r->peak_idle)
			r->peak_idle = st.idlethreads;
	}
	/* Sleepers that are late (a slow host) finish before we count. */
	go_waitgroup_wait(&done);
	/*
	 * Exiting Ms finish their teardown: wait until the thread count has
	 * held still for 50 ms (at most 2 s; a slow host may stall a CPU).
	 */
	go_sched_stats(&st);
	for (int64_t still = go_nanotime(), last = st.threads,
	     stop = still + 2000 * MS; go_nanotime() < stop; ) {
		go_sleep(5 * MS);
		go_sched_stats(&st);
		if (st.threads != last) {
			last = st.threads;
			still = go_nanotime();
		} else if (go_nanotime() - still >= 50 * MS) {
			break;
		}
	}
	r->final = st.threads;
	r->final_idle = st.idlethreads;
}

RT0_APP(lockosthread, "100 goroutines LockOSThread and sleep, twice: Ms kept, then Ms torn down")
{
	struct lockexp_result a, b;

	go_printf("lockosthread: 100 goroutines lock their thread and sleep 3 s; "
		  "main sleeps 5 s\n");
	go_printf("lockosthread: run 1: UnlockOSThread before returning\n");
	lockexp_run(100, 3000 * MS, 5000 * MS, true, &a);
	go_printf("lockosthread: run 2: return still locked\n");
	lockexp_run(100, 3000 * MS, 5000 * MS, false, &b);
	go_printf("lockosthread: run 1 (unlocked): baseline %d threads, peak %d, "
		  "final threads=%d idlethreads=%d (Go on Linux: threads=104 "
		  "idlethreads=101)\n", a.baseline, a.peak, a.final, a.final_idle);
	go_printf("lockosthread: run 2 (locked):   baseline %d threads, peak %d, "
		  "final threads=%d idlethreads=%d (Go on Linux: threads=7 "
		  "idlethreads=4)\n", b.baseline, b.peak, b.final, b.final_idle);
	return 0;
}
