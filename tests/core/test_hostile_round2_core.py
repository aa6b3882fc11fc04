"""Hostile servers and bad input, round two (core): URL words, counts, framing and limits."""

from __future__ import annotations

import itertools
import os
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time
import tracemalloc
from pathlib import Path

import pytest
import trustme

from sockview.cli import main
from sockview.core.body import DiscardBody
from sockview.core.events import Failed
from sockview.core.records import ChunkRecord, RecvLog
from sockview.core.url import UrlError, parse_url
from tests.conftest import send_parts
from tests.core.fetching import start, wait_for
from tests.core.hostile import failed, fetch, fetch_pieces, finished, pour, splits, tls_script

# -- URLs that say what is wrong with them ------------------------------------------------


@pytest.mark.parametrize(
    ("url", "path"),
    [
        ("127.0.0.1:8000/a?next=http://x", "/a?next=http://x"),
        ("localhost:8000/x?u=https://y", "/x?u=https://y"),
        ("127.0.0.1:8000", "/"),
        ("//127.0.0.1:8000/x", "/x"),
    ],
)
def test_a_url_without_a_scheme_is_http_even_with_a_url_in_its_query(url: str, path: str) -> None:
    target = parse_url(url)
    assert (target.scheme, target.port, target.path) == ("http", 8000, path)


@pytest.mark.parametrize(
    ("url", "message"),
    [
        (
            "http:/127.0.0.1:8000/x",
            "http:/ needs two slashes: did you mean http://127.0.0.1:8000/x?",
        ),
        ("https:127.0.0.1/x", "https: needs two slashes: did you mean https://127.0.0.1/x?"),
        ("HTTP:/h", "http:/ needs two slashes: did you mean http://h?"),
        ("http:", "the URL has no host"),
        (
            "javascript:alert(1)",
            "unsupported scheme 'javascript': sockview fetches http:// and https:// URLs",
        ),
        ("mailto:a@b.c", "unsupported scheme 'mailto': sockview fetches http:// and https:// URLs"),
        (
            "data:text/plain,hi",
            "unsupported scheme 'data': sockview fetches http:// and https:// URLs",
        ),
    ],
)
def test_a_mistyped_url_says_what_is_wrong_with_it(url: str, message: str) -> None:
    with pytest.raises(UrlError) as error:
        parse_url(url)
    assert str(error.value) == message


def test_a_url_with_a_url_in_its_query_is_fetched(serve, capsys) -> None:  # type: ignore[no-untyped-def]
    server = serve(send_parts(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"))
    status = main([f"127.0.0.1:{server.port}/a?next=http://x", "--plain"])
    assert status == 0, capsys.readouterr().err
    assert server.requests[0].startswith(b"GET /a?next=http://x HTTP/1.0\r\n")


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("http:/127.0.0.1:9/x", "http:/ needs two slashes"),
        ("javascript:alert(1)", "unsupported scheme 'javascript'"),
        ("mailto:a@b.c", "unsupported scheme 'mailto'"),
    ],
)
def test_the_cli_says_what_is_wrong_with_a_url(url: str, message: str, capsys) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(SystemExit) as exit_:
        main([url, "--plain"])
    assert exit_.value.code == 2
    assert message in capsys.readouterr().err.splitlines()[-1]


# -- one recv, one byte, one record -------------------------------------------------------


def test_plain_mode_counts_one_in_the_singular(serve, capsys, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    response = b"HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nx"
    server = serve(send_parts(response))
    status = main(
        [server.url("/x.txt"), "--plain", "-o", str(tmp_path), "--log", str(tmp_path / "l.csv")]
    )
    assert status == 0
    err = capsys.readouterr().err
    assert f"sockview: {len(response)} bytes in 1 recv, " in err
    assert "; body 1 byte (" in err
    assert "saved the body (1 byte) to " in err
    assert "wrote 1 record to " in err
    assert "1 recvs" not in err and "1 bytes" not in err and "1 records" not in err


def test_help_shows_one_example_a_line() -> None:
    help_ = subprocess.run(
        [sys.executable, "-m", "sockview", "--help"],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "COLUMNS": "80"},
    )
    assert help_.returncode == 0
    lines = help_.stdout.splitlines()
    examples = lines[lines.index("examples:") + 1 :]
    assert [line.strip() for line in examples] == [
        "sockview --demo",
        "sockview --demo --plain --delay 0.25",
        "sockview http://127.0.0.1:8000/cover.png -o stuff.png",
    ]
    # The options' help is still wrapped to the terminal.
    assert max(map(len, lines)) <= 80


# -- the header cap is on the whole response head -----------------------------------------

KiB = 1024
CAP_MESSAGE = "the response header is larger than the 64 KiB cap (--max-header raises it)"


