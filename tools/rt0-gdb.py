# tools/rt0-gdb.py - gdb commands for rt0's goroutines, Ms, Ps and CPUs.
#
# Loaded by "make gdb" (gdb -x tools/rt0-gdb.py), or by hand in any gdb
# session on build/rt0.elf (or build/debug/rt0.elf):
#
#     (gdb) source tools/rt0-gdb.py
#
# Commands (all read the image's memory through its DWARF types; none
# changes anything):
#
#     info goroutines     one line per live G on allgs ("*": the one the
#                         selected CPU runs)
#     goroutine N bt      the backtrace of goroutine N (N may be "all")
#     info ms             every M on allm
#     info ps             every P in allp[0..gomaxprocs)
#     info cpus           every started CPU (cpus[0..ncpu))
#     rt0-schedtrace      the schedtrace line (sched/trace.c's format),
#                         computed from memory
#
# gdb thread k is the vCPU whose GS base is &cpus[i] (QEMU numbers its
# vCPUs from 1; the commands match them by GS base, which rt0 never
# changes after bring-up).  How a stopped G's frames are found is in
# g_frames below; it follows sched/asm_amd64.S and sched/traceback.c.
# Nothing read is trusted: a walk stops at a non-canonical, misaligned,
# unreadable or out-of-stack frame pointer.  A command that cannot read
# the image (not booted, no target) says so in one line.

import re
import struct

import gdb

MAX_FRAMES = 64
PROLOGUE = b"\x55\x48\x89\xe5"  # push %rbp; mov %rsp,%rbp (-fno-shrink-wrap)


class Rt0Error(Exception):
    """A condition reported to the user in one line (not a bug)."""


# ---- reading memory --------------------------------------------------------

def ev(expr):
    """The value of a C expression in the image (its globals and types)."""
    return gdb.parse_and_eval(expr)


def u64(addr):
    """The 64-bit word at addr; gdb.MemoryError if unreadable."""
    mem = gdb.selected_inferior().read_memory(addr, 8)
    return struct.unpack("<Q", bytes(mem))[0]


def readable_u64(addr):
    """The word at addr, or None if it cannot be read."""
    try:
        return u64(addr)
    except (gdb.MemoryError, gdb.error):
        return None


def ptr(v):
    """A pointer gdb.Value as an int (0 for NULL)."""
    return int(v.cast(gdb.lookup_type("unsigned long")))


def cstr(v, limit=64):
    """A char * or char array as a Python string: '' for NULL, '?' if
    unreadable."""
    if v.type.strip_typedefs().code == gdb.TYPE_CODE_PTR and ptr(v) == 0:
        return ""
    try:
        return v.string()[:limit]
    except (gdb.MemoryError, gdb.error, UnicodeDecodeError):
        return "?"


def canonical(a):
    return a < (1 << 47) or a >= 0xFFFF800000000000


def enum_names(enumerator):
    """{value: name} of the enum that @enumerator belongs to (from DWARF)."""
    try:
        t = ev(enumerator).type.strip_typedefs()
        return {int(f.enumval): f.name for f in t.fields()}
    except gdb.error:
        return {}


def addr_of(name):
    """The address of a symbol, or None if the image has none."""
    try:
        return ptr(ev("&" + name))
    except gdb.error:
        try:
            return ptr(ev("(unsigned long)" + name))
        except gdb.error:
            return None


# ---- symbols and frames ----------------------------------------------------

_SYM_RE = re.compile(r"^(\S+)(?: \+ (\d+))? in section")


class Symbols:
    """Address -> (function, start) through gdb's minimal symbols, cached."""

    def __init__(self):
        self.cache = {}

    def lookup(self, addr):
        if addr in self.cache:
            return self.cache[addr]
        res = (None, None)
        if canonical(addr):
            try:
                out = gdb.execute("info symbol 0x%x" % addr, to_string=True)
                m = _SYM_RE.match(out.strip())
                if m:
                    res = (m.group(1), addr - int(m.group(2) or 0))
            except gdb.error:
                pass
        self.cache[addr] = res
        return res

    def name(self, addr):
        return self.lookup(addr)[0]

    def describe(self, pc, is_return=False):
        """"func+0xoff" for pc (a return address names its call)."""
        name, start = self.lookup(pc - 1 if is_return else pc)
        if name is None:
            return "??"
        return "%s+0x%x" % (name, pc - start)

    def where(self, pc, is_return=False):
        """" at file:line" for pc, or ''."""
        try:
            sal = gdb.find_pc_line(pc - 1 if is_return else pc)
        except gdb.error:
            return ""
        if sal.symtab is None or not sal.line:
            return ""
        return " at %s:%d" % (sal.symtab.filename, sal.line)


