"""The recv loop: one GET over a raw socket, every recv() recorded in a `Run`.

Threading: `Fetch.perform` blocks and belongs to one worker thread. `Fetch.cancel` and the
`DelaySwitch` may be used from any other thread while it runs. The listener is called on
the worker thread, except for `ChunksReceived` of rows that arrived just before the
server went quiet: the watchdog reports those (the loop is then blocked in recv). Calls
never overlap.

The hot loop (`_receive`) is the instrument. On loopback it runs hundreds of thousands
of times a second, so everything in it is counted: two array appends and a clock read
per recv, no object per recv but the buffer view that `recv_into` needs, no lock, no
socket timeout (that would add a poll() per recv). Timeouts and cancellation come from
outside instead: a watchdog thread shuts the socket down, which wakes a recv that waits.
"""

from __future__ import annotations

import contextlib
import dataclasses
import errno
import ipaddress
import os
import select
import socket
import ssl
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from sockview.core.body import BodySink, DiscardBody, SpooledBody
from sockview.core.errors import (
    LookupTimeout,
    count_bytes,
    describe_cafile_error,
    describe_connect_error,
    describe_handshake_error,
    describe_log_error,
    describe_receive_error,
    describe_send_error,
    so_far,
)
from sockview.core.events import (
    ChunksReceived,
    Connected,
    Event,
    Failed,
    Finished,
    HeadersComplete,
    InterimResponse,
    RequestSent,
)
from sockview.core.kernel import AVAILABLE as KERNEL_VIEW
from sockview.core.kernel import UNAVAILABLE_NOTE, KernelProbe
from sockview.core.parse import MAX_HEADER, ProtocolFailure, ResponseParser, StoreFailure
from sockview.core.records import ROWS_IN_MEMORY, RecvLog
from sockview.core.recvloop import ENDED_EOF, loop_for, reader_for
from sockview.core.request import RequestStyle, build_request
from sockview.core.run import DelayChange, FetchState, Run
from sockview.core.url import Target
from sockview.core.wire import WireBody, WireStore

DEFAULT_BUFSIZE = 5120
DEFAULT_DELAY = 0.25
MAX_BUFSIZE = 16 * 1024 * 1024
MAX_DELAY = 60.0
BATCH = 256 * 1024
"""Body bytes gathered in the loop's buffer before the body store gets them in one write,
when it keeps them. Measured with `plain -o` on a 500 MB body (fetch time, medians of 5):
64 KiB 0.98 s, 256 KiB 0.76 s, 1 MiB 0.81 s."""
RING = 8 * 1024 * 1024
"""The kept body's ring for the compiled reader thread (at least four recvs): it goes on
receiving into it while this thread waits for the GIL. Handed to the body store in
quarters at most, as they fill, or at each report."""
KERNEL_VIEW_OFF = "the kernel view was off for this fetch (--no-kernel-view)"
_PAUSE_SLICE = 0.02
"""How often a pause looks at the switch again."""

Listener = Callable[[Event], None]


@dataclass(slots=True)
class FetchOptions:
    """How to fetch; every field has the default that the CLI shows."""

    bufsize: int = DEFAULT_BUFSIZE
    style: RequestStyle = RequestStyle.HTTP10
    insecure: bool = False
    cafile: str | None = None
    """Extra CA certificates to trust (PEM), on top of the system's."""
    connect_timeout: float = 10.0
    read_timeout: float = 30.0
    """Longest wait for the next byte; our own delay pauses do not count."""
    deadline: float | None = None
    """Longest time for the whole fetch, connect included; None for no limit."""
    max_header: int = MAX_HEADER
    method: str = "GET"
    """GET or HEAD (`request.METHODS`)."""
    headers: tuple[tuple[str, str], ...] = ()
    """Request headers the user added (or put in place of ours), checked."""
    emit_interval: float = 0.02
    """Seconds between `ChunksReceived` events while bytes stream in."""
    rcvbuf: int | None = None
    """SO_RCVBUF to ask for before the connect; None leaves the system's default."""
    kernel_view: bool = True
    """Sample the kernel's view (FIONREAD, TCP_INFO) in the loop's slow path."""
    clock: Callable[[], int] = field(default=time.perf_counter_ns)
    """Nanosecond clock for the records; tests swap in a fake one."""
    rows_in_memory: int = ROWS_IN_MEMORY
    """Recv records kept in memory; older ones move to a temporary file (`RecvLog.spill`)."""


