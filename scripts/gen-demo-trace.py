#!/usr/bin/env python3
"""Writes tests/traces/demo.pcap: a small, deterministic Ethernet trace.

Python 3 standard library only. Every flow is described in
tests/traces/README.md together with the conn.log row Zeek writes for it.
Run from anywhere: `python3 scripts/gen-demo-trace.py [OUTPUT]`.

`python3 scripts/gen-demo-trace.py --scan [OUTPUT]` writes
tests/traces/scan.pcap instead: port scans (TCP and UDP, IPv4 and IPv6) among
ordinary traffic, for the port-scan example handlers (see the README there).
"""

import os
import struct
import sys

# All packets are stamped relative to this epoch second (2023-11-14 22:13:20 UTC).
EPOCH = 1700000000

MAC_CLIENT = bytes.fromhex("020000000002")
MAC_ROUTER = bytes.fromhex("020000000001")

ETH_IPV4 = 0x0800
ETH_IPV6 = 0x86DD
ETH_VLAN = 0x8100

TCP_FIN, TCP_SYN, TCP_RST, TCP_PSH, TCP_ACK = 0x01, 0x02, 0x04, 0x08, 0x10


def csum(data):
    """The Internet checksum (RFC 1071) of `data`."""
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return (~s) & 0xFFFF


def ip4(a):
    return bytes(int(x) for x in a.split("."))


def ip6(a):
    head, _, tail = a.partition("::")
    h = [int(x, 16) for x in head.split(":") if x]
    t = [int(x, 16) for x in tail.split(":") if x]
    words = h + [0] * (8 - len(h) - len(t)) + t
    return struct.pack("!8H", *words)


class Endpoints:
    """Source and destination addresses of one direction of a flow."""

    def __init__(self, src, dst):
        self.v6 = ":" in src
        self.src = ip6(src) if self.v6 else ip4(src)
        self.dst = ip6(dst) if self.v6 else ip4(dst)

    def reverse(self):
        r = Endpoints.__new__(Endpoints)
        r.v6, r.src, r.dst = self.v6, self.dst, self.src
        return r

    def pseudo(self, proto, length):
        """The transport checksum pseudo-header."""
        if self.v6:
            return self.src + self.dst + struct.pack("!IxxxB", length, proto)
        return self.src + self.dst + struct.pack("!xBH", proto, length)

    def ip(self, proto, payload, ident):
        """An IP packet (no options) around `payload`."""
        if self.v6:
            return struct.pack("!IHBB", 0x60000000, len(payload), proto, 64) + self.src + self.dst + payload
        hdr = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(payload), ident, 0x4000, 64, proto, 0,
                          self.src, self.dst)
        hdr = hdr[:10] + struct.pack("!H", csum(hdr)) + hdr[12:]
        return hdr + payload


def tcp(ep, sport, dport, seq, ack, flags, payload=b"", mss=False, bad_checksum=False):
    opts = struct.pack("!BBH", 2, 4, 1460) if mss else b""
    off = (20 + len(opts)) // 4
    seg = struct.pack("!HHIIBBHHH", sport, dport, seq & 0xFFFFFFFF, ack & 0xFFFFFFFF, off << 4, flags,
                      64240, 0, 0) + opts + payload
    c = csum(ep.pseudo(6, len(seg)) + seg)
    if bad_checksum:
        c ^= 0x5A5A
    return seg[:16] + struct.pack("!H", c) + seg[18:]


def udp(ep, sport, dport, payload):
    dgram = struct.pack("!HHHH", sport, dport, 8 + len(payload), 0) + payload
    c = csum(ep.pseudo(17, len(dgram)) + dgram) or 0xFFFF
    return dgram[:6] + struct.pack("!H", c) + dgram[8:]


def icmp_echo(typ, ident, seq, data):
    msg = struct.pack("!BBHHH", typ, 0, 0, ident, seq) + data
    return msg[:2] + struct.pack("!H", csum(msg)) + msg[4:]


def ether(src_mac, dst_mac, ethertype, payload, vlan=None):
    if vlan is not None:
        return dst_mac + src_mac + struct.pack("!HHH", ETH_VLAN, vlan, ethertype) + payload
    return dst_mac + src_mac + struct.pack("!H", ethertype) + payload


