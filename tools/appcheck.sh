#!/bin/sh
# tools/appcheck.sh DIR - a program from outside the tree (make APP=DIR)
# may include only rt0's public headers: <rt0.h> and <rt0/*.h> (and its
# own, and the compiler's freestanding ones).  An #include of one of the
# runtime's internal headers (kernel/, sched/, arch/, boot/, tests/,
# apps/, or rt0's include/ by a path into the tree) is refused here with
# one line per use, before the compiler says something less clear.
set -u
dir=$1
bad=0
for f in "$dir"/*.c "$dir"/*.h; do
	[ -f "$f" ] || continue
	# file:line:text of each #include naming an internal directory.
	grep -nE '^[[:space:]]*#[[:space:]]*include[[:space:]]*[<"]([^>"]*/)?(kernel|sched|arch|boot|tests|apps)/[^>"]*[>"]' "$f" |
	while IFS=: read -r line text; do
		hdr=$(printf '%s\n' "$text" | sed -E 's/.*include[[:space:]]*[<"]([^>"]*)[>"].*/\1/')
		echo "$f:$line: '$hdr' is one of rt0's internal headers;" \
			"a program may include only <rt0.h> and <rt0/chan.h>," \
			"<rt0/sync.h>, <rt0/test.h> (docs/programs.md)"
	done | grep . && bad=1
	# The tree's own spelling, "include/rt0.h", needs the tree's -I.
	grep -nE '^[[:space:]]*#[[:space:]]*include[[:space:]]*[<"]([^>"]*/)?include/rt0' "$f" |
	while IFS=: read -r line text; do
		echo "$f:$line: write <rt0.h> (or <rt0/chan.h>, ...):" \
			"a program outside the tree sees include/ itself"
	done | grep . && bad=1
done
exit $bad
