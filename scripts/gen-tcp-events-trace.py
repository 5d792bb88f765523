#!/usr/bin/env python3
"""Writes tests/traces/tcp-events.pcap: TCP stream events on two connections.

Deterministic; reuses the builders of gen-demo-trace.py.
  A. 10.2.0.1:42000 -> 10.2.0.2:80: handshake; the client sends "hello " and
     "world" (6 + 5 bytes); before any ack it sends the second segment again
     with other bytes ("WORLD"): one rexmit_inconsistency (t1 "world",
     t2 "WORLD", flags "AP"); then it sends the first segment again unchanged
     (no event); the server acks everything and both close.
  B. 10.2.0.1:42001 -> 10.2.0.2:80: handshake; the server's first 1000 bytes
     are never captured, its next 500 are; the client acks all 1500: one
     content_gap (is_orig F, seq 1, length 1000).
"""

import importlib.util
import os

HERE = os.path.dirname(os.path.abspath(__file__))
_spec = importlib.util.spec_from_file_location("gen_demo", os.path.join(HERE, "gen-demo-trace.py"))
demo = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(demo)

SYN, ACK, FIN, PSH = demo.TCP_SYN, demo.TCP_ACK, demo.TCP_FIN, demo.TCP_PSH


def build():
    tr = demo.Trace()
    a = demo.TcpFlow(tr, "10.2.0.1", "10.2.0.2", 42000, 80, 1000, 9000)
    a.client(0.00, SYN)
    a.server(0.01, SYN | ACK)
    a.client(0.02, ACK)
    a.client(0.03, ACK | PSH, b"hello ")
    a.client(0.04, ACK | PSH, b"world")
    a.cseq -= 5
    a.client(0.05, ACK | PSH, b"WORLD")
    a.cseq -= 11
    a.client(0.06, ACK | PSH, b"hello ", advance=False)
    a.cseq += 11
    a.server(0.07, ACK)
    a.client(0.08, FIN | ACK)
    a.server(0.09, FIN | ACK)
    a.client(0.10, ACK)

    b = demo.TcpFlow(tr, "10.2.0.1", "10.2.0.2", 42001, 80, 2000, 7000)
    b.client(1.00, SYN)
    b.server(1.01, SYN | ACK)
    b.client(1.02, ACK)
    b.sseq += 1000  # 1000 bytes the capture missed
    b.server(1.03, ACK | PSH, demo.body(500, 3))
    b.client(1.04, ACK)
    b.client(1.05, FIN | ACK)
    b.server(1.06, FIN | ACK)
    b.client(1.07, ACK)
    return tr


if __name__ == "__main__":
    demo.write_main(build, "tcp-events.pcap")
