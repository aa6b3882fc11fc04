"""The app explains itself: honest states and words, Escape, help, the palette, settings,
redirects and the first run (issue 13), driven with Pilot against loopback servers."""

from __future__ import annotations

from sockview.core.demo import DemoServer
from sockview.core.request import RequestStyle
from sockview.ui.app import SockviewApp, create_app
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
