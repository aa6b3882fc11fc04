"""The embedded demo server: HTTP on 127.0.0.1, so that sockview works offline.

Routes (GET and HEAD; other methods get a 405; every answer has `Connection: close`):

    /cover.png       the sample picture, with a 242-byte header like the book's
    /bytes/N         N bytes of body with a Content-Length
    /chunked/N       N bytes of body, chunked (HTTP/1.1; framed by the close for HTTP/1.0)
    /slow/N          N bytes, trickled at ?rate= bytes a second (default 8192)

Every route takes `?pace=0|1` (network-like pacing, on by default unless the server is
deterministic), `?stall=N` (stop after N body bytes and hold the connection open) and
`?sndbuf=N` (a send buffer of N bytes, so that flow control stalls the sender in steps).
`/cover.png` and `/bytes/N` honour a single `Range`. A bad request gets a status and a
one-line reason, never a silent close.

Pacing sends a first burst of ten 1448-byte packets (a typical initial congestion window),
then segments of one to four packets with a short gap after each, so a
reader that does not pause sees recv sizes vary as in the book, and one that pauses for
0.25 s sees full buffers. The deterministic mode (tests, screenshots) fixes the Date and
sends each response in one piece.

For each connection the server keeps `SenderStats` (core/run.py): the bytes handed to the
kernel and the time `send` was blocked because the send buffer was full; the app finds
them with `sender_for(address)`, the client's own address, and shows the sender's lane.

A class at once: the picture is built before the server listens, the listen queue holds
128, each connection has a thread, and connections are capped below the file-descriptor
limit (the accept loop waits for a free slot rather than spinning on EMFILE).
"""

from __future__ import annotations

import argparse
import email.utils
import errno
import hashlib
import random
import resource
import select
import selectors
import socket
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from urllib.parse import parse_qs, urlsplit

from sockview.core.demo_request import REASONS, BadRequest, Request, byte_range, first_line
from sockview.core.demo_request import count as _count
from sockview.core.demo_request import read_request as _read_request
from sockview.core.local_addresses import reachable_addresses
from sockview.core.run import SenderStats
from sockview.core.sample_image import sample_png

SEGMENT = 1448
"""A typical TCP payload on Ethernet (1500 MTU less IP and TCP headers with timestamps)."""
INITIAL_WINDOW = 10 * SEGMENT
"""What a real sender puts on the wire at once before it waits for acks (RFC 6928)."""
FIXED_DATE = "Sat, 23 Apr 2016 06:51:38 GMT"
MAX_DEMO_BODY = 64 * 1024**3
REQUEST_TIMEOUT = 10.0
"""Seconds a client has to send its whole request head."""
SEND_IDLE_LIMIT = 3600.0
"""Seconds a client may leave its receive buffer full before it is dropped.

A learner may pause the reader for a long time (a long --delay, a paused app): the demo
waits for it. Large, because on loopback the window opens again only after the reader
has emptied a whole 64 KiB segment's worth of buffer, which at 5120 bytes a minute takes
13 minutes.
"""
BACKLOG = 128
"""The listen queue: a class arriving at once waits here, not in SYN retries."""
LINGER_QUIET = 2.0
"""After the response, read and drop what the client still sends until it is this quiet.

Closing with unread input makes the kernel send a reset, which throws away the tail of
the response that the client has not read yet.
"""
LINGER_LIMIT = 30.0
DEFAULT_MAX_CONNECTIONS = 1000
ALLOW = "GET, HEAD"
_SEND_POLL = 0.1
SENDER_HISTORY_NS = 20_000_000
"""The sender's history notes its figures at most this often (and at each stall)."""
MAX_SENDERS = 64
"""Connections whose sender figures the server keeps (the newest)."""
MAX_SNDBUF = 64 * 1024 * 1024
_BLOCK = bytes(range(256)) * 256  # 64 KiB of a recognisable pattern
_OUT_OF_FILES = (errno.EMFILE, errno.ENFILE, errno.ENOBUFS, errno.ENOMEM)


