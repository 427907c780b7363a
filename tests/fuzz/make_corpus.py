#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""Writes the fuzzers' seed corpus (tests/fuzz/corpus/<target>/), committed
with the sources; rerun after a format change:

  python3 tests/fuzz/make_corpus.py [BUILD_DIR]

fuzz_wire   one synthesized frame of every wire type (data with and
            without FEC, parity, NACK, probe, probe reply; fuzz_wire.c's
            byte-0 bit 7 mode), one split in segments, one raw
            truncated frame
fuzz_config the unit tests' configurations, the JSON examples of
            doc/config.md and the embedded default
            (BUILD_DIR/app/braid/braid -- --print-default-config)
fuzz_mgmt   one JSON-RPC request per documented method (token "t", as the
            harness sets), a batch, and an HTTP GET /metrics
fuzz_linkemu every e2e profile (tests/e2e/profiles/*.json)
Inputs a fuzzer found crashing are kept beside them as regress-*.
"""
import glob
import json
import os
import shutil
import struct
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))


def put(target, name, data):
    d = os.path.join(HERE, "corpus", target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data if isinstance(data, bytes) else data.encode())


def wire():
    # fuzz_wire.c synthesize(): type, link, k, m, idx, len16, payload...,
    # class, seq32, block32, time32, then the edit count (0).
    names = {0: "data", 1: "parity", 2: "nack", 3: "probe", 4: "probe_reply"}
    for t, name in names.items():
        for k in (2, 9):                 # odd k: a data packet with FEC
            body = bytes([t, 1, k, 2, 1]) + struct.pack(">H", 200)
            body += bytes((i * 7) & 0xff for i in range(260))
            body += bytes([3]) + struct.pack(">III", 1000 + t, 77, 123456) + b"\0"
            put("fuzz_wire", f"seed-{name}-k{k}", bytes([0x80 | 0x40]) + body)
    # the same data frame in 3 segments with good NIC checksum verdicts
    put("fuzz_wire", "seed-data-segments",
        bytes([0x80 | 0x40 | 0x14 | 2, 0, 2, 9, 2, 1]) + struct.pack(">H", 900) +
        bytes(range(256)) * 4 + b"\0")
    # raw bytes: an Ethernet/IPv4/UDP header cut short
    put("fuzz_wire", "seed-raw-truncated",
        bytes([0x01]) + bytes.fromhex("020000000101020000000201080045000040"))


def config(build):
    for p in sorted(glob.glob(os.path.join(ROOT, "tests", "unit", "configs", "*.json"))):
        shutil.copy(p, os.path.join(HERE, "corpus", "fuzz_config",
                                    "seed-unit-" + os.path.basename(p)))
    text = open(os.path.join(ROOT, "doc", "config.md"), encoding="utf-8").read()
    for i, block in enumerate(text.split("```json")[1:]):
        block = block.split("```")[0]
        try:
            json.loads(block)
        except ValueError:
            continue
        put("fuzz_config", f"seed-doc-{i:02d}.json", block.lstrip())
    braid = os.path.join(build, "app", "braid", "braid")
    try:
        out = subprocess.run([braid, "--", "--print-default-config"], check=True,
                             capture_output=True, timeout=30).stdout
        put("fuzz_config", "seed-default.json", out)
    except (OSError, subprocess.SubprocessError) as e:
        print(f"make_corpus: no default configuration ({e})", file=sys.stderr)


def mgmt():
    reqs = [
        ("version", None), ("methods", None), ("status", None),
        ("stats", {"filter": "braid_link_*"}), ("stats", {"raw": True}),
        ("links.list", None), ("links.set", {"name": "wan0", "capacity_kbps": 5000}),
        ("classes.list", None), ("classes.set", {"name": "video", "fec": "off"}),
        ("config.get", None), ("config.apply", {"config": {"name": "x"}}),
        ("config.save", {"path": "/tmp/x.json"}), ("counters.reset", None),
        ("log.level", None), ("log.level", {"type": "braid.link", "level": "debug"}),
    ]
    for i, (method, params) in enumerate(reqs):
        r = {"jsonrpc": "2.0", "method": method, "id": i + 1, "token": "t"}
        if params is not None:
            r["params"] = params
        put("fuzz_mgmt", f"seed-{i:02d}-{method}", b"\0" + json.dumps(r).encode())
    batch = [{"jsonrpc": "2.0", "method": "version", "id": 1, "token": "t"},
             {"jsonrpc": "2.0", "method": "status", "token": "t"}]
    put("fuzz_mgmt", "seed-batch", b"\0" + json.dumps(batch).encode())
    put("fuzz_mgmt", "seed-http-metrics",
        b"\1GET /metrics HTTP/1.1\r\nHost: gw\r\nAuthorization: Bearer t\r\n\r\n")


def linkemu():
    for p in sorted(glob.glob(os.path.join(ROOT, "tests", "e2e", "profiles", "*.json"))):
        shutil.copy(p, os.path.join(HERE, "corpus", "fuzz_linkemu",
                                    "seed-" + os.path.basename(p)))


def main():
    build = sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "build")
    for t in ("fuzz_wire", "fuzz_config", "fuzz_mgmt", "fuzz_linkemu"):
        d = os.path.join(HERE, "corpus", t)
        os.makedirs(d, exist_ok=True)
        for p in glob.glob(os.path.join(d, "seed-*")):
            os.remove(p)
    wire()
    config(build)
    mgmt()
    linkemu()
    return 0


if __name__ == "__main__":
    sys.exit(main())
