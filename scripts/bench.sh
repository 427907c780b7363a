#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# braid benchmarks: build a release tree, run every tests/perf/perf_*
# program and, when dpdk-testpmd is installed, a testpmd io-forward
# baseline; print a summary table. Method and recorded numbers:
# doc/performance.md.
#
#   scripts/bench.sh [--quick] [--no-build] [--no-testpmd] [--build DIR]
#                    [--out DIR] [--testpmd-secs N]
#
#   --quick         fewer packets and repetitions (about a minute in all)
#   --no-build      use the programs already in the build directory
#   --no-testpmd    skip the testpmd baselines
#   --build DIR     build directory (default build-bench, -Dbuildtype=release)
#   --out DIR       where each program's full output goes
#                   (default <build>/bench-results)
#   --testpmd-secs  run time of each testpmd baseline (default 10)
#
# Not part of scripts/test.sh and never fails on numbers: the exit status
# is 1 only if a benchmark program crashes, hangs or fails its own checks
# (perf_pipeline checks that every packet was delivered and every mbuf
# returned), 2 for a bad option. A build that cannot be done is reported
# and the script exits 0 with nothing measured.
#
# The box is shared: every program reports the best and/or median of
# several repetitions; compare figures only within one run of this script.
set -u

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=$ROOT/build-bench
OUT=
QUICK=0
DO_BUILD=1
DO_TESTPMD=1
TP_SECS=10
# One lcore, no hugepages, no shared config, no PCI scan: runs anywhere,
# next to other DPDK processes.
EAL=(-l 0 --no-huge -m 512 --no-shconf --no-pci --no-telemetry
     --log-level=lib.eal:warning)
PROG_TIMEOUT=900

usage() {
	sed -n '9,19p' "$0" | sed 's/^# \{0,1\}//'
}

while [ $# -gt 0 ]; do
	case "$1" in
	--quick) QUICK=1 ;;
	--no-build) DO_BUILD=0 ;;
	--no-testpmd) DO_TESTPMD=0 ;;
	--build) shift; BUILD=$(realpath -m "${1:?--build needs a directory}") ;;
	--out) shift; OUT=$(realpath -m "${1:?--out needs a directory}") ;;
	--testpmd-secs)
		shift
		case "${1:-}" in
		''|*[!0-9]*) echo "bench.sh: --testpmd-secs needs a number" >&2; exit 2 ;;
		esac
		TP_SECS=$1
		[ "$TP_SECS" -ge 4 ] || TP_SECS=4 ;;
	-h|--help) usage; exit 0 ;;
	*) echo "bench.sh: unknown option $1" >&2; usage >&2; exit 2 ;;
	esac
	shift
done
[ -n "$OUT" ] || OUT=$BUILD/bench-results

log() { printf 'bench.sh: %s\n' "$*" >&2; }

# ---- build -----------------------------------------------------------------

cd "$ROOT" || exit 0
shopt -s nullglob
PERF_SRCS=(tests/perf/perf_*.c)
shopt -u nullglob
if [ ${#PERF_SRCS[@]} -eq 0 ]; then
	log "no tests/perf/perf_*.c: nothing to run"
	exit 0
fi
TARGETS=()
for s in "${PERF_SRCS[@]}"; do
	TARGETS+=("tests/perf/$(basename "$s" .c)")
done

if [ "$DO_BUILD" = 1 ]; then
	if ! command -v meson >/dev/null || ! command -v ninja >/dev/null; then
		log "meson/ninja not installed (scripts/setup.sh installs them): nothing measured"
		exit 0
	fi
	if [ -d "$BUILD" ]; then
		meson configure "$BUILD" -Dbuildtype=release >/dev/null 2>&1 ||
			{ log "meson configure $BUILD failed: nothing measured"; exit 0; }
	else
		setup_log=${TMPDIR:-/tmp}/braid-bench-setup.log
		meson setup "$BUILD" -Dbuildtype=release >"$setup_log" 2>&1 || {
			log "meson setup failed (see $setup_log): nothing measured"
			exit 0
		}
		rm -f "$setup_log"
	fi
	# Only the benchmark programs: -j2 at most on the shared 2-core box.
	if ! ninja -C "$BUILD" -j2 "${TARGETS[@]}" >/dev/null 2>"$BUILD/bench-build.err"; then
		ninja -C "$BUILD" -j2 "${TARGETS[@]}" 2>&1 | tail -20 >&2
		log "build failed: nothing measured"
		exit 0
	fi
fi
mkdir -p "$OUT" || exit 0

# ---- the perf_* programs -----------------------------------------------------

# Arguments after "--" for each program (see the usage in each source).
prog_args() {
	case "$1" in
	perf_pipeline)
		if [ "$QUICK" = 1 ]; then
			echo "--json --profiles $ROOT/drivers-cfg --packets 16384 --reps 3"
		else
			echo "--json --profiles $ROOT/drivers-cfg --packets 65536 --reps 15"
		fi ;;
	perf_sched) [ "$QUICK" = 1 ] && echo "1000000" ;;
	perf_classify) [ "$QUICK" = 1 ] && echo "--iters 10" ;;
	perf_rtx) [ "$QUICK" = 1 ] && echo "--iters 5" ;;
	perf_wire) [ "$QUICK" = 1 ] && echo "-n 64000" ;;
	perf_crypto) [ "$QUICK" = 1 ] && echo "-n 64000" ;;
	esac
	return 0
}

