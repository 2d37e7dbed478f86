/*
 * tests/go_helpers.h - small helpers for tests that run goroutines, on
 * the public API (include/rt0.h) only.
 */
#ifndef RT0_TESTS_GO_HELPERS_H
#define RT0_TESTS_GO_HELPERS_H

#include "include/rt0.h"

/* wg_go - run fn(arg) in a new goroutine and wait until it has called
 * go_waitgroup_done(wg) once. */
static inline void go_and_wait(go_waitgroup *wg, void (*fn)(void *), void *arg)
{
	go_waitgroup_add(wg, 1);
	go_spawn(fn, arg);
	go_waitgroup_wait(wg);
}

/* wg_go_n - run @n goroutines of fn(wg) and wait until each has called
 * go_waitgroup_done(wg). */
static inline void go_n_and_wait(go_waitgroup *wg, int n, void (*fn)(void *))
{
	go_waitgroup_add(wg, n);
	for (int i = 0; i < n; i++)
		go_spawn(fn, wg);
	go_waitgroup_wait(wg);
}

/*
 * grow_idle_ms - make sure at least n Ms exist beside the busy ones: n
 * goroutines lock their threads and nap at once (each needs its own M),
 * then unlock, leaving their Ms idle.  Tests that count Ms or memory use
 * it so the runtime need not start a new M in the middle.
 */
static inline void grow_nap(void *wg)
{
	go_lock_os_thread();
	go_sleep(5000000);
	go_unlock_os_thread();
	go_waitgroup_done(wg);
}

static inline void grow_idle_ms(int n)
{
	static go_waitgroup wg;

	go_n_and_wait(&wg, n, grow_nap);
}

/*
 * grow_free_gs - make n goroutines exist at once, then let them exit: the
 * dead-G caches (per P and global) fill, so later spawns need not
 * allocate.
 */
static inline void grow_gnap(void *wg)
{
	go_sleep(5000000);
	go_waitgroup_done(wg);
}

static inline void grow_free_gs(int n)
{
	static go_waitgroup wg;

	go_n_and_wait(&wg, n, grow_gnap);
}

#endif
