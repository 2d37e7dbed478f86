/*
 * arch/x86_64/pit.c - PIT channel 0 as a stopwatch.
 *
 * Mode 0 (interrupt on terminal count) counts down from the loaded value
 * once; the counter is read with a latch command.  The PIC is masked, so
 * reaching zero raises nothing.  Each sample brackets the PIT read between
 * two reads of the measured counter and keeps the midpoint, so a vCPU that
 * is descheduled between the reads costs accuracy only in that sample.
 */
#include "pit.h"
#include "x86.h"

#define PIT_CH0 0x40
#define PIT_CMD 0x43

static uint16_t pit_read(void)
{
	outb(PIT_CMD, 0x00);		/* latch channel 0 */
	uint8_t lo = inb(PIT_CH0);
	uint8_t hi = inb(PIT_CH0);
	return (uint16_t)(lo | (hi << 8));
}

uint64_t pit_measure(uint64_t (*read_counter)(void), uint32_t pit_ticks,
		     uint32_t *elapsed)
{
	outb(PIT_CMD, 0x30);		/* channel 0, lo/hi, mode 0, binary */
	outb(PIT_CH0, 0xff);
	outb(PIT_CH0, 0xff);

	/* Wait for the count to start moving (the load takes a tick). */
	uint16_t start = pit_read();
	while (pit_read() == start)
		cpu_relax();

	uint64_t a = read_counter();
	start = pit_read();
	uint64_t b = read_counter();
	uint64_t c0 = a + (b - a) / 2;

	uint16_t now;
	uint64_t c1;
	do {
		a = read_counter();
		now = pit_read();
		b = read_counter();
		c1 = a + (b - a) / 2;
	} while ((uint16_t)(start - now) < pit_ticks);

	*elapsed = (uint16_t)(start - now);
	return c1 - c0;
}
