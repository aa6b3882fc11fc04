"""The embedded demo server: its routes, its modes, and `python -m sockview.demo`."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator

import pytest

from sockview.core import demo as demo_module
from sockview.core.demo import FIXED_DATE, DemoServer, cover_head
from sockview.core.events import Failed, Finished, Framing
from sockview.core.fetch import DelaySwitch
from sockview.core.request import RequestStyle
from sockview.core.sample_image import sample_png
from tests.core.fetching import fetch_now, start, wait_for

PATTERN = bytes(range(256))


def raw_get(server: DemoServer, target: str, request: bytes | None = None) -> bytes:
    """Everything the server sends for one request, read until it closes."""
    with socket.create_connection((server.host, server.port), timeout=10) as sock:
        sock.sendall(request or f"GET {target} HTTP/1.0\r\n\r\n".encode())
        chunks = []
        while data := sock.recv(65536):
            chunks.append(data)
    return b"".join(chunks)


def pattern(size: int) -> bytes:
    return (PATTERN * (size // 256 + 1))[:size]


def test_sample_image_is_a_png_of_the_books_size() -> None:
    png = sample_png()
    assert len(png) == 70057
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    assert png.endswith(b"IEND\xaeB`\x82")


def test_cover_exact_bytes_in_deterministic_mode(demo_fixed: DemoServer) -> None:
    data = raw_get(demo_fixed, "/cover.png")
    head = cover_head(sample_png(), FIXED_DATE)
    assert data == head + sample_png()
    assert len(data) == 70303
    assert data.index(b"\r\n\r\n") == 242
    text = data[:242].decode("ascii")
    assert text.splitlines() == [
        "HTTP/1.1 200 OK",
        f"Date: {FIXED_DATE}",
        "Server: sockview-demo",
        "Last-Modified: Fri, 04 Dec 2015 19:05:04 GMT",
        text.splitlines()[4],
        "Accept-Ranges: bytes",
        "Content-Length: 70057",
        "Connection: close",
        "Content-Type: image/png",
    ]
    assert re.fullmatch(r'ETag: "[0-9a-f-]+"', text.splitlines()[4])


def test_deterministic_mode_answers_the_same_bytes_every_time(demo_fixed: DemoServer) -> None:
    for target in ("/cover.png", "/bytes/1000", "/chunked/3000", "/nope"):
        assert raw_get(demo_fixed, target) == raw_get(demo_fixed, target)
    assert f"Date: {FIXED_DATE}\r\n".encode() in raw_get(demo_fixed, "/bytes/1")


def test_paced_mode_has_a_real_date_and_the_same_header_length(demo: DemoServer) -> None:
    data = raw_get(demo, "/cover.png")
    assert FIXED_DATE.encode() not in data
    assert data.index(b"\r\n\r\n") == 242
    assert data[246:] == sample_png()


def test_cover_through_the_fetch(demo: DemoServer) -> None:
    running = fetch_now(demo.url("/cover.png"))
    fetch = running.fetch
    assert isinstance(fetch.result, Finished)
    assert fetch.head is not None and fetch.head.header_length == 242
    assert fetch.log.total == 70303
    assert fetch.body.read_all() == sample_png()  # type: ignore[attr-defined]


def test_books_exact_request_is_understood(demo: DemoServer) -> None:
    # The book's bytes: absolute URL, HTTP/1.0, no Host header.
    running = fetch_now(demo.url("/cover.png"), style=RequestStyle.BOOK)
    assert running.fetch.complete
    assert running.fetch.log.total == 70303


@pytest.mark.parametrize("size", [0, 1, 255, 65536, 65537, 1_000_000])
def test_bytes_n(demo: DemoServer, size: int) -> None:
    running = fetch_now(demo.url(f"/bytes/{size}"))
    fetch = running.fetch
    assert isinstance(fetch.result, Finished), fetch.result
    assert fetch.head is not None
    assert fetch.head.framing is Framing.CONTENT_LENGTH and fetch.head.content_length == size
    assert fetch.body.read_all() == pattern(size)  # type: ignore[attr-defined]


@pytest.mark.parametrize("size", [0, 1, 5000, 200_000])
def test_chunked_n(demo: DemoServer, size: int) -> None:
    # Chunked over HTTP/1.1 only: a 1.0 client gets the body framed by the close
    # (test_demo_class.py).
    request = f"GET /chunked/{size} HTTP/1.1\r\nHost: x\r\n\r\n".encode()
    data = raw_get(demo, "", request)
    assert b"\r\nTransfer-Encoding: chunked\r\n" in data
    assert data.endswith(b"0\r\n\r\n")
    running = fetch_now(demo.url(f"/chunked/{size}"), bufsize=4096, style=RequestStyle.HTTP11)
    fetch = running.fetch
    assert isinstance(fetch.result, Finished), fetch.result
    assert fetch.head is not None and fetch.head.framing is Framing.CHUNKED
    assert fetch.result.body_bytes == size
    assert fetch.body.read_all() == pattern(size)  # type: ignore[attr-defined]


def test_slow_n_trickles(demo: DemoServer) -> None:
    # At 100 kB/s the server sends 1448-byte pieces, one every 14.48 ms: many small recvs,
    # whatever the buffer, for a reader that keeps up. Whether this one keeps up is up to
    # the machine (a late recv finds two pieces waiting), so the test checks the server:
    # every recv ends on a piece's end, and no piece came before its time.
    piece, rate = 1448, 100_000
    running = fetch_now(demo.url(f"/slow/6000?rate={rate}&pace=0"), bufsize=65536)
    fetch = running.fetch
    assert isinstance(fetch.result, Finished)
    assert fetch.body.read_all() == pattern(6000)  # type: ignore[attr-defined]
    head = fetch.log.total - 6000  # the head's bytes, with the blank line that ends it
    interval_ns = piece * 1_000_000_000 // rate
    # The recv times count from before the request went, so before the server's first wait.
    for total, time_ns in zip(fetch.log.totals, fetch.log.times_ns, strict=True):
        body = max(0, total - head)  # a head in pieces is no concern here
        assert body % piece == 0 or body == 6000, f"a recv ended inside a piece: {body}"
        assert body <= piece * (time_ns // interval_ns), f"{body} bytes at {time_ns} ns"


def test_unknown_path_is_404_with_the_index(demo: DemoServer) -> None:
    running = fetch_now(demo.url("/no/such/thing"))
    fetch = running.fetch
    assert isinstance(fetch.result, Finished)
    assert fetch.head is not None and fetch.head.status == 404
    body = fetch.body.read_all()  # type: ignore[attr-defined]
    assert b"/no/such/thing" in body and b"/cover.png" in body


def test_index(demo: DemoServer) -> None:
    running = fetch_now(demo.url("/"))
    assert running.fetch.head is not None and running.fetch.head.status == 200
    assert b"/chunked/N" in running.fetch.body.read_all()  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    "path",
    [
        "/bytes/\u00b2",  # a superscript two: str.isdigit() says yes, int() says no
        "/bytes/\u0663",
        "/bytes/" + "9" * 5000,  # more digits than int() converts
        "/bytes/99999999999999999999999",
        "/bytes/-1",
        "/bytes/1/2",
        "/chunked/x",
        "/bytes/10?stall=\u00b2&rate=\u00b2",
        "/slow/10?rate=\u00b2",
        "/bytes/10?stall=" + "9" * 5000,
    ],
    ids=lambda path: ascii(path)[:30],
)
def test_odd_paths_get_an_answer(demo: DemoServer, path: str) -> None:
    from urllib.parse import quote

    data = raw_get(demo, quote(path, safe="/?=&"))
    assert data.startswith((b"HTTP/1.1 404 ", b"HTTP/1.1 200 ")), data[:80]


@pytest.mark.parametrize("route", ["bytes", "chunked"])
def test_stall_sends_n_body_bytes_then_holds(demo: DemoServer, route: str) -> None:
    style = RequestStyle.HTTP11 if route == "chunked" else RequestStyle.HTTP10
    running = start(demo.url(f"/{route}/100000?stall=3000"), read_timeout=30, style=style)
    wait_for(lambda: running.fetch.body.size == 3000)
    assert not running.done.is_set()
    running.fetch.cancel()
    result = running.join()
    assert isinstance(result, Failed) and result.cancelled
    assert running.fetch.body.read_all() == pattern(3000)  # type: ignore[attr-defined]


def test_stall_zero_sends_only_the_head(demo: DemoServer) -> None:
    running = start(demo.url("/bytes/10?stall=0"), read_timeout=30)
    wait_for(lambda: running.fetch.head is not None)
    running.fetch.cancel()
    result = running.join()
    assert isinstance(result, Failed) and result.body_bytes == 0


def test_ipv6_loopback() -> None:
    with DemoServer("::1", deterministic=True) as server:
        assert server.url("/x") == f"http://[::1]:{server.port}/x"
        running = fetch_now(server.url("/bytes/100"))
        assert running.fetch.complete


def test_a_reader_that_pauses_longer_than_the_request_timeout_still_gets_everything(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # A learner may pause the reader for a long time (a big --delay, or a paused app);
    # the demo must wait for the reader rather than drop it. The timeout for reading
    # the request is cut to 0.1 s here, and the reader then idles 0.5 s: on purpose,
    # that idle period is the stimulus, not a wait for something to happen.
    monkeypatch.setattr(demo_module, "REQUEST_TIMEOUT", 0.1)
    size = 20_000_000
    with (
        DemoServer(paced=False) as server,
        socket.create_connection((server.host, server.port), timeout=10) as sock,
    ):
        sock.sendall(f"GET /bytes/{size} HTTP/1.0\r\n\r\n".encode())
        first = sock.recv(1024)
        threading.Event().wait(0.5)
        total = len(first)
        while data := sock.recv(1 << 20):
            total += len(data)
    assert total == first.index(b"\r\n\r\n") + 4 + size


def test_stop_ends_a_held_connection_promptly() -> None:
    server = DemoServer().start()
    running = start(server.url("/bytes/100?stall=10"), read_timeout=30)
    wait_for(lambda: running.fetch.body.size == 10)
    server.stop()
    # The server let go of the connection: the fetch sees the close, not its read timeout.
    result = running.join(5)
    assert isinstance(result, Failed) and not result.cancelled


# -- python -m sockview.demo -----------------------------------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def demo_process() -> Iterator[tuple[subprocess.Popen[str], int]]:
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "sockview.demo", "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        yield process, port
    finally:
        if process.poll() is None:
            process.kill()
        process.wait(10)
        assert process.stdout and process.stderr
        process.stdout.close()
        process.stderr.close()


def test_standalone_demo_server(demo_process: tuple[subprocess.Popen[str], int]) -> None:
    process, port = demo_process
    assert process.stdout is not None and process.stderr is not None
    first = process.stdout.readline()
    assert first == f"sockview demo server on http://127.0.0.1:{port}/ (Ctrl-C stops it)\n"
    running = fetch_now(f"http://127.0.0.1:{port}/cover.png")
    assert running.fetch.complete
    assert running.fetch.log.total == 70303
    assert running.fetch.body.read_all() == sample_png()  # type: ignore[attr-defined]
    # Ctrl-C stops it cleanly: status 0, no traceback.
    process.send_signal(signal.SIGINT)
    assert process.wait(10) == 0
    assert "Traceback" not in process.stderr.read()


def test_standalone_demo_reports_a_taken_port() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        result = subprocess.run(
            [sys.executable, "-m", "sockview.demo", "--port", str(port)],
            capture_output=True,
            text=True,
            timeout=30,
        )
    assert result.returncode == 2
    assert f"cannot listen on 127.0.0.1:{port}" in result.stderr
    assert "Traceback" not in result.stderr
    assert result.stderr.count("\n") == 1


# -- the sender's side ------------------------------------------------------------------


def test_the_sender_is_blocked_while_the_reader_pauses(demo: DemoServer) -> None:
    running = start(
        demo.url("/bytes/400000?sndbuf=8192"),
        delay=DelaySwitch(0.25, enabled=True),
        rcvbuf=4096,
    )
    run = running.fetch.run
    try:
        wait_for(lambda: run.local is not None and demo.sender_for(run.local) is not None)
        assert run.local is not None
        stats = demo.sender_for(run.local)
        assert stats is not None
        wait_for(lambda: stats.sent > 0, "the first send")
        assert stats.sndbuf is not None and stats.sndbuf >= 8192
        # More than one pause's worth: the sender waited for us, more than once.
        wait_for(lambda: stats.blocked_until(time.perf_counter_ns()) > 300_000_000, "a stall")
        assert 0 < stats.sent < 400_000
        assert len(stats.times_ns) == len(stats.sent_at) == len(stats.blocked_at) > 1
    finally:
        running.fetch.cancel()
        running.join()


def test_the_sender_is_not_blocked_by_a_reader_that_keeps_up(demo: DemoServer) -> None:
    running = fetch_now(demo.url("/bytes/300000"))
    assert isinstance(running.fetch.result, Finished)
    assert running.fetch.run.local is not None
    stats = demo.sender_for(running.fetch.run.local)
    assert stats is not None
    assert stats.sent == running.fetch.run.total
    assert stats.blocked_ns < 100_000_000  # about 0: nothing made it wait for long
    assert stats.sndbuf is None


def test_an_unknown_client_has_no_sender_figures(demo: DemoServer) -> None:
    assert demo.sender_for("127.0.0.1:1") is None
