"""Hostile timing: silent servers, trickling servers, connections that never complete.

Every limit is set small here (0.2 to 0.5 s) so that the tests are fast; the checks are on
which limit fired and what was kept, never on how fast anything went.
"""

from __future__ import annotations

import socket
import ssl

import pytest

from sockview.cli import main
from sockview.core.fetch import FetchOptions
from tests.core.fetching import start, wait_for
from tests.core.hostile import (
    PROMPT,
    assert_one_line,
    failed,
    fetch,
    peer_of,
    unanswered_port,
)


def test_defaults_are_the_documented_ones() -> None:
    options = FetchOptions()
    assert (options.connect_timeout, options.read_timeout, options.deadline) == (10.0, 30.0, None)
    assert options.max_header == 64 * 1024


def test_accept_and_never_answer(serve) -> None:
    server = serve(lambda conn: server.stopping.wait())
    running = fetch(server.url("/"), read_timeout=0.3)
    result = failed(running)
    assert result.reason == (
        f"no data from {peer_of(running)} for 0.3 s before any byte arrived (--read-timeout)"
    )
    assert not result.cancelled
    assert result.total == 0


def test_silence_after_the_head(serve) -> None:
    head = b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nabc"

    def script(conn: socket.socket) -> None:
        conn.sendall(head)
        server.stopping.wait()

    server = serve(script)
    running = fetch(server.url("/"), read_timeout=0.3)
    result = failed(running)
    assert result.reason == (
        f"no data from {peer_of(running)} for 0.3 s after {len(head)} bytes (--read-timeout)"
    )
    assert result.body_bytes == 3
    assert running.head is not None


def trickle(serve, every: float):  # type: ignore[no-untyped-def]
    """A server that sends its answer one byte at a time, `every` seconds apart."""
    answer = b"HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n" + b"." * 100000

    def script(conn: socket.socket) -> None:
        for byte in answer:
            conn.sendall(bytes([byte]))
            if server.stopping.wait(every):  # the server's own pace, not a test wait
                return

    server = serve(script)
    return server


def test_one_byte_a_second_meets_the_read_timeout(serve) -> None:
    server = trickle(serve, every=1.0)
    result = failed(fetch(server.url("/"), read_timeout=0.3))
    assert "for 0.3 s after 1 byte (--read-timeout)" in result.reason
    assert result.total == 1


def test_one_byte_a_second_meets_the_deadline(serve) -> None:
    server = trickle(serve, every=1.0)
    result = failed(fetch(server.url("/"), read_timeout=30, deadline=0.4))
    assert result.reason == (
        "the fetch took longer than the 0.4 s deadline (--deadline); 1 byte had arrived"
    )


def test_a_steady_trickle_never_trips_the_read_timeout_but_meets_the_deadline(serve) -> None:
    server = trickle(serve, every=0.01)
    running = fetch(server.url("/"), read_timeout=5, deadline=0.4, bufsize=1)
    result = failed(running)
    assert result.reason.startswith("the fetch took longer than the 0.4 s deadline (--deadline)")
    assert not result.cancelled
    # Every byte that came is in the log, one record each.
    assert result.total == len(running.fetch.log) > 1


def test_connect_timeout() -> None:
    with unanswered_port() as port:
        running = fetch(f"http://127.0.0.1:{port}/", connect_timeout=0.3)
    result = failed(running)
    assert (
        result.reason == f"connecting to 127.0.0.1:{port} timed out after 0.3 s (--connect-timeout)"
    )
    assert result.total == 0


def test_a_shorter_deadline_bounds_the_connect_and_says_so() -> None:
    with unanswered_port() as port:
        running = fetch(f"http://127.0.0.1:{port}/", connect_timeout=60, deadline=0.3)
    result = failed(running)
    assert result.reason == f"connecting to 127.0.0.1:{port} timed out after 0.3 s (--deadline)"


def test_tls_handshake_timeout(serve) -> None:
    """A plain server that waits for a request: the ClientHello gets no answer."""
    server = serve(lambda conn: server.stopping.wait(), read_request=False)
    running = fetch(server.url("/", scheme="https"), connect_timeout=0.3)
    result = failed(running)
    assert result.reason == (
        f"the TLS handshake with {peer_of_url(server)} timed out after 0.3 s (--connect-timeout):"
        " the server may not speak TLS (try http://)"
    )


def peer_of_url(server) -> str:  # type: ignore[no-untyped-def]
    return f"127.0.0.1:{server.port}"


def test_cancel_mid_tls_handshake(serve) -> None:
    server = serve(lambda conn: server.stopping.wait(), read_request=False)
    running = start(server.url("/", scheme="https"), connect_timeout=60)
    wait_for(
        lambda: isinstance(running.fetch.current_socket, ssl.SSLSocket), "the handshake to begin"
    )  # peeks: there is no event before the handshake ends
    running.fetch.cancel()
    running.join(PROMPT)
    result = failed(running)
    assert result.cancelled and result.reason == "cancelled"


@pytest.mark.parametrize(
    ("flag", "expected"),
    [
        ("--read-timeout", "for 0.3 s before any byte arrived (--read-timeout)"),
        ("--deadline", "the fetch took longer than the 0.3 s deadline (--deadline)"),
    ],
)
def test_time_limits_from_the_command_line(serve, capsys, flag: str, expected: str) -> None:
    server = serve(lambda conn: server.stopping.wait())
    status = main([server.url("/"), "--plain", flag, "0.3"])
    captured = capsys.readouterr()
    assert status == 1
    assert captured.out == ""
    assert expected in captured.err
    assert captured.err.count("\n") == 1
    assert_one_line(captured.err.rstrip("\n"))


def test_connect_timeout_from_the_command_line(capsys) -> None:
    with unanswered_port() as port:
        status = main([f"http://127.0.0.1:{port}/", "--plain", "--connect-timeout", "0.3"])
    err = capsys.readouterr().err
    assert status == 1
    assert err == (
        f"sockview: connecting to 127.0.0.1:{port} timed out after 0.3 s (--connect-timeout)\n"
    )
