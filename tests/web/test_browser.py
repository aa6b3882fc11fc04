"""`sockview --serve --demo` in a real browser: Debian's chromium, headless, through Playwright.

xterm.js draws the terminal on a canvas, so the test reads the screen from the websocket:
the binary frames are the app's output, fed to `pyte`. Every request the page makes must
stay on 127.0.0.1; one that goes elsewhere fails the test. No browser is ever downloaded:
where /usr/bin/chromium is missing the test skips, except under CI, where it fails.
"""

from __future__ import annotations

import os
import queue
import re
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from sockview.core.body import SpooledBody
from sockview.core.runfile import read_run
from sockview.core.sample_image import sample_png

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",  # root in a container
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
LIMIT = 30.0
"""Seconds any one wait may take before the test fails (a loaded 2-core machine is slow)."""
STOP_LIMIT = 10.0
"""Seconds --serve may take to stop with a tab open: about 2 s here; aiohttp alone waits 20."""
ROW = re.compile(r"│\s+(\d+)\s+[\d.]+\s+(\d+)\s+(\d+)\b")
"""One row of the recv table: index, time, size, total."""


def _in_ci() -> bool:
    return os.environ.get("CI", "").lower() in ("1", "true", "yes")


def _unavailable(reason: str) -> None:
    if _in_ci():
        pytest.fail(f"CI must run the browser test, but {reason}", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="module")
def playwright_api() -> Any:
    try:
        from playwright import sync_api
    except ImportError:
        _unavailable("the Python package playwright is not installed (the test extra has it)")
    if not CHROMIUM.exists():
        _unavailable(
            f"{CHROMIUM} is missing: install Debian's chromium (apt-get install chromium);"
            " this test never downloads a browser"
        )
    return sync_api


@dataclass
class Served:
    url: str
    port: int
    process: subprocess.Popen[str]
    said: list[str] = field(default_factory=list)


