"""--no-keep: the app counts and times every recv but keeps no byte of the response."""

from __future__ import annotations

import os
from dataclasses import replace
from pathlib import Path

import pytest

from sockview.cli import build_parser, settings_from
from sockview.core.body import ReadableBody
from sockview.core.demo import DemoServer
from sockview.core.runfile import read_run
from sockview.ui.app import create_app
from sockview.ui.screens.preview import PreviewScreen
from sockview.ui.widgets.recv_table import RecvTable

from .conftest import make_settings, notices, screen_text, wait_for

COVER = 70057
"""The demo picture's size in bytes."""


def test_the_option_turns_keeping_off_for_the_app_only() -> None:
    parser = build_parser()
    assert settings_from(parser.parse_args(["--demo"]), parser).keep
    settings = settings_from(parser.parse_args(["--demo", "--no-keep"]), parser)
    assert not settings.keep
    assert "body not kept" in settings.describe()


async def test_a_fetch_without_keeping_counts_everything_and_says_so(
    demo_fixed: DemoServer, tmp_path: Path
) -> None:
    settings = replace(make_settings(demo_fixed.url("/cover.png")), keep=False)
    app = create_app(settings)
    os.chdir(tmp_path)
    async with app.run_test(notifications=True, size=(120, 30)) as pilot:
        await wait_for(pilot, lambda: app.fetch_state == "done", "the fetch")
        run = app.current_run
        assert run is not None and run.complete and run.head is not None
        table = app.query_one(RecvTable)
        await wait_for(pilot, lambda: table.row_count == len(run.log), "every row")
        # The rows are the recvs, the head's and the body's bytes all counted.
        assert sum(run.log.sizes) == run.total == run.head.body_offset + COVER
        assert run.body.size == COVER
        assert run.wire is None and not isinstance(run.body, ReadableBody)
        assert not run.bytes_kept

        await pilot.press("s")
        await wait_for(pilot, lambda: any("not kept" in n for n in notices(app)), "s's notice")
        assert "The body was not kept (--no-keep): nothing to save." in "".join(notices(app))
        app.clear_notifications()
        await pilot.press("S")
        await wait_for(pilot, lambda: any("nothing to save" in n for n in notices(app)), "S")
        app.clear_notifications()
        await pilot.press("b")
        await wait_for(pilot, lambda: any("nothing to show" in n for n in notices(app)), "b")
        assert not isinstance(app.screen, PreviewScreen)
        assert list(tmp_path.iterdir()) == []  # nothing was written

        app.clear_notifications()
        await pilot.press("e")
        path = tmp_path / "cover.png.svrun"
        await wait_for(pilot, path.exists, "the run file")
        await wait_for(pilot, lambda: "sizes and times only" in "".join(notices(app)), "e")
        back = read_run(path)
        assert back.log.sizes == run.log.sizes and not isinstance(back.body, ReadableBody)

        await pilot.press("home", "enter")
        await wait_for(pilot, lambda: app.inspecting, "the inspector")
        await wait_for(
            pilot,
            lambda: "The bytes of this recv were not kept" in screen_text(app),
            "the inspector's note",
        )


@pytest.mark.parametrize("argv", [["--demo", "--plain", "--no-keep"]])
def test_no_keep_is_refused_in_plain_mode(argv: list[str], capsys) -> None:
    from sockview.cli import main

    with pytest.raises(SystemExit) as exit_:
        main(argv)
    assert exit_.value.code == 2
    assert "--no-keep is for the app" in capsys.readouterr().err
