"""The compare view: runs side by side, their figures, histograms and sparklines."""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical, VerticalScroll
from textual.screen import Screen
from textual.widgets import Footer, Label, Sparkline, Static

from sockview.core.compare import RunFigures, figures, sparkline_points
from sockview.core.run import Run
from sockview.core.text import visible

SPARK_POINTS = 120
"""Points of each sparkline on the shared time axis (the widget scales them to its width)."""
BAR = 24
"""Cells of the longest histogram bar."""


def run_label(run: Run, number: int | None = None) -> str:
    """A short name for a run: its file, or its number in this session."""
    if run.recorded_from:
        return Path(run.recorded_from).name
    return f"run {number}" if number is not None else "run"


def figures_table(rows: list[RunFigures]) -> Table:
    """One column per run, one row per figure; the histogram as bars."""
    table = Table(box=None, pad_edge=False, header_style="bold")
    table.add_column("")
    for row in rows:
        table.add_column(Text(visible(row.label)), justify="right")

    def line(name: str, cells: list[str]) -> None:
        table.add_row(name, *[Text(cell) for cell in cells])

    line("delay", [row.delay for row in rows])
    line("bufsize", [f"{row.bufsize:,}" for row in rows])
    line("recvs", [f"{row.recvs:,}" for row in rows])
    line("bytes", [f"{row.total:,}" for row in rows])
    line("duration", [f"{row.duration:.3f} s" for row in rows])
    line("rate", [_rate(row.rate) for row in rows])
    line("mean recv", [f"{row.mean_size:,.0f} B" for row in rows])
    line("median recv", [f"{row.median_size:,.0f} B" for row in rows])
    table.add_row(
        "full recvs", *[Text(f"{row.full_share:.0%}", style="bold green") for row in rows]
    )
    bins = len(rows[0].histogram) if rows else 0
    for index in range(bins):
        cells = []
        for row in rows:
            most = max(max(row.histogram), 1)
            count = row.histogram[index]
            full = index == bins - 1
            bar = "█" * round(BAR * count / most) or ("▏" if count else "")
            cells.append(Text(f"{bar} {count:,}", style="green" if full else "yellow"))
        high = (index + 1) * rows[0].bufsize // bins
        low = index * rows[0].bufsize // bins + 1
        table.add_row(f"{low:,}-{high:,} B", *cells)
    return table


def _rate(rate: float | None) -> str:
    return "-" if rate is None else f"{rate / 1e6:,.2f} MB/s"


class CompareScreen(Screen[None]):
    """Two or more runs side by side; the lesson is the delay off and on."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q", "app.pop_screen", "Back", tooltip="Back to the recv table", id="back"),
    ]

    DEFAULT_CSS = """
    CompareScreen { layout: vertical; }
    CompareScreen #figures { padding: 0 1; height: auto; }
    CompareScreen .lane { height: 3; padding: 0 1; }
    CompareScreen .lane Label { width: 16; }
    CompareScreen .lane Sparkline { width: 1fr; }
    CompareScreen #axis { padding: 0 1; color: $text-muted; }
    """

    def __init__(self, runs: list[Run], labels: list[str] | None = None) -> None:
        super().__init__()
        self.runs = runs
        self.labels = labels or [run_label(run, n + 1) for n, run in enumerate(runs)]
        self.rows = [figures(run, label) for run, label in zip(runs, self.labels, strict=True)]

    def compose(self) -> ComposeResult:
        with VerticalScroll():
            yield Static(
                Text("Compare: the same figures for each run, side by side", style="bold"),
                id="title",
            )
            yield Static(figures_table(self.rows), id="figures")
            span = max((run.log.times_ns[-1] for run in self.runs if len(run.log)), default=0)
            yield Static(
                Text(f"bytes received over time, one axis for all: 0 to {span / 1e9:.3f} s"),
                id="axis",
            )
            for label, run in zip(self.labels, self.runs, strict=True):
                with Vertical(classes="lane"):
                    yield Label(Text(visible(label)))
                    yield Sparkline(sparkline_points(run, span, SPARK_POINTS))
        yield Footer()
