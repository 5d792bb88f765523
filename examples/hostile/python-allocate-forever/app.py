"""Hostile handler: allocates without bound in new_connection (stopped by the memory cap)."""

from wit_world import exports

keep = []


class NewConnection(exports.NewConnection):
    def new_connection(self, c):
        while True:
            keep.append(bytearray(1 << 20))
