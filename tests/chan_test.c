/*
 * tests/chan_test.c - channels, select and timer channels seen from
 * programs (include/rt0/chan.h): Go's runtime/chan_test.go and the select
 * tests of test/chan (select3, select6, doubleselect), rewritten in C on
 * include/rt0.h, plus what C adds (elements of any size copied by value,
 * freeing) and the timer channels.
 *
 * Every test here:
 *  - runs in goroutine 1, one after the other; it waits (go_waitgroup)
 *    for every goroutine it starts, then frees every channel and timer it
 *    made, and at the end checks that the goroutine count is back where
 *    it started;
 *  - frees a channel only once no goroutine can still be inside a call on
 *    it, i.e. after waiting for all its users: never right after a
 *    receive, as the sender may still be on its way out of go_chan_send;
 *  - keeps state and buffers static (goroutine stacks are 16 KiB);
 *  - checks with CHECKF (record, go on) while goroutines it must wait for
 *    still run, so that a failure still waits for them and cleans up; a
 *    loop that feeds a goroutine never stops early on a bad value (its
 *    partner would block forever); KT_ASSERT and friends come once all
 *    have stopped;
 *  - checks "it blocks" as Go does: the goroutine is given a millisecond
 *    or more and must not have returned.  Such a check cannot fail on a
 *    correct runtime; on a slow host it may only miss a bug.  Where the
 *    order of parking matters (the FIFO tests of waiting goroutines),
 *    the test waits until the goroutine is on the channel's queue, with
 *    the runtime's test hook chan_nwait (white-box, as Go's
 *    export_test.go).
 */
#include "kernel/ktest.h"
#include "include/rt0.h"
#include "sched/chan.h"		/* chan_nwait */

#define US 1000l
#define MS 1000000l
#define SEC 1000000000l

/* CHECKF - record a failure without returning (other goroutines, or main
 * while goroutines it must wait for still run). */
#define CHECKF(c, ...)							\
	do {								\
		if (!(c))						\
			ktest_fail(__FILE__, __LINE__, __VA_ARGS__);	\
	} while (0)

#define LOAD(x) __atomic_load_n(&(x), __ATOMIC_ACQUIRE)
#define STORE(x, v) __atomic_store_n(&(x), (v), __ATOMIC_RELEASE)
#define ADD(x, v) __atomic_fetch_add(&(x), (v), __ATOMIC_ACQ_REL)

/* wg_go - start fn(arg) as a goroutine counted in @wg (it calls
 * go_waitgroup_done(wg) last). */
static void wg_go(go_waitgroup *wg, void (*fn)(void *), void *arg)
{
	go_waitgroup_add(wg, 1);
	go_spawn(fn, arg);
}

#define ARG(i) ((void *)(uintptr_t)(i))
#define IARG(a) ((int)(uintptr_t)(a))