FAILED=0
STATUS_FILE=$OUT/status.txt
: >"$STATUS_FILE"
for t in "${TARGETS[@]}"; do
	name=$(basename "$t")
	bin=$BUILD/$t
	if [ ! -x "$bin" ]; then
		log "$name: not built (nothing measured)"
		echo "$name missing 0" >>"$STATUS_FILE"
		continue
	fi
	# shellcheck disable=SC2207
	args=($(prog_args "$name"))
	log "running $name ${EAL[*]} -- ${args[*]}"
	start=$(date +%s.%N)
	if [ ${#args[@]} -gt 0 ]; then
		timeout "$PROG_TIMEOUT" "$bin" "${EAL[@]}" -- "${args[@]}" \
			>"$OUT/$name.out" 2>"$OUT/$name.err"
	else
		timeout "$PROG_TIMEOUT" "$bin" "${EAL[@]}" >"$OUT/$name.out" 2>"$OUT/$name.err"
	fi
	rc=$?
	secs=$(echo "$start $(date +%s.%N)" | awk '{printf "%.1f", $2 - $1}')
	if [ $rc -ne 0 ]; then
		FAILED=1
		log "$name exited $rc (see $OUT/$name.err)"
		tail -5 "$OUT/$name.err" >&2
	fi
	echo "$name $rc $secs" >>"$STATUS_FILE"
done

# ---- testpmd io-forward baselines ---------------------------------------------

# testpmd with one forwarding core (lcore 1) over two ports; the stats
# period lines give per-port Rx-pps; the sum over both ports is the
# forwarding rate. The first period (start-up) is dropped.
run_testpmd() {   # name, then vdev arguments and extra testpmd arguments
	local name=$1 out=$OUT/testpmd_$1.out
	shift
	timeout -s INT -k 5 "$TP_SECS" dpdk-testpmd -l 0-1 --no-huge -m 512 --no-pci \
		--no-shconf --no-telemetry --log-level=lib.eal:warning "$@" \
		</dev/null >"$out" 2>&1
	# timeout's 124 is the normal end (SIGINT after TP_SECS)
	return 0
}

TESTPMD_NOTE="not run"
if [ "$DO_TESTPMD" = 1 ] && command -v dpdk-testpmd >/dev/null; then
	TESTPMD_NOTE=ran
	log "testpmd io-forward, net_null x2, ${TP_SECS}s"
	run_testpmd null --vdev net_null0 --vdev net_null1 -- --forward-mode=io \
		--nb-cores=1 --total-num-mbufs=16384 --stats-period=2
	sock=$(mktemp -u /tmp/braid-bench-memif.XXXXXX)
	log "testpmd io-forward, net_memif pair (one process, --tx-first loop), ${TP_SECS}s"
	run_testpmd memif64 \
		--vdev "net_memif0,role=server,socket=$sock,socket-abstract=no" \
		--vdev "net_memif1,role=client,socket=$sock,socket-abstract=no" \
		-- --forward-mode=io --nb-cores=1 --total-num-mbufs=16384 \
		--stats-period=2 --tx-first
	rm -f "$sock"
	sock=$(mktemp -u /tmp/braid-bench-memif.XXXXXX)
	log "testpmd io-forward, net_memif pair, 1400 B, ${TP_SECS}s"
	run_testpmd memif1400 \
		--vdev "net_memif0,role=server,socket=$sock,socket-abstract=no" \
		--vdev "net_memif1,role=client,socket=$sock,socket-abstract=no" \
		-- --forward-mode=io --nb-cores=1 --total-num-mbufs=16384 \
		--stats-period=2 --tx-first --txpkts=1400
	rm -f "$sock"
elif [ "$DO_TESTPMD" = 1 ]; then
	TESTPMD_NOTE="dpdk-testpmd not installed"
fi

# ---- summary -------------------------------------------------------------------

if command -v python3 >/dev/null; then
	python3 - "$OUT" "$TESTPMD_NOTE" <<'EOF'
import json, os, re, statistics, sys

out, tp_note = sys.argv[1], sys.argv[2]

def read(name):
    try:
        with open(os.path.join(out, name)) as f:
            return f.read()
    except OSError:
        return ""

def first(pattern, text, fmt):
    m = re.search(pattern, text, re.M)
    return fmt(m) if m else "(no figure)"

status = []
for line in read("status.txt").splitlines():
    name, rc, secs = line.split()
    status.append((name, rc, secs))

headline = {
    "perf_classify": lambda t: first(
        r"^\s+16\s+32 \|\s+([\d.]+)\s+([\d.]+)", t,
        lambda m: f"16 rules, burst 32: {m[1]} cyc/pkt ({m[2]} Mpps)"),
    "perf_sched": lambda t: first(
        r"^burst 32:\s+([\d.]+) cycles/packet.*?, ([\d.]+) Mpps", t,
        lambda m: f"enqueue+dequeue, burst 32: {m[1]} cyc/pkt ({m[2]} Mpps)"),
    "perf_wire": lambda t: first(
        r"^in_place\s+32\s+([\d.]+)\s+([\d.]+)", t,
        lambda m: f"burst 32, in place: encap {m[1]}, decap {m[2]} cyc/pkt"),
    "perf_crypto": lambda t: first(
        r"^\s+64\s+32\s+([\d.]+)\s+([\d.]+)\n(?:.*\n)*?\s+1400\s+32\s+([\d.]+)\s+([\d.]+)", t,
        lambda m: f"AES-256-GCM burst 32: 64 B seal {m[1]} open {m[2]}, 1400 B seal {m[3]} open {m[4]} cyc/pkt"),
    "perf_fec": lambda t: first(
        r"isal_encode_rs10_4_data_rate\s+([\d.]+).*\n(?:.*\n)*?.*stage_rs10_4_inplace_burst32_cyc_per_pkt\s+([\d.]+)",
        t, lambda m: f"ISA-L RS(10,4) {m[1]} GB/s; stage RS(10,4) burst 32 {m[2]} cyc/pkt"),
    "perf_rtx": lambda t: first(
        r"^\s+1024\s+\d+ \|\s+([\d.]+)\s+([\d.]+)\s+([\d.]+)", t,
        lambda m: f"1024-slot cache: store {m[1]} + expire {m[2]} = {m[3]} cyc/pkt"),
}

tsc_hz = None
pipe = None
try:
    pipe = json.loads(read("perf_pipeline.out"))
    tsc_hz = pipe.get("tsc_hz")
except ValueError:
    pass

print()
print("== braid benchmark summary (results in %s)" % out)
print("%-15s %-6s %6s  %s" % ("program", "status", "secs", "headline"))
for name, rc, secs in status:
    st = "ok" if rc == "0" else ("missing" if rc == "missing" else "rc=" + rc)
    text = read(name + ".out")
    if name == "perf_pipeline":
        hl = "pipeline table below" if pipe else "(no JSON)"
    elif name in headline:
        hl = headline[name](text)
    else:
        hl = "(see %s.out)" % name
    print("%-15s %-6s %6s  %s" % (name, st, secs, hl))

base64 = None
if pipe:
    print()
    print("pipeline: cycles/packet, median of %d reps of %d packets (best in brackets);"
          % (pipe["reps"], pipe["packets_per_rep"]))
    print("x io = braid / io-forward over the same net_ring ports, same reps")
    for b in pipe["baseline"]:
        print("  io-forward %5d B %-19s %7.1f cyc/pkt  %7.2f Mpps"
              % (b["frame"], b["path"], b["cyc_median"], b["mpps_median"]))
        if b["frame"] == 64 and b["path"] == "net_ring->net_null":
            base64 = b
    print("%6s %-7s %-4s | %17s %7s %5s | %17s %7s %5s"
          % ("frame", "fec", "arq", "send cyc/pkt", "Mpps", "x io",
             "receive cyc/pkt", "Mpps", "x io"))
    rows = {}
    for c in pipe["cases"]:
        rows.setdefault((c["frame"], c["fec"], c["arq"]), {})[c["chain"]] = c
    for (frame, fec, arq), ch in rows.items():
        s, r = ch.get("send"), ch.get("receive")
        if not s or not r:
            continue
        print("%6d %-7s %-4s | %7.1f [%7.1f] %7.2f %5.1f | %7.1f [%7.1f] %7.2f %5.1f"
              % (frame, fec, "on" if arq else "off",
                 s["cyc_median"], s["cyc_best"], s["mpps_median"], s["ratio_median"],
                 r["cyc_median"], r["cyc_best"], r["mpps_median"], r["ratio_median"]))

print()
if tp_note != "ran":
    print("testpmd io-forward: %s" % tp_note)
else:
    print("testpmd io-forward, 1 forwarding core (sum of both ports' Rx-pps per stats period,"
          " first period dropped; median [best]):")
    for name, label in (("null", "net_null x2, 64 B"),
                        ("memif64", "net_memif pair loop, 64 B"),
                        ("memif1400", "net_memif pair loop, 1400 B")):
        text = read("testpmd_%s.out" % name)
        pps = [int(x) for x in re.findall(r"Rx-pps:\s+(\d+)", text)]
        sums = [pps[i] + pps[i + 1] for i in range(0, len(pps) - 1, 2)][1:]
        sums = [s for s in sums if s > 0]
        if not sums:
            print("  %-28s no rate (see testpmd_%s.out)" % (label, name))
            continue
        med, best = statistics.median(sums) / 1e6, max(sums) / 1e6
        cyc = " = %.0f cyc/pkt" % (tsc_hz / (med * 1e6)) if tsc_hz else ""
        print("  %-28s %7.2f Mpps [%7.2f]%s" % (label, med, best, cyc))
EOF
else
	log "python3 not installed: raw outputs in $OUT"
fi

if [ "$FAILED" != 0 ]; then
	log "a benchmark crashed or failed its checks (see $STATUS_FILE)"
	exit 1
fi
exit 0
