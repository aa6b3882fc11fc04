"""Goal 13: the inspector opens any row of a run of a million recvs at once (<= 50 ms).

A real fetch of `recvs` x `bufsize` bytes from the fast server, keeping the raw stream
as the app does (on disk past 4 MiB), then rows at the start, the middle, the end and at
random are opened two ways: the core alone (read that recv's bytes, lay out a screenful
of hex lines), and the inspector shown in a headless app, until drawn. The same over a
run of ten recvs is the reference: what showing the inspector costs whatever the run.
Last, the real app in tmux (as goal 6): Enter on a row of its own million-row run, key
to screen, and Left within the inspector.
"""

from __future__ import annotations

import asyncio
import random
import statistics
import time

from sockview.core.fetch import Fetch, FetchOptions
from sockview.core.hexdump import RunBytes
from sockview.core.run import Run
from sockview.core.url import parse_url
from sockview.core.wire import WireBody, WireStore
from sockview.ui.app import create_app
from sockview.ui.widgets.inspector import Inspector
from tests.bench.app_goals import TmuxApp
from tests.bench.run import BenchServer, Report, Row
from tests.ui.conftest import make_settings

SCREEN_LINES = 40


def fetch_run(server: BenchServer, recvs: int, bufsize: int) -> Run:
    wire = WireStore()
    fetch = Fetch(
        parse_url(server.url(recvs * bufsize)),
        FetchOptions(bufsize=bufsize),
        body=WireBody(wire),
        wire=wire,
    )
    fetch.perform()
    return fetch.run


def rows_to_open(count: int) -> list[int]:
    rng = random.Random(8)
    return [0, count // 2, count - 1, *(rng.randrange(count) for _ in range(27))]


def core_times(run: Run, rows: list[int]) -> list[float]:
    times = []
    for index in rows:
        start = time.perf_counter()
        dump = RunBytes(run).recv(index)
        assert dump.data is not None and len(dump.data) == dump.size
        for number in range(min(SCREEN_LINES, (dump.size + 15) // 16)):
            dump.line(number)
        times.append(time.perf_counter() - start)
    return times


async def app_times(run: Run, rows: list[int]) -> list[float]:
    app = create_app(make_settings())
    times = []
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        for index in rows:
            start = time.perf_counter()
            app.inspect(run, index)
            await pilot.pause()  # until the inspector has been drawn
            times.append(time.perf_counter() - start)
            assert app.inspecting and app.query_one(Inspector).data is not None
            await pilot.press("escape")
            await pilot.pause()
    return times


def tmux_times(server: BenchServer, recvs: int, bufsize: int) -> dict[str, list[float]]:
    """Key to screen in the real app: Enter opens the row under the cursor, Left steps."""
    app = TmuxApp([server.url(recvs * bufsize), "--bufsize", str(bufsize)])
    timings: dict[str, list[float]] = {"Enter": [], "Left": []}
    try:
        app.wait_record("end", timeout=600)
        time.sleep(0.5)
        for _ in range(8):
            for key in ("PPage", "Enter", "Left", "Left", "Escape"):
                sent = app.key(key)
                shown = app.wait_burst(sent)
                if shown is not None and key in timings:
                    timings[key].append(shown - sent)
                time.sleep(0.3)
    finally:
        app.close()
    return timings


def goal_inspect(report: Report, server: BenchServer, recvs: int, bufsize: int) -> None:
    began = time.perf_counter()
    run = fetch_run(server, recvs, bufsize)
    fetched = time.perf_counter() - began
    count = len(run.log)
    rows = rows_to_open(count)
    core = core_times(run, rows)
    shown = asyncio.run(app_times(run, rows))
    small = fetch_run(server, 10, bufsize)
    reference = asyncio.run(app_times(small, [index % 10 for index in rows]))
    small.body.close()
    worst = max(shown)
    on_disk = run.wire is not None and not run.wire.in_memory
    report.add(
        Row(
            "13",
            f"inspector, one row of a run of {count:,} recvs (raw stream"
            f" {run.total / 1e6:.0f} MB {'on disk' if on_disk else 'in memory'})",
            f"median {statistics.median(shown) * 1e3:.0f} ms",
            f"10 recvs: {statistics.median(reference) * 1e3:.0f} ms",
            statistics.median(shown) / statistics.median(reference),
            "<= 50 ms",
            worst <= 0.05,
            f"{len(rows)} rows (first, middle, last, random): to the screen drawn"
            f" median {statistics.median(shown) * 1e3:.1f} ms, worst {worst * 1e3:.1f} ms;"
            f" core (read the recv, lay out {SCREEN_LINES} lines) median"
            f" {statistics.median(core) * 1e3:.2f} ms, worst {max(core) * 1e3:.2f} ms;"
            f" the fetch took {fetched:.1f} s",
        )
    )
    run.body.close()
    keys = tmux_times(server, recvs, bufsize)
    enter, left = keys["Enter"], keys["Left"]
    if enter:
        report.add(
            Row(
                "13",
                f"inspector in the app (tmux, 120x40), a run of {recvs:,} recvs: Enter on"
                " a row, key to screen",
                f"median {statistics.median(enter) * 1e3:.0f} ms",
                "",
                None,
                "<= 50 ms",
                max(enter) <= 0.05,
                f"Enter median/worst {statistics.median(enter) * 1e3:.0f}/"
                f"{max(enter) * 1e3:.0f} ms over {len(enter)};"
                + (
                    f" Left (the previous recv) {statistics.median(left) * 1e3:.0f}/"
                    f"{max(left) * 1e3:.0f} ms"
                    if left
                    else ""
                ),
            )
        )
