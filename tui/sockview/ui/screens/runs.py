"""The runs of this session: pick two (or more) to compare, or one to record."""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Static

from sockview.core.body import DiscardBody
from sockview.core.compare import figures
from sockview.core.run import Run
from sockview.core.text import visible
from sockview.ui.screens.compare import CompareScreen, run_label


class RunsScreen(Screen[None]):
    """A table of this session's runs, newest last; space marks, Enter compares."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("space", "mark", "Mark", tooltip="Mark or unmark this run for compare", id="mark"),
        Binding("enter", "compare", "Compare", tooltip="Compare the marked runs", id="compare"),
        Binding("e", "record", "Record", tooltip="Write this run to a run file", id="record-run"),
        Binding("escape,q", "app.pop_screen", "Back", tooltip="Back to the recv table", id="back"),
    ]

    DEFAULT_CSS = """
    RunsScreen #hint { padding: 0 1; color: $text-muted; }
    """

    def __init__(self, runs: list[Run]) -> None:
        super().__init__()
        self.runs = list(runs)
        self.marked: list[int] = []

    def compose(self) -> ComposeResult:
        yield Static(
            "This session's runs (the last 20). Space marks two or more, Enter compares"
            " them; e records the run under the cursor.",
            id="hint",
        )
        yield DataTable(cursor_type="row", id="runs")
        yield Footer()

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        for column in ("", "#", "state", "URL", "delay", "recvs", "bytes", "full", "body"):
            table.add_column(column, key=column or "mark")
        for number, run in enumerate(self.runs, 1):
            row = figures(run)
            body = "dropped" if isinstance(run.body, DiscardBody) else f"{run.body.size:,}"
            table.add_row(
                "",
                str(number),
                str(run.state),
                Text(visible(run.target.url)),
                row.delay,
                f"{row.recvs:,}",
                f"{row.total:,}",
                f"{row.full_share:.0%}",
                body,
                key=str(number - 1),
            )
        if self.runs:
            table.move_cursor(row=len(self.runs) - 1)
        table.focus()

    def _current(self) -> int | None:
        table = self.query_one(DataTable)
        return table.cursor_row if self.runs else None

    def action_mark(self) -> None:
        index = self._current()
        if index is None:
            return
        if index in self.marked:
            self.marked.remove(index)
        else:
            self.marked.append(index)
        table = self.query_one(DataTable)
        table.update_cell(str(index), "mark", "✔" if index in self.marked else "")

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        # The table takes Enter for itself: it means "compare" here too.
        event.stop()
        self.action_compare()

    def action_compare(self) -> None:
        chosen = sorted(self.marked)
        if len(chosen) < 2:
            self.notify("Mark two runs or more with space, then press Enter.", markup=False)
            return
        runs = [self.runs[i] for i in chosen]
        labels = [run_label(self.runs[i], i + 1) for i in chosen]
        self.app.push_screen(CompareScreen(runs, labels))

    def action_record(self) -> None:
        index = self._current()
        if index is not None:
            record = getattr(self.app, "record_run", None)
            if record is not None:
                record(self.runs[index], getattr(self.app.settings, "record", None))  # type: ignore[attr-defined]
