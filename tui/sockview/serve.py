"""The browser mode: `sockview --serve` serves the app over HTTP with textual-serve.

Each browser tab gets its own app process, started as `python -m sockview ARGS` with the
command line's other arguments. The listening socket is bound before anything else, so
that with `--port 0` the printed URL and the page's websocket address name the real port.
The page is served from our own template: textual-serve's asks Google for a web font,
and a classroom may have no internet.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import ipaddress
import logging
import shlex
import signal
import socket
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO
from urllib.parse import urlsplit

from sockview.core.local_addresses import reachable_addresses

if TYPE_CHECKING:
    from aiohttp import web

DEFAULT_HOST = "127.0.0.1"
TITLE = "sockview"
TEMPLATES = Path(__file__).parent / "web"
"""Our page: textual-serve's, with its web font served by this server instead of Google."""

# The options that only the serving process reads; a tab's app gets all the others.
_WITH_VALUE = ("--host", "--port", "--public-url")
_FLAGS = ("--serve",)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The --serve options, for the CLI's parser."""
    group = parser.add_argument_group("browser mode (needs the serve extra)")
    group.add_argument(
        "--serve",
        action="store_true",
        help="serve the app over HTTP: each browser tab runs its own app, with these arguments",
    )
    group.add_argument(
        "--host", metavar="H", help=f"--serve: the address to listen on (default {DEFAULT_HOST})"
    )
    group.add_argument(
        "--port",
        metavar="N",
        type=_port,
        help="--serve: the port to listen on (default 8000; 0 picks a free one)",
    )
    group.add_argument(
        "--public-url",
        metavar="URL",
        help="--serve: the address browsers use to reach this machine (with --host 0.0.0.0)",
    )


def _port(text: str) -> int:
    try:
        port = int(text)
    except ValueError:
        port = -1
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"must be a whole number from 0 to 65535, not {text!r}")
    return port


def app_argv(argv: list[str]) -> list[str]:
    """`argv` without the options that only the serving process reads."""
    kept: list[str] = []
    tokens = iter(argv)
    for token in tokens:
        if token == "--":
            kept.append(token)
            kept.extend(tokens)
            break
        if token in _FLAGS:
            continue
        if token in _WITH_VALUE:
            next(tokens, None)
            continue
        if token.startswith(tuple(f"{option}=" for option in _WITH_VALUE)):
            continue
        kept.append(token)
    return kept


def check(args: argparse.Namespace, argv: list[str], parser: argparse.ArgumentParser) -> list[str]:
    """Refuse what has no meaning in a browser; return the tabs' app arguments."""
    if not args.serve:
        parser.error("--host, --port and --public-url are for --serve")
    if args.plain:
        parser.error("--serve serves the app; it cannot be combined with --plain")
    if args.output:
        parser.error("with --serve, s sends the body to the browser: -o has no use")
    if args.record:
        parser.error("with --serve, e sends the run file to the browser: --record has no use")
    kept = app_argv(argv)
    again = parser.parse_args(kept)
    if again.serve or again.host or again.port is not None or again.public_url:
        # An abbreviation (`--ser`) that app_argv did not recognise.
        parser.error("write --serve, --host, --port and --public-url in full")
    return kept


def bind(host: str, port: int) -> socket.socket:
    """A listening socket on host:port, bound now, so that port 0 has its real number."""
    family, kind, proto, _, address = socket.getaddrinfo(
        host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
    )[0]
    sock = socket.socket(family, kind, proto)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
        sock.listen(128)
    except BaseException:
        sock.close()
        raise
    sock.setblocking(False)
    return sock


def local_url(sock: socket.socket) -> str:
    """http://HOST:PORT for what `sock` is bound to (IPv6 addresses in brackets)."""
    host, port = sock.getsockname()[:2]
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


def _wildcard(sock: socket.socket) -> bool:
    return sock.getsockname()[0] in ("0.0.0.0", "::")