class DelaySwitch:
    """The pause after each recv; flipped from any thread, read by the loop at each recv.

    Plain attribute stores are atomic in CPython, so the loop needs no lock to see them.
    """

    __slots__ = ("enabled", "seconds")

    def __init__(self, seconds: float = DEFAULT_DELAY, enabled: bool = False) -> None:
        self.seconds = seconds
        self.enabled = enabled

    def toggle(self) -> bool:
        self.enabled = not self.enabled
        return self.enabled

    def allowance(self, quiet: float) -> float:
        """`quiet` seconds of silence, plus our own pause when the delay is on: how long
        the server may say nothing before the silence is its own."""
        return quiet + (self.seconds if self.enabled else 0.0)

    def pause(self, stop: threading.Event) -> bool:
        """Wait out the delay after a recv; True if `stop` was set meanwhile.

        Switching the delay off, or shortening it, from another thread ends a pause that
        is under way: a user who turns a 60 s delay off should not wait out the minute.
        """
        began = time.monotonic()
        while self.enabled:
            left = began + self.seconds - time.monotonic()
            if left <= 0:
                return False
            if stop.wait(min(left, _PAUSE_SLICE)):
                return True
        return stop.is_set()


def _distinguished_name(name: object) -> str | None:
    """`CN=example.com, O=Example` from the nested tuples of `getpeercert()`."""
    if not isinstance(name, tuple) or not name:
        return None
    parts = [
        f"{_SHORT_NAMES.get(key, key)}={value}"
        for rdn in name
        for key, value in rdn
        if isinstance(key, str) and isinstance(value, str)
    ]
    return ", ".join(parts) or None


_SHORT_NAMES = {
    "commonName": "CN",
    "organizationName": "O",
    "organizationalUnitName": "OU",
    "countryName": "C",
    "stateOrProvinceName": "ST",
    "localityName": "L",
}


