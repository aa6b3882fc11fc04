"""The events a fetch reports, in the order they happen.

A fetch calls its listener with these from the thread that runs the recv loop. They are
frozen, slotted dataclasses: plain values, safe to hand to another thread.

Per-recv records are not events of their own: one object per recv would cost more than
the recv itself on a fast link. `ChunksReceived` instead names a range of rows of the
fetch's `RecvLog`, which holds every record in compact arrays.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum


class Framing(Enum):
    """How the response body ends."""

    CONTENT_LENGTH = "content-length"
    CHUNKED = "chunked"
    UNTIL_CLOSE = "until close"
    NONE = "no body"


@dataclass(frozen=True, slots=True)
class Connected:
    """The TCP connection (and TLS handshake, if any) is up."""

    peer: str
    """The server's address as `host:port` (`[v6]:port` for IPv6)."""
    tls_version: str | None = None
    """The negotiated TLS version, or None for plain TCP."""


@dataclass(frozen=True, slots=True)
class RequestSent:
    """The request bytes have been sent, exactly as they went on the wire."""

    data: bytes


@dataclass(frozen=True, slots=True)
class ChunksReceived:
    """Records `start` to `stop - 1` have been added to the fetch's `RecvLog`."""

    start: int
    stop: int
    total: int
    """Raw bytes received so far, headers included."""
    body_bytes: int
    """Decoded body bytes received so far."""


@dataclass(frozen=True, slots=True)
class InterimResponse:
    """A 1xx response that came before the real one; shown, then skipped."""

    status: int
    status_line: str
    headers: tuple[tuple[str, str], ...]


@dataclass(frozen=True, slots=True)
class HeadersComplete:
    """The final response's status line and headers have arrived."""

    status: int
    reason: str
    http_version: str
    status_line: str
    """The first line as received, decoded as latin-1."""
    headers: tuple[tuple[str, str], ...]
    """Names and values as received (original case), decoded as latin-1."""
    head_text: str
    """The whole header block as received, up to the blank line, decoded as latin-1."""
    header_length: int
    """As in the book: the offset of the blank line that ends the header, counted from
    the first byte received (so interim 1xx responses are included)."""
    body_offset: int
    """Raw offset of the first body byte (just past the blank line)."""
    head_index: int
    """Index of the recv record in which the header ended."""
    framing: Framing
    content_length: int | None


@dataclass(frozen=True, slots=True)
class Finished:
    """The response is complete."""

    total: int
    recv_count: int
    body_bytes: int
    elapsed: float
    """Seconds from connect to the last byte."""


@dataclass(frozen=True, slots=True)
class Failed:
    """The fetch stopped before the response was complete.

    What was received so far stays in the fetch's log and body store.
    """

    reason: str
    """One line that says what went wrong and, where it helps, what to try."""
    total: int
    recv_count: int
    body_bytes: int
    elapsed: float
    cancelled: bool = False
    certificate: bool = False
    """The server's TLS certificate was refused: a fetch without verifying may work."""


Event = (
    Connected | RequestSent | ChunksReceived | InterimResponse | HeadersComplete | Finished | Failed
)
