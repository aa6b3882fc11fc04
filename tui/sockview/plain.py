"""Plain mode: the book's lines (`SIZE TOTAL` per recv, `Header length N`, the header).

No app: the fetch runs on a worker thread, its rows are printed on stdout as they come,
a summary and any saving go to stderr. Ctrl-C cancels the fetch and keeps what came.
"""

from __future__ import annotations

import contextlib
import io
import os
import sys
import threading
from typing import BinaryIO, TextIO

from sockview.core.body import BodySink, DiscardBody, SpooledBody
from sockview.core.errors import count_bytes, counted
from sockview.core.events import ChunksReceived, Event, Failed, Finished
from sockview.core.fetch import Fetch
from sockview.core.run import Run, RunSource
from sockview.core.runfile import RunFileError, write_run
from sockview.core.save import (
    PendingFile,
    SaveError,
    resolve_destination,
    save_file,
)
from sockview.core.text import visible, visible_lines
from sockview.settings import Settings

_SIZE_TOTAL = "%d %d\n"
INTERRUPTED = "interrupted"
BROKEN_PIPE = 141
"""The exit status when stdout went away: 128 + SIGPIPE, as a shell reports a program
that SIGPIPE ended."""


class PlainPrinter:
    """Plain mode's listener: the book's lines on stdout (run_plain writes stderr).

    When stdout goes away (`sockview --plain URL | head`), the fetch is cancelled and
    nothing more is written to it.
    """

    def __init__(self, fetch: RunSource, out: TextIO) -> None:
        self.fetch = fetch
        self.run = fetch.run
        self.out = out
        self.closed = False
        """True once a write to stdout failed because the reader had gone."""

    def __call__(self, event: Event) -> None:
        if isinstance(event, ChunksReceived):
            log = self.run.log
            rows = event.stop - event.start
            # The book's `SIZE TOTAL` lines, all formatted by one `%`: about 150 ns a row,
            # where one "%d %d" a row costs 250 and an f-string 430.
            values: list[int] = [0] * (2 * rows)
            values[::2] = log.sizes[event.start : event.stop]
            values[1::2] = log.totals[event.start : event.stop]
            self._write(_SIZE_TOTAL * rows % tuple(values))

    def print_head(self) -> None:
        head = self.run.head
        if head is not None:
            self._write(
                f"Header length {head.header_length}\n" + visible_lines(head.head_text) + "\n"
            )

    def _write(self, text: str) -> None:
        if self.closed:
            return
        try:
            self.out.write(text)
            self.out.flush()
        except BrokenPipeError:
            self.closed = True
            self.fetch.cancel("standard output was closed")
            _silence(self.out)


def _silence(stream: TextIO) -> None:
    """Point a closed pipe's file descriptor at /dev/null, so that the interpreter's last
    flush finds no broken pipe either (the recipe in Python's `signal` documentation)."""
    with contextlib.suppress(OSError, ValueError, io.UnsupportedOperation):
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, stream.fileno())
        os.close(devnull)


def run_plain(
    settings: Settings,
    out: TextIO | None = None,
    err: TextIO | None = None,
    source: RunSource | None = None,
) -> int:
    """Fetch `settings.target` (or play `source`, a replay) and print the book's lines."""
    out = out or sys.stdout
    err = err or sys.stderr
    if source is None:
        assert settings.target is not None
        body = _plain_body(settings.output)
        fetch: RunSource = Fetch(settings.target, settings.options, delay=settings.delay, body=body)
    else:
        fetch, body = source, source.run.body
    try:
        printer = PlainPrinter(fetch, out)
        fetch.listener = printer
        result = _run_interruptibly(fetch)
        interrupted = (
            isinstance(result, Failed) and result.cancelled and result.reason == INTERRUPTED
        )
        if interrupted:
            # Only the rows: the user stopped it, and the head would scroll them away.
            err.write(f"sockview: {INTERRUPTED}\n")
            status = 130
        elif printer.closed:
            status = BROKEN_PIPE
        else:
            printer.print_head()
            if isinstance(result, Failed):
                err.write(f"sockview: {visible(result.reason)}\n")
                status = 1
            else:
                err.write(_summary(fetch.run, result) + "\n")
                status = 0
        if settings.output and fetch.run.head is not None:
            status = _save_plain(fetch.run, body, settings.output, err) or status
        if settings.log:
            status = _save_log(fetch.run, settings.log, err) or status
        if settings.record and source is None:
            status = _save_record(fetch.run, settings, err) or status
        return status
    finally:
        body.close()


