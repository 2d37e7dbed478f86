#!/usr/bin/python3
# tools/rt0trace.py - turn an rt0 execution trace (trace=1) into the
# Chrome trace-event JSON that ui.perfetto.dev and chrome://tracing open,
# a PNG timeline, or a text listing.
#
#   tools/rt0trace.py [-o OUT.json] [--png OUT.png] [--dump] TRACE
#   make trace CMDLINE="app=spread"      boot, capture, convert (build/)
#
# TRACE is what the image wrote at exit: the raw bytes from the debug
# console (port 0xe9, `-device isa-debugcon`), or a console log holding
# the "TRACE <hex>" lines it prints when there is no debug console.  The
# format is in sched/exectrace.c; docs/trace.md shows how to read the view.
#
# The view: process "Ps" has a track per P with a slice per goroutine run
# ("G7 worker", from its start to its block, yield, preemption, syscall
# or end) and flow arrows from the goroutine that readied a G to that G's
# next start; process "Ms" has a track per M with a slice while it holds
# a P, "spinning Ms" one per M while it spins; process "Goroutines" a
# track per G with its regions, system calls and log messages.  Counters:
# run queue lengths per P and global, idle Ps, spinning Ms, threads
# (sysmon's samples).  Instant events mark creations, steals, timers,
# preemption requests, retakes and M starts/parks/wakes/exits.
#
# A readier records its GoUnblock after it queued the G, so a thief may
# start the G a moment before: a G's unblock is moved to just before the
# start it allowed.  Every slice opened is closed (at the trace's end if
# need be).  Prints one summary line on stderr.  Exit 0; 2 with one line
# on stderr when the input is not a trace.
import argparse
import json
import struct
import sys

TYPES = ["None", "Text", "GoCreate", "GoStart", "GoEnd", "GoSched",
         "GoPreempt", "GoBlock", "GoUnblock", "GoSysCall", "GoSysExit",
         "ProcStart", "ProcStop", "ProcSteal", "MCreate", "MPark", "MWake",
         "MExit", "SpinStart", "SpinStop", "TimerFire", "Retake",
         "PreemptReq", "RegionBegin", "RegionEnd", "Log", "CountGlobal",
         "CountRunq"]
T = {name: i for i, name in enumerate(TYPES)}
NOP = 0xffff
EV = struct.Struct("<QBBHIQQ")
PID_P, PID_M, PID_SPIN, PID_G = 1, 2, 3, 4


class TraceError(Exception):
    """Why the input is not a trace, in one line (exit status 2)."""


class Ev:
    __slots__ = ("ts", "type", "p", "m", "a", "b", "text", "buf", "seq")

    def __init__(self, raw, buf, seq):
        self.ts, self.type, _, self.p, self.m, self.a, self.b = raw
        self.text, self.buf, self.seq = "", buf, seq

    def name(self):
        return TYPES[self.type] if self.type < len(TYPES) else "?%d" % self.type


def read_input(path):
    data = sys.stdin.buffer.read() if path == "-" else open(path, "rb").read()
    if data.startswith(b"RT0TRC1\0"):
        return data
    # A console log: the hex lines between TRACE begin and TRACE end.
    out, inside = bytearray(), False
    for line in data.decode("latin-1").splitlines():
        line = line.strip()
        if line == "TRACE begin":
            inside, out = True, bytearray()
        elif line == "TRACE end":
            inside = False
        elif inside and line.startswith("TRACE "):
            try:
                out += bytes.fromhex(line[6:])
            except ValueError:
                raise TraceError("bad TRACE line: %.40s" % line)
    if not out.startswith(b"RT0TRC1\0"):
        raise TraceError("%s: no rt0 trace (neither the debug console's "
                         "bytes nor TRACE lines)" % path)
    return bytes(out)


