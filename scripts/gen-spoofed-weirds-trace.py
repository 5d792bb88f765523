#!/usr/bin/env python3
"""Writes a raw-IP pcap of N IPv4 packets from N different (spoofed) sources,
each with a wrong IP header checksum (a `bad_IP_checksum` flow weird per
address pair): the flood that grows the engine's flow weird table.

Usage: gen-spoofed-weirds-trace.py OUT.pcap [N] [--one-source]
"""
import struct
import sys


def main():
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    one_source = "--one-source" in sys.argv
    out = args[0]
    n = int(args[1]) if len(args) > 1 else 2_000_000
    with open(out, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 101))
        ts = 1_700_000_000
        for i in range(n):
            src = 0x0A000000 + (0 if one_source else i)
            # IPv4, 28 bytes, UDP, checksum field 0xdead (wrong), to 192.0.2.1.
            hdr = struct.pack("!BBHHHBBHII", 0x45, 0, 28, i & 0xFFFF, 0, 64, 17, 0xDEAD, src, 0xC0000201)
            pkt = hdr + struct.pack("!HHHH", 1024, 53, 8, 0)
            usec = i % 1_000_000
            f.write(struct.pack("<IIII", ts + i // 1_000_000, usec, len(pkt), len(pkt)))
            f.write(pkt)


if __name__ == "__main__":
    main()
