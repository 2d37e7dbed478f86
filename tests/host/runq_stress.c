/*
 * tests/host/runq_stress.c - sched/runq.c under real threads and
 * ThreadSanitizer: one owner thread per P puts and gets on its own queue
 * and steals from the others, as Ps do.  Every G must be taken exactly
 * once, and TSan must find no data race.
 *
 * Built and run by make test (tools/test.sh):
 *   gcc -O1 -g -fsanitize=thread \
 *       -DRUNQ_ENV='"tests/host/runq_host.h"' -I. tests/host/runq_stress.c \
 *       sched/runq.c -o build/host/runq_stress.test -lpthread
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include "tests/host/runq_host.h"

#define NP 4
#define PER_P 200000

static struct p ps[NP];
static struct g *gs;
static pthread_mutex_t glock = PTHREAD_MUTEX_INITIALIZER;
static struct g *ghead, *gtail;		/* the "global queue"; glock */
static long taken;			/* total taken; atomic */
static struct randomOrder ord;

void runq_overflow(struct g *head, struct g *tail, int32_t n)
{
	(void)n;
	pthread_mutex_lock(&glock);
	if (gtail)
		gtail->schedlink = head;
	else
		ghead = head;
	gtail = tail;
	pthread_mutex_unlock(&glock);
}

void runq_backoff(void)
{
	usleep(3);
}

bool runq_p_running(struct p *pp)
{
	return __atomic_load_n(&pp->status, __ATOMIC_RELAXED) == 1;
}

void runq_throw(const char *msg)
{
	fprintf(stderr, "runq: %s\n", msg);
	abort();
}

static struct g *global_get(void)
{
	pthread_mutex_lock(&glock);
	struct g *gp = ghead;
	if (gp) {
		ghead = gp->schedlink;
		if (!ghead)
			gtail = NULL;
	}
	pthread_mutex_unlock(&glock);
	return gp;
}

static void take(struct g *gp)
{
	if (__atomic_fetch_add(&gp->seen, 1, __ATOMIC_RELAXED) != 0) {
		fprintf(stderr, "runq: G %u taken twice\n", gp->id);
		abort();
	}
	__atomic_fetch_add(&taken, 1, __ATOMIC_RELAXED);
}

static void *owner(void *arg)
{
	long me = (long)arg;
	struct p *pp = &ps[me];
	unsigned seed = (unsigned)me * 7919 + 1;
	bool inherit;

	__atomic_store_n(&pp->status, 1, __ATOMIC_RELAXED);
	for (long i = 0; i < PER_P; i++) {
		struct g *gp = &gs[me * PER_P + i];
		runqput(pp, gp, rand_r(&seed) % 4 == 0);
		if (rand_r(&seed) % 3 == 0) {
			struct g *x = runqget(pp, &inherit);
			if (x)
				take(x);
		}
		/* Gosched's exchange: a G just taken goes back to the tail
		 * for the head (or is done with if a thief got there). */
		if (rand_r(&seed) % 5 == 0) {
			struct g *x = runqget(pp, &inherit), *y;
			if (x && runqrotate(pp, x, &y))
				take(y);
			else if (x)
				take(x);
		}
		/* Steal as Ps do: only with an empty local queue. */
		if (rand_r(&seed) % 64 == 0) {
			struct g *x;
			while ((x = runqget(pp, &inherit)))
				take(x);
			struct randomEnum e = randomOrder_start(&ord, rand_r(&seed));
			for (; !randomEnum_done(&e); randomEnum_next(&e)) {
				if (e.pos == (uint32_t)me)
					continue;
				x = runqsteal(pp, &ps[e.pos],
					      rand_r(&seed) % 2);
				if (x) {
					take(x);
					break;
				}
			}
		}
	}
	/* Drain: own queue, then the global queue, then steal. */
	for (;;) {
		struct g *x = runqget(pp, &inherit);
		if (!x)
			x = global_get();	/* local queue empty from here */
		for (uint32_t k = 0; !x && k < NP; k++)
			if (k != (uint32_t)me)
				x = runqsteal(pp, &ps[k], true);
		if (x) {
			take(x);
			continue;
		}
		if (__atomic_load_n(&taken, __ATOMIC_RELAXED) == (long)NP * PER_P)
			break;
		sched_yield();
	}
	__atomic_store_n(&pp->status, 0, __ATOMIC_RELAXED);
	return NULL;
}

int main(void)
{
	pthread_t t[NP];

	gs = calloc((size_t)NP * PER_P, sizeof(*gs));
	for (long i = 0; i < (long)NP * PER_P; i++)
		gs[i].id = (uint32_t)i;
	randomOrder_reset(&ord, NP);
	for (long i = 0; i < NP; i++)
		pthread_create(&t[i], NULL, owner, (void *)i);
	for (long i = 0; i < NP; i++)
		pthread_join(t[i], NULL);
	for (long i = 0; i < (long)NP * PER_P; i++)
		if (gs[i].seen != 1) {
			fprintf(stderr, "runq: G %ld seen %u times\n", i,
				gs[i].seen);
			return 1;
		}
	printf("runq_stress: %d Ps x %d Gs, each taken exactly once\n", NP,
	       PER_P);
	return 0;
}
