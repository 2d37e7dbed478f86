#!/usr/bin/python3
# tools/schedplot.py - plot the schedtrace lines of a captured console log.
#
#   tools/schedplot.py [-o OUT.png] LOG      (LOG "-": standard input)
#   make plot                                boot the main job and plot it
#   make plot LOG=file                       plot an existing log
#
# Reads Go's schedtrace lines (sched/trace.c prints them word for word):
#   SCHED 1004ms: gomaxprocs=4 idleprocs=4 threads=104 spinningthreads=0
#   needspinning=0 idlethreads=2 runqueue=0 [0 0 0 0]           (one line)
# and writes a 1000x600 PNG (default: LOG with .png, or schedtrace.png
# for stdin) of three panels over time: threads and idle threads; idle Ps,
# spinning threads and gomaxprocs; the global and per-P run queues.  The
# experiment's phase lines ("lockosthread: run 1...", "... run 2...") are
# drawn as labelled vertical lines at the time of the next SCHED line
# (one with no SCHED line after it, such as the closing summary, is not).
#
# Other lines are ignored, scheddetail's P/M/G lines too (its SCHED line,
# with gcwaiting= etc. and no per-P list, is read).  A malformed SCHED
# line is reported with its line number on stderr and skipped.  Prints
# one summary line on stdout (samples, time span, threads min..max and
# final, idle Ps min..max, phase markers if any, the PNG written).  Exit
# status 0; 2 (with one line on stderr) when the log cannot be read or
# holds no usable SCHED line.
# Needs Debian's python3-matplotlib (tools/deps.sh installs it); the
# Agg backend draws without a display.
import argparse
import os
import re
import sys

SCHED_RE = re.compile(r"SCHED (\d+)ms: (.*)$")
PHASE_RE = re.compile(r"lockosthread: (run \d+.*)$")
FIELDS = ("gomaxprocs", "idleprocs", "threads", "spinningthreads",
          "idlethreads", "runqueue")
MAX_P_LINES = 8  # more Ps than this: plot the sum and the longest queue


class LogError(Exception):
    """Why the log cannot be plotted, said in one line (exit status 2)."""


def parse_sched(line):
    """One SCHED line -> dict of FIELDS, "ms" and "runqs" (None under
    scheddetail), or None if it does not have Go's shape."""
    m = SCHED_RE.match(line)
    if not m:
        return None
    rest, runqs = m.group(2), None
    if "[" in rest:
        rest, _, plist = rest.partition("[")
        if not plist.endswith("]"):
            return None
        try:
            runqs = [int(n) for n in plist[:-1].split()]
        except ValueError:
            return None
    words = dict(w.partition("=")[::2] for w in rest.split())
    try:
        s = {k: int(words[k]) for k in FIELDS}
    except (KeyError, ValueError):
        return None
    if runqs is not None and len(runqs) != s["gomaxprocs"]:
        return None
    s["ms"], s["runqs"] = int(m.group(1)), runqs
    return s


def read_log(f, name):
    """Samples and phase markers (ms, label) from the log's lines; reports
    malformed SCHED lines on stderr."""
    samples, phases, pending, bad = [], [], [], 0
    for lineno, line in enumerate(f, 1):
        line = line.rstrip("\r\n")
        if line.startswith("SCHED "):
            s = parse_sched(line)
            if s is None:
                print("schedplot: %s:%d: malformed SCHED line, skipped: %.80s"
                      % (name, lineno, line), file=sys.stderr)
                bad += 1
                continue
            samples.append(s)
            phases += [(s["ms"], label) for label in pending]
            pending = []
            continue
        m = PHASE_RE.match(line)
        if m:
            pending.append(m.group(1))
    if bad and not samples:
        raise LogError("%s: no well-formed SCHED line (%d malformed)"
                       % (name, bad))
    if not samples:
        raise LogError("%s: no SCHED lines (boot with schedtrace=MS)" % name)
    return samples, phases


def series(samples, key):
    return [s[key] for s in samples]


