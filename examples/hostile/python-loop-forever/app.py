"""Hostile handler: spins forever in new_connection (stopped by fuel)."""

from wit_world import exports


class NewConnection(exports.NewConnection):
    def new_connection(self, c):
        x = c.id.orig_p.number
        while True:
            x = (x * 6364136223846793005 + 1) & 0xFFFFFFFFFFFFFFFF
