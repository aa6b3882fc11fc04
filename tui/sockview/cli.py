"""The command line: argument checks, plain mode, and the app factory."""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import ssl
import sys
import threading
from dataclasses import dataclass
from typing import TextIO

from sockview import __version__
from sockview.core.body import BodySink, DiscardBody, SpooledBody
from sockview.core.demo import DemoServer
from sockview.core.events import ChunksReceived, Event, Failed, Finished, HeadersComplete
from sockview.core.fetch import (
    DEFAULT_BUFSIZE,
    DEFAULT_DELAY,
    MAX_BUFSIZE,
    MAX_DELAY,
    DelaySwitch,
    Fetch,
    FetchOptions,
)
from sockview.core.parse import MAX_HEADER
from sockview.core.request import RequestStyle
from sockview.core.save import (
    PendingFile,
    Saved,
    SaveError,
    default_name,
    resolve_destination,
    save_file,
)
from sockview.core.text import visible, visible_lines
from sockview.core.url import Target, UrlError, parse_url

MAX_TIMEOUT = 24 * 3600.0


def _number(kind: type[int] | type[float], low: float, high: float):  # type: ignore[no-untyped-def]
    """An argparse type: a number of `kind` from `low` to `high` (NaN and infinities refused).

    Its messages leave the option out: argparse puts "argument --name: " in front.
    """
    shown = "d" if kind is int else "g"
    a_number = "a whole number" if kind is int else "a number"
    wanted = f"must be {a_number} from {low:{shown}} to {high:{shown}}"

    def check(text: str) -> int | float:
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{wanted}, not {text!r}") from None
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"{wanted}, not {text!r}")
        return value

    return check


def _ca_file(path: str) -> str:
    """--cacert: a PEM file of CA certificates that loads, checked before any connection."""
    try:
        ssl.create_default_context(cafile=path)
    except (OSError, ValueError) as exc:
        why = getattr(exc, "reason", None) or getattr(exc, "strerror", None) or str(exc)
        raise argparse.ArgumentTypeError(
            f"cannot load CA certificates from {path!r}: {why}"
        ) from None
    return path


def _escaping(stream: TextIO) -> TextIO:
    """`stream`, set to write what its encoding cannot take as escapes instead of failing.

    Server text decoded as latin-1 may hold any character from U+0080 to U+00FF.
    """
    reconfigure = getattr(stream, "reconfigure", None)
    if reconfigure is not None:
        with contextlib.suppress(ValueError, io.UnsupportedOperation):
            reconfigure(errors="backslashreplace")
    return stream


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="sockview",
        description=(
            "Fetch a URL over a raw TCP socket and watch what every recv() call returns."
            " Opens the app; --plain prints the book's lines instead."
        ),
        epilog=(
            "examples:  sockview --demo    sockview --demo --plain --delay 0.25"
            "    sockview http://127.0.0.1:8000/cover.png -o stuff.png"
        ),
    )
    parser.add_argument("url", nargs="?", help="http:// or https:// URL to fetch")
    parser.add_argument(
        "--demo", action="store_true", help="start the embedded demo server and fetch its picture"
    )
    parser.add_argument("--plain", action="store_true", help="no app: print SIZE TOTAL lines")
    parser.add_argument(
        "-o", "--output", metavar="PATH", help="save the body here (never overwrites)"
    )
    parser.add_argument("--log", metavar="PATH", help="plain mode: write the recv records as CSV")
    parser.add_argument(
        "--delay",
        metavar="SECONDS",
        type=_number(float, 0, MAX_DELAY),
        help=f"pause after each recv (default off; the app's d key uses {DEFAULT_DELAY})",
    )
    parser.add_argument(
        "--bufsize",
        metavar="N",
        type=_number(int, 1, MAX_BUFSIZE),
        default=DEFAULT_BUFSIZE,
        help=f"bytes asked of each recv (default {DEFAULT_BUFSIZE})",
    )
    parser.add_argument(
        "--http", choices=["1.0", "1.1"], default="1.0", help="request version (default 1.0)"
    )
    parser.add_argument(
        "--book",
        action="store_true",
        help="send the book's exact request: GET http://HOST/PATH HTTP/1.0 and a blank line",
    )
    parser.add_argument("--insecure", action="store_true", help="do not verify TLS certificates")
    parser.add_argument(
        "--cacert", metavar="PEM", type=_ca_file, help="also trust the CA certificates in PEM"
    )
    parser.add_argument(
        "--connect-timeout",
        metavar="S",
        type=_number(float, 0.001, MAX_TIMEOUT),
        default=10.0,
        help="seconds to wait for the connection (default 10)",
    )
    parser.add_argument(
        "--read-timeout",
        metavar="S",
        type=_number(float, 0.001, MAX_TIMEOUT),
        default=30.0,
        help="seconds to wait for the next byte (default 30)",
    )
    parser.add_argument(
        "--deadline",
        metavar="S",
        type=_number(float, 0.001, MAX_TIMEOUT),
        help="seconds for the whole fetch (default: no limit)",
    )
    parser.add_argument(
        "--max-header",
        metavar="BYTES",
        type=_number(int, 1024, 64 * 1024 * 1024),
        default=MAX_HEADER,
        help=f"largest response header accepted (default {MAX_HEADER})",
    )
    parser.add_argument("--version", action="version", version=f"sockview {__version__}")
    return parser


@dataclass
class Settings:
    """What the command line asked for, checked."""

    target: Target | None
    options: FetchOptions
    delay: DelaySwitch
    output: str | None
    log: str | None
    demo: bool


