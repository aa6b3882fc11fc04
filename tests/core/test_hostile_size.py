"""Hostile sizes: huge heads hit the documented cap, endless bodies stay bounded in memory."""

from __future__ import annotations

import errno
import os
import signal
import socket
import subprocess
import sys
import tempfile
import tracemalloc
from array import array

import pytest

from sockview.cli import main
from sockview.core.body import SPOOL_LIMIT, SpooledBody
from sockview.core.events import ChunksReceived
from sockview.core.fetch import RING, DelaySwitch
from sockview.core.parse import MAX_HEADER
from sockview.core.records import RecvLog
from tests.conftest import send_parts
from tests.core.fetching import start, wait_for
from tests.core.hostile import (
    PROMPT,
    failed,
    fetch,
    fetch_pieces,
    finished,
    pour,
    unanswered_port,
)

MiB = 1024 * 1024
CAP_MESSAGE = "the response header is larger than the 64 KiB cap (--max-header raises it)"


def many_lines(size: int) -> bytes:
    """A head of about `size` bytes made of many short header lines, never ended."""
    line = b"X-Filler: 0123456789abcdef0123456789abcdef\r\n"
    return b"HTTP/1.1 200 OK\r\n" + line * (size // len(line))


def one_line(size: int) -> bytes:
    """A head whose single header line is `size` bytes long, never ended."""
    return b"HTTP/1.1 200 OK\r\nX-Long: " + b"a" * size


@pytest.mark.parametrize(
    "head", [many_lines(MiB), one_line(200 * 1024)], ids=["1MiB-of-lines", "one-200KiB-line"]
)
def test_huge_head_hits_the_cap_and_stops_reading(serve, head: bytes) -> None:
    server = serve(send_parts(head, b"\r\n\r\n"))
    running = fetch(server.url("/"))
    result = failed(running)
    assert result.reason == CAP_MESSAGE
    # Reading stopped at the cap: memory is bounded by the cap plus one recv, not by the head.
    assert MAX_HEADER < result.total <= MAX_HEADER + running.fetch.options.bufsize
    assert running.head is None


def test_cap_is_settable(serve) -> None:
    head = many_lines(MiB) + b"\r\n"
    server = serve(send_parts(head, b"hello"))
    result = finished(fetch(server.url("/"), max_header=2 * MiB))
    assert result.body_bytes == 5


def test_a_head_just_under_the_cap_is_fine() -> None:
    head = one_line(MAX_HEADER - 100) + b"\r\nContent-Length: 2\r\n\r\nok"
    result = finished(fetch_pieces([head[i : i + 5120] for i in range(0, len(head), 5120)]))
    assert result.body_bytes == 2


def test_cap_in_plain_mode(serve, capsys) -> None:
    server = serve(send_parts(one_line(4000)))
    status = main([server.url("/"), "--plain", "--max-header", "2048"])
    err = capsys.readouterr().err
    assert status == 1
    assert err == (
        "sockview: the response header is larger than the 2 KiB cap (--max-header raises it)\n"
    )


def test_endless_interim_responses_hit_the_cap(serve) -> None:
    """1xx after 1xx: each is small, but together they count against the head cap."""

    def script(conn: socket.socket) -> None:
        pour(conn, b"HTTP/1.1 100 Continue\r\n\r\n" * 100, server.stopping)

    server = serve(script)
    running = fetch(server.url("/"))
    result = failed(running)
    assert result.reason == (
        "the server sent more than 64 KiB of interim 1xx responses (--max-header raises the cap)"
    )
    assert result.total <= MAX_HEADER + running.fetch.options.bufsize


def test_endless_chunk_size_line_hits_the_cap(serve) -> None:
    def script(conn: socket.socket) -> None:
        conn.sendall(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n")
        pour(conn, b"0" * 65536, server.stopping)

    server = serve(script)
    running = fetch(server.url("/"))
    result = failed(running)
    assert result.reason == "invalid chunked body: a chunk header or trailer is longer than 64 KiB"


def serve_endless(serve, chunked: bool = False):  # type: ignore[no-untyped-def]
    """A server that sends a head, then body bytes until the test ends or the client leaves."""
    framing = b"Transfer-Encoding: chunked" if chunked else b"Content-Length: 999999999999"
    block = b"x" * 65536
    if chunked:
        block = b"10000\r\n" + block + b"\r\n"

    def script(conn: socket.socket) -> None:
        conn.sendall(b"HTTP/1.1 200 OK\r\n" + framing + b"\r\n\r\n")
        pour(conn, block, server.stopping)

    server = serve(script)
    return server


@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
def test_endless_body_memory_stays_bounded(serve, chunked: bool) -> None:
    """Tens of MiB of body: the body goes to disk, the log costs 20 bytes a recv."""
    server = serve_endless(serve, chunked)
    body = SpooledBody()
    target = 8 * SPOOL_LIMIT
    tracemalloc.start()
    try:
        running = start(server.url("/"), body=body, read_timeout=60, bufsize=16384)
        wait_for(lambda: body.size >= target, "the body to pass 32 MiB")
        running.fetch.cancel()
        result = failed(running)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert result.cancelled
    assert result.body_bytes >= target
    assert not body.in_memory, "a large body must spool to disk"
    # The spool keeps at most SPOOL_LIMIT in memory (twice, at the moment it rolls over to
    # disk), the parser batches at most 256 KiB; the compiled reader adds its ring, a fixed
    # size, and hands over a quarter of it at most: far below the body received.
    bound = 3 * SPOOL_LIMIT + RING + RING // 4
    assert peak < bound < target, f"peak {peak / MiB:.1f} MiB for {result.body_bytes / MiB:.0f}"
    body.close()


def test_recv_log_grows_by_three_array_items_a_recv() -> None:
    log = RecvLog()
    assert not hasattr(log, "__dict__")
    assert all(isinstance(column, array) for column in (log.times_ns, log.sizes, log.totals))
    assert log.times_ns.itemsize + log.sizes.itemsize + log.totals.itemsize <= 20
    # What the loop appends: nothing else grows per recv (the events name ranges of rows).
    running = fetch_pieces([b"HTTP/1.0 200 OK\r\n\r\n"] + [b"x"] * 2000)
    result = finished(running)
    chunks = running.of_type(ChunksReceived)
    assert result.recv_count == 2001
    assert len(chunks) < result.recv_count


@pytest.mark.parametrize("moment", ["streaming", "pausing", "waiting", "connecting"])
def test_an_endless_body_can_be_cancelled_at_any_time(serve, moment: str) -> None:
    """Mid-body, mid-pause, mid-wait for the next byte, mid-connect: a cancel ends it at once.

    Every limit of these fetches is a minute: only the cancel can end them in time.
    """
    slow = {"read_timeout": 60, "connect_timeout": 60}
    if moment == "connecting":
        with unanswered_port() as port:
            running = start(f"http://127.0.0.1:{port}/", **slow)
            wait_for(lambda: running.fetch.current_socket is not None, "the connect to begin")
            running.fetch.cancel()
            running.join(PROMPT)
    else:
        if moment == "waiting":
            head = b"HTTP/1.1 200 OK\r\nContent-Length: 999999999999\r\n\r\nsome"  # 53 bytes

            def script(conn: socket.socket) -> None:
                conn.sendall(head)
                server.stopping.wait()

            server = serve(script)
        else:
            server = serve_endless(serve)
        delay = DelaySwitch(60, enabled=moment == "pausing")
        running = start(server.url("/"), delay=delay, **slow)
        enough = {"streaming": MiB, "pausing": 1, "waiting": 53}[moment]
        wait_for(lambda: running.received() >= enough, f"{enough} bytes")
        running.fetch.cancel()
        running.join(PROMPT)
        assert running.head is not None
    result = failed(running)
    assert result.cancelled
    assert result.reason == "cancelled"
    assert result.total == running.received()
    if moment == "waiting":
        assert result.body_bytes == 4, "the body that came before the cancel is kept"


class FullDisk:
    """A body store whose disk fills up after `room` bytes."""

    def __init__(self, room: int) -> None:
        self.room = room
        self.size = 0
        self.where = f"the temporary folder ({tempfile.gettempdir()})"

    def write(self, data: bytes | bytearray | memoryview) -> None:
        if self.size + len(data) > self.room:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        self.size += len(data)

    def close(self) -> None:
        pass


def test_a_full_temporary_folder_mid_body() -> None:
    """The spool file cannot grow: a clear failure, not an error blamed on the network."""
    pieces = [b"HTTP/1.0 200 OK\r\n\r\n" + b"z" * 50] + [b"z" * 1000] * 100
    running = fetch_pieces(pieces, body=FullDisk(room=100))
    result = failed(running)
    kept = running.fetch.body.size
    assert 50 <= kept <= 100
    assert result.reason == (
        f"cannot keep the body after {kept} bytes:"
        f" no space left in the temporary folder ({tempfile.gettempdir()})"
    )


def test_ctrl_c_stops_plain_mode_on_an_endless_body(serve) -> None:
    """The rows printed so far stay; one line says it was interrupted; no traceback."""
    server = serve_endless(serve)
    process = subprocess.Popen(
        [sys.executable, "-m", "sockview", server.url("/"), "--plain"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        assert process.stdout is not None
        first = process.stdout.readline()  # blocks until the first rows are out
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=PROMPT)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert process.returncode == 130
    assert err == b"sockview: interrupted\n"
    # The interrupt may cut the last line short; every whole line is a right SIZE TOTAL row.
    rows = (first + out).split(b"\n")[:-1]
    running = 0
    for row in rows:
        size, total = map(int, row.split())
        running += size
        assert total == running
    assert running > 0
