"""The inspector: exactly the bytes that one recv returned, as a hex dump.

It reads that recv's bytes only (`Run.raw_bytes`), so any row of a run of a million
opens at once. Left and right step to the previous and next recv; Escape closes.
It lives in the main screen, hidden until a row is opened, and then shows in place of
the main view: a screen switch cost Textual some 70 ms in tmux (three layout passes and
a restyle of the whole app), this a fraction of it (bench goal 13).
"""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.message import Message
from textual.widgets import Static

from sockview.core.hexdump import RecvDump, RunBytes, line_count
from sockview.core.run import Run
from sockview.ui.widgets.hex_view import HexView
from sockview.ui.widgets.key_footer import FixedFooter


class Inspector(Vertical):
    """One recv of `run` at a time, starting at recv `index`; hidden until `inspect`."""

    class Closed(Message):
        """Escape: the inspector wants to be hidden again."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "close", "Close", tooltip="Back to the recv table", id="inspect-close"),
        # Priority: the hex view would take left and right to scroll sideways.
        Binding(
            "left",
            "step(-1)",
            "Previous",
            tooltip="The previous recv",
            id="inspect-prev",
            priority=True,
        ),
        Binding(
            "right", "step(1)", "Next", tooltip="The next recv", id="inspect-next", priority=True
        ),
    ]

    DEFAULT_CSS = """
    Inspector {
        display: none;
        height: 1fr;
        & > #inspect-title {
            height: auto;
            padding: 0 1;
            background: $panel;
            text-style: bold;
        }
        & > #inspect-note {
            height: auto;
            padding: 0 1;
            color: $text-muted;
        }
        & > HexView {
            height: 1fr;
            border: round $primary;
        }
    }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.run: Run | None = None
        self.reader: RunBytes | None = None
        self.index = 0
        """The recv shown."""
        self.dump: RecvDump | None = None

    @property
    def data(self) -> bytes | None:
        """The bytes shown: what recv `index` returned; None if they were not kept."""
        return self.dump.data if self.dump is not None else None

    def compose(self) -> ComposeResult:
        yield Static(id="inspect-title", markup=False)
        yield Static(id="inspect-note", markup=False)
        yield HexView(id="inspect-hex")
        by_id = {binding.id: binding for binding in self.BINDINGS if isinstance(binding, Binding)}
        quit_key = [b for b in self.app.BINDINGS if isinstance(b, Binding) and b.id == "quit"]
        keys = [by_id["inspect-prev"], by_id["inspect-next"], by_id["inspect-close"], *quit_key]
        yield FixedFooter(keys, id="inspect-keys")

    def inspect(self, run: Run, index: int) -> None:
        """Show recv `index` of `run`, and take the focus (the app shows the widget)."""
        if run is not self.run or self.reader is None:
            self.run, self.reader = run, RunBytes(run)
        self.show_recv(index)
        self.query_one(HexView).focus()

    def show_recv(self, index: int) -> None:
        if self.run is None or self.reader is None:
            return
        rows = len(self.run.log)
        self.index = max(0, min(index, rows - 1))
        dump = self.dump = self.reader.recv(self.index)
        record = self.run.log[self.index]
        title = (
            f"recv {self.index} of {rows}: {record.size:,} bytes,"
            f" stream bytes {dump.start:,} to {dump.stop - 1:,}, at {record.time_ns / 1e6:.3f} ms"
        )
        self.query_one("#inspect-title", Static).update(Text(title))
        view = self.query_one(HexView)
        if dump.data is None:
            note = Text(
                "The bytes of this recv were not kept: this run recorded sizes and times only."
            )
            view.show(None, 0, dump.stop)
        else:
            note = self._legend()
            if len(dump.data) < dump.size:
                note = Text(
                    f"Only {len(dump.data):,} of these {dump.size:,} bytes are stored yet:"
                    " the rest are still in the receive buffer; press → and ← to look again."
                )
            view.show(dump.line, line_count(len(dump.data)), dump.stop)
        self.query_one("#inspect-note", Static).update(note)
        view.border_title = f"recv {self.index}"
        view.border_subtitle = "←/→ another recv · PgUp/PgDn page · Esc back"

    def _legend(self) -> Text:
        """What the colours mean, in those colours."""
        view = self.query_one(HexView)
        return Text.assemble(
            ("head", view.get_component_rich_style("hex-view--head")),
            " · ",
            ("body", view.get_component_rich_style("hex-view--body")),
            " · ",
            ("chunk framing", view.get_component_rich_style("hex-view--framing")),
            " · ← is CR (\\r), ↓ is LF (\\n), . any other byte that does not print ·"
            " offsets count from the first byte received",
        )

    def action_step(self, step: int) -> None:
        self.show_recv(self.index + step)

    def action_close(self) -> None:
        self.post_message(self.Closed())
