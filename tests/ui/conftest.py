"""Helpers for driving the real app with Pilot: settings, polling waits, screen text."""

from __future__ import annotations

import asyncio
import gc
import inspect
import io
import time
from collections.abc import Callable, Iterator

import pytest
from rich.console import Console
from textual.app import App
from textual.pilot import Pilot

from sockview.core.fetch import DelaySwitch, FetchOptions
from sockview.core.url import parse_url
from sockview.settings import Settings


@pytest.hookimpl(tryfirst=True)
def pytest_pyfunc_call(pyfuncitem: pytest.Function) -> bool | None:
    """Run `async def` tests in a fresh event loop (no pytest-asyncio needed)."""
    if not inspect.iscoroutinefunction(pyfuncitem.obj):
        return None
    names = pyfuncitem._fixtureinfo.argnames
    asyncio.run(pyfuncitem.obj(**{name: pyfuncitem.funcargs[name] for name in names}))
    return True


@pytest.fixture(autouse=True)
def _unfreeze_after_each_app() -> Iterator[None]:
    """The app freezes what is alive after its first frame (`gc.freeze`); in the test
    process, hand those objects back to the collector once the test is over."""
    yield
    gc.unfreeze()


WAIT_LIMIT = 15.0
"""Seconds a wait may take before the test fails: a bound, never the wait itself."""


def make_settings(
    url: str | None = None,
    *,
    delay: float = 0.25,
    delay_on: bool = False,
    output: str | None = None,
    **options: object,
) -> Settings:
    """Settings as the command line would make them."""
    return Settings(
        target=parse_url(url) if url else None,
        options=FetchOptions(**options),  # type: ignore[arg-type]
        delay=DelaySwitch(seconds=delay, enabled=delay_on),
        output=output,
        log=None,
        demo=False,
    )


async def wait_for(
    pilot: Pilot[object], condition: Callable[[], object], what: str = "the condition"
) -> None:
    """Let the app run until `condition()` is true; fail after `WAIT_LIMIT` seconds."""
    give_up = time.monotonic() + WAIT_LIMIT
    while not condition():
        if time.monotonic() > give_up:
            raise AssertionError(f"timed out waiting for {what}")
        await pilot.pause(0.01)
    await pilot.pause()


def screen_text(app: App[object]) -> str:
    """The screen as plain text, as a user would read it."""
    width, height = app.size
    console = Console(
        width=width,
        height=height,
        file=io.StringIO(),
        force_terminal=True,
        record=True,
        legacy_windows=False,
        safe_box=False,
    )
    console.print(app.screen._compositor.render_update(full=True))
    return console.export_text()


def notices(app: App[object]) -> list[str]:
    """The texts of the notifications shown now (a toast wraps them on screen)."""
    return [f"{note.title}: {note.message}" for note in app._notifications]
