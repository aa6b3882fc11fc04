"""The app explains itself: honest states and words, Escape, help, the palette, settings,
redirects and the first run (issue 13), driven with Pilot against loopback servers."""

from __future__ import annotations

import socket
from typing import ClassVar

import pytest
import trustme
from textual.binding import Binding, BindingType
from textual.command import CommandPalette
from textual.widgets import Input, OptionList, TextArea

from sockview.core.demo import DemoServer
from sockview.core.request import RequestStyle
from sockview.core.url import parse_url
from sockview.ui.app import SockviewApp, create_app
from sockview.ui.screens.help import HelpScreen
from sockview.ui.screens.settings import SettingsScreen
from sockview.ui.widgets.header_panel import HeaderPanel
from sockview.ui.widgets.recv_table import RecvTable
from sockview.ui.widgets.url_input import UrlInput

from ..conftest import send_parts
from ..core.hostile import server_context, tls_script
from .conftest import make_settings, notices, screen_text, wait_for


async def wait_state(pilot, app: SockviewApp, *states: str) -> None:
    await wait_for(pilot, lambda: app.fetch_state in states, f"state {' or '.join(states)}")


# -- states and words -------------------------------------------------------------------


async def test_a_cancel_is_its_own_state_not_a_failure(demo: DemoServer) -> None:
    app = create_app(make_settings(demo.url("/slow/2000000?rate=100000")))
    async with app.run_test(size=(100, 30), notifications=True) as pilot:
        await wait_state(pilot, app, "receiving")
        await pilot.press("c")
        await wait_state(pilot, app, "cancelled")
        text = screen_text(app)
        assert "■ cancelled" in text
        assert "failed" not in text
        assert not any("failed" in note for note in notices(app))


async def test_escape_in_the_url_input_only_leaves_it(demo: DemoServer) -> None:
    app = create_app(make_settings(demo.url("/slow/2000000?rate=100000")))
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_state(pilot, app, "receiving")
        await pilot.press("u")
        assert app.focused is app.query_one("#url")
        await pilot.press("escape")
        assert app.focused is app.query_one(RecvTable)
        await pilot.pause(0.1)
        assert app.fetch_state == "receiving"
        # On the table, with nothing else open, Escape cancels (as `c` does).
        await pilot.press("escape")
        await wait_state(pilot, app, "cancelled")


async def test_the_status_line_says_what_d_does(demo_fixed: DemoServer) -> None:
    app = create_app(make_settings(demo_fixed.url("/bytes/100"), delay=0.4))
    async with app.run_test(size=(120, 30)) as pilot:
        await wait_state(pilot, app, "done")
        assert "delay: off (d: 0.4 s)" in screen_text(app)
        await pilot.press("d")
        assert "delay: on, 0.4 s" in screen_text(app)


async def test_the_totals_add_up_in_the_header_panel(demo_fixed: DemoServer) -> None:
    app = create_app(make_settings(demo_fixed.url("/cover.png")))
    async with app.run_test(size=(120, 30)) as pilot:
        await wait_state(pilot, app, "done")
        assert "242 + 4 (blank line) + 70,057 (body) = 70,303" in screen_text(app)


async def test_a_chunked_body_names_its_framing_bytes(demo_fixed: DemoServer) -> None:
    # The demo server chunks only an HTTP/1.1 answer.
    app = create_app(make_settings(demo_fixed.url("/chunked/3000"), style=RequestStyle.HTTP11))
    async with app.run_test(size=(160, 30)) as pilot:
        await wait_state(pilot, app, "done")
        run = app.current_run
        assert run is not None
        header, blank, body, framing = run.byte_parts()  # type: ignore[misc]
        assert body == 3000 and framing > 0
        assert header + blank + body + framing == run.total
        assert f"{framing:,} (chunk framing) = {run.total:,}" in screen_text(app)


