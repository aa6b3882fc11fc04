"""The status line: the fetch's state, bytes, rate, progress, delay and bufsize."""

from __future__ import annotations

from dataclasses import dataclass

from rich.text import Text
from textual.widgets import Static

from sockview.core.text import visible

STATE_MARKS = {
    "idle": ("○", "dim"),
    "connecting": ("◌", "bold yellow"),
    "receiving": ("●", "bold yellow"),
    "done": ("✔", "bold green"),
    "failed": ("✖", "bold red"),
    "cancelled": ("■", "bold blue"),
}

WARNING = "bold yellow"
"""A fetch that ended well with an error response (4xx, 5xx)."""


@dataclass(frozen=True, slots=True)
class FetchStatus:
    """What the status line shows; the app builds one per refresh."""

    state: str
    """idle, connecting, receiving, done, failed or cancelled."""
    total: int = 0
    """Raw bytes received, header included."""
    recvs: int = 0
    body_bytes: int = 0
    content_length: int | None = None
    rate: float | None = None
    """Bytes a second, or None when there is nothing to measure yet."""
    quiet: int | None = None
    """Whole seconds since the last recv brought data, once the server has gone quiet."""
    settings: str = ""
    """`Settings.describe()`: the delay, the bufsize and what differs from the defaults."""
    redirect: str | None = None
    """`302 → /other (f: follow)` when the response is a redirect."""
    reason: str | None = None
    """Why the fetch failed: server text, shown literally."""
    replay: str | None = None
    """What is being replayed (the file and when it was recorded), for a replay."""
    http_status: int | None = None
    """The response's status code, once its head has arrived."""
    http_reason: str = ""
    """The response's reason phrase: server text, shown literally."""
    window_closed: bool = False
    """The last kernel sample saw a receive window of 0."""
    rcvbuf: int | None = None
    """SO_RCVBUF asked for the next fetch; None for the system's default."""


def human_bytes(count: float) -> str:
    """1536 -> '1.5 kB' (decimal units, as network rates go)."""
    for unit in ("B", "kB", "MB", "GB"):
        if abs(count) < 1000 or unit == "GB":
            return f"{count:.0f} {unit}" if unit == "B" else f"{count:.1f} {unit}"
        count /= 1000
    raise AssertionError("unreachable")


def status_text(status: FetchStatus) -> Text:
    mark, style = STATE_MARKS.get(status.state, ("?", ""))
    text = Text()
    if status.replay:
        text.append(visible(status.replay), style="bold cyan")
        text.append("\n")
    answered_error = status.http_status is not None and status.http_status >= 400
    if status.state == "done" and answered_error:
        # Done, but not with the file asked for: the status code says so, in a warning colour.
        text.append(f"{mark} {status.state}", style=WARNING)
        text.append(f" · {status.http_status} {visible(status.http_reason)}".rstrip(), WARNING)
    else:
        text.append(f"{mark} {status.state}", style=style)
    if status.redirect:
        text.append(" · ")
        text.append(visible(status.redirect), style="bold cyan")
    if status.state != "idle" or status.recvs:
        recvs = "recv" if status.recvs == 1 else "recvs"
        text.append(f" · {status.total:,} B in {status.recvs:,} {recvs}")
        if status.content_length:
            share = min(100.0, 100.0 * status.body_bytes / status.content_length)
            text.append(f" · body {share:.0f}% of {status.content_length:,}")
        elif status.body_bytes:
            text.append(f" · body {status.body_bytes:,}")
        if status.quiet is not None:
            # The rate of the last second would stay frozen at its last value.
            text.append(f" · no data for {status.quiet} s", style="bold yellow")
        elif status.rate is not None:
            text.append(f" · {human_bytes(status.rate)}/s")
        if status.window_closed and status.state == "receiving":
            text.append(" · receive buffer full: the sender is waiting for us", style="bold red")
    if status.settings:
        settings = Text(f" · {status.settings}")
        settings.highlight_regex(r"delay: on[^·]*", "bold magenta")
        settings.highlight_regex(r"TLS not verified", "bold red")
        text.append_text(settings)
    if status.rcvbuf is not None:
        text.append(f" · rcvbuf {status.rcvbuf}")
    if status.state == "failed" and status.reason:
        # On a line of its own: it is the one thing the user must read.
        text.append("\n")
        text.append(visible(status.reason), style="red")
    return text


class StatusBar(Static):
    """One or two lines at the bottom, above the footer."""

    _lines = 0

    DEFAULT_CSS = """
    StatusBar {
        height: auto;
        padding: 0 1;
        background: $panel;
    }
    """

    def show_status(self, status: FetchStatus) -> None:
        text = status_text(status)
        # A new layout only when the text needs another number of lines: the status
        # changes on every redraw, and a layout pass is the dearest part of a frame.
        width = max(1, self.content_region.width)
        lines = sum(max(1, -(-line.cell_len // width)) for line in text.split("\n"))
        self.update(text, layout=lines != self._lines)
        self._lines = lines
