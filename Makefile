# rt0 - a bare-metal x86-64 image running Go's G/M/P scheduler.
#
#   make            build/rt0.elf (the image; symbols kept for gdb)
#   make iso        build/rt0.iso (GRUB, multiboot2)
#   make run        boot the image in this terminal (SMP=4 MEM=1G
#                   CMDLINE=...)
#   make test       the test matrix; ends with "N passed, N failed"
#   make bench      the benchmarks (bench <name> <value> <unit> lines)
#   make stress     the runtime's tests under seeded scheduling (SEEDS=100,
#                   STRESS_SMP="1 2 4"): a failing seed prints its command
#   make gdb        boot paused and debug it: gdb in this terminal, with
#                   tools/rt0-gdb.py (info goroutines, goroutine N bt, ...);
#                   GDBPORT=1234, SMP=, CMDLINE=; console in
#                   build/gdb-console.log
#   make gdb-server boot paused with QEMU's gdb server on :1234, for a gdb
#                   run elsewhere (gdb -x tools/rt0-gdb.py build/rt0.elf)
#   make gdbtest    check tools/rt0-gdb.py on a live image (app=gdbdemo)
#   make plot       boot like make run but headless, console to
#                   build/schedtrace.log, and plot its schedtrace lines
#                   to build/schedtrace.png (LOG=file: plot that log)
#   make trace      boot with the execution tracer on (trace=1 added to
#                   CMDLINE), capture it from the debug console and write
#                   build/trace.json (Perfetto, chrome://tracing) and
#                   build/trace.png (docs/trace.md); e.g.
#                   make trace CMDLINE="app=spread"
#   make APP=dir    build/app-NAME/rt0.elf: an image whose programs are
#                   dir/*.c (public headers only); with run, test, iso, gdb
#                   (docs/programs.md)
#   make DEBUG=1    build/debug/rt0.elf: lock owners and ranks, and every
#                   "X held", "interrupts off", "on g0" precondition checked
#                   (any target: make DEBUG=1 run)
#
# Needs gcc, binutils and make; QEMU (GRUB for the ISO, gdb for make gdb,
# matplotlib for make plot; all of them for make test) are installed by
# tools/deps.sh on first use.

BUILD   := build
CC      := gcc
SMP     ?= 4
CMDLINE ?= schedtrace=500
MACHINE ?= microvm

COMMON_CFLAGS := -std=gnu11 -O2 -g -ffreestanding -fno-builtin \
	-fno-stack-protector -fno-pie -fno-pic -mno-red-zone -mcmodel=small \
	-fno-omit-frame-pointer -mno-omit-leaf-frame-pointer -fno-shrink-wrap \
	-fno-asynchronous-unwind-tables -fno-unwind-tables \
	-fcf-protection=none -ftls-model=local-exec -fno-strict-aliasing \
	--param=min-pagesize=0 \
	-Wall -Wextra -Werror -Wno-unused-parameter -MMD -MP
# The tree's own code sees every header; a program from outside the tree
# (APP=) sees only the public ones (include/).
TREE_INCLUDES := -I. -Iinclude
ifdef DEBUG
BUILD := build/debug
COMMON_CFLAGS += -DRT0_DEBUG
endif
# The kernel and runtime never touch FPU/SSE registers, so a voluntary
# switch need not save them; programs and tests may use them freely.
# RT0_USER_TEXT: program text, where goroutines may be preempted at any
# instruction (sched/lock.h keeps runtime inlines out of it).
KERNEL_CFLAGS := $(COMMON_CFLAGS) $(TREE_INCLUDES) -mgeneral-regs-only
USER_CFLAGS   := $(COMMON_CFLAGS) $(TREE_INCLUDES) -DRT0_USER_TEXT
APP_CFLAGS    := $(COMMON_CFLAGS) -I$(CURDIR)/include -DRT0_USER_TEXT
ASFLAGS       := -g -I. -Iboot -Iarch/x86_64 -Ikernel -Isched -MMD -MP
LDFLAGS       := -nostdlib -static -no-pie -Wl,-T,linker.ld \
	-Wl,-z,max-page-size=0x1000 -Wl,--build-id=none -Wl,-z,noexecstack \
	-Wl,--no-warn-rwx-segments

