#!/bin/sh
# tools/deps.sh [iso] [gdb] [plot] - make sure the host has what a make
# target needs: QEMU always; with "iso" GRUB + xorriso + mtools (the ISO);
# with "gdb" gdb (make gdb and its test); with "plot" matplotlib for
# Debian's /usr/bin/python3 (make plot; the package installs there, and
# a python3 earlier on PATH may not see it).  make test needs them all.
# As root on Debian/Ubuntu this installs what is missing with apt-get;
# otherwise it prints the command.
need=""
command -v qemu-system-x86_64 >/dev/null 2>&1 || need="$need qemu-system-x86"
for what in "$@"; do
	case $what in
	iso)
		command -v grub-mkrescue >/dev/null 2>&1 || need="$need grub-common"
		[ -d /usr/lib/grub/i386-pc ] || need="$need grub-pc-bin"
		command -v xorriso >/dev/null 2>&1 || need="$need xorriso"
		command -v mformat >/dev/null 2>&1 || need="$need mtools" ;;
	gdb)
		command -v gdb >/dev/null 2>&1 || need="$need gdb" ;;
	plot)
		/usr/bin/python3 -c 'import matplotlib' 2>/dev/null ||
			need="$need python3-matplotlib" ;;
	*)
		echo "deps: unknown '$what' (iso, gdb, plot)"; exit 2 ;;
	esac
done
[ -z "$need" ] && exit 0

if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
	echo "deps: installing$need (apt-get)"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -q >/dev/null &&
	apt-get install -y -q --no-install-recommends $need >/dev/null ||
		{ echo "deps: apt-get install$need failed"; exit 1; }
	exit 0
fi
echo "rt0 needs these Debian packages:$need"
echo "install them with:  sudo apt-get install$need"
exit 1
