/*
 * arch/x86_64/uart.c - COM1 at I/O port 0x3f8, 115200 8N1, polled.
 *
 * Callers serialize (kernel/console.c holds the console lock); this file
 * keeps no state.  '\n' goes out as "\r\n" so a terminal shows lines.
 */
#include "uart.h"
#include "x86.h"

#define COM1	0x3f8
#define THR	0	/* transmit holding (write) */
#define RBR	0	/* receive buffer (read) */
#define IER	1
#define FCR	2
#define LCR	3
#define MCR	4
#define LSR	5
#define LSR_DR	0x01	/* data ready */
#define LSR_THRE 0x20	/* transmit holding register empty */

/** uart_init - program COM1 for 115200 8N1 with FIFOs, no interrupts. */
void uart_init(void)
{
	outb(COM1 + IER, 0x00);
	outb(COM1 + LCR, 0x80);		/* DLAB: divisor follows */
	outb(COM1 + 0, 0x01);		/* 115200 baud */
	outb(COM1 + 1, 0x00);
	outb(COM1 + LCR, 0x03);		/* 8N1 */
	outb(COM1 + FCR, 0xc7);		/* FIFO on, cleared, 14-byte trigger */
	outb(COM1 + MCR, 0x03);		/* DTR, RTS */
}

static void putc_raw(char c)
{
	for (int spin = 0; spin < 100000; spin++)
		if (inb(COM1 + LSR) & LSR_THRE)
			break;
	outb(COM1 + THR, (uint8_t)c);
}

/** uart_write - send @n bytes; the caller holds the console lock. */
void uart_write(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '\n')
			putc_raw('\r');
		putc_raw(s[i]);
	}
}

/** uart_getc - a received byte, or -1 if none is waiting.  Never blocks. */
int uart_getc(void)
{
	if (!(inb(COM1 + LSR) & LSR_DR))
		return -1;
	return inb(COM1 + RBR);
}
