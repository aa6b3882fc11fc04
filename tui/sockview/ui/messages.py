"""Messages from the worker threads to the app.

The fetch's listener runs on the worker thread and does nothing but post these:
`post_message` is thread-safe, and the recv loop never waits for the UI. Each message
names the fetch it belongs to, so that the app can drop what a cancelled fetch still
says after a new one has started.
"""

from __future__ import annotations

from textual.message import Message

from sockview.core.events import Event
from sockview.core.save import Saved


class FetchUpdate(Message):
    """One event of fetch number `fetch_id`.

    Row events are `ChunksReceived` ranges (one per 20 ms at most), so a fast link
    posts about fifty of these a second however many recvs it makes. They are never
    replaced or dropped: the table counts its rows from them.
    """

    def __init__(self, fetch_id: int, event: Event) -> None:
        super().__init__()
        self.fetch_id = fetch_id
        self.event = event


class SaveDone(Message):
    """A save (`s`, the save dialog) or a recording (`e`, --record) ended: `saved`, or
    `error` for the user."""

    def __init__(
        self, saved: Saved | None, error: str | None = None, run_file: bool = False
    ) -> None:
        super().__init__()
        self.saved = saved
        self.error = error
        self.run_file = run_file
        """True for a run file, False for a body."""
