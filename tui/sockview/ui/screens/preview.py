"""The body preview: a picture in colour half blocks, text with syntax colours, or hex.

The body is read (at most 64 MiB), sniffed, decoded and drawn into lines on a worker
thread; the UI thread only shows the lines. A new size (a resized terminal) draws again.
Text from the server is shown as text, never as markup, with control characters escaped.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import ClassVar

from rich.console import Console, RenderableType
from rich.syntax import Syntax
from rich.text import Text
from rich_pixels import Pixels
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.message import Message
from textual.screen import Screen
from textual.strip import Strip
from textual.widgets import Static
from textual.worker import get_current_worker

from sockview.core.body import ReadableBody
from sockview.core.hexdump import StreamLayout, hex_line, line_count
from sockview.core.preview import (
    MAX_HEX,
    MAX_READ,
    SNIFF_BYTES,
    BodyKind,
    NotAPicture,
    Picture,
    decode_picture,
    prepare_text,
    sniff,
)
from sockview.core.run import Run
from sockview.core.text import visible
from sockview.ui.widgets.hex_view import HexView
from sockview.ui.widgets.key_footer import KeyFooter
from sockview.ui.widgets.strip_view import StripView

SYNTAX_THEME = "monokai"


@dataclass
class Prepared:
    """What the worker made: a title, a note, and lines or hex to show."""

    title: str
    kind: BodyKind | None = None
    note: str = ""
    problem: str = ""
    """One line: why the body is not shown as what it claims to be."""
    lines: list[Strip] | None = None
    hex_data: bytes | None = None
    picture: Picture | None = None


class PreviewScreen(Screen[None]):
    """The body of `run`, as a picture, text or hex."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,b", "close", "Close", tooltip="Back to the recv table", id="preview-close"),
    ]

    DEFAULT_CSS = """
    PreviewScreen {
        & > #preview-title {
            height: auto;
            padding: 0 1;
            background: $panel;
            text-style: bold;
        }
        & > #preview-note {
            height: auto;
            padding: 0 1;
            color: $text-muted;
        }
        & > #preview-problem {
            height: auto;
            padding: 0 1;
            color: $text-error;
            display: none;
        }
        & > StripView, & > HexView {
            height: 1fr;
            border: round $primary;
        }
        & > HexView {
            display: none;
        }
    }
    """

    class Ready(Message):
        def __init__(self, prepared: Prepared) -> None:
            super().__init__()
            self.prepared = prepared

    def __init__(self, run: Run) -> None:
        super().__init__()
        self.run = run
        self.prepared: Prepared | None = None
        """What is shown; None while the worker is still at it."""
        self._drawn_for: tuple[int, int] | None = None

    def compose(self) -> ComposeResult:
        yield Static(Text("Reading the body..."), id="preview-title", markup=False)
        yield Static(id="preview-note", markup=False)
        yield Static(id="preview-problem", markup=False)
        yield StripView(id="preview-lines")
        yield HexView(id="preview-hex")
        yield KeyFooter()

    def on_mount(self) -> None:
        self.query_one(StripView).focus()

    def on_resize(self) -> None:
        self.call_after_refresh(self._redraw)

    def _redraw(self) -> None:
        region = self.query_one(StripView).scrollable_content_region
        size = (max(region.width - 1, 1), max(region.height, 1))
        if size != self._drawn_for:
            self._drawn_for = size
            self._prepare(*size)

    @work(thread=True, exclusive=True, group="preview", exit_on_error=False)
    def _prepare(self, columns: int, rows: int) -> None:
        try:
            prepared = prepare(self.run, columns, rows)
        except Exception as exc:  # a bug here must not leave the screen "reading"
            prepared = Prepared("The body could not be shown", problem=f"internal error: {exc!r}")
        if not get_current_worker().is_cancelled:
            self.post_message(self.Ready(prepared))

    def on_preview_screen_ready(self, message: PreviewScreen.Ready) -> None:
        prepared = self.prepared = message.prepared
        self.query_one("#preview-title", Static).update(Text(prepared.title))
        note = self.query_one("#preview-note", Static)
        note.update(Text(prepared.note))
        note.display = bool(prepared.note)
        problem = self.query_one("#preview-problem", Static)
        problem.update(Text(prepared.problem))
        problem.display = bool(prepared.problem)
        lines, hexes = self.query_one(StripView), self.query_one(HexView)
        if prepared.hex_data is not None:
            data = prepared.hex_data
            layout = StreamLayout(body_offset=0)
            hexes.show(
                lambda number: hex_line(data, number * 16, 0, layout),
                line_count(len(data)),
                len(data),
            )
            hexes.display, lines.display = True, False
            hexes.focus()
        else:
            lines.show(prepared.lines or [])
            lines.display, hexes.display = True, False

    def action_close(self) -> None:
        self.dismiss(None)


