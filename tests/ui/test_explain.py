"""The app explains itself: honest states and words, Escape, help, the palette, settings,
redirects and the first run (issue 13), driven with Pilot against loopback servers."""

from __future__ import annotations

from typing import ClassVar

from textual.binding import Binding, BindingType
from textual.command import CommandPalette
from textual.widgets import OptionList

from sockview.core.demo import DemoServer
from sockview.core.request import RequestStyle
from sockview.ui.app import SockviewApp, create_app
from sockview.ui.screens.help import HelpScreen
from sockview.ui.widgets.header_panel import HeaderPanel
from sockview.ui.widgets.recv_table import RecvTable

from ..conftest import send_parts
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
