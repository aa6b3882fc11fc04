"""The virtual recv table on its own: a million rows, DataTable's keys, following."""

from __future__ import annotations

from textual.app import App, ComposeResult

from sockview.core.records import RecvLog
from sockview.ui.widgets.recv_table import RecvTable

from .conftest import screen_text

MILLION = 1_000_000


def filled_log(rows: int) -> RecvLog:
    log = RecvLog()
    log.times_ns.extend(range(1_000_000, (rows + 1) * 1_000_000, 1_000_000))
    log.sizes.extend([5120] * rows)
    return log


class TableApp(App[None]):
    def __init__(self, log: RecvLog, rows: int) -> None:
        super().__init__()
        self.log_to_show = log
        self.rows = rows

    def compose(self) -> ComposeResult:
        yield RecvTable()

    def on_mount(self) -> None:
        table = self.query_one(RecvTable)
        table.show_log(self.log_to_show, 5120)
        table.mark_head(0, 242)
        table.set_row_count(self.rows)
        table.focus()


def row_line(text: str, index: int) -> str | None:
    """The screen line that shows row `index`, if any."""
    return next((line for line in text.splitlines() if line.split()[:1] == [str(index)]), None)


async def test_a_million_rows_top_bottom_and_pages() -> None:
    app = TableApp(filled_log(MILLION), MILLION)
    async with app.run_test(size=(80, 24)) as pilot:
        table = app.query_one(RecvTable)
        assert table.virtual_size.height == MILLION + 1
        # It opens following: on the last row, at the bottom.
        assert table.cursor_row == MILLION - 1 and table.following
        last = row_line(screen_text(app), MILLION - 1)
        assert last is not None and f"{MILLION * 5120}" in last and "1000000.000" in last
        await pilot.press("home")
        assert (table.cursor_row, table.scroll_y, table.following) == (0, 0, False)
        text = screen_text(app)
        assert "◀ header 242" in (row_line(text, 0) or "")
        assert "#" in text and "time ms" in text and "total" in text
        page = table.scrollable_content_region.height - 1
        await pilot.press("pagedown")
        assert table.cursor_row == page
        assert row_line(screen_text(app), page) is not None
        await pilot.press("pageup", "down", "down")
        assert table.cursor_row == 2
        await pilot.press("end")
        assert table.cursor_row == MILLION - 1 and table.following
        assert table.scroll_y == table.max_scroll_y
        assert row_line(screen_text(app), MILLION - 1) is not None


async def test_following_and_not() -> None:
    log = filled_log(500)
    app = TableApp(log, 100)
    async with app.run_test(size=(80, 24)) as pilot:
        table = app.query_one(RecvTable)
        table.set_row_count(200)
        await pilot.pause()
        assert table.cursor_row == 199 and table.scroll_y == table.max_scroll_y
        assert table.border_subtitle == "200 recvs · following · ⏎ bytes"
        await pilot.press("up")
        assert not table.following and table.cursor_row == 198
        held = table.scroll_y
        table.set_row_count(300)
        await pilot.pause()
        assert (table.cursor_row, table.scroll_y) == (198, held)
        assert table.border_subtitle == "300 recvs · End: follow · ⏎ bytes"
        await pilot.press("down")  # back on the last row shown before: not the last row now
        assert not table.following
        await pilot.press("ctrl+end")
        table.set_row_count(400)
        await pilot.pause()
        assert table.cursor_row == 399 and table.following


async def test_cursor_stays_inside_the_rows() -> None:
    app = TableApp(filled_log(10), 10)
    async with app.run_test(size=(80, 24)) as pilot:
        table = app.query_one(RecvTable)
        await pilot.press("down", "pagedown")
        assert table.cursor_row == 9
        await pilot.press("home", "up", "pageup")
        assert table.cursor_row == 0 and table.scroll_y == 0
