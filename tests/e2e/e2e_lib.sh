# SPDX-License-Identifier: BSD-3-Clause
#
# What the e2e scripts share (sourced by run_profile.sh, dhcp_check.sh).
# The script defines log() (quiet or not) and result() (its BRAID_RESULT
# line and exit), and sets PASSED=0 FAILED=0.

# ok NAME: one assertion passed.
ok() { PASSED=$((PASSED + 1)); log "  PASS $1"; }
# ko NAME DETAIL...: one failed, with what was seen.
ko() {
	FAILED=$((FAILED + 1))
	echo "  FAIL $1"
	shift
	local l
	for l in "$@"; do echo "       $l"; done
}
# fatal NAME DETAIL...: a failed step after which nothing else can run.
fatal() { ko "$@"; result; }

# stop_wait PID SECONDS: SIGTERM already sent; wait up to SECONDS for the
# exit, then SIGKILL. Returns the exit status (137 after the KILL).
stop_wait() {
	local _
	for _ in $(seq $(($2 * 10))); do
		kill -0 "$1" 2>/dev/null || break
		sleep 0.1
	done
	kill -0 "$1" 2>/dev/null && kill -KILL "$1" 2>/dev/null
	wait "$1"
}