def head_of(size: int, status: bytes = b"200 OK", end: bytes = b"\r\n") -> bytes:
    """A complete response head of exactly `size` bytes, its blank line included."""
    start = b"HTTP/1.1 " + status + b"\r\nX-Fill: "
    return start + b"a" * (size - len(start) - 2 - len(end)) + b"\r\n" + end


def interims_of(size: int) -> bytes:
    """Interim 103 responses, about `size` bytes of them, each well under the cap."""
    one = head_of(1000, b"103 Early Hints")
    return one * (size // len(one))


@pytest.mark.parametrize("whole", [True, False], ids=["one-recv", "many-recvs"])
def test_interims_and_the_header_together_count_against_the_cap(whole: bool) -> None:
    response = interims_of(58 * KiB) + head_of(60 * KiB)[:-2] + b"Content-Length: 2\r\n\r\nok"
    pieces = (
        [response] if whole else [response[i : i + 1000] for i in range(0, len(response), 1000)]
    )
    running = fetch_pieces(pieces)
    result = failed(running)
    assert result.reason.startswith("the response header, with the 59 interim 1xx responses")
    assert result.reason.endswith("is larger than the 64 KiB cap (--max-header raises it)")
    assert running.head is None


def test_a_head_over_the_cap_in_one_recv_is_refused() -> None:
    running = fetch_pieces([head_of(100 * KiB)[:-2] + b"Content-Length: 2\r\n\r\nok"])
    assert len(running.fetch.log) == 1
    assert failed(running).reason == CAP_MESSAGE
    assert running.head is None


def test_a_head_at_the_cap_in_one_recv_is_fine() -> None:
    head = head_of(64 * KiB - 19)[:-2] + b"Content-Length: 2\r\n\r\n"
    assert len(head) == 64 * KiB
    assert finished(fetch_pieces([head + b"ok"])).body_bytes == 2
    assert failed(fetch_pieces([b"HTTP/1.1 200 OK\r\nX: y" + head[17:] + b"ok"])).reason == (
        CAP_MESSAGE
    )


def test_max_header_1024_refuses_a_1_7kb_head_in_one_recv(serve, capsys) -> None:  # type: ignore[no-untyped-def]
    response = head_of(1700)[:-2] + b"Content-Length: 2\r\n\r\nok"
    running = fetch_pieces([response], max_header=1024)
    assert len(running.fetch.log) == 1
    assert failed(running).reason == (
        "the response header is larger than the 1 KiB cap (--max-header raises it)"
    )
    server = serve(send_parts(response))
    assert main([server.url("/"), "--plain", "--max-header", "1024"]) == 1
    assert capsys.readouterr().err == (
        "sockview: the response header is larger than the 1 KiB cap (--max-header raises it)\n"
    )


# -- a bare-LF chunked body names its line ------------------------------------------------

CHUNKED = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
BARE_LF = "invalid chunked body: the chunk size line b'5\\n' ends in a bare LF, not CRLF"


@pytest.mark.parametrize("close", [True, False], ids=["then-close", "kept-open"])
def test_a_bare_lf_chunk_line_is_named(serve, close: bool) -> None:  # type: ignore[no-untyped-def]
    """With the close, or without it: a server that keeps the connection is not waited on."""

    def script(conn: socket.socket) -> None:
        conn.sendall(CHUNKED + b"5\nhello\n0\n\n")
        if close:
            conn.shutdown(socket.SHUT_WR)
        server.stopping.wait()

    server = serve(script)
    running = fetch(server.url("/"), read_timeout=60)
    assert failed(running).reason == BARE_LF
    assert running.fetch.body.size == 0


@pytest.mark.parametrize(("name", "pieces"), list(splits(CHUNKED + b"5\r\nhello\r\n0\n\n")))
def test_a_bare_lf_last_chunk_line_is_named_however_it_is_cut(
    name: str, pieces: list[bytes]
) -> None:
    result = failed(fetch_pieces(pieces))
    assert result.reason == (
        "invalid chunked body: the chunk size line b'0\\n' ends in a bare LF, not CRLF"
    )
    assert result.body_bytes == 5


def test_a_bare_lf_trailer_line_is_still_fine() -> None:
    response = CHUNKED + b"5\r\nhello\r\n0\r\nX-Trailer: 1\n\n"
    for _, pieces in splits(response):
        assert finished(fetch_pieces(pieces)).body_bytes == 5


def test_a_close_inside_a_chunk_line_says_the_body_is_incomplete() -> None:
    result = failed(fetch_pieces([CHUNKED + b"5\r\nhello\r\n1"]))
    assert result.reason == (
        "the connection closed in the middle of the chunked body after 5 body bytes:"
        " the body is incomplete"
    )


def test_a_bare_lf_chunked_body_in_plain_mode(serve, capsys) -> None:  # type: ignore[no-untyped-def]
    server = serve(send_parts(CHUNKED + b"5\nhello\n0\n\n"))
    assert main([server.url("/"), "--plain"]) == 1
    assert capsys.readouterr().err == f"sockview: {BARE_LF}\n"


# -- a TLS close without close_notify ------------------------------------------------------

UNTIL_CLOSE = b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nhello"
RAGGED = (
    "the connection closed without TLS close_notify after 5 body bytes: the body runs until"
    " the close, so it may have been cut short (kept as incomplete)"
)


@pytest.fixture(scope="module")
def tls_ca(tmp_path_factory: pytest.TempPathFactory) -> tuple[ssl.SSLContext, str]:
    """A server context for 127.0.0.1, and the CA file that trusts it."""
    ca = trustme.CA()
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1").configure_cert(context)
    path = tmp_path_factory.mktemp("ca") / "ca.pem"
    ca.cert_pem.write_to_path(str(path))
    return context, str(path)


def tls_server(serve, tls_ca, response: bytes, close_notify: bool) -> str:  # type: ignore[no-untyped-def]
    """An https URL whose server answers `response`, then closes with or without close_notify."""
    script = tls_script(tls_ca[0], response, close_notify=close_notify)
    return str(serve(script, read_request=False).url("/x.txt", scheme="https"))


def test_an_until_close_body_without_close_notify_is_incomplete(serve, tls_ca) -> None:  # type: ignore[no-untyped-def]
    running = fetch(tls_server(serve, tls_ca, UNTIL_CLOSE, close_notify=False), cafile=tls_ca[1])
    result = failed(running)
    assert result.reason == RAGGED
    assert not running.fetch.complete
    assert running.fetch.body.read_all() == b"hello"  # type: ignore[attr-defined]


def test_an_until_close_body_with_close_notify_is_whole(serve, tls_ca) -> None:  # type: ignore[no-untyped-def]
    running = fetch(tls_server(serve, tls_ca, UNTIL_CLOSE, close_notify=True), cafile=tls_ca[1])
    assert finished(running).body_bytes == 5


@pytest.mark.parametrize(
    "response",
    [
        b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello",
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
    ],
    ids=["content-length", "chunked"],
)
def test_framed_bodies_need_no_close_notify(serve, tls_ca, response: bytes) -> None:  # type: ignore[no-untyped-def]
    running = fetch(tls_server(serve, tls_ca, response, close_notify=False), cafile=tls_ca[1])
    assert finished(running).body_bytes == 5


def test_a_short_content_length_body_without_close_notify_says_so(serve, tls_ca) -> None:  # type: ignore[no-untyped-def]
    response = b"HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\nhello"
    result = failed(
        fetch(tls_server(serve, tls_ca, response, close_notify=False), cafile=tls_ca[1])
    )
    assert result.reason == (
        "the connection closed after 5 of 9 body bytes (Content-Length): the body is incomplete"
    )


def test_plain_mode_saves_a_ragged_body_as_partial(serve, tls_ca, capsys, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    url = tls_server(serve, tls_ca, UNTIL_CLOSE, close_notify=False)
    status = main([url, "--plain", "--cacert", tls_ca[1], "-o", str(tmp_path)])
    err = capsys.readouterr().err
    assert status == 1
    assert f"sockview: {RAGGED}\n" in err
    assert [p.name for p in tmp_path.iterdir()] == ["x.partial.txt"]
    assert (tmp_path / "x.partial.txt").read_bytes() == b"hello"


# -- the recv log stays bounded -----------------------------------------------------------


def filled_log(rows: int, rows_in_memory: int) -> tuple[RecvLog, list[int], list[int]]:
    """A log of `rows` rows, spilled as it grew (as the watchdog does), and its columns."""
    log = RecvLog(rows_in_memory)
    times = [3 * i + 1 for i in range(rows)]
    sizes = [(i * 7919) % 5120 + 1 for i in range(rows)]
    for index, (time_ns, size) in enumerate(zip(times, sizes, strict=True)):
        log.times_ns.append(time_ns)
        log.sizes.append(size)
        if index % 7 == 0:
            log.spill()
            assert log.in_memory <= rows_in_memory
    return log, times, sizes


def test_older_rows_move_to_disk_and_read_back_the_same() -> None:
    log, times, sizes = filled_log(1000, rows_in_memory=64)
    totals = list(itertools.accumulate(sizes))
    assert log.on_disk > 0 and log.on_disk + log.in_memory == len(log) == 1000
    assert log.in_memory <= 64
    assert (list(log.times_ns), list(log.sizes), list(log.totals)) == (times, sizes, totals)
    assert [log[i] for i in (0, 31, 32, 500, 999, -1)] == [
        ChunkRecord(i % 1000, times[i], sizes[i], totals[i]) for i in (0, 31, 32, 500, 999, -1)
    ]
    for first, stop in [(0, 1000), (5, 40), (30, 70), (990, 1000), (0, 0), (999, 2000)]:
        assert list(log.sizes[first:stop]) == sizes[first:stop]
        assert list(log.totals[first:stop]) == totals[first:stop]
    assert list(log.sizes[::-100]) == sizes[::-100]
    assert log.total == totals[-1]
    assert [log.index_of_offset(offset) for offset in (0, totals[0], totals[600] - 1)] == [
        0,
        1,
        600,
    ]
    assert log.csv_lines() == "".join(
        f"{i},{times[i] / 1e6:.3f},{sizes[i]},{totals[i]}\n" for i in range(1000)
    )
    assert log.csv_lines(10, 12) == f"10,{times[10] / 1e6:.3f},{sizes[10]},{totals[10]}\n" + (
        f"11,{times[11] / 1e6:.3f},{sizes[11]},{totals[11]}\n"
    )
    with pytest.raises(IndexError):
        log.sizes[1000]


def test_readers_on_other_threads_see_every_row_while_it_spills() -> None:
    """The loop appends, the watchdog spills, readers index: every row they read is right."""
    rows = 60_000
    log = RecvLog(1000)
    sizes = [(i * 7919) % 5120 + 1 for i in range(rows)]
    totals = list(itertools.accumulate(sizes))
    stop = threading.Event()
    wrong: list[tuple[int, int, int]] = []

    def read() -> None:
        index = 0
        while not stop.is_set():
            known = len(log.sizes)
            if known:
                index = (index * 31 + 17) % known
                row = log[index]
                if (row.size, row.total, row.time_ns) != (sizes[index], totals[index], index):
                    wrong.append((index, row.size, row.total))

    def spill() -> None:
        while not stop.is_set():
            log.spill()

    threads = [threading.Thread(target=read) for _ in range(2)] + [threading.Thread(target=spill)]
    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    try:
        for thread in threads:
            thread.start()
        for index, size in enumerate(sizes):
            log.times_ns.append(index)
            log.sizes.append(size)
            if index == rows // 2:
                # Halfway, make sure a spill has happened while the readers read (on a
                # loaded machine the spilling thread may not have run yet).
                give_up = time.monotonic() + 10
                while not log.on_disk and time.monotonic() < give_up:
                    time.sleep(0.001)
    finally:
        stop.set()
        for thread in threads:
            thread.join()
        sys.setswitchinterval(interval)
    assert not wrong
    assert log.on_disk > 0
    assert list(log.totals) == totals


def test_an_endless_body_keeps_a_bounded_recv_log(serve) -> None:  # type: ignore[no-untyped-def]
    """Small recvs, a small cap: the fetch moves older rows to disk as it goes."""

    def script(conn: socket.socket) -> None:
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 999999999999\r\n\r\n")
        pour(conn, b"x" * 65536, server.stopping)

    server = serve(script)
    rows, cap = 300_000, 10_000
    tracemalloc.start()
    try:
        running = start(
            server.url("/"), body=DiscardBody(), bufsize=16, read_timeout=60, rows_in_memory=cap
        )
        wait_for(lambda: len(running.fetch.log) >= rows, "many recvs")
        running.fetch.cancel()
        result = running.join()  # not `failed`: its checks take time quadratic in the rows
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    log = running.fetch.log
    assert isinstance(result, Failed) and result.cancelled
    assert result.recv_count == len(log) >= rows
    assert log.on_disk >= rows // 2
    # Every row read back, from disk or memory, adds up.
    assert sum(log.sizes) == log.total == result.total
    assert list(log.totals[:3]) == list(itertools.accumulate(log.sizes[:3]))
    # All the rows in memory would take 20 bytes each.
    assert peak < 20 * rows / 2, f"peak {peak} bytes for {result.recv_count} recvs"


def test_a_recv_log_that_cannot_go_to_disk_ends_the_fetch_in_one_line(
    serve, monkeypatch, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    def script(conn: socket.socket) -> None:
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 999999999999\r\n\r\n")
        pour(conn, b"x" * 65536, server.stopping)

    server = serve(script)
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "gone"))
    running = start(
        server.url("/"), body=DiscardBody(), bufsize=16, read_timeout=60, rows_in_memory=100
    )
    result = running.join()
    assert isinstance(result, Failed) and not result.cancelled
    assert result.reason.startswith("cannot keep the recv log after ")
    assert result.reason.endswith(" recvs: No such file or directory")
    assert running.fetch.log.on_disk == 0 and len(running.fetch.log) > 100
