#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""Both ends of run_profile.sh --mtu's checks, each run in a testbed
namespace with `ip netns exec`; every command prints one JSON line.

  udp-recv --port P --seconds S        sizes of the datagrams received
  udp-send --dst A --port P --size N (--df | --no-df)
                                       send one datagram of N bytes (twice,
                                       0.5 s apart, with --df); report the
                                       path MTU the kernel learned (IP_MTU)
                                       and whether the second send was
                                       refused as too big
  tcp-recv --port P --seconds S        take one connection, read to EOF
  tcp-send --dst A --port P --bytes N  send N bytes (a fixed pattern)
                                       and report the MSS the connection
                                       got (TCP_MAXSEG) and the rate
"""
import argparse
import errno
import hashlib
import json
import socket
import sys
import time

IP_MTU_DISCOVER = getattr(socket, "IP_MTU_DISCOVER", 10)
IP_PMTUDISC_DONT = getattr(socket, "IP_PMTUDISC_DONT", 0)
IP_PMTUDISC_DO = getattr(socket, "IP_PMTUDISC_DO", 2)
IP_MTU = getattr(socket, "IP_MTU", 14)


def pattern(n):
    block = bytes((i * 131 + 7) & 0xff for i in range(65536))
    while n > 0:
        yield block[:min(n, len(block))]
        n -= len(block)


def udp_recv(a):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("0.0.0.0", a.port))
    s.settimeout(0.2)
    sizes, end = [], time.time() + a.seconds
    while time.time() < end:
        try:
            sizes.append(len(s.recv(65535)))
        except socket.timeout:
            pass
    print(json.dumps({"sizes": sizes}))


def udp_send(a):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.IPPROTO_IP, IP_MTU_DISCOVER, IP_PMTUDISC_DO if a.df else IP_PMTUDISC_DONT)
    s.connect((a.dst, a.port))
    data, sent, refused = bytes(a.size), 0, False
    for i in range(2 if a.df else 1):
        try:
            s.send(data)
            sent += 1
        except OSError as e:
            if e.errno != errno.EMSGSIZE:
                raise
            refused = True
        time.sleep(0.5)
    print(json.dumps({"sent": sent, "refused_too_big": refused,
                      "path_mtu": s.getsockopt(socket.IPPROTO_IP, IP_MTU)}))


def tcp_recv(a):
    ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind(("0.0.0.0", a.port))
    ls.listen(1)
    ls.settimeout(a.seconds)
    c, _ = ls.accept()
    c.settimeout(a.seconds)
    h, n, t0 = hashlib.sha256(), 0, time.time()
    while True:
        b = c.recv(1 << 20)
        if not b:
            break
        h.update(b)
        n += len(b)
    print(json.dumps({"bytes": n, "sha256": h.hexdigest(), "seconds": time.time() - t0,
                      "mss": c.getsockopt(socket.IPPROTO_TCP, socket.TCP_MAXSEG)}))


def tcp_send(a):
    s = socket.create_connection((a.dst, a.port), timeout=10)
    s.settimeout(120)
    mss = s.getsockopt(socket.IPPROTO_TCP, socket.TCP_MAXSEG)
    h, t0 = hashlib.sha256(), time.time()
    for b in pattern(a.bytes):
        h.update(b)
        s.sendall(b)
    s.shutdown(socket.SHUT_WR)
    s.recv(1)       # the receiver closes after EOF: everything arrived
    dt = time.time() - t0
    print(json.dumps({"bytes": a.bytes, "sha256": h.hexdigest(), "seconds": dt,
                      "mbit_s": a.bytes * 8 / dt / 1e6, "mss": mss}))


def main():
    p = argparse.ArgumentParser()
    sub = p.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("udp-recv")
    r.add_argument("--port", type=int, required=True)
    r.add_argument("--seconds", type=float, default=5)
    r = sub.add_parser("udp-send")
    r.add_argument("--dst", required=True)
    r.add_argument("--port", type=int, required=True)
    r.add_argument("--size", type=int, required=True)
    g = r.add_mutually_exclusive_group(required=True)
    g.add_argument("--df", action="store_true")
    g.add_argument("--no-df", dest="df", action="store_false")
    r = sub.add_parser("tcp-recv")
    r.add_argument("--port", type=int, required=True)
    r.add_argument("--seconds", type=float, default=120)
    r = sub.add_parser("tcp-send")
    r.add_argument("--dst", required=True)
    r.add_argument("--port", type=int, required=True)
    r.add_argument("--bytes", type=int, required=True)
    a = p.parse_args()
    {"udp-recv": udp_recv, "udp-send": udp_send, "tcp-recv": tcp_recv,
     "tcp-send": tcp_send}[a.cmd](a)
    return 0


if __name__ == "__main__":
    sys.exit(main())
