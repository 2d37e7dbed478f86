/* arch/x86_64/qemu.h - leaving the machine. */
#ifndef RT0_QEMU_H
#define RT0_QEMU_H

#include <stdint.h>

/*
 * qemu_exit - ask QEMU's isa-debug-exit device (port 0xf4) to exit; QEMU's
 * own exit status becomes (status << 1) | 1.  Returns only if there is no
 * such device.
 */
void qemu_exit(uint32_t status);

#endif
