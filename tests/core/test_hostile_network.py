"""Hostile networks: refused, unresolvable, IPv6, bad ports, resets. Each a message of its own."""

from __future__ import annotations

import socket
import struct
import threading

import pytest

from sockview.cli import main
from sockview.core.events import ChunksReceived
from sockview.core.url import UrlError, parse_url
from tests.core.fetching import start, wait_for
from tests.core.hostile import (
    OK_RESPONSE,
    PROMPT,
    failed,
    fetch,
    finished,
    peer_of,
)


def unused_port(host: str = "127.0.0.1") -> int:
    """A port that nobody listens on (bound, then released)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def ipv6_loopback() -> bool:
    if not socket.has_ipv6:
        return False
    try:
        with socket.socket(socket.AF_INET6) as sock:
            sock.bind(("::1", 0))
    except OSError:
        return False
    return True


needs_ipv6 = pytest.mark.skipif(not ipv6_loopback(), reason="no IPv6 on the loopback interface")


def test_connection_refused() -> None:
    port = unused_port()
    result = failed(fetch(f"http://127.0.0.1:{port}/"))
    assert result.reason == (
        f"connection refused by 127.0.0.1:{port}: nothing is listening there"
        " (is the server running?)"
    )


def test_a_name_that_does_not_resolve() -> None:
    """`.invalid` never resolves (RFC 6761); without DNS the lookup fails or times out."""
    result = failed(fetch("http://sockview-test.invalid/", connect_timeout=3))
    assert result.reason.startswith("cannot resolve the host name 'sockview-test.invalid': ")
    assert result.total == 0


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        (socket.EAI_NONAME, "no such name (check the spelling)"),
        (socket.EAI_AGAIN, "the name server did not answer (is the network down?)"),
    ],
    ids=["no-such-name", "no-answer"],
)
def test_lookup_failures_say_which(monkeypatch, code: int, expected: str) -> None:
    def lookup(*args: object, **kwargs: object) -> object:
        raise socket.gaierror(code, "from the test")

    monkeypatch.setattr(socket, "getaddrinfo", lookup)
    result = failed(fetch("http://example.test/"))
    assert result.reason == f"cannot resolve the host name 'example.test': {expected}"


def blocked_lookup(monkeypatch) -> threading.Event:  # type: ignore[no-untyped-def]
    """Make host name lookups hang, as with an unreachable name server, until released."""
    release = threading.Event()
    real = socket.getaddrinfo

    def lookup(host, *args, **kwargs):  # type: ignore[no-untyped-def]
        if host == "slow-dns.test":
            release.wait(60)
        return real(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", lookup)
    return release


def test_a_hanging_lookup_meets_the_connect_timeout(monkeypatch) -> None:
    release = blocked_lookup(monkeypatch)
    try:
        result = failed(fetch("http://slow-dns.test/", connect_timeout=0.3))
    finally:
        release.set()
    assert result.reason == (
        "cannot resolve the host name 'slow-dns.test': no answer within 0.3 s"
        " (--connect-timeout; is the network down?)"
    )


def test_cancel_mid_lookup(monkeypatch) -> None:
    release = blocked_lookup(monkeypatch)
    try:
        running = start("http://slow-dns.test/", connect_timeout=60)
        wait_for(
            lambda: any(t.name == "sockview-resolve" for t in threading.enumerate()),
            "the lookup to start",
        )
        running.fetch.cancel()
        running.join(PROMPT)
    finally:
        release.set()
    result = failed(running)
    assert result.cancelled and result.reason == "cancelled"


def test_an_invalid_host_name_label() -> None:
    """Python's IDNA step refuses a label over 63 characters, before any lookup."""
    host = "a" * 64 + ".test"
    result = failed(fetch(f"http://{host}/"))
    assert result.reason.startswith(f"the host name '{host}' is not valid: ")


@needs_ipv6
def test_ipv6_server(serve) -> None:
    server = serve(lambda conn: conn.sendall(OK_RESPONSE), host="::1")
    running = fetch(server.url("/"))
    finished(running)
    assert peer_of(running) == f"[::1]:{server.port}"
    assert running.fetch.request.startswith(b"GET / HTTP/1.0\r\nHost: [::1]:")


@needs_ipv6
def test_ipv6_refused_names_the_bracketed_peer() -> None:
    port = unused_port("::1")
    result = failed(fetch(f"http://[::1]:{port}/"))
    assert result.reason.startswith(f"connection refused by [::1]:{port}: ")


@pytest.mark.parametrize("port", ["0", "65536", "99999", "http", "-1", "8080x"])
def test_bad_port(port: str) -> None:
    with pytest.raises(UrlError, match=r"^bad port: it must be a number from 1 to 65535$"):
        parse_url(f"http://127.0.0.1:{port}/")


def reset(conn: socket.socket) -> None:
    """Close with SO_LINGER 0: the kernel sends a reset, not a FIN."""
    conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    conn.close()


def test_reset_in_the_middle_of_the_body(serve) -> None:
    sent = b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n" + b"x" * 300
    received = threading.Event()

    def script(conn: socket.socket) -> None:
        conn.sendall(sent)
        received.wait(10)  # until the client has recorded those bytes: then reset
        reset(conn)

    def seen_all(event: object) -> None:
        if isinstance(event, ChunksReceived) and event.total == len(sent):
            received.set()

    server = serve(script)
    running = start(server.url("/"), read_timeout=60, emit_interval=0, on_event=seen_all)
    result = failed(running)
    assert (
        result.reason
        == f"the connection was reset by 127.0.0.1:{server.port} after {len(sent)} bytes"
    )
    assert result.total == len(sent)
    assert result.body_bytes == 300, "the body that came before the reset is kept"


def test_reset_before_any_answer(serve) -> None:
    server = serve(reset)
    result = failed(fetch(server.url("/")))
    assert result.reason in (
        f"the connection was reset by 127.0.0.1:{server.port} before any byte arrived"
        " (if it expects TLS, try https://)",
        # The reset can also beat our request out of the door.
        f"127.0.0.1:{server.port} closed the connection before the request was sent",
    )


def test_a_clean_close_mid_body_reads_differently_from_a_reset(serve) -> None:
    server = serve(
        lambda conn: conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n" + b"x" * 300)
    )
    result = failed(fetch(server.url("/")))
    assert result.reason == (
        "the connection closed after 300 of 1000 body bytes (Content-Length):"
        " the body is incomplete"
    )


def test_network_failures_in_plain_mode(serve, capsys) -> None:
    """One line each on stderr, naming its own cause; a bad port is a usage error."""
    server = serve(reset)
    cases = [
        (f"http://127.0.0.1:{unused_port()}/", "sockview: connection refused by 127.0.0.1:"),
        ("http://sockview-test.invalid/", "sockview: cannot resolve the host name "),
        (server.url("/"), "sockview: the connection was reset by 127.0.0.1:"),
    ]
    for url, start_of_line in cases:
        assert main([url, "--plain", "--connect-timeout", "3"]) == 1
        captured = capsys.readouterr()
        assert captured.out == ""
        assert captured.err.count("\n") == 1
        if "reset" in start_of_line and "before the request was sent" in captured.err:
            continue  # the reset beat the request: also one precise line
        assert captured.err.startswith(start_of_line), captured.err
    with pytest.raises(SystemExit) as exit:
        main(["http://127.0.0.1:0/", "--plain"])
    assert exit.value.code == 2
    assert capsys.readouterr().err.endswith(
        "sockview: error: bad port: it must be a number from 1 to 65535\n"
    )
