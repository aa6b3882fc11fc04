"""A sparkline of the most recent recv sizes, one column per recv, scaled to the bufsize.

A full column is a recv that filled the whole buffer: the picture the book's `sleep`
makes, every chunk full, against the ragged one of a reader that keeps up.
"""

from __future__ import annotations

from typing import ClassVar

from rich.segment import Segment
from rich.style import Style
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
        self._log: RecvLog | None = None
        self._rows = 0
        self._bufsize = 1

    def show_log(self, log: RecvLog | None, bufsize: int) -> None:
        self._log = log
        self._rows = 0
        self._bufsize = max(1, bufsize)
        self._update_title()
        self.refresh()

    def set_row_count(self, rows: int) -> None:
        if rows != self._rows:
            self._rows = rows
            self.refresh()

    def _update_title(self) -> None:
        self.border_title = f"recv sizes · full bar = bufsize {self._bufsize}"

    def render_line(self, y: int) -> Strip:
        width, height = self.size
        base = self.rich_style
        log = self._log
        if log is None or not self._rows or not width:
            return Strip.blank(width, base)
        start = max(0, self._rows - width)
        sizes = log.sizes[start : self._rows]
        full_style = base + self.get_component_rich_style("chunk-sparkline--full")
        part_style = base + self.get_component_rich_style("chunk-sparkline--part")
        bufsize = self._bufsize
        # Eighths of a cell above the bottom of this line.
        floor = (height - 1 - y) * 8
        scale = height * 8
        segments: list[Segment] = []
        run: list[str] = []
        run_style: Style | None = None
        for size in sizes:
            level = min(scale, max(1, round(size * scale / bufsize)))
            char = BLOCKS[min(8, max(0, level - floor))]
            style = full_style if size >= bufsize else part_style
            if style is not run_style and run:
                segments.append(Segment("".join(run), run_style))
                run = []
            run_style = style
            run.append(char)
        if run:
            segments.append(Segment("".join(run), run_style))
        strip = Strip(segments, len(sizes))
        return strip.extend_cell_length(width, base)
