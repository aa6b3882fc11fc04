"""Goals 2, 4 (app), 5 and 6: the real app in a real terminal (tmux), driven by keys.

The app runs under `app_launcher.py` in a detached tmux session of our own tmux server
(`tmux -L`), 120x40. `tmux pipe-pane` hands every byte the app writes to the terminal to
`stamp.py`, which timestamps it: frames are bursts of output, and a key's effect is the
moment `tmux capture-pane` shows the expected text (polled every millisecond or so).
"""

from __future__ import annotations

import itertools
import json
import os
import shlex
import shutil
import statistics
import subprocess
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tests.bench.run import (
    MB,
    PY,
    ROOT,
    BenchServer,
    Report,
    Row,
    Run,
    bare_paced,
    pairs,
    plain,
    tv_distance,
)

HERE = Path(__file__).resolve().parent
_sessions = itertools.count()
FRAME_GAP = 0.004
"""Reads closer together than this belong to the same frame."""


class TmuxApp:
    """One run of the app in a detached tmux session; `close()` ends it."""

    def __init__(self, args: list[str], env: str = "") -> None:
        self.folder = Path(tempfile.mkdtemp(prefix="sockview-bench-app-"))
        self.record = self.folder / "record.jsonl"
        self.stamps = self.folder / "stamps.txt"
        self.server = f"sockview-bench-{os.getpid()}-{next(_sessions)}"
        launcher = [PY, str(HERE / "app_launcher.py"), str(self.record), *args]
        command = f"{env} {shlex.join(launcher)}" if env else shlex.join(launcher)
        self.pid = 0
        try:
            self._tmux(
                "new-session", "-d", "-x", "120", "-y", "40", "-s", "bench", "-c", str(ROOT),
                command,
            )  # fmt: skip
            stamper = [PY, str(HERE / "stamp.py"), str(self.stamps)]
            self._tmux("pipe-pane", "-o", "-t", "bench", shlex.join(stamper))
            self.pid = int(self.wait_record("pid", timeout=60)["pid"])
        except BaseException:
            self.close()
            raise

    def _tmux(self, *argv: str) -> str:
        done = subprocess.run(["tmux", "-L", self.server, *argv], capture_output=True, text=True)
        if done.returncode != 0:
            raise RuntimeError(f"tmux {argv[0]} failed: {done.stderr.strip()}")
        return done.stdout

    def records(self) -> list[dict[str, Any]]:
        if not self.record.exists():
            return []
        return [json.loads(line) for line in self.record.read_text().splitlines() if line]

    def wait_record(self, key: str, timeout: float = 300.0) -> dict[str, Any]:
        give_up = time.monotonic() + timeout
        while time.monotonic() < give_up:
            for record in self.records():
                if key in record:
                    return record
            time.sleep(0.01)
        raise TimeoutError(f"the app never recorded {key!r}: {self.screen()}")

    def screen(self) -> str:
        return self._tmux("capture-pane", "-p", "-t", "bench")

    def wait_screen(self, text: str, timeout: float = 30.0) -> None:
        give_up = time.monotonic() + timeout
        while text not in self.screen():
            if time.monotonic() > give_up:
                raise TimeoutError(f"{text!r} never showed: {self.screen()}")
            time.sleep(0.005)

    def key(self, name: str) -> float:
        """Send a key; the time just before it was sent."""
        sent = time.time()
        self._tmux("send-keys", "-t", "bench", name)
        return sent

    def reads(self) -> list[float]:
        """The times of the app's writes to the terminal, as tmux passed them on."""
        if not self.stamps.exists():
            return []
        return [float(line.split()[0]) for line in self.stamps.read_text().splitlines() if line]

    def wait_shown(self, text: str, timeout: float = 10.0) -> float:
        """The time at which `text` is on screen, in any case (the status line or a toast).

        Spaces and line ends count as one space: the status line may wrap.
        """
        give_up = time.monotonic() + timeout
        while time.monotonic() < give_up:
            if text.lower() in " ".join(self.screen().lower().split()):
                return time.time()
            time.sleep(0.001)
        raise TimeoutError(f"{text!r} never showed: {self.screen()}")

    def wait_burst(self, after: float, quiet: float = 0.05, timeout: float = 5.0) -> float | None:
        """The end of the output that follows `after`; None if nothing came."""
        give_up = time.monotonic() + timeout
        while time.monotonic() < give_up:
            times = [at for at in self.reads() if at >= after]
            if times and time.time() - times[-1] > quiet:
                return times[-1]
            if not times and time.time() - after > 1.0:
                return None
            time.sleep(0.005)
        return None

    def memory_mb(self) -> tuple[float, float]:
        """(VmRSS, VmHWM) of the app now, in MB."""
        fields = {}
        for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
            name, _, value = line.partition(":")
            if name in ("VmRSS", "VmHWM"):
                fields[name] = int(value.split()[0]) / 1024
        return fields["VmRSS"], fields["VmHWM"]

    def close(self) -> None:
        """Quit the app with its own key, then end our tmux server and remove our files."""
        try:
            if self.pid:
                self.key("q")
                give_up = time.monotonic() + 5
                while time.monotonic() < give_up and Path(f"/proc/{self.pid}").exists():
                    time.sleep(0.02)
        finally:
            subprocess.run(["tmux", "-L", self.server, "kill-server"], capture_output=True)
            shutil.rmtree(self.folder, ignore_errors=True)


