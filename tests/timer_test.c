/*
 * tests/timer_test.c - runtime timers: never early, in deadline order,
 * ten thousand sleepers all wake; an idle M sleeps until the next timer.
 */
#include "kernel/ktest.h"
#include "kernel/cpu.h"
#include "sched/proc.h"
#include "sched/timers.h"
#include "tests/go_helpers.h"

#define MS 1000000l

/*
 * White-box: timers on one P's heap are taken in deadline order.  Each
 * callback runs without the heap's lock (as Go's runOneTimer), so when
 * the P's own M and a thief's run the heap at once their callbacks may
 * interleave: the order holds per M, which is what is checked.
 */
struct tlog {
	int order[200];
	int n;				/* atomic */
	int64_t when[200];
	int64_t fired[200];
	int64_t passed[200];		/* the deadline f was given */
	int64_t byM[200];		/* id of the M that ran it */
};

static struct tlog tl;

static void log_fire(void *arg, int64_t when)
{
	int i = (int)(uint64_t)arg;

	tl.fired[i] = go_nanotime();
	tl.passed[i] = when;
	tl.byM[i] = getg()->m->id;	/* runtime code calls this: on g0 */
	tl.order[__atomic_fetch_add(&tl.n, 1, __ATOMIC_RELAXED)] = i;
}

RTEST(timers_fire_in_deadline_order_never_early)
{
	static struct rtimer t[200];
	uint64_t x = 12345;

	memset(&tl, 0, sizeof(tl));
	struct m *mp = acquirem();	/* stay on this P while adding */
	int64_t now = go_nanotime();
	for (int i = 0; i < 200; i++) {
		x = x * 6364136223846793005ull + 1;
		tl.when[i] = now + 2 * MS + (int64_t)(x >> 33) % (40 * MS);
		t[i] = (struct rtimer){ 0 };
		timer_add(&t[i], tl.when[i], log_fire, (void *)(uint64_t)i);
	}
	releasem(mp);
	for (int64_t end = now + 5000 * MS; tl.n < 200 && go_nanotime() < end;)
		go_sleep(MS);
	KT_EQ(tl.n, 200);
	for (int k = 0; k < 200; k++) {
		int i = tl.order[k];
		KT_ASSERTF(tl.fired[i] >= tl.when[i], "timer %d fired %ld ns early",
			   i, tl.when[i] - tl.fired[i]);
		KT_EQ(tl.passed[i], tl.when[i]);
		for (int k2 = k - 1; k2 >= 0; k2--) {
			int j = tl.order[k2];	/* the same M's previous one */
			if (tl.byM[j] != tl.byM[i])
				continue;
			KT_ASSERTF(tl.when[j] <= tl.when[i],
				   "M%ld ran timer %d (at +%ld us) before %d (+%ld us)",
				   tl.byM[i], j, (tl.when[j] - now) / 1000, i,
				   (tl.when[i] - now) / 1000);
			break;
		}
	}
	/*
	 * A deleted timer never fires.  Its deadline is far enough off that
	 * a stalled vCPU (seen: more than 2 ms) cannot let a thief run it
	 * before the delete; the result is checked once the M is released
	 * (a failed assertion returns, and must not leave m->locks raised).
	 */
	static struct rtimer gone;
	gone = (struct rtimer){ 0 };
	tl.n = 0;
	mp = acquirem();
	timer_add(&gone, go_nanotime() + 100 * MS, log_fire, (void *)0);
	bool deleted = timer_del(&gone);
	releasem(mp);
	KT_ASSERT(deleted);
	go_sleep(150 * MS);
	KT_EQ(tl.n, 0);
	KT_ASSERT(!timer_del(&gone));
}

#define SLEEPERS 10000
struct sleepers {
	int64_t asked[SLEEPERS];
	int64_t slept[SLEEPERS];
	go_waitgroup wg;
};

static struct sleepers *sl;

static void sleeper(void *arg)
{
	int i = (int)(uint64_t)arg;
	int64_t t0 = go_nanotime();

	go_sleep(sl->asked[i]);
	sl->slept[i] = go_nanotime() - t0;
	go_waitgroup_done(&sl->wg);
}

RTEST_TIMEOUT(timers_10000_sleepers_all_wake, 300)
{
	static struct sleepers s;
	int64_t worst = 0;

	memset(&s, 0, sizeof(s));
	sl = &s;
	go_waitgroup_add(&s.wg, SLEEPERS);
	for (int i = 0; i < SLEEPERS; i++) {
		s.asked[i] = MS + (i * 7919) % (100 * MS);
		go_spawn(sleeper, (void *)(uint64_t)i);
	}
	go_waitgroup_wait(&s.wg);
	for (int i = 0; i < SLEEPERS; i++) {
		KT_ASSERTF(s.slept[i] >= s.asked[i], "sleeper %d woke %ld ns early",
			   i, s.asked[i] - s.slept[i]);
		int64_t late = s.slept[i] - s.asked[i];
		worst = late > worst ? late : worst;
	}
	kprintf("# %d sleepers, worst lateness %ld us\n", SLEEPERS, worst / 1000);
}

