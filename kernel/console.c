/*
 * kernel/console.c - the serial console: whole kprintf calls never
 * interleave with other CPUs' output.
 *
 * The console lock is a spinlock-like word of its own rather than a struct
 * spinlock, because the console is what panics and fault reports print on:
 * a CPU that faults while it holds the console (or that panics while another
 * CPU holds it) must still be able to print.  So:
 *  - taken with interrupts disabled, released on the way out;
 *  - re-entry by the holder (a fault inside kprintf) proceeds without it;
 *  - the panicking CPU (panic_cpu), or the one stopping the machine
 *    (kernel_stopper_cpu), waits at most ~100 ms for another holder and
 *    then prints anyway: the holder may have been stopped by the NMI.
 */
#include "lib.h"
#include "console.h"
#include "cpu.h"
#include "time.h"
#include "kwait.h"
#include "exit.h"
#include "spinlock.h"
#include "../arch/x86_64/uart.h"
#include "../arch/x86_64/x86.h"

static int32_t console_owner = -1;	/* CPU id holding the console; atomic */
int32_t panic_cpu = -1;			/* CPU id that is panicking; atomic */

static void uart_sink(void *arg, const char *s, size_t n)
{
	(void)arg;
	uart_write(s, n);
}

/* console_sink - a fmt_sink onto the console (each call is atomic). */
void console_sink(void *arg, const char *s, size_t n)
{
	(void)arg;
	console_write(s, n);
}

/* Returns true if the lock was taken (and must be released). */
static bool console_acquire(void)
{
	int32_t me = (int32_t)this_cpu_id();
	int32_t free = -1;

	if (__atomic_load_n(&console_owner, __ATOMIC_RELAXED) == me)
		return false;		/* re-entered from a fault: proceed */
	uint64_t start = rdtsc();
	for (;;) {
		free = -1;
		if (__atomic_compare_exchange_n(&console_owner, &free, me, false,
						__ATOMIC_ACQUIRE,
						__ATOMIC_RELAXED))
			return true;
		cpu_relax();
		if ((__atomic_load_n(&panic_cpu, __ATOMIC_RELAXED) == me ||
		     kernel_stopper_cpu() == me) &&
		    rdtsc() - start > (tsc_hz ? tsc_hz / 10 : (1ull << 28)))
			return false;	/* the holder is stopped: print anyway */
	}
}

static void console_release(void)
{
	__atomic_store_n(&console_owner, -1, __ATOMIC_RELEASE);
}

void console_hold(void)
{
	irq_save();		/* not restored: this CPU keeps the console */
	console_acquire();	/* never released */
}

/** console_write - write @n bytes as one unit.  Any context.  Returns. */
void console_write(const char *s, size_t n)
{
	uint64_t f = irq_save();
	bool locked = console_acquire();
	uart_write(s, n);
	if (locked)
		console_release();
	irq_restore(f);
}

void vkprintf(const char *fmt, va_list ap)
{
	uint64_t f = irq_save();
	bool locked = console_acquire();
	vformat(uart_sink, NULL, fmt, ap);
	if (locked)
		console_release();
	irq_restore(f);
}

/** kprintf - formatted print to the console; atomic per call.  Any context. */
void kprintf(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vkprintf(fmt, ap);
	va_end(ap);
}

/*
 * Input.  Bytes typed on COM1 are moved into a ring whenever anyone looks
 * (console_poll: readers, and the runtime's sysmon every round), so that
 * Ctrl-\ is seen even while no one reads: it is not queued but counted,
 * and console_take_quit reports it.  A full ring drops what comes next.
 */
#define CONSOLE_QUIT 0x1c		/* Ctrl-\, the terminal's SIGQUIT */
#define INBUF 256

static struct spinlock in_lock = SPINLOCK_INIT(LOCKRANK_CONSOLE_IN);
static uint8_t inbuf[INBUF];		/* in_lock */
static uint32_t in_head, in_tail;	/* in_lock */
static uint32_t quit_requests;		/* atomic */

/* Drain the UART into the ring.  in_lock held. */
static void poll_locked(void)
{
	int c;

	assert_spin_owned(&in_lock);
	while ((c = uart_getc()) >= 0) {
		if (c == CONSOLE_QUIT)
			__atomic_add_fetch(&quit_requests, 1, __ATOMIC_RELEASE);
		else if (in_tail - in_head < INBUF)
			inbuf[in_tail++ % INBUF] = (uint8_t)c;
	}
}

/** console_poll - take what was typed into the input ring.  Any context. */
void console_poll(void)
{
	uint64_t f = spin_lock_irqsave(&in_lock);
	poll_locked();
	spin_unlock_irqrestore(&in_lock, f);
}

/** console_take_quit - whether Ctrl-\ was typed since the last call. */
bool console_take_quit(void)
{
	return __atomic_exchange_n(&quit_requests, 0, __ATOMIC_ACQ_REL) != 0;
}

/** console_getc - a byte typed on the console, or -1.  Never blocks. */
int console_getc(void)
{
	int c = -1;
	uint64_t f = spin_lock_irqsave(&in_lock);

	poll_locked();
	if (in_head != in_tail)
		c = inbuf[in_head++ % INBUF];
	spin_unlock_irqrestore(&in_lock, f);
	return c;
}

/**
 * console_read - up to @n bytes typed on the console; blocks the calling
 * thread until at least one arrives or @deadline (nanotime; 0: none)
 * passes.  The UART is polled every millisecond (its interrupt line is not
 * routed: no I/O APIC driver).  Thread context.  Returns the count (0 on
 * timeout).
 */
int console_read(char *buf, int n, uint64_t deadline)
{
	int got = 0;

	for (;;) {
		int c;
		while (got < n && (c = console_getc()) >= 0)
			buf[got++] = (char)c;
		if (got || (deadline && nanotime() >= deadline))
			return got;
		uint64_t next = nanotime() + NSEC_PER_MSEC;
		ksleep_until(deadline && deadline < next ? deadline : next);
	}
}
