"""Port-scan detector (the same in every language of examples/scan/): counts the
distinct responder ports (TCP and UDP) each originator reached, over
connection_state_remove, and writes one scan.log line when an originator
reaches THRESHOLD ports."""

from wit_world import exports
from wit_world.imports import types
import weir

# Distinct responder ports at which an originator counts as a scanner.
THRESHOLD = 20

SCAN = weir.Stream("scan", [
    ("ts", "time"), ("uid", "string"), ("scanner", "addr"), ("ports", "count"),
    ("victim", "addr"), ("port", "port"), ("note", "enum"),
])

# Originator → distinct (port, transport) pairs seen.
seen = {}

COUNTED = (types.Transport.TCP, types.Transport.UDP)


class ConnectionStateRemove(exports.ConnectionStateRemove):
    def connection_state_remove(self, c):
        p = c.id.resp_p
        if p.proto not in COUNTED:
            return
        ports = seen.setdefault(weir.ip(c.id.orig_h), set())
        ports.add((p.number, p.proto))
        if len(ports) == THRESHOLD:
            SCAN.write([weir.network_time(), c.uid, c.id.orig_h, len(ports), c.id.resp_h, p, "Scan::Port_Scan"])
