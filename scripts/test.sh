#!/usr/bin/env bash
# The README's test command: install what is missing, build, run every test
# suite (unit, then end-to-end), build again with AddressSanitizer and
# UndefinedBehaviorSanitizer and run the unit suites there, then run every
# fuzzer (clang, libFuzzer) for 20 s from its seed corpus. The last line
# is the total over every suite: "N passed, N failed".
set -u
cd "$(dirname "$0")/.." || exit 1
top=$(pwd)

bash scripts/setup.sh || { echo "0 passed, 1 failed"; exit 1; }

logs=()
build() { # dir, extra meson args...
	local dir=$1; shift
	if [ -d "$dir" ]; then
		meson setup --reconfigure "$dir" "$@" >/dev/null
	else
		meson setup "$dir" "$@" >/dev/null
	fi && ninja -C "$dir"
}

if build build; then
	meson test -C build --no-rebuild --suite unit --suite e2e \
		--print-errorlogs --num-processes 2 || true
	logs+=("build=build/meson-logs/testlog.json")
else
	echo "test: build failed"
	logs+=("build=/nonexistent/build-failed")
fi

# Sanitizers: DPDK keeps some allocations until exit, so leak detection
# only looks at what braid allocates (LSan suppressions for EAL internals).
export ASAN_OPTIONS="abort_on_error=0:detect_leaks=1:suppressions=$top/scripts/asan.supp"
export LSAN_OPTIONS="suppressions=$top/scripts/lsan.supp:print_suppressions=0"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
if build build-asan -Db_sanitize=address,undefined -Db_lundef=false; then
	meson test -C build-asan --no-rebuild --suite unit \
		--print-errorlogs --num-processes 2 || true
	logs+=("asan=build-asan/meson-logs/testlog.json")
else
	echo "test: sanitizer build failed"
	logs+=("asan=/nonexistent/asan-build-failed")
fi

# Fuzzing: every libFuzzer target from its seed corpus for 20 s (clang,
# build-fuzz/; scripts/fuzz.sh runs them longer).
if { [ -d build-fuzz ] && CC=clang meson setup --reconfigure build-fuzz >/dev/null ||
     CC=clang meson setup build-fuzz >/dev/null; } &&
   ninja -C build-fuzz tests/fuzz_config tests/fuzz_mgmt tests/fuzz_wire tests/fuzz_linkemu \
		tests/fuzz_crypto tests/fuzz_dhcp; then
	BRAID_FUZZ_SECONDS=20 meson test -C build-fuzz --no-rebuild --suite fuzz \
		--print-errorlogs --num-processes 1 || true
	logs+=("fuzz=build-fuzz/meson-logs/testlog.json")
else
	echo "test: fuzz build failed"
	logs+=("fuzz=/nonexistent/fuzz-build-failed")
fi

echo
python3 scripts/test-summary.py "${logs[@]}"
