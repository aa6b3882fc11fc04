"""Snapshots of the app's states: idle, receiving, done, failed.

Each picture is made stable the same way:
- the demo server's deterministic mode (fixed Date; head and body in one send, so the
  recv sizes are the same on every run), or a scripted server that sends one piece;
- a fake clock in `FetchOptions` that steps 1.5 ms per call, so times and rates are fixed;
- the URL input shows port 8000: the servers listen on a free port, which differs per
  run, so the test types the real URL and the picture shows it with the port masked; the
  phases bar masks our own port (as 50000) and the receive buffer the system granted;
- the kernel is not sampled (its queue depends on timing), except in the kernel panel's
  picture, where the delay makes every sample but the first the same on every run.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from textual.pilot import Pilot

from sockview.core.demo import DemoServer
from sockview.ui.app import SockviewApp, create_app
from sockview.ui.widgets.kernel_plot import KernelPlot
from sockview.ui.widgets.phases_bar import PhasesBar
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


def snapshot_app(url: str, kernel_view: bool = False, **settings: object) -> SockviewApp:
    return create_app(
        make_settings(url, clock=FakeClock(), kernel_view=kernel_view, **settings)  # type: ignore[arg-type]
    )


def masked(url: str, port: int) -> str:
    """`url` with the server's port shown as 8000 (any port, for port 0)."""
    if port == 0:
        host, _, rest = url.rpartition(":")
        return f"{host}:8000{rest[rest.index('/') :]}"
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
        run = app.current_run
        if run is not None and run.local is not None:
            bar = app.query_one(PhasesBar)
            bar.masks = {f":{run.local.rpartition(':')[2]} ": ":50000 "}
            if run.peer_address is not None:
                bar.masks[run.peer_address] = masked(run.peer_address + "/", 0)[:-1]
            if run.rcvbuf is not None and run.rcvbuf_asked is None:
                bar.masks[f"rcvbuf {run.rcvbuf}"] = "rcvbuf 131072"
            bar.show(run, app.rows)
            app.query_one(KernelPlot).redraw()
            table.refresh()
        await pilot.pause()

    return run_before


def test_idle(snap_compare) -> None:
    """`sockview` alone: the URL input has the focus and says Enter alone fetches the
    demo; the table and sparkline are empty, the header panel offers the demo and names
    ? and F1; the status line says idle, delay: off (d: 0.25 s), bufsize 5120; the footer
    offers Enter (fetch), Escape, F1 (help) and Ctrl+Q only, since letters type into the
    input."""
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


def test_kernel_panel_while_delayed(snap_compare, demo_fixed: DemoServer) -> None:
    """The delay on and a 16384-byte receive buffer asked for (32768 granted), ten recvs
    into a 300000-byte body: every recv 5120; the queued column and the kernel panel show
    the queue as a sawtooth (each pause lets the sender refill what a recv took), the
    window lane a red floor (0) after the first sample, and the status line says that the
    receive buffer is full and the sender is waiting for us. The phases bar shows dns,
    connect, request, first byte, header and the transfer so far; the connection line
    rcvbuf 32768 (asked 16384).

    To hold the picture still, the test makes the pause after the tenth recv 60 s long
    (the status line shows that delay). The sample before the first recv races the
    server's one send (0 or all of it): the test sets it to 0, what it is when the
    request has just gone."""
    url = demo_fixed.url("/bytes/300000")
    app = snapshot_app(url, kernel_view=True, rcvbuf=16384, delay_on=True)
    app.quiet_after = 3600
    held: list[float] = []

    def held_still(app: SockviewApp) -> bool:
        run = app.current_run
        if len(run.log.sizes) < 10:
            return False
        if not held:
            app.delay.seconds = 60.0  # the pause under way takes the new length
            run.kernel.queued[0] = 0
            held.append(time.monotonic())
        return time.monotonic() - held[0] > 0.3

    assert snap_compare(
        app,
        terminal_size=SIZE_WIDE,
        run_before=settle(held_still, masked(url, demo_fixed.port)),
    )
