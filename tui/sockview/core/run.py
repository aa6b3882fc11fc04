"""Run: everything one fetch observed, and the figures derived from it.

A `Fetch` fills a `Run` as it goes; a run file (`runfile.py`) fills one from disk; the
views (plain mode, the app's widgets, replay, compare) only read one. The run is a plain
value: no socket, no thread, no widget. While a fetch is filling it, readers on other
threads may read any recv below `len(run.log.sizes)` (the arrays only grow) and the
fields the fetch has set so far.
"""

from __future__ import annotations

import bisect
import time
from array import array
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Protocol

from sockview.core.body import BodySink, DiscardBody, ReadableBody
from sockview.core.events import (
    Event,
    Failed,
    Finished,
    Framing,
    HeadersComplete,
    InterimResponse,
)
from sockview.core.kernel import KernelLog
from sockview.core.records import RecvLog
from sockview.core.request import RequestStyle
from sockview.core.save import default_name
from sockview.core.url import Target
from sockview.core.wire import WireStore

CSV_HEADER = "index,time_ms,size,total,queued,rcv_wnd\n"
REDIRECT_STATUSES = frozenset((301, 302, 303, 307, 308))
RATE_WINDOW_NS = 1_000_000_000
"""The rate while receiving is measured over the last second of recvs."""


class FetchState(StrEnum):
    """Where a run stands; its values are the words the status line shows."""

    IDLE = "idle"
    CONNECTING = "connecting"
    RECEIVING = "receiving"
    DONE = "done"
    FAILED = "failed"
    CANCELLED = "cancelled"

    @property
    def running(self) -> bool:
        return self in (FetchState.CONNECTING, FetchState.RECEIVING)

    @property
    def done(self) -> bool:
        """Ended, whichever way."""
        return self in (FetchState.DONE, FetchState.FAILED, FetchState.CANCELLED)


@dataclass(frozen=True, slots=True)
class DelayChange:
    """The delay as it stood from recv `index` on (the first change has index 0)."""

    index: int
    enabled: bool
    seconds: float


@dataclass(slots=True)
class Phases:
    """When each phase of a fetch ended, in nanoseconds of the fetch's clock from its
    start; None for a phase that did not happen (no lookup for an adopted socket, no
    TLS for http, no body end for a failed fetch)."""

    dns_ns: int | None = None
    connect_ns: int | None = None
    tls_ns: int | None = None
    request_ns: int | None = None
    first_byte_ns: int | None = None
    header_ns: int | None = None
    body_ns: int | None = None
    recv_origin_ns: int | None = None
    """When the recv loop's clock starts: each recv's `times_ns` counts from here."""

    def steps(
        self, full: bool = False, until_ns: int | None = None
    ) -> list[tuple[str, float | None]]:
        """Each phase's own length in milliseconds, from the end of the one before.

        The summary's five by default (dns, connect, tls, first byte, transfer: first
        byte counts from the request sent, transfer from the first byte to the end of
        the body); `full` adds the request and the header as steps of their own.
        `until_ns` stands for the end of the body while it is still coming.
        """
        marks = [
            ("dns", self.dns_ns),
            ("connect", self.connect_ns),
            ("tls", self.tls_ns),
            ("request", self.request_ns),
            ("first byte", self.first_byte_ns),
            ("header", self.header_ns),
            ("transfer", self.body_ns if self.body_ns is not None else until_ns),
        ]
        if not full:
            marks = [m for m in marks if m[0] not in ("request", "header")]
        steps: list[tuple[str, float | None]] = []
        previous: int | None = 0
        for name, mark in marks:
            if name == "first byte" and not full:
                previous = self.request_ns
            steps.append(
                (name, None if mark is None or previous is None else (mark - previous) / 1e6)
            )
            if mark is not None:
                previous = mark
        return steps

    def line(self, full: bool = False) -> str:
        """`dns 0.1 ms · connect 0.2 ms · tls — · first byte 51.0 ms · transfer 2.2 ms`."""
        return " · ".join(
            f"{name} —" if ms is None else f"{name} {ms:.1f} ms" for name, ms in self.steps(full)
        )


