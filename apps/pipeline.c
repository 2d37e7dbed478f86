/*
 * apps/pipeline.c - Go's pipeline with fan-out and fan-in: a generator,
 * several squaring stages reading one channel (fan-out), and a merge of
 * their output channels into one (fan-in: a goroutine per input, and a
 * WaitGroup that closes the merged channel when all are done).
 *
 * Sums the squares of 1..N and checks the sum against n(n+1)(2n+1)/6.
 * Exit status 0 if it matches.
 */
#include "include/rt0.h"

#define N 10000
#define SQUARERS 4

static go_chan *nums, *out[SQUARERS], *merged;
static go_waitgroup merging;
static int took[SQUARERS];		/* values each squarer handled */

static void gen(void *arg)
{
	for (int64_t i = 1; i <= N; i++)
		go_chan_send(nums, &i);
	go_chan_close(nums);
}

static void square(void *arg)
{
	int id = (int)(uint64_t)arg;
	int64_t v;

	while (go_chan_recv(nums, &v)) {
		int64_t sq = v * v;
		took[id]++;
		go_chan_send(out[id], &sq);
	}
	go_chan_close(out[id]);
}

/* Fan-in: copy one input to the merged channel. */
static void forward(void *arg)
{
	go_chan *in = arg;
	int64_t v;

	while (go_chan_recv(in, &v))
		go_chan_send(merged, &v);
	go_waitgroup_done(&merging);
}

static void closer(void *arg)
{
	go_waitgroup_wait(&merging);
	go_chan_close(merged);
}

RT0_APP(pipeline, "Go's pipeline: a generator, 4 squarers (fan-out), a merge (fan-in)")
{
	int64_t sum = 0, count = 0, v;
	const int64_t want = (int64_t)N * (N + 1) * (2 * N + 1) / 6;

	nums = go_chan_make(sizeof(int64_t), 0);
	merged = go_chan_make(sizeof(int64_t), 0);
	go_spawn(gen, NULL);
	go_waitgroup_add(&merging, SQUARERS);
	for (int i = 0; i < SQUARERS; i++) {
		out[i] = go_chan_make(sizeof(int64_t), 10);
		go_spawn(square, (void *)(uint64_t)i);
		go_spawn(forward, out[i]);
	}
	go_spawn(closer, NULL);
	while (go_chan_recv(merged, &v)) {
		sum += v;
		count++;
	}
	go_printf("pipeline: %ld squares through %d squarers (", count,
		  SQUARERS);
	for (int i = 0; i < SQUARERS; i++)
		go_printf("%s%d", i ? " " : "", took[i]);
	go_printf("), sum %ld, expected %ld\n", sum, want);
	go_chan_free(nums);
	go_chan_free(merged);
	for (int i = 0; i < SQUARERS; i++)
		go_chan_free(out[i]);
	return sum == want && count == N ? 0 : 1;
}
