#!/usr/bin/env python3
"""Writes a pcap trace holding N concurrent TCP connections, for the
per-connection memory figure of the benchmark.

    scripts/gen-conns-trace.py N OUT.pcap

Each connection is one SYN from a distinct (10.x.y.z, port) client to
192.0.2.1:80, 1 microsecond apart, so all N are open at once when the
trace ends (the SYN timeout is 5 s of network time). Checksums are valid.
"""
import struct
import sys


def csum(data: bytes) -> int:
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def main() -> int:
    if len(sys.argv) != 3:
        print(__doc__.strip().splitlines()[3].strip(), file=sys.stderr)
        return 2
    n = int(sys.argv[1])
    dst = bytes([192, 0, 2, 1])
    eth = b"\x00\x00\x00\x00\x00\x02" + b"\x00\x00\x00\x00\x00\x01" + b"\x08\x00"
    t0 = 1_700_000_000
    with open(sys.argv[2], "wb") as out:
        out.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
        for i in range(n):
            src = bytes([10, (i >> 16) & 0xFF, (i >> 8) & 0xFF, i & 0xFF])
            sport = 1024 + (i >> 24)
            tcp = struct.pack("!HHIIBBHHH", sport, 80, i, 0, 5 << 4, 0x02, 65535, 0, 0)
            pseudo = src + dst + struct.pack("!BBH", 0, 6, len(tcp))
            tcp = tcp[:16] + struct.pack("!H", csum(pseudo + tcp)) + tcp[18:]
            ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(tcp), i & 0xFFFF, 0, 64, 6, 0, src, dst)
            ip = ip[:10] + struct.pack("!H", csum(ip)) + ip[12:]
            frame = eth + ip + tcp
            us = i
            out.write(struct.pack("<IIII", t0 + us // 1_000_000, us % 1_000_000, len(frame), len(frame)))
            out.write(frame)
    return 0


if __name__ == "__main__":
    sys.exit(main())