class Trace:
    """Collects (timestamp, frame) pairs and writes them as a pcap file."""

    def __init__(self):
        self.packets = []
        self.ident = 0x1000

    def add(self, t, ep, proto, l4, from_client, vlan=None):
        self.ident += 1
        ip = ep.ip(proto, l4, self.ident)
        src, dst = (MAC_CLIENT, MAC_ROUTER) if from_client else (MAC_ROUTER, MAC_CLIENT)
        et = ETH_IPV6 if ep.v6 else ETH_IPV4
        self.packets.append((round(t * 1e6), len(self.packets), ether(src, dst, et, ip, vlan)))

    def write(self, path):
        self.packets.sort()
        with open(path, "wb") as f:
            f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
            for us, _, frame in self.packets:
                sec, usec = divmod(us, 1_000_000)
                f.write(struct.pack("<IIII", EPOCH + sec, usec, len(frame), len(frame)))
                f.write(frame)


class TcpFlow:
    """A TCP connection whose sequence numbers advance with the payload sent."""

    def __init__(self, trace, client, server, cport, sport, cisn, sisn, vlan=None):
        self.trace, self.vlan = trace, vlan
        self.c2s = Endpoints(client, server)
        self.s2c = self.c2s.reverse()
        self.cport, self.sport = cport, sport
        self.cseq, self.sseq = cisn, sisn  # next sequence number of each side

    def client(self, t, flags, payload=b"", **kw):
        self._send(t, True, flags, payload, **kw)

    def server(self, t, flags, payload=b"", **kw):
        self._send(t, False, flags, payload, **kw)

    def _send(self, t, from_client, flags, payload, mss=False, bad_checksum=False, advance=True):
        if from_client:
            ep, sp, dp, seq, ack = self.c2s, self.cport, self.sport, self.cseq, self.sseq
        else:
            ep, sp, dp, seq, ack = self.s2c, self.sport, self.cport, self.sseq, self.cseq
        if not flags & TCP_ACK:
            ack = 0
        seg = tcp(ep, sp, dp, seq, ack, flags, payload, mss=mss, bad_checksum=bad_checksum)
        self.trace.add(t, ep, 6, seg, from_client, self.vlan)
        if advance:
            used = len(payload) + (1 if flags & (TCP_SYN | TCP_FIN) else 0)
            if from_client:
                self.cseq += used
            else:
                self.sseq += used


def http_request(host, path, size):
    """An HTTP GET of exactly `size` bytes (padded with a User-Agent)."""
    head = "GET %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: " % (path, host)
    tail = "\r\nAccept: */*\r\n\r\n"
    pad = size - len(head) - len(tail)
    assert pad > 0
    out = (head + "demo-" + "x" * (pad - 5) + tail).encode()
    assert len(out) == size
    return out


def body(size, seed):
    """`size` deterministic payload bytes."""
    return bytes((seed + i * 7) & 0xFF for i in range(size))


def dns_query(txid, name):
    q = b"".join(bytes([len(p)]) + p.encode() for p in name.split(".")) + b"\0"
    return struct.pack("!HHHHHH", txid, 0x0100, 1, 0, 0, 0) + q + struct.pack("!HH", 1, 1)


def dns_answer(txid, name, addr):
    query = dns_query(txid, name)
    answer = struct.pack("!HHHIH", 0xC00C, 1, 1, 300, 4) + ip4(addr)
    return struct.pack("!HHHHHH", txid, 0x8180, 1, 1, 0, 0) + query[12:] + answer


