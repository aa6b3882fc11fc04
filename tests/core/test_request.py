"""The request bytes: each style exactly, in the events, and as a loopback server got them."""

from __future__ import annotations

import pytest

from sockview import __version__
from sockview.core.events import RequestSent
from sockview.core.request import USER_AGENT, RequestStyle, build_request
from sockview.core.url import parse_url
from tests.conftest import send_parts
from tests.core.fetching import RESPONSE_200, fetch_now


def test_default_is_http10_origin_form_with_host_agent_and_close() -> None:
    request = build_request(parse_url("http://example.com/a/b.png?x=1"))
    assert request == (
        b"GET /a/b.png?x=1 HTTP/1.0\r\n"
        b"Host: example.com\r\n"
        b"User-Agent: sockview/" + __version__.encode() + b"\r\n"
        b"Connection: close\r\n"
        b"\r\n"
    )
    assert f"sockview/{__version__}" == USER_AGENT


def test_http11_differs_only_in_the_version() -> None:
    target = parse_url("http://example.com:8080/x")
    http10 = build_request(target, RequestStyle.HTTP10)
    http11 = build_request(target, RequestStyle.HTTP11)
    assert http11.startswith(b"GET /x HTTP/1.1\r\nHost: example.com:8080\r\n")
    assert http11 == http10.replace(b" HTTP/1.0\r\n", b" HTTP/1.1\r\n", 1)
    assert b"\r\nConnection: close\r\n\r\n" in http11


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        # The book's exact request: absolute URL, HTTP/1.0, no header at all.
        (
            "http://data.pr4e.org/cover3.jpg",
            b"GET http://data.pr4e.org/cover3.jpg HTTP/1.0\r\n\r\n",
        ),
        ("http://127.0.0.1:8000/c.png", b"GET http://127.0.0.1:8000/c.png HTTP/1.0\r\n\r\n"),
        ("http://h/", b"GET http://h/ HTTP/1.0\r\n\r\n"),
        ("http://h/p?q=1", b"GET http://h/p?q=1 HTTP/1.0\r\n\r\n"),
        ("http://[::1]:8080/x", b"GET http://[::1]:8080/x HTTP/1.0\r\n\r\n"),
    ],
)
def test_book_bytes_exactly(url: str, expected: bytes) -> None:
    assert build_request(parse_url(url), RequestStyle.BOOK) == expected


def test_host_header_for_ipv6_and_default_port() -> None:
    assert b"\r\nHost: [::1]:8080\r\n" in build_request(parse_url("http://[::1]:8080/"))
    assert b"\r\nHost: h\r\n" in build_request(parse_url("https://h:443/"))
    assert b"\r\nHost: h:80\r\n" in build_request(parse_url("https://h:80/"))


@pytest.mark.parametrize("style", list(RequestStyle))
def test_bytes_in_event_are_the_bytes_on_the_wire(serve, style: RequestStyle) -> None:
    server = serve(send_parts(RESPONSE_200))
    url = server.url("/some/path.png?q=%20x")
    running = fetch_now(url, style=style)
    sent = running.of_type(RequestSent)
    assert len(sent) == 1
    assert sent[0].data == build_request(parse_url(url), style)
    assert server.requests == [sent[0].data]
    assert running.fetch.request == sent[0].data


def test_request_sent_comes_after_connected_and_before_any_chunk(serve) -> None:
    server = serve(send_parts(RESPONSE_200))
    running = fetch_now(server.url("/"))
    kinds = [type(event).__name__ for event in running.events]
    assert kinds[:3] == ["Connected", "RequestSent", "ChunksReceived"]


def test_bytes_on_the_wire_over_ipv6_loopback(serve) -> None:
    server = serve(send_parts(RESPONSE_200), host="::1")
    running = fetch_now(server.url("/x"), style=RequestStyle.BOOK)
    expected = f"GET http://[::1]:{server.port}/x HTTP/1.0\r\n\r\n".encode()
    assert server.requests == [expected]
    assert running.of_type(RequestSent)[0].data == expected