def _cover_fields(body: bytes, date: str) -> list[str]:
    return [
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


def cover_head(body: bytes, date: str) -> bytes:
    """The picture's header: the book's fields, and exactly 242 bytes up to the blank line."""
    fields = _cover_fields(body, date)
    text = "\r\n".join(fields).replace("{}", _cover_etag(body, date))
    assert len(text) == 242, len(text)
    return text.encode("ascii") + b"\r\n\r\n"


def _cover_etag(body: bytes, date: str) -> str:
    """An ETag cut to the width that makes the header 242 bytes (a Date is always 29)."""
    width = 242 - len("\r\n".join(_cover_fields(body, date)).replace("{}", ""))
    digest = hashlib.sha1(body).hexdigest()
    return f"{digest[:8]}-{len(body):x}-{digest[8:]}"[:width]


def port_number(text: str) -> int:
    """argparse type for --port: 0 to 65535."""
    if text.isascii() and text.isdigit() and int(text) <= 65535:
        return int(text)
    raise argparse.ArgumentTypeError(f"{text!r} is not a port number (0 to 65535)")


def _pattern(size: int, offset: int = 0) -> Iterator[memoryview]:
    """`size` bytes of the 0..255 pattern, as from byte `offset` of an endless run of it."""
    view = memoryview(_BLOCK)
    start = offset % 256
    while size > 0:
        piece = view[start : start + size]
        start = 0  # a whole block ends at a multiple of 256
        size -= len(piece)
        yield piece


class _Response:
    """What to send: a head, then body pieces, with the pacing to use."""

    def __init__(
        self,
        status: int,
        head: bytes,
        body: Iterator[bytes | memoryview],
        chunked: bool = False,
    ):
        self.status = status
        self.head = head
        self.body = body
        self.chunked = chunked


@dataclass
class _Exchange:
    """One connection: its socket, and what the log line reports."""

    sock: socket.socket
    client: str
    started: float
    line: str = ""
    status: int = 0
    sent: int = 0
    stats: SenderStats = field(default_factory=SenderStats)


class DemoServer:
    """A threaded HTTP server on 127.0.0.1; use as a context manager or start/stop.

    `log` (off by default: the app owns the terminal) receives one line per request
    when `log_requests` is true, and the server's own notes (connection cap, EMFILE).
    """

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        paced: bool = True,
        deterministic: bool = False,
        log: Callable[[str], None] | None = None,
        log_requests: bool = True,
        max_connections: int | None = None,
        sndbuf: int | None = None,
    ) -> None:
        self.paced = paced and not deterministic
        self.sndbuf = sndbuf
        """SO_SNDBUF for every connection (`?sndbuf=N` sets it for one)."""
        self._senders: dict[str, SenderStats] = {}
        self._senders_lock = threading.Lock()
        self.deterministic = deterministic
        self.max_connections = max_connections or default_max_connections()
        self._log = log
        self._log_requests = log_requests and log is not None
        self._stopping = threading.Event()
        # Built once, before the first student can connect (it takes a moment).
        self._cover = sample_png()
        self._cover_etag = _cover_etag(self._cover, FIXED_DATE)
        self._slots = threading.Condition()
        self._active = 0
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        self._listener = socket.socket(family, socket.SOCK_STREAM)
        try:
            self._listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            self._listener.bind((host, port))
            self._listener.listen(BACKLOG)
            self._listener.setblocking(False)
        except BaseException:
            self._listener.close()
            raise
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        return int(self._listener.getsockname()[1])

    @property
    def host(self) -> str:
        return str(self._listener.getsockname()[0])

    @property
    def active_connections(self) -> int:
        return self._active

    def url(self, path: str = "/cover.png") -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}{path}"

    def start(self) -> DemoServer:
        self._thread = threading.Thread(target=self._accept_loop, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        with self._slots:
            self._slots.notify_all()
        if self._thread is not None:
            self._thread.join()
        self._listener.close()

    def __enter__(self) -> DemoServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- accepting ------------------------------------------------------------------

    def _note(self, text: str) -> None:
        if self._log is not None:
            self._log(f"sockview demo: {text}")

    def _accept_loop(self) -> None:
        selector = selectors.DefaultSelector()
        selector.register(self._listener, selectors.EVENT_READ)
        capped = short = False
        backoff = 0.05
        try:
            while not self._stopping.is_set():
                with self._slots:
                    while self._active >= self.max_connections and not self._stopping.is_set():
                        if not capped:
                            capped = True
                            self._note(
                                f"{self._active} connections open, the cap (--max-connections):"
                                " new students wait in the listen queue until some leave"
                            )
                        self._slots.wait(0.5)
                if capped and not self._stopping.is_set():
                    capped = False
                    self._note(f"{self._active} connections: below the cap, accepting again")
                if not selector.select(0.05):
                    continue
                try:
                    sock, address = self._listener.accept()
                except (BlockingIOError, InterruptedError):
                    continue
                except OSError as exc:
                    if exc.errno not in _OUT_OF_FILES:
                        continue  # the client gave up first (ECONNABORTED): next
                    if not short:
                        short = True
                        self._note(
                            f"out of file descriptors ({errno.errorcode.get(exc.errno or 0)}"
                            f" at {self._active} connections): waiting for some to leave"
                        )
                    # The pending connection stays readable: wait, or this loop spins.
                    with self._slots:
                        self._slots.wait(backoff)
                    backoff = min(backoff * 2, 1.0)
                    continue
                if short:
                    short = False
                    self._note(f"accepting again at {self._active} connections")
                backoff = 0.05
                self._spawn(sock, address)
        finally:
            selector.close()

    def _spawn(self, sock: socket.socket, address: tuple[object, ...]) -> None:
        with self._slots:
            self._active += 1
        client = (
            f"[{address[0]}]:{address[1]}"
            if sock.family == socket.AF_INET6
            else f"{address[0]}:{address[1]}"
        )
        exchange = _Exchange(sock, client, time.monotonic())
        with self._senders_lock:
            self._senders[client] = exchange.stats
            while len(self._senders) > MAX_SENDERS:
                del self._senders[next(iter(self._senders))]
        try:
            threading.Thread(target=self._serve, args=(exchange,), daemon=True).start()
        except RuntimeError:  # can't start a new thread: the machine is full
            sock.close()
            self._release()

    def sender_for(self, client: str) -> SenderStats | None:
        """The sender's figures for the connection from `client` (`host:port`, as the
        client names its own end: `Run.local`); None if this server never served it."""
        with self._senders_lock:
            return self._senders.get(client)

    def _release(self) -> None:
        with self._slots:
            self._active -= 1
            self._slots.notify_all()

    # -- serving --------------------------------------------------------------------

    def _serve(self, exchange: _Exchange) -> None:
        sock = exchange.sock
        try:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            self._handle(exchange)
            self._linger(sock)
        except OSError:
            pass
        except Exception as exc:  # a bug here must not print a traceback on the teacher's screen
            self._note(f"internal error: {type(exc).__name__}: {exc}")
        finally:
            sock.close()
            self._release()

    def _handle(self, exchange: _Exchange) -> None:
        sock = exchange.sock
        start = bytearray()
        try:
            request = _read_request(sock, time.monotonic() + REQUEST_TIMEOUT, start)
            if request is None:
                return
            response, query = self._respond(request)
        except BadRequest as bad:
            response, query = self._text(bad.status, bad.reason + "\n"), {}
        finally:
            exchange.line = first_line(bytes(start)) if start else ""
        exchange.status = response.status
        paced = self.paced if "pace" not in query else query["pace"] not in ("0", "off")
        stall = _count(query.get("stall"))
        sndbuf = _count(query.get("sndbuf")) or self.sndbuf
        if sndbuf:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, min(sndbuf, MAX_SNDBUF))
            exchange.stats.sndbuf = sock.getsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF)
        # From here on the sends wait for the reader (see `_sendall`).
        sock.setblocking(False)
        try:
            self._send(exchange, response, paced, stall)
        finally:
            self._log_request(exchange)

    def _log_request(self, exchange: _Exchange) -> None:
        if not self._log_requests or self._log is None or not exchange.line:
            return
        seconds = time.monotonic() - exchange.started
        self._log(
            f'{exchange.client} [{time.strftime("%H:%M:%S")}] "{exchange.line}"'
            f" {exchange.status} {exchange.sent} bytes {seconds:.2f} s"
        )

    def _linger(self, sock: socket.socket) -> None:
        """Shut down our side, then drop what the client still sends, then close.

        A close with unread input makes the kernel reset the connection, and the reset
        discards what the client has not read yet: a pipelined second request would
        cost the student the tail of the picture.
        """
        try:
            sock.shutdown(socket.SHUT_WR)
        except OSError:
            return
        give_up = time.monotonic() + LINGER_LIMIT
        quiet_since = time.monotonic()
        sock.settimeout(_SEND_POLL)
        while not self._stopping.is_set():
            now = time.monotonic()
            if now > give_up or now - quiet_since > LINGER_QUIET:
                return
            try:
                if not sock.recv(65536):
                    return
            except TimeoutError:
                continue
            quiet_since = time.monotonic()

    def _date(self) -> str:
        return FIXED_DATE if self.deterministic else email.utils.formatdate(usegmt=True)

    def _respond(self, request: Request) -> tuple[_Response, dict[str, str]]:
        if request.method not in ("GET", "HEAD"):
            reason = f"{request.method[:40]} is not served here: ask with GET or HEAD\n"
            return self._text(405, reason, f"Allow: {ALLOW}"), {}
        try:
            parts = urlsplit(request.target)
        except ValueError:
            raise BadRequest(400, "the URL in the request line does not parse") from None
        query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
        response = self._route(parts.path, query, request)
        if request.method == "HEAD":
            response.body = iter(())
        return response, query

    def _route(self, path: str, query: dict[str, str], request: Request) -> _Response:
        parts = [p for p in path.split("/") if p]
        kind = parts[0] if parts else ""
        size = _count(parts[1]) if len(parts) == 2 else None
        if kind == "cover.png" and len(parts) == 1:
            return self._cover_response(request)
        if kind in ("bytes", "slow") and size is not None and size <= MAX_DEMO_BODY:
            if kind == "slow":
                head = self._head(200, "application/octet-stream", f"Content-Length: {size}")
                rate = _count(query.get("rate"))
                body = self._trickle(size, max(1, 8192 if rate is None else rate))
                return _Response(200, head, body)
            return self._bytes_response(size, request)
        if kind == "chunked" and size is not None and size <= MAX_DEMO_BODY:
            if request.http_version < "1.1":
                # A 1.0 client cannot read chunks: the end of the body is the close.
                head = self._head(200, "application/octet-stream")
                return _Response(200, head, _pattern(size))
            head = self._head(200, "application/octet-stream", "Transfer-Encoding: chunked")
            return _Response(200, head, _pattern(size), chunked=True)
        if not kind:
            return self._text(200, INDEX)
        return self._text(404, f"no such demo resource: {path!r}\n\n{INDEX}")

    def _range(self, request: Request, size: int, etag: str | None) -> tuple[int, int] | None:
        if_range = request.headers.get("if-range")
        if if_range is not None and (etag is None or if_range.strip() != f'"{etag}"'):
            return None  # the client's copy is not this one: send it all
        return byte_range(request.headers.get("range"), size)

    def _cover_response(self, request: Request) -> _Response:
        body = self._cover
        wanted = self._range_or_416(request, len(body), self._cover_etag)
        if isinstance(wanted, _Response):
            return wanted
        if wanted is None:
            return _Response(200, cover_head(body, self._date()), iter([body]))
        first, last = wanted
        fields = _cover_fields(body, self._date())
        fields[0] = "HTTP/1.1 206 Partial Content"
        fields[6] = f"Content-Range: bytes {first}-{last}/{len(body)}"
        fields.insert(7, f"Content-Length: {last - first + 1}")
        text = "\r\n".join(fields).replace("{}", self._cover_etag)
        return _Response(206, text.encode("ascii") + b"\r\n\r\n", iter([body[first : last + 1]]))

    def _bytes_response(self, size: int, request: Request) -> _Response:
        wanted = self._range_or_416(request, size, None)
        if isinstance(wanted, _Response):
            return wanted
        if wanted is None:
            head = self._head(200, "application/octet-stream", f"Content-Length: {size}")
            return _Response(200, head, _pattern(size))
        first, last = wanted
        head = self._head(
            206,
            "application/octet-stream",
            f"Content-Range: bytes {first}-{last}/{size}",
            f"Content-Length: {last - first + 1}",
        )
        return _Response(206, head, _pattern(last - first + 1, first))

    def _range_or_416(
        self, request: Request, size: int, etag: str | None
    ) -> tuple[int, int] | _Response | None:
        try:
            return self._range(request, size, etag)
        except BadRequest as bad:
            return self._text(416, bad.reason + "\n", f"Content-Range: bytes */{size}")

    def _head(self, status: int, content_type: str, *framing: str) -> bytes:
        lines = [
            f"HTTP/1.1 {status} {REASONS[status]}",
            f"Date: {self._date()}",
            "Server: sockview-demo",
            f"Content-Type: {content_type}",
            *framing,
            "Connection: close",
        ]
        return ("\r\n".join(lines) + "\r\n\r\n").encode("ascii")

    def _text(self, status: int, text: str, *extra: str) -> _Response:
        body = text.encode("utf-8")
        head = self._head(
            status, "text/plain; charset=utf-8", *extra, f"Content-Length: {len(body)}"
        )
        return _Response(status, head, iter([body]))

    def _trickle(self, size: int, rate: int) -> Iterator[bytes | memoryview]:
        piece = max(1, min(SEGMENT, rate // 10))
        for view in _pattern(size):
            for start in range(0, len(view), piece):
                if self._stopping.wait(piece / rate):
                    return
                yield view[start : start + piece]

    def _send(
        self, exchange: _Exchange, response: _Response, paced: bool, stall: int | None
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
                    self._sendall(exchange, data[:burst])
                    data, burst = data[burst:], 0
                self._send_paced(exchange, data, rng)
            else:
                # Deterministic mode sends the head with the first piece in one call, so a
                # reader sees the same recv sizes on every run (the app's snapshot tests).
                for part in [b"".join(out)] if self.deterministic else out:
                    self._sendall(exchange, part)
            out = []
            if stall is not None and sent >= stall:
                self._hold(exchange.sock)
                return
        if response.chunked:
            out.append(b"0\r\n\r\n")
        for part in out:
            self._sendall(exchange, part)

    def _send_paced(self, exchange: _Exchange, data: bytes, rng: random.Random) -> None:
        view = memoryview(data)
        while view:
            size = SEGMENT * rng.choice((1, 1, 2, 2, 3, 4))
            self._sendall(exchange, view[:size])
            view = view[size:]
            if self._stopping.wait(rng.choice((0.0005, 0.001, 0.002))):
                return

    def _sendall(self, exchange: _Exchange, data: bytes | memoryview) -> None:
        """Send it all, however slowly the client reads; give up only when we stop.

        The socket does not block: a send that finds the send buffer full fails at once,
        and the wait for room that follows is the time flow control blocked the sender
        (`stats.blocked_ns`), polled in short slices so that `stop()` ends it.
        """
        view = memoryview(data)
        stats = exchange.stats
        while view:
            try:
                sent = exchange.sock.send(view)
            except BlockingIOError:
                self._wait_for_room(exchange.sock, stats)
                continue
            view = view[sent:]
            exchange.sent += sent
            stats.sent += sent
            now = time.perf_counter_ns()
            times = stats.times_ns
            if not times or now - times[-1] >= SENDER_HISTORY_NS:
                _note_sender(stats, now)

    def _wait_for_room(self, sock: socket.socket, stats: SenderStats) -> None:
        began = time.perf_counter_ns()
        _note_sender(stats, began)
        stats.blocked_since_ns = began
        try:
            while not _writable(sock, _SEND_POLL):
                if self._stopping.is_set():
                    raise OSError("the demo server is stopping")
                if time.perf_counter_ns() - began > SEND_IDLE_LIMIT * 1e9:
                    raise TimeoutError("the client read nothing for too long")
        finally:
            now = time.perf_counter_ns()
            stats.blocked_ns += now - began
            stats.blocked_since_ns = None
            _note_sender(stats, now)

    def _hold(self, sock: socket.socket) -> None:
        """Keep the connection open, sending nothing, until the client goes or we stop."""
        sock.settimeout(0.1)
        while not self._stopping.is_set():
            try:
                if not sock.recv(4096):
                    return
            except TimeoutError:
                continue


def _writable(sock: socket.socket, timeout: float) -> bool:
    """Wait up to `timeout` for room to send (poll: a class may hold fds beyond 1024)."""
    if hasattr(select, "poll"):
        poller = select.poll()
        poller.register(sock, select.POLLOUT)
        return bool(poller.poll(timeout * 1000))
    return bool(select.select([], [sock], [], timeout)[1])


def _note_sender(stats: SenderStats, now: int) -> None:
    """Add the sender's figures as they stand to its history (times_ns last: readers on
    other threads read below its length)."""
    stats.sent_at.append(stats.sent)
    stats.blocked_at.append(stats.blocked_ns)
    stats.times_ns.append(now)


def default_max_connections() -> int:
    """Connections to allow at once: below the file-descriptor limit, with room to spare."""
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft == resource.RLIM_INFINITY:
        return DEFAULT_MAX_CONNECTIONS
    spare = max(16, min(64, soft // 8))  # the listener, stdio, the selector, imports
    return max(1, min(DEFAULT_MAX_CONNECTIONS, soft - spare))


INDEX = """sockview demo server

  /cover.png        a 70057-byte picture with a 242-byte header, like the book's
  /bytes/N          N bytes with a Content-Length
  /chunked/N        N bytes, chunked
  /slow/N?rate=R    N bytes at R bytes a second

  ?pace=0           send at full speed     ?stall=N   stop after N body bytes
  ?sndbuf=N         a send buffer of N bytes: the sender stalls in visible steps
"""


def banner(host: str, port: int, addresses: list[str]) -> list[str]:
    """What the teacher's terminal shows at the start: where students fetch from."""

    def url(address: str, path: str = "/") -> str:
        shown = f"[{address}]" if ":" in address else address
        return f"http://{shown}:{port}{path}"

    wildcard = host in ("0.0.0.0", "::", "")
    if wildcard:
        lines = [f"sockview demo server on all interfaces, port {port} (Ctrl-C stops it)"]
        lines.append("Students can fetch from:")
    else:
        lines = [f"sockview demo server on {url(host)} (Ctrl-C stops it)"]
    for address in addresses:
        local = address.startswith("127.") or address == "::1"
        note = "   (this machine only)" if local and wildcard else ""
        lines.append(f"  curl -o cover.png {url(address, '/cover.png')}{note}")
        lines.append(
            f"    the book's script: connect(('{address}', {port})),"
            f" then send b'GET {url(address, '/cover.png')} HTTP/1.0\\r\\n\\r\\n'"
        )
    if wildcard or not (host.startswith("127.") or host == "::1"):
        lines.append(
            "Warning: anyone who can reach this machine on the network can fetch from this"
            " server while it runs."
        )
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m sockview.demo", description="Run sockview's demo HTTP server."
    )
    parser.add_argument(
        "--host", default="127.0.0.1", help="address to listen on (127.0.0.1; 0.0.0.0: a class)"
    )
    parser.add_argument(
        "--port", type=port_number, default=8000, help="port to listen on (8000; 0: any)"
    )
    parser.add_argument("--no-pace", action="store_true", help="send at full speed")
    parser.add_argument(
        "--deterministic", action="store_true", help="fixed Date, one-piece sends (tests)"
    )
    parser.add_argument(
        "--quiet", action="store_true", help="no log line per request (notes still go to stderr)"
    )
    parser.add_argument(
        "--max-connections",
        type=int,
        default=None,
        metavar="N",
        help="connections at once (default: below the file-descriptor limit, at most 1000)",
    )
    parser.add_argument(
        "--sndbuf", type=int, metavar="BYTES", help="send buffer of every connection (SO_SNDBUF)"
    )
    args = parser.parse_args(argv)
    if args.sndbuf is not None and not 1 <= args.sndbuf <= MAX_SNDBUF:
        parser.error(f"argument --sndbuf: must be from 1 to {MAX_SNDBUF}")
    if args.max_connections is not None and args.max_connections < 1:
        parser.error("argument --max-connections: must be at least 1")

    def log(line: str) -> None:
        print(line, file=sys.stderr, flush=True)

    try:
        server = DemoServer(
            args.host,
            args.port,
            paced=not args.no_pace,
            deterministic=args.deterministic,
            log=log,
            log_requests=not args.quiet,
            max_connections=args.max_connections,
            sndbuf=args.sndbuf,
        )
    except OSError as exc:
        reason = exc.strerror or str(exc)
        parser.exit(2, f"sockview demo: cannot listen on {args.host}:{args.port}: {reason}\n")
    except (ValueError, UnicodeError) as exc:
        parser.exit(2, f"sockview demo: cannot listen on {args.host!a}: {exc}\n")
    for line in banner(server.host, server.port, reachable_addresses(server.host)):
        print(line, flush=True)
    server.start()
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        server.stop()
    return 0
