"""A hex dump, drawn line by line as it scrolls: offset, hex, text and notes.

The lines come from a function (`sockview.core.hexdump`), so a recv of 16 MiB (a
million lines) costs nothing until a line is on screen. Head bytes, body bytes and
chunk framing have their own colours; the notes say where the header ends, where the
body starts, and what a chunk size line says.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import ClassVar

from rich.segment import Segment
from rich.style import Style
from textual.binding import Binding, BindingType
from textual.geometry import Size
from textual.scroll_view import ScrollView
from textual.strip import Strip

from sockview.core.hexdump import HEX_WIDTH, WIDTH, ByteKind, HexLine, hex_column
from sockview.core.text import visible

_KIND_CLASS = {
    ByteKind.HEAD: "hex-view--head",
    ByteKind.BODY: "hex-view--body",
    ByteKind.FRAMING: "hex-view--framing",
}


class HexView(ScrollView, can_focus=True):
    """`line_count` lines, each made by `line(n)` when it is drawn."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("up", "scroll_up", "Up", show=False, tooltip="One line up", id="hex-up"),
        Binding("down", "scroll_down", "Down", show=False, tooltip="One line down", id="hex-down"),
        Binding("pageup", "page_up", "Page up", show=False, tooltip="One page up", id="hex-pgup"),
        Binding(
            "pagedown", "page_down", "Page down", show=False, tooltip="One page down", id="hex-pgdn"
        ),
        Binding("home", "scroll_home", "Top", show=False, tooltip="The first line", id="hex-top"),
        Binding("end", "scroll_end", "End", show=False, tooltip="The last line", id="hex-end"),
    ]

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "hex-view--offset",
        "hex-view--head",
        "hex-view--body",
        "hex-view--framing",
        "hex-view--note",
    }
    """
    | Class | Description |
    | :- | :- |
    | `hex-view--offset` | The offset column. |
    | `hex-view--head` | Bytes of the response head. |
    | `hex-view--body` | Bytes of the body. |
    | `hex-view--framing` | Chunked framing: size lines, the CRLF after a chunk, the trailer. |
    | `hex-view--note` | The notes at the end of a line. |
    """

    DEFAULT_CSS = """
    HexView {
        background: $surface;
        scrollbar-size-vertical: 1;
        /* Only the notes reach past 80 columns; a sideways scrollbar would cost a line. */
        overflow-x: hidden;
        & > .hex-view--offset { color: $text-muted; }
        & > .hex-view--head { color: $text-warning; }
        & > .hex-view--body { color: $foreground; }
        & > .hex-view--framing { color: $text-accent; text-style: bold; }
        & > .hex-view--note { color: $text-accent; }
    }
    """

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self._line: Callable[[int], HexLine] | None = None
        self._count = 0
        self._offset_width = 5
        self._cache: dict[int, Strip] = {}
        self._styles: dict[str, Style] = {}

    @property
    def line_count(self) -> int:
        return self._count

    def show(self, line: Callable[[int], HexLine] | None, count: int, last_offset: int) -> None:
        """Show `count` lines made by `line`; `last_offset` sets the offset column's width."""
        self._line = line if count else None
        self._count = count if line is not None else 0
        self._offset_width = max(5, len(str(last_offset)))
        self._cache.clear()
        self.virtual_size = Size(self._offset_width + 2 + HEX_WIDTH + 2 + WIDTH + 40, self._count)
        self.scroll_to(0, 0, animate=False, immediate=True)
        self.refresh()

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._styles.clear()
        self._cache.clear()

    def _style(self, name: str) -> Style:
        style = self._styles.get(name)
        if style is None:
            style = self.rich_style + self.get_component_rich_style(name)
            self._styles[name] = style
        return style

    def _strip(self, number: int) -> Strip:
        assert self._line is not None
        line = self._line(number)
        base = self.rich_style
        segments = [
            Segment(f"{line.offset:>{self._offset_width}}  ", self._style("hex-view--offset"))
        ]
        hex_parts: list[Segment] = []
        text_parts: list[Segment] = []
        column = 0
        for first, stop, kind in line.kinds:
            style = self._style(_KIND_CLASS[kind])
            begin = hex_column(first)
            end = hex_column(stop - 1) + 2
            if begin > column:
                hex_parts.append(Segment(line.hex[column:begin], base))
            hex_parts.append(Segment(line.hex[begin:end], style))
            column = end
            text_parts.append(Segment(line.text[first:stop], style))
        segments += hex_parts
        segments.append(Segment(" " * (HEX_WIDTH - column + 2), base))
        segments += text_parts
        if line.notes:
            pad = " " * (WIDTH - len(line.text) + 2)
            note = "◀ " + "; ".join(visible(note) for note in line.notes)
            segments += [Segment(pad, base), Segment(note, self._style("hex-view--note"))]
        return Strip(segments)

    def render_line(self, y: int) -> Strip:
        scroll_x, scroll_y = self.scroll_offset
        width = self.scrollable_content_region.width
        number = scroll_y + y
        base = self.rich_style
        if self._line is None or number >= self._count:
            return Strip.blank(width, base)
        strip = self._cache.get(number)
        if strip is None:
            if len(self._cache) > 512:
                self._cache.clear()
            strip = self._strip(number)
            self._cache[number] = strip
        return strip.crop_extend(scroll_x, scroll_x + width, base)
