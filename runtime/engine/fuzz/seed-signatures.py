#!/usr/bin/env python3
"""Seeds the `signatures` fuzz corpus: every `.sig` file under the given
folders, each followed (after the ff fd separator) by three raw-IP packets
in the `packets` layout: a UDP datagram with an HTTP request, a TCP SYN and
a TCP segment with an SSH banner.

    runtime/engine/fuzz/seed-signatures.py ../shared/oracle/sigs corpus/signatures
The corpus stays outside git.
"""

import os
import struct
import sys


def ip_udp(payload, sport=30000, dport=13000):
    udp = struct.pack("!HHHH", sport, dport, 8 + len(payload), 0) + payload
    return struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), 1, 0, 64, 17, 0, bytes([127, 0, 0, 1]), bytes([127, 0, 0, 1])) + udp


def ip_tcp(payload, flags=0x18, seq=1):
    tcp = struct.pack("!HHIIBBHHH", 40000, 80, seq, 1, 0x50, flags, 65535, 0, 0) + payload
    return struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(tcp), 1, 0, 64, 6, 0, bytes([10, 0, 0, 1]), bytes([10, 0, 0, 2])) + tcp


def main():
    if len(sys.argv) < 3:
        raise SystemExit("usage: seed-signatures.py SIGDIR... OUTDIR")
    out = sys.argv[-1]
    os.makedirs(out, exist_ok=True)
    # Selector byte 1: raw IP links; each frame starts with its clock step.
    packets = (b"\x01" + b"\x00" + ip_udp(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n") + b"\xff\xfe" + b"\x01" + ip_tcp(b"", 0x02, 0)
               + b"\xff\xfe" + b"\x01" + ip_tcp(b"SSH-2.0-x\r\n"))
    n = 0
    for top in sys.argv[1:-1]:
        for root, _, files in os.walk(top):
            for f in sorted(files):
                if f.endswith(".sig"):
                    with open(os.path.join(root, f), "rb") as fh:
                        sig = fh.read()
                    with open(os.path.join(out, "seed%04d" % n), "wb") as fh:
                        fh.write(sig + b"\xff\xfd" + packets)
                    n += 1
    print("%d inputs in %s" % (n, out))


if __name__ == "__main__":
    main()
