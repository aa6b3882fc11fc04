"""The embedded demo server: HTTP on 127.0.0.1, so that sockview works offline.

Routes (all answer GET, with `Connection: close`):

    /cover.png       the sample picture, with a 242-byte header like the book's
    /bytes/N         N bytes of body with a Content-Length
    /chunked/N       N bytes of body, chunked (HTTP/1.1)
    /slow/N          N bytes, trickled at ?rate= bytes a second (default 8192)

Every route takes `?pace=0|1` (network-like pacing, on by default unless the server is
deterministic) and `?stall=N` (stop after N body bytes and hold the connection open).

Pacing sends a first burst of ten 1448-byte packets (a typical initial congestion window),
then segments of one to four packets with a short gap after each, so a
reader that does not pause sees recv sizes vary as in the book, and one that pauses for
0.25 s sees full buffers. The deterministic mode (tests, screenshots) fixes the Date and
sends each response in one piece.
"""

from __future__ import annotations

import argparse
import email.utils
import hashlib
import random
import socket
import socketserver
import threading
import time
from collections.abc import Iterator
from urllib.parse import parse_qs, urlsplit

import h11

from sockview.core.sample_image import sample_png

SEGMENT = 1448
"""A typical TCP payload on Ethernet (1500 MTU less IP and TCP headers with timestamps)."""
INITIAL_WINDOW = 10 * SEGMENT
"""What a real sender puts on the wire at once before it waits for acks (RFC 6928)."""
FIXED_DATE = "Sat, 23 Apr 2016 06:51:38 GMT"
MAX_DEMO_BODY = 64 * 1024**3
REQUEST_TIMEOUT = 10.0
"""Seconds a client has to send its request."""
SEND_IDLE_LIMIT = 3600.0
"""Seconds a client may leave its receive buffer full before it is dropped.

A learner may pause the reader for a long time (a long --delay, a paused app): the demo
waits for it. Large, because on loopback the window opens again only after the reader
has emptied a whole 64 KiB segment's worth of buffer, which at 5120 bytes a minute takes
13 minutes.
"""
_SEND_POLL = 0.1
_BLOCK = bytes(range(256)) * 256  # 64 KiB of a recognisable pattern


def cover_head(body: bytes, date: str) -> bytes:
    """The picture's header: the book's fields, and exactly 242 bytes up to the blank line."""
    fields = [
        "HTTP/1.1 200 OK",
        f"Date: {date}",
        "Server: sockview-demo",
        "Last-Modified: Fri, 04 Dec 2015 19:05:04 GMT",
        'ETag: "{}"',
        "Accept-Ranges: bytes",
        f"Content-Length: {len(body)}",
        "Connection: close",
        "Content-Type: image/png",
    ]
    width = 242 - len("\r\n".join(fields).replace("{}", ""))
    digest = hashlib.sha1(body).hexdigest()
    etag = f"{digest[:8]}-{len(body):x}-{digest[8:]}"[:width]
    text = "\r\n".join(fields).replace("{}", etag)
    assert len(text) == 242, len(text)
    return text.encode("ascii") + b"\r\n\r\n"


def _count(text: str | None) -> int | None:
    """A non-negative number from a path or query; None for anything else."""
    # str.isdigit() alone lets "²" through, which int() refuses; and int() refuses
    # strings of more than 4300 digits.
    if text and len(text) <= 20 and text.isascii() and text.isdigit():
        return int(text)
    return None


def _pattern(size: int) -> Iterator[memoryview]:
    view = memoryview(_BLOCK)
    while size > 0:
        piece = view[: min(size, len(_BLOCK))]
        size -= len(piece)
        yield piece


class _Response:
    """What to send: a head, then body pieces, with the pacing to use."""

    def __init__(self, head: bytes, body: Iterator[bytes | memoryview], chunked: bool = False):
        self.head = head
        self.body = body
        self.chunked = chunked