class Frame:
    """A frame: pc, and whether pc is a return address (names pc-1)."""

    def __init__(self, pc, is_return, note=""):
        self.pc, self.is_return, self.note = pc, is_return, note


def disasm(addr, count):
    """count instructions at addr as (address, text) pairs."""
    arch = gdb.selected_inferior().architecture()
    return [(i["addr"], i["asm"]) for i in arch.disassemble(addr, count=count)]


def pop_layout(addr, limit=24):
    """Run a pop sequence at addr down to its ret: returns (offset of the
    word popped into rbp, offset of the return address) from the rsp at
    addr.  Used for mcall_resume and kswitch's resume half, so their
    layouts are read from the image rather than typed here."""
    off, rbp_off = 0, None
    for _, text in disasm(addr, limit):
        ins = text.split()
        if not ins:
            continue
        if ins[0].startswith("pop"):
            if ins[-1] == "%rbp":
                rbp_off = off
            off += 8
        elif ins[0].startswith("add") and ins[-1].endswith(",%rsp"):
            off += int(ins[-1].split(",")[0].lstrip("$"), 0)
        elif ins[0].startswith("ret"):
            return rbp_off, off
    raise Rt0Error("cannot read the pop sequence at 0x%x" % addr)


class Image:
    """What the commands need from the image, read once per command."""

    def __init__(self):
        self.syms = Symbols()
        self.gstatus = enum_names("_Gidle") or {
            0: "_Gidle", 1: "_Grunnable", 2: "_Grunning", 3: "_Gsyscall",
            4: "_Gwaiting", 6: "_Gdead", 9: "_Gpreempted"}
        self.pstatus = enum_names("_Pidle") or {
            0: "_Pidle", 1: "_Prunning", 2: "_Psyscall", 3: "_Pgcstop",
            4: "_Pdead"}
        self.ktstate = enum_names("KT_RUNNING")
        self.mcall_resume = addr_of("mcall_resume")
        self.trap_return = addr_of("trap_return")
        self.chan_stubs = set(filter(None, (addr_of("chansend_mcall"),
                                            addr_of("chanrecv_mcall"))))
        self._sudog_frame = None
        self._regs = None
        self._cpu_thread = None

    # The channel stubs keep a sudog frame below their caller's return
    # address: its size is the stub's first instruction, sub $N,%rsp.
    def sudog_frame(self):
        if self._sudog_frame is None:
            self._sudog_frame = 0
            for stub in self.chan_stubs:
                text = disasm(stub, 1)[0][1]
                m = re.match(r"sub\s+\$(0x[0-9a-f]+|\d+),%rsp", text)
                if m:
                    self._sudog_frame = int(m.group(1), 0)
        return self._sudog_frame

    # ---- CPUs and their registers ----

    def ncpu(self):
        return int(ev("ncpu"))

    def cpu(self, i):
        return ev("cpus[%d]" % i)

    def cpu_threads(self):
        """{cpu index: gdb thread}, matched by GS base (&cpus[i])."""
        if self._cpu_thread is not None:
            return self._cpu_thread
        self._cpu_thread = {}
        self._regs = {}
        base = addr_of("cpus")
        size = ev("sizeof(cpus[0])")
        inf = gdb.selected_inferior()
        orig = gdb.selected_thread()
        try:
            orig_frame = gdb.selected_frame()
        except gdb.error:
            orig_frame = None
        try:
            for th in inf.threads():
                th.switch()
                f = gdb.newest_frame()
                regs = {r: int(f.read_register(r)) & (2**64 - 1)
                        for r in ("rip", "rsp", "rbp")}
                try:
                    gs = int(f.read_register("gs_base"))
                except (gdb.error, ValueError):
                    gs = None   # no gs_base from this QEMU: vCPU order
                i = th.num - 1
                if gs is not None and base is not None and gs >= base \
                        and (gs - base) % int(size) == 0:
                    i = (gs - base) // int(size)
                self._cpu_thread[i] = th
                self._regs[i] = regs
        except gdb.error:
            pass
        finally:
            if orig is not None and orig.is_valid():
                orig.switch()
                if orig_frame is not None and orig_frame.is_valid():
                    orig_frame.select()
        return self._cpu_thread

    def cpu_regs(self, i):
        """{rip, rsp, rbp} of CPU i's vCPU, or None."""
        self.cpu_threads()
        return self._regs.get(i)

    def selected_cpu(self):
        """The index of the CPU of gdb's selected thread, or None."""
        sel = gdb.selected_thread()
        if sel is None:
            return None
        for i, th in self.cpu_threads().items():
            if th.num == sel.num:
                return i
        return None

    def cpu_of_thread(self, kt):
        """The CPU whose current kernel thread is kt (an int), or None."""
        for i in range(self.ncpu()):
            if ptr(self.cpu(i)["cur"]) == kt:
                return i
        return None

    def m_of_cpu(self, i):
        """The struct m * running on CPU i (as gdb.Value), or None."""
        cur = self.cpu(i)["cur"]
        if ptr(cur) == 0:
            return None
        m = cur["user"].cast(gdb.lookup_type("struct m").pointer())
        return m if ptr(m) else None

    # ---- frame walking ----

    def exact_frames(self, out, pc, rsp, note, lo, hi):
        """Frames for an interrupted pc (not a return address): pc, and,
        if its function had not made its frame yet, the return address
        still on the stack ([rsp] at its first byte, [rsp+8] after push
        %rbp) -- as kernel/ksyms.c's backtrace_write_trap."""
        out.append(Frame(pc, False, note))
        name, start = self.syms.lookup(pc)
        if name is None:
            return
        try:
            head = bytes(gdb.selected_inferior().read_memory(start, 4))
        except (gdb.MemoryError, gdb.error):
            return
        at = None
        if head != PROLOGUE or pc == start:
            at = rsp
        elif pc == start + 1:
            at = rsp + 8
        if at is not None and lo <= at <= hi - 8:
            ret = readable_u64(at)
            if ret and self.syms.name(ret - 1):
                self.returned(out, ret, at, lo, hi)

    def returned(self, out, ret, at, lo, hi):
        """Append the frame of return address ret, read from the stack at
        at.  An interrupt handler returns to trap_return, with the
        interrupted state (struct trapframe) just above that word: then
        the interrupted pc follows as a frame of its own."""
        out.append(Frame(ret, True))
        if ret == self.trap_return and lo <= at + 8 < hi:
            try:
                tf = ev("*(struct trapframe *)0x%x" % (at + 8))
                rip, rsp = int(tf["rip"]), int(tf["rsp"])
            except (gdb.MemoryError, gdb.error):
                return
            self.exact_frames(out, rip, rsp, "interrupted here", lo, hi)

    def chain(self, out, bp, lo, hi):
        """The frame-pointer chain from bp, while it stays in [lo, hi)."""
        while len(out) < MAX_FRAMES and bp and bp % 8 == 0 and \
                canonical(bp) and lo <= bp <= hi - 16:
            saved, ret = readable_u64(bp), readable_u64(bp + 8)
            if saved is None or ret is None or ret == 0:
                return
            callee = self.syms.name(out[-1].pc - out[-1].is_return) \
                if out else None
            if callee == "asyncPreempt":
                # asyncPreempt pushed the interrupted pc, then its frame.
                self.exact_frames(out, ret, bp + 16, "preempted here",
                                  lo, hi)
            else:
                self.returned(out, ret, bp + 8, lo, hi)
            if saved <= bp:
                return
            bp = saved

    def g_frames(self, gp):
        """(frames, note) of goroutine gp (a struct g * gdb.Value).

        A parked or runnable G: from its gobuf, which says how it stopped.
          pc == startfn, sp == hi - 8   never ran: it starts at startfn.
          pc == mcall_resume            mcall pushed the callee-saved
                                        registers (pop_layout) above which
                                        is its caller's return address.
          pc in chansend/chanrecv_mcall a channel stub parked: its caller's
                                        return address is above the sudog
                                        frame (sudog_frame).
          any other pc                  gosched_mcall, gopark_mcall,
                                        goparkunlock_mcall: pc is the
                                        caller's return address.
        then the frame-pointer chain from gobuf.bp.  A G in a syscall:
        syscallpc and the chain from syscallsp.  A running G: the
        registers of the vCPU whose M runs it (or, on g0 in systemstack,
        the gobuf systemstack saved; or, its M's thread being off CPU, the
        thread's saved context)."""
        lo, hi = int(gp["stack"]["lo"]), int(gp["stack"]["hi"])
        st = int(gp["atomicstatus"])
        sched = gp["sched"]
        pc, sp, bp = int(sched["pc"]), int(sched["sp"]), int(sched["bp"])
        out = []
        if st == 3:  # _Gsyscall
            out.append(Frame(int(gp["syscallpc"]), True, "in a syscall"))
            self.chain(out, int(gp["syscallsp"]), lo, hi)
            return out, ""
        if st == 2:  # _Grunning
            return self.running_frames(gp, lo, hi)
        return self.gobuf_frames(gp, pc, sp, bp, lo, hi), ""

    def gobuf_frames(self, gp, pc, sp, bp, lo, hi):
        out = []
        if not canonical(pc) or pc == 0:
            return out
        if pc == ptr(gp["startfn"]) and sp == hi - 8:
            out.append(Frame(pc, False, "not started"))
            return out
        if pc == self.mcall_resume:
            out.append(Frame(pc, False))
            _, ret_off = pop_layout(self.mcall_resume)
            if lo <= sp + ret_off <= hi - 8:
                ret = readable_u64(sp + ret_off)
                if ret:
                    out.append(Frame(ret, True))
        elif self.syms.lookup(pc)[1] in self.chan_stubs:
            out.append(Frame(pc, False))
            at = sp + self.sudog_frame()
            if self.sudog_frame() and lo <= at <= hi - 8:
                ret = readable_u64(at)
                if ret:
                    out.append(Frame(ret, True))
        else:
            out.append(Frame(pc, True))
        self.chain(out, bp, lo, hi)
        return out

    def running_frames(self, gp, lo, hi):
        m = gp["m"]
        if ptr(m) == 0:
            return [], "running, but has no M"
        for i in range(self.ncpu()):
            cm = self.m_of_cpu(i)
            if cm is None or ptr(cm) != ptr(m):
                continue
            regs = self.cpu_regs(i)
            if regs is None:
                return [], "running on cpu %d (no gdb thread for it)" % i
            if lo <= regs["rsp"] < hi:
                out = []
                self.exact_frames(out, regs["rip"], regs["rsp"],
                                  "cpu %d" % i, lo, hi)
                self.chain(out, regs["rbp"], lo, hi)
                return out, "running on cpu %d" % i
            return self.off_stack(gp, lo, hi, regs["rip"],
                                  "running on cpu %d" % i)
        # Its M's kernel thread is not on a CPU (preempted, or blocked on
        # a runtime lock): start from the context kswitch saved.
        kt = m["thread"]
        if ptr(kt) == 0:
            return [], "running, but its M has no kernel thread"
        ksp = int(kt["rsp"])
        state = self.ktstate.get(int(kt["state"]), str(int(kt["state"])))
        note = "running; its M's thread %d is off CPU (%s)" % (
            int(kt["id"]), state)
        if not lo <= ksp < hi:
            return self.off_stack(gp, lo, hi, None, note)
        rbp_off, ret_off = self.kswitch_layout()
        out = []
        ret = readable_u64(ksp + ret_off)
        if ret:
            out.append(Frame(ret, True, "thread switched out"))
        self.chain(out, readable_u64(ksp + rbp_off) or 0, lo, hi)
        return out, note

    def kswitch_layout(self):
        """kswitch's saved context, from its resume half: after the
        'mov %rsi,%rsp' everything up to ret pops what the switch out
        pushed."""
        start = addr_of("kswitch")
        for a, text in disasm(start, 24):
            if re.match(r"mov\s+%rsi,%rsp", text):
                return pop_layout(disasm(a, 2)[1][0])
        raise Rt0Error("cannot read kswitch's layout")

    def off_stack(self, gp, lo, hi, rip, note):
        """A running G whose M is not on the G's stack (on g0: in
        systemstack, or switching): its gobuf says where it left its
        stack (systemstack's save routine, or the switch that is under
        way; stale if it is neither)."""
        pc = int(gp["sched"]["pc"])
        sp, bp = int(gp["sched"]["sp"]), int(gp["sched"]["bp"])
        out = [Frame(rip, False, "on g0, not its stack")] if rip else []
        if lo <= sp < hi:
            frames = self.gobuf_frames(gp, pc, sp, bp, lo, hi)
            if frames:
                frames[0].note = "left its stack here (gobuf)"
            out += frames
        return out, note + ", its M on g0"


