"""The app, driven with Pilot as a user would, against real loopback servers."""

from __future__ import annotations

import gc
import socket
import time
from pathlib import Path

import pytest

from sockview.core.demo import DemoServer
from sockview.core.events import Failed
from sockview.core.sample_image import sample_png
from sockview.core.url import parse_url
from sockview.ui.app import SockviewApp, create_app
from sockview.ui.widgets.header_panel import HeaderPanel
from sockview.ui.widgets.recv_table import RecvTable
from sockview.ui.widgets.save_dialog import SaveDialog

from ..conftest import send_parts
from .conftest import WAIT_LIMIT, make_settings, notices, screen_text, wait_for

COVER_SIZE = 70057
COVER_HEADER = 242


def pattern(size: int) -> bytes:
    """The demo server's /bytes/N body."""
    return (bytes(range(256)) * (size // 256 + 1))[:size]


async def wait_state(pilot, app: SockviewApp, *states: str) -> None:
    await wait_for(pilot, lambda: app.fetch_state in states, f"state {' or '.join(states)}")


def first_done(app: SockviewApp) -> bool:
    """All 20000 bytes before the stall are in the log."""
    head = app.fetch.head if app.fetch else None
    return head is not None and app.fetch.log.total == head.body_offset + 20000  # type: ignore[union-attr]


async def wait_rows(pilot, app: SockviewApp, rows: int) -> None:
    table = app.query_one(RecvTable)
    await wait_for(pilot, lambda: table.row_count >= rows, f"{rows} rows in the table")


async def test_type_a_url_and_watch_every_recv(demo: DemoServer) -> None:
    app = create_app(make_settings())
    async with app.run_test(size=(100, 30)) as pilot:
        url_input = app.query_one("#url")
        assert app.focused is url_input
        await pilot.press(*demo.url("/cover.png"), "enter")
        await wait_state(pilot, app, "done")

        fetch = app.fetch
        assert fetch is not None and fetch.result is not None
        table = app.query_one(RecvTable)
        assert table.row_count == len(fetch.log) == fetch.result.recv_count > 1
        assert fetch.log.total == COVER_HEADER + 4 + COVER_SIZE
        assert list(fetch.log.totals)[-1] == fetch.log.total
        assert sum(fetch.log.sizes) == fetch.log.total
        assert fetch.head is not None
        assert table.head_index == fetch.head.head_index == 0
        text = screen_text(app)
        assert "HTTP/1.1 200 OK" in text
        assert "Header length 242" in text
        assert "Content-Type" in text and "image/png" in text
        assert f"{fetch.log.total:,} B in {len(fetch.log)} recvs" in text
        assert "done" in text
        # Following: the last recv is on screen, with its running total.
        assert table.following and table.cursor_row == len(fetch.log) - 1
        assert f"{fetch.log.total}" in text.replace(",", "")
        # The first recv carried the whole header: its row says where the header ended.
        await pilot.press("home")
        assert table.cursor_row == 0 and not table.following
        assert "◀ header 242" in screen_text(app)


async def test_what_is_alive_after_the_first_frame_is_frozen_for_the_collector() -> None:
    # A full collection over all of Textual's objects took 25-41 ms, which a key's frame
    # could wait for; after the freeze it scans only what came later.
    gc.unfreeze()
    assert gc.get_freeze_count() == 0
    app = create_app(make_settings())
    async with app.run_test() as pilot:
        await wait_for(pilot, lambda: gc.get_freeze_count() > 0, "the freeze")
        assert gc.get_freeze_count() > 10_000


async def test_url_on_the_command_line_fetches_at_once(demo_fixed: DemoServer) -> None:
    app = create_app(make_settings(demo_fixed.url("/bytes/30000")))
    async with app.run_test() as pilot:
        await wait_state(pilot, app, "done")
        assert app.fetch is not None
        assert app.fetch.body.read_all() == pattern(30000)  # type: ignore[attr-defined]
        assert isinstance(app.focused, RecvTable)


async def test_request_bytes_are_one_key_away(demo_fixed: DemoServer) -> None:
    app = create_app(make_settings(demo_fixed.url("/cover.png")))
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_state(pilot, app, "done")
        assert "GET /cover.png HTTP/1.0" not in screen_text(app)
        await pilot.press("t")
        text = screen_text(app)
        assert app.query_one(HeaderPanel).showing_request
        assert "GET /cover.png HTTP/1.0\\r\\n" in text
        assert f"Host: 127.0.0.1:{demo_fixed.port}\\r\\n" in text
        assert f"Request · {len(app.fetch.request)} bytes sent" in text  # type: ignore[union-attr]
        await pilot.press("t")
        assert not app.query_one(HeaderPanel).showing_request


async def test_delay_key_fills_every_recv(demo: DemoServer) -> None:
    # 1448-byte pieces every 14.5 ms: without a pause each recv gets one piece; with a
    # 0.15 s pause about ten pieces wait in the socket, and every recv fills its buffer.
    app = create_app(make_settings(demo.url("/slow/2000000?rate=100000"), delay=0.15))
    async with app.run_test(size=(120, 30)) as pilot:
        await wait_rows(pilot, app, 6)
        log = app.fetch.log  # type: ignore[union-attr]
        assert not app.delay.enabled
        assert min(log.sizes[1:5]) < 5120
        await pilot.press("d")
        assert app.delay.enabled
        assert "delay: on, 0.15 s" in screen_text(app)
        toggled_at = len(log)
        await wait_for(pilot, lambda: len(log) >= toggled_at + 4, "three more recvs")
        # The recv under way when d was pressed may be short; every one after is full.
        assert list(log.sizes[toggled_at + 1 : toggled_at + 4]) == [5120] * 3
        await pilot.press("c")
        await wait_state(pilot, app, "cancelled")
        assert "■ cancelled" in screen_text(app)


async def test_save_key_writes_the_body(
    demo_fixed: DemoServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    app = create_app(make_settings(demo_fixed.url("/cover.png")))
    async with app.run_test(notifications=True, size=(100, 30)) as pilot:
        await wait_state(pilot, app, "done")
        await pilot.press("s")
        await wait_for(pilot, lambda: (tmp_path / "cover.png").exists(), "cover.png")
        assert (tmp_path / "cover.png").read_bytes() == sample_png()
        await wait_for(pilot, lambda: "Saved the body" in screen_text(app), "the notice")
        # Never overwrites: the second save gets a new name.
        await pilot.press("s")
        await wait_for(pilot, lambda: (tmp_path / "cover-1.png").exists(), "cover-1.png")
        assert (tmp_path / "cover-1.png").read_bytes() == sample_png()


async def test_save_after_cancel_saves_a_partial_body(
    demo_fixed: DemoServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    app = create_app(make_settings(demo_fixed.url("/bytes/100000?stall=20000")))
    async with app.run_test() as pilot:
        await wait_for(pilot, lambda: "body 20% of 100,000" in screen_text(app), "20000 bytes")
        assert app.fetch_state == "receiving"
        await pilot.press("c")
        await wait_state(pilot, app, "cancelled")
        assert "■ cancelled" in screen_text(app)
        await pilot.press("s")
        saved = tmp_path / "100000.partial.bin"
        await wait_for(pilot, saved.exists, "the partial file")
        assert saved.read_bytes() == pattern(20000)


async def test_a_quiet_server_is_said_to_be_quiet_not_fast(demo_fixed: DemoServer) -> None:
    # The rate over the last second would stay at its last value while nothing comes.
    app = create_app(make_settings(demo_fixed.url("/bytes/100000?stall=20000")))
    app.quiet_after = 0.3
    async with app.run_test(size=(120, 30)) as pilot:
        await wait_for(pilot, lambda: "body 20% of 100,000" in screen_text(app), "20000 bytes")
        await wait_for(pilot, lambda: "no data for" in screen_text(app), "the quiet note")
        text = screen_text(app)
        assert "receiving" in text and "/s ·" not in text  # the stale rate is gone
        await pilot.press("c")
        await wait_state(pilot, app, "cancelled")
        assert "■ cancelled" in screen_text(app)
        assert "no data for" not in screen_text(app)


async def test_our_own_delay_is_not_the_server_going_quiet(demo_fixed: DemoServer) -> None:
    app = create_app(make_settings(demo_fixed.url("/bytes/30000"), delay=0.6, delay_on=True))
    app.quiet_after = 0.3
    async with app.run_test(size=(120, 30)) as pilot:
        seen: list[str] = []
        give_up = time.monotonic() + WAIT_LIMIT
        while app.fetch_state != "done" and time.monotonic() < give_up:
            seen.append(screen_text(app))
            await pilot.pause(0.05)
        assert app.fetch_state == "done"
        assert len(app.fetch.log) > 3  # type: ignore[union-attr]
        assert not [text for text in seen if "no data for" in text]


async def test_save_as_dialog(demo_fixed: DemoServer, tmp_path: Path) -> None:
    app = create_app(make_settings(demo_fixed.url("/cover.png")))
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_state(pilot, app, "done")
        await pilot.press("S")
        assert isinstance(app.screen, SaveDialog)
        field = app.screen.query_one("#save-path")
        assert field.value.endswith("cover.png")  # type: ignore[attr-defined]
        field.value = str(tmp_path / "mine.png")  # type: ignore[attr-defined]
        await pilot.press("enter")
        await wait_for(pilot, lambda: (tmp_path / "mine.png").exists(), "mine.png")
        assert (tmp_path / "mine.png").read_bytes() == sample_png()
        assert not isinstance(app.screen, SaveDialog)
        # Escape closes the dialog and saves nothing.
        await pilot.press("S")
        await pilot.press("escape")
        assert not isinstance(app.screen, SaveDialog)
        assert sorted(p.name for p in tmp_path.iterdir()) == ["mine.png"]


async def test_save_error_is_a_notice_not_a_crash(demo_fixed: DemoServer, tmp_path: Path) -> None:
    missing = tmp_path / "no" / "such" / "folder" / "x.png"
    app = create_app(make_settings(demo_fixed.url("/cover.png"), output=str(missing)))
    async with app.run_test(notifications=True, size=(100, 30)) as pilot:
        await wait_state(pilot, app, "done")
        await pilot.press("s")
        await wait_for(pilot, lambda: "Not saved" in screen_text(app), "the error notice")
        assert any("the folder does not exist" in note for note in notices(app))
        assert app.is_running


async def test_cancel_then_fetch_again(demo_fixed: DemoServer) -> None:
    app = create_app(make_settings(demo_fixed.url("/bytes/100000?stall=20000")))
    async with app.run_test() as pilot:
        await wait_state(pilot, app, "receiving")
        first = app.fetch
        await pilot.press("c")
        await wait_state(pilot, app, "cancelled")
        assert "■ cancelled" in screen_text(app)
        assert isinstance(first.result, Failed) and first.result.cancelled  # type: ignore[union-attr]
        assert "failed" not in screen_text(app)
        assert app.check_action("cancel", ()) is None
        await pilot.press("r")
        await wait_rows(pilot, app, 1)
        assert app.fetch is not first
        assert app.fetch_state == "receiving"
        await pilot.press("escape")
        await wait_state(pilot, app, "cancelled")


async def test_a_new_fetch_replaces_a_running_one(demo_fixed: DemoServer) -> None:
    app = create_app(make_settings(demo_fixed.url("/bytes/100000?stall=20000")))
    async with app.run_test() as pilot:
        await wait_for(pilot, lambda: first_done(app), "the first body")
        first = app.fetch
        await pilot.press("r")
        second = app.fetch
        assert second is not first
        # The old fetch ends, cancelled; what it says as it goes must not reach the screen.
        await wait_for(pilot, lambda: first.result is not None, "the first fetch to end")  # type: ignore[union-attr]
        await wait_for(pilot, lambda: not app.replaced_running, "its last message")
        assert first.result.cancelled  # type: ignore[union-attr]
        await wait_for(pilot, lambda: first_done(app), "the second body")
        assert app.fetch_state == "receiving"
        assert app.current_run is not None and app.current_run.reason is None
        table = app.query_one(RecvTable)
        assert table.recv_log is second.log  # type: ignore[union-attr]
        await wait_for(pilot, lambda: table.row_count == len(second.log), "the new rows")  # type: ignore[union-attr]
        # And through the URL input too.
        await pilot.press("u")
        app.query_one("#url").value = demo_fixed.url("/bytes/3000")  # type: ignore[attr-defined]
        await pilot.press("enter")
        await wait_state(pilot, app, "done")
        assert second.result is not None and second.result.cancelled  # type: ignore[union-attr]
        assert app.fetch.body.size == 3000  # type: ignore[union-attr]


async def test_server_text_is_shown_literally(serve) -> None:
    evil = "[bold]x[/] [@click=app.quit]q"
    server = serve(
        send_parts(
            b"HTTP/1.0 200 OK\r\n"
            b"X-Evil: " + evil.encode() + b"\r\n"
            b"X-Link: [link=http://example.com]here[/link]\r\n"
            b"X-Escape: a\x1b[31mred\r\n"
            b"Content-Length: 2\r\n\r\nhi"
        )
    )
    app = create_app(make_settings(server.url("/")))
    async with app.run_test(size=(120, 30)) as pilot:
        await wait_state(pilot, app, "done")
        text = screen_text(app)
        assert evil in text
        assert "[link=http://example.com]here[/link]" in text
        assert "a\\x1b[31mred" in text
        # Clicking the would-be link does not run it.
        await pilot.click(HeaderPanel)
        assert app.is_running and app.return_code is None


async def test_a_failed_fetch_is_shown_and_the_app_stays_usable(serve, demo_fixed) -> None:
    evil_reason = b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n[bold]short"
    server = serve(send_parts(evil_reason))
    app = create_app(make_settings(server.url("/")))
    async with app.run_test(notifications=True, size=(120, 30)) as pilot:
        await wait_state(pilot, app, "failed")
        reason = app.current_run.reason or ""  # type: ignore[union-attr]
        assert "closed" in reason
        text = screen_text(app)
        assert "✖ failed" in text and reason[:40] in text
        assert "Fetch failed" in text
        assert any(reason in note for note in notices(app))
        assert app.check_action("save", ()) is True  # the partial body can be saved
        await pilot.press("u")
        app.query_one("#url").value = demo_fixed.url("/bytes/1000")  # type: ignore[attr-defined]
        await pilot.press("enter")
        await wait_state(pilot, app, "done")
        assert app.current_run.reason is None  # type: ignore[union-attr]


async def test_refused_connection_fails_cleanly() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # bound, never listening: connections are refused
        app = create_app(make_settings(f"http://127.0.0.1:{port}/"))
        async with app.run_test(size=(120, 30)) as pilot:
            await wait_state(pilot, app, "failed")
            assert "refused" in (app.current_run.reason or "")  # type: ignore[union-attr]
            assert app.check_action("save", ()) is None
            assert app.check_action("refetch", ()) is True


async def test_a_bad_url_is_a_notice(demo_fixed: DemoServer) -> None:
    app = create_app(make_settings())
    async with app.run_test(notifications=True, size=(120, 30)) as pilot:
        await pilot.press(*"ftp://x/[bold]y", "enter")
        await wait_for(pilot, lambda: "Cannot fetch" in screen_text(app), "the notice")
        assert any("unsupported scheme 'ftp'" in note for note in notices(app))
        assert app.fetch_state == "idle" and app.fetch is None


def footer_keys(app: SockviewApp) -> dict[str, bool]:
    """The keys the footer shows now, and whether each is live (False: dimmed)."""
    return {
        key: active.enabled
        for key, active in app.screen.active_bindings.items()
        if active.binding.show
    }


async def test_footer_shows_live_keys_and_dims_the_rest(demo_fixed: DemoServer) -> None:
    app = create_app(make_settings())
    async with app.run_test() as pilot:
        # Typing in the URL input: letters type there, so the footer offers only these.
        assert footer_keys(app) == {"enter": True, "escape": True, "f1": True, "ctrl+q": True}
        await pilot.press("escape")
        assert isinstance(app.focused, RecvTable)
        keys = footer_keys(app)
        assert keys["d"] and keys["u"] and keys["q"]
        assert not keys["c"] and not keys["s"] and not keys["S"] and not keys["r"]
        app.start_fetch(parse_url(demo_fixed.url("/bytes/100000?stall=20000")))
        await wait_for(pilot, lambda: first_done(app), "the body")
        keys = footer_keys(app)
        assert keys["c"] and keys["s"] and keys["S"] and keys["r"] and keys["t"]
        await pilot.press("c")
        await wait_state(pilot, app, "cancelled")
        assert "■ cancelled" in screen_text(app)
        assert footer_keys(app)["c"] is False
        # A dimmed key does nothing.
        await pilot.press("c")
        assert app.fetch_state == "cancelled"


async def test_table_stops_following_when_the_user_moves_up(demo: DemoServer) -> None:
    app = create_app(make_settings(demo.url("/slow/2000000?rate=200000")))
    async with app.run_test(size=(80, 24)) as pilot:
        table = app.query_one(RecvTable)
        await wait_rows(pilot, app, 40)
        assert table.following and table.cursor_row == table.row_count - 1
        assert table.scroll_y == table.max_scroll_y > 0
        await pilot.press("up")
        assert not table.following
        held_row, held_scroll = table.cursor_row, table.scroll_y
        await wait_rows(pilot, app, table.row_count + 10)
        assert (table.cursor_row, table.scroll_y) == (held_row, held_scroll)
        assert "End: follow" in screen_text(app)
        await pilot.press("end")
        assert table.following
        await wait_rows(pilot, app, table.row_count + 5)
        assert table.cursor_row == table.row_count - 1
        assert table.scroll_y == table.max_scroll_y
        await pilot.press("c")
        await wait_state(pilot, app, "cancelled")
        assert "■ cancelled" in screen_text(app)


async def test_quit_key_ends_the_app_and_its_fetch(demo_fixed: DemoServer) -> None:
    app = create_app(make_settings(demo_fixed.url("/bytes/100000?stall=20000")))
    async with app.run_test() as pilot:
        await wait_state(pilot, app, "receiving")
        fetch = app.fetch
        await pilot.press("q")
    assert app.return_code == 0
    assert fetch is not None
    assert fetch.stopping


async def test_interim_responses_are_shown_then_skipped(serve) -> None:
    server = serve(
        send_parts(
            b"HTTP/1.1 100 Continue\r\n\r\n",
            b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nX-Note: [i]real[/i]\r\n\r\nok",
        )
    )
    app = create_app(make_settings(server.url("/")))
    async with app.run_test(size=(120, 30)) as pilot:
        await wait_state(pilot, app, "done")
        text = screen_text(app)
        assert "HTTP/1.1 100 Continue  (interim, skipped)" in text
        assert "HTTP/1.1 200 OK" in text and "[i]real[/i]" in text
        assert app.fetch.body.read_all() == b"ok"  # type: ignore[union-attr]
