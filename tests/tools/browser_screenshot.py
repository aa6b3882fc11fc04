"""Make the README's picture of sockview in a browser: `sockview --serve --demo` in Chromium.

Run, from the top of the repository: python -m tests.tools.browser_screenshot [OUT_PNG]
(needs the test extra and Debian's chromium; OUT_PNG defaults to screenshots/browser.png).

Presses d then r, as a class would, so the recv table shows the book's full 5120-byte chunks.
"""

from __future__ import annotations

import re
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from tempfile import TemporaryDirectory

from playwright.sync_api import Page, sync_playwright
from tests.web.test_browser import CHROMIUM, CHROMIUM_FLAGS, LIMIT, Terminal

VIEWPORT = {"width": 1280, "height": 800}


def wait(page: Page, ready: Callable[[], bool], what: str) -> None:
    give_up = time.monotonic() + LIMIT
    while not ready():
        if time.monotonic() > give_up:
            raise SystemExit(f"never saw {what}")
        page.wait_for_timeout(50)


def settled(page: Page, terminal: Terminal, quiet_ms: int = 500) -> None:
    """Wait until the app has sent nothing for `quiet_ms`: the canvas shows the last frame."""
    while True:
        seen = terminal.frames
        page.wait_for_timeout(quiet_ms)
        if terminal.frames == seen:
            return


def main(out: Path) -> None:
    server = subprocess.Popen(
        [sys.executable, "-m", "sockview", "--serve", "--demo", "--port", "0"],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert server.stdout is not None
        found = re.search(r"http://\S+", server.stdout.readline())
        if not found:
            raise SystemExit("sockview --serve did not say its URL")
        terminal = Terminal()
        with TemporaryDirectory() as profile, sync_playwright() as playwright:
            context = playwright.chromium.launch_persistent_context(
                profile,
                executable_path=str(CHROMIUM),
                headless=True,
                args=CHROMIUM_FLAGS,
                viewport=VIEWPORT,  # type: ignore[arg-type]
            )
            page = context.pages[0] if context.pages else context.new_page()
            page.on("websocket", lambda ws: ws.on("framereceived", terminal.feed))
            page.goto(found[0])
            wait(page, lambda: "✔ done" in terminal.text, "the first fetch end")
            page.focus(".xterm-helper-textarea")
            page.keyboard.press("d")
            wait(page, lambda: "delay: on" in terminal.text, "the delay on")
            page.keyboard.press("r")
            wait(page, lambda: "✔ done" not in terminal.text, "the fetch again")
            wait(page, lambda: "✔ done" in terminal.text, "its end")
            settled(page, terminal)
            out.parent.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(out))
            context.close()
        print(f"wrote {out}")
    finally:
        server.terminate()
        server.wait(timeout=LIMIT)


if __name__ == "__main__":
    top = Path(__file__).resolve().parents[2]
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else top / "screenshots" / "browser.png")