def _peer_name(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


class Fetch:
    """One GET of `target`, filling `self.run`. Build it, then call `run` on the thread
    that should block. `log`, `body`, `head`, `result` and `request` are the run's."""

    def __init__(
        self,
        target: Target,
        options: FetchOptions | None = None,
        *,
        delay: DelaySwitch | None = None,
        listener: Listener | None = None,
        body: BodySink | None = None,
        wire: WireStore | None = None,
    ) -> None:
        self.target = target
        self.options = options or FetchOptions()
        self.delay = delay or DelaySwitch()
        self.listener: Listener = listener or (lambda event: None)
        self.peer = _peer_name(target.host, target.port)
        self.run = Run(
            target=target,
            bufsize=self.options.bufsize,
            style=self.options.style,
            request=build_request(
                target, self.options.style, self.options.method, self.options.headers
            ),
            peer=self.peer,
            body=body if body is not None else SpooledBody(),
            log=RecvLog(self.options.rows_in_memory),
            wire=wire,
        )
        self._stop = threading.Event()
        self._abort_reason: str | None = None
        self._cancelled = False
        self._sock: socket.socket | None = None
        self._lock = threading.Lock()
        self._t0 = 0
        self._emitted = 0
        self._emit_lock = threading.Lock()
        self._started = 0.0
        self._s0 = 0
        """The clock's reading at the start: the phases count from here."""

    @property
    def log(self) -> RecvLog:
        return self.run.log

    @property
    def body(self) -> BodySink:
        return self.run.body

    @property
    def head(self) -> HeadersComplete | None:
        return self.run.head

    @property
    def result(self) -> Finished | Failed | None:
        return self.run.result

    @property
    def request(self) -> bytes:
        return self.run.request

    @property
    def complete(self) -> bool:
        """True when the whole response arrived; a partial body must be saved as partial."""
        return self.run.complete

    @property
    def stopping(self) -> bool:
        """True once the fetch was told to stop, or has ended."""
        return self._stop.is_set()

    @property
    def current_socket(self) -> socket.socket | None:
        """The socket while one is open (connecting included); for tests that wait on it."""
        return self._sock

    # -- control from other threads -------------------------------------------------

    def cancel(self, reason: str = "cancelled") -> None:
        """Stop the loop promptly: mid-recv, mid-pause or mid-connect."""
        self._abort(reason, cancelled=True)

    def _abort(self, reason: str, cancelled: bool = False) -> None:
        with self._lock:
            if self._abort_reason is None:
                self._abort_reason = reason
                self._cancelled = cancelled
            self._stop.set()
            sock = self._sock
        if sock is not None:
            # The base-class method: SSLSocket.shutdown would also drop its TLS state
            # under the feet of the recv running on the other thread.
            with contextlib.suppress(OSError):
                socket.socket.shutdown(sock, socket.SHUT_RDWR)

    # -- the fetch ------------------------------------------------------------------

    def perform(self, connected: socket.socket | None = None) -> Finished | Failed:
        """Connect, send, receive until the response is complete; never raises for I/O.

        `connected` skips the connect: a socket already connected to the server (the tests
        pass one end of a socket pair, to choose exactly what each recv returns).
        """
        self._started = time.monotonic()
        self._s0 = self.options.clock()
        run = self.run
        run.clock_origin_ns = self._s0
        run.state = FetchState.CONNECTING
        self._note_delay()
        try:
            result = self._run(connected)
        except (ProtocolFailure, StoreFailure) as exc:
            result = self._failed(str(exc))
        finally:
            self._close()
        run.finish(result)
        self._end_phases()
        self._emit_chunks()
        self.listener(result)
        return result

    def _run(self, connected: socket.socket | None) -> Finished | Failed:
        options = self.options
        sock = self._connect() if connected is None else self._adopt(connected)
        if isinstance(sock, Failed):
            return sock
        watchdog = threading.Thread(target=self._watch, name="sockview-watchdog", daemon=True)
        watchdog.start()
        try:
            try:
                sock.sendall(self.request)
            except OSError as exc:
                if self._stop.is_set():
                    return self._failed(self._abort_reason or "cancelled")
                return self._failed(describe_send_error(exc, self.peer))
            self.run.phases.request_ns = self._since_start()
            self.listener(RequestSent(self.request))
            parser: ResponseParser = ResponseParser(
                self.target.authority,
                self.body,
                on_interim=self._on_interim,
                on_head=lambda head: self._on_head(head, parser.head_bytes),
                max_header=options.max_header,
                method=options.method,
            )
            return self._receive(sock, parser)
        finally:
            self._stop.set()
            watchdog.join()

    def _connect(self) -> socket.socket | Failed:
        options, target = self.options, self.target
        # One budget for the name lookup, the TCP connect and the TLS handshake together.
        timeout, limit = options.connect_timeout, "--connect-timeout"
        if options.deadline is not None and options.deadline < timeout:
            timeout, limit = options.deadline, "--deadline"
        give_up = time.monotonic() + timeout
        try:
            context = self._tls_context() if target.tls else None
        except (OSError, ValueError) as exc:
            return self._failed(describe_cafile_error(exc, options.cafile))
        describe = describe_connect_error
        try:
            sock = self._open_socket(give_up)
            tls_version = None
            if context is not None:
                describe = describe_handshake_error
                # Not suppressed: a close without close_notify must be told from a clean
                # one, for a body that runs until the close (see `feed_eof`).
                sock = context.wrap_socket(
                    sock,
                    server_hostname=target.host,
                    do_handshake_on_connect=False,
                    suppress_ragged_eofs=False,
                )
                with self._lock:
                    self._sock = sock
                if self._stop.is_set():
                    raise InterruptedError("cancelled")
                sock.settimeout(max(give_up - time.monotonic(), 0.001))
                sock.do_handshake()
                self.run.phases.tls_ns = self._since_start()
                tls_version = sock.version()
                self._note_tls(sock)
            if self._stop.is_set():
                raise InterruptedError("cancelled")
        except (OSError, ValueError) as exc:
            if self._stop.is_set():
                return self._failed(self._abort_reason or "cancelled")
            failed = self._failed(describe(exc, target.host, self.peer, timeout, limit))
            if isinstance(exc, ssl.SSLCertVerificationError):
                failed = dataclasses.replace(failed, certificate=True)
            return failed
        sock.settimeout(None)
        self._t0 = options.clock()
        self.run.phases.recv_origin_ns = self._t0 - self._s0
        self._connected(sock, tls_version)
        return sock

    def _adopt(self, sock: socket.socket) -> socket.socket:
        """Take a socket that is already connected, as if `_connect` had made it."""
        with self._lock:
            self._sock = sock
        self._t0 = self.options.clock()
        self.run.phases.recv_origin_ns = self._t0 - self._s0
        self._connected(sock, None)
        return sock

    def _connected(self, sock: socket.socket, tls_version: str | None) -> None:
        run = self.run
        with contextlib.suppress(OSError):
            local = sock.getsockname()
            if isinstance(local, tuple):  # not for the tests' Unix socket pairs
                run.local = _peer_name(str(local[0]), int(local[1]))
                peer = sock.getpeername()
                run.peer_address = _peer_name(str(peer[0]), int(peer[1]))
                run.family = {socket.AF_INET: "IPv4", socket.AF_INET6: "IPv6"}.get(sock.family)
        run.tls_version = tls_version
        run.state = FetchState.RECEIVING
        self.listener(Connected(peer=self.peer, tls_version=tls_version))

    def _resolve(self, give_up: float) -> list[tuple[int, int, int, str, tuple[str, int]]]:
        """The addresses of the target, looked up within the connect budget.

        getaddrinfo cannot be interrupted, and an unreachable name server can hold it for
        half a minute, so a host name is looked up on a helper thread that the fetch stops
        waiting for on a cancel or at the time limit. IP literals need no lookup.
        """
        host, port = self.target.host, self.target.port

        def lookup() -> list[tuple[int, int, int, str, tuple[str, int]]]:
            return socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)  # type: ignore[return-value]

        with contextlib.suppress(ValueError):
            ipaddress.ip_address(host.partition("%")[0])
            return lookup()
        answer: list[list[tuple[int, int, int, str, tuple[str, int]]] | BaseException] = []
        done = threading.Event()

        def work() -> None:
            try:
                answer.append(lookup())
            except Exception as exc:  # handed over to the fetch thread
                answer.append(exc)
            finally:
                done.set()

        threading.Thread(target=work, name="sockview-resolve", daemon=True).start()
        while not done.wait(0.05):
            if self._stop.is_set():
                raise InterruptedError("cancelled")
            if time.monotonic() >= give_up:
                raise LookupTimeout(f"no answer for {host}")
        if isinstance(answer[0], BaseException):
            raise answer[0]
        return answer[0]

    def _open_socket(self, give_up: float) -> socket.socket:
        """Connect without blocking, so that a cancel is seen within 50 ms."""
        target = self.target
        error: OSError = OSError(f"no address found for {target.host}")
        addresses = self._resolve(give_up)
        phases = self.run.phases
        phases.dns_ns = self._since_start()
        for family, kind, proto, _, address in addresses:
            sock = socket.socket(family, kind, proto)
            with self._lock:
                self._sock = sock
            self._set_rcvbuf(sock)
            sock.setblocking(False)
            code = sock.connect_ex(address)
            while code in (errno.EINPROGRESS, errno.EWOULDBLOCK, errno.EALREADY):
                if self._stop.is_set():
                    raise InterruptedError("cancelled")
                left = give_up - time.monotonic()
                if left <= 0:
                    code = errno.ETIMEDOUT
                    break
                _, writable, _ = select.select([], [sock], [], min(left, 0.05))
                if writable:
                    code = sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
            if code == 0:
                phases.connect_ns = self._since_start()
                sock.setblocking(True)
                return sock
            sock.close()
            if code == errno.ETIMEDOUT:
                error = TimeoutError(code, "timed out")
            else:
                error = OSError(code, os.strerror(code))
                if code == errno.ECONNREFUSED:
                    error = ConnectionRefusedError(code, os.strerror(code))
        raise error

    def _set_rcvbuf(self, sock: socket.socket) -> None:
        """Ask for --rcvbuf before the connect (the window scale is fixed then), and note
        what the kernel granted either way."""
        run, asked = self.run, self.options.rcvbuf
        with contextlib.suppress(OSError):
            if asked is not None:
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, asked)
                run.rcvbuf_asked = asked
            run.rcvbuf = sock.getsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF)

    def _note_tls(self, sock: ssl.SSLSocket) -> None:
        """The cipher and, when it was verified, the certificate's subject and issuer."""
        run = self.run
        cipher = sock.cipher()
        run.tls_cipher = cipher[0] if cipher else None
        cert = sock.getpeercert() or {}
        run.cert_subject = _distinguished_name(cert.get("subject", ()))
        run.cert_issuer = _distinguished_name(cert.get("issuer", ()))

    def _since_start(self) -> int:
        return self.options.clock() - self._s0

    def _end_phases(self) -> None:
        """First byte, end of header and end of body, from the recv times (no clock read)."""
        run = self.run
        phases, times = run.phases, run.log.times_ns
        origin = phases.recv_origin_ns
        if origin is None or not len(times):
            return
        phases.first_byte_ns = origin + times[0]
        if run.head is not None:
            phases.header_ns = origin + times[run.head.head_index]
        if run.complete:
            phases.body_ns = origin + times[-1]

    def _tls_context(self) -> ssl.SSLContext:
        context = ssl.create_default_context(cafile=self.options.cafile)
        if self.options.insecure:
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
        return context

    def _watch(self) -> None:
        """Enforce the read timeout and the deadline by shutting the socket down."""
        options = self.options
        seen = -1
        last_progress = time.monotonic()
        while not self._stop.wait(0.05):
            now = time.monotonic()
            count = len(self.log)
            # Our own pause after a recv is not the server's silence.
            allowance = self.delay.allowance(options.read_timeout)
            if count != seen:
                seen, last_progress = count, now
                try:
                    self.log.spill()
                except OSError as exc:
                    self._abort(describe_log_error(exc, count))
            elif count > self._emitted:
                # The loop only reports rows when the next recv returns; if the server went
                # quiet right after them, report them now rather than when it speaks again.
                self._emit_chunks()
            elif now - last_progress > allowance:
                self._abort(
                    f"no data from {self.peer} for {options.read_timeout:g} s"
                    f" {so_far(self.log.total)} (--read-timeout)"
                )
            if options.deadline is not None and now - self._started > options.deadline:
                self._abort(
                    f"the fetch took longer than the {options.deadline:g} s deadline"
                    f" (--deadline); {count_bytes(self.log.total)} had arrived"
                )

    def _receive(self, sock: socket.socket, parser: ResponseParser) -> Finished | Failed:
        """The recv loop proper. Kept flat and local-variable-only: it is the hot path.

        The head and chunked bodies go to the parser after every recv. Once the parser
        counts the body (Content-Length, or until the close), each recv writes with
        `recv_into` (the same recv() system call with the same size, without a new bytes
        object per call) into one reusable buffer: a batch that the body store gets whole,
        or, when nothing is kept, one recv's worth that is simply written over. The inner
        loops (`recvloop.recv_counted`, compiled where it was built) leave for the slower
        steps (emitting, the delay, the end of the body) only when one is due. Where the
        compiled loop is used and the delay is off, it runs on a thread of its own
        (`recvloop.Reader`) and this one collects its rows and bytes at each report.
        """
        log = self.log
        times_append = log.times_ns.append
        sizes_append = log.sizes.append
        recv = sock.recv
        recv_counted = loop_for(sock, self.options.clock)
        read_ahead = reader_for(sock, self.options.clock)
        ring: memoryview | None = None
        spill_over = 2 * log.rows_in_memory
        bufsize = self.options.bufsize
        clock = self.options.clock
        t0 = self._t0
        delay = self.delay
        delay_seen = self.run.delays[-1].enabled
        stop = self._stop
        interval = int(self.options.emit_interval * 1e9)
        next_emit = 0
        total = 0
        size = -1
        body = self.body
        # The raw stream, when it is kept, gets each recv before the parser does (the
        # head) or each batch as the parser gets it (a counted body): never per recv in
        # the counting loops.
        wire = self.run.wire
        keep = wire is not None or not isinstance(body, DiscardBody)
        buffer = memoryview(bytearray(BATCH + bufsize if keep else bufsize))
        fill = 0
        """Bytes in `buffer` that the parser has not seen yet."""
        complete = False
        error: str | None = None
        clean = True
        """False when a TLS peer closed without close_notify."""
        # The kernel's view costs a recv's worth of time (see kernel.py): it is read in
        # the slow path only, once per report slice, or before every recv with the delay
        # on (a pause costs far more). `sample` is None where it cannot be read.
        view = KERNEL_VIEW and self.options.kernel_view
        probe = KernelProbe(sock, self.run.kernel) if view else None
        sample = probe.sample if probe is not None else None
        if probe is None:
            self.run.kernel_note = UNAVAILABLE_NOTE if not KERNEL_VIEW else KERNEL_VIEW_OFF
        else:
            probe.sample(0)
        try:
            while not complete:
                if not parser.counting:
                    data = recv(bufsize)
                    now = clock()
                    size = len(data)
                    if not size:
                        break
                    total += size
                    times_append(now - t0)
                    sizes_append(size)
                    if wire is not None:
                        wire.write(data)
                    complete = parser.feed(data)
                    due = now >= next_emit
                    if due:
                        self._emit_chunks()
                        next_emit = now + interval
                    if delay.enabled is not delay_seen:
                        delay_seen = self._note_delay()
                    if not complete and delay.enabled and delay.pause(stop):
                        break
                    if sample is not None and (due or delay.enabled) and not complete:
                        sample(len(log.sizes))
                    continue
                end = parser.body_end
                if end is None:
                    end = 1 << 63  # until the close
                if read_ahead is not None and not delay.enabled:
                    # The compiled loop on its own thread: this one collects what it read.
                    if keep and ring is None:
                        ring = memoryview(bytearray(max(RING, 4 * bufsize)))
                    reader = read_ahead(sock, ring if keep else None, bufsize, total, end, t0)
                    try:
                        while True:
                            start, stop_at, total, now, ended, failure = reader.collect(
                                next_emit, log.times_ns, log.sizes
                            )
                            if keep:
                                if stop_at > start:
                                    assert ring is not None
                                    if wire is not None:
                                        wire.write(ring[start:stop_at])
                                    complete = parser.take_body(ring[start:stop_at])
                            else:
                                complete = parser.skip_to(total)
                                body.size = parser.body_bytes
                            if ended:
                                break
                            due = now >= next_emit
                            if due:
                                self._emit_chunks()
                                next_emit = now + interval
                                if sample is not None:
                                    sample(len(log.sizes))
                            if delay.enabled:
                                reader.stop()  # the pause follows once it has ended
                            if log.in_memory > spill_over:
                                # Faster than the watchdog moves rows to disk: help it. It
                                # reports a log that cannot go to disk when it next looks.
                                with contextlib.suppress(OSError):
                                    log.spill()
                    finally:
                        reader.close()
                    if failure is not None:
                        raise failure
                    if ended == ENDED_EOF:
                        break
                    size = 1  # the body ended (complete), or the reader stopped for the delay
                else:
                    # With the delay on, the slice ends after one recv so that the pause follows.
                    deadline = 0 if delay.enabled else next_emit
                    if keep:
                        size, fill, total, now, failure = recv_counted(
                            sock, buffer, fill, BATCH, bufsize, total, end, deadline, delay, t0,
                            clock, log.times_ns, log.sizes,
                        )  # fmt: skip
                        if failure is not None:
                            raise failure
                        if wire is not None:
                            wire.write(buffer[:fill])
                        complete = parser.take_body(buffer[:fill])
                        fill = 0
                    else:
                        size, _, total, now, failure = recv_counted(
                            sock, buffer, 0, 0, bufsize, total, end, deadline, delay, t0,
                            clock, log.times_ns, log.sizes,
                        )  # fmt: skip
                        if failure is not None:
                            raise failure
                        complete = parser.skip_to(total)
                        body.size = parser.body_bytes
                if not size:
                    break
                due = now >= next_emit
                if due:
                    self._emit_chunks()
                    next_emit = now + interval
                if delay.enabled is not delay_seen:
                    delay_seen = self._note_delay()
                if not complete and delay.enabled and delay.pause(stop):
                    break
                if sample is not None and (due or delay.enabled) and not complete:
                    sample(len(log.sizes))
        except ssl.SSLEOFError:
            clean = False  # the TCP close came without TLS close_notify: an end all the same
        except OSError as exc:
            if not stop.is_set():
                error = describe_receive_error(exc, self.peer, total)
        if parser.counting and not complete:
            # Whatever arrived before a reset or a cancel still belongs to the body.
            if keep:
                if wire is not None:
                    wire.write(buffer[:fill])
                complete = parser.take_body(buffer[:fill])
            else:
                complete = parser.skip_to(total)
                body.size = parser.body_bytes
        if not complete and error is None and self._abort_reason is None:
            complete = parser.feed_eof(clean)
        if not complete:
            return self._failed(self._incomplete_reason(parser, total, error))
        return Finished(
            total=log.total,
            recv_count=len(log),
            body_bytes=parser.body_bytes,
            elapsed=self._elapsed(),
        )

    def _incomplete_reason(self, parser: ResponseParser, total: int, error: str | None) -> str:
        if self._abort_reason is not None:
            return self._abort_reason
        # A plain request to a TLS port is often met with a close or a reset, and no byte.
        hint = "" if total or self.target.tls else " (if it expects TLS, try https://)"
        if error is not None:
            return error + hint
        if parser.head is not None:
            return "the connection closed before the response was complete"
        if total == 0:
            return f"{self.peer} closed the connection without answering{hint}"
        return f"the connection closed after {count_bytes(total)}, before the header ended"

    # -- events ---------------------------------------------------------------------

    def _elapsed(self) -> float:
        return self.run.elapsed

    def _failed(self, reason: str) -> Failed:
        return Failed(
            reason=reason,
            total=self.log.total,
            recv_count=len(self.log),
            body_bytes=self.body.size,
            elapsed=self._elapsed(),
            cancelled=self._cancelled,
        )

    def _emit_chunks(self) -> None:
        # The loop calls this at most once per emit interval, the watchdog once per tick,
        # so the lock costs nothing per recv; it keeps the two from overlapping.
        with self._emit_lock:
            stop = len(self.log)
            if stop > self._emitted:
                body = self.body.size
                event = ChunksReceived(self._emitted, stop, self.log.totals[stop - 1], body)
                self._emitted = stop
                self.listener(event)

    def _note_delay(self) -> bool:
        """Record the delay as it stands, from the next recv on; returns whether it is on.

        The loop calls this when it sees the switch flipped, at most once per batch of
        recvs, so a change is dated to the recv at which the loop acted on it.
        """
        delay, delays = self.delay, self.run.delays
        enabled, seconds = delay.enabled, delay.seconds
        if not delays or delays[-1].enabled != enabled or delays[-1].seconds != seconds:
            delays.append(DelayChange(len(self.run.log.sizes), enabled, seconds))
        return enabled

    def _on_interim(self, event: InterimResponse) -> None:
        self.run.interims.append(event)
        self._emit_chunks()
        self.listener(event)

    def _on_head(self, event: HeadersComplete, raw: bytes) -> None:
        if isinstance(self.body, WireBody):
            self.body.frame(event)
        self.run.head_bytes = raw
        self.run.head = event
        phases, times = self.run.phases, self.run.log.times_ns
        if phases.recv_origin_ns is not None and len(times) > event.head_index:
            phases.first_byte_ns = phases.recv_origin_ns + times[0]
            phases.header_ns = phases.recv_origin_ns + times[event.head_index]
        self._emit_chunks()
        self.listener(event)

    def _close(self) -> None:
        with self._lock:
            sock, self._sock = self._sock, None
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.close()
