#!/usr/bin/env python3
"""Seeds the `packets` fuzz corpus from real traces (classic pcap, optionally
gzip'd): every 4 consecutive packets of a trace become one input in the
target's layout (link selector byte, then `dt` + frame, separated by ff fe).

    runtime/engine/fuzz/seed-corpus.py ../shared/oracle/dev corpus/packets
The corpus stays outside git: it is made from the traces in place.
"""

import gzip
import hashlib
import os
import struct
import sys

# Link selector bytes of the fuzz target for the link types seen in traces.
SELECT = {1: 0, 12: 1, 101: 1, 228: 2, 229: 3, 0: 4, 108: 5, 113: 6, 276: 7, 9: 8, 50: 9, 105: 10, 127: 11, 119: 12, 239: 13, 10: 14}


def packets(path):
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rb") as f:
        data = f.read()
    if len(data) < 24:
        return None, []
    magic = data[:4]
    if magic in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1"):
        endian = "<"
    elif magic in (b"\xa1\xb2\xc3\xd4", b"\xa1\xb2\x3c\x4d"):
        endian = ">"
    else:
        return None, []  # pcapng: skipped
    link = struct.unpack(endian + "I", data[20:24])[0] & 0x0FFFFFFF
    out, off = [], 24
    while off + 16 <= len(data):
        _, _, caplen, _ = struct.unpack(endian + "IIII", data[off:off + 16])
        out.append(data[off + 16:off + 16 + caplen])
        off += 16 + caplen
    return link, out


def main():
    src, dst = sys.argv[1], sys.argv[2]
    os.makedirs(dst, exist_ok=True)
    n = 0
    for root, _, files in os.walk(src):
        for name in files:
            if not (name.endswith(".pcap") or name.endswith(".pcap.gz")):
                continue
            link, pkts = packets(os.path.join(root, name))
            if link not in SELECT:
                continue
            for i in range(0, min(len(pkts), 200), 4):
                body = b"\xff\xfe".join(bytes([1]) + p for p in pkts[i:i + 4])
                seed = bytes([SELECT[link]]) + body
                h = hashlib.sha1(seed).hexdigest()[:16]
                with open(os.path.join(dst, h), "wb") as f:
                    f.write(seed)
                n += 1
    print("wrote %d seeds to %s" % (n, dst))


if __name__ == "__main__":
    main()
