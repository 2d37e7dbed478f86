#!/bin/sh
# tools/bench.sh - the benchmarks behind `make bench`.
#
# Boots of the same image with bench=*, and app=million:
#  1. single-threaded TCG with -icount shift=0,sleep=off: the TSC counts
#     guest instructions exactly, so TSC per op is instructions per op
#     (repeatable; printed as instr/op);
#  2. the same with the execution tracer on (trace=1): NAME+trace, the
#     tracer's cost (off, it costs the fast paths nothing: exectrace.h);
#  3. app=million: bytes per parked goroutine, and the most that fit in
#     512 MiB and 8 GiB, beside Go's (tools/gomem.sh, if Go is here);
#  4. multi-threaded TCG: TSC per op is host cycles per op (cycles/op) and
#     ratios between figures taken in the same run.
# Prints a table, then every figure as "bench <name> <value> <unit>".
set -u
B=build
R=$B/rt0run
out=$B/bench
mkdir -p $out
SMP=${SMP:-2}

echo "== instructions per operation (-icount shift=0,sleep=off, $SMP CPUs, 1 P)"
$R -a tcg,thread=single -x "-icount shift=0,sleep=off" -m microvm -s $SMP \
	-c "bench=bench_* maxprocs=1 benchunit=instr/op" -t 900 > $out/icount.log 2>&1
echo "== the same with the execution tracer on (trace=1; its dump discarded)"
$R -a tcg,thread=single -x "-icount shift=0,sleep=off -chardev null,id=rt0trace -device isa-debugcon,iobase=0xe9,chardev=rt0trace" \
	-m microvm -s $SMP -c "bench=bench_spawn*,bench_gosched*,bench_park*,bench_chan*,bench_mutex*,bench_sema* maxprocs=1 benchunit=instr/op trace=1" \
	-t 900 2>&1 | sed -n 's/^bench \([^ ]*\) \([0-9.]*\) instr\/op$/bench \1+trace \2 instr\/op/p' \
	> $out/trace.log
echo "== memory per parked goroutine (app=million arg=100000, 1 GiB; then shrunk)"
$R -m microvm -s $SMP -c "app=million arg=100000" -t 600 > $out/million.log 2>&1
{
	sed -n 's/.* parked in [0-9]* ms: \([0-9]*\) bytes resident each.*/bench parked-goroutine-resident \1 bytes/p' $out/million.log
	sed -n 's/^million: after go_free_os_memory .*: \([0-9]*\) bytes resident each.*/bench parked-goroutine-shrunk \1 bytes/p' $out/million.log
	sed -n 's/^million: after go_free_os_memory ([0-9]* pages back in \([0-9]*\) ms, \([0-9]*\) TLB.*/bench shrink-100000-parked \1 ms\
bench shrink-100000-shootdowns \2 rounds/p' $out/million.log
} > $out/mem.log
echo "== the most parked goroutines in 512 MiB and 8 GiB (app=million arg=max; 8G takes minutes)"
for mem in 512M 8G; do
	$R -m microvm -s $SMP -M $mem -c "app=million arg=max" -t 3600 2>&1 |
		sed -n "s/^million: \([0-9]*\) goroutines parked in.*/bench max-parked-$mem \1 goroutines/p" \
		>> $out/mem.log
done
echo "== Go's figures for the same program (tools/gomem.sh: Go on this Linux)"
sh tools/gomem.sh $out 512M 8G >> $out/mem.log
grep '^#' $out/mem.log
echo "== host cycles per operation and ratios (multi-threaded TCG, $SMP CPUs)"
$R -m microvm -s $SMP -c "bench=bench_* maxprocs=1 benchunit=cycles/op" -t 900 \
	> $out/mttcg.log 2>&1
