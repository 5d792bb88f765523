"""Helpers for weir handlers written in Python.

The bindings themselves (module ``wit_world``) are generated from weir's WIT by
componentize-py at every build; this module adds what makes them pleasant:

* ``Stream(name, columns)``: a log stream whose columns carry Zeek types
  (``"time"``, ``"count"``, ``"addr"``, ...); ``write`` takes plain Python
  values (``None`` = unset) and converts them.
* ``ip(a)`` / ``addr(a)``: an ``ip-address`` as an ``ipaddress`` object / as text.
* ``port_str(p)``: ``"80/tcp"``.
* ``network_time()``, ``info()``, ``warning()``, ``error()``.
"""

import ipaddress

from wit_world.imports import log, reporter, runtime, types
from componentize_py_types import Err

__all__ = ["Stream", "ip", "addr", "port_str", "network_time", "info", "warning", "error"]

info = reporter.info
warning = reporter.warning
error = reporter.error
network_time = runtime.network_time

# Zeek column type → (WIT log-type, constructor of the log-value case).
_TYPES = {
    "bool": (log.LogType.BOOL, log.LogValue_Bool),
    "count": (log.LogType.COUNT, log.LogValue_Count),
    "int": (log.LogType.INT, log.LogValue_Int),
    "double": (log.LogType.DOUBLE, log.LogValue_Double),
    "time": (log.LogType.TIME, log.LogValue_Time),
    "interval": (log.LogType.INTERVAL, log.LogValue_Interval),
    "string": (log.LogType.STRING, log.LogValue_String),
    "addr": (log.LogType.ADDR, log.LogValue_Addr),
    "port": (log.LogType.PORT, log.LogValue_Port),
    "enum": (log.LogType.ENUM, log.LogValue_Enum),
    "set[string]": (log.LogType.SET_OF_STRING, log.LogValue_SetOfString),
    "vector[string]": (log.LogType.VECTOR_OF_STRING, log.LogValue_VectorOfString),
}


def ip(a):
    """An ``ip-address`` (or its text) as an ``ipaddress.IPv4Address``/``IPv6Address``."""
    if isinstance(a, str):
        return ipaddress.ip_address(a)
    if isinstance(a, types.IpAddress_Ipv4):
        return ipaddress.IPv4Address(bytes(a.value))
    v = 0
    for group in a.value:
        v = (v << 16) | group
    return ipaddress.IPv6Address(v)


def addr(a):
    """An ``ip-address`` as text, as Zeek writes it (``10.0.0.1``, ``2001:db8::1``)."""
    return str(ip(a))


def port_str(p):
    """A ``port`` record as ``80/tcp``."""
    return "%d/%s" % (p.number, p.proto.name.lower())


def _to_wit_addr(a):
    if isinstance(a, (types.IpAddress_Ipv4, types.IpAddress_Ipv6)):
        return a
    a = ip(a)
    if a.version == 4:
        return types.IpAddress_Ipv4(tuple(a.packed))
    p = a.packed
    return types.IpAddress_Ipv6(tuple((p[i] << 8) | p[i + 1] for i in range(0, 16, 2)))


class Stream:
    """A log stream (file ``<name>.log``) with typed columns, created on first write
    (so it survives the handler being restarted after a trap)."""

    def __init__(self, name, columns):
        """``columns``: ``[(name, type), ...]`` with types from ``"bool"``, ``"count"``,
        ``"int"``, ``"double"``, ``"time"``, ``"interval"``, ``"string"``, ``"addr"``,
        ``"port"``, ``"enum"``, ``"set[string]"``, ``"vector[string]"``."""
        for col, t in columns:
            if t not in _TYPES:
                raise ValueError("column %s: unknown type %r" % (col, t))
        self.name = name
        self.columns = list(columns)
        self._makers = [_TYPES[t][1] for _, t in columns]
        self._addr = [t == "addr" for _, t in columns]
        self._id = None
        self._failed = False

    def write(self, values):
        """Writes one record: one value per column, in order; ``None`` is unset."""
        if self._id is None:
            if self._failed:
                return
            cols = [log.Column(name=n, type=_TYPES[t][0]) for n, t in self.columns]
            try:
                self._id = log.create_stream(self.name, cols)
            except Err as e:
                self._failed = True
                reporter.error("cannot create log %s: %s" % (self.name, e.value))
                return
        if len(values) != len(self.columns):
            raise ValueError("%s: %d values for %d columns" % (self.name, len(values), len(self.columns)))
        out = []
        for make, is_addr, v in zip(self._makers, self._addr, values):
            if v is None:
                out.append(log.LogValue_Unset())
            else:
                out.append(make(_to_wit_addr(v) if is_addr else v))
        log.write(self._id, out)
