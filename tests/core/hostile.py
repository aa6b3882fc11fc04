"""Helpers for the hostile-server tests: run a fetch with a hang guard, check what it kept.

Every fetch here runs on its own thread and is joined with a time limit far above any
limit the test sets, so a hang fails the test instead of stalling the suite, and an
exception escaping `Fetch.perform` is re-raised on the test thread.
"""

from __future__ import annotations

import contextlib
import errno
import select
import socket
import ssl
import threading
import unicodedata
from collections.abc import Callable, Iterator, Sequence

import pytest
import trustme

from sockview.core.events import ChunksReceived, Connected, Failed, Finished
from tests.core.fetching import HANG_LIMIT, Running, start

PROMPT = 5.0
"""Seconds within which a cancel must end a fetch whose own limits are 60 s or more."""

OK_RESPONSE = b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello"


def fetch(url: str, **kwargs: object) -> Running:
    """Run a fetch to its end; fails the test on a hang."""
    running = start(url, **kwargs)  # type: ignore[arg-type]
    running.join()
    return running


# -- exact recv boundaries ----------------------------------------------------------------

PAIR_URL = "http://127.0.0.1:9/"
"""The target named by fetches over a socket pair; nothing connects to it."""


def seqpacket_pair() -> tuple[socket.socket, socket.socket]:
    """A connected pair on which each send() arrives as exactly one recv()."""
    if not hasattr(socket, "AF_UNIX"):
        pytest.skip("needs AF_UNIX sockets")
    try:
        return socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    except OSError:
        pytest.skip("needs AF_UNIX SOCK_SEQPACKET (Linux) to choose recv boundaries")


def fetch_pieces(pieces: Sequence[bytes], **options: object) -> Running:
    """Fetch a response that arrives exactly as `pieces`, one recv each, then a close.

    The fetch runs its real recv loop over one end of a SOCK_SEQPACKET pair: message
    boundaries are kept, so every recv returns one piece, as TCP might cut the stream.
    """
    pieces = [piece for piece in pieces if piece]  # TCP never delivers an empty recv
    options.setdefault("bufsize", max([65536, *map(len, pieces)]))
    client, server = seqpacket_pair()

    def write() -> None:
        with server:
            try:
                for piece in pieces:
                    server.sendall(piece)
                server.shutdown(socket.SHUT_WR)
            except OSError:
                pass  # the fetch gave up early and closed its end
            # Hold our end open until the fetch closes its own: a close here could turn
            # queued data into a reset on some systems.
            with contextlib.suppress(OSError):
                while server.recv(65536):
                    pass

    writer = threading.Thread(target=write, name="test-writer", daemon=True)
    writer.start()
    running = start(PAIR_URL, connected=client, **options)
    running.join()
    writer.join(HANG_LIMIT)
    return running


def splits(data: bytes) -> Iterator[tuple[str, list[bytes]]]:
    """The response whole, then one byte per recv (h11's own testing style)."""
    yield "whole", [data]
    yield "bytewise", [data[i : i + 1] for i in range(len(data))]


# -- checks -------------------------------------------------------------------------------


def assert_kept(running: Running) -> Finished | Failed:
    """The fetch ended once, cleanly, and what it received is all still there and reported."""
    result = running.join()
    fetch = running.fetch
    events = list(running.events)
    log = fetch.log
    assert events[-1] is result
    assert sum(isinstance(e, Finished | Failed) for e in events) == 1
    # Every recv row was announced, in order, with no gap, before the end.
    chunks = [e for e in events if isinstance(e, ChunksReceived)]
    assert [c.start for c in chunks] == [0, *(c.stop for c in chunks[:-1])][: len(chunks)]
    assert (chunks[-1].stop if chunks else 0) == len(log)
    assert (chunks[-1].total if chunks else 0) == log.total == result.total
    assert result.recv_count == len(log)
    assert sum(log.sizes) == log.total
    assert all(size > 0 for size in log.sizes)
    assert list(log.totals) == [sum(log.sizes[: i + 1]) for i in range(len(log))]
    assert result.body_bytes == fetch.body.size
    if isinstance(result, Failed):
        assert_one_line(result.reason)
    return result


def assert_one_line(text: str) -> None:
    """A message fit for one terminal line: not empty, no control characters, no traceback."""
    assert text.strip(), "empty message"
    assert "Traceback" not in text
    assert printable(text), f"control characters in {text!r}"
    assert len(text) < 400, f"message too long: {text!r}"


def printable(text: str, allow: str = "") -> bool:
    """True if `text` has no control or format character (line breaks only if allowed)."""
    return all(c in allow or unicodedata.category(c) not in ("Cc", "Cf") for c in text)


def failed(running: Running) -> Failed:
    result = assert_kept(running)
    assert isinstance(result, Failed), f"expected a failure, got {result}"
    return result


def finished(running: Running) -> Finished:
    result = assert_kept(running)
    assert isinstance(result, Finished), f"expected success, got {result}"
    return result


def peer_of(running: Running) -> str:
    connected = running.of_type(Connected)
    assert connected, "never connected"
    return connected[0].peer


# -- server-side helpers ------------------------------------------------------------------


def pour(conn: socket.socket, block: bytes, stopping: threading.Event) -> None:
    """Send `block` again and again until the test ends or the client goes away.

    Waits for room with select() rather than in a blocking send, so that the script
    notices the end of the test even when the client stopped reading without a reset.
    """
    conn.setblocking(False)
    view = memoryview(block)
    sent = 0
    while not stopping.is_set():
        _, writable, _ = select.select([], [conn], [], 0.05)
        if writable:
            sent += conn.send(view[sent:])
            if sent == len(block):
                sent = 0


# -- servers that cannot be reached in time -----------------------------------------------


@contextlib.contextmanager
def unanswered_port() -> Iterator[int]:
    """A loopback port whose listener never completes a connection: connects just wait.

    A listener with backlog 0 takes one connection into its accept queue; while that is
    full, Linux drops further SYNs, so connect() waits and retries until it times out.
    Skips if this system accepts anyway.
    """
    listener = socket.socket()
    fillers: list[socket.socket] = []
    try:
        listener.bind(("127.0.0.1", 0))
        listener.listen(0)
        address = listener.getsockname()
        for _ in range(8):
            probe = socket.socket()
            probe.setblocking(False)
            code = probe.connect_ex(address)
            if code not in (0, errno.EINPROGRESS):
                probe.close()
                break
            _, writable, _ = select.select([], [probe], [], 0.2)
            if not writable:
                probe.close()  # pending: the queue is full
                yield int(address[1])
                return
            fillers.append(probe)
        pytest.skip("this system completes connections beyond a full backlog")
    finally:
        for sock in fillers:
            sock.close()
        listener.close()


def server_context(cert: trustme.LeafCert) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    cert.configure_cert(context)
    return context


def tls_script(
    context: ssl.SSLContext, response: bytes = OK_RESPONSE, close_notify: bool = False
) -> Callable[..., None]:
    """Handshake, read the request head, answer; a failed handshake just closes.

    The close is a TCP FIN with no TLS close_notify (what a truncation on the path looks
    like) unless `close_notify`.
    """

    def script(conn: socket.socket) -> None:
        try:
            tls = context.wrap_socket(conn, server_side=True)
        except (ssl.SSLError, OSError):
            return
        with tls:
            data = b""
            while b"\r\n\r\n" not in data:
                more = tls.recv(4096)
                if not more:
                    return
                data += more
            tls.sendall(response)
            if close_notify:
                with contextlib.suppress(OSError):
                    tls.unwrap()

    return script
