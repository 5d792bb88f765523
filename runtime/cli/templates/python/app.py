"""{{name}}: a weir handler. Writes one line per connection to {{name}}.log.

Each event interface exported in world.wit is a class here, named after the
interface (connection-state-remove -> ConnectionStateRemove), with one method.
"""

from wit_world import exports
import weir

LOG = weir.Stream("{{name}}", [
    ("ts", "time"), ("uid", "string"), ("orig_h", "addr"), ("resp_p", "port"), ("history", "string"),
])


class ConnectionStateRemove(exports.ConnectionStateRemove):
    def connection_state_remove(self, c):
        LOG.write([c.start_time, c.uid, c.id.orig_h, c.id.resp_p, c.history])
