/*
 * tools/cmdfuzz.c - random kernel command lines, each with what the image
 * must do with it (make test's command-line fuzzer, tools/test.sh).
 *
 *   cmdfuzz SEED COUNT HELPFILE SUFFIX
 *
 * HELPFILE is the image's own help=1 output: the keys and their forms
 * ("hz=N with N in 10..10000", "kstat=0 or kstat=1", "app=TEXT of at
 * most 31 characters"), so the fuzzer follows the image.  Keys that
 * choose what runs (test, bench, help) are left out: SUFFIX (the
 * harness's own test=...) ends every line.  For each of COUNT lines it
 * prints
 *
 *	EXPECT<TAB>LINE
 *
 * where EXPECT is "ok" (the line is valid: the run must pass) or the text
 * the refusal must contain (status 2): the first thing wrong, in the
 * order the image checks (length, then bytes, then word by word).  Lines
 * hold no tab or newline; other bytes are fair game.  The same seed gives
 * the same lines.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAXKEYS 64
#define LINE_MAX_IMAGE 1023	/* BOOT_CMDLINE_MAX - 1 */

enum { UINT, BOOL, STR };

struct key {
	char name[32];
	int type;
	unsigned long long lo, hi;	/* UINT range; STR: hi = max length */
};

static struct key keys[MAXKEYS];
static int nkeys;
static uint64_t rng;

