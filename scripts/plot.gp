# SPDX-License-Identifier: BSD-3-Clause
#
# Per-link throughput and end-to-end latency over time of one e2e run
# (tests/e2e/run_profile.sh --out DIR). Reads, in DIR:
#   links.csv        t_s,fwd_wan0..fwd_wanN-1,rev_wan0..rev_wanN-1 (Mbit/s
#                    braid put on each link, from the gateways' wan veths)
#   fwd-latency.csv  braid-traffic series of src -> dst, time shifted to the
#   rev-latency.csv  stream start: t_s,rx_pkts,rx_bytes,lat_p50_ms,lat_max_ms
#   gwa-estimates.csv  what gwa (src -> dst) estimated: t_s, est_wan*,
#                    usable_wan*, cfg_wan* (Mbit/s), fec_k, fec_m of the
#                    video class (tests/e2e/estimates.py)
#
#   gnuplot -e "dir='results/X'; nlinks=3; duration=20; title='lossy'" scripts/plot.gp
# writes DIR/braid.png.

if (!exists("dir")) dir = "."
if (!exists("nlinks")) nlinks = 3
if (!exists("title")) title = ""
if (!exists("out")) out = dir . "/braid.png"
if (!exists("duration")) duration = 20

set terminal pngcairo size 1200,1200 enhanced font "DejaVu Sans,10"
set output out
set datafile separator ","
set datafile missing "NaN"
set key outside right top vertical
set grid
set xrange [-1:duration + 2]
set lmargin 10
set rmargin 22
set multiplot layout 4,1 title "braid e2e " . title . ": per-link throughput, end-to-end latency, what braid estimated" font ",12"

set title "throughput per link, src -> dst (gwa wan ports)"
set xlabel "time since stream start (s)"
set ylabel "Mbit/s"
set yrange [0:*]
plot for [i=0:nlinks-1] dir . "/links.csv" using 1:(column(i + 2)) every ::1 \
	with lines lw 2 title sprintf("wan%d", i), \
	dir . "/links.csv" using 1:(sum [i=0:nlinks-1] column(i + 2)) every ::1 \
	with lines lw 1 dt 2 lc rgb "black" title "all links"

set title "throughput per link, dst -> src (gwb wan ports)"
plot for [i=0:nlinks-1] dir . "/links.csv" using 1:(column(nlinks + i + 2)) every ::1 \
	with lines lw 2 title sprintf("wan%d", i), \
	dir . "/links.csv" using 1:(sum [i=0:nlinks-1] column(nlinks + i + 2)) every ::1 \
	with lines lw 1 dt 2 lc rgb "black" title "all links"

set title "end-to-end latency (braid-traffic, per 100 ms bin)"
set ylabel "ms"
set logscale y
set yrange [*:*]
plot dir . "/fwd-latency.csv" using 1:4 with lines lw 2 title "src->dst p50", \
	"" using 1:5 with lines lw 1 title "src->dst max", \
	dir . "/rev-latency.csv" using 1:4 with lines lw 2 title "dst->src p50", \
	"" using 1:5 with lines lw 1 title "dst->src max"
unset logscale y

set title "capacity gwa estimates per link (src -> dst), and its FEC parity share"
set rmargin 30
set ylabel "Mbit/s"
set yrange [0:*]
set offsets 0, 0, 1, 0
set y2label "video parity %"
set y2range [0:50]
set y2tics
est = dir . "/gwa-estimates.csv"
plot for [i=0:nlinks-1] est using 1:(column(i + 2)) every ::1 \
	with lines lw 2 title sprintf("wan%d estimated", i), \
	for [i=0:nlinks-1] est using 1:(column(2 * nlinks + i + 2)) every ::1 \
	with lines lw 1 dt 2 title sprintf("wan%d configured", i), \
	est using 1:(100.0 * column(3 * nlinks + 3) / (column(3 * nlinks + 2) + \
	column(3 * nlinks + 3))) every ::1 axes x1y2 with steps lw 1 lc rgb "black" \
	title "FEC m/(k+m)"
unset y2tics
unset y2label
unset multiplot