def app_run(server: BenchServer, size: int, *extra: str) -> Run:
    app = TmuxApp([server.url(size), *extra])
    try:
        end = app.wait_record("end")
        app_records_connected = app.wait_record("connected")
        if end["end"] != "Finished":
            raise RuntimeError(f"the app's fetch failed: {app.screen()}")
        time.sleep(0.3)  # a few more refreshes: the table and sparkline after the end
        rss, hwm = app.memory_mb()
    finally:
        app.close()
    connected = app_records_connected
    run = Run(seconds=end["elapsed"], wall=end["elapsed"], cpu=end["fetch_cpu"], maxrss_mb=hwm)
    run.recvs = end["recvs"]
    run.ui_cpu = end["ui_cpu"] - connected["ui_cpu"]
    run.rss_after_mb = rss
    return run


def goal_app_vs_plain(
    report: Report, server: BenchServer, size: int, count: int, keep: bool = False
) -> None:
    """The app with --no-keep against plain mode (neither keeps a byte); with `keep`, the
    app as it runs by default against plain mode that keeps the body too (`-o`, the
    fetch's own time, before the save): what the UI alone costs, either way."""
    folder = Path(tempfile.mkdtemp(prefix="sockview-bench-"))

    def plain_side() -> Run:
        if not keep:
            return plain(server, size)
        target = folder / "body.bin"
        run = plain(server, size, "-o", str(target))
        target.unlink()
        return run

    try:
        extra = () if keep else ("--no-keep",)
        runs_a, runs_b, ratios = pairs(lambda: app_run(server, size, *extra), plain_side, count)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    ratio = statistics.median(ratios)
    a = statistics.median(run.seconds for run in runs_a)
    b = statistics.median(run.seconds for run in runs_b)
    spread = f"ratios {min(ratios):.2f}..{max(ratios):.2f} over {len(ratios)} pairs"
    ui_cpu = statistics.median(r.ui_cpu for r in runs_a)
    report.add(
        Row(
            "2",
            f"  app vs plain -o (both keep the body), {size // MB} MB"
            if keep
            else f"app --no-keep (tmux 120x40) vs plain, {size // MB} MB",
            f"{size / MB / a:,.0f} MB/s ({a:.3f} s)",
            f"{size / MB / b:,.0f} MB/s ({b:.3f} s)",
            ratio,
            ">= 0.9",
            ratio >= 0.9,
            spread
            + (
                "; plain -o's time is its fetch, before the save"
                if keep
                else f"; the app's UI thread used {ui_cpu:.2f} s of CPU during its fetch"
            ),
        )
    )


def _histogram(counts: dict[str, int]) -> dict[int, int]:
    return {int(size): count for size, count in counts.items()}


def app_paced(
    server: BenchServer, rate: int, size: int, *extra: str, route: str = "paced"
) -> tuple[Run, dict[int, int]]:
    """The app against the paced server: its run and its histogram of recv sizes."""
    url = server.url(size, f"{route}/{rate}")
    app = TmuxApp([url, *extra], env="SOCKVIEW_BENCH_SIZES=1")
    try:
        end = app.wait_record("end")
        sizes = app.wait_record("sizes")["sizes"]
        if end["end"] != "Finished":
            raise RuntimeError(f"the app's fetch failed: {app.screen()}")
    finally:
        app.close()
    run = Run(seconds=end["elapsed"], wall=end["elapsed"], cpu=end["fetch_cpu"], maxrss_mb=0)
    run.recvs = end["recvs"]
    return run, _histogram(sizes)


