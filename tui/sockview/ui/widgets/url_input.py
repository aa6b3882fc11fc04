"""The URL input at the top of the app."""

from __future__ import annotations

from typing import ClassVar

from textual.binding import Binding, BindingType
from textual.widgets import Input


class UrlInput(Input):
    """Where the user types a URL; Enter fetches it; ↑ and ↓ go through this session's URLs.

    While it has the focus, Textual hides the app's letter keys (they type here), so its
    own bindings keep the footer useful: how to fetch, how to get out, how to quit.
    """

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.history: list[str] = []
        """URLs fetched in this session, oldest first, each once (at its latest place)."""
        self._recalled: int | None = None
        """The history index shown now; None while showing what the user typed."""
        self._typed = ""

    def remember(self, url: str) -> None:
        """Add `url` to the history (moved to the end if it was there)."""
        if url in self.history:
            self.history.remove(url)
        self.history.append(url)
        self._recalled = None

    def action_history_back(self) -> None:
        if not self.history:
            return
        if self._recalled is None:
            self._typed = self.value
            self._recalled = len(self.history)
        self._recalled = max(0, self._recalled - 1)
        self._show(self.history[self._recalled])

    def action_history_forward(self) -> None:
        if self._recalled is None:
            return
        self._recalled += 1
        if self._recalled >= len(self.history):
            self._recalled = None
            self._show(self._typed)
        else:
            self._show(self.history[self._recalled])

    def _show(self, value: str) -> None:
        self.value = value
        self.cursor_position = len(value)

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("up", "history_back", "Earlier URL", show=False, id="url-history-back"),
        Binding("down", "history_forward", "Later URL", show=False, id="url-history-forward"),
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
