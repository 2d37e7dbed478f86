/* kernel/console.h - the serial console (kprintf is declared in lib.h). */
#ifndef RT0_CONSOLE_H
#define RT0_CONSOLE_H

#include <stddef.h>
#include <stdbool.h>
#include <stdint.h>

extern int32_t panic_cpu;	/* id of the CPU in panic(), or -1 */

void console_write(const char *s, size_t n);
int console_getc(void);
int console_read(char *buf, int n, uint64_t deadline);
void console_poll(void);
bool console_take_quit(void);
/* console_hold - take the console for good (the machine is exiting): an
 * output in progress on another CPU ends first.  Any context. */
void console_hold(void);

#endif
