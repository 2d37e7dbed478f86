/* arch/x86_64/pic.h - the legacy 8259 PIC, only to silence it. */
#ifndef RT0_PIC_H
#define RT0_PIC_H
void pic_disable(void);
#endif
