"""Snapshots of the run views: compare (delay off and on), a finished replay."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from textual.pilot import Pilot

from sockview.core.runfile import read_run
from sockview.ui.app import SockviewApp, create_app

from .conftest import make_settings, wait_for

DATA = Path(__file__).parent / "data"


def test_compare_delay_off_and_on(snap_compare) -> None:
    """`--compare delay-off.svrun delay-on.svrun` (two real runs of the demo's picture):
    the figures side by side (26 recvs and 23% full against 14 recvs and 93% full), the
    size histograms as bars (the delay run almost all in the top bin), and both
    sparklines on one time axis of 3.333 s (the run without delay over in its first
    tenth)."""
    runs = [read_run(DATA / "delay-off.svrun"), read_run(DATA / "delay-on.svrun")]
    assert snap_compare(create_app(make_settings(), compare=runs), terminal_size=(100, 40))


def test_replay_finished(snap_compare) -> None:
    """`--replay delay-on.svrun --speed 0`: the recorded run at once, 14 rows, thirteen
    of 5120 and a last of 3743; above the status line, what is replayed and when it was
    recorded; the delay shown as recorded (on, 0.25 s)."""
    recorded = read_run(DATA / "delay-on.svrun")
    recorded.started_at = 1764547200.0  # 2025-12-01 00:00 UTC

    async def run_before(pilot: Pilot[object]) -> None:
        app = pilot.app
        assert isinstance(app, SockviewApp)
        await wait_for(pilot, lambda: app.fetch_state == "done" and app.rows == 14)
        app.query_one("#url").value = "http://127.0.0.1:8000/cover.png"  # type: ignore[attr-defined]

    app = create_app(replace(make_settings(), speed=0.0), replay=recorded)
    assert snap_compare(app, terminal_size=(120, 32), run_before=run_before)
