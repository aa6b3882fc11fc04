"""The help screen (`?` or F1): the keys, and what the screen shows, for learners.

The keys are read from the app's bindings when the screen opens, so a key that another
part of the app adds appears here without an edit.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable
from pathlib import Path
from typing import Any, ClassVar

from rich.table import Table
from rich.text import Text
from textual.app import App, ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

import sockview

LEARN = (
    (
        "A row of the table",
        "one recv() call: the bytes the kernel handed over at that moment,"
        " at most bufsize (5120, the book's recv(5120)).",
    ),
    (
        "Why sizes vary",
        "recv() returns what has arrived, not what was asked. TCP brings the"
        " data in segments (about 1448 bytes on a real network), so a reader that keeps up"
        " gets whatever the last few segments held.",
    ),
    (
        "Why the delay fills them",
        "with the delay on (d), sockview sleeps after each recv;"
        " meanwhile the data waits in the kernel's receive buffer, so the next recv finds a"
        " whole bufsize: every bar of the sparkline turns full.",
    ),
    (
        "Header length",
        "the book's figure: where the blank line that ends the header"
        " starts. Then come that blank line's 4 bytes (\\r\\n\\r\\n), then the body:"
        " header length + 4 + body = the total (a chunked body adds its chunk framing).",
    ),
    (
        "time ms",
        "milliseconds from the moment the connection was up (TCP and TLS"
        " handshakes done) to the end of that recv.",
    ),
    (
        "The sparkline",
        "one column per recv, newest on the right: full ones filled the"
        " buffer, short ones returned less.",
    ),
    (
        "The status line",
        "the state (connecting, receiving, done, failed, cancelled),"
        " the raw bytes so far, the body's share, the rate, and the settings the next"
        " fetch uses.",
    ),
)


def readme_hint() -> str:
    """Where the README is: next to the source when it is there, else by name."""
    readme = Path(sockview.__file__).resolve().parents[2] / "README.md"
    if readme.is_file():
        return f"More in the README: {readme}"
    return "More in sockview's README (README.md in its source)."


def key_rows(app: App[Any], *sources: Iterable[BindingType]) -> list[tuple[str, str]]:
    """(keys, what they do) for each action bound in `sources` (BINDINGS lists), in
    their order."""
    rows: dict[str, tuple[list[str], str]] = {}
    for binding in Binding.make_bindings(itertools.chain(*sources)):
        if binding.system or binding.action.startswith("app."):
            continue
        keys, _ = rows.setdefault(binding.action, ([], binding.tooltip or binding.description))
        shown = app.get_key_display(binding)
        if shown not in keys:
            keys.append(shown)
    return [(", ".join(keys), what) for keys, what in rows.values()]


class HelpScreen(ModalScreen[None]):
    """The keys and a short guide; any of Escape, q, ? or F1 closes it."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q,question_mark,f1", "close", "Close", id="help-close"),
    ]

    DEFAULT_CSS = """
    HelpScreen {
        align: center middle;
        & > VerticalScroll {
            width: 90%;
            max-width: 100;
            height: 90%;
            border: round $primary;
            border-title-color: $text-primary;
            background: $surface;
            padding: 0 1;
        }
    }
    """

    def __init__(self, keys: list[tuple[str, str]]) -> None:
        super().__init__()
        self.keys = keys

    def compose(self) -> ComposeResult:
        with VerticalScroll() as scroll:
            scroll.border_title = "sockview · help"
            scroll.border_subtitle = "Escape: close"
            yield Static(self._keys_table(), id="help-keys")
            yield Static(self._guide(), id="help-guide")

    def _keys_table(self) -> Table:
        table = Table(
            box=None,
            expand=True,
            show_edge=False,
            pad_edge=False,
            padding=(0, 2, 0, 0),
        )
        table.add_column("key", style="bold", no_wrap=True)
        table.add_column("what it does", ratio=1)
        for keys, what in self.keys:
            table.add_row(Text(keys), Text(what))
        table.add_row(Text("^p"), Text("The command palette: every action and setting, by name"))
        table.add_row(
            Text("letters"), Text("They work when the recv table has the focus (u: URL input)")
        )
        return table

    def _guide(self) -> Text:
        text = Text("\nWhat am I looking at?\n", style="bold")
        for title, what in LEARN:
            text.append(f"{title}: ", style="bold")
            text.append(f"{what}\n")
        text.append(f"\n{readme_hint()}", style="dim")
        return text

    def action_close(self) -> None:
        self.dismiss(None)