@pytest.fixture
def served(tmp_path: Path) -> Iterator[Served]:
    """`sockview --serve --demo --port 0`, run as a user would, until the test ends."""
    errors = (tmp_path / "stderr.txt").open("w")
    process = subprocess.Popen(
        [sys.executable, "-m", "sockview", "--serve", "--demo", "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=errors,
        text=True,
        cwd=tmp_path,  # a save that went to the disk instead of the browser would land here
    )
    lines: queue.Queue[str] = queue.Queue()
    reader = threading.Thread(
        target=lambda: [lines.put(line) for line in process.stdout or ()], daemon=True
    )
    reader.start()
    try:
        first = lines.get(timeout=LIMIT)
        said = [first]
        found = re.search(r"serving the app at (http://127\.0\.0\.1:(\d+))$", first.strip())
        assert found, f"unexpected first line: {first!r}"
        while not said[-1].startswith("  Press Ctrl+C"):
            said.append(lines.get(timeout=LIMIT))
        yield Served(found[1], int(found[2]), process, said)
    finally:
        process.terminate()
        try:
            process.wait(timeout=LIMIT)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        errors.close()
    assert not list(tmp_path.glob("*.png")), "the body was saved on the server's disk"


class Terminal:
    """The browser's terminal, as the app's output says it looks."""

    def __init__(self) -> None:
        import pyte

        # Larger than the page's terminal: the app draws in its top-left corner.
        self.screen = pyte.Screen(240, 80)
        self.stream = pyte.ByteStream(self.screen)
        self.frames = 0

    def feed(self, payload: str | bytes) -> None:
        if isinstance(payload, bytes):  # text frames are JSON for the page, not output
            self.frames += 1
            self.stream.feed(payload)

    @property
    def text(self) -> str:
        return "\n".join(line.rstrip() for line in self.screen.display)

    def recv_sizes(self) -> list[int]:
        return [int(found[2]) for found in ROW.finditer(self.text)]


def running_in(folder: Path) -> list[int]:
    """The processes whose working folder is `folder`: the server and its tabs' apps."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if (entry / "cwd").readlink() == folder:
                    found.append(int(entry.name))
            except OSError:  # gone, or not ours to read
                continue
    return found


def wait_until(page: Any, ready: Callable[[], bool], what: str, terminal: Terminal) -> None:
    """Poll `ready` while Playwright dispatches the page's events; fail after LIMIT seconds."""
    give_up = time.monotonic() + LIMIT
    while not ready():
        if time.monotonic() > give_up:
            pytest.fail(f"never saw {what}; the screen:\n{terminal.text}", pytrace=False)
        page.wait_for_timeout(50)


def launch(playwright: Any, tmp_path: Path) -> Any:
    """Debian's chromium, headless, with a fresh profile (--user-data-dir)."""
    return playwright.chromium.launch_persistent_context(
        str(tmp_path / "profile"),
        executable_path=str(CHROMIUM),
        headless=True,
        args=CHROMIUM_FLAGS,
        viewport={"width": 1280, "height": 800},
        accept_downloads=True,
    )


def test_the_demo_in_chromium(playwright_api: Any, served: Served, tmp_path: Path) -> None:
    assert served.port != 0
    assert any("Anyone who can reach this port" in line for line in served.said)
    terminal = Terminal()
    sockets: list[str] = []
    elsewhere: list[str] = []
    downloads: list[Any] = []

    def local_only(route: Any) -> None:
        url = route.request.url
        if urlsplit(url).hostname == "127.0.0.1":
            route.continue_()
        else:
            elsewhere.append(url)
            route.abort()

    def got(download: Any) -> None:
        downloads.append(download)

    def opened(tab: Any) -> None:
        tab.on("download", got)

    def watch(socket: Any) -> None:
        sockets.append(socket.url)
        socket.on("framereceived", terminal.feed)

    with playwright_api.sync_playwright() as playwright:
        context = launch(playwright, tmp_path)
        try:
            context.route("**/*", local_only)
            # s opens the download in a new tab; Chromium reports it on the tab that opened
            # it, but watch every tab's downloads from the start, to be sure.
            context.on("page", opened)
            page = context.pages[0] if context.pages else context.new_page()
            page.on("download", got)
            page.on("websocket", watch)
            page.goto(served.url)

            wait_until(page, lambda: "✔ done" in terminal.text, "the demo fetch end", terminal)
            assert sockets and sockets[0].startswith(f"ws://127.0.0.1:{served.port}/ws")
            assert "delay: off" in terminal.text

            page.focus(".xterm-helper-textarea")  # where xterm.js takes the keys
            page.keyboard.press("d")
            wait_until(page, lambda: "delay: on, 0.25 s" in terminal.text, "delay: on", terminal)
            page.keyboard.press("r")
            # With the delay on, the fetch takes 3 s at least: long enough to see it run.
            wait_until(page, lambda: "✔ done" not in terminal.text, "the fetch again", terminal)
            wait_until(page, lambda: "✔ done" in terminal.text, "its end", terminal)
            sizes = terminal.recv_sizes()
            assert sum(sizes) == 70303, terminal.text
            # The book's point: with a pause after each recv, the chunks come back full.
            assert sizes[1:-1] == [5120] * (len(sizes) - 2), sizes

            page.keyboard.press("s")
            wait_until(page, lambda: bool(downloads), "a download", terminal)
            download = downloads[0]
            assert download.suggested_filename == "cover.png"
            assert Path(download.path()).read_bytes() == sample_png()
            wait_until(
                page,
                lambda: (
                    "Sent the body (70,057 bytes) to your browser as cover.png"
                    in " ".join(terminal.text.split())
                ),
                "the message that the body was sent",
                terminal,
            )

            page.keyboard.press("e")
            wait_until(page, lambda: len(downloads) == 2, "the run file's download", terminal)
            download = downloads[1]
            assert download.suggested_filename == "cover.png.svrun"
            run = read_run(download.path())
            assert list(run.log.sizes) == sizes
            assert isinstance(run.body, SpooledBody)
            assert run.body.read_all() == sample_png()
            run.body.close()
            # Ctrl+C (SIGTERM here) with a tab still open: the server and the tab's app end.
            served.process.terminate()
            try:
                assert served.process.wait(timeout=STOP_LIMIT) == 0
            except subprocess.TimeoutExpired:
                pytest.fail(f"--serve did not stop within {STOP_LIMIT:g} s", pytrace=False)
            wait_until(page, lambda: not running_in(tmp_path), "the tab's app end", terminal)
        finally:
            context.close()
    assert not elsewhere, f"the page asked for something beyond 127.0.0.1: {elsewhere}"


def test_the_page_starts_without_its_font(
    playwright_api: Any, served: Served, tmp_path: Path
) -> None:
    """A font that cannot load leaves the terminal in a fallback font, and no later."""
    terminal = Terminal()
    fonts: list[str] = []

    def no_font(route: Any) -> None:
        fonts.append(route.request.url)
        route.abort()

    with playwright_api.sync_playwright() as playwright:
        context = launch(playwright, tmp_path)
        try:
            context.route("**/*.ttf", no_font)
            page = context.pages[0] if context.pages else context.new_page()
            page.on("websocket", lambda socket: socket.on("framereceived", terminal.feed))
            page.goto(served.url)
            wait_until(page, lambda: "✔ done" in terminal.text, "the demo fetch end", terminal)
        finally:
            context.close()
    assert fonts, "the page never asked for its font: the test tested nothing"
