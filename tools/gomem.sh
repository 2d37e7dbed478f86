#!/bin/sh
# tools/gomem.sh - Go's figures beside app=million's, for make bench:
# runtime.MemStats' Sys per parked goroutine (100,000 of them, GOMAXPROCS=1)
# and, in a memory cgroup of each size given, the most goroutines that
# parked before the kernel killed the program (tools/gomem/main.go).
# Prints bench lines; without Go (Debian: apt-get install golang-go) or a
# writable cgroup-v1 memory controller it says so and prints no figure.
#
#   sh tools/gomem.sh OUTDIR [SIZE...]     SIZE as 512M, 8G
out=$(cd "${1:?usage: gomem.sh OUTDIR [SIZE...]}" && pwd) || exit 1
shift
if ! command -v go > /dev/null 2>&1; then
	echo "# gomem: no Go toolchain (apt-get install golang-go): no Go figures"
	exit 0
fi
(cd "$(dirname "$0")/gomem" && GOTOOLCHAIN=local GOPROXY=off GOFLAGS= \
	go build -o "$out/gomem" .) || exit 1
GOMAXPROCS=1 "$out/gomem" 100000 |
	sed -n 's/^go \(go[0-9.]*\): .* Sys \([0-9]*\) bytes each.*/bench go-parked-goroutine-sys \2 bytes (\1)/p'
mine=$(sed -n 's/^[0-9]*:memory:\(.*\)/\1/p' /proc/self/cgroup)
cg=/sys/fs/cgroup/memory$mine/rt0-gomem.$$
for size in "$@"; do
	if ! mkdir "$cg" 2> /dev/null ||
	   ! echo "$size" > "$cg/memory.limit_in_bytes" 2> /dev/null; then
		echo "# gomem: no writable cgroup-v1 memory controller: no Go maximum for $size"
		rmdir "$cg" 2> /dev/null
		continue
	fi
	# The kernel kills the program when the cgroup is full.
	sh -c "echo \$\$ > $cg/cgroup.procs && exec \"$out/gomem\" max" \
		> "$out/gomem-$size.log" 2>&1
	n=$(sed -n 's/^parked \([0-9]*\)$/\1/p' "$out/gomem-$size.log" | tail -n 1)
	rmdir "$cg"
	echo "bench go-max-parked-$size ${n:-0} goroutines"
done
