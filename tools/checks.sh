# tools/checks.sh - what the host-side check scripts share (sourced by
# tools/plottest.sh and tools/tracetest.sh; they set failed=0 first).
#
#   check WHAT STATUS [DETAIL]   print "ok     WHAT" if STATUS is 0, else
#                                "FAILED WHAT: DETAIL" and set failed=1
#   png_size FILE                "W H" of a PNG (its IHDR), or "not a PNG"

check() {
	if [ "$2" = 0 ]; then
		echo "ok     $1"
	else
		echo "FAILED $1${3:+: $3}"
		failed=1
	fi
}

png_size() {
	sig=$(od -An -tx1 -N16 "$1" 2>/dev/null | tr -d ' \n')
	if [ "$sig" != 89504e470d0a1a0a0000000d49484452 ]; then
		echo "not a PNG"		# signature, IHDR's length and type
		return
	fi
	od -An -tu1 -j16 -N8 "$1" | awk '{
		print $1 * 16777216 + $2 * 65536 + $3 * 256 + $4,
		      $5 * 16777216 + $6 * 65536 + $7 * 256 + $8 }'
}
