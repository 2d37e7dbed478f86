/*
 * apps/tracedemo.c - a small program whose execution trace is known, for
 * the tracer's harness check (tools/tracetest.sh) and docs/trace.md.
 *
 * main spawns trace_worker, which opens a region "work", logs a line and
 * receives from an unbuffered channel (it blocks: chan receive); main
 * sends once the worker waits (readying it), and waits on a WaitGroup
 * while the worker closes its region and ends.  Then PAIRS pairs of
 * goroutines ping-pong over channels (flow arrows between Ps) and main
 * reports.  Run it with trace=1: make trace CMDLINE="app=tracedemo".
 */
#include "include/rt0.h"

#define PAIRS 4
#define ROUNDS 200

static go_waitgroup done;

static void trace_worker(void *arg)
{
	go_chan *c = arg;
	int v = 0;

	go_trace_region_begin("work");
	go_trace_log("tracedemo", "worker waits for main's value");
	go_chan_recv(c, &v);
	go_trace_region_end("work");
	go_printf("tracedemo: worker G%ld got %d\n", go_id(), v);
	go_waitgroup_done(&done);
}

struct pair {
	go_chan *ping, *pong;
};

static void pinger(void *arg)
{
	struct pair *p = arg;

	for (int i = 0; i < ROUNDS; i++) {
		go_chan_send(p->ping, &i);
		go_chan_recv(p->pong, &i);
	}
	go_waitgroup_done(&done);
}

static void ponger(void *arg)
{
	struct pair *p = arg;
	int v;

	for (int i = 0; i < ROUNDS; i++) {
		go_chan_recv(p->ping, &v);
		go_chan_send(p->pong, &v);
	}
	go_waitgroup_done(&done);
}

RT0_APP(tracedemo, "a goroutine with a region, a log and a blocking "
		   "receive; ping-pong pairs (for trace=1)")
{
	go_chan *c = go_chan_make(sizeof(int), 0);
	int v = 42;

	go_printf("tracedemo: tracer %s\n", go_trace_enabled() ? "on" : "off");
	go_waitgroup_add(&done, 1);
	go_spawn(trace_worker, c);
	/* An unbuffered non-blocking send succeeds only once the worker is
	 * parked in its receive: the trace is the same on any host. */
	while (!go_chan_trysend(c, &v))
		go_sleep(100000);
	go_waitgroup_wait(&done);

	static struct pair pairs[PAIRS];
	go_waitgroup_add(&done, 2 * PAIRS);
	for (int i = 0; i < PAIRS; i++) {
		pairs[i].ping = go_chan_make(sizeof(int), 0);
		pairs[i].pong = go_chan_make(sizeof(int), 0);
		go_spawn(pinger, &pairs[i]);
		go_spawn(ponger, &pairs[i]);
	}
	go_waitgroup_wait(&done);
	go_printf("tracedemo: %d pairs did %d round trips each\n", PAIRS,
		  ROUNDS);
	return 0;
}
