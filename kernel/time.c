/*
 * kernel/time.c - calibration, the clock and the tick interrupt.
 *
 * The TSC is the clock: under QEMU's TCG it counts from 0 at machine start
 * at a constant rate, the same on every vCPU (under -icount it counts guest
 * instructions).  Its rate is measured against PIT channel 0 (polling; no
 * port 0x61, which microvm lacks); the LAPIC timer's rate is then measured
 * against the TSC.  Each CPU's LAPIC timer runs one-shot, armed for the
 * earlier of its next tick (tick_hz a second) and its earliest kernel
 * timer, so timers fire within microseconds of their deadline while the
 * tick still paces time slicing and the watchdog.  tick_handler() is
 * where the kernel's periodic work starts.
 */
#include "time.h"
#include "cpu.h"
#include "cmdline.h"
#include "tick.h"
#include "ktimer.h"
#include "../arch/x86_64/lapic.h"
#include "../arch/x86_64/pit.h"
#include "../arch/x86_64/trap.h"
#include "../arch/x86_64/x86.h"

uint64_t tsc_hz;
uint64_t lapic_hz;
uint32_t tick_hz = 1000;
KPARAM_UINT(hz, tick_hz, 10, 10000, "periodic tick rate per CPU, in Hz");

static uint64_t ns_mult;	/* ns = tsc * ns_mult >> 32 */
static uint64_t tsc_mult;	/* tsc = ns * tsc_mult >> 32 */

static uint64_t read_tsc(void)
{
	return rdtsc();
}

static uint64_t read_lapic_elapsed(void)
{
	return 0xffffffffu - lapic_timer_current();
}

uint64_t tsc_to_ns(uint64_t tsc)
{
	return (uint64_t)(((unsigned __int128)tsc * ns_mult) >> 32);
}

uint64_t ns_to_tsc(uint64_t ns)
{
	unsigned __int128 t = ((unsigned __int128)ns * tsc_mult) >> 32;

	/* Saturates: a deadline centuries away is "never", not a wrap. */
	return t > UINT64_MAX ? UINT64_MAX : (uint64_t)t;
}

uint64_t nanotime(void)
{
	return tsc_to_ns(rdtsc());
}

void delay_us(uint64_t us)
{
	uint64_t end = rdtsc() + ns_to_tsc(us * NSEC_PER_USEC);

	while (rdtsc() < end)
		cpu_relax();
}

/*
 * Under TCG a read of the LAPIC count can be held up for milliseconds
 * (QEMU's global lock, the first translation of the code): after GRUB,
 * an unbracketed read made the calibration 25-600% too high.
 */
bool lapic_read_bracketed(uint64_t *elapsed, uint64_t *tsc)
{
	uint64_t a = rdtsc();
	*elapsed = read_lapic_elapsed();
	uint64_t b = rdtsc();
	*tsc = a + (b - a) / 2;
	return b - a < tsc_hz / 100000;
}

/* The LAPIC timer's rate over 1 ms of TSC time, from clean reads. */
static uint64_t lapic_measure(void)
{
	for (int tries = 0; tries < 100; tries++) {
		uint64_t l0, l1, t0, t1;
		lapic_timer_oneshot_masked(0xffffffffu);
		bool ok = lapic_read_bracketed(&l0, &t0);
		while (rdtsc() - t0 < tsc_hz / 1000)
			cpu_relax();
		ok = lapic_read_bracketed(&l1, &t1) && ok;
		lapic_timer_stop();
		if (ok && l1 > l0)
			return (l1 - l0) * tsc_hz / (t1 - t0);
	}
	panic("time: no clean LAPIC timer reading in 100 tries");
}

/* The median of three samples: one disturbed by the host is outvoted. */
static uint64_t median3(uint64_t v[3])
{
	uint64_t lo = MIN(v[0], v[1]), hi = MAX(v[0], v[1]);

	return v[2] < lo ? lo : v[2] > hi ? hi : v[2];
}

/**
 * time_init - measure the TSC three times over 2 ms of PIT time and keep
 * the median (one sample disturbed by the host is outvoted), then the LAPIC
 * timer the same way over 1 ms of TSC time.  Boot CPU, interrupts
 * disabled.  Returns.
 */
void time_init(void)
{
	uint64_t hz[3];
	uint32_t pit_ticks = PIT_HZ / 500;	/* 2 ms */

	assert_irqs_off();
	for (int i = 0; i < 3; i++) {
		uint32_t seen;
		uint64_t d = pit_measure(read_tsc, pit_ticks, &seen);
		hz[i] = d * PIT_HZ / seen;
	}
	tsc_hz = median3(hz);
	if (tsc_hz < 1000000)
		panic("time: TSC rate %lu Hz is implausible", tsc_hz);
	ns_mult = (NSEC_PER_SEC << 32) / tsc_hz;
	/* (tsc_hz << 32) / 1e9 without a 128-bit division (no libgcc). */
	tsc_mult = ((tsc_hz / NSEC_PER_SEC) << 32) +
		   ((tsc_hz % NSEC_PER_SEC) << 32) / NSEC_PER_SEC;

	for (int i = 0; i < 3; i++)
		hz[i] = lapic_measure();
	lapic_hz = median3(hz);
	if (lapic_hz < 1000)
		panic("time: LAPIC timer rate %lu Hz is implausible", lapic_hz);
}

static uint64_t tick_tsc;	/* TSC ticks per tick; constant */

/**
 * timer_program - arm this CPU's LAPIC timer (one-shot) for the earlier
 * of its next tick and its earliest kernel timer.  Interrupts disabled.
 */
void timer_program(void)
{
	struct cpu *c = this_cpu();
	uint64_t when = c->next_tick;
	uint64_t kt = ktimer_next();

	assert_irqs_off();
	if (kt) {
		uint64_t t = ns_to_tsc(kt);
		if (t < when)
			when = t;
	}
	uint64_t now = rdtsc();
	uint64_t count = when > now ? (when - now) * lapic_hz / tsc_hz + 1 : 1;
	if (count > 0xffffffffu)
		count = 0xffffffffu;
	c->armed = when;
	lapic_timer_oneshot(V_TIMER, (uint32_t)count);
}

/* timer_program_if_earlier - a kernel timer at @ns was armed here. */
void timer_program_if_earlier(uint64_t ns)
{
	assert_irqs_off();
	if (ns_to_tsc(ns) < this_cpu()->armed)
		timer_program();
}

static void tick_handler(struct trapframe *tf)
{
	struct cpu *c = this_cpu();
	uint64_t now = rdtsc();
	bool is_tick = now >= c->next_tick;

	if (is_tick) {
		c->ticks++;
		/* Missed ticks merge, as a periodic LAPIC timer's would. */
		c->next_tick += tick_tsc;
		while (c->next_tick <= now) {
			c->next_tick += tick_tsc;
			c->ticks_merged++;
		}
	}
	lapic_eoi();
	ktimer_run();
	timer_program();
	tick(tf, is_tick);
}

void tick_start_cpu(void)
{
	struct cpu *c = this_cpu();

	assert_irqs_off();
	tick_tsc = tsc_hz / tick_hz;
	trap_set_handler(V_TIMER, tick_handler);
	c->next_tick = rdtsc() + tick_tsc;
	timer_program();
}