def build():
    tr = Trace()

    # 1. IPv4 TCP, full handshake, request + 100 kB response, FIN close (SF).
    f = TcpFlow(tr, "10.0.0.2", "198.51.100.7", 49152, 80, 1_000_000, 3_000_000)
    t = 0.100000
    f.client(t, TCP_SYN, mss=True)
    f.server(t + 0.020000, TCP_SYN | TCP_ACK, mss=True)
    f.client(t + 0.040000, TCP_ACK)
    f.client(t + 0.041000, TCP_PSH | TCP_ACK, http_request("198.51.100.7", "/index.html", 120))
    f.server(t + 0.061000, TCP_ACK)
    t = 0.170000
    for i in range(100):
        t += 0.001000
        f.server(t, TCP_ACK | (TCP_PSH if i == 99 else 0), body(1000, i))
        if i % 2 == 1:
            f.client(t + 0.000500, TCP_ACK)
    f.server(0.300000, TCP_FIN | TCP_ACK)
    f.client(0.320000, TCP_FIN | TCP_ACK)
    f.server(0.340000, TCP_ACK)

    # 2. IPv4 TCP SYN answered by RST+ACK (REJ).
    f = TcpFlow(tr, "10.0.0.2", "198.51.100.7", 49153, 8080, 2_000_000, 0)
    f.client(0.400000, TCP_SYN, mss=True)
    f.server(0.400500, TCP_RST | TCP_ACK)

    # 3. IPv4 TCP SYN, never answered, retransmitted once with the same sequence number (S0).
    f = TcpFlow(tr, "10.0.0.2", "198.51.100.9", 49154, 443, 4_000_000, 0)
    f.client(1.000000, TCP_SYN, mss=True, advance=False)
    f.client(2.000000, TCP_SYN, mss=True)

    # 4. UDP DNS query and answer (SF).
    c2s = Endpoints("10.0.0.2", "198.51.100.53")
    tr.add(0.500000, c2s, 17, udp(c2s, 53001, 53, dns_query(0x1234, "example.com")), True)
    tr.add(0.512000, c2s.reverse(), 17,
           udp(c2s.reverse(), 53, 53001, dns_answer(0x1234, "example.com", "192.0.2.80")), False)

    # 5. One-way UDP: three syslog datagrams, no answer (S0).
    c2s = Endpoints("10.0.0.2", "198.51.100.20")
    for i, size in enumerate((60, 75, 90)):
        msg = ("<13>Nov 14 22:13:2%d demo: " % i).encode()
        msg += b"m" * (size - len(msg))
        tr.add(0.600000 + 0.100000 * i, c2s, 17, udp(c2s, 40000, 514, msg), True)

    # 6. ICMP echo request / reply, twice (OTH).
    c2s = Endpoints("10.0.0.2", "198.51.100.7")
    for seq in (1, 2):
        data = body(56, seq)
        t = 0.800000 + 1.000000 * (seq - 1)
        tr.add(t, c2s, 1, icmp_echo(8, 0x4242, seq, data), True)
        tr.add(t + 0.015000, c2s.reverse(), 1, icmp_echo(0, 0x4242, seq, data), False)

    # 7. IPv6 TCP: handshake, 200 bytes up, 1000 bytes down, client closes first (SF).
    f = TcpFlow(tr, "2001:db8::2", "2001:db8::7", 50000, 443, 5_000_000, 6_000_000)
    f.client(1.100000, TCP_SYN, mss=True)
    f.server(1.130000, TCP_SYN | TCP_ACK, mss=True)
    f.client(1.160000, TCP_ACK)
    f.client(1.161000, TCP_PSH | TCP_ACK, body(200, 7))
    f.server(1.191000, TCP_PSH | TCP_ACK, body(1000, 9))
    f.client(1.192000, TCP_ACK)
    f.client(1.300000, TCP_FIN | TCP_ACK)
    f.server(1.330000, TCP_FIN | TCP_ACK)
    f.client(1.331000, TCP_ACK)

    # 8. IPv4 TCP whose first data segment has a bad TCP checksum and is sent again intact (SF).
    f = TcpFlow(tr, "10.0.0.2", "198.51.100.7", 49155, 80, 7_000_000, 8_000_000)
    f.client(1.400000, TCP_SYN, mss=True)
    f.server(1.410000, TCP_SYN | TCP_ACK, mss=True)
    f.client(1.420000, TCP_ACK)
    req = http_request("198.51.100.7", "/a", 80)
    f.client(1.421000, TCP_PSH | TCP_ACK, req, bad_checksum=True, advance=False)
    f.client(1.621000, TCP_PSH | TCP_ACK, req)
    f.server(1.631000, TCP_ACK)
    f.server(1.632000, TCP_PSH | TCP_ACK, body(300, 3))
    f.client(1.633000, TCP_ACK)
    f.client(1.700000, TCP_FIN | TCP_ACK)
    f.server(1.710000, TCP_FIN | TCP_ACK)
    f.client(1.711000, TCP_ACK)

    # 9. UDP NTP request / response on 802.1Q VLAN 100 (SF).
    c2s = Endpoints("10.0.100.5", "10.0.100.1")
    ntp_req = bytes([0x23]) + bytes(47)
    ntp_resp = bytes([0x24, 2, 6, 0xE9]) + body(44, 1)
    tr.add(2.500000, c2s, 17, udp(c2s, 50123, 123, ntp_req), True, vlan=100)
    tr.add(2.503000, c2s.reverse(), 17, udp(c2s.reverse(), 123, 50123, ntp_resp), False, vlan=100)

    return tr


