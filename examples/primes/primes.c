/*
 * examples/primes/primes.c - Go's concurrent prime sieve, as a program
 * built from its own directory: make run APP=examples/primes (or copy the
 * directory anywhere and name it).  docs/programs.md walks through it.
 *
 * A generator sends 2, 3, 4, ... on a channel; each prime found starts a
 * filter goroutine between the last channel and a new one, dropping the
 * multiples of that prime.  The first value out of the chain is always
 * the next prime.
 */
#include <rt0.h>
#include <rt0/test.h>

struct filter {
	go_chan *in, *out;
	int64_t prime;
};

/* Send 2, 3, 4, ... until quit closes, then close out: only a sender
 * closes a channel (a send on a closed one panics). */
static void generate(void *arg)
{
	go_chan **ch = arg;		/* ch[0]: out, ch[1]: quit */

	for (int64_t i = 2;; i++) {
		struct go_select_case cs[2] = { GO_SEND(ch[0], &i),
						GO_RECV(ch[1], NULL) };
		if (go_select(cs, 2, true) == 1)
			break;
	}
	go_chan_close(ch[0]);
}

/* Copy in to out, less the multiples of prime; stop when in closes. */
static void filter(void *arg)
{
	struct filter *f = arg;
	int64_t v;

	while (go_chan_recv(f->in, &v))
		if (v % f->prime != 0)
			go_chan_send(f->out, &v);
	go_chan_close(f->out);
}

#define MAX_PRIMES 1000

/*
 * sieve - the first @n primes (at most MAX_PRIMES) into @primes, by a
 * chain of @n filter goroutines.  Returns once every goroutine it started
 * has finished.
 */
static void sieve(int64_t *primes, int n)
{
	static struct filter filters[MAX_PRIMES];

	if (n > MAX_PRIMES) {
		go_printf("primes: at most %d primes\n", MAX_PRIMES);
		go_exit_program(2);
	}
	go_chan *quit = go_chan_make(0, 0);
	go_chan *gen[2] = { go_chan_make(sizeof(int64_t), 0), quit };
	go_chan *ch = gen[0];

	go_spawn(generate, gen);
	for (int i = 0; i < n; i++) {
		go_chan_recv(ch, &primes[i]);
		filters[i] = (struct filter){ .in = ch, .prime = primes[i],
			.out = go_chan_make(sizeof(int64_t), 0) };
		go_spawn(filter, &filters[i]);
		ch = filters[i].out;
	}
	/* Stop the generator; its close runs down the chain of filters,
	 * each passing on what it still holds: drain the last one. */
	go_chan_close(quit);
	int64_t v;
	while (go_chan_recv(ch, &v))
		;
	go_chan_free(quit);
	go_chan_free(gen[0]);
	for (int i = 0; i < n; i++)
		go_chan_free(filters[i].out);
}

RT0_APP(primes, "Go's concurrent prime sieve: the first 100 primes")
{
	int64_t p[100];

	sieve(p, 100);
	for (int i = 0; i < 100; i++)
		go_printf("%ld%c", p[i], i % 20 == 19 ? '\n' : ' ');
	go_printf("primes: %d goroutines filtered the first 100 primes\n", 100);
	return 0;
}

GO_TEST(primes_first_ten)
{
	static const int64_t want[10] = { 2, 3, 5, 7, 11, 13, 17, 19, 23, 29 };
	int64_t p[10];

	sieve(p, 10);
	for (int i = 0; i < 10; i++)
		GO_CHECK_EQ(p[i], want[i]);
}

GO_TEST(primes_thousandth_is_7919)
{
	static int64_t p[1000];

	sieve(p, 1000);
	GO_CHECK_EQ(p[999], 7919);
}
