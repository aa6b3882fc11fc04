"""-X and -H: the method and the user's headers, checked, on the wire, and a HEAD's
answer read without a body."""

from __future__ import annotations

import pytest

from sockview.core.events import Framing
from sockview.core.request import (
    RequestError,
    RequestStyle,
    build_request,
    check_method,
    parse_header,
)
from sockview.core.url import parse_url
from tests.conftest import send_parts
from tests.core.fetching import fetch_now


def test_head_and_headers_on_the_wire(serve) -> None:
    server = serve(send_parts(b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n"))
    running = fetch_now(
        server.url("/x"), method="HEAD", headers=(("Accept", "*/*"), ("user-agent", "me"))
    )
    assert (
        server.requests
        == [
            b"HEAD /x HTTP/1.0\r\n"
            b"Host: 127.0.0.1:" + str(server.port).encode() + b"\r\n"
            b"user-agent: me\r\n"  # the user's, in place of ours
            b"Connection: close\r\n"
            b"Accept: */*\r\n"
            b"\r\n"
        ]
    )
    # A HEAD's answer has no body, whatever its Content-Length says: done at the head.
    assert running.fetch.complete
    head = running.fetch.head
    assert head is not None and head.framing is Framing.NONE


def test_the_book_request_with_a_header() -> None:
    request = build_request(parse_url("http://h/p"), RequestStyle.BOOK, headers=(("X", "1"),))
    assert request == b"GET http://h/p HTTP/1.0\r\nX: 1\r\n\r\n"


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ("X-A: a\r\nInjected: 1", "CR, LF or NUL"),
        ("X-A: a\nb", "CR, LF or NUL"),
        ("X-A: a\0", "CR, LF or NUL"),
        ("Bad Name: x", "a header name is"),
        ("(x): y", "a header name is"),
        (": y", "a header name is"),
        ("no colon", "'Name: value'"),
        ("X: caf\u00e9\u2603", "not latin-1"),
    ],
)
def test_bad_headers_are_refused(text: str, error: str) -> None:
    with pytest.raises(RequestError, match=error.replace("(", r"\(")):
        parse_header(text)


def test_a_header_value_is_trimmed_and_may_be_empty() -> None:
    assert parse_header("X-Empty:") == ("X-Empty", "")
    assert parse_header("Accept:  text/html \t") == ("Accept", "text/html")


def test_methods() -> None:
    assert check_method("head") == "HEAD"
    with pytest.raises(RequestError, match="GET or HEAD"):
        check_method("POST")
    with pytest.raises(RequestError):
        check_method("GET /x HTTP/1.0\r\n")