def settings_from(args: argparse.Namespace, parser: argparse.ArgumentParser) -> Settings:
    target = None
    if args.url:
        try:
            target = parse_url(args.url)
        except UrlError as exc:
            parser.error(str(exc))
    if args.book and args.http == "1.1":
        parser.error("--book sends HTTP/1.0; it cannot be combined with --http 1.1")
    style = RequestStyle.BOOK if args.book else RequestStyle(args.http)
    options = FetchOptions(
        bufsize=args.bufsize,
        style=style,
        insecure=args.insecure,
        cafile=args.cacert,
        connect_timeout=args.connect_timeout,
        read_timeout=args.read_timeout,
        deadline=args.deadline,
        max_header=args.max_header,
    )
    delay = DelaySwitch(
        seconds=args.delay if args.delay else DEFAULT_DELAY, enabled=bool(args.delay)
    )
    return Settings(target, options, delay, args.output, args.log, args.demo)


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

    def __init__(self, fetch: Fetch, out: TextIO) -> None:
        self.fetch = fetch
        self.out = out
        self.head: HeadersComplete | None = None
        self.closed = False
        """True once a write to stdout failed because the reader had gone."""

    def __call__(self, event: Event) -> None:
        if isinstance(event, ChunksReceived):
            log = self.fetch.log
            rows = event.stop - event.start
            # The book's `SIZE TOTAL` lines, all formatted by one `%`: about 150 ns a row,
            # where one "%d %d" a row costs 250 and an f-string 430.
            values: list[int] = [0] * (2 * rows)
            values[::2] = log.sizes[event.start : event.stop]
            values[1::2] = log.totals[event.start : event.stop]
            self._write(_SIZE_TOTAL * rows % tuple(values))
        elif isinstance(event, HeadersComplete):
            self.head = event

    def print_head(self) -> None:
        if self.head is not None:
            self._write(
                f"Header length {self.head.header_length}\n"
                + visible_lines(self.head.head_text)
                + "\n"
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


def run_plain(settings: Settings, out: TextIO | None = None, err: TextIO | None = None) -> int:
    assert settings.target is not None
    out = out or sys.stdout
    err = err or sys.stderr
    body = _plain_body(settings.output)
    try:
        fetch = Fetch(settings.target, settings.options, delay=settings.delay, body=body)
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
                err.write(_summary(fetch, result) + "\n")
                status = 0
        if settings.output and fetch.head is not None:
            status = _save_plain(fetch, body, settings.output, err) or status
        if settings.log:
            status = _save_log(fetch, settings.log, err) or status
        return status
    finally:
        body.close()


def _run_interruptibly(fetch: Fetch) -> Finished | Failed:
    """Run the fetch on a worker thread; Ctrl-C (on this, the main thread) cancels it.

    The fetch then ends as after any cancel, with every row and body byte so far in
    order, so that -o can save them as .partial; a KeyboardInterrupt raised inside the
    recv loop could land anywhere.
    """
    raised: list[BaseException] = []
    done = threading.Event()

    def work() -> None:
        try:
            fetch.run()
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


def _summary(fetch: Fetch, result: Finished) -> str:
    head = fetch.head
    what = f"{result.total} bytes in {result.recv_count} recvs, {result.elapsed:.3f} s"
    if head is not None:
        what += (
            f"; {visible(head.status_line)}; body {result.body_bytes} bytes ({head.framing.value})"
        )
    return f"sockview: {what}"


def _save_plain(fetch: Fetch, body: BodySink, chosen: str, err: TextIO) -> int:
    content_type = (
        next((v for n, v in fetch.head.headers if n.lower() == "content-type"), None)
        if fetch.head
        else None
    )
    folder, name = resolve_destination(chosen, default_name(fetch.target, content_type))
    partial = not fetch.complete
    try:
        if isinstance(body, PendingFile):
            saved = body.keep(name, partial=partial)
        else:
            assert isinstance(body, SpooledBody)
            saved = save_file(body.copy_to, folder, name, partial=partial)
    except SaveError as exc:
        err.write(f"sockview: {exc}\n")
        return 1
    err.write(_saved_message(saved) + "\n")
    return 0


def _saved_message(saved: Saved) -> str:
    what = "partial body" if saved.partial else "body"
    return f"sockview: saved the {what} ({saved.size} bytes) to {visible(str(saved.path))}"


def _save_log(fetch: Fetch, chosen: str, err: TextIO) -> int:
    folder, name = resolve_destination(chosen, "recv-log.csv")
    csv = "index,time_ms,size,total\n" + fetch.log.csv_lines()
    try:
        saved = save_file(lambda out: out.write(csv.encode("ascii")), folder, name)
    except SaveError as exc:
        err.write(f"sockview: {exc}\n")
        return 1
    err.write(f"sockview: wrote {len(fetch.log)} records to {visible(str(saved.path))}\n")
    return 0


def main(argv: list[str] | None = None) -> int:
    _escaping(sys.stdout)
    _escaping(sys.stderr)
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.log and not args.plain:
        parser.error("--log is for plain mode: add --plain")
    settings = settings_from(args, parser)
    if settings.demo and settings.target is not None:
        parser.error("give either a URL or --demo, not both")
    server = DemoServer().start() if settings.demo else None
    try:
        if server is not None:
            settings.target = parse_url(server.url("/cover.png"))
        if args.plain:
            if settings.target is None:
                parser.error("plain mode needs a URL (or --demo)")
            try:
                return run_plain(settings)
            except KeyboardInterrupt:  # a second Ctrl-C, during the save
                sys.stderr.write(f"sockview: {INTERRUPTED}\n")
                return 130
        from sockview.ui.app import run_app

        return run_app(settings, demo=server)
    finally:
        if server is not None:
            server.stop()


if __name__ == "__main__":
    sys.exit(main())