def parse(data):
    """-> (header dict, [Ev], {(kind, value): str}, lost per buffer)."""
    pos = 8

    def take(fmt):
        nonlocal pos
        s = struct.calcsize(fmt)
        if pos + s > len(data):
            raise TraceError("trace cut short at byte %d" % pos)
        v = struct.unpack_from(fmt, data, pos)
        pos += s
        return v

    tsc_hz, nbufs, ncpu, nprocs, evsize = take("<QIIII")
    if evsize != EV.size or not tsc_hz:
        raise TraceError("unknown event size %d or TSC rate %d" %
                         (evsize, tsc_hz))
    hdr = {"tsc_hz": tsc_hz, "ncpu": ncpu, "nprocs": nprocs}
    evs, lost = [], []
    for bi in range(nbufs):
        magic, kind, bid, nev, _, first = take("<4sIIIIQ")
        if magic != b"BUF\0":
            raise TraceError("buffer %d: bad header" % bi)
        lost.append(first)
        last = None
        for i in range(nev):
            raw = EV.unpack_from(data, pos)
            chunk = data[pos:pos + EV.size]
            pos += EV.size
            if pos > len(data):
                raise TraceError("trace cut short in buffer %d" % bi)
            if raw[1] == T["Text"]:
                if last is not None:	# bytes 0-7 and 9-31 are text
                    last.text += (chunk[0:8] + chunk[9:32]).decode(
                        "utf-8", "replace")
                continue
            if raw[1] == 0 or raw[1] >= len(TYPES):
                last = None		# torn by the stop, or never written
                continue
            last = Ev(raw, bi, len(evs))
            evs.append(last)
    magic, = take("<4s")
    if magic != b"STR\0":
        raise TraceError("no string table")
    strings = {}
    while True:
        kind, = take("<Q")
        if kind == 2 ** 64 - 1:
            break
        value, n = take("<QI")
        s = data[pos:pos + n].decode("utf-8", "replace")
        pos += n
        strings[(kind, value)] = s
    for e in evs:
        e.text = e.text.rstrip("\0")
    return hdr, evs, strings, lost


def order(evs):
    """Sort by time; move each G's unblock before the start it allowed."""
    evs.sort(key=lambda e: (e.ts, e.buf, e.seq))
    unblocks = {}			# goid -> indexes of its unblocks
    for i, e in enumerate(evs):
        if e.type == T["GoUnblock"]:
            unblocks.setdefault(e.a, []).append(i)
    state, moved, out, skip = {}, 0, [], set()
    unknown, stole = [], {}	# unblocks of goid 0; P -> victim P
    for i, e in enumerate(evs):
        if i in skip:
            continue
        if e.type == T["GoStart"] and state.get(e.a) == "waiting":
            later = [j for j in unblocks.get(e.a, []) if j > i and j not in skip]
            if later:
                u = evs[later[0]]
                skip.add(later[0])
                u.ts = e.ts
                out.append(u)
                moved += 1
                state[e.a] = "runnable"
            elif unknown:
                # Its readier found runnext stolen already: the thief's
                # victim's latest unknown unblock is this G's.
                v = stole.get(e.p)
                pick = [u for u in unknown if u.p == v] or unknown
                u = pick[-1]
                unknown.remove(u)
                u.a = e.a
                state[e.a] = "runnable"
        if e.type == T["GoUnblock"] and e.a == 0:
            unknown.append(e)
        if e.type == T["ProcSteal"]:
            stole[e.p] = e.a
        g = e.a
        t = e.type
        if t == T["GoBlock"]:
            state[g] = "waiting"
        elif t in (T["GoUnblock"], T["GoCreate"], T["GoSched"],
                   T["GoPreempt"]):
            state[g] = "runnable"
        elif t == T["GoStart"]:
            state[g] = "running"
        out.append(e)
    return out, moved


