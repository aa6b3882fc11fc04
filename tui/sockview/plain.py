"""Plain mode: the book's lines (`SIZE TOTAL` per recv, `Header length N`, the header).

No app: the fetch runs on a worker thread, its rows are printed on stdout as they come,
a summary and any saving go to stderr. Ctrl-C, SIGTERM and SIGHUP cancel the fetch and
keep what came.

The fetch thread never writes a stream itself: it hands its lines to a writer thread, so
a stdout that nobody reads (a paused pager, a stalled pipe) holds the recv loop only once
LINES_BACKLOG bytes of lines wait (as the book's print() would, at once), and a signal,
`--deadline` or a closed stdout still acts at once.
"""

from __future__ import annotations

import contextlib
import errno
import io
import os
import signal
import sys
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import replace
from types import FrameType
from typing import BinaryIO, TextIO

from sockview.core.body import BodySink, DiscardBody, SpooledBody
from sockview.core.errors import count_bytes, counted
from sockview.core.events import ChunksReceived, Event, Failed, Finished
from sockview.core.fetch import Fetch
from sockview.core.run import Run, RunSource
from sockview.core.runfile import RunFileError, write_run
from sockview.core.save import (
    DeviceFile,
    PendingFile,
    SaveError,
    destination,
    name_for_status,
    own_descriptor,
    save_file,
    special_file,
)
from sockview.core.text import visible, visible_lines
from sockview.core.url import UrlError, resolve_location
from sockview.settings import Settings

_SIZE_TOTAL = "%d %d\n"
MAX_REDIRECTS = 10
"""Redirects that -L follows before it stops, as curl does."""
INTERRUPTED = "interrupted"
BROKEN_PIPE = 141
"""The exit status when stdout went away: 128 + SIGPIPE, as a shell reports a program
that SIGPIPE ended."""
WRITE_ERROR = 23
"""The exit status when our own output could not be written (curl's "write error")."""
FAILED_STATUS = 22
"""The exit status with --fail when the server answered 400 or more (curl's --fail)."""
STDOUT = "-"
"""`-o -`, `--log -`, `--record -`: that goes to stdout, and the book's lines to stderr."""
_BODY_BACKLOG = 16 * 1024 * 1024
"""Body bytes (`-o -`) that may wait for stdout before the recv loop waits for it."""
LINES_BACKLOG = 4 * 1024 * 1024
"""Bytes of the book's lines that may wait for their stream before the recv loop waits.

About 350,000 rows of 12 bytes: seconds of the fastest fetch's rows, hundreds of its
20 ms reports, so a reader that keeps up (a terminal, a file, a pager being scrolled)
never makes the loop wait, and a stalled one costs a few MiB rather than a row for every
recv of an endless fetch."""


