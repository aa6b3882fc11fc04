"""The kernel panel: bytes queued, the receive window and the rate over time, and the
sender's lane when the server is our demo, one line each, downsampled to the width.

Never one point per recv: a fast fetch makes 200,000 recvs, and drawing them cost a
second a frame. The time since the connect is cut into as many columns as there are
cells; each column shows the most queued, the smallest window, the rate and the share
of time the sender was blocked within it. The app redraws it at its bounded rate.
"""

from __future__ import annotations

import bisect
import time

from rich.text import Text
from textual.widgets import Static

from sockview.core.kernel import ABSENT
from sockview.core.run import Run, SenderStats

BLOCKS = " ▁▂▃▄▅▆▇█"
LABEL_WIDTH = len("window ")
VALUE_WIDTH = len(" 1,048,576 B")


def human(count: float) -> str:
    return f"{count:,.0f} B" if count < 10_000_000 else f"{count / 1e6:,.1f} MB"


def rate_text(rate: float) -> str:
    return f"{rate / 1e6:.1f} MB/s" if rate >= 1e6 else f"{rate / 1e3:.1f} kB/s"


def _bar(levels: list[float | None], style: str, zero: str | None = None) -> Text:
    """A lane: one block per column, `level` from 0 to 1; None for a column without data;
    `zero`, if given, is the style of a low red bar for a level of exactly 0."""
    text = Text()
    for level in levels:
        if level is None:
            text.append("·", style="dim")
        elif level == 0 and zero is not None:
            text.append("▁", style=zero)
        else:
            text.append(BLOCKS[min(8, max(1 if level > 0 else 0, round(level * 8)))], style=style)
    return text


def _carry(levels: list[float | None]) -> None:
    last: float | None = None
    for column, level in enumerate(levels):
        if level is None:
            levels[column] = last
        else:
            last = level


def _blocked_spans(sender: SenderStats, now: int) -> list[tuple[int, int]]:
    """The waits of the sender's `send`, as (began, ended) in `perf_counter_ns`.

    The history notes its figures when a wait begins and when it ends, so a rise of
    `blocked_at` between two notes is a wait that ended at the second one.
    """
    marks, blocked = sender.times_ns, sender.blocked_at
    count = len(marks)
    spans = []
    for i in range(1, count):
        rise = blocked[i] - blocked[i - 1]
        if rise > 0:
            spans.append((marks[i] - rise, marks[i]))
    if sender.blocked_since_ns is not None:
        spans.append((sender.blocked_since_ns, now))
    return spans


