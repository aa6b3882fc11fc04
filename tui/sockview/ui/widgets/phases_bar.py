"""The phases bar: how long the lookup, connect, TLS, request, wait, header and body took,
as one proportional bar (in the manner of httpstat), and the connection under it."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Static

from sockview.core.run import Run
from sockview.core.text import visible

PHASE_COLOURS = {
    "dns": "cyan",
    "connect": "green",
    "tls": "magenta",
    "request": "blue",
    "first byte": "yellow",
    "header": "red",
    "transfer": "bright_green",
}


def phases_text(
    run: Run | None, width: int, masks: dict[str, str] | None = None, rows: int | None = None
) -> Text:
    """Three lines: the bar, the phases with their times, the connection."""
    text = Text(no_wrap=True, overflow="ellipsis")
    if run is None:
        text.append("no fetch yet: the phases and the connection show here", style="dim")
        return text
    # While the body comes, its phase runs to the last recv shown.
    phases, times = run.phases, run.log.times_ns
    rows = len(times) if rows is None else rows
    until = None
    if phases.recv_origin_ns is not None and rows and run.state.running:
        until = phases.recv_origin_ns + times[rows - 1]
    steps = phases.steps(full=True, until_ns=until)
    known = [(name, ms) for name, ms in steps if ms is not None]
    total = sum(ms for _, ms in known)
    if known and total > 0:
        # Every phase that happened gets a cell at least; the rest share by time.
        spare = max(0, width - len(known))
        cells = [1 + int(spare * ms / total) for _, ms in known]
        for (name, _), count in zip(known, cells, strict=True):
            label = name if len(name) + 2 <= count else ""
            text.append(label.center(count), style=f"black on {PHASE_COLOURS[name]}")
    elif run.replayed:
        text.append("this run file holds no phases", style="dim")
    else:
        text.append("waiting for the connection", style="dim")
    text.append("\n")
    # The full list where it fits, else the summary's five, else without colour marks.
    five = phases.steps(until_ns=until)
    for shown, marks in ((steps, True), (five, True), (five, False)):
        line = " · ".join(("█ " if marks else "") + _step(name, ms) for name, ms in shown)
        if len(line) <= width:
            break
    for position, (name, ms) in enumerate(shown):
        if position:
            text.append(" · ")
        if marks:
            text.append("█ ", style=PHASE_COLOURS[name])
        text.append(_step(name, ms), style=PHASE_COLOURS[name] if not marks else "")
    text.append("\n")
    connection = run.connection_line()
    for old, new in (masks or {}).items():
        connection = connection.replace(old, new)
    text.append(visible(connection), style="dim")
    return text


def _step(name: str, ms: float | None) -> str:
    return f"{name} —" if ms is None else f"{name} {ms:.1f} ms"


class PhasesBar(Static):
    """The phases of the current run, and its connection; `show` redraws it."""

    DEFAULT_CSS = """
    PhasesBar {
        text-wrap: nowrap;
        text-overflow: ellipsis;
        height: 3;
        padding: 0 1;
    }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.run: Run | None = None
        self.rows: int | None = None
        self.masks: dict[str, str] = {}
        """Text to replace when shown: the snapshot tests hide ports chosen at random."""
        self._shown: Text | None = None

    def show(self, run: Run | None, rows: int | None = None) -> None:
        self.run, self.rows = run, rows
        text = phases_text(run, max(1, self.content_region.width), self.masks, rows)
        if self._shown is None or text.plain != self._shown.plain:
            self._shown = text
            self.update(text)

    def on_resize(self) -> None:
        self._shown = None
        self.show(self.run, self.rows)
