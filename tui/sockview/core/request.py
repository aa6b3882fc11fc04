"""The request bytes that go on the wire."""

from __future__ import annotations

from enum import Enum

from sockview import __version__
from sockview.core.url import Target

USER_AGENT = f"sockview/{__version__}"


class RequestStyle(Enum):
    """Which request to send."""

    HTTP10 = "1.0"
    """HTTP/1.0 in origin form with Host, User-Agent and Connection: close (the default)."""
    HTTP11 = "1.1"
    """The same as HTTP/1.1."""
    BOOK = "book"
    """The book's exact bytes: `GET http://HOST/PATH HTTP/1.0` and a blank line, nothing else."""


def request_headers(target: Target, style: RequestStyle) -> list[tuple[str, str]]:
    if style is RequestStyle.BOOK:
        return []
    return [("Host", target.authority), ("User-Agent", USER_AGENT), ("Connection", "close")]


def request_target(target: Target, style: RequestStyle) -> str:
    return target.url if style is RequestStyle.BOOK else target.path


def http_version(style: RequestStyle) -> str:
    return "1.1" if style is RequestStyle.HTTP11 else "1.0"


def build_request(target: Target, style: RequestStyle = RequestStyle.HTTP10) -> bytes:
    """The exact bytes of a GET request for `target`."""
    lines = [f"GET {request_target(target, style)} HTTP/{http_version(style)}"]
    lines += [f"{name}: {value}" for name, value in request_headers(target, style)]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("ascii")
