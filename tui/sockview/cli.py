"""The command line: arguments -> Settings -> plain mode or the app; nothing else."""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import ssl
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TextIO, TypeVar

from sockview import __version__, serve
from sockview.core import recvloop
from sockview.core.compare import figures, table
from sockview.core.demo import DemoServer
from sockview.core.fetch import (
    DEFAULT_BUFSIZE,
    DEFAULT_DELAY,
    MAX_BUFSIZE,
    MAX_DELAY,
    DelaySwitch,
    FetchOptions,
)
from sockview.core.parse import MAX_HEADER
from sockview.core.replay import Replay
from sockview.core.request import RequestError, RequestStyle, check_method, parse_header
from sockview.core.run import Run
from sockview.core.runfile import RunFileError, read_run
from sockview.core.save import SaveError, check_folder, destination, special_file
from sockview.core.text import visible
from sockview.core.url import UrlError, parse_url
from sockview.plain import INTERRUPTED, STDOUT, Signalled, names_stdout, run_plain
from sockview.settings import Settings

MAX_TIMEOUT = 24 * 3600.0
MAX_RCVBUF = 64 * 1024 * 1024
T = TypeVar("T")


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


def _checked(check: Callable[[str], T]) -> Callable[[str], T]:
    """An argparse type from a `request.py` check: its RequestError becomes the message."""

    def convert(text: str) -> T:
        try:
            return check(text)
        except RequestError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None

    return convert


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
        # Raw, so that the examples keep one a line; the options' help is still wrapped.
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description=(
            "Fetch a URL over a raw TCP socket and watch what every recv() call returns.\n"
            "Opens the app; --plain prints the book's lines instead."
        ),
        epilog=(
            "examples:\n"
            "  sockview --demo\n"
            "  sockview --demo --plain --delay 0.25\n"
            "  sockview http://127.0.0.1:8000/cover.png -o stuff.png"
        ),
    )
    parser.add_argument("url", nargs="?", help="http:// or https:// URL to fetch")
    parser.add_argument(
        "--demo", action="store_true", help="start the embedded demo server and fetch its picture"
    )
    parser.add_argument("--plain", action="store_true", help="no app: print SIZE TOTAL lines")
    parser.add_argument(
        "-o",
        "--output",
        metavar="PATH",
        help="save the body here (never overwrites); - writes it to stdout (plain mode)",
    )
    parser.add_argument("--log", metavar="PATH", help="plain mode: write the recv records as CSV")
    parser.add_argument(
        "--fail",
        action="store_true",
        help="plain mode: exit 22 if the server answers 400 or more (after saving the body)",
    )
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
    parser.add_argument(
        "--rcvbuf",
        metavar="BYTES",
        type=_number(int, 1, MAX_RCVBUF),
        help="ask the kernel for this receive buffer (SO_RCVBUF) before connecting",
    )
    parser.add_argument(
        "--no-keep",
        action="store_true",
        help="the app: keep neither the body nor the raw bytes, only each recv's size and"
        " time (nothing to save or show; the fastest fetch)",
    )
    parser.add_argument(
        "--no-kernel-view",
        action="store_true",
        help="do not sample the kernel's queue and window (FIONREAD, TCP_INFO)",
    )
    parser.add_argument(
        "-X",
        "--request",
        metavar="METHOD",
        dest="method",
        type=_checked(check_method),
        default="GET",
        help="GET (the default) or HEAD",
    )
    parser.add_argument(
        "-H",
        "--header",
        metavar="'NAME: VALUE'",
        dest="headers",
        type=_checked(parse_header),
        action="append",
        default=[],
        help="send this header too (or in place of ours of that name); may be repeated",
    )
    parser.add_argument(
        "-L",
        "--location",
        action="store_true",
        help="plain mode: follow redirects (at most 10)",
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
    runs = parser.add_argument_group("runs: keep, replay and compare fetches")
    runs.add_argument(
        "--record",
        metavar="PATH",
        help="write the run (every recv, the head, the body) to a run file (never overwrites)",
    )
    runs.add_argument(
        "--record-without-body",
        action="store_true",
        help="leave the body out of run files (a 1 GB download need not weigh 1 GB)",
    )
    runs.add_argument("--replay", metavar="RUNFILE", help="play a recorded run instead of fetching")
    runs.add_argument(
        "--speed",
        metavar="X",
        type=_number(float, 0, 64),
        default=1.0,
        help="replay speed (default 1, the recorded pace; 0 shows the finished run at once)",
    )
    runs.add_argument(
        "--compare",
        metavar="RUNFILE",
        nargs="+",
        help="compare recorded runs side by side (two or more)",
    )
    serve.add_arguments(parser)
    parser.add_argument(
        "--version",
        action="version",
        version=f"sockview {__version__}, recv loop: {recvloop.loop_name()}",
    )
    return parser


def settings_from(args: argparse.Namespace, parser: argparse.ArgumentParser) -> Settings:
    target = None
    if args.url:
        try:
            target = parse_url(args.url)
        except UrlError as exc:
            parser.error(str(exc))
    if args.book and args.http == "1.1":
        parser.error("--book sends HTTP/1.0; it cannot be combined with --http 1.1")
    if args.book and args.method != "GET":
        parser.error("--book sends the book's GET; it cannot be combined with -X HEAD")
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
        rcvbuf=args.rcvbuf,
        kernel_view=not args.no_kernel_view,
        method=args.method,
        headers=tuple(args.headers),
    )
    delay = DelaySwitch(
        seconds=args.delay if args.delay else DEFAULT_DELAY, enabled=bool(args.delay)
    )
    if args.record == "":
        parser.error("--record needs a path")
    if args.compare is not None and len(args.compare) < 2:
        parser.error("--compare needs two run files or more")
    sources = [bool(args.url), args.demo, bool(args.replay), args.compare is not None]
    if sum(sources) > 1:
        parser.error("give one of a URL, --demo, --replay or --compare")
    return Settings(
        target,
        options,
        delay,
        args.output,
        args.log,
        args.demo,
        record=args.record,
        record_body=not args.record_without_body,
        replay=args.replay,
        speed=args.speed,
        compare=args.compare or [],
        fail=args.fail,
        follow=args.location,
        keep=not args.no_keep,
    )


