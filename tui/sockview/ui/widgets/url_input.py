"""The URL input at the top of the app."""

from __future__ import annotations

from typing import ClassVar

from textual.binding import Binding, BindingType
from textual.widgets import Input


class UrlInput(Input):
    """Where the user types a URL; Enter fetches it.

    While it has the focus, Textual hides the app's letter keys (they type here), so its
    own bindings keep the footer useful: how to fetch, how to get out, how to quit.
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "submit", "Fetch", tooltip="Fetch this URL", id="url-fetch"),
        Binding(
            "escape",
            "app.leave_url",
            "Table",
            tooltip="Back to the recv table, where the letter keys work",
            id="url-leave",
        ),
        Binding(
            "f1", "app.help", "Help", tooltip="The keys, and what the screen shows", id="url-help"
        ),
        Binding(
            "ctrl+q",
            "app.quit_app",
            "Quit",
            tooltip="Leave sockview",
            id="url-quit",
            priority=True,
        ),
    ]
