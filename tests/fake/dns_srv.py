#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""dns_srv.py -- a tiny authoritative DNS answerer over UDP (stdlib only)
for --configure's tests: SRV records from the command line, NXDOMAIN for
every other name.

  dns_srv.py --addr 127.0.0.77 --port 53 \\
      --srv _submission._tcp.example.test=0,1,587,mail.example.test ...

Prints "READY <port>" once listening; answers until --timeout (60 s).
"""
import argparse
import socket
import struct
import sys
import time

QTYPE_SRV = 33


def encode_name(name):
    out = b""
    for label in name.rstrip(".").split("."):
        if label:
            out += bytes([len(label)]) + label.encode()
    return out + b"\0"


def parse_question(msg):
    i, labels = 12, []
    while msg[i] != 0:
        n = msg[i]
        labels.append(msg[i + 1:i + 1 + n].decode("ascii", "replace"))
        i += 1 + n
    qtype, qclass = struct.unpack("!HH", msg[i + 1:i + 5])
    return ".".join(labels).lower(), qtype, qclass, msg[12:i + 5]


def answer(msg, records):
    tid = msg[:2]
    name, qtype, _, question = parse_question(msg)
    rrs = records.get(name, []) if qtype == QTYPE_SRV else []
    flags = 0x8400 | (0 if name in records else 3)   # AA; NXDOMAIN
    out = tid + struct.pack("!HHHHH", flags, 1, len(rrs), 0, 0) + question
    for prio, weight, port, target in rrs:
        rdata = struct.pack("!HHH", prio, weight, port) + encode_name(target)
        out += b"\xc0\x0c" + struct.pack("!HHIH", QTYPE_SRV, 1, 60, len(rdata))
        out += rdata
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--addr", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--srv", action="append", default=[])
    ap.add_argument("--timeout", type=float, default=60)
    a = ap.parse_args()
    records = {}
    for spec in a.srv:
        name, val = spec.split("=", 1)
        prio, weight, port, target = val.split(",")
        records.setdefault(name.lower(), []).append(
            (int(prio), int(weight), int(port), target))
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((a.addr, a.port))
    print("READY %d" % s.getsockname()[1], flush=True)
    end = time.monotonic() + a.timeout
    while time.monotonic() < end:
        s.settimeout(max(0.1, end - time.monotonic()))
        try:
            msg, peer = s.recvfrom(4096)
        except socket.timeout:
            break
        try:
            s.sendto(answer(msg, records), peer)
        except (IndexError, struct.error):
            continue
    return 0


if __name__ == "__main__":
    sys.exit(main())