# ---- the objects as text ---------------------------------------------------

def for_each_linked(head):
    """Every element of the list at global @head, linked by its alllink
    field (allgs, allm), at most 100000."""
    p = ev(head)
    n = 0
    while ptr(p) and n < 100000:
        yield p
        p = p["alllink"]
        n += 1


def for_each_g():
    return for_each_linked("allgs")


def for_each_m():
    return for_each_linked("allm")


def goid_of(gp):
    return str(int(gp["goid"])) if ptr(gp) else "-"


def m_id(mp):
    return "M%d" % int(mp["id"]) if ptr(mp) else "-"


def p_id(pp):
    return "P%d" % int(pp["id"]) if ptr(pp) else "-"


def find_g(goid):
    for gp in for_each_g():
        if int(gp["goid"]) == goid:
            return gp
    return None


def check_started():
    """Raise Rt0Error unless the runtime has Gs and Ps to show."""
    if ptr(ev("allgs")) == 0 or int(ev("gomaxprocs")) == 0:
        raise Rt0Error("the runtime has not started yet (allgs is empty "
                       "or gomaxprocs is 0): nothing to show")


def cmd_info_goroutines(img, arg):
    check_started()
    selcpu = img.selected_cpu()
    cur = None
    if selcpu is not None:
        m = img.m_of_cpu(selcpu)
        if m is not None:
            cur = ptr(m["curg"])
    print("  %-5s %-11s %-20s %-4s %-4s %-24s %s" % (
        "Goid", "Status", "Wait reason", "M", "P", "Function", "Now at"))
    for gp in for_each_g():
        st = int(gp["atomicstatus"])
        if st == 6 or int(gp["goid"]) <= 0:  # _Gdead, or a g0
            continue
        mp = gp["m"]
        pp = mp["p"] if ptr(mp) and st == 2 else None
        frames, _ = img.g_frames(gp)
        now = "-"
        for f in frames:
            if f.pc != img.mcall_resume:
                now = img.syms.describe(f.pc, f.is_return)
                break
        print("%s %-5d %-11s %-20s %-4s %-4s %-24s %s" % (
            "*" if ptr(gp) == cur else " ", int(gp["goid"]),
            img.gstatus.get(st, str(st)),
            cstr(gp["waitreason"]) if st == 4 else "",
            m_id(mp), p_id(pp) if pp is not None else "-",
            img.syms.name(ptr(gp["startfn"])) or "?", now))


