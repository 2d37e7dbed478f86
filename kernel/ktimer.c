/*
 * kernel/ktimer.c - sorted per-CPU timer lists (see ktimer.h).
 *
 * Insertion walks the list (kernel timers are few: one per thread in a
 * timed wait); expiry pops from the head.  The firing flag closes the race
 * between a callback in progress and a canceller that wants to free the
 * timer: the expiring CPU unqueues the timer and sets firing under the
 * lock, runs the callback unlocked, then clears firing as its last touch.
 */
#include "ktimer.h"
#include "cpu.h"
#include "time.h"
#include "../arch/x86_64/x86.h"

void ktimer_arm(struct ktimer *t, uint64_t deadline, void (*fn)(struct ktimer *))
{
	struct cpu *c = this_cpu();

	BUG_ON(irq_enabled());
	t->deadline = deadline;
	t->fn = fn;
	t->firing = 0;
	spin_lock(&c->timer_lock);
	struct ktimer **pp = &c->timers, *prev = NULL;
	while (*pp && (*pp)->deadline <= deadline) {
		prev = *pp;
		pp = &(*pp)->next;
	}
	t->next = *pp;
	t->prev = prev;
	if (*pp)
		(*pp)->prev = t;
	*pp = t;
	t->cpu = c;
	spin_unlock(&c->timer_lock);
	timer_program_if_earlier(deadline);
}

static void unlink(struct cpu *c, struct ktimer *t)
{
	if (t->prev)
		t->prev->next = t->next;
	else
		c->timers = t->next;
	if (t->next)
		t->next->prev = t->prev;
	t->next = t->prev = NULL;
	t->cpu = NULL;
}

bool ktimer_cancel(struct ktimer *t)
{
	for (;;) {
		struct cpu *c = READ_ONCE(t->cpu);
		if (!c)
			break;
		uint64_t f = spin_lock_irqsave(&c->timer_lock);
		if (t->cpu == c) {
			unlink(c, t);
			spin_unlock_irqrestore(&c->timer_lock, f);
			return true;
		}
		spin_unlock_irqrestore(&c->timer_lock, f);
	}
	while (__atomic_load_n(&t->firing, __ATOMIC_ACQUIRE))
		cpu_relax();
	return false;
}

void ktimer_run(void)
{
	struct cpu *c = this_cpu();

	if (!READ_ONCE(c->timers))
		return;
	uint64_t now = nanotime();
	spin_lock(&c->timer_lock);
	while (c->timers && c->timers->deadline <= now) {
		struct ktimer *t = c->timers;
		unlink(c, t);
		t->firing = 1;
		spin_unlock(&c->timer_lock);
		t->fn(t);
		__atomic_store_n(&t->firing, 0, __ATOMIC_RELEASE);
		spin_lock(&c->timer_lock);
	}
	spin_unlock(&c->timer_lock);
}

uint64_t ktimer_next(void)
{
	struct ktimer *t = READ_ONCE(this_cpu()->timers);

	return t ? READ_ONCE(t->deadline) : 0;
}
