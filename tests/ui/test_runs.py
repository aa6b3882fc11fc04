"""Runs in the app: record with `e` and --record, replay a run file, list and compare."""

from __future__ import annotations

import os
from dataclasses import replace
from pathlib import Path

from sockview.core.demo import DemoServer
from sockview.core.runfile import read_run
from sockview.ui.app import create_app
from sockview.ui.screens.compare import CompareScreen
from sockview.ui.screens.runs import RunsScreen
from sockview.ui.widgets.recv_table import RecvTable

from .conftest import make_settings, screen_text, wait_for

DATA = Path(__file__).parent / "data"
DELAY_OFF = DATA / "delay-off.svrun"
DELAY_ON = DATA / "delay-on.svrun"
"""Real runs of `sockview --demo --plain [--delay 0.25] --record-without-body`."""


async def test_e_records_the_run_and_it_reads_back_whole(
    demo_fixed: DemoServer, tmp_path: Path
) -> None:
    app = create_app(make_settings(demo_fixed.url("/cover.png")))
    os.chdir(tmp_path)
    async with app.run_test(notifications=True) as pilot:
        await wait_for(pilot, lambda: app.fetch_state == "done", "the fetch")
        await pilot.press("e")
        path = tmp_path / "cover.png.svrun"
        await wait_for(pilot, path.exists, "the run file")
        await wait_for(pilot, lambda: "Recorded the run" in screen_text(app), "the notice")
        run, back = app.current_run, read_run(path)
        assert run is not None
        assert back.log.sizes == run.log.sizes and back.head == run.head
        assert back.body.size == 70057


async def test_record_option_writes_each_run_when_it_ends(
    demo_fixed: DemoServer, tmp_path: Path
) -> None:
    settings = replace(make_settings(demo_fixed.url("/bytes/1000")), record=str(tmp_path))
    app = create_app(settings)
    async with app.run_test() as pilot:
        await wait_for(pilot, lambda: app.fetch_state == "done", "the first fetch")
        await wait_for(pilot, lambda: (tmp_path / "1000.bin.svrun").exists(), "a run file")
        await pilot.press("r")
        await wait_for(pilot, lambda: (tmp_path / "1000.bin-1.svrun").exists(), "another")


async def test_replay_shows_the_recorded_run_and_says_so() -> None:
    recorded = read_run(DELAY_ON)
    settings = replace(make_settings(), speed=0.0)
    app = create_app(settings, replay=recorded)
    async with app.run_test(size=(120, 32)) as pilot:
        await wait_for(pilot, lambda: app.fetch_state == "done", "the replay to end")
        table = app.query_one(RecvTable)
        await wait_for(pilot, lambda: table.row_count == 14, "every row")
        text = screen_text(app)
        assert "replay of" in text and "delay-on.svrun" in text and "recorded 20" in text
        assert "delay: on, 0.25 s" in text  # as recorded, not this session's switch
        assert "70,303 B in 14 recvs" in text
        run = app.current_run
        assert run is not None and run.log.sizes == recorded.log.sizes
        assert app.check_action("toggle_delay", ()) is None


async def test_replay_keys_pause_change_speed_and_jump_to_the_end() -> None:
    recorded = read_run(DELAY_ON)  # 3.3 s at its pace
    app = create_app(make_settings(), replay=recorded)
    async with app.run_test(size=(120, 32)) as pilot:
        await wait_for(pilot, lambda: app.rows >= 1, "the first row")
        replay = app.replay
        assert replay is not None
        await pilot.press("space")
        assert replay.paused and "paused" in screen_text(app)
        await pilot.press("space")
        assert not replay.paused
        await pilot.press("plus")
        assert replay.speed == 2.0 and "x2" in screen_text(app)
        await pilot.press("minus", "minus")
        assert replay.speed == 0.5
        await pilot.press("end")
        await wait_for(pilot, lambda: app.fetch_state == "done", "the end")
        assert app.rows == 14
        # Again, from the start: `r` replays rather than fetches.
        await pilot.press("r")
        assert app.replay is not None and app.replay is not replay


async def test_runs_list_marks_two_and_compares_them(demo_fixed: DemoServer) -> None:
    app = create_app(make_settings(demo_fixed.url("/cover.png")))
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: app.fetch_state == "done", "the first fetch")
        app.delay.enabled = True
        app.delay.seconds = 0.01
        await pilot.press("r")
        await wait_for(pilot, lambda: app.fetch_state == "done", "the second fetch")
        assert len(app.runs) == 2
        await pilot.press("l")
        assert isinstance(app.screen, RunsScreen)
        text = screen_text(app)
        assert "dropped" in text  # the first run's body went when the second began
        await pilot.press("enter")
        assert isinstance(app.screen, RunsScreen)  # not two marked yet
        await pilot.press("space", "up", "space", "enter")
        assert isinstance(app.screen, CompareScreen)
        text = screen_text(app)
        assert "run 1" in text and "run 2" in text and "full recvs" in text
        assert "0.01 s" in text and "one axis for all" in text
        await pilot.press("escape")
        assert isinstance(app.screen, RunsScreen)


async def test_compare_option_opens_the_compare_view() -> None:
    runs = [read_run(DELAY_OFF), read_run(DELAY_ON)]
    app = create_app(make_settings(), compare=runs)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        assert isinstance(app.screen, CompareScreen)
        text = screen_text(app)
        assert "delay-off.svrun" in text and "delay-on.svrun" in text
        full = next(line for line in text.splitlines() if "full recvs" in line)
        assert full.split()[-2:] == ["23%", "93%"]
