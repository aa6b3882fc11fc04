"""The request bytes that go on the wire."""

from __future__ import annotations

import re
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


METHODS = ("GET", "HEAD")
"""The methods sockview sends: the ones that need no request body."""

_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
"""RFC 9110's token: what a header name (or a method) may be made of."""


class RequestError(ValueError):
    """A method or header the user gave that cannot go on the wire as it is."""


def check_method(method: str) -> str:
    """`method` upper-cased, if sockview sends it; else RequestError."""
    upper = method.strip().upper()
    if upper not in METHODS:
        raise RequestError(
            f"the method must be {' or '.join(METHODS)} (a request with a body is not sent),"
            f" not {method!r}"
        )
    return upper


def parse_header(text: str) -> tuple[str, str]:
    """`Name: value` -> (name, value), checked: a token for a name, no CR, LF or NUL."""
    name, colon, value = text.partition(":")
    if not colon:
        raise RequestError(f"a header is written 'Name: value', not {text!r}")
    if not _TOKEN.fullmatch(name):
        raise RequestError(
            f"a header name is letters, digits and !#$%&'*+-.^_`|~ only, not {name!r}"
        )
    value = value.strip(" \t")
    if any(c in value for c in "\r\n\0"):
        raise RequestError(f"the value of header {name!r} holds a CR, LF or NUL")
    try:
        value.encode("latin-1")
    except UnicodeEncodeError:
        raise RequestError(f"the value of header {name!r} is not latin-1 text") from None
    return name, value


def request_headers(
    target: Target, style: RequestStyle, extra: tuple[tuple[str, str], ...] = ()
) -> list[tuple[str, str]]:
    """The headers sent: ours, each replaced by the user's of the same name, then the
    user's others, in their order. The book's request sends only the user's."""
    ours = (
        []
        if style is RequestStyle.BOOK
        else [("Host", target.authority), ("User-Agent", USER_AGENT), ("Connection", "close")]
    )
    given = {name.lower(): (name, value) for name, value in extra}
    headers = [given.pop(name.lower(), (name, value)) for name, value in ours]
    return headers + [header for header in extra if header[0].lower() in given]


def request_target(target: Target, style: RequestStyle) -> str:
    return target.url if style is RequestStyle.BOOK else target.path


def http_version(style: RequestStyle) -> str:
    return "1.1" if style is RequestStyle.HTTP11 else "1.0"


def build_request(
    target: Target,
    style: RequestStyle = RequestStyle.HTTP10,
    method: str = "GET",
    headers: tuple[tuple[str, str], ...] = (),
) -> bytes:
    """The exact bytes of a request for `target` (headers checked by `parse_header`)."""
    lines = [f"{method} {request_target(target, style)} HTTP/{http_version(style)}"]
    lines += [f"{name}: {value}" for name, value in request_headers(target, style, headers)]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
