#!/usr/bin/env python3
"""Writes a raw-IP pcap of N IPv4 packets from N different (spoofed) sources,
each with a wrong IP header checksum (a `bad_IP_checksum` flow weird per
address pair): the flood that grows the engine's flow weird table. With
--fragments, each packet is instead the first 1000-byte fragment of a
datagram that never completes (the flood that grows the fragment table).

Usage: gen-spoofed-weirds-trace.py OUT.pcap [N] [--one-source] [--fragments]
"""
import struct
import sys


def with_checksum(hdr):
    total = sum(struct.unpack("!10H", hdr))
    while total > 0xFFFF:
        total = (total & 0xFFFF) + (total >> 16)
    return hdr[:10] + struct.pack("!H", ~total & 0xFFFF) + hdr[12:]


def main():
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    one_source = "--one-source" in sys.argv
    fragments = "--fragments" in sys.argv
    out = args[0]
    n = int(args[1]) if len(args) > 1 else 2_000_000
    with open(out, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 101))
        ts = 1_700_000_000
        for i in range(n):
            src = 0x0A000000 + (0 if one_source else i)
            if fragments:
                # IPv4 with MF set, offset 0, 1000 bytes of UDP payload, right checksum.
                hdr = struct.pack("!BBHHHBBHII", 0x45, 0, 1020, i & 0xFFFF, 0x2000, 64, 17, 0, src, 0xC0000201)
                pkt = with_checksum(hdr) + struct.pack("!HHHH", 1024, 53, 1000, 0) + bytes(992)
            else:
                # IPv4, 28 bytes, UDP, checksum field 0xdead (wrong), to 192.0.2.1.
                hdr = struct.pack("!BBHHHBBHII", 0x45, 0, 28, i & 0xFFFF, 0, 64, 17, 0xDEAD, src, 0xC0000201)
                pkt = hdr + struct.pack("!HHHH", 1024, 53, 8, 0)
            usec = i % 1_000_000
            f.write(struct.pack("<IIII", ts + i // 1_000_000, usec, len(pkt), len(pkt)))
            f.write(pkt)


if __name__ == "__main__":
    main()
