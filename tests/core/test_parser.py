"""The response parser: head, the book's header length, framing, de-chunking, interim 1xx.

Each input is fed whole, then one byte at a time, then split in two at every offset: every
way recv() can cut a short stream. A few go over a real socket with `--bufsize 1`.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest

from sockview.core.body import SpooledBody
from sockview.core.events import Framing, HeadersComplete, InterimResponse
from sockview.core.parse import ProtocolFailure, ResponseParser
from tests.conftest import send_parts
from tests.core.fetching import fetch_now


@dataclass
class Parsed:
    interims: list[InterimResponse] = field(default_factory=list)
    heads: list[HeadersComplete] = field(default_factory=list)
    body: bytes = b""
    complete: bool = False
    completed_at: int | None = None
    """Raw offset just past the byte whose feed completed the response."""


def parse(pieces: list[bytes], eof: bool = False) -> Parsed:
    parsed = Parsed()
    sink = SpooledBody()
    fed = 0
    parser = ResponseParser(
        "h", sink, on_interim=parsed.interims.append, on_head=parsed.heads.append
    )
    for index, piece in enumerate(pieces):
        assert not parsed.complete, "bytes fed after the response was complete"
        fed += len(piece)
        heads = len(parsed.heads)
        if parser.feed(piece):
            parsed.complete = True
            parsed.completed_at = fed
        # A head that ended in this piece (one piece is one recv) names it.
        assert all(head.head_index == index for head in parsed.heads[heads:])
    if eof and not parsed.complete:
        parsed.complete = parser.feed_eof()
    parsed.body = sink.read_all()
    assert parser.body_bytes == len(parsed.body)
    return parsed


def splits(data: bytes) -> Iterator[tuple[str, list[bytes]]]:
    """Whole, one byte at a time, and in two pieces at every offset."""
    yield "whole", [data]
    yield "bytewise", [data[i : i + 1] for i in range(len(data))]
    for cut in range(1, len(data)):
        yield f"cut@{cut}", [data[:cut], data[cut:]]


def parse_every_way(data: bytes, eof: bool = False) -> Parsed:
    """Parse `data` every way; all must agree. Returns the whole-feed result."""
    results = {name: parse(pieces, eof) for name, pieces in splits(data)}
    first = results["whole"]
    for name, other in results.items():
        assert other == _comparable(first, other), name
    return first


def _comparable(first: Parsed, other: Parsed) -> Parsed:
    # head_index is the piece in which the head ended, which depends on the split: compare
    # the rest.
    heads = [
        HeadersComplete(**{**_fields(mine), "head_index": _fields(theirs)["head_index"]})
        for mine, theirs in zip(first.heads, other.heads, strict=False)
    ]
    return Parsed(first.interims, heads, first.body, first.complete, first.completed_at)


def _fields(head: HeadersComplete) -> dict[str, object]:
    return {name: getattr(head, name) for name in HeadersComplete.__slots__}


BOOKISH_HEAD = (
    b"HTTP/1.1 200 OK\r\n"
    b"Date: Sat, 23 Apr 2016 06:51:38 GMT\r\n"
    b"Content-Length: 10\r\n"
    b"Content-Type: image/jpeg"
)


def test_content_length_head_and_header_length() -> None:
    data = BOOKISH_HEAD + b"\r\n\r\n" + b"0123456789"
    parsed = parse_every_way(data)
    assert parsed.complete and parsed.completed_at == len(data)
    (head,) = parsed.heads
    assert head.header_length == len(BOOKISH_HEAD) == data.index(b"\r\n\r\n")
    assert head.body_offset == len(BOOKISH_HEAD) + 4
    assert head.head_text == BOOKISH_HEAD.decode("latin-1")
    assert head.status_line == "HTTP/1.1 200 OK"
    assert (head.status, head.reason, head.http_version) == (200, "OK", "1.1")
    assert head.headers == (
        ("Date", "Sat, 23 Apr 2016 06:51:38 GMT"),
        ("Content-Length", "10"),
        ("Content-Type", "image/jpeg"),
    )
    assert head.framing is Framing.CONTENT_LENGTH and head.content_length == 10
    assert parsed.body == b"0123456789"
    assert parsed.interims == []


def test_header_length_counts_only_up_to_the_first_blank_line() -> None:
    # A body that itself contains CRLFCRLF must not move the header length.
    body = b"\r\n\r\nxx\r\n\r\n"
    head = b"HTTP/1.1 200 OK\r\nContent-Length: %d" % len(body)
    parsed = parse_every_way(head + b"\r\n\r\n" + body)
    assert parsed.heads[0].header_length == len(head)
    assert parsed.body == body


def test_bare_lf_header_length_is_the_offset_of_the_blank_line() -> None:
    head = b"HTTP/1.0 200 OK\nContent-Length: 3\nX-A: b"
    data = head + b"\n\nabc"
    parsed = parse_every_way(data)
    (got,) = parsed.heads
    assert got.header_length == len(head) == data.index(b"\n\n")
    assert got.body_offset == len(head) + 2
    assert got.head_text == head.decode()
    assert got.status_line == "HTTP/1.0 200 OK"
    assert got.http_version == "1.0"
    assert got.headers == (("Content-Length", "3"), ("X-A", "b"))
    assert parsed.body == b"abc"


def test_mixed_line_endings() -> None:
    head = b"HTTP/1.1 200 OK\r\nContent-Length: 2\nX: y"
    parsed = parse_every_way(head + b"\n\r\nok")
    assert parsed.heads[0].header_length == len(head)
    assert parsed.heads[0].headers == (("Content-Length", "2"), ("X", "y"))
    assert parsed.body == b"ok"


def test_status_line_and_headers_are_latin1() -> None:
    head = b"HTTP/1.1 200 \xc7a va\r\nX-Name: caf\xe9 \xff\r\nContent-Length: 0"
    parsed = parse_every_way(head + b"\r\n\r\n")
    (got,) = parsed.heads
    assert got.reason == "\u00c7a va"
    assert got.status_line == "HTTP/1.1 200 \u00c7a va"
    assert ("X-Name", "caf\u00e9 \u00ff") in got.headers
    assert got.head_text == head.decode("latin-1")
    assert got.header_length == len(head)


def test_header_names_keep_their_case() -> None:
    parsed = parse_every_way(b"HTTP/1.1 200 OK\r\ncOnTeNt-LeNgTh: 1\r\nX-UPPER: V\r\n\r\n!")
    assert parsed.heads[0].headers == (("cOnTeNt-LeNgTh", "1"), ("X-UPPER", "V"))
    assert parsed.heads[0].content_length == 1


def test_chunked_body_is_dechunked() -> None:
    head = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked"
    chunks = b"5\r\nhello\r\n1;ext=1\r\n,\r\n7\r\n world!\r\n0\r\nX-Trailer: t\r\n\r\n"
    data = head + b"\r\n\r\n" + chunks
    parsed = parse_every_way(data)
    assert parsed.complete and parsed.completed_at == len(data)
    (got,) = parsed.heads
    assert got.framing is Framing.CHUNKED and got.content_length is None
    assert got.header_length == len(head)
    assert parsed.body == b"hello, world!"


def test_chunked_body_with_crlf_in_the_data() -> None:
    data = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4\r\n\r\n\r\n\r\n0\r\n\r\n"
    parsed = parse_every_way(data)
    assert parsed.body == b"\r\n\r\n"


def test_until_close_needs_the_close() -> None:
    head = b"HTTP/1.0 200 OK\r\nContent-Type: text/plain"
    data = head + b"\r\n\r\nall of this, until the server closes"
    without_eof = parse_every_way(data)
    assert not without_eof.complete
    assert without_eof.heads[0].framing is Framing.UNTIL_CLOSE
    assert without_eof.heads[0].content_length is None
    with_eof = parse_every_way(data, eof=True)
    assert with_eof.complete
    assert with_eof.body == b"all of this, until the server closes"
    assert with_eof.heads[0].header_length == len(head)


def test_until_close_with_empty_body() -> None:
    parsed = parse_every_way(b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n", eof=True)
    assert parsed.complete and parsed.body == b""
    assert parsed.heads[0].framing is Framing.UNTIL_CLOSE


@pytest.mark.parametrize("status", [204, 304])
def test_no_body_statuses(status: int) -> None:
    data = b"HTTP/1.1 %d X\r\nContent-Length: 99\r\n\r\n" % status
    parsed = parse_every_way(data)
    assert parsed.complete and parsed.completed_at == len(data)
    assert parsed.heads[0].framing is Framing.NONE
    assert parsed.body == b""


def test_interim_responses_are_shown_then_skipped() -> None:
    interim1 = b"HTTP/1.1 100 Continue\r\n\r\n"
    interim2 = b"HTTP/1.1 103 Early Hints\r\nLink: </style.css>; rel=preload\r\n\r\n"
    head = b"HTTP/1.1 200 OK\r\nContent-Length: 4"
    data = interim1 + interim2 + head + b"\r\n\r\nbody"
    parsed = parse_every_way(data)
    assert [(i.status, i.status_line, i.headers) for i in parsed.interims] == [
        (100, "HTTP/1.1 100 Continue", ()),
        (103, "HTTP/1.1 103 Early Hints", (("Link", "</style.css>; rel=preload"),)),
    ]
    (got,) = parsed.heads
    assert got.status == 200
    assert got.status_line == "HTTP/1.1 200 OK"
    assert got.head_text == head.decode()
    # The book's measure: the offset in the raw stream, interim responses included.
    assert got.header_length == len(interim1) + len(interim2) + len(head)
    assert got.body_offset == got.header_length + 4
    assert parsed.body == b"body"


def test_truncated_content_length_is_an_error_at_eof_not_a_completion() -> None:
    data = b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n12345"
    assert not parse_every_way(data).complete
    with pytest.raises(ProtocolFailure, match="5 of 10 body bytes"):
        parse([data], eof=True)


def test_bytes_after_content_length_are_not_body() -> None:
    parsed = parse([b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"])
    assert parsed.complete and parsed.body == b"ok"


# -- over a real socket, one byte per recv --------------------------------------------


SOCKET_CASES = {
    "content-length": (
        b"HTTP/1.1 200 OK\r\nContent-Length: 6\r\nX: \xe9\r\n\r\nabcdef",
        b"abcdef",
        Framing.CONTENT_LENGTH,
    ),
    "chunked": (
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n3\r\ndef\r\n0\r\n\r\n",
        b"abcdef",
        Framing.CHUNKED,
    ),
    "until-close": (b"HTTP/1.0 200 OK\nX: y\n\nabcdef", b"abcdef", Framing.UNTIL_CLOSE),
    "interim": (
        b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 6\r\n\r\nabcdef",
        b"abcdef",
        Framing.CONTENT_LENGTH,
    ),
}


@pytest.mark.parametrize("bufsize", [1, 7, 5120])
@pytest.mark.parametrize("case", SOCKET_CASES)
def test_over_a_socket(serve, case: str, bufsize: int) -> None:
    data, body, framing = SOCKET_CASES[case]
    server = serve(send_parts(data))
    running = fetch_now(server.url("/"), bufsize=bufsize)
    fetch = running.fetch
    assert fetch.complete, fetch.result
    assert fetch.body.read_all() == body  # type: ignore[attr-defined]
    assert fetch.log.total == len(data)
    assert max(fetch.log.sizes) <= bufsize
    if bufsize == 1:
        assert len(fetch.log) == len(data)
    head = fetch.head
    assert head is not None and head.framing is framing
    interims = running.of_type(InterimResponse)
    assert [i.status for i in interims] == ([100] if case == "interim" else [])
    final = data.index(b" 200 ")
    blank = data.find(b"\r\n\r\n", final) if b"\r\n" in data else data.find(b"\n\n", final)
    assert head.header_length == blank
    # The record in which the header ended is the one that carried its blank line's end.
    assert head.head_index == fetch.log.index_of_offset(head.body_offset - 1)
