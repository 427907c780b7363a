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
fuzz_crypto a sealed frame of every wire type (fuzz_crypto.c's mode 1),
            with and without changes; a clear braid frame and a HELLO
            frame through the open stage (mode 0); a HELLO payload (mode 2)
fuzz_dhcp   a server's OFFER, ACK and NAK in every client state (byte 0,
            with the transaction id patched in), and a truncated ACK
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


def braid_frame(ftype, link, payload, flags=0):
    """Ethernet/IPv4/UDP/braid header as encap writes them, then payload."""
    bh = struct.pack(">HBBBBHHHIIIIIBBBBHH", 0xBA1D, 1, ftype, flags, 0, 0, link,
                     len(payload), 0x5EED0001, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
    udp = struct.pack(">HHHH", 7000, 7000, 8 + len(bh) + len(payload), 0)
    ip = struct.pack(">BBHHHBBH4s4s", 0x45, 0, 20 + len(udp) + len(bh) + len(payload),
                     0, 0x4000, 64, 17, 0, bytes([10, 1, 1, 1]), bytes([10, 1, 1, 2]))
    eth = bytes.fromhex("020000000102020000000101") + b"\x08\x00"
    return eth + ip + udp + bh + payload


def crypto():
    names = {0: "data", 1: "parity", 2: "nack", 3: "probe", 4: "probe_reply"}
    for t, name in names.items():
        put("fuzz_crypto", f"seed-sealed-{name}",
            bytes([1, t, 1]) + struct.pack(">H", 300) + bytes(range(20)))
        put("fuzz_crypto", f"seed-sealed-{name}-changed",
            bytes([1, t, 2]) + struct.pack(">H", 300) + bytes(range(20)) +
            bytes([0, 50, 1, 0, 90, 0x80]))
    put("fuzz_crypto", "seed-clear-data", bytes([0]) + braid_frame(1, 0, bytes(64)))
    put("fuzz_crypto", "seed-hello-frame", bytes([0]) + braid_frame(6, 1, bytes(132)))
    put("fuzz_crypto", "seed-sealed-garbage",
        bytes([0]) + braid_frame(1, 2, bytes(8) + bytes(range(100)) + bytes(16), flags=4))
    put("fuzz_crypto", "seed-hello-payload", bytes([2, 0x5E, 0xED, 0, 2]) +
        bytes([1, 0, 0, 0]) + bytes(range(1, 129)))


def dhcp_reply(mtype, opts=b""):
    b = bytearray(240)
    b[0:3] = bytes([2, 1, 6])
    b[16:20] = bytes([10, 0, 0, 7])
    b[28:34] = bytes([2, 0, 0, 0, 0xF0, 0x01])
    b[236:240] = bytes([99, 130, 83, 99])
    b += bytes([53, 1, mtype, 54, 4, 10, 0, 0, 1, 51, 4, 0, 0, 0, 100,
                1, 4, 255, 255, 255, 0, 3, 4, 10, 0, 0, 1, 26, 2, 5, 220]) + opts
    b += bytes([255])
    return bytes(b) + bytes(max(0, 300 - len(b) - 1))


def dhcp():
    for state in range(5):
        for name, mtype in (("offer", 2), ("ack", 5), ("nak", 6)):
            put("fuzz_dhcp", "seed-%d-%s" % (state, name),
                bytes([8 | state]) + dhcp_reply(mtype))
    put("fuzz_dhcp", "seed-2-ack-t1t2", bytes([8 | 3]) +
        dhcp_reply(5, bytes([58, 4, 0, 0, 0, 10, 59, 4, 0, 0, 0, 20])))
    put("fuzz_dhcp", "seed-truncated", bytes([8 | 1]) + dhcp_reply(5)[:250])


def main():
    build = sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "build")
    for t in ("fuzz_wire", "fuzz_config", "fuzz_mgmt", "fuzz_linkemu", "fuzz_crypto",
              "fuzz_dhcp"):
        d = os.path.join(HERE, "corpus", t)
        os.makedirs(d, exist_ok=True)
        for p in glob.glob(os.path.join(d, "seed-*")):
            os.remove(p)
    wire()
    config(build)
    mgmt()
    linkemu()
    crypto()
    dhcp()
    return 0


if __name__ == "__main__":
    sys.exit(main())
