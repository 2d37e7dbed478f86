/* arch/x86_64/uart.h - the COM1 16550 UART. */
#ifndef RT0_UART_H
#define RT0_UART_H

#include <stddef.h>

void uart_init(void);
void uart_write(const char *s, size_t n);
int uart_getc(void);	/* a received byte, or -1 if none is waiting */

#endif