@dataclass(slots=True)
class SenderStats:
    """The sender's side, reported by our demo server for the connection it serves.

    `times_ns` (the server's `perf_counter_ns`), `sent_at` and `blocked_at` are its
    history: the bytes handed to the kernel and the time spent blocked in `send` so far,
    noted at most every 20 ms and whenever a send blocked.
    """

    sent: int = 0
    """Bytes handed to the kernel (`send` returned them)."""
    blocked_ns: int = 0
    """Time `send` waited because the send buffer was full (flow control)."""
    blocked_since_ns: int | None = None
    """When the send that waits now began to wait (`perf_counter_ns`); None if none does."""
    sndbuf: int | None = None
    """The send buffer the kernel granted, when the client asked for one (`?sndbuf=N`)."""
    times_ns: array[int] = field(default_factory=lambda: array("q"))
    sent_at: array[int] = field(default_factory=lambda: array("q"))
    blocked_at: array[int] = field(default_factory=lambda: array("q"))

    def blocked_until(self, now_ns: int) -> int:
        """Nanoseconds blocked so far, the wait under way included."""
        since = self.blocked_since_ns
        return self.blocked_ns + (max(0, now_ns - since) if since is not None else 0)


@dataclass(eq=False)
class Run:
    """One fetch: what was asked, what was sent, and every recv that came back."""

    target: Target
    bufsize: int
    style: RequestStyle = RequestStyle.HTTP10
    request: bytes = b""
    """The exact request bytes, as they were sent."""
    started_at: float = field(default_factory=time.time)
    """Wall-clock time (seconds since the epoch) when the run began."""
    state: FetchState = FetchState.IDLE
    peer: str = ""
    """The server's address as `host:port` (`[v6]:port` for IPv6)."""
    local: str | None = None
    """Our end of the connection, `host:port`, once connected."""
    tls_version: str | None = None
    peer_address: str | None = None
    """The address actually connected to, `host:port` (the name resolved)."""
    family: str | None = None
    """`IPv4` or `IPv6` once connected (None for the tests' Unix socket pairs)."""
    tls_cipher: str | None = None
    cert_subject: str | None = None
    """The server certificate's subject, `CN=..., O=...` (server text: show literally)."""
    cert_issuer: str | None = None
    rcvbuf_asked: int | None = None
    """SO_RCVBUF asked for before the connect (--rcvbuf); None for the system default."""
    rcvbuf: int | None = None
    """SO_RCVBUF as the kernel granted it (Linux doubles the ask, for its bookkeeping)."""
    clock_origin_ns: int | None = None
    """The fetch clock's reading when the run's phases count from (to line up the
    demo server's history, which uses `perf_counter_ns` too)."""
    phases: Phases = field(default_factory=Phases)
    kernel: KernelLog = field(default_factory=KernelLog)
    """Kernel samples (FIONREAD, TCP_INFO) by recv index: see `kernel.py`."""
    kernel_note: str | None = None
    """Why there are no kernel samples, when there can be none."""
    sender: SenderStats | None = None
    """The sender's side, when the server was our demo and the app could ask it."""
    interims: list[InterimResponse] = field(default_factory=list)
    head: HeadersComplete | None = None
    head_bytes: bytes = b""
    """The raw bytes of the response head, interim responses included, up to and with the
    blank line: `len(head_bytes) == head.body_offset`."""
    log: RecvLog = field(default_factory=RecvLog)
    delays: list[DelayChange] = field(default_factory=list)
    """Each change of the delay, with the recv index from which it held."""
    result: Finished | Failed | None = None
    body: BodySink = field(default_factory=DiscardBody)
    wire: WireStore | None = None
    """Every raw byte the socket returned, when they were kept (the app keeps them;
    plain mode does not)."""
    recorded_from: str | None = None
    """For a run read from a file: that file's path; None for a live run."""

    # -- the result ------------------------------------------------------------------

    @property
    def complete(self) -> bool:
        """True when the whole response arrived; a partial body must be saved as partial."""
        return isinstance(self.result, Finished)

    @property
    def reason(self) -> str | None:
        """Why the run failed or was cancelled; None otherwise."""
        return self.result.reason if isinstance(self.result, Failed) else None

    def finish(self, result: Finished | Failed) -> None:
        self.result = result
        if isinstance(result, Finished):
            self.state = FetchState.DONE
        elif result.cancelled:
            self.state = FetchState.CANCELLED
        else:
            self.state = FetchState.FAILED

    # -- figures ---------------------------------------------------------------------

    @property
    def total(self) -> int:
        """Raw bytes received, header included."""
        return self.log.total

    @property
    def header_length(self) -> int | None:
        """The book's figure: the offset of the blank line that ends the header."""
        return self.head.header_length if self.head is not None else None

    @property
    def content_type(self) -> str | None:
        if self.head is None:
            return None
        return next((v for n, v in self.head.headers if n.lower() == "content-type"), None)

    @property
    def status_text(self) -> str | None:
        """`200 OK`, `404 Not Found`: the final status and reason."""
        if self.head is None:
            return None
        return f"{self.head.status} {self.head.reason}".rstrip()

    @property
    def location(self) -> str | None:
        """A redirect's `Location`, as the server sent it; None for any other response."""
        head = self.head
        if head is None or head.status not in REDIRECT_STATUSES:
            return None
        return next((v for n, v in head.headers if n.lower() == "location"), None)

    def body_bytes(self, rows: int | None = None, stored: int | None = None) -> int:
        """Body bytes received within the first `rows` recvs (all by default).

        For a Content-Length body this is exact from the raw count, which the loop's
        batching does not hold back; otherwise it is what the body store holds
        (`stored`, or the store's size now).
        """
        stored = self.body.size if stored is None else stored
        head = self.head
        if head is not None and head.framing is Framing.CONTENT_LENGTH:
            total = self.log.totals[rows - 1] if rows else 0
            if rows is None:
                total = self.log.total
            raw = max(stored, total - head.body_offset)
            return min(raw, head.content_length or 0)
        return stored

    def byte_parts(self) -> tuple[int, int, int, int] | None:
        """How the raw total splits: (header length, the blank line that ends the head,
        body bytes, the rest), where the rest is a chunked body's framing (or what came
        past a counted body). Their sum is `total`; None before the head."""
        head = self.head
        if head is None:
            return None
        body = self.body_bytes()
        blank = head.body_offset - head.header_length
        return head.header_length, blank, body, self.total - head.body_offset - body

    def rate(self, rows: int | None = None, window_ns: int | None = RATE_WINDOW_NS) -> float | None:
        """Bytes a second over the first `rows` recvs; over their last `window_ns` only,
        if given (the live rate), else over the whole run. None with fewer than 2 recvs."""
        rows = len(self.log.sizes) if rows is None else rows
        if rows < 2:
            return None
        times, totals = self.log.times_ns, self.log.totals
        last = rows - 1
        if window_ns is not None:
            first = bisect.bisect_left(times, times[last] - window_ns, 0, last)
            first = max(1, min(first, last - 1))
            span = times[last] - times[first - 1]
            count = totals[last] - totals[first - 1]
        else:
            span, count = times[last], totals[last]
        return count * 1e9 / span if span > 0 else None

    @property
    def elapsed(self) -> float:
        """Seconds from the connect to the last recv."""
        return self.log.times_ns[-1] / 1e9 if len(self.log.times_ns) else 0.0

    def delay_at(self, index: int) -> DelayChange | None:
        """The delay that held at recv `index`."""
        position = bisect.bisect_right([d.index for d in self.delays], index)
        return self.delays[position - 1] if position else None

    def connection_line(self) -> str:
        """`127.0.0.1:50514 → 127.0.0.1:8000 · IPv4 · rcvbuf 131072 (asked 4096)`, then
        for TLS the version, cipher and certificate. Server text: escape it to show it."""
        if self.local is None:
            return f"→ {self.peer}"
        parts = [f"{self.local} → {self.peer_address or self.peer}"]
        if self.family:
            parts.append(self.family)
        if self.rcvbuf is not None:
            asked = f" (asked {self.rcvbuf_asked})" if self.rcvbuf_asked is not None else ""
            parts.append(f"rcvbuf {self.rcvbuf}{asked}")
        if self.tls_version:
            parts.append(f"{self.tls_version} {self.tls_cipher or ''}".rstrip())
        if self.cert_subject:
            parts.append(f"certificate {self.cert_subject}")
        if self.cert_issuer:
            parts.append(f"issued by {self.cert_issuer}")
        return " · ".join(parts)

    @property
    def replayed(self) -> bool:
        """True for a run read from a file (or played back from one)."""
        return self.recorded_from is not None

    def window_closed(self, rows: int | None = None) -> bool:
        """True if the last kernel sample (before recv `rows`) saw a zero receive window."""
        kernel = self.kernel
        count = len(kernel)
        if rows is not None:
            count = bisect.bisect_right(kernel.index, rows, 0, count)
        return count > 0 and kernel.rcv_wnd[count - 1] == 0

    def csv_text(self) -> str:
        """The recv log as CSV: `index,time_ms,size,total,queued,rcv_wnd`; the kernel
        columns are empty for a recv before which nothing was sampled (or read)."""
        log, kernel = self.log, self.kernel
        stop = len(log.sizes)
        # One slice a column: older rows may be on disk (`RecvLog.spill`).
        t, s, tot = log.times_ns[:stop], log.sizes[:stop], log.totals[:stop]
        extra = [",,"] * stop
        for i in range(len(kernel)):
            index = kernel.index[i]
            if index < stop:
                queued, window = kernel.queued[i], kernel.rcv_wnd[i]
                extra[index] = f",{'' if queued < 0 else queued},{'' if window < 0 else window}"
        return CSV_HEADER + "".join(
            f"{i},{t[i] / 1e6:.3f},{s[i]},{tot[i]}{extra[i]}\n" for i in range(stop)
        )

    # -- the raw bytes -----------------------------------------------------------------

    def recv_span(self, index: int) -> tuple[int, int]:
        """Where recv `index` falls in the raw stream: `[start, stop)`."""
        totals = self.log.totals
        return (totals[index - 1] if index else 0), totals[index]

    @property
    def bytes_kept(self) -> bool:
        """True if the raw bytes of the recvs can be read back (see `raw_bytes`)."""
        return self.wire is not None or self._body_slice() is not None

    def raw_bytes(self, start: int, stop: int) -> bytes | None:
        """Bytes `[start, stop)` of the raw stream; None if they were not kept.

        From the wire store when there is one. A run without one (a run file that holds
        only the body) still has them for a Content-Length or until-close body: they are
        the head's bytes followed by the body's. Fewer bytes come back while they are
        still arriving.
        """
        if self.wire is not None:
            return None if self.wire.closed else self.wire.read(start, stop)
        body = self._body_slice()
        if body is None or self.head is None:
            return None
        offset = self.head.body_offset
        if stop > offset + body.size:
            return None  # past the body: bytes that nobody kept
        head = self.head_bytes[start:stop] if start < offset else b""
        return head + body.read(max(start, offset) - offset, stop - offset)

    def _body_slice(self) -> ReadableBody | None:
        head, body = self.head, self.body
        if head is None or head.framing not in (Framing.CONTENT_LENGTH, Framing.UNTIL_CLOSE):
            return None
        if len(self.head_bytes) != head.body_offset or not isinstance(body, ReadableBody):
            return None
        return body

    # -- saving ----------------------------------------------------------------------

    def default_name(self) -> str:
        """The file name for the body: from the URL, made safe."""
        return default_name(self.target, self.content_type)


class RunSource(Protocol):
    """What fills a run, live (`fetch.Fetch`) or from a file (`replay.Replay`)."""

    run: Run
    listener: Callable[[Event], None]

    @property
    def result(self) -> Finished | Failed | None: ...

    @property
    def stopping(self) -> bool:
        """True once told to stop: waits on its behalf should end."""
        ...

    def perform(self) -> Finished | Failed: ...

    def cancel(self, reason: str = "cancelled") -> None: ...
