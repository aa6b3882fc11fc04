"""Helpers for the core tests: run a fetch, here or on a thread, and wait on conditions."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from sockview.core.body import BodySink
from sockview.core.events import Event, Failed, Finished
from sockview.core.fetch import DelaySwitch, Fetch, FetchOptions
from sockview.core.url import parse_url

RESPONSE_200 = b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nConnection: close\r\n\r\nhello"


def wait_for(predicate: Callable[[], bool], timeout: float = 10.0, what: str = "") -> None:
    """Poll `predicate` until it holds; fail the test if it does not within `timeout`."""
    give_up = time.monotonic() + timeout
    idle = threading.Event()
    while not predicate():
        if time.monotonic() > give_up:
            raise AssertionError(f"timed out waiting for {what or predicate}")
        idle.wait(0.002)


@dataclass
class Running:
    """A fetch running on its own thread, and what it reported so far."""

    fetch: Fetch
    events: list[Event] = field(default_factory=list)
    done: threading.Event = field(default_factory=threading.Event)
    thread: threading.Thread | None = None

    def join(self, timeout: float = 10.0) -> Finished | Failed:
        assert self.done.wait(timeout), "the fetch did not end"
        assert self.fetch.result is not None
        return self.fetch.result

    def of_type(self, kind: type) -> list:  # type: ignore[type-arg]
        return [event for event in list(self.events) if isinstance(event, kind)]


def make_fetch(
    url: str,
    *,
    delay: DelaySwitch | None = None,
    body: BodySink | None = None,
    **options: object,
) -> Running:
    running: Running
    fetch = Fetch(
        parse_url(url),
        FetchOptions(**options),  # type: ignore[arg-type]
        delay=delay,
        body=body,
        listener=lambda event: running.events.append(event),
    )
    running = Running(fetch)
    return running


def start(url: str, **kwargs: object) -> Running:
    """Start a fetch on a new thread."""
    running = make_fetch(url, **kwargs)  # type: ignore[arg-type]

    def work() -> None:
        try:
            running.fetch.run()
        finally:
            running.done.set()

    running.thread = threading.Thread(target=work, daemon=True)
    running.thread.start()
    return running


def fetch_now(url: str, **kwargs: object) -> Running:
    """Run a fetch to the end on this thread."""
    running = make_fetch(url, **kwargs)  # type: ignore[arg-type]
    running.fetch.run()
    running.done.set()
    return running
