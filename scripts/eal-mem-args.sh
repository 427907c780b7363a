#!/usr/bin/env bash
# Prints the EAL memory arguments for this machine: hugepages when enough
# are free, otherwise --no-huge (and says so on stderr).
#   scripts/eal-mem-args.sh [MiB]
mb=${1:-512}
free_pages=$(awk '/HugePages_Free/ {print $2}' /proc/meminfo)
if [ "${free_pages:-0}" -ge $((mb / 2)) ] && grep -q ' hugetlbfs ' /proc/mounts; then
	echo "-m $mb"
else
	echo "braid: not enough free hugepages (${free_pages:-0}); using --no-huge" >&2
	echo "--no-huge -m $mb"
fi
