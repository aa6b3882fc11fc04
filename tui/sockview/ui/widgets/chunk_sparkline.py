"""A sparkline of the most recent recv sizes, one column per recv, scaled to the bufsize.

A full column is a recv that filled the whole buffer: the picture the book's `sleep`
makes, every chunk full, against the ragged one of a reader that keeps up.
"""

from __future__ import annotations

from typing import ClassVar

from rich.segment import Segment
from textual.strip import Strip
from textual.widget import Widget

from sockview.core.records import RecvLog

BLOCKS = " ▁▂▃▄▅▆▇█"


class ChunkSparkline(Widget):
    """The last `width` recv sizes of a `RecvLog`, newest on the right."""

    COMPONENT_CLASSES: ClassVar[set[str]] = {"chunk-sparkline--full", "chunk-sparkline--part"}
    """
    | Class | Description |
    | :- | :- |
    | `chunk-sparkline--full` | Bars of recvs that filled the buffer. |
    | `chunk-sparkline--part` | Bars of recvs that returned less. |
    """

    DEFAULT_CSS = """
    ChunkSparkline {
        height: 3;
        & > .chunk-sparkline--full {
            color: $success;
        }
        & > .chunk-sparkline--part {
            color: $accent;
        }
    }
    """

    def __init__(
        self,
        *,
        name: str | None = None,
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self.recv_log: RecvLog | None = None
        self._rows = 0
        self._bufsize = 1
        self._columns_key: tuple[int, int, int] | None = None
        self._columns_cache: list[tuple[int, bool]] = []

    def show_log(self, log: RecvLog | None, bufsize: int) -> None:
        self.recv_log = log
        self._rows = 0
        self._columns_key = None
        self._bufsize = max(1, bufsize)
        self._update_title()
        self.refresh()

    def set_row_count(self, rows: int) -> None:
        if rows != self._rows:
            self._rows = rows
            self.refresh()

    def _update_title(self) -> None:
        self.border_title = f"recv sizes · scale {self._bufsize}"
        # The legend of the two colours (the same component classes as the bars).
        self.border_subtitle = "[$success]■[/] full  [$accent]■[/] short"

    def _columns(self, width: int, height: int) -> list[tuple[int, bool]]:
        """(height in eighths of a cell, filled the buffer) per column; cached per frame."""
        key = (self._rows, width, height)
        if key != self._columns_key:
            assert self.recv_log is not None
            sizes = self.recv_log.sizes[max(0, self._rows - width) : self._rows]
            scale, bufsize = height * 8, self._bufsize
            self._columns_cache = [
                (min(scale, max(1, round(size * scale / bufsize))), size >= bufsize)
                for size in sizes
            ]
            self._columns_key = key
        return self._columns_cache

    def render_line(self, y: int) -> Strip:
        width, height = self.size
        base = self.rich_style
        if self.recv_log is None or not self._rows or not width:
            return Strip.blank(width, base)
        columns = self._columns(width, height)
        styles = {
            True: base + self.get_component_rich_style("chunk-sparkline--full"),
            False: base + self.get_component_rich_style("chunk-sparkline--part"),
        }
        floor = (height - 1 - y) * 8  # eighths of a cell below this line
        segments: list[Segment] = []
        run: list[str] = []
        run_full = columns[0][1]
        for level, full in columns:
            if full is not run_full:
                segments.append(Segment("".join(run), styles[run_full]))
                run, run_full = [], full
            run.append(BLOCKS[min(8, max(0, level - floor))])
        segments.append(Segment("".join(run), styles[run_full]))
        return Strip(segments, len(columns)).extend_cell_length(width, base)