def banner(url: str, wildcard: bool, public: bool, addresses: Sequence[str] = ()) -> str:
    """What --serve says at start: the URL to open, and who can reach it.

    `addresses`: this machine's, for a server that listens on every address.
    """
    lines = [
        f"sockview: serving the app at {url}",
        "  Open it in a browser; each tab runs its own app.",
    ]
    if wildcard and not public:
        port = urlsplit(url).port
        outward = [a for a in addresses if not ipaddress.ip_address(a).is_loopback]
        shown = outward[0] if outward else "ADDRESS"
        shown = f"[{shown}]" if ":" in shown else shown
        lines.append(
            "  Listening on every address, but the page names this server by --public-url:"
            f" for students' browsers, run with --port {port} --public-url http://{shown}:{port}"
            + (f" (this machine: {', '.join(outward)})." if outward else ".")
        )
    lines += [
        "  Anyone who can reach this port can make this machine fetch any URL it can reach.",
        "  Press Ctrl+C to stop.",
    ]
    return "\n".join(lines)


def serve(
    app_args: list[str], host: str | None, port: int | None, public_url: str | None, out: TextIO
) -> int:
    """Serve the app until Ctrl+C; 1 with one line on stderr if it cannot start."""
    try:
        from textual_serve.server import Server
    except ImportError:
        sys.stderr.write("sockview: --serve needs textual-serve: pip install 'sockview[serve]'\n")
        return 1
    host = host or DEFAULT_HOST
    port = 8000 if port is None else port
    try:
        sock = bind(host, port)
    except OSError as exc:
        why = exc.strerror or str(exc)
        sys.stderr.write(f"sockview: cannot listen on {host} port {port}: {why}\n")
        return 1
    url = (public_url or local_url(sock)).rstrip("/")
    command = shlex.join([sys.executable, "-m", "sockview", *app_args])

    tabs: set[asyncio.Task[Any]] = set()

    class BoundServer(Server):
        """textual-serve's Server on a socket bound beforehand, with our page and message."""

        async def on_startup(self, app: web.Application) -> None:
            wildcard = _wildcard(sock)
            addresses = reachable_addresses(sock.getsockname()[0]) if wildcard else []
            out.write(banner(url, wildcard, public_url is not None, addresses) + "\n")
            out.flush()

        async def handle_websocket(self, request: web.Request) -> web.WebSocketResponse:
            task = asyncio.current_task()
            assert task is not None
            tabs.add(task)
            try:
                return await super().handle_websocket(request)
            finally:
                tabs.discard(task)

        async def on_shutdown(self, app: web.Application) -> None:
            # aiohttp would wait for each open tab's websocket (about 20 s here) before
            # it gave up: end each tab now, which tells its app to quit.
            for task in list(tabs):
                task.cancel()

        def serve(self, debug: bool = False) -> None:
            from aiohttp import web

            self.debug = debug
            # textual-serve logs each app's failure to start; aiohttp's request log is noise.
            logging.basicConfig(level=logging.WARNING, format="sockview --serve: %(message)s")
            loop = asyncio.new_event_loop()
            with contextlib.suppress(NotImplementedError):
                loop.add_signal_handler(signal.SIGINT, self.request_exit)
                loop.add_signal_handler(signal.SIGTERM, self.request_exit)
            web.run_app(
                self._make_app(),
                sock=sock,
                handle_signals=False,
                loop=loop,
                print=None,
                access_log=None,
            )

    server = BoundServer(
        command, host=host, port=sock.getsockname()[1], title=TITLE, public_url=url
    )
    server.templates_path = TEMPLATES
    try:
        server.serve()
    finally:
        sock.close()
    return 0


def wanted(args: argparse.Namespace) -> bool:
    """Whether the command line asked for --serve or one of its options."""
    return bool(args.serve or args.host or args.port is not None or args.public_url)


def serve_from(args: argparse.Namespace, argv: list[str], parser: argparse.ArgumentParser) -> int:
    """The CLI's --serve: check the arguments, then serve."""
    app_args = check(args, argv, parser)
    return serve(app_args, args.host, args.port, args.public_url, sys.stdout)