def plain_paced(
    server: BenchServer, rate: int, size: int, route: str = "paced"
) -> tuple[Run, dict[int, int]]:
    folder = Path(tempfile.mkdtemp(prefix="sockview-bench-"))
    try:
        log = folder / "log.csv"
        run = plain(server, size, "--log", str(log), url=server.url(size, f"{route}/{rate}"))
        sizes: dict[int, int] = {}
        for line in log.read_text().splitlines()[1:]:
            recv_size = int(line.split(",")[2])
            sizes[recv_size] = sizes.get(recv_size, 0) + 1
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    return run, sizes


def bare_paced_sizes(
    server: BenchServer, rate: int, size: int, route: str = "paced"
) -> tuple[Run, dict[int, int]]:
    with tempfile.NamedTemporaryFile("r", suffix=".json") as out:
        run = bare_paced(server, rate, size, out.name, route)
        sizes = _histogram(json.load(out))
    return run, sizes


def goal_paced_rate(report: Report, server: BenchServer, size: int, count: int) -> None:
    """Goal 8: with the server paced at 400 MB/s, does the app keep up?"""
    rate = 400
    for name, side in (("app", app_paced), ("plain", plain_paced), ("bare", bare_paced_sizes)):
        rates = [size / MB / side(server, rate, size)[0].seconds for _ in range(count)]
        shares = [r / rate for r in rates]
        share = statistics.median(shares)
        report.add(
            Row(
                "8",
                f"{name} at a server paced at {rate} MB/s, {size // MB} MB",
                f"{statistics.median(rates):,.0f} MB/s",
                f"{rate} MB/s",
                share,
                ">= 0.95" if name == "app" else "(reference)",
                share >= 0.95 if name == "app" else None,
                f"shares {min(shares):.2f}..{max(shares):.2f} over {count} runs",
            )
        )


def goal_paced_histogram(report: Report, server: BenchServer, size: int, count: int) -> None:
    """Goal 9: at 125 MB/s, the recv-size histogram against a bare loop's, run after run.

    Besides the app as it runs by default, the app with --no-keep and plain mode. The
    server writes with TCP_NODELAY, so that two steps come back as one only when somebody
    was late; the rows marked "Nagle" repeat the app and a second bare loop against the
    same server without it, where TCP decides when a step leaves (see server.PACE_STEP).
    Each row also counts the recvs of 1,024 bytes: the tail of two steps read as one.
    """
    rate = 125
    sides: dict[str, tuple[str, Callable[[str], dict[int, int]]]] = {
        "bare": ("paced", lambda route: bare_paced_sizes(server, rate, size, route)[1]),
        "plain": ("paced", lambda route: plain_paced(server, rate, size, route)[1]),
        "app": ("paced", lambda route: app_paced(server, rate, size, route=route)[1]),
        "app --no-keep": (
            "paced",
            lambda route: app_paced(server, rate, size, "--no-keep", route=route)[1],
        ),
        "bare (Nagle)": (
            "paced-nagle",
            lambda route: bare_paced_sizes(server, rate, size, route)[1],
        ),
        "app (Nagle)": ("paced-nagle", lambda route: app_paced(server, rate, size, route=route)[1]),
    }
    distances: dict[str, list[float]] = {name: [] for name in sides}
    merged: dict[str, list[int]] = {name: [] for name in sides}
    for _ in range(count):
        for name, (route, side) in sides.items():
            reference = bare_paced_sizes(server, rate, size, route)[1]
            sizes = side(route)
            distances[name].append(tv_distance(sizes, reference))
            merged[name].append(sizes.get(1024, 0))
    for name, values in distances.items():
        median = statistics.median(values)
        goal = name == "app"
        report.add(
            Row(
                "9",
                f"{name}'s recv sizes vs a bare loop's, paced {rate} MB/s, {size // MB} MB",
                f"TV {median:.4f}",
                "",
                None,
                "<= 0.01" if goal else "(noise floor)" if name.startswith("bare") else "",
                median <= 0.01 if goal else None,
                "total-variation distance of exact sizes, each run against the bare run"
                f" just before it: {min(values):.4f}..{max(values):.4f} over {count} runs;"
                f" recvs of 1,024 bytes, median {statistics.median(merged[name]):.0f}"
                f" ({min(merged[name])}..{max(merged[name])})",
            )
        )


