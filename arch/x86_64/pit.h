/* arch/x86_64/pit.h - the 8254 PIT, channel 0, as a reference clock. */
#ifndef RT0_PIT_H
#define RT0_PIT_H

#include <stdint.h>

#define PIT_HZ 1193182u

/*
 * pit_measure - count how much @read_counter advances over @pit_ticks
 * ticks of PIT channel 0 (pit_ticks < 65536).  Uses one-shot mode 0 and
 * polling, so it needs no interrupts and works without port 0x61 (microvm).
 * Returns the counter delta; *elapsed gets the PIT ticks actually seen.
 */
uint64_t pit_measure(uint64_t (*read_counter)(void), uint32_t pit_ticks,
		     uint32_t *elapsed);

#endif
