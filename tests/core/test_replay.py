"""Replay: a recorded run played back in order, at its pace; compare: its figures."""

from __future__ import annotations

import threading
from array import array
from pathlib import Path

from sockview.cli import main
from sockview.core.body import SpooledBody
from sockview.core.compare import figures, sparkline_points, table
from sockview.core.demo import DemoServer
from sockview.core.events import (
    ChunksReceived,
    Connected,
    Event,
    Finished,
    HeadersComplete,
    RequestSent,
)
from sockview.core.fetch import DelaySwitch
from sockview.core.replay import Replay
from sockview.core.run import DelayChange, FetchState, Run
from sockview.core.url import parse_url
from tests.core.fetching import fetch_now


class FakeTime:
    """A clock that moves only when the replay waits: each wait advances it."""

    def __init__(self) -> None:
        self.now = 100.0
        self.waits: list[float] = []

    def clock(self) -> float:
        return self.now

    def wait(self, event: threading.Event, seconds: float) -> bool:
        self.waits.append(seconds)
        self.now += seconds
        return event.is_set()


def made_run(times_ms: list[float], sizes: list[int], bufsize: int = 100) -> Run:
    """A run of known recvs, a head of 10 bytes in the first, and a Content-Length body."""
    run = Run(target=parse_url("http://127.0.0.1:9/x"), bufsize=bufsize, peer="127.0.0.1:9")
    run.log.times_ns.extend(array("q", [int(t * 1e6) for t in times_ms]))
    run.log.sizes.extend(array("I", sizes))
    total = sum(sizes)
    run.head_bytes = b"HTTP/1.0 200 OK\r\n\r\n"[:10]
    run.result = Finished(total, len(sizes), total - 10, times_ms[-1] / 1e3)
    run.state = FetchState.DONE
    return run


def play(run: Run, speed: float, time: FakeTime | None = None) -> tuple[Replay, list[Event]]:
    events: list[Event] = []
    time = time or FakeTime()
    replay = Replay(run, speed=speed, listener=events.append, clock=time.clock, wait=time.wait)
    replay.perform()
    return replay, events


def test_events_come_in_the_live_order(demo: DemoServer) -> None:
    live = fetch_now(demo.url("/cover.png"), body=SpooledBody())
    replay, events = play(live.fetch.run, speed=0)
    kinds = [type(e) for e in events]
    assert kinds[:2] == [Connected, RequestSent] and kinds[-1] is Finished
    head_at = kinds.index(HeadersComplete)
    chunks = [e for e in events if isinstance(e, ChunksReceived)]
    # Rows up to the head's recv come before the head, the rest after it.
    assert isinstance(events[head_at - 1], ChunksReceived)
    assert events[head_at - 1].stop == live.fetch.run.head.head_index + 1  # type: ignore[union-attr,attr-defined]
    assert [c.start for c in chunks[1:]] == [c.stop for c in chunks[:-1]]
    assert replay.run.log.sizes == live.fetch.run.log.sizes
    assert replay.run.log.times_ns == live.fetch.run.log.times_ns
    assert replay.run.head == live.fetch.run.head
    assert replay.run.state is FetchState.DONE and replay.run.result == live.fetch.run.result


def test_pace_follows_the_recorded_times_scaled_by_speed() -> None:
    times = [0, 5, 30, 31, 500, 1000, 1003]
    run = made_run(times, [10, 100, 100, 50, 100, 100, 7])
    for speed in (1.0, 4.0, 0.25):
        time = FakeTime()
        start = time.now
        seen: list[tuple[float, int]] = []

        def listen(event: Event, time: FakeTime = time, seen: list = seen) -> None:  # type: ignore[type-arg]
            if isinstance(event, ChunksReceived):
                seen.append((time.now, event.stop))

        replay = Replay(run, speed=speed, listener=listen, clock=time.clock, wait=time.wait)
        replay.perform()
        for at, stop in seen:
            played_ms = (at - start) * speed * 1e3
            # Never early: every row shown was due by then ...
            assert times[stop - 1] <= played_ms + 1e-6
            # ... and not late by more than one 20 ms slice (and one 0.1 s wait step).
            assert played_ms <= times[stop - 1] + 20 + 100 * speed + 1e-6
        assert seen[-1][1] == len(times)
        elapsed_ms = (time.now - start) * speed * 1e3
        assert 1000 <= elapsed_ms <= 1003 + 20 + 100 * speed


def test_speed_zero_and_skip_show_everything_at_once() -> None:
    run = made_run([0, 1, 10_000], [10, 100, 50])
    time = FakeTime()
    replay, events = play(run, speed=0, time=time)
    assert not time.waits
    assert [e.stop for e in events if isinstance(e, ChunksReceived)] == [3]
    replay = Replay(run, speed=1)
    replay.skip_to_end()
    assert replay.perform() == run.result


