#!/bin/sh
# tools/stress.sh - the runtime's tests under seeded random scheduling,
# behind `make stress` (SEEDS=N, STRESS_SMP="1 2 4", STRESS_TESTS=globs).
#
# Each run boots the debug image (make DEBUG=1: lock ranks, owners and
# preconditions checked) with schedseed=SEED under single-threaded TCG
# with -icount, which makes the machine deterministic: the same seed at
# the same CPU count takes the same choices again, so a failing seed is
# reproduced by the command printed for it.  idlepoll=1 keeps one vCPU
# running (when all of them halt, QEMU 7.2 moves the clock at a moment
# that depends on the host); shift=2 (STRESS_SHIFT) lets the idle time
# that polling burns pass four times faster.  Runs go two at a time
# (STRESS_JOBS).  The last line is "N passed, N failed".
#
# Left out: tests whose goroutines spin without `pause` (CPU hogs, the
# stop-the-world spinners).  Under single-threaded TCG with -icount,
# QEMU gives a vCPU the time up to the next timer deadline and moves on
# only when it pauses, halts or reaches it, so a hog starves the other
# vCPUs and those tests measure QEMU instead.  Kernel tests take no
# scheduling choices.
set -u
B=build
R=$B/rt0run
IMG=$B/debug/rt0.elf
L=$B/stress-logs
SEEDS=${SEEDS:-100}
SMPS=${STRESS_SMP:-1 2 4}
JOBS=${STRESS_JOBS:-2}
TESTS=${STRESS_TESTS:-chan_*,select_*,sync_*,sema_*,sched_*,timers_*,lockos_*,gomaxprocs_*,syscall_*,stack_*,preempt_around_*}
TMO=${STRESS_TIMEOUT:-600}
SHIFT=${STRESS_SHIFT:-2}

case "$SEEDS" in
''|*[!0-9]*|0) echo "stress: SEEDS must be a number from 1 up (got '$SEEDS')"; exit 2 ;;
esac
[ -x "$R" ] && [ -f "$IMG" ] || { echo "stress: build first (make stress does)"; exit 2; }
rm -rf "$L"
mkdir -p "$L"

# The exact command for one run; it is what a failure prints.
cmd() {		# cmd SEED SMP
	echo "$R -e $IMG -a tcg,thread=single -x '-icount shift=$SHIFT,sleep=off'" \
		"-k -m microvm -s $2 -c 'test=$TESTS schedseed=$1 idlepoll=1' -t $TMO"
}

run_one() {		# run_one SEED SMP: the result in $L/SEED-SMP.{log,rc}
	eval "$(cmd "$1" "$2")" > "$L/$1-$2.log" 2>&1
	echo $? > "$L/$1-$2.rc"
}

echo "== make stress: $SEEDS seeds x CPUs {$SMPS}, $JOBS at a time (logs: $L)"
start=$(date +%s)
running=0
for seed in $(seq 1 "$SEEDS"); do
	for smp in $SMPS; do
		run_one "$seed" "$smp" &
		running=$((running + 1))
		if [ $running -ge "$JOBS" ]; then
			wait
			running=0
		fi
	done
done
wait

pass=0 fail=0
for seed in $(seq 1 "$SEEDS"); do
	for smp in $SMPS; do
		log=$L/$seed-$smp.log
		if [ "$(cat "$L/$seed-$smp.rc")" = 0 ]; then
			pass=$((pass + 1))
			continue
		fi
		fail=$((fail + 1))
		echo "FAILED schedseed=$seed at $smp CPUs: $(grep -a -m1 -E '^not ok|^fatal error|PANIC|EXCEPTION|TIMEOUT' "$log")"
		echo "  reproduce: $(cmd "$seed" "$smp")"
		echo "  log: $log"
	done
done
echo "stress: $(( $(date +%s) - start )) s"
echo "$pass passed, $fail failed"
[ $fail = 0 ]
