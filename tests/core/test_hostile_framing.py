"""Hostile framing: every response is fed whole and one byte per recv, then over real TCP.

Each case ends in a Finished with the right body, or in a Failed whose one-line reason
says exactly what was wrong; either way every recv row stays in the log.
"""

from __future__ import annotations

import socket
from dataclasses import dataclass

import pytest

from sockview.cli import main
from sockview.core.events import Framing
from tests.conftest import send_parts
from tests.core.hostile import (
    OK_RESPONSE,
    assert_one_line,
    failed,
    fetch,
    fetch_pieces,
    finished,
    splits,
)


@dataclass(frozen=True)
class Case:
    name: str
    data: bytes
    body: bytes | None = None
    """The body of a response that must finish."""
    reason: str | None = None
    """A piece of the reason of a response that must fail."""
    framing: Framing | None = None
    interims: int = 0


HEAD = b"HTTP/1.1 200 OK\r\n"
CHUNKED = HEAD + b"Transfer-Encoding: chunked\r\n\r\n"

CASES = [
    Case("content-length", OK_RESPONSE, body=b"hello", framing=Framing.CONTENT_LENGTH),
    Case(
        "bare LF line endings",
        b"HTTP/1.1 200 OK\nContent-Length: 5\n\nhello",
        body=b"hello",
        framing=Framing.CONTENT_LENGTH,
    ),
    Case(
        "mixed CRLF and LF",
        b"HTTP/1.1 200 OK\r\nContent-Length: 5\n\r\nhello",
        body=b"hello",
    ),
    Case("close-delimited", b"HTTP/1.0 200 OK\r\n\r\nuntil close", body=b"until close"),
    Case(
        "same Content-Length twice",
        HEAD + b"Content-Length: 2\r\nContent-Length: 2\r\n\r\nok",
        body=b"ok",
    ),
    Case(
        "chunked, with extensions and trailers",
        CHUNKED + b"5;name=value\r\nhello\r\n1\r\n!\r\n0\r\nX-Trailer: yes\r\n\r\n",
        body=b"hello!",
        framing=Framing.CHUNKED,
    ),
    Case("204 needs no body", b"HTTP/1.1 204 No Content\r\n\r\n", body=b"", framing=Framing.NONE),
    Case(
        "304 ignores its Content-Length",
        b"HTTP/1.1 304 Not Modified\r\nContent-Length: 99\r\n\r\n",
        body=b"",
    ),
    Case(
        "interim 100 and 103 before the real response",
        b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </a.css>\r\n\r\n"
        + OK_RESPONSE,
        body=b"hello",
        interims=2,
    ),
    Case(
        "headers that never end",
        HEAD + b"Content-Length: 5\r\nX-Half",
        reason="the connection closed after 42 bytes, before the header ended",
    ),
    Case(
        "close right after the status line",
        HEAD,
        reason="the connection closed after 17 bytes, before the header ended",
    ),
    Case(
        "body shorter than Content-Length",
        HEAD + b"Content-Length: 10\r\n\r\nhello",
        reason="the connection closed after 5 of 10 body bytes (Content-Length):"
        " the body is incomplete",
    ),
    Case(
        "two Content-Length values that disagree",
        HEAD + b"Content-Length: 5\r\nContent-Length: 6\r\n\r\nhello",
        reason="the response has Content-Length values that disagree",
    ),
    Case(
        "a Content-Length list that disagrees",
        HEAD + b"Content-Length: 5, 6\r\n\r\nhello",
        reason="the response has Content-Length values that disagree",
    ),
    Case(
        "Content-Length not a number",
        HEAD + b"Content-Length: five\r\n\r\nhello",
        reason="the Content-Length header is not a valid length",
    ),
    Case(
        "Content-Length negative",
        HEAD + b"Content-Length: -5\r\n\r\nhello",
        reason="the Content-Length header is not a valid length",
    ),
    Case(
        "Content-Length absurdly long",
        HEAD + b"Content-Length: " + b"9" * 40 + b"\r\n\r\nhello",
        reason="the Content-Length header is not a valid length",
    ),
    Case(
        "unknown Transfer-Encoding",
        HEAD + b"Transfer-Encoding: gzip\r\n\r\nhello",
        reason="unsupported Transfer-Encoding: only chunked is understood",
    ),
    Case(
        "chunk size not hexadecimal",
        CHUNKED + b"zz\r\nhello\r\n0\r\n\r\n",
        reason="invalid chunked body: illegal chunk header: b'zz\\r\\n'",
    ),
    Case(
        "chunk longer than its size",
        CHUNKED + b"5\r\nhello, world\r\n0\r\n\r\n",
        reason="invalid chunked body: malformed chunk footer: b',",
    ),
    Case(
        "chunked body cut in a chunk",
        CHUNKED + b"5\r\nhel",
        reason="the connection closed in the middle of the chunked body after 3 body bytes:"
        " the body is incomplete",
    ),
    Case(
        "chunked body cut before the last chunk",
        CHUNKED + b"5\r\nhello\r\n",
        reason="the connection closed in the middle of the chunked body after 5 body bytes",
    ),
    Case(
        "101 although no upgrade was asked for",
        b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: h2c\r\n\r\n" + OK_RESPONSE,
        reason="the server switched protocols (101) although no upgrade was asked for",
    ),
    Case(
        "no status line (HTTP/0.9)",
        b"<html>hello</html>\n",
        reason="the server did not send an HTTP status line"
        " (an HTTP/0.9 reply, or not HTTP at all)",
    ),
    Case(
        "a short reply that is not HTTP",
        b"OK\n",
        reason="the server did not send an HTTP status line",
    ),
    Case(
        "a blank line before the status line",
        b"\r\n" + OK_RESPONSE,
        reason="the server did not send an HTTP status line",
    ),
    Case(
        "lower-case protocol name",
        b"http/1.1 200 OK\r\n\r\n",
        reason="the server did not send an HTTP status line",
    ),
    Case(
        "status code not a number",
        b"HTTP/1.1 abc OK\r\n\r\n",
        reason="invalid HTTP status line: b'HTTP/1.1 abc OK'",
    ),
    Case(
        "status code of four digits",
        b"HTTP/1.1 2000 OK\r\n\r\n",
        reason="invalid HTTP status line: b'HTTP/1.1 2000 OK'",
    ),
    Case(
        "no space after the version",
        b"HTTP/1.1200 OK\r\n\r\n",
        reason="invalid HTTP status line",
    ),
    Case(
        "a header line without a colon",
        HEAD + b"no colon here\r\n\r\n",
        reason="invalid response header: illegal header line: b'no colon here'",
    ),
    Case(
        "an empty reply",
        b"",
        reason="127.0.0.1:9 closed the connection without answering"
        " (if it expects TLS, try https://)",
    ),
]


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
@pytest.mark.parametrize("split", ["whole", "bytewise"])
def test_framing_whole_and_bytewise(case: Case, split: str) -> None:
    pieces = dict(splits(case.data))[split]
    running = fetch_pieces(pieces)
    _check(case, running)
    if split == "bytewise":
        # One record per byte, up to where the fetch stopped.
        assert list(running.fetch.log.sizes) == [1] * running.fetch.log.total


