"""URL to target: schemes, default ports, IPv6 literals, path and query, clear errors."""

from __future__ import annotations

import pytest

from sockview.core.url import Target, UrlError, parse_url


@pytest.mark.parametrize(
    ("url", "scheme", "host", "port", "path"),
    [
        ("http://example.com/", "http", "example.com", 80, "/"),
        ("http://example.com", "http", "example.com", 80, "/"),
        ("https://example.com/a.png", "https", "example.com", 443, "/a.png"),
        ("http://example.com:8080/x", "http", "example.com", 8080, "/x"),
        ("https://example.com:8443/", "https", "example.com", 8443, "/"),
        ("HTTP://Example.COM/Path", "http", "example.com", 80, "/Path"),
        ("example.com/cover.jpg", "http", "example.com", 80, "/cover.jpg"),
        ("127.0.0.1:8000/cover.png", "http", "127.0.0.1", 8000, "/cover.png"),
        ("http://[::1]:8080/x", "http", "::1", 8080, "/x"),
        ("http://[::1]/x", "http", "::1", 80, "/x"),
        ("https://[2001:db8::1]/", "https", "2001:db8::1", 443, "/"),
        ("http://h/p?q=1&r=two", "http", "h", 80, "/p?q=1&r=two"),
        ("http://h?q=1", "http", "h", 80, "/?q=1"),
        ("http://h/a/b/c.txt?x=%2F#fragment", "http", "h", 80, "/a/b/c.txt?x=%2F"),
        ("  http://h/x  ", "http", "h", 80, "/x"),
    ],
)
def test_parse(url: str, scheme: str, host: str, port: int, path: str) -> None:
    assert parse_url(url) == Target(scheme=scheme, host=host, port=port, path=path)


def test_tls_follows_scheme() -> None:
    assert parse_url("https://h/").tls
    assert not parse_url("http://h:443/").tls


@pytest.mark.parametrize(
    ("url", "authority", "full"),
    [
        ("http://h/x", "h", "http://h/x"),
        ("http://h:80/x", "h", "http://h/x"),
        ("http://h:8080/x", "h:8080", "http://h:8080/x"),
        ("https://h:443/", "h", "https://h/"),
        ("https://h:80/", "h:80", "https://h:80/"),
        ("http://[::1]:8080/x?y", "[::1]:8080", "http://[::1]:8080/x?y"),
        ("http://[::1]/", "[::1]", "http://[::1]/"),
    ],
)
def test_authority_and_url(url: str, authority: str, full: str) -> None:
    target = parse_url(url)
    assert target.authority == authority
    assert target.url == full


def test_path_is_kept_byte_for_byte_when_already_encoded() -> None:
    # Percent-escapes, including an encoded `..`, reach the server as the user typed them.
    assert parse_url("http://h/%2e%2e/a%20b;p=1?k=%26&v=/").path == "/%2e%2e/a%20b;p=1?k=%26&v=/"


def test_non_ascii_path_is_percent_encoded() -> None:
    assert parse_url("http://h/caf\u00e9?q=\u00e9").path == "/caf%C3%A9?q=%C3%A9"


def test_international_host_becomes_punycode() -> None:
    assert parse_url("http://b\u00fccher.example/").host == "xn--bcher-kva.example"


def test_ipv6_zone_is_usable_for_connect_and_encoded_in_the_url() -> None:
    target = parse_url("http://[fe80::1%25eth0]:8080/x")
    # getaddrinfo wants the zone after a bare `%`; the URL and Host header want `%25`.
    assert target.host == "fe80::1%eth0"
    assert target.authority == "[fe80::1%25eth0]:8080"
    assert target.url == "http://[fe80::1%25eth0]:8080/x"


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("", "no URL"),
        ("   ", "no URL"),
        ("ftp://h/x", "unsupported scheme 'ftp'"),
        ("file:///etc/passwd", "unsupported scheme 'file'"),
        ("ws://h/", "unsupported scheme 'ws'"),
        ("gopher://h/", "unsupported scheme"),
        ("http:///x", "no host"),
        ("https://", "no host"),
        ("http://:8080/x", "no host"),
        ("http://h:0/", "bad port"),
        ("http://h:65536/", "bad port"),
        ("http://h:99999/", "bad port"),
        ("http://h:x/", "bad port"),
        ("http://h:-1/", "bad port"),
        ("http://h:/", "bad port"),
        ("http://[::1]:/", "bad port"),
        ("http://[::1]:http/", "bad port"),
        ("http://[::1/", "malformed"),
        ("http://[not-v6]/", "malformed"),
        ("http://[fe80::1%25]/", "bad IPv6 zone"),
        ("http://h /x", "spaces or control"),
        ("http://h/x\r\nInjected: 1", "spaces or control"),
        ("http://h/\x00", "spaces or control"),
        ("http://user:pw@h/", "credentials"),
    ],
)
def test_errors_say_why(url: str, message: str) -> None:
    with pytest.raises(UrlError, match=message):
        parse_url(url)


def test_url_error_is_a_value_error() -> None:
    # Callers that only know ValueError still catch it.
    with pytest.raises(ValueError):
        parse_url("ftp://h/")
