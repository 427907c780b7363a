#!/usr/bin/env bash
# Idempotent set-up for a Debian 12 machine: installs the Debian packages
# braid needs that are missing, reserves 2 MiB hugepages and mounts
# hugetlbfs when it can. Prints what it did; says clearly when DPDK will
# have to run with --no-huge.
#
#   scripts/setup.sh            packages + hugepages
#   BRAID_HUGEPAGES=N           number of 2 MiB pages to reserve (default 1024)
set -u

PKGS=(dpdk dpdk-dev libdpdk-dev libisal-dev libjansson-dev libcunit1-dev
      meson ninja-build pkg-config gcc python3 iproute2 iputils-ping
      tcpdump gnuplot-nox procps kmod jq ethtool clang libclang-rt-14-dev
      libssl-dev openssl dnsmasq-base)

say() { printf 'setup: %s\n' "$*"; }

as_root() {
	if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

missing=()
for p in "${PKGS[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' ||
		missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
	say "installing: ${missing[*]}"
	export DEBIAN_FRONTEND=noninteractive
	as_root apt-get update -q >/dev/null || { say "apt-get update failed"; exit 1; }
	as_root apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null ||
		{ say "apt-get install failed: ${missing[*]}"; exit 1; }
else
	say "all packages present"
fi

# Hugepages: DPDK runs faster and with more memory on them. Not fatal.
want=${BRAID_HUGEPAGES:-1024}
hp=/proc/sys/vm/nr_hugepages
have=$(cat "$hp" 2>/dev/null || echo 0)
if [ "$have" -lt "$want" ]; then
	echo "$want" | as_root tee "$hp" >/dev/null 2>&1 || true
	have=$(cat "$hp" 2>/dev/null || echo 0)
fi
if ! grep -q ' hugetlbfs ' /proc/mounts; then
	as_root mkdir -p /dev/hugepages &&
		as_root mount -t hugetlbfs nodev /dev/hugepages 2>/dev/null || true
fi
free_pages=$(awk '/HugePages_Free/ {print $2}' /proc/meminfo)
if [ "${free_pages:-0}" -ge 256 ] && grep -q ' hugetlbfs ' /proc/mounts; then
	say "hugepages: ${free_pages} x 2 MiB free, hugetlbfs mounted"
else
	say "hugepages: only ${free_pages:-0} free or no hugetlbfs mount;" \
	    "braid will run with --no-huge (slower, fine for tests)"
fi
exit 0