static uint64_t rnd(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

/*
 * ---- TestChan: every capacity 0..TC_CAPS-1 ----
 *
 * For each capacity: a receive on an empty channel blocks (and its
 * non-blocking forms fail); a send on a full one blocks (likewise), and
 * the blocked sender's value comes after the buffer's (FIFO); a closed
 * channel gives its buffer, then zero/false, to recv, tryrecv and select;
 * close wakes a blocked receiver with zero/false; one sender's values
 * arrive in order; TC_P senders and TC_P receivers lose or duplicate
 * nothing; len and cap.
 */
#define TC_CAPS 20
#define TC_P 4		/* senders and receivers in the crowd part */
#define TC_L 500	/* values each crowd sender sends */

static struct {
	go_chan *c, *done;
	go_waitgroup wg;
	uint32_t recv1, recv2, sent;
	int64_t got1;
	int32_t seen[TC_P][TC_L];	/* receiver r got value v n times */
} tc;

static void tc_recv_value(void *a)
{
	int64_t v = -1;
	bool ok = go_chan_recv(tc.c, &v);

	tc.got1 = ok ? v : -2;
	STORE(tc.recv1, 1);
	go_waitgroup_done(&tc.wg);
}

static void tc_recv_discard(void *a)
{
	bool ok = go_chan_recv(tc.c, NULL);

	CHECKF(ok, "recv into NULL: false on an open channel");
	STORE(tc.recv2, 1);
	go_waitgroup_done(&tc.wg);
}

static void tc_empty_blocks(int cap)
{
	struct go_select_case cs[1];
	int64_t v = -1, x;
	bool ok = true;

	tc.c = go_chan_make(sizeof(int64_t), cap);
	tc.recv1 = tc.recv2 = 0;
	tc.got1 = -3;
	wg_go(&tc.wg, tc_recv_value, NULL);
	wg_go(&tc.wg, tc_recv_discard, NULL);
	go_sleep(MS);
	CHECKF(!LOAD(tc.recv1) && !LOAD(tc.recv2),
	       "chan[%d]: receive from empty chan returned", cap);
	CHECKF(!go_chan_tryrecv(tc.c, &v, &ok),
	       "chan[%d]: tryrecv from empty chan succeeded", cap);
	CHECKF(v == -1, "chan[%d]: a failed tryrecv wrote %ld", cap, v);
	cs[0] = GO_RECV(tc.c, &v);
	CHECKF(go_select(cs, 1, false) == -1,
	       "chan[%d]: non-blocking select received from empty chan", cap);
	x = 11;
	go_chan_send(tc.c, &x);
	x = 22;
	go_chan_send(tc.c, &x);
	go_waitgroup_wait(&tc.wg);
	CHECKF(tc.got1 == 11 || tc.got1 == 22,
	       "chan[%d]: receiver got %ld, not a value sent", cap, tc.got1);
	CHECKF(go_chan_len(tc.c) == 0, "chan[%d]: len %d after both taken",
	       cap, go_chan_len(tc.c));
	go_chan_free(tc.c);
}

static void tc_send_late(void *a)
{
	int64_t v = 1000;

	go_chan_send(tc.c, &v);
	STORE(tc.sent, 1);
	go_waitgroup_done(&tc.wg);
}

static void tc_full_blocks(int cap)
{
	struct go_select_case cs[1];
	int64_t v;
	bool ok, bad = false;

	tc.c = go_chan_make(sizeof(int64_t), cap);
	for (int64_t i = 0; i < cap; i++)
		CHECKF(go_chan_trysend(tc.c, &i),
		       "chan[%d]: trysend %ld into a non-full chan failed", cap,
		       i);
	CHECKF(go_chan_len(tc.c) == cap, "chan[%d]: len %d when full", cap,
	       go_chan_len(tc.c));
	tc.sent = 0;
	wg_go(&tc.wg, tc_send_late, NULL);
	go_sleep(MS);
	CHECKF(!LOAD(tc.sent), "chan[%d]: send to full chan returned", cap);
	v = 2000;
	CHECKF(!go_chan_trysend(tc.c, &v),
	       "chan[%d]: trysend to full chan succeeded", cap);
	cs[0] = GO_SEND(tc.c, &v);
	CHECKF(go_select(cs, 1, false) == -1,
	       "chan[%d]: non-blocking select sent to full chan", cap);
	/* The buffer in order, then the blocked sender's value. */
	for (int64_t i = 0; i <= cap; i++) {
		int64_t want = i < cap ? i : 1000;

		v = -1;
		ok = go_chan_recv(tc.c, &v);
		if (!bad && (!ok || v != want)) {
			bad = true;
			CHECKF(false, "chan[%d]: received %ld/%d, expected %ld",
			       cap, v, ok, want);
		}
	}
	go_waitgroup_wait(&tc.wg);
	CHECKF(go_chan_len(tc.c) == 0, "chan[%d]: len %d when drained", cap,
	       go_chan_len(tc.c));
	go_chan_free(tc.c);
}

static void tc_closed(int cap)
{
	struct go_select_case cs[2];
	go_chan *c = go_chan_make(sizeof(int64_t), cap);
	int64_t v;
	bool ok;

	for (int64_t i = 0; i < cap; i++)
		go_chan_send(c, &i);
	go_chan_close(c);
	CHECKF(go_chan_len(c) == cap && go_chan_cap(c) == cap,
	       "chan[%d]: closed: len/cap %d/%d", cap, go_chan_len(c),
	       go_chan_cap(c));
	for (int64_t i = 0; i < cap; i++) {
		v = -1;
		ok = go_chan_recv(c, &v);
		CHECKF(ok && v == i, "chan[%d]: closed: received %ld/%d, "
		       "expected %ld/1", cap, v, ok, i);
	}
	v = -1;
	ok = go_chan_recv(c, &v);
	CHECKF(!ok && v == 0, "chan[%d]: drained closed chan gave %ld/%d, "
	       "expected 0/0", cap, v, ok);
	v = -1;
	ok = true;
	CHECKF(go_chan_tryrecv(c, &v, &ok) && !ok && v == 0,
	       "chan[%d]: tryrecv on closed chan: %ld/%d", cap, v, ok);
	v = -1;
	CHECKF(go_chan_tryrecv(c, &v, NULL) && v == 0,
	       "chan[%d]: tryrecv on closed chan, ok NULL: %ld", cap, v);
	for (int block = 0; block < 2; block++) {
		v = -1;
		cs[0] = GO_RECV(NULL, &v);
		cs[1] = GO_RECV(c, &v);
		cs[1].ok = true;
		int idx = go_select(cs, 2, block);
		CHECKF(idx == 1 && !cs[1].ok && v == 0,
		       "chan[%d]: select (block %d) on closed chan: case %d, "
		       "%ld/%d", cap, block, idx, v, cs[1].ok);
	}
	CHECKF(go_chan_len(c) == 0, "chan[%d]: closed, drained: len %d", cap,
	       go_chan_len(c));
	go_chan_free(c);
}

static void tc_recv_until_close(void *a)
{
	int64_t v = -1, r;
	bool ok = go_chan_recv(tc.c, &v);

	r = v == 0 && !ok;
	go_chan_send(tc.done, &r);
	go_waitgroup_done(&tc.wg);
}

static void tc_close_wakes(int cap)
{
	int64_t r = -1;
	bool ok;

	tc.c = go_chan_make(sizeof(int64_t), cap);
	tc.done = go_chan_make(sizeof(int64_t), 0);
	wg_go(&tc.wg, tc_recv_until_close, NULL);
	go_sleep(MS);
	CHECKF(!go_chan_tryrecv(tc.done, &r, NULL),
	       "chan[%d]: receiver returned before close", cap);
	go_chan_close(tc.c);
	r = -1;
	ok = go_chan_recv(tc.done, &r);
	CHECKF(ok && r == 1,
	       "chan[%d]: receive woken by close did not get 0/false", cap);
	go_waitgroup_wait(&tc.wg);
	go_chan_free(tc.c);
	go_chan_free(tc.done);
}

static void tc_send100(void *a)
{
	for (int64_t i = 0; i < 100; i++)
		go_chan_send(tc.c, &i);
	go_waitgroup_done(&tc.wg);
}

static void tc_send_crowd(void *a)
{
	for (int64_t i = 0; i < TC_L; i++)
		go_chan_send(tc.c, &i);
	go_waitgroup_done(&tc.wg);
}

static void tc_recv_crowd(void *a)
{
	int64_t id = IARG(a), v;

	for (int i = 0; i < TC_L; i++) {
		v = -1;
		bool ok = go_chan_recv(tc.c, &v);
		if (!ok || v < 0 || v >= TC_L) {
			CHECKF(false, "crowd receiver got %ld/%d", v, ok);
			continue;
		}
		tc.seen[id][v]++;
	}
	go_chan_send(tc.done, &id);
	go_waitgroup_done(&tc.wg);
}

static void tc_fifo(int cap)
{
	int64_t v;
	bool ok, bad = false;
	uint32_t from = 0;

	tc.c = go_chan_make(sizeof(int64_t), cap);
	tc.done = go_chan_make(sizeof(int64_t), 0);
	wg_go(&tc.wg, tc_send100, NULL);
	for (int64_t i = 0; i < 100; i++) {
		v = -1;
		go_chan_recv(tc.c, &v);
		if (!bad && v != i) {
			bad = true;
			CHECKF(false, "chan[%d]: received %ld, expected %ld",
			       cap, v, i);
		}
	}
	wg_go(&tc.wg, tc_send100, NULL);
	for (int64_t i = 0; i < 100; i++) {
		v = -1;
		ok = go_chan_recv(tc.c, &v);
		if (!bad && (!ok || v != i)) {
			bad = true;
			CHECKF(false, "chan[%d]: received %ld/%d, expected "
			       "%ld/1", cap, v, ok, i);
		}
	}
	memset(tc.seen, 0, sizeof(tc.seen));
	for (int p = 0; p < TC_P; p++)
		wg_go(&tc.wg, tc_send_crowd, NULL);
	for (int p = 0; p < TC_P; p++)
		wg_go(&tc.wg, tc_recv_crowd, ARG(p));
	for (int p = 0; p < TC_P; p++) {
		v = -1;
		go_chan_recv(tc.done, &v);
		if (v >= 0 && v < TC_P)
			from |= 1u << v;
	}
	go_waitgroup_wait(&tc.wg);
	CHECKF(from == (1u << TC_P) - 1,
	       "chan[%d]: done from receivers 0x%x", cap, from);
	for (int x = 0; x < TC_L; x++) {
		int n = 0;

		for (int r = 0; r < TC_P; r++)
			n += tc.seen[r][x];
		if (n != TC_P) {
			CHECKF(false, "chan[%d]: value %d received %d times, "
			       "expected %d", cap, x, n, TC_P);
			break;
		}
	}
	go_chan_free(tc.c);
	go_chan_free(tc.done);
}

static void tc_len_cap(int cap)
{
	go_chan *c = go_chan_make(sizeof(int64_t), cap);
	int64_t v;
	bool ok;

	CHECKF(go_chan_len(c) == 0 && go_chan_cap(c) == cap,
	       "chan[%d]: bad len/cap, expect 0/%d, got %d/%d", cap, cap,
	       go_chan_len(c), go_chan_cap(c));
	for (int64_t i = 0; i < cap; i++) {
		go_chan_send(c, &i);
		CHECKF(go_chan_len(c) == i + 1, "chan[%d]: len %d after %ld "
		       "sends", cap, go_chan_len(c), i + 1);
	}
	CHECKF(go_chan_len(c) == cap && go_chan_cap(c) == cap,
	       "chan[%d]: bad len/cap, expect %d/%d, got %d/%d", cap, cap, cap,
	       go_chan_len(c), go_chan_cap(c));
	v = 99;
	CHECKF(!go_chan_trysend(c, &v), "chan[%d]: trysend to full chan "
	       "succeeded", cap);
	if (cap > 0) {
		v = -1;
		ok = false;
		CHECKF(go_chan_tryrecv(c, &v, &ok) && ok && v == 0,
		       "chan[%d]: tryrecv from full chan: %ld/%d", cap, v, ok);
		CHECKF(go_chan_len(c) == cap - 1, "chan[%d]: len %d after one "
		       "taken", cap, go_chan_len(c));
		v = 99;
		CHECKF(go_chan_trysend(c, &v), "chan[%d]: trysend with room "
		       "failed", cap);
		CHECKF(go_chan_len(c) == cap, "chan[%d]: len %d refilled", cap,
		       go_chan_len(c));
	}
	go_chan_free(c);		/* with values still buffered */
}

RTEST_TIMEOUT(chan_test_chan, 120)
{

	for (int cap = 0; cap < TC_CAPS; cap++) {
		tc_empty_blocks(cap);
		tc_full_blocks(cap);
		tc_closed(cap);
		tc_close_wakes(cap);
		tc_fifo(cap);
		tc_len_cap(cap);
		if (ktest_failed())
			return;
	}
}

/*
 * ---- TestNonblockRecvRace, TestNonblockSelectRace(2) ----
 *
 * A channel of capacity 1 holds a value and is closed while a goroutine
 * tries a non-blocking receive and main a blocking one: the non-blocking
 * one must succeed (the channel is ready all along), and the value goes
 * to exactly one of them.  Then a non-blocking select on two channels, of
 * which at least one is ready at every moment, must never take default.
 */
#define NB_ROUNDS 1000

static struct {
	go_chan *c1, *c2, *done;
	go_waitgroup wg;
	bool got, ok;
	int64_t v;
} nb;

static void nb_tryrecv(void *a)
{
	int64_t v = -1;
	bool ok = false;

	nb.got = go_chan_tryrecv(nb.c1, &v, &ok);
	nb.ok = ok;
	nb.v = v;
	go_waitgroup_done(&nb.wg);
}

RTEST(chan_nonblock_recv_race)
{

	for (int i = 0; i < NB_ROUNDS && !ktest_failed(); i++) {
		int64_t one = 1, v = -1;

		nb.c1 = go_chan_make(sizeof(int64_t), 1);
		go_chan_send(nb.c1, &one);
		wg_go(&nb.wg, nb_tryrecv, NULL);
		go_chan_close(nb.c1);
		bool ok = go_chan_recv(nb.c1, &v);
		go_waitgroup_wait(&nb.wg);
		go_chan_free(nb.c1);
		CHECKF(nb.got, "round %d: tryrecv on a closed chan holding a "
		       "value failed", i);
		CHECKF(ok != nb.ok, "round %d: the value was received %s", i,
		       ok ? "twice" : "by nobody");
		CHECKF(ok ? v == 1 && nb.v == 0 : v == 0 && nb.v == 1,
		       "round %d: values %ld (main), %ld (tryrecv)", i, v, nb.v);
	}
}

static void nb_select(void *a)
{
	int64_t x, y, idx;
	struct go_select_case cs[2] = {
		GO_RECV(nb.c1, &x), GO_RECV(nb.c2, &y),
	};

	idx = go_select(cs, 2, false);
	go_chan_send(nb.done, &idx);
	go_waitgroup_done(&nb.wg);
}

static void nb_select_race(bool close2)
{
	int64_t one = 1, idx, v;

	nb.done = go_chan_make(sizeof(int64_t), 1);
	for (int i = 0; i < NB_ROUNDS && !ktest_failed(); i++) {
		nb.c1 = go_chan_make(sizeof(int64_t), 1);
		nb.c2 = go_chan_make(sizeof(int64_t), close2 ? 0 : 1);
		go_chan_send(nb.c1, &one);
		wg_go(&nb.wg, nb_select, NULL);
		if (close2)
			go_chan_close(nb.c2);
		else
			go_chan_send(nb.c2, &one);
		go_chan_tryrecv(nb.c1, &v, NULL);
		idx = -2;
		go_chan_recv(nb.done, &idx);
		go_waitgroup_wait(&nb.wg);
		go_chan_free(nb.c1);
		go_chan_free(nb.c2);
		CHECKF(idx == 0 || idx == 1, "round %d (%s): non-blocking "
		       "select with a ready case returned %ld", i,
		       close2 ? "close" : "send", idx);
	}
	go_chan_free(nb.done);
}

RTEST(select_nonblock_race)
{

	nb_select_race(false);
	nb_select_race(true);
}

/*
 * ---- TestSelectFairness ----
 *
 * One select of 8 cases, 4 of them always ready: receives from two
 * buffered channels kept full and sends to two kept empty; the others
 * never are (an unbuffered channel without partner each way, a NULL
 * channel each way).  Over N selects each ready case must be chosen
 * N/4 +- D times; both blocking and non-blocking selects are measured.
 *
 * The bound: with a uniform choice each count X is Binomial(N, 1/4).
 * Hoeffding's inequality gives P(|X - N/4| >= D) <= 2 exp(-2 D^2 / N);
 * for N = 12000, D = 400 that is 2 e^-26.7 = 5e-12, so less than 1e-10
 * for the 8 counts of a run: a correct select never fails this.  The
 * standard deviation is sqrt(N 3/16) = 47, so D is 8.4 sigma; a choice
 * that favours one case by 3.4 points (28.4% instead of 25%) fails.
 * The unready cases lead, so the classic bug "random start, then the
 * first ready case scanning forward" gives case 3 a half share and fails.
 */
#define SF_N 12000
#define SF_DEV 400

RTEST_TIMEOUT(select_fairness, 120)
{
	static go_chan *r[2], *s[2], *u[2];
	static struct go_select_case cs[8];
	static uint8_t in[8], out[8];
	static int64_t cnt[2][4];
	/* which ready case each case index is (-1: never ready) */
	static const int ready[8] = { -1, -1, -1, 0, 1, 2, -1, 3 };
	uint8_t x;

	for (int k = 0; k < 2; k++) {
		r[k] = go_chan_make(1, 1);
		x = (uint8_t)(10 + k);
		go_chan_send(r[k], &x);
		s[k] = go_chan_make(1, 1);
		u[k] = go_chan_make(1, 0);
	}
	memset(cnt, 0, sizeof(cnt));
	for (int i = 0; i < 8; i++)
		out[i] = (uint8_t)(20 + i);
	for (int phase = 0; phase < 2 && !ktest_failed(); phase++) {
		for (int i = 0; i < SF_N; i++) {
			cs[0] = GO_RECV(u[0], &in[0]);
			cs[1] = GO_SEND(u[1], &out[1]);
			cs[2] = GO_RECV(NULL, &in[2]);
			cs[3] = GO_RECV(r[0], &in[3]);
			cs[4] = GO_SEND(s[0], &out[4]);
			cs[5] = GO_RECV(r[1], &in[5]);
			cs[6] = GO_SEND(NULL, &out[6]);
			cs[7] = GO_SEND(s[1], &out[7]);
			int idx = go_select(cs, 8, phase == 0);
			int w = idx >= 0 && idx < 8 ? ready[idx] : -1;
			if (w < 0) {
				CHECKF(false, "select (block %d) chose case %d, "
				       "never ready", phase == 0, idx);
				break;
			}
			cnt[phase][w]++;
			/* Check what moved and put the case back as it was. */
			if (idx == 3 || idx == 5) {
				int k = idx == 3 ? 0 : 1;
				CHECKF(cs[idx].ok && in[idx] == 10 + k,
				       "case %d received %u/%d", idx, in[idx],
				       cs[idx].ok);
				x = (uint8_t)(10 + k);
				CHECKF(go_chan_trysend(r[k], &x),
				       "refill of case %d failed", idx);
			} else {
				int k = idx == 4 ? 0 : 1;
				x = 0;
				CHECKF(go_chan_tryrecv(s[k], &x, NULL) &&
				       x == out[idx], "case %d sent %u, "
				       "expected %u", idx, x, out[idx]);
			}
			if (ktest_failed())
				break;
		}
	}
	for (int k = 0; k < 2; k++) {
		go_chan_free(r[k]);
		go_chan_free(s[k]);
		go_chan_free(u[k]);
	}
	if (ktest_failed())
		return;
	kprintf("# select_fairness: blocking %ld %ld %ld %ld, "
		"non-blocking %ld %ld %ld %ld (of %d)\n", cnt[0][0],
		cnt[0][1], cnt[0][2], cnt[0][3], cnt[1][0], cnt[1][1],
		cnt[1][2], cnt[1][3], SF_N);
	for (int phase = 0; phase < 2; phase++)
		for (int w = 0; w < 4; w++)
			KT_ASSERTF(cnt[phase][w] >= SF_N / 4 - SF_DEV &&
				   cnt[phase][w] <= SF_N / 4 + SF_DEV,
				   "select (block %d): ready case %d chosen "
				   "%ld times of %d, expected %d +- %d",
				   phase == 0, w, cnt[phase][w], SF_N,
				   SF_N / 4, SF_DEV);
}

/*
 * ---- TestPseudoRandomSend ----
 *
 * A select of two sends on the same channel, values 1 and 0, 100 times:
 * both must turn up more than 10 times (a fair choice fails this with
 * probability 2 P(Binomial(100, 1/2) <= 10) = 3e-17), and the number of
 * ones received equals the number of times case 0 was chosen.  With
 * capacity 0 main's select is mostly already blocked when the receiver
 * comes, so this checks that a blocked select is matched through its
 * cases in random order too: Go enqueues them in lock order, which is
 * built from the random poll order (in case-index order, the receiver
 * would always take case 0).
 */
static struct {
	go_chan *c;
	go_waitgroup wg;
	int64_t l[100];
} prs;

static void prs_recv(void *a)
{
	for (int i = 0; i < 100; i++) {
		go_sched();
		go_chan_recv(prs.c, &prs.l[i]);
	}
	go_waitgroup_done(&prs.wg);
}

RTEST(select_pseudo_random_send)
{
	static const int caps[2] = { 0, 100 };

	for (int ci = 0; ci < 2; ci++) {
		int n0 = 0, n1 = 0, case0 = 0, cap = caps[ci];
		int64_t one = 1, zero = 0;
		struct go_select_case cs[2];

		prs.c = go_chan_make(sizeof(int64_t), cap);
		for (int i = 0; i < 100; i++)
			prs.l[i] = -1;
		wg_go(&prs.wg, prs_recv, NULL);
		for (int i = 0; i < 100; i++) {
			cs[0] = GO_SEND(prs.c, &one);
			cs[1] = GO_SEND(prs.c, &zero);
			int idx = go_select(cs, 2, true);
			CHECKF(idx == 0 || idx == 1, "select returned %d", idx);
			case0 += idx == 0;
		}
		go_waitgroup_wait(&prs.wg);
		go_chan_free(prs.c);
		for (int i = 0; i < 100; i++) {
			KT_ASSERTF(prs.l[i] == 0 || prs.l[i] == 1,
				   "cap %d: received %ld", cap, prs.l[i]);
			n0 += prs.l[i] == 0;
			n1 += prs.l[i] == 1;
		}
		KT_ASSERTF(n0 > 10 && n1 > 10, "want pseudo-random, got %d "
			   "zeros and %d ones (chan cap %d)", n0, n1, cap);
		KT_EQ(n1, case0);
	}
}

/*
 * ---- TestSelectDuplicateChannel, and test/chan/select6 ----
 *
 * A goroutine blocked in one select on c twice and d is queued on c twice;
 * when d wakes it, both entries must leave c's queue, so that a later send
 * on c goes to the goroutine queued behind it (Go once corrupted the
 * queue here).  Only the chosen case's element is written.  Then a select
 * offering both directions on one channel, twice each, is matched from
 * the other side in each direction.  Last, select6 (Go's issue 2075): a
 * select that loses on c1 must leave c1's other waiters intact.
 */
static struct {
	go_chan *c, *d, *e;
	go_waitgroup wg;
	int64_t a[4], b;
	int idx, idx2;
	bool ok;
} dup;

static void dup_a(void *arg)
{
	struct go_select_case cs[3] = {
		GO_RECV(dup.c, &dup.a[0]), GO_RECV(dup.c, &dup.a[1]),
		GO_RECV(dup.d, &dup.a[2]),
	};
	int64_t nine = 9;

	dup.idx = go_select(cs, 3, true);
	dup.ok = dup.idx >= 0 && dup.idx < 3 && cs[dup.idx].ok;
	go_chan_send(dup.e, &nine);
	go_waitgroup_done(&dup.wg);
}

static void dup_b(void *arg)
{
	CHECKF(go_chan_recv(dup.c, &dup.b), "B: recv false on open chan");
	go_waitgroup_done(&dup.wg);
}

static void dup_both(void *arg)
{
	int64_t o0 = 100, o1 = 101;
	struct go_select_case cs[4] = {
		GO_SEND(dup.c, &o0), GO_RECV(dup.c, &dup.a[1]),
		GO_SEND(dup.c, &o1), GO_RECV(dup.c, &dup.a[3]),
	};

	dup.idx = go_select(cs, 4, true);	/* main receives */
	dup.idx2 = go_select(cs, 4, true);	/* main sends */
	dup.ok = dup.idx2 >= 0 && dup.idx2 < 4 && cs[dup.idx2].ok;
	go_waitgroup_done(&dup.wg);
}

static void i2075_recv(void *arg)
{
	int64_t v;

	go_chan_recv(dup.c, &v);		/* c1 */
	go_waitgroup_done(&dup.wg);
}

static void i2075_select(void *arg)
{
	int64_t v, w, t = 1;
	struct go_select_case cs[2] = {
		GO_RECV(dup.c, &v), GO_RECV(dup.d, &w),	/* c1, c2 */
	};
	int idx = go_select(cs, 2, true);

	CHECKF(idx == 1, "select6: took case %d; c1 had no sender yet", idx);
	go_chan_send(dup.e, &t);		/* c3 */
	go_chan_recv(dup.c, &v);
	go_waitgroup_done(&dup.wg);
}

static void i2075_send(void *arg)
{
	int64_t t = 1;

	go_chan_send(dup.d, &t);
	go_waitgroup_done(&dup.wg);
}

RTEST(select_duplicate_channel)
{
	int64_t v, seven = 7, eight = 8;

	/* Go's TestSelectDuplicateChannel. */
	dup.c = go_chan_make(sizeof(int64_t), 0);
	dup.d = go_chan_make(sizeof(int64_t), 0);
	dup.e = go_chan_make(sizeof(int64_t), 0);
	dup.a[0] = dup.a[1] = dup.a[2] = dup.b = -1;
	dup.idx = -9;
	wg_go(&dup.wg, dup_a, NULL);
	go_sleep(MS);			/* A is queued on c first */
	wg_go(&dup.wg, dup_b, NULL);
	go_sleep(MS);			/* then B */
	go_chan_send(dup.d, &seven);	/* wakes A: it leaves c's queue */
	v = -1;
	go_chan_recv(dup.e, &v);
	CHECKF(v == 9, "A sent %ld on e, expected 9", v);
	go_chan_send(dup.c, &eight);	/* must reach B */
	go_waitgroup_wait(&dup.wg);
	KT_EQ(dup.idx, 2);
	KT_ASSERT(dup.ok);
	KT_EQ(dup.a[2], 7);
	KT_ASSERTF(dup.a[0] == -1 && dup.a[1] == -1, "cases not chosen were "
		   "written: %ld %ld", dup.a[0], dup.a[1]);
	KT_EQ(dup.b, 8);

	/* Both directions on one channel, twice each. */
	for (int i = 0; i < 50 && !ktest_failed(); i++) {
		int64_t two = 200;

		dup.a[1] = dup.a[3] = -1;
		dup.idx = dup.idx2 = -9;
		wg_go(&dup.wg, dup_both, NULL);
		v = -1;
		go_chan_recv(dup.c, &v);
		go_chan_send(dup.c, &two);
		go_waitgroup_wait(&dup.wg);
		KT_ASSERTF((dup.idx == 0 && v == 100) ||
			   (dup.idx == 2 && v == 101),
			   "round %d: main received %ld, select chose case %d",
			   i, v, dup.idx);
		KT_ASSERTF(dup.idx2 == 1 || dup.idx2 == 3, "round %d: select "
			   "chose case %d for main's send", i, dup.idx2);
		KT_ASSERT(dup.ok);
		KT_ASSERTF(dup.a[dup.idx2] == 200 &&
			   dup.a[4 - dup.idx2] == -1, "round %d: received "
			   "%ld %ld", i, dup.a[1], dup.a[3]);
	}
	go_chan_free(dup.c);
	go_chan_free(dup.d);
	go_chan_free(dup.e);

	/* select6: c1 = dup.c, c2 = dup.d, c3 = dup.e. */
	for (int i = 0; i < 20 && !ktest_failed(); i++) {
		int64_t t = 1;

		dup.c = go_chan_make(sizeof(int64_t), 0);
		dup.d = go_chan_make(sizeof(int64_t), 0);
		dup.e = go_chan_make(sizeof(int64_t), 0);
		wg_go(&dup.wg, i2075_recv, NULL);
		wg_go(&dup.wg, i2075_select, NULL);
		wg_go(&dup.wg, i2075_send, NULL);
		go_chan_recv(dup.e, &v);
		go_chan_send(dup.c, &t);	/* both reach a receiver */
		go_chan_send(dup.c, &t);
		go_waitgroup_wait(&dup.wg);
		go_chan_free(dup.c);
		go_chan_free(dup.d);
		go_chan_free(dup.e);
	}
}

/*
 * ---- TestSelectStress ----
 *
 * Four channels (capacity 0, 0, 2, 3).  On each, one goroutine sends
 * SS_N values and one receives SS_N; one goroutine sends SS_N on each in
 * a single select (dropping a channel from it, as NULL, once done with
 * it), one receives SS_N from each likewise.  Values carry their sender
 * (plain or select) and sequence number: every receiver sees each
 * sender's values on a channel in increasing order, and per channel the
 * sum received equals the sum sent.
 */
#define SS_N 5000
#define SS_SRC(v) ((v) >> 24)
#define SS_SEQ(v) ((v) & 0xffffff)

static struct {
	go_chan *c[4];
	go_waitgroup wg;
	int64_t sum[4];			/* received; atomic */
} ss;

/* ss_take - check value @v received on channel @k against the last ones
 * (per source) of this receiver, and count it. */
static void ss_take(int k, int64_t v, bool ok, int64_t last[2], int64_t *sum)
{
	int64_t src = SS_SRC(v), seq = SS_SEQ(v);

	if (!ok || src < 0 || src > 1 || seq >= SS_N) {
		CHECKF(false, "chan %d: received %ld/%d", k, v, ok);
		return;
	}
	CHECKF(seq > last[src], "chan %d: from source %ld, %ld after %ld",
	       k, src, seq, last[src]);
	last[src] = seq;
	*sum += v;
}

static void ss_send(void *a)
{
	int k = IARG(a);

	for (int64_t i = 0; i < SS_N; i++)
		go_chan_send(ss.c[k], &i);
	go_waitgroup_done(&ss.wg);
}

static void ss_recv(void *a)
{
	int k = IARG(a);
	int64_t last[2] = { -1, -1 }, sum = 0, v;

	for (int i = 0; i < SS_N; i++) {
		v = -1;
		bool ok = go_chan_recv(ss.c[k], &v);
		ss_take(k, v, ok, last, &sum);
	}
	ADD(ss.sum[k], sum);
	go_waitgroup_done(&ss.wg);
}

static void ss_select_send(void *a)
{
	static const int order[4] = { 3, 2, 0, 1 };
	struct go_select_case cs[4];
	int64_t out[4];
	int n[4] = { 0 };

	for (int j = 0; j < 4; j++) {
		out[j] = (int64_t)1 << 24;
		cs[j] = GO_SEND(ss.c[order[j]], &out[j]);
	}
	for (int i = 0; i < 4 * SS_N; i++) {
		int j = go_select(cs, 4, true);
		if (j < 0 || j >= 4) {
			CHECKF(false, "select send chose %d", j);
			continue;
		}
		out[j]++;
		if (++n[j] == SS_N)
			cs[j].c = NULL;
	}
	go_waitgroup_done(&ss.wg);
}

static void ss_select_recv(void *a)
{
	struct go_select_case cs[4];
	int64_t in[4], last[4][2], sum[4] = { 0 };
	int n[4] = { 0 };

	for (int k = 0; k < 4; k++) {
		cs[k] = GO_RECV(ss.c[k], &in[k]);
		last[k][0] = last[k][1] = -1;
	}
	for (int i = 0; i < 4 * SS_N; i++) {
		int k = go_select(cs, 4, true);
		if (k < 0 || k >= 4) {
			CHECKF(false, "select recv chose %d", k);
			continue;
		}
		ss_take(k, in[k], cs[k].ok, last[k], &sum[k]);
		if (++n[k] == SS_N)
			cs[k].c = NULL;
	}
	for (int k = 0; k < 4; k++)
		ADD(ss.sum[k], sum[k]);
	go_waitgroup_done(&ss.wg);
}

RTEST_TIMEOUT(select_stress, 120)
{
	static const int caps[4] = { 0, 0, 2, 3 };
	int64_t want = (int64_t)SS_N * (SS_N - 1) + ((int64_t)SS_N << 24);

	for (int k = 0; k < 4; k++) {
		ss.c[k] = go_chan_make(sizeof(int64_t), caps[k]);
		ss.sum[k] = 0;
	}
	for (int k = 0; k < 4; k++) {
		wg_go(&ss.wg, ss_send, ARG(k));
		wg_go(&ss.wg, ss_recv, ARG(k));
	}
	wg_go(&ss.wg, ss_select_send, NULL);
	wg_go(&ss.wg, ss_select_recv, NULL);
	go_waitgroup_wait(&ss.wg);
	for (int k = 0; k < 4; k++) {
		CHECKF(go_chan_len(ss.c[k]) == 0, "chan %d: len %d at the end",
		       k, go_chan_len(ss.c[k]));
		go_chan_free(ss.c[k]);
	}
	for (int k = 0; k < 4; k++)
		KT_ASSERTF(ss.sum[k] == want, "chan %d: received sum %ld, "
			   "sent %ld", k, ss.sum[k], want);
}

/*
 * ---- test/chan/doubleselect: one select, one case done ----
 *
 * A sender selects over four unbuffered channels to send 0..DS_N-1; four
 * goroutines forward whatever arrives on theirs into one channel; main
 * takes them all.  Were two cases of one select both done, a value would
 * arrive twice; lost, never.  Each arrives exactly once.
 */
#define DS_N 10000

static struct {
	go_chan *c[4], *mux;
	go_waitgroup wg, fwd;
	uint8_t seen[DS_N];
} ds;

static void ds_sender(void *a)
{
	struct go_select_case cs[4];
	int64_t v;

	for (int k = 0; k < 4; k++)
		cs[k] = GO_SEND(ds.c[k], &v);
	for (v = 0; v < DS_N; v++) {
		int idx = go_select(cs, 4, true);
		CHECKF(idx >= 0 && idx < 4, "select chose %d", idx);
	}
	for (int k = 0; k < 4; k++)
		go_chan_close(ds.c[k]);
	go_waitgroup_done(&ds.wg);
}

static void ds_forward(void *a)
{
	int64_t v;

	while (go_chan_recv(ds.c[IARG(a)], &v))
		go_chan_send(ds.mux, &v);
	go_waitgroup_done(&ds.fwd);
}

static void ds_closer(void *a)
{
	go_waitgroup_wait(&ds.fwd);
	go_chan_close(ds.mux);
	go_waitgroup_done(&ds.wg);
}

RTEST_TIMEOUT(select_double_select, 120)
{
	int64_t v, n = 0;

	memset(ds.seen, 0, sizeof(ds.seen));
	ds.mux = go_chan_make(sizeof(int64_t), 0);
	for (int k = 0; k < 4; k++)
		ds.c[k] = go_chan_make(sizeof(int64_t), 0);
	for (int k = 0; k < 4; k++)
		wg_go(&ds.fwd, ds_forward, ARG(k));
	wg_go(&ds.wg, ds_sender, NULL);
	wg_go(&ds.wg, ds_closer, NULL);
	while (go_chan_recv(ds.mux, &v)) {
		n++;
		if (v >= 0 && v < DS_N)
			ds.seen[v]++;
		else
			CHECKF(false, "received %ld", v);
	}
	go_waitgroup_wait(&ds.wg);
	go_chan_free(ds.mux);
	for (int k = 0; k < 4; k++)
		go_chan_free(ds.c[k]);
	KT_EQ(n, DS_N);
	for (int i = 0; i < DS_N; i++)
		KT_ASSERTF(ds.seen[i] == 1, "value %d received %u times", i,
			   ds.seen[i]);
}

/*
 * ---- TestChanSendInterface, extended: elements of any size ----
 *
 * Elements of 0 (Go's struct{}), 1, 3, 24, 100, 1 KiB, 4000 and 65535
 * bytes through channels of capacity 0, 1 and 3, by plain calls and by
 * select, in turn, with the receiver or the sender waiting first: every
 * byte arrives, nothing is written past the element, and the receive
 * that finds the channel closed zeroes exactly the element.  Then, as in
 * Go's test, selects with only failing sends to a full channel leave its
 * element intact.
 */
#define BIG_MAX 65535
#define BIG_GUARD 64

static uint8_t big_sbuf[BIG_MAX], big_rbuf[BIG_MAX + BIG_GUARD];

static struct {
	go_chan *c, *never;		/* never: elemsize 1, no partner */
	go_waitgroup wg;
	size_t size;
	int msgs;
} big;

static uint8_t big_pat(uint32_t m, uint32_t size, uint32_t j)
{
	uint32_t x = (m + 1) * 2654435761u ^ j * 40503u ^ size << 9;

	return (uint8_t)(x ^ x >> 13 ^ j >> 8);
}

static void big_sender(void *a)
{
	uint8_t dummy;

	for (int m = 0; m < big.msgs; m++) {
		for (size_t j = 0; j < big.size; j++)
			big_sbuf[j] = big_pat(m, big.size, j);
		if (m % 4 == 2)
			go_sleep(50 * US);	/* the receiver waits first */
		if (m & 1) {
			struct go_select_case cs[2] = {
				GO_RECV(big.never, &dummy),
				GO_SEND(big.c, big_sbuf),
			};
			int idx = go_select(cs, 2, true);
			CHECKF(idx == 1, "size %zu: select send chose %d",
			       big.size, idx);
		} else {
			go_chan_send(big.c, big_sbuf);
		}
	}
	go_chan_close(big.c);
	go_waitgroup_done(&big.wg);
}

/* big_check - the receive buffer holds message @m (or zeros, m < 0), and
 * the guard after it is intact. */
static bool big_check(int m, int cap)
{
	for (size_t j = 0; j < big.size; j++) {
		uint8_t want = m < 0 ? 0 : big_pat(m, big.size, j);
		if (big_rbuf[j] != want) {
			CHECKF(false, "size %zu cap %d msg %d: byte %zu is "
			       "0x%x, expected 0x%x", big.size, cap, m, j,
			       big_rbuf[j], want);
			return false;
		}
	}
	for (size_t j = big.size; j < big.size + BIG_GUARD; j++)
		if (big_rbuf[j] != 0xee) {
			CHECKF(false, "size %zu cap %d msg %d: byte %zu past "
			       "the element written", big.size, cap, m, j);
			return false;
		}
	return true;
}

static void big_run(size_t size, int cap)
{
	uint8_t dummy;
	bool ok, bad = false;

	big.size = size;
	big.msgs = size >= 4000 ? 5 : 12;
	big.c = go_chan_make(size, cap);
	CHECKF(go_chan_cap(big.c) == cap, "size %zu: cap %d, expected %d",
	       size, go_chan_cap(big.c), cap);
	wg_go(&big.wg, big_sender, NULL);
	for (int m = 0; m <= big.msgs; m++) {
		memset(big_rbuf, 0xee, size + BIG_GUARD);
		if (m % 4 == 1)
			go_sleep(50 * US);	/* the sender waits first */
		if (m % 3 == 1) {
			struct go_select_case cs[2] = {
				GO_RECV(big.never, &dummy),
				GO_RECV(big.c, big_rbuf),
			};
			int idx = go_select(cs, 2, true);
			CHECKF(idx == 1, "size %zu: select recv chose %d",
			       size, idx);
			ok = cs[1].ok;
		} else {
			ok = go_chan_recv(big.c, big_rbuf);
		}
		if (bad)
			continue;		/* drain, report only the first */
		if (ok != (m < big.msgs)) {
			CHECKF(false, "size %zu cap %d: receive %d gave %d",
			       size, cap, m, ok);
			bad = true;
		} else {
			bad = !big_check(ok ? m : -1, cap);
		}
	}
	go_waitgroup_wait(&big.wg);
	go_chan_free(big.c);
}

RTEST_TIMEOUT(chan_copies_elements_of_any_size, 120)
{
	static const size_t sizes[] = { 0, 1, 3, 24, 100, 1024, 4000, BIG_MAX };
	static const int caps[] = { 0, 1, 3 };
	struct go_select_case cs[2];

	big.never = go_chan_make(1, 0);
	for (size_t si = 0; si < ARRAY_SIZE(sizes); si++)
		for (size_t ci = 0; ci < ARRAY_SIZE(caps); ci++)
			if (!ktest_failed())
				big_run(sizes[si], caps[ci]);
	go_chan_free(big.never);
	if (ktest_failed())
		return;

	/* Go's TestChanSendInterface: sends that fail copy nothing. */
	big.size = 4000;
	big.c = go_chan_make(4000, 1);
	for (uint32_t j = 0; j < 4000; j++)
		big_sbuf[j] = big_pat(77, 4000, j);
	go_chan_send(big.c, big_sbuf);
	memset(big_rbuf, 0x5a, 4000);
	cs[0] = GO_SEND(big.c, big_rbuf);
	CHECKF(go_select(cs, 1, false) == -1, "select sent to a full chan");
	cs[1] = GO_SEND(big.c, big_sbuf + 1);
	CHECKF(go_select(cs, 2, false) == -1, "select sent to a full chan");
	CHECKF(!go_chan_trysend(big.c, big_rbuf), "trysend to a full chan");
	memset(big_rbuf, 0xee, 4000 + BIG_GUARD);
	CHECKF(go_chan_recv(big.c, big_rbuf), "recv false");
	big_check(77, 1);
	go_chan_free(big.c);
	KT_ASSERT(!ktest_failed());
}

/*
 * ---- TestMultiConsumer ----
 *
 * 2 feeders per P push the numbers 0..MC_NITER-1 into q; 3 workers per P
 * (plus 2) move them from q to r (some yield on the way to mess with the
 * order); a closer closes q when the feeders are done and r when the
 * workers are; main ranges over r.  Every number arrives exactly once.
 * Once with buffered channels, once with unbuffered ones.
 */
#define MC_NITER 20000

static const int mc_pn[10] = { 2, 3, 7, 11, 13, 17, 19, 23, 27, 31 };

static struct {
	go_chan *q, *r;
	go_waitgroup feeders, workers, closer;
	int nfeed, nwork;
	uint8_t seen[MC_NITER];
} mc;

static void mc_feeder(void *a)
{
	for (int64_t i = IARG(a); i < MC_NITER; i += mc.nfeed)
		go_chan_send(mc.q, &i);
	go_waitgroup_done(&mc.feeders);
}

static void mc_worker(void *a)
{
	int w = IARG(a);
	int64_t v;

	while (go_chan_recv(mc.q, &v)) {
		if (v % 32 == mc_pn[w % 10])
			go_sched();
		go_chan_send(mc.r, &v);
	}
	go_waitgroup_done(&mc.workers);
}

static void mc_closer(void *a)
{
	go_waitgroup_wait(&mc.feeders);
	go_chan_close(mc.q);		/* no more work */
	go_waitgroup_wait(&mc.workers);
	go_chan_close(mc.r);		/* so no more results */
	go_waitgroup_done(&mc.closer);
}

RTEST_TIMEOUT(chan_multi_consumer, 120)
{
	int procs = go_gomaxprocs();

	mc.nfeed = 2 * procs;
	mc.nwork = 3 * procs + 2;
	for (int mode = 0; mode < 2; mode++) {
		int cap = mode == 0 ? mc.nwork * 3 : 0;
		int64_t n = 0, sum = 0, v;

		memset(mc.seen, 0, sizeof(mc.seen));
		mc.q = go_chan_make(sizeof(int64_t), cap);
		mc.r = go_chan_make(sizeof(int64_t), cap);
		for (int i = 0; i < mc.nfeed; i++)
			wg_go(&mc.feeders, mc_feeder, ARG(i));
		for (int i = 0; i < mc.nwork; i++)
			wg_go(&mc.workers, mc_worker, ARG(i));
		wg_go(&mc.closer, mc_closer, NULL);
		while (go_chan_recv(mc.r, &v)) {
			n++;
			sum += v;
			if (v >= 0 && v < MC_NITER)
				mc.seen[v]++;
			else
				CHECKF(false, "cap %d: received %ld", cap, v);
		}
		go_waitgroup_wait(&mc.closer);
		go_chan_free(mc.q);
		go_chan_free(mc.r);
		KT_ASSERTF(n == MC_NITER && sum == (int64_t)MC_NITER *
			   (MC_NITER - 1) / 2, "cap %d: expected sum %ld "
			   "(got %ld) from %d iter (saw %ld)", cap,
			   (int64_t)MC_NITER * (MC_NITER - 1) / 2, sum,
			   MC_NITER, n);
		for (int i = 0; i < MC_NITER; i++)
			KT_ASSERTF(mc.seen[i] == 1, "cap %d: %d received %u "
				   "times", cap, i, mc.seen[i]);
	}
}

/*
 * ---- TestSelfSelect, and select3's "select sees itself" ----
 *
 * Two goroutines each do 1000 selects offering a send and a receive on
 * the same channel (the order of the cases varying).  Unbuffered, a
 * select must never receive its own value (a goroutine matching itself),
 * and the two pair off exactly: one's sends are the other's receives.
 * Buffered, values sent minus values received is what is left in it.
 * Then a lone goroutine's select offering both directions on an
 * unbuffered channel blocks (and main's non-blocking one fails) until a
 * third case is ready.
 */
static struct {
	go_chan *c, *quit;
	go_waitgroup wg;
	int cap;
	int64_t sends[2], recvs[2], self[2], odd[2];
	int idx;
	int64_t in, q;
	uint32_t returned;
} sf;

static void sf_worker(void *a)
{
	int p = IARG(a);
	int64_t out = p, in;
	struct go_select_case cs[2];

	for (int i = 0; i < 1000; i++) {
		bool send_first = p == 0 || i % 2 == 0;

		cs[send_first ? 0 : 1] = GO_SEND(sf.c, &out);
		cs[send_first ? 1 : 0] = GO_RECV(sf.c, &in);
		in = -1;
		int idx = go_select(cs, 2, true);
		if (idx < 0 || idx > 1) {
			sf.odd[p]++;
		} else if (cs[idx].dir == GO_SELECT_SEND) {
			sf.sends[p]++;
		} else {
			sf.recvs[p]++;
			if (in != 0 && in != 1)
				sf.odd[p]++;
			else if (sf.cap == 0 && in == p)
				sf.self[p]++;
		}
	}
	go_waitgroup_done(&sf.wg);
}

static void sf_lone(void *a)
{
	int64_t out = 5;
	struct go_select_case cs[3] = {
		GO_SEND(sf.c, &out), GO_RECV(sf.c, &sf.in),
		GO_RECV(sf.quit, &sf.q),
	};

	sf.idx = go_select(cs, 3, true);
	STORE(sf.returned, 1);
	go_waitgroup_done(&sf.wg);
}

RTEST(select_self_select)
{
	static const int caps[3] = { 0, 1, 10 };
	struct go_select_case cs[2];
	int64_t v = 5, seven = 7;

	for (int ci = 0; ci < 3; ci++) {
		sf.cap = caps[ci];
		sf.c = go_chan_make(sizeof(int64_t), sf.cap);
		for (int p = 0; p < 2; p++)
			sf.sends[p] = sf.recvs[p] = sf.self[p] = sf.odd[p] = 0;
		wg_go(&sf.wg, sf_worker, ARG(0));
		wg_go(&sf.wg, sf_worker, ARG(1));
		go_waitgroup_wait(&sf.wg);
		int len = go_chan_len(sf.c);
		go_chan_free(sf.c);
		KT_ASSERTF(sf.odd[0] == 0 && sf.odd[1] == 0, "cap %d: bad "
			   "select results %ld %ld", sf.cap, sf.odd[0],
			   sf.odd[1]);
		KT_ASSERTF(sf.self[0] == 0 && sf.self[1] == 0, "cap %d: self "
			   "receive (%ld, %ld times)", sf.cap, sf.self[0],
			   sf.self[1]);
		KT_EQ(sf.sends[0] + sf.sends[1] - sf.recvs[0] - sf.recvs[1],
		      len);
		if (sf.cap == 0) {
			KT_EQ(sf.sends[0], sf.recvs[1]);
			KT_EQ(sf.sends[1], sf.recvs[0]);
		}
	}

	sf.c = go_chan_make(sizeof(int64_t), 0);
	sf.quit = go_chan_make(sizeof(int64_t), 0);
	cs[0] = GO_SEND(sf.c, &v);
	cs[1] = GO_RECV(sf.c, &v);
	CHECKF(go_select(cs, 2, false) == -1, "non-blocking select matched "
	       "itself");
	sf.returned = 0;
	sf.idx = -9;
	sf.in = sf.q = -1;
	wg_go(&sf.wg, sf_lone, NULL);
	go_sleep(2 * MS);
	CHECKF(!LOAD(sf.returned), "a select matched itself");
	go_chan_send(sf.quit, &seven);
	go_waitgroup_wait(&sf.wg);
	go_chan_free(sf.c);
	go_chan_free(sf.quit);
	KT_EQ(sf.idx, 2);
	KT_EQ(sf.q, 7);
	KT_EQ(sf.in, -1);
}

/*
 * ---- select3: default, NULL channels, closed channels, n == 0 ----
 *
 * A non-blocking select with nothing ready (no case, NULL channels, an
 * unbuffered channel without partner) returns -1 and writes nothing; the
 * non-blocking forms on NULL fail; a ready case is always taken over NULL
 * ones; a closed channel is ready with zero/false; a blocking select
 * whose other cases are NULL waits for its one real channel.
 */
static struct {
	go_chan *c;
	go_waitgroup wg;
	int idx;
	int64_t in;
	bool ok;
	uint32_t returned;
} ns;

static void ns_worker(void *a)
{
	int64_t x = 3, in = -1;
	struct go_select_case cs[4] = {
		GO_RECV(NULL, &in), GO_SEND(NULL, &x), GO_RECV(ns.c, &in),
		GO_SEND(NULL, &x),
	};

	ns.idx = go_select(cs, 4, true);
	ns.in = in;
	ns.ok = cs[2].ok;
	STORE(ns.returned, 1);
	go_waitgroup_done(&ns.wg);
}

RTEST(select_default_nil_and_closed)
{
	struct go_select_case cs[4];
	go_chan *u = go_chan_make(sizeof(int64_t), 0);
	go_chan *b = go_chan_make(sizeof(int64_t), 1);
	go_chan *cl = go_chan_make(sizeof(int64_t), 0);
	int64_t v = -1, w = 4;
	int idx;

	go_chan_close(cl);
	CHECKF(go_select(cs, 0, false) == -1, "empty select with default");
	cs[0] = GO_RECV(NULL, &v);
	cs[1] = GO_SEND(NULL, &w);
	CHECKF(go_select(cs, 2, false) == -1, "select on NULL chans");
	CHECKF(!go_chan_trysend(NULL, &w), "trysend on NULL succeeded");
	CHECKF(!go_chan_tryrecv(NULL, &v, NULL), "tryrecv on NULL succeeded");
	CHECKF(go_chan_len(NULL) == 0 && go_chan_cap(NULL) == 0,
	       "len/cap of NULL %d/%d", go_chan_len(NULL), go_chan_cap(NULL));
	go_chan_free(NULL);
	cs[0] = GO_RECV(u, &v);
	cs[1] = GO_SEND(u, &w);
	CHECKF(go_select(cs, 2, false) == -1, "select on unbuffered chan "
	       "without partner");
	CHECKF(v == -1, "a select that took default wrote %ld", v);
	for (int64_t i = 0; i < 50; i++) {
		w = i;
		cs[0] = GO_RECV(NULL, &v);
		cs[1] = GO_SEND(b, &w);
		cs[2] = GO_SEND(NULL, &w);
		cs[3] = GO_RECV(u, &v);
		idx = go_select(cs, 4, i & 1);
		CHECKF(idx == 1, "round %ld: send case %d chosen", i, idx);
		v = -1;
		cs[0] = GO_SEND(NULL, &w);
		cs[1] = GO_SEND(u, &w);
		cs[2] = GO_RECV(b, &v);
		cs[3] = GO_RECV(NULL, &v);
		idx = go_select(cs, 4, i & 1);
		CHECKF(idx == 2 && cs[2].ok && v == i, "round %ld: case %d, "
		       "%ld/%d", i, idx, v, cs[2].ok);
		if (ktest_failed())
			break;
	}
	for (int block = 0; block < 2; block++) {
		v = -1;
		cs[0] = GO_RECV(u, &w);
		cs[1] = GO_RECV(cl, &v);
		cs[1].ok = true;
		idx = go_select(cs, 2, block);
		CHECKF(idx == 1 && !cs[1].ok && v == 0, "closed chan in select "
		       "(block %d): case %d, %ld/%d", block, idx, v, cs[1].ok);
	}
	go_chan_free(u);
	go_chan_free(b);
	go_chan_free(cl);
	if (ktest_failed())
		return;

	/* Blocking, with NULL cases around the one real channel. */
	ns.c = go_chan_make(sizeof(int64_t), 0);
	ns.returned = 0;
	ns.idx = -9;
	wg_go(&ns.wg, ns_worker, NULL);
	go_sleep(2 * MS);
	CHECKF(!LOAD(ns.returned), "select with NULL cases returned");
	v = 42;
	go_chan_send(ns.c, &v);
	go_waitgroup_wait(&ns.wg);
	go_chan_free(ns.c);
	KT_EQ(ns.idx, 2);
	KT_EQ(ns.in, 42);
	KT_ASSERT(ns.ok);
}

/*
 * ---- Waiting goroutines: served in FIFO order; close wakes them all ----
 *
 * Senders blocked on a full channel one after another (each started once
 * the one before is parked on the channel) get their values received in that
 * order, after the buffer's; receivers (plain and select) blocked one
 * after another get the values sent in that order.  Then CW_N receivers
 * blocked on an empty channel all wake with zero/false when it closes.
 */
#define WQ_N 6
#define CW_N 16

static struct {
	go_chan *c;
	go_waitgroup wg;
	uint32_t ready, returned;	/* atomic */
	int64_t got[CW_N];
	bool ok[CW_N];
	int idx[CW_N];
} wq;

static void wq_sender(void *a)
{
	int64_t v = IARG(a);

	ADD(wq.ready, 1);
	go_chan_send(wq.c, &v);
	ADD(wq.returned, 1);
	go_waitgroup_done(&wq.wg);
}

static void wq_receiver(void *a)
{
	int i = IARG(a);
	int64_t v = -1;

	ADD(wq.ready, 1);
	wq.ok[i] = go_chan_recv(wq.c, &v);
	wq.got[i] = v;
	ADD(wq.returned, 1);
	go_waitgroup_done(&wq.wg);
}

static void wq_select_receiver(void *a)
{
	int i = IARG(a);
	int64_t v = -1, x = 1;
	struct go_select_case cs[3] = {
		GO_RECV(NULL, &v), GO_RECV(wq.c, &v), GO_SEND(NULL, &x),
	};

	ADD(wq.ready, 1);
	wq.idx[i] = go_select(cs, 3, true);
	wq.ok[i] = cs[1].ok;
	wq.got[i] = v;
	ADD(wq.returned, 1);
	go_waitgroup_done(&wq.wg);
}

/* wq_start - start fn(i) and wait until it is parked on wq.c's send
 * (@send) or receive queue (white-box: chan_nwait, a test hook). */
static void wq_start(void (*fn)(void *), int i, bool send)
{
	int before = chan_nwait(wq.c, send);

	wg_go(&wq.wg, fn, ARG(i));
	for (int64_t end = go_nanotime() + 10000 * MS;
	     chan_nwait(wq.c, send) == before && go_nanotime() < end;)
		go_sleep(50 * US);
}

RTEST_TIMEOUT(chan_waiters_served_fifo, 120)
{
	static const int caps[2] = { 0, 3 };

	for (int ci = 0; ci < 2 && !ktest_failed(); ci++) {
		int cap = caps[ci];
		int64_t v;
		bool bad = false;

		wq.c = go_chan_make(sizeof(int64_t), cap);
		for (int64_t i = 0; i < cap; i++) {
			v = 100 + i;
			go_chan_send(wq.c, &v);
		}
		wq.ready = wq.returned = 0;
		for (int i = 0; i < WQ_N; i++)
			wq_start(wq_sender, i, true);
		CHECKF(LOAD(wq.returned) == 0, "cap %d: a send to a full "
		       "chan returned", cap);
		CHECKF(go_chan_len(wq.c) == cap, "cap %d: len %d with "
		       "senders waiting", cap, go_chan_len(wq.c));
		for (int64_t i = 0; i < cap + WQ_N; i++) {
			int64_t want = i < cap ? 100 + i : i - cap;

			v = -1;
			go_chan_recv(wq.c, &v);
			if (!bad && v != want) {
				bad = true;
				CHECKF(false, "cap %d: receive %ld got %ld, "
				       "expected %ld", cap, i, v, want);
			}
		}
		go_waitgroup_wait(&wq.wg);

		wq.ready = wq.returned = 0;
		for (int i = 0; i < WQ_N; i++) {
			wq.got[i] = -1;
			wq.idx[i] = 1;
			wq_start(i % 2 ? wq_receiver : wq_select_receiver, i,
				 false);
		}
		CHECKF(LOAD(wq.returned) == 0, "cap %d: a receive from an "
		       "empty chan returned", cap);
		for (int64_t i = 0; i < WQ_N; i++)
			go_chan_send(wq.c, &i);
		go_waitgroup_wait(&wq.wg);
		go_chan_free(wq.c);
		for (int i = 0; i < WQ_N; i++)
			CHECKF(wq.got[i] == i && wq.ok[i] && wq.idx[i] == 1,
			       "cap %d: receiver %d got %ld/%d (case %d)", cap,
			       i, wq.got[i], wq.ok[i], wq.idx[i]);
	}
	KT_ASSERT(!ktest_failed());
}

RTEST(chan_close_wakes_every_receiver)
{
	static const int caps[2] = { 0, 4 };

	for (int ci = 0; ci < 2 && !ktest_failed(); ci++) {
		int cap = caps[ci];

		wq.c = go_chan_make(sizeof(int64_t), cap);
		wq.ready = wq.returned = 0;
		for (int i = 0; i < CW_N; i++) {
			wq.got[i] = 12345;
			wq.ok[i] = true;
			wq.idx[i] = 1;
			wg_go(&wq.wg, i % 2 ? wq_receiver : wq_select_receiver,
			      ARG(i));
		}
		while (LOAD(wq.ready) < CW_N)
			go_sleep(50 * US);
		go_sleep(2 * MS);
		CHECKF(LOAD(wq.returned) == 0, "cap %d: a receive from an "
		       "empty chan returned", cap);
		go_chan_close(wq.c);
		go_waitgroup_wait(&wq.wg);
		go_chan_free(wq.c);
		for (int i = 0; i < CW_N; i++)
			CHECKF(!wq.ok[i] && wq.got[i] == 0 && wq.idx[i] == 1,
			       "cap %d: receiver %d woken by close with "
			       "%ld/%d (case %d)", cap, i, wq.got[i], wq.ok[i],
			       wq.idx[i]);
	}
	KT_ASSERT(!ktest_failed());
}

/*
 * ---- Timer channels: select timeouts, stop and reset ----
 *
 * A select on a silent channel and go_after times out, no earlier than
 * asked, with a value no earlier than the deadline and no later than its
 * receipt; eight go_after channels in one select all deliver; go_after
 * channels are freed before firing, while firing and fired but unread.
 * go_timer_stop / go_timer_reset return what Go 1.23 does (true: a value
 * was still to come), a stopped timer never delivers, a reset one
 * delivers once, and no value from before a stop or reset is received.
 */
#define HOUR (3600 * SEC)

RTEST(select_timeout)
{
	struct go_select_case cs[8];
	go_chan *c = go_chan_make(sizeof(int64_t), 0), *a[8];
	int64_t in = -1, v = -1, t0, t1, when[8], got[8];
	int left = 8;

	t0 = go_nanotime();
	a[0] = go_after(5 * MS);
	cs[0] = GO_RECV(c, &in);
	cs[1] = GO_RECV(a[0], &v);
	int idx = go_select(cs, 2, true);
	t1 = go_nanotime();
	go_chan_free(a[0]);
	CHECKF(idx == 1 && cs[1].ok, "select: case %d, ok %d", idx, cs[1].ok);
	CHECKF(in == -1, "the silent channel's case was written");
	CHECKF(t1 - t0 >= 5 * MS, "timed out after %ld ns of 5 ms", t1 - t0);
	CHECKF(v >= t0 + 5 * MS && v <= t1, "timer value %ld, deadline "
	       "%ld, received at %ld", v, t0 + 5 * MS, t1);

	for (int k = 0; k < 2; k++) {		/* ns <= 0: at once */
		t0 = go_nanotime();
		a[0] = go_after(k ? -MS : 0);
		v = -1;
		bool ok = go_chan_recv(a[0], &v);
		t1 = go_nanotime();
		go_chan_free(a[0]);
		CHECKF(ok && v >= t0 && v <= t1, "go_after(%ld): %ld/%d, "
		       "expected in %ld..%ld", k ? -MS : 0, v, ok, t0, t1);
	}

	/* Eight at once, taken by one select as they come. */
	for (int i = 0; i < 8; i++) {
		int64_t d = (int64_t)((i * 5) % 8 + 1) * MS;

		when[i] = go_nanotime() + d;
		a[i] = go_after(d);
		got[i] = -1;
		cs[i] = GO_RECV(a[i], &got[i]);
	}
	while (left > 0) {
		idx = go_select(cs, 8, true);
		if (idx < 0 || idx >= 8 || !cs[idx].c) {
			CHECKF(false, "select of timers chose %d", idx);
			break;
		}
		CHECKF(cs[idx].ok && got[idx] >= when[idx] &&
		       got[idx] <= go_nanotime(), "timer %d: %ld/%d, "
		       "deadline %ld", idx, got[idx], cs[idx].ok, when[idx]);
		cs[idx].c = NULL;
		left--;
	}
	for (int i = 0; i < 8; i++)
		go_chan_free(a[i]);

	a[0] = go_after(HOUR);		/* freed long before firing */
	go_chan_free(a[0]);
	a[0] = go_after(MS);		/* freed about when it fires */
	go_sleep(MS);
	go_chan_free(a[0]);
	a[0] = go_after(0);		/* fired, never received */
	go_sleep(2 * MS);
	go_chan_free(a[0]);
	go_sleep(3 * MS);		/* nothing fires into freed memory */
	go_chan_free(c);
	KT_ASSERT(!ktest_failed());
}

RTEST(chan_timer_stop_and_reset)
{
	go_timer *t = go_timer_new(HOUR);
	go_chan *tc = go_timer_chan(t);
	int64_t v, t0, t1;
	bool ok;

	CHECKF(go_chan_cap(tc) == 1, "a timer's chan has cap %d",
	       go_chan_cap(tc));
	CHECKF(go_timer_stop(t), "stop before firing returned false");
	CHECKF(!go_timer_stop(t), "second stop returned true");
	t0 = go_nanotime();
	CHECKF(!go_timer_reset(t, MS), "reset of a stopped timer returned "
	       "true");
	CHECKF(go_timer_reset(t, 2 * MS), "reset of a pending timer returned "
	       "false");
	v = -1;
	ok = go_chan_recv(tc, &v);
	t1 = go_nanotime();
	CHECKF(ok && v >= t0 + 2 * MS && v <= t1, "reset timer: %ld/%d, "
	       "deadline %ld, received at %ld", v, ok, t0 + 2 * MS, t1);
	CHECKF(!go_timer_stop(t), "stop after the value was received "
	       "returned true");

	/* Stopped, it never delivers. */
	CHECKF(!go_timer_reset(t, 2 * MS), "reset after receipt returned true");
	CHECKF(go_timer_stop(t), "stop of a pending timer returned false");
	go_sleep(10 * MS);
	CHECKF(!go_chan_tryrecv(tc, &v, NULL), "a stopped timer delivered");

	/* Reset after stop delivers, once. */
	t0 = go_nanotime();
	CHECKF(!go_timer_reset(t, 2 * MS), "reset of a stopped timer "
	       "returned true");
	v = -1;
	ok = go_chan_recv(tc, &v);
	CHECKF(ok && v >= t0 + 2 * MS, "timer value %ld before its deadline "
	       "%ld", v, t0 + 2 * MS);
	go_sleep(5 * MS);
	CHECKF(!go_chan_tryrecv(tc, &v, NULL), "a timer delivered twice");

	/* Fired but not received: stop drops the value. */
	CHECKF(!go_timer_reset(t, 0), "reset after receipt returned true");
	go_sleep(5 * MS);
	CHECKF(go_timer_stop(t), "stop of a fired, unreceived timer returned "
	       "false");
	CHECKF(!go_chan_tryrecv(tc, &v, NULL), "received a value from before "
	       "stop");

	/* Likewise reset: only the new value comes, at the new deadline. */
	CHECKF(!go_timer_reset(t, 0), "reset of a stopped timer returned "
	       "true");
	go_sleep(5 * MS);
	t0 = go_nanotime();
	CHECKF(go_timer_reset(t, 3 * MS), "reset of a fired, unreceived "
	       "timer returned false");
	v = -1;
	ok = go_chan_recv(tc, &v);
	CHECKF(ok && v >= t0 + 3 * MS, "received %ld, from before the reset "
	       "at %ld", v, t0);
	go_timer_free(t);

	t = go_timer_new(0);		/* freed with its value unreceived */
	go_sleep(2 * MS);
	go_timer_free(t);
	t = go_timer_new(HOUR);		/* freed pending */
	go_timer_free(t);
	KT_ASSERT(!ktest_failed());
}

/* A receiver blocked in select on a timer's channel while it is stopped:
 * no value reaches it, even past the old deadline. */
static struct {
	go_timer *t;
	go_chan *quit;
	go_waitgroup wg;
	int idx;
	uint32_t returned;
} ts;

static void ts_waiter(void *a)
{
	int64_t v, q;
	struct go_select_case cs[2] = {
		GO_RECV(go_timer_chan(ts.t), &v), GO_RECV(ts.quit, &q),
	};

	ts.idx = go_select(cs, 2, true);
	STORE(ts.returned, 1);
	go_waitgroup_done(&ts.wg);
}

/* Timers stopped, reset and received on every P at once, each stop
 * racing its timer's firing: stop of a timer whose value was not received
 * returns true, and nothing is received after it. */
#define TR_ROUNDS 40

static void tr_worker(void *a)
{
	uint64_t seed = 0x9e3779b97f4a7c15ull * (uint64_t)(IARG(a) + 1);
	go_timer *t = go_timer_new(HOUR);
	go_chan *c = go_timer_chan(t);
	int64_t v;

	CHECKF(go_timer_stop(t), "stop before firing returned false");
	for (int r = 0; r < TR_ROUNDS; r++) {
		int64_t d = (int64_t)(rnd(&seed) % (uint64_t)MS);
		int64_t t0 = go_nanotime();

		CHECKF(!go_timer_reset(t, d), "round %d: reset of a stopped "
		       "or received timer returned true", r);
		if (rnd(&seed) & 1) {
			go_sleep((int64_t)(rnd(&seed) % (uint64_t)(2 * MS)));
			CHECKF(go_timer_stop(t), "round %d: stop of an "
			       "unreceived timer returned false", r);
			CHECKF(!go_chan_tryrecv(c, &v, NULL), "round %d: "
			       "received after stop", r);
		} else {
			v = -1;
			bool ok = go_chan_recv(c, &v);
			CHECKF(ok && v >= t0 + d, "round %d: %ld/%d, deadline "
			       "%ld", r, v, ok, t0 + d);
			CHECKF(!go_timer_stop(t), "round %d: stop after "
			       "receipt returned true", r);
		}
	}
	go_timer_free(t);
	go_waitgroup_done(&ts.wg);
}

RTEST(chan_timer_stop_with_waiters_and_races)
{
	int n = 2 * go_gomaxprocs();
	bool stopped;

	ts.t = go_timer_new(50 * MS);
	ts.quit = go_chan_make(sizeof(int64_t), 0);
	ts.returned = 0;
	ts.idx = -9;
	wg_go(&ts.wg, ts_waiter, NULL);
	go_sleep(2 * MS);
	stopped = go_timer_stop(ts.t);
	if (stopped) {
		go_sleep(60 * MS);
		CHECKF(!LOAD(ts.returned), "a stopped timer woke its waiter");
	}
	go_chan_close(ts.quit);
	go_waitgroup_wait(&ts.wg);
	go_timer_free(ts.t);
	go_chan_free(ts.quit);
	/* stop false: 50 ms passed (a very slow host) and it was received. */
	KT_EQ(ts.idx, stopped ? 1 : 0);

	for (int i = 0; i < n; i++)
		wg_go(&ts.wg, tr_worker, ARG(i));
	go_waitgroup_wait(&ts.wg);
	KT_ASSERT(!ktest_failed());
}

/*
 * ---- A million messages through an unbuffered channel ----
 *
 * One goroutine sends 0..999999, another receives them: all in order,
 * the sum right.  Prints the time per message (under QEMU TCG expect a
 * few microseconds).
 */
#define MILLION 1000000

static struct {
	go_chan *c;
	go_waitgroup wg;
	int64_t bad_at, bad_v;
	uint64_t sum;
} mm;

static void mm_producer(void *a)
{
	for (int64_t i = 0; i < MILLION; i++)
		go_chan_send(mm.c, &i);
	go_waitgroup_done(&mm.wg);
}

static void mm_consumer(void *a)
{
	int64_t v, bad = -1, badv = 0;
	uint64_t sum = 0;

	for (int64_t i = 0; i < MILLION; i++) {
		v = -1;
		if (!go_chan_recv(mm.c, &v))
			v = -2;
		if (v != i && bad < 0) {
			bad = i;
			badv = v;
		}
		sum += (uint64_t)v;
	}
	mm.sum = sum;
	mm.bad_at = bad;
	mm.bad_v = badv;
	go_waitgroup_done(&mm.wg);
}

RTEST_TIMEOUT(chan_million_messages, 300)
{
	int64_t t0, dt;

	mm.c = go_chan_make(sizeof(int64_t), 0);
	t0 = go_nanotime();
	wg_go(&mm.wg, mm_consumer, NULL);
	wg_go(&mm.wg, mm_producer, NULL);
	go_waitgroup_wait(&mm.wg);
	dt = go_nanotime() - t0;
	go_chan_free(mm.c);
	kprintf("# chan_million_messages: %ld ms, %ld ns/message, %d Ps\n",
		dt / MS, dt / MILLION, go_gomaxprocs());
	KT_ASSERTF(mm.bad_at < 0, "message %ld received as %ld", mm.bad_at,
		   mm.bad_v);
	KT_EQ(mm.sum, (uint64_t)MILLION * (MILLION - 1) / 2);
}

/*
 * ---- Producers and consumers selecting over several channels ----
 *
 * Two producers per P send their numbers by select over four channels
 * (capacity 0, 1, 4, 16), sometimes by trysend on one of them, sometimes
 * yielding; two consumers per P receive by select over the four and a
 * timer that never fires, dropping a channel (as NULL) once it is closed
 * and drained; a closer closes all four when the producers are done.
 * Every value arrives exactly once, each consumer sees each producer's
 * values on one channel in increasing order, and the sums agree.
 */
#define MX_TOTAL 24000
#define MX_MAXG 32

static const int mx_caps[4] = { 0, 1, 4, 16 };

static struct {
	go_chan *c[4];
	go_waitgroup prod, cons, closer;
	int nprod, ncons, per;
	int64_t sum, count;				/* atomic */
	uint8_t seen[MX_TOTAL];				/* atomic */
	int32_t last[MX_MAXG][MX_MAXG][4];	/* consumer, producer, chan */
} mx;

static void mx_producer(void *a)
{
	int p = IARG(a);
	uint64_t seed = 0x2545f4914f6cdd1dull * (uint64_t)(p + 1);
	struct go_select_case cs[4];
	int64_t v;

	for (int k = 0; k < 4; k++)
		cs[k] = GO_SEND(mx.c[k], &v);
	for (int i = 0; i < mx.per; i++) {
		uint64_t r = rnd(&seed);

		v = (int64_t)p << 20 | i;
		if (r % 8 == 0 && go_chan_trysend(mx.c[r / 8 % 4], &v))
			continue;
		if (r % 16 == 1)
			go_sched();
		int idx = go_select(cs, 4, true);
		CHECKF(idx >= 0 && idx < 4, "producer: select chose %d", idx);
	}
	go_waitgroup_done(&mx.prod);
}

static void mx_consumer(void *a)
{
	int me = IARG(a), open = 4;
	int32_t (*last)[4] = mx.last[me];
	go_timer *t = go_timer_new(HOUR);
	struct go_select_case cs[5];
	int64_t in[4], tv, sum = 0, n = 0;

	for (int k = 0; k < 4; k++)
		cs[k] = GO_RECV(mx.c[k], &in[k]);
	cs[4] = GO_RECV(go_timer_chan(t), &tv);
	while (open > 0) {
		int k = go_select(cs, 5, true);
		if (k < 0 || k >= 4) {
			CHECKF(false, "consumer: select chose %d", k);
			break;
		}
		if (!cs[k].ok) {		/* closed and drained */
			cs[k].c = NULL;
			open--;
			continue;
		}
		int64_t p = in[k] >> 20, i = in[k] & 0xfffff;
		if (p < 0 || p >= mx.nprod || i >= mx.per) {
			CHECKF(false, "consumer: received %ld", in[k]);
			continue;
		}
		CHECKF(i > last[p][k], "chan %d: from producer %ld, %ld after "
		       "%d", k, p, i, last[p][k]);
		last[p][k] = (int32_t)i;
		__atomic_fetch_add(&mx.seen[p * mx.per + i], 1,
				   __ATOMIC_RELAXED);
		sum += in[k];
		n++;
	}
	go_timer_free(t);
	ADD(mx.sum, sum);
	ADD(mx.count, n);
	go_waitgroup_done(&mx.cons);
}

static void mx_closer(void *a)
{
	go_waitgroup_wait(&mx.prod);
	for (int k = 0; k < 4; k++)
		go_chan_close(mx.c[k]);
	go_waitgroup_done(&mx.closer);
}

RTEST_TIMEOUT(select_mixed_producers_consumers, 120)
{
	int procs = go_gomaxprocs();
	int64_t want = 0, total;

	mx.nprod = MIN(2 * procs, MX_MAXG);
	mx.ncons = MIN(2 * procs, MX_MAXG);
	mx.per = MX_TOTAL / mx.nprod;
	total = (int64_t)mx.nprod * mx.per;
	mx.sum = mx.count = 0;
	memset(mx.seen, 0, sizeof(mx.seen));
	memset(mx.last, 0xff, sizeof(mx.last));		/* -1 */
	for (int k = 0; k < 4; k++)
		mx.c[k] = go_chan_make(sizeof(int64_t), mx_caps[k]);
	for (int p = 0; p < mx.nprod; p++)
		wg_go(&mx.prod, mx_producer, ARG(p));
	for (int c = 0; c < mx.ncons; c++)
		wg_go(&mx.cons, mx_consumer, ARG(c));
	wg_go(&mx.closer, mx_closer, NULL);
	go_waitgroup_wait(&mx.cons);
	go_waitgroup_wait(&mx.closer);
	for (int k = 0; k < 4; k++)
		go_chan_free(mx.c[k]);
	for (int p = 0; p < mx.nprod; p++)
		want += ((int64_t)p << 20) * mx.per +
			(int64_t)mx.per * (mx.per - 1) / 2;
	KT_ASSERT(!ktest_failed());
	KT_EQ(mx.count, total);
	KT_EQ(mx.sum, want);
	for (int64_t j = 0; j < total; j++)
		KT_ASSERTF(mx.seen[j] == 1, "value %ld of producer %ld "
			   "received %u times", j % mx.per, j / mx.per,
			   mx.seen[j]);
}

/*
 * ---- time.AfterFunc and time.NewTicker ----
 *
 * An AfterFunc timer starts its function once, in a goroutine of its own,
 * no earlier than asked; stopped in time it never starts it; reset, it
 * starts it at the new deadline; it has no channel.  A ticker ticks on
 * the grid of its period, keeps at most one tick for a slow receiver,
 * ticks on the new period after a reset, and never after a stop.
 */
static struct {
	int64_t at[3], goid[3];
	uint32_t runs[3];
	go_waitgroup wg;
} af;

static void af_fn(void *a)
{
	int i = IARG(a);

	af.at[i] = go_nanotime();
	af.goid[i] = go_id();
	ADD(af.runs[i], 1);
	go_waitgroup_done(&af.wg);
}

RTEST(chan_after_func_runs_once_in_its_own_goroutine)
{
	int64_t t0 = go_nanotime();

	memset(&af, 0, sizeof(af));
	go_waitgroup_add(&af.wg, 2);
	go_timer *a = go_after_func(5 * MS, af_fn, ARG(0));
	go_timer *b = go_after_func(50 * MS, af_fn, ARG(1));
	go_timer *c = go_after_func(10 * SEC, af_fn, ARG(2));
	KT_ASSERT(go_timer_chan(a) == NULL);
	KT_ASSERT(go_timer_stop(b));		/* in time: never runs */
	int64_t reset_at = go_nanotime();
	KT_ASSERT(go_timer_reset(c, 10 * MS));	/* sooner */
	go_waitgroup_wait(&af.wg);
	go_sleep(80 * MS);			/* b's old deadline passes */
	KT_EQ(af.runs[0], 1);
	KT_EQ(af.runs[1], 0);
	KT_EQ(af.runs[2], 1);
	KT_CMP(af.at[0] - t0, >=, 5 * MS);
	KT_CMP(af.at[2] - reset_at, >=, 10 * MS);
	KT_ASSERT(af.goid[0] != go_id() && af.goid[2] != go_id() &&
		  af.goid[0] != af.goid[2]);
	KT_ASSERT(!go_timer_stop(a));		/* ran already */
	go_timer_free(a);
	go_timer_free(b);
	go_timer_free(c);
}

RTEST_TIMEOUT(chan_ticker_ticks_on_its_period, 60)
{
	const int64_t period = 5 * MS;
	int64_t start = go_nanotime(), v, prev = 0;
	go_ticker *tk = go_ticker_new(period);
	go_chan *c = go_ticker_chan(tk);

	for (int k = 1; k <= 5; k++) {
		KT_ASSERT(go_chan_recv(c, &v));
		KT_CMP(v, >=, start + k * period - period / 10);
		KT_CMP(v, >, prev);
		prev = v;
	}
	/* A slow receiver: one tick kept, the rest dropped. */
	go_sleep(8 * period);
	KT_CMP(go_chan_len(c), <=, 1);
	KT_ASSERT(go_chan_recv(c, &v));
	/* A new period, from now: no tick before it. */
	int64_t reset_at = go_nanotime();
	go_ticker_reset(tk, 4 * period);
	KT_ASSERT(go_chan_recv(c, &v));
	KT_CMP(v - reset_at, >=, 4 * period);
	go_ticker_stop(tk);
	go_sleep(10 * period);
	KT_ASSERT(!go_chan_tryrecv(c, &v, NULL));	/* nothing after stop */
	go_ticker_free(tk);
}
