"""The recv table: one row per recv() call, read straight from the fetch's `RecvLog`.

A virtual table. Textual's DataTable keeps Python objects per row and costs about 190 us
per `add_row` (measured: 37 s for 200,000 rows, see tests/tools/measure_datatable.py),
while a fast link makes hundreds of thousands of recvs a second. This widget keeps no
per-row state at all: `render_line(y)` formats the one row under line `y` from the log's
arrays, so a frame costs the same at 20 rows or a million, and new rows cost nothing
until they are on screen. It has DataTable's look (header, zebra rows, row cursor) and
keys (up, down, page up, page down, home, end).
"""

from __future__ import annotations

from typing import ClassVar

from rich.segment import Segment
from rich.style import Style
from textual.binding import Binding, BindingType
from textual.events import Blur, Click, Focus, MouseScrollUp
from textual.geometry import Size
from textual.message import Message
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip

from sockview.core.kernel import ABSENT, KernelLog
from sockview.core.records import RecvLog

COLUMNS = ("#", "time ms", "size", "total", "queued")
QUEUED_WIDTH = len("queued")
"""The queued column: bytes the kernel held before that recv, where it was sampled."""
MIN_INDEX_WIDTH = 5
MIN_TIME_WIDTH = len("1000.000")
NOTE_WIDTH = len("◀ header 99999")
"""The note column: it marks the row in which the response header ended."""