class DemoServer:
    """A threaded HTTP server on 127.0.0.1; use as a context manager or start/stop."""

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        paced: bool = True,
        deterministic: bool = False,
    ) -> None:
        self.paced = paced and not deterministic
        self.deterministic = deterministic
        self._stopping = threading.Event()
        demo = self

        class Handler(socketserver.BaseRequestHandler):
            def handle(self) -> None:
                demo._handle(self.request)

        family = socket.AF_INET6 if ":" in host else socket.AF_INET

        class Server(socketserver.ThreadingTCPServer):
            address_family = family
            daemon_threads = True
            allow_reuse_address = True

        self._server = Server((host, port), Handler)
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    @property
    def host(self) -> str:
        return str(self._server.server_address[0])

    def url(self, path: str = "/cover.png") -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}{path}"

    def start(self) -> DemoServer:
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> DemoServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- serving --------------------------------------------------------------------

    def _handle(self, sock: socket.socket) -> None:
        sock.settimeout(REQUEST_TIMEOUT)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        try:
            target = self._read_request(sock)
            if target is None:
                return
            parts = urlsplit(target)
            query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
            response = self._route(parts.path, query)
            paced = self.paced if "pace" not in query else query["pace"] not in ("0", "off")
            stall = _count(query.get("stall"))
            # From here on the sends wait for the reader (see `_sendall`).
            sock.settimeout(_SEND_POLL)
            self._send(sock, response, paced, stall)
        except (OSError, h11.ProtocolError):
            pass

    def _read_request(self, sock: socket.socket) -> str | None:
        conn = h11.Connection(h11.SERVER)
        while True:
            event = conn.next_event()
            if event is h11.NEED_DATA:
                data = sock.recv(65536)
                if not data:
                    return None
                conn.receive_data(data)
            elif isinstance(event, h11.Request):
                return event.target.decode("latin-1")
            else:
                return None

    def _date(self) -> str:
        return FIXED_DATE if self.deterministic else email.utils.formatdate(usegmt=True)

    def _route(self, path: str, query: dict[str, str]) -> _Response:
        parts = [p for p in path.split("/") if p]
        kind = parts[0] if parts else ""
        size = _count(parts[1]) if len(parts) == 2 else None
        if kind == "cover.png" and len(parts) == 1:
            body = sample_png()
            return _Response(cover_head(body, self._date()), iter([body]))
        if kind in ("bytes", "slow") and size is not None and size <= MAX_DEMO_BODY:
            head = self._head("200 OK", "application/octet-stream", f"Content-Length: {size}")
            if kind == "slow":
                rate = _count(query.get("rate"))
                return _Response(head, self._trickle(size, max(1, 8192 if rate is None else rate)))
            return _Response(head, _pattern(size))
        if kind == "chunked" and size is not None and size <= MAX_DEMO_BODY:
            head = self._head("200 OK", "application/octet-stream", "Transfer-Encoding: chunked")
            return _Response(head, _pattern(size), chunked=True)
        if not kind:
            return self._text("200 OK", INDEX)
        return self._text("404 Not Found", f"no such demo resource: {path!r}\n\n{INDEX}")

    def _head(self, status: str, content_type: str, framing: str) -> bytes:
        lines = [
            f"HTTP/1.1 {status}",
            f"Date: {self._date()}",
            "Server: sockview-demo",
            f"Content-Type: {content_type}",
            framing,
            "Connection: close",
        ]
        return ("\r\n".join(lines) + "\r\n\r\n").encode("ascii")

    def _text(self, status: str, text: str) -> _Response:
        body = text.encode("utf-8")
        head = self._head(status, "text/plain; charset=utf-8", f"Content-Length: {len(body)}")
        return _Response(head, iter([body]))

    def _trickle(self, size: int, rate: int) -> Iterator[bytes | memoryview]:
        piece = max(1, min(SEGMENT, rate // 10))
        for view in _pattern(size):
            for start in range(0, len(view), piece):
                if self._stopping.wait(piece / rate):
                    return
                yield view[start : start + piece]

    def _send(
        self, sock: socket.socket, response: _Response, paced: bool, stall: int | None
    ) -> None:
        rng = random.Random(len(response.head))
        out: list[bytes | memoryview] = [response.head]
        burst = INITIAL_WINDOW
        sent = 0
        for piece in response.body:
            if stall is not None and sent + len(piece) > stall:
                piece = piece[: max(0, stall - sent)]
            if response.chunked:
                out += [b"%x\r\n" % len(piece), bytes(piece), b"\r\n"] if piece else []
            else:
                out.append(bytes(piece) if paced else piece)
            sent += len(piece)
            if paced:
                data = b"".join(out)
                if burst:
                    self._sendall(sock, data[:burst])
                    data, burst = data[burst:], 0
                self._send_paced(sock, data, rng)
            else:
                # Deterministic mode sends the head with the first piece in one call, so a
                # reader sees the same recv sizes on every run (the app's snapshot tests).
                for part in [b"".join(out)] if self.deterministic else out:
                    self._sendall(sock, part)
            out = []
            if stall is not None and sent >= stall:
                self._hold(sock)
                return
        if response.chunked:
            out.append(b"0\r\n\r\n")
        for part in out:
            self._sendall(sock, part)
        sock.shutdown(socket.SHUT_WR)

    def _send_paced(self, sock: socket.socket, data: bytes, rng: random.Random) -> None:
        view = memoryview(data)
        while view:
            size = SEGMENT * rng.choice((1, 1, 2, 2, 3, 4))
            self._sendall(sock, view[:size])
            view = view[size:]
            if self._stopping.wait(rng.choice((0.0005, 0.001, 0.002))):
                return

    def _sendall(self, sock: socket.socket, data: bytes | memoryview) -> None:
        """Send it all, however slowly the client reads; give up only when we stop.

        `socket.sendall` with a timeout gives up after that long in all, and a plain
        blocking one would outlive `stop()`. The socket's timeout here is a short poll.
        """
        view = memoryview(data)
        idle_since = time.monotonic()
        while view:
            try:
                sent = sock.send(view)
            except TimeoutError:
                if self._stopping.is_set():
                    raise OSError("the demo server is stopping") from None
                if time.monotonic() - idle_since > SEND_IDLE_LIMIT:
                    raise
                continue
            view = view[sent:]
            idle_since = time.monotonic()

    def _hold(self, sock: socket.socket) -> None:
        """Keep the connection open, sending nothing, until the client goes or we stop."""
        sock.settimeout(0.1)
        while not self._stopping.is_set():
            try:
                if not sock.recv(4096):
                    return
            except TimeoutError:
                continue


INDEX = """sockview demo server

  /cover.png        a 70057-byte picture with a 242-byte header, like the book's
  /bytes/N          N bytes with a Content-Length
  /chunked/N        N bytes, chunked
  /slow/N?rate=R    N bytes at R bytes a second

  ?pace=0           send at full speed     ?stall=N   stop after N body bytes
"""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m sockview.demo", description="Run sockview's demo HTTP server."
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (127.0.0.1)")
    parser.add_argument("--port", type=int, default=8000, help="port to listen on (8000; 0: any)")
    parser.add_argument("--no-pace", action="store_true", help="send at full speed")
    parser.add_argument(
        "--deterministic", action="store_true", help="fixed Date, one-piece sends (tests)"
    )
    args = parser.parse_args(argv)
    try:
        server = DemoServer(
            args.host, args.port, paced=not args.no_pace, deterministic=args.deterministic
        )
    except OSError as exc:
        parser.exit(2, f"sockview demo: cannot listen on {args.host}:{args.port}: {exc.strerror}\n")
    print(f"sockview demo server on {server.url('/')} (Ctrl-C stops it)", flush=True)
    server.start()
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        server.stop()
    return 0
