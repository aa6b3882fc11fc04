"""Snapshots of the app's states: idle, receiving, done, failed.

Each picture is made stable the same way:
- the demo server's deterministic mode (fixed Date; head and body in one send, so the
  recv sizes are the same on every run), or a scripted server that sends one piece;
- a fake clock in `FetchOptions` that steps 1.5 ms per call, so times and rates are fixed;
- the URL input shows port 8000: the servers listen on a free port, which differs per
  run, so the test types the real URL and the picture shows it with the port masked.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from textual.pilot import Pilot

from sockview.core.demo import DemoServer
from sockview.ui.app import SockviewApp, create_app
from sockview.ui.widgets.recv_table import RecvTable

from ..conftest import send_parts
from .conftest import WAIT_LIMIT, make_settings

SIZE_NARROW = (80, 24)
SIZE_WIDE = (120, 32)


class FakeClock:
    """A nanosecond clock that advances a fixed step on every reading."""

    def __init__(self, step_ns: int = 1_500_000) -> None:
        self.now = 0
        self.step_ns = step_ns

    def __call__(self) -> int:
        self.now += self.step_ns
        return self.now


def snapshot_app(url: str) -> SockviewApp:
    return create_app(make_settings(url, clock=FakeClock()))


def masked(url: str, port: int) -> str:
    return url.replace(f":{port}/", ":8000/")


def settle(condition: Callable[[SockviewApp], bool], shown_url: str) -> Callable[..., object]:
    """A `run_before` that waits until `condition(app)` holds and the table shows it."""

    async def run_before(pilot: Pilot[object]) -> None:
        app = pilot.app
        assert isinstance(app, SockviewApp)
        give_up = time.monotonic() + WAIT_LIMIT
        table = app.query_one(RecvTable)
        while not (condition(app) and table.row_count == app.rows):
            if time.monotonic() > give_up:
                raise AssertionError("the app never reached the state to snapshot")
            await pilot.pause(0.01)
        app.query_one("#url").value = shown_url  # type: ignore[attr-defined]
        await pilot.pause()

    return run_before


def test_idle(snap_compare) -> None:
    """`sockview` alone: the URL input has the focus and shows how to start; the table,
    header panel and sparkline are empty; the status line says idle, delay off (0.25 s),
    bufsize 5120; the footer offers Enter (fetch), Escape and Ctrl+Q only, since letters
    type into the input."""
    assert snap_compare(create_app(make_settings()), terminal_size=SIZE_NARROW)


def test_receiving(snap_compare, demo_fixed: DemoServer) -> None:
    """A fetch that stalls after 20000 of 100000 body bytes: four recv rows (5120, 5120,
    5120, 4802), row 0 marked `◀ header 158`; the header panel shows HTTP/1.1 200 OK and
    Header length 158; the status line says receiving, body 20% of 100,000; the table
    border says 4 recvs · following; Cancel is live in the footer."""
    url = demo_fixed.url("/bytes/100000?stall=20000")
    app = snapshot_app(url)
    app.quiet_after = 3600  # a slow machine must not turn the rate into "no data for 2 s"

    def stalled(app: SockviewApp) -> bool:
        head = app.current_run.head
        return head is not None and app.current_run.total == head.body_offset + 20000

    assert snap_compare(
        app,
        terminal_size=SIZE_NARROW,
        run_before=settle(stalled, masked(url, demo_fixed.port)),
    )


def test_done(snap_compare, demo_fixed: DemoServer) -> None:
    """A complete 40000-byte fetch at 120x32: eight rows of 5120 and a last one of 4998
    (45118 bytes in all), the cursor on the last row; the headers as a table (Date fixed
    at 2016, Content-Length 40000); the sparkline's full bars in green, the short one in
    the other colour; the status line says done, body 100% of 40,000, with the rate over
    the fake clock's 13.5 ms; Cancel dimmed in the footer."""
    url = demo_fixed.url("/bytes/40000")
    app = snapshot_app(url)
    assert snap_compare(
        app,
        terminal_size=SIZE_WIDE,
        run_before=settle(lambda app: app.fetch_state == "done", masked(url, demo_fixed.port)),
    )


def test_failed(snap_compare, serve) -> None:
    """A server that promises 100 body bytes, sends 11 and closes: one recv row; the
    status line says failed and why (the connection closed after 11 of 100 body bytes),
    in red; an error notification says the same; Save stays live for the partial body."""
    server = serve(send_parts(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n[bold]short"))
    url = server.url("/short")
    app = snapshot_app(url)
    assert snap_compare(
        app,
        terminal_size=SIZE_NARROW,
        run_before=settle(lambda app: app.fetch_state == "failed", masked(url, server.port)),
    )