def build_scan():
    tr = Trace()

    # A. IPv4 TCP SYN scan of 30 ports: closed ports answer RST+ACK, every
    #    fifth port is open (SYN+ACK, then the scanner resets).
    for i in range(30):
        port = 20 + i * 7
        f = TcpFlow(tr, "203.0.113.66", "10.0.0.10", 40000 + i, port, 100_000 * (i + 1), 900_000 * (i + 1))
        t = 0.100000 + 0.010000 * i
        f.client(t, TCP_SYN, mss=True)
        if i % 5 == 0:
            f.server(t + 0.000400, TCP_SYN | TCP_ACK, mss=True)
            f.client(t + 0.000800, TCP_RST)
        else:
            f.server(t + 0.000400, TCP_RST | TCP_ACK)

    # B. IPv6 UDP probes of 25 ports, a few answered.
    c2s = Endpoints("2001:db8::66", "2001:db8::10")
    for i in range(25):
        t = 0.500000 + 0.008000 * i
        tr.add(t, c2s, 17, udp(c2s, 33000 + i, 1000 + i * 3, b"probe"), True)
        if i % 6 == 0:
            tr.add(t + 0.000300, c2s.reverse(), 17, udp(c2s.reverse(), 1000 + i * 3, 33000 + i, b"ok"), False)

    # C. A host that touches 19 distinct ports (one below the examples' threshold),
    #    some twice.
    for i in range(24):
        port = 8000 + (i % 19)
        f = TcpFlow(tr, "10.0.0.3", "198.51.100.7", 50000 + i, port, 3_000 * (i + 1), 0)
        f.client(0.800000 + 0.005000 * i, TCP_SYN, mss=True)
        f.server(0.800300 + 0.005000 * i, TCP_RST | TCP_ACK)

    # D. Ordinary traffic: DNS lookups from a client to two servers.
    for i in range(6):
        c2s = Endpoints("10.0.0.2", "198.51.100.%d" % (53 + i % 2))
        t = 1.000000 + 0.050000 * i
        tr.add(t, c2s, 17, udp(c2s, 53100 + i, 53, dns_query(0x2000 + i, "example.com")), True)
        tr.add(t + 0.010000, c2s.reverse(), 17,
               udp(c2s.reverse(), 53, 53100 + i, dns_answer(0x2000 + i, "example.com", "192.0.2.80")), False)

    # E. Half a minute later (after the earlier connections expired), a second IPv4
    #    scanner sweeping 22 TCP ports across two hosts.
    for i in range(22):
        dst = "10.0.0.%d" % (20 + i % 2)
        f = TcpFlow(tr, "198.51.100.99", dst, 41000 + i, 3000 + i, 50_000 * (i + 1), 0)
        f.client(30.000000 + 0.004000 * i, TCP_SYN, mss=True)

    return tr


def write_main(build_trace, name):
    """Writes `build_trace()` to argv[1], or to tests/traces/<name>."""
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(root, "tests", "traces", name)
    os.makedirs(os.path.dirname(os.path.abspath(out)), exist_ok=True)
    tr = build_trace()
    tr.write(out)
    print("wrote %s (%d packets)" % (out, len(tr.packets)))


if __name__ == "__main__":
    if sys.argv[1:2] == ["--scan"]:
        del sys.argv[1]
        write_main(build_scan, "scan.pcap")
    else:
        write_main(build, "demo.pcap")
