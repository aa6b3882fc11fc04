"""A small dialog that asks where to save the body."""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label


class SaveDialog(ModalScreen[str | None]):
    """Ask for a file or folder; dismisses with the path typed, or None on escape."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel", tooltip="Close without saving", id="save-cancel"),
    ]

    DEFAULT_CSS = """
    SaveDialog {
        align: center middle;
        & > Vertical {
            width: 70;
            max-width: 100%;
            height: auto;
            border: thick $primary 80%;
            background: $surface;
            padding: 0 1;
        }
        & Label {
            width: 100%;
        }
        & .hint {
            color: $text-muted;
        }
    }
    """

    def __init__(self, suggestion: str, note: str = "") -> None:
        super().__init__()
        self.suggestion = suggestion
        self.note = note

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label("Save the body to (a file or a folder):")
            yield Input(value=self.suggestion, id="save-path", select_on_focus=False)
            hint = "Enter saves · Escape closes · an existing file is never replaced"
            if self.note:
                hint = f"{self.note} · {hint}"
            yield Label(Text(hint), classes="hint")

    def on_mount(self) -> None:
        self.query_one(Vertical).border_title = "Save as"

    @on(Input.Submitted)
    def _submit(self, event: Input.Submitted) -> None:
        event.stop()
        self.dismiss(event.value.strip() or None)

    def action_cancel(self) -> None:
        self.dismiss(None)
