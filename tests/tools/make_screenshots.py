"""Make the README's screenshots from real runs of the app against the demo server.

Run: python tests/tools/make_screenshots.py [OUT_FOLDER]    (needs the `screenshots` extra)

Writes idle, receiving (delay off), receiving-delay (delay on), kernel (delay on, a small
receive buffer, the demo's sender stalled), done, inspect (Enter on the row where the
header ends), preview (`b`: the picture) and compare (two recorded runs of the picture,
delay off and on) as PNG, drawn from the SVG that Textual exports, to OUT_FOLDER (default:
screenshots/ at the top of the
repository). The demo server runs paced, as `--demo`
runs it, so the recv sizes vary as on a real network; the pictures differ a little from
one run to the next.
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import cairosvg

from sockview.core.body import SpooledBody
from sockview.core.demo import DemoServer
from sockview.core.fetch import DelaySwitch, Fetch, FetchOptions
from sockview.core.run import Run
from sockview.core.runfile import read_run, write_run
from sockview.core.sample_image import sample_png
from sockview.core.url import parse_url
from sockview.settings import Settings
from sockview.ui.app import SockviewApp, create_app
from sockview.ui.screens.preview import PreviewScreen
from sockview.ui.widgets.recv_table import RecvTable

SIZE = (110, 36)
FONT = "DejaVu Sans Mono"
"""A monospace font that cairosvg finds offline; Textual's SVG asks for Fira Code."""
LIMIT = 30.0


def settings(url: str | None, delay_on: bool = False, rcvbuf: int | None = None) -> Settings:
    return Settings(
        target=parse_url(url) if url else None,
        options=FetchOptions(rcvbuf=rcvbuf),
        delay=DelaySwitch(enabled=delay_on),
        output=None,
        log=None,
        demo=url is not None,
    )


async def shoot(
    app: SockviewApp,
    name: str,
    out: Path,
    ready: Callable[[SockviewApp], bool],
    keys: tuple[str, ...] = (),
    then: Callable[[SockviewApp], bool] = lambda app: True,
) -> None:
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        give_up = time.monotonic() + LIMIT
        table = app.query_one(RecvTable)
        while not (ready(app) and table.row_count == app.rows):
            if time.monotonic() > give_up:
                raise SystemExit(f"{name}: the app never got there")
            await pilot.pause(0.02)
        await pilot.press(*keys)
        while not then(app):
            if time.monotonic() > give_up:
                raise SystemExit(f"{name}: the app never got there after {keys}")
            await pilot.pause(0.02)
        await pilot.pause(0.2)
        svg = app.export_screenshot(title="sockview")
        app.stop_fetches()
    svg = svg.replace("Fira Code", FONT)
    cairosvg.svg2png(bytestring=svg.encode(), write_to=str(out / f"{name}.png"), scale=1.5)
    print(f"wrote {out / name}.png")


def rows(count: int) -> Callable[[SockviewApp], bool]:
    return lambda app: app.fetch_state == "receiving" and app.rows >= count


async def main(out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    sample_png()  # drawn once, as `sockview --demo` does before the app starts
    with DemoServer() as demo:
        await shoot(create_app(settings(None)), "idle", out, lambda app: True)
        big = demo.url("/bytes/3000000")
        await shoot(create_app(settings(big)), "receiving", out, rows(40))
        await shoot(create_app(settings(big, delay_on=True)), "receiving-delay", out, rows(14))
        stalls = demo.url("/bytes/3000000?sndbuf=8192")
        kernel = create_app(settings(stalls, delay_on=True, rcvbuf=16384), demo=demo)

        def stalled(app: SockviewApp) -> bool:
            run = app.current_run
            return rows(16)(app) and run is not None and run.window_closed(app.rows)

        await shoot(kernel, "kernel", out, stalled)
        done = demo.url("/cover.png")
        finished = lambda app: app.fetch_state == "done"  # noqa: E731
        await shoot(create_app(settings(done)), "done", out, finished)
        await shoot(
            create_app(settings(done)),
            "inspect",
            out,
            finished,
            ("home", "enter", *["down"] * 12),
            lambda app: app.inspecting,
        )
        await shoot(
            create_app(settings(done)),
            "preview",
            out,
            finished,
            ("b",),
            lambda app: isinstance(app.screen, PreviewScreen) and app.screen.prepared is not None,
        )
        await shoot(
            create_app(settings(None), compare=recorded_pair(done)),
            "compare",
            out,
            lambda app: True,
        )


def recorded_pair(url: str) -> list[Run]:
    """The picture fetched with the delay off, then on, each recorded and read back."""
    runs = []
    with tempfile.TemporaryDirectory() as folder:
        for name, delay_on in (("delay-off", False), ("delay-on", True)):
            fetch = Fetch(parse_url(url), delay=DelaySwitch(enabled=delay_on), body=SpooledBody())
            fetch.perform()
            saved = write_run(fetch.run, f"{folder}/{name}.svrun", with_body=False)
            runs.append(read_run(saved.path))
    return runs


if __name__ == "__main__":
    folder = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).parents[2] / "screenshots"
    asyncio.run(main(folder))
