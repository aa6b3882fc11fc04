"""Lines made ready elsewhere (on a worker), shown as they scroll by."""

from __future__ import annotations

from textual.geometry import Size
from textual.scroll_view import ScrollView
from textual.strip import Strip


class StripView(ScrollView, can_focus=True):
    """A scrollable stack of `Strip`s: the preview's picture or text, drawn on a worker so
    that the UI thread only copies lines to the screen."""

    DEFAULT_CSS = """
    StripView {
        background: $surface;
        scrollbar-size-vertical: 1;
    }
    """

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self.lines: list[Strip] = []

    def show(self, lines: list[Strip]) -> None:
        self.lines = lines
        width = max((line.cell_length for line in lines), default=0)
        self.virtual_size = Size(width, len(lines))
        self.scroll_to(0, 0, animate=False, immediate=True)
        self.refresh()

    def render_line(self, y: int) -> Strip:
        scroll_x, scroll_y = self.scroll_offset
        width = self.scrollable_content_region.width
        number = scroll_y + y
        if number >= len(self.lines):
            return Strip.blank(width, self.rich_style)
        return self.lines[number].crop_extend(scroll_x, scroll_x + width, self.rich_style)
