#!/bin/sh
# tools/plottest.sh - check tools/schedplot.py on logs written here.
#
#   sh tools/plottest.sh        (needs python3-matplotlib: tools/deps.sh)
#
# No guest is booted.  The logs: (1) six SCHED lines of known values
# among other console lines, scheddetail's P/M/G lines and phase lines;
# (2) no SCHED line; (3) three malformed SCHED lines among good ones.
# Checks the summary line word for word, the exit status and the error
# lines, and that each PNG written is one (its 8-byte signature) of
# 1000x600 pixels (its IHDR).  Prints "ok     <what>" or "FAILED <what>"
# per check and exits 1 if any failed.  Takes a few seconds.
set -u
cd "$(dirname "$0")/.."

PY=${PYTHON:-/usr/bin/python3}
PLOT="$PY tools/schedplot.py"
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
failed=0

. tools/checks.sh

check_png() {		# check_png WHAT FILE
	size=$(png_size "$2")
	check "$1 ($size)" $([ "$size" = "1000 600" ] && echo 0 || echo 1)
}

S1=' spinningthreads=0 needspinning=0'
cat > "$T/synth.log" <<EOF
# rt0: booted by pvh, 4 cpus
lockosthread: run 1: the first phase
SCHED 0ms: gomaxprocs=4 idleprocs=3 threads=3$S1 idlethreads=1 runqueue=0 [0 0 0 0]
SCHED 500ms: gomaxprocs=4 idleprocs=2 threads=7$S1 idlethreads=0 runqueue=2 [1 0 3 0]
SCHED 1000ms: gomaxprocs=4 idleprocs=0 threads=12$S1 idlethreads=0 runqueue=5 gcwaiting=false nmidlelocked=0 stopwait=0 sysmonwait=false stw=0 stwlast=0us stwtotal=0us
  P0: status=1 schedtick=5 syscalltick=0 m=0 runqsize=1 gfreecnt=0 timerslen=0
  M1: p=nil curg=nil mallocing=0 throwing=0 preemptoff= locks=0 dying=0 spinning=false blocked=true lockedg=nil
  G1: status=4(sleep) m=nil lockedm=nil
lockosthread: run 2: the second phase
SCHED 1500ms: gomaxprocs=4 idleprocs=1 threads=12$S1 idlethreads=2 runqueue=0 [0 1 0 0]
a console line with SCHED 9999ms: in the middle
SCHED 2000ms: gomaxprocs=4 idleprocs=3 threads=9$S1 idlethreads=5 runqueue=0 [0 0 0 0]
SCHED 2500ms: gomaxprocs=4 idleprocs=2 threads=5$S1 idlethreads=1 runqueue=0 [0 0 0 0]
lockosthread: run 2 (locked): a summary, after the last SCHED line
rt0: exit status 0
EOF

# (1) known values; the output named after the log (no -o).
out=$($PLOT "$T/synth.log" 2> "$T/synth.err")
rc=$?
want="schedplot: 6 samples over 2500 ms; threads 3..12, final 5; idle Ps 0..3; 2 phase markers -> $T/synth.png"
check "a synthetic log: the summary line, word for word" \
	$([ $rc = 0 ] && [ "$out" = "$want" ] && [ ! -s "$T/synth.err" ] &&
		echo 0 || echo 1) "status $rc, got '$out', stderr '$(cat "$T/synth.err")'"
check_png "its PNG, next to the log" "$T/synth.png"

# The same log on stdin, with -o.
out=$($PLOT -o "$T/stdin.png" - < "$T/synth.log" 2>&1)
rc=$?
want="schedplot: 6 samples over 2500 ms; threads 3..12, final 5; idle Ps 0..3; 2 phase markers -> $T/stdin.png"
check "the same log on stdin (-), -o OUT.png" \
	$([ $rc = 0 ] && [ "$out" = "$want" ] && echo 0 || echo 1) "status $rc, got '$out'"
check_png "its PNG, at -o's path" "$T/stdin.png"

# (2) no SCHED line: status 2, one line, no PNG.
printf '# rt0: booted\nSCHEDULE nothing\nrt0: exit status 0\n' > "$T/none.log"
out=$($PLOT -o "$T/none.png" "$T/none.log" 2> "$T/none.err")
rc=$?
n=$(wc -l < "$T/none.err")
check "a log with no SCHED line: status 2, one line, no PNG" \
	$([ $rc = 2 ] && [ -z "$out" ] && [ "$n" = 1 ] && [ ! -e "$T/none.png" ] &&
		grep -q "^schedplot: $T/none.log: no SCHED lines" "$T/none.err" &&
		echo 0 || echo 1) "status $rc, $n lines: $(cat "$T/none.err")"

# (3) malformed SCHED lines (3: not a number, 4: no closing bracket,
# 5: three queues for two Ps) are reported by number; the rest plotted.
S2=' spinningthreads=0 needspinning=0 idlethreads=0 runqueue=0'
cat > "$T/bad.log" <<EOF
SCHED 0ms: gomaxprocs=2 idleprocs=2 threads=3$S2 [0 0]
# a console line
SCHED 500ms: gomaxprocs=2 idleprocs=x threads=3$S2 [0 0]
SCHED 1000ms: gomaxprocs=2 idleprocs=1 threads=4$S2 [0 0
SCHED 1200ms: gomaxprocs=2 idleprocs=1 threads=4$S2 [0 0 0]
SCHED 1500ms: gomaxprocs=2 idleprocs=0 threads=6$S2 [1 0]
EOF
out=$($PLOT -o "$T/bad.png" "$T/bad.log" 2> "$T/bad.err")
rc=$?
want="schedplot: 2 samples over 1500 ms; threads 3..6, final 6; idle Ps 0..2 -> $T/bad.png"
lines=$(sed -n "s|^schedplot: $T/bad.log:\([0-9]*\): malformed SCHED line, skipped: SCHED .*|\1|p" \
	"$T/bad.err" | tr '\n' ' ')
check "malformed SCHED lines: reported as lines ${lines}and skipped" \
	$([ $rc = 0 ] && [ "$out" = "$want" ] && [ "$lines" = "3 4 5 " ] &&
		[ "$(wc -l < "$T/bad.err")" = 3 ] && echo 0 || echo 1) \
	"status $rc, got '$out', stderr: $(cat "$T/bad.err")"
check_png "the rest plotted" "$T/bad.png"

# The PNG check itself rejects what is not one.
size=$(png_size "$T/bad.log")
check "the PNG check rejects a file that is not one" \
	$([ "$size" = "not a PNG" ] && echo 0 || echo 1) "got '$size'"

out=$($PLOT --help 2>&1)
rc=$?
check "--help says usage" \
	$([ $rc = 0 ] && echo "$out" | grep -q '^usage: schedplot .*-o OUT.png.* LOG' &&
		echo 0 || echo 1) "status $rc"

exit $failed
