"""How Textual's DataTable copes with a recv log's worth of rows (not collected by pytest).

Run: python tests/tools/measure_datatable.py [ROWS ...]

Prints, per row count: the time to add the rows one add_row call at a time (as a naive
app would, one per recv), and the time of a cursor jump to the bottom, to the top and one
page down, each measured as the key press plus the wait until the app is idle again.
"""

from __future__ import annotations

import asyncio
import sys
import time

from textual.app import App, ComposeResult
from textual.widgets import DataTable


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
        timings = []
        for key in ("ctrl+end", "ctrl+home", "pagedown"):
            started = time.perf_counter()
            await pilot.press(key)
            await pilot.pause()
            timings.append((key, time.perf_counter() - started))
    print(
        f"DataTable {rows:>9,} rows: add_row {add_seconds:7.2f} s"
        f" ({add_seconds / rows * 1e6:6.1f} us/row); "
        + ", ".join(f"{key} {seconds * 1000:7.1f} ms" for key, seconds in timings)
    )


if __name__ == "__main__":
    for count in [int(arg) for arg in sys.argv[1:]] or [10_000, 50_000, 200_000]:
        asyncio.run(measure(count))