def convert(hdr, evs, strings):
    hz = hdr["tsc_hz"]
    t0 = evs[0].ts if evs else 0

    def us(ts):
        return round((ts - t0) * 1e6 / hz, 3)

    def fn(pc):
        return strings.get((0, pc), "0x%x" % pc)

    def cstr(v):
        return strings.get((1, v), "0x%x" % v)

    out, gname, open_ = [], {}, {}	# open_: (pid, tid) -> stack of names
    names = {PID_P: "Ps", PID_M: "Ms", PID_SPIN: "spinning Ms",
             PID_G: "Goroutines"}
    tids = {pid: set() for pid in names}

    def begin(pid, tid, ts, name, args=None):
        tids[pid].add(tid)
        open_.setdefault((pid, tid), []).append(name)
        ev = {"ph": "B", "pid": pid, "tid": tid, "ts": ts, "name": name}
        if args:
            ev["args"] = args
        out.append(ev)

    def end(pid, tid, ts, name=None):
        st = open_.get((pid, tid))
        if not st or (name is not None and name not in st):
            return
        while st:			# close inner ones first
            n = st.pop()
            out.append({"ph": "E", "pid": pid, "tid": tid, "ts": ts})
            if name is None or n == name:
                break

    def instant(pid, tid, ts, name, args=None):
        tids[pid].add(tid)
        ev = {"ph": "i", "s": "t", "pid": pid, "tid": tid, "ts": ts,
              "name": name}
        if args:
            ev["args"] = args
        out.append(ev)

    def gslice(g):
        return "G%d %s" % (g, gname.get(g, ""))

    running = {}		# P -> goid running there
    where = {}			# goid -> P it runs on
    flows, flow_id = {}, 0	# goid -> flow id waiting for its start
    spinning, runqs, lastts = set(), {}, 0
    for e in evs:
        ts, t, p, m = us(e.ts), e.type, e.p, e.m
        lastts = ts
        if t == T["GoCreate"]:
            gname[e.a] = fn(e.b)
            instant(PID_P, p, ts, "go G%d %s" % (e.a, fn(e.b)),
                    {"goid": e.a, "fn": fn(e.b)})
        elif t in (T["GoStart"], T["GoSysExit"]) and p != NOP:
            if running.get(p) is not None:
                end(PID_P, p, ts)
            running[p], where[e.a] = e.a, p
            begin(PID_P, p, ts, gslice(e.a), {"goid": e.a, "M": m})
            if t == T["GoSysExit"]:
                end(PID_G, e.a, ts, "syscall")
            if e.a in flows:
                out.append({"ph": "f", "bp": "e", "id": flows.pop(e.a),
                            "pid": PID_P, "tid": p, "ts": ts,
                            "name": "unblock", "cat": "flow"})
        elif t == T["GoSysExit"]:
            end(PID_G, e.a, ts, "syscall")
        elif t in (T["GoEnd"], T["GoSched"], T["GoPreempt"], T["GoBlock"],
                   T["GoSysCall"]):
            q = where.pop(e.a, p)
            if q != NOP and running.get(q) == e.a:
                end(PID_P, q, ts)
                running[q] = None
            if t == T["GoBlock"]:
                instant(PID_G, e.a, ts, "block: " + cstr(e.b))
            elif t == T["GoSysCall"]:
                begin(PID_G, e.a, ts, "syscall")
                end(PID_M, m, ts)	# the P goes to _Psyscall
            elif t == T["GoPreempt"]:
                instant(PID_P, p if p != NOP else q, ts, "preempted G%d" % e.a)
            elif t == T["GoEnd"]:
                st = open_.get((PID_G, e.a))
                while st:
                    end(PID_G, e.a, ts)
        elif t == T["GoUnblock"]:
            flow_id += 1
            flows[e.a] = flow_id
            tid = p if p != NOP else 0
            out.append({"ph": "s", "id": flow_id, "pid": PID_P, "tid": tid,
                        "ts": ts, "name": "unblock", "cat": "flow"})
            instant(PID_P, tid, ts, "unblock G%d" % e.a,
                    {"goid": e.a, "by": e.b})
        elif t == T["ProcStart"]:
            end(PID_M, m, ts)
            begin(PID_M, m, ts, "P%d" % p)
        elif t == T["ProcStop"]:
            end(PID_M, m, ts)
            if running.get(p) is not None:
                end(PID_P, p, ts)
                running[p] = None
        elif t == T["ProcSteal"]:
            instant(PID_P, p, ts, "steal %d from P%d" % (e.b, e.a))
        elif t == T["SpinStart"] and m not in spinning:
            spinning.add(m)
            begin(PID_SPIN, m, ts, "spinning")
        elif t == T["SpinStop"] and m in spinning:
            spinning.discard(m)
            end(PID_SPIN, m, ts)
        elif t in (T["MCreate"], T["MWake"]):
            what = "create" if t == T["MCreate"] else "wake"
            instant(PID_M, m, ts, "%s M%d" % (what, e.a),
                    {"M": e.a} if t == T["MCreate"] else {"M": e.a, "P": e.b})
        elif t in (T["MPark"], T["MExit"]):
            instant(PID_M, m, ts, "park" if t == T["MPark"] else "exit")
        elif t == T["TimerFire"]:
            instant(PID_P if p != NOP else PID_M, p if p != NOP else m, ts,
                    "timer " + fn(e.a))
        elif t == T["Retake"]:
            instant(PID_M, m, ts, "retake P%d" % e.a)
        elif t == T["PreemptReq"]:
            instant(PID_P, e.b, ts, "preempt request G%d" % e.a)
        elif t == T["RegionBegin"]:
            begin(PID_G, e.a, ts, cstr(e.b))
        elif t == T["RegionEnd"]:
            end(PID_G, e.a, ts, cstr(e.b))
        elif t == T["Log"]:
            instant(PID_G, e.a, ts, "%s: %s" % (cstr(e.b), e.text),
                    {"category": cstr(e.b), "message": e.text})
        elif t == T["CountGlobal"]:
            out.append({"ph": "C", "pid": PID_P, "ts": ts, "name": "idle Ps",
                        "args": {"idle Ps": e.a & 0xffff}})
            out.append({"ph": "C", "pid": PID_M, "ts": ts,
                        "name": "threads", "args": {
                            "threads": e.a >> 32,
                            "spinning": (e.a >> 16) & 0xffff}})
            out.append({"ph": "C", "pid": PID_P, "ts": ts,
                        "name": "global runqueue", "args": {"runqueue": e.b}})
        elif t == T["CountRunq"]:
            runqs["P%d" % e.a] = e.b
            if e.a + 1 >= hdr["nprocs"]:
                out.append({"ph": "C", "pid": PID_P, "ts": ts,
                            "name": "runqueue", "args": dict(runqs)})
    for (pid, tid), st in list(open_.items()):
        while st:
            end(pid, tid, lastts)
    meta = []
    for pid, name in names.items():
        meta.append({"ph": "M", "pid": pid, "name": "process_name",
                     "args": {"name": name}})
        meta.append({"ph": "M", "pid": pid, "name": "process_sort_index",
                     "args": {"sort_index": pid}})
        for tid in sorted(tids[pid]):
            label = {PID_P: "P%d", PID_M: "M%d", PID_SPIN: "M%d"}.get(pid)
            tname = label % tid if label else gslice(tid)
            meta.append({"ph": "M", "pid": pid, "tid": tid,
                         "name": "thread_name", "args": {"name": tname}})
            meta.append({"ph": "M", "pid": pid, "tid": tid,
                         "name": "thread_sort_index",
                         "args": {"sort_index": tid}})
    return meta + out


