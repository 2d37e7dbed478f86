/*
 * kernel/lib.h - what every kernel, runtime and test file needs: fixed-width
 * types, the three levels of checks, string functions and formatted print.
 */
#ifndef RT0_LIB_H
#define RT0_LIB_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>

#define likely(x)	__builtin_expect(!!(x), 1)
#define unlikely(x)	__builtin_expect(!!(x), 0)
#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))
#define ALIGN_UP(x, a)	(((x) + ((a) - 1)) & ~((uint64_t)(a) - 1))
#define ALIGN_DOWN(x, a) ((x) & ~((uint64_t)(a) - 1))
#define MIN(a, b)	((a) < (b) ? (a) : (b))
#define MAX(a, b)	((a) > (b) ? (a) : (b))
#define container_of(p, type, member) \
	((type *)((char *)(p) - offsetof(type, member)))
#define READ_ONCE(x)	(*(const volatile __typeof__(x) *)&(x))
#define WRITE_ONCE(x, v) (*(volatile __typeof__(x) *)&(x) = (v))
#define barrier()	__asm__ volatile("" ::: "memory")
#define __noreturn	__attribute__((noreturn))
#define __always_inline	inline __attribute__((always_inline))
#define __printf(a, b)	__attribute__((format(printf, a, b)))

/* Compile-time check. */
#define BUILD_ASSERT(c)	_Static_assert(c, #c)

/*
 * KERNEL_MAIN(fn) - the layer above the kernel names what the boot
 * thread runs once the machine is up (the runtime's rt0_go): exactly one
 * in the image; kernel_main calls it and it must not return.  So the
 * kernel names nothing above it.
 */
#define KERNEL_MAIN(fn)							\
	static void (*const __kernel_main_##fn)(void)			\
	__attribute__((section(".kmain"), used)) = fn

/* Always-on checks: they print the condition (and the values) and panic. */
#define BUG_ON(c)							\
	do {								\
		if (unlikely(c))					\
			panic("BUG_ON(%s) at %s:%d", #c, __FILE__, __LINE__); \
	} while (0)
#define BUG_ON_CMP(a, op, b)						\
	do {								\
		uint64_t _a = (uint64_t)(a), _b = (uint64_t)(b);	\
		if (unlikely(_a op _b))					\
			panic("BUG_ON(%s %s %s) at %s:%d: 0x%lx %s 0x%lx", \
			      #a, #op, #b, __FILE__, __LINE__, _a, #op, _b); \
	} while (0)
#define BUG(msg) panic("BUG: %s at %s:%d", msg, __FILE__, __LINE__)

/* Debug-only checks (make DEBUG=1). */
#ifdef RT0_DEBUG
#define DEBUG_ASSERT(c) BUG_ON(!(c))
#else
#define DEBUG_ASSERT(c) do { (void)sizeof(c); } while (0)
#endif

/* string.c */
void *memcpy(void *d, const void *s, size_t n);
void *memmove(void *d, const void *s, size_t n);
void *memset(void *d, int c, size_t n);
int memcmp(const void *a, const void *b, size_t n);
size_t strlen(const char *s);
int strcmp(const char *a, const char *b);
int strncmp(const char *a, const char *b, size_t n);
char *strchr(const char *s, int c);
char *strstr(const char *hay, const char *needle);
bool glob_match(const char *pat, const char *s);

/* printf.c: %d %i %u %x %X %p %s %c %%, flags '-' '0', width (or *),
 * precision for %s, length l ll z h. */
typedef void (*fmt_sink)(void *arg, const char *s, size_t n);
void vformat(fmt_sink sink, void *arg, const char *fmt, va_list ap);
void sinkf(fmt_sink sink, void *arg, const char *fmt, ...) __printf(3, 4);
void console_sink(void *arg, const char *s, size_t n);	/* arg unused */

/*
 * A line buffer in front of a sink: output reaches the sink one whole
 * line per call (so a line built from many pieces is still written
 * atomically to the console).  linebuf_flush writes a partial last line.
 */
struct linebuf {
	fmt_sink sink;
	void *arg;
	size_t n;
	char buf[256];
};
void linebuf_put(void *lb, const char *s, size_t n);
void linebuf_flush(struct linebuf *lb);
int vsnprintf(char *buf, size_t size, const char *fmt, va_list ap);
int snprintf(char *buf, size_t size, const char *fmt, ...) __printf(3, 4);

/* console.c: kprintf writes whole calls atomically with respect to other
 * CPUs (one kprintf call never interleaves with another). */
void kprintf(const char *fmt, ...) __printf(1, 2);
void vkprintf(const char *fmt, va_list ap);

/* panic.c */
void panic(const char *fmt, ...) __printf(1, 2) __noreturn;

#endif