class KernelPlot(Static):
    """Queue, window, rate and sender lanes of one run; `show(run, rows)` redraws."""

    DEFAULT_CSS = """
    KernelPlot {
        text-wrap: nowrap;
        text-overflow: ellipsis;
        height: auto;
        padding: 0 1;
        border: round $secondary 60%;
        border-title-color: $text-secondary;
    }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.border_title = "kernel · queued, window, rate · sender"
        self.run: Run | None = None
        self.rows = 0
        self._key: tuple[object, ...] | None = None

    def show(self, run: Run | None, rows: int) -> None:
        self.run, self.rows = run, rows
        width = max(1, self.content_region.width)
        sender = run.sender if run is not None else None
        key = (
            id(run),
            id(run.kernel) if run is not None else 0,
            rows,
            len(run.kernel) if run is not None else 0,
            width,
            None if sender is None else (len(sender.times_ns), sender.blocked_since_ns is None),
        )
        if key == self._key:
            return
        self._key = key
        self.update(self.render_lanes(width))
        if sender is None:
            self.border_subtitle = ""
        else:
            blocked = sender.blocked_until(time.perf_counter_ns()) / 1e9
            waiting = " · waiting now" if sender.blocked_since_ns is not None else ""
            self.border_subtitle = (
                f"server sent {human(sender.sent)} · send blocked {blocked:.1f} s{waiting}"
            )

    def redraw(self) -> None:
        """Draw again even if no figure it watches changed (the samples were rewritten)."""
        self._key = None
        self.show(self.run, self.rows)

    def on_resize(self) -> None:
        self.redraw()

    def render_lanes(self, width: int) -> Text:
        run, rows = self.run, self.rows
        text = Text(no_wrap=True, overflow="crop")
        if run is None:
            return text
        if run.kernel_note is not None:
            text.append(run.kernel_note, style="dim")
            return text
        if run.replayed and not len(run.kernel):
            text.append("this run file holds no kernel samples", style="dim")
            return text
        columns = max(1, width - LABEL_WIDTH - VALUE_WIDTH)
        times = run.log.times_ns
        span = times[rows - 1] if rows else 0
        kernel = run.kernel
        count = bisect.bisect_right(kernel.index, rows, 0, len(kernel))

        def column_of(index: int) -> int:
            at = times[min(index, rows - 1)] if rows else 0
            return min(columns - 1, int(at * columns / span)) if span > 0 else 0

        queued: list[float | None] = [None] * columns
        window: list[float | None] = [None] * columns
        for i in range(count):
            column = column_of(kernel.index[i])
            q, w = kernel.queued[i], kernel.rcv_wnd[i]
            if q != ABSENT:
                queued[column] = max(queued[column] or 0, q)
            if w != ABSENT:
                window[column] = w if window[column] is None else min(window[column] or 0, w)
        # The kernel's state holds between samples: a column without one keeps the last.
        _carry(queued)
        _carry(window)
        q_scale = max([run.rcvbuf or 1, *(q for q in queued if q is not None)])
        w_scale = max([1.0, *(w for w in window if w is not None)])
        last_q = kernel.queued[count - 1] if count else ABSENT
        last_w = kernel.rcv_wnd[count - 1] if count else ABSENT
        self._lane(text, "queued", [None if q is None else q / q_scale for q in queued], last_q)
        self._lane(text, "window", [None if w is None else w / w_scale for w in window], last_w)
        rates = self._rates(run, rows, columns, span)
        r_scale = max([1.0, *(r for r in rates if r is not None)])
        text.append("rate".ljust(LABEL_WIDTH), style="bold")
        text.append_text(_bar([None if r is None else r / r_scale for r in rates], "cyan"))
        live = run.rate(rows) if rows else None
        text.append(f" {rate_text(live)}" if live is not None else " —")
        if run.sender is not None:
            text.append("\n")
            self._sender_lane(text, run, rows, columns, span)
        return text

    def _lane(self, text: Text, name: str, levels: list[float | None], last: int) -> None:
        text.append(name.ljust(LABEL_WIDTH), style="bold")
        if name == "queued":
            text.append_text(_bar(levels, "green"))
        else:  # a closed window is the thing to see: a red floor, not a blank
            text.append_text(_bar(levels, "blue", zero="bold red"))
        text.append(" " + ("—" if last == ABSENT else human(last)))
        text.append("\n")

    @staticmethod
    def _rates(run: Run, rows: int, columns: int, span: int) -> list[float | None]:
        """Bytes a second within each column, from the running totals at its edges."""
        if rows < 2 or span <= 0:
            return [None] * columns
        times, totals = run.log.times_ns, run.log.totals
        rates: list[float | None] = []
        before = 0
        for column in range(columns):
            end_ns = span * (column + 1) // columns
            upto = bisect.bisect_right(times, end_ns, 0, rows)
            after = totals[upto - 1] if upto else 0
            rates.append((after - before) * columns * 1e9 / span)
            before = after
        return rates

    @staticmethod
    def _sender_lane(text: Text, run: Run, rows: int, columns: int, span: int) -> None:
        """Share of each column's time the sender was blocked in send (our demo only)."""
        text.append("server".ljust(LABEL_WIDTH), style="bold")
        sender = run.sender
        origin = run.clock_origin_ns
        recv_origin = run.phases.recv_origin_ns
        if sender is None or origin is None or recv_origin is None:
            text.append("the sender's side shows when the server is sockview's demo", style="dim")
            return
        start = origin + recv_origin  # the server's clock is perf_counter_ns too
        if span <= 0:
            text.append_text(_bar([None] * columns, "red"))
            return
        step = span / columns
        blocked = [0.0] * columns
        for began, ended in _blocked_spans(sender, time.perf_counter_ns()):
            # Spread each wait over the columns it overlaps, in the client's time.
            lo: float = max(began - start, 0)
            hi: float = min(ended - start, span)
            column = int(lo / step)
            while lo < hi and column < columns:
                edge = min(hi, (column + 1) * step)
                blocked[column] += edge - lo
                lo, column = edge, column + 1
        levels: list[float | None] = [min(1.0, b / step) for b in blocked]
        text.append_text(_bar(levels, "red"))
        text.append(f" {sender.blocked_until(time.perf_counter_ns()) / 1e9:.1f} s")
