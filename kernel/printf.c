/*
 * kernel/printf.c - rt0's own formatted printing.
 *
 * One engine, vformat(), writes through a sink; kprintf() (console.c) and
 * snprintf() are thin users.  Supported: %d %i %u %x %X %p %s %c %%, the
 * flags '-' and '0', a width (digits or '*'), a precision for %s, and the
 * length modifiers h, l, ll, z.  Unknown conversions are printed verbatim so
 * a bad format is visible rather than silently dropped.
 */
#include "lib.h"

struct fmt_spec {
	bool left;		/* '-': pad on the right */
	bool zero;		/* '0': pad numbers with zeros */
	int width;
	int prec;		/* -1: none */
};

static void pad(fmt_sink sink, void *arg, char c, int n)
{
	char buf[16];

	memset(buf, c, sizeof(buf));
	while (n > 0) {
		int k = n < (int)sizeof(buf) ? n : (int)sizeof(buf);
		sink(arg, buf, k);
		n -= k;
	}
}

static void emit(fmt_sink sink, void *arg, const struct fmt_spec *sp,
		 const char *prefix, const char *body, int len, bool number)
{
	int plen = (int)strlen(prefix);
	int fill = sp->width - len - plen;

	if (!sp->left && !(number && sp->zero))
		pad(sink, arg, ' ', fill);
	sink(arg, prefix, plen);
	if (!sp->left && number && sp->zero)
		pad(sink, arg, '0', fill);
	sink(arg, body, len);
	if (sp->left)
		pad(sink, arg, ' ', fill);
}

static void fmt_number(fmt_sink sink, void *arg, struct fmt_spec *sp,
		       uint64_t v, bool neg, int base, bool upper,
		       const char *prefix)
{
	const char *digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
	char buf[24];
	int i = sizeof(buf);

	do {
		buf[--i] = digits[v % base];
		v /= base;
	} while (v);
	emit(sink, arg, sp, neg ? "-" : prefix, buf + i, sizeof(buf) - i,
	     true);
}

void vformat(fmt_sink sink, void *arg, const char *fmt, va_list ap)
{
	while (*fmt) {
		const char *lit = fmt;
		while (*fmt && *fmt != '%')
			fmt++;
		if (fmt > lit)
			sink(arg, lit, fmt - lit);
		if (!*fmt)
			break;

		const char *start = fmt++;
		struct fmt_spec sp = { .prec = -1 };
		for (;; fmt++) {
			if (*fmt == '-')
				sp.left = true;
			else if (*fmt == '0')
				sp.zero = true;
			else
				break;
		}
		if (*fmt == '*') {
			sp.width = va_arg(ap, int);
			if (sp.width < 0) {
				sp.left = true;
				sp.width = -sp.width;
			}
			fmt++;
		}
		while (*fmt >= '0' && *fmt <= '9')
			sp.width = sp.width * 10 + (*fmt++ - '0');
		if (*fmt == '.') {
			fmt++;
			sp.prec = 0;
			if (*fmt == '*') {
				sp.prec = va_arg(ap, int);
				fmt++;
			}
			while (*fmt >= '0' && *fmt <= '9')
				sp.prec = sp.prec * 10 + (*fmt++ - '0');
		}
		int lng = 0;
		for (;; fmt++) {
			if (*fmt == 'l' || *fmt == 'z')
				lng++;
			else if (*fmt != 'h')
				break;
		}

		switch (*fmt) {
		case 'd':
		case 'i': {
			int64_t v = lng ? va_arg(ap, int64_t) : va_arg(ap, int);
			uint64_t mag = v < 0 ? -(uint64_t)v : (uint64_t)v;
			fmt_number(sink, arg, &sp, mag, v < 0, 10, false, "");
			break;
		}
		case 'u':
		case 'x':
		case 'X': {
			uint64_t v = lng ? va_arg(ap, uint64_t)
					 : va_arg(ap, unsigned int);
			fmt_number(sink, arg, &sp, v, false,
				   *fmt == 'u' ? 10 : 16, *fmt == 'X', "");
			break;
		}
		case 'p': {
			uintptr_t v = (uintptr_t)va_arg(ap, void *);
			struct fmt_spec psp = sp;
			if (!psp.width) {
				psp.width = 18;
				psp.zero = true;
			}
			fmt_number(sink, arg, &psp, v, false, 16, false, "0x");
			break;
		}
		case 's': {
			const char *s = va_arg(ap, const char *);
			if (!s)
				s = "(null)";
			int len = 0;
			while (s[len] && (sp.prec < 0 || len < sp.prec))
				len++;
			emit(sink, arg, &sp, "", s, len, false);
			break;
		}
		case 'c': {
			char c = (char)va_arg(ap, int);
			emit(sink, arg, &sp, "", &c, 1, false);
			break;
		}
		case '%':
			sink(arg, "%", 1);
			break;
		default:
			/* Unknown: print it as written, so the bug shows. */
			sink(arg, start, fmt - start + (*fmt ? 1 : 0));
			if (!*fmt)
				return;
			break;
		}
		fmt++;
	}
}

struct buf_sink {
	char *buf;
	size_t size;
	size_t len;		/* characters that would have been written */
};

static void buf_put(void *arg, const char *s, size_t n)
{
	struct buf_sink *b = arg;

	for (size_t i = 0; i < n; i++, b->len++)
		if (b->len + 1 < b->size)
			b->buf[b->len] = s[i];
}

int vsnprintf(char *buf, size_t size, const char *fmt, va_list ap)
{
	struct buf_sink b = { buf, size, 0 };

	vformat(buf_put, &b, fmt, ap);
	if (size)
		buf[b.len < size ? b.len : size - 1] = '\0';
	return (int)b.len;
}

int snprintf(char *buf, size_t size, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, size, fmt, ap);
	va_end(ap);
	return n;
}

void linebuf_flush(struct linebuf *lb)
{
	if (lb->n)
		lb->sink(lb->arg, lb->buf, lb->n);
	lb->n = 0;
}

void linebuf_put(void *p, const char *s, size_t n)
{
	struct linebuf *lb = p;

	for (size_t i = 0; i < n; i++) {
		lb->buf[lb->n++] = s[i];
		if (s[i] == '\n' || lb->n == sizeof(lb->buf))
			linebuf_flush(lb);
	}
}

/** sinkf - format to @sink (a console, a buffer, a report). */
void sinkf(fmt_sink sink, void *arg, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vformat(sink, arg, fmt, ap);
	va_end(ap);
}
