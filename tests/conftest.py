"""Shared fixtures: the demo server, and small purpose-made loopback servers.

Nothing here reaches beyond 127.0.0.1 (or ::1).
"""

from __future__ import annotations

import signal
import socket
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import pytest

from sockview.core.demo import DemoServer

Script = Callable[[socket.socket], None]


@dataclass
class ScriptedServer:
    """A loopback TCP server; each connection runs `script(conn)` on its own thread."""

    script: Script
    host: str = "127.0.0.1"
    read_request: bool = True
    """Read the request head (up to a blank line) before running the script."""
    requests: list[bytes] = field(default_factory=list)

    def __post_init__(self) -> None:
        family = socket.AF_INET6 if ":" in self.host else socket.AF_INET
        self._listener = socket.socket(family, socket.SOCK_STREAM)
        self._listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._listener.bind((self.host, 0))
        self._listener.listen(16)
        self._listener.settimeout(0.05)
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._accepter = threading.Thread(target=self._accept, daemon=True)
        self._accepter.start()

    @property
    def port(self) -> int:
        return int(self._listener.getsockname()[1])

    def url(self, path: str = "/", scheme: str = "http") -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{scheme}://{host}:{self.port}{path}"

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            thread = threading.Thread(target=self._serve, args=(conn,), daemon=True)
            thread.start()
            self._threads.append(thread)

    def _serve(self, conn: socket.socket) -> None:
        conn.settimeout(10)
        conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        try:
            if self.read_request:
                data = b""
                while b"\r\n\r\n" not in data and b"\n\n" not in data:
                    more = conn.recv(4096)
                    if not more:
                        break
                    data += more
                self.requests.append(data)
            self.script(conn)
        except OSError:
            pass
        finally:
            conn.close()

    @property
    def stopping(self) -> threading.Event:
        """Set when the test ends: scripts that wait forever should wait on this."""
        return self._stop

    def close(self) -> None:
        self._stop.set()
        self._listener.close()
        for thread in self._threads:
            thread.join(timeout=5)


@pytest.fixture(scope="session", autouse=True)
def children_take_ctrl_c() -> Iterator[None]:
    """The programs the tests start feel the Ctrl-C (SIGINT) the tests send them.

    A shell starts a background job with SIGINT ignored, and a program inherits an
    ignored signal across exec (a handled one goes back to its default): the tests run
    as `pytest &` would see every child ignore its Ctrl-C. Handled here, it reaches them.
    """
    if signal.getsignal(signal.SIGINT) is not signal.SIG_IGN:
        yield
        return
    signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)


@pytest.fixture
def serve() -> Iterator[Callable[..., ScriptedServer]]:
    """Start scripted servers: `serve(script)`; all are closed when the test ends."""
    servers: list[ScriptedServer] = []

    def start(script: Script, **kwargs: object) -> ScriptedServer:
        server = ScriptedServer(script, **kwargs)  # type: ignore[arg-type]
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.close()


def send_parts(*parts: bytes, close: bool = True) -> Script:
    """A script that sends each part with its own send() call."""

    def script(conn: socket.socket) -> None:
        for part in parts:
            conn.sendall(part)
        if close:
            conn.shutdown(socket.SHUT_WR)

    return script


@pytest.fixture(scope="session")
def demo() -> Iterator[DemoServer]:
    """The paced demo server, as users run it."""
    with DemoServer() as server:
        yield server


@pytest.fixture(scope="session")
def demo_fixed() -> Iterator[DemoServer]:
    """The demo server in its deterministic mode."""
    with DemoServer(deterministic=True) as server:
        yield server


class RecordingRelay:
    """A loopback relay in front of a server that records every byte it sent the client.

    Used to check what sockview kept against what actually went down the socket.
    """

    def __init__(self, upstream_port: int) -> None:
        self.upstream_port = upstream_port
        self.sent: list[bytes] = []
        """What each connection's client was sent, whole, once the connection ended."""
        self.finished = threading.Event()
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._listener.settimeout(0.05)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    @property
    def port(self) -> int:
        return int(self._listener.getsockname()[1])

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                client, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            threading.Thread(target=self._relay, args=(client,), daemon=True).start()

    def _relay(self, client: socket.socket) -> None:
        upstream = socket.create_connection(("127.0.0.1", self.upstream_port), timeout=10)
        client.settimeout(10)
        sent = bytearray()
        try:
            request = b""
            while b"\r\n\r\n" not in request:
                more = client.recv(4096)
                if not more:
                    return
                request += more
            upstream.sendall(request)
            while data := upstream.recv(65536):
                # Small sends: the client's recvs then split the stream in many places.
                client.sendall(data)
                sent += data
            client.shutdown(socket.SHUT_WR)
        except OSError:
            pass
        finally:
            self.sent.append(bytes(sent))
            self.finished.set()
            upstream.close()
            client.close()

    def close(self) -> None:
        self._stop.set()
        self._listener.close()
        self._thread.join(timeout=5)


@pytest.fixture
def relay() -> Iterator[Callable[[int], RecordingRelay]]:
    """Start recording relays: `relay(upstream_port)`; all are closed when the test ends."""
    relays: list[RecordingRelay] = []

    def start(port: int) -> RecordingRelay:
        relays.append(RecordingRelay(port))
        return relays[-1]

    yield start
    for one in relays:
        one.close()