class Signalled(BaseException):
    """SIGTERM or SIGHUP arrived: handled like Ctrl-C, with its own exit status."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum

    @property
    def reason(self) -> str:
        if self.signum == signal.SIGINT:
            return INTERRUPTED
        return (signal.strsignal(self.signum) or f"signal {self.signum}").lower()

    @property
    def status(self) -> int:
        return 128 + self.signum


class Output:
    """One of our streams, written by its own thread; `put` never blocks.

    A write that fails is named as ours, once: EPIPE (the reader went away) calls
    `on_broken`; any other error (a closed stream, a full disk) is kept in `error`, and
    later output is dropped.
    """

    def __init__(self, stream: TextIO | None, name: str) -> None:
        self.name = name
        self.stream = stream
        self.fd = _fileno(stream)
        self.closed = False
        """True once the reader went away (EPIPE)."""
        self.error: str | None = None
        """Why a write failed, other than EPIPE; None while all is well."""
        self.on_broken: list[Callable[[], None]] = []
        self._queue: deque[str | bytes] = deque()
        self._queued_bytes = 0
        self._lock = threading.Condition()
        self._busy = False
        self._closing = False
        if stream is None:
            self.error = f"cannot write to {name}: it is closed"
        threading.Thread(target=self._run, name=f"sockview-{name}", daemon=True).start()

    def put(self, data: str | bytes) -> None:
        if not data:
            return
        with self._lock:
            if self.closed or self.error is not None:
                return
            self._queue.append(data)
            self._queued_bytes += len(data)
            self._lock.notify_all()

    def close(self) -> None:
        """Let the thread end once it has written what it holds (or, blocked, never)."""
        with self._lock:
            self._closing = True
            self._lock.notify_all()

    @property
    def backlog(self) -> int:
        """Bytes put and not yet written."""
        return self._queued_bytes

    def has_room(self, limit: int, timeout: float) -> bool:
        """Wait up to `timeout` for the backlog to fall to `limit` (or the stream to die)."""
        with self._lock:
            return self._lock.wait_for(lambda: self._queued_bytes <= limit or self.dead, timeout)

    @property
    def dead(self) -> bool:
        return self.closed or self.error is not None

    def drained(self, timeout: float) -> bool:
        """Wait up to `timeout` for everything put so far to be written (or dropped)."""
        with self._lock:
            return self._lock.wait_for(lambda: not self._queue and not self._busy, timeout)

    def _run(self) -> None:
        while True:
            with self._lock:
                self._lock.wait_for(lambda: bool(self._queue) or self._closing)
                if not self._queue:
                    return
                data = self._queue.popleft()
                self._busy = True
            try:
                if not self.dead:
                    self._write(data)
            except BrokenPipeError:
                self.closed = True
                for callback in self.on_broken:
                    callback()
            except Exception as exc:  # any stream: what failed is named, nothing hangs
                why = getattr(exc, "strerror", None) or str(exc)
                if isinstance(exc, ValueError) or getattr(exc, "errno", None) == errno.EBADF:
                    why = "it is closed"
                self.error = f"cannot write to {self.name}: {why}"
            finally:
                with self._lock:
                    self._queued_bytes -= len(data)
                    self._busy = False
                    if self.dead:
                        self._queue.clear()
                        self._queued_bytes = 0
                    self._lock.notify_all()

    def _write(self, data: str | bytes) -> None:
        stream = self.stream
        assert stream is not None
        if self.fd is None:
            if isinstance(data, bytes):
                stream.buffer.write(data)
            else:
                stream.write(data)
            stream.flush()
            return
        if isinstance(data, str):
            data = data.encode(stream.encoding or "utf-8", "backslashreplace")
        view = memoryview(data)
        while view:
            view = view[os.write(self.fd, view) :]


def _fileno(stream: TextIO | None) -> int | None:
    """The stream's descriptor, to write around its buffer (whose lock a writer blocked in
    a stalled pipe would hold at the interpreter's exit); None for a stream without one."""
    if stream is None:
        return None
    try:
        fd = stream.fileno()
    except (OSError, ValueError, io.UnsupportedOperation, AttributeError):
        return None
    with contextlib.suppress(OSError, ValueError, AttributeError):
        stream.flush()
    return fd


class PlainPrinter:
    """Plain mode's listener: the book's lines, handed to the writer of `lines`.

    When that stream goes away (`sockview --plain URL | head`), the fetch is cancelled.
    When it stalls, the lines wait up to LINES_BACKLOG bytes, then the fetch waits too
    (`wait_for_room`).
    """

    def __init__(
        self,
        fetch: RunSource,
        lines: Output,
        stopped: threading.Event | None = None,
        give_up: float | None = None,
    ) -> None:
        self.fetch = fetch
        self.run = fetch.run
        self.lines = lines
        self._stopped = stopped or threading.Event()
        self._give_up = give_up
        lines.on_broken.append(lambda: fetch.cancel("standard output was closed"))

    @property
    def closed(self) -> bool:
        """True once a write failed because the reader had gone."""
        return self.lines.closed

    def __call__(self, event: Event) -> None:
        if isinstance(event, ChunksReceived):
            log = self.run.log
            rows = event.stop - event.start
            # The book's `SIZE TOTAL` lines, all formatted by one `%`: about 150 ns a row,
            # where one "%d %d" a row costs 250 and an f-string 430.
            values: list[int] = [0] * (2 * rows)
            values[::2] = log.sizes[event.start : event.stop]
            values[1::2] = log.totals[event.start : event.stop]
            self.lines.put(_SIZE_TOTAL * rows % tuple(values))
            if self.lines.backlog > LINES_BACKLOG:  # once a report, not once a recv
                self.wait_for_room()

    def wait_for_room(self) -> None:
        """Back-pressure: wait until the writer has brought the backlog to LINES_BACKLOG.

        This is what the book's loop does: its print() blocks the recv loop while the
        terminal or pipe is full, the receive buffer then fills, and TCP flow control slows
        the server. The wait ends at once on a cancel (Ctrl-C, SIGTERM, a closed stream) and
        at `--deadline`, for whichever thread reports (the fetch's, or its watchdog's).
        """
        give_up = self._give_up
        lines = self.lines
        # Checked before each wait: once stopped, the rest of the rows never wait.
        while lines.backlog > LINES_BACKLOG and not lines.dead:
            if self._stopped.is_set() or self.fetch.stopping:
                return
            if give_up is not None and time.monotonic() >= give_up:
                return
            lines.has_room(LINES_BACKLOG, 0.05)

    def print_head(self) -> None:
        head = self.run.head
        if head is not None:
            self.lines.put(
                f"Header length {head.header_length}\n" + visible_lines(head.head_text) + "\n"
            )


