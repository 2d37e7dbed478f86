#!/bin/sh
# tools/gdb.sh - make gdb: boot the image paused under QEMU's gdb server
# and run gdb on it in this terminal, with tools/rt0-gdb.py loaded
# (info goroutines, goroutine N bt, info ms, info ps, info cpus,
# rt0-schedtrace).  No .gdbinit is needed or read from the tree.
#
#   sh tools/gdb.sh ELF MACHINE SMP CMDLINE PORT
#
# The guest's console goes to build/gdb-console.log (tail -f it in
# another terminal).  Ctrl-C belongs to gdb (it stops the guest); QEMU
# is killed when gdb exits.
set -u
elf=$1 machine=$2 smp=$3 cmdline=$4 port=$5
log=$(dirname "$elf")/gdb-console.log

# rt0run and its QEMU in a process group of their own, killed as one.
setsid build/rt0run -e "$elf" -m "$machine" -s "$smp" -c "$cmdline" \
	-x "-gdb tcp:127.0.0.1:$port -S" >"$log" 2>&1 &
qpid=$!
trap 'kill -KILL -$qpid 2>/dev/null; wait $qpid 2>/dev/null' EXIT
trap '' INT
# Wait (up to 5 s) for QEMU's gdb server to listen.
i=0
while [ $i -lt 50 ] && ! ss -ltn 2>/dev/null | grep -q "127.0.0.1:$port "; do
	sleep 0.1
	i=$((i + 1))
done
echo "gdb: QEMU paused on 127.0.0.1:$port; console in $log"
gdb -q -nx -x tools/rt0-gdb.py -ex "target remote 127.0.0.1:$port" "$elf"