def _run_interruptibly(fetch: RunSource) -> Finished | Failed:
    """Run the fetch on a worker thread; Ctrl-C (on this, the main thread) cancels it.

    The fetch then ends as after any cancel, with every row and body byte so far in
    order, so that -o can save them as .partial; a KeyboardInterrupt raised inside the
    recv loop could land anywhere.
    """
    raised: list[BaseException] = []
    done = threading.Event()

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
            fetch.cancel(INTERRUPTED)
    if raised:
        raise raised[0]
    assert fetch.result is not None
    return fetch.result


def _plain_body(output: str | None) -> BodySink:
    """Where plain mode keeps the body: nowhere without -o; else straight in -o's folder.

    Writing the body where it will be saved spares a copy of it at the end (on a 500 MB
    body, a second of the two the save took). If that folder cannot take a new file, the
    body is spooled as in the app, and the save at the end says why it failed.
    """
    if not output:
        return DiscardBody()
    folder, name = resolve_destination(output, "")
    with contextlib.suppress(SaveError):
        return PendingFile(folder, name or "download")
    return SpooledBody()


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
        lines.append(connection_line(run))
    return "\n".join(f"sockview: {line}" for line in lines)


def connection_line(run: Run) -> str:
    """`127.0.0.1:50514 → 127.0.0.1:8000 (IPv4) · rcvbuf 131072`, TLS details after."""
    parts = [f"{run.local or '?'} → {run.peer_address or run.peer}"]
    if run.family:
        parts[0] += f" ({run.family})"
    if run.rcvbuf is not None:
        asked = f" (asked {run.rcvbuf_asked})" if run.rcvbuf_asked is not None else ""
        parts.append(f"rcvbuf {run.rcvbuf}{asked}")
    if run.tls_version:
        parts.append(f"{run.tls_version} {run.tls_cipher or ''}".rstrip())
    if run.cert_subject:
        parts.append(f"certificate {visible(run.cert_subject)}")
    if run.cert_issuer:
        parts.append(f"issued by {visible(run.cert_issuer)}")
    if run.kernel_note:
        parts.append(run.kernel_note)
    return " · ".join(parts)


def _save_plain(run: Run, body: BodySink, chosen: str, err: TextIO) -> int:
    folder, name = resolve_destination(chosen, run.default_name())
    partial = not run.complete
    try:
        if isinstance(body, PendingFile):
            saved = body.keep(name, partial=partial)
        else:
            assert isinstance(body, SpooledBody)
            saved = save_file(body.copy_to, folder, name, partial=partial)
    except SaveError as exc:
        err.write(f"sockview: {exc}\n")
        return 1
    err.write(f"sockview: {visible(saved.describe())}\n")
    return 0


def _save_log(run: Run, chosen: str, err: TextIO) -> int:
    folder, name = resolve_destination(chosen, "recv-log.csv")
    csv = run.csv_text().encode("ascii")

    def write(out: BinaryIO) -> None:
        out.write(csv)

    try:
        saved = save_file(write, folder, name)
    except SaveError as exc:
        err.write(f"sockview: {exc}\n")
        return 1
    records = counted(len(run.log), "record")
    err.write(f"sockview: wrote {records} to {visible(str(saved.path))}\n")
    return 0


def _save_record(run: Run, settings: Settings, err: TextIO) -> int:
    """--record: the run, written to a run file."""
    assert settings.record is not None
    try:
        saved = write_run(run, settings.record, with_body=settings.record_body)
    except (SaveError, RunFileError) as exc:
        err.write(f"sockview: {visible(str(exc))}\n")
        return 1
    err.write(f"sockview: recorded the run to {visible(str(saved.path))}\n")
    return 0