static uint64_t next(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static int pick(int n)
{
	return (int)(next() % (uint64_t)n);
}

static void load_keys(const char *path)
{
	char l[512];
	FILE *f = fopen(path, "r");

	if (!f) {
		perror(path);
		exit(2);
	}
	while (fgets(l, sizeof(l), f)) {
		struct key k = { 0 };
		char name2[32];
		unsigned n;
		if (sscanf(l, " %31[a-z]=N with N in %llu..%llu", k.name, &k.lo,
			   &k.hi) == 3) {
			k.type = UINT;
		} else if (sscanf(l, " %31[a-z]=0 or %31[a-z]=1", k.name,
				  name2) == 2) {
			k.type = BOOL;
		} else if (sscanf(l, " %31[a-z]=TEXT of at most %u characters",
				  k.name, &n) == 2) {
			k.type = STR;
			k.hi = n;
		} else {
			continue;
		}
		if (!strcmp(k.name, "test") || !strcmp(k.name, "bench") ||
		    !strcmp(k.name, "help"))
			continue;
		if (nkeys < MAXKEYS)
			keys[nkeys++] = k;
	}
	fclose(f);
	if (nkeys < 3) {
		fprintf(stderr, "cmdfuzz: only %d keys in %s\n", nkeys, path);
		exit(2);
	}
}

/* A valid value for @k into @v. */
static void valid_value(const struct key *k, char *v, size_t n)
{
	switch (k->type) {
	case UINT: {
		unsigned long long x;
		int w = pick(4);
		x = w == 0 ? k->lo : w == 1 ? k->hi :
		    k->lo + next() % (k->hi - k->lo + 1);
		/* The release image, which the fuzzer runs, refuses any seed
		 * but 0 (the debug image's; the harness checks that). */
		if (!strcmp(k->name, "schedseed"))
			x = 0;
		if (pick(5) == 0)
			snprintf(v, n, "0x%llx", x);
		else
			snprintf(v, n, "%llu", x);
		break;
	}
	case BOOL:
		snprintf(v, n, "%d", pick(2));
		break;
	case STR:
		if (!strcmp(k->name, "app"))
			snprintf(v, n, "%s", pick(2) ? "spread" : "lockosthread");
		else
			snprintf(v, n, "u%d/op", pick(100));
		break;
	}
}

/*
 * An invalid word into @w and the refusal's text into @why.  Returns 0,
 * or 1 if the word is a non-ASCII one (its refusal comes before any word
 * is looked at).
 */
static int invalid_word(char *w, size_t n, char *why, size_t wn)
{
	const struct key *k = &keys[pick(nkeys)];
	char v[128];

	switch (pick(9)) {
	case 0:		/* an unknown key */
		snprintf(w, n, "zz%dkey=%d", pick(1000), pick(10));
		snprintf(why, wn, "unknown key 'zz");
		return 0;
	case 1:		/* no '=' */
		snprintf(w, n, "%s", k->name);
		snprintf(why, wn, "word '%s' is not key=value", k->name);
		return 0;
	case 2:		/* an empty value */
		snprintf(w, n, "%s=", k->name);
		snprintf(why, wn, "bad value '' for key '%s'", k->name);
		return 0;
	case 3: {	/* a non-ASCII or control byte */
		static const char *const bytes[] = { "\x01", "\x7f", "\xff",
						     "\xc3\xa9", "\x1b" };
		valid_value(k, v, sizeof(v));
		snprintf(w, n, "%s=%s%s", k->name, v, bytes[pick(5)]);
		snprintf(why, wn, "is not printable ASCII");
		return 1;
	}
	default:	/* a value of the wrong form or out of range */
		break;
	}
	switch (k->type) {
	case UINT: {
		static const char *const junk[] = {
			"-5", "12abc", "1e3", "0x", "0xg1", "99999999999999999999999",
			"18446744073709551616", " ", "+1",
		};
		if (pick(2) && k->hi < 0xffffffffull)
			snprintf(v, sizeof(v), "%llu", k->hi + 1 + next() % 1000);
		else if (pick(2) && k->lo > 0)
			snprintf(v, sizeof(v), "%llu", k->lo - 1);
		else
			snprintf(v, sizeof(v), "%s", junk[pick(9)]);
		if (!strcmp(v, " "))	/* "k= " is "k=" then a new word */
			strcpy(v, "x");
		break;
	}
	case BOOL: {
		static const char *const junk[] = { "2", "yes", "00", "-1", "true" };
		snprintf(v, sizeof(v), "%s", junk[pick(5)]);
		break;
	}
	case STR: {
		int l = (int)k->hi + 1 + pick(20);	/* too long */
		if (l > (int)sizeof(v) - 1)
			l = sizeof(v) - 1;
		memset(v, 'a', l);
		v[l] = '\0';
		break;
	}
	}
	snprintf(w, n, "%s=%s", k->name, v);
	snprintf(why, wn, "bad value '%s' for key '%s'", v, k->name);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc != 5) {
		fprintf(stderr, "usage: cmdfuzz SEED COUNT HELPFILE SUFFIX\n");
		return 2;
	}
	const char *suffix = argv[4];
	rng = strtoull(argv[1], NULL, 0) * 0x9e3779b97f4a7c15ull | 1;
	int count = atoi(argv[2]);
	load_keys(argv[3]);

	for (int i = 0; i < count; i++) {
		static char line[8192];
		char why[256] = "ok", w[512];
		size_t len = 0;
		int nonascii = 0, bad = 0;
		int words = pick(6);

		line[0] = '\0';
		if (i % 50 == 49) {
			/* A line too long for the image (4 KiB of valid words). */
			while (len < 4096) {
				const struct key *k = &keys[pick(nkeys)];
				char v[128];
				valid_value(k, v, sizeof(v));
				len += snprintf(line + len, sizeof(line) - len,
						"%s%s=%s", len ? " " : "", k->name, v);
			}
			printf("longer than %d bytes\t%s %s\n", LINE_MAX_IMAGE,
			       line, suffix);
			continue;
		}
		for (int j = 0; j < words; j++) {
			if (pick(3) == 0) {
				char wy[256];
				int na = invalid_word(w, sizeof(w), wy, sizeof(wy));
				if (na && !nonascii) {
					nonascii = 1;
					snprintf(why, sizeof(why), "%s", wy);
				} else if (!na && !bad && !nonascii) {
					snprintf(why, sizeof(why), "%s", wy);
				}
				bad = 1;
			} else {
				const struct key *k = &keys[pick(nkeys)];
				char v[128];
				valid_value(k, v, sizeof(v));
				snprintf(w, sizeof(w), "%s=%s", k->name, v);
			}
			len += snprintf(line + len, sizeof(line) - len, "%s%s",
					len ? "  " + pick(2) : "", w);
		}
		len += snprintf(line + len, sizeof(line) - len, "%s%s",
				len ? " " : "", suffix);
		if (len > LINE_MAX_IMAGE)
			snprintf(why, sizeof(why), "longer than %d bytes",
				 LINE_MAX_IMAGE);
		printf("%s\t%s\n", why, line);
	}
	return 0;
}
