#!/usr/bin/env python3
"""Writes tests/traces/ipv6.pcap: IPv6 packets for the packet-level events.

Deterministic; reuses the builders of gen-demo-trace.py. The packets, in order:
  1. TCP SYN 2001:db8::1:40000 -> 2001:db8::2:80 behind a hop-by-hop header
     (one PadN option) and a destination-options header (Pad1 + PadN):
     ipv6_ext_headers with exts [hopopts, dstopts]; flow label 0x12345.
  2. the SYN-ACK back (no extension headers), flow label 0.
  3. the client's ACK with flow label 0x54321: connection_flow_label_changed
     (is_orig T, old 0x12345, new 0x54321).
  4. ESP (next header 50) 2001:db8::1 -> 2001:db8::3, SPI 0x1001, seq 7:
     esp_packet, no connection.
  5. Mobility Header, Binding Refresh Request (type 0), valid checksum, next
     header 59: mobile_ipv6_message, no connection.
  6. the same Mobility Header with a wrong checksum: weird bad_MH_checksum,
     no event.
"""

import importlib.util
import os
import struct

HERE = os.path.dirname(os.path.abspath(__file__))
_spec = importlib.util.spec_from_file_location("gen_demo", os.path.join(HERE, "gen-demo-trace.py"))
demo = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(demo)

A, B, C = "2001:db8::1", "2001:db8::2", "2001:db8::3"


def ip6(src, dst, nxt, payload, flow=0):
    return struct.pack("!IHBB", (6 << 28) | flow, len(payload), nxt, 64) + demo.ip6(src) + demo.ip6(dst) + payload


def mobility(src, dst, good=True):
    # Binding Refresh Request: next 59, length 0 (8 bytes), type 0, reserved, checksum, 2 reserved bytes.
    mh = struct.pack("!BBBBHH", 59, 0, 0, 0, 0, 0)
    pseudo = demo.ip6(src) + demo.ip6(dst) + struct.pack("!IxxxB", len(mh), 135)
    c = demo.csum(pseudo + mh)
    if not good:
        c ^= 0x1111
    return mh[:4] + struct.pack("!H", c) + mh[6:]


def build():
    tr = demo.Trace()
    c2s = demo.Endpoints(A, B)
    s2c = c2s.reverse()
    frames = []
    syn = demo.tcp(c2s, 40000, 80, 1000, 0, demo.TCP_SYN)
    # hop-by-hop: next 60, len 0, PadN(4); dest opts: next 6, len 0, Pad1, PadN(3)
    hbh = struct.pack("!BB", 60, 0) + bytes([1, 4, 0, 0, 0, 0])
    dst = struct.pack("!BB", 6, 0) + bytes([0, 1, 3, 0, 0, 0])
    frames.append((0.0, True, ip6(A, B, 0, hbh + dst + syn, flow=0x12345)))
    synack = demo.tcp(s2c, 80, 40000, 5000, 1001, demo.TCP_SYN | demo.TCP_ACK)
    frames.append((0.01, False, ip6(B, A, 6, synack)))
    ack = demo.tcp(c2s, 40000, 80, 1001, 5001, demo.TCP_ACK)
    frames.append((0.02, True, ip6(A, B, 6, ack, flow=0x54321)))
    esp = struct.pack("!II", 0x1001, 7) + bytes(24)
    frames.append((0.03, True, ip6(A, C, 50, esp)))
    frames.append((0.04, True, ip6(A, C, 135, mobility(A, C))))
    frames.append((0.05, True, ip6(A, C, 135, mobility(A, C, good=False))))
    for t, from_client, pkt in frames:
        src, dstm = (demo.MAC_CLIENT, demo.MAC_ROUTER) if from_client else (demo.MAC_ROUTER, demo.MAC_CLIENT)
        tr.packets.append((round(t * 1e6), len(tr.packets), demo.ether(src, dstm, demo.ETH_IPV6, pkt)))
    return tr


if __name__ == "__main__":
    demo.write_main(build, "ipv6.pcap")
