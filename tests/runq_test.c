/*
 * tests/runq_test.c - the per-P run queue on bare structs (Go's
 * TestSchedLocalQueue, ...Steal, ...Empty and TestStealOrder).  White-box:
 * it drives sched/runq.c directly, as Go's export_test.go does.
 */
#include "kernel/ktest.h"
#include "kernel/kthread.h"
#include "kernel/mem.h"
#include "kernel/smp.h"
#include "arch/x86_64/x86.h"
#include "sched/runtime2.h"

static struct p *bare_p(void)
{
	return page_alloc_zeroed(1);
}

KTEST(runq_put_get_every_fill_level)
{
	struct p *pp = bare_p();
	static struct g gs[RUNQ_LEN];
	bool inherit;

	KT_ASSERT(pp);
	for (int i = 0; i < RUNQ_LEN; i++) {
		KT_ASSERTF(!runqget(pp, &inherit), "not empty before level %d", i);
		for (int j = 0; j < i; j++)
			runqput(pp, &gs[j], false);
		KT_EQ(runqlen(pp), i);
		for (int j = 0; j < i; j++) {
			struct g *gp = runqget(pp, &inherit);
			KT_ASSERTF(gp == &gs[j], "level %d: element %d out of order",
				   i, j);
		}
		KT_ASSERTF(!runqget(pp, &inherit), "not empty after level %d", i);
	}
	/* runnext: last in, first out, and it inherits the time slice. */
	runqput(pp, &gs[0], false);
	runqput(pp, &gs[1], true);
	runqput(pp, &gs[2], true);	/* kicks gs[1] to the tail */
	KT_ASSERT(runqget(pp, &inherit) == &gs[2] && inherit);
	KT_ASSERT(runqget(pp, &inherit) == &gs[0] && !inherit);
	KT_ASSERT(runqget(pp, &inherit) == &gs[1] && !inherit);
	KT_ASSERT(runqempty(pp));
	page_free(pp, 1);
}

KTEST(runq_steal_takes_half_and_loses_none)
{
	struct p *p1 = bare_p(), *p2 = bare_p();
	static struct g gs[RUNQ_LEN];
	bool inherit;

	KT_ASSERT(p1 && p2);
	for (int i = 0; i < RUNQ_LEN; i++) {
		for (int j = 0; j < i; j++) {
			gs[j].sig = 0;
			runqput(p1, &gs[j], false);
		}
		struct g *gp = runqsteal(p2, p1, true);
		int s = 0;
		if (gp) {
			s++;
			gp->sig++;
		}
		while ((gp = runqget(p2, &inherit))) {
			s++;
			gp->sig++;
		}
		while ((gp = runqget(p1, &inherit)))
			gp->sig++;
		for (int j = 0; j < i; j++)
			KT_ASSERTF(gs[j].sig == 1, "iter %d: element %d seen %u "
				   "times", i, j, gs[j].sig);
		KT_ASSERTF(s == i / 2 || s == i / 2 + 1,
			   "iter %d: stole %d, want %d or %d", i, s, i / 2,
			   i / 2 + 1);
	}
	page_free(p1, 1);
	page_free(p2, 1);
}

/*
 * runqempty must never say "empty" while a G is queued, even while the
 * owner moves Gs between runnext and the ring: a thread on another CPU
 * checks at the moment the owner does put/put/get.
 */
struct empty_race {
	struct p *pp;
	uint32_t ready;
	uint32_t round;		/* checker runs round r when round == r */
	uint32_t done;
	uint32_t wrong;
	uint32_t iters;
};

static void spin_until(uint32_t *w, uint32_t v)
{
	for (int n = 0; __atomic_load_n(w, __ATOMIC_ACQUIRE) != v; n++) {
		cpu_relax();
		if (ncpu == 1 && n % 64 == 63)
			kthread_yield();
	}
}

static void empty_checker(void *arg)
{
	struct empty_race *er = arg;

	for (uint32_t i = 0; i < er->iters; i++) {
		spin_until(&er->round, i + 1);
		__atomic_fetch_add(&er->ready, 1, __ATOMIC_ACQ_REL);
		spin_until(&er->ready, 2);
		if (runqempty(er->pp))
			er->wrong++;
		__atomic_store_n(&er->done, i + 1, __ATOMIC_RELEASE);
	}
}

KTEST_TIMEOUT(runq_empty_never_wrongly_empty, 120)
{
	static struct g gs[2];
	static struct empty_race er;
	uint32_t alive = 1;
	bool inherit;

	er = (struct empty_race){ .pp = bare_p(), .iters = 20000 };
	KT_ASSERT(er.pp);
	struct kthread *t = kthread_create("empty-check", empty_checker, &er,
					   NULL, 16384, ncpu > 1 ? 1 : 0);
	KT_ASSERT(t);
	for (uint32_t i = 0; i < er.iters; i++) {
		bool next0 = (i & 1) == 0, next1 = (i & 2) == 0;
		__atomic_store_n(&er.ready, 0, __ATOMIC_RELEASE);
		runqput(er.pp, &gs[0], next0);
		__atomic_store_n(&er.round, i + 1, __ATOMIC_RELEASE);
		__atomic_fetch_add(&er.ready, 1, __ATOMIC_ACQ_REL);
		spin_until(&er.ready, 2);
		runqput(er.pp, &gs[1], next1);
		runqget(er.pp, &inherit);
		spin_until(&er.done, i + 1);
		runqget(er.pp, &inherit);
	}
	(void)alive;
	KT_EQ(er.wrong, 0);
	KT_ASSERT(runqempty(er.pp));
	/* The checker has finished its last round; let it exit first. */
	kthread_yield();
	page_free(er.pp, 1);
}

KTEST(runq_steal_order_visits_every_p_once)
{
	static struct randomOrder ord;

	for (uint32_t procs = 1; procs <= 64; procs++) {
		randomOrder_reset(&ord, procs);
		KT_ASSERTF(procs < 3 || ord.ncoprimes >= 2,
			   "%u Ps: only %u coprimes", procs, ord.ncoprimes);
		for (uint32_t i = 0; i < procs * ord.ncoprimes * 2; i++) {
			uint64_t seen = 0;
			uint32_t n = 0;
			for (struct randomEnum e = randomOrder_start(&ord, i);
			     !randomEnum_done(&e); randomEnum_next(&e)) {
				KT_ASSERTF(!(seen >> e.pos & 1),
					   "%u Ps, start %u: P%u twice", procs,
					   i, e.pos);
				seen |= 1ull << e.pos;
				n++;
			}
			KT_ASSERTF(n == procs && (procs == 64 ? seen == ~0ull
					   : seen == (1ull << procs) - 1),
				   "%u Ps, start %u: visited %u", procs, i, n);
		}
	}
}