$R -m microvm -s $SMP -c "bench=ratio_*" -t 900 >> $out/mttcg.log 2>&1
$R -m microvm -s $SMP -c "bench=ratio_spawn* maxprocs=1" -t 900 >> $out/mttcg.log 2>&1
t1=$(sed -n 's/^bench spawn-throughput-1p \([0-9]*\).*/\1/p' $out/mttcg.log)
t2=$(sed -n 's/^bench spawn-throughput-2p \([0-9]*\).*/\1/p' $out/mttcg.log)
if [ -n "$t1" ] && [ -n "$t2" ]; then
	awk -v a="$t2" -v b="$t1" 'BEGIN { printf "bench spawn-scaling-2v1 %.2f ratio\n", a / b }' >> $out/mttcg.log
fi

grep -h '^bench ' $out/icount.log $out/trace.log $out/mem.log $out/mttcg.log | grep -v 'spawn-throughput' > $out/bench.txt
grep -h '^# bench .* failed' $out/icount.log $out/mttcg.log

# name -> "Go figure | goal" (from the issues; empty if none)
# Go's figures: tools/gobench/measure.sh (Go 1.19.8, callgrind, one P).
ref() {
	case "$1" in
	spawn-chain) echo "Go 1.19: 1179 instr/op | goal <= 150" ;;
	gosched) echo "Go 1.19: 472 instr/op | goal <= 60" ;;
	gosched-timer-pending) echo "gosched with a timer pending, not due" ;;
	park-ready) echo "goal <= 200 instr/op" ;;
	chan-pingpong) echo "Go 1.19: 2175 instr/op | goal <= 250" ;;
	chan-sync) echo "Go 1.19: 1027 instr/op" ;;
	chan-prodcons0) echo "Go 1.19: 1085 instr/op" ;;
	chan-prodcons100) echo "Go 1.19: 372 instr/op" ;;
	select-uncontended) echo "Go 1.19: 725 instr/op" ;;
	chan-nonblocking) echo "Go 1.19: 57 instr/op" ;;
	mutex-uncontended) echo "Go 1.19: 21 instr/op | goal <= 20" ;;
	waitgroup-uncontended) echo "Go 1.19: 75 instr/op" ;;
	sema-handoff) echo "Go 1.19: 1520 instr/op" ;;
	stw-latency-1p) echo "stop the world: 1 P" ;;
	stw-latency-2p|stw-latency-4p|stw-latency-8p)
		echo "stop the world, a G spinning on every other P" ;;
	wake-vs-ipi) echo "ready->running on an idle CPU / bare IPI" ;;
	chan-vs-ipi) echo "chan round trip, 2 Ps / IPI round trip" ;;
	spawn-scaling-2v1) echo "spawn throughput, 2 Ps / 1 P" ;;
	*+trace) echo "with trace=1 (off: ${1%+trace})" ;;
	parked-goroutine-resident) echo "bytes: 100,000 parked (top page, struct g, page tables)" ;;
	parked-goroutine-shrunk) echo "bytes: the same, stacks shrunk; goal <= 4608 (4.5 KiB)" ;;
	shrink-100000-parked) echo "ms (TCG): go_free_os_memory shrinking them" ;;
	shrink-100000-shootdowns) echo "IPI rounds it took (64 pages each)" ;;
	max-parked-512M|max-parked-8G) echo "goroutines parked in -m ${1#max-parked-}; goal: more than Go" ;;
	go-parked-goroutine-sys) echo "bytes: Go's MemStats.Sys per parked goroutine" ;;
	go-max-parked-*) echo "goroutines: Go in a ${1#go-max-parked-} memory cgroup" ;;
	*) echo "" ;;
	esac
}
printf '\n%-22s %14s %16s   %s\n' "benchmark" "instr/op" "cycles/op|ratio" "reference"
for name in $(awk '{ print $2 }' $out/bench.txt | awk '!seen[$0]++'); do
	i=$(awk -v n="$name" '$2 == n && $4 == "instr/op" { print $3 }' $out/bench.txt)
	c=$(awk -v n="$name" '$2 == n && $4 != "instr/op" { print $3 }' $out/bench.txt)
	printf '%-22s %14s %16s   %s\n' "$name" "${i:--}" "${c:--}" "$(ref "$name")"
done
echo
cat $out/bench.txt
