"""The kernel's side of a recv: bytes queued (FIONREAD) and the receive window (TCP_INFO).

`TCP_INFO` is `struct tcp_info` from linux/tcp.h. Each kernel returns as much of it as
it knows, and newer kernels know more fields, so the struct is decoded by the documented
offsets and a field that ends beyond the length returned is absent (None), never 0.
`tcpi_rcv_wnd` came last (Linux 6.2): older kernels return no window.

Cost (measured on loopback): one TCP_INFO call about 2 us, one FIONREAD about 1.6 us,
as much as a recv itself, so the recv loop samples once per report slice, or before
every recv only when the delay is on (see `Fetch._receive`).
"""

from __future__ import annotations

import bisect
import socket
import struct
import sys
from array import array
from dataclasses import dataclass

try:  # not on Windows
    import fcntl
    import termios

    FIONREAD: int | None = termios.FIONREAD
except ImportError:  # pragma: no cover - Linux and macOS have both
    FIONREAD = None

TCP_INFO: int | None = getattr(socket, "TCP_INFO", None)
AVAILABLE = sys.platform.startswith("linux") and TCP_INFO is not None and FIONREAD is not None
"""True where the kernel view can be read: Linux only (other kernels' TCP_INFO differ)."""
UNAVAILABLE_NOTE = "the kernel view (FIONREAD, TCP_INFO) is not available on this system"
TCP_INFO_SIZE = 256
"""Bytes asked for: more than any kernel returns today, so the length tells the version."""

# (offset, struct format) of each field we read, from struct tcp_info in linux/tcp.h.
FIELDS: dict[str, tuple[int, str]] = {
    "state": (0, "B"),
    "rcv_mss": (20, "I"),
    "rtt_us": (68, "I"),
    "rcv_space": (96, "I"),
    "bytes_received": (128, "Q"),
    "snd_wnd": (228, "I"),
    "rcv_wnd": (232, "I"),
}


@dataclass(frozen=True, slots=True)
class TcpInfo:
    """The fields of `TCP_INFO` that sockview shows; None where the kernel returned none."""

    length: int
    """Bytes the kernel returned."""
    state: int | None = None
    rcv_mss: int | None = None
    rtt_us: int | None = None
    """Smoothed round-trip time, microseconds."""
    rcv_space: int | None = None
    """The kernel's estimate of what the receiver reads per round trip (autotuning)."""
    bytes_received: int | None = None
    snd_wnd: int | None = None
    rcv_wnd: int | None = None
    """The receive window we advertise now: 0 means the sender must wait for us."""


def decode_tcp_info(data: bytes) -> TcpInfo:
    """Decode a `TCP_INFO` answer by offsets; fields that end beyond it are None."""
    values: dict[str, int | None] = {}
    for name, (offset, fmt) in FIELDS.items():
        end = offset + struct.calcsize("=" + fmt)
        values[name] = struct.unpack_from("=" + fmt, data, offset)[0] if end <= len(data) else None
    return TcpInfo(len(data), **values)


def queued_bytes(sock: socket.socket) -> int | None:
    """Bytes the kernel holds for this socket that no recv has read yet (FIONREAD).

    For TLS these are encrypted bytes, records included, not the plaintext to come.
    """
    if FIONREAD is None:
        return None
    try:
        answer = fcntl.ioctl(sock.fileno(), FIONREAD, b"\0\0\0\0")
    except (OSError, ValueError):
        return None
    return int(struct.unpack("=i", answer)[0])


def tcp_info(sock: socket.socket) -> TcpInfo | None:
    """The socket's `TCP_INFO`, or None where there is none (not TCP, not Linux)."""
    if not AVAILABLE or TCP_INFO is None:
        return None
    try:
        return decode_tcp_info(sock.getsockopt(socket.IPPROTO_TCP, TCP_INFO, TCP_INFO_SIZE))
    except (OSError, ValueError):
        return None


ABSENT = -1
"""How `KernelLog`'s arrays store a field that was not read: no field is ever negative."""


class KernelLog:
    """Every kernel sample of a fetch, in parallel arrays (`ABSENT` where not read).

    `index[i]` is the recv before which sample `i` was taken: `queued[i]` bytes were
    waiting then. Samples are sparse (one per report slice on a fast link), so a recv
    has at most one; `at(index)` finds it. Readers on other threads may read any sample
    below `len(index)`: the loop appends `index` last.
    """

    __slots__ = (
        "bytes_received",
        "index",
        "queued",
        "rcv_mss",
        "rcv_space",
        "rcv_wnd",
        "rtt_us",
    )

    def __init__(self) -> None:
        self.queued = array("q")
        self.rcv_wnd = array("q")
        self.rcv_space = array("q")
        self.rtt_us = array("q")
        self.rcv_mss = array("q")
        self.bytes_received = array("q")
        self.index = array("q")

    def __len__(self) -> int:
        return len(self.index)

    def append(self, index: int, queued: int | None, info: TcpInfo | None) -> None:
        def value(field: int | None) -> int:
            return ABSENT if field is None else field

        self.queued.append(value(queued))
        self.rcv_wnd.append(value(info.rcv_wnd if info else None))
        self.rcv_space.append(value(info.rcv_space if info else None))
        self.rtt_us.append(value(info.rtt_us if info else None))
        self.rcv_mss.append(value(info.rcv_mss if info else None))
        self.bytes_received.append(value(info.bytes_received if info else None))
        self.index.append(index)

    def at(self, recv: int) -> int | None:
        """The sample taken just before recv `recv`, or None."""
        stop = len(self.index)
        position = bisect.bisect_left(self.index, recv, 0, stop)
        return position if position < stop and self.index[position] == recv else None

    @staticmethod
    def shown(value: int) -> int | None:
        """A stored value as a figure: None where it was absent."""
        return None if value == ABSENT else value


class KernelProbe:
    """Reads one socket's kernel view into a `KernelLog`; `sample` is the loop's call."""

    __slots__ = ("_info", "_log", "_queued", "_sock")

    def __init__(self, sock: socket.socket, log: KernelLog) -> None:
        self._sock = sock
        self._log = log
        self._queued = AVAILABLE
        # Asked once per fetch: a socket without TCP_INFO (the tests' Unix socket pairs)
        # is not asked again at every sample.
        self._info = tcp_info(sock) is not None

    @property
    def active(self) -> bool:
        """False where the kernel view cannot be read at all."""
        return self._queued

    def sample(self, index: int) -> None:
        """Record the kernel view before recv `index`."""
        sock = self._sock
        self._log.append(
            index,
            queued_bytes(sock) if self._queued else None,
            tcp_info(sock) if self._info else None,
        )
