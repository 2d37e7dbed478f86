#!/bin/sh
# tools/apptest.sh ELF DIR SMP - `make test APP=DIR`: the program's own
# tests (GO_TEST, include/rt0/test.h) on its image, read as KTAP by
# build/rt0run at SMP CPUs on microvm.  The last line is
# "N passed, N failed"; the status is 0 only if every test passed.
set -u
elf=$1 dir=$2 smp=$3
log=$(dirname "$elf")/test.log

if ! grep -qE '^[[:space:]]*GO_TEST(_TIMEOUT)?[[:space:]]*\(' "$dir"/*.c 2>/dev/null; then
	echo "apptest: $dir registers no tests (GO_TEST in <rt0/test.h>: docs/programs.md)"
	echo "0 passed, 0 failed"
	exit 0
fi
build/rt0run -e "$elf" -m microvm -s "$smp" -c "test=*" -k -t "${TEST_TIMEOUT:-600}" \
	> "$log" 2>&1
rc=$?
grep -aE '^(ok|not ok) |^# totals|^rt0: ' "$log"
set -- $(sed -n 's/^result: \([0-9]*\) passed, \([0-9]*\) failed.*/\1 \2/p' "$log") x x
[ "$1" = x ] && set -- 0 1		# no result line: the run itself failed
[ $rc = 0 ] || [ "$2" != 0 ] || set -- "$1" 1
echo "(guest log: $log)"
echo "$1 passed, $2 failed"
[ $rc = 0 ]