def _check(case: Case, running) -> None:  # type: ignore[no-untyped-def]
    if case.reason is not None:
        result = failed(running)
        assert case.reason in result.reason
        # A protocol error stops the fetch at once: what came up to there is kept.
        assert result.total <= len(case.data)
        assert not result.cancelled
        return
    result = finished(running)
    head = running.head
    assert head is not None
    assert running.fetch.body.read_all() == case.body  # type: ignore[attr-defined]
    assert result.body_bytes == len(case.body or b"")
    if case.framing is not None:
        assert head.framing is case.framing
    assert len(running.interims) == case.interims
    # The header ended in the recv that carried the last byte of its blank line.
    totals = running.fetch.log.totals
    assert totals[head.head_index] >= head.body_offset
    assert head.head_index == 0 or totals[head.head_index - 1] < head.body_offset


@pytest.mark.parametrize("cut", [-4, -3, -2, -1], ids=lambda cut: f"terminator-cut{cut}")
def test_header_terminator_split_across_recvs(cut: int) -> None:
    head = b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n"
    at = len(head) + cut
    running = fetch_pieces([head[:at], head[at:], b"hello"])
    finished(running)
    assert running.head is not None
    assert running.head.header_length == len(head) - 4
    assert running.head.head_index == 1
    assert running.fetch.body.read_all() == b"hello"  # type: ignore[attr-defined]


