"""Helpers for the core tests: run a fetch, here or on a thread, and wait on conditions."""

from __future__ import annotations

import queue
import socket
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from types import FrameType
from typing import TypeVar

from sockview.core.body import BodySink
from sockview.core.events import (
    ChunksReceived,
    Event,
    Failed,
    Finished,
    HeadersComplete,
    InterimResponse,
)
from sockview.core.fetch import DelaySwitch, Fetch, FetchOptions
from sockview.core.url import parse_url
from tests.conftest import ScriptedServer

RESPONSE_200 = b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nConnection: close\r\n\r\nhello"

HANG_LIMIT = 15.0
"""Seconds a fetch may take before the test calls it a hang: far above every test limit."""

E = TypeVar("E", bound=Event)


def wait_for(predicate: Callable[[], bool], what: str = "", timeout: float = HANG_LIMIT) -> None:
    """Poll `predicate` until it holds; fail the test if it does not within `timeout`."""
    give_up = time.monotonic() + timeout
    idle = threading.Event()
    while not predicate():
        if time.monotonic() > give_up:
            raise AssertionError(f"timed out waiting for {what or predicate}")
        idle.wait(0.002)


@dataclass
class Running:
    """A fetch, run on its own thread or on this one, and every event it reported."""

    fetch: Fetch
    events: list[Event] = field(default_factory=list)
    done: threading.Event = field(default_factory=threading.Event)
    thread: threading.Thread | None = None
    error: BaseException | None = None

    def join(self, timeout: float = HANG_LIMIT) -> Finished | Failed:
        """The result; fails the test on a hang or on an exception out of `run`."""
        if not self.done.wait(timeout):
            raise AssertionError(f"the fetch did not end within {timeout:g} s")
        if self.error is not None:
            raise self.error
        assert self.fetch.result is not None
        return self.fetch.result

    def of_type(self, kind: type[E]) -> list[E]:
        return [event for event in list(self.events) if isinstance(event, kind)]

    @property
    def head(self) -> HeadersComplete | None:
        return self.fetch.head

    @property
    def interims(self) -> list[InterimResponse]:
        return [e for e in list(self.events) if isinstance(e, InterimResponse)]

    def received(self) -> int:
        """Raw bytes reported so far (what a UI would show)."""
        chunks = [e for e in list(self.events) if isinstance(e, ChunksReceived)]
        return chunks[-1].total if chunks else 0


def make_fetch(
    url: str,
    *,
    delay: DelaySwitch | None = None,
    body: BodySink | None = None,
    on_event: Callable[[Event], object] | None = None,
    **options: object,
) -> Running:
    """A fetch of `url`, not started; `on_event` also sees every event."""
    running: Running

    def listen(event: Event) -> None:
        running.events.append(event)
        if on_event is not None:
            on_event(event)

    fetch = Fetch(
        parse_url(url),
        FetchOptions(**options),  # type: ignore[arg-type]
        delay=delay,
        body=body,
        listener=listen,
    )
    running = Running(fetch)
    return running


def start(url: str, *, connected: socket.socket | None = None, **kwargs: object) -> Running:
    """Start a fetch on a new thread (over `connected`, if given); `join` re-raises its errors."""
    running = make_fetch(url, **kwargs)  # type: ignore[arg-type]

    def work() -> None:
        try:
            running.fetch.perform(connected)
        except BaseException as exc:  # re-raised by `join` on the test thread
            running.error = exc
        finally:
            running.done.set()

    running.thread = threading.Thread(target=work, name="test-fetch", daemon=True)
    running.thread.start()
    return running


def fetch_now(url: str, **kwargs: object) -> Running:
    """Run a fetch to the end on this thread."""
    running = make_fetch(url, **kwargs)  # type: ignore[arg-type]
    running.fetch.perform()
    running.done.set()
    return running


class Stepper:
    """A server script that sends what the test hands it, when the test says.

    `send(data)` returns once the server's sendall() did; `close()` shuts the server's
    sending side down (the client reads EOF) and keeps the connection open.
    """

    def __init__(self) -> None:
        self._todo: queue.Queue[bytes | None] = queue.Queue()
        self._done: queue.Queue[bool] = queue.Queue()
        self.stopping = threading.Event()
        """Set by `serve_steps` when the test ends."""

    def _next(self) -> bytes | None:
        while not self.stopping.is_set():
            try:
                return self._todo.get(timeout=0.05)
            except queue.Empty:
                continue
        raise OSError("the test is over")

    def __call__(self, conn: socket.socket) -> None:
        while True:
            item = self._next()
            if item is None:
                conn.shutdown(socket.SHUT_WR)
                self._done.put(True)
                # Hold the connection: the client must end on the EOF alone.
                conn.settimeout(0.05)
                while not self.stopping.is_set():
                    try:
                        if not conn.recv(4096):
                            return
                    except TimeoutError:
                        continue
                return
            conn.sendall(item)
            self._done.put(True)

    def send(self, *pieces: bytes) -> None:
        for piece in pieces:
            self._todo.put(piece)
            assert self._done.get(timeout=10)

    def close(self) -> None:
        self._todo.put(None)
        assert self._done.get(timeout=10)


def serve_steps(serve: Callable[..., ScriptedServer], **kwargs: object) -> tuple[Stepper, str]:
    """A loopback server run by a `Stepper`; returns it and the server's URL."""
    stepper = Stepper()
    server = serve(stepper, **kwargs)
    stepper.stopping = server.stopping
    return stepper, server.url("/")


def frames_of(thread: threading.Thread) -> list[str]:
    """The function names on `thread`'s stack, innermost first."""
    assert thread.ident is not None
    frame: FrameType | None = sys._current_frames().get(thread.ident)
    names = []
    while frame is not None:
        names.append(frame.f_code.co_name)
        frame = frame.f_back
    return names


def in_recv(running: Running) -> bool:
    """True while the recv loop waits in recv() (in Python or in the compiled loop)."""
    assert running.thread is not None
    names = frames_of(running.thread)
    return bool(names) and names[0] in ("_receive", "recv_counted")


def pausing(running: Running) -> bool:
    """True while the recv loop waits out its delay (a timed wait called from the loop).

    While it waits in recv() instead, the innermost Python frame is the loop itself.
    """
    assert running.thread is not None
    names = frames_of(running.thread)
    return bool(names) and names[0] == "wait" and "_receive" in names
