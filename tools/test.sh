#!/bin/sh
# tools/test.sh - the test matrix behind `make test`.
#
# 1. host programs (the run queue under ThreadSanitizer, ...)
# 2. the in-image suite (test=*) at -smp 1, 2, 4, 8 on microvm, 4 on pc,
#    and 4 from the GRUB ISO, each read as KTAP by build/rt0run; the
#    channel, sync and preemption tests again at 1, 2, 4, 8 with
#    preemption forced often (preemptus=100); the suite again on the
#    debug image (make DEBUG=1: lock ranks, owners, preconditions) at
#    4 CPUs, and its channel and sync tests at 8 with preemptus=100
#    (every test of every run is checked for leaks by the runner)
# 3. harness checks: a bad command line exits 2 (and a seeded fuzzer
#    of them), every numeric key at its bounds, machine limits, a
#    failing, a hung (with every CPU's backtrace), a leaking test and an
#    unexpected fault each fail the run, the debug image's lock-order
#    and precondition checks fire, a seed replays its schedule
#    (schedseed=, make stress), deadlocks and misuse of channels and
#    sync end the program with Go's words, console lines from all CPUs
#    are never torn, microvm reaches its first KTAP line within 10 ms,
#    the gdb extension lists a live image's goroutines (tools/gdbtest.sh),
#    100,000 parked goroutines hold at most 5 KiB each (demand-paged
#    stacks) and 4.5 KiB once their stacks shrink, 150,000 fit in 512 MiB
#    (shrinking by itself as memory runs low), schedplot.py reads schedtrace logs (tools/plottest.sh), the
#    execution tracer's trace converts to valid JSON with a known
#    program's events in order (tools/tracetest.sh),
#    a program from outside the tree builds, runs and runs its tests
#
# Guest output goes to build/test-logs/; failures are shown.  The last
# line is "N passed, N failed", summed over everything.
set -u
B=build
R=$B/rt0run
IMG=$B/rt0.elf		# the image ktap_run and guest boot
L=$B/test-logs
rm -rf "$L"
mkdir -p "$L"
: > "$L/results"
TMO=${TEST_TIMEOUT:-600}
start=$(date +%s)

record() {		# record PASSED FAILED
	echo "$1 $2" >> "$L/results"
}

check() {		# check NAME STATUS(0=pass) [DETAIL]
	if [ "$2" = 0 ]; then
		echo "ok     $1"
		record 1 0
	else
		echo "FAILED $1${3:+: $3}"
		record 0 1
	fi
}

ktap_run() {		# ktap_run LABEL MACHINE SMP CMDLINE
	label=$1
	t0=$(date +%s)
	$R -e "$IMG" -k -m "$2" -s "$3" -c "$4" -t "$TMO" -r "$L/results" \
		> "$L/$label.log" 2> "$L/$label.err"
	rc=$?
	res=$(tail -n 1 "$L/$label.log")
	printf '%-22s %s (%ss)\n' "$label" "${res#result: }" $(( $(date +%s) - t0 ))
	if [ $rc != 0 ]; then
		grep -E '^not ok|TIMEOUT|EXCEPTION|PANIC' "$L/$label.log" | head -20
		sed 's/^/    /' "$L/$label.err"
		echo "    (full log: $L/$label.log)"
	fi
}

# Run the guest once more with stdout saved (for harness checks).
guest() {		# guest LOGNAME MACHINE SMP CMDLINE -> exit status
	$R -e "$IMG" -m "$2" -s "$3" -c "$4" -t 120 > "$L/$1.log" 2>&1
}

# A guest on microvm must exit with STATUS and print, for each extended
# regular expression ERE, a line matching it.
expect_exit() {		# expect_exit LOGNAME SMP CMDLINE STATUS DESCRIPTION ERE...
	xlog=$L/$1.log xstatus=$4 xdesc=$5
	guest "$1" microvm "$2" "$3"
	rc=$?
	shift 5
	missing=0
	for ere in "$@"; do
		grep -qE "$ere" "$xlog" || missing=$((missing + 1))
	done
	check "$xdesc" $([ $rc = "$xstatus" ] && [ $missing = 0 ] && echo 0 || echo 1) \
		"status $rc, $missing of $# lines missing, see $xlog"
}