def dump(hdr, evs, strings, f):
    t0 = evs[0].ts if evs else 0
    for e in evs:
        t = e.name()
        detail = ""
        if e.type == T["GoCreate"]:
            detail = "G%d %s" % (e.a, strings.get((0, e.b), hex(e.b)))
        elif e.type == T["GoBlock"]:
            detail = "G%d %s" % (e.a, strings.get((1, e.b), hex(e.b)))
        elif e.type == T["GoUnblock"]:
            detail = "G%d by G%d" % (e.a, e.b)
        elif e.type in (T["RegionBegin"], T["RegionEnd"]):
            detail = "G%d %s" % (e.a, strings.get((1, e.b), hex(e.b)))
        elif e.type == T["Log"]:
            detail = "G%d %s: %s" % (e.a, strings.get((1, e.b), hex(e.b)),
                                      e.text)
        elif e.type == T["TimerFire"]:
            detail = strings.get((0, e.a), hex(e.a))
        elif e.type in (T["GoStart"], T["GoEnd"], T["GoSched"],
                        T["GoPreempt"], T["GoSysCall"], T["GoSysExit"]):
            detail = "G%d" % e.a
        else:
            detail = "%d %d" % (e.a, e.b)
        p = "-" if e.p == NOP else "P%d" % e.p
        f.write("%.3f %s M%d %s %s\n" % ((e.ts - t0) * 1e6 / hdr["tsc_hz"],
                                         p, e.m, t, detail))


