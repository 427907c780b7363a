#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""Samples an e2e run's links without starting a process while the stream
runs: on this testbed's VMs a fork/exec (ip, jq, braidctl, even date or
awk) now and then held a vCPU for ~100 ms, which the stream saw as a
queue draining for a second. One process, started before the stream:

  links.raw          "t_ns fwd0.. rev0.." every --sample-ms: tx_bytes of
                     each gateway's wan<i>, from /proc/PID/net/dev (the
                     gateway's namespace)
  gwX-links.jsonl    every --sample-ms per gateway, {"t_ns", "samples"}:
                     the management port's `stats braid_link_` and
                     `stats braid_class_` (one JSON-RPC connection per
                     gateway, opened inside its namespace)

usage: sampler.py --out DIR --links N --gw a:PID:NETNS --gw b:PID:NETNS
                  [--sample-ms MS] [--mgmt-port PORT] [--start-ns T] [--once]
--start-ns: first sample at this wall-clock time (ns since the epoch, as
`date +%s%N`): the script starts it before the stream. --once prints one
links.raw line on stdout and exits. SIGTERM ends it.
"""
import argparse
import ctypes
import json
import os
import signal
import socket
import sys
import time

CLONE_NEWNET = 0x40000000


def tx_bytes(pid, n):
    """tx_bytes of wan0..wan<n-1> in the namespace of process pid."""
    tx = {}
    try:
        with open(f"/proc/{pid}/net/dev") as f:
            for line in f.readlines()[2:]:
                name, _, rest = line.partition(":")
                fields = rest.split()
                if len(fields) >= 9:
                    tx[name.strip()] = fields[8]
    except OSError:
        pass
    return [tx.get(f"wan{i}", "0") for i in range(n)]


def counters_line(gws, n):
    vals = []
    for gw in gws:
        vals += tx_bytes(gw["pid"], n)
    return f"{time.time_ns()} {' '.join(vals)}"


class Mgmt:
    """One JSON-RPC connection to a gateway's management port, made in
    the gateway's network namespace (setns on this thread, then back)."""

    def __init__(self, netns, port):
        self.netns, self.port, self.sock, self.buf, self.id = netns, port, None, b"", 0

    def connect(self):
        libc = ctypes.CDLL(None, use_errno=True)
        own = os.open("/proc/self/ns/net", os.O_RDONLY)
        target = os.open(f"/var/run/netns/{self.netns}", os.O_RDONLY)
        try:
            if libc.setns(target, CLONE_NEWNET) != 0:
                return False
            try:
                s = socket.create_connection(("127.0.0.1", self.port), timeout=0.5)
            except OSError:
                s = None
            finally:
                libc.setns(own, CLONE_NEWNET)
        finally:
            os.close(own)
            os.close(target)
        self.sock, self.buf = s, b""
        return s is not None

    def stats(self, prefix):
        if self.sock is None and not self.connect():
            return None
        self.id += 1
        req = {"jsonrpc": "2.0", "method": "stats",
               "params": {"filter": prefix}, "id": self.id}
        try:
            self.sock.sendall((json.dumps(req) + "\n").encode())
            while b"\n" not in self.buf:
                chunk = self.sock.recv(65536)
                if not chunk:
                    raise OSError("closed")
                self.buf += chunk
        except OSError:
            self.sock.close()
            self.sock = None
            return None
        line, _, self.buf = self.buf.partition(b"\n")
        try:
            return json.loads(line).get("result", {}).get("samples")
        except ValueError:
            return None


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out")
    ap.add_argument("--links", type=int, required=True)
    ap.add_argument("--gw", action="append", required=True)
    ap.add_argument("--sample-ms", type=int, default=250)
    ap.add_argument("--mgmt-port", type=int, default=9099)
    ap.add_argument("--start-ns", type=int, default=0)
    ap.add_argument("--once", action="store_true")
    a = ap.parse_args()
    gws = []
    for spec in a.gw:
        side, pid, netns = spec.split(":")
        gws.append({"side": side, "pid": int(pid), "netns": netns})
    if a.once:
        print(counters_line(gws, a.links))
        return 0

    stop = []
    signal.signal(signal.SIGTERM, lambda *_: stop.append(1))
    raw = open(os.path.join(a.out, "links.raw"), "a", buffering=1)
    for gw in gws:
        gw["mgmt"] = Mgmt(gw["netns"], a.mgmt_port)
        gw["jsonl"] = open(os.path.join(a.out, f"gw{gw['side']}-links.jsonl"),
                           "a", buffering=1)
    period = a.sample_ms / 1000.0
    while not stop and time.time_ns() < a.start_ns:
        time.sleep(min(0.05, (a.start_ns - time.time_ns()) / 1e9))
    next_raw = next_mgmt = time.monotonic()
    while not stop:
        now = time.monotonic()
        if now >= next_raw:
            raw.write(counters_line(gws, a.links) + "\n")
            next_raw += period
        if now >= next_mgmt:
            for gw in gws:
                samples = gw["mgmt"].stats("braid_link_")
                classes = gw["mgmt"].stats("braid_class_")
                if samples is not None:
                    gw["jsonl"].write(json.dumps(
                        {"t_ns": time.time_ns(), "samples": samples + (classes or [])},
                        separators=(",", ":")) + "\n")
            next_mgmt += period
        time.sleep(max(0.0, min(next_raw, next_mgmt) - time.monotonic()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