async def test_no_body_says_why(serve) -> None:
    server = serve(send_parts(b"HTTP/1.1 204 No Content\r\n\r\n"))
    app = create_app(make_settings(server.url("/")))
    async with app.run_test(size=(120, 30)) as pilot:
        await wait_state(pilot, app, "done")
        text = screen_text(app)
        assert "no body (204)" in text
        assert "body: no body" not in text


async def test_the_sparkline_has_a_legend_and_time_an_origin() -> None:
    app = create_app(make_settings())
    async with app.run_test(size=(100, 30)):
        text = screen_text(app)
        assert "full" in text and "short" in text
        assert "ms since connect" in text


async def test_notifications_leave_the_status_line_visible(serve) -> None:
    server = serve(send_parts(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nshort"))
    app = create_app(make_settings(server.url("/")))
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        await wait_state(pilot, app, "failed")
        await pilot.pause()
        lines = screen_text(app).splitlines()
        assert any("Fetch failed" in line for line in lines[:8])
        assert "bufsize" in "".join(lines[-5:])


# -- help and the command palette -------------------------------------------------------


async def test_question_mark_opens_help_and_escape_closes_it_only(demo: DemoServer) -> None:
    app = create_app(make_settings(demo.url("/slow/2000000?rate=100000")))
    async with app.run_test(size=(120, 70)) as pilot:
        await wait_state(pilot, app, "receiving")
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)
        text = screen_text(app)
        assert "What am I looking at?" in text
        assert "Header length" in text and "README" in text
        assert "Pause after each recv" in text  # the d key, read from the bindings
        await pilot.press("escape")
        assert not isinstance(app.screen, HelpScreen)
        await pilot.pause(0.1)
        assert app.fetch_state == "receiving"  # Escape closed the help, it did not cancel
        await pilot.press("c")
        await wait_state(pilot, app, "cancelled")


async def test_f1_opens_help_from_the_url_input() -> None:
    app = create_app(make_settings())
    async with app.run_test(size=(100, 30)) as pilot:
        assert app.focused is app.query_one("#url")
        await wait_for(pilot, lambda: "f1 Help" in screen_text(app), "the footer's F1")
        await pilot.press("f1")
        assert isinstance(app.screen, HelpScreen)
        await pilot.press("f1")
        assert not isinstance(app.screen, HelpScreen)
        assert app.focused is app.query_one("#url")


async def run_command(pilot, app: SockviewApp, query: str) -> None:
    """Open the palette, type `query`, and run the first command it offers."""
    await pilot.press("ctrl+p")
    await wait_for(pilot, lambda: isinstance(app.screen, CommandPalette), "the palette")
    await pilot.press(*query)
    options = app.screen.query_one(OptionList)
    await wait_for(pilot, lambda: options.option_count > 0, f"a command for {query!r}")
    await pilot.pause(0.2)  # the palette gathers the hits of all its providers
    await pilot.press("enter")
    await wait_for(pilot, lambda: not isinstance(app.screen, CommandPalette), "the palette gone")


async def test_the_palette_runs_the_apps_actions(demo_fixed: DemoServer) -> None:
    app = create_app(make_settings(demo_fixed.url("/bytes/100")))
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_state(pilot, app, "done")
        first = app.current_run
        await run_command(pilot, app, "Again")
        await wait_for(pilot, lambda: app.current_run is not first, "a new fetch")
        await wait_state(pilot, app, "done")
        await run_command(pilot, app, "Delay")
        assert app.delay.enabled


class AppWithAnotherKey(SockviewApp):
    """As if another part of the app had added a key."""

    BINDINGS: ClassVar[list[BindingType]] = [
        *SockviewApp.BINDINGS,
        Binding("z", "zap", "Zap", tooltip="Something new"),
    ]
    zapped = False

    def action_zap(self) -> None:
        self.zapped = True


async def test_a_key_added_to_the_bindings_is_in_the_palette_and_the_help() -> None:
    app = AppWithAnotherKey(make_settings())
    async with app.run_test(size=(100, 40)) as pilot:
        await pilot.press("escape")  # leave the URL input
        await run_command(pilot, app, "Zap")
        assert app.zapped
        await pilot.press("question_mark")
        assert "Something new" in screen_text(app)


# -- a small terminal -------------------------------------------------------------------


async def test_a_small_terminal_stacks_and_keeps_quit_and_help_visible(
    demo_fixed: DemoServer,
) -> None:
    app = create_app(make_settings(demo_fixed.url("/cover.png")))
    async with app.run_test(size=(60, 15)) as pilot:
        await wait_state(pilot, app, "done")
        await pilot.pause()
        table, panel = app.query_one(RecvTable), app.query_one(HeaderPanel)
        assert table.region.bottom <= panel.region.y  # stacked, not side by side
        assert table.region.width == panel.region.width
        footer = screen_text(app).splitlines()[-1]
        assert "? Help" in footer and "q Quit" in footer
        await pilot.press("q")
        assert app.return_code == 0


# -- settings in the app ----------------------------------------------------------------


async def fill_settings(pilot, app: SockviewApp, **fields: str) -> None:
    """Open the settings screen and set its text fields (by id)."""
    await pilot.press("o")
    await wait_for(pilot, lambda: isinstance(app.screen, SettingsScreen), "the settings")
    for name, value in fields.items():
        widget = app.screen.query_one(f"#{name}")
        if isinstance(widget, TextArea):
            widget.text = value
        else:
            widget.value = value  # type: ignore[attr-defined]
    await pilot.pause()


async def test_settings_apply_to_the_next_fetch_and_show(serve) -> None:
    server = serve(send_parts(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n"))
    app = create_app(make_settings())
    async with app.run_test(size=(120, 30)) as pilot:
        await pilot.press("escape")
        await fill_settings(
            pilot, app, bufsize="1000", method="HEAD", headers="X-Test: one\n", delay="0.5"
        )
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: not isinstance(app.screen, SettingsScreen), "closed")
        text = screen_text(app)
        assert "bufsize 1000 · HEAD · +1 header" in text
        assert "delay: off (d: 0.5 s)" in text
        app.query_one("#url").value = server.url("/x")  # type: ignore[attr-defined]
        await pilot.press("u", "enter")
        await wait_state(pilot, app, "done")
        assert server.requests[0].startswith(b"HEAD /x HTTP/1.0\r\n")
        assert b"\r\nX-Test: one\r\n" in server.requests[0]
        assert app.current_run is not None and app.current_run.bufsize == 1000
        assert "no body (HEAD)" in screen_text(app)
        await pilot.press("t")
        assert "X-Test: one\\r\\n" in screen_text(app)  # the request view shows it


async def test_bad_settings_are_refused_and_nothing_changes() -> None:
    app = create_app(make_settings())
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press("escape")
        await fill_settings(pilot, app, bufsize="2048", headers="Bad Name: [bold]x")
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert isinstance(app.screen, SettingsScreen)
        assert "a header name is letters" in screen_text(app)
        app.screen.query_one("#headers", TextArea).text = "X-A: a"
        app.screen.query_one("#delay", Input).value = "soon"
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert "the delay must be a number of seconds" in screen_text(app)
        await pilot.press("escape")
        assert not isinstance(app.screen, SettingsScreen)
        assert app.options.bufsize == 5120 and app.options.headers == ()


async def test_the_palette_changes_a_setting(demo_fixed: DemoServer) -> None:
    app = create_app(make_settings())
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press("escape")
        await run_command(pilot, app, "HTTP/1.1")
        assert "HTTP/1.1" in screen_text(app)
        app.start_fetch(parse_url(demo_fixed.url("/bytes/10")))
        await wait_state(pilot, app, "done")
        assert app.current_run.request.startswith(b"GET /bytes/10 HTTP/1.1\r\n")  # type: ignore[union-attr]


@pytest.fixture
def https_self_signed(serve):  # type: ignore[no-untyped-def]
    """A TLS server whose certificate no system trusts; answers 'hello'."""
    context = server_context(trustme.CA().issue_cert("127.0.0.1"))
    script = tls_script(context, b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello")
    return serve(script, read_request=False).url("/", scheme="https")


async def test_after_a_certificate_error_one_key_fetches_without_verifying(
    https_self_signed: str,
) -> None:
    app = create_app(make_settings(https_self_signed))
    async with app.run_test(size=(120, 30), notifications=True) as pilot:
        await wait_state(pilot, app, "failed")
        assert "i: fetch again without verifying" in screen_text(app)
        assert app.check_action("insecure_retry", ()) is True
        await pilot.press("i")
        await wait_state(pilot, app, "done")
        assert any("WITHOUT verifying" in note for note in notices(app))
        assert "TLS not verified" in screen_text(app)
        assert app.check_action("insecure_retry", ()) is None


# -- redirects --------------------------------------------------------------------------


def redirect_script(server_ref: list) -> object:  # type: ignore[type-arg]
    """/a answers 302 to /other; anything else 200 with 'here'."""

    def script(conn: socket.socket) -> None:
        path = server_ref[0].requests[-1].split(b" ")[1]
        if path == b"/a":
            conn.sendall(b"HTTP/1.1 302 Found\r\nLocation: /other\r\nContent-Length: 0\r\n\r\n")
        else:
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nhere")
        conn.shutdown(socket.SHUT_WR)

    return script


@pytest.fixture
def redirecting(serve):  # type: ignore[no-untyped-def]
    ref: list = []  # type: ignore[type-arg]
    server = serve(redirect_script(ref))
    ref.append(server)
    return server


async def test_a_redirect_is_shown_and_f_follows_one_hop(redirecting) -> None:
    app = create_app(make_settings(redirecting.url("/a")))
    async with app.run_test(size=(120, 30)) as pilot:
        await wait_state(pilot, app, "done")
        await pilot.pause()
        assert "302 → /other (f: follow)" in screen_text(app)
        assert app.check_action("follow", ()) is True
        first = app.current_run
        await pilot.press("f")
        await wait_for(pilot, lambda: app.current_run is not first, "the next hop")
        await wait_state(pilot, app, "done")
        assert app.query_one("#url").value == redirecting.url("/other")  # type: ignore[attr-defined]
        assert "→" not in screen_text(app).splitlines()[-2]
        assert app.check_action("follow", ()) is None


# -- the first run ----------------------------------------------------------------------


async def test_a_bare_start_offers_the_demo_and_enter_alone_fetches_it() -> None:
    app = create_app(make_settings())
    async with app.run_test(size=(100, 30)) as pilot:
        text = screen_text(app)
        assert "Enter alone: the demo" in text
        assert "New here?" in text and "no network needed" in text
        await pilot.press("enter")
        await wait_state(pilot, app, "done")
        run = app.current_run
        assert run is not None and run.total == 70303
        assert app.demo is not None
        port = app.demo.port
    with pytest.raises(OSError):  # the app stopped the server it started
        socket.create_connection(("127.0.0.1", port), timeout=1).close()


async def test_up_in_the_url_input_recalls_this_sessions_urls(demo_fixed: DemoServer) -> None:
    first, second = demo_fixed.url("/bytes/10"), demo_fixed.url("/bytes/20")
    app = create_app(make_settings())
    async with app.run_test(size=(100, 30)) as pilot:
        url_input = app.query_one("#url", Input)
        await pilot.press("escape")
        for url in (first, second):
            url_input.value = url
            await pilot.press("u", "enter")
            await wait_state(pilot, app, "done")
        await pilot.press("u")
        url_input.value = "half-typed"
        await pilot.press("up")
        assert url_input.value == second
        await pilot.press("up")
        assert url_input.value == first
        await pilot.press("up")
        assert url_input.value == first
        await pilot.press("down", "down")
        assert url_input.value == "half-typed"
        await pilot.press("up", "up", "enter")
        await wait_state(pilot, app, "done")
        assert app.current_run.target.url == first  # type: ignore[union-attr]
        assert app.query_one(UrlInput).history == [second, first]