def test_pause_holds_the_clock_and_speed_steps() -> None:
    time = FakeTime()
    run = made_run([0, 100], [10, 100])
    replay = Replay(run, speed=1, clock=time.clock, wait=time.wait)
    replay.pause()
    time.now += 50
    assert replay.position_ns == 0
    replay.resume()
    time.now += 0.05
    assert replay.position_ns == 50_000_000
    assert replay.faster() == 2.0 and replay.slower() == 1.0
    for _ in range(20):
        replay.slower()
    assert replay.speed == 0.25
    for _ in range(20):
        replay.faster()
    assert replay.speed == 64.0


def test_delay_changes_are_replayed_where_they_happened() -> None:
    run = made_run([0, 1, 2, 3], [10, 100, 100, 100])
    run.delays = [DelayChange(0, False, 0.25), DelayChange(2, True, 0.25)]
    replay, _ = play(run, speed=0)
    assert replay.run.delays == run.delays
    assert replay.run.delay_at(1) == run.delays[0] and replay.run.delay_at(3) == run.delays[1]


def test_cancel_ends_a_replay_as_cancelled() -> None:
    run = made_run([0, 60_000], [10, 100])
    time = FakeTime()

    def wait(event: threading.Event, seconds: float) -> bool:
        replay.cancel()
        return time.wait(event, seconds)

    replay = Replay(run, speed=1, clock=time.clock, wait=wait)
    result = replay.perform()
    assert result.cancelled and replay.run.state is FetchState.CANCELLED  # type: ignore[union-attr]


def test_replay_plain_prints_what_the_live_plain_run_printed(
    demo: DemoServer, tmp_path: Path, capsys
) -> None:
    record = tmp_path / "book.svrun"
    live = main([demo.url("/cover.png"), "--plain", "--delay", "0.25", "--record", str(record)])
    live_out, live_err = capsys.readouterr()
    assert live == 0 and f"recorded the run to {record}" in live_err
    lines = live_out.splitlines()
    assert lines[:13] == [f"5120 {5120 * i}" for i in range(1, 14)]
    assert lines[13] == "3743 70303" and lines[14] == "Header length 242"
    assert main(["--replay", str(record), "--plain", "--speed", "0"]) == 0
    replayed_out, replayed_err = capsys.readouterr()
    assert replayed_out == live_out
    assert "70303 bytes in 14 recvs" in replayed_err


def test_compare_figures_on_known_sizes() -> None:
    off = made_run([0, 1, 2, 3, 4], [10, 40, 100, 60, 100], bufsize=100)
    on = made_run([0, 250, 500, 750], [100, 100, 100, 10], bufsize=100)
    on.delays = [DelayChange(0, True, 0.25)]
    a, b = figures(off, "off", bins=4), figures(on, "on", bins=4)
    assert (a.recvs, a.total, a.mean_size, a.median_size) == (5, 310, 62.0, 60.0)
    assert a.full_share == 0.4 and b.full_share == 0.75
    assert a.histogram == (1, 1, 1, 2) and b.histogram == (1, 0, 0, 3)
    assert (a.delay, b.delay) == ("off", "0.25 s")
    assert b.rate == 310 * 1e9 / 750e6
    text = table([a, b])
    assert text.splitlines()[0].split() == ["run", "off", "on"]
    assert "full recvs" in text and "75%" in text
    # One time axis: the slower run fills it, the faster one only its start.
    assert sparkline_points(off, 750_000_000, 3) == [310, 0, 0]
    assert sparkline_points(on, 750_000_000, 3) == [100, 100, 110]


def test_compare_plain_prints_one_column_per_run_file(
    demo: DemoServer, tmp_path: Path, capsys
) -> None:
    fast = fetch_now(demo.url("/cover.png"), body=SpooledBody())
    slow = fetch_now(
        demo.url("/cover.png"), body=SpooledBody(), delay=DelaySwitch(0.05, enabled=True)
    )
    from sockview.core.runfile import write_run

    paths = [
        write_run(fast.fetch.run, str(tmp_path / "off.svrun")).path,
        write_run(slow.fetch.run, str(tmp_path / "on.svrun")).path,
    ]
    assert main(["--compare", *map(str, paths), "--plain"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].split() == ["run", "off.svrun", "on.svrun"]
    assert out[1].split() == ["delay", "off", "0.05", "s"]
    full = next(line for line in out if line.startswith("full recvs")).split()
    assert full[-1] == "93%"  # 13 of 14 recvs full with the delay
