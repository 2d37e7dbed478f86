/*
 * tools/rt0run.c - boot rt0 in QEMU, headless, and report what happened.
 *
 *   rt0run [options]
 *     -m microvm|pc|iso   machine (iso: -M pc -cdrom, cmdline baked in)
 *     -s N                CPUs (-smp N)
 *     -M SIZE             guest memory (-m SIZE; default 1G)
 *     -c CMDLINE          kernel command line (microvm, pc)
 *     -e ELF / -I ISO     image (default build/rt0.elf, build/rt0-test.iso)
 *     -t SECONDS          wall-clock limit; the guest is killed after it
 *     -k                  KTAP mode: read the KTAP the guest prints, print
 *                         "result: P passed, F failed", exit 0 only if
 *                         every planned test passed and the guest said so
 *     -E STATUS           expect this guest exit status (exit 0 if so)
 *     -S TEXT             expect TEXT in the output (with -E)
 *     -r FILE             append "P F" (KTAP mode) to FILE
 *     -a ACCEL            accelerator (default tcg; e.g. tcg,thread=single)
 *     -x ARGS             extra QEMU arguments (split on spaces)
 *     -i                  interactive: the terminal is the console
 *     -g                  wait for gdb on :1234 (-s -S)
 *     -q                  do not echo the guest's output
 *     -T TEXT:HEX         once a line containing TEXT appears, type the
 *                         bytes HEX (e.g. 1c, Ctrl-\) on the console
 *
 * The guest leaves through isa-debug-exit: QEMU exits with (status<<1)|1,
 * which this tool turns back into the guest status; without -k/-E it exits
 * with that status.  QEMU is always run with TCG (-accel tcg): nested KVM
 * here is far slower.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static const char *machine = "microvm", *cmdline = "", *elf = "build/rt0.elf";
static const char *iso = "build/rt0-test.iso", *extra = "", *expect_text;
static const char *result_file, *accel = "tcg", *memsize = "1G";
static int smp = 1, timeout_s, ktap, interactive, gdb, quiet;
static int expect_status = -1;
static char *type_trigger;		/* -T: TEXT, and the bytes to type */
static char type_bytes[64];
static size_t type_len;

static char *argv_q[128];
static int argc_q;

static void add(const char *a)
{
	if (argc_q < 126)
		argv_q[argc_q++] = (char *)a;
}

static void build_argv(void)
{
	static char smpbuf[16];

	add("qemu-system-x86_64");
	add("-accel"); add(accel);
	add("-nodefaults"); add("-no-reboot");
	add("-display"); add("none");
	add("-serial"); add(interactive ? "mon:stdio" : "stdio");
	add("-device"); add("isa-debug-exit,iobase=0xf4,iosize=4");
	add("-m"); add(memsize);
	snprintf(smpbuf, sizeof(smpbuf), "%d", smp);
	add("-smp"); add(smpbuf);
	if (!strcmp(machine, "microvm")) {
		/* -cpu max: FSGSBASE and XSAVE paths. */
		add("-M"); add("microvm"); add("-cpu"); add("max");
		add("-kernel"); add(elf); add("-append"); add(cmdline);
	} else if (!strcmp(machine, "pc")) {
		/* default qemu64 CPU: FS base through the MSR, fxsave. */
		add("-M"); add("pc");
		add("-kernel"); add(elf); add("-append"); add(cmdline);
	} else if (!strcmp(machine, "iso")) {
		add("-M"); add("pc"); add("-cpu"); add("max");
		add("-cdrom"); add(iso); add("-boot"); add("d");
	} else {
		fprintf(stderr, "rt0run: unknown machine '%s' (microvm, pc, iso)\n",
			machine);
		exit(2);
	}
	if (gdb) {
		add("-s"); add("-S");
	}
	char *x = strdup(extra);
	for (char *tok = strtok(x, " "); tok; tok = strtok(NULL, " "))
		add(tok);
	argv_q[argc_q] = NULL;
}

