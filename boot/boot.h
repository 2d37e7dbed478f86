/* boot/boot.h - constants shared by the boot assembly and kernel C. */
#ifndef RT0_BOOT_H
#define RT0_BOOT_H

#define BOOT_MB2		1	/* loaded by a multiboot2 loader (GRUB) */
#define BOOT_PVH		2	/* loaded through the Xen PVH note (QEMU) */

#define MB2_BOOTLOADER_MAGIC	0x36d76289
#define PVH_START_MAGIC		0x336ec578

#define BOOT_STACK_SIZE		65536
#define BOOT_FAIL_STATUS	4	/* "cannot boot": kernel/exit.h's EXIT_MACHINE */

/* Machine constants for the boot assembly only (C uses arch/x86_64/). */
#ifdef __ASSEMBLER__
#define BOOT_CS64		0x08
#define BOOT_DS			0x10

#define PTE_P			0x001
#define PTE_W			0x002
#define PTE_PS			0x080
#define CR0_PE			0x00000001
#define CR0_WP			0x00010000
#define CR0_PG			0x80000000
#define CR4_PAE			0x00000020
#define MSR_EFER		0xc0000080
#define EFER_LME		0x00000100
#define EFER_NXE		0x00000800
#endif

/* AP trampoline: copied to this physical page, started by SIPI vector 8. */
#define TRAMPOLINE_PA		0x8000

#endif
