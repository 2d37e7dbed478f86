/*
 * kernel/cmdline.c - parsing key=value words against the declared keys.
 */
#include "cmdline.h"

extern const struct kparam _kparams_start[], _kparams_end[];

static const struct kparam *find(const char *key, size_t len)
{
	for (const struct kparam *p = _kparams_start; p < _kparams_end; p++)
		if (strlen(p->name) == len && !strncmp(p->name, key, len))
			return p;
	return NULL;
}

static void form(const struct kparam *p, char *buf, size_t n)
{
	switch (p->type) {
	case KP_UINT:
		snprintf(buf, n, "%s=N with N in %lu..%lu", p->name, p->min,
			 p->max);
		break;
	case KP_BOOL:
		snprintf(buf, n, "%s=0 or %s=1", p->name, p->name);
		break;
	case KP_STR:
		snprintf(buf, n, "%s=TEXT of at most %u characters", p->name,
			 p->size - 1);
		break;
	}
}

static bool parse_uint(const char *s, size_t len, uint64_t *out)
{
	uint64_t v = 0;
	int base = 10;
	size_t i = 0;

	if (len > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		base = 16;
		i = 2;
	}
	if (i == len)
		return false;
	for (; i < len; i++) {
		int d;
		char c = s[i];
		if (c >= '0' && c <= '9')
			d = c - '0';
		else if (base == 16 && c >= 'a' && c <= 'f')
			d = c - 'a' + 10;
		else if (base == 16 && c >= 'A' && c <= 'F')
			d = c - 'A' + 10;
		else
			return false;
		if (v > (UINT64_MAX - d) / base)
			return false;		/* overflow */
		v = v * base + d;
	}
	*out = v;
	return true;
}

static int bad_value(const struct kparam *p, const char *val, size_t len,
		     char *err, size_t errlen)
{
	char f[96];

	form(p, f, sizeof(f));
	snprintf(err, errlen, "bad value '%.*s' for key '%s': expected %s",
		 (int)len, val, p->name, f);
	return -1;
}

static int one_word(const char *w, size_t len, bool apply, char *err,
		    size_t errlen)
{
	const char *eq = NULL;

	for (size_t i = 0; i < len; i++)
		if (w[i] == '=') {
			eq = w + i;
			break;
		}
	if (!eq) {
		snprintf(err, errlen, "word '%.*s' is not key=value",
			 (int)len, w);
		return -1;
	}
	const struct kparam *p = find(w, eq - w);
	if (!p) {
		snprintf(err, errlen, "unknown key '%.*s' (in '%.*s'); "
			 "boot with help=1 to list the keys",
			 (int)(eq - w), w, (int)len, w);
		return -1;
	}
	const char *val = eq + 1;
	size_t vlen = len - (val - w);
	uint64_t v;

	switch (p->type) {
	case KP_UINT:
		if (!parse_uint(val, vlen, &v) || v < p->min || v > p->max)
			return bad_value(p, val, vlen, err, errlen);
		if (apply && p->size == 4)
			*(uint32_t *)p->var = (uint32_t)v;
		else if (apply)
			*(uint64_t *)p->var = v;
		break;
	case KP_BOOL:
		if (vlen != 1 || (val[0] != '0' && val[0] != '1'))
			return bad_value(p, val, vlen, err, errlen);
		if (apply)
			*(bool *)p->var = val[0] == '1';
		break;
	case KP_STR:
		if (vlen == 0 || vlen >= p->size)
			return bad_value(p, val, vlen, err, errlen);
		if (apply) {
			memcpy(p->var, val, vlen);
			((char *)p->var)[vlen] = '\0';
		}
		break;
	}
	return 0;
}

int cmdline_parse(const char *line, bool apply, char *err, size_t errlen)
{
	/* Printable ASCII only: no byte a key or a value could hide. */
	for (size_t i = 0; line[i]; i++) {
		uint8_t c = (uint8_t)line[i];
		if ((c < 0x20 && c != '\t') || c > 0x7e) {
			snprintf(err, errlen, "byte 0x%02x at offset %lu is not "
				 "printable ASCII", c, (unsigned long)i);
			return -1;
		}
	}
	/* Check everything first, so a bad line changes nothing. */
	for (int pass = 0; pass < (apply ? 2 : 1); pass++) {
		const char *s = line;
		while (*s) {
			while (*s == ' ' || *s == '\t')
				s++;
			const char *w = s;
			while (*s && *s != ' ' && *s != '\t')
				s++;
			if (s > w && one_word(w, s - w, pass == 1, err, errlen))
				return -1;
		}
	}
	return 0;
}

void cmdline_print_help(void)
{
	char f[96];

	kprintf("rt0 command-line keys:\n");
	for (const struct kparam *p = _kparams_start; p < _kparams_end; p++) {
		form(p, f, sizeof(f));
		kprintf("  %-44s %s\n", f, p->help);
	}
}
