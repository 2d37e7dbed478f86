/* kernel/kthread.c - kernel threads (boot-time subset). */
#include "kthread.h"
#include "mem.h"
#include "../arch/x86_64/x86.h"

static struct kthread boot_thread = { .state = KT_RUNNING, .name = "kmain",
				      .pin_cpu = -1 };

void kthread_init(void)
{
	struct cpu *c = this_cpu();

	boot_thread.cpu = c;
	c->cur = &boot_thread;
}

void kthread_ap_init(void)
{
	struct cpu *c = this_cpu();
	struct kthread *t = page_alloc_zeroed(1);

	if (!t)
		panic("no memory for cpu %u's idle thread", c->id);
	t->state = KT_RUNNING;
	t->cpu = c;
	t->pin_cpu = (int)c->id;
	snprintf(t->name, sizeof(t->name), "idle%u", c->id);
	c->cur = t;
	c->idle_thread = t;
}

void kthread_idle_loop(void)
{
	for (;;)
		sti_hlt();
}

void preempt_disable(void)
{
	kthread_current()->preempt_count++;
}

void preempt_enable(void)
{
	kthread_current()->preempt_count--;
}