BOOT_SRCS   := boot/header.S boot/entry.S boot/trampoline.S
ARCH_SRCS   := $(wildcard arch/x86_64/*.c) $(wildcard arch/x86_64/*.S)
KERNEL_SRCS := $(wildcard kernel/*.c) $(wildcard kernel/*.S)
SCHED_SRCS  := $(wildcard sched/*.c) $(wildcard sched/*.S)
USER_SRCS   := $(wildcard apps/*.c) $(wildcard tests/*.c)

objs = $(patsubst %,$(BUILD)/%.o,$(basename $(1)))
KOBJS := $(call objs,$(BOOT_SRCS) $(ARCH_SRCS) $(KERNEL_SRCS) $(SCHED_SRCS))
UOBJS := $(call objs,$(USER_SRCS))
OBJS  := $(KOBJS) $(UOBJS)

# The image: rt0's own (its apps and tests), or with APP=dir the runtime
# and dir/*.c, built in build/app-NAME (objects under apps/, so the
# linker puts them in program text: linker.ld).
ifdef APP
APP_DIR  := $(patsubst %/,%,$(APP))
APP_NAME := $(notdir $(abspath $(APP_DIR)))
IMG      := $(BUILD)/app-$(APP_NAME)
APP_SRCS := $(wildcard $(APP_DIR)/*.c)
ifeq ($(APP_SRCS),)
$(error APP=$(APP): no .c files there (a program is a directory of .c files: docs/programs.md))
endif
APP_OBJS := $(patsubst $(APP_DIR)/%.c,$(IMG)/apps/%.o,$(APP_SRCS))
IMG_OBJS := $(KOBJS) $(APP_OBJS)
else
IMG      := $(BUILD)
IMG_OBJS := $(OBJS)
endif

.DELETE_ON_ERROR:
.PHONY: all iso run test bench stress gdb gdb-server gdbtest clean deps \
	deps-all debug-image plot trace
all: $(IMG)/rt0.elf

Q := @
ifdef V
Q :=
endif

$(BUILD)/%.o: %.S
	@mkdir -p $(dir $@)
	@echo "  AS    $<"
	$(Q)$(CC) $(ASFLAGS) -c $< -o $@

$(BUILD)/kernel/%.o $(BUILD)/arch/%.o $(BUILD)/sched/%.o: CFLAGS := $(KERNEL_CFLAGS)
$(BUILD)/apps/%.o $(BUILD)/tests/%.o: CFLAGS := $(USER_CFLAGS)
$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	@echo "  CC    $<"
	$(Q)$(CC) $(CFLAGS) -c $< -o $@

ifdef APP
# A program from outside the tree: public headers only (checked first,
# with a message that says so), the flags of apps/.
$(IMG)/apps/%.o: $(APP_DIR)/%.c $(IMG)/headers.ok
	@mkdir -p $(dir $@)
	@echo "  CC    $<"
	$(Q)$(CC) $(APP_CFLAGS) -c $< -o $@
$(IMG)/headers.ok: $(APP_SRCS) $(wildcard $(APP_DIR)/*.h) tools/appcheck.sh
	@mkdir -p $(IMG)
	@sh tools/appcheck.sh "$(APP_DIR)" && touch $@
-include $(APP_OBJS:.o=.d)
endif

# Two links: the first gives the symbol table, which the second adds in
# .ksyms, the last section, so no other symbol moves (checked).
$(BUILD)/ksyms0.S: tools/gensyms.sh
	@mkdir -p $(BUILD)
	sh tools/gensyms.sh > $@
$(IMG)/rt0.pass1.elf: $(IMG_OBJS) $(BUILD)/ksyms0.o linker.ld
	@echo "  LD    $@"
	$(Q)$(CC) $(LDFLAGS) -o $@ $(IMG_OBJS) $(BUILD)/ksyms0.o
$(IMG)/ksyms.S: $(IMG)/rt0.pass1.elf tools/gensyms.sh
	sh tools/gensyms.sh $< > $@
$(IMG)/rt0.elf: $(IMG)/rt0.pass1.elf $(IMG)/ksyms.o
	@echo "  LD    $@"
	$(Q)$(CC) $(LDFLAGS) -o $@ $(IMG_OBJS) $(IMG)/ksyms.o
	@nm -n $(IMG)/rt0.pass1.elf | grep ' [tTwW] ' > $(IMG)/syms1.txt
	@nm -n $@ | grep ' [tTwW] ' > $(IMG)/syms2.txt
	@cmp -s $(IMG)/syms1.txt $(IMG)/syms2.txt || \
		{ echo "ksyms: symbols moved between links"; exit 1; }
	@objdump -d -S $@ > $(IMG)/rt0.asm 2>/dev/null || true

# ISO images: the command line is baked into grub.cfg.
ISO_CMDLINE ?=
$(IMG)/rt0.iso: $(IMG)/rt0.elf tools/mkiso.sh
	@sh tools/deps.sh iso
	sh tools/mkiso.sh $< $@ "$(ISO_CMDLINE)"
iso: $(IMG)/rt0.iso

# Host tools.
$(BUILD)/rt0run: tools/rt0run.c
	@mkdir -p $(BUILD)
	$(CC) -O2 -Wall -Wextra -Werror -o $@ $<
$(BUILD)/cmdfuzz: tools/cmdfuzz.c
	@mkdir -p $(BUILD)
	$(CC) -O2 -Wall -Wextra -Werror -o $@ $<

# Host programs run by make test: the run queue under ThreadSanitizer.
HOST_TESTS := $(BUILD)/host/runq_stress.test
$(BUILD)/host/runq_stress.test: tests/host/runq_stress.c tests/host/runq_host.h sched/runq.c sched/runq.h \
		sched/runq_inline.h
	@mkdir -p $(dir $@)
	@echo "  HOSTCC $@ (ThreadSanitizer)"
	$(Q)$(CC) -O1 -g -fsanitize=thread \
		-DRUNQ_ENV='"tests/host/runq_host.h"' -I. -Wall -Wextra -Werror \
		tests/host/runq_stress.c sched/runq.c -o $@ -lpthread

# What each target needs from the host (tools/deps.sh installs it).
deps:
	@sh tools/deps.sh
deps-all:
	@sh tools/deps.sh iso gdb plot

MEM     ?= 1G
run: deps $(IMG)/rt0.elf $(BUILD)/rt0run
	@$(BUILD)/rt0run -e $(IMG)/rt0.elf -m $(MACHINE) -s $(SMP) -M $(MEM) \
		-c "$(CMDLINE)" -i

GDBPORT ?= 1234
gdb: $(IMG)/rt0.elf $(BUILD)/rt0run
	@sh tools/deps.sh gdb
	@sh tools/gdb.sh $(IMG)/rt0.elf $(MACHINE) $(SMP) "$(CMDLINE)" $(GDBPORT)

gdb-server: deps $(IMG)/rt0.elf $(BUILD)/rt0run
	@echo "gdb -x tools/rt0-gdb.py $(IMG)/rt0.elf -ex 'target remote :1234'"
	@$(BUILD)/rt0run -e $(IMG)/rt0.elf -m $(MACHINE) -s $(SMP) -c "$(CMDLINE)" -i -g

gdbtest: $(BUILD)/rt0.elf $(BUILD)/rt0run
	@sh tools/deps.sh gdb
	@ELF=$(BUILD)/rt0.elf sh tools/gdbtest.sh

# Debian's python3: the one python3-matplotlib installs into.
PYTHON ?= /usr/bin/python3
PLOTLOG := $(if $(LOG),$(LOG),$(BUILD)/schedtrace.log)
plot: $(if $(LOG),,$(IMG)/rt0.elf $(BUILD)/rt0run)
	@sh tools/deps.sh plot
ifndef LOG
	@echo "plot: booting -m $(MACHINE) -smp $(SMP) \"$(CMDLINE)\", console to $(PLOTLOG)"
	@$(BUILD)/rt0run -e $(IMG)/rt0.elf -m $(MACHINE) -s $(SMP) -c "$(CMDLINE)" \
		-t 120 > $(PLOTLOG) 2>&1 || echo "plot: guest exit status $$?"
endif
	@mkdir -p $(BUILD)
	@$(PYTHON) tools/schedplot.py -o $(BUILD)/schedtrace.png $(PLOTLOG)

trace: deps $(IMG)/rt0.elf $(BUILD)/rt0run
	@sh tools/deps.sh plot
	@RT0RUN=$(BUILD)/rt0run sh tools/trace.sh $(IMG)/rt0.elf $(MACHINE) $(SMP) \
		"$(CMDLINE)" $(BUILD)

# make test also runs the suite on the debug image, built beside the other.
debug-image:
	@$(MAKE) --no-print-directory DEBUG=1 build/debug/rt0.elf
ifdef APP
# A program's own tests (GO_TEST, include/rt0/test.h) on its image.
test: deps $(IMG)/rt0.elf $(BUILD)/rt0run
	@sh tools/apptest.sh $(IMG)/rt0.elf "$(APP_DIR)" $(SMP)
else
test: deps-all $(BUILD)/rt0.elf debug-image $(BUILD)/rt0run $(BUILD)/cmdfuzz $(HOST_TESTS)
	@sh tools/test.sh
endif

bench: deps $(BUILD)/rt0.elf $(BUILD)/rt0run
	@sh tools/bench.sh

stress: deps debug-image $(BUILD)/rt0run
	@sh tools/stress.sh

clean:
	rm -rf $(BUILD)

-include $(OBJS:.o=.d)
