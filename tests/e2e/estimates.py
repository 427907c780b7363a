#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""What braid estimated during an e2e run, as a CSV the plot reads.

Reads DIR/gwX-links.jsonl (tests/e2e/sampler.py) and writes, for each
gateway X (a: src -> dst, b: dst -> src), DIR/gwX-estimates.csv:

  t_s,est_wan0..,usable_wan0..,cfg_wan0..,fec_k,fec_m

time from the stream start (--t0-ns, wall clock ns), rates in Mbit/s
(link health's estimated, usable and configured capacity per link), and
the FEC shape braid chose for the class --class (fec auto; empty when the
class is not automatic).

usage: estimates.py --dir DIR --links N --t0-ns T [--class video]
"""
import argparse
import json
import os
import sys


def rows(path, n, t0, cls):
    names = [f"wan{i}" for i in range(n)]
    for line in open(path):
        try:
            d = json.loads(line)
        except ValueError:
            continue
        v = {}
        for s in d.get("samples", []):
            lab = s.get("labels", {})
            v[(s.get("name"), lab.get("link") or lab.get("class"))] = s.get("value")
        t = (d["t_ns"] - t0) / 1e9
        cols = [f"{t:.3f}"]
        for metric in ("braid_link_estimated_capacity_bits_per_second",
                       "braid_link_usable_capacity_bits_per_second",
                       "braid_link_capacity_bits_per_second"):
            for l in names:
                x = v.get((metric, l))
                cols.append("" if x is None else f"{x / 1e6:.3f}")
        for metric in ("braid_class_fec_data_per_block", "braid_class_fec_parity_per_block"):
            x = v.get((metric, cls))
            cols.append("" if x is None else f"{x:g}")
        yield ",".join(cols)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--dir", required=True)
    p.add_argument("--links", type=int, required=True)
    p.add_argument("--t0-ns", type=int, required=True)
    p.add_argument("--class", dest="cls", default="video")
    a = p.parse_args()
    n = a.links
    head = ["t_s"] + [f"{k}_wan{i}" for k in ("est", "usable", "cfg") for i in range(n)]
    head += ["fec_k", "fec_m"]
    for side in "ab":
        src = os.path.join(a.dir, f"gw{side}-links.jsonl")
        if not os.path.exists(src):
            continue
        with open(os.path.join(a.dir, f"gw{side}-estimates.csv"), "w") as out:
            out.write(",".join(head) + "\n")
            for r in rows(src, n, a.t0_ns, a.cls):
                out.write(r + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
