#!/bin/sh
# tools/gdbtest.sh - check tools/rt0-gdb.py against a live image.
#
#   sh tools/gdbtest.sh        (after make; needs gdb: apt-get install -y gdb)
#   make gdbtest               (the same; ELF=build/debug/rt0.elf with DEBUG=1)
#
# Boots build/rt0.elf with app=gdbdemo (apps/gdbdemo.c) on 2 CPUs, microvm,
# TCG (rt0run's default accelerator; -accel tcg is what several vCPUs
# need here), paused, with QEMU's gdb server on a free 127.0.0.1 port.
# One gdb -batch run with the extension then:
#   - asks for goroutines with no target and before boot (one-line refusals),
#   - breaks at gdbdemo_ready (every goroutine in place) and lists
#     goroutines, Ms, Ps, CPUs, the schedtrace line, and backtraces,
#   - breaks in sigpreempt (sysmon preempting the spinner: a running G
#     under an interrupt frame) and in gopreempt_m (the spinner switched
#     out by mcall) and backtraces the spinner each time.
# Prints "ok     <what>" or "FAILED <what>" per check and exits 1 if any
# failed.  QEMU is killed on every path; gdb and QEMU have time limits
# (150 s and 180 s, for slow hosts; a run takes a few seconds here).
# Output: $GDBTEST_KEEP, if set, keeps the gdb transcript and the
# console there.
set -u
cd "$(dirname "$0")/.."

ELF=${ELF:-build/rt0.elf}
RUN=build/rt0run
failed=0

ok()   { echo "ok     $1"; }
fail() { echo "FAILED $1"; failed=1; }

if ! command -v gdb >/dev/null 2>&1; then
	fail "gdb installed (apt-get install -y gdb)"
	exit 1
fi
if [ ! -f "$ELF" ] || [ ! -x "$RUN" ]; then
	fail "$ELF and $RUN built (make && make $RUN)"
	exit 1
fi