TCP_CASES = [case for case in CASES if case.data and "HTTP/0.9" not in case.name]


@pytest.mark.parametrize("case", TCP_CASES, ids=[case.name for case in TCP_CASES])
def test_framing_over_loopback_tcp(serve, case: Case) -> None:
    server = serve(send_parts(case.data))
    _check(case, fetch(server.url("/")))


def test_http09_over_loopback_fails_at_once(serve) -> None:
    """A reply that cannot be HTTP fails on its first bytes, without waiting for the close."""

    def script(conn: socket.socket) -> None:
        conn.sendall(b"<html>hello</html>\n")
        server.stopping.wait()

    server = serve(script)
    result = failed(fetch(server.url("/"), read_timeout=60))
    assert "did not send an HTTP status line" in result.reason


@pytest.mark.parametrize(
    "response",
    [
        OK_RESPONSE,
        CHUNKED + b"5\r\nhello\r\n0\r\n\r\n",
        b"HTTP/1.1 204 No Content\r\n\r\n",
        b"HTTP/1.1 304 Not Modified\r\nETag: x\r\n\r\n",
    ],
    ids=["content-length", "chunked", "204", "304"],
)
def test_keep_alive_without_close_ends_on_framing(serve, response: bytes) -> None:
    """An HTTP/1.1 server that keeps the connection open: the framing ends the fetch."""

    def script(conn: socket.socket) -> None:
        conn.sendall(response[:-2])
        conn.sendall(response[-2:])
        server.stopping.wait()  # never closes while the test runs

    server = serve(script)
    # A read timeout of a minute: only the framing can end this fetch within the hang limit.
    running = fetch(server.url("/"), read_timeout=60)
    result = finished(running)
    assert result.total == len(response)


def test_unknown_framing_over_http11_needs_the_close(serve) -> None:
    """No Content-Length and no chunking: the body ends at the close, as it must."""
    server = serve(send_parts(b"HTTP/1.1 200 OK\r\nConnection: keep-alive\r\n\r\n", b"abc"))
    result = finished(fetch(server.url("/")))
    assert result.body_bytes == 3


FAILING = [
    case
    for case in CASES
    if case.reason is not None and case.data and not case.reason.startswith("127.0.0.1:9")
]


@pytest.mark.parametrize("case", FAILING[::4], ids=[case.name for case in FAILING[::4]])
def test_plain_mode_prints_the_rows_then_one_line(serve, capsys, case: Case) -> None:
    server = serve(send_parts(case.data))
    status = main([server.url("/"), "--plain", "--bufsize", "7"])
    out, err = capsys.readouterr()
    assert status == 1
    rows = [line for line in out.splitlines() if line and line[0].isdigit()]
    sizes = [int(row.split()[0]) for row in rows]
    assert rows and int(rows[-1].split()[1]) == sum(sizes) <= len(case.data)
    assert err.endswith("\n") and err.count("\n") == 1
    assert err.startswith("sockview: ")
    assert case.reason is not None and case.reason in err
    assert_one_line(err.rstrip("\n"))
