"""Snapshots of the app explaining itself: help, settings, a cancel, a redirect, a 404
and a small terminal. Made stable as in test_snapshots.py (deterministic demo, fake clock,
the port masked in the URL input)."""

from __future__ import annotations

import pytest
from textual.pilot import Pilot

from sockview.core.demo import DemoServer
from sockview.ui.app import SockviewApp, create_app
from sockview.ui.screens import help as help_screen

from ..conftest import send_parts
from .conftest import make_settings
from .test_snapshots import SIZE_NARROW, masked, settle, snapshot_app

SIZE_SMALL = (60, 15)


@pytest.fixture
def fixed_readme(monkeypatch: pytest.MonkeyPatch) -> None:
    """The help names the README by its path, which differs from one checkout to another."""
    monkeypatch.setattr(help_screen, "readme_hint", lambda: "More in the README: README.md")


def test_help(snap_compare, fixed_readme: None) -> None:
    """`?` on a bare start at 80x24: the help over the app, its keys read from the
    bindings (? and F1 first, then q, d, s, S, c and Escape, r, t, u, D, f, o, i, the
    table's arrows), the palette's ^p, then the start of "What am I looking at?"; a
    scroll bar for the rest; "Escape: close" on the border."""

    async def open_help(pilot: Pilot[object]) -> None:
        await pilot.press("escape", "question_mark")
        await pilot.pause()

    assert snap_compare(
        create_app(make_settings()), terminal_size=SIZE_NARROW, run_before=open_help
    )


def test_settings(snap_compare) -> None:
    """`o` at 80x24: the settings for the next fetch, filled with the defaults: bufsize
    5120, HTTP/1.0, GET, no headers (a placeholder says how to write them), verify
    certificates ticked, delay 0.25; Apply and Cancel; "^s: apply · Escape: cancel"."""

    async def open_settings(pilot: Pilot[object]) -> None:
        await pilot.press("escape", "o")
        await pilot.pause()

    assert snap_compare(
        create_app(make_settings()), terminal_size=SIZE_NARROW, run_before=open_settings
    )


def test_cancelled(snap_compare, demo_fixed: DemoServer) -> None:
    """A fetch cancelled by `c` after 20000 of 100000 body bytes: the status line says
    `■ cancelled` in blue (not failed, no red line), body 20% of 100,000; no
    notification; Cancel dimmed in the footer."""
    url = demo_fixed.url("/bytes/100000?stall=20000")
    app = snapshot_app(url)
    app.quiet_after = 3600

    def stalled_then_cancelled(app: SockviewApp) -> bool:
        run = app.current_run
        if run is None or run.head is None:
            return False
        if app.fetch_state == "receiving" and run.total == run.head.body_offset + 20000:
            app.action_cancel()
        return app.fetch_state == "cancelled"

    assert snap_compare(
        app,
        terminal_size=SIZE_NARROW,
        run_before=settle(stalled_then_cancelled, masked(url, demo_fixed.port)),
    )


def test_redirect(snap_compare, serve) -> None:
    """A 302 with `Location: /other` at 80x24: one recv row; the header panel shows the
    302 and its Location, and below the headers 55 + 4 (blank line) + 0 (body) = 59; the
    status line says `✔ done · 302 → /other (f: follow)`."""
    server = serve(
        send_parts(b"HTTP/1.1 302 Found\r\nLocation: /other\r\nContent-Length: 0\r\n\r\n")
    )
    url = server.url("/a")
    app = snapshot_app(url)
    assert snap_compare(
        app,
        terminal_size=SIZE_NARROW,
        run_before=settle(lambda app: app.fetch_state == "done", masked(url, server.port)),
    )


def test_not_found(snap_compare, serve) -> None:
    """A 404 with a small HTML page at 80x24: the status line says `✔ done · 404 Not
    Found` in a warning colour (yellow, not the green of a 200); the header panel shows
    the 404, its headers and 67 + 4 (blank line) + 13 (body) = 84."""
    server = serve(
        send_parts(
            b"HTTP/1.1 404 Not Found\r\nContent-Type: text/html\r\nContent-Length: 13\r\n\r\n"
            b"<h1>gone</h1>"
        )
    )
    url = server.url("/cover.png")
    assert snap_compare(
        snapshot_app(url),
        terminal_size=SIZE_NARROW,
        run_before=settle(lambda app: app.fetch_state == "done", masked(url, server.port)),
    )


def test_small_terminal(snap_compare, demo_fixed: DemoServer) -> None:
    """A complete 40000-byte fetch at 60x15: the phases bar on one line, the table
    stacked over the header panel, both the full width; no sparkline and no kernel panel;
    the status line on two lines; the footer compact, starting with ? Help and q Quit."""
    url = demo_fixed.url("/bytes/40000")
    assert snap_compare(
        snapshot_app(url),
        terminal_size=SIZE_SMALL,
        run_before=settle(lambda app: app.fetch_state == "done", masked(url, demo_fixed.port)),
    )
