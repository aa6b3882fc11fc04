"""Snapshots of the inspector and the body preview, made stable as in test_snapshots.py:
the demo's deterministic mode, a fake clock, the port masked in the URL."""

from __future__ import annotations

import time
from collections.abc import Callable

from textual.pilot import Pilot

from sockview.core.demo import DemoServer
from sockview.ui.app import SockviewApp
from sockview.ui.screens.preview import PreviewScreen

from ..conftest import send_parts
from .conftest import WAIT_LIMIT
from .test_snapshots import masked, snapshot_app

SIZE = (100, 32)


def after_fetch(keys: tuple[str, ...], ready: Callable[[SockviewApp], bool], shown_url: str):
    """A `run_before` that waits for the fetch to end, presses `keys`, and waits for `ready`."""

    async def run_before(pilot: Pilot[object]) -> None:
        app = pilot.app
        assert isinstance(app, SockviewApp)
        give_up = time.monotonic() + WAIT_LIMIT

        async def until(condition: Callable[[], bool]) -> None:
            while not condition():
                if time.monotonic() > give_up:
                    raise AssertionError("the app never reached the state to snapshot")
                await pilot.pause(0.01)

        await until(lambda: app.fetch_state == "done" and app.rows == len(app.current_run.log))
        app.query_one("#url").value = shown_url  # type: ignore[attr-defined]
        await pilot.pause()
        await pilot.press(*keys)
        await until(lambda: ready(app))
        await pilot.pause()

    return run_before


def test_inspector_header_row(snap_compare, demo_fixed: DemoServer) -> None:
    """Enter on row 0 of the demo picture: the title says recv 0 of 14, 5,120 bytes, stream
    bytes 0 to 5,119; the hex dump starts `0  48 54 54 50` / `HTTP/1.1 200 OK←`, head bytes
    in the warning colour, CR and LF as ␍ ␊; the line at offset 240 shows `ng←↓←↓.PNG`,
    where the head's colour ends and the note says `header ends; body starts`; the footer
    offers ← Previous, → Next, Esc Close."""
    url = demo_fixed.url("/cover.png")
    app = snapshot_app(url)
    assert snap_compare(
        app,
        terminal_size=SIZE,
        run_before=after_fetch(
            ("home", "enter"),
            lambda app: app.inspecting,
            masked(url, demo_fixed.port),
        ),
    )


def test_inspector_chunked_framing(snap_compare, serve) -> None:
    """A chunked body of 300 bytes, sent in one piece and read in one recv, scrolled to its
    end: `◀ end of header` where the blank line starts, `◀ body starts; chunk 0x12c = 300`
    on the next line, by the chunk size line `12c←↓` (cut at the panel's edge), the CRLF
    after the data and the last chunk `0←↓←↓` (`◀ last chunk (0)`) in the framing
    colour, bold; the body's bytes (0 to 255, then 0 to 43) between them in the plain
    colour."""
    body = bytes(range(256)) + bytes(range(44))
    head = (
        b"HTTP/1.1 200 OK\r\nServer: sockview-test\r\nContent-Type: application/octet-stream"
        b"\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
    )
    # One send: loopback hands it over whole, so there is one recv on every run.
    server = serve(send_parts(head + b"12c\r\n" + body + b"\r\n0\r\n\r\n"))
    url = server.url("/chunked")
    app = snapshot_app(url)
    assert snap_compare(
        app,
        terminal_size=SIZE,
        run_before=after_fetch(
            ("home", "enter", "end"),
            lambda app: app.inspecting,
            masked(url, server.port),
        ),
    )


def test_picture_preview(snap_compare, demo_fixed: DemoServer) -> None:
    """`b` after fetching the demo picture: the title says Body: image/png, 70,057 bytes ·
    PNG 320 x 200; below, the picture in colour half blocks, as wide as the panel and in
    proportion: a bar chart of recv sizes over a sky gradient."""
    url = demo_fixed.url("/cover.png")
    app = snapshot_app(url)

    def drawn(app: SockviewApp) -> bool:
        screen = app.screen
        return isinstance(screen, PreviewScreen) and screen.prepared is not None

    assert snap_compare(
        app,
        terminal_size=SIZE,
        run_before=after_fetch(("b",), drawn, masked(url, demo_fixed.port)),
    )
