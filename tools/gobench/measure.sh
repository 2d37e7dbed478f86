#!/bin/sh
# tools/gobench/measure.sh - Go's figures for the program shapes that
# `make bench` measures on rt0, as instructions per operation under
# valgrind's callgrind with GOMAXPROCS=1 and GOGC=off.
#
#   sh tools/gobench/measure.sh [NAME...]     (all benchmarks if none named)
#
# Run by hand (not by make test); it takes about 4 minutes.  Prints
#   go version goX.Y.Z linux/amd64
#   go <name> <instr/op> instr/op
# Details go to stderr.
#
# Each benchmark runs under callgrind with N1 and with N2 = 2*N1
# operations; instr/op = (I2 - I1) / (K2 - K1), where I is the total
# instruction count callgrind reports ("Collected : I", all threads) and K
# the operation count the program reports doing.  The difference cancels
# start-up and exit.  Each N is run GOBENCH_RUNS times (default 3) and the
# median I is taken.  The counts vary from run to run, because sysmon
# preempts a goroutine that has run (by wall-clock time) for 10 ms, here
# every 10-50M instructions, at moments that differ from run to run: most
# shapes move by <1 instr/op, but chan-pingpong by up to ~+-10, as each
# preemption can flip it between "the sender finds the receiver waiting"
# and "the receiver finds the sender waiting", which differ by ~11
# instructions a transfer.
# sysmon's own instructions (other threads) are a few 10k a run: nil.
#
# The environment of the measured program:
#   GOMAXPROCS=1 GOGC=off  (the program also sets both itself)
#   GODEBUG=asyncpreemptoff=1: callgrind 3.19 aborts (threads.c:247,
#     "sigNum == vgCallgrind_current_state.sig") on the SIGURG that
#     sysmon sends to preempt a goroutine that ran for 10 ms, which under
#     valgrind's slowdown happens in every longer run.  None of the shapes
#     needs preemption; with it off, sysmon still asks for a cooperative
#     preemption at the next function prologue.
#   GODEBUG=cpu.rdtscp=off: valgrind's emulated CPUID advertises RDTSCP
#     even where the host (e.g. a VM) lacks it, then fails on the
#     instruction (runtime.cputicks, at start-up); off, Go uses LFENCE;RDTSC.
# Under valgrind Go finds no vDSO, so nanotime() is a clock_gettime system
# call (counted as one instruction) instead of the vDSO's ~50 user-mode
# instructions; the shapes call it at most once every two operations.
set -u

here=$(cd "$(dirname "$0")" && pwd)

missing=
command -v go >/dev/null 2>&1 || missing="$missing go"
command -v valgrind >/dev/null 2>&1 || missing="$missing valgrind"
if [ -n "$missing" ]; then
	echo "measure.sh: missing:$missing" >&2
	echo "install them with: apt-get update && apt-get install -y golang-go valgrind" >&2
	exit 1
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/gobench.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT
trap 'exit 130' INT TERM

# A module with no dependencies, built offline from the standard library.
GOFLAGS=-mod=mod
GOPROXY=off
GO111MODULE=on
CGO_ENABLED=0
export GOFLAGS GOPROXY GO111MODULE CGO_ENABLED
case $(go env GOCACHE 2>/dev/null) in
"" | off) GOCACHE=$tmp/gocache; export GOCACHE ;;
esac
if ! (cd "$here" && go build -o "$tmp/gobench" .) >&2; then
	echo "measure.sh: go build failed" >&2
	exit 1
fi

# name and N1 (N2 = 2 * N1); each run takes a few seconds under callgrind.
# chan-sync needs multiples of 2000, chan-prodcons* of 1000, gosched of 2.
all="
chan-pingpong 200000
chan-sync 200000
chan-prodcons0 200000
chan-prodcons100 1000000
select-uncontended 500000
chan-nonblocking 2000000
mutex-uncontended 5000000
waitgroup-uncontended 2000000
sema-handoff 200000
gosched 400000
spawn-chain 200000
"

# GOBENCH_RUNS: callgrind runs per (benchmark, N); the median count is used.
runs=${GOBENCH_RUNS:-3}
case $runs in
"" | *[!0-9]* | 0) echo "measure.sh: GOBENCH_RUNS must be a positive integer" >&2; exit 1 ;;
esac

# run1 NAME N: one callgrind run; prints "I K" (instructions, operations).
run1() {
	GOMAXPROCS=1 GOGC=off GODEBUG=asyncpreemptoff=1,cpu.rdtscp=off \
		valgrind --tool=callgrind --callgrind-out-file="$tmp/callgrind.out" \
		"$tmp/gobench" -bench "$1" -n "$2" </dev/null >"$tmp/out" 2>"$tmp/err"
	rc=$?
	i=$(sed -n 's/^==[0-9]*== Collected : *\([0-9][0-9]*\).*/\1/p' "$tmp/err")
	k=$(sed -n "s/^gobench $1 ops=\([0-9][0-9]*\)\$/\1/p" "$tmp/out")
	if [ $rc -ne 0 ] || [ -z "$i" ] || [ -z "$k" ]; then
		echo "measure.sh: $1 -n $2 failed (exit $rc); valgrind said:" >&2
		tail -n 20 "$tmp/err" >&2
		return 1
	fi
	echo "$i $k"
}

# run NAME N: $runs runs; prints "I K" with the median I, and every I on
# stderr.
run() {
	: >"$tmp/runs"
	r=0
	while [ $r -lt "$runs" ]; do
		run1 "$1" "$2" >>"$tmp/runs" || return 1
		r=$((r + 1))
	done
	if [ "$(awk '{ print $2 }' "$tmp/runs" | sort -u | wc -l)" -ne 1 ]; then
		echo "measure.sh: $1 -n $2: operation counts differ between runs" >&2
		return 1
	fi
	echo "# $1 N=$2 K=$(awk 'NR == 1 { print $2 }' "$tmp/runs") I: $(awk '{ printf "%s ", $1 }' "$tmp/runs")" >&2
	sort -n "$tmp/runs" | awk -v m=$(((runs + 1) / 2)) 'NR == m'
}

for a in "$@"; do
	case $all in
	*"
$a "*) ;;
	*) echo "measure.sh: no benchmark $a" >&2; exit 1 ;;
	esac
done

go version
status=0
while read -r name n1; do
	[ -n "$name" ] || continue
	if [ $# -gt 0 ]; then
		want=no
		for a in "$@"; do [ "$a" = "$name" ] && want=yes; done
		[ $want = yes ] || continue
	fi
	n2=$((2 * n1))
	r1=$(run "$name" "$n1") || { status=1; continue; }
	r2=$(run "$name" "$n2") || { status=1; continue; }
	echo "# $name: N1=$n1 I1=${r1% *} K1=${r1#* } N2=$n2 I2=${r2% *} K2=${r2#* } (medians)" >&2
	echo "$r1 $r2" | awk -v name="$name" '{
		if ($4 == $2) { print "measure.sh: " name ": no operations between runs" > "/dev/stderr"; exit 1 }
		printf "go %s %.0f instr/op\n", name, ($3 - $1) / ($4 - $2)
	}' || status=1
done <<EOF
$all
EOF
exit $status
