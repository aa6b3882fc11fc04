"""The settings screen (`o`): what the next fetch uses, edited in the app.

The fields are read as typed and checked by `Settings.edit`, which changes nothing
unless all of them are valid; the screen then closes and the status line shows them.
"""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Checkbox, Input, Label, Select, Static, TextArea

from sockview.core.request import METHODS, RequestStyle
from sockview.settings import STYLE_WORDS, Settings


class SettingsScreen(ModalScreen[bool]):
    """Bufsize, request, method, headers, TLS check and delay; dismissed with True when
    the settings were changed."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "close", "Cancel", tooltip="Leave the settings as they were"),
        Binding("ctrl+s", "apply", "Apply", tooltip="Use these for the next fetch"),
    ]

    DEFAULT_CSS = """
    SettingsScreen {
        align: center middle;
        & > VerticalScroll {
            width: 90%;
            max-width: 76;
            height: auto;
            max-height: 95%;
            border: round $primary;
            border-title-color: $text-primary;
            background: $surface;
            padding: 0 1;
        }
        & Horizontal {
            height: auto;
        }
        & Label {
            width: 18;
            padding: 0 1 0 0;
        }
        & Input, & Select {
            width: 1fr;
        }
        & TextArea {
            height: 4;
            width: 1fr;
        }
        & #settings-error {
            color: $error;
            height: auto;
        }
        & #settings-buttons {
            align-horizontal: right;
        }
    }
    """

    def __init__(self, settings: Settings) -> None:
        super().__init__()
        self.settings = settings

    def compose(self) -> ComposeResult:
        options = self.settings.options
        with VerticalScroll() as box:
            box.border_title = "Settings for the next fetch"
            box.border_subtitle = "^s: apply · Escape: cancel"
            with Horizontal():
                yield Label("bufsize")
                yield Input(str(options.bufsize), id="bufsize", compact=True)
            with Horizontal():
                yield Label("request")
                yield Select(
                    [(words, style) for style, words in STYLE_WORDS.items()],
                    value=options.style,
                    allow_blank=False,
                    id="style",
                    compact=True,
                )
            with Horizontal():
                yield Label("method")
                yield Select(
                    [(method, method) for method in METHODS],
                    value=options.method,
                    allow_blank=False,
                    id="method",
                    compact=True,
                )
            with Horizontal():
                yield Label("headers")
                yield TextArea(
                    "\n".join(f"{name}: {value}" for name, value in options.headers),
                    id="headers",
                    placeholder="Name: value, one a line",
                    compact=True,
                )
            with Horizontal():
                yield Label("TLS")
                yield Checkbox(
                    "verify certificates", not options.insecure, id="verify", compact=True
                )
            with Horizontal():
                yield Label("delay (s)")
                yield Input(f"{self.settings.delay.seconds:g}", id="delay", compact=True)
            yield Static(id="settings-error", markup=False)
            with Horizontal(id="settings-buttons"):
                yield Button("Apply", variant="primary", id="apply", compact=True)
                yield Button("Cancel", id="cancel", compact=True)

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "apply":
            self.action_apply()
        else:
            self.action_close()

    def on_input_submitted(self) -> None:
        self.action_apply()

    def action_apply(self) -> None:
        style = self.query_one("#style", Select).value
        method = self.query_one("#method", Select).value
        assert isinstance(style, RequestStyle) and isinstance(method, str)
        error = self.settings.edit(
            bufsize=self.query_one("#bufsize", Input).value.strip(),
            style=style,
            method=method,
            headers=self.query_one("#headers", TextArea).text,
            verify=self.query_one("#verify", Checkbox).value,
            delay=self.query_one("#delay", Input).value.strip(),
        )
        if error is not None:
            self.query_one("#settings-error", Static).update(error)
            return
        self.dismiss(True)

    def action_close(self) -> None:
        self.dismiss(False)
