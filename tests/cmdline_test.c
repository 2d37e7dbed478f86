/* tests/cmdline_test.c - the command-line parser, good and bad input. */
#include "kernel/ktest.h"
#include "kernel/cmdline.h"
#include "kernel/smp.h"

static int parse(const char *line, char *err)
{
	err[0] = '\0';
	return cmdline_parse(line, false, err, 256);
}

KTEST(cmdline_good)
{
	char err[256];
	uint32_t before = maxcpus;

	KT_EQ(parse("", err), 0);
	KT_EQ(parse("   ", err), 0);
	KT_EQ(parse("maxcpus=4 hz=100", err), 0);
	KT_EQ(parse("maxcpus=0x10\thz=250  test=printf_*", err), 0);
	KT_EQ(parse("help=0", err), 0);
	KT_EQ(maxcpus, before);		/* a dry run changes nothing */
}

#define BAD(line, needle)						\
	do {								\
		KT_EQ(parse(line, err), -1);				\
		KT_ASSERTF(strstr(err, needle), "'%s': error '%s' lacks '%s'", \
			   line, err, needle);				\
	} while (0)

KTEST(cmdline_bad)
{
	char err[256];

	BAD("nosuchkey=1", "unknown key 'nosuchkey'");
	BAD("hz=100 bogus=2", "unknown key 'bogus'");
	BAD("maxcpus=0", "maxcpus=N with N in 1..64");
	BAD("maxcpus=65", "maxcpus=N with N in 1..64");
	BAD("maxcpus=4x", "bad value '4x' for key 'maxcpus'");
	BAD("maxcpus=", "for key 'maxcpus'");
	BAD("hz=99999999999999999999999", "for key 'hz'");
	BAD("help=2", "help=0 or help=1");
	BAD("lonely", "word 'lonely' is not key=value");
	BAD("=3", "unknown key ''");
}