def print_bt(img, gp):
    st = int(gp["atomicstatus"])
    # As the runtime's dumps (sched/traceback.c): _Grunning -> running.
    reason = cstr(gp["waitreason"]) if st == 4 else \
        img.gstatus.get(st, str(st)).replace("_G", "", 1)
    frames, note = img.g_frames(gp)
    print("goroutine %d [%s]%s:" % (int(gp["goid"]), reason,
                                    " (%s)" % note if note else ""))
    if not frames:
        print("  (no frames)")
    for n, f in enumerate(frames):
        print("#%-2d 0x%016x %s%s%s" % (
            n, f.pc, img.syms.describe(f.pc, f.is_return),
            img.syms.where(f.pc, f.is_return),
            "  [%s]" % f.note if f.note else ""))
    gopc = int(gp["gopc"])
    if gopc:
        print("created by 0x%016x %s%s" % (gopc, img.syms.describe(gopc, True),
                                            img.syms.where(gopc, True)))


def cmd_goroutine(img, arg):
    words = arg.split()
    if len(words) != 2 or words[1] not in ("bt", "backtrace"):
        raise Rt0Error("usage: goroutine N bt  (N a goid, or all)")
    check_started()
    if words[0] == "all":
        first = True
        for gp in for_each_g():
            if int(gp["atomicstatus"]) == 6 or int(gp["goid"]) <= 0:
                continue
            if not first:
                print()
            first = False
            print_bt(img, gp)
        return
    try:
        goid = int(words[0], 0)
    except ValueError:
        raise Rt0Error("goroutine: '%s' is not a goroutine id" % words[0])
    gp = find_g(goid)
    if gp is None:
        raise Rt0Error("no goroutine %d on allgs" % goid)
    if int(gp["atomicstatus"]) == 6:
        raise Rt0Error("goroutine %d is dead (_Gdead)" % goid)
    print_bt(img, gp)


