/*
 * apps/spread.c - work spread over every CPU, to watch with schedtrace.
 *
 * Spawns rounds of CPU-bound goroutines (more than there are Ps) and
 * reports, per P, how many of them ran there.  Run with schedtrace=100
 * (make run does) to see the run queues fill and drain on every P.
 */
#include "include/rt0.h"

#define WORKERS 64
#define ROUNDS 4

static uint32_t ran_on[256];		/* goroutines finished per P */
static go_waitgroup round;

static void worker(void *arg)
{
	volatile uint64_t x = (uint64_t)arg;
	int64_t end = go_nanotime() + 30 * 1000000;	/* ~30 ms of work */

	while (go_nanotime() < end)
		for (int i = 0; i < 1000; i++)
			x = x * 6364136223846793005ull + 1442695040888963407ull;
	__atomic_fetch_add(&ran_on[go_current_p()], 1, __ATOMIC_RELAXED);
	go_waitgroup_done(&round);
}

RT0_APP(spread, "CPU-bound goroutines spread over every P (watch schedtrace)")
{
	int procs = go_gomaxprocs();

	go_printf("spread: %d Ps, %d rounds of %d goroutines\n", procs, ROUNDS,
		  WORKERS);
	for (int r = 0; r < ROUNDS; r++) {
		go_waitgroup_add(&round, WORKERS);
		for (int i = 0; i < WORKERS; i++)
			go_spawn(worker, (void *)(uint64_t)i);
		go_waitgroup_wait(&round);
	}
	int idle = 0;
	for (int i = 0; i < procs; i++) {
		go_printf("spread: P%d ran %u goroutines\n", i, ran_on[i]);
		idle += ran_on[i] == 0;
	}
	go_printf("spread: %d of %d Ps took part\n", procs - idle, procs);
	return idle ? 1 : 0;
}
