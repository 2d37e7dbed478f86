/*
 * tests/sync_selftest.c - fixtures for the harness (tools/test.sh): the
 * fatal ends of channels and sync, each run alone (KT_MANUAL) with the
 * host checking the message and the exit status.
 *
 * Deadlocks: every goroutine blocked with no timer pending must end the
 * program with Go's "all goroutines are asleep - deadlock!" and a dump
 * showing what each goroutine waits for.  Misuse: Go's panics and fatal
 * errors, with their words.
 */
#include "kernel/ktest.h"
#include "include/rt0.h"

/* ---- deadlocks ---- */

RTEST_MANUAL(selftest_deadlock_chan_receive, 0)
{
	go_chan *c = go_chan_make(sizeof(int), 0);
	int v;

	go_chan_recv(c, &v);		/* nobody will ever send */
	KT_FAIL("received from a channel nobody sends on");
}

RTEST_MANUAL(selftest_deadlock_nil_chan, 0)
{
	int v = 1;

	go_chan_send(NULL, &v);		/* blocks for ever */
	KT_FAIL("sent on a nil channel");
}

RTEST_MANUAL(selftest_deadlock_select_no_cases, 0)
{
	go_select(NULL, 0, true);	/* Go's select {} */
	KT_FAIL("select {} returned");
}

/*
 * A locked mutex, with other goroutines blocked in other ways meanwhile:
 * the dump must name each one's wait.
 */
static go_mutex dl_mu;
static go_waitgroup dl_wg;
static go_chan *dl_c, *dl_c2;

static void dl_send(void *a)
{
	int v = 1;

	go_chan_send(dl_c, &v);		/* no receiver */
}

static void dl_wait(void *a)
{
	go_waitgroup_wait(&dl_wg);	/* never done */
}

static void dl_select(void *a)
{
	int v;
	struct go_select_case cs[2] = { GO_RECV(dl_c2, &v), GO_RECV(NULL, &v) };

	go_select(cs, 2, true);
}

RTEST_MANUAL(selftest_deadlock_mutex, 0)
{
	dl_c = go_chan_make(sizeof(int), 0);
	dl_c2 = go_chan_make(sizeof(int), 0);
	go_waitgroup_add(&dl_wg, 1);
	go_spawn(dl_send, NULL);
	go_spawn(dl_wait, NULL);
	go_spawn(dl_select, NULL);
	go_mutex_lock(&dl_mu);
	go_sleep(10 * 1000000);		/* they all block */
	go_mutex_lock(&dl_mu);		/* and so do we */
	KT_FAIL("locked a locked mutex");
}

/* ---- misuse ---- */

RTEST_MANUAL(selftest_send_on_closed_channel, 0)
{
	go_chan *c = go_chan_make(sizeof(int), 1);
	int v = 1;

	go_chan_close(c);
	go_chan_send(c, &v);
	KT_FAIL("sent on a closed channel");
}

RTEST_MANUAL(selftest_close_of_closed_channel, 0)
{
	go_chan *c = go_chan_make(sizeof(int), 0);

	go_chan_close(c);
	go_chan_close(c);
	KT_FAIL("closed a channel twice");
}

RTEST_MANUAL(selftest_close_of_nil_channel, 0)
{
	go_chan_close(NULL);
	KT_FAIL("closed a nil channel");
}

RTEST_MANUAL(selftest_unlock_of_unlocked_mutex, 0)
{
	static go_mutex mu;

	go_mutex_unlock(&mu);
	KT_FAIL("unlocked an unlocked mutex");
}

RTEST_MANUAL(selftest_runlock_of_unlocked_rwmutex, 0)
{
	static go_rwmutex rw;

	go_rwmutex_runlock(&rw);
	KT_FAIL("read-unlocked an unlocked RWMutex");
}

RTEST_MANUAL(selftest_waitgroup_negative, 0)
{
	static go_waitgroup wg;

	go_waitgroup_add(&wg, 1);
	go_waitgroup_done(&wg);
	go_waitgroup_done(&wg);
	KT_FAIL("a WaitGroup went below zero");
}

/*
 * Reuse before Wait returned (Go's TestWaitGroupMisuse2, made exact with
 * one P): the waiter is readied by Done but has not run when Add starts
 * the next round; when it runs it finds the count moved on.
 */
static go_waitgroup reuse_wg;

static void reuse_waiter(void *a)
{
	go_waitgroup_wait(&reuse_wg);
}

RTEST_MANUAL(selftest_waitgroup_reused_before_wait_returned, 0)
{
	if (go_gomaxprocs() != 1)
		KT_FAIL("needs maxprocs=1");
	go_waitgroup_add(&reuse_wg, 1);
	go_spawn(reuse_waiter, NULL);
	go_sched();			/* it waits */
	go_waitgroup_done(&reuse_wg);	/* readied, not yet running */
	go_waitgroup_add(&reuse_wg, 1);
	go_sched();			/* it runs: the panic */
	KT_FAIL("reuse went unnoticed");
}

RTEST_MANUAL(selftest_makechan_size_out_of_range, 0)
{
	go_chan_make(8, (size_t)1 << 40);
	KT_FAIL("made a channel of 8 TiB");
}