def plot(samples, phases, title, out):
    """Draw the three panels into OUT (PNG, 1000x600)."""
    import matplotlib
    matplotlib.use("Agg")
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    t = series(samples, "ms")
    threads = series(samples, "threads")
    fig = Figure(figsize=(10, 6), dpi=100, layout="constrained")
    gs = fig.add_gridspec(3, 1, height_ratios=[3, 1.4, 1.4])
    ax_m = fig.add_subplot(gs[0])
    ax_p = fig.add_subplot(gs[1], sharex=ax_m)
    ax_q = fig.add_subplot(gs[2], sharex=ax_m)

    ax_m.plot(t, threads, "o-", ms=3, label="threads (Ms)")
    ax_m.plot(t, series(samples, "idlethreads"), "s-", ms=3,
              label="idle threads")
    ax_m.set_ylim(0, max(threads) * 1.25 + 1)  # room for the labels
    ax_m.annotate(str(threads[-1]), (t[-1], threads[-1]), xytext=(4, 4),
                  textcoords="offset points")
    ax_m.set_ylabel("threads")

    ax_p.plot(t, series(samples, "gomaxprocs"), "--", color="grey",
              label="gomaxprocs")
    ax_p.plot(t, series(samples, "idleprocs"), "o-", ms=3, label="idle Ps")
    ax_p.plot(t, series(samples, "spinningthreads"), "o-", ms=3,
              label="spinning threads")
    ax_p.set_ylabel("Ps, threads")
    ax_p.set_ylim(top=max(series(samples, "gomaxprocs")) + 0.5)

    ax_q.plot(t, series(samples, "runqueue"), "o-", ms=3, color="black",
              label="global runqueue")
    nps = max(len(s["runqs"] or []) for s in samples)
    nan = float("nan")
    per_p = [(s["runqs"] or []) + [nan] * (nps - len(s["runqs"] or []))
             for s in samples]
    if nps <= MAX_P_LINES:
        for i in range(nps):
            ax_q.plot(t, [q[i] for q in per_p], "-", lw=1, label="P%d" % i)
    elif nps:
        ax_q.plot(t, [max(q) for q in per_p], "-", label="longest P queue")
        ax_q.plot(t, [sum(q) for q in per_p], "-", label="all P queues")
    ax_q.set_ylabel("run queue (Gs)")
    ax_q.set_xlabel("time since the first schedtrace line (ms)")

    ax_q.set_ylim(top=max(1.0, ax_q.get_ylim()[1]))
    for ax in (ax_p, ax_q):
        ax.set_ylim(bottom=-0.05 * ax.get_ylim()[1])  # zeros off the frame
        ax.yaxis.set_major_locator(MaxNLocator(nbins=5, integer=True))
    for ax in (ax_m, ax_p, ax_q):
        for ms, _ in phases:
            ax.axvline(ms, color="tab:red", ls=":", lw=1.2)
        ax.grid(alpha=0.3)
        ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1),
                  fontsize="small")
    for ms, label in phases:
        ax_m.annotate(label[:48], (ms, 1), xycoords=("data", "axes fraction"),
                      xytext=(3, -3), textcoords="offset points",
                      va="top", fontsize="small", color="tab:red")
    for ax in (ax_m, ax_p):
        ax.tick_params(labelbottom=False)
    fig.suptitle(title)
    fig.savefig(out, format="png")


def main():
    ap = argparse.ArgumentParser(
        prog="schedplot",
        description="Plot the schedtrace lines of a console log as a PNG "
        "(threads, idle threads, idle Ps, spinning threads and run queues "
        "over time).")
    ap.add_argument("log", metavar="LOG", help='console log ("-": stdin)')
    ap.add_argument("-o", metavar="OUT.png", dest="out",
                    help="output (default: LOG with .png, or "
                    "schedtrace.png for stdin)")
    a = ap.parse_args()
    name = "<stdin>" if a.log == "-" else a.log
    out = a.out or ("schedtrace.png" if a.log == "-"
                    else os.path.splitext(a.log)[0] + ".png")
    try:
        if a.log == "-":
            samples, phases = read_log(sys.stdin, name)
        else:
            try:
                with open(a.log, errors="replace") as f:
                    samples, phases = read_log(f, name)
            except OSError as e:
                raise LogError("%s: %s" % (name, e.strerror))
        try:
            import matplotlib  # noqa: F401 (checked before drawing)
        except ImportError:
            raise LogError("needs matplotlib: apt-get install -y "
                           "python3-matplotlib (tools/deps.sh)")
    except LogError as e:
        print("schedplot: %s" % e, file=sys.stderr)
        return 2

    threads = series(samples, "threads")
    idle = series(samples, "idleprocs")
    span = samples[-1]["ms"] - samples[0]["ms"]
    title = ("schedtrace of %s: gomaxprocs=%d, threads %d -> %d (peak %d)"
             % (os.path.basename(name), samples[-1]["gomaxprocs"],
                threads[0], threads[-1], max(threads)))
    try:
        plot(samples, phases, title, out)
    except OSError as e:
        print("schedplot: %s: %s" % (out, e.strerror), file=sys.stderr)
        return 2
    marks = "; %d phase markers" % len(phases) if phases else ""
    print("schedplot: %d sample%s over %d ms; threads %d..%d, final %d; "
          "idle Ps %d..%d%s -> %s"
          % (len(samples), "" if len(samples) == 1 else "s", span,
             min(threads), max(threads), threads[-1], min(idle), max(idle),
             marks, out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
