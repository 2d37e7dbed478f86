/* tests/printf_test.c - rt0's own formatted printing. */
#include "kernel/ktest.h"

/* Not declared printf-like, so formats gcc would reject can be tried. */
static int fmt(char *b, size_t n, const char *f, ...)
{
	va_list ap;
	int r;

	va_start(ap, f);
	r = vsnprintf(b, n, f, ap);
	va_end(ap);
	return r;
}

#define FMT_EQ(want, ...)						\
	do {								\
		char _b[128];						\
		int _n = fmt(_b, sizeof(_b), __VA_ARGS__);		\
		KT_ASSERTF(!strcmp(_b, want) && _n == (int)strlen(want), \
			   "format %s gave '%s' (%d), want '%s'", #__VA_ARGS__, \
			   _b, _n, want);				\
	} while (0)

KTEST(printf_conversions)
{
	FMT_EQ("42 -7 0", "%d %i %d", 42, -7, 0);
	FMT_EQ("-2147483648", "%d", (int)0x80000000);
	FMT_EQ("-9223372036854775808", "%ld", (long)0x8000000000000000ull);
	FMT_EQ("4294967295", "%u", 0xffffffffu);
	FMT_EQ("18446744073709551615", "%lu", ~0ul);
	FMT_EQ("beef BEEF", "%x %X", 0xbeef, 0xbeef);
	FMT_EQ("123456789abcdef0", "%lx", 0x123456789abcdef0ul);
	FMT_EQ("0x00000000deadbeef", "%p", (void *)0xdeadbeef);
	FMT_EQ("hi (null)", "%s %s", "hi", (char *)NULL);
	FMT_EQ("x%", "%c%%", 'x');
	FMT_EQ("7 8", "%zu %llu", (size_t)7, 8ull);
}

KTEST(printf_width_and_padding)
{
	FMT_EQ("   42", "%5d", 42);
	FMT_EQ("00042", "%05d", 42);
	FMT_EQ("-0042", "%05d", -42);
	FMT_EQ("42   |", "%-5d|", 42);
	FMT_EQ("000000ff", "%08x", 0xff);
	FMT_EQ("  ab|ab  |", "%4s|%-4s|", "ab", "ab");
	FMT_EQ("abc", "%.3s", "abcdef");
	FMT_EQ("    7", "%*d", 5, 7);
	FMT_EQ("toolong", "%3s", "toolong");
}

KTEST(printf_truncation)
{
	char b[8];
	int n = snprintf(b, sizeof(b), "%s", "0123456789");

	KT_EQ(n, 10);			/* the length it wanted */
	KT_ASSERT(!strcmp(b, "0123456"));
	KT_EQ(snprintf(NULL, 0, "%d", 12345), 5);
	/* An unknown conversion is shown, not swallowed. */
	FMT_EQ("a%qb", "a%qb");
}
