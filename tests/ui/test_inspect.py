"""Looking inside, as a user would: Enter on a recv shows its bytes; `b` shows the body."""

from __future__ import annotations

from textual.widgets._footer import FooterKey

from sockview.core.preview import BodyKind
from sockview.core.records import RecvLog
from sockview.core.run import Run
from sockview.core.sample_image import sample_png
from sockview.core.url import parse_url
from sockview.ui.app import SockviewApp, create_app
from sockview.ui.screens.preview import PreviewScreen
from sockview.ui.widgets.hex_view import HexView
from sockview.ui.widgets.inspector import Inspector
from sockview.ui.widgets.recv_table import RecvTable

from ..conftest import send_parts
from .conftest import make_settings, screen_text, wait_for


async def fetched(pilot, app: SockviewApp) -> None:
    await wait_for(pilot, lambda: app.fetch_state == "done", "the fetch to end")
    table = app.query_one(RecvTable)
    await wait_for(pilot, lambda: table.row_count == len(app.current_run.log), "every row")


async def test_enter_shows_exactly_the_bytes_of_that_recv(demo, relay) -> None:
    """The header row, a middle row and the last row, against what the relay sent."""
    proxy = relay(demo.port)
    app = create_app(make_settings(proxy.url("/cover.png")))
    async with app.run_test(size=(100, 30)) as pilot:
        await fetched(pilot, app)
        assert proxy.finished.wait(10)
        sent = proxy.sent[0]
        run = app.current_run
        rows = len(run.log)
        assert rows > 3 and run.total == len(sent)

        async def inspect(index: int) -> Inspector:
            assert app.inspecting
            screen = app.query_one(Inspector)
            assert screen.index == index
            start, stop = run.recv_span(index)
            assert screen.data == sent[start:stop]
            return screen

        await pilot.press("home", "enter")
        await wait_for(pilot, lambda: app.inspecting, "the inspector")
        assert run.head.head_index == 0
        await inspect(0)
        assert "end of header" in screen_text(app) and "HTTP/1.1 200 OK←" in screen_text(app)
        await pilot.press("escape")
        await wait_for(pilot, lambda: not app.inspecting, "closed")
        assert app.focused is app.query_one(RecvTable)
        assert "HTTP/1.1 200 OK←" not in screen_text(app)

        middle = rows // 2
        await pilot.press(*["down"] * middle, "enter")
        await wait_for(pilot, lambda: app.inspecting, "the inspector")
        await inspect(middle)
        # Left and right step through the recvs, and stop at either end.
        await pilot.press("right")
        await inspect(middle + 1)
        await pilot.press("left", "left")
        await inspect(middle - 1)
        await pilot.press("escape")

        await pilot.press("end", "enter")
        await wait_for(pilot, lambda: app.inspecting, "the inspector")
        await inspect(rows - 1)
        await pilot.press("right")
        await inspect(rows - 1)


async def test_a_large_recv_pages(serve) -> None:
    body = bytes(range(256)) * 256
    server = serve(send_parts(b"HTTP/1.1 200 OK\r\nContent-Length: 65536\r\n\r\n" + body))
    app = create_app(make_settings(server.url("/"), bufsize=65536 + 64))
    async with app.run_test(size=(100, 30)) as pilot:
        await fetched(pilot, app)
        # The largest recv: loopback may split the body, however large the buffer.
        sizes = list(app.current_run.log.sizes)
        largest = sizes.index(max(sizes))
        assert max(sizes) > 16 * 30  # more lines than the screen has
        await pilot.press("home", *["down"] * largest, "enter")
        await wait_for(pilot, lambda: app.inspecting, "the inspector")
        inspector = app.query_one(Inspector)
        assert inspector.index == largest
        view = inspector.query_one(HexView)
        assert view.line_count == (inspector.dump.size + 15) // 16
        assert view.scroll_y == 0
        await pilot.press("pagedown")
        assert view.scroll_y > 0
        await pilot.press("end")
        assert view.scroll_y == view.max_scroll_y > 0


async def test_a_run_without_its_bytes_says_so(demo) -> None:
    app = create_app(make_settings())
    async with app.run_test(size=(100, 30)) as pilot:
        log = RecvLog()
        log.times_ns.append(1_000_000)
        log.sizes.append(512)
        run = Run(target=parse_url("http://127.0.0.1/"), bufsize=512, log=log)
        app.inspect(run, 0)
        await pilot.pause()
        assert app.query_one(Inspector).data is None
        assert "The bytes of this recv were not kept" in screen_text(app)


async def preview(pilot, app: SockviewApp) -> PreviewScreen:
    await pilot.press("b")
    await wait_for(pilot, lambda: isinstance(app.screen, PreviewScreen), "the preview")
    screen = app.screen
    await wait_for(pilot, lambda: screen.prepared is not None, "the preview to be drawn")
    return screen


async def test_b_shows_the_demo_picture(demo) -> None:
    app = create_app(make_settings(demo.url("/cover.png")))
    async with app.run_test(size=(100, 30)) as pilot:
        await fetched(pilot, app)
        screen = await preview(pilot, app)
        prepared = screen.prepared
        assert prepared.kind is BodyKind.PICTURE and prepared.problem == ""
        assert "PNG 320 x 200" in prepared.title
        # Sized to the panel, in proportion: 320 x 200 into at most 97 x 2 * 25 pixels.
        width, height = prepared.picture.image.size
        assert width <= 98 and height <= 2 * 26
        assert abs(width / height - 320 / 200) < 0.05
        assert len(prepared.lines) == (height + 1) // 2
        await pilot.press("escape")
        await wait_for(pilot, lambda: not isinstance(app.screen, PreviewScreen), "closed")