def cmd_info_ms(img, arg):
    if ptr(ev("allm")) == 0:
        raise Rt0Error("no M yet (allm is empty): the runtime has not "
                       "started")
    print("%-5s %-4s %-5s %-8s %-7s %-7s %-18s %s" % (
        "M", "P", "curg", "spinning", "blocked", "lockedg", "thread", "cpu"))
    for mp in for_each_m():
        kt = mp["thread"]
        if ptr(kt):
            thread = "%d (%s)" % (int(kt["id"]), cstr(kt["name"]))
            cpu = img.cpu_of_thread(ptr(kt))
            if cpu is not None:
                where = "cpu %d" % cpu
            else:
                s = int(kt["state"])
                where = "off (%s, last cpu %d)" % (
                    img.ktstate.get(s, str(s)), int(kt["cpu"]["id"])) \
                    if ptr(kt["cpu"]) else "off (%s)" % img.ktstate.get(s, s)
        else:
            thread, where = "-", "-"
        print("%-5s %-4s %-5s %-8s %-7s %-7s %-18s %s%s" % (
            m_id(mp), p_id(mp["p"]), goid_of(mp["curg"]),
            "true" if bool(mp["spinning"]) else "false",
            "true" if bool(mp["blocked"]) else "false",
            goid_of(mp["lockedg"]), thread, where,
            "  (sysmon)" if bool(mp["sysmon"]) else ""))