def plot(hdr, evs, path):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    hz, t0 = hdr["tsc_hz"], evs[0].ts if evs else 0
    ms = lambda ts: (ts - t0) * 1e3 / hz
    bars, running = {}, {}
    t_end = ms(evs[-1].ts) if evs else 0
    for e in evs:
        t = e.type
        if t in (T["GoStart"], T["GoSysExit"]) and e.p != NOP:
            running[e.p] = (e.a, ms(e.ts))
        elif t in (T["GoEnd"], T["GoSched"], T["GoPreempt"], T["GoBlock"],
                   T["GoSysCall"], T["ProcStop"]):
            p = e.p
            if p in running and (t == T["ProcStop"] or running[p][0] == e.a):
                g, start = running.pop(p)
                bars.setdefault(p, []).append((start, ms(e.ts) - start, g))
    for p, (g, start) in running.items():
        bars.setdefault(p, []).append((start, t_end - start, g))
    nprocs = max([hdr["nprocs"]] + [p + 1 for p in bars])
    fig, ax = plt.subplots(figsize=(10, 1.2 + 0.5 * nprocs), dpi=100)
    cmap = plt.get_cmap("tab20")
    for p in range(nprocs):
        segs = bars.get(p, [])
        if segs:
            ax.broken_barh([(s, max(d, t_end / 2000)) for s, d, _ in segs],
                           (p - 0.4, 0.8),
                           facecolors=[cmap(g % 20) for _, _, g in segs])
    ax.set_yticks(range(nprocs))
    ax.set_yticklabels(["P%d" % p for p in range(nprocs)])
    ax.invert_yaxis()
    ax.set_xlabel("ms")
    ax.set_xlim(0, max(t_end, 1e-3))
    ngs = len({g for segs in bars.values() for _, _, g in segs})
    ax.set_title("rt0 execution trace: %d goroutines on %d Ps (a colour "
                 "per goroutine)" % (ngs, nprocs))
    fig.tight_layout()
    fig.savefig(path)


def main():
    ap = argparse.ArgumentParser(description="rt0 trace -> Perfetto JSON")
    ap.add_argument("trace")
    ap.add_argument("-o", "--output", help="JSON to write")
    ap.add_argument("--png", help="PNG timeline to write (matplotlib)")
    ap.add_argument("--dump", action="store_true",
                    help="list the events, in order, on stdout")
    args = ap.parse_args()
    try:
        hdr, evs, strings, lost = parse(read_input(args.trace))
    except (OSError, TraceError) as e:
        print("rt0trace: %s" % e, file=sys.stderr)
        return 2
    evs, moved = order(evs)
    if args.dump:
        dump(hdr, evs, strings, sys.stdout)
    events = convert(hdr, evs, strings)
    if args.output:
        with open(args.output, "w") as f:
            json.dump({"traceEvents": events, "displayTimeUnit": "ns",
                       "otherData": {"tsc_hz": hdr["tsc_hz"],
                                     "lost": sum(lost)}}, f)
    goids = {e.a for e in evs if e.type in (T["GoStart"], T["GoCreate"])}
    msg = "rt0trace: %d events, %d goroutines, %d Ps, %d lost" % (
        len(evs), len(goids), hdr["nprocs"], sum(lost))
    if moved:
        msg += ", %d unblocks moved before their starts" % moved
    if args.output:
        msg += "; wrote " + args.output
    if args.png:
        plot(hdr, evs, args.png)
        msg += " and " + args.png
    print(msg, file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