class RecvTable(ScrollView, can_focus=True):
    """Rows `0 .. row_count - 1` of a `RecvLog`: index, time since connect, size, total,
    and the bytes queued in the kernel before that recv (blank where not sampled)."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("up", "cursor_up", "Up", show=False, tooltip="Previous recv", id="table-up"),
        Binding("down", "cursor_down", "Down", show=False, tooltip="Next recv", id="table-down"),
        Binding(
            "pageup", "page_up", "Page up", show=False, tooltip="One page up", id="table-page-up"
        ),
        Binding(
            "pagedown",
            "page_down",
            "Page down",
            show=False,
            tooltip="One page down",
            id="table-page-down",
        ),
        Binding(
            "home,ctrl+home", "top", "Top", show=False, tooltip="The first recv", id="table-top"
        ),
        Binding(
            "end,ctrl+end",
            "bottom",
            "Bottom",
            show=False,
            tooltip="The last recv, and follow new ones",
            id="table-bottom",
        ),
        Binding(
            "enter",
            "choose",
            "Bytes",
            show=False,  # the border says it: the footer has no room at 80 columns
            tooltip="Show the bytes this recv returned",
            id="table-inspect",
        ),
    ]

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "recv-table--header",
        "recv-table--cursor",
        "recv-table--stripe",
        "recv-table--head-row",
        "recv-table--note",
    }
    """
    | Class | Description |
    | :- | :- |
    | `recv-table--header` | The fixed header line. |
    | `recv-table--cursor` | The row under the cursor. |
    | `recv-table--stripe` | Every other row (zebra stripes). |
    | `recv-table--head-row` | The row in which the response header ended. |
    | `recv-table--note` | The note that says so. |
    """

    DEFAULT_CSS = """
    RecvTable {
        background: $surface;
        color: $foreground;
        scrollbar-size-vertical: 1;
        scrollbar-gutter: stable;
        &:focus {
            & > .recv-table--cursor {
                background: $block-cursor-background;
                color: $block-cursor-foreground;
                text-style: $block-cursor-text-style;
            }
        }
        & > .recv-table--header {
            text-style: bold;
            background: $panel;
            color: $foreground;
        }
        & > .recv-table--stripe {
            background: $surface-lighten-1 50%;
        }
        &:dark > .recv-table--stripe {
            background: $surface-darken-1 40%;
        }
        & > .recv-table--cursor {
            background: $block-cursor-blurred-background;
            color: $block-cursor-blurred-foreground;
            text-style: $block-cursor-blurred-text-style;
        }
        & > .recv-table--head-row {
            color: $text-warning;
            text-style: bold;
        }
        & > .recv-table--note {
            color: $text-warning;
            text-style: bold;
        }
    }
    """

    class FollowChanged(Message):
        """The table started or stopped following new rows."""

        def __init__(self, table: RecvTable, following: bool) -> None:
            super().__init__()
            self.table = table
            self.following = following

        @property
        def control(self) -> RecvTable:
            return self.table

    class Chosen(Message):
        """Enter on a row: show recv `index`."""

        def __init__(self, table: RecvTable, index: int) -> None:
            super().__init__()
            self.table = table
            self.index = index

        @property
        def control(self) -> RecvTable:
            return self.table

    cursor_row: reactive[int] = reactive(0, always_update=False)
    """The row under the cursor (0 when the table is empty)."""

    def __init__(
        self,
        *,
        name: str | None = None,
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self.recv_log: RecvLog | None = None
        self.kernel: KernelLog | None = None
        self._rows = 0
        self._head_index = -1
        self._header_length = 0
        self._size_width = 4
        self._total_width = len("total")
        self._widths = (1, 7, 4, 5, QUEUED_WIDTH)
        self._styles: dict[str, Style] = {}
        self.following = True
        """True while the table shows the newest row and moves on with each new one."""

    # -- what the table shows ---------------------------------------------------------

    @property
    def row_count(self) -> int:
        return self._rows

    @property
    def head_index(self) -> int:
        """The row marked as the end of the header, or -1."""
        return self._head_index

    def show_log(
        self, log: RecvLog | None, bufsize: int = 0, kernel: KernelLog | None = None
    ) -> None:
        """Show a new fetch's log (empty so far), and its kernel samples, and follow it."""
        self.recv_log = log
        self.kernel = kernel
        self._rows = 0
        self._head_index = -1
        self._size_width = max(len("size"), len(str(bufsize)))
        self._total_width = len("total")
        self.cursor_row = 0
        self._set_following(True)
        self._update_subtitle()
        self._update_virtual_size()
        self.scroll_to(0, 0, animate=False, immediate=True, force=True)
        self.refresh()

    def expect_total(self, total: int) -> None:
        """Make the total column wide enough for `total` bytes at once."""
        self._total_width = max(self._total_width, len(str(total)))
        self._update_virtual_size()

    def mark_head(self, index: int, header_length: int) -> None:
        """Mark row `index` as the one in which the header ended, `header_length` bytes in."""
        self._head_index = index
        self._header_length = header_length
        self.refresh()

    def set_row_count(self, rows: int) -> None:
        """Rows below `rows` exist in the log now; follow them if following."""
        if rows == self._rows:
            return
        follow = self.following
        self._rows = rows
        self._update_virtual_size()
        if follow and rows:
            self.cursor_row = rows - 1
            self.scroll_to(y=self.max_scroll_y, animate=False, immediate=True, force=True)
        self._update_subtitle()
        self.refresh()

    def _update_virtual_size(self) -> None:
        log, rows = self.recv_log, self._rows
        # Room from the start for a fetch of some size: each new width costs a layout of
        # the whole screen, and a fast fetch would otherwise pay for one per new digit.
        widths = (
            MIN_INDEX_WIDTH,
            MIN_TIME_WIDTH,
            self._size_width,
            self._total_width,
            QUEUED_WIDTH,
        )
        if log is not None and rows:
            # Each column's widest value is its last (indexes, times and totals only grow).
            last = rows - 1
            widths = (
                max(widths[0], len(str(last))),
                max(widths[1], len(f"{log.times_ns[last] / 1e6:.3f}")),
                widths[2],
                max(widths[3], len(str(log.totals[last]))),
                QUEUED_WIDTH,
            )
        self._widths = widths
        size = Size(1 + sum(w + 2 for w in widths) + NOTE_WIDTH, rows + 1)
        if size.width != self.virtual_size.width:
            # The table is as wide as its columns: a new width needs a new layout.
            self.virtual_size = size
        else:
            # More rows only: skip the layout pass that setting `virtual_size` asks for
            # (the dearest part of a frame), and update the scrollbars directly.
            self.set_reactive(ScrollView.virtual_size, size)
            self._scroll_update(size)

    def on_mount(self) -> None:
        self._update_virtual_size()

    def on_resize(self) -> None:
        # A new height (the status line wrapping, a terminal resize) moves the bottom.
        if self.following and self._rows:
            self.call_after_refresh(self._follow)

    def _follow(self) -> None:
        if self.following and self._rows:
            self.cursor_row = self._rows - 1
            self.scroll_to(y=self.max_scroll_y, animate=False, immediate=True, force=True)

    def get_content_width(self, container: Size, viewport: Size) -> int:
        return self.virtual_size.width

    # -- following ----------------------------------------------------------------------

    def _set_following(self, following: bool) -> None:
        if following != self.following:
            self.following = following
            self.post_message(self.FollowChanged(self, following))
            self._update_subtitle()

    def _update_subtitle(self) -> None:
        rows = self._rows
        count = f"{rows} recv" + ("" if rows == 1 else "s")
        if not rows:
            self.border_subtitle = ""
        elif self.following:
            self.border_subtitle = f"{count} · following · ⏎ bytes"
        else:
            self.border_subtitle = f"{count} · End: follow · ⏎ bytes"

    def _after_move(self) -> None:
        """The user moved: follow only from the last row, scrolled to the bottom."""
        self._scroll_cursor_into_view()
        at_last = self._rows == 0 or self.cursor_row >= self._rows - 1
        self._set_following(at_last)

    def _on_mouse_scroll_up(self, event: MouseScrollUp) -> None:
        # Scrolling back through the log is the signal to stop following.
        if self.max_scroll_y > 0:
            self._set_following(False)

    def watch_scroll_y(self, old_value: float, new_value: float) -> None:
        super().watch_scroll_y(old_value, new_value)
        # Scrolled back down to the end with the cursor still on the last row: follow again.
        if (
            not self.following
            and self._rows
            and self.cursor_row == self._rows - 1
            and round(new_value) >= self.max_scroll_y
        ):
            self._set_following(True)

    # -- the cursor ---------------------------------------------------------------------

    @property
    def _page(self) -> int:
        return max(1, self.scrollable_content_region.height - 1)

    def validate_cursor_row(self, row: int) -> int:
        return max(0, min(row, self._rows - 1)) if self._rows else 0

    def watch_cursor_row(self, old: int, new: int) -> None:
        self.refresh()

    def _scroll_cursor_into_view(self) -> None:
        row = self.cursor_row
        visible = self._page
        top = round(self.scroll_y)
        if row < top:
            self.scroll_to(y=row, animate=False, immediate=True, force=True)
        elif row >= top + visible:
            self.scroll_to(y=row - visible + 1, animate=False, immediate=True, force=True)

    def action_cursor_up(self) -> None:
        self.cursor_row -= 1
        self._after_move()

    def action_cursor_down(self) -> None:
        self.cursor_row += 1
        self._after_move()

    def action_page_up(self) -> None:
        page = self._page
        self.cursor_row -= page
        self.scroll_to(y=self.scroll_y - page, animate=False, immediate=True, force=True)
        self._after_move()

    def action_page_down(self) -> None:
        page = self._page
        self.cursor_row += page
        self.scroll_to(y=self.scroll_y + page, animate=False, immediate=True, force=True)
        self._after_move()

    def action_top(self) -> None:
        self.cursor_row = 0
        self.scroll_to(y=0, animate=False, immediate=True, force=True)
        self._after_move()

    def action_bottom(self) -> None:
        self.cursor_row = self._rows - 1
        self.scroll_to(y=self.max_scroll_y, animate=False, immediate=True, force=True)
        self._after_move()

    def action_choose(self) -> None:
        if self._rows:
            self.post_message(self.Chosen(self, self.cursor_row))

    async def _on_click(self, event: Click) -> None:
        offset = event.get_content_offset(self)
        if offset is not None and offset.y >= 1 and self._rows:
            self.cursor_row = round(self.scroll_y) + offset.y - 1
            self._after_move()

    # -- drawing ------------------------------------------------------------------------

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._styles.clear()

    def _on_focus(self, event: Focus) -> None:
        self._styles.clear()

    def _on_blur(self, event: Blur) -> None:
        self._styles.clear()

    def _style(self, name: str) -> Style:
        style = self._styles.get(name)
        if style is None:
            base = self.rich_style
            if name == "base":
                style = base
            elif name == "cursor-head":
                style = base + self.get_component_rich_style(
                    "recv-table--head-row", "recv-table--cursor"
                )
            else:
                style = base + self.get_component_rich_style(f"recv-table--{name}")
            self._styles[name] = style
        return style

    def _format_row(self, index: int) -> str:
        log = self.recv_log
        assert log is not None
        w_index, w_time, w_size, w_total, w_queued = self._widths
        queued = ""
        kernel = self.kernel
        if kernel is not None:
            sample = kernel.at(index)
            if sample is not None and kernel.queued[sample] != ABSENT:
                queued = str(kernel.queued[sample])
        return (
            f" {index:>{w_index}}  {log.times_ns[index] / 1e6:>{w_time}.3f}"
            f"  {log.sizes[index]:>{w_size}}  {log.totals[index]:>{w_total}}"
            f"  {queued:>{w_queued}}  "
        )

    def _header_text(self) -> str:
        w_index, w_time, w_size, w_total, w_queued = self._widths
        return (
            f" {COLUMNS[0]:>{w_index}}  {COLUMNS[1]:>{w_time}}"
            f"  {COLUMNS[2]:>{w_size}}  {COLUMNS[3]:>{w_total}}  {COLUMNS[4]:>{w_queued}}  "
        )

    def render_line(self, y: int) -> Strip:
        scroll_x, scroll_y = self.scroll_offset
        width = self.scrollable_content_region.width
        full = self.virtual_size.width
        if y == 0:
            text = self._header_text()
            style = self._style("header")
            strip = Strip([Segment(text + " " * (full - len(text)), style)], full)
            return strip.crop_extend(scroll_x, scroll_x + width, style)
        index = scroll_y + y - 1
        base = self._style("base")
        if index >= self._rows or self.recv_log is None:
            return Strip.blank(width, base)
        text = self._format_row(index)
        is_head = index == self._head_index
        if index == self.cursor_row:
            style = self._style("cursor-head" if is_head else "cursor")
        elif is_head:
            style = self._style("head-row")
        elif index % 2:
            style = self._style("stripe")
        else:
            style = base
        if is_head:
            note = f"◀ header {self._header_length}"
            note_style = style if index == self.cursor_row else self._style("note")
            segments = [Segment(text, style), Segment(note.ljust(full - len(text)), note_style)]
        else:
            segments = [Segment(text + " " * (full - len(text)), style)]
        return Strip(segments, full).crop_extend(scroll_x, scroll_x + width, base)