echo "== host programs"
for t in $(ls $B/host/*.test 2>/dev/null); do
	name=$(basename "$t" .test)
	"$t" > "$L/host-$name.log" 2>&1
	check "host/$name" $? "see $L/host-$name.log"
done

echo "== in-image suite"
for n in 1 2 4 8; do
	ktap_run "microvm-smp$n" microvm $n "test=*"
done
ktap_run "pc-smp4" pc 4 "test=*"
# Channels, select, sync, preemption and stopping the world again, with
# goroutines preempted after 100 us of running instead of 10 ms.
for n in 1 2 4 8; do
	ktap_run "microvm-smp$n-preempt" microvm $n \
		"test=chan_*,select_*,sync_*,sema_*,preempt_*,stw_*,gomaxprocs_* preemptus=100"
done
sh tools/mkiso.sh $B/rt0.elf $B/rt0-test.iso "test=*" &&
	ktap_run "iso-smp4" iso 4 "" || check "iso build" 1

echo "== debug image (make DEBUG=1: lock ranks and owners, preconditions)"
IMG=$B/debug/rt0.elf
ktap_run "debug-microvm-smp4" microvm 4 "test=*"
ktap_run "debug-smp8-preempt" microvm 8 \
	"test=chan_*,select_*,sync_*,sema_*,stw_*,gomaxprocs_* preemptus=100"
expect_exit lockorder 2 "test=selftest_lock_order" 3 \
	"debug: a runtime lock taken out of rank order throws, naming both" \
	"^fatal error: lock order: taking sched \(rank [0-9]+\) at 0x[0-9a-f]+ while holding timers \(rank [0-9]+\)"
expect_exit spinorder 2 "test=selftest_spinlock_order" 3 \
	"debug: a spinlock taken out of rank order panics, naming both" \
	"PANIC on cpu .*: lock order: taking kwait \(rank [0-9]+\) at 0x[0-9a-f]+ while holding mem \(rank [0-9]+\)"
expect_exit lockunderspin 2 "test=selftest_lock_under_spinlock" 3 \
	"debug: a runtime lock under a spinlock throws" \
	"^fatal error: lock leaf \(rank [0-9]+\) taken holding a spinlock"
expect_exit unlockother 2 "test=selftest_unlock_by_other_m" 3 \
	"debug: unlocking a lock another M holds throws, naming both Ms" \
	"^fatal error: unlock of lock leaf \(rank [0-9]+\) at 0x[0-9a-f]+ held by m[0-9]+, not by m[0-9]+"
expect_exit notheld 2 "test=selftest_lock_not_held" 3 \
	"debug: a function documented 'sched.lock held' checks it" \
	"^fatal error: checkmcount: lock sched \(rank [0-9]+\) (not held|held by m[0-9]+, not by this M)"

# Seeded scheduling replays: the same seed at the same CPU count under
# single-threaded TCG with -icount takes the same choices (the trace line
# matches) and passes; another seed takes others.  idlepoll=1: without
# it, when every vCPU halts QEMU may move the clock at a host-dependent
# moment (4 different traces in 8 runs were seen).  (Seed 3 at 2 CPUs
# once hung here: an M spinning through the scheduler without a pause
# starved the other vCPU.)
SEED_TESTS="test=chan_*,sync_* idlepoll=1 schedseed"
seeded() {		# seeded LOG SEED -> trace line in $L/LOG.log
	$R -e "$IMG" -a tcg,thread=single -x "-icount shift=0,sleep=off" -k \
		-m microvm -s 2 -c "$SEED_TESTS=$2" -t 300 > "$L/$1.log" 2>&1
	src=$?
	grep -a "^rt0: schedseed=$2: [0-9]* choices, trace 0x" "$L/$1.log"
	return $src
}
t1=$(seeded seed3a 3); rc1=$?
t2=$(seeded seed3b 3); rc2=$?
t3=$(seeded seed4 4); rc3=$?
check "schedseed=3 twice (2 CPUs, -icount): both pass, the same trace: ${t1#rt0: }" \
	$([ $rc1 = 0 ] && [ $rc2 = 0 ] && [ -n "$t1" ] && [ "$t1" = "$t2" ] && echo 0 || echo 1) \
	"status $rc1/$rc2, traces '$t1' / '$t2' (logs: $L/seed3a.log, $L/seed3b.log)"
check "schedseed=4 takes other choices: ${t3#rt0: }" \
	$([ $rc3 = 0 ] && [ -n "$t3" ] && [ "${t3#*trace }" != "${t1#*trace }" ] && echo 0 || echo 1) \
	"status $rc3, trace '$t3' (log: $L/seed4.log)"
IMG=$B/rt0.elf
expect_exit seedrelease 1 "schedseed=1" 2 \
	"a release image refuses schedseed=N, naming the debug image" \
	"^rt0: command line: schedseed=1 needs the debug image \\(make DEBUG=1"

# The runner's leak checks: each fixture keeps something, and fails.
expect_exit leakpages 2 "test=selftest_leak_pages" 1 \
	"a test that keeps pages fails, naming them" \
	"^not ok 1 selftest_leak_pages # check_selftest.c:[0-9]+: leak after [0-9]+ ms: pages \+3\$"
expect_exit leakkthread 2 "test=selftest_leak_kthread" 1 \
	"a test that leaves a kernel thread fails, naming it" \
	"^not ok 1 selftest_leak_kthread # check_selftest.c:[0-9]+: leak after [0-9]+ ms: kthreads \+1\$"
expect_exit leakgoroutine 2 "test=selftest_leak_goroutine" 1 \
	"a test that leaves a goroutine (and its channel) fails, naming them" \
	"^not ok 1 selftest_leak_goroutine # check_selftest.c:[0-9]+: leak after [0-9]+ ms: kobjects \+1 goroutines \+1\$"

echo "== harness checks"
expect_exit badcmd 2 "maxcpus=2 nosuchkey=1" 2 \
	"bad command line exits with status 2 and names the key" \
	"command line: unknown key 'nosuchkey'"
expect_exit badval 1 "hz=fast" 2 \
	"malformed value exits with status 2 and the accepted form" \
	"bad value 'fast' for key 'hz': expected hz=N"

$R -k -m microvm -s 2 -c "test=selftest_must_fail" -t 120 > "$L/mustfail.log" 2>&1
rc=$?
grep -q "^not ok 1 selftest_must_fail # selftest.c" "$L/mustfail.log"
found=$?
check "a failing test fails the run" \
	$([ $rc != 0 ] && [ $found = 0 ] && echo 0 || echo 1) "runner exit $rc"

$R -k -m microvm -s 2 -c "test=selftest_must_hang" -t 120 > "$L/musthang.log" 2>&1
rc=$?
grep -q "^not ok 1 selftest_must_hang # TIMEOUT" "$L/musthang.log"
found=$?
check "a hung test is a TIMEOUT and fails the run" \
	$([ $rc != 0 ] && [ $found = 0 ] && echo 0 || echo 1) "runner exit $rc"
# The report says where every CPU was: the hung test's own frame on the
# CPU the stop NMI took, and what the watchdog's tick interrupted.
# (The watchdog may run on the hung test's CPU or on another.)
grep -A2 -E "^cpu [0-9]+(: stopped in| \(this one\): its tick interrupted) thread 0 'kmain':" \
	"$L/musthang.log" | grep -q "selftest_must_hang+0x"
found=$?
grep -q "^cpu [0-9]* (this one): its tick interrupted thread" "$L/musthang.log"
found2=$?
check "a hang's report shows each CPU's backtrace at the stop" \
	$([ $found = 0 ] && [ $found2 = 0 ] && echo 0 || echo 1) "see $L/musthang.log"

expect_exit fault 2 "test=selftest_unexpected_fault" 3 \
	"an unexpected fault prints a symbolized report and exits 3" \
	"EXCEPTION #PF page fault \(vector 14\) on cpu" \
	"cause: NULL pointer dereference" \
	"#1  0x.* selftest_unexpected_fault\+0x" \
	"r15 0x"

# Every numeric key at its bounds and some values inside: any value the
# image accepts must work (a few tests that use every P, the timers and
# the tick pass), and the first values outside are refused with the key
# named.  (maxprocs=67: more coprimes than the steal order once had room
# for.)
BOUNDS_TESTS="test=chan_multi_consumer,sched_numgoroutine_is_exact,timers_fire_in_deadline_order_never_early"
ok_keys= bad_keys=
for kv in maxprocs=1 maxprocs=64 maxprocs=65 maxprocs=67 maxprocs=255 \
	maxprocs=256 maxcpus=1 maxcpus=3 maxcpus=64 hz=10 hz=250 hz=10000 \
	slice=1 slice=1000 schedtrace=1 schedtrace=3600000 preemptus=50 \
	preemptus=10000000 gstack=16384 gstack=20000 gstack=67108864 \
	memtrace=1 memtrace=3600000; do
	$R -k -m microvm -s 4 -c "$BOUNDS_TESTS $kv" -t 120 \
		> "$L/bound-$kv.log" 2>&1 || bad_keys="$bad_keys $kv"
	ok_keys="$ok_keys $kv"
done
check "accepted bounds run:$ok_keys" $([ -z "$bad_keys" ] && echo 0 || echo 1) \
	"failed:$bad_keys (logs: $L/bound-*.log)"
refused= wrong=
for kv in maxprocs=0 maxprocs=257 maxcpus=0 maxcpus=65 hz=9 hz=10001 \
	slice=0 slice=1001 schedtrace=3600001 preemptus=49 \
	preemptus=10000001 gstack=16383 gstack=67108865 memtrace=3600001; do
	key=${kv%%=*}
	$R -m microvm -s 2 -c "$kv" -t 60 > "$L/refused-$kv.log" 2>&1
	rc=$?
	if [ $rc = 2 ] && grep -q "bad value '${kv#*=}' for key '$key'" "$L/refused-$kv.log"; then
		refused="$refused $kv"
	else
		wrong="$wrong $kv(status $rc)"
	fi
done
check "values past the bounds refused with status 2, the key named:$refused" \
	$([ -z "$wrong" ] && echo 0 || echo 1) "not refused:$wrong (logs: $L/refused-*.log)"

# The command-line fuzzer: random lines from the image's own help=1
# (valid words, unknown keys, missing '=', empty, malformed, overflowing
# and out-of-range values, repeated keys, non-ASCII and control bytes,
# over-long values and 4 KiB lines).  Each must end in a clean run (the
# appended tests pass, status 0) or a clean refusal (status 2 and the
# first thing wrong named): never a crash, a hang or garbage accepted.
FUZZ_SEED=${FUZZ_SEED:-1}
FUZZ_N=${FUZZ_N:-200}
$R -m microvm -s 1 -c "help=1" -t 60 > "$L/help.txt" 2>&1
$B/cmdfuzz "$FUZZ_SEED" "$FUZZ_N" "$L/help.txt" "test=printf_*" > "$L/fuzz-lines.txt"
fuzz_bad=0 fuzz_ok=0 fuzz_refused=0 n=0
: > "$L/fuzz-failures.txt"
while IFS='	' read -r why line; do
	n=$((n + 1))
	$R -m microvm -s 2 -c "$line" -t 60 > "$L/fuzz.log" 2>&1
	rc=$?
	if [ "$why" = ok ]; then
		if [ $rc = 0 ]; then fuzz_ok=$((fuzz_ok + 1)); continue; fi
	elif [ $rc = 2 ] && grep -qF "rt0: command line: " "$L/fuzz.log" &&
	     grep -qF -- "$why" "$L/fuzz.log"; then
		fuzz_refused=$((fuzz_refused + 1))
		continue
	fi
	fuzz_bad=$((fuzz_bad + 1))
	{ echo "line $n: status $rc, expected: $why"; echo "  $line";
	  tail -n 3 "$L/fuzz.log" | sed 's/^/  | /'; } >> "$L/fuzz-failures.txt"
done < "$L/fuzz-lines.txt"
check "command-line fuzzer (seed $FUZZ_SEED): $fuzz_ok of $n lines ran, $fuzz_refused refused cleanly" \
	$([ $fuzz_bad = 0 ] && [ $n = "$FUZZ_N" ] && echo 0 || echo 1) \
	"$fuzz_bad wrong: see $L/fuzz-failures.txt (FUZZ_SEED=$FUZZ_SEED)"
[ $fuzz_bad = 0 ] || head -n 20 "$L/fuzz-failures.txt"

# Machine limits: each works, or ends with one line naming the limit and
# status 4 (EXIT_MACHINE), or, for memory a program needs beyond what
# there is, an out-of-memory fatal error; never a triple fault or a hang.
MACH_TESTS="test=chan_multi_consumer,sched_numgoroutine_is_exact,preempt_registers_and_vectors_intact"
machine_check() {	# machine_check NAME SMP QEMU-ARGS CMDLINE STATUS ERE DESCRIPTION
	$R -m microvm -s "$2" -x "$3" -c "$4" -t 120 > "$L/mach-$1.log" 2>&1
	rc=$?
	found=0
	[ -z "$6" ] || grep -qE "$6" "$L/mach-$1.log" || found=1
	check "$7" $([ $rc = "$5" ] && [ $found = 0 ] && echo 0 || echo 1) \
		"status $rc, see $L/mach-$1.log"
}
machine_check 16m 2 "-m 16M" "$MACH_TESTS" 0 "^# totals: 3 passed, 0 failed" \
	"-m 16M: the runtime's tests pass"
machine_check 3m 2 "-m 3M" "test=printf_*" 4 \
	"^rt0: machine: 3072 KiB of memory, .* rt0 needs 2048 KiB free" \
	"-m 3M: one line names the memory limit, status 4"
machine_check 6m 4 "-m 6M" "" 3 "^fatal error: .*out of memory" \
	"-m 6M: make run's experiment runs out of memory: a fatal error saying so"
machine_check 70cpus 70 "" "$MACH_TESTS" 0 \
	"^rt0: machine: the MADT lists 70 CPUs; rt0 supports 64" \
	"-smp 70: one line names the CPU limit; 64 CPUs run the tests"
machine_check qemu64 2 "-cpu qemu64" "$MACH_TESTS" 0 "booted by pvh .*FS base via MSR" \
	"-cpu qemu64 (no FSGSBASE): the runtime's tests pass"
machine_check nehalem 2 "-cpu Nehalem" "$MACH_TESTS" 0 "booted by pvh .*FS base via MSR" \
	"-cpu Nehalem (no FSGSBASE, no XSAVE): the runtime's tests pass"
machine_check 32bit 2 "-cpu pentium3" "test=printf_*" 4 \
	"^rt0: this CPU has no long mode \(x86-64\); cannot boot" \
	"-cpu pentium3 (no long mode): one line, status 4"

# Deadlocks end the program with Go's message and each goroutine's wait.
expect_exit deadlock_chan 2 "test=selftest_deadlock_chan_receive" 3 \
	"a goroutine blocked on a channel for ever is a deadlock" \
	"^fatal error: all goroutines are asleep - deadlock!" \
	"^  G1: status=4\(chan receive\)"
expect_exit deadlock_nil 2 "test=selftest_deadlock_nil_chan" 3 \
	"a send on a nil channel blocks for ever: a deadlock" \
	"^fatal error: all goroutines are asleep - deadlock!" \
	"^  G1: status=4\(chan send \(nil chan\)\)"
expect_exit deadlock_select 2 "test=selftest_deadlock_select_no_cases" 3 \
	"a select with no cases blocks for ever: a deadlock" \
	"^fatal error: all goroutines are asleep - deadlock!" \
	"^  G1: status=4\(select \(no cases\)\)"
expect_exit deadlock_mutex 4 "test=selftest_deadlock_mutex" 3 \
	"a locked mutex deadlocks; the dump names every goroutine's wait" \
	"^fatal error: all goroutines are asleep - deadlock!" \
	"^  G1: status=4\(sync.Mutex.Lock\)" \
	"^  G[0-9]+: status=4\(chan send\)" \
	"^  G[0-9]+: status=4\(sync.WaitGroup.Wait\)" \
	"^  G[0-9]+: status=4\(select\)"

# Misuse of channels and sync: Go's panics and fatal errors.
expect_exit sendclosed 2 "test=selftest_send_on_closed_channel" 3 \
	"a send on a closed channel panics, naming the caller" \
	"^panic: send on closed channel" \
	"#[0-9]  0x.* selftest_send_on_closed_channel\+0x"
expect_exit closeclosed 2 "test=selftest_close_of_closed_channel" 3 \
	"closing a closed channel panics" "^panic: close of closed channel" \
	"#[0-9]  0x.* selftest_close_of_closed_channel\+0x"
expect_exit closenil 2 "test=selftest_close_of_nil_channel" 3 \
	"closing a nil channel panics" "^panic: close of nil channel"
expect_exit wgnegative 2 "test=selftest_waitgroup_negative" 3 \
	"a negative WaitGroup counter panics" \
	"^panic: sync: negative WaitGroup counter"
expect_exit wgreuse 2 "test=selftest_waitgroup_reused_before_wait_returned maxprocs=1" 3 \
	"reusing a WaitGroup before Wait returned panics" \
	"^panic: sync: WaitGroup is reused before previous Wait has returned"
expect_exit unlockunlocked 2 "test=selftest_unlock_of_unlocked_mutex" 3 \
	"unlocking an unlocked mutex is fatal" \
	"^fatal error: sync: unlock of unlocked mutex"
expect_exit runlockunlocked 2 "test=selftest_runlock_of_unlocked_rwmutex" 3 \
	"read-unlocking an unlocked RWMutex is fatal" \
	"^fatal error: sync: RUnlock of unlocked RWMutex"
expect_exit makechan 2 "test=selftest_makechan_size_out_of_range" 3 \
	"a channel too large to make panics" \
	"^panic: makechan: size out of range"

# Package runtime's ends: a nil spawn, os.Exit from a goroutine, thread
# exhaustion, and the console's Ctrl-\ dump (the program goes on).
expect_exit spawnnil 2 "test=selftest_spawn_nil" 3 \
	"go of a nil function is fatal, naming the caller" \
	"^fatal error: go of nil func value" \
	"#[0-9]  0x.* selftest_spawn_nil\+0x"
expect_exit exit7 4 "test=selftest_exit_from_goroutine" 7 \
	"go_exit_program(7) from a goroutine that is not main ends with status 7" \
	"^# exit_seven: goroutine [0-9]+ exits the program" "^rt0: exit status 7"
expect_exit threads 2 "test=selftest_thread_exhaustion" 3 \
	"more threads than go_set_max_threads allows is fatal" \
	"^runtime: program exceeds [0-9]+-thread limit" \
	"^fatal error: thread exhaustion"
$R -m microvm -s 2 -c "test=selftest_ctrl_backslash_dump" -t 120 \
	-T 'ready for ^\:1c' > "$L/quit.log" 2>&1
rc=$?
missing=0
for ere in '^rt0: \^\\ on the console' '^SCHED [0-9]+ms: gomaxprocs=2' \
	'^goroutine 1 \[sleep\]:' '^goroutine [0-9]+ \[chan receive\]:' \
	'#[0-9]  0x.* quit_waiter\+0x' '^# still running after the dump' \
	'^ok 1 selftest_ctrl_backslash_dump'; do
	grep -qE "$ere" "$L/quit.log" || missing=$((missing + 1))
done
check "Ctrl-\\ on the console prints every goroutine's stack; the program goes on" \
	$([ $rc = 0 ] && [ $missing = 0 ] && echo 0 || echo 1) \
	"status $rc, $missing lines missing, see $L/quit.log"

guest kstat microvm 4 "test=kthread_timed_wait_reports_correctly kstat=1"
rc=$?
rows=$(grep -cE '^# kstat: +[0-9]+ +[0-9]+ +[0-9]+ +[0-9]+ +[0-9]+ +[0-9]+ +[0-9]+$' "$L/kstat.log")
check "kstat=1 prints the per-CPU scheduler counters ($rows of 4 rows)" \
	$([ $rc = 0 ] && [ "$rows" = 4 ] && echo 0 || echo 1) "status $rc"

expect_exit throw 2 "test=selftest_throw" 3 \
	"a runtime throw prints message, CPU/M/G, backtrace and dump, exits 3" \
	"^fatal error: casgstatus: bad transition 2 -> 0" \
	"^runtime: cpu [0-9]*, M[0-9]*, goroutine " \
	"#0  0x.* casgstatus(_fail)?\+0x" \
	"^  P0: status=" "^  M0: p=" "^  G1: status="

expect_exit ownstatus 2 "test=selftest_own_status_wrong" 3 \
	"a fast path's status check throws, its caller in the backtrace" \
	"^fatal error: casgstatus: goroutine 424242 is in 4, not 2 \(-> 1\)" \
	"#[0-9]  0x.* selftest_own_status_wrong\+0x"
expect_exit badunlock 2 "test=selftest_bad_unlock" 3 \
	"misusing the internal unlockOSThread throws" \
	"^fatal error: runtime: internal error: misuse of lockOSThread"
expect_exit notparked 2 "test=selftest_ready_not_parked" 3 \
	"go_ready of a goroutine that is not parked throws" \
	"^fatal error: ready: goroutine [0-9]+ is in status 2, not waiting"
expect_exit schedg0 2 "test=selftest_sched_on_g0" 3 \
	"go_sched on g0 throws" \
	"^fatal error: go_sched or go_park called on g0" \
	"#1  0x.* mcall_not_curg\+0x"
expect_exit outside 2 "test=selftest_spawn_outside_goroutine" 3 \
	"go_spawn from a kernel thread that is no M panics clearly" \
	"go_spawn called outside a goroutine"

guest spread microvm 4 "app=spread schedtrace=100"
rc=$?
lines=$(grep -c '^SCHED ' "$L/spread.log")
bad=$(grep '^SCHED ' "$L/spread.log" | grep -cvE '^SCHED [0-9]+ms: gomaxprocs=4 idleprocs=[0-9]+ threads=[0-9]+ spinningthreads=[0-9]+ needspinning=[01] idlethreads=[0-9]+ runqueue=[0-9]+ \[[0-9]+ [0-9]+ [0-9]+ [0-9]+\]$')
grep -q "^spread: 4 of 4 Ps took part" "$L/spread.log"
found=$?
check "spread with schedtrace=100: $lines SCHED lines in Go's format, every P took part" \
	$([ $rc = 0 ] && [ $found = 0 ] && [ "$lines" -ge 5 ] && [ "$bad" = 0 ] && echo 0 || echo 1) "status $rc, $bad bad lines"

# Go's classic programs, as a Go programmer writes them with the public
# API: each checks its own result and exits 0 only if it is right.
expect_exit workers 4 "app=workers" 0 \
	"app=workers: Go's worker pool, every job done exactly once" \
	"^workers: 2000 jobs by 8 workers:( [0-9]+){8}$" \
	"^workers: longest Collatz chain below 2001: 181 steps from 1161$" \
	"^workers: 0 results wrong or repeated$"
expect_exit pipeline 4 "app=pipeline" 0 \
	"app=pipeline: fan-out and fan-in, the sum of squares exact" \
	"^pipeline: 10000 squares through 4 squarers \([0-9 ]+\), sum 333383335000, expected 333383335000$"

# The image's main job, as make run boots it: the LockOSThread experiment.
guest lockexp microvm 4 "schedtrace=500"
rc=$?
lines=$(grep -c '^SCHED ' "$L/lockexp.log")
set -- $(sed -n 's/^lockosthread: run 1 (unlocked): baseline \([0-9]*\) threads, peak \([0-9]*\), final threads=\([0-9]*\) idlethreads=\([0-9]*\).*/\1 \2 \3 \4/p' "$L/lockexp.log") x x x x
b1=$1 p1=$2 t1=$3 i1=$4
set -- $(sed -n 's/^lockosthread: run 2 (locked): *baseline \([0-9]*\) threads, peak \([0-9]*\), final threads=\([0-9]*\) idlethreads=\([0-9]*\).*/\1 \2 \3 \4/p' "$L/lockexp.log") x x x x
b2=$1 p2=$2 t2=$3 i2=$4
# Locked: back to a handful.  Ms made to run the 4 Ps while the sleepers
# hold theirs stay, as in Go: more of them on a slow host (at most 2 per P).
ok=1
[ $rc = 0 ] && [ "$lines" -ge 18 ] && [ "$t1" != x ] && [ "$t2" != x ] &&
	[ $p1 -ge $((b1 + 100)) ] && [ $t1 -ge $((b1 + 100)) ] && [ $i1 -ge 100 ] &&
	[ $t2 -le $((b1 + 2 * 4)) ] && [ $i2 -le $((2 * 4)) ] && ok=0
check "make run's experiment: $lines SCHED lines; unlocked Ms kept (threads=$t1 idlethreads=$i1), locked Ms torn down (threads=$t2 idlethreads=$i2)" \
	$ok "status $rc, see $L/lockexp.log"

# A program from outside the tree (make APP=dir, docs/programs.md): the
# example copied to a temporary directory is built against the public
# headers, runs, and its own tests pass; an internal header is refused
# with a line that says so.
appdir=$(mktemp -d /tmp/rt0app.XXXXXX)
cp examples/primes/primes.c "$appdir/"
appimg=$B/app-$(basename "$appdir")/rt0.elf
make --no-print-directory APP="$appdir" > "$L/app-build.log" 2>&1
brc=$?
$R -e "$appimg" -m microvm -s 4 -c "" -t 120 > "$L/app-run.log" 2>&1
rc=$?
grep -q "^419 421 431 433 439 443 449 457 461 463 467 479 487 491 499 503 509 521 523 541$" "$L/app-run.log"
found=$?
check "make APP=dir builds a program from outside the tree; it runs (the 100th prime, 541)" \
	$([ $brc = 0 ] && [ $rc = 0 ] && [ $found = 0 ] && echo 0 || echo 1) \
	"build $brc, run $rc (see $L/app-build.log, $L/app-run.log)"
make --no-print-directory test APP="$appdir" > "$L/app-test.log" 2>&1
rc=$?
check "make test APP=dir runs its own tests: $(tail -n 1 "$L/app-test.log")" \
	$([ $rc = 0 ] && [ "$(tail -n 1 "$L/app-test.log")" = "2 passed, 0 failed" ] && echo 0 || echo 1) \
	"see $L/app-test.log"
printf '#include <rt0.h>\n#include "sched/proc.h"\n' >> "$appdir/primes.c"
make --no-print-directory APP="$appdir" > "$L/app-internal.log" 2>&1
rc=$?
grep -q "primes.c:[0-9]*: 'sched/proc.h' is one of rt0's internal headers" "$L/app-internal.log"
found=$?
check "a program that includes an internal header fails to build, saying so" \
	$([ $rc != 0 ] && [ $found = 0 ] && echo 0 || echo 1) "see $L/app-internal.log"
rm -rf "$appdir" "$B/app-$(basename "$appdir")"

# The gdb extension (tools/rt0-gdb.py) on a live image: each of its
# checks counts as one.
GDBTEST_KEEP=$L/gdbtest sh tools/gdbtest.sh > "$L/gdbtest.log" 2>&1
gdb_ok=$(grep -c '^ok     ' "$L/gdbtest.log")
gdb_bad=$(grep -c '^FAILED ' "$L/gdbtest.log")
sed -n 's/^\(ok    \|FAILED\) /\1 gdb: /p' "$L/gdbtest.log"
[ "$gdb_ok" -gt 0 ] || gdb_bad=$((gdb_bad + 1))	# it must have run
record "$gdb_ok" "$gdb_bad"
[ "$gdb_bad" = 0 ] || sed -n '/^---- gdb transcript/,$p' "$L/gdbtest.log" | tail -n 40

# The schedtrace plotter (tools/plottest.sh, no guest): each check counts
# as one; a run with no ok line at all counts as a failure.
sh tools/plottest.sh > "$L/plottest.log" 2>&1
sed -n 's/^\(ok    \|FAILED\) /\1 plot: /p' "$L/plottest.log"
record $(awk '/^ok /{p++} /^FAILED /{f++} END {print p+0, (p ? f+0 : f+1)}' "$L/plottest.log")

# Demand-paged stacks: 100,000 parked goroutines (apps/million.c), each
# resident for its top stack page, its struct g and its share of page
# tables (at most 5 KiB), then, once go_free_os_memory has shrunk the
# parked stacks, for its struct g, its stashed live bytes and the page
# table share: at most 4.5 KiB (Go 1.19: about 2.7 KiB), all measured
# from the free pages.
$R -m microvm -s 2 -c "app=million arg=100000" -t 300 > "$L/million.log" 2>&1
rc=$?
each=$(sed -n 's/.* parked in [0-9]* ms: \([0-9]*\) bytes resident each.*/\1/p' "$L/million.log")
shrunk=$(sed -n 's/^million: after go_free_os_memory .*: \([0-9]*\) bytes resident each.*/\1/p' "$L/million.log")
check "100000 parked goroutines: ${each:-?} bytes resident each (5120 at most), ${shrunk:-?} shrunk (4608 at most), all released" \
	$([ $rc = 0 ] && [ -n "$each" ] && [ "$each" -le 5120 ] &&
	  [ -n "$shrunk" ] && [ "$shrunk" -le 4608 ] &&
	  grep -q 'released (by .*) and ended' "$L/million.log" && echo 0 || echo 1) "see $L/million.log"

# Memory pressure: 150,000 goroutines at 4.8 KiB each would need 700 MiB
# of a 512 MiB machine; the parked ones' stacks shrink as memory
# runs low (memtrace shows it) and the program ends normally.
$R -m microvm -s 2 -M 512M -c "app=million arg=150000 memtrace=200" -t 300 > "$L/million512.log" 2>&1
rc=$?
shrinks=$(sed -n '/parked in/q; s/^MEM [0-9]*ms: .* shrinks=\([0-9]*\) .*/\1/p' "$L/million512.log" | tail -n 1)
memok=$(grep -c '^MEM [0-9]*ms: stackinuse=[0-9]*MiB stackpages=[0-9]* stackreserved=[0-9]*MiB gstack=262144 scavenged=[0-9]* stashed=[0-9]* stashbytes=[0-9]* shrinks=[0-9]* shootdowns=[0-9]* gs=[0-9]* freegs=[0-9]* free=[0-9]*MiB total=5[0-9][0-9]MiB$' "$L/million512.log")
check "150000 parked goroutines in 512 MiB: parked stacks shrunk ${shrinks:-0} times before all were parked; ${memok} memtrace lines" \
	$([ $rc = 0 ] && [ "${shrinks:-0}" -ge 1 ] && [ "$memok" -ge 5 ] &&
	  grep -q 'released (by .*) and ended' "$L/million512.log" && echo 0 || echo 1) "see $L/million512.log"

# The execution tracer end to end (tools/tracetest.sh): each check
# counts as one; a run with no ok line at all counts as a failure.
TRACETEST_KEEP=$L/tracetest sh tools/tracetest.sh > "$L/tracetest.log" 2>&1
sed -n 's/^\(ok    \|FAILED\) /\1 trace: /p' "$L/tracetest.log"
record $(awk '/^ok /{p++} /^FAILED /{f++} END {print p+0, (p ? f+0 : f+1)}' "$L/tracetest.log")

log=$L/microvm-smp8.log
total=$(grep -c '^# console-line' "$log")
good=$(grep -cE '^# console-line cpu=([0-9][0-9]) seq=[0-9][0-9] abcdefghijklmnopqrstuvwxyz0123456789 end=[0-9][0-9]$' "$log")
torn=$(grep '^# console-line' "$log" | awk '{ split($3, a, "="); split($6, b, "="); if (a[2] != b[2]) n++ } END { print n + 0 }')
check "console lines from 8 CPUs are never torn ($good of $total whole)" \
	$([ "$total" = 320 ] && [ "$good" = 320 ] && [ "$torn" = 0 ] && echo 0 || echo 1)

# Guest time under multi-threaded TCG runs with the host's clock, so one
# boot in the 8 can be slow for the host's reasons (10.07 ms was seen):
# the median must be within 10 ms, and the worst is shown.
boots=$(cat $L/microvm-smp*.log | sed -n 's/^# boot: first KTAP line at \([0-9.]*\) ms.*/\1/p' | sort -n)
nboots=$(echo "$boots" | grep -c .)
median=$(echo "$boots" | sed -n "$(( (nboots + 1) / 2 ))p")
worst=$(echo "$boots" | tail -n 1)
check "microvm reaches its first KTAP line within 10 ms (median ${median:-?} ms of $nboots boots, worst ${worst:-?} ms)" \
	$(awk -v m="${median:-99}" -v n="$nboots" 'BEGIN { print (n >= 4 && m < 10) ? 0 : 1 }')

awk -v secs=$(( $(date +%s) - start )) '
	{ p += $1; f += $2 }
	END { printf "(%d s)\n%d passed, %d failed\n", secs, p, f; exit f > 0 }' "$L/results"
