#!/bin/sh
# tools/tracetest.sh - check the execution tracer end to end: the image
# records (trace=1), writes the trace at exit, and tools/rt0trace.py
# turns it into valid Chrome trace-event JSON.
#
#   sh tools/tracetest.sh      (after make; needs /usr/bin/python3 and
#                               python3-matplotlib: tools/deps.sh plot)
#
# Boots app=tracedemo (apps/tracedemo.c) on microvm at 1, 2 and 4 CPUs
# and on pc at 2, the trace on the debug console; then at 2 CPUs with no
# debug console (the trace comes as TRACE lines on the serial console);
# then app=spread with 4 KiB buffers (the flight recorder must drop the
# oldest events and still convert); a trace= too small gets 4 KiB.  For
# each converted trace:
#   - the JSON parses; every B has its E on the same track, in order;
#     every flow's end has its start; P tracks and names are there;
#   - the worker's events are in order: GoCreate trace_worker, GoStart,
#     RegionBegin work, Log (its text), GoBlock chan receive, GoUnblock by
#     G1, GoStart, RegionEnd work, GoEnd;
#   - the ping-pong pairs' 200 round trips show: at least 1600 unblocks;
#   - the PNG is a PNG (its size read from its header).
# Prints "ok     <what>" or "FAILED <what>" per check; exits 1 if any
# failed.  Output: $TRACETEST_KEEP, if set, keeps the files there.
set -u
cd "$(dirname "$0")/.."

ELF=${ELF:-build/rt0.elf}
RUN=build/rt0run
PY=${PYTHON:-/usr/bin/python3}
T=${TRACETEST_KEEP:-$(mktemp -d)}
mkdir -p "$T"
[ -n "${TRACETEST_KEEP:-}" ] || trap 'rm -rf "$T"' EXIT
failed=0

. tools/checks.sh

DEBUGCON="-device isa-debugcon,iobase=0xe9,chardev=rt0trace"

boot() {		# boot NAME MACHINE SMP CMDLINE [debugcon]
	extra=""
	[ "${5:-}" = debugcon ] &&
		extra="-chardev file,id=rt0trace,path=$T/$1.bin $DEBUGCON"
	rm -f "$T/$1.bin"
	$RUN -e "$ELF" -m "$2" -s "$3" -c "$4" -t 300 ${extra:+-x "$extra"} \
		> "$T/$1.console" 2>&1
}

# validate NAME INPUT: convert INPUT, then check the JSON and the events.
validate() {
	if ! $PY tools/rt0trace.py -o "$T/$1.json" --png "$T/$1.png" --dump \
			"$2" > "$T/$1.dump" 2> "$T/$1.conv"; then
		check "$1: converts ($(cat "$T/$1.conv"))" 1
		return
	fi
	check "$1: converts ($(sed 's/^rt0trace: //; s/; wrote.*//' "$T/$1.conv"))" 0
	out=$($PY - "$T/$1.json" "$T/$1.dump" "$3" <<'EOF'
import json, sys
doc = json.load(open(sys.argv[1]))
evs = doc["traceEvents"]
errs = []
stacks, starts = {}, set()
for e in evs:
    k = (e.get("pid"), e.get("tid"))
    if e["ph"] == "B":
        stacks.setdefault(k, []).append(e)
    elif e["ph"] == "E":
        st = stacks.get(k)
        if not st:
            errs.append("E without B on %s at %s" % (k, e["ts"]))
        elif st[-1]["ts"] > e["ts"]:
            errs.append("E before its B on %s" % (k,))
        else:
            st.pop()
    elif e["ph"] == "s":
        starts.add(e["id"])
    elif e["ph"] == "f" and e["id"] not in starts:
        errs.append("flow end %s without its start" % e["id"])
left = sum(len(s) for s in stacks.values())
if left:
    errs.append("%d B without E" % left)
names = {e["args"]["name"] for e in evs if e["ph"] == "M" and e["name"] == "thread_name"}
if "P0" not in names:
    errs.append("no P0 track")
nb = sum(1 for e in evs if e["ph"] == "B")
print("balanced" if not errs else "; ".join(errs[:3]), nb)
if sys.argv[3] == "demo":
    lines = open(sys.argv[2]).read().splitlines()
    want = ["GoCreate G2 trace_worker", "GoStart G2", "RegionBegin G2 work",
            "Log G2 tracedemo: worker waits for main's value",
            "GoBlock G2 chan receive", "GoUnblock G2 by G1", "GoStart G2",
            "RegionEnd G2 work", "GoEnd G2"]
    got = [" ".join(l.split()[3:]) for l in lines
           if " G2" in l and l.split()[3] in ("GoCreate", "GoStart", "GoEnd",
               "RegionBegin", "RegionEnd", "Log", "GoBlock", "GoUnblock")
           and l.split()[4] == "G2"]
    print("order" if got == want else "order-bad:" + " | ".join(got))
    unb = sum(1 for l in lines if l.split()[3] == "GoUnblock")
    print("unblocks", unb)
EOF
)
	res=$(echo "$out" | sed -n 1p)
	check "$1: JSON valid, every begin has its end (${res##* } slices)" \
		$([ "${res%% *}" = balanced ] && echo 0 || echo 1) "$res"
	if [ "$3" = demo ]; then
		ord=$(echo "$out" | sed -n 2p)
		check "$1: the worker's events in order" \
			$([ "$ord" = order ] && echo 0 || echo 1) "$ord"
		unb=$(echo "$out" | sed -n 's/^unblocks //p')
		check "$1: ping-pong's unblocks recorded (${unb:-?}, 1600 at least)" \
			$([ "${unb:-0}" -ge 1600 ] 2>/dev/null && echo 0 || echo 1)
	fi
	size=$(png_size "$T/$1.png")
	check "$1: PNG written ($size)" $([ "$size" != "not a PNG" ] && echo 0 || echo 1)
}