def goal_app_memory(report: Report, server: BenchServer, size: int) -> None:
    run = app_run(server, size)
    rss = run.rss_after_mb
    report.add(
        Row(
            "4",
            f"app RSS after a {size // MB} MB fetch at bufsize 5120",
            f"{rss:.1f} MB",
            "",
            None,
            "<= 150 MB",
            rss <= 150,
            f"{run.recvs:,} rows; peak (VmHWM) {run.maxrss_mb:.1f} MB",
        )
    )


def _frames(reads: list[float], start: float, end: float) -> list[float]:
    """Start times of the bursts of output between `start` and `end`."""
    frames: list[float] = []
    last = -1.0
    for at in reads:
        if start <= at <= end:
            if at - last > FRAME_GAP:
                frames.append(at)
            last = at
    return frames


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def goal_responsiveness(report: Report, server: BenchServer, size: int, count: int) -> None:
    on_delays: list[float] = []
    off_delays: list[float] = []
    intervals: list[float] = []
    for _ in range(count):
        app = TmuxApp([server.url(size)])
        try:
            app.wait_screen("receiving")
            time.sleep(0.1)
            sent = app.key("d")
            on_delays.append(app.wait_shown("delay: on") - sent)
            sent = app.key("d")
            off_delays.append(app.wait_shown("delay: off") - sent)
            end = app.wait_record("end")
            frames = _frames(app.reads(), end["at"] - end["elapsed"], end["at"])
            intervals += [b - a for a, b in itertools.pairwise(frames)]
        finally:
            app.close()
    worst = max(on_delays + off_delays)
    report.add(
        Row(
            "5",
            f"key d shown during a {size // MB} MB fetch (on, then off)",
            f"median {statistics.median(on_delays + off_delays) * 1e3:.0f} ms",
            f"worst {worst * 1e3:.0f} ms",
            None,
            "<= 100 ms",
            worst <= 0.1,
            "on: " + " ".join(f"{x * 1e3:.0f}" for x in on_delays)
            + " ms; off: " + " ".join(f"{x * 1e3:.0f}" for x in off_delays) + " ms",
        )
    )  # fmt: skip
    if intervals:
        report.add(
            Row(
                "5",
                "interval between frames while receiving",
                f"p95 {_percentile(intervals, 0.95) * 1e3:.0f} ms",
                f"max {max(intervals) * 1e3:.0f} ms",
                None,
                "(report)",
                None,
                f"{len(intervals)} intervals; median {statistics.median(intervals) * 1e3:.0f} ms",
            )
        )


def goal_big_table(report: Report, server: BenchServer, recvs: int, bufsize: int) -> None:
    app = TmuxApp([server.url(recvs * bufsize), "--bufsize", str(bufsize)])
    timings: dict[str, list[float]] = {}
    try:
        end = app.wait_record("end", timeout=600)
        time.sleep(0.5)
        keys = ["Home", "NPage", "NPage", "NPage", "End", "PPage", "PPage", "PPage"] * 3
        for key in keys:
            sent = app.key(key)
            shown = app.wait_burst(sent)
            if shown is not None:
                timings.setdefault(key, []).append(shown - sent)
            time.sleep(0.1)
        rss, hwm = app.memory_mb()
    finally:
        app.close()
    names = {"Home": "top", "End": "bottom", "NPage": "page down", "PPage": "page up"}
    worst = max(max(values) for values in timings.values()) if timings else float("nan")
    detail = "; ".join(
        f"{names[key]} {statistics.median(values) * 1e3:.0f}/{max(values) * 1e3:.0f} ms"
        for key, values in timings.items()
    )
    report.add(
        Row(
            "6",
            f"table of {end['recvs']:,} rows: top/bottom/page (key to screen)",
            f"worst {worst * 1e3:.0f} ms",
            "",
            None,
            "<= 50 ms",
            worst <= 0.05,
            f"median/worst: {detail}; RSS {rss:.0f} MB (peak {hwm:.0f} MB)",
        )
    )


def run(report: Report, server: BenchServer, args: Any, only: set[str]) -> None:
    size = args.size * MB
    if "2" in only:
        goal_app_vs_plain(report, server, size, args.pairs)
        goal_app_vs_plain(report, server, size, args.pairs, keep=True)
    if "4" in only:
        goal_app_memory(report, server, args.big * MB)
    if "5" in only:
        goal_responsiveness(report, server, size, 5)
    if "6" in only:
        goal_big_table(report, server, args.table_recvs, 512)
    if "8" in only:
        goal_paced_rate(report, server, size, args.pairs)
    if "9" in only:
        goal_paced_histogram(report, server, min(size, 100 * MB), args.pairs)
