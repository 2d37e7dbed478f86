#!/bin/sh
# tools/trace.sh - boot an image with the execution tracer on, capture the
# trace from the debug console, and convert it (make trace).
#
#   sh tools/trace.sh ELF MACHINE SMP "CMDLINE" OUTDIR
#
# Adds trace=1 to CMDLINE unless it sets trace= already; the guest's
# console goes to OUTDIR/trace-console.log, the raw trace (isa-debugcon
# on port 0xe9) to OUTDIR/trace.bin; tools/rt0trace.py writes
# OUTDIR/trace.json (open it in ui.perfetto.dev or chrome://tracing) and
# OUTDIR/trace.png (one row per P).  Exits with the converter's status,
# or 1 if the guest wrote no trace.
set -u
cd "$(dirname "$0")/.."
ELF=$1 MACHINE=$2 SMP=$3 CMDLINE=$4 OUT=$5
PY=${PYTHON:-/usr/bin/python3}
case " $CMDLINE " in
*" trace="*) ;;
*) CMDLINE="$CMDLINE trace=1" ;;
esac
mkdir -p "$OUT"
rm -f "$OUT/trace.bin"
echo "trace: booting -m $MACHINE -smp $SMP \"$CMDLINE\", console to $OUT/trace-console.log"
${RT0RUN:-build/rt0run} -e "$ELF" -m "$MACHINE" -s "$SMP" -c "$CMDLINE" -t 300 \
	-x "-chardev file,id=rt0trace,path=$OUT/trace.bin -device isa-debugcon,iobase=0xe9,chardev=rt0trace" \
	> "$OUT/trace-console.log" 2>&1
status=$?
echo "trace: guest exit status $status"
if [ ! -s "$OUT/trace.bin" ]; then
	echo "trace: the guest wrote no trace (see $OUT/trace-console.log)"
	exit 1
fi
exec $PY tools/rt0trace.py -o "$OUT/trace.json" --png "$OUT/trace.png" "$OUT/trace.bin"
