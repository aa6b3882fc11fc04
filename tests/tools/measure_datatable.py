"""Textual's DataTable against sockview's RecvTable, at a recv log's worth of rows.

Run: python tests/tools/measure_datatable.py [ROWS ...]   (not collected by pytest)

Prints, per row count: for DataTable, the time to add the rows one add_row call at a
time (as a naive app would, one per recv); for RecvTable, the time to fill a RecvLog and
show it. Then, for both, the time of a cursor jump to the bottom, to the top and one page
down, each measured as Pilot's key press plus the wait until the app is idle again (so
it includes Pilot's own overhead, the same for both).
"""

from __future__ import annotations

import asyncio
import sys
import time

from textual.app import App, ComposeResult
from textual.pilot import Pilot
from textual.widgets import DataTable

from sockview.core.records import RecvLog
from sockview.ui.widgets.recv_table import RecvTable


async def time_keys(pilot: Pilot[None]) -> list[tuple[str, float, float]]:
    """Wall and UI-thread CPU seconds of a jump to the bottom, to the top, and a page down."""
    timings = []
    for key in ("ctrl+end", "ctrl+home", "pagedown"):
        started, cpu = time.perf_counter(), time.thread_time()
        await pilot.press(key)
        await pilot.pause()
        timings.append((key, time.perf_counter() - started, time.thread_time() - cpu))
    return timings


def describe(timings: list[tuple[str, float, float]]) -> str:
    return ", ".join(f"{key} {wall * 1e3:5.1f} ms ({cpu * 1e3:5.1f})" for key, wall, cpu in timings)


class TableApp(App[None]):
    def compose(self) -> ComposeResult:
        yield DataTable(cursor_type="row")


async def measure(rows: int) -> None:
    app = TableApp()
    async with app.run_test(size=(100, 40)) as pilot:
        table = app.query_one(DataTable)
        table.add_columns("#", "time ms", "size", "total")
        started = time.perf_counter()
        total = 0
        for index in range(rows):
            total += 5120
            table.add_row(index, f"{index * 0.01:.3f}", 5120, total)
        await pilot.pause()
        add_seconds = time.perf_counter() - started
        table.focus()
        await pilot.pause()
        timings = await time_keys(pilot)
    print(
        f"DataTable {rows:>9,} rows: add_row {add_seconds:7.2f} s"
        f" ({add_seconds / rows * 1e6:6.1f} us/row); " + describe(timings)
    )


class RecvTableApp(App[None]):
    def compose(self) -> ComposeResult:
        yield RecvTable()


async def measure_recv_table(rows: int) -> None:
    app = RecvTableApp()
    async with app.run_test(size=(100, 40)) as pilot:
        table = app.query_one(RecvTable)
        started = time.perf_counter()
        log = RecvLog()
        log.times_ns.extend(range(0, rows * 10_000, 10_000))
        log.sizes.extend([5120] * rows)
        table.show_log(log, 5120)
        table.set_row_count(rows)
        await pilot.pause()
        fill_seconds = time.perf_counter() - started
        table.focus()
        await pilot.pause()
        timings = await time_keys(pilot)
    print(
        f"RecvTable {rows:>9,} rows: fill+show {fill_seconds:7.2f} s"
        f" ({fill_seconds / rows * 1e6:6.1f} us/row); " + describe(timings)
    )


if __name__ == "__main__":
    counts = [int(arg) for arg in sys.argv[1:]] or [10_000, 50_000, 200_000]
    for count in counts:
        asyncio.run(measure_recv_table(count))
    asyncio.run(measure_recv_table(1_000_000))
    for count in counts:
        asyncio.run(measure(count))