for run in "microvm 1" "microvm 2" "microvm 4" "pc 2"; do
	set -- $run
	name=demo-$1-smp$2
	boot "$name" "$1" "$2" "app=tracedemo trace=1" debugcon
	check "$name: exit 0, trace on the debug console" \
		$([ -s "$T/$name.bin" ] && grep -q 'rt0: exit status 0' "$T/$name.console" &&
		  grep -q 'trace: writing .* debug console' "$T/$name.console" && echo 0 || echo 1) \
		"see $T/$name.console"
	validate "$name" "$T/$name.bin" demo
done

# No debug console: the trace comes as TRACE lines on the console.
name=demo-console
boot "$name" microvm 2 "app=tracedemo trace=1"
check "$name: trace as TRACE lines on the serial console" \
	$(grep -q '^TRACE begin' "$T/$name.console" && grep -q '^TRACE end' "$T/$name.console" &&
	  echo 0 || echo 1)
validate "$name" "$T/$name.console" demo

# The flight recorder: 4 KiB buffers (128 events) keep the newest.
name=flight
boot "$name" microvm 2 "app=spread trace=4096" debugcon
lost=$($PY tools/rt0trace.py "$T/$name.bin" 2>&1 | sed -n 's/.*, \([0-9]*\) lost.*/\1/p')
check "$name: 4 KiB buffers dropped the oldest events (${lost:-?} lost)" \
	$([ "${lost:-0}" -gt 0 ] 2>/dev/null && echo 0 || echo 1)
validate "$name" "$T/$name.bin" flight

# A buffer too small gets the least size, and says so.
name=small
boot "$name" microvm 1 "app=tracedemo trace=100" debugcon
check "trace=100: 4096-byte buffers, said on the console" \
	$(grep -q 'trace=100: buffers of 4096 bytes' "$T/$name.console" &&
	  grep -q 'rt0: exit status 0' "$T/$name.console" && echo 0 || echo 1)
validate "$name" "$T/$name.bin" small

# Not a trace: the converter says so with status 2.
echo "hello" > "$T/garbage"
$PY tools/rt0trace.py "$T/garbage" > /dev/null 2> "$T/garbage.err"
rc=$?
check "the converter refuses a file that holds no trace (status $rc)" \
	$([ $rc = 2 ] && grep -q 'no rt0 trace' "$T/garbage.err" && echo 0 || echo 1)

exit $failed
