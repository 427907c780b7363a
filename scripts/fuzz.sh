#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# Builds braid's libFuzzer targets with clang (-fsanitize=fuzzer,address,
# undefined) into build-fuzz/ and runs each from its committed seed corpus
# (tests/fuzz/corpus/<target>/) for SECONDS (default 20). A crash, a leak
# or a sanitizer report fails its target; the crashing input is kept in
# $BRAID_FUZZ_ARTIFACTS (default /tmp). The last line is the total,
# "N passed, N failed" (scripts/test.sh runs this too).
#
#   scripts/fuzz.sh [SECONDS]
set -u
cd "$(dirname "$0")/.." || exit 1

secs=${1:-${BRAID_FUZZ_SECONDS:-20}}
case "$secs" in ''|*[!0-9]*) echo "usage: scripts/fuzz.sh [SECONDS]" >&2; exit 2 ;; esac
dir=${BRAID_FUZZ_BUILD_DIR:-build-fuzz}

bash scripts/setup.sh >&2 || { echo "0 passed, 1 failed"; exit 1; }
if [ -d "$dir" ]; then
	CC=clang meson setup --reconfigure "$dir" >/dev/null
else
	CC=clang meson setup "$dir" >/dev/null
fi || { echo "fuzz: meson setup (clang) failed"; echo "0 passed, 1 failed"; exit 1; }
targets=(tests/fuzz_config tests/fuzz_mgmt tests/fuzz_wire tests/fuzz_linkemu tests/fuzz_crypto tests/fuzz_dhcp)
ninja -C "$dir" "${targets[@]}" >/dev/null ||
	{ echo "fuzz: build failed (ninja -C $dir ${targets[*]})"; echo "0 passed, 1 failed"; exit 1; }
BRAID_FUZZ_SECONDS=$secs meson test -C "$dir" --no-rebuild --suite fuzz \
	--print-errorlogs --num-processes 1 || true
python3 scripts/test-summary.py "fuzz=$dir/meson-logs/testlog.json"
