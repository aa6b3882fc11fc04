"""Turn what the user typed into a connection target."""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from urllib.parse import quote, unquote, urljoin, urlsplit

DEFAULT_PORTS = {"http": 80, "https": 443}
# Characters left as they are in the request target; anything else is percent-encoded.
_PATH_SAFE = "/%?=&;:@!$'()*+,-._~"
_ZONE = re.compile(r"[A-Za-z0-9._~-]+")
# A scheme at the very start (RFC 3986), and what follows its colon.
_SCHEME = re.compile(r"([A-Za-z][A-Za-z0-9+.-]*):(.*)", re.DOTALL)
# After `host:`, a port (maybe empty) then the path, query or fragment: a host, not a scheme.
_PORT_THEN_PATH = re.compile(r"[0-9]*(?:[/?#]|$)")


class UrlError(ValueError):
    """The URL cannot be fetched; the message says why."""


@dataclass(frozen=True, slots=True)
class Target:
    """Where to connect and what to ask for."""

    scheme: str
    host: str
    """Host name or IP literal, without brackets; an IPv6 zone follows a bare `%`."""
    port: int
    path: str
    """Request target in origin form: path plus query, never empty."""

    @property
    def tls(self) -> bool:
        return self.scheme == "https"

    @property
    def authority(self) -> str:
        """`host[:port]` as it goes in a Host header, the port left out when it is the default."""
        # An IPv6 zone is written `%25zone` in a URL (RFC 6874).
        host = f"[{self.host.replace('%', '%25')}]" if ":" in self.host else self.host
        if self.port == DEFAULT_PORTS[self.scheme]:
            return host
        return f"{host}:{self.port}"

    @property
    def url(self) -> str:
        return f"{self.scheme}://{self.authority}{self.path}"


def parse_url(text: str) -> Target:
    """Parse an http or https URL; a bare `host/path` is taken as http."""
    text = text.strip()
    if not text:
        raise UrlError("no URL given: type one, e.g. http://127.0.0.1:8000/cover.png")
    if any(ord(c) < 0x21 or ord(c) == 0x7F for c in text):
        raise UrlError("the URL contains spaces or control characters")
    text = _with_scheme(text)
    try:
        parts = urlsplit(text)
    except ValueError as exc:
        raise UrlError(f"malformed URL: {exc}") from None
    scheme = parts.scheme.lower()
    if scheme not in DEFAULT_PORTS:
        raise _unsupported(scheme)
    host = parts.hostname
    if not host:
        raise UrlError("the URL has no host")
    if parts.username is not None or parts.password is not None:
        raise UrlError("credentials in URLs are not supported")
    try:
        port = parts.port
    except ValueError:
        raise UrlError("bad port: it must be a number from 1 to 65535") from None
    if port is None:
        if parts.netloc.endswith(":"):
            raise UrlError("bad port: it must be a number from 1 to 65535")
        port = DEFAULT_PORTS[scheme]
    if not 1 <= port <= 65535:
        raise UrlError("bad port: it must be a number from 1 to 65535")
    if "[" in parts.netloc:
        address, percent, zone = host.partition("%")
        try:
            ipaddress.IPv6Address(address)
        except ValueError:
            raise UrlError(f"bad IPv6 literal [{host}]") from None
        if percent:
            # `[fe80::1%25eth0]` names interface eth0; getaddrinfo wants `fe80::1%eth0`.
            zone = unquote(percent + zone).removeprefix("%")
            if not _ZONE.fullmatch(zone):
                raise UrlError(f"bad IPv6 zone in [{host}]")
            host = f"{address}%{zone}"
    if not host.isascii():
        try:
            host = host.encode("idna").decode("ascii")
        except UnicodeError:
            raise UrlError("the host name is not a valid internationalised name") from None
    path = quote(parts.path or "/", safe=_PATH_SAFE)
    if parts.query:
        path += "?" + quote(parts.query, safe=_PATH_SAFE)
    return Target(scheme=scheme, host=host, port=port, path=path)


def _with_scheme(text: str) -> str:
    """`text` with its scheme, http:// if it has none; UrlError if the scheme is mistyped.

    Only the start of the text can hold a scheme: a `://` in the query
    (`host/a?next=http://x`) is not one, nor is the `host:` of `host:8000/x`.
    """
    if text.startswith("//"):
        return "http:" + text
    match = _SCHEME.match(text)
    if match is None:
        return "http://" + text
    scheme, rest = match.groups()
    if rest.startswith("//"):
        return text
    name = scheme.lower()
    if name in DEFAULT_PORTS:
        if not rest.strip("/"):
            raise UrlError("the URL has no host")
        slashes = len(rest) - len(rest.lstrip("/"))
        given = f"{name}:" + "/" * slashes
        fixed = f"{name}://{rest.lstrip('/')}"
        raise UrlError(f"{given} needs two slashes: did you mean {fixed}?")
    if "." in scheme or _PORT_THEN_PATH.match(rest):
        return "http://" + text  # `localhost:8000/x`, `example.com:80`
    raise _unsupported(name)


def _unsupported(scheme: str) -> UrlError:
    return UrlError(f"unsupported scheme {scheme!r}: sockview fetches http:// and https:// URLs")


def resolve_location(target: Target, location: str) -> Target:
    """Where a redirect's `Location` (server text, maybe relative) points from `target`."""
    if any(ord(c) < 0x21 or ord(c) == 0x7F for c in location):
        raise UrlError("the redirect's Location holds spaces or control characters")
    try:
        joined = urljoin(target.url, location)
    except ValueError as exc:
        raise UrlError(f"the redirect's Location is malformed: {exc}") from None
    return parse_url(joined)