/* Guest status from QEMU's wait status, or -1 with *why set. */
static int guest_status(int ws, const char **why)
{
	if (WIFSIGNALED(ws)) {
		*why = "QEMU was killed by a signal";
		return -1;
	}
	int c = WEXITSTATUS(ws);
	if (c & 1)
		return c >> 1;
	*why = c == 0 ? "QEMU exited without a guest status (a reset or "
			"triple fault under -no-reboot?)"
		      : "QEMU failed to start the machine";
	return -1;
}

struct ktap {
	int plan, ok, notok, seen_header;
	int last_n;
};

static void ktap_line(struct ktap *k, const char *l)
{
	int n;

	if (!strncmp(l, "KTAP version 1", 14))
		k->seen_header = 1;
	else if (sscanf(l, "1..%d", &n) == 1 && k->seen_header)
		k->plan = n;
	else if (sscanf(l, "ok %d ", &n) == 1) {
		k->ok++;
		k->last_n = n;
	} else if (sscanf(l, "not ok %d ", &n) == 1) {
		k->notok++;
		k->last_n = n;
	}
}

int main(int argc, char **argv)
{
	int opt;

	while ((opt = getopt(argc, argv, "m:s:c:e:I:t:kE:S:r:a:x:igqT:M:")) != -1) {
		switch (opt) {
		case 'm': machine = optarg; break;
		case 's': smp = atoi(optarg); break;
		case 'M': memsize = optarg; break;
		case 'c': cmdline = optarg; break;
		case 'e': elf = optarg; break;
		case 'I': iso = optarg; break;
		case 't': timeout_s = atoi(optarg); break;
		case 'k': ktap = 1; break;
		case 'E': expect_status = atoi(optarg); break;
		case 'S': expect_text = optarg; break;
		case 'r': result_file = optarg; break;
		case 'a': accel = optarg; break;
		case 'x': extra = optarg; break;
		case 'i': interactive = 1; break;
		case 'g': gdb = 1; break;
		case 'q': quiet = 1; break;
		case 'T': {
			char *colon = strrchr(optarg, ':');
			if (!colon || colon == optarg) {
				fprintf(stderr, "rt0run: -T TEXT:HEX\n");
				return 2;
			}
			*colon = '\0';
			type_trigger = optarg;
			for (char *h = colon + 1; h[0] && h[1] &&
			     type_len < sizeof(type_bytes); h += 2) {
				unsigned v;
				if (sscanf(h, "%2x", &v) != 1) {
					fprintf(stderr, "rt0run: -T: bad hex '%s'\n",
						colon + 1);
					return 2;
				}
				type_bytes[type_len++] = (char)v;
			}
			break;
		}
		default:
			fprintf(stderr, "usage: see the comment atop tools/rt0run.c\n");
			return 2;
		}
	}
	build_argv();

	if (interactive) {
		pid_t pid = fork();
		if (pid == 0) {
			execvp(argv_q[0], argv_q);
			perror("rt0run: qemu-system-x86_64");
			_exit(127);
		}
		int ws;
		while (waitpid(pid, &ws, 0) < 0 && errno == EINTR)
			;
		const char *why = NULL;
		int st = guest_status(ws, &why);
		if (st < 0) {
			fprintf(stderr, "rt0run: %s\n", why);
			return 125;
		}
		return st;
	}

	int fds[2], in[2] = { -1, -1 };
	if (pipe(fds) || (type_trigger && pipe(in)))
		return perror("pipe"), 125;
	pid_t pid = fork();
	if (pid == 0) {
		dup2(fds[1], 1);
		close(fds[0]);
		close(fds[1]);
		if (type_trigger) {
			dup2(in[0], 0);	/* the console's input: -T */
			close(in[0]);
			close(in[1]);
		} else {
			int devnull = open("/dev/null", 0);
			if (devnull >= 0)
				dup2(devnull, 0);
		}
		execvp(argv_q[0], argv_q);
		perror("rt0run: qemu-system-x86_64");
		_exit(127);
	}
	close(fds[1]);
	if (type_trigger)
		close(in[0]);

	struct ktap k = { 0 };
	struct timespec t0, now;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	char line[4096];
	size_t len = 0;
	int timed_out = 0, found_text = 0;
	for (;;) {
		int wait_ms = -1;
		if (timeout_s) {
			clock_gettime(CLOCK_MONOTONIC, &now);
			long el = (now.tv_sec - t0.tv_sec) * 1000 +
				  (now.tv_nsec - t0.tv_nsec) / 1000000;
			wait_ms = timeout_s * 1000 - el;
			if (wait_ms <= 0) {
				timed_out = 1;
				kill(pid, SIGKILL);
				break;
			}
		}
		struct pollfd p = { fds[0], POLLIN, 0 };
		int r = poll(&p, 1, wait_ms);
		if (r < 0 && errno == EINTR)
			continue;
		if (r == 0)
			continue;
		char buf[4096];
		ssize_t n = read(fds[0], buf, sizeof(buf));
		if (n <= 0)
			break;
		for (ssize_t i = 0; i < n; i++) {
			char c = buf[i];
			if (c == '\r')
				continue;
			if (c != '\n' && len < sizeof(line) - 1) {
				line[len++] = c;
				continue;
			}
			if (c != '\n')
				continue;
			line[len] = '\0';
			if (!quiet)
				printf("%s\n", line);
			ktap_line(&k, line);
			if (expect_text && strstr(line, expect_text))
				found_text = 1;
			if (type_trigger && in[1] >= 0 &&
			    strstr(line, type_trigger)) {
				if (write(in[1], type_bytes, type_len) !=
				    (ssize_t)type_len)
					perror("rt0run: -T");
				type_trigger = NULL;	/* once */
			}
			len = 0;
		}
		fflush(stdout);
	}
	int ws;
	while (waitpid(pid, &ws, 0) < 0 && errno == EINTR)
		;
	const char *why = NULL;
	int st = timed_out ? -1 : guest_status(ws, &why);
	if (timed_out)
		why = "wall-clock limit reached; QEMU killed";

	if (ktap) {
		int pass = k.ok, fail = k.notok;
		if (!k.plan) {
			fail++;			/* no plan: the run itself failed */
			fprintf(stderr, "rt0run: no KTAP plan seen\n");
		} else if (k.ok + k.notok < k.plan) {
			fail += k.plan - k.ok - k.notok;
			fprintf(stderr, "rt0run: %d of %d planned tests never "
				"reported\n", k.plan - k.ok - k.notok, k.plan);
		}
		if (st != 0 && fail == 0) {
			fail++;			/* all ok but a bad exit */
		}
		if (why)
			fprintf(stderr, "rt0run: %s\n", why);
		else if (st != 0)
			fprintf(stderr, "rt0run: guest exit status %d\n", st);
		printf("result: %d passed, %d failed\n", pass, fail);
		if (result_file) {
			FILE *f = fopen(result_file, "a");
			if (f) {
				fprintf(f, "%d %d\n", pass, fail);
				fclose(f);
			}
		}
		return fail ? 1 : 0;
	}
	if (expect_status >= 0) {
		int ok = st == expect_status && (!expect_text || found_text);
		if (!ok)
			fprintf(stderr, "rt0run: expected status %d%s%s%s, got %d%s%s\n",
				expect_status, expect_text ? " and text '" : "",
				expect_text ? expect_text : "",
				expect_text ? "'" : "", st, why ? ": " : "",
				why ? why : "");
		return ok ? 0 : 1;
	}
	if (st < 0) {
		fprintf(stderr, "rt0run: %s\n", why);
		return 125;
	}
	return st;
}