def cmd_info_ps(img, arg):
    n = int(ev("gomaxprocs"))
    if n == 0:
        raise Rt0Error("no P yet (gomaxprocs is 0): the runtime has not "
                       "started")
    runq_len = int(ev("sizeof(allp[0]->runq) / sizeof(allp[0]->runq[0])"))
    print("%-4s %-10s %-5s %-5s %-7s %-7s %s" % (
        "P", "status", "M", "runq", "runnext", "timers", "run queue (goids)"))
    for i in range(n):
        pp = ev("allp[%d]" % i)
        if ptr(pp) == 0:
            print("P%-3d (allp[%d] is NULL)" % (i, i))
            continue
        head, tail = int(pp["runqhead"]), int(pp["runqtail"])
        qlen = (tail - head) & 0xFFFFFFFF
        goids = []
        for k in range(min(qlen, runq_len)):
            goids.append(goid_of(pp["runq"][(head + k) % runq_len]))
        st = int(pp["status"])
        print("%-4s %-10s %-5s %-5d %-7s %-7d %s" % (
            p_id(pp), img.pstatus.get(st, str(st)), m_id(pp["m"]), qlen,
            goid_of(pp["runnext"]), int(pp["ntimers"]),
            " ".join(goids) if goids else "-"))


def cmd_info_cpus(img, arg):
    n = img.ncpu()
    if n == 0:
        raise Rt0Error("no CPU started yet (ncpu is 0): the image has not "
                       "booted")
    sel = img.selected_cpu()
    threads = img.cpu_threads()
    print("  %-4s %-5s %-6s %-20s %-5s %-5s %-5s %s" % (
        "cpu", "lapic", "gdb", "kthread", "M", "curg", "idle", "ticks"))
    for i in range(n):
        c = img.cpu(i)
        cur = c["cur"]
        kt = "%d (%s)" % (int(cur["id"]), cstr(cur["name"])) \
            if ptr(cur) else "-"
        m = img.m_of_cpu(i)
        th = threads.get(i)
        print("%s %-4d %-5d %-6s %-20s %-5s %-5s %-5s %d" % (
            "*" if i == sel else " ", int(c["id"]), int(c["apic_id"]),
            "%d" % th.num if th else "-", kt,
            m_id(m) if m is not None else "-",
            goid_of(m["curg"]) if m is not None else "-",
            "yes" if int(c["idle"]) else "no", int(c["ticks"])))


