/*
 * apps/workers.c - Go's worker pool: a fixed set of workers take jobs
 * from one channel and send results on another.
 *
 * main sends JOBS jobs (the Collatz chain length of n, some work that
 * varies per job) to WORKERS workers through a buffered channel, closes
 * it, and collects every result.  Each job is done exactly once; the
 * program checks that and prints how the jobs spread over the workers.
 * Exit status 0 if every result came back right.
 */
#include "include/rt0.h"

#define WORKERS 8
#define JOBS 2000

struct result {
	int64_t job, steps;
	int worker;
};

static go_chan *jobs, *results;

static int64_t collatz_steps(int64_t n)
{
	int64_t steps = 0;

	for (; n != 1; steps++)
		n = n & 1 ? 3 * n + 1 : n / 2;
	return steps;
}

static void worker(void *arg)
{
	int id = (int)(uint64_t)arg;
	int64_t n;

	while (go_chan_recv(jobs, &n)) {
		struct result r = { .job = n, .steps = collatz_steps(n),
				    .worker = id };
		go_chan_send(results, &r);
	}
}

static void feed(void *arg)
{
	for (int64_t n = 1; n <= JOBS; n++)
		go_chan_send(jobs, &n);
	go_chan_close(jobs);		/* the workers' loops end */
}

RT0_APP(workers, "Go's worker pool: 8 workers, 2000 jobs over channels")
{
	static uint8_t done[JOBS + 1];
	int per_worker[WORKERS] = { 0 };
	int64_t longest = 0, longest_n = 0;
	int bad = 0;

	jobs = go_chan_make(sizeof(int64_t), 100);
	results = go_chan_make(sizeof(struct result), 100);
	for (int i = 0; i < WORKERS; i++)
		go_spawn(worker, (void *)(uint64_t)i);
	go_spawn(feed, NULL);
	for (int i = 0; i < JOBS; i++) {
		struct result r;
		go_chan_recv(results, &r);
		if (r.job < 1 || r.job > JOBS || done[r.job]++ ||
		    r.steps != collatz_steps(r.job))
			bad++;
		per_worker[r.worker]++;
		if (r.steps > longest) {
			longest = r.steps;
			longest_n = r.job;
		}
	}
	go_printf("workers: %d jobs by %d workers:", JOBS, WORKERS);
	for (int i = 0; i < WORKERS; i++)
		go_printf(" %d", per_worker[i]);
	go_printf("\nworkers: longest Collatz chain below %d: %ld steps from %ld\n",
		  JOBS + 1, longest, longest_n);
	go_printf("workers: %d results wrong or repeated\n", bad);
	go_chan_free(jobs);
	go_chan_free(results);
	return bad ? 1 : 0;
}
