"""The demo server's side of a request: read the head, or say in one line what is wrong.

Every bad request gets a status and a reason a learner can act on (the response is part
of the lesson), never a silent close. `Range` values are read here too.
"""

from __future__ import annotations

import socket
import time
from dataclasses import dataclass

import h11

from sockview.core.text import visible

MAX_HEAD = 16 * 1024
"""The largest request head the demo reads (h11's default); more is a 431."""

REASONS = {
    200: "OK",
    206: "Partial Content",
    400: "Bad Request",
    404: "Not Found",
    405: "Method Not Allowed",
    408: "Request Timeout",
    416: "Range Not Satisfiable",
    431: "Request Header Fields Too Large",
    500: "Internal Server Error",
}


class BadRequest(Exception):
    """A request the demo refuses: the status to answer and a one-line reason."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


@dataclass(frozen=True)
class Request:
    """What the demo needs of a request head."""

    method: str
    target: str
    http_version: str
    headers: dict[str, str]
    """Lower-case names; the last value of a repeated field wins."""


def first_line(data: bytes) -> str:
    """The request line as safe, short text for the log."""
    line = data.split(b"\n", 1)[0].removesuffix(b"\r")
    text = visible(line[:200].decode("latin-1"))
    return text + ("..." if len(line) > 200 else "")


def _check_request_line(data: bytes) -> None:
    """Refuse what h11 would wait on or call only "illegal", with a reason that helps."""
    if data[:1] == b"\x16":
        raise BadRequest(
            400, "this is a TLS handshake: the demo speaks plain http://, not https://"
        )
    if b"\n" not in data:
        return
    line = data.split(b"\n", 1)[0].removesuffix(b"\r")
    parts = line.split(b" ")
    if b"\0" in line:
        raise BadRequest(400, "a NUL byte in the request line")
    if len(parts) == 2 and parts[0].isalpha():
        raise BadRequest(
            400, "HTTP/0.9 is not served: end the request line with HTTP/1.0 (GET /x HTTP/1.0)"
        )
    if len(parts) > 3 and parts[-1].startswith(b"HTTP/"):
        raise BadRequest(400, "a space in the request target: write it as %20")
    if len(parts) != 3 or not parts[2].startswith(b"HTTP/"):
        raise BadRequest(400, "not an HTTP request line: send METHOD /path HTTP/1.0")


def _protocol_error(exc: h11.RemoteProtocolError) -> BadRequest:
    message = str(exc)
    if exc.error_status_hint == 431:
        return BadRequest(431, f"the request head is longer than {MAX_HEAD} bytes")
    if message.startswith("Missing mandatory Host"):
        return BadRequest(400, "HTTP/1.1 needs a Host header (or send HTTP/1.0)")
    status = exc.error_status_hint if exc.error_status_hint in REASONS else 400
    return BadRequest(status, "malformed request: " + visible(message[:120]))


def read_request(sock: socket.socket, deadline: float, start: bytearray) -> Request | None:
    """Read one request head before `deadline` (monotonic); None if the client sent nothing.

    The first 4 KiB read are kept in `start` (for the log line, even when the request
    is refused). The deadline covers the whole head, so a client that sends a byte
    every few seconds is dropped with a 408.
    """
    conn = h11.Connection(h11.SERVER, max_incomplete_event_size=MAX_HEAD)
    while True:
        try:
            event = conn.next_event()
        except h11.RemoteProtocolError as exc:
            raise _protocol_error(exc) from None
        if isinstance(event, h11.Request):
            headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in event.headers}
            target = event.target.decode("latin-1")
            version = event.http_version.decode("ascii")
            return Request(event.method.decode("ascii"), target, version, headers)
        if event is not h11.NEED_DATA:
            raise BadRequest(400, "not an HTTP request")
        left = deadline - time.monotonic()
        if left <= 0:
            raise BadRequest(408, "the request head did not arrive in time")
        sock.settimeout(left)
        try:
            data = sock.recv(65536)
        except TimeoutError:
            raise BadRequest(408, "the request head did not arrive in time") from None
        if not data:
            if not start:
                return None
            # A client may shut down its side once it has sent the request: answer it.
            raise BadRequest(400, "the request ended before its blank line (\\r\\n\\r\\n)")
        if len(start) < 4096:
            start += data[: 4096 - len(start)]
            _check_request_line(bytes(start))
        conn.receive_data(data)


def byte_range(value: str | None, size: int) -> tuple[int, int] | None:
    """The first and last byte a single `Range: bytes=...` asks for, or None to send it all.

    Raises BadRequest(416) when the range cannot be met. Several ranges, or a value
    that does not parse, are ignored (RFC 9110 lets a server do that) and get the whole body.
    """
    if value is None:
        return None
    unit, _, spec = value.strip().partition("=")
    if unit.strip().lower() != "bytes" or "," in spec:
        return None
    first, dash, last = (part.strip() for part in spec.partition("-"))
    if not dash:
        return None
    if not first:
        suffix = count(last)
        if suffix is None:
            return None
        if suffix == 0 or size == 0:
            raise BadRequest(416, f"the range {visible(value[:60])} is outside 0-{size}")
        return max(0, size - suffix), size - 1
    start = count(first)
    end = count(last) if last else size - 1
    if start is None or end is None or (last and end < start):
        return None
    if start >= size:
        raise BadRequest(416, f"the range {visible(value[:60])} starts past the end ({size} bytes)")
    return start, min(end, size - 1)


def count(text: str | None) -> int | None:
    """A non-negative number from a path, query or header; None for anything else."""
    # str.isdigit() alone lets "²" through, which int() refuses; and int() refuses
    # strings of more than 4300 digits.
    if text and len(text) <= 20 and text.isascii() and text.isdigit():
        return int(text)
    return None