def now_ns(img):
    """nanotime() as of the latest tick on any CPU (gdb cannot read the
    TSC): the newest next_tick less one tick period, as time.c converts
    it (ns = tsc * ns_mult >> 32)."""
    tsc_hz, hz = int(ev("tsc_hz")), int(ev("tick_hz"))
    latest = 0
    for i in range(img.ncpu()):
        latest = max(latest, int(img.cpu(i)["next_tick"]))
    tsc = max(latest - (tsc_hz // hz if hz else 0), 0)
    return (tsc * int(ev("'time.c'::ns_mult"))) >> 32


def cmd_schedtrace(img, arg):
    gomaxprocs = int(ev("gomaxprocs"))
    if gomaxprocs == 0:
        raise Rt0Error("the runtime has not started yet (gomaxprocs is 0)")
    s = ev("sched")
    start = int(ev("'trace.c'::starttime"))
    ms = (now_ns(img) - start) // 1000000 if start else 0
    line = ("SCHED %dms: gomaxprocs=%d idleprocs=%d threads=%d "
            "spinningthreads=%d needspinning=%d idlethreads=%d "
            "runqueue=%d" % (
                ms, gomaxprocs, int(s["npidle"]),
                int(s["mnext"]) - int(s["nmfreed"]), int(s["nmspinning"]),
                int(s["needspinning"]), int(s["nmidle"]),
                int(s["runqsize"])))
    lens = []
    for i in range(gomaxprocs):
        pp = ev("allp[%d]" % i)
        lens.append(str((int(pp["runqtail"]) - int(pp["runqhead"]))
                        & 0xFFFFFFFF))
    print(line + " [" + " ".join(lens) + "]")


# ---- gdb commands ----------------------------------------------------------

class Rt0Command(gdb.Command):
    """A command whose failures to read the image end in one line."""

    def __init__(self, name, fn, cls=gdb.COMMAND_STATUS):
        super().__init__(name, cls)
        self.fn = fn

    def invoke(self, arg, from_tty):
        self.dont_repeat()
        if gdb.selected_inferior().pid == 0:
            print("rt0: no live image to read: connect first "
                  "(target remote :1234)")
            return
        try:
            self.fn(Image(), arg)
        except Rt0Error as e:
            print("rt0: %s" % e)
        except gdb.MemoryError as e:
            print("rt0: cannot read the image's memory (not booted yet, or "
                  "no target?): %s" % e)
        except gdb.error as e:
            print("rt0: %s" % e)


def register(name, fn, doc, cls=gdb.COMMAND_STATUS):
    """Define command @name running fn(Image(), arg), with help @doc."""
    type("Rt0Cmd", (Rt0Command,), {"__doc__": doc})(name, fn, cls)


register("info goroutines", cmd_info_goroutines, """List the goroutines (rt0).
Goid, status, wait reason, M, P, the function it was started with and
where it is now; '*' marks the goroutine the selected CPU runs.""")
register("goroutine", cmd_goroutine, """Backtrace of a goroutine (rt0).
goroutine N bt, or goroutine all bt.  Frames come from the G's saved
gobuf, its syscall frame, or the registers of the vCPU running it.""",
         gdb.COMMAND_STACK)
register("info ms", cmd_info_ms, """List the Ms on allm (rt0).
P, curg, spinning, blocked, lockedg, the kernel thread under each and the
CPU it is on.""")
register("info ps", cmd_info_ps, """List the Ps in allp[0..gomaxprocs) (rt0).
Status, M, run queue length and goids, runnext, timers.""")
register("info cpus", cmd_info_cpus, """List the started CPUs (rt0).
lapic id, gdb thread, running kernel thread, its M and that M's curg,
idle, ticks.""")
register("rt0-schedtrace", cmd_schedtrace, """Print the schedtrace line (rt0).
In sched/trace.c's format, computed from memory; its time is as of the
latest tick.""")

print("rt0-gdb: info goroutines, goroutine N bt, info ms, info ps, "
      "info cpus, rt0-schedtrace")
