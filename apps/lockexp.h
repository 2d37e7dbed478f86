/* apps/lockexp.h - the LockOSThread experiment, callable from tests. */
#ifndef RT0_APPS_LOCKEXP_H
#define RT0_APPS_LOCKEXP_H

#include <stdbool.h>
#include <stdint.h>

struct lockexp_result {
	int baseline;			/* threads before the run */
	int peak, peak_idle;		/* highest threads= / idlethreads= seen */
	int final, final_idle;		/* at the end of the run */
};

/*
 * lockexp_run - n goroutines each LockOSThread and sleep for @sleep_ns,
 * unlocking before they return if @unlock; main samples the thread counts
 * for @main_ns.  Go's answer for n=100 (3 s / 5 s): threads=104
 * idlethreads=101 with the unlock, threads=7 idlethreads=4 without.
 */
void lockexp_run(int n, int64_t sleep_ns, int64_t main_ns, bool unlock,
		 struct lockexp_result *r);

#endif
