#!/usr/bin/env python3
"""Writes tests/traces/states.pcap: one TCP flow for every conn_state value.

Deterministic; reuses the packet builders of gen-demo-trace.py. What each
flow must show in conn.log is listed in STATES below (and asserted by
tests/conn_states.rs), derived from Zeek's conn_state rules (its
conn/main.zeek).
"""

import importlib.util
import os

HERE = os.path.dirname(os.path.abspath(__file__))
_spec = importlib.util.spec_from_file_location("gen_demo", os.path.join(HERE, "gen-demo-trace.py"))
demo = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(demo)

SYN, ACK, FIN, RST = demo.TCP_SYN, demo.TCP_ACK, demo.TCP_FIN, demo.TCP_RST
CLIENT, SERVER = "10.1.0.1", "10.1.0.2"

# conn_state, client port, server port, packets: (from_client, flags).
# A flow that starts with the server's SYN-ACK uses port 80 so that the
# connection is flipped (80/tcp is a likely server port).
STATES = [
    ("S0", 41000, 9000, [(True, SYN)]),
    ("S1", 41001, 9001, [(True, SYN), (False, SYN | ACK), (True, ACK)]),
    ("SF", 41002, 9002, [(True, SYN), (False, SYN | ACK), (True, ACK), (True, FIN | ACK), (False, FIN | ACK), (True, ACK)]),
    ("REJ", 41003, 9003, [(True, SYN), (False, RST | ACK)]),
    ("S2", 41004, 9004, [(True, SYN), (False, SYN | ACK), (True, ACK), (True, FIN | ACK)]),
    ("S3", 41005, 9005, [(True, SYN), (False, SYN | ACK), (True, ACK), (False, FIN | ACK)]),
    ("RSTO", 41006, 9006, [(True, SYN), (False, SYN | ACK), (True, ACK), (True, RST)]),
    ("RSTR", 41007, 9007, [(True, SYN), (False, SYN | ACK), (True, ACK), (False, RST)]),
    ("RSTOS0", 41008, 9008, [(True, SYN), (True, RST)]),
    ("RSTRH", 41009, 80, [(False, SYN | ACK), (False, RST)]),
    ("SH", 41010, 9010, [(True, SYN), (True, FIN)]),
    ("SHR", 41011, 80, [(False, SYN | ACK), (False, FIN | ACK)]),
    ("OTH", 41012, 9012, [(True, ACK)]),
]


def build():
    tr = demo.Trace()
    for i, (_, cport, sport, packets) in enumerate(STATES):
        flow = demo.TcpFlow(tr, CLIENT, SERVER, cport, sport, 1000 * (i + 1), 500000 * (i + 1))
        for j, (from_client, flags) in enumerate(packets):
            t = 0.1 * i + 0.01 * j
            (flow.client if from_client else flow.server)(t, flags)
    return tr


if __name__ == "__main__":
    demo.write_main(build, "states.pcap")