def _read_runs(paths: list[str]) -> list[Run]:
    """The run files, read; exits with one line (status 1) on the first that cannot be."""
    runs = []
    for path in paths:
        try:
            runs.append(read_run(path))
        except RunFileError as exc:
            for run in runs:
                run.body.close()
            sys.stderr.write(f"sockview: {visible(str(exc))}\n")
            raise SystemExit(1) from None
    return runs


def _check_paths(args: argparse.Namespace, parser: argparse.ArgumentParser) -> None:
    """-o and --log: usage errors now, not after the download."""
    for option, value in (("-o", args.output), ("--log", args.log)):
        if value == "":
            parser.error(f"{option} needs a path, not an empty string")
    if args.log is not None and not args.plain:
        parser.error("--log is for plain mode: add --plain")
    if args.no_keep and args.plain:
        parser.error("--no-keep is for the app: plain mode keeps the body only with -o")
    if args.fail and not args.plain:
        parser.error("--fail is for plain mode: add --plain")
    if args.output == STDOUT and not args.plain:
        parser.error("-o - writes the body to standard output: add --plain")
    if args.location and names_stdout(args.output):
        parser.error("-L with -o -: each redirect's body would go to standard output too")
    chosen = (args.output, args.log, args.record if args.plain else None)
    if sum(names_stdout(path) for path in chosen) > 1:
        parser.error("-o, --log and --record: only one of them can go to standard output")


def _check_folders(settings: Settings) -> str | None:
    """Why -o's or --log's folder cannot take a new file, found before connecting."""
    for chosen in (settings.output, settings.log):
        if not chosen or chosen == STDOUT or special_file(chosen) is not None:
            continue
        folder, _, _ = destination(chosen, "")
        try:
            check_folder(folder)
        except SaveError as exc:
            return str(exc)
    return None


def _reserve_standard_descriptors() -> None:
    """Put /dev/null on a closed stdin, stdout or stderr (`sockview ... >&-`).

    Otherwise the next file opened would get that number, and output meant for the
    closed stream would land in it (in the body being saved, say). Python already set
    `sys.stdout` and the others to None for a closed stream, so it is still known as closed.
    """
    for fd in (0, 1, 2):
        try:
            os.fstat(fd)
        except OSError:
            with contextlib.suppress(OSError):
                null = os.open(os.devnull, os.O_RDWR)
                if null != fd:
                    os.dup2(null, fd)
                    os.close(null)


def main(argv: list[str] | None = None) -> int:
    _reserve_standard_descriptors()
    _escaping(sys.stdout)
    _escaping(sys.stderr)
    parser = build_parser()
    args = parser.parse_args(argv)
    _check_paths(args, parser)
    settings = settings_from(args, parser)
    if serve.wanted(args):
        return serve.serve_from(args, sys.argv[1:] if argv is None else argv, parser)
    problem = _check_folders(settings)
    if problem is not None:
        if sys.stderr is not None:
            sys.stderr.write(f"sockview: {problem}\n")
        return 1
    if settings.compare:
        runs = _read_runs(settings.compare)
        if args.plain:
            labels = [Path(path).name for path in settings.compare]
            sys.stdout.write(
                table([figures(r, label) for r, label in zip(runs, labels, strict=True)])
            )
            return 0
        from sockview.ui.app import run_app

        return run_app(settings, compare=runs)
    if settings.replay:
        (recorded,) = _read_runs([settings.replay])
        replay = Replay(recorded, speed=settings.speed)
        if args.plain:
            return run_plain(settings, source=replay)
        from sockview.ui.app import run_app

        return run_app(settings, replay=recorded)
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
                if sys.stderr is not None:
                    sys.stderr.write(f"sockview: {INTERRUPTED}\n")
                return 130
            except Signalled as exc:  # a second SIGTERM or SIGHUP, during the save
                if sys.stderr is not None:
                    sys.stderr.write(f"sockview: {exc.reason}\n")
                return exc.status
        from sockview.ui.app import run_app

        return run_app(settings, demo=server)
    finally:
        if server is not None:
            server.stop()


if __name__ == "__main__":
    sys.exit(main())
