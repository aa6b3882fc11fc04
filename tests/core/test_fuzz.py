"""Fuzzing: whatever bytes a server sends, however recv() cuts them, a fetch ends in Finished
or Failed, keeps every row, and never raises.

Most examples run the real recv loop over a socket pair that keeps message boundaries, so
the split is exactly the one drawn (and fast); a few go over loopback TCP.
The examples are the same on every run, so that CI is repeatable; SOCKVIEW_FUZZ=N runs N
times as many, drawn afresh each time, for a longer hunt.
"""

from __future__ import annotations

import os
import socket

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sockview.core.events import Failed, Finished
from tests.conftest import ScriptedServer
from tests.core.fetching import Running
from tests.core.hostile import assert_kept, fetch, fetch_pieces

# Pieces of HTTP, right and wrong, so that examples get past the status line often.
FRAGMENTS = [
    b"HTTP/1.1 200 OK\r\n",
    b"HTTP/1.0 404 Not Found\r\n",
    b"HTTP/1.1 100 Continue\r\n\r\n",
    b"HTTP/1.1 103 Early Hints\r\nLink: </x>\r\n\r\n",
    b"HTTP/1.1 101 Switching Protocols\r\n",
    b"HTTP/1.1 204 No Content\r\n",
    b"HTTP/1.1 304 Not Modified\r\n",
    b"HTTP/1.1 2000 OK\r\n",
    b"HTTP/",
    b"Content-Length: 5\r\n",
    b"Content-Length: 0\r\n",
    b"Content-Length: 5, 6\r\n",
    b"Content-Length: -1\r\n",
    b"Transfer-Encoding: chunked\r\n",
    b"Transfer-Encoding: gzip\r\n",
    b"Connection: close\r\n",
    b"X-Text: [bold]\x1b[2J\x85\xe9\r\n",
    b" folded\r\n",
    b"\r\n",
    b"\n",
    b"\r",
    b"5\r\nhello\r\n",
    b"5;x=y\r\nhello\r\n",
    b"0\r\n\r\n",
    b"0\r\nX-Trailer: t\r\n\r\n",
    b"ffffffffffffffffffff\r\n",
    b"hello",
    b"\x00",
    b"\x16\x03\x01\x00\x05",
]

SCALE = int(os.environ.get("SOCKVIEW_FUZZ", "1"))
FUZZ = settings(deadline=None, derandomize=SCALE == 1, suppress_health_check=[HealthCheck.too_slow])

http_like = st.lists(st.one_of(st.sampled_from(FRAGMENTS), st.binary(max_size=6)), max_size=14).map(
    b"".join
)
responses = st.one_of(st.binary(max_size=200), http_like)


def cut(data: bytes, sizes: list[int]) -> list[bytes]:
    """`data` in pieces of the given sizes (cycled), the way recv() might return it."""
    pieces, at = [], 0
    while at < len(data):
        size = sizes[len(pieces) % len(sizes)] if sizes else len(data)
        pieces.append(data[at : at + size])
        at += size
    return pieces


recv_sizes = st.lists(st.integers(1, 40), max_size=6)


def outcome(running: Running) -> tuple[type, bytes | None]:
    """What must not depend on the split: success or failure, and a successful body."""
    result = assert_kept(running)
    assert isinstance(result, Finished | Failed)
    assert not getattr(result, "cancelled", False)
    if isinstance(result, Finished):
        return Finished, running.fetch.body.read_all()  # type: ignore[attr-defined]
    return Failed, None


@settings(FUZZ, max_examples=250 * SCALE)
@given(data=responses, sizes=recv_sizes)
def test_any_bytes_any_split_end_cleanly(data: bytes, sizes: list[int]) -> None:
    whole = fetch_pieces([data])
    split = fetch_pieces(cut(data, sizes))
    assert outcome(split) == outcome(whole)
    # What was recorded is what was sent, up to where the fetch stopped reading.
    for running in (whole, split):
        assert running.fetch.log.total <= len(data)


@settings(FUZZ, max_examples=60 * SCALE)
@given(data=st.binary(min_size=1, max_size=3000) | http_like, sizes=recv_sizes)
def test_a_small_head_cap_ends_cleanly_too(data: bytes, sizes: list[int]) -> None:
    """With the cap at 64 bytes, the cap path is taken often: still Finished or Failed."""
    running = fetch_pieces(cut(data, sizes), max_header=64)
    result = assert_kept(running)
    if isinstance(result, Failed) and "cap" in result.reason:
        assert running.fetch.log.total <= len(data)


@settings(FUZZ, max_examples=25 * SCALE)
@given(data=responses, sizes=recv_sizes)
def test_over_loopback_tcp(data: bytes, sizes: list[int]) -> None:
    """The same over a real TCP connection: the kernel may merge the sends, never change them."""
    pieces = cut(data, sizes)

    def script(conn: socket.socket) -> None:
        for piece in pieces:
            conn.sendall(piece)
        conn.shutdown(socket.SHUT_WR)
        conn.recv(1)  # until the client closes: closing first could reset its reads

    server = ScriptedServer(script)
    try:
        running = fetch(server.url("/"), read_timeout=30)
    finally:
        server.close()
    assert outcome(running) == outcome(fetch_pieces([data]))