def _to_lines(renderable: RenderableType, columns: int) -> list[Strip]:
    """Draw `renderable` into lines `columns` wide; on the worker, so the UI need not."""
    console = Console(
        width=columns,
        file=io.StringIO(),
        force_terminal=True,
        color_system="truecolor",
        legacy_windows=False,
        markup=False,
        emoji=False,
        highlight=False,
    )
    options = console.options.update_width(columns)
    return [Strip(line) for line in console.render_lines(renderable, options, pad=False)]


def _size(count: int) -> str:
    return f"{count:,} byte" + ("" if count == 1 else "s")


def prepare(run: Run, columns: int, rows: int) -> Prepared:
    """Read, sniff, decode and draw the body of `run` for `columns` x `rows` cells."""
    body = run.body
    media = visible(run.content_type or "no Content-Type")
    if not isinstance(body, ReadableBody):
        return Prepared(f"Body: {media}", problem="The body was not kept: nothing to show.")
    size = body.size
    complete = run.complete
    title = f"Body: {media}, {_size(size)}"
    if not complete:
        title += " (incomplete)" if run.state.done else " so far"
    if size == 0:
        return Prepared(title, note="The body is empty.", lines=[])
    data = body.read(0, min(size, MAX_READ))
    sniffed = sniff(run.content_type, data[:SNIFF_BYTES])
    if sniffed.kind is BodyKind.PICTURE:
        result = decode_picture(data, sniffed, columns, rows, size=size, complete=complete)
        if isinstance(result, NotAPicture):
            return Prepared(
                title,
                BodyKind.PICTURE,
                note=f"The first {_size(min(len(data), MAX_HEX))} as hex:",
                problem=result.reason,
                hex_data=data[:MAX_HEX],
            )
        title += f" · {result.format} {result.width} x {result.height}"
        lines = _to_lines(Pixels.from_image(result.image), columns)
        return Prepared(title, BodyKind.PICTURE, note=result.note, lines=lines, picture=result)
    if sniffed.kind is BodyKind.TEXT:
        text = prepare_text(data, sniffed, size=size, complete=complete)
        renderable: RenderableType
        if text.lexer is not None:
            renderable = Syntax(
                text.text,
                text.lexer,
                theme=SYNTAX_THEME,
                word_wrap=True,
                background_color="default",
            ).highlight(text.text)
        else:
            renderable = Text(text.text)
        what = text.lexer.upper() if text.lexer else "text"
        note = f"Shown as {what}" + (" (by its first bytes)" if sniffed.by_bytes else "")
        if text.note:
            note += f"; {text.note}"
        return Prepared(title, BodyKind.TEXT, note=note, lines=_to_lines(renderable, columns))
    shown = min(len(data), MAX_HEX)
    note = "Neither a picture nor text: shown as hex"
    if shown < size:
        note += f", the first {_size(shown)} of {size:,}"
    return Prepared(title, BodyKind.BINARY, note=note, hex_data=data[:MAX_HEX])
