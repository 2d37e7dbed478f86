/*
 * arch/x86_64/pic.c - the legacy 8259 pair: remap it away from the exception
 * vectors and mask every line.
 *
 * SeaBIOS leaves the PIC delivering the PIT on vector 8, which would look
 * like a double fault at the first sti.  rt0 uses only LAPIC interrupts, so
 * the PIC is remapped to V_PIC_BASE (in case a line fires before the mask
 * lands) and fully masked.  On microvm without a PIC the writes go nowhere.
 */
#include "pic.h"
#include "trap.h"
#include "x86.h"

#define PIC1_CMD 0x20
#define PIC1_DATA 0x21
#define PIC2_CMD 0xa0
#define PIC2_DATA 0xa1

/** pic_disable - remap to V_PIC_BASE..+15 and mask all lines.  Returns. */
void pic_disable(void)
{
	outb(PIC1_CMD, 0x11);		/* ICW1: init, ICW4 follows */
	outb(PIC2_CMD, 0x11);
	outb(PIC1_DATA, V_PIC_BASE);	/* ICW2: vector offset */
	outb(PIC2_DATA, V_PIC_BASE + 8);
	outb(PIC1_DATA, 0x04);		/* ICW3: slave on IRQ2 */
	outb(PIC2_DATA, 0x02);
	outb(PIC1_DATA, 0x01);		/* ICW4: 8086 mode */
	outb(PIC2_DATA, 0x01);
	outb(PIC1_DATA, 0xff);		/* mask everything */
	outb(PIC2_DATA, 0xff);
}