/*
 * An idle program waits for its next timer in the kernel: the M that
 * waits sleeps (kwait with a deadline), every CPU halts.  White-box: the
 * kernel's idle time over the sleep.
 */
RTEST(timers_idle_m_sleeps_until_next_timer)
{
	uint64_t idle0 = 0, idle1 = 0;

	go_sleep(5 * MS);		/* settle */
	for (uint32_t i = 0; i < ncpu; i++)
		idle0 += cpus[i].stat.idle_ns;
	int64_t t0 = go_nanotime();
	go_sleep(100 * MS);
	int64_t slept = go_nanotime() - t0;
	for (uint32_t i = 0; i < ncpu; i++)
		idle1 += cpus[i].stat.idle_ns;
	uint64_t pct = (idle1 - idle0) * 100 / ((uint64_t)slept * ncpu);
	kprintf("# slept %ld ms; the CPUs were halted %lu%% of it\n",
		slept / MS, pct);
	KT_CMP(slept, >=, 100 * MS);
	KT_CMP(slept, <, 2000 * MS);
	KT_CMP(pct, >=, 50);		/* nobody busy-waited for the timer */
}

/*
 * The fast paths of gosched and gopark stay off g0 while a timer is
 * pending but not due; once it is due they must go to g0, where it runs.
 * With every P busy yielding there is no idle P for sysmon to start an M
 * on: if the fast paths missed a due timer, main's sleep would never end
 * (the test would time out).
 */
struct yloop {
	uint32_t stop;			/* atomic */
	uint32_t running;		/* atomic */
	uint64_t rounds;		/* atomic */
};

static void yield_loop(void *arg)
{
	struct yloop *y = arg;
	uint64_t n = 0;

	__atomic_fetch_add(&y->running, 1, __ATOMIC_RELEASE);
	while (!__atomic_load_n(&y->stop, __ATOMIC_ACQUIRE)) {
		go_sched();
		n++;
	}
	__atomic_fetch_add(&y->rounds, n, __ATOMIC_RELAXED);
	__atomic_fetch_sub(&y->running, 1, __ATOMIC_RELEASE);
}

RTEST_TIMEOUT(timers_fire_while_every_p_yields, 120)
{
	static struct yloop y;
	uint32_t n = 2 * (uint32_t)go_gomaxprocs();
	int64_t worst = 0;

	y = (struct yloop){ 0 };
	for (uint32_t i = 0; i < n; i++)
		go_spawn(yield_loop, &y);
	while (__atomic_load_n(&y.running, __ATOMIC_ACQUIRE) < n)
		go_sched();
	for (int i = 0; i < 20; i++) {
		int64_t t0 = go_nanotime();
		go_sleep(MS);
		int64_t d = go_nanotime() - t0 - MS;
		worst = d > worst ? d : worst;
	}
	__atomic_store_n(&y.stop, 1, __ATOMIC_RELEASE);
	while (__atomic_load_n(&y.running, __ATOMIC_ACQUIRE))
		go_sleep(MS);
	kprintf("# %u yielders, %lu yields; worst lateness of main's 1 ms "
		"sleeps %ld us\n", n, y.rounds, worst / 1000);
	KT_CMP(worst, <, 1000 * MS);
}

/*
 * White-box: timer_del_sync waits for a firing still running even when
 * it found the timer queued again (a Reset while an earlier firing was
 * off the heap), so the timer may then be freed.  The running firing is
 * played by a goroutine holding t.running up for 20 ms.
 */
static struct rtimer ds_t;
static int64_t ds_released;	/* when the "firing" ended; atomic */

static void ds_firing(void *a)
{
	go_sleep(20 * MS);
	__atomic_store_n(&ds_released, go_nanotime(), __ATOMIC_RELEASE);
	__atomic_sub_fetch(&ds_t.running, 1, __ATOMIC_RELEASE);
}

RTEST(timers_del_sync_waits_for_a_running_firing)
{
	ds_t = (struct rtimer){ 0 };
	ds_released = 0;
	tl.n = 0;
	timer_add(&ds_t, go_nanotime() + 5000 * MS, log_fire, (void *)0);
	__atomic_add_fetch(&ds_t.running, 1, __ATOMIC_SEQ_CST);
	go_spawn(ds_firing, NULL);
	bool queued = timer_del_sync(&ds_t);
	int64_t released = __atomic_load_n(&ds_released, __ATOMIC_ACQUIRE);
	KT_ASSERT(queued);
	KT_ASSERTF(released != 0, "timer_del_sync returned while a firing ran");
	KT_EQ(__atomic_load_n(&ds_t.running, __ATOMIC_ACQUIRE), 0);
	KT_EQ(tl.n, 0);
}