async def test_server_text_is_text_never_markup(serve) -> None:
    text = b"[bold red]not markup[/] and \x1b[2J an escape\n"
    head = b"HTTP/1.1 404 Not Found\r\nContent-Type: text/plain\r\nContent-Length: %d\r\n\r\n"
    server = serve(send_parts(head % len(text) + text))
    app = create_app(make_settings(server.url("/")))
    async with app.run_test(size=(100, 30)) as pilot:
        await fetched(pilot, app)
        screen = await preview(pilot, app)
        assert screen.prepared.kind is BodyKind.TEXT
        shown = screen_text(app)
        assert "[bold red]not markup[/] and \\x1b[2J an escape" in shown


async def test_a_body_that_is_no_picture_says_so_and_shows_hex(serve) -> None:
    body = b"<html>sorry</html>"
    head = b"HTTP/1.1 200 OK\r\nContent-Type: image/png\r\nContent-Length: %d\r\n\r\n"
    server = serve(send_parts(head % len(body) + body))
    app = create_app(make_settings(server.url("/")))
    async with app.run_test(size=(100, 30)) as pilot:
        await fetched(pilot, app)
        screen = await preview(pilot, app)
        assert screen.prepared.problem == (
            "not a valid picture, although it is served as image/png"
        )
        assert "3c 68 74 6d 6c 3e" in screen_text(app)  # <html> in hex


async def test_a_png_served_as_octet_stream_is_drawn(serve) -> None:
    body = sample_png()
    head = (
        b"HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nContent-Length: %d\r\n\r\n"
    )
    server = serve(send_parts(head % len(body) + body))
    app = create_app(make_settings(server.url("/")))
    async with app.run_test(size=(100, 30)) as pilot:
        await fetched(pilot, app)
        screen = await preview(pilot, app)
        assert screen.prepared.kind is BodyKind.PICTURE
        assert "served as application/octet-stream" in screen.prepared.note


async def test_the_inspector_follows_the_current_run(demo) -> None:
    """Opened again after another fetch, the inspector shows that fetch's bytes."""
    app = create_app(make_settings(demo.url("/bytes/3000")))
    async with app.run_test(size=(100, 30)) as pilot:
        await fetched(pilot, app)
        await pilot.press("home", "enter")
        await wait_for(pilot, lambda: app.inspecting, "the inspector")
        first = app.current_run
        inspector = app.query_one(Inspector)
        assert inspector.data == first.raw_bytes(*first.recv_span(0))
        await pilot.press("escape")
        await wait_for(pilot, lambda: not app.inspecting, "closed")
        app.query_one("#url").value = demo.url("/cover.png")
        await pilot.press("u", "enter")
        await wait_for(pilot, lambda: app.current_run is not first, "the second fetch")
        await fetched(pilot, app)
        await pilot.press("escape", "home", "enter")
        await wait_for(pilot, lambda: app.inspecting, "the inspector")
        second = app.current_run
        assert inspector.run is second and inspector.index == 0
        assert inspector.data == second.raw_bytes(*second.recv_span(0))
        assert b"image/png" in inspector.data


async def test_the_inspectors_footer_keys_work(demo) -> None:
    """The inspector's own footer names its keys, and a click on one does what the key does."""
    app = create_app(make_settings(demo.url("/cover.png")))
    async with app.run_test(size=(100, 30)) as pilot:
        await fetched(pilot, app)
        await pilot.press("home", "enter")
        await wait_for(pilot, lambda: app.inspecting, "the inspector")
        footer = app.query_one("#inspect-keys")
        keys = {key.description: key for key in footer.query(FooterKey)}
        assert list(keys) == ["Previous", "Next", "Close", "Quit"]
        inspector = app.query_one(Inspector)
        await pilot.click(keys["Next"])
        await wait_for(pilot, lambda: inspector.index == 1, "the next recv")
        await pilot.click(keys["Close"])
        await wait_for(pilot, lambda: not app.inspecting, "closed")
        assert app.focused is app.query_one(RecvTable)


async def test_keys_that_change_behind_the_inspector_show_when_it_closes(demo) -> None:
    """Opened mid-fetch, the inspector follows the run as it grows; the fetch ends behind
    it, and once it closes the app's footer offers Cancel no more."""
    app = create_app(make_settings(demo.url("/cover.png"), delay=0.05, delay_on=True))
    async with app.run_test(size=(100, 30)) as pilot:
        table = app.query_one(RecvTable)
        await wait_for(pilot, lambda: table.row_count >= 2, "two rows")
        assert app.fetch_state.running
        await pilot.press("home", "enter")
        await wait_for(pilot, lambda: app.inspecting, "the inspector")
        await wait_for(pilot, lambda: app.fetch_state == "done", "the fetch to end")
        inspector = app.query_one(Inspector)
        rows = len(app.current_run.log)
        await pilot.press(*["right"] * rows)
        assert inspector.index == rows - 1
        await pilot.press("escape")
        await wait_for(pilot, lambda: not app.inspecting, "closed")

        def cancel_disabled() -> bool:
            keys = app.query_one("#keys").query(FooterKey)
            return any(key.description == "Cancel" and key.has_class("-disabled") for key in keys)

        await wait_for(pilot, cancel_disabled, "the footer's Cancel to be disabled")