tmp=$(mktemp -d /tmp/gdbtest.XXXXXX)
qpid=
cleanup() {
	# rt0run and its QEMU are a process group of their own (setsid).
	[ -n "$qpid" ] && kill -KILL "-$qpid" 2>/dev/null	# dash: no "--"
	[ -n "$qpid" ] && wait "$qpid" 2>/dev/null
	if [ -n "${GDBTEST_KEEP:-}" ]; then
		mkdir -p "$GDBTEST_KEEP" && cp "$tmp"/* "$GDBTEST_KEEP"/
	fi
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

# A free port: bind port 0 and read what the kernel chose.
port=$(python3 -c 'import socket; s = socket.socket(); \
s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])' 2>/dev/null) ||
	port=$((20000 + $$ % 20000))

setsid "$RUN" -e "$ELF" -m microvm -s 2 -a tcg -t 180 \
	-c "app=gdbdemo schedtrace=1000" \
	-x "-gdb tcp:127.0.0.1:$port -S" >"$tmp/console.log" 2>&1 &
qpid=$!

cat >"$tmp/cmds.gdb" <<EOF
set pagination off
set confirm off
echo ==== notarget\n
info goroutines
python
import time
for attempt in range(300):
    try:
        gdb.execute("target remote 127.0.0.1:$port")
        break
    except gdb.error:
        time.sleep(0.1)
end
echo ==== preboot\n
info goroutines
info cpus
break gdbdemo_ready
continue
echo ==== goroutines\n
info goroutines
echo ==== ms\n
info ms
echo ==== ps\n
info ps
echo ==== cpus\n
info cpus
echo ==== schedtrace\n
rt0-schedtrace
python
def goid(fn):
    for line in gdb.execute("info goroutines", to_string=True).splitlines():
        if " %s " % fn in line:
            return line[1:].split()[0]
    return "0"
gdb.set_convenience_variable("receiver", int(goid("gdbdemo_receiver")))
gdb.set_convenience_variable("locker", int(goid("gdbdemo_locker")))
gdb.set_convenience_variable("spinner", int(goid("gdbdemo_spinner")))
end
echo ==== bt-receiver\n
eval "goroutine %d bt", \$receiver
echo ==== bt-locker\n
eval "goroutine %d bt", \$locker
echo ==== bt-nosuch\n
goroutine 99999 bt
delete
break sigpreempt
continue
echo ==== bt-interrupted\n
eval "goroutine %d bt", \$spinner
delete
break gopreempt_m
continue
echo ==== bt-switched\n
eval "goroutine %d bt", \$spinner
echo ==== end\n
EOF

timeout -k 5 150 gdb -q -batch -nx -x tools/rt0-gdb.py -x "$tmp/cmds.gdb" \
	"$ELF" >"$tmp/gdb.log" 2>&1
st=$?

# section NAME - the transcript between "==== NAME" and the next "====".
section() {
	awk -v s="==== $1" '$0 == s { on = 1; next } /^==== / { on = 0 } on' \
		"$tmp/gdb.log"
}
# check WHAT SECTION REGEX... - every extended regex matches some line.
check() {
	what=$1 sec=$2
	shift 2
	text=$(section "$sec")
	for re in "$@"; do
		if ! printf '%s\n' "$text" | grep -Eq -- "$re"; then
			fail "$what (no line matching '$re' in section $sec)"
			return
		fi
	done
	ok "$what"
}

[ $st -eq 0 ] && grep -q "^==== end" "$tmp/gdb.log" &&
	ok "gdb ran the whole script (exit $st)" ||
	fail "gdb ran the whole script (exit $st, see below)"
grep -q "^rt0-gdb: info goroutines" "$tmp/gdb.log" &&
	ok "extension loaded" || fail "extension loaded"

check "no target: a one-line refusal" notarget "^rt0: no live image"
check "before boot: a one-line refusal" preboot \
	"^rt0: the runtime has not started yet"
check "info goroutines: chan receive" goroutines \
	"^  [0-9]+ +_Gwaiting +chan receive .*gdbdemo_receiver +chanrecv_mcall"
check "info goroutines: sync.Mutex.Lock" goroutines \
	"^  [0-9]+ +_Gwaiting +sync\.Mutex\.Lock .*gdbdemo_locker "
check "info goroutines: sync.WaitGroup.Wait" goroutines \
	"^  [0-9]+ +_Gwaiting +sync\.WaitGroup\.Wait .*gdbdemo_waiter "
check "info goroutines: sleep" goroutines \
	"^  [0-9]+ +_Gwaiting +sleep .*gdbdemo_sleeper +timeSleep"
check "info goroutines: a syscall, with its M" goroutines \
	"^  [0-9]+ +_Gsyscall +M[0-9]+ .*gdbdemo_syscaller +go_syscall_sleep"
check "info goroutines: '*' on main, running at the breakpoint" goroutines \
	"^\* 1 +_Grunning +M[0-9]+ +P[01] +runtime_main +gdbdemo_ready\+0x0"
check "info goroutines: the spinner, with its function" goroutines \
	"gdbdemo_spinner "
n=$(section goroutines | grep -c '^[ *] [0-9]')
[ "$n" -eq 8 ] && ok "info goroutines: 8 goroutines" ||
	fail "info goroutines: 8 goroutines (got $n)"
check "goroutine N bt: chanrecv_mcall, then the receiver" bt-receiver \
	"^goroutine [0-9]+ \[chan receive\]:" \
	"^#0  0x[0-9a-f]{16} chanrecv_mcall\+0x[0-9a-f]+ at sched/asm_amd64\.S:[0-9]+" \
	"^#1  0x[0-9a-f]{16} gdbdemo_receiver\+0x[0-9a-f]+ at .*:[0-9]+" \
	"^#2  .* goexit\+0x1 " "^created by 0x[0-9a-f]+ gdbdemo\+0x"
check "goroutine N bt: the mutex waiter names its function" bt-locker \
	"^#[0-9] .* go_mutex_lock_slow\+" "^#[0-9] .* gdbdemo_locker\+"
check "goroutine N bt: no such goroutine, one line" bt-nosuch \
	"^rt0: no goroutine 99999"
check "info ms: main's M on a CPU, a locked M" ms \
	"^M[0-9]+ +P[01] +1 +false +false +- +[0-9]+ \([a-z0-9]+\) +cpu [01]" \
	"^M[0-9]+ +- +- +false +true +[0-9]+ +[0-9]+ \([a-z0-9]+\) +off \(KT_BLOCKED"
check "info ps: both Ps" ps "^P0 +_P[a-z]+ " "^P1 +_P[a-z]+ "
check "info cpus: both CPUs, the selected one marked" cpus \
	"^[ *] 0 +0 +[12] " "^[ *] 1 +1 +[12] " "^\* [01] .* 1 +no +[0-9]+$"
check "rt0-schedtrace: sched/trace.c's format" schedtrace \
	"^SCHED [0-9]+ms: gomaxprocs=2 idleprocs=[0-9]+ threads=[0-9]+ spinningthreads=[0-9]+ needspinning=[0-9]+ idlethreads=[0-9]+ runqueue=[0-9]+ \[[0-9]+ [0-9]+\]$"
check "bt of a running G under an interrupt: the interrupted function" \
	bt-interrupted "^goroutine [0-9]+ \[running\] \(running on cpu [01]\):" \
	"^#0  .* sigpreempt\+" \
	"^#[0-9] .* gdbdemo_spin_loop\+0x[0-9a-f]+ at .*\[interrupted here\]" \
	"^#[0-9] .* gdbdemo_spinner\+"
check "bt of a G switched out by mcall: mcall_resume, then its caller" \
	bt-switched "mcall_resume\+0x0 .*\[left its stack here" \
	"^#[0-9] .* asyncPreempt2\+" \
	"^#[0-9] .* gdbdemo_spin_loop\+0x[0-9a-f]+ at .*\[preempted here\]" \
	"^#[0-9] .* gdbdemo_spinner\+"

if [ $failed -ne 0 ]; then
	echo "---- gdb transcript"
	cat "$tmp/gdb.log"
	echo "---- console (last 20 lines)"
	tail -20 "$tmp/console.log"
fi
exit $failed