class StdoutBody:
    """`-o -`: the body, handed to stdout's writer as it comes.

    Up to `_BODY_BACKLOG` bytes may wait for a slow reader; beyond that the recv loop waits
    too (as curl's would), but never past a cancel or the deadline.
    """

    where = "standard output"

    def __init__(self, out: Output, stopped: threading.Event) -> None:
        self.out = out
        self.size = 0
        self._stopped = stopped

    def write(self, data: bytes | bytearray | memoryview) -> None:
        while self.out.backlog > _BODY_BACKLOG and not self.out.dead:
            if self._stopped.wait(0.05):
                return
        self.out.put(bytes(data))
        self.size += len(data)

    def close(self) -> None:
        pass


def _raise_signalled(signum: int, frame: FrameType | None) -> None:
    raise Signalled(signum)


@contextlib.contextmanager
def _terminating_signals():  # type: ignore[no-untyped-def]
    """SIGTERM and SIGHUP raise `Signalled` on the main thread while plain mode runs.

    A signal that we were started with ignored stays ignored: `nohup sockview --plain ...`
    asks for the fetch to outlive its terminal.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    names = ("SIGTERM", "SIGHUP")
    kept = {}
    for name in names:
        number = getattr(signal, name, None)
        if number is not None and signal.getsignal(number) is not signal.SIG_IGN:
            kept[number] = signal.signal(number, _raise_signalled)
    try:
        yield
    finally:
        for number, handler in kept.items():
            signal.signal(number, handler)


def names_stdout(chosen: str | None) -> bool:
    """True if -o, --log or --record's `chosen` is our standard output: `-`, or a path
    such as /dev/stdout that leads to it (written as `-` is, whatever stdout leads to)."""
    return chosen == STDOUT or own_descriptor(chosen) == 1


def run_plain(
    settings: Settings,
    out: TextIO | None = None,
    err: TextIO | None = None,
    source: RunSource | None = None,
) -> int:
    """Fetch `settings.target` (or play `source`, a replay) and print the book's lines;
    with -L (`settings.follow`), each redirect in its turn, every hop's lines a block of
    their own, and only the last body saved."""
    out = out if out is not None else sys.stdout
    err = err if err is not None else sys.stderr
    to_stdout = any(names_stdout(chosen) for chosen in (settings.output, settings.log))
    to_stdout = to_stdout or (source is None and names_stdout(settings.record))
    stdout = Output(out, "standard output")
    messages = Output(err, "standard error")
    lines = messages if to_stdout else stdout
    try:
        if source is not None or not settings.follow:
            return _run_plain(settings, source, stdout, messages, lines)[0]
        return _follow(settings, stdout, messages, lines)
    finally:
        stdout.close()
        messages.close()


def _follow(settings: Settings, stdout: Output, messages: Output, lines: Output) -> int:
    """-L: fetch, and while the answer is a redirect, fetch where it points (at most
    MAX_REDIRECTS times); a redirect followed is neither saved nor recorded."""
    for hop in range(MAX_REDIRECTS + 1):
        status, run = _run_plain(settings, None, stdout, messages, lines, hop < MAX_REDIRECTS)
        location = run.location if run is not None and run.complete else None
        if location is None or status != 0:
            return status
        assert run is not None
        try:
            target = resolve_location(run.target, location)
        except UrlError as exc:
            messages.put(f"sockview: cannot follow the redirect: {visible(str(exc))}\n")
            status = 1
        else:
            if hop < MAX_REDIRECTS:
                messages.put(
                    f"sockview: {visible(run.status_text or '')} → {visible(target.url)}\n"
                )
                lines.put("\n")
                settings = replace(settings, target=target)
                continue
            messages.put(f"sockview: stopped after {MAX_REDIRECTS} redirects\n")
            status = 1
        _drain((messages,), time.monotonic() + _LAST_WORDS)
        return status
    raise AssertionError("unreachable")


def _run_plain(
    settings: Settings,
    source: RunSource | None,
    stdout: Output,
    messages: Output,
    lines: Output,
    may_follow: bool = False,
) -> tuple[int, Run | None]:
    stopped = threading.Event()
    with _terminating_signals():
        if source is not None:
            fetch, body = source, source.run.body
        else:
            assert settings.target is not None
            try:
                body = _plain_body(settings.output, stdout, stopped)
            except SaveError as exc:
                messages.put(f"sockview: {exc}\n")
                _drain((messages,), None)
                return 1, None
            fetch = Fetch(settings.target, settings.options, delay=settings.delay, body=body)
        try:
            live = source is None
            status = _run(settings, fetch, body, stdout, messages, lines, stopped, live, may_follow)
            return status, fetch.run
        finally:
            body.close()


def _run(
    settings: Settings,
    fetch: RunSource,
    body: BodySink,
    stdout: Output,
    messages: Output,
    lines: Output,
    stopped: threading.Event,
    live: bool,
    may_follow: bool = False,
) -> int:
    began = time.monotonic()
    deadline = settings.options.deadline if live else None
    give_up = None if deadline is None else began + deadline
    run = fetch.run
    printer = PlainPrinter(fetch, lines, stopped, give_up)
    fetch.listener = printer
    if isinstance(body, StdoutBody):
        stdout.on_broken.append(lambda: fetch.cancel("standard output was closed"))
    result, signalled, status = _run_interruptibly(fetch, stopped)
    say = messages.put
    if signalled is not None:
        # Only the rows: the user stopped it, and the head would scroll them away.
        say(f"sockview: {signalled}\n")
    elif not stdout.closed:
        printer.print_head()
        if isinstance(result, Failed):
            say(f"sockview: {visible(result.reason)}\n")
        else:
            say(_summary(run, result) + "\n")
    if signalled is None:
        status = BROKEN_PIPE if stdout.closed else 1 if isinstance(result, Failed) else 0
    if may_follow and status == 0 and run.location and run.complete:
        _drain((lines, stdout), give_up)
        return status  # -L fetches where it points: this body is not the one asked for
    if settings.output and run.head is not None:
        status = _save_plain(run, body, settings.output, say) or status
    if settings.log:
        status = _save_log(run, settings.log, say, stdout) or status
    if settings.record and live:
        status = _save_record(run, settings, say) or status
    if signalled is not None:
        # Stopped by the user: what stdout still holds may go, but not keep us waiting.
        give_up = time.monotonic() + _LAST_WORDS
    drained = _drain((lines, stdout), give_up)
    if isinstance(drained, Signalled):
        say(f"sockview: {drained.reason}\n")
        status, signalled = drained.status, drained.reason
    elif not drained and signalled is None:
        say("sockview: standard output did not take the rest of the output\n")
        status = status or WRITE_ERROR
    elif stdout.closed and signalled is None:
        status = status or BROKEN_PIPE  # the reader went away before the end (the log, say)
    if stdout.error is not None and signalled is None:
        say(f"sockview: {stdout.error}\n")
        status = status or WRITE_ERROR
    if settings.fail and status == 0 and run.head is not None and run.head.status >= 400:
        status = FAILED_STATUS
    _drain((messages,), time.monotonic() + _LAST_WORDS)
    return status


_LAST_WORDS = 0.5
"""Seconds the last messages may wait for a stalled stream once the run is over."""


def _drain(outputs: tuple[Output, ...], give_up: float | None) -> bool | Signalled:
    """Wait for `outputs` to write what they hold: False at `give_up`, the signal if one
    came meanwhile (Ctrl-C as SIGINT)."""
    try:
        for output in outputs:
            while not output.drained(0.1):
                if give_up is not None and time.monotonic() >= give_up:
                    return False
    except KeyboardInterrupt:
        return Signalled(signal.SIGINT)
    except Signalled as exc:
        return exc
    return True


def _run_interruptibly(
    fetch: RunSource, stopped: threading.Event
) -> tuple[Finished | Failed, str | None, int]:
    """Run the fetch on a worker thread; a signal (on this, the main thread) cancels it.

    The fetch then ends as after any cancel, with every row and body byte so far in
    order, so that -o can save them as .partial; a KeyboardInterrupt raised inside the
    recv loop could land anywhere. Returns the result, and the first signal's reason and
    exit status (None and 0 without one).
    """
    raised: list[BaseException] = []
    done = threading.Event()
    signalled: Signalled | None = None

    def work() -> None:
        try:
            fetch.perform()
        except BaseException as exc:  # re-raised on the main thread
            raised.append(exc)
        finally:
            done.set()

    threading.Thread(target=work, name="sockview-fetch", daemon=True).start()
    # A timed wait, not join(): an interrupted join() can report a live thread as ended.
    while not done.is_set():
        try:
            done.wait(0.1)
        except KeyboardInterrupt:
            signalled = signalled or Signalled(signal.SIGINT)
        except Signalled as exc:
            signalled = signalled or exc
        if signalled is not None and not stopped.is_set():
            stopped.set()
            fetch.cancel(signalled.reason)
    stopped.set()
    if raised:
        raise raised[0]
    assert fetch.result is not None
    if signalled is None:
        return fetch.result, None, 0
    return fetch.result, signalled.reason, signalled.status


def _plain_body(output: str | None, stdout: Output, stopped: threading.Event) -> BodySink:
    """Where plain mode keeps the body: nowhere without -o; else straight in -o's folder.

    Writing the body where it will be saved spares a copy of it at the end (on a 500 MB
    body, a second of the two the save took). `-o -` writes it to stdout, and a device or
    FIFO is written as such. A folder that cannot take a new file is found out here,
    before connecting: the SaveError says why.
    """
    if not output:
        return DiscardBody()
    if names_stdout(output):
        return StdoutBody(stdout, stopped)
    device = special_file(output)
    if device is not None:
        return DeviceFile(device)
    folder, name, _ = destination(output, "")
    return PendingFile(folder, name or "download")


def _summary(run: Run, result: Finished) -> str:
    head = run.head
    what = f"{count_bytes(result.total)} in {counted(result.recv_count, 'recv')}"
    what += f", {result.elapsed:.3f} s"
    if head is not None:
        what += (
            f"; {visible(head.status_line)}; body {count_bytes(result.body_bytes)}"
            f" ({head.framing.value})"
        )
    lines = [what]
    if any(ms is not None for _, ms in run.phases.steps()):  # a run file may hold none
        lines.append(run.phases.line())
    if run.local is not None:
        line = run.connection_line()
        if run.kernel_note:
            line += f" · {run.kernel_note}"
        lines.append(visible(line))
    return "\n".join(f"sockview: {line}" for line in lines)


def _save_plain(run: Run, body: BodySink, chosen: str, say: Callable[[str], None]) -> int:
    if isinstance(body, StdoutBody):
        return 0
    folder, name, typed = destination(chosen, run.default_name())
    if run.head is not None:
        name = name_for_status(name, run.head.status, run.content_type)
    partial = not run.complete
    try:
        if isinstance(body, PendingFile | DeviceFile):
            saved = body.keep(name, partial=partial, typed=typed)
        else:
            assert isinstance(body, SpooledBody)
            saved = save_file(body.copy_to, folder, name, partial=partial, typed=typed)
    except SaveError as exc:
        say(f"sockview: {exc}\n")
        return 1
    say(f"sockview: {visible(saved.describe())}\n")
    return 0


def _save_log(run: Run, chosen: str, say: Callable[[str], None], stdout: Output) -> int:
    """--log: the recv records as CSV, to a new file, a device, or stdout's writer (after
    all that it holds, so that a stalled stdout never holds up the exit)."""
    csv = run.csv_text().encode("ascii")
    records = counted(len(run.log), "record")
    if names_stdout(chosen):
        stdout.put(csv)
        say(f"sockview: wrote {records} to standard output\n")
        return 0
    folder, name, typed = destination(chosen, "recv-log.csv")

    def write(out: BinaryIO) -> None:
        out.write(csv)

    try:
        saved = save_file(write, folder, name, typed=typed)
    except SaveError as exc:
        say(f"sockview: {exc}\n")
        return 1
    say(f"sockview: wrote {records} to {visible(str(saved.path))}\n")
    return 0


def _save_record(run: Run, settings: Settings, say: Callable[[str], None]) -> int:
    """--record: the run, written to a run file."""
    assert settings.record is not None
    # `-`: stdout holds nothing else (the lines went to stderr), so it is written directly.
    chosen = "/dev/stdout" if settings.record == STDOUT else settings.record
    try:
        saved = write_run(run, chosen, with_body=settings.record_body)
    except (SaveError, RunFileError) as exc:
        say(f"sockview: {visible(str(exc))}\n")
        return 1
    say(f"sockview: recorded the run to {visible(str(saved.path))}\n")
    return 0
